//! `vigie run`: crawl on schedule, analyse, index, raise alerts.

use std::process::ExitCode;

use crate::cli::Global;
use crate::commands::Failure;

pub fn run_command(_g: &Global, _once: bool) -> Result<ExitCode, Failure> {
    Err(Failure::Usage(
        "`vigie run` is not available in this build yet".into(),
    ))
}
