//! What a digest says, read from the index: per brand, mentions against the period before,
//! the sentiment split, the most relevant mentions (copies folded); the period's unmet
//! expectations, requests still waiting first; emerging signals and alerts; fourteen days of
//! volume and sentiment for the chart.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use serde::Serialize;
use tantivy::collector::TopDocs;
use tantivy::TantivyDocument;

use crate::alert::{read_alerts, Alert, AlertKind};
use crate::analyze::lang::Lang;
use crate::analyze::text::{self, Analyzed};
use crate::config::Watch;
use crate::doc::{ExpectationKind, Label};
use crate::index::search::{snippet, Filters, Reader, SearchError};
use crate::index::StoredDoc;

use super::insight::{brand_insight, copy_key, sentence_at, AspectCount, Idea, Voice};

/// The period a digest covers, `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl Period {
    /// The calendar day `day` in the watch's time zone.
    pub fn day(day: NaiveDate, tz: chrono_tz::Tz) -> Period {
        let start = |d: NaiveDate| {
            let naive = d.and_hms_opt(0, 0, 0).expect("midnight exists");
            tz.from_local_datetime(&naive)
                .earliest()
                .unwrap_or_else(|| tz.from_utc_datetime(&naive))
                .with_timezone(&Utc)
        };
        Period {
            from: start(day),
            to: start(day + Duration::days(1)),
        }
    }

    /// The same length just before.
    pub fn previous(&self) -> Period {
        Period {
            from: self.from - (self.to - self.from),
            to: self.from,
        }
    }
}

/// The sentiment split of a brand's mentions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Split {
    pub negative: usize,
    pub neutral: usize,
    pub positive: usize,
}

/// One of the most relevant mentions of a brand.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopMention {
    pub url: String,
    /// The document's title, or its first words when it has none.
    pub title: String,
    /// Who wrote it, when the source says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    pub snippet: String,
    pub published: DateTime<Utc>,
    pub source: String,
    pub sentiment: Label,
    /// Other addresses of the same text (syndicated copies, reposts).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub also_at: Vec<String>,
    /// Other mentions of the period that start the same way (a wave of one complaint).
    #[serde(skip_serializing_if = "is_zero")]
    pub similar: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// One day of the chart.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DayCount {
    pub date: NaiveDate,
    pub mentions: usize,
    pub negative: usize,
    pub positive: usize,
}

/// A brand's section.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BrandSection {
    pub id: String,
    pub name: String,
    pub mentions: usize,
    /// Mentions in the period before, of the same length.
    pub previous: usize,
    pub sentiment: Split,
    pub top: Vec<TopMention>,
    /// The last fourteen days, oldest first.
    pub days: Vec<DayCount>,
    /// The aspects of the experience its mentions speak of, the most discussed first.
    pub aspects: Vec<AspectCount>,
    /// The aspects mostly praised, and mostly criticised (ids of `aspects`).
    pub strengths: Vec<crate::analyze::aspect::Aspect>,
    pub weaknesses: Vec<crate::analyze::aspect::Aspect>,
    /// Customers' wishes, by aspect.
    pub ideas: Vec<Idea>,
    /// Who writes about it, most posts first (its own accounts left out).
    pub voices: Vec<Voice>,
    /// Its share of the watch's brand mentions, and that share in the period before.
    pub share_of_voice: f64,
    pub previous_share_of_voice: f64,
    /// The aspects, ideas and voices were read from the newest `sampled` mentions only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sampled: Option<usize>,
}

/// One unmet expectation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExpectationItem {
    pub kind: ExpectationKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
    pub url: String,
    /// Who wrote it, when the source says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// The sentence that holds the cue.
    pub quote: String,
    pub cue: String,
    pub published: DateTime<Utc>,
    /// How many posts said the same (same kind, brand and quote); `url` is the latest.
    /// Copies of a post (syndication, reposts) count once: they are the post itself.
    pub count: usize,
    /// Addresses of the other posts that said the same words (at most ten): other people,
    /// a wave of one complaint, not copies.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub echoes: Vec<String>,
}

/// An emerging signal of the period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Emerging {
    pub terms: Vec<String>,
    pub score: f64,
    pub evidence: Vec<String>,
    pub message: String,
}

/// A whole digest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Digest {
    pub watch: String,
    /// The language it is written in (`fr`, `en`).
    pub language: Lang,
    /// What matters, in one to six plain sentences.
    pub summary: Vec<String>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    #[serde(skip)]
    pub timezone: chrono_tz::Tz,
    pub brands: Vec<BrandSection>,
    pub expectations: Vec<ExpectationItem>,
    pub emerging: Vec<Emerging>,
    pub alerts: Vec<Alert>,
    /// Documents of the watch in the period.
    pub documents: usize,
}

/// Most documents read per brand to rank its mentions and read their aspects and voices.
const RANK_POOL: usize = 5000;
/// Most expectations listed per kind.
const EXPECTATIONS_PER_KIND: usize = 50;
/// Days in the chart.
pub const CHART_DAYS: i64 = 14;

/// Builds the digest of `watch` for `period`.
pub fn build(reader: &Reader, watch: &Watch, period: Period) -> Result<Digest, SearchError> {
    let base = Filters {
        watch: Some(watch.name.clone()),
        ..Default::default()
    };
    let in_period = |p: Period| Filters {
        since: Some(p.from),
        until: Some(p.to),
        ..base.clone()
    };
    let documents = reader.count(None, &in_period(period))?;
    let tz = watch.digest.timezone;
    let last_day = (period.to - Duration::seconds(1))
        .with_timezone(&tz)
        .date_naive();
    let mut brands = Vec::new();
    let brand_ids: Vec<&str> = watch.brands.iter().map(|b| b.id.as_str()).collect();
    for b in &watch.brands {
        let f = Filters {
            brand: Some(b.id.clone()),
            ..in_period(period)
        };
        let mentions = reader.count(None, &f)?;
        let previous = reader.count(
            None,
            &Filters {
                brand: Some(b.id.clone()),
                ..in_period(period.previous())
            },
        )?;
        let split = brand_split(reader, &b.id, &f)?;
        let pool = newest(reader, &f, RANK_POOL)?;
        let sampled = (mentions > pool.len()).then_some(pool.len());
        let insight = brand_insight(&pool, b, &brand_ids);
        let top = top_mentions(pool, &b.id, watch.digest.top);
        let mut days = Vec::new();
        for k in (0..CHART_DAYS).rev() {
            let date = last_day - Duration::days(k);
            let p = Period::day(date, tz);
            let fd = Filters {
                brand: Some(b.id.clone()),
                ..in_period(p)
            };
            let mentions = reader.count(None, &fd)?;
            let s = if mentions > 0 {
                brand_split(reader, &b.id, &fd)?
            } else {
                Split::default()
            };
            days.push(DayCount {
                date,
                mentions,
                negative: s.negative,
                positive: s.positive,
            });
        }
        brands.push(BrandSection {
            id: b.id.clone(),
            name: b.name.clone(),
            mentions,
            previous,
            sentiment: split,
            top,
            days,
            strengths: insight
                .aspects
                .iter()
                .filter(|a| a.is_strength())
                .map(|a| a.aspect)
                .collect(),
            weaknesses: insight
                .aspects
                .iter()
                .filter(|a| a.is_weakness())
                .map(|a| a.aspect)
                .collect(),
            aspects: insight.aspects,
            ideas: insight.ideas,
            voices: insight.voices,
            share_of_voice: 0.0,
            previous_share_of_voice: 0.0,
            sampled,
        });
    }
    // shares of voice: each brand's part of the watch's brand mentions
    let total: usize = brands.iter().map(|b| b.mentions).sum();
    let total_before: usize = brands.iter().map(|b| b.previous).sum();
    for b in &mut brands {
        b.share_of_voice = share(b.mentions, total);
        b.previous_share_of_voice = share(b.previous, total_before);
    }
    let expectations = expectations(reader, watch, &in_period(period))?;
    let mut alerts = read_alerts(
        reader,
        Some(period.from),
        Some(period.to),
        Some(&watch.name),
    )?;
    // alerts recorded before they carried the brand's name get it from the watch
    for a in alerts.iter_mut().filter(|a| a.brand_name.is_none()) {
        a.brand_name = a
            .brand
            .as_deref()
            .and_then(|id| watch.brands.iter().find(|b| b.id == id))
            .map(|b| b.name.clone());
    }
    let emerging = alerts
        .iter()
        .filter(|a| a.kind == AlertKind::Emerging && !a.reminder)
        .map(|a| Emerging {
            terms: a.terms.clone(),
            score: a.score,
            evidence: a.evidence.clone(),
            message: a.message.clone(),
        })
        .collect();
    Ok(Digest {
        watch: watch.name.clone(),
        language: watch.digest.language(),
        summary: Vec::new(),
        from: period.from,
        to: period.to,
        timezone: tz,
        brands,
        expectations,
        emerging,
        alerts,
        documents,
    })
}

fn share(n: usize, total: usize) -> f64 {
    if total == 0 {
        0.0
    } else {
        // three decimals: shares that add up to one as printed
        (n as f64 / total as f64 * 1000.0).round() / 1000.0
    }
}

fn brand_split(reader: &Reader, brand: &str, f: &Filters) -> Result<Split, SearchError> {
    use tantivy::query::{BooleanQuery, Occur, TermQuery};
    use tantivy::schema::IndexRecordOption;
    let mut split = Split::default();
    for (label, slot) in [
        ("negative", &mut split.negative),
        ("neutral", &mut split.neutral),
        ("positive", &mut split.positive),
    ] {
        let mut clauses = reader.filter_clauses(f);
        let term = tantivy::Term::from_field_text(
            reader.fields.brand_sentiment,
            &format!("{brand}:{label}"),
        );
        clauses.push((
            Occur::Must,
            Box::new(TermQuery::new(term, IndexRecordOption::Basic)),
        ));
        *slot = reader
            .searcher()
            .search(&BooleanQuery::new(clauses), &tantivy::collector::Count)?;
    }
    Ok(split)
}

/// The documents matching the filters, newest first, at most `limit`.
/// The newest `limit` documents matching `f`, newest first.
pub fn newest(reader: &Reader, f: &Filters, limit: usize) -> Result<Vec<StoredDoc>, SearchError> {
    let searcher = reader.searcher();
    let q = reader.build(&crate::analyze::query::Query::All, f);
    let top = searcher.search(
        &*q,
        &TopDocs::with_limit(limit.max(1))
            .order_by_fast_field::<tantivy::DateTime>("published", tantivy::Order::Desc),
    )?;
    let mut out = Vec::with_capacity(top.len());
    for (_, addr) in top {
        let d: TantivyDocument = searcher.doc(addr)?;
        out.push(StoredDoc::from_tantivy(&reader.fields, &d));
    }
    Ok(out)
}

/// What makes a mention worth reading first: an unmet expectation, a strong opinion, a title
/// of its own, and how many places carried it.
fn relevance(d: &StoredDoc, brand: &str, copies: usize) -> f64 {
    let s = d
        .meta
        .brand_sentiment
        .iter()
        .find(|(b, _)| b == brand)
        .map(|(_, s)| *s)
        .unwrap_or(d.sentiment);
    let mut r = 1.0 + s.score.abs() * 1.5;
    if s.label == Label::Negative {
        r += 0.5;
    }
    if !d.meta.expectations.is_empty() {
        r += 1.5;
    }
    if !d.title.trim().is_empty() {
        r += 0.25;
    }
    r + (copies as f64).ln_1p()
}

/// The document a near-copy points at, or the document itself.
fn original_key(d: &StoredDoc) -> &str {
    d.dup_of.as_deref().unwrap_or(&d.key)
}

fn top_mentions(docs: Vec<StoredDoc>, brand: &str, n: usize) -> Vec<TopMention> {
    // fold copies: one entry per text, with the other addresses
    let mut groups: Vec<(StoredDoc, Vec<String>)> = Vec::new();
    let mut by_key: HashMap<String, usize> = HashMap::new();
    for d in docs {
        // near-copies share their original's key, exact ones their words
        let near = format!("\u{1}{}", original_key(&d));
        let words = copy_key(&d);
        let found = by_key
            .get(&near)
            .or_else(|| words.as_ref().and_then(|w| by_key.get(w)))
            .copied();
        match found {
            Some(i) => {
                by_key.entry(near).or_insert(i);
                if let Some(w) = words {
                    by_key.entry(w).or_insert(i);
                }
                // the original stands for its copies, whichever came first here
                let (shown, also) = &mut groups[i];
                if shown.dup_of.as_deref() == Some(d.key.as_str()) {
                    also.push(std::mem::replace(shown, d).url);
                } else {
                    also.push(d.url.clone());
                }
            }
            None => {
                by_key.insert(near, groups.len());
                if let Some(w) = words {
                    by_key.insert(w, groups.len());
                }
                groups.push((d, Vec::new()));
            }
        }
    }
    let mut scored: Vec<(f64, usize)> = groups
        .iter()
        .enumerate()
        .map(|(i, (d, also))| (relevance(d, brand, also.len()), i))
        .collect();
    scored.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then(groups[b.1].0.published.cmp(&groups[a.1].0.published))
            .then(a.1.cmp(&b.1))
    });
    // a wave of posts starting alike is shown once, with how many there were
    let opening = |d: &StoredDoc| {
        let first = text::sentences(&d.content)
            .into_iter()
            .next()
            .unwrap_or(0..d.content.len());
        text::tokenize(&d.content[first])
            .iter()
            .take(12)
            .map(|t| t.folded.clone())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut chosen: Vec<(usize, String, usize)> = Vec::new();
    for (_, i) in scored {
        let key = opening(&groups[i].0);
        if let Some(c) = chosen.iter_mut().find(|c| c.1 == key) {
            c.2 += 1;
        } else if chosen.len() < n {
            chosen.push((i, key, 0));
        }
    }
    let mut out = Vec::new();
    for (i, _, similar) in chosen {
        let (d, also) = &groups[i];
        let lang = Lang::from_code(&d.lang).unwrap_or(Lang::Und);
        let a = Analyzed::new(&d.content, lang);
        // the snippet centres on the brand's first mention
        let mention = d.meta.mentions.iter().find(|m| m.brand == brand);
        let words: Vec<String> = mention.map(|m| vec![m.alias.clone()]).unwrap_or_default();
        let snip = snippet(&a, &words, 240);
        let sentiment = d
            .meta
            .brand_sentiment
            .iter()
            .find(|(b, _)| b == brand)
            .map(|(_, s)| s.label)
            .unwrap_or(d.sentiment.label);
        out.push(TopMention {
            url: d.url.clone(),
            title: crate::doc::headline(&d.title, &d.content),
            author: d.meta.author.clone(),
            snippet: snip.text,
            published: d.published,
            source: d.source.clone(),
            sentiment,
            also_at: also.iter().take(5).cloned().collect(),
            similar,
        });
    }
    out
}

fn expectations(
    reader: &Reader,
    watch: &Watch,
    f: &Filters,
) -> Result<Vec<ExpectationItem>, SearchError> {
    let docs = newest(
        reader,
        &Filters {
            expectation: Some(None),
            ..f.clone()
        },
        5000,
    )?;
    let brand_ids: Vec<&str> = watch.brands.iter().map(|b| b.id.as_str()).collect();
    let mut items = Vec::new();
    // a copy says nothing its original did not: it counts once, under the original
    for d in docs.into_iter().filter(|d| d.dup_of.is_none()) {
        for e in &d.meta.expectations {
            // the brand it is about: the mention nearest the cue
            let brand = d
                .meta
                .mentions
                .iter()
                .filter(|m| brand_ids.contains(&m.brand.as_str()))
                .min_by_key(|m| (m.start as i64 - e.start as i64).abs())
                .map(|m| m.brand.clone());
            items.push(ExpectationItem {
                kind: e.kind,
                brand,
                url: d.url.clone(),
                author: d.meta.author.clone(),
                quote: sentence_at(&d.content, e.start),
                cue: e.cue.clone(),
                published: d.published,
                count: 1,
                echoes: Vec::new(),
            });
        }
    }
    // one line per document and kind; requests first, then complaints, then wishes; about a
    // brand before about nothing; newest first
    items.sort_by(|a, b| {
        a.kind
            .cmp(&b.kind)
            .then(b.brand.is_some().cmp(&a.brand.is_some()))
            .then(b.published.cmp(&a.published))
            .then(a.url.cmp(&b.url))
    });
    items.dedup_by(|a, b| a.kind == b.kind && a.url == b.url);
    // the same words from several people are one line, with how many said them
    let mut grouped: Vec<ExpectationItem> = Vec::with_capacity(items.len());
    let mut index: HashMap<(ExpectationKind, Option<String>, String), usize> = HashMap::new();
    for it in items {
        let key = (it.kind, it.brand.clone(), text::fold(&it.quote));
        match index.get(&key) {
            Some(&i) => {
                let g = &mut grouped[i];
                g.count += 1;
                if g.echoes.len() < 10 {
                    g.echoes.push(it.url);
                }
            }
            None => {
                index.insert(key, grouped.len());
                grouped.push(it);
            }
        }
    }
    // the most repeated first within each kind
    grouped.sort_by(|a, b| {
        a.kind
            .cmp(&b.kind)
            .then(b.count.cmp(&a.count))
            .then(b.published.cmp(&a.published))
    });
    let mut items = grouped;
    let mut per_kind: HashMap<ExpectationKind, usize> = HashMap::new();
    items.retain(|i| {
        let c = per_kind.entry(i.kind).or_default();
        *c += 1;
        *c <= EXPECTATIONS_PER_KIND
    });
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_is_a_calendar_day_in_the_watch_time_zone() {
        let d = NaiveDate::from_ymd_opt(2026, 9, 3).unwrap();
        let p = Period::day(d, chrono_tz::Europe::Paris);
        assert_eq!(p.from.to_rfc3339(), "2026-09-02T22:00:00+00:00");
        assert_eq!(p.to.to_rfc3339(), "2026-09-03T22:00:00+00:00");
        assert_eq!(p.previous().from.to_rfc3339(), "2026-09-01T22:00:00+00:00");
        // the day clocks go back is 25 hours long
        let p = Period::day(
            NaiveDate::from_ymd_opt(2026, 10, 25).unwrap(),
            chrono_tz::Europe::Paris,
        );
        assert_eq!((p.to - p.from).num_hours(), 25);
    }

    #[test]
    fn quotes_are_the_sentence_of_the_cue() {
        let c = "Bonjour. Ma box est en panne depuis lundi et toujours aucune réponse. Merci.";
        let at = c.find("toujours").unwrap();
        assert_eq!(
            sentence_at(c, at),
            "Ma box est en panne depuis lundi et toujours aucune réponse."
        );
    }
}
