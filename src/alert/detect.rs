//! Early-warning detectors, per watch: emerging terms, and per brand sentiment shifts and
//! volume spikes. All run on event time, in the order documents are indexed, so a replay of
//! last month raises the same alerts as living through it.
//!
//! **Emerging terms** follow SigniTrend (Schubert et al., KDD 2014): every term of a document
//! (stems and short phrases) is counted in hashed cells (two hash rows, count-min style) as
//! an exponentially decayed count (time constant one day), normalised by the decayed number
//! of documents; each hour every cell's rate feeds an exponentially weighted mean and
//! variance (time constant four days). A term is significant when its count exceeds its
//! baseline by more deviations than its bar (the baseline's spread plus the Poisson noise of
//! counting at that rate, plus a bias that keeps rare terms quiet), reaches `min_count`
//! documents and `min_ratio` times what the baseline expects. Thousands of terms are tested
//! at once, so the bar grows with their number (`sqrt(threshold² + 2 ln m)`, a Bonferroni
//! bound on the normal tail), and a phrase made only of common words (a brand name among
//! everyday words) must clear `common_factor` times it. Memory is fixed by the table size and
//! a capped map of recently active terms (kept for their wording and evidence), whatever the
//! vocabulary. Nothing fires during the warm-up (four days), while baselines are unknown: new
//! is not rising.
//!
//! **Sentiment shifts**: per brand, a Bernoulli CUSUM on "this mention is negative" against the
//! brand's own baseline negative share (an exponentially weighted mean over its mentions),
//! raised only when the last day also holds at least `min_count` mentions and a negative
//! share clearly above the baseline — one angry post, or a quiet night, raises nothing.
//!
//! **Volume spikes and drops** ([`Volume`]): per brand, hourly counts against a baseline that
//! knows the hour of the day and the day of the week (learnt with Huber-bounded steps, so the
//! spikes themselves barely move it), judged at several time scales at once (`[alerts] scales`,
//! by default the last hour, four hours, day and three days) by the Poisson likelihood ratio of
//! the window's count, scaled down by the brand's own extra variance at that scale. A spike
//! is judged at every mention (it fires within minutes of a burst); a drop at the end of each
//! hour. Each alert says its scale, its count and the baseline's.
//!
//! **Events open and close**: one event, one alert, then at most one reminder (after
//! `reminder`, marked as such) while it lasts. A volume event ends when the scale that opened
//! it and every shorter one fall below `close`; longer scales still carrying it cannot reopen
//! it, and a new rise after that is a new alert. Terms join the open event of their documents.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use compact_str::CompactString;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;
use xxhash_rust::xxh3::xxh3_64_with_seed;

use crate::alert::{Alert, AlertKind};
use crate::analyze::signal::{Term, Terms};
use crate::config::{AlertsConfig, VolumeConfig, Watch};
use crate::doc::Label;

/// One detector step.
pub const TICK_SECS: i64 = 3600;
/// Time constant of the recent counts, in ticks.
const RECENT_TAU: f64 = 24.0;
/// Time constant of the baselines, in ticks.
const BASELINE_TAU: f64 = 96.0;
/// Event time during which nothing fires: baselines are being learnt.
pub const WARMUP_SECS: i64 = 4 * 86400;
/// Hash rows and cells per row of the term table.
const ROWS: usize = 2;
const WIDTH: usize = 1 << 15;
/// Recently active terms kept for their wording and evidence.
pub const MAX_ACTIVE: usize = 20_000;
/// What a prune leaves of them: room for some hundred documents' new terms before the next
/// one (each walks the whole map).
const PRUNED_TO: usize = MAX_ACTIVE * 3 / 4;
/// Evidence kept per term and per event.
const TERM_EVIDENCE: usize = 12;
const EVENT_EVIDENCE: usize = 200;
/// Documents remembered to count copies once.
const RECENT_COPIES: usize = 4096;
/// Bias (in documents) that keeps rare terms from looking significant.
const BIAS: f64 = 1.0;
/// The part of the bias added to the spread: a term never seen before that suddenly appears
/// in a document an hour is significant within about eight hours, not a day (the bar that
/// grows with the number of terms tested keeps noise quiet).
const SPREAD_BIAS: f64 = 0.25;
/// Deviations beyond which an observation is clipped before it enters a baseline.
const CLIP: f64 = 1.0;
/// Longest gap of ticks replayed one by one (beyond, counts have decayed to nothing).
const MAX_REPLAYED_TICKS: i64 = 24 * 30;

fn decay() -> f64 {
    (-1.0 / RECENT_TAU).exp()
}

fn alpha() -> f64 {
    1.0 - (-1.0 / BASELINE_TAU).exp()
}

/// What a detector needs of one new document.
pub struct Observation<'a> {
    pub url: &'a str,
    pub at: DateTime<Utc>,
    /// Hash of the content: copies are counted once.
    pub content_hash: u64,
    pub terms: &'a Terms,
    /// `(brand, label of its mentions)` for each brand mentioned.
    pub brands: &'a [(String, Label)],
}

#[derive(Debug, Clone, Copy, Default)]
struct Cell {
    recent: f32,
    mean: f32,
    var: f32,
}

/// The hashed cells: each quantity in its own array, so that the hourly step runs over them
/// several cells at a time.
#[derive(Debug, Clone)]
struct Table {
    recent: Vec<f32>,
    mean: Vec<f32>,
    var: Vec<f32>,
}

impl Default for Table {
    fn default() -> Self {
        Table {
            recent: vec![0.0; ROWS * WIDTH],
            mean: vec![0.0; ROWS * WIDTH],
            var: vec![0.0; ROWS * WIDTH],
        }
    }
}

impl Table {
    fn len(&self) -> usize {
        self.recent.len()
    }

    fn get(&self, i: usize) -> Cell {
        Cell {
            recent: self.recent[i],
            mean: self.mean[i],
            var: self.var[i],
        }
    }

    /// The first baselines, from a day of counts: a Poisson prior around each cell's rate.
    fn seed(&mut self, n: f64, d: f64) {
        for ((r, m), v) in self
            .recent
            .iter_mut()
            .zip(&mut self.mean)
            .zip(&mut self.var)
        {
            *m = (*r as f64 / n) as f32;
            *v = ((*r as f64 / 2.0 + BIAS * BIAS) / (n * n)) as f32;
            *r = (*r as f64 * d) as f32;
        }
    }

    fn decay(&mut self, d: f64) {
        let d = d as f32;
        self.recent.iter_mut().for_each(|r| *r *= d);
    }

    fn clear_recent(&mut self) {
        self.recent.iter_mut().for_each(|r| *r = 0.0);
    }

    /// One hour of learning: each baseline moves towards its cell's recent rate (`n` the
    /// decayed number of documents, `a` the baseline's step), then the recent counts decay
    /// by `d`. A rise far above the baseline enters it only slowly, so an emerging term does
    /// not hide itself by inflating its own variance. In the table's own precision, with the
    /// widest vectors the processor has.
    fn learn(&mut self, n: f64, d: f64, a: f64) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the processor has AVX2, checked just above
            unsafe { self.learn_avx2(n, d, a) };
            return;
        }
        self.learn_portable(n, d, a);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn learn_avx2(&mut self, n: f64, d: f64, a: f64) {
        self.learn_portable(n, d, a);
    }

    #[inline(always)]
    fn learn_portable(&mut self, n: f64, d: f64, a: f64) {
        let inv_n = (1.0 / n) as f32;
        let bias = (BIAS / n) as f32;
        let (d, a, keep) = (d as f32, a as f32, (1.0 - a) as f32);
        let clip = CLIP as f32;
        for ((r, m), v) in self
            .recent
            .iter_mut()
            .zip(&mut self.mean)
            .zip(&mut self.var)
        {
            let rate = *r * inv_n;
            let limit = clip * (v.max(0.0).sqrt() + bias);
            let diff = (rate - *m).min(limit);
            let incr = a * diff;
            *m += incr;
            *v = keep * (*v + diff * incr);
            *r *= d;
        }
    }
}

/// How a term was written, most frequent first: one kept inline (a short one without
/// allocation), as most terms are seen once before they are pruned.
type Surfaces = SmallVec<[(CompactString, u32); 1]>;

/// A term's latest addresses: two kept inline.
type TermEvidence = SmallVec<[Arc<str>; 2]>;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ActiveTerm {
    /// How it was written, most frequent first (a few variants: `prélèvement`, `prélèvements`).
    surfaces: Surfaces,
    words: u8,
    /// Decayed count, in units of the detector's `count_scale`.
    count: f64,
    /// Addresses of the latest documents carrying it (shared with the other terms of each).
    #[serde(with = "shared_strs")]
    evidence: TermEvidence,
    /// Open event this term belongs to.
    event: Option<u64>,
}

impl ActiveTerm {
    fn text(&self) -> &str {
        self.surfaces.first().map(|s| s.0.as_str()).unwrap_or("")
    }

    fn saw(&mut self, surface: &str) {
        match self.surfaces.iter().position(|s| s.0 == surface) {
            Some(mut i) => {
                self.surfaces[i].1 += 1;
                // kept most frequent first: the one counted moves up past those it overtook
                while i > 0 && self.surfaces[i - 1].1 < self.surfaces[i].1 {
                    self.surfaces.swap(i - 1, i);
                    i -= 1;
                }
            }
            None if self.surfaces.len() < 4 => self.surfaces.push((surface.into(), 1)),
            None => {}
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Event {
    id: u64,
    /// The alert that announced it (updated as terms join), and its time and strength.
    alert_id: String,
    alert_at: i64,
    alert_score: f64,
    terms: Vec<u64>,
    opened: i64,
    reminded: bool,
    #[serde(with = "shared_strs")]
    evidence: VecDeque<Arc<str>>,
    /// Ticks since one of its terms was last significant.
    quiet_ticks: u32,
    last_seen: i64,
}

/// Emerging-term detector of one watch.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Emerging {
    /// Current tick (event time / TICK_SECS); `None` before the first document.
    clock: Option<i64>,
    started: Option<i64>,
    docs: f64,
    #[serde(skip)]
    cells: Table,
    /// Saved in binary after the JSON part (older states have it in the JSON).
    #[serde(default, skip_serializing)]
    active: FxHashMap<u64, ActiveTerm>,
    /// What one unit of an active term's count is worth: the decay of every count at once,
    /// hour after hour, without touching each term.
    #[serde(default = "unit_scale")]
    count_scale: f64,
    events: Vec<Event>,
    copies: VecDeque<u64>,
    #[serde(skip)]
    copy_set: FxHashSet<u64>,
    next_event: u64,
}

impl Default for Emerging {
    fn default() -> Self {
        Emerging {
            clock: None,
            started: None,
            docs: 0.0,
            cells: Table::default(),
            active: FxHashMap::default(),
            count_scale: 1.0,
            events: Vec::new(),
            copies: VecDeque::new(),
            copy_set: FxHashSet::default(),
            next_event: 1,
        }
    }
}

/// Addresses shared between the terms of one document, saved as plain strings.
mod shared_strs {
    use std::sync::Arc;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<'a, S: Serializer, C>(v: &'a C, s: S) -> Result<S::Ok, S::Error>
    where
        &'a C: IntoIterator<Item = &'a Arc<str>>,
    {
        let strs: Vec<&str> = v.into_iter().map(|u| &**u).collect();
        strs.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>, C: FromIterator<Arc<str>>>(
        d: D,
    ) -> Result<C, D::Error> {
        Ok(Vec::<String>::deserialize(d)?
            .into_iter()
            .map(Arc::from)
            .collect())
    }
}

fn unit_scale() -> f64 {
    1.0
}

/// Below this, the active terms' counts are rescaled (stored units would grow without bound).
const MIN_COUNT_SCALE: f64 = 1e-150;

fn cell_index(key: u64, row: usize) -> usize {
    row * WIDTH + (xxh3_64_with_seed(&key.to_le_bytes(), row as u64 + 1) as usize & (WIDTH - 1))
}

/// A term's significance: z-score, count, and what the baseline expected.
#[derive(Debug, Clone, Copy)]
struct Significance {
    z: f64,
    count: f64,
    expected: f64,
}

impl Emerging {
    /// The hashed cell with the least count (count-min): the least polluted by collisions.
    fn cell(&self, key: u64) -> Cell {
        self.least((0..ROWS).map(|r| cell_index(key, r)))
    }

    /// Of the cells at `indices` (one per row), the one with the least count.
    fn least(&self, indices: impl IntoIterator<Item = usize>) -> Cell {
        indices
            .into_iter()
            .map(|i| self.cells.get(i))
            .min_by(|a, b| a.recent.total_cmp(&b.recent))
            .unwrap_or_default()
    }

    /// An active term's decayed count.
    fn count_of(&self, t: &ActiveTerm) -> f64 {
        t.count * self.count_scale
    }

    /// Decays every active term's count by `d`.
    fn decay_counts(&mut self, d: f64) {
        self.count_scale *= d;
        if self.count_scale < MIN_COUNT_SCALE {
            let scale = self.count_scale;
            self.active.values_mut().for_each(|t| t.count *= scale);
            self.count_scale = 1.0;
        }
    }

    fn significance(&self, key: u64, count: f64) -> Significance {
        self.significance_of(self.cell(key), count)
    }

    /// [`Emerging::significance`] of a term whose cell is `c`.
    fn significance_of(&self, c: Cell, count: f64) -> Significance {
        let n = self.docs.max(1.0);
        let expected = c.mean as f64 * n;
        // the baseline's own spread, and the Poisson noise of counting at that rate
        let spread = ((c.var.max(0.0) as f64) * n * n + expected.max(0.0)).sqrt();
        let z = (count - expected.max(BIAS)) / (spread + SPREAD_BIAS);
        Significance { z, count, expected }
    }

    /// The deviations a term must reach: the per-term threshold, raised with the number of
    /// terms tested (every recently active one) so the whole set stays quiet on noise, and
    /// raised again for a phrase made only of common words.
    fn bar(&self, term: &Term, cfg: &AlertsConfig) -> f64 {
        let bar = self.plain_bar(cfg);
        if self.common_phrase(term, cfg.emerging.common_share) {
            bar * cfg.emerging.common_factor
        } else {
            bar
        }
    }

    fn plain_bar(&self, cfg: &AlertsConfig) -> f64 {
        let m = self.active.len().max(1) as f64;
        let t = cfg.emerging.threshold;
        (t * t + 2.0 * m.ln()).sqrt()
    }

    /// Whether `z` reaches the term's [`Emerging::bar`]; whether the phrase is common is only
    /// asked when the answer depends on it.
    fn clears_bar(&self, term: &Term, z: f64, cfg: &AlertsConfig) -> bool {
        let plain = self.plain_bar(cfg);
        let common = plain * cfg.emerging.common_factor;
        if z < plain.min(common) {
            false
        } else if z >= plain.max(common) {
            true
        } else {
            z >= self.bar(term, cfg)
        }
    }

    /// A phrase whose every word, alone, is carried by at least `share` of the documents.
    fn common_phrase(&self, term: &Term, share: f64) -> bool {
        term.words >= 2
            && term.parts[..(term.words as usize).min(3)]
                .iter()
                .all(|k| self.cell(*k).mean as f64 >= share)
    }

    fn warmed_up(&self) -> bool {
        matches!((self.clock, self.started), (Some(c), Some(s)) if (c - s) * TICK_SECS >= WARMUP_SECS)
    }

    /// Moves the clock to `tick`, decaying counts and learning baselines hour by hour.
    fn advance(&mut self, tick: i64, cfg: &AlertsConfig, watch: &str, out: &mut Vec<Alert>) {
        let Some(clock) = self.clock else {
            self.clock = Some(tick);
            self.started = Some(tick);
            return;
        };
        if tick <= clock {
            return;
        }
        let steps = (tick - clock).min(MAX_REPLAYED_TICKS);
        let (d, a) = (decay(), alpha());
        for step in 0..steps {
            let n = self.docs.max(1.0);
            let elapsed = clock + step - self.started.unwrap_or(clock);
            // counts take about a day to settle: learn nothing before, then start from a
            // Poisson prior rather than from zero
            match elapsed.cmp(&(RECENT_TAU as i64)) {
                std::cmp::Ordering::Less => self.cells.decay(d),
                std::cmp::Ordering::Equal => self.cells.seed(n, d),
                std::cmp::Ordering::Greater => self.cells.learn(n, d, a),
            }
            self.docs *= d;
            self.decay_counts(d);
            let now = clock + step + 1;
            self.review_events(now, cfg, watch, out);
        }
        if tick - clock > steps {
            // a long silence: everything recent has decayed away
            self.cells.clear_recent();
            self.docs = 0.0;
            self.active.clear();
            self.count_scale = 1.0;
        }
        self.clock = Some(tick);
        self.prune();
    }

    /// Hourly: reminders for events still rising, closing of events that fell back.
    fn review_events(&mut self, now: i64, cfg: &AlertsConfig, watch: &str, out: &mut Vec<Alert>) {
        let threshold = {
            let m = self.active.len().max(1) as f64;
            (cfg.emerging.threshold.powi(2) + 2.0 * m.ln()).sqrt()
        };
        let reminder_ticks = (cfg.reminder.as_secs() as i64 / TICK_SECS).max(1);
        let mut closed = Vec::new();
        for ei in 0..self.events.len() {
            let (best, best_key) = self.events[ei]
                .terms
                .iter()
                .filter_map(|k| {
                    self.active
                        .get(k)
                        .map(|t| (self.significance(*k, self.count_of(t)).z, *k))
                })
                .fold((f64::MIN, 0u64), |acc, x| if x.0 > acc.0 { x } else { acc });
            let e = &mut self.events[ei];
            if best >= threshold / 3.0 {
                e.quiet_ticks = 0;
            } else {
                e.quiet_ticks += 1;
            }
            if !e.reminded && now - e.opened >= reminder_ticks && best >= threshold {
                e.reminded = true;
                let e = e.clone();
                if let Some(t) = self.active.get(&best_key) {
                    let sig = self.significance(best_key, self.count_of(t));
                    out.push(self.alert(&e, now * TICK_SECS, sig, watch, true));
                }
            } else if e.quiet_ticks >= 24 || now - e.last_seen > 72 {
                closed.push(e.id);
            }
        }
        if !closed.is_empty() {
            self.events.retain(|e| !closed.contains(&e.id));
            for t in self.active.values_mut() {
                if t.event.is_some_and(|id| closed.contains(&id)) {
                    t.event = None;
                }
            }
        }
    }

    fn prune(&mut self) {
        if self.active.len() <= MAX_ACTIVE {
            return;
        }
        // drop terms of no event with the smallest counts
        let mut counts: Vec<f64> = self
            .active
            .values()
            .filter(|t| t.event.is_none())
            .map(|t| t.count)
            .collect();
        let excess = self.active.len() - PRUNED_TO;
        if excess >= counts.len() {
            self.active.retain(|_, t| t.event.is_some());
            return;
        }
        counts.select_nth_unstable_by(excess, |a, b| a.total_cmp(b));
        let cut = counts[excess];
        let mut removed = 0;
        self.active.retain(|_, t| {
            if t.event.is_none() && t.count <= cut && removed < excess {
                removed += 1;
                false
            } else {
                true
            }
        });
    }

    fn alert(
        &self,
        e: &Event,
        at_secs: i64,
        sig: Significance,
        watch: &str,
        reminder: bool,
    ) -> Alert {
        let mut terms: Vec<&ActiveTerm> =
            e.terms.iter().filter_map(|k| self.active.get(k)).collect();
        terms.sort_by(|a, b| {
            b.words
                .cmp(&a.words)
                .then(b.count.total_cmp(&a.count))
                .then(a.text().cmp(b.text()))
        });
        let names: Vec<String> = terms.iter().take(6).map(|t| t.text().to_string()).collect();
        let at = DateTime::from_timestamp(at_secs, 0).unwrap_or_default();
        let evidence: Vec<String> = e
            .evidence
            .iter()
            .rev()
            .take(10)
            .map(|u| u.to_string())
            .collect();
        let message = format!(
            "{}“{}” rising: in {:.0} documents over the last day where its own baseline expects {:.1} ({:.1} deviations above)",
            if reminder { "still " } else { "" },
            names.first().map(String::as_str).unwrap_or("?"),
            sig.count,
            sig.expected,
            sig.z
        );
        let mut a = Alert::new(
            AlertKind::Emerging,
            watch,
            None,
            names,
            at,
            sig.z,
            evidence,
            message,
            reminder,
        );
        a.scale = Some("24h".into());
        a.count = Some(sig.count.round());
        a.baseline = Some((sig.expected * 10.0).round() / 10.0);
        a
    }

    /// Counts a document; gives the alerts it raises.
    pub fn observe(
        &mut self,
        obs: &Observation<'_>,
        cfg: &AlertsConfig,
        watch: &str,
    ) -> Vec<Alert> {
        let out = self.observe_counted(obs, cfg, watch);
        self.bound();
        out
    }

    fn observe_counted(
        &mut self,
        obs: &Observation<'_>,
        cfg: &AlertsConfig,
        watch: &str,
    ) -> Vec<Alert> {
        let mut out = Vec::new();
        let tick = obs.at.timestamp().div_euclid(TICK_SECS);
        self.advance(tick, cfg, watch, &mut out);
        // copies count once
        if !self.copy_set.insert(obs.content_hash) {
            return out;
        }
        self.copies.push_back(obs.content_hash);
        if self.copies.len() > RECENT_COPIES {
            if let Some(old) = self.copies.pop_front() {
                self.copy_set.remove(&old);
            }
        }
        self.docs += 1.0;
        let now = self.clock.unwrap_or(tick);
        let mut firing: Vec<(u64, Significance)> = Vec::new();
        // one copy of the address, shared by every term of the document
        let url: Arc<str> = Arc::from(obs.url);
        let scale = self.count_scale;
        for term in obs.terms {
            let rows: [usize; ROWS] = std::array::from_fn(|r| cell_index(term.key, r));
            for &i in &rows {
                self.cells.recent[i] += 1.0;
            }
            let t = self.active.entry(term.key).or_insert_with(|| ActiveTerm {
                surfaces: Surfaces::new(),
                words: term.words,
                count: 0.0,
                evidence: TermEvidence::new(),
                event: None,
            });
            t.count += 1.0 / scale;
            let text = obs.terms.text(term);
            t.saw(text);
            t.evidence.push(url.clone());
            if t.evidence.len() > TERM_EVIDENCE {
                t.evidence.remove(0);
            }
            if let Some(eid) = t.event {
                if let Some(e) = self.events.iter_mut().find(|e| e.id == eid) {
                    e.last_seen = now;
                    if e.evidence.back().map(|u| &**u) != Some(obs.url) {
                        e.evidence.push_back(url.clone());
                        if e.evidence.len() > EVENT_EVIDENCE {
                            e.evidence.pop_front();
                        }
                    }
                }
                continue;
            }
            let count = t.count * scale;
            if !cfg.emerging.enabled || count < cfg.emerging.min_count as f64 {
                continue;
            }
            let sig = self.significance_of(self.least(rows), count);
            tracing::trace!(term = %text, count, z = sig.z, expected = sig.expected, "emerging candidate");
            if count >= cfg.emerging.min_ratio * sig.expected && self.clears_bar(term, sig.z, cfg) {
                firing.push((term.key, sig));
            }
        }
        if firing.is_empty() || !self.warmed_up() {
            return out;
        }
        // terms that belong to an open event (their documents are the event's) join it quietly
        let mut fresh: Vec<(u64, Significance)> = Vec::new();
        let mut updated: Vec<u64> = Vec::new();
        for (key, sig) in firing {
            let ev: FxHashSet<&str> = self.active[&key].evidence.iter().map(|u| &**u).collect();
            let joined = self.events.iter_mut().find(|e| {
                let shared = e.evidence.iter().filter(|u| ev.contains(&***u)).count();
                shared * 2 >= ev.len()
            });
            match joined {
                Some(e) => {
                    e.terms.push(key);
                    let id = e.id;
                    if let Some(t) = self.active.get_mut(&key) {
                        t.event = Some(id);
                    }
                    if !updated.contains(&id) {
                        updated.push(id);
                    }
                }
                None => fresh.push((key, sig)),
            }
        }
        // the alerts of events that gained terms are rewritten with them
        for id in updated {
            if let Some(e) = self.events.iter().find(|e| e.id == id) {
                let best = e
                    .terms
                    .iter()
                    .filter_map(|k| {
                        self.active
                            .get(k)
                            .map(|t| self.significance(*k, self.count_of(t)))
                    })
                    .max_by(|a, b| a.count.total_cmp(&b.count));
                if let Some(sig) = best {
                    let mut a = self.alert(
                        e,
                        e.alert_at,
                        Significance {
                            z: e.alert_score,
                            ..sig
                        },
                        watch,
                        false,
                    );
                    a.id = e.alert_id.clone();
                    a.update = true;
                    out.push(a);
                }
            }
        }
        if fresh.is_empty() {
            return out;
        }
        // one event for everything this document set off
        let id = self.next_event;
        self.next_event += 1;
        // evidence: the documents carrying most of the event's terms first, latest first
        let mut carried: Vec<(Arc<str>, usize)> = Vec::new();
        for (key, _) in &fresh {
            for u in self.active[key].evidence.iter().rev() {
                match carried.iter_mut().find(|c| c.0 == *u) {
                    Some(c) => c.1 += 1,
                    None => carried.push((u.clone(), 1)),
                }
            }
        }
        carried.sort_by_key(|c| std::cmp::Reverse(c.1));
        let evidence: VecDeque<Arc<str>> = carried.into_iter().rev().map(|c| c.0).collect();
        let mut event = Event {
            id,
            alert_id: String::new(),
            alert_at: obs.at.timestamp(),
            alert_score: 0.0,
            terms: fresh.iter().map(|f| f.0).collect(),
            opened: now,
            reminded: false,
            evidence,
            quiet_ticks: 0,
            last_seen: now,
        };
        for (key, _) in &fresh {
            if let Some(t) = self.active.get_mut(key) {
                t.event = Some(id);
            }
        }
        let best = fresh
            .iter()
            .map(|f| f.1)
            .max_by(|a, b| a.z.total_cmp(&b.z))
            .expect("non-empty");
        let alert = self.alert(&event, obs.at.timestamp(), best, watch, false);
        event.alert_id = alert.id.clone();
        event.alert_score = best.z;
        out.push(alert);
        self.events.push(event);
        out
    }

    /// Keeps the map of active terms within its cap between hourly steps too.
    fn bound(&mut self) {
        if self.active.len() > MAX_ACTIVE {
            self.prune();
        }
    }

    /// Number of terms held in memory (for the bounded-memory guarantee).
    pub fn held_terms(&self) -> usize {
        self.active.len()
    }

    /// Serialised state: a tag, the small parts as JSON, the active terms in binary (each
    /// address written once, the terms pointing at it), and the table as raw little-endian
    /// floats.
    pub fn to_bytes(&self) -> Vec<u8> {
        let json = serde_json::to_vec(self).expect("detector state serialises");
        let mut out =
            Vec::with_capacity(16 + json.len() + self.active.len() * 64 + self.cells.len() * 12);
        out.extend_from_slice(STATE_TAG);
        out.extend_from_slice(&(json.len() as u64).to_le_bytes());
        out.extend_from_slice(&json);
        self.active_to_bytes(&mut out);
        for i in 0..self.cells.len() {
            let c = self.cells.get(i);
            out.extend_from_slice(&c.recent.to_le_bytes());
            out.extend_from_slice(&c.mean.to_le_bytes());
            out.extend_from_slice(&c.var.to_le_bytes());
        }
        out
    }

    fn active_to_bytes(&self, out: &mut Vec<u8>) {
        fn put_str(out: &mut Vec<u8>, s: &str) {
            out.extend_from_slice(&(s.len() as u32).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        }
        // the addresses, once each: a document's address is shared by all of its terms
        let mut index: FxHashMap<*const u8, u32> = FxHashMap::default();
        let mut urls: Vec<&str> = Vec::new();
        for t in self.active.values() {
            for u in &t.evidence {
                index.entry(u.as_ptr()).or_insert_with(|| {
                    urls.push(u);
                    (urls.len() - 1) as u32
                });
            }
        }
        out.extend_from_slice(&(urls.len() as u32).to_le_bytes());
        for u in &urls {
            put_str(out, u);
        }
        out.extend_from_slice(&(self.active.len() as u32).to_le_bytes());
        for (key, t) in &self.active {
            out.extend_from_slice(&key.to_le_bytes());
            out.push(t.words);
            out.extend_from_slice(&t.count.to_le_bytes());
            match t.event {
                Some(id) => {
                    out.push(1);
                    out.extend_from_slice(&id.to_le_bytes());
                }
                None => out.push(0),
            }
            out.push(t.surfaces.len() as u8);
            for (text, n) in &t.surfaces {
                put_str(out, text);
                out.extend_from_slice(&n.to_le_bytes());
            }
            out.extend_from_slice(&(t.evidence.len() as u32).to_le_bytes());
            for u in &t.evidence {
                out.extend_from_slice(&index[&u.as_ptr()].to_le_bytes());
            }
        }
    }

    pub fn from_bytes(b: &[u8]) -> Option<Emerging> {
        // states written before the active terms went binary start with the JSON's length
        let tagged = b.starts_with(STATE_TAG);
        let mut r = Reader(if tagged { &b[STATE_TAG.len()..] } else { b });
        let len = r.u64()? as usize;
        let mut e: Emerging = serde_json::from_slice(r.take(len)?).ok()?;
        if tagged {
            e.active = active_from(&mut r)?;
        }
        let table = r.0;
        if table.len() != ROWS * WIDTH * 12 {
            return None;
        }
        let float = |b: &[u8]| f32::from_le_bytes(b.try_into().expect("4 bytes"));
        for (i, c) in table.chunks_exact(12).enumerate() {
            e.cells.recent[i] = float(&c[0..4]);
            e.cells.mean[i] = float(&c[4..8]);
            e.cells.var[i] = float(&c[8..12]);
        }
        e.copy_set = e.copies.iter().copied().collect();
        Some(e)
    }
}

/// First bytes of a saved emerging-terms state with its active terms in binary. An older
/// state starts with the length of its JSON, which never reaches these bytes' value.
const STATE_TAG: &[u8; 8] = b"VEMG\x01\0\0\xff";

/// Reads a saved state front to back; `None` past its end.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    fn str(&mut self) -> Option<&'a str> {
        let n = self.u32()? as usize;
        std::str::from_utf8(self.take(n)?).ok()
    }
}

fn active_from(r: &mut Reader<'_>) -> Option<FxHashMap<u64, ActiveTerm>> {
    let n_urls = r.u32()? as usize;
    let mut urls: Vec<Arc<str>> = Vec::with_capacity(n_urls.min(r.0.len() / 4));
    for _ in 0..n_urls {
        urls.push(Arc::from(r.str()?));
    }
    let n = r.u32()? as usize;
    let mut active = FxHashMap::default();
    active.reserve(n.min(r.0.len() / 16));
    for _ in 0..n {
        let key = r.u64()?;
        let words = r.u8()?;
        let count = f64::from_bits(r.u64()?);
        let event = match r.u8()? {
            0 => None,
            _ => Some(r.u64()?),
        };
        let n_surfaces = r.u8()? as usize;
        let mut surfaces = Surfaces::with_capacity(n_surfaces);
        for _ in 0..n_surfaces {
            let text = CompactString::from(r.str()?);
            surfaces.push((text, r.u32()?));
        }
        let n_evidence = r.u32()? as usize;
        let mut evidence = TermEvidence::with_capacity(n_evidence.min(TERM_EVIDENCE));
        for _ in 0..n_evidence {
            evidence.push(urls.get(r.u32()? as usize)?.clone());
        }
        active.insert(
            key,
            ActiveTerm {
                surfaces,
                words,
                count,
                evidence,
                event,
            },
        );
    }
    Some(active)
}

/// Per-brand state: sentiment shift and volume (spikes and drops).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BrandSignals {
    clock: Option<i64>,
    started: Option<i64>,
    /// Decayed mentions and negative mentions over about a day.
    recent: f64,
    recent_neg: f64,
    /// Baseline negative share and how many mentions it has seen.
    p0: f64,
    seen: u64,
    cusum: f64,
    shift: Option<(i64, bool)>,
    #[serde(default)]
    volume: Volume,
    /// Recent negative mentions: (url, terms).
    negatives: VecDeque<(String, Vec<String>)>,
    /// Terms of the recent mentions that were not negative (to tell what sets the negative
    /// ones apart).
    #[serde(default)]
    others: VecDeque<Vec<String>>,
    recent_docs: VecDeque<String>,
}

/// Mentions a baseline needs before shifts can be judged.
const MIN_BASELINE_MENTIONS: u64 = 60;
/// The rise of the negative share the CUSUM is tuned to detect fastest.
const SHIFT_DESIGN: f64 = 0.5;
/// The last day's negative share must also stand this many standard errors above the
/// baseline, and this far above it in absolute terms, before a shift is raised: one angry
/// post or a quiet night raises nothing.
const SHIFT_MIN_Z: f64 = 1.5;
const SHIFT_MIN_RISE: f64 = 0.15;
/// How many standard errors of the baseline are added to it before judging a shift.
const SHIFT_MARGIN: f64 = 1.0;
const P0_ALPHA: f64 = 1.0 / 300.0;

impl BrandSignals {
    fn advance(&mut self, tick: i64) -> i64 {
        let Some(clock) = self.clock else {
            self.clock = Some(tick);
            self.started = Some(tick);
            return 0;
        };
        if tick <= clock {
            return 0;
        }
        let steps = (tick - clock).min(MAX_REPLAYED_TICKS);
        let d = decay();
        for _ in 0..steps {
            self.recent *= d;
            self.recent_neg *= d;
        }
        if tick - clock > steps {
            self.recent = 0.0;
            self.recent_neg = 0.0;
        }
        self.clock = Some(tick);
        tick - clock
    }

    fn warmed_up(&self, now: i64) -> bool {
        self.started
            .is_some_and(|s| (now - s) * TICK_SECS >= WARMUP_SECS)
            && self.seen >= MIN_BASELINE_MENTIONS
    }

    /// Counts one mention of the brand (`brand` its id, `name` how people call it); gives the
    /// alerts it raises.
    pub fn observe(
        &mut self,
        obs: &Observation<'_>,
        label: Label,
        (brand, name): (&str, &str),
        cfg: &AlertsConfig,
        watch: &str,
    ) -> Vec<Alert> {
        let mut out = Vec::new();
        let tick = obs.at.timestamp().div_euclid(TICK_SECS);
        self.advance(tick);
        let now = self.clock.unwrap_or(tick);
        let reminder_ticks = (cfg.reminder.as_secs() as i64 / TICK_SECS).max(1);
        let negative = label == Label::Negative;
        self.recent += 1.0;
        let terms: Vec<String> = obs
            .terms
            .iter()
            .filter(|t| t.words <= 2)
            .take(40)
            .map(|t| obs.terms.text(t).to_string())
            .collect();
        if negative {
            self.recent_neg += 1.0;
            self.negatives
                .push_back((obs.url.to_string(), terms.clone()));
            if self.negatives.len() > 60 {
                self.negatives.pop_front();
            }
        } else {
            self.others.push_back(terms);
            if self.others.len() > 60 {
                self.others.pop_front();
            }
        }
        self.recent_docs.push_back(obs.url.to_string());
        if self.recent_docs.len() > 60 {
            self.recent_docs.pop_front();
        }
        // --- sentiment shift: Bernoulli CUSUM against the brand's own baseline, made
        // conservative by the baseline's own uncertainty while it has seen few mentions
        let margin = SHIFT_MARGIN * (self.p0 * (1.0 - self.p0)).max(0.01).sqrt()
            / (self.seen.clamp(1, 300) as f64).sqrt();
        let p0 = (self.p0 + margin).clamp(0.02, 0.9);
        let p1 = (p0 + SHIFT_DESIGN).min(0.97);
        let h = cfg.sentiment_shift.threshold;
        if self.seen >= MIN_BASELINE_MENTIONS / 2 {
            let llr = if negative {
                (p1 / p0).ln()
            } else {
                ((1.0 - p1) / (1.0 - p0)).ln()
            };
            self.cusum = (self.cusum + llr).clamp(0.0, 3.0 * h);
        }
        let share = if self.recent > 0.0 {
            self.recent_neg / self.recent
        } else {
            0.0
        };
        let z =
            (self.recent_neg - self.recent * p0) / (self.recent * p0 * (1.0 - p0)).max(1e-9).sqrt();
        tracing::trace!(brand, at = %obs.at, negative, cusum = self.cusum, z, share, p0, recent = self.recent, "brand mention");
        let shifted = self.cusum >= h
            && z >= SHIFT_MIN_Z
            && self.recent >= cfg.sentiment_shift.min_count as f64
            && share >= p0 + SHIFT_MIN_RISE;
        if cfg.sentiment_shift.enabled && self.warmed_up(now) {
            match self.shift {
                None if shifted => {
                    self.shift = Some((now, false));
                    out.push(self.shift_alert(obs, (brand, name), watch, self.p0, share, false));
                }
                Some((opened, false)) if shifted && now - opened >= reminder_ticks => {
                    self.shift = Some((opened, true));
                    out.push(self.shift_alert(obs, (brand, name), watch, self.p0, share, true));
                }
                Some(_) if self.cusum <= 0.0 && z < 1.0 => self.shift = None,
                _ => {}
            }
        }
        // the baseline learns, slowly (more slowly still while a shift is open)
        let a = if self.seen < MIN_BASELINE_MENTIONS {
            1.0 / (self.seen as f64 + 1.0)
        } else if self.shift.is_some() {
            P0_ALPHA / 3.0
        } else {
            P0_ALPHA
        };
        self.p0 += a * ((negative as u8 as f64) - self.p0);
        self.seen += 1;
        // --- volume: spikes per post, drops at each hour's end
        for step in self.volume.observe(obs.at.timestamp(), cfg) {
            out.push(self.volume_alert(obs, step, (brand, name), watch));
        }
        out
    }

    fn shift_alert(
        &self,
        obs: &Observation<'_>,
        (brand, name): (&str, &str),
        watch: &str,
        p0: f64,
        share: f64,
        reminder: bool,
    ) -> Alert {
        // the terms that drove it: frequent in the recent negative mentions, rare in the others
        let neg: Vec<&Vec<String>> = self
            .negatives
            .iter()
            .rev()
            .take(30)
            .map(|(_, t)| t)
            .collect();
        let mut counts: HashMap<&str, (usize, usize)> = HashMap::new();
        for terms in &neg {
            for t in terms.iter() {
                counts.entry(t.as_str()).or_default().0 += 1;
            }
        }
        for terms in self.others.iter().rev().take(30) {
            for t in terms {
                if let Some(c) = counts.get_mut(t.as_str()) {
                    c.1 += 1;
                }
            }
        }
        let brand_l = name.to_lowercase();
        let (n_neg, n_other) = (
            neg.len().max(1) as f64,
            self.others.len().clamp(1, 30) as f64,
        );
        let mut top: Vec<(&str, f64)> = counts
            .into_iter()
            .filter(|(t, c)| {
                c.0 >= 2 && !t.to_lowercase().contains(&brand_l) && !t.starts_with('@')
            })
            .map(|(t, (a, b))| {
                let (pa, pb) = (a as f64 / n_neg, b as f64 / n_other);
                (t, a as f64 * (pa - pb))
            })
            .filter(|(_, score)| *score > 0.0)
            .collect();
        top.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
        let terms: Vec<String> = top
            .into_iter()
            .take(6)
            .map(|(t, _)| t.to_string())
            .collect();
        let evidence: Vec<String> = self
            .negatives
            .iter()
            .rev()
            .take(10)
            .map(|(u, _)| u.clone())
            .collect();
        let message = format!(
            "{}negative share of {name} mentions at {:.0}% over the last day ({:.0} of {:.0}), against {:.0}% usually",
            if reminder { "still: " } else { "" },
            share * 100.0,
            self.recent_neg,
            self.recent,
            p0 * 100.0
        );
        let mut a = Alert::new(
            AlertKind::SentimentShift,
            watch,
            Some(brand.to_string()),
            terms,
            obs.at,
            self.cusum,
            evidence,
            message,
            reminder,
        );
        a.brand_name = Some(name.to_string());
        a
    }

    fn volume_alert(
        &self,
        obs: &Observation<'_>,
        v: VolumeStep,
        (brand, name): (&str, &str),
        watch: &str,
    ) -> Alert {
        let scale = scale_name(v.hours);
        let (kind, message) = if v.drop {
            (
                AlertKind::VolumeDrop,
                format!(
                    "{}{name} mentioned in {:.0} documents over the last {scale}, where {:.1} are usual at these hours and weekdays ({:.1} deviations below, at this brand's volume)",
                    if v.reminder { "still: " } else { "" },
                    v.count,
                    v.expected,
                    -v.z
                ),
            )
        } else {
            (
                AlertKind::VolumeSpike,
                format!(
                    "{}{name} mentioned in {:.0} documents over the last {scale} and this hour so far, where {:.1} are usual at these hours and weekdays ({:.1} deviations above, at this brand's volume)",
                    if v.reminder { "still: " } else { "" },
                    v.count,
                    v.expected,
                    v.z
                ),
            )
        };
        let at = DateTime::from_timestamp(v.at, 0).unwrap_or(obs.at);
        let evidence: Vec<String> = if v.drop {
            Vec::new()
        } else {
            self.recent_docs.iter().rev().take(10).cloned().collect()
        };
        let mut a = Alert::new(
            kind,
            watch,
            Some(brand.to_string()),
            Vec::new(),
            at,
            v.z.abs(),
            evidence,
            message,
            v.reminder,
        );
        a.brand_name = Some(name.to_string());
        a.scale = Some(scale);
        a.baseline = Some((v.expected * 10.0).round() / 10.0);
        a.count = Some(v.count.round());
        a
    }
}

/// How a scale reads in an alert: `1h`, `36h`, `3d`.
fn scale_name(hours: u32) -> String {
    if hours >= 48 && hours.is_multiple_of(24) {
        format!("{}d", hours / 24)
    } else {
        format!("{hours}h")
    }
}

/// Hour of the week (0 = Monday 00:00 UTC) of an hour number (event time / 3600).
fn hour_of_week(hour: i64) -> usize {
    // 1970-01-01 was a Thursday
    ((hour.div_euclid(24) + 3).rem_euclid(7) * 24 + hour.rem_euclid(24)) as usize
}

/// Time constant, in hours, of the deseasonalised level of a brand's volume.
const LEVEL_TAU_H: f64 = 24.0 * 7.0;
/// Days over which each hour of the day's factor is the median.
const HOD_DAYS: usize = 7;
/// Weeks over which each day of the week's factor is the median.
const DOW_WEEKS: usize = 4;

fn push_capped(q: &mut VecDeque<f32>, x: f32, cap: usize) {
    q.push_back(x);
    while q.len() > cap {
        q.pop_front();
    }
}

fn median(q: &VecDeque<f32>) -> f64 {
    let mut v: Vec<f32> = q.iter().copied().collect();
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2] as f64
    } else {
        (v[n / 2 - 1] as f64 + v[n / 2] as f64) / 2.0
    }
}

/// A seasonal log factor: the median of its recent ratios once there are `SEASON_MIN` of them
/// (one or two unusual days must not become the season), none before.
fn season_factor(q: &VecDeque<f32>) -> f64 {
    if q.len() < SEASON_MIN {
        0.0
    } else {
        median(q)
    }
}

/// A seasonal profile from its cells' recent log ratios: each cell's median, shrunk towards
/// zero by how much of the profile's spread the Poisson noise of medians of so few counts
/// would explain (`per_cell`: documents a cell usually holds). A flat brand keeps a flat
/// profile; a brand with a strong daily cycle keeps it whole.
fn shrunk_profile(seen: &[VecDeque<f32>], per_cell: f64) -> Vec<f64> {
    let raw: Vec<f64> = seen.iter().map(season_factor).collect();
    // variance of the median of n log-Poisson ratios: about (π/2) / (n · count)
    let noise: Vec<f64> = raw
        .iter()
        .zip(seen)
        .map(|(r, q)| {
            std::f64::consts::FRAC_PI_2 / ((q.len().max(1) as f64) * (per_cell * r.exp() + 0.5))
        })
        .collect();
    let n = raw.len().max(1) as f64;
    let mean = raw.iter().sum::<f64>() / n;
    let spread = raw.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / n;
    let signal = (spread - noise.iter().sum::<f64>() / n).max(0.0);
    raw.iter()
        .zip(&noise)
        .map(|(r, v)| r * signal / (signal + v))
        .collect()
}

/// Least ratios a seasonal factor is learnt from.
const SEASON_MIN: usize = 3;

/// Shifts log factors to mean zero (the level carries the mean).
fn center(v: &mut [f64]) {
    let m = v.iter().sum::<f64>() / v.len().max(1) as f64;
    v.iter_mut().for_each(|x| *x -= m);
}
/// Time constant, in hours, of its extra variance at each scale.
const DISPERSION_TAU_H: f64 = 24.0 * 7.0;
/// Huber bound, in deviations: an observation beyond it enters the baselines as if it were at it,
/// so a spike does not inflate the level, the season or the variance it is judged against.
const HUBER: f64 = 2.5;
/// Variance of a normal variable trimmed at ±`HUBER` deviations, in units of its own variance:
/// the trimmed mean square is divided by it to estimate the variance.
const TRIMMED_SHARE: f64 = 0.911;
/// Extra variance of the log count a new brand starts from (a prior: about ±22 % beyond Poisson).
const PRIOR_DISPERSION: f64 = 0.05;
const MIN_DISPERSION: f64 = 0.0005;
/// Longest history kept, in hours (the longest scale allowed).
const MAX_SCALE_H: usize = 14 * 24;

/// Signed root of the Poisson likelihood ratio of `x` against the mean `m`: how many standard
/// deviations `x` lies above (or below) `m`, exact enough down to a handful of documents.
fn poisson_z(x: f64, m: f64) -> f64 {
    let m = m.max(1e-9);
    let dev = if x <= 0.0 {
        2.0 * m
    } else {
        2.0 * (x * (x / m).ln() - (x - m))
    };
    dev.max(0.0).sqrt().copysign(x - m)
}

/// What the volume watcher of a brand says at one step.
#[derive(Debug, Clone, Copy)]
struct VolumeStep {
    drop: bool,
    reminder: bool,
    hours: u32,
    at: i64,
    count: f64,
    expected: f64,
    z: f64,
}

/// An open volume event: the scale that opened it, when, and whether it was recalled.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct OpenEvent {
    scale: usize,
    opened: i64,
    reminded: bool,
}

/// Events of one direction (spikes or drops): which scales may fire, and the open event.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct EventWatch {
    /// Per scale: free to open an event (not above `close` since the last one).
    armed: Vec<bool>,
    open: Option<OpenEvent>,
}

impl EventWatch {
    /// One step over the deviations `z` (positive = this direction) of each scale; `ok` says
    /// where the count is large enough. Gives the scale that fired and whether it is a reminder.
    fn step(
        &mut self,
        z: &[f64],
        ok: &[bool],
        may_fire: bool,
        now: i64,
        reminder_secs: i64,
        cfg: &VolumeConfig,
    ) -> Option<(usize, bool)> {
        if self.armed.len() != z.len() {
            self.armed = vec![true; z.len()];
            self.open = None;
        }
        let mut fired = None;
        let firing = |i: &usize| ok[*i] && z[*i] >= cfg.threshold;
        match &mut self.open {
            None if may_fire => {
                if let Some(i) = (0..z.len()).find(|i| self.armed[*i] && firing(i)) {
                    self.open = Some(OpenEvent {
                        scale: i,
                        opened: now,
                        reminded: false,
                    });
                    fired = Some((i, false));
                }
            }
            Some(o) if may_fire && !o.reminded && now - o.opened >= reminder_secs => {
                if let Some(i) = (0..z.len())
                    .filter(firing)
                    .max_by(|a, b| z[*a].total_cmp(&z[*b]))
                {
                    o.reminded = true;
                    fired = Some((i, true));
                }
            }
            _ => {}
        }
        // scales above `close` during an event belong to it and cannot open another
        for (i, armed) in self.armed.iter_mut().enumerate() {
            if z[i] < cfg.close {
                *armed = true;
            } else if self.open.is_some() {
                *armed = false;
            }
        }
        if let Some(o) = self.open {
            if z[..=o.scale.min(z.len() - 1)]
                .iter()
                .all(|x| *x < cfg.close)
            {
                self.open = None;
            }
        }
        fired
    }
}

/// A brand's volume against its own seasonal baseline, at several time scales at once.
///
/// Counts are kept per hour of event time. The baseline of an hour is a deseasonalised level
/// times an hour-of-day and a day-of-week factor, all learnt hour by hour with Huber-bounded
/// steps; the extra variance beyond Poisson is learnt per scale the same way. At each mention,
/// the count of the last `s` hours plus the current one is set against the baseline's sum over
/// the same hours: `poisson_z / sqrt(1 + expected · dispersion)`, the deviation at the brand's
/// own volume (Poisson for a quiet brand, mostly the learnt variance for a loud one).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Volume {
    /// Current hour (event time / 3600) and the first one seen.
    hour: Option<i64>,
    started: Option<i64>,
    /// Mentions in the current hour so far.
    current: f64,
    /// Mentions of the past hours, newest last.
    past: VecDeque<f32>,
    /// Hours learnt; log of the deseasonalised hourly level.
    learnt: u64,
    level: f64,
    /// Log factors per hour of the day (24) and day of the week (7), mean zero: medians of
    /// the last `HOD_DAYS` days' and `DOW_WEEKS` weeks' log ratios, so a spike does not move
    /// them.
    hod: Vec<f64>,
    dow: Vec<f64>,
    /// Those log ratios, oldest first, per hour of the day and per day of the week.
    #[serde(default)]
    hod_seen: Vec<VecDeque<f32>>,
    #[serde(default)]
    dow_seen: Vec<VecDeque<f32>>,
    /// Mentions and baseline (without its day-of-week factor) of the current day so far.
    #[serde(default)]
    day: (f64, f64),
    /// Extra variance of the log count per scale, and how many windows it has learnt from.
    dispersion: Vec<f64>,
    #[serde(default)]
    dispersion_seen: Vec<u32>,
    spikes: EventWatch,
    drops: EventWatch,
    /// exp(hod + dow) per hour of the week, rebuilt from the two profiles.
    #[serde(skip)]
    season: Vec<f64>,
}

impl Volume {
    fn scales(cfg: &AlertsConfig) -> Vec<u32> {
        cfg.scales
            .iter()
            .map(|d| ((d.as_secs() / 3600) as u32).clamp(1, MAX_SCALE_H as u32))
            .collect()
    }

    fn ensure_shape(&mut self, n: usize) {
        if self.hod.len() != 24
            || self.dow.len() != 7
            || self.hod_seen.len() != 24
            || self.dow_seen.len() != 7
        {
            self.hod = vec![0.0; 24];
            self.dow = vec![0.0; 7];
            self.hod_seen = vec![VecDeque::new(); 24];
            self.dow_seen = vec![VecDeque::new(); 7];
            self.season.clear();
        }
        if self.dispersion.len() != n || self.dispersion_seen.len() != n {
            self.dispersion = vec![PRIOR_DISPERSION; n];
            self.dispersion_seen = vec![0; n];
        }
        if self.season.len() != 168 {
            self.rebuild_season();
        }
    }

    fn rebuild_season(&mut self) {
        self.season = (0..168)
            .map(|h| (self.hod[h % 24] + self.dow[h / 24]).exp())
            .collect();
    }

    /// Baseline of the hour `hour`.
    fn expected_at(&self, hour: i64) -> f64 {
        self.level.exp() * self.season[hour_of_week(hour)]
    }

    /// Counts and baselines of each scale: the last `s` whole hours and `fraction` of the
    /// current one.
    fn windows(&self, scales: &[u32], fraction: f64, out: &mut Vec<(f64, f64)>) {
        out.clear();
        let Some(hour) = self.hour else { return };
        let base = self.level.exp();
        let mut x = self.current;
        let mut m = fraction * base * self.season[hour_of_week(hour)];
        let mut k = 0usize;
        for &s in scales {
            let s = s as usize;
            while k < s && k < self.past.len() {
                x += self.past[self.past.len() - 1 - k] as f64;
                m += base * self.season[hour_of_week(hour - 1 - k as i64)];
                k += 1;
            }
            out.push((x, m));
        }
    }

    fn deviations(&self, w: &[(f64, f64)]) -> Vec<f64> {
        w.iter()
            .zip(&self.dispersion)
            .map(|(&(x, m), d)| poisson_z(x, m) / (1.0 + m * d).sqrt())
            .collect()
    }

    /// Closes the current hour: learns from it, then judges drops and closes spikes that ended.
    fn close_hour(&mut self, scales: &[u32], cfg: &AlertsConfig, out: &mut Vec<VolumeStep>) {
        let Some(hour) = self.hour else { return };
        let x = self.current;
        let mu = self.expected_at(hour);
        // level and season: a Huber step of the count against its baseline
        let d0 = self.dispersion.first().copied().unwrap_or(PRIOR_DISPERSION);
        if self.learnt == 0 {
            self.level = (x + 0.5).ln();
        } else {
            let sd = (mu + d0 * mu * mu).sqrt().max(1e-6);
            let p = ((x - mu) / sd).clamp(-HUBER, HUBER);
            let step = (p * sd / (mu + 0.5)).clamp(-1.0, 1.0);
            let a = (1.0 / (self.learnt as f64 + 2.0)).max(1.0 / LEVEL_TAU_H);
            self.level += a * step;
            // season: medians of recent log ratios, the hour's against the level and its day,
            // the day's against the level and its hours
            let how = hour_of_week(hour);
            let (h, dw) = (how % 24, how / 24);
            let base = self.level.exp();
            let hour_base = base * self.hod[h].exp();
            let r = ((x + 0.5) / (base * self.dow[dw].exp() + 0.5)).ln();
            push_capped(&mut self.hod_seen[h], r as f32, HOD_DAYS);
            self.hod = shrunk_profile(&self.hod_seen, base);
            self.day.0 += x;
            self.day.1 += hour_base;
            if h == 23 {
                let r = ((self.day.0 + 0.5) / (self.day.1 + 0.5)).ln();
                push_capped(&mut self.dow_seen[dw], r as f32, DOW_WEEKS);
                self.dow = shrunk_profile(&self.dow_seen, base * 24.0);
                self.day = (0.0, 0.0);
            }
            center(&mut self.hod);
            center(&mut self.dow);
            self.rebuild_season();
        }
        self.learnt += 1;
        self.past.push_back(x as f32);
        let longest = scales.iter().copied().max().unwrap_or(1) as usize;
        while self.past.len() > longest {
            self.past.pop_front();
        }
        self.current = 0.0;
        self.hour = Some(hour + 1);
        // windows of whole hours: learn the variance of each scale, judge drops
        let mut w = Vec::with_capacity(scales.len());
        self.windows(scales, 0.0, &mut w);
        for (i, &(xs, ms)) in w.iter().enumerate() {
            if self.past.len() < scales[i] as usize {
                continue;
            }
            // a running mean from the prior at first, then exponentially weighted
            let a = (1.0 / (self.dispersion_seen[i] as f64 + 2.0)).max(1.0 / DISPERSION_TAU_H);
            let inv = 1.0 / (ms + 0.5);
            let sd = (inv + self.dispersion[i]).sqrt();
            // trimmed: a window beyond the bound says nothing of the usual variance (clipping it
            // instead would let a long rise inflate the variance hour after hour)
            let e = ((xs + 0.5) / (ms + 0.5)).ln();
            if e.abs() > HUBER * sd {
                continue;
            }
            self.dispersion_seen[i] = self.dispersion_seen[i].saturating_add(1);
            self.dispersion[i] = ((1.0 - a) * self.dispersion[i]
                + a * (e * e / TRIMMED_SHARE - inv))
                .max(MIN_DISPERSION);
        }
        let z = self.deviations(&w);
        let now = (hour + 1) * 3600;
        let reminder = cfg.reminder.as_secs() as i64;
        let warm = self.warmed_up(now, cfg);
        let below: Vec<f64> = z.iter().map(|v| -v).collect();
        let ok: Vec<bool> = w
            .iter()
            .map(|&(_, m)| m >= cfg.volume_drop.min_count as f64)
            .collect();
        if let Some((i, rem)) = self.drops.step(
            &below,
            &ok,
            warm && cfg.volume_drop.enabled,
            now,
            reminder,
            &cfg.volume_drop,
        ) {
            out.push(VolumeStep {
                drop: true,
                reminder: rem,
                hours: scales[i],
                at: now,
                count: w[i].0,
                expected: w[i].1,
                z: z[i],
            });
        }
        let ok = vec![false; z.len()];
        self.spikes
            .step(&z, &ok, false, now, reminder, &cfg.volume_spike);
    }

    fn warmed_up(&self, now: i64, cfg: &AlertsConfig) -> bool {
        self.started
            .is_some_and(|s| now - s * 3600 >= cfg.warmup.as_secs() as i64)
    }

    /// Counts one mention at `secs` (event time); gives what it sets off.
    fn observe(&mut self, secs: i64, cfg: &AlertsConfig) -> Vec<VolumeStep> {
        let scales = Self::scales(cfg);
        self.ensure_shape(scales.len());
        let mut out = Vec::new();
        let hour = secs.div_euclid(3600);
        match self.hour {
            None => {
                self.hour = Some(hour);
                self.started = Some(hour);
            }
            Some(h) if hour > h => {
                let gap = hour - h;
                if gap > MAX_REPLAYED_TICKS {
                    // a long silence: the windows are empty, the learnt profile stays
                    self.past.clear();
                    self.current = 0.0;
                    self.hour = Some(hour);
                    self.spikes.open = None;
                    self.drops.open = None;
                } else {
                    for _ in 0..gap {
                        self.close_hour(&scales, cfg, &mut out);
                    }
                }
            }
            _ => {}
        }
        self.current += 1.0;
        let Some(h) = self.hour else { return out };
        let fraction = ((secs - h * 3600) as f64 / 3600.0).clamp(0.0, 1.0);
        let mut w = Vec::with_capacity(scales.len());
        self.windows(&scales, fraction, &mut w);
        let z = self.deviations(&w);
        let ok: Vec<bool> = w
            .iter()
            .map(|&(x, _)| x >= cfg.volume_spike.min_count as f64)
            .collect();
        let warm = self.warmed_up(secs, cfg);
        if let Some((i, rem)) = self.spikes.step(
            &z,
            &ok,
            warm && cfg.volume_spike.enabled,
            secs,
            cfg.reminder.as_secs() as i64,
            &cfg.volume_spike,
        ) {
            out.push(VolumeStep {
                drop: false,
                reminder: rem,
                hours: scales[i],
                at: secs,
                count: w[i].0,
                expected: w[i].1,
                z: z[i],
            });
        }
        out
    }
}

/// Every detector of one watch.
#[derive(Debug, Clone, Default)]
pub struct WatchDetectors {
    pub emerging: Emerging,
    pub brands: HashMap<String, BrandSignals>,
}

#[derive(Serialize, Deserialize)]
struct BrandsState {
    brands: Vec<(String, BrandSignals)>,
}

impl WatchDetectors {
    /// Observes a new document of this watch.
    pub fn observe(&mut self, obs: &Observation<'_>, watch: &Watch) -> Vec<Alert> {
        let cfg = &watch.alerts;
        let mut out = self.emerging.observe(obs, cfg, &watch.name);
        for (brand, label) in obs.brands {
            if let Some(b) = watch.brands.iter().find(|b| &b.id == brand) {
                out.extend(self.brands.entry(brand.clone()).or_default().observe(
                    obs,
                    *label,
                    (brand, &b.name),
                    cfg,
                    &watch.name,
                ));
            }
        }
        out
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut brands: Vec<(String, BrandSignals)> = self
            .brands
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        brands.sort_by(|a, b| a.0.cmp(&b.0));
        let b = serde_json::to_vec(&BrandsState { brands }).expect("state serialises");
        let mut out = (b.len() as u64).to_le_bytes().to_vec();
        out.extend_from_slice(&b);
        out.extend_from_slice(&self.emerging.to_bytes());
        out
    }

    pub fn from_bytes(b: &[u8]) -> Option<WatchDetectors> {
        let len = u64::from_le_bytes(b.get(..8)?.try_into().ok()?) as usize;
        let brands: BrandsState = serde_json::from_slice(b.get(8..8 + len)?).ok()?;
        let emerging = Emerging::from_bytes(b.get(8 + len..)?)?;
        Some(WatchDetectors {
            emerging,
            brands: brands.brands.into_iter().collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::lang::Lang;
    use crate::analyze::signal::extract_terms;
    use crate::analyze::text::Analyzed;

    fn t0() -> i64 {
        1_790_000_000 - 1_790_000_000 % 86400
    }

    struct Sim {
        det: Emerging,
        cfg: AlertsConfig,
        n: u64,
        alerts: Vec<Alert>,
    }

    impl Sim {
        fn new() -> Self {
            Sim {
                det: Emerging::default(),
                cfg: AlertsConfig::default(),
                n: 0,
                alerts: Vec::new(),
            }
        }

        fn doc(&mut self, secs: i64, text: &str) {
            self.n += 1;
            let a = Analyzed::new(text, Lang::Fr);
            let terms = extract_terms(&a);
            let url = format!("https://e.example/{}", self.n);
            let obs = Observation {
                url: &url,
                at: DateTime::from_timestamp(secs, 0).unwrap(),
                content_hash: self.n,
                terms: &terms,
                brands: &[],
            };
            let got = self.det.observe(&obs, &self.cfg, "w");
            self.alerts.extend(got);
        }
    }

    fn background(i: u64) -> String {
        const W: &[&str] = &[
            "train", "gare", "retard", "météo", "soleil", "match", "école", "film", "musique",
            "vacances", "travail", "marché", "pain", "voiture", "vélo", "livre", "café", "pluie",
        ];
        let h = xxhash_rust::xxh3::xxh3_64(&i.to_le_bytes());
        (0..8)
            .map(|k| W[((h >> (k * 5)) % W.len() as u64) as usize])
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn a_new_phrase_rising_is_caught_once_and_nothing_before() {
        let mut s = Sim::new();
        let mut i = 0;
        for day in 0..20i64 {
            for k in 0..200i64 {
                i += 1;
                s.doc(t0() + day * 86400 + k * 432, &background(i));
            }
            if day >= 12 {
                for k in 0..24i64 {
                    s.doc(
                        t0() + day * 86400 + k * 3600 + 7,
                        &format!("Encore un prélèvement en double sur mon compte {k}"),
                    );
                }
            }
        }
        let hits: Vec<&Alert> = s
            .alerts
            .iter()
            .filter(|a| a.terms.iter().any(|t| t.contains("prélèvement")))
            .collect();
        assert!(!hits.is_empty(), "not caught: {:?}", s.alerts);
        let first = hits[0].at.timestamp();
        assert!(
            first >= t0() + 12 * 86400 && first <= t0() + 13 * 86400,
            "caught at {}",
            hits[0].at
        );
        assert!(
            hits.len() <= 2,
            "one alert and at most a reminder: {hits:#?}"
        );
        assert_eq!(
            s.alerts.len(),
            hits.len(),
            "no other alert: {:#?}",
            s.alerts
        );
    }

    #[test]
    fn nothing_fires_during_warm_up() {
        let mut s = Sim::new();
        for k in 0..300i64 {
            s.doc(t0() + k * 60, "panne géante du réseau mobile");
        }
        assert!(s.alerts.is_empty());
    }

    #[test]
    fn the_hourly_step_is_the_same_on_every_processor() {
        let mut wide = Table::default();
        for i in 0..wide.len() {
            let x = (xxh3_64_with_seed(&(i as u64).to_le_bytes(), 7) % 1000) as f32;
            wide.recent[i] = x / 10.0;
            wide.mean[i] = x / 2e4;
            wide.var[i] = x / 1e7 - 1e-5;
        }
        let mut narrow = wide.clone();
        for _ in 0..50 {
            wide.learn(300.0, decay(), alpha());
            narrow.learn_portable(300.0, decay(), alpha());
        }
        assert_eq!(wide.recent, narrow.recent);
        assert_eq!(wide.mean, narrow.mean);
        assert_eq!(wide.var, narrow.var);
        assert!(wide.mean.iter().all(|m| m.is_finite()));
    }

    #[test]
    fn counts_decay_alike_through_the_shared_scale() {
        let mut e = Emerging::default();
        e.active.insert(
            1,
            ActiveTerm {
                surfaces: Surfaces::new(),
                words: 1,
                count: 5.0,
                evidence: TermEvidence::new(),
                event: None,
            },
        );
        let mut direct = 5.0f64;
        // far past the rescaling point
        for _ in 0..20_000 {
            e.decay_counts(0.99);
            direct *= 0.99;
        }
        let t = &e.active[&1];
        let held = e.count_of(t);
        assert!(
            (held - direct).abs() <= direct * 1e-9,
            "{held} against {direct}"
        );
        assert!(e.count_scale >= MIN_COUNT_SCALE);
    }

    #[test]
    fn memory_stays_bounded_whatever_the_vocabulary() {
        let mut s = Sim::new();
        for i in 0..60_000u64 {
            // every document brings new words
            let text = format!(
                "mot{} terme{} chose{} truc{}",
                i,
                i * 7 + 1,
                i * 13 + 2,
                i * 17 + 3
            );
            s.doc(t0() + i as i64 * 20, &text);
        }
        assert!(
            s.det.held_terms() <= MAX_ACTIVE,
            "{} terms held",
            s.det.held_terms()
        );
        let size = s.det.to_bytes().len();
        assert!(size < 8 * 1024 * 1024, "state of {size} bytes");
        let back = Emerging::from_bytes(&s.det.to_bytes()).unwrap();
        assert_eq!(back.held_terms(), s.det.held_terms());
        assert_eq!(back.cells.len(), ROWS * WIDTH);
    }

    #[test]
    fn saved_state_round_trips_and_older_states_still_load() {
        let mut s = Sim::new();
        for i in 0..400u64 {
            let text = format!("panne fibre{} chez voisin{} encore", i % 7, i % 13);
            s.doc(t0() + i as i64 * 90, &text);
        }
        let e = &s.det;
        assert!(e.active.values().any(|t| t.evidence.len() > 1));
        // exact in binary; JSON may round the last digit of a count
        let same = |back: &Emerging, exact: bool| {
            assert_eq!(back.active.len(), e.active.len());
            for (k, t) in &e.active {
                let b = &back.active[k];
                assert_eq!(b.surfaces, t.surfaces);
                if exact {
                    assert_eq!(b.count.to_bits(), t.count.to_bits());
                } else {
                    assert!((b.count - t.count).abs() <= t.count.abs() * 1e-12);
                }
                assert_eq!((b.words, b.event), (t.words, t.event));
                assert!(b
                    .evidence
                    .iter()
                    .map(|u| &**u)
                    .eq(t.evidence.iter().map(|u| &**u)));
            }
            assert_eq!(back.cells.mean, e.cells.mean);
        };
        let bytes = e.to_bytes();
        same(&Emerging::from_bytes(&bytes).unwrap(), true);
        // a state saved before the active terms went binary: inside the JSON, no tag
        let mut json = serde_json::to_value(e).unwrap();
        json["active"] = serde_json::to_value(&e.active).unwrap();
        let json = serde_json::to_vec(&json).unwrap();
        let mut old = (json.len() as u64).to_le_bytes().to_vec();
        old.extend_from_slice(&json);
        old.extend_from_slice(&bytes[bytes.len() - ROWS * WIDTH * 12..]);
        same(&Emerging::from_bytes(&old).unwrap(), false);
        // cut short: refused, not misread
        assert!(Emerging::from_bytes(&bytes[..bytes.len() / 3]).is_none());
        assert!(Emerging::from_bytes(&bytes[..bytes.len() - 1]).is_none());
    }

    /// A deterministic Poisson draw of mean `mean` (inversion on a hashed uniform).
    fn poisson(mean: f64, seed: u64) -> u64 {
        let u =
            (xxhash_rust::xxh3::xxh3_64(&seed.to_le_bytes()) >> 11) as f64 / (1u64 << 53) as f64;
        let (mut k, mut p) = (0u64, (-mean).exp());
        let mut c = p;
        while u > c && k < 10_000 {
            k += 1;
            p *= mean / k as f64;
            c += p;
        }
        k
    }

    /// A brand's volume fed hour by hour: `rate(hour)` mentions on average, spread over it,
    /// plus `extra(hour)` more in its first half; gives the steps raised.
    fn volume_run(
        cfg: &AlertsConfig,
        hours: i64,
        rate: impl Fn(i64) -> f64,
        extra: impl Fn(i64) -> u64,
    ) -> Vec<VolumeStep> {
        volume_run_with(cfg, hours, rate, extra).0
    }

    fn volume_run_with(
        cfg: &AlertsConfig,
        hours: i64,
        rate: impl Fn(i64) -> f64,
        extra: impl Fn(i64) -> u64,
    ) -> (Vec<VolumeStep>, Volume) {
        let mut v = Volume::default();
        let mut out = Vec::new();
        for h in 0..hours {
            let n = poisson(rate(h), h as u64 + 7);
            let e = extra(h);
            let start = t0() + h * 3600;
            for k in 0..n {
                out.extend(v.observe(start + (k * 3600 / n.max(1)) as i64, cfg));
            }
            for k in 0..e {
                out.extend(v.observe(start + 60 + (k * 1800 / e.max(1)) as i64, cfg));
            }
        }
        (out, v)
    }

    fn spikes(steps: &[VolumeStep]) -> Vec<&VolumeStep> {
        steps.iter().filter(|s| !s.drop).collect()
    }

    #[test]
    fn an_hour_burst_is_seen_at_the_hour_scale_and_nothing_else() {
        let cfg = AlertsConfig::default();
        let burst = 8 * 24 + 14;
        let steps = volume_run(&cfg, 12 * 24, |_| 20.0, |h| if h == burst { 60 } else { 0 });
        assert_eq!(steps.len(), 1, "{steps:#?}");
        let s = steps[0];
        assert!(!s.drop && !s.reminder && s.hours == 1, "{s:?}");
        assert!(
            s.at >= t0() + burst * 3600 && s.at < t0() + (burst + 1) * 3600,
            "{s:?}"
        );
        assert!(s.count > 2.0 * s.expected, "{s:?}");
    }

    #[test]
    fn a_three_day_drift_is_seen_at_a_long_scale() {
        let cfg = AlertsConfig::default();
        let from = 8 * 24;
        // from 20 mentions an hour to 30 over three days: never a burst of hours
        let steps = volume_run(
            &cfg,
            from + 72,
            |h| 20.0 * (1.0 + 0.5 * ((h - from).max(0) as f64 / 72.0)),
            |_| 0,
        );
        let up = spikes(&steps);
        assert!(!up.is_empty(), "drift not seen: {steps:#?}");
        assert!(
            up.iter().all(|s| s.at >= t0() + from * 3600),
            "raised before the drift: {up:#?}"
        );
        assert!(up[0].hours >= 24, "{up:#?}");
        assert_eq!(up.len(), 1, "one drift, one alert: {up:#?}");
    }

    #[test]
    fn a_weekend_bump_is_seen_against_the_weekend_baseline() {
        // t0 is a Monday: days 5 and 6 of each week (Saturday, Sunday) are quiet
        let weekend = |h: i64| matches!((h / 24).rem_euclid(7), 5 | 6);
        assert_eq!(hour_of_week(t0().div_euclid(3600)), 0, "t0 is a Monday");
        let mut cfg = AlertsConfig::default();
        cfg.volume_drop.enabled = false;
        // a Saturday of the sixth week, 10:00 to 16:00: twice the weekend's level, still well
        // under a weekday's
        let bump = (5 * 7 + 5) * 24 + 10;
        let (steps, v) = volume_run_with(
            &cfg,
            6 * 7 * 24,
            |h| {
                if (bump..bump + 6).contains(&h) {
                    20.0
                } else if weekend(h) {
                    8.0
                } else {
                    40.0
                }
            },
            |_| 0,
        );
        assert!(
            v.dow[5] < v.dow[0] - 1.0,
            "the weekend low is learnt: {:?}",
            v.dow
        );
        // once the weeks are learnt, the bump is the only rise
        let late: Vec<&VolumeStep> = spikes(&steps)
            .into_iter()
            .filter(|s| s.at >= t0() + 3 * 7 * 86400)
            .collect();
        assert_eq!(late.len(), 1, "{late:#?}");
        assert!(
            late[0].at >= t0() + bump * 3600 && late[0].at < t0() + (bump + 6) * 3600,
            "{late:#?}"
        );
    }

    #[test]
    fn two_rises_back_to_back_are_two_alerts() {
        let cfg = AlertsConfig::default();
        let (a, b) = (8 * 24 + 9, 8 * 24 + 15);
        let steps = volume_run(
            &cfg,
            10 * 24,
            |_| 20.0,
            |h| if h == a || h == b { 60 } else { 0 },
        );
        let up = spikes(&steps);
        assert_eq!(up.len(), 2, "{up:#?}");
        assert!(up.iter().all(|s| !s.reminder));
        assert!(up[0].at < t0() + (a + 1) * 3600 && up[1].at >= t0() + b * 3600);
    }

    #[test]
    fn a_sudden_silence_is_a_drop() {
        let cfg = AlertsConfig::default();
        let (from, to) = (8 * 24 + 6, 8 * 24 + 14);
        let steps = volume_run(
            &cfg,
            10 * 24,
            |h| if (from..to).contains(&h) { 0.0 } else { 50.0 },
            |_| 0,
        );
        assert_eq!(steps.len(), 1, "{steps:#?}");
        let s = steps[0];
        assert!(s.drop && s.count == 0.0 && s.z < 0.0, "{s:?}");
        assert!(
            s.at > t0() + from * 3600 && s.at <= t0() + to * 3600,
            "{s:?}"
        );
        let mut off = cfg.clone();
        off.volume_drop.enabled = false;
        let quiet = volume_run(
            &off,
            10 * 24,
            |h| if (from..to).contains(&h) { 0.0 } else { 50.0 },
            |_| 0,
        );
        assert!(quiet.is_empty(), "{quiet:#?}");
    }

    #[test]
    fn flat_series_stay_silent_at_every_volume() {
        let cfg = AlertsConfig::default();
        for rate in [0.3, 5.0, 200.0] {
            let steps = volume_run(&cfg, 30 * 24, |_| rate, |_| 0);
            assert!(steps.is_empty(), "rate {rate}: {steps:#?}");
        }
    }

    #[test]
    fn a_new_brand_is_watched_after_a_day() {
        let cfg = AlertsConfig::default();
        let burst = 30;
        let steps = volume_run(&cfg, 3 * 24, |_| 10.0, |h| if h == burst { 50 } else { 0 });
        assert_eq!(spikes(&steps).len(), 1, "{steps:#?}");
        assert!(steps[0].at >= t0() + burst * 3600);
    }

    #[test]
    fn a_flat_stream_of_many_terms_stays_silent_however_its_volume_moves() {
        // every post names the brand among everyday words whose shares never change; the
        // volume of posts itself triples on some days
        const N: &[&str] = &[
            "ticker", "desk", "note", "chart", "column", "table", "page", "item", "entry", "panel",
            "board", "sector", "filing", "memo", "summary", "quote", "feed", "thread",
        ];
        const V: &[&str] = &[
            "listed", "filed", "noted", "posted", "logged", "tagged", "shown",
        ];
        const P: &[&str] = &["Boston", "Denver", "Austin", "Chicago", "Seattle", "Dallas"];
        let mut s = Sim::new();
        let mut i = 0u64;
        for day in 0..24i64 {
            let n = if day % 6 == 5 { 900 } else { 300 };
            for k in 0..n {
                i += 1;
                let h = xxhash_rust::xxh3::xxh3_64(&i.to_le_bytes()) as usize;
                let text = format!(
                    "the {} of Acme was {} in {} today, and the {} is ref {i}",
                    N[h % N.len()],
                    V[(h >> 8) % V.len()],
                    P[(h >> 16) % P.len()],
                    N[(h >> 24) % N.len()]
                );
                s.doc(t0() + day * 86400 + k * 86400 / n, &text);
            }
        }
        assert!(s.alerts.is_empty(), "{:#?}", s.alerts);
    }

    #[test]
    fn volume_alerts_name_the_brand_and_say_their_scale() {
        let watch = crate::config::parse_watch(
            std::path::Path::new("w.toml"),
            "name = \"w\"\n[[brands]]\nid = \"acme\"\nname = \"Acme Corp\"\naliases = [\"Acme\"]\n",
            None,
        )
        .0
        .unwrap();
        let mut d = WatchDetectors::default();
        let brands = [("acme".to_string(), Label::Neutral)];
        let mut out = Vec::new();
        let mut n = 0u64;
        for h in 0..(4 * 24) {
            let k = if h == 3 * 24 + 5 { 80 } else { 10 };
            for j in 0..k {
                n += 1;
                let url = format!("https://e.example/{n}");
                let obs = Observation {
                    url: &url,
                    at: DateTime::from_timestamp(t0() + h * 3600 + j * 3600 / k, 0).unwrap(),
                    content_hash: n,
                    terms: &Terms::default(),
                    brands: &brands,
                };
                out.extend(d.observe(&obs, &watch));
            }
        }
        let spikes: Vec<&Alert> = out
            .iter()
            .filter(|a| a.kind == AlertKind::VolumeSpike)
            .collect();
        assert_eq!(spikes.len(), 1, "{out:#?}");
        let a = spikes[0];
        assert_eq!(a.brand.as_deref(), Some("acme"));
        assert!(
            a.message.starts_with("Acme Corp mentioned in"),
            "{}",
            a.message
        );
        assert!(a.summary().contains("Acme Corp"), "{}", a.summary());
        assert_eq!(a.scale.as_deref(), Some("1h"));
        assert!(a.baseline.is_some_and(|b| b < 25.0), "{a:?}");
    }

    /// Sentiment-shift alerts of one brand over 30 days of `per_day` mentions at random times,
    /// negative with probability `before`, then `after` from day 21 on.
    fn shift_run(seed: u64, per_day: u32, before: f64, after: f64) -> Vec<i64> {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let cfg = AlertsConfig::default();
        let mut times: Vec<(i64, bool)> = Vec::new();
        for day in 0..30i64 {
            let p = if day >= 21 { after } else { before };
            for _ in 0..per_day {
                let at = t0() + day * 86400 + rng.random_range(0..86400);
                times.push((at, rng.random_bool(p)));
            }
        }
        times.sort();
        let mut b = BrandSignals::default();
        let mut raised = Vec::new();
        for (i, (at, negative)) in times.into_iter().enumerate() {
            let url = format!("https://e.example/{i}");
            let obs = Observation {
                url: &url,
                at: DateTime::from_timestamp(at, 0).unwrap(),
                content_hash: i as u64,
                terms: &Terms::default(),
                brands: &[],
            };
            let label = if negative {
                Label::Negative
            } else {
                Label::Positive
            };
            for a in b.observe(&obs, label, ("b", "B"), &cfg, "w") {
                if a.kind == AlertKind::SentimentShift && !a.reminder {
                    raised.push(at);
                }
            }
        }
        raised
    }

    #[test]
    fn a_sentiment_shift_is_caught_within_two_days_and_a_steady_share_stays_quiet() {
        let onset = t0() + 21 * 86400;
        // a third of 20 mentions a day negative, then two thirds
        let (mut caught, mut early) = (0, 0);
        for s in 0..40 {
            let r = shift_run(s, 20, 0.33, 0.68);
            early += r.iter().filter(|&&t| t < onset).count();
            caught += r.iter().any(|&t| t >= onset && t < onset + 2 * 86400) as usize;
        }
        // twenty mentions a day tell such a rise from chance within a day about half the time,
        // within two days three times in four
        assert!(
            caught >= 28,
            "caught within two days in {caught} of 40 runs"
        );
        assert!(early <= 3, "{early} alerts in 40 runs of 21 steady days");
        // a steady share, quiet or loud: at most three alerts in 40 brand-months each
        for (per_day, p) in [(20, 0.33), (100, 0.3), (8, 0.4)] {
            let raised: usize = (100..140).map(|s| shift_run(s, per_day, p, p).len()).sum();
            assert!(
                raised <= 3,
                "{raised} alerts in 40 steady months at {per_day}/day, {p}"
            );
        }
    }
}
