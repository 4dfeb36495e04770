//! `sources.toml` and `pipelines/*.toml`: where to listen and what to watch for.
//!
//! Both files are read strictly: an unknown field is an error naming the field, its file and
//! line, and every problem is reported at once. The field names are a contract (DESIGN.md):
//! add freely, rename none.

pub mod edit;
mod reader;
pub mod search;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use reader::{parse_duration, ConfigError, ConfigErrors, FileReader, TableReader};
pub use search::{JsonItems, Preset, SearchSettings};
use toml_edit::{Item, Table};
use url::Url;

use crate::analyze::lang::Lang;
use crate::analyze::query::Query;

/// Crawl settings shared by every source unless the source overrides them.
#[derive(Debug, Clone, PartialEq)]
pub struct Defaults {
    /// How often `vigie run` polls each source.
    pub interval: Duration,
    /// Whole-request timeout (connecting included).
    pub timeout: Duration,
    /// Requests in flight at once to one host.
    pub per_host_concurrency: usize,
    /// Pause between two requests to one host (robots.txt `Crawl-delay` can raise it).
    pub per_host_delay: Duration,
    /// Fetch loopback and private addresses found in content (tests, intranets).
    pub allow_private: bool,
    /// Requests in flight at once over all hosts.
    pub concurrency: usize,
    /// Largest body read, in bytes; longer bodies are cut off and reported.
    pub max_body: u64,
    /// User-Agent header; it always names vigie.
    pub user_agent: Option<String>,
}

impl Default for Defaults {
    fn default() -> Self {
        Defaults {
            interval: Duration::from_secs(30 * 60),
            timeout: Duration::from_secs(20),
            per_host_concurrency: 2,
            per_host_delay: Duration::from_secs(1),
            allow_private: false,
            concurrency: 32,
            max_body: 10 * 1024 * 1024,
            user_agent: None,
        }
    }
}

/// What a source is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// RSS, Atom or JSON Feed.
    Feed,
    /// An HTML page watched for new items (with optional CSS selectors).
    Page,
    /// A sitemap or news sitemap (index files followed).
    Sitemap,
    /// A platform's public search, asked for a watch's brands (`preset`).
    Search,
    /// A JSON API, its items mapped with JSONPath (`[sources.items]`).
    Json,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Feed => "feed",
            SourceKind::Page => "page",
            SourceKind::Sitemap => "sitemap",
            SourceKind::Search => "search",
            SourceKind::Json => "json",
        }
    }
}

/// CSS selectors for a `page` source: which elements are items, and where in each item the
/// title, link and date are.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Selectors {
    pub item: Option<String>,
    pub title: Option<String>,
    pub link: Option<String>,
    pub date: Option<String>,
}

/// One place to listen.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    pub id: String,
    pub kind: SourceKind,
    pub url: Url,
    pub tags: Vec<String>,
    /// Also fetch each item's page and index its main text.
    pub full_text: bool,
    pub interval: Duration,
    pub timeout: Duration,
    pub per_host_delay: Duration,
    pub allow_private: bool,
    /// Language of the source, used when a text is too short to tell.
    pub lang: Option<Lang>,
    /// Display name.
    pub name: Option<String>,
    pub selectors: Selectors,
    /// `search` and `json` sources: what is asked and how far back.
    pub search: Option<SearchSettings>,
    /// The brands of the source's `watch` (filled once the watches are read).
    pub brands: Vec<Brand>,
    /// Line of the `[[sources]]` header, for messages.
    pub line: usize,
}

/// `sources.toml`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourcesConfig {
    pub path: PathBuf,
    pub defaults: Defaults,
    pub sources: Vec<Source>,
}

impl SourcesConfig {
    pub fn get(&self, id: &str) -> Option<&Source> {
        self.sources.iter().find(|s| s.id == id)
    }

    /// Every source id and tag.
    pub fn names(&self) -> BTreeSet<&str> {
        self.sources
            .iter()
            .flat_map(|s| std::iter::once(s.id.as_str()).chain(s.tags.iter().map(String::as_str)))
            .collect()
    }
}

/// A brand and the rules that find its mentions.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Brand {
    pub id: String,
    pub name: String,
    /// Always a mention: names, `@handles`, `#hashtags`, domains.
    pub aliases: Vec<String>,
    /// A mention only with a `context` word nearby.
    pub ambiguous: Vec<String>,
    /// Words (matched on stems, accents folded) that make an ambiguous alias a mention.
    pub context: Vec<String>,
    /// Phrases that are never a mention (`jus d'orange`).
    pub exclude: Vec<String>,
    pub case_sensitive: bool,
    /// The brand's own accounts (`@handles` or author names, as the sources write them): what
    /// they publish is the brand speaking, not its public, so voices and the answer queue leave
    /// them out.
    pub own_handles: Vec<String>,
}

impl Brand {
    /// Whether `author` is one of the brand's own accounts (case and a leading `@` ignored).
    pub fn is_own(&self, author: &str) -> bool {
        let norm = |s: &str| s.trim().trim_start_matches('@').to_lowercase();
        let a = norm(author);
        !a.is_empty() && self.own_handles.iter().any(|h| norm(h) == a)
    }
}

/// A topic: a boolean query over the stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Topic {
    pub id: String,
    pub query: Query,
}

/// When and to whom the daily digest goes.
#[derive(Debug, Clone, PartialEq)]
pub struct DigestConfig {
    /// Local time of day, in `timezone`.
    pub at: (u32, u32),
    pub timezone: chrono_tz::Tz,
    pub to: Vec<String>,
    pub from: Option<String>,
    pub subject: Option<String>,
    /// Mentions shown per brand.
    pub top: usize,
    /// The digest's language (`language = "fr" | "en"`); unset: from the time zone's country
    /// (French for France and its overseas territories, Belgium, Luxembourg, Monaco, Quebec,
    /// Haiti and French-speaking Africa), else English.
    pub language: Option<Lang>,
    /// How often the digest is mailed: every day at `at`, or every Monday at `at` for the
    /// week before (`every = "day" | "week"`).
    pub every: Every,
}

/// How often a digest is mailed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Every {
    #[default]
    Day,
    Week,
}

/// Time zones of places where French is the language of most readers.
const FRENCH_ZONES: &[&str] = &[
    "Europe/Paris",
    "Europe/Brussels",
    "Europe/Luxembourg",
    "Europe/Monaco",
    "America/Montreal",
    "America/Martinique",
    "America/Guadeloupe",
    "America/Cayenne",
    "America/Miquelon",
    "America/St_Barthelemy",
    "America/Marigot",
    "America/Port-au-Prince",
    "Indian/Reunion",
    "Indian/Mayotte",
    "Pacific/Noumea",
    "Pacific/Tahiti",
    "Pacific/Marquesas",
    "Pacific/Gambier",
    "Pacific/Wallis",
    "Africa/Dakar",
    "Africa/Abidjan",
    "Africa/Bamako",
    "Africa/Ouagadougou",
    "Africa/Niamey",
    "Africa/Conakry",
    "Africa/Lome",
    "Africa/Porto-Novo",
    "Africa/Libreville",
    "Africa/Brazzaville",
    "Africa/Kinshasa",
    "Africa/Lubumbashi",
    "Africa/Douala",
    "Africa/Bangui",
    "Africa/Ndjamena",
    "Africa/Djibouti",
    "Indian/Antananarivo",
    "Indian/Comoro",
    "Africa/Tunis",
    "Africa/Algiers",
    "Africa/Casablanca",
];

impl DigestConfig {
    /// The language the digest is written in: `language`, else the time zone's.
    pub fn language(&self) -> Lang {
        self.language.unwrap_or_else(|| {
            if FRENCH_ZONES.contains(&self.timezone.name()) {
                Lang::Fr
            } else {
                Lang::En
            }
        })
    }
}

impl Default for DigestConfig {
    fn default() -> Self {
        DigestConfig {
            at: (7, 0),
            timezone: chrono_tz::UTC,
            to: Vec::new(),
            from: None,
            subject: None,
            top: 5,
            language: None,
            every: Every::Day,
        }
    }
}

/// One alert delivery channel.
#[derive(Debug, Clone, PartialEq)]
pub enum Channel {
    /// Structured log line (stderr).
    Log,
    /// JSON POST with Slack-compatible `text`.
    Webhook(Url),
    /// Mail to the digest's recipients.
    Email,
}

/// Thresholds of one detector (`[alerts.sentiment_shift]`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetectorConfig {
    pub enabled: bool,
    /// How far above its baseline a rate must rise, in standard deviations.
    pub threshold: f64,
    /// Least number of documents in the window before anything can fire.
    pub min_count: u32,
}

/// `[alerts.emerging]`: terms and short phrases rising above their own baseline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EmergingConfig {
    pub enabled: bool,
    /// Deviations above its own baseline a single term must reach. Thousands of terms are
    /// tested at once, so the bar each must clear grows with their number `m`:
    /// `sqrt(threshold² + 2 ln m)` (a Bonferroni bound on the normal tail), about 6 for
    /// 20,000 terms at the default 4.
    pub threshold: f64,
    /// Least number of documents carrying the term over the last day.
    pub min_count: u32,
    /// Least ratio of that count to what the term's baseline expects (a term already common
    /// must at least triple).
    pub min_ratio: f64,
    /// A word carried by at least this share of documents is common.
    pub common_share: f64,
    /// A phrase made only of common words (a brand name with everyday words around it) must
    /// clear this many times the bar of other terms.
    pub common_factor: f64,
}

/// `[alerts.volume_spike]` and `[alerts.volume_drop]`: a brand's mentions against what is usual
/// for it at that hour of the day and day of the week, over each of `[alerts] scales`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VolumeConfig {
    pub enabled: bool,
    /// Statistical weight of the rise (or fall) in deviations: the signed root of the Poisson
    /// likelihood ratio of the count against the seasonal baseline, divided by the brand's own
    /// extra variance at that scale (learnt robustly), so a rise is judged at the brand's own
    /// volume, not by a fixed ratio.
    pub threshold: f64,
    /// Spikes: least documents in the window. Drops: least documents the baseline expects in
    /// the window (a quiet brand falling silent says nothing).
    pub min_count: u32,
    /// An event ends when the scale that opened it, and every shorter one, fall below this many
    /// deviations; a rise after that is a new alert.
    pub close: f64,
}

/// `[alerts]`: on by default, with defaults that work; these tune them.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertsConfig {
    pub channels: Vec<Channel>,
    /// After an alert, at most one reminder per this long while the event lasts. Reminders are
    /// marked `reminder` and are not new alerts.
    pub reminder: Duration,
    /// Event time during which a new brand's baselines are learnt and its volume raises nothing
    /// (it starts from a Poisson prior with no season).
    pub warmup: Duration,
    /// Time scales at which volumes are watched at once, shortest first (whole hours, 1h to
    /// 14d): the last so many hours and the current one, against the seasonal baseline.
    pub scales: Vec<Duration>,
    pub emerging: EmergingConfig,
    pub sentiment_shift: DetectorConfig,
    pub volume_spike: VolumeConfig,
    /// Sudden silence of a brand that is always talked about (a dead source, a blocked account).
    pub volume_drop: VolumeConfig,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        AlertsConfig {
            channels: vec![Channel::Log],
            reminder: Duration::from_secs(24 * 3600),
            warmup: Duration::from_secs(24 * 3600),
            scales: [1, 4, 24, 72]
                .into_iter()
                .map(|h| Duration::from_secs(h * 3600))
                .collect(),
            emerging: EmergingConfig {
                enabled: true,
                threshold: 4.0,
                min_count: 8,
                min_ratio: 3.0,
                common_share: 0.01,
                common_factor: 1.5,
            },
            sentiment_shift: DetectorConfig {
                enabled: true,
                threshold: 6.5,
                min_count: 10,
            },
            volume_spike: VolumeConfig {
                enabled: true,
                threshold: 5.0,
                min_count: 5,
                close: 2.0,
            },
            volume_drop: VolumeConfig {
                enabled: true,
                threshold: 6.0,
                min_count: 20,
                close: 2.0,
            },
        }
    }
}

/// One watch: `pipelines/NAME.toml`.
#[derive(Debug, Clone, PartialEq)]
pub struct Watch {
    pub name: String,
    pub path: PathBuf,
    /// Source ids or tags; empty = every source.
    pub sources: Vec<String>,
    pub brands: Vec<Brand>,
    /// `languages = ["fr", "en"]`: the languages this watch's posts are written in. Language
    /// detection holds them more likely than others (decisive on a few words, not on a
    /// sentence). Absent in every watch: French and English.
    pub languages: Vec<Lang>,
    pub topics: Vec<Topic>,
    pub digest: DigestConfig,
    pub alerts: AlertsConfig,
}

impl Watch {
    /// Whether a document from `source` (its id, and the tags of that source) belongs here.
    pub fn listens_to(&self, source: &str, tags: &[String]) -> bool {
        self.sources.is_empty() || self.sources.iter().any(|s| s == source || tags.contains(s))
    }
}

/// Everything configured.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub sources: SourcesConfig,
    pub watches: Vec<Watch>,
}

impl Config {
    /// Loads and validates both. A missing sources file is an empty one unless `need_sources`;
    /// a missing pipelines folder means no watches.
    pub fn load(
        sources: &Path,
        pipelines: &Path,
        need_sources: bool,
    ) -> Result<Config, ConfigErrors> {
        let mut errors = Vec::new();
        let mut sources_cfg = if sources.exists() || need_sources {
            match std::fs::read_to_string(sources) {
                Ok(src) => {
                    let (cfg, errs) = parse_sources(sources, &src);
                    errors.extend(errs);
                    cfg
                }
                Err(e) => {
                    errors.push(ConfigError {
                        file: sources.to_path_buf(),
                        line: 0,
                        key: String::new(),
                        message: format!(
                            "cannot read the sources file: {e} (give another with --sources FILE)"
                        ),
                    });
                    SourcesConfig::default()
                }
            }
        } else {
            SourcesConfig {
                path: sources.to_path_buf(),
                ..Default::default()
            }
        };
        let mut watches = Vec::new();
        match pipeline_files(pipelines) {
            Ok(files) => {
                for file in files {
                    match std::fs::read_to_string(&file) {
                        Ok(src) => {
                            let known = if sources_cfg.sources.is_empty() {
                                None
                            } else {
                                Some(sources_cfg.names())
                            };
                            let (w, errs) = parse_watch(&file, &src, known.as_ref());
                            errors.extend(errs);
                            watches.extend(w);
                        }
                        Err(e) => errors.push(ConfigError {
                            file: file.clone(),
                            line: 0,
                            key: String::new(),
                            message: format!("cannot read: {e}"),
                        }),
                    }
                }
            }
            Err(e) => errors.push(e),
        }
        resolve_watches(&mut sources_cfg, &watches, &mut errors);
        // watch names must be unique: they name digests and alerts
        let mut seen: BTreeMap<String, PathBuf> = BTreeMap::new();
        for w in &watches {
            if let Some(first) = seen.insert(w.name.clone(), w.path.clone()) {
                errors.push(ConfigError {
                    file: w.path.clone(),
                    line: 1,
                    key: "name".into(),
                    message: format!(
                        "watch name {:?} is already used by {}",
                        w.name,
                        first.display()
                    ),
                });
            }
        }
        if errors.is_empty() {
            Ok(Config {
                sources: sources_cfg,
                watches,
            })
        } else {
            Err(ConfigErrors(errors))
        }
    }

    pub fn watch(&self, name: &str) -> Option<&Watch> {
        self.watches.iter().find(|w| w.name == name)
    }

    /// What is valid but probably not meant: no watch at all (nothing is looked for), a
    /// webhook in plain http to a host off this machine (alerts cross the network in clear).
    /// One sentence each.
    pub fn warnings(&self, pipelines: &Path) -> Vec<String> {
        let mut out = Vec::new();
        if self.watches.is_empty() {
            out.push(format!(
                "no watch in {}: nothing will be watched (no mentions, alerts or digests); add a watch file such as {}/mybrand.toml",
                pipelines.display(),
                pipelines.display()
            ));
        }
        for w in &self.watches {
            for ch in &w.alerts.channels {
                if let Channel::Webhook(u) = ch {
                    if u.scheme() == "http" && !is_local_host(u) {
                        out.push(format!(
                            "{}: alerts.channels: webhook {u} is plain http to a host off this machine: alerts would travel unencrypted; use https://",
                            w.path.display()
                        ));
                    }
                }
            }
        }
        out
    }
}

/// Gives each `search` and `json` source the brands of its `watch`.
fn resolve_watches(cfg: &mut SourcesConfig, watches: &[Watch], errors: &mut Vec<ConfigError>) {
    for (i, s) in cfg.sources.iter_mut().enumerate() {
        let Some(name) = s.search.as_ref().and_then(|x| x.watch.clone()) else {
            continue;
        };
        match watches.iter().find(|w| w.name == name) {
            Some(w) => {
                s.brands = w.brands.clone();
                if w.brands.is_empty() {
                    errors.push(ConfigError {
                        file: cfg.path.clone(),
                        line: s.line,
                        key: format!("sources[{i}].watch"),
                        message: format!(
                            "watch {name:?} has no brands: there is nothing to search for"
                        ),
                    });
                }
            }
            None => {
                let names: Vec<&str> = watches.iter().map(|w| w.name.as_str()).collect();
                errors.push(ConfigError {
                    file: cfg.path.clone(),
                    line: s.line,
                    key: format!("sources[{i}].watch"),
                    message: format!(
                        "no watch named {name:?} (watches: {})",
                        if names.is_empty() {
                            "none".to_string()
                        } else {
                            names.join(", ")
                        }
                    ),
                });
            }
        }
    }
}

/// The settings every detector has: `enabled`, `threshold` (deviations), `min_count`.
fn read_detector(
    dr: &mut TableReader<'_>,
    r: &mut FileReader<'_>,
    enabled: &mut bool,
    threshold: &mut f64,
    min_count: &mut u32,
) {
    if let Some(b) = dr.bool(r, "enabled") {
        *enabled = b;
    }
    if let Some(x) = dr.float(r, "threshold", 0.5, 100.0) {
        *threshold = x;
    }
    if let Some(n) = dr.integer(r, "min_count", 1, 1_000_000) {
        *min_count = n as u32;
    }
}

/// Whether a URL points at this machine or a private network (where plain http is usual).
fn is_local_host(u: &Url) -> bool {
    match u.host() {
        Some(url::Host::Domain(d)) => {
            d == "localhost" || d.ends_with(".localhost") || d.ends_with(".local")
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback() || ip.is_private() || ip.is_link_local(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// The `*.toml` files of the pipelines folder, sorted. A missing folder has none.
pub fn pipeline_files(dir: &Path) -> Result<Vec<PathBuf>, ConfigError> {
    if !dir.exists() {
        return Ok(Vec::new());
    }
    let rd = std::fs::read_dir(dir).map_err(|e| ConfigError {
        file: dir.to_path_buf(),
        line: 0,
        key: String::new(),
        message: format!("cannot read the pipelines folder: {e}"),
    })?;
    let mut files: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
        .collect();
    files.sort();
    Ok(files)
}

fn valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Parses `sources.toml`.
pub fn parse_sources(path: &Path, src: &str) -> (SourcesConfig, Vec<ConfigError>) {
    let mut r = FileReader::new(path, src);
    let mut cfg = SourcesConfig {
        path: path.to_path_buf(),
        ..Default::default()
    };
    let Some(doc) = r.parse() else {
        return (cfg, r.errors);
    };
    let mut top = r.table(doc.as_table(), "");
    if let Some(t) = top.sub_table(&mut r, "defaults") {
        let mut d = r.table(&t, "defaults");
        let def = &mut cfg.defaults;
        if let Some(v) = d.positive_duration(&mut r, "interval") {
            def.interval = v;
        }
        if let Some(v) = d.positive_duration(&mut r, "timeout") {
            def.timeout = v;
        }
        if let Some(v) = d.integer(&mut r, "per_host_concurrency", 1, 64) {
            def.per_host_concurrency = v as usize;
        }
        if let Some(v) = d.duration(&mut r, "per_host_delay") {
            def.per_host_delay = v;
        }
        if let Some(v) = d.bool(&mut r, "allow_private") {
            def.allow_private = v;
        }
        if let Some(v) = d.integer(&mut r, "concurrency", 1, 1024) {
            def.concurrency = v as usize;
        }
        if let Some(v) = d.integer(&mut r, "max_body", 1024, 1 << 32) {
            def.max_body = v as u64;
        }
        if let Some(v) = d.string(&mut r, "user_agent") {
            def.user_agent = Some(v);
        }
        d.finish(&mut r);
    }
    let mut ids: BTreeMap<String, usize> = BTreeMap::new();
    match top.get("sources") {
        None => {}
        Some(Item::ArrayOfTables(arr)) => {
            for (i, t) in arr.iter().enumerate() {
                if let Some(s) = parse_source(&mut r, t, i, &cfg.defaults) {
                    if let Some(first) = ids.get(&s.id) {
                        r.error(
                            t.get("id").and_then(reader::span_of),
                            format!("sources[{i}].id"),
                            format!(
                                "duplicate source id {:?} (first defined on line {first})",
                                s.id
                            ),
                        );
                    } else {
                        ids.insert(s.id.clone(), s.line);
                        cfg.sources.push(s);
                    }
                }
            }
        }
        Some(other) => {
            r.error(
                reader::span_of(other),
                "sources",
                "expected [[sources]] tables (an array of tables)",
            );
        }
    }
    top.finish(&mut r);
    (cfg, r.errors)
}

fn parse_source(
    r: &mut FileReader<'_>,
    t: &Table,
    i: usize,
    defaults: &Defaults,
) -> Option<Source> {
    let line = t.span().map(|s| r.line_of(s.start)).unwrap_or(0);
    let mut tr = r.table(t, format!("sources[{i}]"));
    let id = tr.required_string(
        r,
        "id",
        "a unique name for this source, such as \"lemonde-pixels\"",
    );
    if let Some(id) = &id {
        if !valid_id(id) {
            r.error(
                tr.span("id"),
                tr.key_path("id"),
                format!("{id:?} is not a valid id: use letters, digits, '-', '_' or '.'"),
            );
        }
    }
    let kind = match tr.required_string(
        r,
        "kind",
        "one of \"feed\", \"page\", \"sitemap\", \"search\", \"json\"",
    ) {
        Some(k) => match k.as_str() {
            "feed" => Some(SourceKind::Feed),
            "page" => Some(SourceKind::Page),
            "sitemap" => Some(SourceKind::Sitemap),
            "search" => Some(SourceKind::Search),
            "json" => Some(SourceKind::Json),
            other => {
                r.error(
                    tr.span("kind"),
                    tr.key_path("kind"),
                    format!("unknown kind {other:?}: expected \"feed\", \"page\", \"sitemap\", \"search\" or \"json\""),
                );
                None
            }
        },
        None => None,
    };
    let mut search = None;
    let url = match kind {
        Some(SourceKind::Search) => search::read_search(r, &mut tr).map(|(s, u)| {
            search = Some(s);
            u
        }),
        Some(SourceKind::Json) => search::read_json(r, &mut tr, i).map(|(s, u)| {
            search = Some(s);
            u
        }),
        _ => list_url(r, &mut tr),
    };
    let is_mastodon = search
        .as_ref()
        .is_some_and(|s| s.preset == Some(Preset::Mastodon));
    // a mastodon source's `tags` are the hashtags it follows
    let tags = if is_mastodon {
        Vec::new()
    } else {
        tr.strings(r, "tags")
    };
    let full_text = tr.bool(r, "full_text").unwrap_or(false);
    let interval = tr
        .positive_duration(r, "interval")
        .unwrap_or(defaults.interval);
    let timeout = tr
        .positive_duration(r, "timeout")
        .unwrap_or(defaults.timeout);
    let per_host_delay = tr
        .duration(r, "per_host_delay")
        .unwrap_or(defaults.per_host_delay);
    let allow_private = tr
        .bool(r, "allow_private")
        .unwrap_or(defaults.allow_private);
    let lang = match tr.string(r, "lang") {
        Some(l) => match Lang::from_code(&l) {
            Some(l) => Some(l),
            None => {
                r.error(
                    tr.span("lang"),
                    tr.key_path("lang"),
                    format!("unknown language {l:?}: expected a code such as \"fr\" or \"en\""),
                );
                None
            }
        },
        None => None,
    };
    let name = tr.string(r, "name");
    let mut selectors = Selectors::default();
    if let Some(st) = tr.sub_table(r, "selectors") {
        let mut sr = r.table(&st, format!("sources[{i}].selectors"));
        for key in ["item", "title", "link", "date"] {
            if let Some(sel) = sr.string(r, key) {
                if let Err(e) = scraper::Selector::parse(&sel) {
                    r.error(
                        sr.span(key),
                        sr.key_path(key),
                        format!("invalid CSS selector {sel:?}: {e}"),
                    );
                    continue;
                }
                match key {
                    "item" => selectors.item = Some(sel),
                    "title" => selectors.title = Some(sel),
                    "link" => selectors.link = Some(sel),
                    _ => selectors.date = Some(sel),
                }
            }
        }
        sr.finish(r);
        if kind.is_some_and(|k| k != SourceKind::Page) {
            r.error(
                tr.span("selectors"),
                tr.key_path("selectors"),
                "selectors only apply to sources of kind \"page\"",
            );
        }
    }
    tr.finish(r);
    Some(Source {
        id: id?,
        kind: kind?,
        url: url?,
        tags,
        full_text,
        interval,
        timeout,
        per_host_delay,
        allow_private,
        lang,
        name,
        selectors,
        search,
        brands: Vec::new(),
        line,
    })
}

/// The `url` of a feed, page or sitemap.
fn list_url(r: &mut FileReader<'_>, tr: &mut TableReader<'_>) -> Option<Url> {
    let u = tr.required_string(
        r,
        "url",
        "the address to fetch, such as \"https://example.org/feed.xml\"",
    )?;
    match Url::parse(u.trim()) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Some(url),
        Ok(url) => {
            r.error(
                tr.span("url"),
                tr.key_path("url"),
                format!(
                    "{u:?}: only http and https addresses can be fetched (found scheme {:?})",
                    url.scheme()
                ),
            );
            None
        }
        Err(e) => {
            r.error(
                tr.span("url"),
                tr.key_path("url"),
                format!("{u:?} is not a valid URL ({e}): expected an absolute http(s) address"),
            );
            None
        }
    }
}

/// Parses one watch file. `known_sources` (ids and tags of `sources.toml`), when given, is
/// checked against the watch's `sources`.
pub fn parse_watch(
    path: &Path,
    src: &str,
    known_sources: Option<&BTreeSet<&str>>,
) -> (Option<Watch>, Vec<ConfigError>) {
    let mut r = FileReader::new(path, src);
    let Some(doc) = r.parse() else {
        return (None, r.errors);
    };
    let mut top = r.table(doc.as_table(), "");
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match top.string(&mut r, "name") {
        Some(n) if valid_id(&n) => n,
        Some(n) => {
            r.error(
                top.span("name"),
                "name",
                format!("{n:?} is not a valid watch name: use letters, digits, '-', '_' or '.'"),
            );
            stem
        }
        None => stem,
    };
    let sources = top.strings(&mut r, "sources");
    if let Some(known) = known_sources {
        for s in &sources {
            if !known.contains(s.as_str()) {
                let span = top.span("sources");
                r.error(
                    span,
                    "sources",
                    format!("no source id or tag {s:?} in the sources file"),
                );
            }
        }
    }
    let mut languages = Vec::new();
    for code in top.strings(&mut r, "languages") {
        match Lang::from_code(&code) {
            Some(l) if !languages.contains(&l) => languages.push(l),
            Some(_) => {}
            None => {
                let span = top.span("languages");
                r.error(
                    span,
                    "languages",
                    format!("unknown language {code:?}: expected codes such as \"fr\" or \"en\""),
                );
            }
        }
    }
    let mut brands = Vec::new();
    let mut brand_ids = BTreeSet::new();
    match top.get("brands") {
        None => {}
        Some(Item::ArrayOfTables(arr)) => {
            for (i, t) in arr.iter().enumerate() {
                if let Some(b) = parse_brand(&mut r, t, i) {
                    if !brand_ids.insert(b.id.clone()) {
                        r.error(
                            t.get("id").and_then(reader::span_of),
                            format!("brands[{i}].id"),
                            format!("duplicate brand id {:?}", b.id),
                        );
                    }
                    brands.push(b);
                }
            }
        }
        Some(other) => r.error(
            reader::span_of(other),
            "brands",
            "expected [[brands]] tables (an array of tables)",
        ),
    }
    let mut topics = Vec::new();
    match top.get("topics") {
        None => {}
        Some(Item::ArrayOfTables(arr)) => {
            for (i, t) in arr.iter().enumerate() {
                let mut tr = r.table(t, format!("topics[{i}]"));
                let id = tr.required_string(&mut r, "id", "a name for this topic");
                let query = tr.required_string(
                    &mut r,
                    "query",
                    "a query such as '(fibre OR \"très haut débit\") AND NOT publicité'",
                );
                let q = query.and_then(|q| match Query::parse(&q) {
                    Ok(q) => Some(q),
                    Err(e) => {
                        r.error(
                            tr.span("query"),
                            tr.key_path("query"),
                            format!("invalid query: {e}"),
                        );
                        None
                    }
                });
                tr.finish(&mut r);
                if let (Some(id), Some(query)) = (id, q) {
                    topics.push(Topic { id, query });
                }
            }
        }
        Some(other) => r.error(
            reader::span_of(other),
            "topics",
            "expected [[topics]] tables (an array of tables)",
        ),
    }
    let mut digest = DigestConfig::default();
    if let Some(t) = top.sub_table(&mut r, "digest") {
        let mut dr = r.table(&t, "digest");
        if let Some(at) = dr.string(&mut r, "at") {
            match parse_hhmm(&at) {
                Some(hm) => digest.at = hm,
                None => r.error(
                    dr.span("at"),
                    "digest.at",
                    format!("{at:?} is not a time of day: expected \"HH:MM\", such as \"07:00\""),
                ),
            }
        }
        if let Some(tz) = dr.string(&mut r, "timezone") {
            match tz.parse::<chrono_tz::Tz>() {
                Ok(z) => digest.timezone = z,
                Err(_) => r.error(
                    dr.span("timezone"),
                    "digest.timezone",
                    format!(
                        "unknown time zone {tz:?}: expected an IANA name such as \"Europe/Paris\""
                    ),
                ),
            }
        }
        for (k, addr) in dr.strings(&mut r, "to").into_iter().enumerate() {
            if addr.parse::<lettre::Address>().is_err() {
                r.error(
                    dr.span("to"),
                    format!("digest.to[{k}]"),
                    format!("{addr:?} is not an e-mail address"),
                );
            } else {
                digest.to.push(addr);
            }
        }
        if let Some(from) = dr.string(&mut r, "from") {
            if from.parse::<lettre::message::Mailbox>().is_err() {
                r.error(
                    dr.span("from"),
                    "digest.from",
                    format!("{from:?} is not an e-mail address"),
                );
            } else {
                digest.from = Some(from);
            }
        }
        digest.subject = dr.string(&mut r, "subject");
        if let Some(n) = dr.integer(&mut r, "top", 1, 100) {
            digest.top = n as usize;
        }
        if let Some(l) = dr.string(&mut r, "language") {
            match l.trim().to_ascii_lowercase().as_str() {
                "fr" | "french" | "français" | "francais" => digest.language = Some(Lang::Fr),
                "en" | "english" | "anglais" => digest.language = Some(Lang::En),
                _ => r.error(
                    dr.span("language"),
                    "digest.language",
                    format!("{l:?} is not a digest language: expected \"fr\" or \"en\""),
                ),
            }
        }
        if let Some(e) = dr.string(&mut r, "every") {
            match e.trim().to_ascii_lowercase().as_str() {
                "day" | "daily" => digest.every = Every::Day,
                "week" | "weekly" => digest.every = Every::Week,
                _ => r.error(
                    dr.span("every"),
                    "digest.every",
                    format!("{e:?} is not a digest rhythm: expected \"day\" or \"week\""),
                ),
            }
        }
        dr.finish(&mut r);
    }
    let mut alerts = AlertsConfig::default();
    if let Some(t) = top.sub_table(&mut r, "alerts") {
        let mut ar = r.table(&t, "alerts");
        if ar.table.contains_key("channels") {
            alerts.channels.clear();
            for (k, ch) in ar.strings(&mut r, "channels").into_iter().enumerate() {
                match ch.as_str() {
                    "log" => alerts.channels.push(Channel::Log),
                    "email" => {
                        if digest.to.is_empty() {
                            r.error(ar.span("channels"), format!("alerts.channels[{k}]"), "the email channel needs recipients: set [digest] to = [...]");
                        }
                        alerts.channels.push(Channel::Email)
                    }
                    url if url.starts_with("http://") || url.starts_with("https://") => match Url::parse(url) {
                        Ok(u) => alerts.channels.push(Channel::Webhook(u)),
                        Err(e) => r.error(ar.span("channels"), format!("alerts.channels[{k}]"), format!("invalid webhook URL {url:?}: {e}")),
                    },
                    other => r.error(ar.span("channels"), format!("alerts.channels[{k}]"), format!("unknown channel {other:?}: expected \"log\", \"email\" or a webhook URL (https://…)")),
                }
            }
        }
        if let Some(d) = ar.duration(&mut r, "reminder") {
            alerts.reminder = d;
        }
        if let Some(d) = ar.duration(&mut r, "warmup") {
            alerts.warmup = d;
        }
        if ar.table.contains_key("scales") {
            let span = ar.span("scales");
            let mut scales = Vec::new();
            let written = ar.strings(&mut r, "scales");
            let none_written = written.is_empty();
            for (k, s) in written.into_iter().enumerate() {
                match parse_duration(&s) {
                    Ok(d)
                        if d.as_secs().is_multiple_of(3600)
                            && (1..=14 * 24).contains(&(d.as_secs() / 3600)) =>
                    {
                        scales.push(d)
                    }
                    Ok(_) => r.error(
                        span.clone(),
                        format!("alerts.scales[{k}]"),
                        format!("{s:?}: expected whole hours from 1h to 14d"),
                    ),
                    Err(e) => r.error(span.clone(), format!("alerts.scales[{k}]"), e),
                }
            }
            scales.sort();
            scales.dedup();
            // (an empty list is the mistake; invalid entries were reported one by one)
            if none_written {
                r.error(
                    span,
                    "alerts.scales",
                    "expected at least one time scale, such as [\"1h\", \"24h\"]",
                );
            } else if !scales.is_empty() {
                alerts.scales = scales;
            }
        }
        if let Some(dt) = ar.sub_table(&mut r, "emerging") {
            let det = &mut alerts.emerging;
            let mut dr = r.table(&dt, "alerts.emerging");
            read_detector(
                &mut dr,
                &mut r,
                &mut det.enabled,
                &mut det.threshold,
                &mut det.min_count,
            );
            if let Some(x) = dr.float(&mut r, "min_ratio", 1.0, 100.0) {
                det.min_ratio = x;
            }
            if let Some(x) = dr.float(&mut r, "common_share", 0.0, 1.0) {
                det.common_share = x;
            }
            if let Some(x) = dr.float(&mut r, "common_factor", 1.0, 10.0) {
                det.common_factor = x;
            }
            dr.finish(&mut r);
        }
        if let Some(dt) = ar.sub_table(&mut r, "sentiment_shift") {
            let det = &mut alerts.sentiment_shift;
            let mut dr = r.table(&dt, "alerts.sentiment_shift");
            read_detector(
                &mut dr,
                &mut r,
                &mut det.enabled,
                &mut det.threshold,
                &mut det.min_count,
            );
            dr.finish(&mut r);
        }
        for (key, det) in [
            ("volume_spike", &mut alerts.volume_spike),
            ("volume_drop", &mut alerts.volume_drop),
        ] {
            if let Some(dt) = ar.sub_table(&mut r, key) {
                let mut dr = r.table(&dt, format!("alerts.{key}"));
                read_detector(
                    &mut dr,
                    &mut r,
                    &mut det.enabled,
                    &mut det.threshold,
                    &mut det.min_count,
                );
                if let Some(x) = dr.float(&mut r, "close", 0.0, 100.0) {
                    det.close = x;
                }
                dr.finish(&mut r);
            }
        }
        ar.finish(&mut r);
    }
    top.finish(&mut r);
    let watch = Watch {
        name,
        path: path.to_path_buf(),
        sources,
        brands,
        languages,
        topics,
        digest,
        alerts,
    };
    (Some(watch), r.errors)
}

fn parse_brand(r: &mut FileReader<'_>, t: &Table, i: usize) -> Option<Brand> {
    let mut br = r.table(t, format!("brands[{i}]"));
    let id = br.required_string(r, "id", "a short name for this brand, such as \"orange\"");
    if let Some(id) = &id {
        if !valid_id(id) {
            r.error(
                br.span("id"),
                br.key_path("id"),
                format!("{id:?} is not a valid id: use letters, digits, '-', '_' or '.'"),
            );
        }
    }
    let name = br.string(r, "name");
    let aliases = br.strings(r, "aliases");
    let ambiguous = br.strings(r, "ambiguous");
    let context = br.strings(r, "context");
    let exclude = br.strings(r, "exclude");
    let own_handles = br.strings(r, "own_handles");
    let case_sensitive = br.bool(r, "case_sensitive").unwrap_or(false);
    if !ambiguous.is_empty() && context.is_empty() {
        r.error(
            br.span("ambiguous"),
            br.key_path("ambiguous"),
            "ambiguous aliases need `context` words: without them they never count",
        );
    }
    for (key, list) in [
        ("aliases", &aliases),
        ("ambiguous", &ambiguous),
        ("context", &context),
        ("exclude", &exclude),
    ] {
        for (k, a) in list.iter().enumerate() {
            if a.trim().is_empty()
                || crate::analyze::text::tokenize(a).is_empty() && !a.contains('.')
            {
                r.error(
                    br.span(key),
                    format!("{}[{k}]", br.key_path(key)),
                    format!("{a:?} has no word to match"),
                );
            }
        }
    }
    br.finish(r);
    let id = id?;
    Some(Brand {
        name: name.unwrap_or_else(|| id.clone()),
        id,
        aliases,
        ambiguous,
        context,
        exclude,
        case_sensitive,
        own_handles,
    })
}

fn parse_hhmm(s: &str) -> Option<(u32, u32)> {
    let (h, m) = s.trim().split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some((h, m))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(src: &str) -> (SourcesConfig, Vec<ConfigError>) {
        parse_sources(Path::new("sources.toml"), src)
    }

    #[test]
    fn reads_the_documented_example() {
        let (cfg, errs) = sources(
            r#"[defaults]
interval = "30m"
timeout = "20s"
per_host_concurrency = 2
per_host_delay = "1s"
allow_private = false

[[sources]]
id = "lemonde-pixels"
kind = "feed"
url = "https://www.lemonde.fr/pixels/rss_full.xml"
tags = ["news", "fr"]
full_text = true
"#,
        );
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(cfg.sources.len(), 1);
        let s = &cfg.sources[0];
        assert_eq!(
            (s.id.as_str(), s.kind, s.full_text, s.line),
            ("lemonde-pixels", SourceKind::Feed, true, 8)
        );
        assert_eq!(s.interval, Duration::from_secs(1800));
    }

    #[test]
    fn unknown_field_names_field_and_line() {
        let (_, errs) = sources("[defaults]\ninterval = \"30m\"\n\n[[sources]]\nid = \"x\"\nkind = \"feed\"\nurl = \"http://example.org/f.xml\"\ncolour = \"blue\"\n");
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].line, 8);
        let msg = errs[0].to_string();
        assert!(
            msg.contains("colour") && msg.contains("sources.toml:8"),
            "{msg}"
        );
        assert!(
            msg.contains("valid here") && msg.contains("full_text"),
            "{msg}"
        );
    }

    #[test]
    fn reports_every_error_at_once() {
        let (_, errs) = sources("[[sources]]\nid = 7\nkind = \"rss\"\nurl = \"not a url\"\nfull_text = \"yes\"\n\n[[sources]]\nkind = \"feed\"\nurl = \"ftp://x.org/\"\n");
        let keys: Vec<&str> = errs.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "sources[0].id",
                "sources[0].kind",
                "sources[0].url",
                "sources[0].full_text",
                "sources[1].id",
                "sources[1].url"
            ],
            "{errs:#?}"
        );
        assert_eq!(errs[0].line, 2);
        assert!(errs[0]
            .message
            .contains("expected a string, found an integer"));
        assert_eq!(errs[2].line, 4);
    }

    #[test]
    fn syntax_errors_have_lines() {
        let (_, errs) = sources("[[sources]]\nid = \"a\"\nurl = \"http://x\n");
        assert_eq!(errs.len(), 1);
        assert!(errs[0].line >= 3, "{errs:?}");
        assert!(errs[0].message.starts_with("invalid TOML"));
    }

    #[test]
    fn duplicate_ids_are_errors() {
        let (cfg, errs) = sources("[[sources]]\nid = \"a\"\nkind = \"feed\"\nurl = \"http://x.org/\"\n[[sources]]\nid = \"a\"\nkind = \"feed\"\nurl = \"http://y.org/\"\n");
        assert_eq!(cfg.sources.len(), 1);
        assert!(errs[0].message.contains("duplicate source id"), "{errs:?}");
        assert_eq!(errs[0].line, 6);
    }

    #[test]
    fn reads_a_watch() {
        let src = r#"name = "telecoms"
sources = ["news"]

[[brands]]
id = "orange"
name = "Orange"
aliases = ["Orange France", "@Orange_conseil", "Livebox", "Sosh"]
ambiguous = ["Orange"]
context = ["opérateur", "forfait", "fibre", "box", "réseau"]
exclude = ["jus d'orange", "orange pressée"]
case_sensitive = true

[[topics]]
id = "fibre"
query = '(fibre OR "très haut débit") AND NOT publicité'

[digest]
at = "07:00"
timezone = "Europe/Paris"
to = ["veille@example.com"]

[alerts]
channels = ["log"]
"#;
        let known: BTreeSet<&str> = ["news"].into_iter().collect();
        let (w, errs) = parse_watch(Path::new("pipelines/telecoms.toml"), src, Some(&known));
        assert!(errs.is_empty(), "{errs:?}");
        let w = w.unwrap();
        assert_eq!(w.name, "telecoms");
        assert_eq!(w.brands[0].aliases.len(), 4);
        assert!(w.brands[0].case_sensitive);
        assert_eq!(w.digest.timezone, chrono_tz::Europe::Paris);
        assert_eq!(w.topics[0].id, "fibre");
    }

    #[test]
    fn digest_language_rhythm_and_own_accounts() {
        let read = |digest: &str| {
            let src = format!(
                "name = \"w\"\n[[brands]]\nid = \"b\"\naliases = [\"B\"]\nown_handles = [\"@B_care\"]\n[digest]\n{digest}\n"
            );
            let (w, errs) = parse_watch(Path::new("w.toml"), &src, None);
            assert!(errs.is_empty(), "{digest}: {errs:?}");
            w.unwrap()
        };
        // from the time zone's country, else English; as set when set
        assert_eq!(
            read("timezone = \"Europe/Paris\"").digest.language(),
            Lang::Fr
        );
        assert_eq!(
            read("timezone = \"America/Montreal\"").digest.language(),
            Lang::Fr
        );
        assert_eq!(
            read("timezone = \"Europe/London\"").digest.language(),
            Lang::En
        );
        assert_eq!(read("").digest.language(), Lang::En);
        let w = read("timezone = \"Europe/Paris\"\nlanguage = \"en\"\nevery = \"week\"");
        assert_eq!(w.digest.language(), Lang::En);
        assert_eq!(w.digest.every, Every::Week);
        assert!(w.brands[0].is_own("@b_care") && w.brands[0].is_own("B_care"));
        assert!(!w.brands[0].is_own("@someone"));
        let (_, errs) = parse_watch(Path::new("w.toml"), "[digest]\nlanguage = \"de\"\n", None);
        assert!(errs[0].to_string().contains("\"fr\" or \"en\""), "{errs:?}");
    }

    #[test]
    fn watch_languages_are_codes() {
        let (w, errs) = parse_watch(
            Path::new("w.toml"),
            "languages = [\"fr\", \"en-GB\"]\n",
            None,
        );
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(w.unwrap().languages, [Lang::Fr, Lang::En]);
        let (_, errs) = parse_watch(
            Path::new("w.toml"),
            "name = \"w\"\nlanguages = [\"fr\", \"xx\"]\n",
            None,
        );
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].line, 2);
        assert!(errs[0].message.contains("\"xx\""), "{}", errs[0]);
    }

    #[test]
    fn watch_errors_point_at_lines() {
        let src = "name = \"w\"\nsources = [\"nowhere\"]\n[[brands]]\nid = \"b\"\nalias = [\"B\"]\n[digest]\nat = \"25:00\"\ntimezone = \"Mars/Olympus\"\n[[topics]]\nid = \"t\"\nquery = \"(a OR\"\n";
        let known: BTreeSet<&str> = ["news"].into_iter().collect();
        let (_, errs) = parse_watch(Path::new("w.toml"), src, Some(&known));
        let lines: Vec<usize> = errs.iter().map(|e| e.line).collect();
        assert_eq!(lines, [2, 5, 11, 7, 8], "{errs:#?}");
        assert!(
            errs[1].message.contains("did you mean `aliases`"),
            "{}",
            errs[1]
        );
    }

    #[test]
    fn alert_settings_are_read_and_checked() {
        let src = "name = \"w\"\n[alerts]\nwarmup = \"2d\"\nscales = [\"72h\", \"1h\", \"6h\"]\n[alerts.volume_spike]\nthreshold = 7\nclose = 1.5\n[alerts.volume_drop]\nenabled = false\n[alerts.emerging]\ncommon_factor = 2\nmin_ratio = 4\n";
        let (w, errs) = parse_watch(Path::new("w.toml"), src, None);
        assert!(errs.is_empty(), "{errs:?}");
        let a = w.unwrap().alerts;
        assert_eq!(a.warmup, Duration::from_secs(2 * 86400));
        let hours: Vec<u64> = a.scales.iter().map(|d| d.as_secs() / 3600).collect();
        assert_eq!(hours, [1, 6, 72]);
        assert_eq!((a.volume_spike.threshold, a.volume_spike.close), (7.0, 1.5));
        assert!(!a.volume_drop.enabled && a.volume_spike.enabled);
        assert_eq!((a.emerging.common_factor, a.emerging.min_ratio), (2.0, 4.0));
        let bad =
            "name = \"w\"\n[alerts]\nscales = [\"90m\"]\n[alerts.volume_spike]\nclosing = 2\n";
        let (_, errs) = parse_watch(Path::new("w.toml"), bad, None);
        assert_eq!(errs.len(), 2, "{errs:#?}");
        assert!(errs[0].message.contains("whole hours"), "{}", errs[0]);
        assert_eq!(errs[1].line, 5, "{errs:#?}");
    }
}
