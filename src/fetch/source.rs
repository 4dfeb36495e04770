//! Polling one source: its list (feed, page or sitemap) fetched conditionally, its new items
//! handed to the pipeline (with their pages when `full_text = true`), then its validators.
//!
//! Validators travel through the pipeline behind the items of their response
//! ([`Msg::Stage`]), so they are staged only once those items have been indexed, and
//! committed with them: a crash never leaves validators saved for items that were not. When
//! some items could not be handed over (their page failed for a transient reason, or the
//! per-poll budget ran out), the validators are not kept at all, so the next poll reads the
//! list again and picks those items up; items already indexed are skipped without a request.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use futures_util::stream::{self, StreamExt};
use tokio::sync::mpsc::Sender;
use url::Url;

use super::client::{
    Fetcher, Policy, Request, Response, Via, ACCEPT_FEED, ACCEPT_HTML, ACCEPT_XML,
};
use super::error::FetchError;
use super::html::{article_links, discover_feed, is_html, select_items, PageItem};
use super::report::PassCounters;
use super::sitemap::{maybe_gunzip, parse_sitemap, Sitemap};
use crate::analyze::lang::Lang;
use crate::config::{Source, SourceKind};
use crate::doc::Document;
use crate::extract::decode_html;
use crate::extract::feed::{looks_like_feed, parse_feed};
use crate::extract::url::canonicalize;
use crate::pipeline::Incoming;
use crate::state::{Space, State, Validators};

/// Item pages fetched in one poll of one source at most; the rest wait for the next poll.
pub const MAX_PAGES_PER_POLL: usize = 500;
/// Item pages of one source requested at once (the host caps still apply).
pub const ITEM_PARALLELISM: usize = 8;
/// Child sitemaps of an index read in one poll at most (most recent first).
pub const MAX_CHILD_SITEMAPS: usize = 50;
/// Item keys remembered as taken by a poll of this run (beyond, the list starts over).
const MAX_CLAIMED: usize = 1_000_000;

/// What the crawler sends into the pipeline.
#[derive(Debug)]
pub enum Msg {
    /// A document to transform and index, and the pass (its id) it belongs to.
    Doc(Incoming, u64),
    /// State to stage once everything sent before it has been accepted (`None` deletes).
    Stage {
        space: Space,
        key: String,
        value: Option<serde_json::Value>,
    },
    /// The end of a pass: commit, summarise, run the post-pass work.
    PassEnd(Arc<PassCounters>),
    /// Time passes: commit if one is due.
    Tick,
}

/// Why a poll failed.
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("{url}: {why}")]
    Parse { url: String, why: String },
    /// The pipeline is gone (shutdown or a failed commit).
    #[error("the pipeline stopped")]
    Closed,
}

impl PollError {
    pub fn kind(&self) -> &'static str {
        match self {
            PollError::Fetch(e) => e.kind(),
            PollError::Parse { .. } => "parse",
            PollError::Closed => "stopped",
        }
    }
}

/// The crawler's shared parts: the fetcher, the state, and the items taken by a poll.
pub struct Crawler {
    pub fetcher: Fetcher,
    pub state: Arc<State>,
    claimed: Mutex<HashSet<String>>,
}

/// One poll under way.
pub struct Ctx<'a> {
    pub source: &'a Source,
    pub policy: Policy,
    pub tx: &'a Sender<Msg>,
    pub pass: &'a PassCounters,
    pub now: DateTime<Utc>,
    page_budget: AtomicUsize,
}

impl<'a> Ctx<'a> {
    pub fn new(
        source: &'a Source,
        policy: Policy,
        tx: &'a Sender<Msg>,
        pass: &'a PassCounters,
    ) -> Self {
        Ctx {
            source,
            policy,
            tx,
            pass,
            now: Utc::now(),
            page_budget: AtomicUsize::new(MAX_PAGES_PER_POLL),
        }
    }

    /// Stages state behind everything sent so far (committed with those documents).
    pub async fn stage(
        &self,
        space: Space,
        key: String,
        value: Option<serde_json::Value>,
    ) -> Result<(), PollError> {
        self.tx
            .send(Msg::Stage { space, key, value })
            .await
            .map_err(closed)
    }
}

/// An item of a list, before the pipeline.
pub struct Candidate {
    pub url: Url,
    pub title: String,
    pub text: String,
    pub published: Option<DateTime<Utc>>,
    pub author: Option<String>,
    pub followers: Option<u64>,
    pub rating: Option<u8>,
    pub lang: Option<Lang>,
    pub fetch_page: bool,
}

fn closed<T>(_: T) -> PollError {
    PollError::Closed
}

impl Crawler {
    pub fn new(fetcher: Fetcher, state: Arc<State>) -> Self {
        Crawler {
            fetcher,
            state,
            claimed: Mutex::new(HashSet::new()),
        }
    }

    /// Polls one source, sending its new documents into `tx`.
    pub async fn poll(
        &self,
        source: &Source,
        tx: &Sender<Msg>,
        pass: &PassCounters,
    ) -> Result<(), PollError> {
        let ctx = Ctx::new(source, Policy::of(source), tx, pass);
        let accept = match source.kind {
            SourceKind::Feed => ACCEPT_FEED,
            SourceKind::Page => ACCEPT_HTML,
            SourceKind::Sitemap => ACCEPT_XML,
            SourceKind::Search | SourceKind::Json => {
                return Err(PollError::Parse {
                    url: source.url.to_string(),
                    why: "a search source is polled by fetch::search".into(),
                })
            }
        };
        let Some(resp) = self
            .fetch_list(&ctx, source.url.clone(), Via::Configured, accept)
            .await?
        else {
            return Ok(());
        };
        if resp.moved_permanently {
            tracing::info!(source = %source.id, from = %source.url, to = %resp.url, "moved permanently; update the url in the sources file");
        }
        match source.kind {
            SourceKind::Feed => self.feed(&ctx, resp).await,
            SourceKind::Page => self.page(&ctx, resp).await,
            SourceKind::Sitemap => self.sitemap(&ctx, resp).await,
            SourceKind::Search | SourceKind::Json => Ok(()),
        }
    }

    /// Fetches a list (feed, page, sitemap) with its validators; `None` when unchanged.
    async fn fetch_list(
        &self,
        ctx: &Ctx<'_>,
        url: Url,
        via: Via,
        accept: &'static str,
    ) -> Result<Option<Response>, FetchError> {
        let validators = self
            .state
            .get::<Validators>(Space::Validators, url.as_str());
        let resp = self
            .fetcher
            .fetch(
                Request {
                    url,
                    via,
                    validators,
                    accept,
                },
                &ctx.policy,
            )
            .await?;
        if resp.not_modified {
            PassCounters::inc(&ctx.pass.not_modified);
            return Ok(None);
        }
        PassCounters::inc(&ctx.pass.fetched);
        if resp.truncated {
            ctx.pass.error("too-large");
            tracing::warn!(source = %ctx.source.id, url = %resp.url, max_body = self.fetcher.settings.max_body, "body cut off at max_body");
        }
        Ok(Some(resp))
    }

    async fn feed(&self, ctx: &Ctx<'_>, resp: Response) -> Result<(), PollError> {
        let ct = resp.content_type.as_deref();
        if !looks_like_feed(&resp.body) && is_html(ct, &resp.body) {
            // a site's page instead of its feed: follow the feed it announces
            let html = decode_html(&resp.body, ct);
            if let Some(feed_url) = discover_feed(&html, &resp.url) {
                if feed_url != ctx.source.url {
                    tracing::info!(source = %ctx.source.id, page = %ctx.source.url, feed = %feed_url, "the address is a page announcing a feed; reading the feed (write its address in the sources file to save a request)");
                    if let Some(r) = self
                        .fetch_list(ctx, feed_url.clone(), Via::Discovered, ACCEPT_FEED)
                        .await?
                    {
                        self.feed_items(ctx, r, &feed_url).await?;
                    }
                    return Ok(());
                }
            }
            return Err(PollError::Parse {
                url: resp.url.to_string(),
                why: "an HTML page that announces no feed (watch it with kind = \"page\")".into(),
            });
        }
        let key = ctx.source.url.clone();
        self.feed_items(ctx, resp, &key).await
    }

    /// The items of a feed body; `key` is the address its validators are kept under.
    async fn feed_items(&self, ctx: &Ctx<'_>, resp: Response, key: &Url) -> Result<(), PollError> {
        let feed =
            parse_feed(&resp.body, Some(resp.url.as_str())).map_err(|e| PollError::Parse {
                url: resp.url.to_string(),
                why: e.to_string(),
            })?;
        let lang = ctx
            .source
            .lang
            .or_else(|| feed.lang.as_deref().and_then(Lang::from_code));
        let mut candidates = Vec::with_capacity(feed.items.len());
        let mut linkless = 0usize;
        for it in feed.items {
            let Some(url) = it
                .url
                .as_deref()
                .and_then(|u| resp.url.join(u.trim()).ok())
                .filter(|u| matches!(u.scheme(), "http" | "https"))
            else {
                linkless += 1;
                continue;
            };
            candidates.push(Candidate {
                url,
                title: it.title,
                text: it.text,
                published: it.published,
                author: it.author,
                followers: None,
                rating: None,
                lang,
                fetch_page: ctx.source.full_text,
            });
        }
        if linkless > 0 {
            tracing::debug!(source = %ctx.source.id, linkless, "items without a link skipped");
        }
        let emitted = self.emit(ctx, candidates).await?;
        if resp.truncated {
            // what could be read is in; the source still fails until max_body is raised, and
            // keeps no validators so the next poll reads it whole
            return Err(PollError::Parse {
                url: resp.url.to_string(),
                why: format!(
                    "the feed is larger than max_body ({} bytes) and was cut off; raise max_body",
                    self.fetcher.settings.max_body
                ),
            });
        }
        if emitted {
            self.stage_validators(ctx, key, &resp.validators).await?;
        }
        Ok(())
    }

    /// The items listed on a page (by selectors or as article links); the page's validators
    /// are kept once they are all through.
    async fn page_items(
        &self,
        ctx: &Ctx<'_>,
        items: Vec<PageItem>,
        key: &Url,
        resp: &Response,
    ) -> Result<(), PollError> {
        let candidates = items
            .into_iter()
            .map(|i| Candidate {
                url: i.url,
                title: i.title,
                text: i.text,
                published: i.published,
                author: None,
                followers: None,
                rating: None,
                lang: ctx.source.lang,
                fetch_page: ctx.source.full_text,
            })
            .collect();
        if self.emit(ctx, candidates).await? {
            self.stage_validators(ctx, key, &resp.validators).await?;
        }
        Ok(())
    }

    async fn page(&self, ctx: &Ctx<'_>, resp: Response) -> Result<(), PollError> {
        let ct = resp.content_type.as_deref();
        let key = ctx.source.url.clone();
        if !is_html(ct, &resp.body) {
            if looks_like_feed(&resp.body) {
                return self.feed_items(ctx, resp, &key).await;
            }
            return Err(PollError::Parse {
                url: resp.url.to_string(),
                why: format!(
                    "not an HTML page (Content-Type {})",
                    ct.unwrap_or("missing")
                ),
            });
        }
        let html = decode_html(&resp.body, ct);
        let sel = &ctx.source.selectors;
        if sel.item.is_some() {
            let items = select_items(&html, &resp.url, sel);
            if items.is_empty() {
                tracing::warn!(source = %ctx.source.id, selector = sel.item.as_deref().unwrap_or_default(), "the item selector matched nothing with a link");
            }
            return self.page_items(ctx, items, &key, &resp).await;
        }
        if let Some(feed_url) = discover_feed(&html, &resp.url) {
            // the page's validators are not kept: it is read each time to follow its feed
            if let Some(r) = self
                .fetch_list(ctx, feed_url.clone(), Via::Discovered, ACCEPT_FEED)
                .await?
            {
                self.feed_items(ctx, r, &feed_url).await?;
            }
            return Ok(());
        }
        let links = article_links(&html, &resp.url);
        if !links.is_empty() {
            return self.page_items(ctx, links, &key, &resp).await;
        }
        // no items: the page itself is the document, read again whenever it changes
        let inc = Incoming {
            doc: Document {
                url: key.to_string(),
                title: String::new(),
                text: String::new(),
                published: None,
                fetched: ctx.now,
                source: ctx.source.id.clone(),
                author: None,
                followers: None,
                rating: None,
                lang_hint: ctx.source.lang,
            },
            html: Some(html),
            tags: ctx.source.tags.clone(),
            origin: key.to_string(),
        };
        ctx.tx
            .send(Msg::Doc(inc, ctx.pass.id))
            .await
            .map_err(closed)?;
        PassCounters::inc(&ctx.pass.items);
        self.stage_validators(ctx, &key, &resp.validators).await
    }

    async fn sitemap(&self, ctx: &Ctx<'_>, resp: Response) -> Result<(), PollError> {
        let key = ctx.source.url.clone();
        match self.read_sitemap(&resp)? {
            Sitemap::Urls(entries) => {
                if self.sitemap_urls(ctx, entries).await? {
                    self.stage_validators(ctx, &key, &resp.validators).await?;
                }
            }
            Sitemap::Index(mut children) => {
                children.sort_by_key(|c| std::cmp::Reverse(c.lastmod.clone()));
                if children.len() > MAX_CHILD_SITEMAPS {
                    tracing::info!(source = %ctx.source.id, children = children.len(), read = MAX_CHILD_SITEMAPS, "large sitemap index: the most recent child sitemaps are read");
                    children.truncate(MAX_CHILD_SITEMAPS);
                }
                let mut complete = true;
                for child in children {
                    let Some(url) = resp
                        .url
                        .join(child.loc.trim())
                        .ok()
                        .filter(|u| matches!(u.scheme(), "http" | "https"))
                    else {
                        continue;
                    };
                    let lastmod_key = format!("sitemap/{url}");
                    if child.lastmod.is_some()
                        && self.state.get::<String>(Space::Meta, &lastmod_key) == child.lastmod
                    {
                        continue;
                    }
                    let done = match self
                        .fetch_list(ctx, url.clone(), Via::Discovered, ACCEPT_XML)
                        .await
                    {
                        Ok(None) => true,
                        Ok(Some(r)) => match self.read_sitemap(&r) {
                            Ok(Sitemap::Urls(entries)) => {
                                let all = self.sitemap_urls(ctx, entries).await?;
                                if all {
                                    self.stage_validators(ctx, &url, &r.validators).await?;
                                }
                                all
                            }
                            Ok(Sitemap::Index(_)) => {
                                tracing::warn!(source = %ctx.source.id, url = %url, "a sitemap index inside a sitemap index is not followed");
                                true
                            }
                            Err(e) => {
                                ctx.pass.error(e.kind());
                                tracing::warn!(source = %ctx.source.id, error = %e, "child sitemap skipped");
                                false
                            }
                        },
                        Err(e) => {
                            if matches!(e, FetchError::Disallowed { .. }) {
                                PassCounters::inc(&ctx.pass.disallowed);
                            } else {
                                ctx.pass.error(e.kind());
                                tracing::warn!(source = %ctx.source.id, error = %e, "child sitemap not read");
                            }
                            !e.is_transient()
                        }
                    };
                    if done {
                        if let Some(lm) = child.lastmod {
                            ctx.tx
                                .send(Msg::Stage {
                                    space: Space::Meta,
                                    key: lastmod_key,
                                    value: Some(serde_json::Value::String(lm)),
                                })
                                .await
                                .map_err(closed)?;
                        }
                    } else {
                        complete = false;
                    }
                }
                if complete {
                    self.stage_validators(ctx, &key, &resp.validators).await?;
                }
            }
        }
        Ok(())
    }

    fn read_sitemap(&self, resp: &Response) -> Result<Sitemap, PollError> {
        let parse_error = |why: String| PollError::Parse {
            url: resp.url.to_string(),
            why,
        };
        let body = maybe_gunzip(resp.body.clone(), self.fetcher.settings.max_body)
            .map_err(|e| parse_error(e.to_string()))?;
        parse_sitemap(&body).map_err(|e| parse_error(e.to_string()))
    }

    /// The pages of a sitemap, most recent first; their text is on their page, so pages
    /// are always fetched.
    async fn sitemap_urls(
        &self,
        ctx: &Ctx<'_>,
        mut entries: Vec<super::sitemap::Entry>,
    ) -> Result<bool, PollError> {
        entries.sort_by_key(|e| std::cmp::Reverse(e.published));
        let candidates = entries
            .into_iter()
            .filter_map(|e| {
                let url = Url::parse(e.loc.trim())
                    .ok()
                    .filter(|u| matches!(u.scheme(), "http" | "https"))?;
                Some(Candidate {
                    url,
                    title: e.title.unwrap_or_default(),
                    text: String::new(),
                    published: e.published,
                    author: None,
                    followers: None,
                    rating: None,
                    lang: ctx
                        .source
                        .lang
                        .or_else(|| e.lang.as_deref().and_then(Lang::from_code)),
                    fetch_page: true,
                })
            })
            .collect();
        self.emit(ctx, candidates).await
    }

    /// Hands the new items to the pipeline, fetching their pages when asked. `Ok(true)`
    /// when every new item was handed over.
    pub async fn emit(&self, ctx: &Ctx<'_>, candidates: Vec<Candidate>) -> Result<bool, PollError> {
        let mut complete = true;
        let mut fresh = Vec::new();
        for c in candidates {
            let key = canonicalize(c.url.as_str());
            if self.state.is_seen(&key) {
                PassCounters::inc(&ctx.pass.seen);
                continue;
            }
            if !self.claim(&key) {
                // another poll of this run has it
                continue;
            }
            if c.fetch_page {
                let left = ctx.page_budget.load(Ordering::Relaxed);
                if left == 0 {
                    self.unclaim(&key);
                    PassCounters::inc(&ctx.pass.deferred);
                    complete = false;
                    continue;
                }
                ctx.page_budget.store(left - 1, Ordering::Relaxed);
            }
            fresh.push((key, c));
        }
        let mut results = stream::iter(fresh)
            .map(|(key, c)| async move {
                let page = if c.fetch_page {
                    Some(self.fetch_page(ctx, &c.url).await)
                } else {
                    None
                };
                (key, c, page)
            })
            .buffered(ITEM_PARALLELISM);
        while let Some((key, c, page)) = results.next().await {
            let html = match page {
                None => None,
                Some(Ok(html)) => {
                    PassCounters::inc(&ctx.pass.pages);
                    Some(html)
                }
                Some(Err(e)) => {
                    if matches!(e, FetchError::Disallowed { .. }) {
                        PassCounters::inc(&ctx.pass.disallowed);
                    } else {
                        ctx.pass.error(e.kind());
                    }
                    if e.is_transient() {
                        tracing::debug!(source = %ctx.source.id, error = %e, "page left for the next poll");
                        self.unclaim(&key);
                        PassCounters::inc(&ctx.pass.deferred);
                        complete = false;
                        continue;
                    }
                    tracing::debug!(source = %ctx.source.id, error = %e, "page not read; the item is indexed from its list");
                    if c.title.trim().is_empty() && c.text.trim().is_empty() {
                        continue;
                    }
                    None
                }
            };
            let inc = self.incoming(ctx, c, html);
            ctx.tx
                .send(Msg::Doc(inc, ctx.pass.id))
                .await
                .map_err(closed)?;
            PassCounters::inc(&ctx.pass.items);
        }
        Ok(complete)
    }

    /// An item's page, decoded (header, BOM, meta or sniffing).
    async fn fetch_page(&self, ctx: &Ctx<'_>, url: &Url) -> Result<String, FetchError> {
        let resp = self
            .fetcher
            .fetch(
                Request {
                    url: url.clone(),
                    via: Via::Discovered,
                    validators: None,
                    accept: ACCEPT_HTML,
                },
                &ctx.policy,
            )
            .await?;
        let ct = resp.content_type.as_deref();
        if !is_html(ct, &resp.body) {
            return Err(FetchError::Unsupported {
                url: resp.url.to_string(),
                expected: "an HTML page",
                content_type: ct.unwrap_or("missing").to_string(),
            });
        }
        Ok(decode_html(&resp.body, ct))
    }

    fn incoming(&self, ctx: &Ctx<'_>, c: Candidate, html: Option<String>) -> Incoming {
        let origin = c.url.to_string();
        Incoming {
            doc: Document {
                url: c.url.to_string(),
                title: c.title,
                // the summary stays: the page's main text replaces it when extraction finds more
                text: c.text,
                published: c.published,
                fetched: ctx.now,
                source: ctx.source.id.clone(),
                author: c.author,
                followers: c.followers,
                rating: c.rating,
                lang_hint: c.lang,
            },
            html,
            tags: ctx.source.tags.clone(),
            origin,
        }
    }

    /// Sends the validators of a list behind its items.
    async fn stage_validators(
        &self,
        ctx: &Ctx<'_>,
        key: &Url,
        v: &Validators,
    ) -> Result<(), PollError> {
        let value = if v.etag.is_some() || v.last_modified.is_some() {
            Some(serde_json::to_value(v).expect("validators serialise"))
        } else if self
            .state
            .get::<Validators>(Space::Validators, key.as_str())
            .is_some()
        {
            None
        } else {
            return Ok(());
        };
        ctx.tx
            .send(Msg::Stage {
                space: Space::Validators,
                key: key.to_string(),
                value,
            })
            .await
            .map_err(closed)
    }

    /// Takes an item for this poll; `false` when another poll of the run has it.
    fn claim(&self, key: &str) -> bool {
        let mut c = self.claimed.lock().expect("claimed lock");
        if c.len() >= MAX_CLAIMED {
            c.clear();
        }
        c.insert(key.to_string())
    }

    /// Forgets every item taken by the polls of this process (their documents did not reach
    /// the pipeline: the next polls take them again).
    pub fn forget_claims(&self) {
        self.claimed.lock().expect("claimed lock").clear();
    }

    fn unclaim(&self, key: &str) {
        self.claimed.lock().expect("claimed lock").remove(key);
    }
}
