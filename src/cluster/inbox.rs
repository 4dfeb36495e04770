//! What the analyse and index roles do alike with a message they take: count it, read its
//! body (from the object store when it was too large for a message), and put back or drop
//! what cannot be read; and the lag gauges of their consumer.

use std::time::Duration;

use async_nats::jetstream::{self, AckKind};

use crate::cluster::broker::{Broker, ClusterError};
use crate::cluster::metrics::Metrics;
use crate::cluster::wire::{self, Received};

/// A message's body, deflated, and the object it was read from (deleted once the message is
/// done with).
pub struct Body {
    pub packed: Vec<u8>,
    pub object: Option<String>,
}

/// Counts `msg` and reads its body. `None` when it cannot be read: it was put back (the
/// object store may be electing a leader) or dropped (not a vigie message), and said so.
pub async fn take(b: &Broker, msg: &jetstream::Message, metrics: &Metrics) -> Option<Body> {
    Metrics::inc(&metrics.received);
    if msg.info().map(|i| i.delivered > 1).unwrap_or(false) {
        Metrics::inc(&metrics.redelivered);
    }
    match wire::received(&msg.payload) {
        Ok(Received::Packed(p)) => Some(Body {
            packed: p.to_vec(),
            object: None,
        }),
        Ok(Received::Object(name)) => match b.get_object(&name).await {
            Ok(packed) => Some(Body {
                packed,
                object: Some(name),
            }),
            Err(e) => {
                Metrics::inc(&metrics.broker_errors);
                tracing::warn!(subject = %msg.subject, error = %e, "body not readable yet; put back");
                let _ = msg
                    .ack_with(AckKind::Nak(Some(Duration::from_secs(2))))
                    .await;
                None
            }
        },
        Err(e) => {
            Metrics::inc(&metrics.refused);
            tracing::error!(subject = %msg.subject, error = %e, "unreadable message dropped");
            let _ = msg.ack_with(AckKind::Term).await;
            None
        }
    }
}

/// A role's consumer on `stream`.
async fn consumer(
    b: &Broker,
    stream: &str,
    name: &str,
) -> Result<jetstream::consumer::Consumer<jetstream::consumer::pull::Config>, ClusterError> {
    let s =
        b.js.get_stream(stream)
            .await
            .map_err(|e| ClusterError::NotInitialised(format!("{stream}: {e}")))?;
    s.get_consumer(name)
        .await
        .map_err(|e| ClusterError::NotInitialised(format!("{name}: {e}")))
}

/// Pulls from a role's consumer, `batch` messages at a time.
pub async fn pull(
    b: &Broker,
    stream: &str,
    name: &str,
    batch: usize,
) -> Result<jetstream::consumer::pull::Stream, ClusterError> {
    consumer(b, stream, name)
        .await?
        .stream()
        .max_messages_per_batch(batch)
        .expires(Duration::from_secs(5))
        .heartbeat(Duration::from_secs(2))
        .messages()
        .await
        .map_err(|e| ClusterError::broker(&format!("pulling from {stream}"), e))
}

/// Refreshes the lag gauges from the consumer every few seconds, for as long as the role
/// runs.
pub async fn watch_lag(
    b: Broker,
    stream: &'static str,
    name: &'static str,
    metrics: std::sync::Arc<Metrics>,
) {
    loop {
        if let Ok(mut c) = consumer(&b, stream, name).await {
            if let Ok(info) = c.info().await {
                Metrics::set(&metrics.lag, info.num_pending);
                Metrics::set(&metrics.ack_pending, info.num_ack_pending as u64);
            }
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
}
