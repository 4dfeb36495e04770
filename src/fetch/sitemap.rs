//! Sitemaps (sitemaps.org 0.9), news sitemaps (Google News `news:` extension), sitemap
//! index files, gzip-compressed sitemaps and plain-text URL lists.

use std::io::Read;

use chrono::{DateTime, Utc};

use super::markup::{local, tokens, Token};

/// One `<url>` or `<sitemap>` entry.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Entry {
    pub loc: String,
    /// `<lastmod>` as written (compared as is to know whether a child sitemap changed).
    pub lastmod: Option<String>,
    /// `news:title`.
    pub title: Option<String>,
    /// `news:publication_date`, else `lastmod`.
    pub published: Option<DateTime<Utc>>,
    /// `news:language`.
    pub lang: Option<String>,
}

/// What a sitemap lists.
#[derive(Debug, Clone, PartialEq)]
pub enum Sitemap {
    /// Other sitemaps.
    Index(Vec<Entry>),
    /// Pages.
    Urls(Vec<Entry>),
}

/// Why a body is not a sitemap.
#[derive(Debug, thiserror::Error)]
pub enum SitemapError {
    #[error("not a sitemap (no <urlset>, <sitemapindex> or list of addresses)")]
    NotASitemap,
    #[error("cannot decompress the gzip sitemap: {0}")]
    Gzip(String),
}

/// Most entries read from one sitemap (the protocol's own limit).
pub const MAX_ENTRIES: usize = 50_000;

/// Decompresses a gzip body (sitemaps are often served as `.xml.gz` without
/// Content-Encoding), reading at most `max` bytes; other bodies are returned as they are.
pub fn maybe_gunzip(body: Vec<u8>, max: u64) -> Result<Vec<u8>, SitemapError> {
    if !body.starts_with(&[0x1f, 0x8b]) {
        return Ok(body);
    }
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(&body[..])
        .take(max)
        .read_to_end(&mut out)
        .map_err(|e| SitemapError::Gzip(e.to_string()))?;
    Ok(out)
}

/// Parses a sitemap, a sitemap index or a plain-text list of addresses.
pub fn parse_sitemap(body: &[u8]) -> Result<Sitemap, SitemapError> {
    let text = super::markup::decode_xml(body);
    let mut kind: Option<bool> = None; // Some(true) = index
    let mut entries = Vec::new();
    let mut cur: Option<Entry> = None;
    let mut field: Option<&'static str> = None;
    let mut buf = String::new();
    for tok in tokens(&text) {
        match tok {
            Token::Start { name, .. } => {
                let (prefixed, l) = (name.contains(':'), local(name));
                match l {
                    "urlset" if kind.is_none() => kind = Some(false),
                    "sitemapindex" if kind.is_none() => kind = Some(true),
                    "url" | "sitemap" if !prefixed => cur = Some(Entry::default()),
                    "loc" if !prefixed => field = Some("loc"),
                    "lastmod" if !prefixed => field = Some("lastmod"),
                    "title" if prefixed => field = Some("title"),
                    "publication_date" => field = Some("publication_date"),
                    "language" if prefixed => field = Some("language"),
                    _ => {}
                }
                buf.clear();
            }
            Token::Text(t) => {
                if field.is_some() {
                    buf.push_str(&t);
                }
            }
            Token::End { name } => {
                let l = local(name);
                if let (Some(f), Some(e)) = (field, cur.as_mut()) {
                    let v = buf.trim().to_string();
                    if !v.is_empty() {
                        match f {
                            "loc" => e.loc = v,
                            "lastmod" => e.lastmod = Some(v),
                            "title" => e.title = Some(v),
                            "publication_date" => e.published = crate::time::parse_date(&v),
                            _ => e.lang = Some(v),
                        }
                    }
                    field = None;
                    buf.clear();
                }
                if (l == "url" || l == "sitemap") && !name.contains(':') {
                    if let Some(mut e) = cur.take() {
                        if !e.loc.is_empty() && entries.len() < MAX_ENTRIES {
                            if e.published.is_none() {
                                e.published =
                                    e.lastmod.as_deref().and_then(crate::time::parse_date);
                            }
                            entries.push(e);
                        }
                    }
                }
            }
        }
    }
    match kind {
        Some(true) => Ok(Sitemap::Index(entries)),
        Some(false) => Ok(Sitemap::Urls(entries)),
        None => {
            // a text sitemap: one absolute address a line
            let lines: Vec<&str> = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect();
            if !lines.is_empty()
                && lines.iter().all(|l| {
                    (l.starts_with("http://") || l.starts_with("https://")) && !l.contains(' ')
                })
            {
                Ok(Sitemap::Urls(
                    lines
                        .into_iter()
                        .take(MAX_ENTRIES)
                        .map(|l| Entry {
                            loc: l.to_string(),
                            ..Default::default()
                        })
                        .collect(),
                ))
            } else {
                Err(SitemapError::NotASitemap)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn news_sitemap() {
        let body = r#"<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9" xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
 <url><loc>https://news.example/a?x=1&amp;y=2</loc>
  <image:image><image:loc>https://news.example/a.jpg</image:loc></image:image>
  <news:news><news:publication><news:name>Ex</news:name><news:language>fr</news:language></news:publication>
   <news:publication_date>2026-10-05T08:00:00+02:00</news:publication_date>
   <news:title>Panne &amp; colère</news:title></news:news>
 </url>
 <url><loc> https://news.example/b </loc><lastmod>2026-10-04</lastmod></url>
 <url><lastmod>2026-10-04</lastmod></url>
</urlset>"#;
        let Sitemap::Urls(u) = parse_sitemap(body.as_bytes()).unwrap() else {
            panic!("urls expected")
        };
        assert_eq!(u.len(), 2);
        assert_eq!(u[0].loc, "https://news.example/a?x=1&y=2");
        assert_eq!(u[0].title.as_deref(), Some("Panne & colère"));
        assert_eq!(u[0].lang.as_deref(), Some("fr"));
        assert_eq!(
            u[0].published.unwrap().to_rfc3339(),
            "2026-10-05T06:00:00+00:00"
        );
        assert_eq!(u[1].loc, "https://news.example/b");
        assert_eq!(u[1].lastmod.as_deref(), Some("2026-10-04"));
        assert!(u[1].published.is_some());
    }

    #[test]
    fn index_text_and_gzip() {
        let idx = b"<sitemapindex><sitemap><loc>https://e.example/s1.xml.gz</loc><lastmod>2026-10-01</lastmod></sitemap></sitemapindex>";
        let Sitemap::Index(i) = parse_sitemap(idx).unwrap() else {
            panic!()
        };
        assert_eq!(i[0].loc, "https://e.example/s1.xml.gz");
        let txt = b"https://e.example/1\nhttps://e.example/2\n";
        assert!(matches!(parse_sitemap(txt).unwrap(), Sitemap::Urls(u) if u.len() == 2));
        assert!(parse_sitemap(b"<html><body>hello</body></html>").is_err());
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, idx).unwrap();
        let gz = gz.finish().unwrap();
        assert_eq!(maybe_gunzip(gz, 1 << 20).unwrap(), idx);
        assert_eq!(maybe_gunzip(b"plain".to_vec(), 10).unwrap(), b"plain");
    }
}
