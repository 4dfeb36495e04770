//! The router, binding and running: `serve` answers until `stop` resolves, reloading the index
//! every half second so documents a crawl or an ingest commits appear without a restart.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;

use crate::serve::app::App;
use crate::serve::{api, pages, security};

/// How often the index and the ledgers are looked at again.
const REFRESH: Duration = Duration::from_millis(500);

/// Every route of the workspace.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/healthz", get(api::healthz))
        .route("/", get(pages::overview))
        .route("/search", get(pages::search))
        .route("/queue", get(pages::queue))
        .route("/queue/{id}", post(api::post_queue))
        .route("/alerts", get(pages::alerts))
        .route("/alerts/{id}/verdict", post(api::post_alert_verdict))
        .route("/sources", get(pages::sources))
        .route("/login", get(pages::login).post(pages::login_post))
        .route("/logout", post(pages::logout))
        .route("/api/search", get(api::api_search))
        .route("/api/digest", get(api::api_digest))
        .route("/api/alerts", get(api::api_alerts))
        .route("/api/alerts/{id}/verdict", post(api::post_alert_verdict))
        .route("/api/queue", get(api::api_queue))
        .route("/api/queue/{id}", post(api::post_queue))
        .route("/api/status", get(api::api_status))
        .route("/export.csv", get(api::export_csv))
        .route("/metrics", get(api::metrics))
        .route("/static/vigie.css", get(pages::style))
        .route("/static/vigie.js", get(pages::script))
        .fallback(pages::not_found)
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            security::guard,
        ))
        .layer(DefaultBodyLimit::max(security::MAX_BODY))
        .with_state(app)
}

/// Binds `addr`; the error says what to do.
pub fn bind(addr: SocketAddr) -> Result<std::net::TcpListener, String> {
    let l = std::net::TcpListener::bind(addr).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            format!("cannot listen on {addr}: the address is in use (another vigie serve?); choose another with --listen")
        } else {
            format!("cannot listen on {addr}: {e}")
        }
    })?;
    l.set_nonblocking(true)
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    Ok(l)
}

/// Serves `app` on `listener` until `stop` resolves; requests in flight are finished.
pub async fn serve<F>(
    app: Arc<App>,
    listener: std::net::TcpListener,
    stop: F,
) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let refresher = {
        let app = app.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(REFRESH);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                tick.tick().await;
                let a = app.clone();
                let _ = tokio::task::spawn_blocking(move || a.refresh()).await;
            }
        })
    };
    let r = axum::serve(listener, router(app))
        .with_graceful_shutdown(stop)
        .await;
    refresher.abort();
    r
}
