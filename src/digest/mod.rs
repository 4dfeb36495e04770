//! The daily watch digest: `vigie digest`, and its sending by `vigie run` at each watch's
//! `[digest] at`, once a day even across restarts.

pub mod build;
pub mod chart;
pub mod render;

use std::io::Write;
use std::process::ExitCode;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};

use crate::cli::{DigestArgs, DigestFormat, Global};
use crate::commands::{load_config, parse_when, Failure};
use crate::config::Watch;
use crate::data::DataDir;
use crate::index::search::{Reader, SearchError};
use crate::mail::{MailError, Outgoing};
use crate::state::{Space, State};
use build::{Digest, Period};

/// The message of a digest: subject, text, HTML with its charts inline.
pub fn message(d: &Digest, watch: &Watch) -> Outgoing {
    let charts: Vec<Vec<u8>> = d
        .brands
        .iter()
        .map(|b| chart::render(std::slice::from_ref(b)))
        .collect();
    let html = render::html(d, &|i| (i < charts.len()).then(|| format!("cid:chart-{i}")));
    let subject = watch.digest.subject.clone().unwrap_or_else(|| {
        let mentions: usize = d.brands.iter().map(|b| b.mentions).sum();
        let alerts = d.alerts.iter().filter(|a| !a.reminder).count();
        let mut s = format!(
            "vigie — {} — {}: {} mention{}",
            d.watch,
            render::period_label(d),
            mentions,
            if mentions == 1 { "" } else { "s" }
        );
        if alerts > 0 {
            s.push_str(&format!(
                ", {alerts} alert{}",
                if alerts == 1 { "" } else { "s" }
            ));
        }
        s
    });
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

/// The rendering of a digest in one format.
pub fn render_as(d: &Digest, watch: &Watch, format: DigestFormat) -> Result<Vec<u8>, MailError> {
    Ok(match format {
        DigestFormat::Text => render::text(d).into_bytes(),
        DigestFormat::Json => {
            let mut v = serde_json::to_vec_pretty(d).expect("digests serialise");
            v.push(b'\n');
            v
        }
        DigestFormat::Html => {
            let charts: Vec<String> = d
                .brands
                .iter()
                .map(|b| {
                    format!(
                        "data:image/png;base64,{}",
                        render::base64(&chart::render(std::slice::from_ref(b)))
                    )
                })
                .collect();
            render::html(d, &|i| charts.get(i).cloned()).into_bytes()
        }
        DigestFormat::Eml => {
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

/// `vigie digest`.
pub fn digest_command(g: &Global, a: DigestArgs) -> Result<ExitCode, Failure> {
    let config = load_config(g, false)?;
    let watches: Vec<&Watch> = match &a.watch {
        Some(name) => vec![config.watch(name).ok_or_else(|| {
            let names: Vec<&str> = config.watches.iter().map(|w| w.name.as_str()).collect();
            Failure::Usage(format!(
                "no watch named {name:?} in {} (watches: {})",
                g.pipelines.display(),
                if names.is_empty() {
                    "none".into()
                } else {
                    names.join(", ")
                }
            ))
        })?],
        None => config.watches.iter().collect(),
    };
    if watches.is_empty() {
        return Err(Failure::Usage(format!(
            "no watch in {}: a digest is per watch (pipelines/NAME.toml)",
            g.pipelines.display()
        )));
    }
    if watches.len() > 1 && !a.send && matches!(a.format, DigestFormat::Html | DigestFormat::Eml) {
        let names: Vec<&str> = watches.iter().map(|w| w.name.as_str()).collect();
        return Err(Failure::Usage(format!(
            "several watches ({}): choose one with --watch",
            names.join(", ")
        )));
    }
    let now = Utc::now();
    let reader = match Reader::open(&DataDir::new(&g.data)) {
        Ok(r) => r,
        Err(SearchError::Data(crate::data::DataError::NoIndex { dir })) => {
            return Err(Failure::Other(anyhow::anyhow!(
                "no index in {dir} yet: run `vigie ingest FILE` or `vigie run` first"
            )));
        }
        Err(e) => return Err(Failure::Other(e.into())),
    };
    let mut out_buf: Vec<u8> = Vec::new();
    let started = std::time::Instant::now();
    for w in &watches {
        let period = match (&a.day, &a.since) {
            (Some(day), _) => {
                let d = NaiveDate::parse_from_str(day, "%Y-%m-%d")
                    .map_err(|_| Failure::Usage(format!("--day {day:?}: expected YYYY-MM-DD")))?;
                Period::day(d, w.digest.timezone)
            }
            (None, Some(since)) => Period {
                from: parse_when("since", since)?,
                to: now,
            },
            (None, None) => last_day(now),
        };
        let d = build::build(&reader, w, period).map_err(|e| Failure::Other(e.into()))?;
        if a.send {
            let m = message(&d, w);
            crate::mail::send(&m).map_err(|e| {
                Failure::Other(anyhow::anyhow!("cannot send the digest of {}: {e}", w.name))
            })?;
            if !g.quiet {
                eprintln!(
                    "sent the digest of {} ({}) to {}",
                    w.name,
                    render::period_label(&d),
                    m.to.join(", ")
                );
            }
            continue;
        }
        let bytes = render_as(&d, w, a.format).map_err(|e| Failure::Other(e.into()))?;
        if a.format == DigestFormat::Json && watches.len() > 1 {
            // one object a line for several watches
            let v: serde_json::Value = serde_json::from_slice(&bytes).expect("valid json");
            out_buf.extend_from_slice(serde_json::to_string(&v).expect("json").as_bytes());
            out_buf.push(b'\n');
        } else {
            out_buf.extend_from_slice(&bytes);
        }
    }
    tracing::info!(seconds = started.elapsed().as_secs_f64(), "digest built");
    if a.send {
        return Ok(ExitCode::SUCCESS);
    }
    match &a.out {
        Some(path) => std::fs::write(path, &out_buf)
            .map_err(|e| Failure::Other(anyhow::anyhow!("cannot write {}: {e}", path.display())))?,
        None => {
            let mut so = std::io::stdout().lock();
            if let Err(e) = so.write_all(&out_buf).and_then(|_| so.flush()) {
                return crate::commands::output_failed(e);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
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
        let today = now
            .with_timezone(&w.digest.timezone)
            .date_naive()
            .to_string();
        let key = format!("digest-sent/{}", w.name);
        if now < due || state.get::<String>(Space::Meta, &key).as_deref() == Some(today.as_str()) {
            continue;
        }
        let period = Period {
            from: due - Duration::days(1),
            to: due,
        };
        let result = build::build(reader, w, period)
            .map_err(|e| e.to_string())
            .and_then(|d| crate::mail::send(&message(&d, w)).map_err(|e| e.to_string()));
        if result.is_ok() {
            state.put(Space::Meta, &key, &today);
        }
        out.push((w.name.clone(), result));
    }
    out
}
