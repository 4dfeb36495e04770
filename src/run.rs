//! The crawl loop behind `vigie run` and `vigie demo`: crawl on schedule (or one pass),
//! analyse, index, raise alerts, send the digests that are due.
//!
//! Two sides, as for `vigie ingest`: the async side (a tokio runtime: the schedule, one task
//! per poll, the fetcher with its per-host politeness) sends [`Msg`]s into a bounded channel;
//! the blocking side runs [`ordered_map`] over that channel: the transforms on worker
//! threads, then the sink in order, which indexes documents, stages the validators that
//! follow them, and commits by size or time and at the end of each pass. After each
//! committed pass, [`after_pass`] runs and the summary is printed on stderr.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use crate::config::Config;
use crate::data::DataDir;
use crate::fetch::crawl::{drive, Ended, Progress};
use crate::fetch::{DocCounts, FetchSettings, Fetcher, Msg, PassSummary};
use crate::index::writer::{Store, StoreError};
use crate::pipeline::{
    default_workers, ordered_map, Outcome, Prepared, Sink, Stats, Transform, SOURCE_CHANNEL,
};
use crate::state::Space;

/// How a run behaves.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// One pass, then exit.
    pub once: bool,
    /// A progress bar on stderr.
    pub progress: bool,
    /// The end-of-pass summary on stderr.
    pub summaries: bool,
    /// Worker threads for the transforms.
    pub workers: usize,
    /// Filled with the crawl's state once it is open (the workspace of `vigie run --listen`
    /// reads source health from it).
    pub share_state:
        Option<std::sync::Arc<std::sync::OnceLock<std::sync::Arc<crate::state::State>>>>,
}

impl RunOptions {
    pub fn new(once: bool) -> Self {
        RunOptions {
            once,
            progress: false,
            summaries: false,
            workers: default_workers(),
            share_state: None,
        }
    }
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct RunReport {
    /// One summary per committed pass.
    pub passes: Vec<PassSummary>,
    /// Stopped by a signal (or by `stop`) before the end of its pass.
    pub interrupted: bool,
    /// Documents indexed by the whole run.
    pub documents: DocCounts,
}

/// Problems that stop a run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot start the crawler: {0}")]
    Start(String),
}

/// Crawls the configured sources into `data`: one pass with `opts.once`, else on schedule
/// until `stop()` resolves (it is called inside the crawler's runtime).
pub fn crawl<S, F>(
    config: Arc<Config>,
    data: &DataDir,
    opts: &RunOptions,
    stop: S,
) -> Result<RunReport, RunError>
where
    S: FnOnce() -> F + Send + 'static,
    F: Future<Output = ()> + Send,
{
    let store = Store::open(data, "run")?;
    let state = store.state.clone();
    if let Some(cell) = &opts.share_state {
        let _ = cell.set(state.clone());
    }
    let mut sink = Sink::new(store, config.clone());
    let transform = Transform::new(config.clone());
    crate::ingest::drain_inbox(data, &transform, &mut sink)?;
    let fetcher = Fetcher::new(FetchSettings::from_defaults(&config.sources.defaults))
        .map_err(|e| RunError::Start(e.to_string()))?
        .remember_in(state.clone());
    let crawler = Arc::new(crate::fetch::Crawler::new(fetcher, state.clone()));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("vigie-fetch")
        .enable_all()
        .build()
        .map_err(|e| RunError::Start(e.to_string()))?;
    let bar = opts.progress.then(|| {
        let pb = indicatif::ProgressBar::new(0).with_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {pos}/{len} sources {wide_bar} {elapsed} {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        pb.set_draw_target(indicatif::ProgressDrawTarget::stderr_with_hz(5));
        pb
    });
    let progress: Arc<dyn Progress> = match &bar {
        Some(pb) => Arc::new(Bar(pb.clone())),
        None => Arc::new(crate::fetch::crawl::Silent),
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Msg>(SOURCE_CHANNEL);
    let driver = rt.spawn({
        let crawler = crawler.clone();
        let sources = config.sources.sources.clone();
        let once = opts.once;
        async move { drive(crawler, sources, tx, once, stop(), progress).await }
    });

    let mut report = RunReport::default();
    let mut store_error: Option<StoreError> = None;
    // what the sink did with the documents of each pass under way
    let mut per_pass: HashMap<u64, DocCounts> = HashMap::new();
    {
        let transform = &transform;
        let report = &mut report;
        let sink = &mut sink;
        let per_pass = &mut per_pass;
        let store_error = &mut store_error;
        ordered_map(
            || rx.blocking_recv(),
            opts.workers,
            |msg: Msg| -> Result<Out, String> {
                match msg {
                    Msg::Doc(inc, pass) => {
                        let origin = inc.origin.clone();
                        Ok(match transform.prepare(inc) {
                            Ok(p) => Out::Doc(Box::new(p), pass),
                            Err(e) => Out::Refused(format!("{origin}: {e}"), pass),
                        })
                    }
                    Msg::Stage { space, key, value } => Ok(Out::Stage { space, key, value }),
                    Msg::PassEnd(c) => Ok(Out::PassEnd(c)),
                    Msg::Tick => Ok(Out::Tick),
                }
            },
            |res| {
                let step = match res {
                    Ok(Out::Doc(p, pass)) => sink.accept(*p).map(|outcome| {
                        let c = per_pass.entry(pass).or_default();
                        match outcome {
                            Outcome::Added => c.added += 1,
                            Outcome::Updated => c.updated += 1,
                            Outcome::Unchanged => c.unchanged += 1,
                        }
                    }),
                    Ok(Out::Refused(e, pass)) => {
                        sink.failed();
                        per_pass.entry(pass).or_default().refused += 1;
                        tracing::warn!(error = %e, "document refused");
                        Ok(())
                    }
                    Ok(Out::Stage { space, key, value }) => {
                        match value {
                            Some(v) => sink.store.state.put(space, &key, &v),
                            None => sink.store.state.delete(space, &key),
                        }
                        Ok(())
                    }
                    Ok(Out::Tick) => {
                        // documents `vigie ingest` handed over while this run holds the data
                        crate::ingest::drain_inbox(data, transform, sink).and_then(|_| {
                            if sink.store.commit_due() {
                                sink.commit()
                            } else {
                                Ok(())
                            }
                        })
                    }
                    Ok(Out::PassEnd(counters)) => sink.commit().map(|_| {
                        let docs = per_pass.remove(&counters.id).unwrap_or_default();
                        let summary = counters.summary(crawler.fetcher.requests(), docs);
                        if opts.summaries {
                            match &bar {
                                Some(pb) => pb.suspend(|| eprintln!("{summary}")),
                                None => eprintln!("{summary}"),
                            }
                        }
                        tracing::info!(
                            seconds = summary.seconds,
                            sources = summary.sources,
                            requests = summary.requests,
                            fetched = summary.fetched,
                            not_modified = summary.not_modified,
                            pages = summary.pages,
                            new_documents = summary.documents.added,
                            errors = summary.errors.values().sum::<u64>(),
                            "pass committed"
                        );
                        after_pass(&mut AfterPass {
                            config: &config,
                            store: &mut sink.store,
                            summary: &summary,
                        });
                        report.passes.push(summary);
                    }),
                    Err(e) => {
                        // the transforms caught a panic: the document is lost, the run goes on
                        sink.failed();
                        tracing::warn!(error = %e, "document refused");
                        Ok(())
                    }
                };
                match step {
                    Ok(()) => true,
                    Err(e) => {
                        *store_error = Some(e);
                        false
                    }
                }
            },
        );
    }
    // the pipeline is done (or failed): the schedule ends, lingering requests are dropped
    rx.close();
    let ended = rt.block_on(driver).unwrap_or(Ended::PipelineGone);
    rt.shutdown_background();
    if let Some(pb) = &bar {
        pb.finish_and_clear();
    }
    if let Some(e) = store_error {
        return Err(e.into());
    }
    // what was handed over since the last tick goes in before the run ends
    crate::ingest::drain_inbox(data, &transform, &mut sink)?;
    report.interrupted = ended == Ended::Stopped;
    report.documents = doc_counts(&sink.stats);
    sink.close()?;
    Ok(report)
}

/// A sink step, after the transforms.
enum Out {
    Doc(Box<Prepared>, u64),
    Refused(String, u64),
    Stage {
        space: Space,
        key: String,
        value: Option<serde_json::Value>,
    },
    PassEnd(Arc<crate::fetch::PassCounters>),
    Tick,
}

fn doc_counts(s: &Stats) -> DocCounts {
    DocCounts {
        added: Stats::get(&s.added),
        updated: Stats::get(&s.updated),
        unchanged: Stats::get(&s.unchanged),
        copies: Stats::get(&s.copies),
        refused: Stats::get(&s.failed),
    }
}

/// What the work after a pass has at hand: the configuration, the store (index writer and
/// state, everything of the pass committed) and the pass summary.
pub struct AfterPass<'a> {
    pub config: &'a Config,
    pub store: &'a mut Store,
    pub summary: &'a PassSummary,
}

/// Runs on the sink thread after each pass of `vigie run` is committed (alerts were raised by
/// the sink with the pass's commit): sends the digests whose time has come, once a day each,
/// recording the day in the state so a restart never sends twice.
pub fn after_pass(ctx: &mut AfterPass<'_>) {
    tracing::debug!(
        watches = ctx.config.watches.len(),
        new_documents = ctx.summary.documents.added,
        "after pass"
    );
    send_digests(ctx.config, ctx.store);
}

/// Sends the digests whose time has come (once a day each, recorded in the state so a
/// restart never sends twice); committed when one was sent.
pub fn send_digests(config: &Config, store: &mut Store) {
    let wants_mail = config.watches.iter().any(|w| !w.digest.to.is_empty());
    if !wants_mail {
        return;
    }
    if std::env::var(crate::mail::SMTP_ENV).map_or(true, |v| v.trim().is_empty()) {
        static WARNED: std::sync::Once = std::sync::Once::new();
        WARNED.call_once(|| {
            tracing::warn!(
                "digests have recipients but {} is not set: no digest will be mailed",
                crate::mail::SMTP_ENV
            )
        });
        return;
    }
    let reader = match crate::index::search::Reader::from_index(store.index.clone()) {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "cannot read the index for the digests");
            return;
        }
    };
    let sent = crate::digest::send_due(&config.watches, &reader, &store.state, chrono::Utc::now());
    for (watch, result) in &sent {
        match result {
            Ok(()) => tracing::info!(watch = %watch, "digest sent"),
            Err(e) => tracing::error!(watch = %watch, error = %e, "digest not sent"),
        }
    }
    if !sent.is_empty() {
        if let Err(e) = store.commit() {
            tracing::error!(error = %e, "cannot record the digests sent");
        }
    }
}

/// Progress on a terminal.
struct Bar(indicatif::ProgressBar);

impl Progress for Bar {
    fn pass_started(&self, sources: usize) {
        self.0.inc_length(sources as u64);
    }

    fn source_done(&self, id: &str, _ok: bool) {
        self.0.inc(1);
        self.0.set_message(id.to_string());
    }
}

/// One document a source test would index.
#[derive(Debug, Clone, serde::Serialize)]
pub struct WouldIndex {
    pub url: String,
    pub title: String,
    pub author: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub followers: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rating: Option<u8>,
    pub published: Option<String>,
    pub lang: String,
    pub brands: Vec<String>,
}

/// What `vigie sources test` saw: the documents one poll would index, the requests it sent,
/// the state it would save, and how the poll ended.
#[derive(Debug, Clone, Default)]
pub struct SourceTest {
    pub documents: Vec<WouldIndex>,
    pub requests: Vec<String>,
    /// State the poll would save (cursors), `key = value`.
    pub state: Vec<String>,
    /// What was wrong with parts of the answers.
    pub problems: Vec<String>,
    /// Why the poll failed, if it did.
    pub error: Option<String>,
    /// Documents refused by the transforms.
    pub refused: Vec<String>,
    /// Whether the data directory's state was read (items already indexed left out).
    pub used_state: bool,
}

/// Polls one source once, writing nothing: the documents are analysed but not indexed, the
/// state is read (when the data directory exists and no writer holds it) but never saved.
pub fn test_source(
    config: Arc<Config>,
    data: &DataDir,
    source_id: &str,
) -> Result<SourceTest, RunError> {
    let Some(source) = config.sources.get(source_id).cloned() else {
        return Err(RunError::Start(format!(
            "no source {source_id:?} in {}",
            config.sources.path.display()
        )));
    };
    let mut out = SourceTest::default();
    let lock = if data.state_dir().exists() {
        data.lock("sources test").ok()
    } else {
        None
    };
    let scratch = std::env::temp_dir().join(format!(
        "vigie-source-test-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
    ));
    let state_dir = if lock.is_some() {
        out.used_state = true;
        data.state_dir()
    } else {
        scratch.clone()
    };
    let state = Arc::new(
        crate::state::State::open(&state_dir).map_err(|e| RunError::Start(e.to_string()))?,
    );
    let fetcher = Fetcher::new(FetchSettings::from_defaults(&config.sources.defaults))
        .map_err(|e| RunError::Start(e.to_string()))?
        .logging_requests();
    let crawler = Arc::new(crate::fetch::Crawler::new(fetcher, state.clone()));
    let transform = Transform::new(config.clone());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| RunError::Start(e.to_string()))?;
    let result = rt.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Msg>(SOURCE_CHANNEL);
        let pass = Arc::new(crate::fetch::PassCounters::new(0));
        let poll = tokio::spawn({
            let (crawler, source, pass) = (crawler.clone(), source.clone(), pass.clone());
            async move {
                match source.kind {
                    crate::config::SourceKind::Search | crate::config::SourceKind::Json => {
                        crate::fetch::search::poll(&crawler, &source, &tx, &pass).await
                    }
                    _ => crawler.poll(&source, &tx, &pass).await.map(|()| Vec::new()),
                }
            }
        });
        while let Some(msg) = rx.recv().await {
            match msg {
                Msg::Doc(inc, _) => {
                    let origin = inc.origin.clone();
                    match transform.prepare(inc) {
                        Ok(p) => out.documents.push(WouldIndex {
                            url: p.doc.url.clone(),
                            title: crate::doc::headline(&p.doc.title, &p.doc.text),
                            author: p.doc.author.clone(),
                            followers: p.doc.followers,
                            rating: p.doc.rating,
                            published: p
                                .doc
                                .published
                                .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                            lang: p.analysis.lang.code().to_string(),
                            brands: p.analysis.brands(),
                        }),
                        Err(e) => out.refused.push(format!("{origin}: {e}")),
                    }
                }
                Msg::Stage { space, key, value } => {
                    if space == Space::Meta {
                        out.state.push(match value {
                            Some(v) => format!("{key} = {v}"),
                            None => format!("{key} removed"),
                        });
                    }
                }
                Msg::PassEnd(_) | Msg::Tick => {}
            }
        }
        poll.await
    });
    rt.shutdown_background();
    match result {
        Ok(Ok(problems)) => out.problems = problems,
        Ok(Err(e)) => out.error = Some(e.to_string()),
        Err(e) => out.error = Some(format!("the poll stopped: {e}")),
    }
    out.requests = crawler.fetcher.take_log();
    // nothing staged is ever flushed: the state is left as it was
    state.discard();
    drop(crawler);
    drop(state);
    drop(lock);
    if !out.used_state {
        let _ = std::fs::remove_dir_all(&scratch);
    }
    Ok(out)
}
