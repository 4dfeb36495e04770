//! `vigie serve [--listen ADDR]`: the team's workspace, until Ctrl-C or SIGTERM; and the same
//! workspace beside a crawl (`vigie run --listen ADDR`).
//!
//! Exit status: 0 once stopped; 2 for a configuration error or an address off this machine
//! without `VIGIE_SERVE_TOKEN`; 1 when the address cannot be bound.

use std::process::ExitCode;
use std::sync::{Arc, OnceLock};

use crate::cli::args::Global;
use crate::cli::common::{load_config, Failure};
use crate::config::Config;
use crate::data::DataDir;
use crate::serve::app::{App, HealthSource};
use crate::serve::security::check_listen;
use crate::serve::server::{bind, serve as serve_app};
use crate::state::State;

/// The token from the environment, when set and not blank.
fn token(g: &Global) -> Option<String> {
    let t = std::env::var("VIGIE_SERVE_TOKEN")
        .ok()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty());
    if let Some(t) = &t {
        if t.len() < 16 && !g.quiet {
            eprintln!(
                "warning: VIGIE_SERVE_TOKEN is {} characters long: use at least 16 random ones",
                t.len()
            );
        }
    }
    t
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("vigie-serve")
        .enable_all()
        .build()
        .map_err(|e| Failure::Other(anyhow::anyhow!("cannot start the server: {e}")))
}

/// `vigie serve`.
pub fn serve(g: &Global, listen: &str) -> Result<ExitCode, Failure> {
    let token = token(g);
    let addr = check_listen(listen, token.as_deref()).map_err(Failure::Usage)?;
    let config = load_config(g, false)?;
    if !g.quiet {
        for w in config.warnings(&g.pipelines) {
            eprintln!("warning: {w}");
        }
    }
    let rt = runtime()?;
    let app = Arc::new(App::new(
        config,
        DataDir::new(&g.data),
        token,
        HealthSource::Data,
    ));
    let listener = bind(addr).map_err(|e| Failure::Other(anyhow::anyhow!(e)))?;
    let local = listener.local_addr().unwrap_or(addr);
    eprintln!("listening on http://{local}");
    rt.block_on(serve_app(app, listener, crate::cli::run::shutdown_signal()))
        .map_err(|e| Failure::Other(anyhow::anyhow!("the server stopped: {e}")))?;
    if !g.quiet {
        eprintln!("stopped");
    }
    Ok(ExitCode::SUCCESS)
}

/// Starts the workspace on its own threads beside a crawl; the crawl fills the returned cell
/// with its state (source health).
pub fn beside_crawl(
    g: &Global,
    listen: &str,
    config: Config,
) -> Result<Arc<OnceLock<Arc<State>>>, Failure> {
    let token = token(g);
    let addr = check_listen(listen, token.as_deref()).map_err(Failure::Usage)?;
    let cell = Arc::new(OnceLock::new());
    let app = Arc::new(App::new(
        config,
        DataDir::new(&g.data),
        token,
        HealthSource::Shared(cell.clone()),
    ));
    let listener = bind(addr).map_err(|e| Failure::Other(anyhow::anyhow!(e)))?;
    let local = listener.local_addr().unwrap_or(addr);
    let rt = runtime()?;
    std::thread::Builder::new()
        .name("vigie-serve".into())
        .spawn(move || {
            // the crawl's end ends the process, and this thread with it
            if let Err(e) = rt.block_on(serve_app(app, listener, std::future::pending())) {
                tracing::error!(error = %e, "the workspace stopped");
            }
        })
        .map_err(|e| Failure::Other(anyhow::anyhow!("cannot start the server: {e}")))?;
    eprintln!("listening on http://{local}");
    Ok(cell)
}
