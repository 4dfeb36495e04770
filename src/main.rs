//! The `vigie` binary: parse arguments, run the command, map the outcome to an exit code
//! (0 ok, 1 failure or partial failure, 2 usage or configuration error).

use std::process::ExitCode;

use vigie::cli;

/// mimalloc: the analysis allocates many small, short-lived strings on every core, where the
/// system allocator spent a sixth of an ingest's time.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (its option enum, mimalloc 3).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() -> ExitCode {
    // freed memory goes back to the system after a second, not 10 ms: an ingest reuses what
    // it freed at once, and zeroing pages faulted in again cost it 7 % of its time (unless
    // the allocator's own MIMALLOC_PURGE_DELAY says otherwise)
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets an integer option of the allocator; valid at any time
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 1000) };
    }
    let cli = cli::parse_args(std::env::args_os());
    cli::init_logging(&cli.global);
    cli::exit_code(cli::run(cli))
}
