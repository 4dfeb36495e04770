//! `vigie alerts`: the alerts raised, each with its evidence.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use chrono::SecondsFormat;

use crate::alert::read_alerts;
use crate::cli::args::{AlertsArgs, Global};
use crate::cli::common::{check_watch, load_config, output_failed, parse_when, Failure};
use crate::data::DataDir;
use crate::index::search::{Reader, SearchError};

/// How far back `vigie alerts` looks without `--since`.
const DEFAULT_SINCE: &str = "7d";

/// `vigie alerts`.
pub fn alerts(g: &Global, a: AlertsArgs) -> Result<ExitCode, Failure> {
    let since = parse_when("since", a.since.as_deref().unwrap_or(DEFAULT_SINCE))?;
    if let Some(w) = &a.watch {
        check_watch(&load_config(g, false)?, w, &g.pipelines)?;
    }
    let data = DataDir::new(&g.data);
    let reader = match Reader::open(&data) {
        Ok(r) => r,
        Err(SearchError::Data(crate::data::DataError::NoIndex { dir })) => {
            eprintln!("no index in {dir} yet: run `vigie ingest FILE` or `vigie run` first");
            return Ok(ExitCode::SUCCESS);
        }
        Err(e) => return Err(Failure::Other(e.into())),
    };
    let alerts = read_alerts(&reader, Some(since), None, a.watch.as_deref())
        .map_err(|e| Failure::Other(e.into()))?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let color = !a.json && std::io::stdout().is_terminal();
    for al in &alerts {
        let r = if a.json {
            writeln!(
                out,
                "{}",
                serde_json::to_string(al).expect("alerts serialise")
            )
        } else {
            let (b0, b1) = if color {
                ("\x1b[1m", "\x1b[0m")
            } else {
                ("", "")
            };
            let mut s = format!(
                "{} [{}] {b0}{}{b1}\n  {}\n",
                al.at.to_rfc3339_opts(SecondsFormat::Secs, true),
                al.watch,
                al.summary(),
                al.message
            );
            for u in al.evidence.iter().take(5) {
                s.push_str(&format!("  - {u}\n"));
            }
            writeln!(out, "{s}")
        };
        if let Err(e) = r {
            return output_failed(e);
        }
    }
    out.flush().ok();
    drop(out);
    if !g.quiet && alerts.is_empty() {
        let older = read_alerts(&reader, None, Some(since), a.watch.as_deref())
            .map_err(|e| Failure::Other(e.into()))?;
        let when = since.to_rfc3339_opts(SecondsFormat::Secs, true);
        match older.last() {
            None => eprintln!("no alert since {when}"),
            Some(last) => eprintln!(
                "no alert since {when}; {} older alert{}, the last at {}: see them with --since {}",
                older.len(),
                if older.len() == 1 { "" } else { "s" },
                last.at.to_rfc3339_opts(SecondsFormat::Secs, true),
                last.at.format("%Y-%m-%d")
            ),
        }
    }
    Ok(ExitCode::SUCCESS)
}
