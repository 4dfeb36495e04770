//! The connection to the cluster and the names every role agrees on.

use std::time::{Duration, Instant};

use async_nats::jetstream;
use async_nats::jetstream::message::PublishMessage as Publish;
use xxhash_rust::xxh3::xxh3_64;

/// The frontier: one subject per source, `vigie.frontier.<partition>.<source>`.
pub const FRONTIER: &str = "VIGIE_FRONTIER";
/// Fetched documents, to the analysers.
pub const DOCS: &str = "VIGIE_DOCS";
pub const DOCS_SUBJECT: &str = "vigie.docs";
/// Prepared records, to the index role.
pub const RECORDS: &str = "VIGIE_RECORDS";
pub const RECORDS_SUBJECT: &str = "vigie.records";
/// Fetch state: per source, validators, items seen and health; per partition, its owner.
pub const FETCH_KV: &str = "vigie_fetch";
/// Bodies too large for a message.
pub const BODIES: &str = "vigie_bodies";
/// The consumer of the analysers (shared) and of the index role.
pub const ANALYZE_CONSUMER: &str = "analyze";
pub const INDEX_CONSUMER: &str = "index";
/// The priority group of the frontier's consumers.
pub const OWNER_GROUP: &str = "owner";
/// The stream metadata that records the partition count fixed at `init`.
pub const PARTITIONS_META: &str = "vigie.partitions";
/// Oldest server with pinned-client priority groups.
pub const MIN_SERVER: (u64, u64) = (2, 11);
/// How long a publish is retried (leader elections, a node restarting) before the role
/// gives up on that message (it is then redelivered to it or another worker).
pub const PUBLISH_PATIENCE: Duration = Duration::from_secs(120);

/// How long a role waits at start for a cluster electing its leaders.
pub const SETTLE: Duration = Duration::from_secs(60);

/// The frontier consumer of partition `p`.
pub fn partition_consumer(p: u32) -> String {
    format!("fetch-{p}")
}

/// The frontier subject of a source.
pub fn frontier_subject(p: u32, source_id: &str) -> String {
    format!("vigie.frontier.{p}.{:016x}", xxh3_64(source_id.as_bytes()))
}

/// The partition of a host: a hash of its lowercase name, modulo the partition count.
pub fn partition_of(host: &str, partitions: u32) -> u32 {
    (xxh3_64(host.to_ascii_lowercase().as_bytes()) % u64::from(partitions.max(1))) as u32
}

/// The partition of a source: that of its host (every source of a host in one partition, so
/// one fetcher has all of a host's requests).
pub fn source_partition(source: &crate::config::Source, partitions: u32) -> u32 {
    partition_of(source.url.host_str().unwrap_or(&source.id), partitions)
}

/// Why the cluster cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("--nats: {0}")]
    Urls(String),
    #[error("cannot reach the NATS cluster at {urls}: {why}")]
    Connect { urls: String, why: String },
    #[error("nats-server {version} at {urls} is too old: vigie needs {}.{} or newer (pinned consumers); Debian's packaged 2.9 ignores them", MIN_SERVER.0, MIN_SERVER.1)]
    OldServer { version: String, urls: String },
    #[error("the cluster has no vigie streams: run `vigie cluster init --nats URLS` first ({0})")]
    NotInitialised(String),
    #[error("{0}")]
    Broker(String),
    #[error("{0}")]
    Store(String),
}

impl ClusterError {
    pub fn broker(what: &str, e: impl std::fmt::Display) -> Self {
        ClusterError::Broker(format!("{what}: {e}"))
    }
}

/// A connection and its JetStream context.
#[derive(Clone)]
pub struct Broker {
    pub client: async_nats::Client,
    pub js: jetstream::Context,
    pub urls: String,
}

/// The cluster's addresses, without the credentials some carry (`nats://user:pass@host`).
pub struct Urls {
    pub addrs: Vec<async_nats::ServerAddr>,
    /// User and password found in an address.
    pub user: Option<(String, String)>,
    /// The addresses as they may be shown (no password).
    pub shown: String,
}

/// Parses `nats://HOST:PORT,nats://HOST:PORT`.
pub fn parse_urls(urls: &str) -> Result<Urls, ClusterError> {
    let list: Vec<&str> = urls
        .split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .collect();
    if list.is_empty() {
        return Err(ClusterError::Urls(
            "no address (expected nats://HOST:PORT[,nats://HOST:PORT…])".into(),
        ));
    }
    let mut out = Urls {
        addrs: Vec::new(),
        user: None,
        shown: String::new(),
    };
    let mut shown = Vec::new();
    for u in list {
        let with_scheme = if u.contains("://") {
            u.to_string()
        } else {
            format!("nats://{u}")
        };
        let mut parsed = url::Url::parse(&with_scheme)
            .map_err(|e| ClusterError::Urls(format!("{}: {e}", redact(u))))?;
        if !parsed.username().is_empty() {
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            };
            out.user = Some((
                decode(parsed.username()),
                decode(parsed.password().unwrap_or("")),
            ));
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
        }
        let clean = parsed.to_string().trim_end_matches('/').to_string();
        out.addrs.push(
            clean
                .parse::<async_nats::ServerAddr>()
                .map_err(|e| ClusterError::Urls(format!("{clean}: {e}")))?,
        );
        shown.push(clean);
    }
    out.shown = shown.join(",");
    Ok(out)
}

/// An address with its password hidden, for messages.
fn redact(u: &str) -> String {
    match (u.find("://"), u.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}***@{}", &u[..s + 3], &u[at + 1..]),
        _ => u.to_string(),
    }
}

/// Connects to any node of the cluster (reconnecting to the others for as long as the
/// process lives) and refuses servers older than 2.11. Credentials come from the addresses
/// (`nats://user:pass@host:port`) or from `VIGIE_NATS_USER` and `VIGIE_NATS_PASSWORD`,
/// `VIGIE_NATS_TOKEN`, or a credentials file in `VIGIE_NATS_CREDS`.
pub async fn connect(urls: &str, name: &str) -> Result<Broker, ClusterError> {
    let parsed = parse_urls(urls)?;
    let shown = parsed.shown.clone();
    let last_error = std::sync::Arc::new(std::sync::Mutex::new(None::<String>));
    let heard = last_error.clone();
    let mut opts = async_nats::ConnectOptions::new()
        .name(name)
        .connection_timeout(Duration::from_secs(5))
        .retry_on_initial_connect()
        .max_reconnects(None)
        .event_callback(move |e| {
            let heard = heard.clone();
            async move {
                tracing::info!(event = %e, "nats");
                if !matches!(e, async_nats::Event::Connected) {
                    *heard.lock().expect("event lock") = Some(e.to_string());
                }
            }
        });
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if let Some((user, pass)) = parsed.user.clone() {
        opts = opts.user_and_password(user, pass);
    } else if let (Some(user), Some(pass)) = (env("VIGIE_NATS_USER"), env("VIGIE_NATS_PASSWORD")) {
        opts = opts.user_and_password(user, pass);
    } else if let Some(token) = env("VIGIE_NATS_TOKEN") {
        opts = opts.token(token);
    } else if let Some(creds) = env("VIGIE_NATS_CREDS") {
        opts = opts
            .credentials_file(&creds)
            .await
            .map_err(|e| ClusterError::Connect {
                urls: shown.clone(),
                why: format!("VIGIE_NATS_CREDS={creds}: {e}"),
            })?;
    }
    let client = tokio::time::timeout(Duration::from_secs(20), async {
        let c = opts.connect(parsed.addrs).await?;
        // the initial connection is retried in the background: wait until it is up
        while c.connection_state() != async_nats::connection::State::Connected {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok::<_, async_nats::ConnectError>(c)
    })
    .await
    .map_err(|_| ClusterError::Connect {
        urls: shown.clone(),
        why: match last_error.lock().expect("event lock").take() {
            Some(e) => format!("no node accepted the connection in 20 s (last: {e})"),
            None => "no node answered in 20 s".into(),
        },
    })?
    .map_err(|e| ClusterError::Connect {
        urls: shown.clone(),
        why: e.to_string(),
    })?;
    let version = client.server_info().version;
    if !version_ok(&version) {
        return Err(ClusterError::OldServer {
            version,
            urls: shown,
        });
    }
    let js = jetstream::ContextBuilder::new()
        .timeout(Duration::from_secs(10))
        .build(client.clone());
    Ok(Broker {
        client,
        js,
        urls: shown,
    })
}

/// `2.11.0` or newer.
pub fn version_ok(version: &str) -> bool {
    let mut parts = version
        .trim_start_matches('v')
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse::<u64>().unwrap_or(0));
    let major = parts.next().unwrap_or(0);
    let minor = parts.next().unwrap_or(0);
    (major, minor) >= MIN_SERVER
}

impl Broker {
    /// The partition count fixed at `init`, waiting (up to [`SETTLE`]) for a cluster that is
    /// electing its leaders; a cluster without vigie's streams is an error at once.
    pub async fn partitions(&self) -> Result<u32, ClusterError> {
        let started = Instant::now();
        loop {
            match self.partitions_once().await {
                Ok(p) => return Ok(p),
                Err(e) => {
                    let missing = e.to_string().contains("not found");
                    if missing || started.elapsed() > SETTLE {
                        return Err(e);
                    }
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
    }

    async fn partitions_once(&self) -> Result<u32, ClusterError> {
        let mut stream = self
            .js
            .get_stream(FRONTIER)
            .await
            .map_err(|e| ClusterError::NotInitialised(e.to_string()))?;
        let info = stream
            .info()
            .await
            .map_err(|e| ClusterError::broker("frontier stream", e))?;
        info.config
            .metadata
            .get(PARTITIONS_META)
            .and_then(|p| p.parse::<u32>().ok())
            .filter(|p| *p > 0)
            .ok_or_else(|| {
                ClusterError::NotInitialised(format!("{FRONTIER} has no {PARTITIONS_META}"))
            })
    }

    /// Publishes to a stream and waits for the stream to store it, retrying (same message
    /// id: the stream drops the copies) through leader elections and restarts.
    pub async fn publish(
        &self,
        subject: &str,
        id: &str,
        payload: bytes::Bytes,
    ) -> Result<(), ClusterError> {
        let started = Instant::now();
        let mut wait = Duration::from_millis(100);
        loop {
            let msg = Publish::build().message_id(id).payload(payload.clone());
            let err = match self.js.send_publish(subject.to_string(), msg).await {
                Ok(ack) => match ack.await {
                    Ok(_) => return Ok(()),
                    Err(e) => e.to_string(),
                },
                Err(e) => e.to_string(),
            };
            if started.elapsed() > PUBLISH_PATIENCE {
                return Err(ClusterError::Broker(format!(
                    "publishing to {subject} failed for {} s: {err}",
                    PUBLISH_PATIENCE.as_secs()
                )));
            }
            tracing::debug!(subject, error = %err, "publish retried");
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(2));
        }
    }
}

impl Broker {
    /// Stores a body too large for a message under `name` (retried like a publish).
    pub async fn put_object(&self, name: &str, body: Vec<u8>) -> Result<(), ClusterError> {
        let started = Instant::now();
        loop {
            let err = match self.js.get_object_store(BODIES).await {
                Ok(store) => {
                    let mut reader = std::io::Cursor::new(body.clone());
                    match store.put(name, &mut reader).await {
                        Ok(_) => return Ok(()),
                        Err(e) => e.to_string(),
                    }
                }
                Err(e) => e.to_string(),
            };
            if started.elapsed() > PUBLISH_PATIENCE {
                return Err(ClusterError::Broker(format!("storing {name}: {err}")));
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Reads a stored body.
    pub async fn get_object(&self, name: &str) -> Result<Vec<u8>, ClusterError> {
        use tokio::io::AsyncReadExt;
        let store = self
            .js
            .get_object_store(BODIES)
            .await
            .map_err(|e| ClusterError::broker("bodies' store", e))?;
        let mut obj = store
            .get(name)
            .await
            .map_err(|e| ClusterError::broker(&format!("body {name}"), e))?;
        let mut out = Vec::new();
        obj.read_to_end(&mut out)
            .await
            .map_err(|e| ClusterError::broker(&format!("body {name}"), e))?;
        Ok(out)
    }

    /// Deletes a body once its message is done with (best effort: the store is a buffer).
    pub async fn delete_object(&self, name: &str) {
        if let Ok(store) = self.js.get_object_store(BODIES).await {
            let _ = store.delete(name).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert!(version_ok("2.11.0"));
        assert!(version_ok("2.15.1"));
        assert!(version_ok("v3.0.0"));
        assert!(!version_ok("2.9.25"));
        assert!(!version_ok("2.10.22"));
        assert!(!version_ok("garbage"));
    }

    #[test]
    fn partitions_are_stable_and_spread() {
        assert_eq!(
            partition_of("Example.COM", 64),
            partition_of("example.com", 64)
        );
        let mut hit = [0u32; 8];
        for i in 0..800 {
            hit[partition_of(&format!("host{i}.example"), 8) as usize] += 1;
        }
        assert!(hit.iter().all(|&n| n > 60), "{hit:?}");
    }

    #[test]
    fn urls() {
        assert_eq!(
            parse_urls("nats://127.0.0.1:4222, nats://127.0.0.1:4223")
                .unwrap()
                .addrs
                .len(),
            2
        );
        let u = parse_urls("nats://vigie:s%3Fcret@127.0.0.1:4222,127.0.0.1:4223").unwrap();
        assert_eq!(u.user, Some(("vigie".into(), "s?cret".into())));
        assert!(!u.shown.contains("cret"), "{}", u.shown);
        assert_eq!(u.addrs.len(), 2);
        assert_eq!(redact("nats://a:b@h:1"), "nats://***@h:1");
        assert!(parse_urls(" , ").is_err());
    }
}
