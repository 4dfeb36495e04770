//! Polling query-driven sources: `kind = "search"` (a preset per platform) and
//! `kind = "json"` (any JSON API mapped with JSONPath).
//!
//! Each poll asks only for what is new. Where the platform has a cursor (HN `created_at_i`,
//! Mastodon `min_id`, GDELT `startdatetime`) the next poll starts from it, a few minutes
//! early for time cursors since platforms index late; everywhere, items already indexed are
//! skipped by their address (the seen documents of the state). The cursor is state sent
//! behind the items it covers ([`Msg::Stage`](super::Msg)), so it is committed with them: a
//! crash loses both or neither, and a restart indexes nothing twice.
//!
//! A cursor only moves when every page of the poll was read and every item handed over; a
//! poll cut short leaves it where it was, and the items it did hand over are skipped next
//! time as already seen.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use url::Url;

use super::client::{Policy, Request, Response, Via, ACCEPT_FEED};
use super::platform::{self, Answer, FormatError, Found};
use super::query;
use super::report::PassCounters;
use super::source::{Candidate, Crawler, Ctx, Msg, PollError};
use crate::config::{Preset, SearchSettings, Source};
use crate::extract::url::canonicalize;
use crate::state::Space;

/// How far before a time cursor later polls start: items indexed late by the platform
/// (within this long) are still found; those already seen are skipped.
pub const OVERLAP: Duration = Duration::from_secs(5 * 60);
/// Statuses asked per Mastodon page (the API's largest).
pub const MASTODON_LIMIT: usize = 40;
/// Hits asked per HN page.
pub const HN_HITS_PER_PAGE: usize = 100;
/// Articles asked per GDELT query (the API's largest).
pub const GDELT_MAX_RECORDS: usize = 250;
/// `Accept` for JSON APIs.
pub const ACCEPT_JSON: &str = "application/json, text/json;q=0.9, */*;q=0.5";

/// The state key of a source's cursor (`sub` names the query or tag it belongs to).
pub fn cursor_key(source: &str, sub: &str) -> String {
    format!("cursor/{source}/{sub}")
}

/// Polls one `search` or `json` source. `Ok` carries what was wrong with parts of the
/// answers (the source's health shows it); a failed request or an unreadable answer fails
/// the poll, after what was read before it has been handed over.
pub async fn poll(
    crawler: &Crawler,
    source: &Source,
    tx: &tokio::sync::mpsc::Sender<Msg>,
    pass: &PassCounters,
) -> Result<Vec<String>, PollError> {
    let Some(settings) = source.search.as_ref() else {
        return Err(PollError::Parse {
            url: source.url.to_string(),
            why: "not a search source".into(),
        });
    };
    // item pages (full_text) are fetched as any page; the API as its documentation says
    let ctx = Ctx::new(source, Policy::of(source), tx, pass);
    let mut api = Policy::of(source);
    api.robots = false;
    if let Some(p) = settings.preset {
        api.delay = api.delay.max(p.min_gap());
    }
    let mut run = Poll {
        crawler,
        api,
        ctx: &ctx,
        s: settings,
        problems: Vec::new(),
        taken: 0,
        complete: true,
        handed: HashSet::new(),
    };
    match settings.preset {
        Some(Preset::GoogleNews) => run.google_news().await?,
        Some(Preset::Gdelt) => run.gdelt().await?,
        Some(Preset::Reddit) => run.reddit().await?,
        Some(Preset::Hn) => run.hn().await?,
        Some(Preset::Mastodon) => run.mastodon().await?,
        Some(Preset::AppReviews) => run.app_reviews().await?,
        Some(Preset::Bluesky) => run.bluesky().await?,
        None => run.json().await?,
    }
    Ok(run.problems)
}

/// One poll of a search source.
struct Poll<'a> {
    crawler: &'a Crawler,
    /// The rules of the platform's API requests.
    api: Policy,
    ctx: &'a Ctx<'a>,
    s: &'a SearchSettings,
    problems: Vec<String>,
    /// Items handed over (or skipped as seen) so far, against `max_items`.
    taken: usize,
    /// Every page read and every item handed over: the cursor may move.
    complete: bool,
    /// Addresses handed over by this poll (pages and queries overlap).
    handed: HashSet<String>,
}

impl Poll<'_> {
    fn source(&self) -> &Source {
        self.ctx.source
    }

    /// The platform's address with `path` and the query parameters.
    fn endpoint(&self, path: &str, params: &[(&str, String)]) -> Url {
        let mut u = self.source().url.clone();
        u.set_path(path);
        u.set_query(None);
        if !params.is_empty() {
            u.query_pairs_mut()
                .extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())));
        }
        u
    }

    /// The earliest time a first poll reaches back to.
    fn since(&self) -> DateTime<Utc> {
        self.ctx.now - chrono::Duration::from_std(self.s.lookback).unwrap_or_default()
    }

    fn full(&self) -> bool {
        self.taken >= self.s.max_items
    }

    async fn get(&self, url: Url, accept: &'static str) -> Result<Response, PollError> {
        let resp = self
            .crawler
            .fetcher
            .fetch(
                Request {
                    url,
                    via: Via::Configured,
                    validators: None,
                    accept,
                },
                &self.api,
            )
            .await?;
        PassCounters::inc(&self.ctx.pass.fetched);
        if resp.truncated {
            self.ctx.pass.error("too-large");
            return Err(PollError::Parse {
                url: resp.url.to_string(),
                why: format!(
                    "the answer is larger than max_body ({} bytes) and was cut off; raise max_body in [defaults] or ask for fewer items",
                    self.crawler.fetcher.settings.max_body
                ),
            });
        }
        Ok(resp)
    }

    /// An answer read, its partial problems noted under `what`.
    fn read(
        &mut self,
        resp: &Response,
        what: &str,
        parsed: Result<Answer, FormatError>,
    ) -> Result<Answer, PollError> {
        match parsed {
            Ok(a) => {
                for p in &a.problems {
                    self.ctx.pass.error("bad-item");
                    tracing::warn!(source = %self.source().id, request = what, problem = %p, "part of the answer skipped");
                    self.problems.push(format!("{what}: {p}"));
                }
                Ok(a)
            }
            Err(e) => Err(PollError::Parse {
                url: resp.url.to_string(),
                why: e.to_string(),
            }),
        }
    }

    /// Hands the items to the pipeline (those older than the lookback and those beyond
    /// `max_items` left out). Gives how many were new.
    async fn hand(&mut self, items: Vec<Found>) -> Result<usize, PollError> {
        let since = self.since();
        let mut out = Vec::new();
        let mut fresh = 0;
        for f in items {
            if f.published.is_some_and(|p| p < since) {
                continue;
            }
            if self.full() {
                if !self.problems.iter().any(|p| p.starts_with("max_items")) {
                    self.problems.push(format!(
                        "max_items ({}) reached: the rest waits for the next poll",
                        self.s.max_items
                    ));
                }
                self.complete = false;
                break;
            }
            let Ok(url) = Url::parse(&f.url) else {
                continue;
            };
            self.taken += 1;
            let key = canonicalize(url.as_str());
            if !self.crawler.state.is_seen(&key) && self.handed.insert(key) {
                fresh += 1;
            }
            out.push(Candidate {
                url,
                title: f.title,
                text: f.text,
                published: f.published,
                author: f.author,
                followers: f.followers,
                rating: f.rating,
                lang: f.lang.or(self.source().lang),
                fetch_page: self.source().full_text,
            });
        }
        if !self.crawler.emit(self.ctx, out).await? {
            self.complete = false;
        }
        Ok(fresh)
    }

    fn cursor(&self, sub: &str) -> Option<i128> {
        self.crawler
            .state
            .get::<String>(Space::Meta, &cursor_key(&self.source().id, sub))
            .and_then(|v| v.parse().ok())
    }

    /// Moves a cursor forward (never back), behind the items it covers.
    async fn save_cursor(
        &mut self,
        sub: &str,
        old: Option<i128>,
        new: Option<i128>,
    ) -> Result<(), PollError> {
        if !self.complete {
            return Ok(());
        }
        let Some(new) = new else { return Ok(()) };
        if old.is_some_and(|o| new <= o) {
            return Ok(());
        }
        self.ctx
            .stage(
                Space::Meta,
                cursor_key(&self.source().id, sub),
                Some(serde_json::Value::String(new.to_string())),
            )
            .await
    }

    /// Notes an answer whose items all lie before the bound asked for.
    fn check_backwards(&mut self, what: &str, asked: Option<i128>, items: &[Found]) {
        let (Some(asked), false) = (asked, items.is_empty()) else {
            return;
        };
        if items.iter().all(|f| f.position.is_some_and(|p| p < asked)) {
            self.problems.push(format!(
                "{what}: the platform answered only items before the cursor asked for ({asked}); the cursor was kept and items already seen skipped"
            ));
        }
    }

    fn brands_terms_empty(&self) -> Result<(), PollError> {
        if self.source().brands.is_empty() {
            return Err(PollError::Parse {
                url: self.source().url.to_string(),
                why: "no brands to search for (set watch = \"NAME\" to a watch with brands)".into(),
            });
        }
        Ok(())
    }

    async fn google_news(&mut self) -> Result<(), PollError> {
        self.brands_terms_empty()?;
        let (hl, gl, ceid) = query::google_edition(self.source().lang, self.s.country.as_deref());
        let hours = (self.s.lookback.as_secs() / 3600).max(1);
        let when = if hours.is_multiple_of(24) {
            format!(" when:{}d", hours / 24)
        } else {
            format!(" when:{hours}h")
        };
        for q in query::google_news(&self.source().brands, query::MAX_QUERY_GOOGLE) {
            if self.full() {
                break;
            }
            let url = self.endpoint(
                "/rss/search",
                &[
                    ("q", format!("{q}{when}")),
                    ("hl", hl.clone()),
                    ("gl", gl.clone()),
                    ("ceid", ceid.clone()),
                ],
            );
            let resp = self.get(url, ACCEPT_FEED).await?;
            let base = resp.url.to_string();
            let a = self.read(
                &resp,
                "rss/search",
                platform::google_news(&resp.body, &base),
            )?;
            self.hand(a.items).await?;
        }
        Ok(())
    }

    async fn reddit(&mut self) -> Result<(), PollError> {
        self.brands_terms_empty()?;
        for q in query::or_queries(&self.source().brands, query::MAX_QUERY_REDDIT, false) {
            if self.full() {
                break;
            }
            let url = self.endpoint(
                "/search.rss",
                &[("q", q), ("sort", "new".into()), ("limit", "100".into())],
            );
            let resp = self.get(url, ACCEPT_FEED).await?;
            let base = resp.url.to_string();
            let a = self.read(&resp, "search.rss", platform::reddit(&resp.body, &base))?;
            self.hand(a.items).await?;
        }
        Ok(())
    }

    async fn gdelt(&mut self) -> Result<(), PollError> {
        self.brands_terms_empty()?;
        let old = self.cursor("seendate");
        let from = match old {
            Some(c) => c - OVERLAP.as_secs() as i128,
            None => self.since().timestamp() as i128,
        };
        let start = DateTime::from_timestamp(from as i64, 0)
            .unwrap_or(self.ctx.now)
            .format("%Y%m%d%H%M%S")
            .to_string();
        let lang = self
            .source()
            .lang
            .and_then(query::gdelt_language)
            .map(|l| format!(" sourcelang:{l}"))
            .unwrap_or_default();
        let mut newest = old;
        for q in query::or_queries(&self.source().brands, query::MAX_QUERY_GDELT, true) {
            if self.full() {
                break;
            }
            let url = self.endpoint(
                "/api/v2/doc/doc",
                &[
                    ("query", format!("{q}{lang}")),
                    ("mode", "artlist".into()),
                    ("format", "json".into()),
                    ("sort", "datedesc".into()),
                    ("maxrecords", GDELT_MAX_RECORDS.to_string()),
                    ("startdatetime", start.clone()),
                ],
            );
            let resp = self.get(url, ACCEPT_JSON).await?;
            let a = self.read(&resp, "doc", platform::gdelt(&resp.body))?;
            self.check_backwards("doc", Some(from), &a.items);
            newest = newest.max(a.items.iter().filter_map(|f| f.position).max());
            if a.items.len() >= GDELT_MAX_RECORDS {
                self.problems.push(format!(
                    "doc: {GDELT_MAX_RECORDS} articles, GDELT's most per query: older ones since {start} may be missing (poll more often)"
                ));
            }
            self.hand(a.items).await?;
        }
        self.save_cursor("seendate", old, newest).await
    }

    async fn hn(&mut self) -> Result<(), PollError> {
        self.brands_terms_empty()?;
        let old = self.cursor("created_at_i");
        let from = match old {
            Some(c) => c - OVERLAP.as_secs() as i128,
            None => self.since().timestamp() as i128,
        };
        let mut newest = old;
        'queries: for q in query::hn_queries(&self.source().brands) {
            for page in 0..self.s.max_pages {
                if self.full() {
                    break 'queries;
                }
                let mut params = vec![
                    ("query", q.clone()),
                    ("tags", "(story,comment)".to_string()),
                    ("numericFilters", format!("created_at_i>={from}")),
                    ("hitsPerPage", HN_HITS_PER_PAGE.to_string()),
                ];
                if page > 0 {
                    params.push(("page", page.to_string()));
                }
                let url = self.endpoint("/api/v1/search_by_date", &params);
                let resp = self.get(url, ACCEPT_JSON).await?;
                let what = format!("search_by_date {q:?} page {page}");
                let a = self.read(&resp, &what, platform::hn(&resp.body))?;
                self.check_backwards(&what, Some(from), &a.items);
                newest = newest.max(a.items.iter().filter_map(|f| f.position).max());
                let pages = a.pages.unwrap_or(1);
                self.hand(a.items).await?;
                if page + 1 >= pages {
                    continue 'queries;
                }
            }
            self.problems.push(format!(
                "search_by_date {q:?}: more than max_pages ({}) pages of new hits; the oldest were not read",
                self.s.max_pages
            ));
        }
        self.save_cursor("created_at_i", old, newest).await
    }

    async fn mastodon(&mut self) -> Result<(), PollError> {
        let tags = if self.s.hashtags.is_empty() {
            query::hashtags(&self.source().brands)
        } else {
            self.s.hashtags.clone()
        };
        for tag in tags {
            if self.full() {
                break;
            }
            let sub = format!("min_id/{}", tag.to_lowercase());
            let old = self.cursor(&sub);
            let mut newest = old;
            let path = format!("/api/v1/timelines/tag/{tag}");
            let mut min_id = old;
            let mut max_id: Option<i128> = None;
            for page in 0..self.s.max_pages {
                let mut params = vec![("limit", MASTODON_LIMIT.to_string())];
                if let Some(m) = min_id {
                    params.push(("min_id", m.to_string()));
                } else if let Some(m) = max_id {
                    params.push(("max_id", m.to_string()));
                }
                let url = self.endpoint(&path, &params);
                let resp = self.get(url, ACCEPT_JSON).await?;
                let what = format!("#{tag} page {page}");
                let a = self.read(&resp, &what, platform::mastodon(&resp.body))?;
                if let Some(m) = min_id {
                    self.check_backwards(&what, Some(m + 1), &a.items);
                }
                let n = a.items.len();
                let hi = a.items.iter().filter_map(|f| f.position).max();
                let lo = a.items.iter().filter_map(|f| f.position).min();
                let oldest = a.items.iter().filter_map(|f| f.published).min();
                newest = newest.max(hi);
                self.hand(a.items).await?;
                if n < MASTODON_LIMIT || self.full() {
                    break;
                }
                if min_id.is_some() {
                    // newer pages: from the newest of this one
                    if hi <= min_id {
                        break;
                    }
                    min_id = hi;
                } else {
                    // a first poll reaches back through older pages until the lookback
                    if oldest.is_some_and(|o| o < self.since()) || lo.is_none() {
                        break;
                    }
                    max_id = lo;
                }
                if page + 1 == self.s.max_pages {
                    self.problems.push(format!(
                        "#{tag}: more than max_pages ({}) pages of new statuses",
                        self.s.max_pages
                    ));
                }
            }
            self.save_cursor(&sub, old, newest).await?;
        }
        Ok(())
    }

    async fn app_reviews(&mut self) -> Result<(), PollError> {
        let country = self.s.country.clone().unwrap_or_else(|| "us".into());
        for app in self.s.apps.clone() {
            for page in 1..=self.s.max_pages {
                if self.full() {
                    return Ok(());
                }
                let path = format!(
                    "/{country}/rss/customerreviews/page={page}/id={app}/sortby=mostrecent/json"
                );
                let url = self.endpoint(&path, &[]);
                let resp = self.get(url, ACCEPT_JSON).await?;
                let what = format!("app {app} page {page}");
                let a = self.read(
                    &resp,
                    &what,
                    platform::app_reviews(&resp.body, &country, &app),
                )?;
                if a.items.is_empty() {
                    break;
                }
                let since = self.since();
                let older = a
                    .items
                    .iter()
                    .any(|f| f.published.is_some_and(|p| p < since));
                let fresh = self.hand(a.items).await?;
                // most recent first: a page with nothing new, or reaching past the lookback,
                // is the last one worth reading
                if fresh == 0 || older {
                    break;
                }
            }
        }
        Ok(())
    }

    async fn bluesky(&mut self) -> Result<(), PollError> {
        self.brands_terms_empty()?;
        let handle = std::env::var(BLUESKY_HANDLE_ENV).unwrap_or_default();
        let password = std::env::var(BLUESKY_PASSWORD_ENV).unwrap_or_default();
        if handle.trim().is_empty() || password.trim().is_empty() {
            return Err(PollError::Parse {
                url: self.source().url.to_string(),
                why: format!(
                    "Bluesky search needs an account: set {BLUESKY_HANDLE_ENV} and {BLUESKY_PASSWORD_ENV} (an app password) in the environment"
                ),
            });
        }
        let session = self.endpoint("/xrpc/com.atproto.server.createSession", &[]);
        let body = serde_json::json!({"identifier": handle.trim(), "password": password.trim()});
        let answer = self
            .crawler
            .fetcher
            .post_json(&session, &body, &self.api)
            .await?;
        let Some(token) = answer.get("accessJwt").and_then(|t| t.as_str()) else {
            return Err(PollError::Parse {
                url: session.to_string(),
                why: "no accessJwt in the session answer (wrong handle or app password?)".into(),
            });
        };
        let token = token.to_string();
        let old = self.cursor("indexedAt");
        let from = match old {
            Some(c) => c - OVERLAP.as_secs() as i128,
            None => self.since().timestamp() as i128,
        };
        let since = DateTime::from_timestamp(from as i64, 0)
            .unwrap_or(self.ctx.now)
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let mut newest = old;
        for q in query::or_queries(&self.source().brands, query::MAX_QUERY_JSON, false) {
            let mut cursor: Option<String> = None;
            for _ in 0..self.s.max_pages {
                if self.full() {
                    break;
                }
                let mut params = vec![
                    ("q", q.clone()),
                    ("sort", "latest".to_string()),
                    ("limit", "100".to_string()),
                    ("since", since.clone()),
                ];
                if let Some(l) = self.source().lang {
                    params.push(("lang", l.code().to_string()));
                }
                if let Some(c) = &cursor {
                    params.push(("cursor", c.clone()));
                }
                let url = self.endpoint("/xrpc/app.bsky.feed.searchPosts", &params);
                let resp = self
                    .crawler
                    .fetcher
                    .get_with_bearer(&url, &token, ACCEPT_JSON, &self.api)
                    .await?;
                PassCounters::inc(&self.ctx.pass.fetched);
                let a = self.read(&resp, "searchPosts", platform::bluesky(&resp.body))?;
                newest = newest.max(a.items.iter().filter_map(|f| f.position).max());
                cursor = a.next.clone();
                // newest first: a page with nothing new ends the query
                if self.hand(a.items).await? == 0 || cursor.is_none() {
                    break;
                }
            }
        }
        self.save_cursor("indexedAt", old, newest).await
    }

    async fn json(&mut self) -> Result<(), PollError> {
        let template = self.s.url_template.clone().unwrap_or_default();
        let Some(map) = self.s.items.clone() else {
            return Err(PollError::Parse {
                url: template,
                why: "no [sources.items] mapping".into(),
            });
        };
        let queries = if template.contains("{query}") {
            self.brands_terms_empty()?;
            query::or_queries(&self.source().brands, query::MAX_QUERY_JSON, false)
        } else {
            vec![String::new()]
        };
        let old = self.cursor("published");
        let from = match old {
            Some(c) => c - OVERLAP.as_secs() as i128,
            None => self.since().timestamp() as i128,
        };
        let since = DateTime::from_timestamp(from as i64, 0).unwrap_or(self.ctx.now);
        let encode =
            |s: &str| -> String { url::form_urlencoded::byte_serialize(s.as_bytes()).collect() };
        let mut newest = old;
        for q in queries {
            let raw = template
                .replace("{query}", &encode(&q))
                .replace(
                    "{since}",
                    &encode(&since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                )
                .replace("{since_unix}", &since.timestamp().to_string());
            let mut url = Url::parse(&raw).map_err(|e| PollError::Parse {
                url: raw.clone(),
                why: e.to_string(),
            })?;
            for page in 0..self.s.max_pages {
                if self.full() {
                    break;
                }
                let resp = self.get(url, ACCEPT_JSON).await?;
                let base = resp.url.clone();
                let what = if page == 0 {
                    "items".to_string()
                } else {
                    format!("items page {}", page + 1)
                };
                let a = self.read(&resp, &what, platform::json_items(&resp.body, &map, &base))?;
                newest = newest.max(a.items.iter().filter_map(|f| f.position).max());
                let next = a.next.clone();
                // a page with nothing new ends the paging
                if self.hand(a.items).await? == 0 {
                    break;
                }
                // the next page is asked only of the API's own origin
                match next.and_then(|n| base.join(n.trim()).ok()) {
                    Some(n) if n != base && n.origin() == self.source().url.origin() => url = n,
                    _ => break,
                }
            }
        }
        self.save_cursor("published", old, newest).await
    }
}

/// The Bluesky account's handle, from the environment (never the sources file).
pub const BLUESKY_HANDLE_ENV: &str = "VIGIE_BLUESKY_HANDLE";
/// Its app password.
pub const BLUESKY_PASSWORD_ENV: &str = "VIGIE_BLUESKY_APP_PASSWORD";
