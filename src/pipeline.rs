//! Wiring: sources → transforms → sinks.
//!
//! A source (the JSON Lines reader, the crawler) sends [`Incoming`] documents into a bounded
//! channel. A pool of worker threads runs the synchronous transforms on each ([`Transform`]:
//! extraction, analysis, index record), and hands the results back *in input order* to the
//! single [`Sink`], which deduplicates, indexes and commits. A full channel is the
//! backpressure: a slow index never makes memory grow, and memory never depends on the input
//! size. Dropping the sender is the shutdown: every stage drains and exits.

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use xxhash_rust::xxh3::xxh3_64;

use crate::alert::channel::Deliverer;
use crate::alert::detect::{Observation, WatchDetectors};
use crate::alert::Alert;
use crate::analyze::lang::Lang;
use crate::analyze::signal::{extract_terms, Terms};
use crate::analyze::text::{Analyzed, TokenKind};
use crate::analyze::Analyzer;
use crate::config::Config;
use crate::doc::{Analysis, Document, Label};
use crate::extract;
use crate::extract::dedup;
use crate::index::writer::{Store, StoreError};
use crate::index::{build_record, Fields, IndexRecord};
use crate::state::{Seen, Space};

/// Documents waiting between a source and the transforms.
pub const SOURCE_CHANNEL: usize = 128;
/// Documents being transformed or waiting for their turn at the sink: enough for the
/// transforms to go on through a commit (detectors, index segment, state: about 0.3 s at
/// 20,000 posts on two cores; 4,096 ran out before its end and left both cores idle).
pub const MAX_IN_FLIGHT: usize = 8192;
/// Items the feeder of [`ordered_map`] may cut ahead of the workers: enough that it runs in
/// bursts and a worker never waits for it. With two per worker, the feeder was woken for
/// nearly every item, and it and the workers took turns on the cores (an ingest of 20,000
/// posts on two cores: 19,000 preemptions, 3,700 with this).
const FED_AHEAD: usize = 1024;
/// Largest document text analysed; longer ones are reported and skipped.
pub const MAX_TEXT_BYTES: usize = 8 * 1024 * 1024;
/// Largest HTML body extracted.
pub const MAX_HTML_BYTES: usize = 32 * 1024 * 1024;

/// A document from a source, before the transforms.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub doc: Document,
    /// HTML to extract the main text (and missing metadata) from.
    pub html: Option<String>,
    /// Tags of the source, for watch membership.
    pub tags: Vec<String>,
    /// Where it came from, for messages (`line 12`, a URL).
    pub origin: String,
}

/// A document after the transforms, ready for the sink.
pub struct Prepared {
    pub key: String,
    pub doc: Document,
    /// Hash of the analysed content and its metadata: unchanged documents are not re-indexed.
    pub hash: u64,
    /// Hash of the words alone: copies of one text at other addresses share it.
    pub hash_content: u64,
    pub analysis: Analysis,
    pub record: IndexRecord,
    pub watches: Vec<String>,
    /// Terms for emerging-signal detection (empty when no watch listens).
    pub terms: Terms,
    pub origin: String,
    /// MinHash of the words, for texts long enough to be copied (syndication, reposts).
    pub signature: Option<dedup::Signature>,
}

/// What the sink needs of a prepared document: its identity and hashes, its index record,
/// and what the detectors read. A cluster's analysers send it to the index role.
pub struct Ready {
    pub key: String,
    pub url: String,
    pub hash: u64,
    pub hash_content: u64,
    pub author: Option<String>,
    pub published: Option<chrono::DateTime<chrono::Utc>>,
    /// Event time: published, else fetched.
    pub at: chrono::DateTime<chrono::Utc>,
    /// The brands mentioned, each with its sentiment (filled only when a watch listens).
    pub brands: Vec<(String, Label)>,
    pub watches: Vec<String>,
    pub terms: Terms,
    pub signature: Option<dedup::Signature>,
    pub record: IndexRecord,
}

impl Prepared {
    /// The sink's part.
    pub fn ready(self) -> Ready {
        let brands = if self.watches.is_empty() || self.doc.published.is_none() {
            Vec::new()
        } else {
            self.analysis
                .brands()
                .into_iter()
                .map(|b| {
                    let label = self.analysis.brand_sentiment(&b).label;
                    (b, label)
                })
                .collect()
        };
        Ready {
            key: self.key,
            at: self.doc.event_time(),
            url: self.doc.url,
            hash: self.hash,
            hash_content: self.hash_content,
            author: self.doc.author,
            published: self.doc.published,
            brands,
            watches: self.watches,
            terms: self.terms,
            signature: self.signature,
            record: self.record,
        }
    }
}

/// The synchronous transforms, shared by the workers.
pub struct Transform {
    pub analyzer: Analyzer,
    pub config: Arc<Config>,
    pub fields: Fields,
}

impl Transform {
    pub fn new(config: Arc<Config>) -> Self {
        let (_, fields) = crate::index::schema();
        Transform {
            analyzer: Analyzer::new(&config),
            config,
            fields,
        }
    }

    /// Extraction (when HTML came in), canonical key, analysis, index record.
    pub fn prepare(&self, inc: Incoming) -> Result<Prepared, String> {
        let Incoming {
            mut doc,
            html,
            tags,
            origin,
        } = inc;
        if let Some(html) = html {
            if html.len() > MAX_HTML_BYTES {
                return Err(format!(
                    "HTML of {} MB is over the {} MB limit",
                    html.len() >> 20,
                    MAX_HTML_BYTES >> 20
                ));
            }
            let page = extract::page::extract_page(&html, Some(&doc.url));
            // the page's main text wins over a summary, unless extraction found far less (a
            // page that needs scripts, a consent wall)
            let page_chars = page.text.trim().chars().count();
            if page_chars > 0 && page_chars * 2 >= doc.text.trim().chars().count() {
                doc.text = page.text;
            }
            if doc.title.trim().is_empty() {
                doc.title = page.title;
            }
            if doc.published.is_none() {
                doc.published = page.published;
            }
            if doc.author.is_none() {
                doc.author = page.author;
            }
            if doc.lang_hint.is_none() {
                doc.lang_hint = page.lang.as_deref().and_then(Lang::from_code);
            }
        }
        if doc.text.len() + doc.title.len() > MAX_TEXT_BYTES {
            return Err(format!(
                "text of {} MB is over the {} MB limit",
                (doc.text.len() + doc.title.len()) >> 20,
                MAX_TEXT_BYTES >> 20
            ));
        }
        let key = extract::url::canonicalize(&doc.url);
        let content = doc.content();
        let (analysis, analyzed) = self.analyzer.analyze(&content, doc.lang_hint);
        let (hash, hash_content) = content_hash(&analyzed, &doc);
        // a document of a configured source carries that source's tags, wherever it came
        // from (the crawler, or a JSON Lines line naming the source)
        let configured = || {
            self.config
                .sources
                .sources
                .iter()
                .find(|s| s.id == doc.source)
                .map(|s| s.tags.as_slice())
        };
        let watches: Vec<String> = self
            .config
            .watches
            .iter()
            .filter(|w| {
                w.listens_to(&doc.source, &tags)
                    || configured().is_some_and(|t| w.listens_to(&doc.source, t))
            })
            .map(|w| w.name.clone())
            .collect();
        let record = build_record(
            &self.fields,
            &key,
            &doc,
            &content,
            &analyzed,
            &analysis,
            &watches,
        );
        let terms = if watches.is_empty() {
            Terms::default()
        } else {
            extract_terms(&analyzed)
        };
        let signature = dedup::fingerprint(
            analyzed
                .tokens
                .iter()
                .filter(|t| t.is_word())
                .map(|t| t.folded.as_str()),
        );
        Ok(Prepared {
            key,
            doc,
            hash,
            hash_content,
            analysis,
            record,
            watches,
            terms,
            origin,
            signature,
        })
    }
}

/// Hashes of what the analyses read (folded words), with and without the metadata shown with
/// it: the same document again hashes the same; an edit changes it; a copy elsewhere shares
/// the second.
fn content_hash(a: &Analyzed<'_>, doc: &Document) -> (u64, u64) {
    let mut buf = String::with_capacity(a.text.len());
    for t in a.tokens.iter().filter(|t| t.kind != TokenKind::Emoji) {
        buf.push_str(&t.folded);
        buf.push(' ');
    }
    let words = xxh3_64(buf.as_bytes());
    buf.push('\u{1}');
    // an undated document's time is when it was read: the same text read again is unchanged
    if let Some(published) = doc.published {
        buf.push_str(&published.timestamp().to_string());
    }
    buf.push('\u{1}');
    buf.push_str(&doc.source);
    buf.push('\u{1}');
    buf.push_str(&doc.url);
    (xxh3_64(buf.as_bytes()), words)
}

/// Counters of a run, shared with progress displays.
#[derive(Debug, Default)]
pub struct Stats {
    /// Documents that reached the sink.
    pub received: AtomicU64,
    /// New documents indexed.
    pub added: AtomicU64,
    /// Known documents whose content changed.
    pub updated: AtomicU64,
    /// Known documents, unchanged.
    pub unchanged: AtomicU64,
    /// Documents the transforms refused (too big, broken).
    pub failed: AtomicU64,
    /// Alerts raised.
    pub alerts: AtomicU64,
    /// New or changed documents that are near-copies of one already indexed.
    pub copies: AtomicU64,
}

impl Stats {
    pub fn get(c: &AtomicU64) -> u64 {
        c.load(Ordering::Relaxed)
    }

    fn inc(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }
}

/// New documents waiting for the detectors before a commit forces them through.
pub const MAX_QUEUED_DETECTIONS: usize = 8192;

/// A new document as the detectors need it.
struct Queued {
    url: String,
    at: chrono::DateTime<chrono::Utc>,
    content_hash: u64,
    terms: Terms,
    brands: Vec<(String, Label)>,
    watches: Vec<String>,
}

/// What the sink did with one document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Added,
    Updated,
    Unchanged,
}

/// The single consumer: dedup against the state, signal detectors, index, commit by size or
/// time. Detector state is saved with each commit; alerts are recorded in the index with the
/// documents that raised them and delivered once that commit is on disk.
pub struct Sink {
    pub store: Store,
    pub stats: Arc<Stats>,
    config: Arc<Config>,
    detectors: BTreeMap<String, WatchDetectors>,
    /// New documents of the uncommitted batch, waiting for the detectors.
    to_detect: Vec<Queued>,
    /// Alerts of the uncommitted batch, delivered after the commit.
    pending_alerts: Vec<Alert>,
    deliverer: Option<Deliverer>,
}

impl Sink {
    pub fn new(store: Store, config: Arc<Config>) -> Self {
        let mut detectors = BTreeMap::new();
        for w in &config.watches {
            let saved = store.state.get_raw(Space::Detectors, &w.name);
            let d = saved
                .and_then(|b| WatchDetectors::from_bytes(&b))
                .unwrap_or_default();
            detectors.insert(w.name.clone(), d);
        }
        Sink {
            store,
            stats: Arc::new(Stats::default()),
            config,
            detectors,
            to_detect: Vec::new(),
            pending_alerts: Vec::new(),
            deliverer: Some(Deliverer::new()),
        }
    }

    /// Queues a new document for the detectors of its watches. Undated documents are not
    /// queued: their time is only when vigie read them, and an archive imported today is no
    /// rise of today.
    fn queue_detection(&mut self, r: &mut Ready) {
        if r.watches.is_empty() || r.published.is_none() {
            return;
        }
        self.to_detect.push(Queued {
            url: r.url.clone(),
            at: r.at,
            content_hash: r.hash_content,
            terms: std::mem::take(&mut r.terms),
            brands: std::mem::take(&mut r.brands),
            watches: r.watches.clone(),
        });
    }

    /// Runs the detectors over the queued documents in event-time order (a first crawl brings
    /// history out of order) and records the alerts they raise.
    fn run_detectors(&mut self) -> Result<(), StoreError> {
        let mut queued = std::mem::take(&mut self.to_detect);
        queued.sort_by(|a, b| a.at.cmp(&b.at).then(a.url.cmp(&b.url)));
        for q in &queued {
            let obs = Observation {
                url: &q.url,
                at: q.at,
                content_hash: q.content_hash,
                terms: &q.terms,
                brands: &q.brands,
            };
            for name in &q.watches {
                let (Some(watch), Some(det)) =
                    (self.config.watch(name), self.detectors.get_mut(name))
                else {
                    continue;
                };
                for alert in det.observe(&obs, watch) {
                    self.store.upsert(alert.record(&self.store.fields))?;
                    if !alert.update {
                        // a reminder recalls an event: delivered, not counted as a new alert
                        if !alert.reminder {
                            Stats::inc(&self.stats.alerts);
                        }
                        self.pending_alerts.push(alert);
                    }
                }
            }
        }
        Ok(())
    }

    pub fn accept(&mut self, p: Prepared) -> Result<Outcome, StoreError> {
        self.accept_ready(p.ready())
    }

    /// [`Sink::accept`] for a document prepared elsewhere (an analyser of a cluster).
    pub fn accept_ready(&mut self, mut r: Ready) -> Result<Outcome, StoreError> {
        Stats::inc(&self.stats.received);
        let previous = self.store.state.seen(&r.key);
        let outcome = match previous {
            Some(s) if s.hash == r.hash => Outcome::Unchanged,
            Some(_) => Outcome::Updated,
            None => Outcome::Added,
        };
        match outcome {
            Outcome::Unchanged => Stats::inc(&self.stats.unchanged),
            Outcome::Updated | Outcome::Added => {
                let at = r.at.timestamp();
                // a near-copy of a text already indexed (the same story syndicated, a repost)
                // is indexed under its own address but points at the first one and counts
                // once in the signals
                match &self.original_of(&r, outcome) {
                    Some(o) => {
                        r.record.doc.add_text(self.store.fields.dup_of, o);
                        Stats::inc(&self.stats.copies);
                    }
                    None if outcome == Outcome::Added => self.queue_detection(&mut r),
                    None => {}
                }
                let key = std::mem::take(&mut r.key);
                if outcome == Outcome::Added {
                    self.store.insert_new(r.record)?;
                } else {
                    self.store.upsert(r.record)?;
                }
                self.store
                    .state
                    .put(crate::state::Space::Seen, &key, &Seen { hash: r.hash, at });
                Stats::inc(if outcome == Outcome::Added {
                    &self.stats.added
                } else {
                    &self.stats.updated
                });
            }
        }
        if self.store.commit_due() || self.to_detect.len() >= MAX_QUEUED_DETECTIONS {
            self.commit()?;
        }
        Ok(outcome)
    }

    /// The key of the document `r` is a near-copy of; otherwise `r` is remembered as an
    /// original (when its text is long enough to be copied).
    fn original_of(&self, r: &Ready, outcome: Outcome) -> Option<String> {
        let sims = dedup::SimIndex::new(&self.store.state);
        let original = match &r.signature {
            Some(sig) => sims.find_or_insert(sig, &r.key),
            // a short text is a copy only of the same words by the same author (a post
            // syndicated under its byline); two customers who write the same short sentence
            // are two mentions
            None => r.author.as_deref().and_then(|author| {
                let k = format!("x/{:016x}/{}", r.hash_content, author.trim().to_lowercase());
                match self.store.state.get::<String>(Space::Simhash, &k) {
                    Some(first) if first != r.key => Some(first),
                    Some(_) => None,
                    None => {
                        self.store.state.put(Space::Simhash, &k, &r.key);
                        None
                    }
                }
            }),
        };
        // an edited text that is now a copy, or too short to be copied, is no longer an
        // original others could be copies of
        if original.is_some() || r.signature.is_none() && outcome == Outcome::Updated {
            sims.forget(&r.key);
        }
        original
    }

    /// Counts a document the transforms refused.
    pub fn failed(&self) {
        Stats::inc(&self.stats.failed);
    }

    /// Commits the index with the state of the batch (detectors included), then delivers the
    /// batch's alerts.
    pub fn commit(&mut self) -> Result<(), StoreError> {
        let started = std::time::Instant::now();
        self.run_detectors()?;
        let detected = started.elapsed().as_secs_f64();
        if self.store.uncommitted() > 0 {
            for (name, d) in &self.detectors {
                self.store
                    .state
                    .put_raw(Space::Detectors, name, d.to_bytes());
            }
        }
        self.store.commit()?;
        tracing::debug!(
            detectors = detected,
            seconds = started.elapsed().as_secs_f64(),
            "committed"
        );
        if let Some(d) = &self.deliverer {
            for a in self.pending_alerts.drain(..) {
                d.deliver(&a, self.config.watch(&a.watch));
            }
        }
        Ok(())
    }

    pub fn close(mut self) -> Result<(), StoreError> {
        self.commit()?;
        if let Some(d) = self.deliverer.take() {
            d.finish();
        }
        self.store.close()
    }
}

/// Where prepared records go: the seam between the index role of a cluster and an index.
/// [`Sink`] (tantivy and the sled state, detectors and alerts) is the one built; another
/// engine would be a sink like it.
pub trait RecordSink {
    /// Indexes one record (or finds it unchanged); nothing is durable before [`commit`].
    ///
    /// [`commit`]: RecordSink::commit
    fn accept_ready(&mut self, r: Ready) -> Result<Outcome, StoreError>;
    /// Counts a record that could not be read.
    fn refused(&mut self);
    /// Makes everything accepted so far durable (and delivers the alerts it raised).
    fn commit(&mut self) -> Result<(), StoreError>;
}

impl RecordSink for Sink {
    fn accept_ready(&mut self, r: Ready) -> Result<Outcome, StoreError> {
        Sink::accept_ready(self, r)
    }

    fn refused(&mut self) {
        self.failed();
    }

    fn commit(&mut self) -> Result<(), StoreError> {
        Sink::commit(self)
    }
}

/// Runs `f` over the items `next` gives, on `workers` threads, and hands the results to `emit`
/// in input order. At most [`MAX_IN_FLIGHT`] items are between `next` and `emit` at any
/// time. A panic in `f` becomes an error for that item only. `emit` returning `false` stops
/// the run early (remaining items are not read).
pub fn ordered_map<I, O>(
    mut next: impl FnMut() -> Option<I> + Send,
    workers: usize,
    f: impl Fn(I) -> Result<O, String> + Sync,
    mut emit: impl FnMut(Result<O, String>) -> bool,
) where
    I: Send,
    O: Send,
{
    let workers = workers.max(1);
    let (ticket_tx, ticket_rx) = crossbeam_channel::bounded::<()>(MAX_IN_FLIGHT);
    for _ in 0..MAX_IN_FLIGHT {
        ticket_tx.send(()).expect("room for every ticket");
    }
    let (work_tx, work_rx) = crossbeam_channel::bounded::<(u64, I)>(FED_AHEAD);
    let (res_tx, res_rx) = crossbeam_channel::unbounded::<(u64, Result<O, String>)>();
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        let stop = &stop;
        s.spawn(move || {
            let mut seq = 0u64;
            while ticket_rx.recv().is_ok() && !stop.load(Ordering::Relaxed) {
                let Some(item) = next() else { break };
                if work_tx.send((seq, item)).is_err() {
                    break;
                }
                seq += 1;
            }
        });
        let f = &f;
        for _ in 0..workers {
            let work_rx = work_rx.clone();
            let res_tx = res_tx.clone();
            s.spawn(move || {
                below_consumer();
                for (seq, item) in work_rx {
                    let out = std::panic::catch_unwind(AssertUnwindSafe(|| f(item)))
                        .unwrap_or_else(|p| Err(format!("internal error: {}", panic_message(&p))));
                    if res_tx.send((seq, out)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(res_tx);
        drop(work_rx);
        let mut pending: BTreeMap<u64, Result<O, String>> = BTreeMap::new();
        let mut next_out = 0u64;
        let mut tickets = Some(ticket_tx);
        for (seq, out) in res_rx {
            if tickets.is_none() {
                continue;
            }
            pending.insert(seq, out);
            while let Some(o) = pending.remove(&next_out) {
                next_out += 1;
                if !emit(o) {
                    stop.store(true, Ordering::Relaxed);
                    pending.clear();
                    // a feeder waiting for a ticket wakes up and sees the stop
                    tickets = None;
                    break;
                }
                if let Some(t) = &tickets {
                    let _ = t.send(());
                }
            }
        }
    });
}

/// How much less a transform's thread weighs than the others for the scheduler (nice steps).
#[cfg(target_os = "linux")]
const WORKER_NICE: libc::c_int = 4;

/// Lowers the calling transform thread's priority a little below the consumer's. The consumer
/// (the sink: detectors, index, state) is the serial part of a run; with as many transforms as
/// cores it got a third of a core less than it needed, fell behind, and was left with its
/// backlog and the last commit on one core at the end of the run. Transforms still take every
/// cycle it leaves.
fn below_consumer() {
    #[cfg(target_os = "linux")]
    // SAFETY: plain system calls on the calling thread's own id; a failure leaves the priority
    // as it was
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        let now = libc::getpriority(libc::PRIO_PROCESS, tid);
        libc::setpriority(libc::PRIO_PROCESS, tid, (now + WORKER_NICE).min(19));
    }
}

fn panic_message(p: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".into()
    }
}

/// Worker threads for the transforms: every core.
pub fn default_workers() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordered_map_keeps_order_and_survives_panics() {
        let mut items = (0..2000u64).collect::<Vec<_>>().into_iter();
        let mut out = Vec::new();
        ordered_map(
            move || items.next(),
            4,
            |i| {
                if i == 77 {
                    panic!("boom");
                }
                if i % 13 == 0 {
                    std::thread::sleep(std::time::Duration::from_micros(200));
                }
                Ok(i * 2)
            },
            |r| {
                out.push(r);
                true
            },
        );
        assert_eq!(out.len(), 2000);
        for (i, r) in out.iter().enumerate() {
            if i == 77 {
                assert!(r.as_ref().unwrap_err().contains("boom"));
            } else {
                assert_eq!(*r.as_ref().unwrap(), i as u64 * 2);
            }
        }
    }

    #[test]
    fn ordered_map_stops_when_asked() {
        let read = AtomicU64::new(0);
        let mut n = 0u64;
        let mut got = 0;
        ordered_map(
            || {
                read.fetch_add(1, Ordering::Relaxed);
                n += 1;
                Some(n)
            },
            2,
            Ok,
            |_| {
                got += 1;
                got < 10
            },
        );
        assert_eq!(got, 10);
        assert!(
            read.load(Ordering::Relaxed) < 10 + MAX_IN_FLIGHT as u64 + 10,
            "reading stopped soon after"
        );
    }
}
