//! `vigie digest`: the digest of one watch or of each, written out or mailed.

use std::io::Write;
use std::process::ExitCode;

use chrono::{NaiveDate, Utc};

use crate::cli::args::{DigestArgs, DigestFormat, Global};
use crate::cli::common::{load_config, output_failed, parse_when, Failure};
use crate::config::Watch;
use crate::data::DataDir;
use crate::digest::build::Period;
use crate::digest::{last_day, message, render, render_as, Format};
use crate::index::search::{Reader, SearchError};

/// `vigie digest`.
pub fn digest(g: &Global, a: DigestArgs) -> Result<ExitCode, Failure> {
    let config = load_config(g, false)?;
    let format = match a.format {
        DigestFormat::Text => Format::Text,
        DigestFormat::Html => Format::Html,
        DigestFormat::Json => Format::Json,
        DigestFormat::Eml => Format::Eml,
    };
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
    if watches.len() > 1 && !a.send && matches!(format, Format::Html | Format::Eml) {
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
        let d = crate::digest::compose(&reader, w, period).map_err(|e| Failure::Other(e.into()))?;
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
        let bytes = render_as(&d, w, format).map_err(|e| Failure::Other(e.into()))?;
        if format == Format::Json && watches.len() > 1 {
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
                return output_failed(e);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
