//! A soak of `vigie run` against a loopback web that keeps publishing and keeps failing:
//! connection resets, 500s, truncated bodies, slow answers. Memory must stay flat and every
//! item published must end up in the index exactly once.
//!
//! Ignored by default (it runs for minutes): `VIGIE_SOAK_SECS=300 cargo test --release --test
//! soak -- --ignored --nocapture`.

mod common;

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{jsonl, stdout, Scratch};

const FEEDS: u64 = 40;

struct Web {
    started: Instant,
    requests: AtomicU64,
    faults: AtomicU64,
    seed: AtomicU64,
}

impl Web {
    /// Items of a feed published so far: one more every `period` seconds.
    fn items(&self, feed: u64) -> u64 {
        let period = 2 + feed % 5;
        5 + self.started.elapsed().as_secs() / period
    }

    fn rand(&self) -> u64 {
        let mut x = self
            .seed
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x ^ (x >> 27)
    }

    fn feed(&self, base: &str, n: u64) -> String {
        let mut items = String::new();
        for m in 0..self.items(n) {
            items.push_str(&format!(
                "<item><title>Soak {n}-{m}</title><link>{base}/a/{n}/{m}</link><guid>{base}/a/{n}/{m}</guid><description>Article endurance {n}-{m}: le réseau tient bon.</description></item>"
            ));
        }
        format!("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Soak {n}</title>{items}</channel></rss>")
    }
}

fn serve(web: Arc<Web>, listener: TcpListener) {
    let base = format!("http://{}", listener.local_addr().unwrap());
    for stream in listener.incoming() {
        let Ok(mut s) = stream else { continue };
        let web = web.clone();
        let base = base.clone();
        std::thread::spawn(move || {
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            let mut buf = [0u8; 4096];
            let n = s.read(&mut buf).unwrap_or(0);
            let req = String::from_utf8_lossy(&buf[..n]).to_string();
            let path = req.split_whitespace().nth(1).unwrap_or("/").to_string();
            web.requests.fetch_add(1, Ordering::Relaxed);
            let answer = |s: &mut TcpStream, code: &str, body: &str| {
                let _ = write!(s, "HTTP/1.1 {code}\r\nContent-Type: application/rss+xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
            };
            if path == "/robots.txt" {
                return answer(&mut s, "404 Not Found", "");
            }
            let Some(n) = path
                .strip_prefix("/feed/")
                .and_then(|x| x.parse::<u64>().ok())
            else {
                return answer(&mut s, "404 Not Found", "");
            };
            match web.rand() % 10 {
                0 => {
                    // reset: close without a word
                    web.faults.fetch_add(1, Ordering::Relaxed);
                    drop(s);
                }
                1 => {
                    web.faults.fetch_add(1, Ordering::Relaxed);
                    answer(&mut s, "500 Internal Server Error", "oops");
                }
                2 => {
                    // truncated: announce more than is sent
                    web.faults.fetch_add(1, Ordering::Relaxed);
                    let body = web.feed(&base, n);
                    let _ = write!(s, "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: {}\r\n\r\n{}", body.len() + 500, &body[..body.len() / 2]);
                }
                3 => {
                    // slow: longer than the timeout
                    web.faults.fetch_add(1, Ordering::Relaxed);
                    std::thread::sleep(Duration::from_secs(4));
                    answer(&mut s, "200 OK", &web.feed(&base, n));
                }
                _ => answer(&mut s, "200 OK", &web.feed(&base, n)),
            }
        });
    }
}

fn rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

#[test]
#[ignore]
fn soak_run_with_faults() {
    let secs: u64 = std::env::var("VIGIE_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(180);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let web = Arc::new(Web {
        started: Instant::now(),
        requests: AtomicU64::new(0),
        faults: AtomicU64::new(0),
        seed: AtomicU64::new(7),
    });
    {
        let web = web.clone();
        std::thread::spawn(move || serve(web, listener));
    }
    let s = Scratch::new();
    let mut src = String::from("[defaults]\nallow_private = true\nper_host_concurrency = 4\nper_host_delay = \"0s\"\ntimeout = \"2s\"\ninterval = \"3s\"\n\n");
    for n in 0..FEEDS {
        src.push_str(&format!(
            "[[sources]]\nid = \"soak-{n}\"\nkind = \"feed\"\nurl = \"{base}/feed/{n}\"\n\n"
        ));
    }
    s.write("sources.toml", &src);
    s.write("pipelines/w.toml", "name = \"w\"\n");
    let mut child = s
        .command(&["-q", "run"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let t = Instant::now();
    let mut samples = Vec::new();
    while t.elapsed() < Duration::from_secs(secs) {
        std::thread::sleep(Duration::from_secs(1));
        if let Some(kb) = rss_kb(pid) {
            samples.push((t.elapsed().as_secs(), kb));
        }
    }
    // stop publishing, give the crawler a few passes to catch up, then stop it
    let published: Vec<u64> = (0..FEEDS).map(|n| web.items(n)).collect();
    std::thread::sleep(Duration::from_secs(20));
    terminate(pid);
    let _ = child.wait();
    let hits = jsonl(&stdout(&s.vigie(&[
        "search",
        "endurance",
        "--limit",
        "1000000",
        "--json",
    ])));
    let urls: HashSet<String> = hits
        .iter()
        .map(|h| h["url"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(urls.len(), hits.len(), "a document indexed twice");
    let mut missing = 0;
    for (n, &count) in published.iter().enumerate() {
        for m in 0..count {
            if !urls.contains(&format!("{base}/a/{n}/{m}")) {
                missing += 1;
            }
        }
    }
    let peak = samples.iter().map(|s| s.1).max().unwrap_or(0);
    let late: Vec<u64> = samples
        .iter()
        .filter(|s| s.0 >= secs / 2)
        .map(|s| s.1)
        .collect();
    let early_peak = samples
        .iter()
        .filter(|s| s.0 < secs / 2)
        .map(|s| s.1)
        .max()
        .unwrap_or(0);
    let late_peak = late.iter().copied().max().unwrap_or(0);
    println!(
        "soak: {secs}s, {} requests, {} faults injected, {} documents indexed, {missing} published items missing, peak RSS {} MB (first half {} MB, second half {} MB)",
        web.requests.load(Ordering::Relaxed),
        web.faults.load(Ordering::Relaxed),
        urls.len(),
        peak / 1024,
        early_peak / 1024,
        late_peak / 1024
    );
    assert_eq!(missing, 0, "published items missing from the index");
    assert!(
        late_peak <= early_peak + early_peak / 4 + 16 * 1024,
        "memory grew: {} MB then {} MB",
        early_peak / 1024,
        late_peak / 1024
    );
}

fn terminate(pid: u32) {
    let _ = std::process::Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status();
}
