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
    // Italian, Spanish, German, Portuguese
    ("gennaio", 1),
    ("febbraio", 2),
    ("marzo", 3),
    ("aprile", 4),
    ("maggio", 5),
    ("giugno", 6),
    ("luglio", 7),
    ("agosto", 8),
    ("settembre", 9),
    ("ottobre", 10),
    ("dicembre", 12),
    ("gen", 1),
    ("mag", 5),
    ("giu", 6),
    ("lug", 7),
    ("ago", 8),
    ("set", 9),
    ("ott", 10),
    ("dic", 12),
    ("enero", 1),
    ("febrero", 2),
    ("abril", 4),
    ("mayo", 5),
    ("junio", 6),
    ("julio", 7),
    ("septiembre", 9),
    ("octubre", 10),
    ("noviembre", 11),
    ("diciembre", 12),
    ("ene", 1),
    ("abr", 4),
    ("januar", 1),
    ("februar", 2),
    ("märz", 3),
    ("mrz", 3),
    ("juni", 6),
    ("juli", 7),
    ("oktober", 10),
    ("dezember", 12),
    ("okt", 10),
    ("dez", 12),
    ("janeiro", 1),
    ("fevereiro", 2),
    ("março", 3),
    ("maio", 5),
    ("junho", 6),
    ("julho", 7),
    ("setembro", 9),
    ("outubro", 10),
    ("novembro", 11),
    ("dezembro", 12),
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

/// A time of day: `10:00`, `10:00:00`, `10:00:00.123`.
fn time_of_day(t: &str) -> Option<(u32, u32, u32)> {
    let mut parts = t.split(':');
    let h: u32 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let sec: u32 = match parts.next() {
        Some(x) => x.split('.').next()?.parse().ok()?,
        None => 0,
    };
    (parts.next().is_none() && h < 24 && m < 60 && sec < 61).then_some((h, m, sec))
}

/// A zone: `+0100`, `-05:00`, `Z`, `GMT`, `EST`, `CEST`… in minutes east of UTC.
fn zone(t: &str) -> Option<i64> {
    if let Some(rest) = t.strip_prefix(['+', '-']) {
        let digits: String = rest.chars().filter(|c| *c != ':').collect();
        if digits.len() == 4 && digits.bytes().all(|b| b.is_ascii_digit()) {
            let h: i64 = digits[..2].parse().ok()?;
            let m: i64 = digits[2..].parse().ok()?;
            let v = h * 60 + m;
            return Some(if t.starts_with('-') { -v } else { v });
        }
        return None;
    }
    let up = t.to_ascii_uppercase();
    let named = match up.as_str() {
        "Z" | "UT" | "UTC" | "GMT" | "WET" => 0,
        "EST" | "CDT" => -300,
        "EDT" => -240,
        "CST" => -360,
        "MST" => -420,
        "MDT" => -360,
        "PST" => -480,
        "PDT" => -420,
        _ => {
            let v = zone_offset(&up);
            if v == 0 {
                return None;
            }
            v
        }
    };
    Some(named)
}

/// Dates in words or with slashes, times and zones in any order: `2019/11/19`, `2003-12`,
/// `November 19, 2019`, `19 novembre 2019`, `mer, 16 nov 2022 00:38:15 +0100`.
fn textual(s: &str) -> Option<DateTime<Utc>> {
    let toks: Vec<&str> = s
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .take(10)
        .collect();
    let num = |w: &str| -> Option<u32> {
        let d = w.trim_end_matches(|c: char| c.is_alphabetic() || c == '.'); // 19th, 1er, 19.
        (!d.is_empty() && d.len() <= 4 && d.bytes().all(|b| b.is_ascii_digit()))
            .then(|| d.parse().ok())
            .flatten()
    };
    let (mut y, mut m, mut d) = (None, None, None);
    let mut time = None;
    let mut offset = None;
    let mut pm = None;
    for t in &toks {
        match t.to_ascii_lowercase().trim_end_matches('.') {
            "pm" | "p.m" => {
                pm = Some(true);
                continue;
            }
            "am" | "a.m" => {
                pm = Some(false);
                continue;
            }
            _ => {}
        }
        // a time, possibly with its zone glued on
        if t.contains(':') {
            let cut = t[1..]
                .find(['+', '-', 'Z'])
                .map(|i| i + 1)
                .unwrap_or(t.len());
            if let Some(tm) = time_of_day(&t[..cut]) {
                time = Some(tm);
                if cut < t.len() {
                    offset = zone(&t[cut..]);
                }
                continue;
            }
        }
        if let Some(z) = zone(t) {
            if time.is_some() || t.starts_with(['+', '-']) {
                offset = Some(z);
                continue;
            }
        }
        if let Some(mm) = month(t) {
            m = m.or(Some(mm));
            continue;
        }
        let parts: Vec<&str> = t.split(['/', '-', '.']).filter(|p| !p.is_empty()).collect();
        if parts.len() >= 2 && parts.iter().all(|p| num(p).is_some()) {
            let a = num(parts[0])?;
            let b = num(parts[1])?;
            let c = parts.get(2).and_then(|p| num(p));
            let (yy, mm, dd) = match (a, b, c) {
                (yy, mm, Some(dd)) if yy > 1000 => (yy, mm, dd),
                (yy, mm, None) if yy > 1000 => (yy, mm, 1),
                // day first, as written in French and in most of the world
                (dd, mm, Some(yy)) if yy > 1000 && mm <= 12 => (yy, mm, dd),
                (mm, dd, Some(yy)) if yy > 1000 => (yy, mm, dd),
                _ => return None,
            };
            y = Some(yy as i32);
            m = Some(mm);
            d = Some(dd);
            continue;
        }
        if let Some(n) = num(t) {
            if n > 1000 && y.is_none() {
                y = Some(n as i32);
            } else if (1..=31).contains(&n) && d.is_none() {
                d = Some(n);
            }
        }
    }
    let date = NaiveDate::from_ymd_opt(y?, m?, d.unwrap_or(1))?;
    let (mut h, mi, sec) = time.unwrap_or((0, 0, 0));
    match pm {
        Some(true) if h < 12 => h += 12,
        Some(false) if h == 12 => h = 0,
        _ => {}
    }
    let t = date.and_hms_opt(h, mi, sec)? - chrono::Duration::minutes(offset.unwrap_or(0));
    plausible(Utc.from_utc_datetime(&t))
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
        assert_eq!(
            t("mer, 16 nov 2022 00:38:15 +0100").unwrap(),
            "2022-11-15T23:38:15Z"
        );
        assert_eq!(
            t("5 mars 2024 à 08:30 CET").unwrap(),
            "2024-03-05T07:30:00Z"
        );
        assert_eq!(t("Mar 5, 2024 8:30 PM").unwrap(), "2024-03-05T20:30:00Z");
        assert_eq!(t("Mar 5, 2024 12:10 a.m.").unwrap(), "2024-03-05T00:10:00Z");
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
