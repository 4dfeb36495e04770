//! The daily watch digest.

use std::process::ExitCode;

use crate::cli::{DigestArgs, Global};
use crate::commands::Failure;

pub fn digest_command(_g: &Global, _a: DigestArgs) -> Result<ExitCode, Failure> {
    Err(Failure::Usage(
        "`vigie digest` is not available in this build yet".into(),
    ))
}
