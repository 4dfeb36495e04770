//! Unmet expectations: complaints, requests still waiting, wishes — each with its cue.

use crate::analyze::text::Analyzed;
use crate::doc::{Expectation, ExpectationKind};

const CUES: &[(&str, ExpectationKind)] = &[
    ("toujours pas", ExpectationKind::Request),
    ("still waiting", ExpectationKind::Request),
    ("aucune réponse", ExpectationKind::Request),
    ("ce serait bien", ExpectationKind::Wish),
    ("please add", ExpectationKind::Wish),
    ("j'aimerais", ExpectationKind::Wish),
    ("en panne", ExpectationKind::Complaint),
    ("scandaleux", ExpectationKind::Complaint),
];

/// The unmet expectations in `doc`.
pub fn find_expectations(doc: &Analyzed<'_>) -> Vec<Expectation> {
    let lower = doc.text.to_lowercase();
    let mut out = Vec::new();
    for (cue, kind) in CUES {
        if let Some(i) = lower.find(cue) {
            if lower.len() == doc.text.len() {
                out.push(Expectation {
                    kind: *kind,
                    cue: doc.text[i..i + cue.len()].to_string(),
                    start: i,
                    end: i + cue.len(),
                });
            }
        }
    }
    out.sort_by_key(|e| e.start);
    out
}
