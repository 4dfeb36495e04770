//! `vigie run [--once]`: crawl on schedule (or one pass), analyse, index, raise alerts, until
//! Ctrl-C or SIGTERM.
//!
//! Exit status: 0 when every polled source was read (or, without `--once`, after Ctrl-C);
//! 1 when the pass completed but some sources failed (partial failure: each was reported
//! and the rest was indexed); 2 for configuration errors. Sources disallowed by robots.txt
//! or backing off after repeated failures are not failures.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;

use crate::cli::args::Global;
use crate::cli::common::{load_config, plural, Failure};
use crate::data::DataDir;
use crate::pipeline::default_workers;
use crate::run::{crawl, RunOptions};

/// `vigie run [--once] [--listen ADDR]`.
pub fn run(g: &Global, once: bool, listen: Option<&str>) -> Result<ExitCode, Failure> {
    let config = Arc::new(load_config(g, true)?);
    if config.sources.sources.is_empty() {
        return Err(Failure::Usage(format!(
            "no sources in {}: add [[sources]] blocks, or import a reader's feeds with `vigie sources import FILE.opml`",
            g.sources.display()
        )));
    }
    if !g.quiet {
        for w in config.warnings(&g.pipelines) {
            eprintln!("warning: {w}");
        }
    }
    let data = DataDir::new(&g.data);
    let share_state = match listen {
        None => None,
        Some(addr) => Some(crate::cli::serve::beside_crawl(g, addr, (*config).clone())?),
    };
    let opts = RunOptions {
        once,
        progress: !g.quiet && std::io::stderr().is_terminal(),
        summaries: !g.quiet,
        workers: default_workers(),
        share_state,
    };
    let report = crawl(config, &data, &opts, shutdown_signal)
        .map_err(|e| Failure::Other(anyhow::Error::new(e)))?;
    if report.interrupted && !g.quiet {
        eprintln!(
            "interrupted: {} new document{} committed",
            report.documents.added,
            plural(report.documents.added as usize)
        );
    }
    let failed =
        once && !report.interrupted && report.passes.iter().any(|p| p.failed_sources() > 0);
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Ctrl-C, or SIGTERM on Unix (a service being stopped).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => ctrl_c.await,
        }
    }
    #[cfg(not(unix))]
    ctrl_c.await;
}
