//! The analyse role: fetched documents in, prepared records out, on every core the process
//! may use. A document is acknowledged only once its record is stored by the records
//! stream; the record carries the document's message id, so a document analysed twice (an
//! analyser killed before its ack) is stored once.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, AckKind};
use futures_util::StreamExt;
use tokio::sync::Semaphore;

use crate::cluster::broker::{Broker, ClusterError, ANALYZE_CONSUMER, DOCS, RECORDS_SUBJECT};
use crate::cluster::inbox::{self, Body};
use crate::cluster::metrics::Metrics;
use crate::cluster::wire::{self, Payload, WireDoc, WireRecord};
use crate::config::Config;
use crate::pipeline::Transform;

/// Documents taken at once per worker thread (analysed while others are published).
const PER_WORKER: usize = 6;

/// Runs until `stop` resolves.
pub async fn run(
    b: Broker,
    config: Arc<Config>,
    metrics: Arc<Metrics>,
    workers: usize,
    stop: impl std::future::Future<Output = ()> + Send,
) -> Result<(), ClusterError> {
    let transform = Arc::new(Transform::new(config));
    let schema = Arc::new(crate::index::schema().0);
    let cpu = Arc::new(Semaphore::new(workers.max(1)));
    let in_flight = workers.max(1) * PER_WORKER;
    tokio::spawn(inbox::watch_lag(
        b.clone(),
        DOCS,
        ANALYZE_CONSUMER,
        metrics.clone(),
    ));
    tokio::pin!(stop);
    loop {
        let messages = match inbox::pull(&b, DOCS, ANALYZE_CONSUMER, in_flight).await {
            Ok(m) => m,
            Err(e) => {
                Metrics::inc(&metrics.broker_errors);
                tracing::warn!(error = %e, "documents' consumer not reachable; retrying");
                tokio::select! {
                    _ = &mut stop => return Ok(()),
                    _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                }
            }
        };
        let work = messages
            .take_while(|m| {
                let go = match m {
                    Ok(_) => true,
                    Err(e) => {
                        tracing::warn!(error = %e, "pulling documents stopped; pulling again");
                        false
                    }
                };
                futures_util::future::ready(go)
            })
            .filter_map(|m| futures_util::future::ready(m.ok()))
            .map(|msg| {
                let (b, t, s, cpu, m) = (
                    b.clone(),
                    transform.clone(),
                    schema.clone(),
                    cpu.clone(),
                    metrics.clone(),
                );
                async move { one(&b, &t, &s, &cpu, &m, msg).await }
            })
            .buffer_unordered(in_flight)
            .for_each(|_| futures_util::future::ready(()));
        tokio::select! {
            _ = &mut stop => return Ok(()),
            _ = work => {
                Metrics::inc(&metrics.broker_errors);
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

/// One document: read (from the object store if need be), analysed on a worker thread,
/// its record stored, then acknowledged.
async fn one(
    b: &Broker,
    transform: &Arc<Transform>,
    schema: &Arc<tantivy::schema::Schema>,
    cpu: &Semaphore,
    metrics: &Metrics,
    msg: jetstream::Message,
) {
    let Some(Body { packed, object }) = inbox::take(b, &msg, metrics).await else {
        return;
    };
    let work = {
        let (t, s) = (transform.clone(), schema.clone());
        let _permit = cpu.acquire().await;
        tokio::task::spawn_blocking(move || -> Result<(String, Payload), String> {
            let doc: WireDoc = wire::unpack(&packed)?;
            let id = doc.id();
            let prepared = t.prepare(doc.into_incoming())?;
            let record = WireRecord::from_ready(prepared.ready(), &s);
            Ok((id, wire::encode(&record)))
        })
        .await
    };
    let (id, payload) = match work {
        Ok(Ok(x)) => x,
        Ok(Err(e)) => {
            Metrics::inc(&metrics.refused);
            tracing::warn!(error = %e, "document refused");
            let _ = msg.ack_with(AckKind::Term).await;
            return;
        }
        Err(e) => {
            Metrics::inc(&metrics.refused);
            tracing::error!(error = %e, "analysis failed");
            let _ = msg.ack_with(AckKind::Term).await;
            return;
        }
    };
    let stored = match payload {
        Payload::Inline(bytes) => b.publish(RECORDS_SUBJECT, &id, bytes.into()).await,
        Payload::TooLarge(body) => {
            let name = format!("r{id}");
            match b.put_object(&name, body).await {
                Ok(()) => {
                    b.publish(RECORDS_SUBJECT, &id, wire::object_pointer(&name).into())
                        .await
                }
                Err(e) => Err(e),
            }
        }
    };
    match stored {
        Ok(()) => {
            Metrics::inc(&metrics.published);
            match msg.ack().await {
                Ok(()) => Metrics::inc(&metrics.acked),
                Err(e) => {
                    // redelivered later: its record is a duplicate the stream drops
                    Metrics::inc(&metrics.broker_errors);
                    tracing::debug!(error = %e, "ack lost");
                }
            }
            if let Some(name) = object {
                b.delete_object(&name).await;
            }
        }
        Err(e) => {
            Metrics::inc(&metrics.broker_errors);
            tracing::warn!(error = %e, "record not stored; the document will come back");
        }
    }
}
