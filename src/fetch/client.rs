//! The HTTP side of the crawler: one [`Fetcher`] per run, shared by every source.
//!
//! Each request goes through, in order: the address check (private ranges, for addresses
//! found in content), robots.txt of its origin, a slot of its host (concurrency cap), the
//! host's turn (per-host delay, robots `Crawl-delay`, Retry-After pauses), a slot of the
//! global cap, then the request itself under the source's timeout, with a bounded body.
//! Redirects are followed by hand, so that every hop goes through the same checks.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::{
    HeaderMap, ACCEPT, CONNECTION, CONTENT_TYPE, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH,
    LAST_MODIFIED, LOCATION, RETRY_AFTER,
};
use tokio::sync::Semaphore;
use tokio::time::Instant;
use url::{Host as UrlHost, Url};

use super::error::FetchError;
use super::guard::{is_private_ip, literal_private, private_in_chain, GuardedResolver};
use super::host::Hosts;
use super::retry::{backoff, parse_retry_after};
use super::robots::{robots_url, RobotsCache, Rules, Stored, MAX_ROBOTS_BYTES};
use crate::config::{Defaults, Source};
use crate::state::{Space, State, Validators};

/// The User-Agent sent when none is configured.
pub const DEFAULT_USER_AGENT: &str = crate::agent::USER_AGENT;

/// `Accept` for feeds (HTML last: a site's home page may announce its feed).
pub const ACCEPT_FEED: &str = "application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml;q=0.9, application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, text/html;q=0.5, */*;q=0.3";
/// `Accept` for pages.
pub const ACCEPT_HTML: &str = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5";
/// `Accept` for sitemaps.
pub const ACCEPT_XML: &str = "application/xml, text/xml;q=0.9, */*;q=0.5";

/// The User-Agent for a configured value: kept when it names vigie, completed otherwise.
pub fn user_agent(configured: Option<&str>) -> String {
    match configured.map(str::trim).filter(|s| !s.is_empty()) {
        Some(ua) if ua.to_ascii_lowercase().contains("vigie") => ua.to_string(),
        Some(ua) => format!("{ua} vigie/{}", env!("CARGO_PKG_VERSION")),
        None => DEFAULT_USER_AGENT.to_string(),
    }
}

/// How the fetcher behaves; [`FetchSettings::from_defaults`] reads `[defaults]`.
#[derive(Debug, Clone)]
pub struct FetchSettings {
    pub user_agent: String,
    /// Requests in flight over all hosts.
    pub concurrency: usize,
    /// Requests in flight to one host.
    pub per_host_concurrency: usize,
    /// Largest body read; longer ones are cut off (and said so).
    pub max_body: u64,
    /// Redirects followed before giving up.
    pub max_redirects: usize,
    /// Retries of a transient failure (connection error, 5xx, 429/503) within one fetch.
    pub retries: u32,
    /// First backoff; doubled at each retry, with jitter.
    pub backoff_base: Duration,
    /// Longest Retry-After waited for within a pass; longer ones end the fetch and put the
    /// next poll of the source after it.
    pub max_retry_after: Duration,
    /// How long a request given up on keeps its host slot while the server may still be
    /// working on it.
    pub linger: Duration,
    /// Largest robots.txt `Crawl-delay` honoured as is (larger ones are cut to this).
    pub max_crawl_delay: Duration,
    /// Time allowed to open a connection.
    pub connect_timeout: Duration,
}

impl FetchSettings {
    pub fn from_defaults(d: &Defaults) -> Self {
        FetchSettings {
            user_agent: user_agent(d.user_agent.as_deref()),
            concurrency: d.concurrency.max(1),
            per_host_concurrency: d.per_host_concurrency.max(1),
            max_body: d.max_body,
            max_redirects: 5,
            retries: 2,
            backoff_base: Duration::from_millis(500),
            max_retry_after: Duration::from_secs(60),
            linger: Duration::from_secs(60),
            max_crawl_delay: Duration::from_secs(60),
            connect_timeout: d.timeout.min(Duration::from_secs(10)),
        }
    }
}

/// The per-source part of a request's rules.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    /// Whole request, connection included.
    pub timeout: Duration,
    /// Pause between two request starts on one host (raised by `Crawl-delay`).
    pub delay: Duration,
    /// Fetch loopback/private addresses found in content.
    pub allow_private: bool,
    /// Read robots.txt first. A platform's documented search API is asked as its
    /// documentation says, not crawled: its robots.txt (written for crawlers) is not read.
    pub robots: bool,
}

impl Policy {
    pub fn of(s: &Source) -> Policy {
        Policy {
            timeout: s.timeout,
            delay: s.per_host_delay,
            allow_private: s.allow_private,
            robots: true,
        }
    }
}

/// Where an address came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// Written in `sources.toml`: fetched as configured.
    Configured,
    /// Found in content (item links, discovered feeds, child sitemaps).
    Discovered,
}

/// One thing to fetch.
#[derive(Debug, Clone)]
pub struct Request {
    pub url: Url,
    pub via: Via,
    /// Sent back as If-None-Match / If-Modified-Since.
    pub validators: Option<Validators>,
    pub accept: &'static str,
}

/// A usable answer.
#[derive(Debug, Clone)]
pub struct Response {
    /// The address after redirects.
    pub url: Url,
    pub status: u16,
    /// 304: nothing changed since the validators sent.
    pub not_modified: bool,
    pub body: Vec<u8>,
    /// The body was longer than `max_body` and was cut off.
    pub truncated: bool,
    pub content_type: Option<String>,
    /// ETag and Last-Modified of this answer (for the next conditional request).
    pub validators: Validators,
    /// Every redirect on the way was permanent (301/308): the address has moved.
    pub moved_permanently: bool,
}

/// Counters over the whole run.
#[derive(Debug, Default)]
pub struct Counters {
    /// Requests sent (retries and robots.txt included).
    pub requests: AtomicU64,
    /// robots.txt requests.
    pub robots: AtomicU64,
    /// Body bytes read.
    pub bytes: AtomicU64,
}

/// One HTTP exchange, before its status is judged.
struct Raw {
    status: u16,
    body: Vec<u8>,
    truncated: bool,
    content_type: Option<String>,
    validators: Validators,
    location: Option<String>,
    retry_after: Option<Duration>,
}

/// How long a name's private-or-not verdict is kept.
const NAME_TTL: Duration = Duration::from_secs(300);

/// The crawler's HTTP client, politeness and robots cache.
pub struct Fetcher {
    pub settings: FetchSettings,
    open: reqwest::Client,
    guarded: reqwest::Client,
    hosts: Hosts,
    global: Arc<Semaphore>,
    robots: RobotsCache,
    names: Mutex<HashMap<String, (bool, Instant)>>,
    /// Where robots.txt answers are kept between runs.
    state: Option<Arc<State>>,
    pub counters: Counters,
    /// Every request sent and how it ended, when asked for (`vigie sources test`).
    log: Mutex<Option<Vec<String>>>,
}

impl Fetcher {
    pub fn new(settings: FetchSettings) -> Result<Fetcher, FetchError> {
        let build = |guarded: bool| {
            let mut b = reqwest::Client::builder()
                .user_agent(settings.user_agent.clone())
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(settings.connect_timeout)
                .pool_max_idle_per_host(settings.per_host_concurrency)
                .pool_idle_timeout(Duration::from_secs(30))
                .tcp_nodelay(true)
                .gzip(true)
                .brotli(true)
                .deflate(true);
            if guarded {
                b = b.dns_resolver(Arc::new(GuardedResolver));
            }
            b.build().map_err(|e| FetchError::Other {
                url: String::new(),
                why: format!("cannot build the HTTP client: {e}"),
            })
        };
        Ok(Fetcher {
            open: build(false)?,
            guarded: build(true)?,
            hosts: Hosts::new(settings.per_host_concurrency),
            global: Arc::new(Semaphore::new(settings.concurrency)),
            robots: RobotsCache::default(),
            names: Mutex::new(HashMap::new()),
            state: None,
            counters: Counters::default(),
            log: Mutex::new(None),
            settings,
        })
    }

    /// Keeps robots.txt answers in `state` (staged, committed with the next commit), and
    /// reads them back for a day.
    pub fn remember_in(mut self, state: Arc<State>) -> Fetcher {
        self.state = Some(state);
        self
    }

    /// Keeps a line for every request sent (see [`Fetcher::take_log`]).
    pub fn logging_requests(self) -> Fetcher {
        *self.log.lock().expect("log lock") = Some(Vec::new());
        self
    }

    /// The requests logged so far, one line each (`GET url -> 200`).
    pub fn take_log(&self) -> Vec<String> {
        self.log
            .lock()
            .expect("log lock")
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// POSTs a JSON body and reads a JSON answer (logging in to an API), with the host's
    /// politeness and the policy's timeout; no retries.
    pub async fn post_json(
        &self,
        url: &Url,
        body: &serde_json::Value,
        policy: &Policy,
    ) -> Result<serde_json::Value, FetchError> {
        let rb = self
            .open
            .post(url.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "application/json")
            .body(serde_json::to_vec(body).expect("JSON values serialise"));
        let (status, bytes) = self.send_plain(url, rb, policy).await?;
        if !(200..300).contains(&status) {
            return Err(FetchError::Status {
                url: url.to_string(),
                status,
            });
        }
        serde_json::from_slice(&bytes).map_err(|e| FetchError::Other {
            url: url.to_string(),
            why: format!("the answer is not JSON: {e}"),
        })
    }

    /// GETs an API address with a bearer token, with the host's politeness and the policy's
    /// timeout; no retries.
    pub async fn get_with_bearer(
        &self,
        url: &Url,
        token: &str,
        accept: &str,
        policy: &Policy,
    ) -> Result<Response, FetchError> {
        let rb = self
            .open
            .get(url.clone())
            .header(ACCEPT, accept)
            .bearer_auth(token);
        let (status, body) = self.send_plain(url, rb, policy).await?;
        if status == 429 {
            return Err(FetchError::RateLimited {
                url: url.to_string(),
                status,
                retry_after: None,
            });
        }
        if !(200..300).contains(&status) {
            return Err(FetchError::Status {
                url: url.to_string(),
                status,
            });
        }
        let truncated = body.len() as u64 >= self.settings.max_body;
        Ok(Response {
            url: url.clone(),
            status,
            not_modified: false,
            body,
            truncated,
            content_type: None,
            validators: Validators::default(),
            moved_permanently: false,
        })
    }

    async fn send_plain(
        &self,
        url: &Url,
        rb: reqwest::RequestBuilder,
        policy: &Policy,
    ) -> Result<(u16, Vec<u8>), FetchError> {
        let host = self.hosts.get(url.host_str().unwrap_or_default());
        host.wait_turn(policy.delay, self.settings.max_retry_after)
            .await
            .map_err(|left| FetchError::RateLimited {
                url: url.to_string(),
                status: 429,
                retry_after: Some(left),
            })?;
        self.counters.requests.fetch_add(1, Ordering::Relaxed);
        let result = async {
            let resp = rb.timeout(policy.timeout).send().await?;
            let status = resp.status().as_u16();
            let bytes = resp.bytes().await?;
            Ok::<_, reqwest::Error>((status, bytes))
        }
        .await;
        let (status, bytes) = result.map_err(|e| FetchError::Connect {
            url: url.to_string(),
            why: e.to_string(),
        })?;
        let mut body = bytes.to_vec();
        body.truncate(self.settings.max_body as usize);
        if let Some(log) = self.log.lock().expect("log lock").as_mut() {
            log.push(format!("{url} -> {status} ({} bytes)", body.len()));
        }
        Ok((status, body))
    }

    /// Requests sent so far.
    pub fn requests(&self) -> u64 {
        self.counters.requests.load(Ordering::Relaxed)
    }

    /// Fetches one address: private-address check, robots.txt, politeness, conditional
    /// request, retries, redirects. `Ok` is a 2xx (or a 304 when validators were sent).
    pub async fn fetch(&self, req: Request, policy: &Policy) -> Result<Response, FetchError> {
        let first = req.url.clone();
        let mut url = req.url;
        let mut moved_permanently = true;
        for _hop in 0..=self.settings.max_redirects {
            if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
                return Err(FetchError::Scheme {
                    url: url.to_string(),
                });
            }
            // configured addresses, and redirects that stay on their origin, are fetched as
            // configured; everything else is checked
            let as_configured = req.via == Via::Configured && url.origin() == first.origin();
            let guarded = !(policy.allow_private || as_configured);
            if guarded {
                if let Some(why) = self.private_reason(&url).await {
                    return Err(FetchError::Private {
                        url: url.to_string(),
                        why,
                    });
                }
            }
            let rules = if policy.robots {
                self.robots_for(&url, policy, guarded).await
            } else {
                Arc::new(Rules::AllowAll)
            };
            if let Rules::Unreachable(why) = &*rules {
                return Err(FetchError::RobotsUnreachable {
                    url: url.to_string(),
                    why: why.clone(),
                });
            }
            if !rules.allowed(&url) {
                return Err(FetchError::Disallowed {
                    url: url.to_string(),
                });
            }
            let delay = rules
                .crawl_delay()
                .map(|d| d.min(self.settings.max_crawl_delay))
                .unwrap_or_default()
                .max(policy.delay);
            let raw = self
                .request(
                    &url,
                    req.accept,
                    req.validators.as_ref(),
                    policy,
                    delay,
                    guarded,
                    self.settings.max_body,
                )
                .await?;
            if (300..400).contains(&raw.status) && raw.status != 304 {
                let Some(next) = raw
                    .location
                    .as_deref()
                    .and_then(|l| url.join(l.trim()).ok())
                else {
                    return Err(FetchError::BadRedirect {
                        url: url.to_string(),
                        location: raw.location.unwrap_or_default(),
                    });
                };
                if !matches!(raw.status, 301 | 308) {
                    moved_permanently = false;
                }
                tracing::debug!(from = %url, to = %next, status = raw.status, "redirect");
                url = next;
                continue;
            }
            return Ok(Response {
                moved_permanently: moved_permanently && url != first,
                url,
                status: raw.status,
                not_modified: raw.status == 304,
                body: raw.body,
                truncated: raw.truncated,
                content_type: raw.content_type,
                validators: raw.validators,
            });
        }
        Err(FetchError::TooManyRedirects {
            url: first.to_string(),
            max: self.settings.max_redirects,
        })
    }

    /// Why an address must not be fetched from content, if it must not: a private literal,
    /// or a name that resolves only to private addresses.
    async fn private_reason(&self, url: &Url) -> Option<String> {
        if let Some(why) = literal_private(url) {
            return Some(why);
        }
        let Some(UrlHost::Domain(name)) = url.host() else {
            return None;
        };
        let name = name.to_ascii_lowercase();
        if let Some((private, at)) = self.names.lock().expect("names lock").get(&name) {
            if at.elapsed() < NAME_TTL {
                return private.then(|| name.clone());
            }
        }
        // a failed lookup is not a verdict: the request itself will fail and say why
        let addrs: Vec<std::net::IpAddr> = match tokio::net::lookup_host((name.as_str(), 0)).await {
            Ok(a) => a.map(|a| a.ip()).collect(),
            Err(_) => return None,
        };
        let private = !addrs.is_empty() && addrs.iter().all(|ip| is_private_ip(*ip));
        self.names
            .lock()
            .expect("names lock")
            .insert(name.clone(), (private, Instant::now()));
        private.then_some(name)
    }

    /// The robots.txt rules of `url`'s origin, fetched once per origin (and day).
    async fn robots_for(&self, url: &Url, policy: &Policy, guarded: bool) -> Arc<Rules> {
        if url.path() == "/robots.txt" {
            return Arc::new(Rules::AllowAll);
        }
        self.robots
            .get_or_fetch(url, || async {
                let now = chrono::Utc::now().timestamp();
                let key = Stored::key(url);
                if let Some(state) = &self.state {
                    if let Some(fresh) = state
                        .get::<Stored>(Space::Meta, &key)
                        .and_then(|s| s.rules(now))
                    {
                        return fresh;
                    }
                }
                let (rules, body) = self.read_robots(url, policy, guarded).await;
                if let (Some(state), false) = (&self.state, matches!(rules, Rules::Unreachable(_)))
                {
                    state.put(Space::Meta, &key, &Stored { at: now, body });
                }
                let ttl = rules.ttl();
                (rules, ttl)
            })
            .await
    }

    /// Asks for robots.txt (following up to five redirects): the rules, and the file when
    /// there was one.
    async fn read_robots(
        &self,
        url: &Url,
        policy: &Policy,
        guarded: bool,
    ) -> (Rules, Option<String>) {
        let Some(mut at) = robots_url(url) else {
            return (Rules::AllowAll, None);
        };
        for _ in 0..=self.settings.max_redirects {
            self.counters.robots.fetch_add(1, Ordering::Relaxed);
            let r = self
                .request(
                    &at,
                    "text/plain, */*;q=0.5",
                    None,
                    policy,
                    policy.delay,
                    guarded,
                    MAX_ROBOTS_BYTES,
                )
                .await;
            match r {
                Ok(raw) if (200..300).contains(&raw.status) => {
                    let body = String::from_utf8_lossy(&raw.body).into_owned();
                    return (Rules::parse(body.as_bytes()), Some(body));
                }
                Ok(raw) if (300..400).contains(&raw.status) => {
                    match raw.location.as_deref().and_then(|l| at.join(l.trim()).ok()) {
                        Some(next)
                            if matches!(next.scheme(), "http" | "https")
                                && !(guarded && literal_private(&next).is_some()) =>
                        {
                            at = next
                        }
                        _ => return (Rules::AllowAll, None),
                    }
                }
                Ok(_) => return (Rules::AllowAll, None),
                Err(FetchError::Status { status, .. }) if status < 500 => {
                    return (Rules::AllowAll, None)
                }
                Err(e) => {
                    tracing::warn!(url = %at, error = %e, "robots.txt unreachable; the host is skipped for now");
                    return (Rules::Unreachable(short_reason(&e)), None);
                }
            }
        }
        // RFC 9309: too many redirects means no robots.txt
        (Rules::AllowAll, None)
    }

    /// One request with its retries (no redirects followed). 2xx, 3xx and 304 are `Ok`;
    /// 4xx and 5xx (after retries) are errors.
    #[allow(clippy::too_many_arguments)]
    async fn request(
        &self,
        url: &Url,
        accept: &str,
        validators: Option<&Validators>,
        policy: &Policy,
        delay: Duration,
        guarded: bool,
        max_body: u64,
    ) -> Result<Raw, FetchError> {
        let host = self.hosts.get(url.host_str().unwrap_or_default());
        let client = if guarded { &self.guarded } else { &self.open };
        let mut attempt = 0u32;
        loop {
            let paused = |left: Duration| {
                let status = host.paused_for().map_or(429, |(_, s)| s);
                FetchError::RateLimited {
                    url: url.to_string(),
                    status,
                    retry_after: Some(left),
                }
            };
            // a host that asked for more than a pass waits gets nothing until then
            if let Some((left, _)) = host.paused_for() {
                if left > self.settings.max_retry_after {
                    return Err(paused(left));
                }
            }
            let slot = host.acquire().await.map_err(|_| FetchError::Unresponsive {
                url: url.to_string(),
                host: host.name.clone(),
            })?;
            host.wait_turn(delay, self.settings.max_retry_after)
                .await
                .map_err(paused)?;
            let global = self
                .global
                .acquire()
                .await
                .expect("the global semaphore is never closed");
            self.counters.requests.fetch_add(1, Ordering::Relaxed);
            tracing::trace!(%url, attempt, "request");
            let result = self
                .send_once(
                    client,
                    url,
                    accept,
                    validators,
                    policy.timeout,
                    max_body,
                    slot,
                )
                .await;
            drop(global);
            if result.is_ok() {
                host.answered();
            }
            if let Some(log) = self.log.lock().expect("log lock").as_mut() {
                log.push(match &result {
                    Ok(raw) => format!("GET {url} -> {} ({} bytes)", raw.status, raw.body.len()),
                    Err(e) => format!("GET {url} -> {e}"),
                });
            }
            let retries_left = attempt < self.settings.retries;
            let wait = match &result {
                Ok(raw)
                    if raw.status == 429 || (raw.status == 503 && raw.retry_after.is_some()) =>
                {
                    match raw.retry_after {
                        Some(d) if d <= self.settings.max_retry_after && retries_left => {
                            // the whole host is asked to slow down, not just this address
                            host.pause_until(Instant::now() + d, raw.status);
                            tracing::info!(%url, status = raw.status, retry_after = d.as_secs_f32(), "rate-limited; waiting as asked");
                            Duration::ZERO
                        }
                        Some(d) => {
                            host.pause_until(Instant::now() + d, raw.status);
                            return Err(FetchError::RateLimited {
                                url: url.to_string(),
                                status: raw.status,
                                retry_after: Some(d),
                            });
                        }
                        None if retries_left => backoff(self.settings.backoff_base, attempt + 1)
                            .max(Duration::from_secs(1)),
                        None => {
                            return Err(FetchError::RateLimited {
                                url: url.to_string(),
                                status: raw.status,
                                retry_after: None,
                            })
                        }
                    }
                }
                Ok(raw) if matches!(raw.status, 408 | 500 | 502 | 503 | 504) && retries_left => {
                    backoff(self.settings.backoff_base, attempt + 1)
                }
                Ok(raw) if raw.status >= 400 => {
                    return Err(FetchError::Status {
                        url: url.to_string(),
                        status: raw.status,
                    })
                }
                Ok(_) => return result,
                Err(FetchError::Connect { .. } | FetchError::Body { .. }) if retries_left => {
                    backoff(self.settings.backoff_base, attempt + 1)
                }
                Err(_) => return result,
            };
            attempt += 1;
            tracing::debug!(%url, attempt, wait_ms = wait.as_millis() as u64, "retrying");
            tokio::time::sleep(wait).await;
        }
    }

    /// Sends one request and reads its body, under `timeout`. A request that times out
    /// keeps its host slot while it lingers (see [`super::host`]).
    #[allow(clippy::too_many_arguments)]
    async fn send_once(
        &self,
        client: &reqwest::Client,
        url: &Url,
        accept: &str,
        validators: Option<&Validators>,
        timeout: Duration,
        max_body: u64,
        slot: super::host::Slot,
    ) -> Result<Raw, FetchError> {
        let mut rb = client.get(url.clone()).header(ACCEPT, accept);
        if url.scheme() == "http" {
            // A plain-HTTP connection costs one round trip to open, while a reused one can
            // stall for the peer's delayed ACK (~40 ms) on servers that write headers and
            // body separately without TCP_NODELAY. HTTPS connections, dearer to open, are
            // kept and reused.
            rb = rb.header(CONNECTION, "close");
        }
        if let Some(v) = validators {
            if let Some(etag) = v.etag.as_deref() {
                rb = rb.header(IF_NONE_MATCH, etag);
            }
            if let Some(lm) = v.last_modified.as_deref() {
                rb = rb.header(IF_MODIFIED_SINCE, lm);
            }
        }
        let request = rb.build().map_err(|e| FetchError::Other {
            url: url.to_string(),
            why: e.to_string(),
        })?;
        let client = client.clone();
        let mut task = tokio::spawn(async move {
            let mut resp = client.execute(request).await?;
            let status = resp.status().as_u16();
            let headers = resp.headers();
            let text = |h: &HeaderMap, k| {
                h.get(k)
                    .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                    .map(str::to_string)
            };
            let mut raw = Raw {
                status,
                body: Vec::new(),
                truncated: false,
                content_type: text(headers, CONTENT_TYPE),
                validators: Validators {
                    etag: text(headers, ETAG),
                    last_modified: text(headers, LAST_MODIFIED),
                },
                location: text(headers, LOCATION),
                retry_after: text(headers, RETRY_AFTER)
                    .and_then(|v| parse_retry_after(&v, chrono::Utc::now())),
            };
            if (200..300).contains(&status) {
                if let Some(len) = resp.content_length() {
                    raw.body.reserve(len.min(max_body) as usize);
                }
                while let Some(chunk) = resp.chunk().await? {
                    let room = (max_body as usize).saturating_sub(raw.body.len());
                    if chunk.len() > room {
                        raw.body.extend_from_slice(&chunk[..room]);
                        raw.truncated = true;
                        break;
                    }
                    raw.body.extend_from_slice(&chunk);
                }
            }
            Ok::<Raw, reqwest::Error>(raw)
        });
        match tokio::time::timeout(timeout, &mut task).await {
            Ok(Ok(Ok(raw))) => {
                self.counters
                    .bytes
                    .fetch_add(raw.body.len() as u64, Ordering::Relaxed);
                drop(slot);
                Ok(raw)
            }
            Ok(Ok(Err(e))) => Err(map_error(url, e)),
            Ok(Err(join)) => Err(FetchError::Other {
                url: url.to_string(),
                why: format!("request task failed: {join}"),
            }),
            Err(_) => {
                slot.linger(task, self.settings.linger);
                Err(FetchError::Timeout {
                    url: url.to_string(),
                    after: timeout,
                })
            }
        }
    }
}

fn map_error(url: &Url, e: reqwest::Error) -> FetchError {
    let url_s = url.to_string();
    if let Some(host) = private_in_chain(&e) {
        return FetchError::Private {
            url: url_s,
            why: host,
        };
    }
    let why = root_cause(&e);
    if e.is_connect() {
        FetchError::Connect { url: url_s, why }
    } else if e.is_timeout() {
        FetchError::Timeout {
            url: url_s,
            after: Duration::ZERO,
        }
    } else if e.is_body() || e.is_decode() || e.is_request() {
        FetchError::Body { url: url_s, why }
    } else {
        FetchError::Other { url: url_s, why }
    }
}

/// The innermost message of an error chain ("connection refused"), which says more than
/// the outer ones.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// A short reason for a robots.txt verdict.
fn short_reason(e: &FetchError) -> String {
    match e {
        FetchError::Timeout { after, .. } => format!("no answer within {}s", after.as_secs_f32()),
        FetchError::Connect { why, .. } => format!("cannot connect: {why}"),
        FetchError::Status { status, .. } => format!("HTTP {status}"),
        FetchError::RateLimited { status, .. } => format!("HTTP {status}"),
        FetchError::Unresponsive { .. } => "host not answering".into(),
        FetchError::Private { why, .. } => format!("{why} is private"),
        other => other.kind().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agent_always_names_vigie() {
        assert!(user_agent(None).starts_with("vigie/"));
        assert!(user_agent(None).contains("+https://"));
        assert_eq!(
            user_agent(Some("vigie-acme (+https://acme.example/veille)")),
            "vigie-acme (+https://acme.example/veille)"
        );
        assert!(user_agent(Some("AcmeWatch/1.0")).starts_with("AcmeWatch/1.0 vigie/"));
    }
}
