//! What flows through the pipeline: documents, what the analyses found in them, and alerts.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::analyze::lang::Lang;

/// A document as a source gives it: one post, article, feed item or page. Serialised (a
/// cluster's fetchers send it to its analysers) with its language as a code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    /// Where it lives; its identity once canonicalised.
    pub url: String,
    pub title: String,
    /// Plain text (for pages, the main content only).
    pub text: String,
    /// When it was published, if it says.
    pub published: Option<DateTime<Utc>>,
    /// When vigie got it.
    pub fetched: DateTime<Utc>,
    /// Source id (or the `source` of an ingested line).
    pub source: String,
    pub author: Option<String>,
    /// The author's audience (followers), where the platform says.
    pub followers: Option<u64>,
    /// An app review's stars (1 to 5).
    pub rating: Option<u8>,
    /// Language announced by the source, page or input line.
    #[serde(with = "lang_code")]
    pub lang_hint: Option<Lang>,
}

/// A language as its code (`"fr"`), an unknown code read as none.
mod lang_code {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::analyze::lang::Lang;

    pub fn serialize<S: Serializer>(l: &Option<Lang>, s: S) -> Result<S::Ok, S::Error> {
        match l {
            Some(l) => s.serialize_some(l.code()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Lang>, D::Error> {
        Ok(Option::<String>::deserialize(d)?
            .as_deref()
            .and_then(Lang::from_code))
    }
}

impl Document {
    /// Event time: the published date, or the fetch date when there is none.
    pub fn event_time(&self) -> DateTime<Utc> {
        self.published.unwrap_or(self.fetched)
    }

    /// The text every analysis reads: the title, then the body (the title is not repeated when
    /// the body already starts with it).
    pub fn content(&self) -> String {
        let title = self.title.trim();
        let body = self.text.trim();
        if title.is_empty() || body.starts_with(title) {
            body.to_string()
        } else if body.is_empty() {
            title.to_string()
        } else {
            format!("{title}\n\n{body}")
        }
    }
}

/// What heads a document for people: its title, or, when it has none, its first words (up
/// to about 80 characters, cut at a word, with an ellipsis when cut).
pub fn headline(title: &str, text: &str) -> String {
    const MAX: usize = 80;
    let title = title.trim();
    if !title.is_empty() {
        return title.to_string();
    }
    let first_line = text.trim().lines().next().unwrap_or("").trim();
    let words: Vec<&str> = first_line.split_whitespace().collect();
    let mut out = String::new();
    for (i, w) in words.iter().enumerate() {
        if !out.is_empty() && out.chars().count() + 1 + w.chars().count() > MAX {
            out.push('…');
            return out;
        }
        if i > 0 {
            out.push(' ');
        }
        out.push_str(w);
    }
    if out.chars().count() > MAX {
        // one very long word: cut it
        let cut: String = out.chars().take(MAX).collect();
        return cut + "…";
    }
    if out.is_empty() {
        "(untitled)".to_string()
    } else {
        out
    }
}

/// Sentiment class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Label {
    Negative,
    Neutral,
    Positive,
}

/// Scores at or beyond these are positive / negative.
pub const POSITIVE_AT: f64 = 0.05;
pub const NEGATIVE_AT: f64 = -0.05;

/// The class of a score.
pub fn label_of(score: f64) -> Label {
    if score >= POSITIVE_AT {
        Label::Positive
    } else if score <= NEGATIVE_AT {
        Label::Negative
    } else {
        Label::Neutral
    }
}

impl Label {
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Negative => "negative",
            Label::Neutral => "neutral",
            Label::Positive => "positive",
        }
    }

    pub fn parse(s: &str) -> Option<Label> {
        match s.trim().to_ascii_lowercase().as_str() {
            "negative" | "neg" | "-" => Some(Label::Negative),
            "neutral" | "neu" | "0" => Some(Label::Neutral),
            "positive" | "pos" | "+" => Some(Label::Positive),
            _ => None,
        }
    }
}

/// A sentiment score in [-1, 1] and its class.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sentiment {
    pub score: f64,
    pub label: Label,
}

impl Sentiment {
    pub const NEUTRAL: Sentiment = Sentiment {
        score: 0.0,
        label: Label::Neutral,
    };
}

/// One mention of a brand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mention {
    /// Brand id.
    pub brand: String,
    /// The alias as written in the text.
    pub alias: String,
    /// Byte offsets into the analysed text.
    pub start: usize,
    pub end: usize,
    /// Sentiment of the sentence around the mention.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sentiment: Option<Sentiment>,
}

/// What kind of unmet expectation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum ExpectationKind {
    /// Asked, waited, no answer ("toujours pas de réponse", "still waiting").
    Request,
    /// Something went wrong and it is the brand's fault.
    Complaint,
    /// A suggestion or a missing feature ("ce serait bien que", "please add").
    Wish,
}

impl ExpectationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ExpectationKind::Complaint => "complaint",
            ExpectationKind::Request => "request",
            ExpectationKind::Wish => "wish",
        }
    }

    pub fn parse(s: &str) -> Option<ExpectationKind> {
        match s.trim().to_ascii_lowercase().as_str() {
            "complaint" | "complaints" => Some(ExpectationKind::Complaint),
            "request" | "requests" => Some(ExpectationKind::Request),
            "wish" | "wishes" => Some(ExpectationKind::Wish),
            _ => None,
        }
    }
}

/// One unmet expectation, with the cue that made vigie see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Expectation {
    pub kind: ExpectationKind,
    /// The words that fired, as written.
    pub cue: String,
    /// Byte offsets of the cue in the analysed text.
    pub start: usize,
    pub end: usize,
    /// The spans that weighed most for this judgement, strongest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub because: Vec<Reason>,
}

/// A span of the text that weighed in a judgement, and how much (in the model's units: what it
/// added to the score of the class it explains).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    pub text: String,
    /// Byte offsets in the analysed text.
    pub start: usize,
    pub end: usize,
    pub weight: f64,
}

/// Everything the analyses found in one text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    pub lang: Lang,
    #[serde(skip)]
    pub lang_confidence: f64,
    pub sentiment: Sentiment,
    /// The spans that weighed most for the text's sentiment label, strongest first (when the
    /// analyser was asked to explain: `Analyzer::explaining`).
    #[serde(skip)]
    pub because: Vec<Reason>,
    pub mentions: Vec<Mention>,
    pub expectations: Vec<Expectation>,
    /// `watch/topic` for each topic query the text matches.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub topics: Vec<String>,
}

impl Analysis {
    /// Brand ids mentioned, sorted, once each.
    pub fn brands(&self) -> Vec<String> {
        let mut b: Vec<String> = self.mentions.iter().map(|m| m.brand.clone()).collect();
        b.sort();
        b.dedup();
        b
    }

    /// The sentiment of the text towards one brand: the mean over its mentions' sentences, or
    /// the text's when no mention carries one.
    pub fn brand_sentiment(&self, brand: &str) -> Sentiment {
        let scores: Vec<f64> = self
            .mentions
            .iter()
            .filter(|m| m.brand == brand)
            .filter_map(|m| m.sentiment.map(|s| s.score))
            .collect();
        if scores.is_empty() {
            return self.sentiment;
        }
        let labels: Vec<Label> = self
            .mentions
            .iter()
            .filter(|m| m.brand == brand)
            .filter_map(|m| m.sentiment.map(|s| s.label))
            .collect();
        let score = scores.iter().sum::<f64>() / scores.len() as f64;
        // the strongest class among the mentions: one angry sentence makes the mention negative
        let label = if labels.contains(&Label::Negative) && !labels.contains(&Label::Positive) {
            Label::Negative
        } else if labels.contains(&Label::Positive) && !labels.contains(&Label::Negative) {
            Label::Positive
        } else if labels.iter().all(|l| *l == Label::Neutral) {
            Label::Neutral
        } else {
            label_of(score)
        };
        Sentiment { score, label }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untitled_documents_are_headed_by_their_first_words() {
        assert_eq!(headline(" Panne ", "x"), "Panne");
        assert_eq!(
            headline("", "Plus de réseau SFR depuis ce matin.\nSuite"),
            "Plus de réseau SFR depuis ce matin."
        );
        let long = "mot ".repeat(40);
        let h = headline("", &long);
        assert!(h.ends_with('…') && h.chars().count() <= 81, "{h}");
        assert_eq!(headline("", "  "), "(untitled)");
    }
}
