//! Early-warning detectors, per watch: emerging terms, and per brand sentiment shifts and
//! volume spikes. All run on event time, in the order documents are indexed, so a replay of
//! last month raises the same alerts as living through it.
//!
//! **Emerging terms** follow SigniTrend (Schubert et al., KDD 2014): every term of a document
//! (stems and short phrases) is counted in hashed cells (two hash rows, count-min style) as
//! an exponentially decayed count (time constant one day), normalised by the decayed number
//! of documents; each hour every cell's rate feeds an exponentially weighted mean and
//! variance (time constant four days). A term is significant when its count exceeds its
//! baseline by `threshold` deviations (plus a bias that keeps rare terms quiet), reaches
//! `min_count` documents and at least three times what the baseline expects. Memory is fixed
//! by the table size and a capped map of recently active terms (kept for their wording and
//! evidence), whatever the vocabulary. Nothing fires during the warm-up, while baselines are
//! unknown: new is not rising.
//!
//! **Sentiment shifts**: per brand, a Bernoulli CUSUM on "this mention is negative" against the
//! brand's own baseline negative share (an exponentially weighted mean over its mentions),
//! raised only when the last day also holds at least `min_count` mentions and a negative
//! share clearly above the baseline — one angry post, or a quiet night, raises nothing.
//!
//! **Volume spikes**: per brand, the decayed mention count against its hourly EWMA baseline.
//!
//! **Debounce**: one event, one alert, then at most one reminder (after `reminder`) while it
//! lasts; an event ends when its signal falls back (hysteresis), and only then can it fire
//! again.

use std::collections::{HashMap, HashSet, VecDeque};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64_with_seed;

use crate::alert::{Alert, AlertKind};
use crate::analyze::signal::Term;
use crate::config::{AlertsConfig, Watch};
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
/// Evidence kept per term and per event.
const TERM_EVIDENCE: usize = 12;
const EVENT_EVIDENCE: usize = 200;
/// Documents remembered to count copies once.
const RECENT_COPIES: usize = 4096;
/// Bias (in documents) that keeps rare terms from looking significant.
const BIAS: f64 = 1.0;
/// Deviations beyond which an observation is clipped before it enters a baseline.
const CLIP: f64 = 1.0;
/// Least ratio of the count to the baseline's expectation.
const MIN_RATIO: f64 = 3.0;
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
    pub terms: &'a [Term],
    /// `(brand, label of its mentions)` for each brand mentioned.
    pub brands: &'a [(String, Label)],
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
struct Cell {
    recent: f32,
    mean: f32,
    var: f32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ActiveTerm {
    /// How it was written, most frequent first (a few variants: `prélèvement`, `prélèvements`).
    surfaces: Vec<(String, u32)>,
    words: u8,
    count: f64,
    evidence: VecDeque<String>,
    /// Open event this term belongs to.
    event: Option<u64>,
}

impl ActiveTerm {
    fn text(&self) -> &str {
        self.surfaces.first().map(|s| s.0.as_str()).unwrap_or("")
    }

    fn saw(&mut self, surface: &str) {
        match self.surfaces.iter_mut().position(|s| s.0 == surface) {
            Some(i) => self.surfaces[i].1 += 1,
            None if self.surfaces.len() < 4 => self.surfaces.push((surface.to_string(), 1)),
            None => {}
        }
        self.surfaces.sort_by_key(|s| std::cmp::Reverse(s.1));
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
    evidence: VecDeque<String>,
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
    cells: Vec<Cell>,
    active: HashMap<u64, ActiveTerm>,
    events: Vec<Event>,
    copies: VecDeque<u64>,
    #[serde(skip)]
    copy_set: HashSet<u64>,
    next_event: u64,
}

impl Default for Emerging {
    fn default() -> Self {
        Emerging {
            clock: None,
            started: None,
            docs: 0.0,
            cells: vec![Cell::default(); ROWS * WIDTH],
            active: HashMap::new(),
            events: Vec::new(),
            copies: VecDeque::new(),
            copy_set: HashSet::new(),
            next_event: 1,
        }
    }
}

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
        (0..ROWS)
            .map(|r| self.cells[cell_index(key, r)])
            .min_by(|a, b| a.recent.total_cmp(&b.recent))
            .unwrap_or_default()
    }

    fn significance(&self, key: u64, count: f64) -> Significance {
        let c = self.cell(key);
        let n = self.docs.max(1.0);
        let expected = c.mean as f64 * n;
        let spread = (c.var.max(0.0) as f64).sqrt() * n;
        let z = (count - expected.max(BIAS)) / (spread + BIAS);
        Significance { z, count, expected }
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
            let bias = BIAS / n;
            let elapsed = clock + step - self.started.unwrap_or(clock);
            // counts take about a day to settle: learn nothing before, then start from a
            // Poisson prior rather than from zero
            let learning = elapsed >= RECENT_TAU as i64;
            let first = elapsed == RECENT_TAU as i64;
            for c in &mut self.cells {
                if first {
                    c.mean = (c.recent as f64 / n) as f32;
                    c.var = ((c.recent as f64 / 2.0 + BIAS * BIAS) / (n * n)) as f32;
                }
                if !learning || first {
                    c.recent = (c.recent as f64 * d) as f32;
                    continue;
                }
                let rate = c.recent as f64 / n;
                // robust update: a rise far above the baseline enters it only slowly, so an
                // emerging term does not hide itself by inflating its own variance
                let limit = CLIP * ((c.var.max(0.0) as f64).sqrt() + bias);
                let diff = (rate - c.mean as f64).min(limit);
                let incr = a * diff;
                c.mean = (c.mean as f64 + incr) as f32;
                c.var = ((1.0 - a) * (c.var as f64 + diff * incr)) as f32;
                c.recent = (c.recent as f64 * d) as f32;
            }
            self.docs *= d;
            for t in self.active.values_mut() {
                t.count *= d;
            }
            let now = clock + step + 1;
            self.review_events(now, cfg, watch, out);
        }
        if tick - clock > steps {
            // a long silence: everything recent has decayed away
            for c in &mut self.cells {
                c.recent = 0.0;
            }
            self.docs = 0.0;
            self.active.clear();
        }
        self.clock = Some(tick);
        self.prune();
    }

    /// Hourly: reminders for events still rising, closing of events that fell back.
    fn review_events(&mut self, now: i64, cfg: &AlertsConfig, watch: &str, out: &mut Vec<Alert>) {
        let threshold = cfg.emerging.threshold;
        let reminder_ticks = (cfg.reminder.as_secs() as i64 / TICK_SECS).max(1);
        let mut closed = Vec::new();
        for ei in 0..self.events.len() {
            let (best, best_key) = self.events[ei]
                .terms
                .iter()
                .filter_map(|k| {
                    self.active
                        .get(k)
                        .map(|t| (self.significance(*k, t.count).z, *k))
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
                    let sig = self.significance(best_key, t.count);
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
        let excess = self.active.len() - MAX_ACTIVE * 9 / 10;
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
        let evidence: Vec<String> = e.evidence.iter().rev().take(10).cloned().collect();
        let message = format!(
            "{}“{}” rising: in {:.0} documents over the last day where its own baseline expects {:.1} ({:.1} deviations above)",
            if reminder { "still " } else { "" },
            names.first().map(String::as_str).unwrap_or("?"),
            sig.count,
            sig.expected,
            sig.z
        );
        Alert::new(
            AlertKind::Emerging,
            watch,
            None,
            names,
            at,
            sig.z,
            evidence,
            message,
            reminder,
        )
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
        for term in obs.terms {
            for r in 0..ROWS {
                self.cells[cell_index(term.key, r)].recent += 1.0;
            }
            let t = self.active.entry(term.key).or_insert_with(|| ActiveTerm {
                surfaces: Vec::new(),
                words: term.words,
                count: 0.0,
                evidence: VecDeque::new(),
                event: None,
            });
            t.count += 1.0;
            t.saw(&term.text);
            t.evidence.push_back(obs.url.to_string());
            if t.evidence.len() > TERM_EVIDENCE {
                t.evidence.pop_front();
            }
            if let Some(eid) = t.event {
                if let Some(e) = self.events.iter_mut().find(|e| e.id == eid) {
                    e.last_seen = now;
                    if e.evidence.back().map(String::as_str) != Some(obs.url) {
                        e.evidence.push_back(obs.url.to_string());
                        if e.evidence.len() > EVENT_EVIDENCE {
                            e.evidence.pop_front();
                        }
                    }
                }
                continue;
            }
            let count = t.count;
            if !cfg.emerging.enabled || count < cfg.emerging.min_count as f64 {
                continue;
            }
            let sig = self.significance(term.key, count);
            tracing::trace!(term = %term.text, count, z = sig.z, expected = sig.expected, "emerging candidate");
            if sig.z >= cfg.emerging.threshold && count >= MIN_RATIO * sig.expected {
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
            let ev: HashSet<&String> = self.active[&key].evidence.iter().collect();
            let joined = self.events.iter_mut().find(|e| {
                let shared = e.evidence.iter().filter(|u| ev.contains(u)).count();
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
                    .filter_map(|k| self.active.get(k).map(|t| self.significance(*k, t.count)))
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
        let mut carried: Vec<(String, usize)> = Vec::new();
        for (key, _) in &fresh {
            for u in self.active[key].evidence.iter().rev() {
                match carried.iter_mut().find(|c| c.0 == *u) {
                    Some(c) => c.1 += 1,
                    None => carried.push((u.clone(), 1)),
                }
            }
        }
        carried.sort_by_key(|c| std::cmp::Reverse(c.1));
        let evidence: VecDeque<String> = carried.into_iter().rev().map(|c| c.0).collect();
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

    /// Serialised state: the small parts as JSON, the table as raw little-endian floats.
    pub fn to_bytes(&self) -> Vec<u8> {
        let json = serde_json::to_vec(self).expect("detector state serialises");
        let mut out = Vec::with_capacity(8 + json.len() + self.cells.len() * 12);
        out.extend_from_slice(&(json.len() as u64).to_le_bytes());
        out.extend_from_slice(&json);
        for c in &self.cells {
            out.extend_from_slice(&c.recent.to_le_bytes());
            out.extend_from_slice(&c.mean.to_le_bytes());
            out.extend_from_slice(&c.var.to_le_bytes());
        }
        out
    }

    pub fn from_bytes(b: &[u8]) -> Option<Emerging> {
        let len = u64::from_le_bytes(b.get(..8)?.try_into().ok()?) as usize;
        let json = b.get(8..8 + len)?;
        let mut e: Emerging = serde_json::from_slice(json).ok()?;
        let table = b.get(8 + len..)?;
        if table.len() != ROWS * WIDTH * 12 {
            return None;
        }
        e.cells = table
            .chunks_exact(12)
            .map(|c| Cell {
                recent: f32::from_le_bytes(c[0..4].try_into().expect("4 bytes")),
                mean: f32::from_le_bytes(c[4..8].try_into().expect("4 bytes")),
                var: f32::from_le_bytes(c[8..12].try_into().expect("4 bytes")),
            })
            .collect();
        e.copy_set = e.copies.iter().copied().collect();
        Some(e)
    }
}

/// Per-brand state: sentiment shift and volume spike.
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
    /// Volume baseline (EWMA of the decayed count, per tick).
    vol_mean: f64,
    vol_var: f64,
    shift: Option<(i64, bool)>,
    spike: Option<(i64, bool)>,
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
        let (d, a) = (decay(), alpha());
        let started = self.started.unwrap_or(clock);
        for step in 0..steps {
            // as for terms: a day to settle, then a Poisson prior, then learning
            let elapsed = clock + step - started;
            if elapsed < RECENT_TAU as i64 {
                self.recent *= d;
                self.recent_neg *= d;
                continue;
            }
            if elapsed == RECENT_TAU as i64 {
                self.vol_mean = self.recent;
                self.vol_var = self.recent / 2.0 + BIAS * BIAS;
            }
            let limit = CLIP * (self.vol_var.max(0.0).sqrt() + BIAS);
            let diff = (self.recent - self.vol_mean).min(limit);
            let incr = a * diff;
            self.vol_mean += incr;
            self.vol_var = (1.0 - a) * (self.vol_var + diff * incr);
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

    /// Counts one mention of the brand; gives the alerts it raises.
    pub fn observe(
        &mut self,
        obs: &Observation<'_>,
        label: Label,
        brand: &str,
        cfg: &AlertsConfig,
        watch: &str,
    ) -> Vec<Alert> {
        let mut out = Vec::new();
        let tick = obs.at.timestamp().div_euclid(TICK_SECS);
        let passed = self.advance(tick);
        let now = self.clock.unwrap_or(tick);
        let reminder_ticks = (cfg.reminder.as_secs() as i64 / TICK_SECS).max(1);
        let negative = label == Label::Negative;
        self.recent += 1.0;
        let terms: Vec<String> = obs
            .terms
            .iter()
            .filter(|t| t.words <= 2)
            .take(40)
            .map(|t| t.text.clone())
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
            && z >= 1.5
            && self.recent >= cfg.sentiment_shift.min_count as f64
            && share >= p0 + 0.15;
        if cfg.sentiment_shift.enabled && self.warmed_up(now) {
            match self.shift {
                None if shifted => {
                    self.shift = Some((now, false));
                    out.push(self.shift_alert(obs, brand, watch, self.p0, share, false));
                }
                Some((opened, false)) if shifted && now - opened >= reminder_ticks => {
                    self.shift = Some((opened, true));
                    out.push(self.shift_alert(obs, brand, watch, self.p0, share, true));
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
        // --- volume spike
        let expected = self.vol_mean;
        let spread = self.vol_var.max(0.0).sqrt();
        let z = (self.recent - expected.max(BIAS)) / (spread + BIAS);
        let spiking = z >= cfg.volume_spike.threshold
            && self.recent >= cfg.volume_spike.min_count as f64
            && self.recent >= 2.5 * expected;
        if cfg.volume_spike.enabled && self.warmed_up(now) {
            match self.spike {
                None if spiking => {
                    self.spike = Some((now, false));
                    out.push(self.spike_alert(obs, brand, watch, expected, z, false));
                }
                Some((opened, false)) if spiking && now - opened >= reminder_ticks => {
                    self.spike = Some((opened, true));
                    out.push(self.spike_alert(obs, brand, watch, expected, z, true));
                }
                Some(_) if z < cfg.volume_spike.threshold / 3.0 && passed > 0 => self.spike = None,
                _ => {}
            }
        }
        out
    }

    fn shift_alert(
        &self,
        obs: &Observation<'_>,
        brand: &str,
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
        let brand_l = brand.to_lowercase();
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
            "{}negative share of {brand} mentions at {:.0}% over the last day ({:.0} of {:.0}), against {:.0}% usually",
            if reminder { "still: " } else { "" },
            share * 100.0,
            self.recent_neg,
            self.recent,
            p0 * 100.0
        );
        Alert::new(
            AlertKind::SentimentShift,
            watch,
            Some(brand.to_string()),
            terms,
            obs.at,
            self.cusum,
            evidence,
            message,
            reminder,
        )
    }

    fn spike_alert(
        &self,
        obs: &Observation<'_>,
        brand: &str,
        watch: &str,
        expected: f64,
        z: f64,
        reminder: bool,
    ) -> Alert {
        let evidence: Vec<String> = self.recent_docs.iter().rev().take(10).cloned().collect();
        let message = format!(
            "{}{brand} mentioned in {:.0} documents over the last day, where {:.1} are usual ({z:.1} deviations above)",
            if reminder { "still: " } else { "" },
            self.recent,
            expected
        );
        Alert::new(
            AlertKind::VolumeSpike,
            watch,
            Some(brand.to_string()),
            Vec::new(),
            obs.at,
            z,
            evidence,
            message,
            reminder,
        )
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
            if watch.brands.iter().any(|b| &b.id == brand) {
                out.extend(self.brands.entry(brand.clone()).or_default().observe(
                    obs,
                    *label,
                    brand,
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
}
