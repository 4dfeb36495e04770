//! Feeds: RSS 0.9x/1.0/2.0, Atom and JSON Feed, through feed-rs, as plain-text items.

use chrono::{DateTime, Utc};

/// One item of a feed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedItem {
    /// Absolute link to the item's page, when it has one.
    pub url: Option<String>,
    /// Plain text (HTML removed, entities decoded).
    pub title: String,
    /// Plain text of the summary or content.
    pub text: String,
    pub published: Option<DateTime<Utc>>,
    pub author: Option<String>,
}

/// A parsed feed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedFeed {
    pub title: String,
    /// Language announced by the feed.
    pub lang: Option<String>,
    pub items: Vec<FeedItem>,
}

/// Why a body is not a readable feed.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("not a feed: {0}")]
    NotAFeed(String),
}

/// Whether a body looks like a feed (by its first bytes), before parsing it.
pub fn looks_like_feed(body: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&body[..body.len().min(2048)]).to_ascii_lowercase();
    head.contains("<rss")
        || head.contains("<feed")
        || head.contains("<rdf:rdf")
        || (head.trim_start().starts_with('{') && head.contains("jsonfeed"))
}

/// Parses a feed from its raw bytes (encodings are sniffed); relative links resolve against
/// `base_url`.
pub fn parse_feed(body: &[u8], base_url: Option<&str>) -> Result<ParsedFeed, FeedError> {
    let parser = feed_rs::parser::Builder::new().base_uri(base_url).build();
    let feed = parser
        .parse(body)
        .map_err(|e| FeedError::NotAFeed(e.to_string()))?;
    let text_of = |t: &feed_rs::model::Text| super::html_to_text(&t.content);
    let items = feed
        .entries
        .iter()
        .map(|e| FeedItem {
            url: e
                .links
                .iter()
                .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
                .or(e.links.first())
                .map(|l| l.href.clone()),
            title: e.title.as_ref().map(text_of).unwrap_or_default(),
            text: e
                .content
                .as_ref()
                .and_then(|c| c.body.as_deref())
                .map(super::html_to_text)
                .filter(|t| !t.is_empty())
                .or_else(|| e.summary.as_ref().map(text_of))
                .unwrap_or_default(),
            published: e.published.or(e.updated),
            author: e
                .authors
                .first()
                .and_then(|a| a.name.clone())
                .filter(|n| !n.is_empty()),
        })
        .collect();
    Ok(ParsedFeed {
        title: feed.title.as_ref().map(text_of).unwrap_or_default(),
        lang: feed.language.clone(),
        items,
    })
}
