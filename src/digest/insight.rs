//! What a brand's mentions of the period say beyond their number: the aspects of the
//! experience customers praise or criticise (with the posts that say so), their ideas grouped
//! by aspect, and the voices (who writes most about the brand, and how far their posts go).
//!
//! Copies count once: a near-copy (`dup_of`) or the same short text by the same author is the
//! original post again, seen at another address. It adds nothing to the aspects and the
//! mentions of a voice, and adds to the reach of the original's author.

use std::collections::HashMap;

use serde::Serialize;

use crate::analyze::aspect::{find_aspects, opinions, Aspect};
use crate::analyze::lang::Lang;
use crate::analyze::text::{self, Analyzed};
use crate::config::Brand;
use crate::doc::{label_of, ExpectationKind, Label};
use crate::index::StoredDoc;

/// Most example documents shown per aspect.
const EXAMPLES: usize = 3;
/// Most voices listed per brand.
const VOICES: usize = 10;
/// Most posts given as evidence per voice.
const VOICE_POSTS: usize = 5;
/// Most wishes quoted per aspect.
const IDEA_QUOTES: usize = 5;
/// The opinion a complaint or a request stands for when its words carry no sentiment.
const COMPLAINT_OPINION: f64 = -0.3;

/// How a brand's mentions speak of one aspect.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AspectCount {
    pub aspect: Aspect,
    /// Posts that speak well of it, and ill.
    pub positive: usize,
    pub negative: usize,
    /// Posts that name it without an opinion.
    pub neutral: usize,
    /// Addresses of posts that say it, the strongest opinions of the side that prevails first.
    pub examples: Vec<String>,
    /// The words that named it most often on the side that prevails (as written, lowercased).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cues: Vec<String>,
}

impl AspectCount {
    /// Praised more than criticised, by at least two posts.
    pub fn is_strength(&self) -> bool {
        self.positive >= 2 && self.positive > self.negative
    }

    /// Criticised more than praised, by at least two posts.
    pub fn is_weakness(&self) -> bool {
        self.negative >= 2 && self.negative >= self.positive
    }
}

/// A wish quoted as evidence of an idea.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Wish {
    pub quote: String,
    pub url: String,
}

/// The wishes about one aspect (or about none the vocabulary knows).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Idea {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aspect: Option<Aspect>,
    pub count: usize,
    pub wishes: Vec<Wish>,
}

/// Someone who writes about the brand.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Voice {
    pub author: String,
    /// Where they write most.
    pub source: String,
    /// Their posts about the brand in the period, copies counted once.
    pub mentions: usize,
    /// How far their posts go: their followers where the platform says, plus the other places
    /// their posts were seen (syndicated copies, reposts).
    pub reach: usize,
    /// Their followers, where the platform says (the largest figure seen in the period).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub followers: Option<u64>,
    /// Their posts' tone: negative and positive ones.
    pub negative: usize,
    pub positive: usize,
    /// Their newest posts.
    pub posts: Vec<String>,
}

/// What a brand's mentions say.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BrandInsight {
    pub aspects: Vec<AspectCount>,
    pub ideas: Vec<Idea>,
    pub voices: Vec<Voice>,
}

/// A key that exact copies of one text by one author share, however short (the author and
/// the folded words of its start). The same words by two people are two mentions.
pub fn copy_key(d: &StoredDoc) -> Option<String> {
    let author = d.meta.author.as_deref()?.trim().to_lowercase();
    let mut out = author;
    out.push('\u{1}');
    for t in text::tokenize(&d.content).iter().take(40) {
        out.push_str(&t.folded);
        out.push(' ');
    }
    Some(out)
}

/// The sentence of `content` that holds byte `at`, on one line, at most 300 characters.
pub fn sentence_at(content: &str, at: usize) -> String {
    let sentences = text::sentences(content);
    let s = sentences
        .iter()
        .find(|r| r.start <= at && at < r.end.max(r.start + 1))
        .or_else(|| sentences.iter().find(|r| r.start >= at));
    let raw = match s {
        Some(r) => &content[r.clone()],
        None => content,
    };
    let mut q: String = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if q.chars().count() > 300 {
        q = q.chars().take(297).collect::<String>() + "…";
    }
    q
}

fn author_key(a: &str) -> String {
    a.trim().to_lowercase()
}

/// Reads the brand's mentions of the period (`docs`, newest first). `watch_brands` are the ids
/// of the watch's brands: in a post about several, an aspect belongs to the brand named
/// nearest to it.
pub fn brand_insight(docs: &[StoredDoc], brand: &Brand, watch_brands: &[&str]) -> BrandInsight {
    // originals, and the copies of each (by the original's key)
    let mut seen_words: HashMap<String, usize> = HashMap::new();
    let mut copies: HashMap<String, usize> = HashMap::new();
    let mut originals: Vec<&StoredDoc> = Vec::new();
    // oldest first, so that an exact copy's original is the first one
    for d in docs.iter().rev() {
        if let Some(of) = &d.dup_of {
            *copies.entry(of.clone()).or_default() += 1;
            continue;
        }
        if let Some(k) = copy_key(d) {
            if let Some(&i) = seen_words.get(&k) {
                *copies.entry(originals[i].key.clone()).or_default() += 1;
                continue;
            }
            seen_words.insert(k, originals.len());
        }
        originals.push(d);
    }
    originals.reverse();

    #[derive(Default)]
    struct Tally {
        count: AspectCount0,
        // (strength, url, label)
        evidence: Vec<(f64, String, Label)>,
        cues: HashMap<(String, Label), usize>,
    }
    #[derive(Default)]
    struct AspectCount0 {
        positive: usize,
        negative: usize,
        neutral: usize,
    }
    let mut tallies: HashMap<Aspect, Tally> = HashMap::new();
    let mut ideas: HashMap<Option<Aspect>, Idea> = HashMap::new();
    struct V {
        name: String,
        mentions: usize,
        reach: usize,
        followers: Option<u64>,
        negative: usize,
        positive: usize,
        sources: HashMap<String, usize>,
        posts: Vec<String>,
    }
    let mut voices: HashMap<String, V> = HashMap::new();

    for d in &originals {
        let lang = Lang::from_code(&d.lang).unwrap_or(Lang::Und);
        let a = Analyzed::new(&d.content, lang);
        let own = d
            .meta
            .brand_sentiment
            .iter()
            .find(|(b, _)| *b == brand.id)
            .map(|(_, s)| *s)
            .unwrap_or(d.sentiment);
        let complains = d.meta.expectations.iter().any(|e| {
            matches!(
                e.kind,
                ExpectationKind::Complaint | ExpectationKind::Request
            )
        });
        let fallback = if own.label == Label::Neutral && complains {
            COMPLAINT_OPINION
        } else {
            own.score
        };
        // the aspects that belong to this brand
        let others = d
            .meta
            .mentions
            .iter()
            .any(|m| m.brand != brand.id && watch_brands.contains(&m.brand.as_str()));
        let hits: Vec<_> = find_aspects(&a)
            .into_iter()
            .filter(|h| {
                !others
                    || d.meta
                        .mentions
                        .iter()
                        .filter(|m| watch_brands.contains(&m.brand.as_str()))
                        .min_by_key(|m| (m.start as i64 - h.at.start as i64).abs())
                        .is_some_and(|m| m.brand == brand.id)
            })
            .collect();
        // a complaint or a request in the clause that names an aspect is criticism of it,
        // whatever its words' tone ("remboursement promis, toujours rien")
        let mut hits = hits;
        for h in &mut hits {
            let blamed = d.meta.expectations.iter().any(|e| {
                matches!(
                    e.kind,
                    ExpectationKind::Complaint | ExpectationKind::Request
                ) && h.clause.contains(&e.start)
            });
            if blamed && h.score > COMPLAINT_OPINION {
                h.score = COMPLAINT_OPINION;
            }
        }
        let ops = opinions(&hits, fallback);
        for o in &ops {
            let label = label_of(o.score);
            let t = tallies.entry(o.aspect).or_default();
            match label {
                Label::Positive => t.count.positive += 1,
                Label::Negative => t.count.negative += 1,
                Label::Neutral => t.count.neutral += 1,
            }
            t.evidence.push((o.score.abs(), d.url.clone(), label));
            for h in hits.iter().filter(|h| h.aspect == o.aspect) {
                *t.cues.entry((h.cue.to_lowercase(), label)).or_default() += 1;
            }
        }
        // ideas: the wishes, by the aspect named in their sentence
        for e in d
            .meta
            .expectations
            .iter()
            .filter(|e| e.kind == ExpectationKind::Wish)
        {
            let sentence = a.sentence_of(e.start);
            let aspect = hits
                .iter()
                .find(|h| a.sentence_of(h.at.start) == sentence)
                .map(|h| h.aspect);
            let idea = ideas.entry(aspect).or_insert_with(|| Idea {
                aspect,
                count: 0,
                wishes: Vec::new(),
            });
            idea.count += 1;
            if idea.wishes.len() < IDEA_QUOTES {
                idea.wishes.push(Wish {
                    quote: sentence_at(&d.content, e.start),
                    url: d.url.clone(),
                });
            }
        }
        // voices
        if let Some(author) = d.meta.author.as_deref().filter(|a| !a.trim().is_empty()) {
            if !brand.is_own(author) {
                let v = voices.entry(author_key(author)).or_insert_with(|| V {
                    name: author.trim().to_string(),
                    mentions: 0,
                    reach: 0,
                    followers: None,
                    negative: 0,
                    positive: 0,
                    sources: HashMap::new(),
                    posts: Vec::new(),
                });
                v.mentions += 1;
                v.reach += copies.get(&d.key).copied().unwrap_or(0);
                if let Some(f) = d.meta.followers {
                    v.followers = Some(v.followers.map_or(f, |x| x.max(f)));
                }
                match own.label {
                    Label::Negative => v.negative += 1,
                    Label::Positive => v.positive += 1,
                    Label::Neutral => {}
                }
                *v.sources.entry(d.source.clone()).or_default() += 1;
                if v.posts.len() < VOICE_POSTS {
                    v.posts.push(d.url.clone());
                }
            }
        }
    }

    let mut aspects: Vec<AspectCount> = tallies
        .into_iter()
        .map(|(aspect, mut t)| {
            let side = if t.count.negative >= t.count.positive {
                Label::Negative
            } else {
                Label::Positive
            };
            // the prevailing side's strongest first, then the other side's, then the neutral
            let rank = |l: Label| {
                if l == side {
                    0
                } else if l == Label::Neutral {
                    2
                } else {
                    1
                }
            };
            t.evidence.sort_by(|a, b| {
                rank(a.2)
                    .cmp(&rank(b.2))
                    .then(b.0.total_cmp(&a.0))
                    .then(a.1.cmp(&b.1))
            });
            let mut cues: Vec<(String, usize)> = t
                .cues
                .iter()
                .filter(|((_, l), _)| *l == side)
                .map(|((c, _), n)| (c.clone(), *n))
                .collect();
            cues.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            AspectCount {
                aspect,
                positive: t.count.positive,
                negative: t.count.negative,
                neutral: t.count.neutral,
                examples: t
                    .evidence
                    .into_iter()
                    .take(EXAMPLES)
                    .map(|(_, u, _)| u)
                    .collect(),
                cues: cues.into_iter().take(3).map(|(c, _)| c).collect(),
            }
        })
        .collect();
    // the most discussed first
    aspects.sort_by(|a, b| {
        (b.positive + b.negative)
            .cmp(&(a.positive + a.negative))
            .then((b.neutral).cmp(&a.neutral))
            .then(a.aspect.cmp(&b.aspect))
    });

    let mut ideas: Vec<Idea> = ideas.into_values().collect();
    ideas.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then(a.aspect.is_none().cmp(&b.aspect.is_none()))
            .then(a.aspect.cmp(&b.aspect))
    });

    let mut voices: Vec<Voice> = voices
        .into_values()
        .map(|v| {
            let mut sources: Vec<(String, usize)> = v.sources.into_iter().collect();
            sources.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            Voice {
                author: v.name,
                source: sources.into_iter().next().map(|s| s.0).unwrap_or_default(),
                mentions: v.mentions,
                reach: v.reach + v.followers.unwrap_or(0) as usize,
                followers: v.followers,
                negative: v.negative,
                positive: v.positive,
                posts: v.posts,
            }
        })
        .collect();
    voices.sort_by(|a, b| {
        b.mentions
            .cmp(&a.mentions)
            .then(b.reach.cmp(&a.reach))
            .then(a.author.cmp(&b.author))
    });
    voices.truncate(VOICES);

    BrandInsight {
        aspects,
        ideas,
        voices,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::Sentiment;
    use crate::index::Meta;
    use chrono::{TimeZone, Utc};

    fn doc(key: &str, author: &str, text: &str, lang: &str, score: f64) -> StoredDoc {
        StoredDoc {
            key: key.into(),
            url: format!("https://e.example/{key}"),
            title: String::new(),
            content: text.into(),
            published: Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap(),
            lang: lang.into(),
            source: "forum".into(),
            watches: vec!["w".into()],
            brands: vec!["acme".into()],
            sentiment: Sentiment {
                score,
                label: label_of(score),
            },
            topics: Vec::new(),
            dup_of: None,
            meta: Meta {
                author: (!author.is_empty()).then(|| author.to_string()),
                ..Default::default()
            },
        }
    }

    fn acme() -> Brand {
        Brand {
            id: "acme".into(),
            name: "Acme".into(),
            aliases: vec!["Acme".into()],
            own_handles: vec!["@AcmeFR".into()],
            ..Default::default()
        }
    }

    #[test]
    fn aspects_count_posts_by_opinion_with_examples() {
        let docs = vec![
            doc(
                "1",
                "a",
                "Réseau Acme en panne, plus aucune connexion depuis hier, c'est nul.",
                "fr",
                -0.6,
            ),
            doc("2", "b", "Acme network down again, awful.", "en", -0.5),
            doc(
                "3",
                "c",
                "Service client Acme génial, conseillère très sympa.",
                "fr",
                0.7,
            ),
            doc(
                "4",
                "d",
                "Acme : la fibre coupe tous les soirs, inadmissible.",
                "fr",
                -0.5,
            ),
        ];
        let i = brand_insight(&docs, &acme(), &["acme"]);
        let net = i
            .aspects
            .iter()
            .find(|a| a.aspect == Aspect::Network)
            .unwrap();
        assert_eq!((net.negative, net.positive), (3, 0), "{:?}", i.aspects);
        assert!(net.is_weakness() && !net.is_strength());
        assert_eq!(net.examples.len(), 3);
        assert!(!net.examples.contains(&"https://e.example/3".to_string()));
        let care = i
            .aspects
            .iter()
            .find(|a| a.aspect == Aspect::CustomerService)
            .unwrap();
        assert_eq!((care.positive, care.negative), (1, 0));
        assert_eq!(care.examples, ["https://e.example/3"]);
        // the most discussed first
        assert_eq!(i.aspects[0].aspect, Aspect::Network);
    }

    #[test]
    fn voices_rank_by_posts_then_reach_copies_counted_once() {
        let mut docs = vec![
            doc("1", "Bernard", "Acme encore en panne.", "fr", -0.4),
            doc(
                "2",
                "Bernard",
                "Toujours pas de réseau chez Acme.",
                "fr",
                -0.4,
            ),
            doc(
                "3",
                "Bernard",
                "Acme, trois jours sans internet.",
                "fr",
                -0.4,
            ),
            doc(
                "4",
                "Élise",
                "Enquête sur le réseau Acme, long article.",
                "fr",
                -0.2,
            ),
            doc("5", "Élise", "Deuxième article sur Acme.", "fr", -0.2),
            doc(
                "6",
                "@AcmeFR",
                "Acme vous répond en message privé.",
                "fr",
                0.0,
            ),
        ];
        // Élise's first article syndicated twice, once under her name
        let mut c1 = doc(
            "4b",
            "Élise",
            "Enquête sur le réseau Acme, long article.",
            "fr",
            -0.2,
        );
        c1.dup_of = Some("4".into());
        let mut c2 = doc(
            "4c",
            "Desk",
            "Enquête sur le réseau Acme, long article.",
            "fr",
            -0.2,
        );
        c2.dup_of = Some("4".into());
        // an exact short copy by the same author (a repost) counts once, and adds reach
        let c3 = doc("5b", "Élise", "Deuxième article sur Acme.", "fr", -0.2);
        docs.push(c1);
        docs.push(c2);
        docs.insert(0, c3);
        let i = brand_insight(&docs, &acme(), &["acme"]);
        let names: Vec<(&str, usize, usize)> = i
            .voices
            .iter()
            .map(|v| (v.author.as_str(), v.mentions, v.reach))
            .collect();
        assert_eq!(names, [("Bernard", 3, 0), ("Élise", 2, 3)]);
        assert_eq!(i.voices[0].source, "forum");
        // followers, where the platform gives them, are reach too
        docs[1].meta.followers = Some(1200);
        let i = brand_insight(&docs, &acme(), &["acme"]);
        assert_eq!(
            (i.voices[0].reach, i.voices[0].followers),
            (1200, Some(1200))
        );
    }

    #[test]
    fn wishes_are_grouped_by_the_aspect_of_their_sentence() {
        use crate::doc::Expectation;
        let wish = |key: &str, text: &str, cue: &str| {
            let mut d = doc(key, key, text, "fr", 0.1);
            let start = text.find(cue).unwrap();
            d.meta.expectations = vec![Expectation {
                kind: ExpectationKind::Wish,
                cue: cue.into(),
                start,
                end: start + cue.len(),
                because: Vec::new(),
            }];
            d
        };
        let docs = vec![
            wish(
                "1",
                "Acme, ce serait bien que l'appli ait un mode sombre.",
                "ce serait bien",
            ),
            wish(
                "2",
                "J'aimerais que l'application Acme garde ma session.",
                "J'aimerais",
            ),
            wish("3", "Acme devrait ouvrir le dimanche.", "devrait"),
        ];
        let i = brand_insight(&docs, &acme(), &["acme"]);
        assert_eq!(i.ideas.len(), 2, "{:?}", i.ideas);
        assert_eq!(i.ideas[0].aspect, Some(Aspect::App));
        assert_eq!(i.ideas[0].count, 2);
        assert_eq!(
            i.ideas[0].wishes[0].quote,
            "Acme, ce serait bien que l'appli ait un mode sombre."
        );
        assert_eq!((i.ideas[1].aspect, i.ideas[1].count), (None, 1));
    }

    #[test]
    fn in_a_post_about_two_brands_an_aspect_goes_to_the_nearest() {
        use crate::doc::Mention;
        let text = "Acme a un super service client. Chez Globex les prix sont abusés.";
        let mut d = doc("1", "x", text, "fr", 0.0);
        d.meta.mentions = vec![
            Mention {
                brand: "acme".into(),
                alias: "Acme".into(),
                start: 0,
                end: 4,
                sentiment: None,
            },
            Mention {
                brand: "globex".into(),
                alias: "Globex".into(),
                start: text.find("Globex").unwrap(),
                end: text.find("Globex").unwrap() + 6,
                sentiment: None,
            },
        ];
        let i = brand_insight(&[d], &acme(), &["acme", "globex"]);
        let got: Vec<Aspect> = i.aspects.iter().map(|a| a.aspect).collect();
        assert_eq!(got, [Aspect::CustomerService]);
    }
}
