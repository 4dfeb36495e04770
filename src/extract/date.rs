//! Dates as pages and feeds write them: RFC 3339 and 2822 and their common deviations, W3C
//! partial dates, `2019/11/19`, `November 19, 2019`, `19 novembre 2019`.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};

const MONTHS: &[(&str, u32)] = &[
    ("january", 1),
    ("february", 2),
    ("march", 3),
    ("april", 4),
    ("may", 5),
    ("june", 6),
    ("july", 7),
    ("august", 8),
    ("september", 9),
    ("sept", 9),
    ("october", 10),
    ("november", 11),
    ("december", 12),
    ("janvier", 1),
    ("février", 2),
    ("fevrier", 2),
    ("mars", 3),
    ("avril", 4),
    ("mai", 5),
    ("juin", 6),
    ("juillet", 7),
    ("août", 8),
    ("aout", 8),
    ("septembre", 9),
    ("octobre", 10),
    ("novembre", 11),
    ("décembre", 12),
    ("decembre", 12),
    ("jan", 1),
    ("feb", 2),
    ("fév", 2),
    ("fev", 2),
    ("mar", 3),
    ("apr", 4),
    ("avr", 4),
    ("jun", 6),
    ("jul", 7),
    ("juil", 7),
    ("aug", 8),
    ("sep", 9),
    ("oct", 10),
    ("nov", 11),
    ("dec", 12),
    ("déc", 12),
];

fn month(word: &str) -> Option<u32> {
    let w = word.trim_end_matches('.').to_lowercase();
    MONTHS.iter().find(|(m, _)| *m == w).map(|(_, n)| *n)
}

fn plausible(d: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let y = chrono::Datelike::year(&d);
    (1970..=2100).contains(&y).then_some(d)
}

fn ymd(y: i32, m: u32, d: u32) -> Option<DateTime<Utc>> {
    let date = NaiveDate::from_ymd_opt(y, m, d)?;
    plausible(Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0)?))
}

/// Parses a date written by a page or a feed; `None` when it is not one (or not between 1970
/// and 2100).
pub fn parse_date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.is_empty() || s.len() > 80 {
        return None;
    }
    if let Some(d) = crate::time::parse_date(s) {
        // bare numbers are years or ids here, not epoch seconds
        if s.bytes().all(|b| b.is_ascii_digit()) {
            if s.len() == 4 {
                return ymd(s.parse().ok()?, 1, 1);
            }
            if s.len() == 8 {
                return ymd(
                    s[..4].parse().ok()?,
                    s[4..6].parse().ok()?,
                    s[6..].parse().ok()?,
                );
            }
            return None;
        }
        return plausible(d);
    }
    // offsets without a colon or with a space, `Z` after fractional seconds, lower-case `t`
    let norm = s.replacen('t', "T", 1);
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f%#z",
        "%Y-%m-%dT%H:%M:%S%.f %#z",
        "%Y-%m-%d %H:%M:%S %#z",
        "%Y-%m-%dT%H:%M%#z",
    ] {
        if let Ok(t) = DateTime::<FixedOffset>::parse_from_str(&norm, f) {
            return plausible(t.with_timezone(&Utc));
        }
    }
    for f in [
        "%a, %d %b %Y %H:%M:%S %#z",
        "%a, %d %b %Y %H:%M %#z",
        "%d %b %Y %H:%M:%S %#z",
    ] {
        if let Ok(t) = DateTime::<FixedOffset>::parse_from_str(s, f) {
            return plausible(t.with_timezone(&Utc));
        }
    }
    // RFC 2822 without a zone, or with a zone name chrono does not know: a known name gives
    // its offset, an unknown one reads as UTC
    let no_zone = strip_zone_name(s);
    let offset_minutes = zone_offset(&s[no_zone.len()..]);
    for f in [
        "%a, %d %b %Y %H:%M:%S",
        "%a, %d %b %Y %H:%M",
        "%d %b %Y %H:%M:%S",
        "%a %b %d %H:%M:%S %Y",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y/%m/%d %H:%M:%S",
        "%Y/%m/%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(no_zone, f) {
            let t = t - chrono::Duration::minutes(offset_minutes);
            return plausible(Utc.from_utc_datetime(&t));
        }
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(&norm, "%Y-%m-%dT%H:%M:%S%.fZ") {
        return plausible(Utc.from_utc_datetime(&t));
    }
    textual(s)
}

/// Offsets of zone abbreviations chrono's RFC 2822 parser does not know, in minutes east.
fn zone_offset(zone: &str) -> i64 {
    match zone.trim().to_ascii_uppercase().as_str() {
        "CET" | "MET" | "WEST" | "BST" => 60,
        "CEST" | "MEST" | "EET" | "SAST" => 120,
        "EEST" | "MSK" => 180,
        "IST" => 330,
        "HKT" | "SGT" | "AWST" => 480,
        "JST" | "KST" => 540,
        "AEST" => 600,
        "AEDT" => 660,
        "NZST" => 720,
        "NZDT" => 780,
        "AKST" => -540,
        "AKDT" => -480,
        "HST" => -600,
        "AST" => -240,
        "ADT" | "BRT" => -180,
        _ => 0,
    }
}

/// Drops a trailing alphabetic zone name (`EST`, `CEST`, `GMT+1`…).
fn strip_zone_name(s: &str) -> &str {
    let t = s.trim_end();
    if let Some((head, tail)) = t.rsplit_once(' ') {
        if !tail.is_empty()
            && tail.len() <= 9
            && tail.chars().all(|c| {
                c.is_ascii_alphabetic() || matches!(c, '+' | '-' | ':') || c.is_ascii_digit()
            })
            && tail.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        {
            return head.trim_end();
        }
    }
    t
}

/// Dates in words or with slashes: `2019/11/19`, `2003-12`, `November 19, 2019`,
/// `19 novembre 2019`, `Tuesday 19 Nov 2019`.
fn textual(s: &str) -> Option<DateTime<Utc>> {
    let words: Vec<&str> = s
        .split(|c: char| c.is_whitespace() || c == ',' || c == '/' || c == '-' || c == '.')
        .filter(|w| !w.is_empty())
        .take(8)
        .collect();
    let num = |w: &str| -> Option<u32> {
        let d = w.trim_end_matches(|c: char| c.is_ascii_alphabetic()); // 19th, 1er
        (!d.is_empty() && d.len() <= 4 && d.bytes().all(|b| b.is_ascii_digit()))
            .then(|| d.parse().ok())
            .flatten()
    };
    // numeric forms
    if words.len() >= 2 && words.iter().take(3).all(|w| num(w).is_some()) {
        let a = num(words[0])?;
        let b = num(words[1])?;
        let c = words.get(2).and_then(|w| num(w));
        return match (a, b, c) {
            (y, m, Some(d)) if y > 1000 => ymd(y as i32, m, d),
            (y, m, None) if y > 1000 && words.len() == 2 => ymd(y as i32, m, 1),
            // day first, as written in French and in most of the world
            (d, m, Some(y)) if y > 1000 && m <= 12 => ymd(y as i32, m, d),
            (m, d, Some(y)) if y > 1000 => ymd(y as i32, m, d),
            _ => None,
        };
    }
    let mut y = None;
    let mut m = None;
    let mut d = None;
    for w in &words {
        if let Some(mm) = month(w) {
            if m.is_none() {
                m = Some(mm);
            }
            continue;
        }
        if let Some(n) = num(w) {
            if n > 1000 && y.is_none() {
                y = Some(n as i32);
            } else if (1..=31).contains(&n) && d.is_none() {
                d = Some(n);
            }
        }
    }
    ymd(y?, m?, d.unwrap_or(1))
}

/// A date written in a URL path: `/2019/11/19/` or `/2019-11-19/`.
pub fn date_in_url(url: &str) -> Option<DateTime<Utc>> {
    let path = url.split("://").nth(1).unwrap_or(url);
    let path = &path[path.find('/')?..];
    let parts: Vec<&str> = path.split(['/', '-', '_']).collect();
    for w in parts.windows(3) {
        let ok = w[0].len() == 4
            && w[1].len() == 2
            && w[2].len() == 2
            && w.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()));
        if ok {
            if let Some(d) = ymd(w[0].parse().ok()?, w[1].parse().ok()?, w[2].parse().ok()?) {
                return Some(d);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Option<String> {
        parse_date(s).map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
    }

    #[test]
    fn machine_dates() {
        assert_eq!(t("2019-11-19T10:00:00Z").unwrap(), "2019-11-19T10:00:00Z");
        assert_eq!(
            t("2019-11-19T10:00:00+0100").unwrap(),
            "2019-11-19T09:00:00Z"
        );
        assert_eq!(
            t("2019-11-19T10:00:00.000+01:00").unwrap(),
            "2019-11-19T09:00:00Z"
        );
        assert_eq!(t("2019-11-19").unwrap(), "2019-11-19T00:00:00Z");
        assert_eq!(
            t("Tue, 19 Nov 2019 10:00:00 GMT").unwrap(),
            "2019-11-19T10:00:00Z"
        );
        assert_eq!(
            t("Tue, 19 Nov 2019 10:00:00 -0500").unwrap(),
            "2019-11-19T15:00:00Z"
        );
        assert_eq!(
            t("Tue, 19 Nov 2019 10:00:00 CEST").unwrap(),
            "2019-11-19T08:00:00Z"
        );
        assert_eq!(
            t("Sat, 2 Mar 2024 10:00:00 CET").unwrap(),
            "2024-03-02T09:00:00Z"
        );
        assert_eq!(
            t("Sat, 2 Mar 2024 10:00:00 XYZ").unwrap(),
            "2024-03-02T10:00:00Z"
        );
        assert_eq!(
            t("19 Nov 2019 10:00:00 +0000").unwrap(),
            "2019-11-19T10:00:00Z"
        );
        assert_eq!(t("2003-12").unwrap(), "2003-12-01T00:00:00Z");
        assert_eq!(t("2003").unwrap(), "2003-01-01T00:00:00Z");
    }

    #[test]
    fn human_dates() {
        assert_eq!(t("November 19, 2019").unwrap(), "2019-11-19T00:00:00Z");
        assert_eq!(t("19 novembre 2019").unwrap(), "2019-11-19T00:00:00Z");
        assert_eq!(t("1er août 2020").unwrap(), "2020-08-01T00:00:00Z");
        assert_eq!(t("2019/11/19").unwrap(), "2019-11-19T00:00:00Z");
        assert_eq!(t("19/11/2019").unwrap(), "2019-11-19T00:00:00Z");
    }

    #[test]
    fn not_dates() {
        for s in [
            "",
            "yesterday",
            "12345",
            "3000-01-01",
            "hello world 42",
            "0",
        ] {
            assert_eq!(t(s), None, "{s}");
        }
    }

    #[test]
    fn dates_in_urls() {
        let d = date_in_url("https://example.org/2019/11/19/story.html").unwrap();
        assert_eq!(d.format("%Y-%m-%d").to_string(), "2019-11-19");
        assert!(date_in_url("https://example.org/a/1234/56/78").is_none());
        assert!(date_in_url("https://example.org/story").is_none());
    }
}
