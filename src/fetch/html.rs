//! What a watched HTML page offers: items picked by CSS selectors, the feed it announces
//! (`<link rel="alternate">`), or links to its articles.

use chrono::{DateTime, Utc};
use scraper::{ElementRef, Html, Selector};
use url::Url;

use crate::config::Selectors;

/// An item found on a page.
#[derive(Debug, Clone, PartialEq)]
pub struct PageItem {
    pub url: Url,
    pub title: String,
    /// The item's own text on the page (empty for bare links).
    pub text: String,
    pub published: Option<DateTime<Utc>>,
}

/// Most items read from one page.
pub const MAX_PAGE_ITEMS: usize = 200;

fn sel(s: &str) -> Option<Selector> {
    Selector::parse(s).ok()
}

fn squash(s: impl Iterator<Item = impl AsRef<str>>) -> String {
    let mut out = String::new();
    for part in s {
        for w in part.as_ref().split_whitespace() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(w);
        }
    }
    out
}

fn text_of(e: ElementRef<'_>) -> String {
    squash(e.text())
}

/// The base for relative links: `<base href>` when there is one, else the page address.
fn base_of(doc: &Html, page: &Url) -> Url {
    sel("base[href]")
        .and_then(|s| doc.select(&s).next())
        .and_then(|b| b.value().attr("href"))
        .and_then(|h| page.join(h.trim()).ok())
        .unwrap_or_else(|| page.clone())
}

fn link(base: &Url, href: &str) -> Option<Url> {
    let u = base.join(href.trim()).ok()?;
    matches!(u.scheme(), "http" | "https").then_some(u)
}

/// Items picked by the source's selectors. `item` selects the items; within each, `title`,
/// `link` and `date` select those parts (defaults: the first heading, the first link, the
/// first `<time>`). Items without a link are skipped.
pub fn select_items(html: &str, page: &Url, s: &Selectors) -> Vec<PageItem> {
    let doc = Html::parse_document(html);
    let base = base_of(&doc, page);
    let Some(item_sel) = s.item.as_deref().and_then(sel) else {
        return Vec::new();
    };
    let title_sel = sel(s.title.as_deref().unwrap_or("h1, h2, h3, h4, h5, h6"));
    let link_sel = sel(s.link.as_deref().unwrap_or("a[href]"));
    let date_sel = sel(s.date.as_deref().unwrap_or("time"));
    let mut out = Vec::new();
    for item in doc.select(&item_sel) {
        let first = |o: &Option<Selector>| o.as_ref().and_then(|x| item.select(x).next());
        let href = if item.value().name() == "a" {
            item.value().attr("href")
        } else {
            first(&link_sel).and_then(|l| {
                l.value().attr("href").or_else(|| {
                    l.select(&sel("a[href]").expect("static selector"))
                        .next()
                        .and_then(|a| a.value().attr("href"))
                })
            })
        };
        let Some(url) = href.and_then(|h| link(&base, h)) else {
            continue;
        };
        let title = first(&title_sel)
            .map(text_of)
            .filter(|t| !t.is_empty())
            .or_else(|| first(&link_sel).map(text_of))
            .unwrap_or_default();
        let published = first(&date_sel).and_then(|d| {
            ["datetime", "content", "title"]
                .iter()
                .filter_map(|a| d.value().attr(a))
                .find_map(crate::time::parse_date)
                .or_else(|| crate::time::parse_date(&text_of(d)))
        });
        out.push(PageItem {
            url,
            title,
            text: body_text(
                item,
                &[first(&title_sel), first(&date_sel), first(&link_sel)],
            ),
            published,
        });
        if out.len() >= MAX_PAGE_ITEMS {
            break;
        }
    }
    out
}

/// The text of an item without the parts already read apart (its title, date and link).
fn body_text(item: ElementRef<'_>, parts: &[Option<ElementRef<'_>>]) -> String {
    let skip: Vec<_> = parts.iter().flatten().map(|e| e.id()).collect();
    let texts = item.descendants().filter_map(|n| {
        let t = n.value().as_text()?;
        let inside_skipped = n.ancestors().any(|a| skip.contains(&a.id()));
        (!inside_skipped).then_some(&**t)
    });
    let body = squash(texts);
    if body.is_empty() {
        text_of(item)
    } else {
        body
    }
}

/// The feed a page announces with `<link rel="alternate" type="application/rss+xml">` (or
/// Atom, JSON Feed): the first one, comment feeds last.
pub fn discover_feed(html: &str, page: &Url) -> Option<Url> {
    let doc = Html::parse_document(html);
    let base = base_of(&doc, page);
    let links = sel("link[href]")?;
    let found: Vec<(bool, Url)> = doc
        .select(&links)
        .filter_map(|l| {
            let v = l.value();
            let rel = v.attr("rel")?.to_ascii_lowercase();
            if !rel.split_whitespace().any(|r| r == "alternate") {
                return None;
            }
            let ty = v.attr("type")?.trim().to_ascii_lowercase();
            let feed_type = [
                "application/rss+xml",
                "application/atom+xml",
                "application/feed+json",
                "application/rdf+xml",
                "application/json",
            ]
            .iter()
            .any(|t| ty.starts_with(t));
            if !feed_type {
                return None;
            }
            let url = link(&base, v.attr("href")?)?;
            let comments = v
                .attr("title")
                .unwrap_or_default()
                .to_lowercase()
                .contains("comment")
                || url.path().to_ascii_lowercase().contains("comment");
            Some((comments, url))
        })
        .collect();
    found
        .iter()
        .find(|(comments, _)| !comments)
        .or(found.first())
        .map(|(_, u)| u.clone())
}

/// Links to the page's articles when it has no selectors and no feed: the first link of
/// each `<article>`, else links in headings; same host as the page only.
pub fn article_links(html: &str, page: &Url) -> Vec<PageItem> {
    let doc = Html::parse_document(html);
    let base = base_of(&doc, page);
    let mut out: Vec<PageItem> = Vec::new();
    let push = |out: &mut Vec<PageItem>, a: ElementRef<'_>, title: String| -> bool {
        let Some(url) = a.value().attr("href").and_then(|h| link(&base, h)) else {
            return false;
        };
        if url.host_str() != page.host_str() || url.path() == page.path() {
            return false;
        }
        if out.iter().any(|i| i.url == url) || out.len() >= MAX_PAGE_ITEMS {
            return false;
        }
        out.push(PageItem {
            url,
            title,
            text: String::new(),
            published: None,
        });
        true
    };
    let a_sel = sel("a[href]").expect("static selector");
    let h_sel = sel("h1, h2, h3, h4").expect("static selector");
    let time_sel = sel("time").expect("static selector");
    if let Some(articles) = sel("article") {
        for art in doc.select(&articles) {
            if let Some(a) = art.select(&a_sel).next() {
                let title = art
                    .select(&h_sel)
                    .next()
                    .map(text_of)
                    .filter(|t| !t.is_empty())
                    .unwrap_or_else(|| text_of(a));
                if !push(&mut out, a, title) {
                    continue;
                }
                if let (Some(last), Some(t)) = (out.last_mut(), art.select(&time_sel).next()) {
                    last.published = t.value().attr("datetime").and_then(crate::time::parse_date);
                }
            }
        }
    }
    if out.is_empty() {
        if let Some(in_headings) = sel("h1 a[href], h2 a[href], h3 a[href]") {
            for a in doc.select(&in_headings) {
                let t = text_of(a);
                push(&mut out, a, t);
            }
        }
    }
    out
}

/// Whether a Content-Type (or, without one, the body) is HTML.
pub fn is_html(content_type: Option<&str>, body: &[u8]) -> bool {
    match content_type.map(|c| c.to_ascii_lowercase()) {
        Some(c) if c.contains("html") => true,
        Some(c)
            if c.starts_with("text/plain")
                || c.starts_with("application/octet-stream")
                || c.is_empty() =>
        {
            sniff_html(body)
        }
        Some(_) => false,
        None => sniff_html(body),
    }
}

fn sniff_html(body: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&body[..body.len().min(1024)]).to_ascii_lowercase();
    let h = head.trim_start_matches('\u{feff}').trim_start();
    h.starts_with("<!doctype html") || h.starts_with("<html") || head.contains("<body")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> Url {
        Url::parse("https://news.example/actu/").unwrap()
    }

    #[test]
    fn selectors_pick_items() {
        let html = r#"<html><body><nav><a href="/">Home</a></nav>
<div class="news-item"><h3>Panne réseau</h3><a href="a1.html">lire</a><time datetime="2026-10-05T08:00:00Z">5 oct.</time><p>Le réseau est en panne.</p></div>
<div class="news-item"><h3>Sans lien</h3></div>
<div class="news-item"><span class="t">Fibre</span><a href="https://other.example/b">b</a><span class="d">2026-10-04</span></div>
</body></html>"#;
        let s = Selectors {
            item: Some(".news-item".into()),
            title: None,
            link: None,
            date: None,
        };
        let items = select_items(html, &page(), &s);
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].url.as_str(), "https://news.example/actu/a1.html");
        assert_eq!(items[0].title, "Panne réseau");
        assert!(items[0].text.contains("en panne"));
        assert_eq!(
            items[0].published.unwrap().to_rfc3339(),
            "2026-10-05T08:00:00+00:00"
        );
        let s = Selectors {
            item: Some(".news-item".into()),
            title: Some(".t".into()),
            link: Some("a".into()),
            date: Some(".d".into()),
        };
        let items = select_items(html, &page(), &s);
        assert_eq!(items.len(), 2);
        assert_eq!(items[1].title, "Fibre");
        assert!(items[1].published.is_some());
    }

    #[test]
    fn finds_the_announced_feed_and_article_links() {
        let html = r#"<html><head><base href="https://news.example/"><link rel="alternate" type="application/rss+xml" title="Comments" href="/comments/feed"><link rel="stylesheet" href="s.css"><link rel="alternate" type="application/atom+xml" href="/feed.atom"></head><body></body></html>"#;
        assert_eq!(
            discover_feed(html, &page()).unwrap().as_str(),
            "https://news.example/feed.atom"
        );
        assert!(discover_feed("<html><head></head></html>", &page()).is_none());
        let html = r#"<body><article><h2>Un</h2><a href="/a/1">x</a><time datetime="2026-10-01">1</time></article><article><a href="https://elsewhere.example/2">deux</a></article><article><h2>Trois</h2><a href="/a/3">y</a></article></body>"#;
        let links = article_links(html, &page());
        let urls: Vec<&str> = links.iter().map(|l| l.url.as_str()).collect();
        assert_eq!(
            urls,
            ["https://news.example/a/1", "https://news.example/a/3"]
        );
        assert_eq!(links[0].title, "Un");
        assert!(links[0].published.is_some());
    }

    #[test]
    fn html_detection() {
        assert!(is_html(Some("text/html; charset=utf-8"), b""));
        assert!(!is_html(Some("application/pdf"), b"%PDF"));
        assert!(is_html(None, b"<!DOCTYPE html><html>"));
        assert!(is_html(Some("text/plain"), b"\n<html><body>x"));
    }
}
