//! The crawler against loopback servers: politeness, robots.txt, conditional GET, retries,
//! timeouts, private addresses, feed/page/sitemap sources, the schedule and the command.

mod server;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use server::{article, rss, Reply, Server};
use vigie::analyze::query::Query;
use vigie::config::Config;
use vigie::data::DataDir;
use vigie::index::search::{Filters, Reader};
use vigie::index::StoredDoc;
use vigie::run::{crawl, RunOptions, RunReport};

/// A sources file, pipelines and data directory in a temporary folder.
struct Env {
    _dir: tempfile::TempDir,
    root: PathBuf,
    data: DataDir,
}

impl Env {
    fn new(sources_toml: &str) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        std::fs::create_dir_all(root.join("pipelines")).unwrap();
        std::fs::write(root.join("pipelines/w.toml"), "name = \"w\"\n").unwrap();
        std::fs::write(root.join("sources.toml"), sources_toml).unwrap();
        Env {
            data: DataDir::new(root.join("data")),
            _dir: dir,
            root,
        }
    }

    fn sources(&self) -> PathBuf {
        self.root.join("sources.toml")
    }

    fn config(&self) -> Arc<Config> {
        Arc::new(Config::load(&self.sources(), &self.root.join("pipelines"), true).unwrap())
    }

    fn once(&self) -> RunReport {
        crawl(self.config(), &self.data, &RunOptions::new(true), || {
            std::future::pending::<()>()
        })
        .unwrap()
    }

    fn docs(&self) -> Vec<StoredDoc> {
        let r = Reader::open(&self.data).unwrap();
        r.search_query(&Query::All, &Filters::default(), 1_000_000)
            .unwrap()
            .into_iter()
            .map(|h| h.doc)
            .collect()
    }

    fn doc(&self, url: &str) -> StoredDoc {
        self.docs()
            .into_iter()
            .find(|d| d.url == url)
            .unwrap_or_else(|| panic!("{url} is not indexed"))
    }
}

fn defaults(extra: &str) -> String {
    format!("[defaults]\nallow_private = true\nper_host_concurrency = 2\nper_host_delay = \"0s\"\ntimeout = \"2s\"\n{extra}\n")
}

fn source(id: &str, kind: &str, url: &str, extra: &str) -> String {
    format!("\n[[sources]]\nid = \"{id}\"\nkind = \"{kind}\"\nurl = \"{url}\"\n{extra}\n")
}

/// `http://host:port` of the server a request reached.
fn base(req: &server::Req) -> String {
    format!("http://{}", req.header("host").unwrap_or("?"))
}

fn robots(body: &'static str) -> Reply {
    Reply::ok("text/plain", body)
}

fn etag_of(body: &str) -> String {
    format!(
        "\"{:x}\"",
        body.len() * 31 + body.bytes().map(|b| b as usize).sum::<usize>()
    )
}

/// Serves a feed with an ETag, answering 304 to a matching If-None-Match.
fn conditional(req: &server::Req, body: String, ctype: &str) -> Reply {
    let etag = etag_of(&body);
    if req.header("if-none-match") == Some(etag.as_str()) {
        return Reply::new(304).header("ETag", &etag);
    }
    Reply::ok(ctype, body).header("ETag", &etag)
}

/// A small loopback web: two hosts, feeds with items, full-text articles on the first
/// host, and a disallowed feed, a rate-limited feed, a silent feed and a broken one on the
/// second.
struct Web {
    a: Server,
    b: Server,
    feeds_per_host: usize,
}

impl Web {
    fn start(feeds_per_host: usize, items: usize) -> Web {
        let mk = |ip: &'static str, full: bool| {
            let limited = Arc::new(AtomicUsize::new(0));
            Server::start(ip, move |req| {
                let p = req.path.as_str();
                let host = req.header("host").unwrap_or("?").to_string();
                if p == "/robots.txt" {
                    return robots("User-agent: *\nDisallow: /private/\n");
                }
                if let Some(n) = p
                    .strip_prefix("/feeds/")
                    .and_then(|r| r.strip_suffix(".xml"))
                {
                    let items: Vec<(String, String, String)> = (0..items)
                        .map(|m| {
                            (
                                format!("http://{host}/articles/{ip}-{n}-{m}.html"),
                                format!("Titre {n}-{m}"),
                                format!("Résumé {ip} {n}-{m} : réseau fibre panne"),
                            )
                        })
                        .collect();
                    return conditional(
                        req,
                        rss(&format!("Flux {n}"), &items),
                        "application/rss+xml",
                    );
                }
                if let Some(name) = p
                    .strip_prefix("/articles/")
                    .and_then(|r| r.strip_suffix(".html"))
                {
                    if !full {
                        return Reply::not_found();
                    }
                    return Reply::ok(
                        "text/html; charset=utf-8",
                        article(
                            &format!("Titre {name}"),
                            &[
                                &format!("Article {name} : le réseau est en panne."),
                                "Deuxième paragraphe, avec assez de texte pour être le contenu principal.",
                            ],
                        ),
                    );
                }
                match p {
                    "/private/feed.xml" => Reply::ok("application/rss+xml", rss("x", &[])),
                    "/limited/feed.xml" => {
                        if limited.fetch_add(1, Ordering::SeqCst) == 0 {
                            Reply::new(429).header("Retry-After", "1").body("slow down")
                        } else {
                            let items = vec![(
                                format!("http://{host}/limited/item-1"),
                                "Limité".to_string(),
                                "Un article limité".to_string(),
                            )];
                            Reply::ok("application/rss+xml", rss("limited", &items))
                        }
                    }
                    "/slow/feed.xml" => Reply::ok("application/rss+xml", rss("slow", &[]))
                        .delay(Duration::from_secs(6)),
                    "/broken/feed.xml" => Reply::ok(
                        "application/rss+xml",
                        b"<?xml version='1.0'?><rss><channel><title>cass\xc3".to_vec(),
                    ),
                    _ => Reply::not_found(),
                }
            })
        };
        Web {
            a: mk("127.0.0.1", true),
            b: mk("127.0.0.2", false),
            feeds_per_host,
        }
    }

    fn sources(&self, timeout: &str) -> String {
        let mut s = defaults("").replace("timeout = \"2s\"", &format!("timeout = \"{timeout}\""));
        for n in 0..self.feeds_per_host {
            s += &source(
                &format!("a-{n}"),
                "feed",
                &self.a.url(&format!("/feeds/{n}.xml")),
                "full_text = true\ntags = [\"a\"]",
            );
            s += &source(
                &format!("b-{n}"),
                "feed",
                &self.b.url(&format!("/feeds/{n}.xml")),
                "",
            );
        }
        for name in ["limited", "slow", "broken", "private"] {
            s += &source(name, "feed", &self.b.url(&format!("/{name}/feed.xml")), "");
        }
        s
    }
}

#[test]
fn one_pass_indexes_every_item_once_politely_then_the_next_is_conditional() {
    let web = Web::start(12, 6);
    let env = Env::new(&web.sources("1500ms"));
    let t0 = Instant::now();
    let report = env.once();
    let took = t0.elapsed();
    let pass = &report.passes[0];

    // every good item exactly once: 2 hosts × 12 feeds × 6 items, and the rate-limited one
    let docs = env.docs();
    let urls: Vec<&str> = docs.iter().map(|d| d.url.as_str()).collect();
    let distinct: HashSet<&str> = urls.iter().copied().collect();
    assert_eq!(urls.len(), distinct.len(), "duplicates in the index");
    assert_eq!(distinct.len(), 2 * 12 * 6 + 1);
    assert_eq!(pass.documents.added as usize, 2 * 12 * 6 + 1);

    // robots.txt: fetched once per host, the disallowed feed never requested
    for s in [&web.a, &web.b] {
        assert_eq!(s.hits_to("/robots.txt").len(), 1);
        assert!(
            s.hits_to("/private/").is_empty(),
            "a disallowed path was requested"
        );
        assert!(
            s.max_conc() <= 2,
            "per-host concurrency reached {}",
            s.max_conc()
        );
        assert!(s.hits().iter().all(|h| h
            .user_agent
            .as_deref()
            .is_some_and(|u| u.contains("vigie/"))));
    }
    assert_eq!(pass.disallowed, 1);

    // 429 + Retry-After: 1 retried after a second
    let lim = web.b.hits_to("/limited/");
    assert_eq!(lim.len(), 2);
    assert!(
        lim[1].at - lim[0].at >= Duration::from_millis(950),
        "{lim:?}"
    );

    // the silent feed timed out without holding the pass; the broken one was reported
    assert!(took < Duration::from_secs(8), "the pass took {took:?}");
    assert_eq!(pass.errors.get("timeout"), Some(&1), "{pass:?}");
    assert_eq!(pass.errors.get("parse"), Some(&1), "{pass:?}");
    let failed: Vec<&str> = pass.failures.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(failed, ["broken", "slow"]);

    // full text: the article's main text, without its navigation and footer
    let d = env.doc(&format!(
        "http://{}/articles/127.0.0.1-3-2.html",
        web.a.addr
    ));
    assert!(d.content.contains("Deuxième paragraphe"), "{}", d.content);
    assert!(!d.content.contains("boilerplate") && !d.content.contains("cookies"));
    assert_eq!(d.title, "Titre 3-2");
    assert_eq!(d.source, "a-3");
    // without full text, the feed's summary
    let d = env.doc(&format!(
        "http://{}/articles/127.0.0.2-3-2.html",
        web.b.addr
    ));
    assert!(d.content.contains("Résumé 127.0.0.2 3-2"), "{}", d.content);
    assert_eq!(web.b.hits_to("/articles/").len(), 0);
    assert_eq!(pass.pages, 12 * 6);

    // second pass: conditional requests, 304s, nothing new, no page fetched again
    web.a.clear();
    web.b.clear();
    let report = env.once();
    let pass = &report.passes[0];
    let feeds: Vec<server::Hit> = web
        .a
        .hits_to("/feeds/")
        .into_iter()
        .chain(web.b.hits_to("/feeds/"))
        .collect();
    assert_eq!(feeds.len(), 24);
    assert!(feeds
        .iter()
        .all(|h| h.if_none_match.is_some() && h.status == 304));
    assert_eq!(pass.not_modified, 24);
    assert_eq!(pass.documents.added, 0);
    assert!(web.a.hits_to("/articles/").is_empty());
    // robots.txt is remembered for a day, across runs
    assert!(web.a.hits_to("/robots.txt").is_empty() && web.b.hits_to("/robots.txt").is_empty());
    assert_eq!(env.docs().len(), 2 * 12 * 6 + 1);
}

#[test]
fn crawl_delay_spaces_requests_and_is_shared_by_all_sources_of_a_host() {
    let s = Server::start("127.0.0.3", |req| match req.path.as_str() {
        "/robots.txt" => robots("User-agent: *\nCrawl-delay: 0.3\n"),
        p if p.starts_with("/f") => Reply::ok(
            "application/rss+xml",
            rss(
                "f",
                &[(format!("http://127.0.0.3/x{p}"), "t".into(), "d".into())],
            ),
        ),
        _ => Reply::not_found(),
    });
    let mut toml = defaults("");
    for i in 0..4 {
        toml += &source(&format!("f{i}"), "feed", &s.url(&format!("/f{i}")), "");
    }
    let env = Env::new(&toml);
    env.once();
    let mut starts: Vec<Duration> = s.hits().iter().map(|h| h.at).collect();
    starts.sort();
    assert_eq!(starts.len(), 5);
    for w in starts.windows(2) {
        assert!(
            w[1] - w[0] >= Duration::from_millis(280),
            "requests {:?} apart",
            w[1] - w[0]
        );
    }
}

#[test]
fn the_global_cap_holds_over_all_hosts() {
    let shared = Arc::new(AtomicUsize::new(0));
    let servers: Vec<Server> =
        (0..3)
            .map(|h| {
                Server::start_counting(&format!("127.0.0.{}", 24 + h), shared.clone(), |req| {
                    match req.path.as_str() {
                        "/robots.txt" => Reply::not_found(),
                        p => Reply::ok(
                            "application/rss+xml",
                            rss(
                                "f",
                                &[(format!("{}/i{p}", base(req)), "t".into(), "d".into())],
                            ),
                        )
                        .delay(Duration::from_millis(40)),
                    }
                })
            })
            .collect();
    let mut toml = defaults("concurrency = 2");
    for (h, s) in servers.iter().enumerate() {
        for i in 0..5 {
            toml += &source(&format!("f{h}-{i}"), "feed", &s.url(&format!("/f{i}")), "");
        }
    }
    let env = Env::new(&toml);
    let r = env.once();
    assert_eq!(r.passes[0].documents.added, 15);
    let conc = servers.iter().map(|s| s.max_conc()).max().unwrap();
    assert_eq!(conc, 2, "requests in flight over the three hosts");
}

#[test]
fn per_host_delay_from_the_sources_file() {
    let s = Server::start("127.0.0.4", |req| match req.path.as_str() {
        "/robots.txt" => Reply::not_found(),
        p => Reply::ok(
            "application/rss+xml",
            rss(
                "f",
                &[(format!("http://127.0.0.4/x{p}"), "t".into(), "d".into())],
            ),
        ),
    });
    let mut toml = defaults("").replace("per_host_delay = \"0s\"", "per_host_delay = \"250ms\"");
    for i in 0..3 {
        toml += &source(&format!("f{i}"), "feed", &s.url(&format!("/f{i}")), "");
    }
    let env = Env::new(&toml);
    env.once();
    let mut starts: Vec<Duration> = s.hits().iter().map(|h| h.at).collect();
    starts.sort();
    assert_eq!(
        starts.len(),
        4,
        "robots.txt (404: everything allowed) and three feeds"
    );
    for w in starts.windows(2) {
        assert!(w[1] - w[0] >= Duration::from_millis(230));
    }
    assert_eq!(env.docs().len(), 3);
}

#[test]
fn last_modified_is_sent_back_and_a_304_costs_nothing() {
    let lm = "Mon, 05 Oct 2026 08:00:00 GMT";
    let s = Server::start("127.0.0.5", move |req| match req.path.as_str() {
        "/robots.txt" => Reply::not_found(),
        "/feed" if req.header("if-modified-since") == Some(lm) => Reply::new(304),
        "/feed" => Reply::ok(
            "application/rss+xml",
            rss(
                "f",
                &[("http://127.0.0.5/a".into(), "Panne".into(), "La box".into())],
            ),
        )
        .header("Last-Modified", lm),
        _ => Reply::not_found(),
    });
    let env = Env::new(&(defaults("") + &source("f", "feed", &s.url("/feed"), "")));
    assert_eq!(env.once().passes[0].documents.added, 1);
    let r = env.once();
    assert_eq!(r.passes[0].not_modified, 1);
    assert_eq!(r.passes[0].documents.added, 0);
    let feed = s.hits_to("/feed");
    assert_eq!(feed[1].if_modified_since.as_deref(), Some(lm));
    assert_eq!(feed[1].status, 304);
}

#[test]
fn an_item_whose_page_fails_is_left_for_the_next_poll_and_its_feed_read_again() {
    let healed = Arc::new(AtomicUsize::new(0));
    let h2 = healed.clone();
    let s = Server::start("127.0.0.6", move |req| {
        let b = base(req);
        let body = rss(
            "f",
            &[
                (format!("{b}/ok"), "Bon".into(), "x".into()),
                (format!("{b}/flaky"), "Instable".into(), "y".into()),
            ],
        );
        match req.path.as_str() {
            "/robots.txt" => Reply::not_found(),
            "/feed" => conditional(req, body, "application/rss+xml"),
            "/ok" => Reply::ok("text/html", article("Bon", &["Le contenu bon."])),
            "/flaky" if h2.load(Ordering::SeqCst) == 0 => Reply::new(502),
            "/flaky" => Reply::ok("text/html", article("Instable", &["Enfin lisible."])),
            _ => Reply::not_found(),
        }
    });
    let mut toml = defaults("");
    toml += &source("f", "feed", &s.url("/feed"), "full_text = true");
    let env = Env::new(&toml);
    let r = env.once();
    assert_eq!(r.passes[0].documents.added, 1);
    assert_eq!(r.passes[0].deferred, 1);
    // three tries: the first and two retries with backoff
    assert_eq!(s.hits_to("/flaky").len(), 3);
    healed.store(1, Ordering::SeqCst);
    let r = env.once();
    // the feed was read again in full (its validators were not kept) and the item taken
    let feed = s.hits_to("/feed");
    assert!(feed[1].if_none_match.is_none() && feed[1].status == 200);
    assert_eq!(r.passes[0].documents.added, 1);
    assert!(env.doc(&s.url("/flaky")).content.contains("Enfin lisible"));
    // the page already indexed was not asked for again
    assert_eq!(s.hits_to("/ok").len(), 1);
    // now everything is in: the third poll is conditional
    env.once();
    assert_eq!(s.hits_to("/feed").last().unwrap().status, 304);
}

#[test]
fn transient_errors_are_retried_with_growing_waits() {
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    let s = Server::start("127.0.0.7", move |req| match req.path.as_str() {
        "/robots.txt" => Reply::not_found(),
        "/feed" => match n2.fetch_add(1, Ordering::SeqCst) {
            0 => Reply::new(500),
            1 => Reply::new(503),
            _ => Reply::ok(
                "application/rss+xml",
                rss(
                    "f",
                    &[("http://127.0.0.7/a".into(), "A".into(), "a".into())],
                ),
            ),
        },
        _ => Reply::not_found(),
    });
    let env = Env::new(&(defaults("") + &source("f", "feed", &s.url("/feed"), "")));
    let r = env.once();
    assert_eq!(r.passes[0].documents.added, 1);
    let h = s.hits_to("/feed");
    assert_eq!(h.len(), 3);
    // equal jitter around 0.5 s then 1 s
    let (g1, g2) = (h[1].at - h[0].at, h[2].at - h[1].at);
    assert!(g1 >= Duration::from_millis(240), "{g1:?}");
    assert!(g2 >= Duration::from_millis(490), "{g2:?}");
}

#[test]
fn retry_after_as_a_date_and_beyond_the_pass() {
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    let limiting = Server::start("127.0.0.23", |req| match req.path.as_str() {
        "/robots.txt" => Reply::not_found(),
        _ => Reply::new(429).header("Retry-After", "3600"),
    });
    let s = Server::start("127.0.0.8", move |req| match req.path.as_str() {
        "/robots.txt" => Reply::not_found(),
        "/soon" if n2.fetch_add(1, Ordering::SeqCst) == 0 => {
            let at = chrono::Utc::now() + chrono::Duration::seconds(2);
            Reply::new(503).header("Retry-After", &at.to_rfc2822().replace("+0000", "GMT"))
        }
        "/soon" => Reply::ok(
            "application/rss+xml",
            rss(
                "f",
                &[("http://127.0.0.8/a".into(), "A".into(), "a".into())],
            ),
        ),
        _ => Reply::not_found(),
    });
    let mut toml = defaults("").replace("per_host_concurrency = 2", "per_host_concurrency = 1");
    toml += &source("soon", "feed", &s.url("/soon"), "");
    toml += &source("later", "feed", &limiting.url("/later"), "");
    toml += &source("later2", "feed", &limiting.url("/other"), "");
    let env = Env::new(&toml);
    let r = env.once();
    let soon = s.hits_to("/soon");
    assert_eq!(soon.len(), 2);
    assert!(soon[1].at - soon[0].at >= Duration::from_millis(900));
    // an hour is not waited for: the host is left alone, its sources asked again after
    // the hour (the one queued behind the first answer is not sent at all)
    assert_eq!(
        limiting.hits().len(),
        2,
        "robots.txt and one feed: {:?}",
        limiting.hits()
    );
    assert_eq!(r.passes[0].errors.get("rate-limited"), Some(&2));
    let r = env.once();
    assert_eq!(r.passes[0].backing_off, 2);
    assert_eq!(limiting.hits().len(), 2, "not hammered");
}

#[test]
fn a_source_failing_repeatedly_is_backed_off() {
    let s = Server::start("127.0.0.9", |req| match req.path.as_str() {
        "/robots.txt" => Reply::not_found(),
        "/gone" => Reply::new(404),
        "/ok" => Reply::ok("application/rss+xml", rss("ok", &[])),
        _ => Reply::not_found(),
    });
    let mut toml = defaults("");
    toml += &source("gone", "feed", &s.url("/gone"), "");
    toml += &source("ok", "feed", &s.url("/ok"), "");
    let env = Env::new(&toml);
    for _ in 0..3 {
        env.once();
    }
    // failed twice in a row: the third pass leaves it alone, the good source is polled
    assert_eq!(s.hits_to("/gone").len(), 2);
    assert_eq!(s.hits_to("/ok").len(), 3);
}

#[test]
fn addresses_found_in_content_must_not_be_private() {
    let s = Server::start("127.0.0.10", |req| match req.path.as_str() {
        "/robots.txt" => Reply::not_found(),
        "/feed" => Reply::ok(
            "application/rss+xml",
            rss(
                "f",
                &[(
                    format!("{}/page", base(req)),
                    "Interne".into(),
                    "Résumé du flux".into(),
                )],
            ),
        ),
        "/page" => Reply::ok("text/html", article("Interne", &["Secret interne."])),
        "/moved" => Reply::new(301).header("Location", "/feed"),
        "/elsewhere" => Reply::new(302).header("Location", "http://127.0.0.11:9/feed"),
        _ => Reply::not_found(),
    });
    let toml = defaults("").replace("allow_private = true", "allow_private = false")
        + &source("f", "feed", &s.url("/feed"), "full_text = true")
        + &source("moved", "feed", &s.url("/moved"), "full_text = true")
        + &source("elsewhere", "feed", &s.url("/elsewhere"), "");
    let env = Env::new(&toml);
    let r = env.once();
    let pass = &r.passes[0];
    // the configured feed is fetched as configured; the loopback item page is not
    assert!(s.hits_to("/page").is_empty());
    let d = env.doc(&s.url("/page"));
    assert!(d.content.contains("Résumé du flux") && !d.content.contains("Secret"));
    // a redirect on the same server is followed; one to another loopback address is not
    assert!(pass
        .failures
        .iter()
        .any(|(id, why)| id == "elsewhere" && why.contains("private")));
    assert!(!pass.failures.iter().any(|(id, _)| id == "moved"));
    assert!(
        pass.errors.get("private-address").copied().unwrap_or(0) >= 2,
        "{pass:?}"
    );

    // with allow_private, the page is read
    let env = Env::new(&(defaults("") + &source("f", "feed", &s.url("/feed"), "full_text = true")));
    env.once();
    assert!(env.doc(&s.url("/page")).content.contains("Secret interne"));
}

#[test]
fn a_silent_host_times_out_without_stalling_the_others() {
    // accepts connections, never answers anything
    let silent = Server::start("127.0.0.12", |_| {
        Reply::new(200).delay(Duration::from_secs(3600))
    });
    let good = Server::start("127.0.0.13", |req| match req.path.as_str() {
        "/robots.txt" => Reply::not_found(),
        p => Reply::ok(
            "application/rss+xml",
            rss(
                "g",
                &[(format!("http://127.0.0.13/i{p}"), "t".into(), "d".into())],
            ),
        ),
    });
    let mut toml = defaults("").replace("timeout = \"2s\"", "timeout = \"700ms\"");
    for i in 0..10 {
        toml += &source(&format!("s{i}"), "feed", &silent.url(&format!("/f{i}")), "");
        toml += &source(&format!("g{i}"), "feed", &good.url(&format!("/f{i}")), "");
    }
    let env = Env::new(&toml);
    let t0 = Instant::now();
    let r = env.once();
    assert!(t0.elapsed() < Duration::from_secs(6), "{:?}", t0.elapsed());
    assert_eq!(r.passes[0].documents.added, 10);
    // robots.txt of the silent host timed out: nothing else was asked of it
    assert_eq!(
        silent.hits().len(),
        0,
        "the silent host never answers, so logs nothing"
    );
    assert_eq!(r.passes[0].errors.get("robots-unreachable"), Some(&10));
}

#[test]
fn a_slow_address_keeps_its_slot_until_the_server_answers() {
    let s = Server::start("127.0.0.14", |req| match req.path.as_str() {
        "/robots.txt" => Reply::not_found(),
        p if p.starts_with("/slow") => {
            Reply::ok("application/rss+xml", rss("s", &[])).delay(Duration::from_millis(3000))
        }
        p => Reply::ok(
            "application/rss+xml",
            rss(
                "g",
                &[(format!("http://127.0.0.14/i{p}"), "t".into(), "d".into())],
            ),
        )
        .delay(Duration::from_millis(30)),
    });
    let mut toml = defaults("").replace("timeout = \"2s\"", "timeout = \"1s\"");
    toml += &source("slow", "feed", &s.url("/slow"), "");
    toml += &source("slow2", "feed", &s.url("/slow?again"), "");
    for i in 0..30 {
        toml += &source(&format!("g{i}"), "feed", &s.url(&format!("/f{i}")), "");
    }
    let env = Env::new(&toml);
    let r = env.once();
    let urls: Vec<String> = env.docs().into_iter().map(|d| d.url).collect();
    // every other feed of the host was read, and the server never saw more than two
    // requests at once, the abandoned ones included
    assert_eq!(r.passes[0].documents.added, 30, "{urls:?}");
    assert_eq!(r.passes[0].errors.get("timeout"), Some(&2));
    std::thread::sleep(Duration::from_millis(200));
    assert!(s.max_conc() <= 2, "{}", s.max_conc());
}

#[test]
fn bodies_compressed_cut_off_and_decoded() {
    use std::io::Write;
    let gz = {
        let body = rss(
            "gz",
            &[(
                "http://127.0.0.15/gz".into(),
                "Compressé".into(),
                "gzip".into(),
            )],
        );
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(body.as_bytes()).unwrap();
        e.finish().unwrap()
    };
    let br = {
        let body = rss(
            "br",
            &[(
                "http://127.0.0.15/br".into(),
                "Brotli".into(),
                "brotli".into(),
            )],
        );
        let mut out = Vec::new();
        {
            let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
            w.write_all(body.as_bytes()).unwrap();
        }
        out
    };
    let big = rss(
        "big",
        &(0..200)
            .map(|i| {
                (
                    format!("http://127.0.0.15/big/{i}"),
                    "t".repeat(50),
                    "d".repeat(200),
                )
            })
            .collect::<Vec<_>>(),
    );
    let latin1 = {
        let mut b = b"<html><head><title>Caf\xe9</title></head><body><article><p>D\xe9j\xe0 vu \xe0 la caf\xe9t\xe9ria, un texte assez long pour compter.</p></article></body></html>".to_vec();
        b.extend_from_slice(b"\n");
        b
    };
    let s = Server::start("127.0.0.15", move |req| match req.path.as_str() {
        "/robots.txt" => Reply::not_found(),
        "/gz"
            if req
                .header("accept-encoding")
                .is_some_and(|a| a.contains("gzip")) =>
        {
            Reply::ok("application/rss+xml", gz.clone()).header("Content-Encoding", "gzip")
        }
        "/br"
            if req
                .header("accept-encoding")
                .is_some_and(|a| a.contains("br")) =>
        {
            Reply::ok("application/rss+xml", br.clone()).header("Content-Encoding", "br")
        }
        "/big" => Reply::ok("application/rss+xml", big.clone()),
        "/latin" => Reply::ok(
            "application/rss+xml",
            rss(
                "l",
                &[(format!("{}/latin-page", base(req)), "".into(), "".into())],
            ),
        ),
        "/latin-page" => Reply::ok("text/html; charset=ISO-8859-1", latin1.clone()),
        _ => Reply::not_found(),
    });
    let toml = defaults("max_body = 4096")
        + &source("gz", "feed", &s.url("/gz"), "")
        + &source("br", "feed", &s.url("/br"), "")
        + &source("big", "feed", &s.url("/big"), "")
        + &source("latin", "feed", &s.url("/latin"), "full_text = true");
    let env = Env::new(&toml);
    let r = env.once();
    assert!(env.doc("http://127.0.0.15/gz").content.contains("gzip"));
    assert!(env.doc("http://127.0.0.15/br").content.contains("brotli"));
    // the body over max_body is cut off, said so, and the truncated feed fails to parse
    assert_eq!(r.passes[0].errors.get("too-large"), Some(&1));
    assert!(r.passes[0].failures.iter().any(|(id, _)| id == "big"));
    let d = env.doc(&s.url("/latin-page"));
    assert!(
        d.content.contains("Déjà vu à la cafétéria"),
        "{}",
        d.content
    );
}

#[test]
fn rss_atom_rdf_and_json_feeds() {
    let fixture = |name: &str| {
        std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/fetch")
                .join(name),
        )
        .unwrap()
    };
    let (atom, rdf, json) = (
        fixture("atom.xml"),
        fixture("rss1.rdf"),
        fixture("feed.json"),
    );
    let s = Server::start("127.0.0.16", move |req| match req.path.as_str() {
        "/robots.txt" => Reply::not_found(),
        "/atom" => Reply::ok("application/atom+xml", atom.clone()),
        "/rdf" => Reply::ok("application/rdf+xml", rdf.clone()),
        "/json" => Reply::ok("application/feed+json", json.clone()),
        _ => Reply::not_found(),
    });
    let toml = defaults("")
        + &source("atom", "feed", &s.url("/atom"), "tags = [\"forum\"]")
        + &source("rdf", "feed", &s.url("/rdf"), "")
        + &source("json", "feed", &s.url("/json"), "");
    let env = Env::new(&toml);
    let r = env.once();
    assert!(
        r.passes[0].failures.is_empty(),
        "{:?}",
        r.passes[0].failures
    );
    let base = format!("http://{}", s.addr);
    let d = env.doc(&format!("{base}/forum/sujet-1"));
    assert!(
        d.content.contains("toujours pas de réponse"),
        "{}",
        d.content
    );
    assert_eq!(d.source, "atom");
    assert_eq!(d.lang, "fr");
    assert!(env
        .doc(&format!("{base}/forum/sujet-2"))
        .content
        .contains("technicien"));
    let d = env.doc(&format!("{base}/rdf/1"));
    assert!(
        d.content.contains("Grève") && d.content.contains("Orléans"),
        "{}",
        d.content
    );
    let d = env.doc(&format!("{base}/json/1"));
    assert!(d.content.contains("dark mode"));
    assert_eq!(env.docs().len(), 5);
}

#[test]
fn page_sources_with_selectors_feed_discovery_links_or_the_page_itself() {
    let listing = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fetch/actualites.html"),
    )
    .unwrap();
    let version = Arc::new(AtomicUsize::new(0));
    let v2 = version.clone();
    let s = Server::start("127.0.0.17", move |req| {
        match req.path.as_str() {
        "/robots.txt" => Reply::not_found(),
        "/actualites" => Reply::ok("text/html; charset=utf-8", listing.clone()),
        "/actu/tarifs.html" => Reply::ok("text/html", article("Tarifs", &["Deux euros de plus par mois."])),
        "/actu/panne.html" => Reply::ok("text/html", article("Panne", &["Six heures sans réseau."])),
        "/home" => Reply::ok(
            "text/html",
            "<html><head><link rel=\"alternate\" type=\"application/rss+xml\" href=\"/rss\"></head><body>Accueil</body></html>",
        ),
        "/rss" => Reply::ok(
            "application/rss+xml",
            rss("r", &[("/blog/1".into(), "Billet".into(), "Découvert par le lien alternate".into())]),
        ),
        "/blog" => Reply::ok(
            "text/html",
            "<html><body><article><h2>Premier billet</h2><a href=\"/blog/premier\">lire</a></article><article><h2>Second</h2><a href=\"/blog/second\">lire</a></article></body></html>",
        ),
        "/blog/premier" | "/blog/second" => Reply::ok("text/html", article("Billet", &["Texte du billet de blog."])),
        "/cgv" => Reply::ok(
            "text/html",
            format!("<html><head><title>CGV</title></head><body><p>Conditions générales, version {}.</p></body></html>", v2.load(Ordering::SeqCst)),
        ),
        _ => Reply::not_found(),
    }
    });
    let toml = defaults("")
        + &source(
            "actu",
            "page",
            &s.url("/actualites"),
            "full_text = true\nselectors = { item = \".news-item\", title = \"h3\", link = \"a\", date = \"time\" }",
        )
        + &source("home", "page", &s.url("/home"), "")
        + &source("blog", "page", &s.url("/blog"), "full_text = true")
        + &source("cgv", "page", &s.url("/cgv"), "");
    let env = Env::new(&toml);
    let r = env.once();
    assert!(
        r.passes[0].failures.is_empty(),
        "{:?}",
        r.passes[0].failures
    );
    let base = format!("http://{}", s.addr);
    let d = env.doc(&format!("{base}/actu/tarifs.html"));
    assert_eq!(d.title, "Hausse des tarifs au 1er novembre");
    assert!(d.content.contains("Deux euros"));
    assert_eq!(d.published.to_rfc3339(), "2026-10-05T09:00:00+00:00");
    assert!(env
        .doc(&format!("{base}/blog/1"))
        .content
        .contains("lien alternate"));
    assert!(env
        .doc(&format!("{base}/blog/premier"))
        .content
        .contains("billet de blog"));
    assert!(env
        .doc(&format!("{base}/cgv"))
        .content
        .contains("version 0"));
    assert_eq!(env.docs().len(), 6);
    // a page watched for itself is read again when it changes
    version.store(1, Ordering::SeqCst);
    let r = env.once();
    assert_eq!(r.passes[0].documents.updated, 1);
    assert!(env
        .doc(&format!("{base}/cgv"))
        .content
        .contains("version 1"));
}

#[test]
fn sitemaps_index_news_and_gzip_with_lastmod() {
    use std::io::Write;
    let news = |b: &str| {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>{b}/n/1</loc><news:news><news:publication><news:name>Ex</news:name><news:language>fr</news:language></news:publication><news:publication_date>2026-10-05T08:00:00Z</news:publication_date><news:title>Grève SNCF</news:title></news:news></url>
<url><loc>{b}/n/2</loc><lastmod>2026-10-04</lastmod></url>
</urlset>"#
        )
    };
    let gz = |b: &str| {
        let plain =
            format!("<urlset><url><loc>{b}/g/1</loc><lastmod>2026-10-01</lastmod></url></urlset>");
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(plain.as_bytes()).unwrap();
        e.finish().unwrap()
    };
    let s = Server::start("127.0.0.18", move |req| {
        match req.path.as_str() {
        "/robots.txt" => Reply::not_found(),
        "/sitemap_index.xml" => Reply::ok(
            "application/xml",
            "<sitemapindex><sitemap><loc>/news.xml</loc><lastmod>2026-10-05</lastmod></sitemap><sitemap><loc>/old.xml.gz</loc><lastmod>2026-10-01</lastmod></sitemap></sitemapindex>",
        ),
        "/news.xml" => Reply::ok("application/xml", news(&base(req))),
        "/old.xml.gz" => Reply::ok("application/x-gzip", gz(&base(req))),
        p if p.starts_with("/n/") || p.starts_with("/g/") => {
            Reply::ok("text/html", article(&format!("Page {p}"), &[&format!("Texte de la page {p}.")]))
        }
        _ => Reply::not_found(),
    }
    });
    let env =
        Env::new(&(defaults("") + &source("sm", "sitemap", &s.url("/sitemap_index.xml"), "")));
    let r = env.once();
    assert!(
        r.passes[0].failures.is_empty(),
        "{:?}",
        r.passes[0].failures
    );
    assert_eq!(env.docs().len(), 3);
    let d = env.doc(&s.url("/n/1"));
    assert_eq!(d.title, "Grève SNCF");
    assert!(d.content.contains("Texte de la page /n/1"));
    assert_eq!(d.published.to_rfc3339(), "2026-10-05T08:00:00+00:00");
    assert!(env.doc(&s.url("/g/1")).content.contains("/g/1"));
    // unchanged lastmods: the child sitemaps are not asked for again
    s.clear();
    env.once();
    assert_eq!(s.hits_to("/sitemap_index.xml").len(), 1);
    assert!(s.hits_to("/news.xml").is_empty() && s.hits_to("/old.xml.gz").is_empty());
}

#[test]
fn redirects_are_followed_and_bounded() {
    let s = Server::start("127.0.0.19", |req| match req.path.as_str() {
        "/robots.txt" => Reply::not_found(),
        "/old" => Reply::new(301).header("Location", "/new"),
        "/new" => Reply::ok(
            "application/rss+xml",
            rss(
                "n",
                &[("http://127.0.0.19/a".into(), "A".into(), "a".into())],
            ),
        ),
        p if p.starts_with("/loop") => {
            let n: usize = p[5..].parse().unwrap_or(0);
            Reply::new(302).header("Location", &format!("/loop{}", n + 1))
        }
        _ => Reply::not_found(),
    });
    let toml = defaults("")
        + &source("old", "feed", &s.url("/old"), "")
        + &source("loop", "feed", &s.url("/loop0"), "");
    let env = Env::new(&toml);
    let r = env.once();
    assert_eq!(r.passes[0].documents.added, 1);
    assert_eq!(r.passes[0].errors.get("redirect"), Some(&1));
    assert_eq!(
        s.hits_to("/loop").len(),
        6,
        "the first request and five redirects"
    );
}

#[test]
fn robots_txt_unreachable_means_nothing_is_fetched() {
    let s = Server::start("127.0.0.20", |req| match req.path.as_str() {
        "/robots.txt" => Reply::new(500),
        _ => Reply::ok("application/rss+xml", rss("x", &[])),
    });
    let env = Env::new(&(defaults("") + &source("f", "feed", &s.url("/feed"), "")));
    let r = env.once();
    assert_eq!(r.passes[0].errors.get("robots-unreachable"), Some(&1));
    assert!(s.hits_to("/feed").is_empty());
    assert_eq!(
        s.hits_to("/robots.txt").len(),
        3,
        "asked, then retried twice"
    );
}

#[test]
fn vigie_run_polls_on_schedule_until_stopped() {
    let s = Server::start("127.0.0.21", |req| match req.path.as_str() {
        "/robots.txt" => Reply::not_found(),
        p => conditional(
            req,
            rss(
                "f",
                &[(format!("http://127.0.0.21/a{p}"), "A".into(), "a".into())],
            ),
            "application/rss+xml",
        ),
    });
    let env = Env::new(
        &(defaults("interval = \"1s\"")
            + &source("f", "feed", &s.url("/feed"), "")
            + &source("g", "feed", &s.url("/g"), "")
            + &source("h", "feed", &s.url("/h"), "")),
    );
    let t0 = Instant::now();
    let r = crawl(env.config(), &env.data, &RunOptions::new(false), || {
        tokio::time::sleep(Duration::from_millis(2600))
    })
    .unwrap();
    assert!(t0.elapsed() < Duration::from_secs(6));
    assert!(r.interrupted);
    let feed = s.hits_to("/feed");
    assert!((2..=4).contains(&feed.len()), "{} polls", feed.len());
    assert!(feed[1..].iter().all(|h| h.if_none_match.is_some()));
    assert_eq!(r.documents.added, 3);
    // sources due together are polled together: one pass a round, not one per source
    assert_eq!(r.passes.len(), feed.len(), "{:?}", r.passes);
    assert!(r.passes.iter().all(|p| p.sources == 3), "{:?}", r.passes);
    assert_eq!(r.passes[0].documents.added, 3);
    assert_eq!(r.passes[1].not_modified, 3);
    assert_eq!(env.docs().len(), 3);
    // the schedule survives a restart: with an hour's interval, nothing is due yet
    let before = s.hits().len();
    let toml = std::fs::read_to_string(env.sources())
        .unwrap()
        .replace("interval = \"1s\"", "interval = \"1h\"");
    std::fs::write(env.sources(), toml).unwrap();
    let r = crawl(env.config(), &env.data, &RunOptions::new(false), || {
        tokio::time::sleep(Duration::from_millis(1500))
    })
    .unwrap();
    assert!(r.passes.is_empty());
    assert_eq!(s.hits().len(), before);
}

#[test]
fn the_command_reports_the_pass_and_partial_failure() {
    let s = Server::start("127.0.0.22", |req| match req.path.as_str() {
        "/robots.txt" => Reply::not_found(),
        "/good" => Reply::ok(
            "application/rss+xml",
            rss(
                "g",
                &[("http://127.0.0.22/a".into(), "A".into(), "a".into())],
            ),
        ),
        "/broken" => Reply::ok("application/rss+xml", "<rss><channel><title>x"),
        _ => Reply::not_found(),
    });
    let vigie = |env: &Env, args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_vigie"))
            .arg("--data")
            .arg(&env.data.root)
            .arg("--sources")
            .arg(env.sources())
            .arg("--pipelines")
            .arg(env.root.join("pipelines"))
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let env = Env::new(&(defaults("") + &source("good", "feed", &s.url("/good"), "")));
    let (code, _, err) = vigie(&env, &["run", "--once"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("pass done in") && err.contains("1 new document"),
        "{err}"
    );
    assert!(
        !err.contains('\u{1b}'),
        "no terminal colours in a pipe: {err}"
    );
    let env = Env::new(
        &(defaults("")
            + &source("good", "feed", &s.url("/good"), "")
            + &source("broken", "feed", &s.url("/broken"), "")),
    );
    let (code, _, err) = vigie(&env, &["run", "--once"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("errors: 1 (1 parse); 1 source failed"),
        "{err}"
    );
    // the source list tells which source fails, and why
    let (code, out, _) = vigie(&env, &["sources", "list"]);
    assert_eq!(code, Some(0));
    let broken = out.lines().find(|l| l.starts_with("broken\t")).unwrap();
    assert!(broken.contains("failing (1 in a row"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("good\t") && l.contains("\tok ")),
        "{out}"
    );
    assert!(err.contains("broken"), "the failing source is named: {err}");
}
