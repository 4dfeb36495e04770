//! Alerts: emerging terms, sentiment shifts, volume spikes; their channels.

use std::process::ExitCode;

use crate::cli::{AlertsArgs, Global};
use crate::commands::Failure;

pub fn alerts_command(_g: &Global, _a: AlertsArgs) -> Result<ExitCode, Failure> {
    Err(Failure::Usage(
        "`vigie alerts` is not available in this build yet".into(),
    ))
}
