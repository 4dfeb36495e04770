//! What the commands share: why a command failed and its exit code, logging, config loading,
//! `--since`-style times, input files and output writes.

use std::io::{IsTerminal, Read};
use std::process::ExitCode;

use anyhow::Context;
use chrono::Utc;

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
            std::fs::File::open(file).with_context(|| format!("cannot read {file}"))?,
        ))
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
