//! A small HTTP/1.1 server on loopback for crawler tests and benches: keep-alive, answers
//! computed by a closure (with an optional delay before answering), and a log of every
//! request with the number of requests in flight when it arrived (a request stops counting
//! once its answer is ready, as a server would see it).

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// A request as the handler sees it.
#[derive(Debug, Clone)]
pub struct Req {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
}

impl Req {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// An answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub delay: Duration,
}

impl Reply {
    pub fn new(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            delay: Duration::ZERO,
        }
    }

    pub fn ok(content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        Reply::new(200)
            .header("Content-Type", content_type)
            .body(body)
    }

    pub fn not_found() -> Reply {
        Reply::new(404).body("not found")
    }

    pub fn header(mut self, k: &str, v: &str) -> Reply {
        self.headers.push((k.to_string(), v.to_string()));
        self
    }

    pub fn body(mut self, b: impl Into<Vec<u8>>) -> Reply {
        self.body = b.into();
        self
    }

    pub fn delay(mut self, d: Duration) -> Reply {
        self.delay = d;
        self
    }
}

/// One request, logged when its answer was ready.
#[derive(Debug, Clone)]
pub struct Hit {
    /// Arrival, since the server started.
    pub at: Duration,
    pub path: String,
    /// Requests in flight on this server when it arrived (itself included).
    pub conc: usize,
    pub status: u16,
    pub if_none_match: Option<String>,
    pub if_modified_since: Option<String>,
    pub user_agent: Option<String>,
}

type Handler = dyn Fn(&Req) -> Reply + Send + Sync;

/// A running server; stops when dropped.
pub struct Server {
    pub addr: SocketAddr,
    hits: Arc<Mutex<Vec<Hit>>>,
    rt: Option<tokio::runtime::Runtime>,
}

impl Server {
    /// Serves on `ip`, port chosen by the system.
    pub fn start(ip: &str, handler: impl Fn(&Req) -> Reply + Send + Sync + 'static) -> Server {
        Server::start_counting(ip, Arc::new(AtomicUsize::new(0)), handler)
    }

    /// Like [`Server::start`], counting requests in flight in `inflight`, which several
    /// servers may share (to see requests in flight over all of them).
    pub fn start_counting(
        ip: &str,
        inflight: Arc<AtomicUsize>,
        handler: impl Fn(&Req) -> Reply + Send + Sync + 'static,
    ) -> Server {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("server runtime");
        let listener = rt
            .block_on(TcpListener::bind((ip, 0)))
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("local address");
        let hits = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let start = Instant::now();
        {
            let hits = hits.clone();
            rt.spawn(async move {
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    let _ = stream.set_nodelay(true);
                    let (handler, hits, inflight) =
                        (handler.clone(), hits.clone(), inflight.clone());
                    tokio::spawn(async move {
                        let _ = serve(stream, handler, hits, inflight, start).await;
                    });
                }
            });
        }
        Server {
            addr,
            hits,
            rt: Some(rt),
        }
    }

    /// `http://ip:port{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }

    /// Requests whose path starts with `prefix`.
    pub fn hits_to(&self, prefix: &str) -> Vec<Hit> {
        self.hits()
            .into_iter()
            .filter(|h| h.path.starts_with(prefix))
            .collect()
    }

    pub fn max_conc(&self) -> usize {
        self.hits().iter().map(|h| h.conc).max().unwrap_or(0)
    }

    /// Forgets the requests logged so far.
    pub fn clear(&self) {
        self.hits.lock().unwrap().clear();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

async fn serve(
    stream: tokio::net::TcpStream,
    handler: Arc<Handler>,
    hits: Arc<Mutex<Vec<Hit>>>,
    inflight: Arc<AtomicUsize>,
    start: Instant,
) -> std::io::Result<()> {
    let (r, mut w) = stream.into_split();
    let mut r = BufReader::new(r);
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("GET").to_string();
        let path = parts.next().unwrap_or("/").to_string();
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            if r.read_line(&mut h).await? == 0 {
                return Ok(());
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.push((k.trim().to_string(), v.trim().to_string()));
            }
        }
        let req = Req {
            method,
            path,
            headers,
        };
        if let Some(len) = req
            .header("content-length")
            .and_then(|l| l.parse::<u64>().ok())
        {
            let mut skip = (&mut r).take(len);
            tokio::io::copy(&mut skip, &mut tokio::io::sink()).await?;
        }
        let at = start.elapsed();
        let conc = inflight.fetch_add(1, Ordering::SeqCst) + 1;
        let reply = handler(&req);
        if !reply.delay.is_zero() {
            tokio::time::sleep(reply.delay).await;
        }
        inflight.fetch_sub(1, Ordering::SeqCst);
        hits.lock().unwrap().push(Hit {
            at,
            path: req.path.clone(),
            conc,
            status: reply.status,
            if_none_match: req.header("if-none-match").map(str::to_string),
            if_modified_since: req.header("if-modified-since").map(str::to_string),
            user_agent: req.header("user-agent").map(str::to_string),
        });
        let close = req
            .header("connection")
            .is_some_and(|c| c.eq_ignore_ascii_case("close"));
        let mut head = format!("HTTP/1.1 {} X\r\n", reply.status);
        for (k, v) in &reply.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        let send_body = reply.status != 304 && req.method != "HEAD";
        head.push_str(&format!(
            "Content-Length: {}\r\n",
            if send_body { reply.body.len() } else { 0 }
        ));
        if close {
            head.push_str("Connection: close\r\n");
        }
        head.push_str("\r\n");
        let mut out = head.into_bytes();
        if send_body {
            out.extend_from_slice(&reply.body);
        }
        w.write_all(&out).await?;
        w.flush().await?;
        if close {
            return Ok(());
        }
    }
}

/// An RSS 2.0 feed of `items` (link, title, description).
pub fn rss(title: &str, items: &[(String, String, String)]) -> String {
    let mut s = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel><title>{title}</title><link>http://example.org/</link><description>test</description>\n"
    );
    for (i, (link, t, d)) in items.iter().enumerate() {
        s.push_str(&format!(
            "<item><title>{t}</title><link>{link}</link><guid>{link}</guid><pubDate>Mon, 05 Oct 2026 0{}:00:00 GMT</pubDate><description><![CDATA[<p>{d}</p>]]></description></item>\n",
            i % 10
        ));
    }
    s.push_str("</channel></rss>\n");
    s
}

/// An article page with navigation and footer around its main text.
pub fn article(title: &str, paragraphs: &[&str]) -> String {
    let mut body = String::new();
    for p in paragraphs {
        body.push_str(&format!("<p>{p}</p>\n"));
    }
    format!(
        "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>{title}</title></head><body>\n<nav><a href=\"/\">Accueil</a> <a href=\"/contact\">Contact</a> menuboilerplate</nav>\n<article><h1>{title}</h1>\n{body}</article>\n<footer>Mentions légales — footerboilerplate cookies</footer></body></html>"
    )
}
