//! When each source is polled: its `interval` after the last poll, and, after repeated
//! failures, exponentially later (capped at a day), so a broken source is backed off rather
//! than hammered. The bookkeeping lives in the state (`Space::Meta`, `source/ID`), so a
//! restart keeps the schedule.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::Source;
use crate::state::{Space, State};

/// Longest wait between two polls of a failing source.
pub const MAX_BACKOFF: Duration = Duration::from_secs(24 * 3600);
/// Consecutive failures from which `--once` skips a source until its backoff has passed.
pub const ONCE_BACKOFF_FROM: u32 = 2;

/// What is remembered of a source's polls.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Health {
    /// The address polled (a changed address starts afresh).
    pub url: String,
    /// Last poll, seconds since the epoch.
    pub last_attempt: i64,
    pub last_success: Option<i64>,
    /// Consecutive failed polls.
    pub failures: u32,
    /// The server asked not to come back before this (Retry-After beyond what a pass waits).
    pub not_before: Option<i64>,
    pub last_error: Option<String>,
    /// What was wrong with parts of the last answers though the poll went on (items
    /// without an address, dates that do not parse, a path that matched nothing).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

/// The state key of a source's health.
pub fn key(source_id: &str) -> String {
    format!("source/{source_id}")
}

/// The health of a source, when it has one for its current address.
pub fn load(state: &State, source: &Source) -> Option<Health> {
    state
        .get::<Health>(Space::Meta, &key(&source.id))
        .filter(|h| h.url == source.url.as_str())
}

/// How long after its last poll a source is polled again.
pub fn wait_after(interval: Duration, h: &Health) -> Duration {
    if h.failures <= 1 {
        return interval;
    }
    let factor = 1u32 << (h.failures - 1).min(16);
    interval
        .saturating_mul(factor)
        .min(MAX_BACKOFF)
        .max(interval)
}

/// When a source is next due, in seconds since the epoch; `None` when it never was polled.
pub fn next_due(source: &Source, h: Option<&Health>) -> Option<i64> {
    let h = h?;
    let mut due = h.last_attempt + wait_after(source.interval, h).as_secs() as i64;
    if let Some(nb) = h.not_before {
        due = due.max(nb);
    }
    Some(due)
}

/// For a single pass (`vigie run --once`): until when the source is left alone, if it is
/// backing off after repeated failures or was asked to wait.
pub fn backing_off(source: &Source, h: Option<&Health>, now: i64) -> Option<i64> {
    let h = h?;
    let mut until = None;
    if h.failures >= ONCE_BACKOFF_FROM {
        until = Some(h.last_attempt + wait_after(source.interval, h).as_secs() as i64);
    }
    if let Some(nb) = h.not_before {
        until = Some(until.map_or(nb, |u: i64| u.max(nb)));
    }
    until.filter(|u| *u > now)
}

/// The health after a poll at `now`: `Ok` resets the failures; an error counts one more,
/// with the time the server asked to wait, if it did.
pub fn record(
    previous: Option<Health>,
    source: &Source,
    now: i64,
    outcome: Result<Vec<String>, (String, Option<Duration>)>,
) -> Health {
    let mut h = previous.unwrap_or_default();
    h.url = source.url.to_string();
    h.last_attempt = now;
    match outcome {
        Ok(problems) => {
            h.problems = problems;
            h.last_success = Some(now);
            h.failures = 0;
            h.not_before = None;
            h.last_error = None;
        }
        Err((message, retry_after)) => {
            h.failures = h.failures.saturating_add(1);
            h.not_before = retry_after.map(|d| now + d.as_secs() as i64);
            h.last_error = Some(message);
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Selectors, SourceKind};

    fn source(interval: u64) -> Source {
        Source {
            id: "s".into(),
            kind: SourceKind::Feed,
            url: url::Url::parse("https://e.example/feed").unwrap(),
            tags: vec![],
            full_text: false,
            interval: Duration::from_secs(interval),
            timeout: Duration::from_secs(20),
            per_host_delay: Duration::from_secs(1),
            allow_private: false,
            lang: None,
            name: None,
            selectors: Selectors::default(),
            search: None,
            brands: Vec::new(),
            line: 1,
        }
    }

    #[test]
    fn failing_sources_back_off_exponentially_up_to_a_day() {
        let s = source(1800);
        let mut h = None;
        let mut waits = Vec::new();
        for t in 0..8 {
            let n = record(h.clone(), &s, t * 10, Err(("timeout".into(), None)));
            waits.push(next_due(&s, Some(&n)).unwrap() - n.last_attempt);
            h = Some(n);
        }
        assert_eq!(waits, [1800, 3600, 7200, 14400, 28800, 57600, 86400, 86400]);
        let ok = record(h, &s, 100, Ok(Vec::new()));
        assert_eq!(ok.failures, 0);
        assert_eq!(next_due(&s, Some(&ok)), Some(1900));
    }

    #[test]
    fn once_skips_repeated_failures_and_retry_after() {
        let s = source(1800);
        let one = record(None, &s, 1000, Err(("parse".into(), None)));
        assert_eq!(
            backing_off(&s, Some(&one), 1001),
            None,
            "one failure is not a pattern"
        );
        let two = record(Some(one), &s, 2000, Err(("parse".into(), None)));
        assert_eq!(backing_off(&s, Some(&two), 2001), Some(2000 + 3600));
        assert_eq!(backing_off(&s, Some(&two), 2000 + 3600), None);
        let limited = record(
            None,
            &s,
            5000,
            Err(("rate-limited".into(), Some(Duration::from_secs(600)))),
        );
        assert_eq!(backing_off(&s, Some(&limited), 5001), Some(5600));
        assert_eq!(next_due(&s, Some(&limited)), Some(6800));
        assert_eq!(next_due(&s, None), None);
    }
}
