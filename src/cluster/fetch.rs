//! The fetch role. Every fetcher publishes, for every source, one poll per interval to the
//! source's frontier subject (`vigie.frontier.<partition>.<source>`, the partition a hash of
//! the source's host); the message id names the interval, so the stream keeps one however
//! many fetchers publish it. Each partition's consumer pins one fetcher at a time (a
//! JetStream priority group): the owner polls the sources of its hosts with the per-host
//! delay, concurrency, robots.txt and Retry-After of `vigie run`, and no other fetcher
//! sends a request to them. When the owner stops pulling (killed), the server pins a
//! standby after [`PINNED_TTL`](crate::cluster::setup::PINNED_TTL).
//!
//! A poll's documents are published to the documents stream (message id: address and
//! content hash) before the poll's state is saved in the fetch bucket (validators, items
//! seen, health: keyed by partition and source, read again at every poll, so a new owner carries on where
//! the last one stopped), and the poll's message is acknowledged last. A fetcher killed
//! anywhere in between leaves a poll that is done again; what it published again is
//! dropped by the stream or found unchanged by the index role.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, kv, AckKind};
use chrono::Utc;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::cluster::broker::{
    frontier_subject, partition_consumer, source_partition, Broker, ClusterError, DOCS_SUBJECT,
    FETCH_KV, FRONTIER, OWNER_GROUP,
};
use crate::cluster::metrics::Metrics;
use crate::cluster::setup::{owner_key, Owner, PINNED_TTL};
use crate::cluster::wire::{self, Payload, WireDoc};
use crate::config::{Config, Source};
use crate::fetch::crawl::poll_recorded;
use crate::fetch::schedule::{self, Health};
use crate::fetch::{Crawler, FetchSettings, Fetcher, Msg, PassCounters};
use crate::pipeline::SOURCE_CHANNEL;
use crate::state::{Seen, Space, State, Validators};

/// Items remembered as seen per source (the oldest are forgotten: they have left the list).
pub const MAX_SEEN: usize = 20_000;
/// A poll under way tells the server so this often (its message is not handed to another
/// fetcher meanwhile).
const KEEPALIVE: Duration = Duration::from_secs(10);
/// Polls taken at once per partition.
const PER_PARTITION: usize = 16;

/// What the fetch bucket keeps of a source between polls, whichever fetcher does them.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SourceState {
    #[serde(default)]
    pub validators: BTreeMap<String, Validators>,
    /// Other state the polls keep (sitemap dates, search cursors).
    #[serde(default)]
    pub meta: BTreeMap<String, serde_json::Value>,
    /// Canonical addresses of the items handed over, oldest first.
    #[serde(default)]
    pub seen: VecDeque<String>,
    #[serde(default)]
    pub health: Option<Health>,
}

/// The bucket key of a source's state, under its partition (`p3.src.<hash>`: a partition's
/// state is one key prefix).
pub fn state_key(partition: u32, source_id: &str) -> String {
    format!(
        "p{partition}.src.{:016x}",
        xxhash_rust::xxh3::xxh3_64(source_id.as_bytes())
    )
}

struct Ctx {
    b: Broker,
    name: String,
    partitions: u32,
    crawler: Arc<Crawler>,
    /// Source by the last token of its frontier subject.
    by_subject: HashMap<String, Source>,
    kv: kv::Store,
    metrics: Arc<Metrics>,
    running: Mutex<HashSet<String>>,
    /// Partitions this fetcher got polls of: the pin and when.
    pins: Mutex<HashMap<u32, (String, Instant)>>,
    polls_done: std::sync::atomic::AtomicU64,
}

/// Runs until `stop` resolves. `data` is the fetcher's own scratch directory.
pub async fn run(
    b: Broker,
    config: Arc<Config>,
    data: &crate::data::DataDir,
    name: String,
    metrics: Arc<Metrics>,
    stop: impl std::future::Future<Output = ()>,
) -> Result<(), ClusterError> {
    let partitions = b.partitions().await?;
    let _lock = data
        .lock("run --role fetch")
        .map_err(|e| ClusterError::Store(e.to_string()))?;
    let state =
        Arc::new(State::open(&data.state_dir()).map_err(|e| ClusterError::Store(e.to_string()))?);
    let fetcher = Fetcher::new(FetchSettings::from_defaults(&config.sources.defaults))
        .map_err(|e| ClusterError::Store(format!("cannot start the fetcher: {e}")))?
        .remember_in(state.clone());
    let crawler = Arc::new(Crawler::new(fetcher, state));
    let kv = {
        let started = Instant::now();
        loop {
            match b.js.get_key_value(FETCH_KV).await {
                Ok(kv) => break kv,
                Err(e) if started.elapsed() > crate::cluster::broker::SETTLE => {
                    return Err(ClusterError::NotInitialised(format!("{FETCH_KV}: {e}")))
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
            }
        }
    };
    let by_subject = config
        .sources
        .sources
        .iter()
        .map(|s| {
            let subject = frontier_subject(source_partition(s, partitions), &s.id);
            (last_token(&subject).to_string(), s.clone())
        })
        .collect();
    let ctx = Arc::new(Ctx {
        b,
        name,
        partitions,
        crawler,
        by_subject,
        kv,
        metrics,
        running: Mutex::new(HashSet::new()),
        pins: Mutex::new(HashMap::new()),
        polls_done: Default::default(),
    });
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(ticker(ctx.clone(), config.sources.sources.clone()));
    for p in 0..partitions {
        tasks.spawn(partition(ctx.clone(), p));
    }
    tasks.spawn(gauges(ctx.clone()));
    stop.await;
    tasks.abort_all();
    Ok(())
}

fn last_token(subject: &str) -> &str {
    subject.rsplit('.').next().unwrap_or(subject)
}

/// Publishes each source's poll once per interval (the same id from every fetcher: the
/// stream keeps one).
async fn ticker(ctx: Arc<Ctx>, sources: Vec<Source>) {
    let mut last: Vec<Option<u64>> = vec![None; sources.len()];
    loop {
        let now = Utc::now().timestamp().max(0) as u64;
        for (i, s) in sources.iter().enumerate() {
            let every = s.interval.as_secs().max(1);
            let slot = now / every;
            if last[i] == Some(slot) {
                continue;
            }
            let subject = frontier_subject(source_partition(s, ctx.partitions), &s.id);
            let id = format!("t-{}-{slot}", last_token(&subject));
            let msg = jetstream::message::PublishMessage::build()
                .message_id(id)
                .payload(bytes::Bytes::from(s.id.clone()));
            let sent = match ctx.b.js.send_publish(subject, msg).await {
                Ok(ack) => tokio::time::timeout(Duration::from_secs(5), ack)
                    .await
                    .map_err(|_| "timeout".to_string())
                    .and_then(|r| r.map_err(|e| e.to_string())),
                Err(e) => Err(e.to_string()),
            };
            match sent {
                Ok(_) => last[i] = Some(slot),
                Err(e) => {
                    // another fetcher may have published it; tried again in a moment
                    Metrics::inc(&ctx.metrics.broker_errors);
                    tracing::debug!(source = %s.id, error = %e, "poll not published");
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Pulls the polls of partition `p` for as long as the process lives; the server delivers
/// them only while this fetcher is the pinned one.
async fn partition(ctx: Arc<Ctx>, p: u32) {
    loop {
        let pulled = async {
            let stream = ctx
                .b
                .js
                .get_stream(FRONTIER)
                .await
                .map_err(|e| e.to_string())?;
            let consumer: jetstream::consumer::Consumer<jetstream::consumer::pull::Config> = stream
                .get_consumer(&partition_consumer(p))
                .await
                .map_err(|e| e.to_string())?;
            consumer
                .stream()
                .group(OWNER_GROUP)
                .max_messages_per_batch(PER_PARTITION)
                .expires(PINNED_TTL / 2)
                .heartbeat(PINNED_TTL / 5)
                .messages()
                .await
                .map_err(|e| e.to_string())
        }
        .await;
        match pulled {
            Ok(mut messages) => {
                while let Some(m) = messages.next().await {
                    match m {
                        Ok(msg) => {
                            tokio::spawn(poll_message(ctx.clone(), p, msg));
                        }
                        Err(e) => {
                            Metrics::inc(&ctx.metrics.broker_errors);
                            tracing::debug!(partition = p, error = %e, "pulling polls stopped");
                            break;
                        }
                    }
                }
            }
            Err(e) => {
                Metrics::inc(&ctx.metrics.broker_errors);
                tracing::debug!(partition = p, error = %e, "frontier consumer not reachable");
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Records this fetcher as the owner of `p` when its pin is new.
async fn note_pin(ctx: &Ctx, p: u32, msg: &jetstream::Message) {
    let Some(pin) = msg
        .headers
        .as_ref()
        .and_then(|h| h.get("Nats-Pin-Id"))
        .map(|v| v.as_str().to_string())
    else {
        return;
    };
    let fresh = {
        let mut pins = ctx.pins.lock().expect("pins lock");
        let fresh = pins.get(&p).is_none_or(|(old, _)| *old != pin);
        pins.insert(p, (pin.clone(), Instant::now()));
        fresh
    };
    if fresh {
        tracing::info!(partition = p, "partition taken");
        let owner = Owner {
            fetcher: ctx.name.clone(),
            pin,
            since: Utc::now(),
        };
        let _ = ctx
            .kv
            .put(
                owner_key(p),
                serde_json::to_vec(&owner).expect("owner").into(),
            )
            .await;
    }
}

/// One poll message: the source polled (unless a poll of it is under way here, or it is
/// backing off), its documents published, its state saved, then the message acknowledged.
async fn poll_message(ctx: Arc<Ctx>, p: u32, msg: jetstream::Message) {
    Metrics::inc(&ctx.metrics.received);
    if msg.info().map(|i| i.delivered > 1).unwrap_or(false) {
        Metrics::inc(&ctx.metrics.redelivered);
    }
    note_pin(&ctx, p, &msg).await;
    let Some(source) = ctx.by_subject.get(last_token(&msg.subject)).cloned() else {
        // a source no longer in sources.toml
        let _ = msg.ack_with(AckKind::Term).await;
        return;
    };
    if !ctx
        .running
        .lock()
        .expect("running lock")
        .insert(source.id.clone())
    {
        // polled here right now: this poll is that one
        ack(&ctx, &msg).await;
        return;
    }
    let done = poll_source(&ctx, &source, &msg).await;
    ctx.running.lock().expect("running lock").remove(&source.id);
    match done {
        Ok(()) => ack(&ctx, &msg).await,
        Err(e) => {
            Metrics::inc(&ctx.metrics.broker_errors);
            tracing::warn!(source = %source.id, error = %e, "poll not saved; it will be done again");
            let _ = msg
                .ack_with(AckKind::Nak(Some(Duration::from_secs(2))))
                .await;
        }
    }
}

async fn ack(ctx: &Ctx, msg: &jetstream::Message) {
    match msg.ack().await {
        Ok(()) => Metrics::inc(&ctx.metrics.acked),
        Err(_) => Metrics::inc(&ctx.metrics.broker_errors),
    }
}

async fn poll_source(
    ctx: &Arc<Ctx>,
    source: &Source,
    msg: &jetstream::Message,
) -> Result<(), ClusterError> {
    let key = state_key(source_partition(source, ctx.partitions), &source.id);
    let (mut saved, revision) = load(&ctx.kv, &key).await?;
    let state = &ctx.crawler.state;
    hydrate(state, source, &saved);
    let now = Utc::now().timestamp();
    if schedule::backing_off(source, saved.health.as_ref(), now).is_some() {
        return Ok(());
    }
    let keepalive = async {
        loop {
            tokio::time::sleep(KEEPALIVE).await;
            let _ = msg.ack_with(AckKind::Progress).await;
        }
    };
    let (tx, mut rx) = mpsc::channel::<Msg>(SOURCE_CHANNEL);
    let poll = {
        let crawler = ctx.crawler.clone();
        let source = source.clone();
        async move {
            let pass = PassCounters::new(0);
            let h = poll_recorded(&crawler, &source, &tx, &pass).await;
            drop(tx);
            h
        }
    };
    let mut handed: Vec<String> = Vec::new();
    let mut staged: Vec<(Space, String, Option<serde_json::Value>)> = Vec::new();
    let publish = async {
        while let Some(m) = rx.recv().await {
            match m {
                Msg::Doc(inc, _) => {
                    let key = crate::extract::url::canonicalize(&inc.doc.url);
                    publish_doc(&ctx.b, inc).await?;
                    Metrics::inc(&ctx.metrics.published);
                    state.put(Space::Seen, &key, &Seen { hash: 0, at: 0 });
                    handed.push(key);
                }
                Msg::Stage { space, key, value } => {
                    match &value {
                        Some(v) => state.put(space, &key, v),
                        None => state.delete(space, &key),
                    }
                    staged.push((space, key, value));
                }
                Msg::PassEnd(_) | Msg::Tick => {}
            }
        }
        Ok::<(), ClusterError>(())
    };
    let (health, published) = tokio::select! {
        r = async { tokio::join!(poll, publish) } => r,
        _ = keepalive => unreachable!("the keep-alive loops forever"),
    };
    if let Err(e) = published {
        // the items handed over but not published must be taken again
        ctx.crawler.forget_claims();
        return Err(e);
    }
    if health.is_none() {
        ctx.crawler.forget_claims();
        return Err(ClusterError::Broker("the poll stopped".into()));
    }
    Metrics::inc(&ctx.metrics.polls);
    for k in handed {
        saved.seen.push_back(k);
    }
    while saved.seen.len() > MAX_SEEN {
        saved.seen.pop_front();
    }
    for (space, k, v) in staged {
        match (space, v) {
            (Space::Validators, Some(v)) => {
                if let Ok(v) = serde_json::from_value(v) {
                    saved.validators.insert(k, v);
                }
            }
            (Space::Validators, None) => {
                saved.validators.remove(&k);
            }
            (Space::Meta, Some(v)) => {
                saved.meta.insert(k, v);
            }
            (Space::Meta, None) => {
                saved.meta.remove(&k);
            }
            _ => {}
        }
    }
    saved.health = schedule::load(state, source);
    save(&ctx.kv, &key, &saved, revision).await?;
    if ctx
        .polls_done
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        % 64
        == 63
    {
        // the local state is a cache of the bucket: written out now and then
        let _ = state.flush(state.generation() + 1);
    }
    Ok(())
}

/// Reads a source's state from the bucket (retried through elections).
async fn load(kv: &kv::Store, key: &str) -> Result<(SourceState, Option<u64>), ClusterError> {
    let mut last = String::new();
    for attempt in 0..40u64 {
        match kv.entry(key).await {
            Ok(Some(e)) if e.operation == kv::Operation::Put => {
                let s = serde_json::from_slice(&e.value).unwrap_or_default();
                return Ok((s, Some(e.revision)));
            }
            Ok(_) => return Ok((SourceState::default(), None)),
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(100 * (attempt + 1).min(10))).await;
    }
    Err(ClusterError::Broker(format!("fetch state {key}: {last}")))
}

/// Writes a source's state (retried through elections).
async fn save(
    kv: &kv::Store,
    key: &str,
    s: &SourceState,
    _revision: Option<u64>,
) -> Result<(), ClusterError> {
    let body: bytes::Bytes = serde_json::to_vec(s).expect("source state").into();
    let mut last = String::new();
    for attempt in 0..40u64 {
        match kv.put(key, body.clone()).await {
            Ok(_) => return Ok(()),
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(100 * (attempt + 1).min(10))).await;
    }
    Err(ClusterError::Broker(format!("fetch state {key}: {last}")))
}

/// Puts what the bucket knows of a source into the local state the crawler reads.
fn hydrate(state: &State, source: &Source, saved: &SourceState) {
    for k in &saved.seen {
        if !state.is_seen(k) {
            state.put(Space::Seen, k, &Seen { hash: 0, at: 0 });
        }
    }
    for (url, v) in &saved.validators {
        state.put(Space::Validators, url, v);
    }
    for (k, v) in &saved.meta {
        state.put(Space::Meta, k, v);
    }
    match &saved.health {
        Some(h) => state.put(Space::Meta, &schedule::key(&source.id), h),
        None => state.delete(Space::Meta, &schedule::key(&source.id)),
    }
}

/// Publishes one document (its body in the object store when too large for a message).
async fn publish_doc(b: &Broker, inc: crate::pipeline::Incoming) -> Result<(), ClusterError> {
    let doc = WireDoc::from_incoming(inc);
    let id = doc.id();
    let payload = tokio::task::spawn_blocking(move || wire::encode(&doc))
        .await
        .map_err(|e| ClusterError::Broker(e.to_string()))?;
    match payload {
        Payload::Inline(bytes) => b.publish(DOCS_SUBJECT, &id, bytes.into()).await,
        Payload::TooLarge(body) => {
            b.put_object(&id, body).await?;
            b.publish(DOCS_SUBJECT, &id, wire::object_pointer(&id).into())
                .await
        }
    }
}

/// Keeps the partitions-owned gauge current.
async fn gauges(ctx: Arc<Ctx>) {
    loop {
        let owned = ctx
            .pins
            .lock()
            .expect("pins lock")
            .values()
            .filter(|(_, at)| at.elapsed() < Duration::from_secs(60))
            .count();
        Metrics::set(&ctx.metrics.owned_partitions, owned as u64);
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_keys_are_bucket_safe() {
        let k = state_key(3, "feed 1/é");
        assert!(k.starts_with("p3.src."));
        assert!(k
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_'));
        assert_ne!(state_key(0, "a"), state_key(0, "b"));
    }

    #[test]
    fn hydrating_restores_what_the_crawler_reads() {
        let dir = tempfile::tempdir().unwrap();
        let state = State::open(dir.path()).unwrap();
        let (cfg, errors) = crate::config::parse_sources(
            std::path::Path::new("sources.toml"),
            "[[sources]]\nid = \"s\"\nkind = \"feed\"\nurl = \"https://example.com/feed.xml\"\n",
        );
        assert!(errors.is_empty(), "{errors:?}");
        let source = cfg.sources[0].clone();
        let mut saved = SourceState::default();
        saved.seen.push_back("https://example.com/a".into());
        saved.validators.insert(
            "https://example.com/feed.xml".into(),
            Validators {
                etag: Some("\"x\"".into()),
                last_modified: None,
            },
        );
        hydrate(&state, &source, &saved);
        assert!(state.is_seen("https://example.com/a"));
        assert_eq!(
            state
                .get::<Validators>(Space::Validators, "https://example.com/feed.xml")
                .and_then(|v| v.etag),
            Some("\"x\"".into())
        );
    }
}
