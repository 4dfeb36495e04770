//! Query-driven sources against a loopback stand-in for each platform, answering from the
//! fixtures under `tests/fixtures/reach/`: the requests (paths, parameters, queries built
//! from the watch), what is indexed (brands, authors), cursors across polls and restarts,
//! and every bad input.

#[path = "../fetch/server.rs"]
mod server;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use server::{Reply, Req, Server};
use url::Url;
use vigie::analyze::query::Query;
use vigie::config::Config;
use vigie::data::DataDir;
use vigie::fetch::platform;
use vigie::fetch::schedule::Health;
use vigie::index::search::{Filters, Reader};
use vigie::index::StoredDoc;
use vigie::run::{crawl, test_source, RunOptions};
use vigie::state::{Space, State};

const WATCH: &str = r#"name = "telecoms"

[[brands]]
id = "orange"
name = "Orange"
aliases = ["Sosh", "Orange France", "@Orange_conseil"]
ambiguous = ["Orange"]
context = ["forfait", "fibre", "réseau", "box", "opérateur"]
exclude = ["jus d'orange", "orange pressée"]
case_sensitive = true
"#;

fn fixture(name: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/reach")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A fixture with its placeholders filled.
fn fill(name: &str, vars: &[(&str, String)]) -> String {
    let mut s = fixture(name);
    for (k, v) in vars {
        s = s.replace(&format!("{{{k}}}"), v);
    }
    s
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn ago(mins: i64) -> DateTime<Utc> {
    Utc::now() - chrono::Duration::minutes(mins)
}

struct Env {
    _dir: tempfile::TempDir,
    root: PathBuf,
    data: DataDir,
}

impl Env {
    fn new(sources: &str) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        std::fs::create_dir_all(root.join("pipelines")).unwrap();
        std::fs::write(root.join("pipelines/telecoms.toml"), WATCH).unwrap();
        std::fs::write(root.join("sources.toml"), sources).unwrap();
        Env {
            data: DataDir::new(root.join("data")),
            _dir: dir,
            root,
        }
    }

    fn config(&self) -> Arc<Config> {
        Arc::new(
            Config::load(
                &self.root.join("sources.toml"),
                &self.root.join("pipelines"),
                true,
            )
            .unwrap_or_else(|e| panic!("{e}")),
        )
    }

    fn once(&self) {
        crawl(self.config(), &self.data, &RunOptions::new(true), || {
            std::future::pending::<()>()
        })
        .unwrap();
    }

    fn docs(&self) -> Vec<StoredDoc> {
        let r = Reader::open(&self.data).unwrap();
        r.search_query(&Query::All, &Filters::default(), 100_000)
            .unwrap()
            .into_iter()
            .map(|h| h.doc)
            .collect()
    }

    fn doc_with(&self, needle: &str) -> StoredDoc {
        let docs = self.docs();
        let found: Vec<StoredDoc> = docs
            .into_iter()
            .filter(|d| d.content.contains(needle) || d.title.contains(needle))
            .collect();
        assert_eq!(found.len(), 1, "documents with {needle:?}: {}", found.len());
        found.into_iter().next().unwrap()
    }

    fn health(&self, id: &str) -> Health {
        let s = State::open(&self.data.state_dir()).unwrap();
        s.get::<Health>(Space::Meta, &format!("source/{id}"))
            .unwrap_or_else(|| panic!("no health for {id}"))
    }

    fn cursor(&self, id: &str, sub: &str) -> Option<String> {
        let s = State::open(&self.data.state_dir()).unwrap();
        s.get::<String>(Space::Meta, &format!("cursor/{id}/{sub}"))
    }
}

fn defaults() -> String {
    "[defaults]\nallow_private = true\nper_host_delay = \"0s\"\ntimeout = \"3s\"\n".into()
}

fn search(id: &str, preset: &str, base: &str, extra: &str) -> String {
    format!(
        "\n[[sources]]\nid = \"{id}\"\nkind = \"search\"\npreset = \"{preset}\"\nwatch = \"telecoms\"\nbase_url = \"{base}\"\nallow_private = true\n{extra}\n"
    )
}

fn query_of(path: &str) -> HashMap<String, String> {
    let u = Url::parse(&format!("http://x{path}")).unwrap();
    u.query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn robots_or(req: &Req, f: impl Fn(&Req) -> Reply) -> Reply {
    if req.path == "/robots.txt" {
        return Reply::ok("text/plain", "User-agent: *\nAllow: /\n");
    }
    f(req)
}

/// Everything the stand-in serves for one test: fixture bodies by path prefix.
type Routes = Arc<Mutex<Vec<(String, Reply)>>>;

/// Serves `routes` (the first whose prefix matches the path and query), and HN's pages
/// from `hn_pages` (by `query` and `page`).
fn stand_in(routes: Routes, hn_pages: Arc<Mutex<HashMap<(String, String), String>>>) -> Server {
    Server::start("127.0.0.1", move |req| {
        robots_or(req, |req| {
            if req.path.starts_with("/api/v1/search_by_date") {
                let q = query_of(&req.path);
                let key = (
                    q.get("query").cloned().unwrap_or_default(),
                    q.get("page").cloned().unwrap_or_else(|| "0".into()),
                );
                if let Some(body) = hn_pages.lock().unwrap().get(&key) {
                    return json(body.clone());
                }
            }
            let routes = routes.lock().unwrap();
            routes
                .iter()
                .find(|(p, _)| req.path.starts_with(p.as_str()))
                .map(|(_, r)| r.clone())
                .unwrap_or_else(Reply::not_found)
        })
    })
}

fn json_source(base: &str) -> String {
    format!(
        "\n[[sources]]\nid = \"api\"\nkind = \"json\"\nurl = \"{base}/v1/posts?q={{query}}\"\nwatch = \"telecoms\"\nallow_private = true\n[sources.items]\npath = \"$.data.items[*]\"\nurl = \"$.link\"\ntitle = \"$.headline\"\ntext = \"$.body\"\npublished = \"$.time\"\nauthor = \"$.user.name\"\nfollowers = \"$.user.followers\"\n"
    )
}

fn json(body: String) -> Reply {
    Reply::ok("application/json; charset=utf-8", body)
}

#[test]
fn every_preset_asks_in_its_dialect_and_indexes_mentions_with_their_authors() {
    let routes: Routes = Arc::new(Mutex::new(Vec::new()));
    let hn_pages = Arc::new(Mutex::new(HashMap::new()));
    let server = stand_in(routes.clone(), hn_pages.clone());
    let base = server.url("");
    let t = |m| iso(ago(m));
    let vars = vec![
        ("BASE", base.clone()),
        ("ISO1", t(30)),
        ("ISO2", t(40)),
        ("SEEN1", ago(20).format("%Y%m%dT%H%M%SZ").to_string()),
        ("SEEN2", ago(50).format("%Y%m%dT%H%M%SZ").to_string()),
        ("HNT1", ago(30).timestamp().to_string()),
        ("HNISO1", t(30)),
        ("HNT2", ago(20).timestamp().to_string()),
        ("HNISO2", t(20)),
        ("HNT0", ago(60).timestamp().to_string()),
        ("HNISO0", t(60)),
        ("SID1", "113000000000000001".into()),
        ("MISO1", t(50)),
        ("SID2", "113000000000000002".into()),
        ("MISO2", t(10)),
        ("AISO1", t(30)),
        ("AISO2", t(35)),
        ("JISO1", t(15)),
        ("JUNIX2", ago(25).timestamp().to_string()),
        ("GN1", ago(20).to_rfc2822()),
        ("GN2", ago(45).to_rfc2822()),
        ("GN3", ago(70).to_rfc2822()),
    ];
    {
        let mut r = routes.lock().unwrap();
        r.push((
            "/rss/search".into(),
            Reply::ok("application/xml", fill("google-news.xml", &vars)),
        ));
        r.push(("/api/v2/doc/doc".into(), json(fill("gdelt.json", &vars))));
        r.push((
            "/search.rss".into(),
            Reply::ok("application/atom+xml", fill("reddit.atom", &vars)),
        ));
        r.push((
            "/api/v1/search_by_date".into(),
            json(r#"{"hits":[],"nbPages":0,"page":0}"#.into()),
        ));
        r.push((
            "/api/v1/timelines/tag/sosh".into(),
            json(fill("mastodon.json", &vars)),
        ));
        r.push(("/api/v1/timelines/tag/".into(), json("[]".into())));
        r.push((
            "/fr/rss/customerreviews/page=1/id=1320045127/".into(),
            json(fill("app-reviews.json", &vars)),
        ));
        r.push(("/v1/posts".into(), json(fill("json-api.json", &vars))));
        let mut p = hn_pages.lock().unwrap();
        p.insert(("Sosh".into(), "0".into()), fill("hn-page0.json", &vars));
        p.insert(("Sosh".into(), "1".into()), fill("hn-page1.json", &vars));
    }
    let mut sources = defaults();
    sources += &search("gn", "google-news", &base, "lang = \"fr\"");
    sources += &search("gdelt", "gdelt", &base, "");
    sources += &search("reddit", "reddit", &base, "");
    sources += &search("hn", "hn", &base, "");
    sources += &search("masto", "mastodon", &base, "tags = [\"sosh\", \"orange\"]");
    sources += &search(
        "apps",
        "app-reviews",
        &base,
        "apps = [\"1320045127\"]\ncountry = \"fr\"",
    );
    sources += &json_source(&base);
    let env = Env::new(&sources);
    env.once();
    let hits = server.hits();
    let asked = |prefix: &str| -> Vec<HashMap<String, String>> {
        hits.iter()
            .filter(|h| h.path.starts_with(prefix))
            .map(|h| query_of(&h.path))
            .collect()
    };

    // google-news: the edition from lang, aliases, context words, exclusions negated
    let gn = asked("/rss/search");
    assert!(!gn.is_empty());
    for q in &gn {
        assert_eq!(q["hl"], "fr");
        assert_eq!(q["gl"], "FR");
        assert_eq!(q["ceid"], "FR:fr");
        let text = &q["q"];
        assert!(
            text.contains("Sosh") && text.contains("\"Orange France\""),
            "{text}"
        );
        assert!(text.contains("(Orange (forfait OR fibre"), "{text}");
        assert!(text.contains("-\"jus d'orange\""), "{text}");
        assert!(!text.contains("Orange_conseil"), "{text}");
    }
    // gdelt: artlist in JSON from a day back, the names OR-ed in parentheses
    let gd = asked("/api/v2/doc/doc");
    assert_eq!(gd.len(), 1);
    assert_eq!(gd[0]["mode"], "artlist");
    assert_eq!(gd[0]["format"], "json");
    assert_eq!(gd[0]["query"], "(Sosh OR \"Orange France\" OR Orange)");
    let start = chrono::NaiveDateTime::parse_from_str(&gd[0]["startdatetime"], "%Y%m%d%H%M%S")
        .unwrap()
        .and_utc();
    assert!((Utc::now() - start).num_hours() >= 23, "{start}");
    // reddit: newest first
    for q in asked("/search.rss") {
        assert_eq!(q["sort"], "new");
    }
    // hn: stories and comments, one query per name, the second page asked
    let hn = asked("/api/v1/search_by_date");
    assert!(hn.iter().all(|q| q["tags"] == "(story,comment)"));
    let queries: Vec<&str> = hn.iter().map(|q| q["query"].as_str()).collect();
    for name in ["Sosh", "Orange France", "Orange"] {
        assert!(queries.contains(&name), "{queries:?}");
    }
    assert!(hn
        .iter()
        .any(|q| q["query"] == "Sosh" && q.get("page").map(String::as_str) == Some("1")));
    // mastodon: one timeline per tag
    assert_eq!(asked("/api/v1/timelines/tag/sosh").len(), 1);
    assert_eq!(asked("/api/v1/timelines/tag/orange").len(), 1);
    // json: the query filled in
    let api = asked("/v1/posts");
    assert_eq!(api.len(), 1);
    assert!(api[0]["q"].contains("\"Orange France\""));

    // what is indexed: mentions with their brand and author, noise without a brand
    let d = env.doc_with("Sosh augmente ses forfaits");
    assert_eq!(d.brands, vec!["orange"]);
    assert_eq!(d.meta.author.as_deref(), Some("Le Parisien"));
    assert!(env.doc_with("jus d'orange pressé").brands.is_empty());
    let d = env.doc_with("hausse des prix passe mal");
    assert_eq!(d.brands, vec!["orange"]);
    let d = env.doc_with("ne synchronise plus");
    assert_eq!(d.brands, vec!["orange"]);
    assert_eq!(d.meta.author.as_deref(), Some("chocolatine33"));
    assert!(!d.content.contains("submitted by"), "{}", d.content);
    assert!(env.doc_with("bon garagiste").brands.is_empty());
    let d = env.doc_with("Switched to Sosh");
    assert_eq!(d.url, "https://news.ycombinator.com/item?id=42800222");
    assert!(
        d.content
            .contains("it's a known issue with https://example.org/status"),
        "{}",
        d.content
    );
    assert_eq!(d.meta.author.as_deref(), Some("osmium"));
    assert_eq!(env.doc_with("Orange France fined").brands, vec!["orange"]);
    assert!(env.doc_with("slow DNS").brands.is_empty());
    let d = env.doc_with("Encore une coupure");
    assert!(d.content.contains("#Sosh"), "{}", d.content);
    assert_eq!(d.brands, vec!["orange"]);
    assert_eq!(d.meta.author.as_deref(), Some("@elodie@piaille.fr"));
    assert_eq!(d.meta.followers, Some(321));
    assert!(env.doc_with("walk by the sea").brands.is_empty());
    let d = env.doc_with("Impossible de payer ma facture");
    assert_eq!(d.meta.author.as_deref(), Some("Jojo13"));
    assert_eq!(d.meta.rating, Some(1));
    assert_eq!(
        d.url,
        "https://apps.apple.com/fr/app/id1320045127?see-all=reviews&review=11000000001"
    );
    assert!(env.doc_with("Jolie appli").brands.is_empty());
    let d = env.doc_with("coupée sans prévenir");
    assert_eq!(d.meta.author.as_deref(), Some("sam_k"));
    assert_eq!(d.meta.followers, Some(42));
    assert_eq!(
        env.doc_with("bon plan pour un forfait").meta.followers,
        Some(7)
    );
    // one document per item
    let docs = env.docs();
    let mut urls: Vec<&str> = docs.iter().map(|d| d.url.as_str()).collect();
    let n = urls.len();
    urls.sort();
    urls.dedup();
    assert_eq!(urls.len(), n);
    // the JSON item without a link and the one with a bad date are in the health
    let h = env.health("api");
    assert_eq!(h.failures, 0);
    let problems = h.problems.join("; ");
    assert!(
        problems.contains("1 items without a url skipped"),
        "{problems}"
    );
    assert!(
        problems.contains("1 items with a date that does not parse"),
        "{problems}"
    );
    assert!(env.doc_with("Sosh encore en panne").brands == vec!["orange"]);
    // the cursors are saved
    assert!(env.cursor("hn", "created_at_i").is_some());
    assert_eq!(
        env.cursor("masto", "min_id/sosh").as_deref(),
        Some("113000000000000002")
    );
    assert!(env.cursor("gdelt", "seendate").is_some());
}

/// An HN stand-in that filters on `created_at_i` and pages two hits at a time.
struct Hn {
    items: Arc<Mutex<Vec<(u64, i64, String)>>>,
    server: Server,
}

impl Hn {
    fn start() -> Hn {
        let items: Arc<Mutex<Vec<(u64, i64, String)>>> = Arc::new(Mutex::new(Vec::new()));
        let it = items.clone();
        let server = Server::start("127.0.0.1", move |req| {
            robots_or(req, |req| {
                let q = query_of(&req.path);
                let bound = q.get("numericFilters").cloned().unwrap_or_default();
                let (op, v) = if let Some(v) = bound.strip_prefix("created_at_i>=") {
                    (">=", v)
                } else if let Some(v) = bound.strip_prefix("created_at_i>") {
                    (">", v)
                } else {
                    (">=", "0")
                };
                let v: i64 = v.parse().unwrap_or(0);
                let mut sel: Vec<(u64, i64, String)> = it
                    .lock()
                    .unwrap()
                    .iter()
                    .filter(|(_, t, _)| if op == ">" { *t > v } else { *t >= v })
                    .cloned()
                    .collect();
                sel.sort_by_key(|(_, t, _)| -t);
                let page: usize = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(0);
                let pages = sel.len().div_ceil(2);
                let hits: Vec<serde_json::Value> = sel
                    .iter()
                    .skip(page * 2)
                    .take(2)
                    .map(|(id, t, text)| {
                        serde_json::json!({"objectID": id.to_string(), "created_at_i": t,
                            "created_at": iso(DateTime::from_timestamp(*t, 0).unwrap()),
                            "author": "kestrel9", "comment_text": text, "story_title": "Ask HN: ISPs"})
                    })
                    .collect();
                json(serde_json::json!({"hits": hits, "nbPages": pages, "page": page}).to_string())
            })
        });
        Hn { items, server }
    }

    fn publish(&self, id: u64, t: i64, text: &str) {
        self.items.lock().unwrap().push((id, t, text.to_string()));
    }
}

#[test]
fn hn_cursor_moves_across_polls_and_restarts_and_catches_items_indexed_late() {
    let hn = Hn::start();
    let now = Utc::now().timestamp();
    hn.publish(1, now - 600, "Sosh outage again, ticket 1");
    hn.publish(2, now - 300, "Sosh support finally answered, ticket 2");
    hn.publish(3, now - 200, "Unrelated: my router died, ticket 3");
    let mut sources = defaults();
    sources += &search("hn", "hn", &hn.server.url(""), "max_pages = 5");
    let env = Env::new(&sources);
    env.once();
    assert_eq!(env.docs().len(), 3);
    let cursor: i64 = env.cursor("hn", "created_at_i").unwrap().parse().unwrap();
    assert_eq!(cursor, now - 200);
    // the platform indexes an item late, within the cursor's second, and a newer one
    hn.publish(4, now - 200, "Sosh late item, ticket 4");
    hn.publish(5, now - 100, "Sosh newer item, ticket 5");
    hn.server.clear();
    env.once();
    for h in hn.server.hits_to("/api/v1/search_by_date") {
        let q = query_of(&h.path);
        let bound: i64 = q["numericFilters"]
            .strip_prefix("created_at_i>=")
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            bound <= cursor && bound >= cursor - 900,
            "{bound} vs {cursor}"
        );
    }
    let docs = env.docs();
    assert_eq!(docs.len(), 5, "each item once");
    assert_eq!(env.doc_with("late item").brands, vec!["orange"]);
    assert_eq!(
        env.cursor("hn", "created_at_i").unwrap(),
        (now - 100).to_string()
    );
    // a restart: nothing new, nothing twice
    env.once();
    assert_eq!(env.docs().len(), 5);
}

#[test]
fn mastodon_asks_from_the_newest_status_seen() {
    let statuses: Arc<Mutex<Vec<(u64, String)>>> = Arc::new(Mutex::new(Vec::new()));
    let st = statuses.clone();
    let server = Server::start("127.0.0.1", move |req| {
        robots_or(req, |req| {
            let base = format!("http://{}", req.header("host").unwrap_or("?"));
            let q = query_of(&req.path);
            let min: u64 = q.get("min_id").and_then(|v| v.parse().ok()).unwrap_or(0);
            let list: Vec<serde_json::Value> = st
                .lock()
                .unwrap()
                .iter()
                .rev()
                .filter(|(id, _)| *id > min)
                .map(|(id, text)| {
                    serde_json::json!({"id": id.to_string(), "created_at": iso(ago(5)),
                        "url": format!("{base}/@ana/{id}"), "content": format!("<p>{text}</p>"),
                        "account": {"acct": "ana_r@mamot.fr", "display_name": "Ana", "followers_count": 5}})
                })
                .collect();
            json(serde_json::Value::Array(list).to_string())
        })
    });
    statuses.lock().unwrap().push((
        1000,
        "Ma box <a href=\"x\">#<span>Sosh</span></a> clignote".into(),
    ));
    let mut sources = defaults();
    sources += &search("masto", "mastodon", &server.url(""), "tags = [\"sosh\"]");
    let env = Env::new(&sources);
    env.once();
    assert_eq!(env.docs().len(), 1);
    assert!(env.doc_with("clignote").content.contains("#Sosh"));
    statuses
        .lock()
        .unwrap()
        .push((2000, "Sosh encore en rade".into()));
    server.clear();
    env.once();
    let hits = server.hits_to("/api/v1/timelines/tag/sosh");
    assert_eq!(hits.len(), 1);
    assert_eq!(query_of(&hits[0].path)["min_id"], "1000");
    assert_eq!(env.docs().len(), 2);
    assert_eq!(env.cursor("masto", "min_id/sosh").as_deref(), Some("2000"));
}

#[test]
fn bad_answers_are_named_in_the_health_and_the_rest_goes_on() {
    let server = Server::start("127.0.0.1", move |req| {
        robots_or(req, |req| {
            let base = format!("http://{}", req.header("host").unwrap_or("?"));
            let p = req.path.as_str();
            if p.starts_with("/broken") {
                json("{\"data\": {\"items\": [{\"link\": ".into())
            } else if p.starts_with("/nomatch") || p.starts_with("/good") {
                json(format!(
                    "{{\"data\": {{\"items\": [{{\"link\": \"{base}/p/1\", \"body\": \"Sosh au top\"}}]}}}}"
                ))
            } else if p.starts_with("/huge") {
                json(format!("{{\"pad\": \"{}\"}}", "x".repeat(11 * 1024 * 1024)))
            } else if p.starts_with("/api/v1/search_by_date") {
                Reply::ok(
                    "text/html",
                    "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>Checking your browser</body></html>",
                )
            } else if p.starts_with("/api/v2/doc/doc") {
                let old = (Utc::now() - chrono::Duration::days(3)).format("%Y%m%dT%H%M%SZ");
                json(format!(
                    "{{\"articles\": [{{\"url\": \"{base}/old\", \"title\": \"Sosh\", \"seendate\": \"{old}\"}}]}}"
                ))
            } else {
                Reply::not_found()
            }
        })
    });
    let base = server.url("");
    let json_src = |id: &str, path: &str, items: &str| {
        format!(
            "\n[[sources]]\nid = \"{id}\"\nkind = \"json\"\nurl = \"{base}{path}\"\nallow_private = true\n[sources.items]\npath = \"{items}\"\nurl = \"$.link\"\ntext = \"$.body\"\n"
        )
    };
    let mut sources = defaults();
    sources += &json_src("broken", "/broken", "$.data.items[*]");
    sources += &json_src("nomatch", "/nomatch", "$.nothing[*]");
    sources += &json_src("huge", "/huge", "$.data.items[*]");
    sources += &json_src("good", "/good", "$.data.items[*]");
    sources += &search("blocked", "hn", &base, "");
    sources += &search("backwards", "gdelt", &base, "");
    let env = Env::new(&sources);
    env.once();
    assert_eq!(env.docs().len(), 1, "the good source is indexed");
    let failing = |id: &str, needle: &str| {
        let h = env.health(id);
        let e = h.last_error.clone().unwrap_or_default();
        assert!(h.failures >= 1 && e.contains(needle), "{id}: {h:?}");
    };
    failing("broken", "malformed JSON");
    failing("huge", "larger than max_body");
    failing("blocked", "an HTML page where JSON was expected");
    let h = env.health("nomatch");
    assert_eq!(h.failures, 0);
    assert!(h.problems.join(" ").contains("matched nothing"), "{h:?}");
    let h = env.health("backwards");
    assert!(
        h.problems
            .join(" ")
            .contains("only items before the cursor"),
        "{h:?}"
    );
    assert_eq!(env.health("good").failures, 0);
}

#[test]
fn check_rejects_a_presets_missing_and_unknown_fields_with_their_line() {
    let cases = [
        (
            "[[sources]]\nid = \"a\"\nkind = \"search\"\npreset = \"hn\"\nwatch = \"telecoms\"\napps = [\"1\"]\n",
            6,
            "unknown field `apps`",
        ),
        (
            "[[sources]]\nid = \"a\"\nkind = \"search\"\npreset = \"app-reviews\"\ncountry = \"fr\"\n",
            1,
            "missing: the App Store ids",
        ),
        (
            "[[sources]]\nid = \"a\"\nkind = \"search\"\npreset = \"twitter\"\nwatch = \"telecoms\"\n",
            4,
            "unknown preset \"twitter\"",
        ),
        (
            "[[sources]]\nid = \"a\"\nkind = \"search\"\npreset = \"reddit\"\n",
            1,
            "missing: the watch",
        ),
        (
            "[[sources]]\nid = \"a\"\nkind = \"search\"\npreset = \"gdelt\"\nwatch = \"nope\"\n",
            1,
            "no watch named \"nope\"",
        ),
        (
            "[[sources]]\nid = \"a\"\nkind = \"json\"\nurl = \"https://api.example.org/x\"\n",
            1,
            "missing: [sources.items]",
        ),
        (
            "[[sources]]\nid = \"a\"\nkind = \"json\"\nurl = \"https://api.example.org/x\"\n[sources.items]\npath = \"$.data[\"\nurl = \"$.link\"\n",
            6,
            "is not a JSONPath",
        ),
        (
            "[[sources]]\nid = \"a\"\nkind = \"search\"\npreset = \"google-news\"\nwatch = \"telecoms\"\nbase_url = \"http://127.0.0.1:9/rss\"\n",
            6,
            "scheme, host and port only",
        ),
    ];
    for (toml, line, needle) in cases {
        let env = Env::new(toml);
        let err = Config::load(
            &env.root.join("sources.toml"),
            &env.root.join("pipelines"),
            true,
        )
        .expect_err(toml);
        let e = err
            .0
            .iter()
            .find(|e| e.message.contains(needle))
            .unwrap_or_else(|| panic!("{needle:?} not in {err}"));
        assert_eq!(e.line, line, "{needle}: {e}");
        assert!(e.file.ends_with("sources.toml"));
    }
}

#[test]
fn sources_test_prints_what_would_be_indexed_and_writes_nothing() {
    let server = Server::start("127.0.0.1", move |req| {
        robots_or(req, |req| {
            let base = format!("http://{}", req.header("host").unwrap_or("?"));
            if req.path.starts_with("/rss/search") {
                let vars = [
                    ("BASE", base),
                    ("GN1", ago(20).to_rfc2822()),
                    ("GN2", ago(45).to_rfc2822()),
                    ("GN3", ago(70).to_rfc2822()),
                ];
                Reply::ok("application/xml", fill("google-news.xml", &vars))
            } else {
                Reply::not_found()
            }
        })
    });
    let mut sources = defaults();
    sources += &search(
        "gn",
        "google-news",
        &server.url(""),
        "lang = \"fr\"\nlookback = \"3650d\"",
    );
    let env = Env::new(&sources);
    let t = test_source(env.config(), &env.data, "gn").unwrap();
    assert!(t.error.is_none(), "{:?}", t.error);
    assert_eq!(t.documents.len(), 3);
    let sosh = t
        .documents
        .iter()
        .find(|d| d.title.starts_with("Sosh augmente"))
        .unwrap();
    assert_eq!(sosh.brands, vec!["orange"]);
    assert_eq!(sosh.author.as_deref(), Some("Le Parisien"));
    assert!(t
        .requests
        .iter()
        .any(|r| r.contains("/rss/search?q=") && r.contains("-> 200")));
    assert!(!env.data.state_dir().exists(), "nothing written");
    // after a run, the items indexed are left out, and the state is unchanged
    env.once();
    let generation = State::open(&env.data.state_dir()).unwrap().generation();
    let t = test_source(env.config(), &env.data, "gn").unwrap();
    assert!(t.used_state);
    assert!(t.documents.is_empty(), "{:?}", t.documents);
    assert_eq!(
        State::open(&env.data.state_dir()).unwrap().generation(),
        generation
    );
}

#[test]
fn formats_read_from_fixtures() {
    // GDELT answers {} when nothing matched
    assert!(platform::gdelt(fixture("gdelt-empty.json").as_bytes())
        .unwrap()
        .items
        .is_empty());
    // one App Store review comes as an object, not a list; an entry without a rating
    // describes the app
    let one = br#"{"feed":{"entry":{"id":{"label":"77"},"author":{"name":{"label":"Ptit_Louis"}},
        "updated":{"label":"2026-12-01T02:20:00-07:00"},"title":{"label":"Top"},
        "content":{"label":"Suivi clair."},"im:rating":{"label":"4"}}}}"#;
    let a = platform::app_reviews(one, "fr", "42").unwrap();
    assert_eq!(a.items.len(), 1);
    assert_eq!(a.items[0].rating, Some(4));
    assert_eq!(
        a.items[0].published.unwrap().to_rfc3339(),
        "2026-12-01T09:20:00+00:00"
    );
    let app = br#"{"feed":{"entry":[{"im:name":{"label":"App"},"id":{"label":"1"}}]}}"#;
    assert!(platform::app_reviews(app, "fr", "42")
        .unwrap()
        .items
        .is_empty());
    // Bluesky posts
    let a = platform::bluesky(fixture("bluesky.json").as_bytes()).unwrap();
    assert_eq!(a.items.len(), 1);
    assert_eq!(
        a.items[0].url,
        "https://bsky.app/profile/lena.bsky.social/post/3kxyz"
    );
    assert_eq!(a.items[0].author.as_deref(), Some("@lena.bsky.social"));
    assert_eq!(a.next.as_deref(), Some("25"));
    // HTML where JSON is expected
    let e = platform::hn(b"<!doctype html><html><body>login</body></html>").unwrap_err();
    assert!(e.to_string().contains("HTML page"));
}

#[test]
fn bluesky_is_opt_in_and_logs_in_with_the_app_password_from_the_environment() {
    let server = Server::start("127.0.0.1", move |req| {
        robots_or(req, |req| {
            if req.method == "POST" && req.path == "/xrpc/com.atproto.server.createSession" {
                json(r#"{"accessJwt": "tok-123", "did": "did:plc:me"}"#.into())
            } else if req.path.starts_with("/xrpc/app.bsky.feed.searchPosts") {
                if req.header("authorization") != Some("Bearer tok-123") {
                    return Reply::new(401).body("{\"error\":\"AuthMissing\"}");
                }
                json(fixture("bluesky.json"))
            } else {
                Reply::not_found()
            }
        })
    });
    let mut sources = defaults();
    sources += &search("bsky", "bluesky", &server.url(""), "lookback = \"3650d\"");
    let env = Env::new(&sources);
    std::env::remove_var("VIGIE_BLUESKY_HANDLE");
    std::env::remove_var("VIGIE_BLUESKY_APP_PASSWORD");
    env.once();
    let h = env.health("bsky");
    assert!(
        h.last_error
            .unwrap_or_default()
            .contains("VIGIE_BLUESKY_APP_PASSWORD"),
        "the health says what is missing"
    );
    assert!(server.hits().is_empty(), "nothing asked without an account");
    std::env::set_var("VIGIE_BLUESKY_HANDLE", "me.bsky.social");
    std::env::set_var("VIGIE_BLUESKY_APP_PASSWORD", "abcd-efgh-ijkl-mnop");
    env.once();
    std::env::remove_var("VIGIE_BLUESKY_HANDLE");
    std::env::remove_var("VIGIE_BLUESKY_APP_PASSWORD");
    // the second page brings nothing new: the query ends there
    let search = server.hits_to("/xrpc/app.bsky.feed.searchPosts");
    assert_eq!(search.len(), 2);
    assert_eq!(query_of(&search[1].path)["cursor"], "25");
    let q = query_of(&search[0].path);
    assert_eq!(q["sort"], "latest");
    assert!(q["q"].contains("\"Orange France\""), "{q:?}");
    let d = env.doc_with("augmenté mon forfait");
    assert_eq!(d.brands, vec!["orange"]);
    assert_eq!(d.meta.author.as_deref(), Some("@lena.bsky.social"));
    assert_eq!(d.meta.followers, Some(77));
    assert!(env.cursor("bsky", "indexedAt").is_some());
}

#[test]
fn the_commands_show_a_source_test_and_the_health_of_a_search_source() {
    let server = Server::start("127.0.0.1", move |req| {
        robots_or(req, |req| {
            let base = format!("http://{}", req.header("host").unwrap_or("?"));
            if req.path.starts_with("/v1/posts") {
                let vars = [
                    ("BASE", base),
                    ("JISO1", iso(ago(15))),
                    ("JUNIX2", ago(25).timestamp().to_string()),
                ];
                json(fill("json-api.json", &vars))
            } else {
                Reply::not_found()
            }
        })
    });
    let env = Env::new(&(defaults() + &json_source(&server.url(""))));
    let vigie = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_vigie"))
            .arg("--data")
            .arg(env.root.join("data"))
            .arg("--sources")
            .arg(env.root.join("sources.toml"))
            .arg("--pipelines")
            .arg(env.root.join("pipelines"))
            .args(args)
            .env_remove("RUST_LOG")
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, out) = vigie(&["sources", "test", "api"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("3 documents would be indexed"), "{out}");
    assert!(out.contains("by sam_k"), "{out}");
    assert!(out.contains("brands: orange"), "{out}");
    assert!(
        out.contains("/v1/posts?q=") && out.contains("-> 200"),
        "{out}"
    );
    assert!(
        out.contains("problem: items: 1 items without a url skipped"),
        "{out}"
    );
    assert!(out.contains("nothing was written"), "{out}");
    assert!(!env.root.join("data").exists());
    let (code, out) = vigie(&["run", "--once"]);
    assert_eq!(code, Some(0), "{out}");
    let (_, out) = vigie(&["sources", "list"]);
    assert!(out.contains("api\tjson\t"), "{out}");
    assert!(
        out.contains("with problems: items: 1 items without a url skipped"),
        "{out}"
    );
    let (_, out) = vigie(&["search", "dossier", "--json"]);
    assert!(out.contains("\"author\":\"sam_k\""), "{out}");
    assert!(out.contains("\"followers\":42"), "{out}");
}

#[test]
fn a_json_api_is_paged_and_asked_from_its_cursor() {
    let now = Utc::now();
    let server = Server::start("127.0.0.1", move |req| {
        robots_or(req, |req| {
            let base = format!("http://{}", req.header("host").unwrap_or("?"));
            let item = |n: i64, text: &str| {
                serde_json::json!({"link": format!("{base}/p/{n}"), "body": text,
                    "time": (now - chrono::Duration::minutes(n)).timestamp()})
            };
            if req.path.starts_with("/v1/feed?") {
                json(
                    serde_json::json!({"items": [item(1, "Sosh un"), item(2, "Sosh deux")],
                    "paging": {"next": "/v1/feed/2"}})
                    .to_string(),
                )
            } else if req.path == "/v1/feed/2" {
                json(
                    serde_json::json!({"items": [item(3, "Sosh trois")],
                    "paging": {"next": "http://192.0.2.1/elsewhere"}})
                    .to_string(),
                )
            } else {
                Reply::not_found()
            }
        })
    });
    let src = format!(
        "\n[[sources]]\nid = \"feed\"\nkind = \"json\"\nurl = \"{}/v1/feed?since={{since}}&ts={{since_unix}}\"\nallow_private = true\n[sources.items]\npath = \"$.items[*]\"\nurl = \"$.link\"\ntext = \"$.body\"\npublished = \"$.time\"\nnext = \"$.paging.next\"\n",
        server.url("")
    );
    let env = Env::new(&(defaults() + &src));
    env.once();
    assert_eq!(env.docs().len(), 3, "both pages read");
    assert!(server.hits_to("/elsewhere").is_empty());
    let first = query_of(&server.hits_to("/v1/feed?")[0].path);
    let since = DateTime::parse_from_rfc3339(&first["since"]).unwrap();
    assert!((now - since.with_timezone(&Utc)).num_hours() >= 23);
    server.clear();
    env.once();
    let q = query_of(&server.hits_to("/v1/feed?")[0].path);
    let ts: i64 = q["ts"].parse().unwrap();
    let newest = (now - chrono::Duration::minutes(1)).timestamp();
    assert!(ts <= newest && ts >= newest - 900, "{ts} vs {newest}");
    // the first page brought nothing new: the second is not asked again
    assert!(server.hits_to("/v1/feed/2").is_empty());
    assert_eq!(env.docs().len(), 3);
}
