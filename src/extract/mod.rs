//! What vigie reads in a fetched body: the main text and metadata of a page, the items of a
//! feed, canonical URLs.

pub mod feed;
pub mod page;
pub mod url;

use serde_json::{json, Value};

/// Why a body is neither a page nor a feed.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("the body is empty")]
    Empty,
    #[error("the body is neither an HTML page nor a feed ({0})")]
    Unrecognised(String),
}

/// Detects whether `body` is a feed or a page and extracts it (`vigie extract`).
pub fn extract_body(body: &[u8], url: Option<&str>) -> Result<Value, ExtractError> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ExtractError::Empty);
    }
    let head = String::from_utf8_lossy(&body[..body.len().min(1024)]).to_ascii_lowercase();
    if head.contains("<rss")
        || head.contains("<feed")
        || head.contains("<rdf")
        || head.trim_start().starts_with('{')
    {
        if let Ok(feed) = feed_rs::parser::parse(body) {
            let items: Vec<Value> = feed
                .entries
                .iter()
                .map(|e| json!({"url": e.links.first().map(|l| l.href.clone()), "title": e.title.as_ref().map(|t| t.content.clone()), "text": e.summary.as_ref().map(|s| s.content.clone()), "published": e.published.or(e.updated).map(|d| d.to_rfc3339()), "author": e.authors.first().map(|a| a.name.clone())}))
                .collect();
            return Ok(
                json!({"kind": "feed", "title": feed.title.map(|t| t.content), "items": items}),
            );
        }
    }
    let text = String::from_utf8_lossy(body);
    if !head.contains('<') {
        return Err(ExtractError::Unrecognised("no markup".into()));
    }
    let p = page::extract_page(&text, url);
    Ok(
        json!({"kind": "page", "title": p.title, "text": p.text, "published": p.published.map(|d| d.to_rfc3339()), "author": p.author, "lang": p.lang, "canonical": p.canonical}),
    )
}

/// Plain text of an HTML fragment: tags dropped, entities decoded, whitespace collapsed.
pub fn html_to_text(fragment: &str) -> String {
    if !fragment.contains('<') && !fragment.contains('&') {
        return fragment.split_whitespace().collect::<Vec<_>>().join(" ");
    }
    let frag = scraper::Html::parse_fragment(fragment);
    let text: String = frag.root_element().text().collect::<Vec<_>>().join(" ");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
