//! What every handler shares: the configuration, the index (reloaded as writers commit), the
//! ledgers, the metrics, the security settings, and caches of what is costly to build (a
//! digest, the queue) kept until the index or the ledger changes.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::config::{Config, Watch};
use crate::data::DataDir;
use crate::digest::build::{Digest, Period};
use crate::fetch::schedule::Health;
use crate::index::search::{Reader, SearchError};
use crate::serve::metrics::Metrics;
use crate::serve::queue::QueueItem;
use crate::serve::store::Ledger;
use crate::state::State;

/// How long a built digest is reused when the index has not changed.
const DIGEST_TTL: Duration = Duration::from_secs(60);
/// How long source health read from the data directory is reused.
const HEALTH_TTL: Duration = Duration::from_secs(15);

/// Where source health comes from: the crawl running in this process, or the data directory
/// when no writer holds it.
#[derive(Clone, Default)]
pub enum HealthSource {
    #[default]
    Data,
    Shared(Arc<OnceLock<Arc<State>>>),
}

/// The access settings.
pub struct Security {
    /// `VIGIE_SERVE_TOKEN`: when set, every route but `/healthz` needs it (or a session).
    pub token: Option<String>,
    /// The CSRF token of this server's pages; every write must carry it.
    pub csrf: String,
    /// Sessions opened on the login page.
    pub sessions: Mutex<HashSet<String>>,
}

type DigestKey = (String, String, &'static str);
/// A cached digest: the index generation it was built on, when, and the digest.
type CachedDigest = (u64, Instant, Arc<Digest>);
/// A cached queue: index generation, ledger version, the items.
type CachedQueue = (u64, u64, Arc<Vec<QueueItem>>);
/// Source health as last read, and when.
type CachedHealth = Option<(Instant, Option<HashMap<String, Health>>)>;

/// The shared state.
pub struct App {
    pub config: Config,
    pub data: DataDir,
    reader: RwLock<Option<Arc<Reader>>>,
    pub queue_ledger: Ledger,
    pub feedback_ledger: Ledger,
    pub metrics: Metrics,
    pub security: Security,
    health_source: HealthSource,
    health: Mutex<CachedHealth>,
    digests: Mutex<HashMap<DigestKey, CachedDigest>>,
    queue: Mutex<HashMap<String, CachedQueue>>,
}

/// A random token of 32 hex digits.
pub fn random_token() -> String {
    use rand::Rng;
    let bytes: [u8; 16] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl App {
    pub fn new(config: Config, data: DataDir, token: Option<String>, health: HealthSource) -> App {
        let ws = data.workspace_dir();
        let app = App {
            config,
            queue_ledger: Ledger::open(&ws.join("queue.jsonl")),
            feedback_ledger: Ledger::open(&ws.join("alerts.jsonl")),
            data,
            reader: RwLock::new(None),
            metrics: Metrics::default(),
            security: Security {
                token,
                csrf: random_token(),
                sessions: Mutex::new(HashSet::new()),
            },
            health_source: health,
            health: Mutex::new(None),
            digests: Mutex::new(HashMap::new()),
            queue: Mutex::new(HashMap::new()),
        };
        app.refresh();
        app
    }

    /// Picks up what writers committed: opens the index once it exists, reloads it after,
    /// and rereads the ledgers. Called every half second.
    pub fn refresh(&self) {
        let current = self.reader.read().expect("reader lock").clone();
        match current {
            Some(r) => {
                if let Err(e) = r.reader.reload() {
                    tracing::warn!(error = %e, "cannot reload the index");
                }
            }
            None => {
                if let Ok(r) = Reader::open(&self.data) {
                    *self.reader.write().expect("reader lock") = Some(Arc::new(r));
                }
            }
        }
        self.queue_ledger.refresh();
        self.feedback_ledger.refresh();
    }

    /// The index, when there is one yet.
    pub fn reader(&self) -> Option<Arc<Reader>> {
        self.reader.read().expect("reader lock").clone()
    }

    /// The watch named, or the first; `None` when there is none of that name.
    pub fn watch(&self, name: Option<&str>) -> Option<&Watch> {
        match name.map(str::trim).filter(|n| !n.is_empty()) {
            Some(n) => self.config.watch(n),
            None => self.config.watches.first(),
        }
    }

    /// The time zone pages show times in: the first watch's.
    pub fn zone(&self) -> chrono_tz::Tz {
        self.config
            .watches
            .first()
            .map(|w| w.digest.timezone)
            .unwrap_or(chrono_tz::UTC)
    }

    /// The digest of `watch` over `since` (the command line's default period when `None`),
    /// written in `lang` when given, reused while the index is unchanged.
    pub fn digest(
        &self,
        reader: &Reader,
        watch: &Watch,
        since: Option<&str>,
        lang: Option<crate::analyze::lang::Lang>,
    ) -> Result<Arc<Digest>, DigestError> {
        let now = Utc::now();
        let period = match since.map(str::trim).filter(|s| !s.is_empty()) {
            None => crate::digest::last_day(now),
            Some(s) => Period {
                from: crate::serve::params::when("since", s, now).map_err(DigestError::Period)?,
                to: now,
            },
        };
        let generation = generation(reader);
        let key = (
            watch.name.clone(),
            since.unwrap_or("").to_string(),
            lang.map(|l| l.code()).unwrap_or(""),
        );
        if let Some((g, at, d)) = self.digests.lock().expect("digest cache").get(&key) {
            if *g == generation && at.elapsed() < DIGEST_TTL {
                return Ok(d.clone());
            }
        }
        let mut w = watch.clone();
        if let Some(l) = lang {
            w.digest.language = Some(l);
        }
        let d = Arc::new(crate::digest::compose(reader, &w, period).map_err(DigestError::Search)?);
        let mut cache = self.digests.lock().expect("digest cache");
        if cache.len() > 64 {
            cache.clear();
        }
        cache.insert(key, (generation, Instant::now(), d.clone()));
        Ok(d)
    }

    /// Every queue item since `since` (any state), most urgent first, reused while neither the
    /// index nor the ledger changed.
    pub fn queue(&self, reader: &Reader, since: &str) -> Result<Arc<Vec<QueueItem>>, DigestError> {
        let now = Utc::now();
        let from: DateTime<Utc> =
            crate::serve::params::when("since", since, now).map_err(DigestError::Period)?;
        let generation = generation(reader);
        let version = self.queue_ledger.version();
        if let Some((g, v, items)) = self.queue.lock().expect("queue cache").get(since) {
            if *g == generation && *v == version {
                return Ok(items.clone());
            }
        }
        let (decisions, version) = self.queue_ledger.snapshot();
        let items = Arc::new(
            crate::serve::queue::build(reader, &self.config, &decisions, from, now)
                .map_err(DigestError::Search)?,
        );
        let mut cache = self.queue.lock().expect("queue cache");
        if cache.len() > 16 {
            cache.clear();
        }
        cache.insert(since.to_string(), (generation, version, items.clone()));
        Ok(items)
    }

    /// Source health from the crawl of this process, when there is one.
    pub fn shared_health(&self) -> Option<HashMap<String, Health>> {
        let HealthSource::Shared(cell) = &self.health_source else {
            return None;
        };
        let state = cell.get()?;
        Some(
            self.config
                .sources
                .sources
                .iter()
                .filter_map(|s| Some((s.id.clone(), crate::fetch::schedule::load(state, s)?)))
                .collect(),
        )
    }

    /// Each source's health, when it can be read: from the crawl of this process, or from the
    /// data directory when no other process holds it.
    pub fn health(&self) -> Option<HashMap<String, Health>> {
        let read = |state: &State| {
            self.config
                .sources
                .sources
                .iter()
                .filter_map(|s| Some((s.id.clone(), crate::fetch::schedule::load(state, s)?)))
                .collect::<HashMap<_, _>>()
        };
        if let HealthSource::Shared(cell) = &self.health_source {
            if let Some(state) = cell.get() {
                return Some(read(state));
            }
        }
        let mut cached = self.health.lock().expect("health cache");
        if let Some((at, h)) = &*cached {
            if at.elapsed() < HEALTH_TTL {
                return h.clone();
            }
        }
        let h = (|| {
            if !self.data.state_dir().exists() {
                return Some(HashMap::new());
            }
            let _lock = self.data.lock("serve (reading source health)").ok()?;
            let state = State::open(&self.data.state_dir()).ok()?;
            Some(read(&state))
        })();
        *cached = Some((Instant::now(), h.clone()));
        h
    }
}

/// The index's generation: changes when a reload brings new commits.
pub fn generation(reader: &Reader) -> u64 {
    reader.searcher().generation().generation_id()
}

/// What building a digest or the queue can run into.
#[derive(Debug, thiserror::Error)]
pub enum DigestError {
    #[error("{0}")]
    Period(String),
    #[error(transparent)]
    Search(#[from] SearchError),
}
