//! The answer queue: requests and complaints addressed to a watch's brands that wait for an
//! answer, most urgent first. Urgency weighs what is at stake (an outage, money, a blocked
//! account, a cancellation, the time already waited) and who is waiting (the author's reach,
//! the anger in the words, how many others said the same). An item closes when the team marks
//! it (the queue ledger) or when one of the brand's own accounts (`own_handles`) answers the
//! author afterwards (a post of theirs naming `@author`).

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::analyze::text;
use crate::config::{Config, Watch};
use crate::digest::build::newest;
use crate::doc::ExpectationKind;
use crate::index::search::{Filters, Reader, SearchError};
use crate::index::StoredDoc;
use crate::serve::store::Entry;

/// Most documents of a watch read to build its queue.
const POOL: usize = 5000;
/// How far back the queue looks without `since`.
pub const DEFAULT_SINCE: &str = "14d";

/// Where an item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum QState {
    Open,
    Answered,
    Dismissed,
}

impl QState {
    pub fn parse(s: &str) -> Option<QState> {
        match s.trim().to_ascii_lowercase().as_str() {
            "open" => Some(QState::Open),
            "answered" => Some(QState::Answered),
            "dismissed" => Some(QState::Dismissed),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            QState::Open => "open",
            QState::Answered => "answered",
            QState::Dismissed => "dismissed",
        }
    }
}

/// Why an item is urgent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Reason {
    Outage,
    Money,
    Account,
    Cancellation,
    Waiting,
    Reach,
    Intensity,
    Echoes,
}

/// One customer waiting.
#[derive(Debug, Clone, Serialize)]
pub struct QueueItem {
    /// Stable: the same post keeps its id.
    pub id: String,
    pub url: String,
    pub title: String,
    /// Brand id.
    pub brand: String,
    pub brand_name: String,
    pub watch: String,
    pub kind: ExpectationKind,
    /// The sentence that holds the cue.
    pub quote: String,
    pub cue: String,
    #[serde(with = "crate::alert::rfc3339")]
    pub published: DateTime<Utc>,
    pub author: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub followers: Option<u64>,
    /// 0 to 100.
    pub urgency: u32,
    pub reasons: Vec<Reason>,
    /// Other posts of the period saying the same words.
    pub echoes: usize,
    pub state: QState,
    /// When it was answered or dismissed, and by whom (`team` or `brand`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_by: Option<String>,
}

/// A brand's response times over the period, in hours.
#[derive(Debug, Clone, Serialize)]
pub struct ResponseTimes {
    pub brand: String,
    pub brand_name: String,
    pub open: usize,
    pub answered: usize,
    pub dismissed: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub median_hours: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p90_hours: Option<f64>,
}

/// The id of a post's queue item.
pub fn item_id(url: &str) -> String {
    format!("{:016x}", xxhash_rust::xxh3::xxh3_64(url.as_bytes()))
}

/// Every item of the period (any state), most urgent first; `decisions` are the ledger's.
pub fn build(
    reader: &Reader,
    config: &Config,
    decisions: &HashMap<String, Entry>,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<QueueItem>, SearchError> {
    let mut items: Vec<QueueItem> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for w in &config.watches {
        let pool = newest(
            reader,
            &Filters {
                watch: Some(w.name.clone()),
                since: Some(since),
                ..Default::default()
            },
            POOL,
        )?;
        for it in watch_items(w, &pool, now) {
            if seen.insert(it.id.clone()) {
                items.push(it);
            }
        }
    }
    for it in &mut items {
        if let Some(e) = decisions.get(&it.id) {
            if let Some(s) = QState::parse(&e.value) {
                it.state = s;
                if s == QState::Open {
                    it.closed_at = None;
                    it.closed_by = None;
                } else {
                    it.closed_at = Some(e.at);
                    it.closed_by = Some("team".into());
                }
            }
        }
    }
    items.sort_by(|a, b| {
        b.urgency
            .cmp(&a.urgency)
            .then(a.published.cmp(&b.published))
            .then(a.id.cmp(&b.id))
    });
    Ok(items)
}

fn watch_items(w: &Watch, pool: &[StoredDoc], now: DateTime<Utc>) -> Vec<QueueItem> {
    let brand_ids: Vec<&str> = w.brands.iter().map(|b| b.id.as_str()).collect();
    // the brands' own posts: (brand, time, folded text)
    let own: Vec<(&str, DateTime<Utc>, String)> = pool
        .iter()
        .filter_map(|d| {
            let a = d.meta.author.as_deref()?;
            let b = w.brands.iter().find(|b| b.is_own(a))?;
            Some((b.id.as_str(), d.published, d.content.to_lowercase()))
        })
        .collect();
    // the same words from several people: how many
    let mut echoes: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::new();
    for d in pool.iter().filter(|d| d.dup_of.is_none()) {
        if d.meta
            .author
            .as_deref()
            .is_some_and(|a| w.brands.iter().any(|b| b.is_own(a)))
        {
            continue;
        }
        let Some(e) = d
            .meta
            .expectations
            .iter()
            .find(|e| e.kind == ExpectationKind::Request)
            .or_else(|| {
                d.meta
                    .expectations
                    .iter()
                    .find(|e| e.kind == ExpectationKind::Complaint)
            })
        else {
            continue;
        };
        let Some(brand) = d
            .meta
            .mentions
            .iter()
            .filter(|m| brand_ids.contains(&m.brand.as_str()))
            .min_by_key(|m| (m.start as i64 - e.start as i64).abs())
            .map(|m| m.brand.clone())
        else {
            continue;
        };
        let b = w
            .brands
            .iter()
            .find(|b| b.id == brand)
            .expect("a watch brand");
        let quote = crate::digest::insight::sentence_at(&d.content, e.start);
        *echoes.entry(text::fold(&quote)).or_default() += 1;
        let answered = d.meta.author.as_deref().and_then(|a| {
            let handle = format!("@{}", a.trim_start_matches('@').to_lowercase());
            own.iter()
                .filter(|(ob, t, txt)| {
                    *ob == brand && *t >= d.published && contains_handle(txt, &handle)
                })
                .map(|(_, t, _)| *t)
                .min()
        });
        let (urgency, reasons) = urgency(d, e.kind, now);
        out.push(QueueItem {
            id: item_id(&d.url),
            url: d.url.clone(),
            title: crate::doc::headline(&d.title, &d.content),
            brand,
            brand_name: b.name.clone(),
            watch: w.name.clone(),
            kind: e.kind,
            quote,
            cue: e.cue.clone(),
            published: d.published,
            author: d.meta.author.clone(),
            followers: d.meta.followers,
            urgency,
            reasons,
            echoes: 0,
            state: if answered.is_some() {
                QState::Answered
            } else {
                QState::Open
            },
            closed_at: answered,
            closed_by: answered.map(|_| "brand".to_string()),
        });
    }
    for it in &mut out {
        let n = echoes.get(&text::fold(&it.quote)).copied().unwrap_or(1);
        it.echoes = n.saturating_sub(1);
        if it.echoes > 0 {
            it.urgency = (it.urgency + (3 * it.echoes as u32).min(10)).min(100);
            it.reasons.push(Reason::Echoes);
        }
    }
    out
}

/// `@handle` as a whole handle in a lower-cased text.
fn contains_handle(text: &str, handle: &str) -> bool {
    text.match_indices(handle).any(|(i, _)| {
        text[i + handle.len()..]
            .chars()
            .next()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'))
    })
}

const OUTAGE: &[&str] = &[
    "panne",
    "en panne",
    "coupure",
    "coupé",
    "coupe",
    "hs",
    "plus de réseau",
    "aucun réseau",
    "pas de réseau",
    "sans réseau",
    "plus d'internet",
    "sans internet",
    "sans connexion",
    "plus de connexion",
    "plus d'électricité",
    "délestage",
    "dans le noir",
    "outage",
    "down",
    "no signal",
    "no service",
    "no internet",
    "no network",
    "not working",
    "ne marche plus",
    "ne fonctionne plus",
    "power cut",
    "dropping",
];
const MONEY: &[&str] = &[
    "facture",
    "facturé",
    "facturation",
    "prélèvement",
    "prélevé",
    "remboursement",
    "rembourser",
    "remboursé",
    "frais",
    "débit",
    "débité",
    "mensualité",
    "mensualités",
    "régularisation",
    "bill",
    "billed",
    "billing",
    "charged",
    "charge",
    "charges",
    "refund",
    "fee",
    "fees",
    "payment",
    "overcharged",
    "paiement",
    "argent",
    "money",
];
const ACCOUNT: &[&str] = &[
    "bloqué",
    "bloquée",
    "suspendu",
    "suspendue",
    "piratage",
    "piraté",
    "désactivé",
    "locked",
    "blocked",
    "suspended",
    "hacked",
    "jamais activée",
    "never activated",
    "impossible de me connecter",
    "can't log in",
    "cannot log in",
];
const CANCEL: &[&str] = &[
    "résilier",
    "résiliation",
    "résilie",
    "je pars",
    "je vais partir",
    "changer d'opérateur",
    "changer de fournisseur",
    "cancel",
    "cancelling",
    "canceling",
    "switching",
    "leaving",
];

fn has_any(folded_words: &[String], text_lower: &str, list: &[&str]) -> bool {
    list.iter().any(|cue| {
        if cue.contains(' ') || cue.contains('\'') {
            text_lower.contains(cue)
        } else {
            let f = text::fold(cue);
            folded_words.contains(&f)
        }
    })
}

/// Urgency from 0 to 100, and why.
fn urgency(d: &StoredDoc, kind: ExpectationKind, now: DateTime<Utc>) -> (u32, Vec<Reason>) {
    let lower = d.content.to_lowercase();
    let words: Vec<String> = lower
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
        .map(text::fold)
        .collect();
    let mut score: f64 = if kind == ExpectationKind::Request {
        30.0
    } else {
        20.0
    };
    let mut reasons = Vec::new();
    for (list, pts, r) in [
        (OUTAGE, 20.0, Reason::Outage),
        (MONEY, 15.0, Reason::Money),
        (ACCOUNT, 15.0, Reason::Account),
        (CANCEL, 12.0, Reason::Cancellation),
    ] {
        if has_any(&words, &lower, list) {
            score += pts;
            reasons.push(r);
        }
    }
    // the wait: since the post, and what the post says it has waited already
    let hours = (now - d.published).num_minutes().max(0) as f64 / 60.0;
    let said_days = said_wait_days(&words);
    let waited = hours / 24.0 + said_days;
    score += (waited * 4.0).min(16.0);
    if waited >= 2.0 {
        reasons.push(Reason::Waiting);
    }
    if let Some(f) = d.meta.followers.filter(|f| *f >= 1000) {
        score += ((f as f64).log10() * 2.5).min(12.0);
        reasons.push(Reason::Reach);
    }
    let anger = (-d.sentiment.score).max(0.0);
    if anger >= 0.4 {
        score += (anger * 10.0).min(8.0);
        reasons.push(Reason::Intensity);
    }
    (score.round().clamp(0.0, 100.0) as u32, reasons)
}

/// "depuis 5 jours", "for 3 days", "3 weeks": the days a post says it has waited.
fn said_wait_days(words: &[String]) -> f64 {
    let mut best: f64 = 0.0;
    for win in words.windows(2) {
        let Ok(n) = win[0].parse::<f64>() else {
            continue;
        };
        let unit = match win[1].as_str() {
            "jour" | "jours" | "day" | "days" => 1.0,
            "semaine" | "semaines" | "week" | "weeks" => 7.0,
            "mois" | "month" | "months" => 30.0,
            _ => continue,
        };
        best = best.max((n * unit).min(90.0));
    }
    best
}

/// Response times per brand over `items` (closed ones: time from the post to the answer).
pub fn response_times(config: &Config, items: &[QueueItem]) -> Vec<ResponseTimes> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for b in config.watches.iter().flat_map(|w| &w.brands) {
        if !seen.insert(b.id.clone()) {
            continue;
        }
        let mine: Vec<&QueueItem> = items.iter().filter(|i| i.brand == b.id).collect();
        let mut hours: Vec<f64> = mine
            .iter()
            .filter(|i| i.state == QState::Answered)
            .filter_map(|i| i.closed_at.map(|t| (t - i.published).max(Duration::zero())))
            .map(|d| d.num_seconds() as f64 / 3600.0)
            .collect();
        hours.sort_by(f64::total_cmp);
        let q = |p: f64| {
            (!hours.is_empty()).then(|| {
                let i = ((hours.len() as f64 - 1.0) * p).round() as usize;
                (hours[i] * 10.0).round() / 10.0
            })
        };
        out.push(ResponseTimes {
            brand: b.id.clone(),
            brand_name: b.name.clone(),
            open: mine.iter().filter(|i| i.state == QState::Open).count(),
            answered: mine.iter().filter(|i| i.state == QState::Answered).count(),
            dismissed: mine.iter().filter(|i| i.state == QState::Dismissed).count(),
            median_hours: q(0.5),
            p90_hours: q(0.9),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_and_waits() {
        assert!(contains_handle("@alice12 bonjour", "@alice12"));
        assert!(!contains_handle("@alice123 bonjour", "@alice12"));
        let w = |s: &str| -> Vec<String> { s.split(' ').map(text::fold).collect() };
        assert_eq!(said_wait_days(&w("depuis 5 jours sans réponse")), 5.0);
        assert_eq!(said_wait_days(&w("for 2 weeks now")), 14.0);
        assert_eq!(said_wait_days(&w("ref 41170")), 0.0);
    }
}
