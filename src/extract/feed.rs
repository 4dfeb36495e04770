//! Feeds: RSS 0.9x, 1.0 (RDF) and 2.0, Atom 0.3 and 1.0, CDF and JSON Feed, as plain-text
//! items.
//!
//! XML feeds are read by a tolerant reader ([`super::xml`]): an ill-formed feed (unclosed
//! elements, stray ampersands, HTML entities, a wrong encoding label) yields what it holds
//! instead of an error, and declared entities are never expanded. Text constructs follow
//! their declared type: Atom `text` stays literal, `html` and RSS fields are HTML turned to
//! text, `xhtml` is read as markup, `base64` is decoded. Links resolve against `xml:base`,
//! then the feed's URL, then the feed's own link. Dates are normalised to UTC.
//! JSON Feed goes through feed-rs.

use chrono::{DateTime, Utc};

use super::xml::{self, Doc};

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

/// Most items read from one feed.
pub const MAX_ITEMS: usize = 10_000;

// ---------------------------------------------------------------------------------------------
// decoding

fn utf32(body: &[u8], le: bool) -> String {
    body.chunks_exact(4)
        .map(|c| {
            let v = if le {
                u32::from_le_bytes([c[0], c[1], c[2], c[3]])
            } else {
                u32::from_be_bytes([c[0], c[1], c[2], c[3]])
            };
            char::from_u32(v).unwrap_or('\u{FFFD}')
        })
        .collect()
}

/// The `encoding` of an XML declaration at the start of `head`.
fn declared_encoding(head: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    let head = &head[..head.len().min(512)];
    let s = String::from_utf8_lossy(head);
    let decl_end = s.find("?>")?;
    let decl = &s[..decl_end];
    let at = decl.find("encoding")?;
    let rest = decl[at + 8..].trim_start().strip_prefix('=')?.trim_start();
    let q = rest.chars().next()?;
    let rest = &rest[q.len_utf8()..];
    let end = rest.find(q)?;
    encoding_rs::Encoding::for_label(rest[..end].trim().as_bytes())
}

/// Decodes a feed's bytes: byte-order mark, then UTF-16/32 byte patterns, then the XML
/// declaration, then UTF-8 when valid, else windows-1252.
pub fn decode_xml(body: &[u8]) -> String {
    let utf32le = body.starts_with(&[0xFF, 0xFE, 0, 0]);
    let utf32be = body.starts_with(&[0, 0, 0xFE, 0xFF]);
    if utf32le || utf32be {
        return utf32(&body[4..], utf32le);
    }
    if let Some((enc, n)) = encoding_rs::Encoding::for_bom(body) {
        return enc.decode_without_bom_handling(&body[n..]).0.into_owned();
    }
    match body {
        [b'<', 0, 0, 0, ..] => return utf32(body, true),
        [0, 0, 0, b'<', ..] => return utf32(body, false),
        [b'<', 0, b'?' | b'!' | b'r' | b'f' | b'R' | b'F', 0, ..] => {
            return encoding_rs::UTF_16LE
                .decode_without_bom_handling(body)
                .0
                .into_owned()
        }
        [0, b'<', 0, b'?' | b'!' | b'r' | b'f' | b'R' | b'F', ..] => {
            return encoding_rs::UTF_16BE
                .decode_without_bom_handling(body)
                .0
                .into_owned()
        }
        _ => {}
    }
    let declared = declared_encoding(body)
        .filter(|e| *e != encoding_rs::UTF_16LE && *e != encoding_rs::UTF_16BE);
    let enc = match declared {
        Some(e) if e == encoding_rs::UTF_8 && std::str::from_utf8(body).is_err() => {
            encoding_rs::WINDOWS_1252
        }
        // UTF-8 labelled as a one-byte encoding: multi-byte sequences that happen to be
        // valid UTF-8 are next to impossible in Latin-1 text
        Some(e) if e.is_single_byte() && super::decode::is_utf8_beyond_ascii(body) => {
            encoding_rs::UTF_8
        }
        Some(e) => e,
        None if std::str::from_utf8(body).is_ok() => encoding_rs::UTF_8,
        None => encoding_rs::WINDOWS_1252,
    };
    enc.decode_without_bom_handling(body).0.into_owned()
}

// ---------------------------------------------------------------------------------------------
// detection

/// The local name of the first element of an XML text, comments, declarations and doctype
/// skipped.
pub(crate) fn first_element(s: &str) -> Option<String> {
    let mut rest = s.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    for _ in 0..64 {
        rest = rest.trim_start();
        if rest.starts_with("<!--") {
            rest = &rest[rest.find("-->")? + 3..];
        } else if rest.starts_with("<?") {
            rest = &rest[rest.find("?>")? + 2..];
        } else if rest.starts_with("<!") {
            // doctype, possibly with an internal subset
            let close = match (rest.find('['), rest.find('>')) {
                (Some(b), Some(g)) if b < g => rest.find("]>").map(|e| e + 1).or(Some(g))?,
                (_, g) => g?,
            };
            rest = &rest[close + 1..];
        } else if let Some(tag) = rest.strip_prefix('<') {
            let name: String = tag
                .chars()
                .take_while(|c| c.is_alphanumeric() || matches!(c, ':' | '_' | '-' | '.'))
                .collect();
            let local = name.rsplit(':').next().unwrap_or("").to_ascii_lowercase();
            return (!local.is_empty()).then_some(local);
        } else {
            return None;
        }
    }
    None
}

fn is_feed_root(name: &str) -> bool {
    matches!(name, "rss" | "rdf" | "feed" | "channel" | "entry")
}

/// Whether a body looks like a feed (by its first element, or a JSON Feed's version).
pub fn looks_like_feed(body: &[u8]) -> bool {
    let head = decode_xml(&body[..body.len().min(4096)]);
    let t = head.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    if t.starts_with('{') {
        return t.contains("jsonfeed.org");
    }
    match first_element(t) {
        Some(name) => is_feed_root(&name),
        None => {
            // garbage before the feed: still a feed if a feed root shows and no HTML does
            let lower = t.to_ascii_lowercase();
            !lower.contains("<html")
                && (lower.contains("<rss") || lower.contains("<rdf:rdf") || lower.contains("<feed"))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// reading

const ATOM_NS: &[&str] = &[
    "http://www.w3.org/2005/atom",
    "http://purl.org/atom/ns#",
    "atom",
];
const RSS_NS: &[&str] = &[
    "http://purl.org/rss/1.0/",
    "http://my.netscape.com/rdf/simple/0.9/",
    "http://backend.userland.com/rss2",
    "http://backend.userland.com/rss",
    "http://blogs.law.harvard.edu/tech/rss",
    "http://purl.org/net/rss1.1#",
];
const DC_NS: &[&str] = &[
    "http://purl.org/dc/elements/1.1/",
    "http://purl.org/dc/terms/",
    "dc",
    "dcterms",
];
const CONTENT_NS: &[&str] = &["http://purl.org/rss/1.0/modules/content/", "content"];
const XHTML_NS: &[&str] = &["http://www.w3.org/1999/xhtml", "xhtml"];

struct Reader<'a> {
    doc: &'a Doc,
    /// An Atom document (`<feed>`), whatever namespace its version used.
    atom: bool,
    /// Namespace of the document element: the feed's own vocabulary.
    root_ns: String,
    base_url: Option<&'a str>,
}

fn ns_in(ns: &str, list: &[&str]) -> bool {
    list.iter().any(|n| ns.eq_ignore_ascii_case(n))
}

impl Reader<'_> {
    fn is_core(&self, el: usize) -> bool {
        let ns = self.doc.els[el].ns.as_str();
        ns.is_empty() || ns == self.root_ns || ns_in(ns, ATOM_NS) || ns_in(ns, RSS_NS)
    }

    /// Whether an untyped value of `el` may hold HTML: RSS fields may, Atom text constructs
    /// are literal text unless typed otherwise.
    fn html_default(&self, el: usize) -> bool {
        !(ns_in(&self.doc.els[el].ns, ATOM_NS) || self.atom && self.is_core(el))
    }

    /// First element child named `name` in the feed's vocabulary.
    fn core_child(&self, el: usize, name: &str) -> Option<usize> {
        self.doc
            .elements(el)
            .find(|&c| self.doc.els[c].name == name && self.is_core(c))
    }

    fn ns_child(&self, el: usize, name: &str, nss: &[&str]) -> Option<usize> {
        self.doc
            .elements(el)
            .find(|&c| self.doc.els[c].name == name && ns_in(&self.doc.els[c].ns, nss))
    }

    fn any_child(&self, el: usize, name: &str, ns_contains: &str) -> Option<usize> {
        self.doc.elements(el).find(|&c| {
            self.doc.els[c].name == name
                && self.doc.els[c]
                    .ns
                    .to_ascii_lowercase()
                    .contains(ns_contains)
        })
    }

    /// A text construct as plain text, by its declared type. `html_default`: an untyped
    /// value may hold HTML (RSS), else it is literal text (Atom).
    fn text_of(&self, el: usize, html_default: bool) -> String {
        let d = self.doc;
        let ty = d.attr(el, "type").unwrap_or("").trim().to_ascii_lowercase();
        let mode = d.attr(el, "mode").unwrap_or("").trim().to_ascii_lowercase();
        let has_child_elements = d.elements(el).next().is_some();
        let as_html = |s: &str| super::decode::html_to_text(s);
        let literal = |s: &str| super::decode::nfc(super::dom::collapse_ws(s));
        let html_type = matches!(ty.as_str(), "html" | "text/html");
        let xhtml_type = matches!(ty.as_str(), "xhtml" | "application/xhtml+xml");
        let text_type = matches!(ty.as_str(), "text" | "text/plain");
        if mode == "base64"
            || (!ty.is_empty()
                && !html_type
                && !xhtml_type
                && !ty.starts_with("text/")
                && !ty.ends_with("xml")
                && ty != "text")
        {
            let raw: String = d.text(el).split_whitespace().collect();
            let decoded = base64_decode(&raw)
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            return if html_type {
                as_html(&decoded)
            } else {
                literal(&decoded)
            };
        }
        if xhtml_type || mode == "xml" && !text_type || has_child_elements && !html_type {
            return as_html(&d.inner_markup(el));
        }
        let raw = d.text(el);
        if html_type || mode == "escaped" && !text_type {
            return as_html(&raw);
        }
        if text_type || !html_default {
            return literal(&raw);
        }
        if looks_like_html(&raw) {
            as_html(&raw)
        } else {
            literal(&raw)
        }
    }

    /// The base URL in force at `el`: `xml:base` attributes resolved from the top down.
    fn base_at(&self, el: usize, fallback: Option<&str>) -> Option<String> {
        let mut chain = Vec::new();
        let mut e = el;
        for _ in 0..xml::MAX_DEPTH + 2 {
            if let Some(b) = self.doc.attr(e, "xml:base") {
                chain.push(b.trim());
            }
            if e == 0 {
                break;
            }
            e = self.doc.els[e].parent;
        }
        let mut base: Option<String> = self.base_url.or(fallback).map(str::to_string);
        for b in chain.into_iter().rev() {
            base = match &base {
                Some(cur) => join(cur, b).or(Some(b.to_string())),
                None => Some(b.to_string()),
            };
        }
        base
    }

    fn resolve(&self, el: usize, href: &str, fallback: Option<&str>) -> String {
        let href = href.trim();
        match self.base_at(el, fallback) {
            Some(base) => join(&base, href).unwrap_or_else(|| href.to_string()),
            None => href.to_string(),
        }
    }

    /// The link of an item or a channel.
    fn link(&self, el: usize, fallback: Option<&str>) -> Option<String> {
        let d = self.doc;
        let mut best: Option<(u8, usize, String)> = None;
        for c in d.elements(el) {
            if d.els[c].name != "link" {
                continue;
            }
            if let Some(href) = d.attr(c, "href") {
                // Atom: the alternate (HTML) link wins
                let rel = d
                    .attr(c, "rel")
                    .unwrap_or("alternate")
                    .trim()
                    .to_ascii_lowercase();
                let ty = d.attr(c, "type").unwrap_or("").to_ascii_lowercase();
                let rank = match rel.as_str() {
                    "alternate" if ty.is_empty() || ty.contains("html") => 0,
                    "alternate" => 1,
                    "self" | "edit" | "replies" | "enclosure" | "hub" | "next" | "previous"
                    | "first" | "last" | "payment" => 9,
                    _ => 5,
                };
                if best.as_ref().is_none_or(|(r, _, _)| rank < *r) && !href.trim().is_empty() {
                    best = Some((rank, c, href.to_string()));
                }
            } else if self.is_core(c) {
                let t = d.text(c);
                let t = t.trim();
                if !t.is_empty() && best.as_ref().is_none_or(|(r, _, _)| *r > 0) {
                    best = Some((0, c, t.to_string()));
                }
            }
        }
        if let Some((rank, c, href)) = &best {
            if *rank < 9 {
                return Some(self.resolve(*c, href, fallback));
            }
        }
        // a permalink guid, an RDF about, a CDF href
        if let Some(g) = self
            .core_child(el, "guid")
            .or_else(|| self.core_child(el, "id"))
        {
            let perma = d
                .attr(g, "ispermalink")
                .is_none_or(|v| !v.trim().eq_ignore_ascii_case("false"));
            let t = d.text(g);
            let t = t.trim();
            if perma && (t.starts_with("http://") || t.starts_with("https://")) {
                return Some(self.resolve(g, t, fallback));
            }
        }
        for attr in ["about", "href"] {
            if let Some(h) = d.attr(el, attr) {
                if !h.trim().is_empty() {
                    return Some(self.resolve(el, h, fallback));
                }
            }
        }
        best.map(|(_, c, href)| self.resolve(c, &href, fallback))
    }

    fn title(&self, el: usize) -> String {
        if let Some(t) = self.core_child(el, "title") {
            let s = self.text_of(t, self.html_default(t));
            if !s.is_empty() {
                return s;
            }
        }
        if let Some(t) = self.ns_child(el, "title", DC_NS) {
            return self.text_of(t, true);
        }
        if let Some(t) = self.any_child(el, "title", "mrss").or_else(|| {
            self.doc
                .elements(el)
                .find(|&c| self.doc.els[c].name == "title" && self.doc.els[c].ns == "media")
        }) {
            return self.text_of(t, true);
        }
        self.doc
            .attr(el, "title")
            .map(super::dom::collapse_ws)
            .unwrap_or_default()
    }

    fn item_text(&self, el: usize) -> String {
        let candidates = [
            self.ns_child(el, "encoded", CONTENT_NS),
            self.core_child(el, "content"),
            self.ns_child(el, "body", XHTML_NS),
            self.core_child(el, "description"),
            self.core_child(el, "summary"),
            self.core_child(el, "abstract"),
            self.ns_child(el, "description", DC_NS),
            self.any_child(el, "summary", "itunes"),
            self.any_child(el, "description", "mrss"),
        ];
        for c in candidates.into_iter().flatten() {
            // Atom content by reference has no text
            if self.doc.attr(c, "src").is_some() && self.doc.els[c].name == "content" {
                continue;
            }
            let html_default = self.html_default(c);
            let t = if self.doc.els[c].name == "body" {
                super::decode::html_to_text(&self.doc.inner_markup(c))
            } else {
                self.text_of(c, html_default)
            };
            if !t.is_empty() {
                return t;
            }
        }
        String::new()
    }

    fn date(&self, el: usize) -> Option<DateTime<Utc>> {
        let d = self.doc;
        let fields: [(&str, Option<&[&str]>); 10] = [
            ("pubdate", None),
            ("published", None),
            ("issued", None),
            ("date", Some(DC_NS)),
            ("created", Some(DC_NS)),
            ("created", None),
            ("updated", None),
            ("modified", None),
            ("modified", Some(DC_NS)),
            ("lastbuilddate", None),
        ];
        for (name, ns) in fields {
            let c = match ns {
                Some(nss) => self.ns_child(el, name, nss),
                None => self.core_child(el, name),
            };
            if let Some(c) = c {
                if let Some(t) = super::date::parse_date(&d.text(c)) {
                    return Some(t);
                }
            }
        }
        // CDF: <item lastmod="…">
        d.attr(el, "lastmod").and_then(super::date::parse_date)
    }

    fn author(&self, el: usize) -> Option<String> {
        let d = self.doc;
        if let Some(a) = self.core_child(el, "author") {
            let name = self
                .core_child(a, "name")
                .map(|n| d.text(n))
                .unwrap_or_else(|| d.text(a));
            if let Some(n) = clean_author(&name) {
                return Some(n);
            }
        }
        for c in [
            self.ns_child(el, "creator", DC_NS),
            self.any_child(el, "author", "itunes"),
            self.ns_child(el, "contributor", DC_NS),
        ]
        .into_iter()
        .flatten()
        {
            if let Some(n) = clean_author(&d.text(c)) {
                return Some(n);
            }
        }
        None
    }
}

/// `"jo@example.org (Jo Doe)"` → `Jo Doe`; `"Jo Doe <jo@example.org>"` → `Jo Doe`.
fn clean_author(s: &str) -> Option<String> {
    let s = super::decode::html_to_text(s);
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let (Some(a), Some(b)) = (s.find('('), s.rfind(')')) {
        if a < b && s[..a].contains('@') {
            let name = s[a + 1..b].trim();
            if !name.is_empty() {
                return Some(name.to_string());
            }
        }
    }
    if let (Some(a), Some(b)) = (s.find('<'), s.rfind('>')) {
        if a < b && s[a..b].contains('@') && !s[..a].trim().is_empty() {
            return Some(s[..a].trim().to_string());
        }
    }
    Some(s.chars().take(200).collect())
}

fn looks_like_html(s: &str) -> bool {
    let b = s.as_bytes();
    b.windows(2)
        .any(|w| w[0] == b'<' && (w[1].is_ascii_alphabetic() || w[1] == b'/' || w[1] == b'!'))
        || s.contains('&')
}

fn join(base: &str, href: &str) -> Option<String> {
    if let Ok(u) = url::Url::parse(href) {
        return Some(u.to_string());
    }
    let b = url::Url::parse(base).ok()?;
    b.join(href).ok().map(|u| u.to_string())
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut buf = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            _ => return None,
        };
        buf = (buf << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
            buf &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Items of a channel: `item`/`entry` elements under it (not inside another item).
fn collect_items(r: &Reader<'_>, scope: usize, out: &mut Vec<usize>) {
    let d = r.doc;
    let mut stack: Vec<usize> = d.elements(scope).collect();
    stack.reverse();
    while let Some(e) = stack.pop() {
        if out.len() >= MAX_ITEMS {
            return;
        }
        let name = d.els[e].name.as_str();
        if (name == "item" || name == "entry") && r.is_core(e) {
            out.push(e);
            continue;
        }
        // look through channels and wrappers, not through foreign extensions
        if r.is_core(e) && matches!(name, "channel" | "items" | "rdf" | "seq" | "feed") {
            let mut kids: Vec<usize> = d.elements(e).collect();
            kids.reverse();
            stack.extend(kids);
        }
    }
}

fn read_xml(body: &[u8], base_url: Option<&str>) -> Result<ParsedFeed, FeedError> {
    let text = decode_xml(body);
    let doc = xml::parse(&text);
    // the feed root: the document element, or one a wrapper holds
    let mut root = None;
    let mut frontier: Vec<usize> = doc.elements(0).collect();
    for _ in 0..4 {
        if let Some(&f) = frontier.iter().find(|&&e| is_feed_root(&doc.els[e].name)) {
            root = Some(f);
            break;
        }
        frontier = frontier.iter().flat_map(|&e| doc.elements(e)).collect();
    }
    let Some(root) = root else {
        let name = doc
            .root()
            .map(|r| format!("the root element is <{}>", doc.els[r].name))
            .unwrap_or_else(|| "no XML element".to_string());
        return Err(FeedError::NotAFeed(format!(
            "{name}, not rss, rdf:RDF, feed, entry or channel"
        )));
    };
    let r = Reader {
        doc: &doc,
        atom: doc.els[root].name == "feed",
        root_ns: doc.els[root].ns.clone(),
        base_url,
    };
    let channel = match doc.els[root].name.as_str() {
        "rss" | "rdf" => r.core_child(root, "channel").unwrap_or(root),
        _ => root,
    };
    let channel_link = r.link(channel, None);
    let mut items = Vec::new();
    if doc.els[root].name == "entry" {
        // an Atom entry document: a feed of one
        let item = FeedItem {
            url: r.link(root, None),
            title: r.title(root),
            text: r.item_text(root),
            published: r.date(root),
            author: r.author(root),
        };
        return Ok(ParsedFeed {
            title: String::new(),
            lang: doc
                .attr(root, "xml:lang")
                .and_then(super::meta::normalise_lang),
            items: vec![item],
        });
    }
    collect_items(&r, channel, &mut items);
    if channel != root {
        collect_items(&r, root, &mut items);
        items.sort_unstable();
        items.dedup();
    }
    // a cut-off body (a dropped connection, a server error mid-way) with nothing to recover
    // is a failure to report, not an empty feed
    if items.is_empty() && !text.trim_end().ends_with('>') {
        return Err(FeedError::NotAFeed(
            "the feed is cut off before its first item".into(),
        ));
    }
    let fallback = channel_link.as_deref();
    let items = items
        .into_iter()
        .map(|e| FeedItem {
            url: r.link(e, fallback),
            title: r.title(e),
            text: r.item_text(e),
            published: r.date(e),
            author: r.author(e),
        })
        .collect();
    let lang = r
        .core_child(channel, "language")
        .or_else(|| r.ns_child(channel, "language", DC_NS))
        .map(|l| doc.text(l))
        .or_else(|| doc.attr(root, "xml:lang").map(str::to_string))
        .and_then(|l| super::meta::normalise_lang(&l));
    Ok(ParsedFeed {
        title: r.title(channel),
        lang,
        items,
    })
}

fn read_json(body: &[u8], base_url: Option<&str>) -> Result<ParsedFeed, FeedError> {
    let parser = feed_rs::parser::Builder::new().base_uri(base_url).build();
    let feed = parser
        .parse(body)
        .map_err(|e| FeedError::NotAFeed(format!("invalid JSON Feed: {e}")))?;
    let text_of = |t: &feed_rs::model::Text| super::decode::html_to_text(&t.content);
    let items = feed
        .entries
        .iter()
        .take(MAX_ITEMS)
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
                .map(super::decode::html_to_text)
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
        lang: feed
            .language
            .as_deref()
            .and_then(super::meta::normalise_lang),
        items,
    })
}

/// Parses a feed from its raw bytes (encodings are sniffed); relative links resolve against
/// `base_url`. An ill-formed XML feed yields what can be recovered; a body whose root is not
/// a feed is an error. Never panics; time is linear in the size of the body.
pub fn parse_feed(body: &[u8], base_url: Option<&str>) -> Result<ParsedFeed, FeedError> {
    let start = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .ok_or_else(|| FeedError::NotAFeed("the body is empty".into()))?;
    if body[start] == b'{' {
        return read_json(body, base_url);
    }
    read_xml(body, base_url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rss_with_html_entities_relative_links_and_dates() {
        let f = parse_feed(
            br#"<?xml version="1.0" encoding="utf-8"?>
            <rss version="2.0"><channel><title>Le &lt;b&gt;Blog&lt;/b&gt;</title><link>https://blog.example/</link>
            <language>fr-FR</language>
            <item><title>Panne &amp;eacute;norme</title><link>/2024/panne</link>
            <description>&lt;p&gt;La &lt;b&gt;box&lt;/b&gt; ne marche plus&amp;nbsp;!&lt;/p&gt;&lt;script&gt;x()&lt;/script&gt;</description>
            <pubDate>Tue, 05 Mar 2024 08:30:00 +0100</pubDate><author>jo@blog.example (Jo Doe)</author></item>
            </channel></rss>"#,
            None,
        )
        .unwrap();
        assert_eq!(f.title, "Le Blog");
        assert_eq!(f.lang.as_deref(), Some("fr"));
        let it = &f.items[0];
        assert_eq!(it.title, "Panne énorme");
        assert_eq!(it.url.as_deref(), Some("https://blog.example/2024/panne"));
        assert_eq!(it.text, "La box ne marche plus !");
        assert_eq!(
            it.published.unwrap().to_rfc3339(),
            "2024-03-05T07:30:00+00:00"
        );
        assert_eq!(it.author.as_deref(), Some("Jo Doe"));
    }

    #[test]
    fn atom_types_base_and_precedence() {
        let f = parse_feed(
            br#"<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://a.example/blog/">
            <title type="text">A &lt;b&gt; literal</title>
            <entry><image><title>Wrong</title></image><title type="html">&lt;i&gt;Hi&lt;/i&gt; there</title>
            <link rel="self" href="self.xml"/><link rel="alternate" type="text/html" href="post-1"/>
            <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>One</p><p>Two</p></div></content>
            <updated>2024-03-05T08:30:00Z</updated><author><name>Ann</name></author></entry>
            <entry><title type="text/plain" mode="base64">SGVsbG8=</title></entry></feed>"#,
            Some("https://ignored.example/feed"),
        )
        .unwrap();
        assert_eq!(f.title, "A <b> literal");
        let e = &f.items[0];
        assert_eq!(e.title, "Hi there");
        assert_eq!(e.url.as_deref(), Some("https://a.example/blog/post-1"));
        assert_eq!(e.text, "One Two");
        assert_eq!(e.author.as_deref(), Some("Ann"));
        assert!(e.published.is_some());
        assert_eq!(f.items[1].title, "Hello");
    }

    #[test]
    fn rss1_atom03_and_cdf() {
        let rdf = parse_feed(
            br#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
            <channel rdf:about="https://r.example/"><title>R</title></channel>
            <item rdf:about="https://r.example/1"><title>One</title><dc:date>2024-01-02</dc:date><dc:creator>Bo</dc:creator></item></rdf:RDF>"#,
            None,
        )
        .unwrap();
        assert_eq!(rdf.title, "R");
        assert_eq!(rdf.items.len(), 1);
        assert_eq!(rdf.items[0].url.as_deref(), Some("https://r.example/1"));
        assert_eq!(rdf.items[0].author.as_deref(), Some("Bo"));
        let atom03 = parse_feed(
            br#"<feed version="0.3" xmlns="http://purl.org/atom/ns#"><title>Old</title>
            <entry><title type="text/html" mode="escaped">a&lt;applet&gt;&lt;/applet&gt; b</title><issued>2004-01-01T00:00:00Z</issued></entry></feed>"#,
            None,
        )
        .unwrap();
        assert_eq!(atom03.title, "Old");
        assert_eq!(atom03.items[0].title, "a b");
        let cdf = parse_feed(
            b"<CHANNEL HREF=\"http://c.example/\"><TITLE>C</TITLE><ITEM HREF=\"http://c.example/i\" LASTMOD=\"2002-09-29T23:40:06-05:00\"><TITLE>I</TITLE><ABSTRACT>Abs</ABSTRACT></ITEM></CHANNEL>",
            None,
        )
        .unwrap();
        assert_eq!(cdf.title, "C");
        assert_eq!(cdf.items[0].title, "I");
        assert_eq!(cdf.items[0].text, "Abs");
        assert_eq!(cdf.items[0].url.as_deref(), Some("http://c.example/i"));
        assert!(cdf.items[0].published.is_some());
    }

    #[test]
    fn a_feed_cut_off_before_its_first_item_is_an_error_after_it_is_read() {
        let cut = parse_feed(b"<?xml version='1.0'?><rss><channel><title>cass\xc3", None);
        assert!(cut.unwrap_err().to_string().contains("cut off"));
        let partial = parse_feed(
            b"<rss><channel><title>t</title><item><title>Un</title><link>https://e.org/1</link></item><item><title>De",
            None,
        )
        .unwrap();
        assert_eq!(partial.items[0].title, "Un");
        let empty = parse_feed(b"<rss><channel><title>t</title></channel></rss>", None).unwrap();
        assert!(empty.items.is_empty(), "a complete feed may have no items");
    }

    #[test]
    fn ill_formed_feeds_recover() {
        let f = parse_feed(
            b"<rss><channel><title>Broken & bad</title><item><title>One<item><title>Two</title></item>",
            None,
        )
        .unwrap();
        assert_eq!(f.title, "Broken & bad");
        assert!(!f.items.is_empty());
    }

    #[test]
    fn not_feeds() {
        assert!(parse_feed(b"", None).is_err());
        assert!(parse_feed(b"<html><body>x</body></html>", None).is_err());
        assert!(parse_feed(b"<opml><body/></opml>", None).is_err());
        assert!(!looks_like_feed(b"<!DOCTYPE html><html><head>"));
        assert!(looks_like_feed(
            b"\xEF\xBB\xBF<?xml version='1.0'?><!-- c --><rss version='2.0'>"
        ));
        assert!(looks_like_feed(
            br#"{"version": "https://jsonfeed.org/version/1.1", "items": []}"#
        ));
    }

    #[test]
    fn encodings() {
        let latin1 = b"<?xml version=\"1.0\" encoding=\"iso-8859-1\"?><rss><channel><title>caf\xe9</title></channel></rss>";
        assert_eq!(parse_feed(latin1, None).unwrap().title, "caf\u{e9}");
        let mut utf16 = vec![0xFF, 0xFE];
        for u in "<rss><channel><title>\u{e9}t\u{e9}</title></channel></rss>".encode_utf16() {
            utf16.extend_from_slice(&u.to_le_bytes());
        }
        assert_eq!(parse_feed(&utf16, None).unwrap().title, "\u{e9}t\u{e9}");
    }

    #[test]
    fn json_feed() {
        let f = parse_feed(
            br#"{"version": "https://jsonfeed.org/version/1.1", "title": "J",
            "items": [{"id": "1", "url": "https://j.example/1", "title": "T",
            "content_html": "<p>Hi &amp; bye</p>", "date_published": "2024-03-05T08:30:00Z"}]}"#,
            None,
        )
        .unwrap();
        assert_eq!(f.title, "J");
        assert_eq!(f.items[0].text, "Hi & bye");
        assert_eq!(f.items[0].url.as_deref(), Some("https://j.example/1"));
    }
}
