//! `vigie cluster init` and `vigie cluster status`.

use std::collections::HashMap;
use std::time::Duration;

use async_nats::jetstream::{consumer, kv, object_store, stream};
use futures_util::StreamExt;
use serde::Serialize;

use crate::cluster::broker::{
    partition_consumer, Broker, ClusterError, ANALYZE_CONSUMER, BODIES, DOCS, DOCS_SUBJECT,
    FETCH_KV, FRONTIER, INDEX_CONSUMER, OWNER_GROUP, PARTITIONS_META, RECORDS, RECORDS_SUBJECT,
};

/// Default partition count of the frontier.
pub const DEFAULT_PARTITIONS: u32 = 64;
/// How long a message may stay unacknowledged before it goes to another worker. Long work
/// (a poll fetching many pages) tells the server it is still under way.
pub const ACK_WAIT: Duration = Duration::from_secs(30);
/// How long a fetcher stays owner of a partition after its last pull: a killed fetcher's
/// partitions go to a standby this long after it died.
pub const PINNED_TTL: Duration = Duration::from_secs(5);
/// Window in which a stream drops a message whose id it has already stored.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(20 * 60);

/// What `init` did.
#[derive(Debug, Default, Serialize)]
pub struct InitReport {
    pub partitions: u32,
    pub replicas: usize,
    pub created: Vec<String>,
    pub existing: Vec<String>,
    /// What `init` could not change (the replicas of what already exists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

fn stream_configs(partitions: u32, replicas: usize) -> Vec<stream::Config> {
    let mut meta = HashMap::new();
    meta.insert(PARTITIONS_META.to_string(), partitions.to_string());
    // work queues: a message leaves its stream once its consumer acknowledged it
    let queue = |name: &str, what: &str, subject: &str, window: Duration| stream::Config {
        name: name.into(),
        description: Some(format!("vigie: {what}")),
        subjects: vec![subject.into()],
        retention: stream::RetentionPolicy::WorkQueue,
        num_replicas: replicas,
        duplicate_window: window,
        metadata: meta.clone(),
        ..Default::default()
    };
    vec![
        stream::Config {
            // a poll not yet taken is replaced by the next one of its source
            max_messages_per_subject: 1,
            discard: stream::DiscardPolicy::Old,
            ..queue(
                FRONTIER,
                "polls due, one subject per source, partitioned by host",
                "vigie.frontier.>",
                Duration::from_secs(120),
            )
        },
        stream::Config {
            max_message_size: 1024 * 1024,
            ..queue(
                DOCS,
                "fetched documents, to the analysers",
                DOCS_SUBJECT,
                DUPLICATE_WINDOW,
            )
        },
        stream::Config {
            max_message_size: 1024 * 1024,
            ..queue(
                RECORDS,
                "prepared records, to the index role",
                RECORDS_SUBJECT,
                DUPLICATE_WINDOW,
            )
        },
    ]
}

fn pull_config(name: &str, filter: &str, max_ack_pending: i64) -> consumer::pull::Config {
    consumer::pull::Config {
        durable_name: Some(name.into()),
        name: Some(name.into()),
        filter_subject: filter.into(),
        ack_policy: consumer::AckPolicy::Explicit,
        ack_wait: ACK_WAIT,
        max_ack_pending,
        ..Default::default()
    }
}

/// Creates the streams, consumers and buckets, or checks that they are there; the partition
/// count is fixed by the first `init`.
pub async fn init(
    b: &Broker,
    partitions: u32,
    replicas: usize,
) -> Result<InitReport, ClusterError> {
    if partitions == 0 || partitions > 4096 {
        return Err(ClusterError::Urls(format!(
            "--partitions {partitions}: between 1 and 4096"
        )));
    }
    let mut report = InitReport {
        partitions,
        replicas,
        ..Default::default()
    };
    if let Ok(p) = b.partitions().await {
        if p != partitions {
            return Err(ClusterError::Broker(format!(
                "the frontier was created with {p} partitions, fixed at the first `cluster init` \
                 (asked: {partitions}); run it with --partitions {p}, or delete the {FRONTIER} stream to start over"
            )));
        }
    }
    for cfg in stream_configs(partitions, replicas) {
        let name = cfg.name.clone();
        match b.js.get_stream(&name).await {
            Ok(mut existing) => {
                if let Ok(info) = existing.info().await {
                    if info.config.num_replicas != replicas {
                        report.note = Some(format!(
                            "{name} keeps its {} replica(s): `cluster init` creates what is missing and changes nothing that exists",
                            info.config.num_replicas
                        ));
                    }
                }
                report.existing.push(name)
            }
            Err(_) => {
                create_retrying(|| b.js.create_stream(cfg.clone()), &name).await?;
                report.created.push(name);
            }
        }
    }
    let frontier =
        b.js.get_stream(FRONTIER)
            .await
            .map_err(|e| ClusterError::broker("frontier stream", e))?;
    for p in 0..partitions {
        let name = partition_consumer(p);
        let mut cfg = pull_config(&name, &format!("vigie.frontier.{p}.>"), 64);
        cfg.priority_policy = consumer::PriorityPolicy::PinnedClient;
        cfg.priority_groups = vec![OWNER_GROUP.into()];
        cfg.priority_timeout = PINNED_TTL;
        consumer_once(&frontier, &name, cfg, &mut report).await?;
    }
    for (stream, name, subject, max_ack_pending) in [
        (DOCS, ANALYZE_CONSUMER, DOCS_SUBJECT, 4096),
        (RECORDS, INDEX_CONSUMER, RECORDS_SUBJECT, 20_000),
    ] {
        let s =
            b.js.get_stream(stream)
                .await
                .map_err(|e| ClusterError::broker(stream, e))?;
        consumer_once(
            &s,
            name,
            pull_config(name, subject, max_ack_pending),
            &mut report,
        )
        .await?;
    }
    match b.js.get_key_value(FETCH_KV).await {
        Ok(_) => report.existing.push(format!("KV_{FETCH_KV}")),
        Err(_) => {
            create_retrying(
                || {
                    b.js.create_key_value(kv::Config {
                        bucket: FETCH_KV.into(),
                        description: "vigie: fetch state per source, owners of partitions".into(),
                        history: 1,
                        num_replicas: replicas,
                        ..Default::default()
                    })
                },
                FETCH_KV,
            )
            .await?;
            report.created.push(format!("KV_{FETCH_KV}"));
        }
    }
    match b.js.get_object_store(BODIES).await {
        Ok(_) => report.existing.push(format!("OBJ_{BODIES}")),
        Err(_) => {
            create_retrying(
                || {
                    b.js.create_object_store(object_store::Config {
                        bucket: BODIES.into(),
                        description: Some("vigie: fetched bodies too large for a message".into()),
                        num_replicas: replicas,
                        ..Default::default()
                    })
                },
                BODIES,
            )
            .await?;
            report.created.push(format!("OBJ_{BODIES}"));
        }
    }
    Ok(report)
}

/// Creation retried while the cluster settles (a node just started, no meta leader yet).
async fn create_retrying<T, E, F, Fut>(f: F, what: &str) -> Result<T, ClusterError>
where
    E: std::fmt::Display,
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
{
    let mut last = String::new();
    for attempt in 0..20 {
        match f().await {
            Ok(v) => return Ok(v),
            Err(e) => {
                last = e.to_string();
                // placement refused is final: not enough servers for the replicas asked
                if last.contains("insufficient resources")
                    || last.contains("replicas > 1 not supported")
                {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(250 * (attempt + 1).min(8))).await;
            }
        }
    }
    Err(ClusterError::Broker(format!(
        "cannot create {what}: {last}"
    )))
}

async fn consumer_once(
    stream: &stream::Stream,
    name: &str,
    cfg: consumer::pull::Config,
    report: &mut InitReport,
) -> Result<(), ClusterError> {
    if stream.consumer_info(name).await.is_ok() {
        report.existing.push(name.to_string());
        return Ok(());
    }
    create_retrying(|| stream.create_consumer(cfg.clone()), name).await?;
    report.created.push(name.to_string());
    Ok(())
}

/// One stream in `cluster status`.
#[derive(Debug, Serialize)]
pub struct StreamStatus {
    pub name: String,
    pub leader: Option<String>,
    pub replicas: Vec<ReplicaStatus>,
    pub messages: u64,
    pub bytes: u64,
    pub consumers: Vec<ConsumerStatus>,
}

#[derive(Debug, Serialize)]
pub struct ReplicaStatus {
    pub name: String,
    pub current: bool,
    pub lag: u64,
}

#[derive(Debug, Serialize)]
pub struct ConsumerStatus {
    pub name: String,
    /// Messages not yet delivered.
    pub pending: u64,
    /// Delivered, not yet acknowledged.
    pub ack_pending: usize,
    pub redelivered: usize,
    /// Pull requests waiting (workers idle).
    pub waiting: usize,
    /// For a frontier partition: the pinned client.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pinned: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct PartitionStatus {
    pub partition: u32,
    /// The fetcher that owns it (its name), when one does.
    pub owner: Option<String>,
    pub pending: u64,
    pub ack_pending: usize,
}

#[derive(Debug, Serialize)]
pub struct Status {
    pub urls: String,
    pub server: String,
    pub partitions: u32,
    pub streams: Vec<StreamStatus>,
    pub partition_owners: Vec<PartitionStatus>,
}

/// What a fetcher records when it finds itself pinned to a partition.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Owner {
    pub fetcher: String,
    pub pin: String,
    pub since: chrono::DateTime<chrono::Utc>,
}

/// The key of a partition's owner in the fetch bucket.
pub fn owner_key(p: u32) -> String {
    format!("owner.{p}")
}

/// Streams, consumers and partition owners.
pub async fn status(b: &Broker) -> Result<Status, ClusterError> {
    let partitions = b.partitions().await?;
    let kv = b.js.get_key_value(FETCH_KV).await.ok();
    let mut streams = Vec::new();
    let mut owners = Vec::new();
    for name in [FRONTIER, DOCS, RECORDS] {
        let mut s =
            b.js.get_stream(name)
                .await
                .map_err(|e| ClusterError::NotInitialised(format!("{name}: {e}")))?;
        let info = s
            .info()
            .await
            .map_err(|e| ClusterError::broker(name, e))?
            .clone();
        let mut consumers = Vec::new();
        let mut list = s.consumers();
        while let Some(c) = list.next().await {
            let Ok(c) = c else { continue };
            let pinned = c
                .priority_groups
                .iter()
                .find_map(|g| g.pinned_client_id.clone());
            if name == FRONTIER {
                if let Some(p) = c
                    .name
                    .strip_prefix("fetch-")
                    .and_then(|p| p.parse::<u32>().ok())
                {
                    let mut owner = None;
                    if let (Some(kv), Some(pin)) = (&kv, &pinned) {
                        if let Ok(Some(v)) = kv.get(owner_key(p)).await {
                            if let Ok(o) = serde_json::from_slice::<Owner>(&v) {
                                owner = Some(if &o.pin == pin {
                                    o.fetcher
                                } else {
                                    format!("pin {pin}")
                                });
                            }
                        }
                        owner.get_or_insert_with(|| format!("pin {pin}"));
                    }
                    owners.push(PartitionStatus {
                        partition: p,
                        owner,
                        pending: c.num_pending,
                        ack_pending: c.num_ack_pending,
                    });
                }
            }
            consumers.push(ConsumerStatus {
                name: c.name.clone(),
                pending: c.num_pending,
                ack_pending: c.num_ack_pending,
                redelivered: c.num_redelivered,
                waiting: c.num_waiting,
                pinned,
            });
        }
        consumers.sort_by_key(|c| natural(&c.name));
        let (leader, replicas) = match &info.cluster {
            Some(c) => (
                c.leader.clone(),
                c.replicas
                    .iter()
                    .map(|r| ReplicaStatus {
                        name: r.name.clone(),
                        current: r.current,
                        lag: r.lag.unwrap_or(0),
                    })
                    .collect(),
            ),
            None => (None, Vec::new()),
        };
        streams.push(StreamStatus {
            name: name.into(),
            leader,
            replicas,
            messages: info.state.messages,
            bytes: info.state.bytes,
            consumers,
        });
    }
    owners.sort_by_key(|o| o.partition);
    Ok(Status {
        urls: b.urls.clone(),
        server: b.client.server_info().version,
        partitions,
        streams,
        partition_owners: owners,
    })
}

/// `fetch-10` after `fetch-9`.
fn natural(name: &str) -> (String, u64) {
    let digits = name.trim_start_matches(|c: char| !c.is_ascii_digit());
    (
        name[..name.len() - digits.len()].to_string(),
        digits.parse().unwrap_or(0),
    )
}
