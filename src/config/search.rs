//! The settings of query-driven sources: `kind = "search"` (a platform's public search,
//! through a preset) and `kind = "json"` (any JSON API, mapped with JSONPath).
//!
//! Which fields a source may have depends on its preset: a field another preset takes is an
//! unknown field here, reported with its line like any other.

use std::time::Duration;

use url::Url;

use super::reader::{FileReader, TableReader};

/// A platform whose public search a `kind = "search"` source asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// Google News RSS search (`/rss/search`), one edition per `lang`.
    GoogleNews,
    /// The GDELT DOC 2.0 API, article lists in JSON.
    Gdelt,
    /// Reddit search as Atom (`/search.rss`).
    Reddit,
    /// Hacker News through the Algolia API (`search_by_date`), stories and comments.
    Hn,
    /// A Mastodon instance's hashtag timelines.
    Mastodon,
    /// App Store customer reviews (the iTunes RSS JSON), per app and country.
    AppReviews,
    /// Bluesky post search; needs an account (app password from the environment).
    Bluesky,
}

/// Every preset, in the order the docs list them.
pub const PRESETS: [Preset; 7] = [
    Preset::GoogleNews,
    Preset::Gdelt,
    Preset::Reddit,
    Preset::Hn,
    Preset::Mastodon,
    Preset::AppReviews,
    Preset::Bluesky,
];

impl Preset {
    pub fn as_str(self) -> &'static str {
        match self {
            Preset::GoogleNews => "google-news",
            Preset::Gdelt => "gdelt",
            Preset::Reddit => "reddit",
            Preset::Hn => "hn",
            Preset::Mastodon => "mastodon",
            Preset::AppReviews => "app-reviews",
            Preset::Bluesky => "bluesky",
        }
    }

    pub fn parse(s: &str) -> Option<Preset> {
        PRESETS.into_iter().find(|p| p.as_str() == s)
    }

    /// The platform's own address (scheme, host, port), when `base_url` is not given.
    pub fn default_base(self) -> &'static str {
        match self {
            Preset::GoogleNews => "https://news.google.com",
            Preset::Gdelt => "https://api.gdeltproject.org",
            Preset::Reddit => "https://www.reddit.com",
            Preset::Hn => "https://hn.algolia.com",
            Preset::Mastodon => "https://mastodon.social",
            Preset::AppReviews => "https://itunes.apple.com",
            Preset::Bluesky => "https://bsky.social",
        }
    }

    /// Pages read per query and poll unless `max_pages` says otherwise.
    pub fn default_max_pages(self) -> usize {
        match self {
            Preset::Hn => 10,
            Preset::Mastodon => 5,
            Preset::AppReviews => 3,
            Preset::Bluesky => 3,
            Preset::GoogleNews | Preset::Gdelt | Preset::Reddit => 1,
        }
    }

    /// Least time between two requests to the platform, whatever `per_host_delay` says.
    pub fn min_gap(self) -> Duration {
        match self {
            // "Please limit requests to one every 5 seconds"
            Preset::Gdelt => Duration::from_secs(5),
            Preset::Reddit => Duration::from_secs(2),
            _ => Duration::ZERO,
        }
    }

    /// Whether the preset needs a watch to build its query from.
    fn needs_watch(self) -> bool {
        !matches!(self, Preset::AppReviews | Preset::Mastodon)
    }
}

/// `[sources.items]` of a `kind = "json"` source: JSONPath (RFC 9535) to the items, and to
/// each field relative to one item.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JsonItems {
    /// The items, such as `$.data.items[*]`.
    pub path: String,
    /// The item's address (required: it is the document's identity).
    pub url: String,
    pub title: Option<String>,
    pub text: Option<String>,
    /// RFC 3339 (or another common date form) or unix seconds.
    pub published: Option<String>,
    pub author: Option<String>,
    /// The author's audience (followers), a number.
    pub followers: Option<String>,
    /// The address of the next page (absolute or relative), when the API pages: followed up
    /// to `max_pages`, while pages bring new items.
    pub next: Option<String>,
}

/// What a `search` or `json` source asks and how far back it reaches.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchSettings {
    /// `None` for `kind = "json"`.
    pub preset: Option<Preset>,
    /// The watch whose brands make the query.
    pub watch: Option<String>,
    /// Mastodon: hashtags followed (default: from the brands' aliases).
    pub hashtags: Vec<String>,
    /// App reviews: the App Store ids of the apps.
    pub apps: Vec<String>,
    /// App reviews: the store's country; Google News: the edition's country.
    pub country: Option<String>,
    /// How far back a first poll reaches.
    pub lookback: Duration,
    /// Pages read per query and poll at most.
    pub max_pages: usize,
    /// Items read per poll at most.
    pub max_items: usize,
    /// `json`: the address, with optional `{query}` (the watch's names OR-ed), `{since}`
    /// (RFC 3339) and `{since_unix}` (seconds): the newest item's date of the last poll, a few
    /// minutes early, or the lookback on a first poll.
    pub url_template: Option<String>,
    /// `json`: the mapping.
    pub items: Option<JsonItems>,
}

/// Default `lookback`: a first poll reaches back a day.
pub const DEFAULT_LOOKBACK: Duration = Duration::from_secs(24 * 3600);
/// Default `max_items`.
pub const DEFAULT_MAX_ITEMS: usize = 500;

/// Reads the preset's own fields of a `kind = "search"` source. Gives the settings and the
/// address polled (`base_url`, or the platform's own).
pub(super) fn read_search(
    r: &mut FileReader<'_>,
    tr: &mut TableReader<'_>,
) -> Option<(SearchSettings, Url)> {
    let names: Vec<&str> = PRESETS.iter().map(|p| p.as_str()).collect();
    let preset = match tr.required_string(r, "preset", &format!("one of {}", names.join(", "))) {
        Some(p) => match Preset::parse(p.trim()) {
            Some(p) => Some(p),
            None => {
                r.error(
                    tr.span("preset"),
                    tr.key_path("preset"),
                    format!("unknown preset {p:?}: expected one of {}", names.join(", ")),
                );
                None
            }
        },
        None => None,
    };
    let preset = preset?;
    let watch = if preset.needs_watch() {
        tr.required_string(
            r,
            "watch",
            "the watch (pipelines/NAME.toml) whose brands make the query",
        )
    } else {
        tr.string(r, "watch")
    };
    let base = match tr.string(r, "base_url") {
        Some(b) => base_url(r, tr, &b)?,
        None => Url::parse(preset.default_base()).expect("preset addresses parse"),
    };
    let mut s = common(r, tr, preset, preset.default_max_pages());
    s.watch = watch;
    match preset {
        Preset::Mastodon => {
            s.hashtags = tr
                .strings(r, "tags")
                .into_iter()
                .map(|t| t.trim().trim_start_matches('#').to_string())
                .filter(|t| !t.is_empty())
                .collect();
            if s.hashtags.is_empty() && s.watch.is_none() {
                r.error(
                    tr.table.span(),
                    tr.key_path("tags"),
                    "missing: the hashtags to follow (tags = [\"mybrand\"]), or a watch to take them from",
                );
            }
        }
        Preset::AppReviews => {
            s.apps = tr.strings(r, "apps");
            if s.apps.is_empty() {
                r.error(
                    tr.span("apps"),
                    tr.key_path("apps"),
                    "missing: the App Store ids of the apps (apps = [\"1320045127\"], the digits after id in the app's address)",
                );
            }
            for a in &s.apps {
                if a.is_empty() || !a.chars().all(|c| c.is_ascii_digit()) {
                    r.error(
                        tr.span("apps"),
                        tr.key_path("apps"),
                        format!("{a:?} is not an App Store id: expected digits only"),
                    );
                }
            }
            s.country = Some(country(r, tr).unwrap_or_else(|| "us".into()));
        }
        Preset::GoogleNews => s.country = country(r, tr),
        _ => {}
    }
    Some((s, base))
}

/// Reads a `kind = "json"` source's fields: the address template and `[sources.items]`.
pub(super) fn read_json(
    r: &mut FileReader<'_>,
    tr: &mut TableReader<'_>,
    i: usize,
) -> Option<(SearchSettings, Url)> {
    let template = tr.required_string(
        r,
        "url",
        "the API address, with {query} where the watch's query goes",
    )?;
    let probe = template.trim().replace("{query}", "q");
    let url = match Url::parse(&probe) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => u,
        _ => {
            r.error(
                tr.span("url"),
                tr.key_path("url"),
                format!("{template:?} is not an absolute http(s) address"),
            );
            return None;
        }
    };
    let watch = if template.contains("{query}") {
        tr.required_string(r, "watch", "the watch whose brands fill {query} in the url")
    } else {
        tr.string(r, "watch")
    };
    let mut s = common(r, tr, Preset::Hn, 5);
    s.preset = None;
    s.watch = watch;
    s.url_template = Some(template.trim().to_string());
    let Some(t) = tr.sub_table(r, "items") else {
        r.error(
            tr.table.span(),
            tr.key_path("items"),
            "missing: [sources.items] with path (JSONPath to the items) and url (to each item's address)",
        );
        return None;
    };
    let mut ir = r.table(&t, format!("sources[{i}].items"));
    fn path(
        ir: &mut TableReader<'_>,
        r: &mut FileReader<'_>,
        key: &'static str,
        required: bool,
    ) -> Option<String> {
        let v = if required {
            ir.required_string(r, key, "a JSONPath such as \"$.link\"")
        } else {
            ir.string(r, key)
        }?;
        match serde_json_path::JsonPath::parse(v.trim()) {
            Ok(_) => Some(v.trim().to_string()),
            Err(e) => {
                r.error(
                    ir.span(key),
                    ir.key_path(key),
                    format!("{v:?} is not a JSONPath (RFC 9535): {e}"),
                );
                None
            }
        }
    }
    let items = JsonItems {
        path: path(&mut ir, r, "path", true).unwrap_or_default(),
        url: path(&mut ir, r, "url", true).unwrap_or_default(),
        title: path(&mut ir, r, "title", false),
        text: path(&mut ir, r, "text", false),
        published: path(&mut ir, r, "published", false),
        author: path(&mut ir, r, "author", false),
        followers: path(&mut ir, r, "followers", false),
        next: path(&mut ir, r, "next", false),
    };
    ir.finish(r);
    if items.path.is_empty() || items.url.is_empty() {
        return None;
    }
    s.items = Some(items);
    Some((s, url))
}

/// `lookback`, `max_pages`, `max_items`.
fn common(
    r: &mut FileReader<'_>,
    tr: &mut TableReader<'_>,
    preset: Preset,
    max_pages: usize,
) -> SearchSettings {
    SearchSettings {
        preset: Some(preset),
        watch: None,
        hashtags: Vec::new(),
        apps: Vec::new(),
        country: None,
        lookback: tr
            .positive_duration(r, "lookback")
            .unwrap_or(DEFAULT_LOOKBACK),
        max_pages: tr
            .integer(r, "max_pages", 1, 100)
            .map(|n| n as usize)
            .unwrap_or(max_pages),
        max_items: tr
            .integer(r, "max_items", 1, 100_000)
            .map(|n| n as usize)
            .unwrap_or(DEFAULT_MAX_ITEMS),
        url_template: None,
        items: None,
    }
}

fn country(r: &mut FileReader<'_>, tr: &mut TableReader<'_>) -> Option<String> {
    let c = tr.string(r, "country")?;
    let c = c.trim().to_ascii_lowercase();
    if c.len() != 2 || !c.chars().all(|ch| ch.is_ascii_alphabetic()) {
        r.error(
            tr.span("country"),
            tr.key_path("country"),
            format!("{c:?} is not a country code: expected two letters such as \"fr\""),
        );
        return None;
    }
    Some(c)
}

/// `base_url`: scheme, host and port only; the preset adds the platform's path.
fn base_url(r: &mut FileReader<'_>, tr: &mut TableReader<'_>, b: &str) -> Option<Url> {
    match Url::parse(b.trim()) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
            if !u.path().trim_matches('/').is_empty() || u.query().is_some() {
                r.error(
                    tr.span("base_url"),
                    tr.key_path("base_url"),
                    format!("{b:?}: give scheme, host and port only (such as \"http://127.0.0.1:8080\"); the preset adds the platform's path"),
                );
                return None;
            }
            Some(u)
        }
        _ => {
            r.error(
                tr.span("base_url"),
                tr.key_path("base_url"),
                format!("{b:?} is not an absolute http(s) address"),
            );
            None
        }
    }
}
