//! What the commands share: why a command failed and its exit code, logging, config loading,
//! `--since`-style times, input files and output writes.

use std::io::{IsTerminal, Read};
use std::path::Path;
use std::process::ExitCode;

use chrono::{DateTime, Utc};

use crate::cli::args::Global;
use crate::config::{Config, ConfigErrors};

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

/// The exit code of a command's outcome (0 ok, 1 failure or partial failure, 2 usage or
/// configuration error), its errors printed on stderr.
pub fn exit_code(outcome: Result<ExitCode, Failure>) -> ExitCode {
    match outcome {
        Ok(code) => code,
        Err(Failure::Config(errors)) => {
            for e in &errors.0 {
                eprintln!("error: {e}");
            }
            eprintln!(
                "{} error{} in the configuration",
                errors.0.len(),
                plural(errors.0.len())
            );
            ExitCode::from(2)
        }
        Err(Failure::Usage(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
        Err(Failure::Other(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
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

/// Loads the configuration; `need_sources` makes a missing sources file an error.
pub fn load_config(g: &Global, need_sources: bool) -> Result<Config, Failure> {
    Ok(Config::load(&g.sources, &g.pipelines, need_sources)?)
}

pub fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

pub fn plural_es(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "es"
    }
}

/// A JSON Lines or body input: a file, or standard input for `-`.
pub fn open_input(file: &str) -> Result<Box<dyn Read + Send>, Failure> {
    if file == "-" {
        Ok(Box::new(std::io::stdin()))
    } else {
        Ok(Box::new(
            std::fs::File::open(file).map_err(|e| input_failed(file, e))?,
        ))
    }
}

/// An input file that cannot be opened: a missing file (or a folder) is a usage error (exit
/// 2), naming the path; anything else a failure.
pub fn input_failed(file: &str, e: std::io::Error) -> Failure {
    match e.kind() {
        std::io::ErrorKind::NotFound => Failure::Usage(format!("{file}: no such file")),
        std::io::ErrorKind::IsADirectory => {
            Failure::Usage(format!("{file} is a folder, not a file"))
        }
        _ => Failure::Other(anyhow::Error::new(e).context(format!("cannot read {file}"))),
    }
}

/// `--since`/`--until` values, for messages.
pub fn parse_when(what: &str, s: &str) -> Result<chrono::DateTime<Utc>, Failure> {
    crate::time::parse_when(s, Utc::now()).map_err(|e| Failure::Usage(format!("--{what}: {e}")))
}

/// What a failed write of a command's output means: a reader that stopped early (`| head`)
/// is not a failure; anything else is.
pub fn output_failed(e: std::io::Error) -> Result<ExitCode, Failure> {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Ok(ExitCode::SUCCESS)
    } else {
        Err(Failure::Other(
            anyhow::Error::new(e).context("cannot write the output"),
        ))
    }
}

/// A `--brand` value as the index knows it: a brand id passes; a brand's display name, or an
/// id in another case, gives its id; anything else is a usage error listing the brands. With
/// no brand configured at all, the value is taken as it is.
pub fn resolve_brand(config: &Config, value: &str) -> Result<String, Failure> {
    let brands: Vec<&crate::config::Brand> =
        config.watches.iter().flat_map(|w| &w.brands).collect();
    if brands.is_empty() || brands.iter().any(|b| b.id == value) {
        return Ok(value.to_string());
    }
    let folded = value.trim().to_lowercase();
    if let Some(b) = brands
        .iter()
        .find(|b| b.id.to_lowercase() == folded || b.name.to_lowercase() == folded)
    {
        return Ok(b.id.clone());
    }
    let mut known: Vec<String> = brands
        .iter()
        .map(|b| {
            if b.name == b.id {
                b.id.clone()
            } else {
                format!("{} ({})", b.id, b.name)
            }
        })
        .collect();
    known.sort();
    known.dedup();
    Err(Failure::Usage(format!(
        "--brand {value:?}: no such brand in the watches; brands: {}",
        known.join(", ")
    )))
}

/// Checks a `--watch` value against the watches of `pipelines`.
pub fn check_watch(config: &Config, value: &str, pipelines: &Path) -> Result<(), Failure> {
    if config.watch(value).is_some() {
        return Ok(());
    }
    let names: Vec<&str> = config.watches.iter().map(|w| w.name.as_str()).collect();
    Err(Failure::Usage(format!(
        "--watch {value:?}: no watch of that name in {} (watches: {})",
        pipelines.display(),
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        }
    )))
}

/// A `--lang` value as the index stores it (ISO 639-1 where there is one).
pub fn check_lang(value: &str) -> Result<String, Failure> {
    crate::analyze::lang::Lang::from_code(value.trim())
        .map(|l| l.code().to_string())
        .ok_or_else(|| {
            Failure::Usage(format!(
                "--lang {value:?}: not a language code; use an ISO 639-1 code such as fr, en, de, es, it, pt or nl"
            ))
        })
}

/// A period's bounds, either open.
pub type Bounds = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// `--since` and `--until` together: each parsed, and the period not empty.
pub fn period(since: Option<&str>, until: Option<&str>) -> Result<Bounds, Failure> {
    let from = since.map(|s| parse_when("since", s)).transpose()?;
    let to = until.map(|s| parse_when("until", s)).transpose()?;
    if let (Some(f), Some(t), Some(fs), Some(ts)) = (from, to, since, until) {
        if f >= t {
            return Err(Failure::Usage(format!(
                "--since {fs} is not before --until {ts}: the period is empty"
            )));
        }
    }
    Ok((from, to))
}

/// The time zone times are shown in: the watch's (`--watch`, or the only one), else UTC.
pub fn display_zone(config: &Config, watch: Option<&str>) -> chrono_tz::Tz {
    let w = match watch {
        Some(name) => config.watch(name),
        None if config.watches.len() == 1 => config.watches.first(),
        None => None,
    };
    w.map(|w| w.digest.timezone).unwrap_or(chrono_tz::UTC)
}

/// A time for people, in `tz`, its zone said (`2026-11-29 01:15 EET`, `… +05:30`).
pub fn local_time(t: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    let local = t.with_timezone(&tz);
    let abbr = local.format("%Z").to_string();
    if abbr.chars().all(|c| c.is_ascii_alphabetic()) {
        format!("{} {abbr}", local.format("%Y-%m-%d %H:%M"))
    } else {
        local.format("%Y-%m-%d %H:%M %:z").to_string()
    }
}

/// Parses the command line. A word that starts with `-` where a query or a value is expected
/// ("vigie search -panne") reads as an unknown flag: the message then shows how to pass it
/// (`vigie search -- -panne`), exit 2; other errors and `--help` are clap's own.
pub fn parse_args<I, T>(args: I) -> crate::cli::args::Cli
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    use clap::Parser;
    let args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
    match crate::cli::args::Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) if e.kind() == clap::error::ErrorKind::UnknownArgument => {
            let words: Vec<String> = args
                .iter()
                .skip(1)
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            let dash = words.iter().position(|w| w == "--").unwrap_or(words.len());
            let hyphenated = words[..dash]
                .iter()
                .find(|w| w.starts_with('-') && !w.starts_with("--") && w.chars().count() > 2);
            match hyphenated {
                Some(w) if words.iter().any(|x| x == "search") => {
                    eprintln!(
                        "error: {w:?} reads as an option; to search for it (or to exclude a word \
                         with a leading -), put the query after `--`:\n\n    vigie search -- {w}\n"
                    );
                    std::process::exit(2);
                }
                _ => e.exit(),
            }
        }
        Err(e) => e.exit(),
    }
}
