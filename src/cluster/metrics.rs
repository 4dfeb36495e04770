//! Each role's counters, served as Prometheus text on `/metrics` (`vigie run --nats …
//! --metrics ADDR`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Counters and gauges of one role.
#[derive(Debug, Default)]
pub struct Metrics {
    pub role: String,
    /// Messages taken from the role's input.
    pub received: AtomicU64,
    /// Of those, delivered more than once (a worker died, an ack was lost).
    pub redelivered: AtomicU64,
    /// Input messages acknowledged (their output stored).
    pub acked: AtomicU64,
    /// Messages published (and stored by their stream).
    pub published: AtomicU64,
    /// Messages the role could not use (unreadable, refused by the transforms).
    pub refused: AtomicU64,
    /// Errors from the broker (retried).
    pub broker_errors: AtomicU64,
    /// Gauge: messages of the role's input not yet delivered.
    pub lag: AtomicU64,
    /// Gauge: delivered, not yet acknowledged.
    pub ack_pending: AtomicU64,
    /// Fetch role: polls done; gauge: partitions owned.
    pub polls: AtomicU64,
    pub owned_partitions: AtomicU64,
    /// Index role: documents added, changed, unchanged (a redelivery), commits.
    pub added: AtomicU64,
    pub updated: AtomicU64,
    pub unchanged: AtomicU64,
    pub commits: AtomicU64,
}

impl Metrics {
    pub fn new(role: &str) -> Arc<Metrics> {
        Arc::new(Metrics {
            role: role.into(),
            ..Default::default()
        })
    }

    pub fn inc(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }

    pub fn add(c: &AtomicU64, n: u64) {
        c.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(c: &AtomicU64) -> u64 {
        c.load(Ordering::Relaxed)
    }

    pub fn set(c: &AtomicU64, v: u64) {
        c.store(v, Ordering::Relaxed);
    }

    /// Prometheus text exposition.
    pub fn render(&self) -> String {
        let rows: [(&str, &str, &str, &AtomicU64); 14] = [
            (
                "received_total",
                "counter",
                "messages taken from the role's input",
                &self.received,
            ),
            (
                "redelivered_total",
                "counter",
                "input messages delivered more than once",
                &self.redelivered,
            ),
            (
                "acked_total",
                "counter",
                "input messages acknowledged once their output was stored",
                &self.acked,
            ),
            (
                "published_total",
                "counter",
                "messages published and stored by their stream",
                &self.published,
            ),
            (
                "refused_total",
                "counter",
                "input messages that could not be used",
                &self.refused,
            ),
            (
                "broker_errors_total",
                "counter",
                "broker errors (retried)",
                &self.broker_errors,
            ),
            (
                "lag",
                "gauge",
                "messages of the role's input not yet delivered",
                &self.lag,
            ),
            (
                "ack_pending",
                "gauge",
                "messages delivered, not yet acknowledged",
                &self.ack_pending,
            ),
            (
                "polls_total",
                "counter",
                "source polls done (fetch role)",
                &self.polls,
            ),
            (
                "owned_partitions",
                "gauge",
                "frontier partitions this fetcher owns",
                &self.owned_partitions,
            ),
            (
                "documents_added_total",
                "counter",
                "documents indexed for the first time (index role)",
                &self.added,
            ),
            (
                "documents_updated_total",
                "counter",
                "documents indexed again with a changed content (index role)",
                &self.updated,
            ),
            (
                "documents_unchanged_total",
                "counter",
                "documents already indexed as they are (index role)",
                &self.unchanged,
            ),
            (
                "commits_total",
                "counter",
                "index commits (index role)",
                &self.commits,
            ),
        ];
        let mut out = String::new();
        for (name, kind, help, v) in rows {
            out.push_str(&format!(
                "# HELP vigie_{name} {help}\n# TYPE vigie_{name} {kind}\nvigie_{name}{{role=\"{}\"}} {}\n",
                self.role,
                v.load(Ordering::Relaxed)
            ));
        }
        out
    }
}

/// Serves `/metrics` on `addr` (inside the role's runtime); returns the bound address.
pub async fn serve(
    addr: &str,
    metrics: Arc<Metrics>,
) -> Result<std::net::SocketAddr, std::io::Error> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let m = metrics.clone();
            async move {
                (
                    [(
                        axum::http::header::CONTENT_TYPE,
                        "text/plain; version=0.0.4; charset=utf-8",
                    )],
                    m.render(),
                )
            }
        }),
    );
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "metrics server stopped");
        }
    });
    Ok(bound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_counter_with_its_role() {
        let m = Metrics::new("analyze");
        Metrics::inc(&m.received);
        Metrics::add(&m.acked, 3);
        let text = m.render();
        assert!(text.contains("vigie_received_total{role=\"analyze\"} 1\n"));
        assert!(text.contains("vigie_acked_total{role=\"analyze\"} 3\n"));
        assert_eq!(text.matches("# TYPE").count(), 14);
    }
}
