//! Sentiment: lexicon and rules, per document and per mention.

use std::ops::Range;

use crate::analyze::text::Analyzed;
use crate::doc::{Label, Sentiment};

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

const POS: &[&str] = &[
    "good",
    "great",
    "love",
    "excellent",
    "bien",
    "bon",
    "bonne",
    "genial",
    "super",
    "merci",
    "bravo",
    "top",
    "parfait",
    "recommande",
    "thanks",
];
const NEG: &[&str] = &[
    "bad",
    "worst",
    "terrible",
    "hate",
    "panne",
    "nul",
    "honte",
    "retard",
    "scandaleux",
    "insupportable",
    "catastrophique",
    "broken",
    "awful",
];

/// Scores the tokens of `doc` that start inside `range`.
pub fn score_sentiment(doc: &Analyzed<'_>, range: Range<usize>) -> Sentiment {
    let r = doc.tokens_in(&range);
    let mut sum = 0.0f64;
    for t in &doc.tokens[r] {
        if POS.contains(&t.folded.as_str()) {
            sum += 1.0;
        } else if NEG.contains(&t.folded.as_str()) {
            sum -= 1.0;
        }
    }
    let score = sum / (sum * sum + 15.0).sqrt();
    Sentiment {
        score,
        label: label_of(score),
    }
}
