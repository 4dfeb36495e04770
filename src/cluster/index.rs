//! The index role: the single writer of the index and its state (deduplication, detectors,
//! alerts), as in `vigie run`. Records are acknowledged only once the commit that holds them
//! is on disk: a record delivered again after a crash finds its document already indexed
//! with the same hash and changes nothing, so no document is indexed twice and no alert is
//! raised twice.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream;
use futures_util::StreamExt;

use crate::cluster::broker::{Broker, ClusterError, INDEX_CONSUMER, RECORDS};
use crate::cluster::inbox::{self, Body};
use crate::cluster::metrics::Metrics;
use crate::cluster::wire::{self, WireRecord};
use crate::config::Config;
use crate::data::DataDir;
use crate::index::writer::Store;
use crate::pipeline::{Outcome, RecordSink, Sink, Transform};

/// Records taken at once.
const BATCH: usize = 1000;
/// A batch is committed (then acknowledged) once it holds this many records...
const COMMIT_RECORDS: usize = 5000;
/// ...or its oldest record waited this long.
const COMMIT_AFTER: Duration = Duration::from_millis(1000);
/// Documents handed over by `vigie ingest` are read this often.
const INBOX_EVERY: Duration = Duration::from_secs(5);
/// Digests due are looked for this often.
const DIGESTS_EVERY: Duration = Duration::from_secs(60);

/// Runs until `stop` resolves; what is taken is committed and acknowledged before it returns.
pub async fn run(
    b: Broker,
    config: Arc<Config>,
    data: &DataDir,
    metrics: Arc<Metrics>,
    stop: impl std::future::Future<Output = ()>,
) -> Result<(), ClusterError> {
    let store =
        Store::open(data, "run --role index").map_err(|e| ClusterError::Store(e.to_string()))?;
    let mut sink = Sink::new(store, config.clone());
    let transform = Transform::new(config.clone());
    crate::ingest::drain_inbox(data, &transform, &mut sink)
        .map_err(|e| ClusterError::Store(e.to_string()))?;
    let schema = crate::index::schema().0;
    let mut batch = Batch::default();
    let mut last_inbox = Instant::now();
    let mut last_digests = Instant::now();
    tokio::spawn(inbox::watch_lag(
        b.clone(),
        RECORDS,
        INDEX_CONSUMER,
        metrics.clone(),
    ));
    tokio::pin!(stop);
    'outer: loop {
        let messages = match inbox::pull(&b, RECORDS, INDEX_CONSUMER, BATCH).await {
            Ok(m) => m,
            Err(e) => {
                Metrics::inc(&metrics.broker_errors);
                tracing::warn!(error = %e, "records' consumer not reachable; retrying");
                tokio::select! {
                    _ = &mut stop => break 'outer,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                }
            }
        };
        tokio::pin!(messages);
        loop {
            let next = tokio::select! {
                _ = &mut stop => break 'outer,
                n = tokio::time::timeout(Duration::from_millis(200), messages.next()) => n,
            };
            match next {
                Err(_) => {}
                Ok(None) => break,
                Ok(Some(Err(e))) => {
                    Metrics::inc(&metrics.broker_errors);
                    tracing::warn!(error = %e, "pulling records stopped; pulling again");
                    break;
                }
                Ok(Some(Ok(msg))) => {
                    accept(&b, &mut sink, &schema, &metrics, msg, &mut batch).await?;
                }
            }
            if batch.due() {
                commit(&mut sink, &metrics, &mut batch, &b).await?;
            }
            if last_inbox.elapsed() >= INBOX_EVERY {
                last_inbox = Instant::now();
                crate::ingest::drain_inbox(data, &transform, &mut sink)
                    .map_err(|e| ClusterError::Store(e.to_string()))?;
            }
            if last_digests.elapsed() >= DIGESTS_EVERY {
                last_digests = Instant::now();
                commit(&mut sink, &metrics, &mut batch, &b).await?;
                crate::run::send_digests(&config, &mut sink.store);
            }
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    commit(&mut sink, &metrics, &mut batch, &b).await?;
    sink.close()
        .map_err(|e| ClusterError::Store(e.to_string()))?;
    Ok(())
}

/// Records indexed, waiting for their commit to be acknowledged.
#[derive(Default)]
struct Batch {
    messages: Vec<jetstream::Message>,
    objects: Vec<String>,
    since: Option<Instant>,
}

impl Batch {
    fn due(&self) -> bool {
        !self.messages.is_empty()
            && (self.messages.len() >= COMMIT_RECORDS
                || self.since.is_some_and(|t| t.elapsed() >= COMMIT_AFTER))
    }
}

async fn accept(
    b: &Broker,
    sink: &mut impl RecordSink,
    schema: &tantivy::schema::Schema,
    metrics: &Metrics,
    msg: jetstream::Message,
    batch: &mut Batch,
) -> Result<(), ClusterError> {
    let Some(Body { packed, object }) = inbox::take(b, &msg, metrics).await else {
        return Ok(());
    };
    let ready = wire::unpack::<WireRecord>(&packed).and_then(|r| r.into_ready(schema));
    match ready {
        Ok(r) => {
            let outcome = RecordSink::accept_ready(sink, r)
                .map_err(|e| ClusterError::Store(e.to_string()))?;
            match outcome {
                Outcome::Added => Metrics::inc(&metrics.added),
                Outcome::Unchanged => Metrics::inc(&metrics.unchanged),
                Outcome::Updated => Metrics::inc(&metrics.updated),
            }
        }
        Err(e) => {
            sink.refused();
            Metrics::inc(&metrics.refused);
            tracing::error!(error = %e, "record refused");
        }
    }
    batch.since.get_or_insert_with(Instant::now);
    batch.messages.push(msg);
    batch.objects.extend(object);
    Ok(())
}

/// Commits what the batch indexed, then acknowledges its records.
async fn commit(
    sink: &mut impl RecordSink,
    metrics: &Metrics,
    batch: &mut Batch,
    b: &Broker,
) -> Result<(), ClusterError> {
    if batch.messages.is_empty() {
        return Ok(());
    }
    sink.commit()
        .map_err(|e| ClusterError::Store(e.to_string()))?;
    Metrics::inc(&metrics.commits);
    for msg in batch.messages.drain(..) {
        match msg.ack().await {
            Ok(()) => Metrics::inc(&metrics.acked),
            Err(e) => {
                // delivered again later, and then found unchanged
                Metrics::inc(&metrics.broker_errors);
                tracing::debug!(error = %e, "ack lost");
            }
        }
    }
    for name in batch.objects.drain(..) {
        b.delete_object(&name).await;
    }
    batch.since = None;
    Ok(())
}
