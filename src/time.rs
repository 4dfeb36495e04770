//! Dates as users and documents write them.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// Parses a document date: RFC 3339, RFC 2822, or the common `YYYY-MM-DD[ HH:MM[:SS]]`
/// forms (UTC when no offset is given).
pub fn parse_date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = DateTime::parse_from_rfc2822(s) {
        return Some(t.with_timezone(&Utc));
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%.f%z",
        "%Y-%m-%dT%H:%M%z",
    ] {
        if let Ok(t) = DateTime::<FixedOffset>::parse_from_str(s, f) {
            return Some(t.with_timezone(&Utc));
        }
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Some(Utc.from_utc_datetime(&t));
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0)?));
    }
    // seconds since the epoch
    if let Ok(n) = s.parse::<i64>() {
        if n > 0 {
            return DateTime::from_timestamp(n, 0);
        }
    }
    None
}

/// Parses `--since`/`--until`: a duration back from `now` (`24h`, `7d`, `90m`) or a date /
/// RFC 3339 time.
pub fn parse_when(s: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let t = s.trim();
    let starts_with_digit_then_unit = t.chars().next().is_some_and(|c| c.is_ascii_digit())
        && t.chars().last().is_some_and(|c| c.is_ascii_alphabetic())
        && !t.contains('-')
        && !t.contains(':');
    if starts_with_digit_then_unit {
        let d = crate::config::parse_duration(t)?;
        let d = chrono::Duration::from_std(d).map_err(|e| e.to_string())?;
        return Ok(now - d);
    }
    parse_date(t).ok_or_else(|| format!("{s:?} is neither a duration back from now (24h, 7d) nor a date (2026-10-20, 2026-10-20T08:00:00Z)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_dates() {
        let t = |s| parse_date(s).map(|d| d.to_rfc3339());
        assert_eq!(
            t("2026-10-05T08:00:00Z").unwrap(),
            "2026-10-05T08:00:00+00:00"
        );
        assert_eq!(
            t("2026-10-05T10:00:00+02:00").unwrap(),
            "2026-10-05T08:00:00+00:00"
        );
        assert_eq!(
            t("Mon, 05 Oct 2026 08:00:00 GMT").unwrap(),
            "2026-10-05T08:00:00+00:00"
        );
        assert_eq!(t("2026-10-05").unwrap(), "2026-10-05T00:00:00+00:00");
        assert_eq!(t("2026-10-05 08:00").unwrap(), "2026-10-05T08:00:00+00:00");
        assert!(t("yesterday").is_none());
    }

    #[test]
    fn since_and_until() {
        let now = parse_date("2026-11-23T12:00:00Z").unwrap();
        assert_eq!(
            parse_when("24h", now).unwrap(),
            parse_date("2026-11-22T12:00:00Z").unwrap()
        );
        assert_eq!(
            parse_when("7d", now).unwrap(),
            parse_date("2026-11-16T12:00:00Z").unwrap()
        );
        assert_eq!(
            parse_when("2026-10-20", now).unwrap(),
            parse_date("2026-10-20T00:00:00Z").unwrap()
        );
        assert!(parse_when("soon", now).is_err());
    }
}
