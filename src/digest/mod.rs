//! The daily watch digest: built from the index ([`build`]), rendered as text, HTML, JSON or
//! an e-mail ([`render`], [`chart`]), and sent by `vigie run` at each watch's `[digest] at`,
//! once a day even across restarts.

pub mod build;
pub mod chart;
pub mod insight;
pub mod render;
pub mod summary;
pub mod words;

use chrono::{DateTime, Duration, TimeZone, Utc};

use crate::config::Watch;
use crate::index::search::Reader;
use crate::index::search::SearchError;
use crate::mail::{MailError, Outgoing};
use crate::state::{Space, State};
use build::{Digest, Period};

/// The digest of `watch` for `period`, read from the index, its summary written.
pub fn compose(reader: &Reader, watch: &Watch, period: Period) -> Result<Digest, SearchError> {
    let mut d = build::build(reader, watch, period)?;
    d.summary = summary::summarize(&d);
    Ok(d)
}

/// The message of a digest: subject, text, HTML with its charts inline.
pub fn message(d: &Digest, watch: &Watch) -> Outgoing {
    let charts: Vec<Vec<u8>> = d
        .brands
        .iter()
        .map(|b| chart::render(std::slice::from_ref(b), words::words(d.language)))
        .collect();
    let html = render::html(d, &|i| (i < charts.len()).then(|| format!("cid:chart-{i}")));
    let subject = watch.digest.subject.clone().unwrap_or_else(|| subject(d));
    Outgoing {
        from: watch.digest.from.clone(),
        to: watch.digest.to.clone(),
        subject,
        text: render::text(d),
        html: Some(html),
        inline_images: charts
            .into_iter()
            .enumerate()
            .map(|(i, png)| (format!("chart-{i}"), png))
            .collect(),
    }
}

/// "vigie — telecoms — Thursday 3 September 2026: 57 mentions, 2 alerts, 1 reminder", in the
/// digest's language: the same alerts as the body lists, new ones and reminders said apart.
pub fn subject(d: &Digest) -> String {
    let w = words::words(d.language);
    let mentions: usize = d.brands.iter().map(|b| b.mentions).sum();
    let reminders = d.alerts.iter().filter(|a| a.reminder).count();
    let alerts = d.alerts.len() - reminders;
    let mut s = format!(
        "vigie — {} — {}{}{}",
        d.watch,
        render::period_label(d),
        if d.language == crate::analyze::lang::Lang::Fr {
            " : "
        } else {
            ": "
        },
        w.count(mentions, w.mention)
    );
    if alerts > 0 {
        s.push_str(&format!(", {}", w.count(alerts, w.alert)));
    }
    if reminders > 0 {
        s.push_str(&format!(", {}", w.count(reminders, w.reminder)));
    }
    s
}

/// The forms a digest is rendered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Plain text, for a terminal or a text mail part.
    Text,
    /// A self-contained HTML page, charts inline.
    Html,
    /// The digest's data, pretty-printed.
    Json,
    /// A complete e-mail message (RFC 5322), text and HTML parts.
    Eml,
}

/// The rendering of a digest in one format.
pub fn render_as(d: &Digest, watch: &Watch, format: Format) -> Result<Vec<u8>, MailError> {
    Ok(match format {
        Format::Text => render::text(d).into_bytes(),
        Format::Json => {
            let mut v = serde_json::to_vec_pretty(d).expect("digests serialise");
            v.push(b'\n');
            v
        }
        Format::Html => {
            let charts: Vec<String> = d
                .brands
                .iter()
                .map(|b| {
                    format!(
                        "data:image/png;base64,{}",
                        render::base64(&chart::render(
                            std::slice::from_ref(b),
                            words::words(d.language)
                        ))
                    )
                })
                .collect();
            render::html(d, &|i| charts.get(i).cloned()).into_bytes()
        }
        Format::Eml => {
            let mut m = message(d, watch);
            if m.to.is_empty() {
                m.to = vec!["undisclosed-recipients@invalid".into()];
            }
            crate::mail::build(&m)?.formatted()
        }
    })
}

/// The default period: the last 24 hours.
pub fn last_day(now: DateTime<Utc>) -> Period {
    Period {
        from: now - Duration::days(1),
        to: now,
    }
}

/// When a watch's digest is due today (local `at`), in UTC.
pub fn due_time(watch: &Watch, now: DateTime<Utc>) -> DateTime<Utc> {
    let tz = watch.digest.timezone;
    let today = now.with_timezone(&tz).date_naive();
    let (h, m) = watch.digest.at;
    let naive = today.and_hms_opt(h, m, 0).expect("valid time of day");
    tz.from_local_datetime(&naive)
        .earliest()
        .unwrap_or_else(|| tz.from_utc_datetime(&naive))
        .with_timezone(&Utc)
}

/// Sends the digests that are due (their `at` has passed today and today's has not been sent),
/// recording each sent day in the state so a restart never sends twice. Watches without
/// recipients are skipped. Gives the watches sent.
pub fn send_due(
    watches: &[Watch],
    reader: &Reader,
    state: &State,
    now: DateTime<Utc>,
) -> Vec<(String, Result<(), String>)> {
    let mut out = Vec::new();
    for w in watches.iter().filter(|w| !w.digest.to.is_empty()) {
        let due = due_time(w, now);
        let local_today = now.with_timezone(&w.digest.timezone).date_naive();
        let weekly = w.digest.every == crate::config::Every::Week;
        // a weekly digest goes on Mondays, for the seven days before
        if weekly && chrono::Datelike::weekday(&local_today) != chrono::Weekday::Mon {
            continue;
        }
        let today = local_today.to_string();
        let key = format!("digest-sent/{}", w.name);
        if now < due || state.get::<String>(Space::Meta, &key).as_deref() == Some(today.as_str()) {
            continue;
        }
        let period = Period {
            from: due - Duration::days(if weekly { 7 } else { 1 }),
            to: due,
        };
        let result = compose(reader, w, period)
            .map_err(|e| e.to_string())
            .and_then(|d| crate::mail::send(&message(&d, w)).map_err(|e| e.to_string()));
        if result.is_ok() {
            state.put(Space::Meta, &key, &today);
        }
        out.push((w.name.clone(), result));
    }
    out
}
