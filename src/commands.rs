//! The commands behind the command line. Data goes to stdout, messages to stderr, so
//! `vigie search --json | jq` always works.

use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::Context;
use chrono::Utc;
use serde_json::json;

use crate::analyze::Analyzer;
use crate::cli::{
    AnalyzeArgs, Cli, Command, ExtractArgs, Global, IngestArgs, SearchArgs, SentimentArg,
};
use crate::config::{Config, ConfigErrors};
use crate::data::DataDir;
use crate::doc::{ExpectationKind, Label};
use crate::index::search::{Filters, Reader};
use crate::ingest::{Input, Reporter};
use crate::pipeline::{default_workers, ordered_map};

/// Why a command failed, which decides the exit code.
pub enum Failure {
    /// Configuration errors (exit 2).
    Config(ConfigErrors),
    /// Bad arguments (exit 2).
    Usage(String),
    /// Anything else (exit 1).
    Other(anyhow::Error),
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Other(e)
    }
}

impl From<ConfigErrors> for Failure {
    fn from(e: ConfigErrors) -> Self {
        Failure::Config(e)
    }
}

/// Logs to stderr: warnings by default, more with -v, errors only with -q. `RUST_LOG`
/// overrides.
pub fn init_logging(g: &Global) {
    let level = if g.quiet {
        "error"
    } else {
        match g.verbose {
            // html5ever warns about markup it handles (foster parenting): not the user's concern
            0 => "warn,html5ever=error",
            1 => "info,vigie=debug,html5ever=error",
            _ => "trace",
        }
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}

/// Runs one command.
pub fn run(cli: Cli) -> Result<ExitCode, Failure> {
    let g = cli.global;
    match cli.command {
        Command::Check => check(&g),
        Command::Ingest(a) => ingest(&g, a),
        Command::Analyze(a) => analyze(&g, a),
        Command::Extract(a) => extract(a),
        Command::Search(a) => search(&g, a),
        Command::Run(a) => crate::run::run_command(&g, a.once),
        Command::Digest(a) => crate::digest::digest_command(&g, a),
        Command::Alerts(a) => crate::alert::alerts_command(&g, a),
        Command::Demo(a) => crate::demo::demo_command(&g, a),
        Command::Sources { command } => crate::fetch::opml::sources_command(&g, command),
    }
}

/// Loads the configuration; `need_sources` makes a missing sources file an error.
pub fn load_config(g: &Global, need_sources: bool) -> Result<Config, Failure> {
    Ok(Config::load(&g.sources, &g.pipelines, need_sources)?)
}

fn check(g: &Global) -> Result<ExitCode, Failure> {
    let config = load_config(g, true)?;
    let brands: usize = config.watches.iter().map(|w| w.brands.len()).sum();
    if !g.quiet {
        println!(
            "ok: {} source{} in {}, {} watch{} with {} brand{} in {}",
            config.sources.sources.len(),
            plural(config.sources.sources.len()),
            g.sources.display(),
            config.watches.len(),
            if config.watches.len() == 1 { "" } else { "es" },
            brands,
            plural(brands),
            g.pipelines.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Prints line problems to stderr: every one up to a limit, then a count.
pub struct LineReporter {
    shown: AtomicU64,
    hidden: AtomicU64,
    progress: Option<indicatif::ProgressBar>,
}

const SHOWN_PROBLEMS: u64 = 25;

impl LineReporter {
    pub fn new(total_bytes: Option<u64>, quiet: bool) -> Self {
        let progress = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let pb = match total_bytes {
                Some(t) => indicatif::ProgressBar::new(t).with_style(
                    indicatif::ProgressStyle::with_template(
                        "{spinner} {bytes}/{total_bytes} {wide_bar} {bytes_per_sec} eta {eta}",
                    )
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                ),
                None => indicatif::ProgressBar::new_spinner(),
            };
            pb.set_draw_target(indicatif::ProgressDrawTarget::stderr_with_hz(5));
            pb
        });
        LineReporter {
            shown: AtomicU64::new(0),
            hidden: AtomicU64::new(0),
            progress,
        }
    }

    pub fn finish(&self) {
        if let Some(p) = &self.progress {
            p.finish_and_clear();
        }
        let hidden = self.hidden.load(Ordering::Relaxed);
        if hidden > 0 {
            eprintln!(
                "… and {hidden} more problem line{} not shown",
                plural(hidden as usize)
            );
        }
    }
}

impl Reporter for LineReporter {
    fn line_problem(&self, line: usize, message: &str, skipped: bool) {
        if self.shown.fetch_add(1, Ordering::Relaxed) < SHOWN_PROBLEMS {
            let what = if skipped { "error" } else { "warning" };
            let msg = format!("{what}: line {line}: {message}");
            match &self.progress {
                Some(p) => p.println(msg),
                None => eprintln!("{msg}"),
            }
        } else {
            self.hidden.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn progress(&self, bytes: u64) {
        if let Some(p) = &self.progress {
            p.set_position(bytes);
        }
    }
}

fn ingest(g: &Global, a: IngestArgs) -> Result<ExitCode, Failure> {
    let config = Arc::new(load_config(g, false)?);
    let input = if a.file == "-" {
        Input::Stdin
    } else {
        Input::File(a.file.clone().into())
    };
    let total = match &input {
        Input::File(p) => Some(
            std::fs::metadata(p)
                .with_context(|| format!("cannot read {}", p.display()))?
                .len(),
        ),
        Input::Stdin => None,
    };
    let reporter = LineReporter::new(total, g.quiet);
    let data = DataDir::new(&g.data);
    let result = crate::ingest::ingest(config, &data, input, &reporter);
    reporter.finish();
    let r = result.map_err(|e| Failure::Other(e.into()))?;
    if !g.quiet {
        eprintln!(
            "ingested {} line{} in {:.1}s: {} new, {} updated, {} unchanged{}{}{}",
            r.lines,
            plural(r.lines as usize),
            r.seconds,
            r.added,
            r.updated,
            r.unchanged,
            if r.copies > 0 {
                format!(" ({} copies of texts already seen)", r.copies)
            } else {
                String::new()
            },
            if r.bad_lines > 0 {
                format!(
                    ", {} bad line{} skipped",
                    r.bad_lines,
                    plural(r.bad_lines as usize)
                )
            } else {
                String::new()
            },
            if r.failed > 0 {
                format!(
                    ", {} document{} refused",
                    r.failed,
                    plural(r.failed as usize)
                )
            } else {
                String::new()
            },
        );
    }
    Ok(if r.bad_lines + r.failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn open_input(file: &str) -> Result<Box<dyn Read + Send>, Failure> {
    if file == "-" {
        Ok(Box::new(std::io::stdin()))
    } else {
        Ok(Box::new(
            std::fs::File::open(file).with_context(|| format!("cannot read {file}"))?,
        ))
    }
}

fn analyze(g: &Global, a: AnalyzeArgs) -> Result<ExitCode, Failure> {
    let config = load_config(g, false)?;
    let analyzer = Analyzer::new(&config);
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
            Ok(json!({
                "id": id,
                "lang": an.lang.code(),
                "sentiment": an.sentiment,
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

fn extract(a: ExtractArgs) -> Result<ExitCode, Failure> {
    let mut body = Vec::new();
    open_input(&a.file)?
        .read_to_end(&mut body)
        .with_context(|| format!("cannot read {}", a.file))?;
    match crate::extract::extract_body(&body, a.url.as_deref()) {
        Ok(v) => {
            let json = serde_json::to_string_pretty(&v).expect("json");
            match writeln!(std::io::stdout().lock(), "{json}") {
                Err(e) => output_failed(e),
                Ok(()) => Ok(ExitCode::SUCCESS),
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(1))
        }
    }
}

/// `--since`/`--until` values, for messages.
pub fn parse_when(what: &str, s: &str) -> Result<chrono::DateTime<Utc>, Failure> {
    crate::time::parse_when(s, Utc::now()).map_err(|e| Failure::Usage(format!("--{what}: {e}")))
}

fn search(g: &Global, a: SearchArgs) -> Result<ExitCode, Failure> {
    let data = DataDir::new(&g.data);
    let filters = Filters {
        brand: a.brand.clone(),
        watch: a.watch.clone(),
        since: a
            .since
            .as_deref()
            .map(|s| parse_when("since", s))
            .transpose()?,
        until: a
            .until
            .as_deref()
            .map(|s| parse_when("until", s))
            .transpose()?,
        lang: a.lang.clone(),
        sentiment: a.sentiment.map(|s| match s {
            SentimentArg::Negative => Label::Negative,
            SentimentArg::Neutral => Label::Neutral,
            SentimentArg::Positive => Label::Positive,
        }),
        expectation: match a.expectation.as_deref() {
            None => None,
            Some("any") => Some(None),
            Some(k) => Some(Some(ExpectationKind::parse(k).ok_or_else(|| {
                Failure::Usage(format!(
                    "--expectation {k:?}: expected complaint, request or wish"
                ))
            })?)),
        },
        source: a.source.clone(),
    };
    let query = crate::analyze::query::Query::parse(&a.query)
        .map_err(|e| Failure::Usage(format!("invalid query {:?}: {e}", a.query)))?;
    let reader = match Reader::open(&data) {
        Ok(r) => r,
        Err(crate::index::search::SearchError::Data(crate::data::DataError::NoIndex { dir })) => {
            eprintln!("no index in {dir} yet: run `vigie ingest FILE` or `vigie run` first");
            return Ok(ExitCode::SUCCESS);
        }
        Err(e) => return Err(Failure::Other(e.into())),
    };
    let hits = reader
        .search_query(&query, &filters, a.limit)
        .map_err(|e| Failure::Other(e.into()))?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let color = !a.json && std::io::stdout().is_terminal();
    for (i, h) in hits.iter().enumerate() {
        let d = &h.doc;
        let r = if a.json {
            let mut v = json!({
                "url": d.url,
                "title": d.title,
                "published": d.published.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "source": d.source,
                "lang": d.lang,
                "brands": d.brands,
                "sentiment": d.sentiment,
                "expectations": d.meta.expectations,
                "score": h.score,
                "snippet": h.snippet.render("<b>", "</b>", crate::html::html_escape),
            });
            // near-copies: where else this text was seen, or which document it copies
            if !d.meta.also_seen.is_empty() {
                v["also_seen"] = json!(d.meta.also_seen);
            }
            if let Some(o) = &d.dup_of {
                v["copy_of"] = json!(o);
            }
            writeln!(out, "{v}")
        } else {
            let (b0, b1) = if color {
                ("\x1b[1m", "\x1b[0m")
            } else {
                ("", "")
            };
            let title = if d.title.trim().is_empty() {
                d.url.as_str()
            } else {
                d.title.trim()
            };
            let mut tags = vec![
                d.published.format("%Y-%m-%d %H:%M").to_string(),
                d.source.clone(),
                d.lang.clone(),
                d.sentiment.label.as_str().to_string(),
            ];
            if !d.brands.is_empty() {
                tags.push(d.brands.join(","));
            }
            let mut kinds: Vec<&str> = d
                .meta
                .expectations
                .iter()
                .map(|e| e.kind.as_str())
                .collect();
            kinds.dedup();
            if !kinds.is_empty() {
                tags.push(kinds.join(","));
            }
            match (&d.dup_of, d.meta.also_seen.len()) {
                (Some(o), _) => tags.push(format!("copy of {o}")),
                (None, 0) => {}
                (None, n) => tags.push(format!("also at {n} other address{}", plural_es(n))),
            }
            let (h0, h1) = if color {
                ("\x1b[1;33m", "\x1b[0m")
            } else {
                ("[", "]")
            };
            writeln!(
                out,
                "{}. {b0}{title}{b1}\n   {}\n   {}\n   {}\n",
                i + 1,
                d.url,
                tags.join(" · "),
                h.snippet.render(h0, h1, str::to_string)
            )
        };
        if let Err(e) = r {
            return output_failed(e);
        }
    }
    out.flush().ok();
    drop(out);
    if !a.json && !g.quiet && hits.is_empty() {
        eprintln!("no match for {:?}", a.query);
    }
    Ok(ExitCode::SUCCESS)
}

fn plural_es(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "es"
    }
}

/// What a failed write of a command's output means: a reader that stopped early (`| head`)
/// is not a failure; anything else is.
pub(crate) fn output_failed(e: std::io::Error) -> Result<ExitCode, Failure> {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Ok(ExitCode::SUCCESS)
    } else {
        Err(Failure::Other(
            anyhow::Error::new(e).context("cannot write the output"),
        ))
    }
}
