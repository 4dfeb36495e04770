//! `vigie demo`: the whole product offline.

use std::process::ExitCode;

use crate::cli::{DemoArgs, Global};
use crate::commands::Failure;

pub fn demo_command(_g: &Global, _a: DemoArgs) -> Result<ExitCode, Failure> {
    Err(Failure::Usage(
        "`vigie demo` is not available in this build yet".into(),
    ))
}

pub mod corpus;
pub mod server;
