//! What a pass did: counted as it goes, summed up at its end.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// Numbers passes within a process.
static NEXT_PASS: AtomicU64 = AtomicU64::new(1);

/// Counters of one pass, shared by its polls.
#[derive(Debug)]
pub struct PassCounters {
    /// Tells the documents of this pass from those of passes running beside it.
    pub id: u64,
    pub started: Instant,
    /// Requests sent by the whole run when the pass started.
    pub requests_at_start: u64,
    /// Sources polled.
    pub sources: AtomicU64,
    /// Polls that ended well.
    pub ok: AtomicU64,
    /// Lists fetched with a body: feeds, pages, sitemaps (discovered feeds and child
    /// sitemaps included).
    pub fetched: AtomicU64,
    /// Lists that had not changed (304).
    pub not_modified: AtomicU64,
    /// Item pages fetched.
    pub pages: AtomicU64,
    /// Documents handed to the pipeline.
    pub items: AtomicU64,
    /// Items skipped because they are already known.
    pub seen: AtomicU64,
    /// Items left for the next poll (their page failed for a transient reason, or the
    /// per-poll budget ran out).
    pub deferred: AtomicU64,
    /// Sources not polled because they are backing off after failures.
    pub backing_off: AtomicU64,
    /// Sources and pages robots.txt disallowed (never requested).
    pub disallowed: AtomicU64,
    errors: Mutex<BTreeMap<String, u64>>,
    failures: Mutex<Vec<(String, String)>>,
}

impl PassCounters {
    pub fn new(requests_at_start: u64) -> Self {
        PassCounters {
            id: NEXT_PASS.fetch_add(1, Ordering::Relaxed),
            started: Instant::now(),
            requests_at_start,
            sources: AtomicU64::new(0),
            ok: AtomicU64::new(0),
            fetched: AtomicU64::new(0),
            not_modified: AtomicU64::new(0),
            pages: AtomicU64::new(0),
            items: AtomicU64::new(0),
            seen: AtomicU64::new(0),
            deferred: AtomicU64::new(0),
            backing_off: AtomicU64::new(0),
            disallowed: AtomicU64::new(0),
            errors: Mutex::new(BTreeMap::new()),
            failures: Mutex::new(Vec::new()),
        }
    }

    pub fn inc(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one error of `kind` (a source, a page, a child sitemap).
    pub fn error(&self, kind: &str) {
        *self
            .errors
            .lock()
            .expect("errors lock")
            .entry(kind.to_string())
            .or_default() += 1;
    }

    /// Records a source whose poll failed.
    pub fn failed(&self, source: &str, message: String) {
        self.failures
            .lock()
            .expect("failures lock")
            .push((source.to_string(), message));
    }

    /// The summary, with what the sink did with the pass's documents and the requests the
    /// run has sent so far (passes running side by side share theirs).
    pub fn summary(&self, requests_now: u64, docs: DocCounts) -> PassSummary {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut failures = self.failures.lock().expect("failures lock").clone();
        failures.sort();
        PassSummary {
            seconds: self.started.elapsed().as_secs_f64(),
            sources: g(&self.sources),
            ok: g(&self.ok),
            fetched: g(&self.fetched),
            not_modified: g(&self.not_modified),
            pages: g(&self.pages),
            items: g(&self.items),
            seen: g(&self.seen),
            deferred: g(&self.deferred),
            backing_off: g(&self.backing_off),
            disallowed: g(&self.disallowed),
            requests: requests_now.saturating_sub(self.requests_at_start),
            documents: docs,
            errors: self.errors.lock().expect("errors lock").clone(),
            failures,
        }
    }
}

/// What the sink did with the documents of a pass.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DocCounts {
    pub added: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// New or changed documents that are near-copies of one already indexed.
    pub copies: u64,
    /// Refused by the transforms (too big, broken).
    pub refused: u64,
}

/// The end-of-pass summary.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PassSummary {
    pub seconds: f64,
    pub sources: u64,
    pub ok: u64,
    pub fetched: u64,
    pub not_modified: u64,
    pub pages: u64,
    pub items: u64,
    pub seen: u64,
    pub deferred: u64,
    pub backing_off: u64,
    pub disallowed: u64,
    pub requests: u64,
    pub documents: DocCounts,
    /// Errors by kind (sources, pages, child sitemaps).
    pub errors: BTreeMap<String, u64>,
    /// Sources whose poll failed, with why.
    pub failures: Vec<(String, String)>,
}

impl PassSummary {
    /// Sources whose poll failed.
    pub fn failed_sources(&self) -> usize {
        self.failures.len()
    }
}

fn s(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

impl fmt::Display for PassSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "pass done in {:.1}s: {} source{} polled, {} request{}; {} fetched, {} not modified (304), {} page{}; {} new document{}, {} updated",
            self.seconds,
            self.sources,
            s(self.sources),
            self.requests,
            s(self.requests),
            self.fetched,
            self.not_modified,
            self.pages,
            s(self.pages),
            self.documents.added,
            s(self.documents.added),
            self.documents.updated,
        )?;
        if self.documents.copies > 0 {
            write!(
                f,
                " ({} copies of texts already seen)",
                self.documents.copies
            )?;
        }
        if self.documents.refused > 0 {
            write!(f, ", {} refused", self.documents.refused)?;
        }
        if self.deferred > 0 {
            write!(
                f,
                "; {} item{} left for the next poll",
                self.deferred,
                s(self.deferred)
            )?;
        }
        if self.backing_off > 0 {
            write!(
                f,
                "; {} source{} backing off after failures",
                self.backing_off,
                s(self.backing_off)
            )?;
        }
        if self.disallowed > 0 {
            write!(f, "; {} disallowed by robots.txt", self.disallowed)?;
        }
        if !self.errors.is_empty() {
            let total: u64 = self.errors.values().sum();
            let kinds: Vec<String> = self
                .errors
                .iter()
                .map(|(k, n)| format!("{n} {k}"))
                .collect();
            write!(f, "\nerrors: {total} ({})", kinds.join(", "))?;
            if !self.failures.is_empty() {
                write!(
                    f,
                    "; {} source{} failed",
                    self.failures.len(),
                    s(self.failures.len() as u64)
                )?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_reads_well() {
        let c = PassCounters::new(10);
        for _ in 0..3 {
            PassCounters::inc(&c.sources);
        }
        PassCounters::inc(&c.fetched);
        PassCounters::inc(&c.not_modified);
        c.error("timeout");
        c.error("parse");
        c.error("timeout");
        c.failed("slow", "no answer".into());
        let sum = c.summary(
            25,
            DocCounts {
                added: 20,
                ..Default::default()
            },
        );
        let text = sum.to_string();
        assert!(text.starts_with("pass done in"), "{text}");
        assert!(text.contains("3 sources polled, 15 requests"), "{text}");
        assert!(text.contains("1 not modified (304)"), "{text}");
        assert!(text.contains("20 new documents"), "{text}");
        assert!(
            text.contains("errors: 3 (1 parse, 2 timeout); 1 source failed"),
            "{text}"
        );
        assert_eq!(sum.failed_sources(), 1);
    }
}
