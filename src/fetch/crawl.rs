//! Passes and the schedule: which sources are polled when, each in its own task, so that a
//! slow source (or host) never holds the others back.
//!
//! With `once`, one pass over every source (except those backing off after repeated
//! failures), then the sender is dropped and the pipeline drains. Without it, each source is
//! polled again `interval` after the start of the pass that last polled it (later when it
//! keeps failing); the sources that are due together form a pass, a source being taken up to
//! a tenth of its interval early to join one, so that passes stay few; passes may overlap. `stop` (Ctrl-C) ends the
//! schedule at once: polls under way are dropped (their validators were not saved, so they
//! are redone next time), and what is already in the pipeline is indexed and committed.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::mpsc::{self, Sender};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tracing::Instrument;

use super::report::PassCounters;
use super::schedule::{self, Health};
use super::source::{Crawler, Msg, PollError};
use crate::config::{Source, SourceKind};
use crate::state::Space;

/// How often the pipeline is reminded to commit when documents trickle in.
pub const TICK: Duration = Duration::from_secs(5);
/// How early a source may be polled to join a pass: this fraction of its interval...
pub const EARLY_FRACTION: u32 = 10;
/// ...and at most this long.
pub const MAX_EARLY: Duration = Duration::from_secs(300);
/// Least time between the starts of two passes: sources falling due meanwhile are gathered
/// into the next one.
pub const GATHER: Duration = Duration::from_secs(1);

/// Hears how a pass goes (a progress bar).
pub trait Progress: Send + Sync {
    /// A pass of `sources` polls starts.
    fn pass_started(&self, _sources: usize) {}
    /// One poll ended.
    fn source_done(&self, _id: &str, _ok: bool) {}
}

/// A [`Progress`] that hears nothing.
pub struct Silent;
impl Progress for Silent {}

/// How the schedule ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// `once`: the pass is over.
    PassDone,
    /// `stop` fired.
    Stopped,
    /// The pipeline went away (a failed commit).
    PipelineGone,
}

/// Runs the schedule until the pass is done (`once`) or `stop` fires.
pub async fn drive(
    crawler: Arc<Crawler>,
    sources: Vec<Source>,
    tx: Sender<Msg>,
    once: bool,
    stop: impl Future<Output = ()> + Send,
    progress: Arc<dyn Progress>,
) -> Ended {
    tokio::pin!(stop);
    if once {
        let counters = Arc::new(PassCounters::new(crawler.fetcher.requests()));
        let now = Utc::now().timestamp();
        let mut due = Vec::new();
        for (i, s) in sources.into_iter().enumerate() {
            let h = schedule::load(&crawler.state, &s);
            match schedule::backing_off(&s, h.as_ref(), now) {
                Some(until) => {
                    PassCounters::inc(&counters.backing_off);
                    tracing::info!(source = %s.id, failures = h.map(|h| h.failures).unwrap_or(0), next_try = %chrono::DateTime::from_timestamp(until, 0).unwrap_or_default().to_rfc3339(), "backing off after repeated failures; not polled");
                }
                None => due.push((i, s)),
            }
        }
        let pass = run_pass(crawler, due, tx, counters, progress, None);
        return tokio::select! {
            ended = pass => ended,
            _ = &mut stop => Ended::Stopped,
        };
    }

    let n = sources.len();
    let start = Instant::now();
    let now_s = Utc::now().timestamp();
    // when each source is next due, from what the state remembers of its last poll
    let mut next: Vec<Instant> = sources
        .iter()
        .map(|s| {
            let h = schedule::load(&crawler.state, s);
            match schedule::next_due(s, h.as_ref()) {
                Some(due) if due > now_s => start + Duration::from_secs((due - now_s) as u64),
                _ => start,
            }
        })
        .collect();
    let early: Vec<Duration> = sources
        .iter()
        .map(|s| (s.interval / EARLY_FRACTION).min(MAX_EARLY))
        .collect();
    let mut running = vec![false; n];
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<(usize, Health, Instant)>();
    let mut passes: JoinSet<Ended> = JoinSet::new();
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_pass: Option<Instant> = None;
    loop {
        let now = Instant::now();
        let gathering = last_pass.is_some_and(|t| now < t + GATHER);
        let due: Vec<(usize, Source)> = (0..n)
            .filter(|&i| !running[i] && next[i] <= now + early[i])
            .map(|i| (i, sources[i].clone()))
            .collect();
        if !due.is_empty() && !gathering {
            last_pass = Some(now);
            for (i, _) in &due {
                running[*i] = true;
            }
            let counters = Arc::new(PassCounters::new(crawler.fetcher.requests()));
            passes.spawn(run_pass(
                crawler.clone(),
                due,
                tx.clone(),
                counters,
                progress.clone(),
                Some((done_tx.clone(), now)),
            ));
        }
        let wake = (0..n)
            .filter(|&i| !running[i])
            .map(|i| next[i].checked_sub(early[i]).unwrap_or(next[i]))
            .min()
            .unwrap_or(now + Duration::from_secs(3600))
            .max(last_pass.map_or(now, |t| t + GATHER).min(now + GATHER));
        tokio::select! {
            _ = &mut stop => break Ended::Stopped,
            _ = tokio::time::sleep_until(wake) => {}
            Some((i, h, started)) = done_rx.recv() => {
                running[i] = false;
                let mut at = started + schedule::wait_after(sources[i].interval, &h);
                if let Some(nb) = h.not_before {
                    let left = (nb - Utc::now().timestamp()).max(0) as u64;
                    at = at.max(Instant::now() + Duration::from_secs(left));
                }
                next[i] = at;
            }
            _ = tick.tick() => {
                if tx.send(Msg::Tick).await.is_err() {
                    break Ended::PipelineGone;
                }
            }
            Some(ended) = passes.join_next(), if !passes.is_empty() => {
                if matches!(ended, Ok(Ended::PipelineGone)) {
                    break Ended::PipelineGone;
                }
            }
        }
    }
}

/// Where each poll's end is told (with the start of its pass).
type Done = (mpsc::UnboundedSender<(usize, Health, Instant)>, Instant);

/// Polls `sources` concurrently, records their health, then sends the end of the pass.
async fn run_pass(
    crawler: Arc<Crawler>,
    sources: Vec<(usize, Source)>,
    tx: Sender<Msg>,
    counters: Arc<PassCounters>,
    progress: Arc<dyn Progress>,
    done: Option<Done>,
) -> Ended {
    progress.pass_started(sources.len());
    let mut polls = JoinSet::new();
    for (i, s) in sources {
        let (crawler, tx, counters) = (crawler.clone(), tx.clone(), counters.clone());
        polls.spawn(async move {
            let h = poll_recorded(&crawler, &s, &tx, &counters).await;
            (i, s.id, h)
        });
    }
    let mut gone = false;
    while let Some(joined) = polls.join_next().await {
        let Ok((i, id, h)) = joined else { continue };
        match h {
            Some(h) => {
                progress.source_done(&id, h.failures == 0);
                if let Some((d, started)) = &done {
                    let _ = d.send((i, h, *started));
                }
            }
            None => gone = true,
        }
    }
    if gone || tx.send(Msg::PassEnd(counters)).await.is_err() {
        return Ended::PipelineGone;
    }
    Ended::PassDone
}

/// Polls one source and stages its new health; `None` when the pipeline is gone.
pub async fn poll_recorded(
    crawler: &Crawler,
    source: &Source,
    tx: &Sender<Msg>,
    pass: &PassCounters,
) -> Option<Health> {
    PassCounters::inc(&pass.sources);
    let span = tracing::info_span!("source", id = %source.id);
    let started = std::time::Instant::now();
    let result = match source.kind {
        SourceKind::Search | SourceKind::Json => {
            super::search::poll(crawler, source, tx, pass)
                .instrument(span)
                .await
        }
        _ => crawler
            .poll(source, tx, pass)
            .instrument(span)
            .await
            .map(|()| Vec::new()),
    };
    let outcome = match &result {
        Ok(problems) => {
            PassCounters::inc(&pass.ok);
            tracing::debug!(source = %source.id, ms = started.elapsed().as_millis() as u64, "polled");
            Ok(problems.clone())
        }
        Err(PollError::Closed) => return None,
        Err(PollError::Fetch(e @ super::error::FetchError::Disallowed { .. })) => {
            // robots.txt said no: not a failure of the source, and asked again next time
            PassCounters::inc(&pass.disallowed);
            tracing::info!(source = %source.id, error = %e, "not polled");
            Ok(Vec::new())
        }
        Err(e) => {
            pass.error(e.kind());
            pass.failed(&source.id, e.to_string());
            tracing::warn!(source = %source.id, kind = e.kind(), error = %e, "poll failed");
            let retry_after = match e {
                PollError::Fetch(f) => f.retry_after(),
                _ => None,
            };
            Err((e.to_string(), retry_after))
        }
    };
    let previous = schedule::load(&crawler.state, source);
    let h = schedule::record(previous, source, Utc::now().timestamp(), outcome);
    crawler
        .state
        .put(Space::Meta, &schedule::key(&source.id), &h);
    Some(h)
}
