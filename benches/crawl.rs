//! End-to-end crawl of a loopback web: feeds on four hosts (full-text pages on one), through
//! the fetcher, the transforms and the index. Reports feeds/s and items/s for a first pass
//! (everything new) and feeds/s for a conditional pass (every feed answers 304). Each run
//! asserts that every item was indexed once and that no host saw more than two requests at
//! once, so a fast wrong answer fails.

#[path = "../tests/fetch/server.rs"]
mod server;

use std::cell::RefCell;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use server::{article, rss, Reply, Server};
use vigie::config::Config;
use vigie::data::DataDir;
use vigie::run::{crawl, RunOptions, RunReport};

const HOSTS: usize = 4;
const FEEDS: usize = 200;
const ITEMS: usize = 20;

struct Web {
    servers: Vec<Server>,
    dir: tempfile::TempDir,
}

fn etag(n: usize) -> String {
    format!("\"feed-{n}\"")
}

impl Web {
    fn start() -> Web {
        let servers: Vec<Server> = (0..HOSTS)
            .map(|h| {
                Server::start(&format!("127.0.0.{}", 41 + h), move |req| {
                    let p = req.path.as_str();
                    let host = req.header("host").unwrap_or("?").to_string();
                    if p == "/robots.txt" {
                        return Reply::ok("text/plain", "User-agent: *\nDisallow: /private/\n");
                    }
                    if let Some(n) = p
                        .strip_prefix("/feeds/")
                        .and_then(|r| r.strip_suffix(".xml"))
                        .and_then(|n| n.parse::<usize>().ok())
                    {
                        if req.header("if-none-match") == Some(etag(n).as_str()) {
                            return Reply::new(304).header("ETag", &etag(n));
                        }
                        let items: Vec<(String, String, String)> = (0..ITEMS)
                            .map(|m| {
                                (
                                    format!("http://{host}/articles/{n}-{m}.html"),
                                    format!("Titre {n}-{m}"),
                                    format!("Article {n}-{m} : le réseau fibre est en panne depuis hier, toujours pas de réponse du service client."),
                                )
                            })
                            .collect();
                        return Reply::ok("application/rss+xml", rss(&format!("Flux {n}"), &items))
                            .header("ETag", &etag(n));
                    }
                    if let Some(name) = p.strip_prefix("/articles/") {
                        return Reply::ok(
                            "text/html; charset=utf-8",
                            article(
                                name,
                                &[
                                    "Le réseau fibre est en panne depuis hier soir dans tout le quartier.",
                                    "Deuxième paragraphe, avec assez de texte pour être reconnu comme le contenu principal.",
                                ],
                            ),
                        );
                    }
                    Reply::not_found()
                })
            })
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let mut toml = String::from(
            "[defaults]\nallow_private = true\nper_host_concurrency = 2\nper_host_delay = \"0s\"\ntimeout = \"5s\"\n",
        );
        for n in 0..FEEDS {
            let h = n % HOSTS;
            toml += &format!(
                "\n[[sources]]\nid = \"feed-{n}\"\nkind = \"feed\"\nurl = \"{}\"\nfull_text = {}\n",
                servers[h].url(&format!("/feeds/{n}.xml")),
                h == 0
            );
        }
        std::fs::write(dir.path().join("sources.toml"), toml).unwrap();
        std::fs::create_dir_all(dir.path().join("pipelines")).unwrap();
        Web { servers, dir }
    }

    fn config(&self) -> Arc<Config> {
        Arc::new(
            Config::load(
                &self.dir.path().join("sources.toml"),
                &self.dir.path().join("pipelines"),
                true,
            )
            .unwrap(),
        )
    }

    fn check_politeness(&self) {
        for s in &self.servers {
            assert!(
                s.max_conc() <= 2,
                "a host saw {} requests at once",
                s.max_conc()
            );
            assert!(s.hits_to("/private/").is_empty());
            s.clear();
        }
    }
}

fn once(config: Arc<Config>, data: &DataDir) -> RunReport {
    crawl(config, data, &RunOptions::new(true), || {
        std::future::pending::<()>()
    })
    .unwrap()
}

fn report(what: &str, times: &[Duration], feeds: usize, items: usize) {
    if times.is_empty() {
        return;
    }
    let mut t: Vec<f64> = times.iter().map(Duration::as_secs_f64).collect();
    t.sort_by(f64::total_cmp);
    let median = t[t.len() / 2];
    println!(
        "{what}: median {median:.2}s over {} runs: {:.0} feeds/s, {:.0} items/s",
        t.len(),
        feeds as f64 / median,
        items as f64 / median
    );
}

fn bench(c: &mut Criterion) {
    let web = Web::start();
    let config = web.config();
    let total_items = FEEDS * ITEMS;
    let first_times = RefCell::new(Vec::new());
    let conditional_times = RefCell::new(Vec::new());

    let mut g = c.benchmark_group("crawl");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    g.throughput(Throughput::Elements(total_items as u64));
    g.bench_function("first_pass_items", |b| {
        b.iter_batched(
            || tempfile::tempdir().unwrap(),
            |dir| {
                let data = DataDir::new(dir.path().join("data"));
                let t0 = Instant::now();
                let r = once(config.clone(), &data);
                first_times.borrow_mut().push(t0.elapsed());
                let pass = &r.passes[0];
                assert_eq!(pass.documents.added as usize, total_items);
                assert_eq!(pass.pages as usize, FEEDS / HOSTS * ITEMS);
                assert!(pass.failures.is_empty(), "{:?}", pass.failures);
                web.check_politeness();
                dir
            },
            BatchSize::PerIteration,
        )
    });

    // a data directory that has seen everything: the next passes are conditional
    let seen = tempfile::tempdir().unwrap();
    let seen_data = DataDir::new(seen.path().join("data"));
    once(config.clone(), &seen_data);
    web.check_politeness();
    g.throughput(Throughput::Elements(FEEDS as u64));
    g.bench_function("conditional_pass_feeds", |b| {
        b.iter(|| {
            let t0 = Instant::now();
            let r = once(config.clone(), &seen_data);
            conditional_times.borrow_mut().push(t0.elapsed());
            let pass = &r.passes[0];
            assert_eq!(pass.not_modified as usize, FEEDS);
            assert_eq!(pass.documents.added, 0);
        })
    });
    g.finish();
    web.check_politeness();

    report(
        "first pass (new items, full text on one host in four)",
        &first_times.borrow(),
        FEEDS,
        total_items,
    );
    report(
        "conditional pass (every feed 304)",
        &conditional_times.borrow(),
        FEEDS,
        0,
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
