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

/// Items remembered as seen per source (the oldest are forgotten: they have left the list)...
pub const MAX_SEEN: usize = 20_000;
/// ...and at most this many bytes of their addresses, so that a source's state stays well
/// under the server's default 1 MB message limit.
pub const MAX_SEEN_BYTES: usize = 512 * 1024;
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
    /// Its key in the registry of fetchers.
    key: String,
    partitions: u32,
    crawler: Arc<Crawler>,
    /// Source by the last token of its frontier subject.
    by_subject: HashMap<String, Source>,
    kv: kv::Store,
    metrics: Arc<Metrics>,
    running: Mutex<HashSet<String>>,
    /// Partitions this fetcher got polls of: the pin and when.
    pins: Mutex<HashMap<u32, (String, Instant)>>,
    /// Polls under way, per partition.
    inflight: Mutex<HashMap<u32, usize>>,
    /// The fetchers alive (their name and when they were last heard of); `None` until the
    /// registry was read.
    live: Mutex<Option<HashMap<String, Instant>>>,
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
        key: fetcher_key(&name),
        name,
        partitions,
        crawler,
        by_subject,
        kv,
        metrics,
        running: Mutex::new(HashSet::new()),
        pins: Mutex::new(HashMap::new()),
        inflight: Mutex::new(HashMap::new()),
        live: Mutex::new(None),
        polls_done: Default::default(),
    });
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(ticker(ctx.clone(), config.sources.sources.clone()));
    for p in 0..partitions {
        tasks.spawn(partition(ctx.clone(), p));
    }
    tasks.spawn(gauges(ctx.clone()));
    tasks.spawn(registry(ctx.clone()));
    stop.await;
    tasks.abort_all();
    // the others take this fetcher's partitions without waiting for it to be forgotten
    let _ = ctx.kv.delete(fetcher_key(&ctx.name)).await;
    Ok(())
}

/// How often a fetcher says it is alive.
const HEARTBEAT: Duration = Duration::from_secs(2);
/// A fetcher not heard of for this long is gone: its partitions go to the others.
const LIVE_FOR: Duration = Duration::from_secs(7);

/// The bucket key of a fetcher's heartbeat.
fn fetcher_key(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("fetcher.{safe}")
}

/// The fetcher a partition belongs to among `live` (rendezvous hashing: each partition to
/// the fetcher whose name hashes highest with it, so that a fetcher joining or leaving moves
/// only its share).
pub fn preferred<'a>(p: u32, live: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    live.into_iter()
        .max_by_key(|name| xxhash_rust::xxh3::xxh3_64(format!("{p}/{name}").as_bytes()))
}

impl Ctx {
    /// Whether this fetcher should own `p`: it is the preferred one among the fetchers alive
    /// (itself included), or the registry cannot be read.
    fn should_own(&self, p: u32) -> bool {
        let live = self.live.lock().expect("live lock");
        let Some(live) = live.as_ref() else {
            return true;
        };
        let names = live
            .iter()
            .filter(|(_, at)| at.elapsed() < LIVE_FOR)
            .map(|(n, _)| n.as_str())
            .chain(std::iter::once(self.key.as_str()));
        preferred(p, names) == Some(self.key.as_str())
    }

    fn inflight(&self, p: u32) -> usize {
        self.inflight
            .lock()
            .expect("inflight lock")
            .get(&p)
            .copied()
            .unwrap_or(0)
    }
}

/// Says this fetcher is alive every [`HEARTBEAT`] and follows the others'.
async fn registry(ctx: Arc<Ctx>) {
    let beat = {
        let ctx = ctx.clone();
        async move {
            loop {
                let now = Utc::now().to_rfc3339();
                if ctx.kv.put(ctx.key.clone(), now.into()).await.is_err() {
                    Metrics::inc(&ctx.metrics.broker_errors);
                }
                tokio::time::sleep(HEARTBEAT).await;
            }
        }
    };
    let follow = async {
        loop {
            match ctx.kv.watch_with_history("fetcher.>").await {
                Ok(mut w) => {
                    while let Some(e) = w.next().await {
                        let Ok(e) = e else { break };
                        let mut live = ctx.live.lock().expect("live lock");
                        let live = live.get_or_insert_with(HashMap::new);
                        if e.operation == kv::Operation::Put {
                            // how old the heartbeat is, by the server's clock and ours
                            let now = Utc::now().timestamp_nanos_opt().unwrap_or_default() as i128;
                            let age = Duration::from_nanos(
                                (now - e.created.unix_timestamp_nanos()).clamp(0, u64::MAX as i128)
                                    as u64,
                            );
                            let at = Instant::now().checked_sub(age).unwrap_or_else(Instant::now);
                            live.insert(e.key, at);
                        } else {
                            live.remove(&e.key);
                        }
                    }
                }
                Err(_) => Metrics::inc(&ctx.metrics.broker_errors),
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    };
    tokio::join!(beat, follow);
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

/// Pulls the polls of partition `p` while this fetcher should own it; the server delivers
/// them only while it is the pinned one. A partition that belongs to another fetcher (one
/// joined) is let go gracefully: its polls are held back until those under way here are
/// done, and only then does this fetcher stop pulling, so that the next owner (pinned once
/// this one stopped) never sends a request beside it.
async fn partition(ctx: Arc<Ctx>, p: u32) {
    loop {
        if !ctx.should_own(p) {
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
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
        let mut released = false;
        match pulled {
            Ok(mut messages) => {
                let mut check = tokio::time::interval(Duration::from_secs(1));
                let mut releasing = false;
                loop {
                    tokio::select! {
                        m = messages.next() => match m {
                            Some(Ok(msg)) if releasing => {
                                // for the next owner, once this one stops pulling
                                let _ = msg.ack_with(AckKind::Nak(Some(PINNED_TTL * 2))).await;
                            }
                            Some(Ok(msg)) => {
                                *ctx.inflight.lock().expect("inflight lock").entry(p).or_default() += 1;
                                let ctx = ctx.clone();
                                tokio::spawn(async move {
                                    poll_message(ctx.clone(), p, msg).await;
                                    if let Some(n) = ctx.inflight.lock().expect("inflight lock").get_mut(&p) {
                                        *n = n.saturating_sub(1);
                                    }
                                });
                            }
                            Some(Err(e)) => {
                                Metrics::inc(&ctx.metrics.broker_errors);
                                tracing::debug!(partition = p, error = %e, "pulling polls stopped");
                                break;
                            }
                            None => break,
                        },
                        _ = check.tick() => {
                            if !releasing && !ctx.should_own(p) {
                                tracing::info!(partition = p, "partition belongs to another fetcher: letting it go");
                                releasing = true;
                            }
                            if releasing && ctx.inflight(p) == 0 {
                                released = true;
                                break;
                            }
                        }
                    }
                }
            }
            Err(e) => {
                Metrics::inc(&ctx.metrics.broker_errors);
                tracing::debug!(partition = p, error = %e, "frontier consumer not reachable");
            }
        }
        if released {
            ctx.pins.lock().expect("pins lock").remove(&p);
            // long enough for the server to pin the next owner
            tokio::time::sleep(PINNED_TTL * 2).await;
        } else {
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
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
    let health = schedule::load(state, source);
    if !needs_save(
        &saved,
        &handed,
        &staged,
        health.as_ref(),
        Utc::now().timestamp(),
    ) {
        return Ok(());
    }
    let mut revision = revision;
    let mut attempt = 0u64;
    loop {
        apply(&mut saved, &handed, &staged, health.clone());
        match save(&ctx.kv, &key, &saved, revision).await {
            Ok(()) => break,
            Err(Saved::Conflict) if attempt < 20 => {
                // written by another fetcher meanwhile (a handover): this poll's news on top
                // of what it wrote
                (saved, revision) = load(&ctx.kv, &key).await?;
            }
            Err(Saved::Conflict) => {
                return Err(ClusterError::Broker(format!(
                    "fetch state {key}: written by others at every try"
                )))
            }
            Err(Saved::Failed(e)) => return Err(e),
        }
        attempt += 1;
    }
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

/// What a poll adds to its source's state: the items it handed over, the state it staged,
/// the source's health.
fn apply(
    saved: &mut SourceState,
    handed: &[String],
    staged: &[(Space, String, Option<serde_json::Value>)],
    health: Option<Health>,
) {
    let known: HashSet<&String> = saved.seen.iter().collect();
    let fresh: Vec<String> = handed
        .iter()
        .filter(|k| !known.contains(k))
        .cloned()
        .collect();
    saved.seen.extend(fresh);
    let mut bytes: usize = saved.seen.iter().map(|k| k.len() + 3).sum();
    while saved.seen.len() > MAX_SEEN || bytes > MAX_SEEN_BYTES {
        match saved.seen.pop_front() {
            Some(k) => bytes -= k.len() + 3,
            None => break,
        }
    }
    for (space, k, v) in staged {
        match (space, v) {
            (Space::Validators, Some(v)) => {
                if let Ok(v) = serde_json::from_value(v.clone()) {
                    saved.validators.insert(k.clone(), v);
                }
            }
            (Space::Validators, None) => {
                saved.validators.remove(k);
            }
            (Space::Meta, Some(v)) => {
                saved.meta.insert(k.clone(), v.clone());
            }
            (Space::Meta, None) => {
                saved.meta.remove(k);
            }
            _ => {}
        }
    }
    saved.health = health;
}

/// Whether a poll changed its source's state: new items, other validators or cursors, a
/// health that changed (beyond the time of the last poll, written at most every
/// [`HEALTH_EVERY`] seconds). A feed answering 304 every interval costs no write.
fn needs_save(
    saved: &SourceState,
    handed: &[String],
    staged: &[(Space, String, Option<serde_json::Value>)],
    health: Option<&Health>,
    now: i64,
) -> bool {
    if !handed.is_empty() {
        return true;
    }
    let same_staged = staged.iter().all(|(space, k, v)| match (space, v) {
        (Space::Validators, Some(v)) => saved
            .validators
            .get(k)
            .is_some_and(|old| serde_json::to_value(old).ok().as_ref() == Some(v)),
        (Space::Validators, None) => !saved.validators.contains_key(k),
        (Space::Meta, Some(v)) => saved.meta.get(k) == Some(v),
        (Space::Meta, None) => !saved.meta.contains_key(k),
        _ => true,
    });
    if !same_staged {
        return true;
    }
    match (saved.health.as_ref(), health) {
        (None, None) => false,
        (Some(old), Some(new)) => {
            let moved = |h: &Health| {
                (
                    h.url.clone(),
                    h.failures,
                    h.not_before,
                    h.last_error.clone(),
                    h.problems.clone(),
                )
            };
            moved(old) != moved(new) || now - old.last_attempt >= HEALTH_EVERY
        }
        _ => true,
    }
}

/// Seconds between two writes of a source's health when nothing else changed.
pub const HEALTH_EVERY: i64 = 60;

/// Why a source's state was not written.
enum Saved {
    /// Another fetcher wrote it since it was read.
    Conflict,
    Failed(ClusterError),
}

/// Writes a source's state if nobody wrote it since it was read at `revision` (retried
/// through elections).
async fn save(
    kv: &kv::Store,
    key: &str,
    s: &SourceState,
    revision: Option<u64>,
) -> Result<(), Saved> {
    let body: bytes::Bytes = serde_json::to_vec(s).expect("source state").into();
    let mut last = String::new();
    for attempt in 0..40u64 {
        let written = match revision {
            Some(r) => kv.update(key, body.clone(), r).await.map_err(|e| {
                let conflict = e.kind() == kv::UpdateErrorKind::WrongLastRevision;
                (conflict, e.to_string())
            }),
            None => kv.create(key, body.clone()).await.map_err(|e| {
                let conflict = e.kind() == kv::CreateErrorKind::AlreadyExists;
                (conflict, e.to_string())
            }),
        };
        match written {
            Ok(_) => return Ok(()),
            Err((true, _)) => return Err(Saved::Conflict),
            Err((false, e)) => last = e,
        }
        tokio::time::sleep(Duration::from_millis(100 * (attempt + 1).min(10))).await;
    }
    Err(Saved::Failed(ClusterError::Broker(format!(
        "fetch state {key}: {last}"
    ))))
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
    fn partitions_spread_over_fetchers_and_move_only_their_share() {
        let two = ["fetch-a-1", "fetch-b-2"];
        let three = ["fetch-a-1", "fetch-b-2", "fetch-c-3"];
        let mut per = HashMap::new();
        let mut moved = 0;
        for p in 0..64 {
            let before = preferred(p, two.iter().copied()).unwrap();
            let after = preferred(p, three.iter().copied()).unwrap();
            *per.entry(before).or_insert(0) += 1;
            if before != after {
                assert_eq!(after, "fetch-c-3", "only the newcomer takes partitions");
                moved += 1;
            }
        }
        assert!(per.values().all(|&n| n >= 20), "{per:?}");
        assert!((10..=35).contains(&moved), "{moved} moved");
        assert_eq!(preferred(3, std::iter::empty()), None);
        assert!(fetcher_key("fetch-host.lan-12").starts_with("fetcher.fetch-host_lan-12"));
    }

    #[test]
    fn a_poll_that_changed_nothing_writes_nothing() {
        let h = |at: i64| Health {
            url: "https://example.com/feed.xml".into(),
            last_attempt: at,
            last_success: Some(at),
            failures: 0,
            not_before: None,
            last_error: None,
            problems: Vec::new(),
        };
        let mut saved = SourceState {
            health: Some(h(1000)),
            ..Default::default()
        };
        saved.validators.insert(
            "https://example.com/feed.xml".into(),
            Validators {
                etag: Some("\"a\"".into()),
                last_modified: None,
            },
        );
        let same = vec![(
            Space::Validators,
            "https://example.com/feed.xml".to_string(),
            Some(serde_json::json!({"etag": "\"a\"", "last_modified": null})),
        )];
        assert!(!needs_save(&saved, &[], &[], Some(&h(1010)), 1010));
        assert!(!needs_save(&saved, &[], &same, Some(&h(1010)), 1010));
        assert!(needs_save(
            &saved,
            &["https://example.com/a".into()],
            &[],
            Some(&h(1010)),
            1010
        ));
        assert!(
            needs_save(&saved, &[], &[], Some(&h(1070)), 1070),
            "health now and then"
        );
        let mut failing = h(1010);
        failing.failures = 1;
        assert!(needs_save(&saved, &[], &[], Some(&failing), 1010));
        let other = vec![(
            Space::Validators,
            "https://example.com/feed.xml".to_string(),
            Some(serde_json::json!({"etag": "\"b\"", "last_modified": null})),
        )];
        assert!(needs_save(&saved, &[], &other, Some(&h(1010)), 1010));
    }

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
