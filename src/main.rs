//! The `vigie` binary: parse arguments, run the command, map the outcome to an exit code
//! (0 ok, 1 failure or partial failure, 2 usage or configuration error).

use std::process::ExitCode;

use vigie::cli;

/// mimalloc: the analysis allocates many small, short-lived strings on every core, where the
/// system allocator spent a sixth of an ingest's time.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::parse_args(std::env::args_os());
    cli::init_logging(&cli.global);
    cli::exit_code(cli::run(cli))
}
