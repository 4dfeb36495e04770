//! The `vigie` binary: parse arguments, run the command, map the outcome to an exit code
//! (0 ok, 1 failure or partial failure, 2 usage or configuration error).

use std::process::ExitCode;

use clap::Parser;
use vigie::cli::Cli;
use vigie::commands::{self, Failure};

fn main() -> ExitCode {
    let cli = Cli::parse();
    commands::init_logging(&cli.global);
    // the trained models are compiled in: a corrupt build says so before reading anything
    if let Err(e) = vigie::analyze::model::verify_shipped() {
        eprintln!("error: {e}");
        return ExitCode::from(1);
    }
    match commands::run(cli) {
        Ok(code) => code,
        Err(Failure::Config(errors)) => {
            for e in &errors.0 {
                eprintln!("error: {e}");
            }
            eprintln!(
                "{} error{} in the configuration",
                errors.0.len(),
                if errors.0.len() == 1 { "" } else { "s" }
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
