//! When to ask again: `Retry-After`, exponential backoff with jitter.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// Longest Retry-After believed (a week).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(7 * 24 * 3600);

/// Parses a `Retry-After` value: delay-seconds or an HTTP date (RFC 7231 §7.1.3). A date in
/// the past means now; more than [`MAX_RETRY_AFTER`] means that long.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    parse_retry_after_unbounded(value, now).map(|d| d.min(MAX_RETRY_AFTER))
}

fn parse_retry_after_unbounded(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = v.parse::<f64>() {
        if secs.is_finite() && secs >= 0.0 {
            return Some(Duration::from_secs_f64(secs.min(1e9)));
        }
    }
    let at = DateTime::parse_from_rfc2822(v)
        .ok()
        .map(|t| t.with_timezone(&Utc))
        .or_else(|| {
            // RFC 850 and asctime forms, still seen in the wild
            chrono::NaiveDateTime::parse_from_str(v, "%A, %d-%b-%y %H:%M:%S GMT")
                .or_else(|_| chrono::NaiveDateTime::parse_from_str(v, "%a %b %e %H:%M:%S %Y"))
                .ok()
                .map(|n| n.and_utc())
        })?;
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

/// The wait before retry number `attempt` (1 for the first retry): `base × 2^(attempt-1)`,
/// half of it fixed and half random ("equal jitter"), so that many clients failing at once
/// do not come back at once.
pub fn backoff(base: Duration, attempt: u32) -> Duration {
    let exp = base.saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
    let half = exp / 2;
    half + half.mul_f64(rand::random::<f64>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = DateTime::parse_from_rfc3339("2026-10-05T08:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(parse_retry_after("1", now), Some(Duration::from_secs(1)));
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Mon, 05 Oct 2026 08:00:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Monday, 05-Oct-26 08:01:00 GMT", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            parse_retry_after("Mon, 05 Oct 2026 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(
            parse_retry_after("99999999999999", now),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(parse_retry_after("-5", now), None);
    }

    #[test]
    fn backoff_grows_with_jitter() {
        let base = Duration::from_millis(400);
        for _ in 0..50 {
            let b1 = backoff(base, 1);
            assert!(b1 >= Duration::from_millis(200) && b1 <= base, "{b1:?}");
            let b3 = backoff(base, 3);
            assert!(
                b3 >= Duration::from_millis(800) && b3 <= Duration::from_millis(1600),
                "{b3:?}"
            );
        }
    }
}
