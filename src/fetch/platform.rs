//! What each platform answers, read into items: pure functions over one response body, no
//! I/O, so every format is tested from fixtures.
//!
//! Each reader keeps what it can: an item without an address or with a date that does not
//! parse is counted in [`Answer::problems`] (the source's health names them) and the other
//! items go on.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;

use crate::analyze::lang::Lang;
use crate::config::JsonItems;
use crate::extract::date::parse_date;
use crate::extract::decode::html_to_text;
use crate::extract::feed::{looks_like_feed, parse_feed};

/// One platform item (one post, comment, article, review): one document.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Found {
    /// The document's address, its identity (a review's address carries its id).
    pub url: String,
    pub title: String,
    pub text: String,
    pub published: Option<DateTime<Utc>>,
    pub author: Option<String>,
    /// The author's audience, where the platform says.
    pub followers: Option<u64>,
    /// An app review's stars (1 to 5).
    pub rating: Option<u8>,
    pub lang: Option<Lang>,
    /// The platform's own position of the item (HN `created_at_i`, a Mastodon status id,
    /// GDELT's seen date as seconds), for the cursor.
    pub position: Option<i128>,
}

/// One answer read.
#[derive(Debug, Clone, Default)]
pub struct Answer {
    pub items: Vec<Found>,
    /// Pages the platform has for this query (HN's `nbPages`).
    pub pages: Option<usize>,
    /// The platform's token for the next page (Bluesky's `cursor`).
    pub next: Option<String>,
    /// What was wrong with parts of the answer, one line each.
    pub problems: Vec<String>,
}

/// Why a whole answer cannot be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FormatError {
    #[error(
        "an HTML page where {expected} was expected (a block page, a captcha or a login wall?)"
    )]
    Html { expected: &'static str },
    #[error("malformed JSON: {0}")]
    Json(String),
    #[error("not a feed: {0}")]
    Feed(String),
    #[error("unexpected JSON: {0}")]
    Shape(String),
}

/// Whether a body is an HTML page.
fn is_html_body(body: &[u8]) -> bool {
    let head: Vec<u8> = body
        .iter()
        .skip_while(|b| b.is_ascii_whitespace())
        .take(512)
        .map(|b| b.to_ascii_lowercase())
        .collect();
    head.starts_with(b"<!doctype html")
        || head.starts_with(b"<html")
        || (head.starts_with(b"<") && head.windows(5).any(|w| w == b"<body" || w == b"<head"))
}

fn json(body: &[u8]) -> Result<Value, FormatError> {
    if is_html_body(body) {
        return Err(FormatError::Html { expected: "JSON" });
    }
    serde_json::from_slice(body).map_err(|e| FormatError::Json(e.to_string()))
}

fn s(v: &Value, k: &str) -> Option<String> {
    match v.get(k)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `{"label": "..."}` of the iTunes JSON.
fn label(v: &Value, k: &str) -> Option<String> {
    s(v.get(k)?, "label")
}

fn count(problems: &mut Vec<String>, n: usize, what: &str) {
    if n > 0 {
        problems.push(format!("{n} {what}"));
    }
}

/// A date in an item: RFC 3339 and the other usual forms, or unix seconds (milliseconds when
/// the number is that large).
pub fn item_date(v: &Value) -> Option<DateTime<Utc>> {
    match v {
        Value::Number(n) => {
            let x = n.as_f64()?;
            let secs = if x > 1e11 { x / 1000.0 } else { x };
            Utc.timestamp_opt(secs as i64, 0).single()
        }
        Value::String(s) => {
            let t = s.trim();
            if !t.is_empty() && t.len() <= 13 && t.bytes().all(|b| b.is_ascii_digit()) {
                return item_date(&Value::from(t.parse::<f64>().ok()?));
            }
            parse_date(t)
        }
        _ => None,
    }
}

/// An RSS or Atom answer (Google News, Reddit).
pub fn feed(body: &[u8], base: &str) -> Result<Answer, FormatError> {
    if !looks_like_feed(body) && is_html_body(body) {
        return Err(FormatError::Html { expected: "a feed" });
    }
    let f = parse_feed(body, Some(base)).map_err(|e| FormatError::Feed(e.to_string()))?;
    let mut a = Answer::default();
    let mut linkless = 0;
    for it in f.items {
        let Some(url) = it.url.filter(|u| u.starts_with("http")) else {
            linkless += 1;
            continue;
        };
        a.items.push(Found {
            url,
            title: it.title,
            text: it.text,
            published: it.published,
            author: it.author,
            ..Default::default()
        });
    }
    count(&mut a.problems, linkless, "items without a link skipped");
    Ok(a)
}

/// Google News: the title ends with ` - Publisher`, the description repeats the title and
/// names the publisher: the publisher becomes the author, the text is left empty.
pub fn google_news(body: &[u8], base: &str) -> Result<Answer, FormatError> {
    let mut a = feed(body, base)?;
    for it in &mut a.items {
        let desc = std::mem::take(&mut it.text);
        if let Some((head, publisher)) = it.title.rsplit_once(" - ") {
            let publisher = publisher.trim();
            if !publisher.is_empty() && (desc.is_empty() || desc.trim_end().ends_with(publisher)) {
                it.author.get_or_insert_with(|| publisher.to_string());
                it.title = head.trim().to_string();
            }
        }
    }
    Ok(a)
}

/// Reddit's Atom: the author is `/u/name`; the content ends with "submitted by … [link]
/// [comments]", which is not the post's text.
pub fn reddit(body: &[u8], base: &str) -> Result<Answer, FormatError> {
    let mut a = feed(body, base)?;
    for it in &mut a.items {
        if let Some(name) = it.author.as_deref() {
            let n = name
                .trim()
                .trim_start_matches("/u/")
                .trim_start_matches("u/");
            it.author = Some(n.to_string());
        }
        if let Some(i) = it.text.rfind("submitted by") {
            it.text = it.text[..i].trim().to_string();
        }
    }
    Ok(a)
}

fn gdelt_lang(name: &str) -> Option<Lang> {
    Lang::from_code(match name.trim().to_ascii_lowercase().as_str() {
        "french" => "fr",
        "english" => "en",
        "german" => "de",
        "spanish" => "es",
        "italian" => "it",
        "portuguese" => "pt",
        "dutch" => "nl",
        _ => return None,
    })
}

/// GDELT's `seendate`: `20261201T101500Z`.
pub fn gdelt_date(s: &str) -> Option<DateTime<Utc>> {
    chrono::NaiveDateTime::parse_from_str(s.trim(), "%Y%m%dT%H%M%SZ")
        .ok()
        .map(|d| d.and_utc())
        .or_else(|| parse_date(s))
}

/// A GDELT DOC `artlist` in JSON. `{}` is what GDELT answers when nothing matched.
pub fn gdelt(body: &[u8]) -> Result<Answer, FormatError> {
    let trimmed = String::from_utf8_lossy(body);
    let t = trimmed.trim();
    if !t.starts_with('{') && !t.starts_with('<') && !t.is_empty() {
        // GDELT explains a refused query in plain text
        return Err(FormatError::Shape(t.chars().take(160).collect()));
    }
    let v = json(body)?;
    let mut a = Answer::default();
    let Some(arts) = v.get("articles") else {
        return Ok(a);
    };
    let Some(arts) = arts.as_array() else {
        return Err(FormatError::Shape("\"articles\" is not a list".into()));
    };
    let (mut linkless, mut undated) = (0, 0);
    for art in arts {
        let Some(url) = s(art, "url").filter(|u| u.starts_with("http")) else {
            linkless += 1;
            continue;
        };
        let published = s(art, "seendate").and_then(|d| gdelt_date(&d));
        if published.is_none() {
            undated += 1;
        }
        a.items.push(Found {
            url,
            title: s(art, "title").unwrap_or_default(),
            published,
            author: s(art, "domain"),
            lang: s(art, "language").and_then(|l| gdelt_lang(&l)),
            position: published.map(|d| d.timestamp() as i128),
            ..Default::default()
        });
    }
    count(&mut a.problems, linkless, "articles without a url skipped");
    count(
        &mut a.problems,
        undated,
        "articles with a seendate that does not parse",
    );
    Ok(a)
}

/// HN's discussion page of an item.
pub fn hn_item_url(id: &str) -> String {
    format!("https://news.ycombinator.com/item?id={id}")
}

/// An Algolia HN `search_by_date` answer: stories and comments, with `nbPages`.
pub fn hn(body: &[u8]) -> Result<Answer, FormatError> {
    let v = json(body)?;
    let Some(hits) = v.get("hits").and_then(Value::as_array) else {
        return Err(FormatError::Shape("no \"hits\" list".into()));
    };
    let mut a = Answer {
        pages: v.get("nbPages").and_then(Value::as_u64).map(|n| n as usize),
        ..Default::default()
    };
    let (mut idless, mut undated) = (0, 0);
    for h in hits {
        let Some(id) = s(h, "objectID") else {
            idless += 1;
            continue;
        };
        let at = h.get("created_at_i").and_then(Value::as_i64);
        let published = at
            .and_then(|t| Utc.timestamp_opt(t, 0).single())
            .or_else(|| s(h, "created_at").and_then(|d| parse_date(&d)));
        if published.is_none() {
            undated += 1;
        }
        let html = |k: &str| s(h, k).map(|t| html_to_text(&t)).unwrap_or_default();
        let (title, text) = match s(h, "title") {
            // a story's link is not its text: the discussion page is the document
            Some(t) => (html_to_text(&t), html("story_text")),
            None => (
                s(h, "story_title")
                    .map(|t| format!("Re: {}", html_to_text(&t)))
                    .unwrap_or_default(),
                html("comment_text"),
            ),
        };
        a.items.push(Found {
            url: hn_item_url(&id),
            title,
            text,
            published,
            author: s(h, "author"),
            lang: None,
            position: at.map(i128::from),
            ..Default::default()
        });
    }
    count(&mut a.problems, idless, "hits without an objectID skipped");
    count(
        &mut a.problems,
        undated,
        "hits with a date that does not parse",
    );
    Ok(a)
}

/// A Mastodon status id as a number (ids are decimal strings that grow with time).
pub fn status_id(s: &str) -> Option<i128> {
    let s = s.trim();
    (!s.is_empty() && s.len() <= 38 && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// A Mastodon timeline: an array of statuses (HTML content; `#<span>Tag</span>` reads `#Tag`).
pub fn mastodon(body: &[u8]) -> Result<Answer, FormatError> {
    let v = json(body)?;
    let Some(list) = v.as_array() else {
        return Err(FormatError::Shape(match v.get("error") {
            Some(e) => format!("the instance says {e}"),
            None => "not a list of statuses".into(),
        }));
    };
    let mut a = Answer::default();
    let (mut linkless, mut undated) = (0, 0);
    for st in list {
        // a boost carries the boosted status
        let st = match st.get("reblog") {
            Some(r) if r.is_object() => r,
            _ => st,
        };
        let Some(url) = s(st, "url")
            .or_else(|| s(st, "uri"))
            .filter(|u| u.starts_with("http"))
        else {
            linkless += 1;
            continue;
        };
        let published = s(st, "created_at").and_then(|d| parse_date(&d));
        if published.is_none() {
            undated += 1;
        }
        let acct = st.get("account");
        let author = acct
            .and_then(|a| s(a, "acct"))
            .map(|a| format!("@{}", a.trim_start_matches('@')))
            .or_else(|| acct.and_then(|a| s(a, "display_name")));
        let mut text = s(st, "content")
            .map(|c| html_to_text(&c))
            .unwrap_or_default();
        if let Some(cw) = s(st, "spoiler_text") {
            text = format!("{cw}\n\n{text}");
        }
        a.items.push(Found {
            url,
            title: String::new(),
            text,
            published,
            author,
            followers: acct
                .and_then(|a| a.get("followers_count"))
                .and_then(Value::as_u64),
            lang: s(st, "language").and_then(|l| Lang::from_code(&l)),
            position: s(st, "id").and_then(|i| status_id(&i)),
            ..Default::default()
        });
    }
    count(&mut a.problems, linkless, "statuses without a url skipped");
    count(
        &mut a.problems,
        undated,
        "statuses with a date that does not parse",
    );
    Ok(a)
}

/// The address of one App Store review (all reviews of an app share their `link`).
pub fn review_url(country: &str, app: &str, id: &str) -> String {
    format!("https://apps.apple.com/{country}/app/id{app}?see-all=reviews&review={id}")
}

/// The iTunes customer reviews JSON of one app. `entry` is a list, or one object when there
/// is one review; an entry without a rating describes the app, not a review.
pub fn app_reviews(body: &[u8], country: &str, app: &str) -> Result<Answer, FormatError> {
    let v = json(body)?;
    let Some(feed) = v.get("feed") else {
        return Err(FormatError::Shape("no \"feed\"".into()));
    };
    let entries: Vec<&Value> = match feed.get("entry") {
        None => Vec::new(),
        Some(Value::Array(a)) => a.iter().collect(),
        Some(o @ Value::Object(_)) => vec![o],
        Some(_) => {
            return Err(FormatError::Shape(
                "\"entry\" is neither a list nor an object".into(),
            ))
        }
    };
    let mut a = Answer::default();
    let (mut idless, mut undated) = (0, 0);
    for e in entries {
        let Some(rating) = label(e, "im:rating") else {
            continue;
        };
        let Some(id) = label(e, "id") else {
            idless += 1;
            continue;
        };
        let published = label(e, "updated").and_then(|d| parse_date(&d));
        if published.is_none() {
            undated += 1;
        }
        a.items.push(Found {
            url: review_url(country, app, &id),
            title: label(e, "title").unwrap_or_default(),
            text: label(e, "content").unwrap_or_default(),
            published,
            author: e.get("author").and_then(|au| label(au, "name")),
            rating: rating.trim().parse().ok().filter(|r| (1..=5).contains(r)),
            ..Default::default()
        });
    }
    count(&mut a.problems, idless, "reviews without an id skipped");
    count(
        &mut a.problems,
        undated,
        "reviews with a date that does not parse",
    );
    Ok(a)
}

/// A JSON API answer mapped by JSONPath: `map.path` selects the items, each field is read
/// relative to one item (first match).
pub fn json_items(body: &[u8], map: &JsonItems, base: &url::Url) -> Result<Answer, FormatError> {
    use serde_json_path::JsonPath;
    let v = json(body)?;
    let compile = |p: &str| JsonPath::parse(p).map_err(|e| FormatError::Shape(format!("{p}: {e}")));
    let items = compile(&map.path)?;
    let field = |p: &Option<String>| p.as_deref().map(compile).transpose();
    let (url, title, text, published, author, followers, next) = (
        compile(&map.url)?,
        field(&map.title)?,
        field(&map.text)?,
        field(&map.published)?,
        field(&map.author)?,
        field(&map.followers)?,
        field(&map.next)?,
    );
    let nodes = items.query(&v).all();
    let mut a = Answer {
        next: next
            .as_ref()
            .and_then(|p| {
                p.query(&v)
                    .first()
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .filter(|n| !n.trim().is_empty()),
        ..Default::default()
    };
    if nodes.is_empty() {
        a.problems
            .push(format!("the items path {} matched nothing", map.path));
        return Ok(a);
    }
    let first = |p: &Option<JsonPath>, it: &Value| -> Option<Value> {
        p.as_ref()?.query(it).first().cloned()
    };
    let text_of = |v: Option<Value>| -> String {
        match v {
            Some(Value::String(s)) => s.trim().to_string(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        }
    };
    let (mut linkless, mut undated) = (0, 0);
    for it in nodes {
        let link = url
            .query(it)
            .first()
            .and_then(Value::as_str)
            .and_then(|u| base.join(u.trim()).ok())
            .filter(|u| matches!(u.scheme(), "http" | "https"));
        let Some(link) = link else {
            linkless += 1;
            continue;
        };
        let date = first(&published, it);
        let when = date.as_ref().and_then(item_date);
        if date.as_ref().is_some_and(|d| !d.is_null()) && when.is_none() {
            undated += 1;
        }
        let author = Some(text_of(first(&author, it))).filter(|a| !a.is_empty());
        a.items.push(Found {
            url: link.to_string(),
            title: html_to_text(&text_of(first(&title, it))),
            text: html_to_text(&text_of(first(&text, it))),
            published: when,
            author,
            followers: first(&followers, it).and_then(|f| match f {
                Value::Number(n) => n.as_u64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            }),
            position: when.map(|d| d.timestamp() as i128),
            ..Default::default()
        });
    }
    count(&mut a.problems, linkless, "items without a url skipped");
    count(
        &mut a.problems,
        undated,
        "items with a date that does not parse",
    );
    Ok(a)
}

/// Bluesky `app.bsky.feed.searchPosts`: `{"posts": [...], "cursor"}`; a post's address is
/// its web page, `https://bsky.app/profile/HANDLE/post/RKEY`.
pub fn bluesky(body: &[u8]) -> Result<Answer, FormatError> {
    let v = json(body)?;
    let Some(posts) = v.get("posts").and_then(Value::as_array) else {
        return Err(FormatError::Shape("no \"posts\" list".into()));
    };
    let mut a = Answer {
        next: s(&v, "cursor"),
        ..Default::default()
    };
    let (mut linkless, mut undated) = (0, 0);
    for p in posts {
        let author = p.get("author");
        let handle = author.and_then(|au| s(au, "handle"));
        let rkey = s(p, "uri").and_then(|u| u.rsplit('/').next().map(str::to_string));
        let (Some(handle), Some(rkey)) = (handle, rkey) else {
            linkless += 1;
            continue;
        };
        let record = p.get("record");
        let published = record
            .and_then(|r| s(r, "createdAt"))
            .and_then(|d| parse_date(&d));
        if published.is_none() {
            undated += 1;
        }
        let indexed = s(p, "indexedAt").and_then(|d| parse_date(&d)).or(published);
        a.items.push(Found {
            url: format!("https://bsky.app/profile/{handle}/post/{rkey}"),
            text: record.and_then(|r| s(r, "text")).unwrap_or_default(),
            published,
            author: Some(format!("@{handle}")),
            followers: author
                .and_then(|au| au.get("followersCount"))
                .and_then(Value::as_u64),
            lang: record
                .and_then(|r| r.get("langs"))
                .and_then(Value::as_array)
                .and_then(|l| l.first())
                .and_then(Value::as_str)
                .and_then(Lang::from_code),
            position: indexed.map(|d| d.timestamp() as i128),
            ..Default::default()
        });
    }
    count(
        &mut a.problems,
        linkless,
        "posts without an author handle or uri skipped",
    );
    count(
        &mut a.problems,
        undated,
        "posts with a date that does not parse",
    );
    Ok(a)
}
