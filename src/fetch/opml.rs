//! `vigie sources`: OPML import and listing.

use std::process::ExitCode;

use crate::cli::{Global, SourcesCommand};
use crate::commands::Failure;

pub fn sources_command(_g: &Global, _c: SourcesCommand) -> Result<ExitCode, Failure> {
    Err(Failure::Usage(
        "`vigie sources` is not available in this build yet".into(),
    ))
}
