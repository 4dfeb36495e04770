//! `vigie check`: validates the sources and watches.

use std::process::ExitCode;

use crate::cli::args::Global;
use crate::cli::common::{load_config, plural, Failure};

/// `vigie check`.
pub fn check(g: &Global) -> Result<ExitCode, Failure> {
    let config = load_config(g, true)?;
    let brands: usize = config.watches.iter().map(|w| w.brands.len()).sum();
    let warnings = config.warnings(&g.pipelines);
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    if !g.quiet {
        println!(
            "ok: {} source{} in {}, {} watch{} with {} brand{} in {}{}",
            config.sources.sources.len(),
            plural(config.sources.sources.len()),
            g.sources.display(),
            config.watches.len(),
            if config.watches.len() == 1 { "" } else { "es" },
            brands,
            plural(brands),
            g.pipelines.display(),
            match warnings.len() {
                0 => String::new(),
                n => format!(" ({n} warning{})", plural(n)),
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}
