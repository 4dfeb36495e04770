//! `vigie analyze`: JSON Lines `{"id", "text"}` in, one analysis a line out, in order.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Mutex;

use serde_json::json;

use crate::analyze::Analyzer;
use crate::cli::args::{AnalyzeArgs, Global};
use crate::cli::common::{load_config, open_input, output_failed, Failure};
use crate::pipeline::{default_workers, ordered_map};

/// `vigie analyze`.
pub fn analyze(g: &Global, a: AnalyzeArgs) -> Result<ExitCode, Failure> {
    let config = load_config(g, false)?;
    let analyzer = Analyzer::new(&config).explaining();
    let mut lines = crate::ingest::LineReader::new(
        std::io::BufReader::with_capacity(1 << 20, open_input(&a.file)?),
        crate::ingest::MAX_LINE_BYTES,
    );
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut bad = 0u64;
    let read_error: Mutex<Option<std::io::Error>> = Mutex::new(None);
    let mut write_error: Option<std::io::Error> = None;
    let next = || loop {
        match lines.next_line() {
            Ok(None) => return None,
            Err(e) => {
                *read_error.lock().expect("lock") = Some(e);
                return None;
            }
            Ok(Some(crate::ingest::Line::TooLong { number, bytes })) => {
                return Some((
                    number,
                    Err(format!("line of {} MB is over the limit", bytes >> 20)),
                ));
            }
            Ok(Some(crate::ingest::Line::Data { number, bytes })) => {
                if bytes.iter().all(|b| b.is_ascii_whitespace()) {
                    continue;
                }
                return Some((number, Ok(bytes)));
            }
        }
    };
    ordered_map(
        next,
        default_workers(),
        |(number, line): (usize, Result<Vec<u8>, String>)| {
            let bytes = line.map_err(|e| format!("{number}\u{0}{e}"))?;
            let text = String::from_utf8_lossy(&bytes);
            let v: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| format!("{number}\u{0}not a JSON object: {e}"))?;
            let id = v.get("id").cloned().unwrap_or(serde_json::Value::Null);
            let Some(t) = v.get("text").and_then(|t| t.as_str()) else {
                return Ok(json!({"id": id, "error": "missing \"text\""}));
            };
            let hint = v
                .get("lang")
                .and_then(|l| l.as_str())
                .and_then(crate::analyze::lang::Lang::from_code);
            let (an, _) = analyzer.analyze(t, hint);
            let mut sentiment = serde_json::to_value(an.sentiment).unwrap_or_default();
            if let Some(o) = sentiment.as_object_mut() {
                o.insert("because".into(), json!(an.because));
            }
            Ok(json!({
                "id": id,
                "lang": an.lang.code(),
                "sentiment": sentiment,
                "mentions": an.mentions,
                "expectations": an.expectations,
            }))
        },
        |res| {
            let line = match res {
                Ok(v) => v,
                Err(e) => {
                    bad += 1;
                    let (number, msg) = e.split_once('\u{0}').unwrap_or(("?", &e));
                    eprintln!("error: line {number}: {msg}");
                    json!({"id": null, "error": format!("line {number}: {msg}")})
                }
            };
            if let Err(e) = serde_json::to_writer(&mut out, &line)
                .map_err(std::io::Error::from)
                .and_then(|_| out.write_all(b"\n"))
            {
                write_error = Some(e);
                return false;
            }
            true
        },
    );
    if let Some(e) = write_error {
        return output_failed(e);
    }
    out.flush().ok();
    if let Some(e) = read_error.into_inner().expect("lock") {
        return Err(Failure::Other(
            anyhow::Error::new(e).context(format!("cannot read {}", a.file)),
        ));
    }
    Ok(if bad > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
