//! `vigie ingest`: JSON Lines documents through the pipeline, no network.
//!
//! One object a line: `url` (required), `title`, `text` or `html`, `published` (RFC 3339),
//! `source`, `author`, `lang`. A bad line is reported with its number and skipped; the rest
//! goes in. Lines are read with a length limit, so one enormous line costs bounded memory.
//!
//! When a `vigie run` holds the data directory, the lines are checked here and handed over to
//! it through the directory's inbox ([`DataDir::inbox_dir`]): a file written whole and then
//! renamed, which the run indexes on its next tick ([`drain_inbox`]) and removes only once the
//! documents are committed. A writer that starts also drains what an earlier one left there.

use std::io::{BufRead, Read};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::analyze::lang::Lang;
use crate::config::Config;
use crate::data::DataDir;
use crate::doc::Document;
use crate::index::writer::{Store, StoreError};
use crate::pipeline::{default_workers, ordered_map, Incoming, Prepared, Sink, Transform};

/// Tags of the errors a worker hands back: a bad line, or a document the transforms refused.
const BAD: char = 'B';
const REFUSED: char = 'R';

/// Longest line read; longer lines are skipped unread (and reported).
pub const MAX_LINE_BYTES: usize = 64 * 1024 * 1024;

/// One line of input, or why it is not one.
#[derive(Debug)]
pub enum Line {
    Data { number: usize, bytes: Vec<u8> },
    TooLong { number: usize, bytes: usize },
}

/// Reads lines with a length limit.
pub struct LineReader<R> {
    inner: R,
    number: usize,
    max: usize,
    /// Bytes consumed so far.
    pub consumed: u64,
}

impl<R: BufRead> LineReader<R> {
    pub fn new(inner: R, max: usize) -> Self {
        LineReader {
            inner,
            number: 0,
            max,
            consumed: 0,
        }
    }

    pub fn next_line(&mut self) -> std::io::Result<Option<Line>> {
        let mut buf = Vec::new();
        let mut total = 0usize;
        let mut too_long = false;
        loop {
            let chunk = match self.inner.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                if total == 0 {
                    return Ok(None);
                }
                break;
            }
            let (take, done) = match memchr(chunk) {
                Some(i) => (i + 1, true),
                None => (chunk.len(), false),
            };
            total += take;
            if !too_long {
                if buf.len() + take > self.max {
                    too_long = true;
                    buf = Vec::new();
                } else {
                    buf.extend_from_slice(&chunk[..take]);
                }
            }
            self.inner.consume(take);
            self.consumed += take as u64;
            if done {
                break;
            }
        }
        self.number += 1;
        if too_long {
            return Ok(Some(Line::TooLong {
                number: self.number,
                bytes: total,
            }));
        }
        while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            buf.pop();
        }
        Ok(Some(Line::Data {
            number: self.number,
            bytes: buf,
        }))
    }
}

fn memchr(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'\n')
}

/// Parses one JSON line into a document. `now` is the fetch time (and the event time of
/// documents without `published`).
pub fn parse_line(bytes: &[u8], now: DateTime<Utc>) -> Result<(Incoming, Option<String>), String> {
    let (text, warning) = match std::str::from_utf8(bytes) {
        Ok(s) => (std::borrow::Cow::Borrowed(s), None),
        Err(_) => (
            String::from_utf8_lossy(bytes),
            Some("invalid UTF-8 replaced by \u{FFFD}".to_string()),
        ),
    };
    let v: Value = serde_json::from_str(&text).map_err(|e| {
        let head: String = text.chars().take(40).filter(|c| !c.is_control()).collect();
        format!("not a JSON object ({e}): {head:?}")
    })?;
    let Value::Object(mut obj) = v else {
        return Err("expected a JSON object with at least a \"url\"".into());
    };
    // values are moved out of the object, never copied (an `html` field can be megabytes)
    let mut get_str = |k: &str| -> Result<Option<String>, String> {
        match obj.remove(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(format!(
                "`{k}` must be a string, found {}",
                json_type(&other)
            )),
        }
    };
    let url = get_str("url")?
        .filter(|u| !u.trim().is_empty())
        .ok_or("missing \"url\": every document needs one")?;
    check_url(url.trim())?;
    let title = get_str("title")?.unwrap_or_default();
    let text_field = get_str("text")?.unwrap_or_default();
    let html = get_str("html")?;
    if text_field.trim().is_empty()
        && html.as_deref().is_none_or(|h| h.trim().is_empty())
        && title.trim().is_empty()
    {
        return Err("no \"text\", \"html\" or \"title\": nothing to read".into());
    }
    let published = match get_str("published")? {
        Some(p) => Some(crate::time::parse_date(&p).ok_or_else(|| {
            format!(
                "`published` {p:?} is not a date (expected RFC 3339, such as 2026-10-05T08:00:00Z)"
            )
        })?),
        None => None,
    };
    let lang_hint = get_str("lang")?.as_deref().and_then(Lang::from_code);
    let source = get_str("source")?.unwrap_or_else(|| "ingest".into());
    let author = get_str("author")?;
    let tags = match obj.remove("tags") {
        Some(Value::Array(a)) => a
            .into_iter()
            .filter_map(|t| match t {
                Value::String(s) => Some(s),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    let doc = Document {
        url: url.trim().to_string(),
        title,
        text: text_field,
        published,
        fetched: now,
        source,
        author,
        followers: None,
        rating: None,
        lang_hint,
    };
    Ok((
        Incoming {
            doc,
            html,
            tags,
            origin: String::new(),
        },
        warning,
    ))
}

/// A document's address must be a web address (`http` or `https`, with a host): it is its
/// identity, it is linked from the digest and the workspace, and anything else (`javascript:`,
/// `data:`, a bare host) would be indexed under a name nobody can open.
fn check_url(url: &str) -> Result<(), String> {
    match url::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
        Ok(u) => Err(format!(
            "`url` {url:?} is not a web address: scheme {:?} (expected http:// or https://)",
            u.scheme()
        )),
        Err(url::ParseError::RelativeUrlWithoutBase) => Err(format!(
            "`url` {url:?} is not an absolute web address (did you mean \"https://{url}\"?)"
        )),
        Err(e) => Err(format!("`url` {url:?} is not a web address: {e}")),
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Summary of an ingest.
#[derive(Debug, Default, Clone)]
pub struct IngestReport {
    pub lines: u64,
    pub bad_lines: u64,
    pub added: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// New or changed documents that are near-copies of one already indexed.
    pub copies: u64,
    /// Documents read but refused by the transforms (too big, …).
    pub failed: u64,
    pub seconds: f64,
    /// Lines handed over to the writer that holds the directory, who holds it, and the file.
    pub queued: u64,
    pub handed_to: Option<String>,
    pub inbox_file: Option<std::path::PathBuf>,
}

/// Problems that stop an ingest.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where the lines come from.
pub enum Input {
    Stdin,
    File(std::path::PathBuf),
}

impl Input {
    pub fn name(&self) -> String {
        match self {
            Input::Stdin => "standard input".into(),
            Input::File(p) => p.display().to_string(),
        }
    }
}

/// Messages an ingest reports as it goes.
pub trait Reporter: Sync {
    /// A line was skipped (or read with a warning).
    fn line_problem(&self, line: usize, message: &str, skipped: bool);
    /// Progress: bytes consumed of the input.
    fn progress(&self, _bytes: u64) {}
}

/// Ingests JSON Lines into the data directory.
pub fn ingest(
    config: Arc<Config>,
    data: &DataDir,
    input: Input,
    reporter: &dyn Reporter,
) -> Result<IngestReport, IngestError> {
    let started = std::time::Instant::now();
    let reader: Box<dyn Read + Send> = match &input {
        Input::Stdin => Box::new(std::io::stdin()),
        Input::File(p) => Box::new(std::fs::File::open(p).map_err(|source| IngestError::Read {
            path: p.display().to_string(),
            source,
        })?),
    };
    let store = match Store::open(data, "ingest") {
        Ok(s) => s,
        Err(StoreError::Data(crate::data::DataError::InUse { holder, .. }))
            if holder.contains("vigie run") =>
        {
            return hand_over(data, reader, &holder, reporter, started);
        }
        Err(e) => return Err(e.into()),
    };
    let mut sink = Sink::new(store, config.clone());
    let transform = Transform::new(config);
    // what an earlier writer was handed and did not index goes in first
    drain_inbox(data, &transform, &mut sink)?;
    let mut lines = LineReader::new(
        std::io::BufReader::with_capacity(1 << 20, reader),
        MAX_LINE_BYTES,
    );
    let now = Utc::now();
    let mut report = IngestReport::default();
    let mut read_error: Option<std::io::Error> = None;
    let mut store_error: Option<StoreError> = None;
    let mut lines_read = 0u64;
    let mut bad_lines = 0u64;
    {
        let lines_read = &mut lines_read;
        let read_error = &mut read_error;
        // the feeder only cuts lines; JSON is parsed on the worker threads
        let next = || loop {
            match lines.next_line() {
                Ok(None) => return None,
                Err(e) => {
                    *read_error = Some(e);
                    return None;
                }
                Ok(Some(Line::TooLong { number, bytes })) => {
                    *lines_read += 1;
                    return Some((number, Err(bytes)));
                }
                Ok(Some(Line::Data { number, bytes })) => {
                    reporter.progress(lines.consumed);
                    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
                        continue;
                    }
                    *lines_read += 1;
                    return Some((number, Ok(bytes)));
                }
            }
        };
        let transform = &transform;
        let bad_lines = &mut bad_lines;
        ordered_map(
            next,
            default_workers(),
            |(number, line): (usize, Result<Vec<u8>, usize>)| -> Result<(Prepared, Option<(usize, String)>), String> {
                let bytes = line.map_err(|len| {
                    format!("{BAD}{number}\u{0}line of {} MB is over the {} MB limit; skipped", len >> 20, MAX_LINE_BYTES >> 20)
                })?;
                let (mut inc, warning) = parse_line(&bytes, now).map_err(|e| format!("{BAD}{number}\u{0}{e}"))?;
                drop(bytes);
                inc.origin = format!("line {number}");
                let p = transform.prepare(inc).map_err(|e| format!("{REFUSED}{number}\u{0}{e}; skipped"))?;
                Ok((p, warning.map(|w| (number, w))))
            },
            |res| match res {
                Ok((p, warning)) => {
                    if let Some((number, w)) = warning {
                        reporter.line_problem(number, &w, false);
                    }
                    match sink.accept(p) {
                        Ok(_) => true,
                        Err(e) => {
                            store_error = Some(e);
                            false
                        }
                    }
                }
                Err(e) => {
                    let refused = e.starts_with(REFUSED);
                    let rest = &e[1..];
                    let (number, msg) = rest.split_once('\u{0}').unwrap_or(("0", rest));
                    if refused {
                        sink.failed();
                    } else {
                        *bad_lines += 1;
                    }
                    reporter.line_problem(number.parse().unwrap_or(0), msg, true);
                    true
                }
            },
        );
    }
    if let Some(e) = store_error {
        return Err(e.into());
    }
    let stats = sink.stats.clone();
    tracing::debug!(
        seconds = started.elapsed().as_secs_f64(),
        "all documents through the pipeline"
    );
    sink.close()?;
    tracing::debug!(seconds = started.elapsed().as_secs_f64(), "index closed");
    if let Some(source) = read_error {
        return Err(IngestError::Read {
            path: input.name(),
            source,
        });
    }
    use crate::pipeline::Stats;
    report.lines = lines_read;
    report.bad_lines = bad_lines;
    report.added = Stats::get(&stats.added);
    report.updated = Stats::get(&stats.updated);
    report.unchanged = Stats::get(&stats.unchanged);
    report.copies = Stats::get(&stats.copies);
    report.failed = Stats::get(&stats.failed);
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// Checks the lines of `reader` and hands the good ones over to the running writer `holder`
/// through the inbox: written to a hidden file, synced, then renamed, so the writer never reads
/// half a file.
fn hand_over(
    data: &DataDir,
    reader: Box<dyn Read + Send>,
    holder: &str,
    reporter: &dyn Reporter,
    started: std::time::Instant,
) -> Result<IngestReport, IngestError> {
    use std::io::Write;
    let dir = data.inbox_dir();
    let failed = |path: &std::path::Path, source: std::io::Error| IngestError::Read {
        path: path.display().to_string(),
        source,
    };
    std::fs::create_dir_all(&dir).map_err(|e| failed(&dir, e))?;
    let stamp = format!(
        "{}-{}",
        Utc::now().format("%Y%m%dT%H%M%S%.6f"),
        std::process::id()
    );
    let tmp = dir.join(format!(".{stamp}.part"));
    let done = dir.join(format!("{stamp}.jsonl"));
    let mut out =
        std::io::BufWriter::new(std::fs::File::create(&tmp).map_err(|e| failed(&tmp, e))?);
    let mut lines = LineReader::new(
        std::io::BufReader::with_capacity(1 << 20, reader),
        MAX_LINE_BYTES,
    );
    let now = Utc::now();
    let mut report = IngestReport::default();
    let result: Result<(), IngestError> = (|| {
        while let Some(line) = lines.next_line().map_err(|e| failed(&tmp, e))? {
            match line {
                Line::TooLong { number, bytes } => {
                    report.lines += 1;
                    report.bad_lines += 1;
                    reporter.line_problem(
                        number,
                        &format!(
                            "line of {} MB is over the {} MB limit; skipped",
                            bytes >> 20,
                            MAX_LINE_BYTES >> 20
                        ),
                        true,
                    );
                }
                Line::Data { number, bytes } => {
                    reporter.progress(lines.consumed);
                    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
                        continue;
                    }
                    report.lines += 1;
                    match parse_line(&bytes, now) {
                        Ok((_, warning)) => {
                            if let Some(w) = warning {
                                reporter.line_problem(number, &w, false);
                            }
                            out.write_all(&bytes).map_err(|e| failed(&tmp, e))?;
                            out.write_all(b"\n").map_err(|e| failed(&tmp, e))?;
                            report.queued += 1;
                        }
                        Err(e) => {
                            report.bad_lines += 1;
                            reporter.line_problem(number, &e, true);
                        }
                    }
                }
            }
        }
        let file = out.into_inner().map_err(|e| failed(&tmp, e.into_error()))?;
        file.sync_all().map_err(|e| failed(&tmp, e))?;
        Ok(())
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    if report.queued == 0 {
        let _ = std::fs::remove_file(&tmp);
    } else {
        std::fs::rename(&tmp, &done).map_err(|e| failed(&done, e))?;
        report.inbox_file = Some(done);
    }
    report.handed_to = Some(holder.to_string());
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// Indexes the files of the inbox, oldest first, each committed before it is removed (a
/// crash in between indexes it again, and unchanged documents are left as they are). Gives the
/// documents read. A line that no longer parses is logged and skipped.
pub fn drain_inbox(
    data: &DataDir,
    transform: &Transform,
    sink: &mut Sink,
) -> Result<u64, StoreError> {
    let Ok(entries) = std::fs::read_dir(data.inbox_dir()) else {
        return Ok(0);
    };
    let mut files: Vec<std::path::PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    let mut read = 0;
    for path in files {
        let file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!(file = %path.display(), error = %e, "cannot read a handed-over file");
                continue;
            }
        };
        let now = Utc::now();
        let mut lines = LineReader::new(std::io::BufReader::new(file), MAX_LINE_BYTES);
        loop {
            let line = match lines.next_line() {
                Ok(Some(l)) => l,
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(file = %path.display(), error = %e, "handed-over file cut short");
                    break;
                }
            };
            let Line::Data { number, bytes } = line else {
                continue;
            };
            if bytes.iter().all(|b| b.is_ascii_whitespace()) {
                continue;
            }
            read += 1;
            match parse_line(&bytes, now) {
                Ok((mut inc, _)) => {
                    inc.origin = format!("{} line {number}", path.display());
                    match transform.prepare(inc) {
                        Ok(p) => {
                            sink.accept(p)?;
                        }
                        Err(e) => {
                            sink.failed();
                            tracing::warn!(file = %path.display(), line = number, error = %e, "document refused");
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(file = %path.display(), line = number, error = %e, "bad line skipped");
                }
            }
        }
        sink.commit()?;
        if let Err(e) = std::fs::remove_file(&path) {
            tracing::warn!(file = %path.display(), error = %e, "cannot remove a handed-over file");
        } else {
            tracing::info!(file = %path.display(), "handed-over documents indexed");
        }
    }
    Ok(read)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_skipped_without_being_kept() {
        let input = format!("{}\nshort\n\nlast", "x".repeat(100));
        let mut r = LineReader::new(std::io::BufReader::with_capacity(8, input.as_bytes()), 50);
        assert!(matches!(
            r.next_line().unwrap(),
            Some(Line::TooLong {
                number: 1,
                bytes: 101
            })
        ));
        assert!(
            matches!(r.next_line().unwrap(), Some(Line::Data { number: 2, ref bytes }) if bytes == b"short")
        );
        assert!(
            matches!(r.next_line().unwrap(), Some(Line::Data { number: 3, ref bytes }) if bytes.is_empty())
        );
        assert!(
            matches!(r.next_line().unwrap(), Some(Line::Data { number: 4, ref bytes }) if bytes == b"last")
        );
        assert!(r.next_line().unwrap().is_none());
    }

    #[test]
    fn addresses_that_are_not_web_addresses_are_refused_with_the_reason() {
        let now = Utc::now();
        for (url, says) in [
            ("javascript:alert(1)", "scheme \"javascript\""),
            ("data:text/html,<b>promo</b>", "scheme \"data\""),
            (
                "www.exemple.fr/sans-schema",
                "https://www.exemple.fr/sans-schema",
            ),
            ("not a url", "not an absolute web address"),
        ] {
            let line = serde_json::json!({"url": url, "text": "Bbox en panne"}).to_string();
            let e = parse_line(line.as_bytes(), now).map(|_| ()).unwrap_err();
            assert!(e.contains(says), "{url}: {e}");
        }
        assert!(parse_line(br#"{"url": "http://127.0.0.1:8080/a", "text": "x"}"#, now).is_ok());
    }

    #[test]
    fn parses_documented_fields_and_explains_bad_lines() {
        let now = Utc::now();
        let (inc, w) = parse_line(br#"{"url": "https://e.org/1", "title": "T", "text": "x", "published": "2026-10-05T08:00:00Z", "source": "s", "author": "a", "lang": "fr"}"#, now).unwrap();
        assert!(w.is_none());
        assert_eq!(inc.doc.source, "s");
        assert_eq!(inc.doc.lang_hint, Some(Lang::Fr));
        assert_eq!(
            inc.doc.published.unwrap().to_rfc3339(),
            "2026-10-05T08:00:00+00:00"
        );
        assert!(parse_line(b"{not json", now)
            .unwrap_err()
            .contains("not a JSON object"));
        assert!(parse_line(br#"{"text": "x"}"#, now)
            .unwrap_err()
            .contains("url"));
        assert!(
            parse_line(br#"{"url": "https://u.example/", "text": 3}"#, now)
                .unwrap_err()
                .contains("`text` must be a string")
        );
        assert!(parse_line(
            br#"{"url": "https://u.example/", "text": "x", "published": "hier"}"#,
            now
        )
        .unwrap_err()
        .contains("published"));
        let (inc, w) = parse_line(
            b"{\"url\": \"https://u.example/\", \"text\": \"caf\xe9\"}",
            now,
        )
        .unwrap();
        assert!(w.unwrap().contains("UTF-8"));
        assert_eq!(inc.doc.text, "caf\u{FFFD}");
    }
}
