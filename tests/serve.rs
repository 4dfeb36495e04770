//! The workspace end to end (`vigie serve` as a user starts it): pages, the JSON API against
//! the command line's answers, the queue's writes (CSRF, persistence), the token, hostile
//! documents, live ingest, metrics, CSV; and, where Chromium is installed, the pages in a real
//! headless browser.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{jsonl, stderr, stdout, write_jsonl, Scratch};
use serde_json::{json, Value};

const WATCH: &str = "name = \"care\"\n\n[[brands]]\nid = \"nuvola\"\nname = \"Nuvola\"\naliases = [\"Nuvola\", \"@NuvolaCare\"]\nown_handles = [\"@NuvolaCare\"]\n\n[digest]\ntimezone = \"Europe/Paris\"\n";
const SOURCES: &str =
    "[[sources]]\nid = \"social\"\nkind = \"feed\"\nurl = \"https://social.example/feed.xml\"\n";
const PAYLOAD: &str =
    "<script>window.__pwned=1;document.documentElement.dataset.pwned='x'</script>";

struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(s: &Scratch, token: Option<&str>) -> Server {
    let mut cmd = s.command(&["serve", "--listen", "127.0.0.1:0"]);
    cmd.env_remove("VIGIE_SERVE_TOKEN");
    if let Some(t) = token {
        cmd.env("VIGIE_SERVE_TOKEN", t);
    }
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("vigie serve starts");
    let err = child.stderr.take().unwrap();
    let mut lines = BufReader::new(err).lines();
    let port = loop {
        let line = lines
            .next()
            .expect("serve prints where it listens")
            .unwrap();
        if let Some(rest) = line.strip_prefix("listening on http://127.0.0.1:") {
            break rest.trim().parse().unwrap();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Server { child, port }
}

struct Resp {
    status: u16,
    head: String,
    body: String,
}

impl Resp {
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

fn http(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Resp {
    let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    c.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    c.read_to_end(&mut raw).unwrap();
    let raw = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    // chunked bodies: good enough to read the chunks' text back together
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        let mut out = String::new();
        let mut rest = body;
        while let Some((size, after)) = rest.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if n == 0 {
                break;
            }
            out.push_str(&after[..n.min(after.len())]);
            rest = after.get(n + 2..).unwrap_or("");
        }
        out
    } else {
        body.to_string()
    };
    Resp {
        status,
        head: head.to_string(),
        body,
    }
}

fn get(port: u16, path: &str) -> Resp {
    http(port, "GET", path, &[], "")
}

fn scratch() -> Scratch {
    let s = Scratch::new();
    s.write("pipelines/care.toml", WATCH);
    s.write("sources.toml", SOURCES);
    let now = chrono::Utc::now();
    let at = |h: i64| (now - chrono::Duration::hours(h)).to_rfc3339();
    let mut docs = vec![
        json!({"url": "https://social.example/alice/1", "title": "", "text": "@NuvolaCare toujours pas de réponse à ma demande, panne de réseau depuis 3 jours. Quelqu'un peut me rappeler ?", "published": at(5), "source": "social", "author": "alice"}),
        json!({"url": "https://social.example/bob/2", "title": "", "text": "Nuvola : facture doublée ce mois-ci, c'est une honte.", "published": at(8), "source": "social", "author": "bob"}),
        json!({"url": "https://social.example/carol/3", "title": "", "text": "Still waiting for a reply from Nuvola about my refund, please get back to me.", "published": at(3), "source": "social", "author": "carol"}),
        json!({"url": "https://social.example/NuvolaCare/4", "title": "", "text": "@carol bonjour, nous revenons vers vous en message privé.", "published": at(2), "source": "social", "author": "NuvolaCare"}),
        json!({"url": "https://forum.example/x/1", "title": format!("Nuvola piratage {PAYLOAD}"), "text": format!("Nuvola piratage de ma ligne {PAYLOAD} toujours sans réponse depuis 5 jours."), "published": at(1), "source": "social", "author": "intrus"}),
        // (a `javascript:` address is refused by ingest; the pages' own rule, only http(s)
        // becomes a link, is a unit test of `pages::safe_href`)
        json!({"url": "https://forum.example/x/2", "title": "Nuvola piratage : le lien", "text": "Nuvola piratage, voir javascript:window.__pwned=1 toujours sans réponse du service client.", "published": at(1), "source": "social", "author": "intrus2"}),
    ];
    for i in 0..30 {
        docs.push(json!({"url": format!("https://social.example/u{i}/{i}"), "title": "", "text": format!("Merci Nuvola, réseau impeccable à Nantes ({i})"), "published": at(10 + i), "source": "social", "author": format!("u{i}")}));
    }
    let f = s.path("docs.jsonl");
    write_jsonl(&f, &docs);
    let o = s.vigie(&["ingest", f.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    s
}

fn csrf_of(page: &str) -> String {
    let i = page
        .find("name=\"csrf-token\" content=\"")
        .expect("a csrf meta tag")
        + 27;
    page[i..i + page[i..].find('"').unwrap()].to_string()
}

#[test]
fn the_workspace_answers_as_the_command_line_does() {
    let s = scratch();
    let srv = start(&s, None);
    let p = srv.port;
    assert_eq!(get(p, "/healthz").body, "ok");

    // search: the same total and the same objects as `vigie search --json`
    let cli = jsonl(&stdout(
        &s.vigie(&["search", "réseau", "--json", "--limit", "1000"]),
    ));
    let r = get(p, "/api/search?q=r%C3%A9seau&limit=5");
    assert_eq!(r.status, 200);
    assert!(r
        .header("content-type")
        .unwrap()
        .contains("application/json"));
    let j = r.json();
    assert_eq!(j["total"].as_u64().unwrap() as usize, cli.len());
    assert_eq!(j["hits"].as_array().unwrap().len(), 5);
    for k in cli[0].as_object().unwrap().keys() {
        assert!(j["hits"][0].get(k).is_some(), "hit lacks {k}");
    }
    assert_eq!(get(p, "/api/search?q=%22unclosed").status, 400);

    // the digest as `vigie digest --format json`
    let d: Value = serde_json::from_str(&stdout(
        &s.vigie(&["digest", "--format", "json", "--since", "7d"]),
    ))
    .unwrap();
    let a = get(p, "/api/digest?since=7d").json();
    assert_eq!(a["brands"][0]["mentions"], d["brands"][0]["mentions"]);

    // the queue: requests first-class, the brand's own answer closes carol's
    let q = get(p, "/api/queue?state=all&limit=100").json();
    let items = q["items"].as_array().unwrap();
    let by_url = |u: &str| items.iter().find(|i| i["url"] == u).cloned();
    let alice = by_url("https://social.example/alice/1").expect("alice waits");
    assert_eq!(alice["kind"], "request");
    assert_eq!(alice["state"], "open");
    assert_eq!(alice["author"], "alice");
    let carol = by_url("https://social.example/carol/3").expect("carol is listed");
    assert_eq!(carol["state"], "answered", "{carol}");
    assert!(by_url("https://social.example/NuvolaCare/4").is_none());
    let open = get(p, "/api/queue").json();
    assert!(open["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["state"] == "open"));

    // a write needs the page's CSRF token
    let page = get(p, "/queue");
    assert_eq!(page.status, 200);
    let tok = csrf_of(&page.body);
    let path = format!("/api/queue/{}", alice["id"].as_str().unwrap());
    let js = ("Content-Type", "application/json");
    let body = r#"{"state":"answered"}"#;
    assert_eq!(http(p, "POST", &path, &[js], body).status, 403);
    assert_eq!(
        http(p, "POST", &path, &[js, ("X-CSRF-Token", "nope")], body).status,
        403
    );
    assert_eq!(
        http(
            p,
            "POST",
            &path,
            &[
                js,
                ("X-CSRF-Token", &tok),
                ("Origin", "http://evil.example")
            ],
            body
        )
        .status,
        403
    );
    assert_eq!(
        http(p, "POST", &path, &[js, ("X-CSRF-Token", &tok)], body).status,
        200
    );
    let state = |p: u16| {
        get(p, "/api/queue?state=all&limit=100").json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["url"] == "https://social.example/alice/1")
            .unwrap()["state"]
            .clone()
    };
    assert_eq!(state(p), "answered");
    // a form from the page, without script
    let form = format!("state=dismissed&csrf={tok}&back=%2Fqueue%3Fstate%3Dall");
    let r = http(
        p,
        "POST",
        &format!("/queue/{}", alice["id"].as_str().unwrap()),
        &[("Content-Type", "application/x-www-form-urlencoded")],
        &form,
    );
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location").unwrap(), "/queue?state=all");
    assert_eq!(state(p), "dismissed");

    // pages: HTML, a strict policy, hostile text escaped, javascript: no link
    for path in [
        "/",
        "/search?q=piratage",
        "/queue",
        "/alerts",
        "/sources",
        "/search?q=piratage&hl=en",
    ] {
        let r = get(p, path);
        assert_eq!(r.status, 200, "{path}");
        assert!(r.header("content-type").unwrap().starts_with("text/html"));
        let csp = r.header("content-security-policy").unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        assert!(
            !r.body.to_lowercase().contains("<script>window.__pwned"),
            "{path}"
        );
        assert!(!r.body.contains("href=\"javascript:"), "{path}");
    }
    let hs = get(p, "/search?q=piratage").body;
    assert!(hs.contains("&lt;script&gt;window.__pwned"));
    assert!(hs.contains("<mark>piratage</mark>"), "highlights");
    let ov = get(p, "/?since=7d&hl=fr").body;
    assert!(ov.contains("Aperçu") && ov.contains("Nuvola"));
    assert!(get(p, "/sources?hl=en").body.contains("Last poll"));
    assert!(get(p, "/sources?hl=fr").body.contains("Dernier relevé"));

    // CSV and metrics
    let csv = get(p, "/export.csv?q=r%C3%A9seau");
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    let mut rows = csv.body.lines();
    assert_eq!(
        rows.next().unwrap(),
        "url,title,published,source,author,lang,brands,sentiment,expectations"
    );
    assert_eq!(rows.count(), cli.len());
    let m = get(p, "/metrics").body;
    assert!(m.contains("# TYPE vigie_documents gauge"));
    assert!(m.contains("vigie_http_requests_total{route=\"/api/search\""));

    // documents ingested while serving are found without a restart
    assert_eq!(get(p, "/api/search?q=canicule").json()["total"], 0);
    let f = s.path("live.jsonl");
    write_jsonl(
        &f,
        &[
            json!({"url": "https://social.example/live/1", "text": "Canicule : Nuvola renforce son service client.", "published": chrono::Utc::now().to_rfc3339(), "source": "social"}),
        ],
    );
    let o = s.vigie(&["ingest", f.to_str().unwrap()]);
    assert!(o.status.success(), "ingest beside serve: {}", stderr(&o));
    let t0 = Instant::now();
    while get(p, "/api/search?q=canicule").json()["total"] != 1 {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "live document not found"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // decisions survive a restart
    drop(srv);
    let srv = start(&s, None);
    assert_eq!(state(srv.port), "dismissed");
}

#[test]
fn a_token_guards_everything_but_health() {
    let s = scratch();
    let token = "correct-horse-battery-staple-42";
    let srv = start(&s, Some(token));
    let p = srv.port;
    assert_eq!(get(p, "/healthz").body, "ok");
    for path in [
        "/api/queue",
        "/api/search?q=panne",
        "/metrics",
        "/export.csv?q=panne",
        "/api/digest",
    ] {
        assert_eq!(get(p, path).status, 401, "{path}");
        assert_eq!(
            http(p, "GET", path, &[("Authorization", "Bearer wrong")], "").status,
            401
        );
    }
    let r = get(p, "/queue");
    assert_eq!(r.status, 303);
    assert!(r.header("location").unwrap().starts_with("/login"));
    let bearer = format!("Bearer {token}");
    assert_eq!(
        http(p, "GET", "/api/queue", &[("Authorization", &bearer)], "").status,
        200
    );
    // the login page gives a session
    let login = get(p, "/login");
    let tok = csrf_of(&login.body);
    let r = http(
        p,
        "POST",
        "/login",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        &format!("token={token}&next=%2Fqueue&csrf={tok}"),
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let cookie = r.header("set-cookie").unwrap();
    let cookie = cookie.split(';').next().unwrap();
    let r = http(p, "GET", "/queue", &[("Cookie", cookie)], "");
    assert_eq!(r.status, 200);
    assert!(r.body.contains("Nuvola"));
    let bad = http(
        p,
        "POST",
        "/login",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        &format!("token=nope&csrf={tok}"),
    );
    assert_eq!(bad.status, 401);
    drop(srv);

    // off loopback, no token: refused before anything
    let mut cmd = s.command(&["serve", "--listen", "0.0.0.0:0"]);
    cmd.env_remove("VIGIE_SERVE_TOKEN");
    let o = cmd.output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("VIGIE_SERVE_TOKEN"), "{}", stderr(&o));
}

fn chromium() -> Option<String> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|n| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|d| d.join(n))
                    .find(|p| p.is_file())
                    .map(|p| p.display().to_string())
            })
        })
}

/// The page's DOM after its scripts ran, from headless Chromium.
fn dump_dom(browser: &str, url: &str) -> String {
    let profile = tempfile::tempdir().unwrap();
    let o = std::process::Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-sync",
            "--no-proxy-server",
            "--virtual-time-budget=3000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(["--dump-dom", url])
        .output()
        .expect("chromium runs");
    String::from_utf8_lossy(&o.stdout).to_string()
}

#[test]
fn in_a_real_browser_pages_render_and_hostile_documents_run_nothing() {
    let Some(browser) = chromium() else {
        eprintln!(
            "skipped: no Chromium on PATH (install Debian's `chromium` to run the browser tests)"
        );
        return;
    };
    let s = scratch();
    let srv = start(&s, None);
    let base = format!("http://127.0.0.1:{}", srv.port);
    // the payload does run in a page that does not escape it: the test can see a run
    let bad = s.write(
        "bad.html",
        &format!("<!doctype html><html><body><p>{PAYLOAD}</p></body></html>"),
    );
    assert!(dump_dom(&browser, &format!("file://{}", bad.display())).contains("data-pwned"));
    for path in ["/", "/search?q=piratage", "/queue", "/alerts", "/sources"] {
        let dom = dump_dom(&browser, &format!("{base}{path}"));
        assert!(
            dom.contains("<main>"),
            "{path} did not render: {}",
            &dom[..dom.len().min(300)]
        );
        assert!(
            !dom.contains("data-pwned"),
            "a hostile document ran script on {path}"
        );
    }
    let dom = dump_dom(&browser, &format!("{base}/search?q=piratage"));
    assert!(dom.contains("<mark>piratage</mark>"));
    assert!(dom.contains("https://forum.example/x/1"));
    // a queue item marked answered through the page's own form (no script needed)
    let page = get(srv.port, "/queue");
    let id = page
        .body
        .split("id=\"q-")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let tok = csrf_of(&page.body);
    let r = http(
        srv.port,
        "POST",
        &format!("/queue/{id}"),
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Origin", &base),
        ],
        &format!("state=answered&csrf={tok}"),
    );
    assert_eq!(r.status, 303);
    let dom = dump_dom(&browser, &format!("{base}/queue?state=answered"));
    assert!(
        dom.contains(&format!("q-{id}")),
        "the answered item is listed as answered"
    );
}
