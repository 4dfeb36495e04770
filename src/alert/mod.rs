//! Alerts: what the detectors raise, how they are kept (in the index, beside the documents,
//! so readers see them without the writer lock), delivered (log, webhook, e-mail) and listed.

pub mod channel;
pub mod detect;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query as TvQuery, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{TantivyDocument, Term};

use crate::index::search::{Reader, SearchError};
use crate::index::{tv_date, Fields, IndexRecord, DOCTYPE_ALERT};

/// What an alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// Terms rising far above their own baseline.
    Emerging,
    /// A brand's negative share rising above its own baseline.
    SentimentShift,
    /// A brand's mentions rising far above their seasonal baseline.
    VolumeSpike,
    /// A brand that is always talked about falling silent.
    VolumeDrop,
}

impl AlertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Emerging => "emerging",
            AlertKind::SentimentShift => "sentiment_shift",
            AlertKind::VolumeSpike => "volume_spike",
            AlertKind::VolumeDrop => "volume_drop",
        }
    }
}

/// One alert, with what it is about and the documents behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub kind: AlertKind,
    pub watch: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
    /// The brand as people call it (its `name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand_name: Option<String>,
    /// The rising terms, or the terms that drove the shift.
    pub terms: Vec<String>,
    /// Event time of the document that set it off.
    #[serde(with = "rfc3339")]
    pub at: DateTime<Utc>,
    /// Strength: deviations above baseline (CUSUM statistic for shifts).
    pub score: f64,
    /// URLs of the documents behind it.
    pub evidence: Vec<String>,
    /// One sentence saying why it fired.
    pub message: String,
    /// A reminder of an event already alerted.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reminder: bool,
    /// Volume alerts: the time scale of the window (`1h`, `24h`, `3d`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<String>,
    /// Volume alerts: documents in the window, and what the baseline expected there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<f64>,
    /// Stable identity: same event, same id, however often it is replayed.
    pub id: String,
    /// A rewrite of an alert already raised (terms joined its event): recorded, not delivered.
    #[serde(skip)]
    pub update: bool,
}

pub mod rfc3339 {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Secs, true))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let s = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }
}

impl Alert {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        kind: AlertKind,
        watch: &str,
        brand: Option<String>,
        terms: Vec<String>,
        at: DateTime<Utc>,
        score: f64,
        evidence: Vec<String>,
        message: String,
        reminder: bool,
    ) -> Alert {
        let basis = format!(
            "{}|{watch}|{}|{}|{}|{reminder}",
            kind.as_str(),
            brand.as_deref().unwrap_or(""),
            terms.first().map(String::as_str).unwrap_or(""),
            at.timestamp()
        );
        let id = format!("{:016x}", xxhash_rust::xxh3::xxh3_64(basis.as_bytes()));
        let score = (score * 100.0).round() / 100.0;
        Alert {
            kind,
            watch: watch.to_string(),
            brand,
            brand_name: None,
            terms,
            at,
            score,
            evidence,
            message,
            reminder,
            scale: None,
            count: None,
            baseline: None,
            id,
            update: false,
        }
    }

    /// The index record of an alert.
    pub fn record(&self, fields: &Fields) -> IndexRecord {
        let key = format!("alert:{}", self.id);
        let mut d = TantivyDocument::default();
        d.add_text(fields.key, &key);
        d.add_text(fields.doctype, DOCTYPE_ALERT);
        d.add_text(fields.url, &key);
        d.add_text(fields.title, &self.message);
        d.add_date(fields.published, tv_date(self.at));
        d.add_text(fields.watches, &self.watch);
        if let Some(b) = &self.brand {
            d.add_text(fields.brands, b);
        }
        d.add_text(fields.source, self.kind.as_str());
        d.add_text(
            fields.meta,
            serde_json::to_string(self).expect("alerts serialise"),
        );
        IndexRecord { key, doc: d }
    }

    /// A line for people: kind, when, what, why.
    pub fn summary(&self) -> String {
        let brand = self.brand_name.as_ref().or(self.brand.as_ref());
        let what = match (self.kind, brand) {
            (AlertKind::Emerging, _) => format!(
                "emerging: {}",
                self.terms
                    .iter()
                    .take(3)
                    .map(|t| format!("“{t}”"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            (AlertKind::SentimentShift, Some(b)) => format!("sentiment shift on {b}"),
            (AlertKind::VolumeSpike, Some(b)) => format!("volume spike on {b}"),
            (AlertKind::VolumeDrop, Some(b)) => format!("volume drop on {b}"),
            (k, None) => k.as_str().to_string(),
        };
        format!("{}{what}", if self.reminder { "reminder — " } else { "" })
    }
}

/// Alerts in the index with event time in `[since, until)`, oldest first.
pub fn read_alerts(
    reader: &Reader,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    watch: Option<&str>,
) -> Result<Vec<Alert>, SearchError> {
    let f = &reader.fields;
    let mut clauses: Vec<(Occur, Box<dyn TvQuery>)> = vec![(
        Occur::Must,
        Box::new(TermQuery::new(
            Term::from_field_text(f.doctype, DOCTYPE_ALERT),
            IndexRecordOption::Basic,
        )),
    )];
    if let Some(w) = watch {
        clauses.push((
            Occur::Must,
            Box::new(TermQuery::new(
                Term::from_field_text(f.watches, w),
                IndexRecordOption::Basic,
            )),
        ));
    }
    if since.is_some() || until.is_some() {
        clauses.push((Occur::Must, reader.date_range(since, until)));
    }
    let searcher = reader.searcher();
    let q = BooleanQuery::new(clauses);
    let top = searcher.search(&q, &TopDocs::with_limit(100_000).order_by_score())?;
    let mut out = Vec::with_capacity(top.len());
    for (_, addr) in top {
        let d: TantivyDocument = searcher.doc(addr)?;
        use tantivy::schema::Value;
        if let Some(json) = d.get_first(f.meta).and_then(|v| v.as_str()) {
            if let Ok(a) = serde_json::from_str::<Alert>(json) {
                out.push(a);
            }
        }
    }
    out.sort_by(|a, b| a.at.cmp(&b.at).then(a.id.cmp(&b.id)));
    Ok(out)
}
