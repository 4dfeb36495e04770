//! The `vigie` binary: parse arguments, run the command, map the outcome to an exit code
//! (0 ok, 1 failure or partial failure, 2 usage or configuration error).

use std::process::ExitCode;

use clap::Parser;
use vigie::cli::{self, Cli};

fn main() -> ExitCode {
    let cli = Cli::parse();
    cli::init_logging(&cli.global);
    cli::exit_code(cli::run(cli))
}
