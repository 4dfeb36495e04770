//! The command layer, the top floor: the command line's definitions ([`args`]), one file per
//! command, and what they share ([`common`]: failures and exit codes, logging, config loading,
//! `--since`-style times, output writes). `main.rs` alone uses it; it uses the library beneath
//! and nothing beneath uses it.

pub mod alerts;
pub mod analyze;
pub mod args;
pub mod check;
pub mod cluster;
pub mod common;
pub mod demo;
pub mod digest;
pub mod extract;
pub mod ingest;
pub mod run;
pub mod search;
pub mod serve;
pub mod sources;

use std::process::ExitCode;

pub use args::Cli;
pub use common::{exit_code, init_logging, parse_args, Failure};

use args::Command;

/// Runs one command.
pub fn run(cli: Cli) -> Result<ExitCode, Failure> {
    let g = cli.global;
    // a damaged build says so before any work
    if let Err(e) = crate::analyze::model::check() {
        return Err(Failure::Other(anyhow::anyhow!("{e}")));
    }
    match cli.command {
        Command::Check => check::check(&g),
        Command::Ingest(a) => ingest::ingest(&g, a),
        Command::Analyze(a) => analyze::analyze(&g, a),
        Command::Extract(a) => extract::extract(a),
        Command::Search(a) => search::search(&g, a),
        Command::Run(a) => match (&a.nats, a.role) {
            (Some(urls), Some(role)) => cluster::run_role(
                &g,
                urls,
                role,
                a.metrics.as_deref(),
                a.once,
                a.listen.as_deref(),
            ),
            _ => run::run(&g, a.once, a.listen.as_deref()),
        },
        Command::Cluster { command } => cluster::cluster(&g, command),
        Command::Serve(a) => serve::serve(&g, &a.listen),
        Command::Digest(a) => digest::digest(&g, a),
        Command::Alerts(a) => alerts::alerts(&g, a),
        Command::Demo(a) => demo::demo(&g, a),
        Command::Sources { command } => sources::sources(&g, command),
    }
}
