//! The demo web on loopback: four small sites, each on its own port of 127.0.0.1 — a French
//! news site (RSS, full articles with menus, cookie banners and footers around them), an
//! English tech site (Atom), a consumer forum (JSON Feed) and a review board (a plain HTML
//! page, no feed). A minimal HTTP/1.1 server: GET and HEAD, ETag and If-None-Match, robots.txt.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::SecondsFormat;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::demo::corpus::{Post, Site};
use crate::html::html_escape as esc;

/// A response body and its type.
#[derive(Clone)]
struct Resource {
    content_type: &'static str,
    body: Arc<Vec<u8>>,
    etag: String,
}

/// The routes of one site.
type Routes = HashMap<String, Resource>;

fn resource(content_type: &'static str, body: String) -> Resource {
    let etag = format!("\"{:016x}\"", xxhash_rust::xxh3::xxh3_64(body.as_bytes()));
    Resource {
        content_type,
        body: Arc::new(body.into_bytes()),
        etag,
    }
}

const ROBOTS: &str = "User-agent: *\nDisallow: /admin/\n";

fn page_shell(site: &str, lang: &str, title: &str, main: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{title} — {site}</title>
<meta property="og:title" content="{title}"></head>
<body>
<div class="cookie-banner">Nous utilisons des cookies pour mesurer l'audience. <button>Accepter</button> <button>Refuser</button></div>
<header><a href="/">{site}</a> <nav><a href="/">Accueil</a> <a href="/economie">Économie</a> <a href="/tech">Tech</a> <a href="/sport">Sport</a> <a href="/contact">Contact</a></nav></header>
<main>{main}</main>
<aside class="related"><h4>À lire aussi</h4><ul><li><a href="/">Les dix applis de la semaine</a></li><li><a href="/">Notre sélection de podcasts</a></li></ul></aside>
<footer>© {site} — Mentions légales — Plan du site — Gestion des cookies — Abonnez-vous à la newsletter</footer>
</body></html>"#,
        title = esc(title),
        site = esc(site),
    )
}

fn article_html(site: &str, p: &Post) -> String {
    let mut main = format!(
        "<article><h1>{}</h1><p class=\"byline\">Par <span class=\"author\">{}</span>, <time datetime=\"{}\">{}</time></p>",
        esc(&p.title),
        esc(&p.author),
        p.published.to_rfc3339_opts(SecondsFormat::Secs, true),
        p.published.format("%d/%m/%Y %H:%M")
    );
    for para in &p.paragraphs {
        main.push_str(&format!("<p>{}</p>", esc(para)));
    }
    main.push_str("</article>");
    page_shell(site, p.lang, &p.title, &main)
}

fn actu_routes(base: &str, posts: &[&Post]) -> Routes {
    let mut r = Routes::new();
    let mut items = String::new();
    for p in posts.iter().rev() {
        let link = format!("{base}/articles/{}.html", p.slug);
        items.push_str(&format!(
            "<item><title>{}</title><link>{link}</link><guid>{link}</guid><pubDate>{}</pubDate><dc:creator>{}</dc:creator><description>{}</description></item>\n",
            esc(&p.title),
            p.published.to_rfc2822(),
            esc(&p.author),
            esc(&p.paragraphs[0])
        ));
        r.insert(
            format!("/articles/{}.html", p.slug),
            resource(
                "text/html; charset=utf-8",
                article_html("Le Quotidien du Réseau", p),
            ),
        );
    }
    let rss = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><channel><title>Le Quotidien du Réseau</title><link>{base}/</link><description>Actualités</description><language>fr</language>\n{items}</channel></rss>\n"
    );
    r.insert(
        "/rss.xml".into(),
        resource("application/rss+xml; charset=utf-8", rss),
    );
    r
}

fn tech_routes(base: &str, posts: &[&Post]) -> Routes {
    let mut r = Routes::new();
    let mut entries = String::new();
    for p in posts.iter().rev() {
        let link = format!("{base}/stories/{}.html", p.slug);
        entries.push_str(&format!(
            "<entry><title>{}</title><link rel=\"alternate\" href=\"{link}\"/><id>{link}</id><updated>{}</updated><author><name>{}</name></author><summary>{}</summary></entry>\n",
            esc(&p.title),
            p.published.to_rfc3339_opts(SecondsFormat::Secs, true),
            esc(&p.author),
            esc(&p.paragraphs[0])
        ));
        r.insert(
            format!("/stories/{}.html", p.slug),
            resource("text/html; charset=utf-8", article_html("Circuit Daily", p)),
        );
    }
    let updated = posts
        .last()
        .map(|p| p.published.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_default();
    let atom = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"en\"><title>Circuit Daily</title><id>{base}/</id><link href=\"{base}/\"/><updated>{updated}</updated>\n{entries}</feed>\n"
    );
    r.insert(
        "/atom.xml".into(),
        resource("application/atom+xml; charset=utf-8", atom),
    );
    r
}

fn forum_routes(base: &str, posts: &[&Post]) -> Routes {
    let mut r = Routes::new();
    let items: Vec<serde_json::Value> = posts
        .iter()
        .rev()
        .map(|p| {
            serde_json::json!({
                "id": format!("{base}/t/{}", p.slug),
                "url": format!("{base}/t/{}", p.slug),
                "content_text": p.paragraphs.join("\n\n"),
                "date_published": p.published.to_rfc3339_opts(SecondsFormat::Secs, true),
                "authors": [{"name": p.author}],
                "language": p.lang,
            })
        })
        .collect();
    let feed = serde_json::json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Forum Conso & Cie",
        "home_page_url": format!("{base}/"),
        "feed_url": format!("{base}/feed.json"),
        "items": items,
    });
    r.insert(
        "/feed.json".into(),
        resource(
            "application/feed+json",
            serde_json::to_string_pretty(&feed).expect("json"),
        ),
    );
    r
}

fn avis_routes(base: &str, posts: &[&Post]) -> Routes {
    let mut r = Routes::new();
    let mut list =
        String::from("<h1>Avis clients</h1><p>Les derniers avis déposés par nos membres.</p>");
    for p in posts.iter().rev() {
        list.push_str(&format!(
            "<article class=\"review\"><h3 class=\"who\">Avis de {}</h3><time datetime=\"{}\">{}</time><p class=\"text\">{}</p><a class=\"permalink\" href=\"{base}/avis/{}\">lien</a></article>\n",
            esc(&p.author),
            p.published.to_rfc3339_opts(SecondsFormat::Secs, true),
            p.published.format("%d/%m/%Y"),
            esc(&p.paragraphs[0]),
            p.slug
        ));
    }
    r.insert(
        "/avis.html".into(),
        resource(
            "text/html; charset=utf-8",
            page_shell("Avis Vélo", "fr", "Avis clients", &list),
        ),
    );
    r
}

/// A running demo web: the base URL of each site.
pub struct DemoWeb {
    pub actu: String,
    pub tech: String,
    pub forum: String,
    pub avis: String,
}

/// Binds the four sites on 127.0.0.1 and serves them from the current tokio runtime.
pub async fn serve(posts: &[Post]) -> std::io::Result<DemoWeb> {
    let mut bases = Vec::new();
    let mut listeners = Vec::new();
    for _ in 0..4 {
        let l = TcpListener::bind("127.0.0.1:0").await?;
        bases.push(format!("http://127.0.0.1:{}", l.local_addr()?.port()));
        listeners.push(l);
    }
    let of = |site: Site| posts.iter().filter(|p| p.site == site).collect::<Vec<_>>();
    let routes = [
        actu_routes(&bases[0], &of(Site::Actu)),
        tech_routes(&bases[1], &of(Site::Tech)),
        forum_routes(&bases[2], &of(Site::Forum)),
        avis_routes(&bases[3], &of(Site::Avis)),
    ];
    for (l, mut routes) in listeners.into_iter().zip(routes) {
        routes.insert(
            "/robots.txt".into(),
            resource("text/plain", ROBOTS.to_string()),
        );
        let routes = Arc::new(routes);
        tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = l.accept().await else {
                    continue;
                };
                let routes = routes.clone();
                tokio::spawn(async move {
                    let _ = handle(&mut sock, &routes).await;
                });
            }
        });
    }
    Ok(DemoWeb {
        actu: bases[0].clone(),
        tech: bases[1].clone(),
        forum: bases[2].clone(),
        avis: bases[3].clone(),
    })
}

async fn handle(sock: &mut tokio::net::TcpStream, routes: &Routes) -> std::io::Result<()> {
    // keep the connection for as many requests as the client sends
    loop {
        let mut buf = Vec::with_capacity(2048);
        let mut chunk = [0u8; 2048];
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = sock.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
            if buf.len() > 64 * 1024 {
                return Ok(());
            }
        }
        let head = String::from_utf8_lossy(&buf);
        let mut lines = head.split("\r\n");
        let request = lines.next().unwrap_or("");
        let mut parts = request.split_whitespace();
        let method = parts.next().unwrap_or("GET").to_string();
        let path = parts
            .next()
            .unwrap_or("/")
            .split('?')
            .next()
            .unwrap_or("/")
            .to_string();
        let mut inm = None;
        let mut close = false;
        for l in lines {
            if let Some((k, v)) = l.split_once(':') {
                if k.eq_ignore_ascii_case("if-none-match") {
                    inm = Some(v.trim().to_string());
                } else if k.eq_ignore_ascii_case("connection")
                    && v.trim().eq_ignore_ascii_case("close")
                {
                    close = true;
                }
            }
        }
        let (status, res) = match routes.get(&path) {
            Some(r) if inm.as_deref() == Some(r.etag.as_str()) => ("304 Not Modified", Some(r)),
            Some(r) => ("200 OK", Some(r)),
            None => ("404 Not Found", None),
        };
        let mut out = format!("HTTP/1.1 {status}\r\nServer: vigie-demo\r\n");
        let body: &[u8] = match (status, res) {
            ("200 OK", Some(r)) => {
                out.push_str(&format!(
                    "Content-Type: {}\r\nETag: {}\r\n",
                    r.content_type, r.etag
                ));
                &r.body
            }
            ("304 Not Modified", Some(r)) => {
                out.push_str(&format!("ETag: {}\r\n", r.etag));
                b""
            }
            _ => b"not found\n",
        };
        out.push_str(&format!(
            "Content-Length: {}\r\n{}\r\n",
            body.len(),
            if close { "Connection: close\r\n" } else { "" }
        ));
        sock.write_all(out.as_bytes()).await?;
        if method != "HEAD" {
            sock.write_all(body).await?;
        }
        sock.flush().await?;
        if close {
            return Ok(());
        }
    }
}
