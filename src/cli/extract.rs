//! `vigie extract FILE`: what vigie reads in one fetched body, as JSON.

use std::io::{Read, Write};
use std::process::ExitCode;

use anyhow::Context;

use crate::cli::args::ExtractArgs;
use crate::cli::common::{open_input, output_failed, Failure};

/// `vigie extract`.
pub fn extract(a: ExtractArgs) -> Result<ExitCode, Failure> {
    let mut body = Vec::new();
    open_input(&a.file)?
        .read_to_end(&mut body)
        .with_context(|| format!("cannot read {}", a.file))?;
    match crate::extract::extract_body(&body, a.url.as_deref()) {
        Ok(v) => {
            let json = serde_json::to_string_pretty(&v).expect("json");
            match writeln!(std::io::stdout().lock(), "{json}") {
                Err(e) => output_failed(e),
                Ok(()) => Ok(ExitCode::SUCCESS),
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(1))
        }
    }
}
