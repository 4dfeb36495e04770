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
    // No transparent huge pages: with them the kernel zeroes 2 MB at the first touch of any
    // byte, and the allocator's heaps, thread stacks and tables are touched sparsely (an
    // ingest of 20,000 posts: 6 % less CPU, 65 MB less peak memory).
    #[cfg(target_os = "linux")]
    // SAFETY: prctl with PR_SET_THP_DISABLE takes integer arguments only and changes nothing
    // but how this process's future page faults are served
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
    let cli = cli::parse_args(std::env::args_os());
    // A command that runs to its end keeps what it frees until it exits: an ingest frees and
    // allocates again at once (a segment's arena, a batch's documents), and the pages given
    // back and faulted in again cost it a tenth of its time. A daemon (`serve`, `run` without
    // `--once`) gives freed memory back after a second, not 10 ms. The allocator's own
    // MIMALLOC_PURGE_DELAY, when set, wins.
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        let daemon = match &cli.command {
            cli::args::Command::Serve(_) => true,
            cli::args::Command::Run(run) => !run.once,
            _ => false,
        };
        let delay_ms = if daemon { 1000 } else { -1 };
        // SAFETY: sets an integer option of the allocator; valid at any time
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, delay_ms) };
    }
    cli::init_logging(&cli.global);
    cli::exit_code(cli::run(cli))
}
