//! robots.txt (RFC 9309), cached per origin (scheme, host, port).
//!
//! - 2xx: the rules for the `vigie` product token (or `*`), with `Crawl-delay`.
//! - 4xx other than 429: no robots.txt, everything is allowed.
//! - 429, 5xx, timeouts, connection errors: unreachable. RFC 9309 asks crawlers to assume
//!   complete disallow, which is also the polite answer to a server in trouble; the verdict
//!   is cached for a short while and asked again later.
//!
//! A verdict is cached for a day at most (RFC 9309 §2.4), unreachable ones for
//! [`UNREACHABLE_TTL`]. One request per origin at a time: sources waiting for the same
//! robots.txt wait for the same answer. Verdicts read from an answer are also kept in the
//! state ([`Stored`]), so that runs started by the hour (`vigie run --once` from cron) ask
//! each host for its robots.txt once a day, not once a run.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;
use url::Url;

/// Product token matched against `User-agent` lines.
pub const ROBOTS_AGENT: &str = "vigie";
/// How long a fetched robots.txt is trusted.
pub const ROBOTS_TTL: Duration = Duration::from_secs(24 * 3600);
/// How long an unreachable robots.txt blocks its host before it is asked again.
pub const UNREACHABLE_TTL: Duration = Duration::from_secs(5 * 60);
/// Largest robots.txt read (RFC 9309 asks for at least 500 KiB).
pub const MAX_ROBOTS_BYTES: u64 = 512 * 1024;

/// What a host's robots.txt says.
pub enum Rules {
    /// No robots.txt (4xx): everything allowed.
    AllowAll,
    /// The rules for vigie.
    Parsed(texting_robots::Robot),
    /// robots.txt could not be read: nothing may be fetched for now.
    Unreachable(String),
}

impl std::fmt::Debug for Rules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rules::AllowAll => f.write_str("AllowAll"),
            Rules::Parsed(r) => write!(f, "Parsed(delay: {:?})", r.delay),
            Rules::Unreachable(w) => write!(f, "Unreachable({w})"),
        }
    }
}

impl Rules {
    /// Rules from a robots.txt body (a body that cannot be parsed allows everything, as
    /// RFC 9309 asks for unparseable lines).
    pub fn parse(body: &[u8]) -> Rules {
        match texting_robots::Robot::new(ROBOTS_AGENT, body) {
            Ok(r) => Rules::Parsed(r),
            Err(_) => Rules::AllowAll,
        }
    }

    pub fn allowed(&self, url: &Url) -> bool {
        match self {
            Rules::AllowAll => true,
            Rules::Parsed(r) => r.allowed(url.as_str()),
            Rules::Unreachable(_) => url.path() == "/robots.txt",
        }
    }

    /// `Crawl-delay`, when one is given.
    pub fn crawl_delay(&self) -> Option<Duration> {
        match self {
            Rules::Parsed(r) => r
                .delay
                .filter(|d| d.is_finite() && *d > 0.0)
                .map(|d| Duration::from_secs_f32(d.min(86_400.0))),
            _ => None,
        }
    }

    /// How long a fresh verdict is trusted.
    pub fn ttl(&self) -> Duration {
        match self {
            Rules::Unreachable(_) => UNREACHABLE_TTL,
            _ => ROBOTS_TTL,
        }
    }
}

/// A robots.txt answer as kept in the state (`Space::Meta`, `robots/ORIGIN`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Stored {
    /// When it was read, seconds since the epoch.
    pub at: i64,
    /// The file; `None` when there was none (4xx: everything allowed).
    pub body: Option<String>,
}

impl Stored {
    /// The state key of an origin's robots.txt.
    pub fn key(url: &Url) -> String {
        format!("robots/{}", origin(url))
    }

    /// The rules, and how long they remain valid at `now`; `None` once a day old.
    pub fn rules(&self, now: i64) -> Option<(Rules, Duration)> {
        let age = Duration::from_secs(now.saturating_sub(self.at).max(0) as u64);
        let left = ROBOTS_TTL.checked_sub(age).filter(|d| !d.is_zero())?;
        let rules = match &self.body {
            Some(b) => Rules::parse(b.as_bytes()),
            None => Rules::AllowAll,
        };
        Some((rules, left))
    }
}

/// The origin of a URL, the key of its robots.txt: `http://example.org:8080`.
pub fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// The robots.txt address of a URL's origin.
pub fn robots_url(url: &Url) -> Option<Url> {
    let mut u = url.clone();
    u.set_path("/robots.txt");
    u.set_query(None);
    u.set_fragment(None);
    let _ = u.set_username("");
    let _ = u.set_password(None);
    Some(u)
}

struct Entry {
    rules: Arc<Rules>,
    expires: Instant,
}

/// Verdicts by origin.
#[derive(Default)]
pub struct RobotsCache {
    map: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<Entry>>>>>,
}

impl RobotsCache {
    /// The cached verdict for `url`'s origin, or the result of `fetch` with how long it is
    /// valid (run by one caller at a time per origin; the others wait and share it).
    pub async fn get_or_fetch<F, Fut>(&self, url: &Url, fetch: F) -> Arc<Rules>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = (Rules, Duration)>,
    {
        let cell = self
            .map
            .lock()
            .expect("robots lock")
            .entry(origin(url))
            .or_default()
            .clone();
        let mut slot = cell.lock().await;
        if let Some(e) = slot.as_ref() {
            if e.expires > Instant::now() {
                return e.rules.clone();
            }
        }
        let (rules, ttl) = fetch().await;
        let rules = Arc::new(rules);
        *slot = Some(Entry {
            expires: Instant::now() + ttl,
            rules: rules.clone(),
        });
        rules
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_for_vigie_and_everyone() {
        let u = |s: &str| Url::parse(s).unwrap();
        let r = Rules::parse(
            b"User-agent: *\nDisallow: /private/\nCrawl-delay: 2\n\nUser-agent: OtherBot\nDisallow: /\n",
        );
        assert!(!r.allowed(&u("http://h.example/private/feed.xml")));
        assert!(r.allowed(&u("http://h.example/feeds/1.xml")));
        assert_eq!(r.crawl_delay(), Some(Duration::from_secs(2)));
        let r = Rules::parse(b"User-agent: vigie\nDisallow: /\n\nUser-agent: *\nAllow: /\n");
        assert!(!r.allowed(&u("http://h.example/a")));
        assert!(r.allowed(&u("http://h.example/robots.txt")));
        let r = Rules::Unreachable("timeout".into());
        assert!(!r.allowed(&u("http://h.example/a")));
        assert!(Rules::AllowAll.allowed(&u("http://h.example/a")));
        assert_eq!(
            robots_url(&u("http://user:pw@h.example:81/a/b?c#d"))
                .unwrap()
                .as_str(),
            "http://h.example:81/robots.txt"
        );
        assert_eq!(origin(&u("HTTP://H.example:80/x")), "http://h.example");
    }

    #[tokio::test(start_paused = true)]
    async fn one_fetch_per_origin_until_it_expires() {
        let cache = RobotsCache::default();
        let u = Url::parse("http://h.example/a").unwrap();
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let fetch = || async {
            calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            (Rules::Unreachable("down".into()), UNREACHABLE_TTL)
        };
        let (a, b) = tokio::join!(cache.get_or_fetch(&u, fetch), cache.get_or_fetch(&u, fetch));
        assert!(matches!(*a, Rules::Unreachable(_)) && matches!(*b, Rules::Unreachable(_)));
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
        tokio::time::sleep(UNREACHABLE_TTL + Duration::from_secs(1)).await;
        cache.get_or_fetch(&u, fetch).await;
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 2);
    }

    #[test]
    fn stored_answers_last_a_day() {
        let u = Url::parse("http://h.example/a/b").unwrap();
        assert_eq!(Stored::key(&u), "robots/http://h.example");
        let s = Stored {
            at: 1000,
            body: Some("User-agent: *\nDisallow: /a/\n".into()),
        };
        let (rules, left) = s.rules(1000 + 3600).unwrap();
        assert!(!rules.allowed(&u));
        assert_eq!(left, ROBOTS_TTL - Duration::from_secs(3600));
        assert!(s.rules(1000 + 86_400).is_none());
        let none = Stored {
            at: 1000,
            body: None,
        };
        assert!(none.rules(1001).unwrap().0.allowed(&u));
    }
}
