//! HTML parsed into a flat arena in document order, ready for extraction.
//!
//! Parsing is html5ever's (through scraper), behind a guard that bounds the nesting depth and
//! the number of elements: the HTML tree-construction algorithm scans the stack of open
//! elements for many tags, so a document of 200,000 unclosed `<div>`s would otherwise take
//! minutes. Elements past the bounds are dropped; their text is kept.
//!
//! The arena keeps only what extraction reads (element kinds, the class/id/role hints, text),
//! in pre-order: the subtree of node `i` is `i..nodes[i].end`, so every pass over it is a loop
//! and never a recursion.

use std::cell::{Cell, RefCell};

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer};
use html5ever::tree_builder::{TreeBuilder, TreeSink};
use html5ever::{LocalName, TokenizerResult};
use scraper::{Html, HtmlTreeSink, Node as SNode};

/// Deepest element nesting kept; deeper start tags are dropped (their text stays).
pub const MAX_DEPTH: usize = 256;
/// Most elements kept in one document.
pub const MAX_ELEMENTS: usize = 300_000;
/// Largest HTML read, in bytes; the rest of a longer document is ignored.
pub const MAX_HTML_BYTES: usize = 16 << 20;

/// Element kinds that extraction tells apart. Everything else is [`Tag::Other`] (inline).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    Text,
    Root,
    Html,
    Body,
    // sectioning and generic blocks
    Div,
    Section,
    Article,
    Main,
    Header,
    Footer,
    Nav,
    Aside,
    Form,
    Fieldset,
    Address,
    Center,
    Details,
    Summary,
    Figure,
    Figcaption,
    Hr,
    Br,
    // text blocks
    P,
    H1,
    H2,
    H3,
    H4,
    H5,
    H6,
    Blockquote,
    Pre,
    Ul,
    Ol,
    Li,
    Dl,
    Dt,
    Dd,
    Table,
    Caption,
    Tr,
    Td,
    Th,
    Tbody,
    // inline elements that matter
    A,
    Img,
    Time,
    Code,
    Label,
    Other,
}

impl Tag {
    fn from_name(name: &str) -> Tag {
        match name {
            "html" => Tag::Html,
            "body" => Tag::Body,
            "div" => Tag::Div,
            "section" => Tag::Section,
            "article" => Tag::Article,
            "main" => Tag::Main,
            "header" | "hgroup" => Tag::Header,
            "footer" => Tag::Footer,
            "nav" | "menu" => Tag::Nav,
            "aside" => Tag::Aside,
            "form" => Tag::Form,
            "fieldset" => Tag::Fieldset,
            "address" => Tag::Address,
            "center" => Tag::Center,
            "details" => Tag::Details,
            "summary" => Tag::Summary,
            "figure" => Tag::Figure,
            "figcaption" => Tag::Figcaption,
            "hr" => Tag::Hr,
            "br" => Tag::Br,
            "p" => Tag::P,
            "h1" => Tag::H1,
            "h2" => Tag::H2,
            "h3" => Tag::H3,
            "h4" => Tag::H4,
            "h5" => Tag::H5,
            "h6" => Tag::H6,
            "blockquote" => Tag::Blockquote,
            "pre" | "listing" | "xmp" | "plaintext" => Tag::Pre,
            "ul" | "dir" => Tag::Ul,
            "ol" => Tag::Ol,
            "li" => Tag::Li,
            "dl" => Tag::Dl,
            "dt" => Tag::Dt,
            "dd" => Tag::Dd,
            "table" => Tag::Table,
            "caption" => Tag::Caption,
            "tr" => Tag::Tr,
            "td" => Tag::Td,
            "th" => Tag::Th,
            "tbody" | "thead" | "tfoot" | "colgroup" => Tag::Tbody,
            "a" => Tag::A,
            "img" | "amp-img" => Tag::Img,
            "time" => Tag::Time,
            "code" | "kbd" | "samp" | "tt" => Tag::Code,
            "label" => Tag::Label,
            _ => Tag::Other,
        }
    }

    /// Starts a new line of text (a block in the CSS sense).
    pub fn is_block(self) -> bool {
        !matches!(
            self,
            Tag::Text | Tag::A | Tag::Img | Tag::Time | Tag::Code | Tag::Label | Tag::Other
        )
    }

    pub fn is_heading(self) -> bool {
        matches!(
            self,
            Tag::H1 | Tag::H2 | Tag::H3 | Tag::H4 | Tag::H5 | Tag::H6
        )
    }

    pub fn is_list(self) -> bool {
        matches!(self, Tag::Ul | Tag::Ol | Tag::Dl)
    }
}

/// Elements whose content is never text a reader sees.
fn is_dropped_element(name: &str) -> bool {
    matches!(
        name,
        "script"
            | "style"
            | "template"
            | "svg"
            | "math"
            | "iframe"
            | "frame"
            | "frameset"
            | "embed"
            | "canvas"
            | "audio"
            | "video"
            | "source"
            | "track"
            | "map"
            | "head"
            | "title"
            | "meta"
            | "link"
            | "base"
            | "param"
            | "select"
            | "option"
            | "optgroup"
            | "datalist"
            | "textarea"
            | "input"
            | "button"
            | "dialog"
            | "output"
            | "progress"
            | "meter"
            | "slot"
            | "noembed"
            | "noframes"
            | "rp"
            | "rt"
    )
}

/// One node of the arena.
#[derive(Debug, Clone)]
pub struct Node {
    pub tag: Tag,
    /// Parent index (`u32::MAX` for the root).
    pub parent: u32,
    /// One past the last node of this node's subtree.
    pub end: u32,
    /// Text nodes: byte range into [`Dom::text`].
    pub text: (u32, u32),
    /// Index into [`Dom::hints`] (`u32::MAX` when the element has no class, id or role).
    pub hint: u32,
}

impl Node {
    pub fn subtree(&self, i: usize) -> std::ops::Range<usize> {
        i..self.end as usize
    }
}

/// What an element says about itself: lower-cased `class`, `id`, `role`, `itemprop`,
/// `itemtype` and a few flags.
#[derive(Debug, Clone, Default)]
pub struct Hint {
    /// `class` and `id` values, lower case, space separated.
    pub names: String,
    pub role: String,
    pub itemprop: String,
    pub itemtype: String,
}

/// Metadata met while flattening (the head and a few body elements).
#[derive(Debug, Clone, Default)]
pub struct RawMeta {
    pub lang: Option<String>,
    pub title: Option<String>,
    /// `<meta>`: (name or property or itemprop or http-equiv, lower case; content).
    pub metas: Vec<(String, String)>,
    /// `<link rel=…>`: (rel lower case, href).
    pub links: Vec<(String, String)>,
    /// Contents of `<script type="application/ld+json">`.
    pub json_ld: Vec<String>,
    /// `<time datetime>` values and whether they sat in a publication hint.
    pub times: Vec<(String, bool)>,
    /// Elements with `itemprop` (author, datePublished…): (itemprop, content or datetime
    /// attribute, or the node to read text from).
    pub itemprops: Vec<(String, Option<String>, usize)>,
    /// Elements marked as the author (`rel=author`, a byline class): node indices.
    pub author_nodes: Vec<usize>,
    /// Elements whose class says they hold the publication date: node indices.
    pub date_nodes: Vec<usize>,
}

/// A parsed document.
#[derive(Debug, Default)]
pub struct Dom {
    pub nodes: Vec<Node>,
    /// All text, text nodes being ranges into it.
    pub text: String,
    pub hints: Vec<Hint>,
    pub meta: RawMeta,
}

// ---------------------------------------------------------------------------------------------
// guarded parsing

struct Guard<S> {
    inner: S,
    open: RefCell<Vec<LocalName>>,
    /// End tags still to swallow for start tags that were dropped.
    dropped: RefCell<Vec<(LocalName, u32)>>,
    elements: Cell<usize>,
}

fn is_void(name: &str) -> bool {
    matches!(
        name,
        "area"
            | "base"
            | "br"
            | "col"
            | "embed"
            | "hr"
            | "img"
            | "input"
            | "link"
            | "meta"
            | "param"
            | "source"
            | "track"
            | "wbr"
            | "keygen"
            | "frame"
            | "image"
    )
}

/// Start tags that close an open element of the same name nearby (`<li>` after `<li>`).
fn closes_same(name: &str) -> bool {
    matches!(
        name,
        "p" | "li" | "dt" | "dd" | "tr" | "td" | "th" | "option" | "optgroup"
    )
}

/// Start tags that close an open `<p>`.
fn closes_p(name: &str) -> bool {
    matches!(
        name,
        "address"
            | "article"
            | "aside"
            | "blockquote"
            | "center"
            | "details"
            | "dialog"
            | "dir"
            | "div"
            | "dl"
            | "fieldset"
            | "figcaption"
            | "figure"
            | "footer"
            | "form"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "header"
            | "hgroup"
            | "hr"
            | "main"
            | "menu"
            | "nav"
            | "ol"
            | "p"
            | "pre"
            | "section"
            | "table"
            | "ul"
    )
}

impl<S: TokenSink> TokenSink for Guard<S> {
    type Handle = S::Handle;

    fn process_token(&self, token: Token, line_number: u64) -> TokenSinkResult<S::Handle> {
        if let Token::TagToken(tag) = &token {
            let name = &tag.name;
            match tag.kind {
                TagKind::StartTag => {
                    let mut open = self.open.borrow_mut();
                    // approximate the implied end tags, so the count tracks the real depth
                    if closes_same(name) {
                        let lo = open.len().saturating_sub(6);
                        if let Some(p) = open[lo..].iter().rposition(|n| n == name) {
                            open.truncate(lo + p);
                        }
                    }
                    if closes_p(name) && open.last().is_some_and(|n| &**n == "p") {
                        open.pop();
                    }
                    if open.len() >= MAX_DEPTH || self.elements.get() >= MAX_ELEMENTS {
                        if !is_void(name) && !tag.self_closing {
                            let mut dropped = self.dropped.borrow_mut();
                            match dropped.iter_mut().find(|(n, _)| n == name) {
                                Some((_, c)) => *c += 1,
                                None => dropped.push((name.clone(), 1)),
                            }
                        }
                        return TokenSinkResult::Continue;
                    }
                    self.elements.set(self.elements.get() + 1);
                    if !is_void(name) && !tag.self_closing {
                        open.push(name.clone());
                    }
                }
                TagKind::EndTag => {
                    {
                        let mut dropped = self.dropped.borrow_mut();
                        if let Some((_, c)) = dropped.iter_mut().find(|(n, c)| n == name && *c > 0)
                        {
                            *c -= 1;
                            return TokenSinkResult::Continue;
                        }
                    }
                    let mut open = self.open.borrow_mut();
                    if let Some(p) = open.iter().rposition(|n| n == name) {
                        open.truncate(p);
                    }
                }
            }
        }
        self.inner.process_token(token, line_number)
    }

    fn end(&self) {
        self.inner.end()
    }

    fn adjusted_current_node_present_but_not_in_html_namespace(&self) -> bool {
        self.inner
            .adjusted_current_node_present_but_not_in_html_namespace()
    }
}

/// Cuts `s` to at most `max` bytes, at a char boundary.
pub fn truncate_str(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut cut = max;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    &s[..cut]
}

/// The page without its comments and the bodies of its `<script>` (JSON-LD excepted),
/// `<style>` and `<svg>` elements: code and drawings, never text, and more than half the
/// bytes of a page today, which the parser then skips. A light scan that reads tags as the HTML tokenizer does (quoted attribute values,
/// comments, the raw text of `<title>` and `<textarea>`), so a `<script>` written inside
/// any of these is left alone; what it cannot read it leaves as it is.
pub fn without_code(html: &str) -> std::borrow::Cow<'_, str> {
    let b = html.as_bytes();
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut i = 0;
    while let Some(off) = memchr::memchr(b'<', &b[i..]) {
        let lt = i + off;
        let rest = &b[lt + 1..];
        if rest.starts_with(b"!--") {
            let Some(e) = memchr::memmem::find(&rest[3..], b"-->") else {
                break;
            };
            // comments go too
            let end = lt + 4 + e + 3;
            let o = out.get_or_insert_with(|| String::with_capacity(html.len() / 2));
            o.push_str(&html[copied..lt]);
            copied = end;
            i = end;
            continue;
        }
        if !rest.first().is_some_and(u8::is_ascii_alphabetic) {
            i = lt + 1;
            continue;
        }
        let name_len = rest
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric())
            .count();
        let name = &rest[..name_len];
        let Some(tag_end) = end_of_tag(b, lt + 1 + name_len) else {
            break;
        };
        let is = |n: &[u8]| name.eq_ignore_ascii_case(n);
        let raw = if is(b"script") || is(b"style") || is(b"svg") || is(b"title") || is(b"textarea")
        {
            name
        } else {
            i = tag_end;
            continue;
        };
        let Some(close) = closing_tag(&b[tag_end..], raw) else {
            break;
        };
        let json_ld = || {
            memchr::memmem::find(
                html[lt..tag_end].to_ascii_lowercase().as_bytes(),
                b"ld+json",
            )
            .is_some()
        };
        let code = is(b"style") || is(b"svg") || is(b"script") && !json_ld();
        if code && close > 0 {
            let o = out.get_or_insert_with(|| String::with_capacity(html.len() / 2));
            o.push_str(&html[copied..tag_end]);
            copied = tag_end + close;
        }
        i = tag_end + close;
    }
    match out {
        None => std::borrow::Cow::Borrowed(html),
        Some(mut o) => {
            o.push_str(&html[copied..]);
            std::borrow::Cow::Owned(o)
        }
    }
}

/// The index just past the `>` that ends a tag whose name ends at `j`, reading quoted
/// attribute values whole.
fn end_of_tag(b: &[u8], mut j: usize) -> Option<usize> {
    while j < b.len() {
        match b[j] {
            b'>' => return Some(j + 1),
            b'=' => {
                j += 1;
                while j < b.len() && b[j].is_ascii_whitespace() {
                    j += 1;
                }
                if let Some(&q @ (b'"' | b'\'')) = b.get(j) {
                    j += memchr::memchr(q, &b[j + 1..])? + 2;
                }
            }
            _ => j += 1,
        }
    }
    None
}

/// Where `</name` (any case, then a space, `/` or `>`) starts in `b`.
fn closing_tag(b: &[u8], name: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(off) = memchr::memmem::find(&b[from..], b"</") {
        let at = from + off;
        let after = &b[at + 2..];
        if after.len() > name.len()
            && after[..name.len()].eq_ignore_ascii_case(name)
            && matches!(
                after[name.len()],
                b'>' | b'/' | b' ' | b'\t' | b'\n' | b'\r' | b'\x0c'
            )
        {
            return Some(at);
        }
        from = at + 2;
    }
    None
}

/// Parses an HTML document with bounded depth, element count and size.
pub fn parse_html(html: &str) -> Html {
    let html = without_code(truncate_str(html, MAX_HTML_BYTES));
    let sink = HtmlTreeSink::new(Html::new_document());
    // scripts never run here: what `<noscript>` holds is what a reader of this page sees
    let opts = html5ever::tree_builder::TreeBuilderOpts {
        scripting_enabled: false,
        ..Default::default()
    };
    let builder = TreeBuilder::new(sink, opts);
    let guard = Guard {
        inner: builder,
        open: RefCell::new(Vec::new()),
        dropped: RefCell::new(Vec::new()),
        elements: Cell::new(0),
    };
    let tokenizer = Tokenizer::new(guard, Default::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(&html));
    // `Script` and `EncodingIndicator` pauses are resumed at once: scripts never run, and
    // the text was decoded before
    while !matches!(tokenizer.feed(&input), TokenizerResult::Done) {}
    tokenizer.end();
    tokenizer.sink.inner.sink.finish()
}

// ---------------------------------------------------------------------------------------------
// flattening

/// The attributes extraction reads, gathered in one pass over an element's attributes.
#[derive(Default)]
struct Attrs<'a> {
    class: &'a str,
    id: &'a str,
    role: &'a str,
    itemprop: &'a str,
    itemtype: &'a str,
    style: &'a str,
    href: Option<&'a str>,
    lang: Option<&'a str>,
    datetime: Option<&'a str>,
    content: Option<&'a str>,
    rel: &'a str,
    hidden: bool,
    aria_hidden: bool,
    pubdate: bool,
}

impl<'a> Attrs<'a> {
    fn of(el: &'a scraper::node::Element) -> Attrs<'a> {
        let mut a = Attrs::default();
        for (k, v) in el.attrs() {
            match k {
                "class" => a.class = v,
                "id" => a.id = v,
                "role" => a.role = v,
                "itemprop" => a.itemprop = v,
                "itemtype" => a.itemtype = v,
                "style" => a.style = v,
                "href" => a.href = Some(v),
                "lang" | "xml:lang" => a.lang = a.lang.or(Some(v)),
                "datetime" => a.datetime = Some(v),
                "content" => a.content = Some(v),
                "rel" => a.rel = v,
                "hidden" => a.hidden = true,
                "aria-hidden" => a.aria_hidden = v.trim().eq_ignore_ascii_case("true"),
                "pubdate" => a.pubdate = true,
                _ => {}
            }
        }
        a
    }

    /// Hidden from readers: `hidden`, `aria-hidden="true"`, `display: none`,
    /// `visibility: hidden`.
    fn hides(&self) -> bool {
        if self.hidden || self.aria_hidden {
            return true;
        }
        if self.style.is_empty() {
            return false;
        }
        let s: String = self
            .style
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        s.contains("display:none") || s.contains("visibility:hidden")
    }

    fn hint(&self) -> Option<Hint> {
        let (class, id) = (self.class, self.id);
        if class.is_empty()
            && id.is_empty()
            && self.role.is_empty()
            && self.itemprop.is_empty()
            && self.itemtype.is_empty()
        {
            return None;
        }
        let mut names = String::with_capacity(class.len() + id.len() + 1);
        names.push_str(class);
        if !id.is_empty() {
            names.push(' ');
            names.push_str(id);
        }
        names.make_ascii_lowercase();
        if names.contains("widget") {
            // page builders call every block a widget: that says nothing about the block
            names = names
                .replace("elementor-widget", "elementor")
                .replace("widget-container", "container")
                .replace("widget-wrap", "wrap");
        }
        Some(Hint {
            names,
            role: self.role.trim().to_ascii_lowercase(),
            itemprop: self.itemprop.trim().to_ascii_lowercase(),
            itemtype: self.itemtype.trim().to_ascii_lowercase(),
        })
    }
}

fn text_of(node: ego_tree::NodeRef<'_, SNode>) -> String {
    let mut s = String::new();
    for d in node.descendants() {
        if let SNode::Text(t) = d.value() {
            s.push_str(t);
        }
    }
    s
}

impl Dom {
    /// Parses and flattens a document.
    pub fn parse(html: &str) -> Dom {
        let doc = parse_html(html);
        Dom::from_html(&doc)
    }

    /// Flattens a parsed document, dropping what is never read (scripts, styles, forms'
    /// controls, hidden elements) and collecting metadata on the way.
    pub fn from_html(doc: &Html) -> Dom {
        enum Step<'a> {
            Open(ego_tree::NodeRef<'a, SNode>, u32),
            Close(usize),
        }
        let mut dom = Dom {
            nodes: Vec::with_capacity(1024),
            text: String::with_capacity(16 * 1024),
            ..Dom::default()
        };
        dom.nodes.push(Node {
            tag: Tag::Root,
            parent: u32::MAX,
            end: 1,
            text: (0, 0),
            hint: u32::MAX,
        });
        let mut stack: Vec<Step<'_>> = vec![Step::Close(0)];
        for child in doc
            .tree
            .root()
            .children()
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
        {
            stack.push(Step::Open(child, 0));
        }
        let mut in_pub_hint: Vec<bool> = vec![false];
        while let Some(step) = stack.pop() {
            let (node, parent) = match step {
                Step::Close(i) => {
                    dom.nodes[i].end = dom.nodes.len() as u32;
                    in_pub_hint.pop();
                    continue;
                }
                Step::Open(n, p) => (n, p),
            };
            match node.value() {
                SNode::Text(t) => {
                    let start = dom.text.len() as u32;
                    if t.contains(is_invisible) {
                        dom.text.extend(t.chars().filter(|c| !is_invisible(*c)));
                    } else {
                        dom.text.push_str(t);
                    }
                    let i = dom.nodes.len() as u32;
                    dom.nodes.push(Node {
                        tag: Tag::Text,
                        parent,
                        end: i + 1,
                        text: (start, dom.text.len() as u32),
                        hint: u32::MAX,
                    });
                }
                SNode::Element(el) => {
                    let name = el.name();
                    if is_dropped_element(name) {
                        dom.collect_dropped(node, el);
                        continue;
                    }
                    let attrs = Attrs::of(el);
                    if attrs.hides() {
                        continue;
                    }
                    let mut tag = Tag::from_name(name);
                    if tag == Tag::A
                        && attrs.href.is_none_or(|h| {
                            let h = h.trim_start();
                            h.starts_with("mailto:") || h.starts_with("tel:")
                        })
                    {
                        // an address or an anchor is text, not a way out of the page
                        tag = Tag::Other;
                    }
                    let i = dom.nodes.len();
                    let hint = match attrs.hint() {
                        Some(h) => {
                            dom.hints.push(h);
                            (dom.hints.len() - 1) as u32
                        }
                        None => u32::MAX,
                    };
                    dom.nodes.push(Node {
                        tag,
                        parent,
                        end: 0,
                        text: (0, 0),
                        hint,
                    });
                    let pub_hint = *in_pub_hint.last().unwrap_or(&false)
                        || dom.hint(i).is_some_and(|h| {
                            h.names.contains("publish")
                                || h.names.contains("dateline")
                                || h.names.contains("byline")
                                || h.names.contains("post-date")
                                || h.names.contains("entry-date")
                                || h.names.contains("article-date")
                        });
                    dom.collect_element(&attrs, tag, i, pub_hint);
                    stack.push(Step::Close(i));
                    in_pub_hint.push(pub_hint);
                    for child in node.children().collect::<Vec<_>>().into_iter().rev() {
                        stack.push(Step::Open(child, i as u32));
                    }
                }
                _ => {}
            }
        }
        dom
    }

    fn collect_dropped(&mut self, node: ego_tree::NodeRef<'_, SNode>, el: &scraper::node::Element) {
        match el.name() {
            "title" if self.meta.title.is_none() => {
                self.meta.title = Some(text_of(node));
            }
            "meta" => self.collect_meta(el),
            "link" => {
                if let (Some(rel), Some(href)) = (el.attr("rel"), el.attr("href")) {
                    self.meta
                        .links
                        .push((rel.trim().to_ascii_lowercase(), href.trim().to_string()));
                }
            }
            "script"
                if el
                    .attr("type")
                    .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/ld+json"))
                    && self.meta.json_ld.len() < 32 =>
            {
                self.meta.json_ld.push(text_of(node));
            }
            "head" => {
                // the head's own metadata elements
                for d in node.descendants() {
                    if let SNode::Element(e) = d.value() {
                        if e.name() != "head" {
                            self.collect_dropped(d, e);
                        }
                    }
                }
                // `descendants` already visited the nested ones: stop here
            }
            _ => {}
        }
    }

    fn collect_meta(&mut self, el: &scraper::node::Element) {
        let key = el
            .attr("property")
            .or_else(|| el.attr("name"))
            .or_else(|| el.attr("itemprop"))
            .or_else(|| el.attr("http-equiv"));
        if let (Some(k), Some(c)) = (key, el.attr("content")) {
            if self.meta.metas.len() < 512 {
                self.meta
                    .metas
                    .push((k.trim().to_ascii_lowercase(), c.trim().to_string()));
            }
        }
    }

    fn collect_element(&mut self, a: &Attrs<'_>, tag: Tag, i: usize, pub_hint: bool) {
        if matches!(tag, Tag::Html | Tag::Body) && self.meta.lang.is_none() {
            self.meta.lang = a.lang.map(str::to_string);
        }
        if tag == Tag::Time && self.meta.times.len() < 64 {
            if let Some(dt) = a.datetime {
                let pubdate = pub_hint || a.pubdate || a.itemprop.contains("datePublished") || {
                    let c = a.class.to_ascii_lowercase();
                    c.contains("publish") || c.contains("entry-date") || c.contains("post-date")
                };
                self.meta.times.push((dt.trim().to_string(), pubdate));
            }
        }
        if !a.itemprop.is_empty() && self.meta.itemprops.len() < 64 {
            let ip = a.itemprop.trim().to_ascii_lowercase();
            if matches!(
                ip.as_str(),
                "author" | "creator" | "datepublished" | "datecreated" | "headline" | "name"
            ) {
                let val = a.content.or(a.datetime).map(str::to_string);
                self.meta.itemprops.push((ip, val, i));
            }
        }
        let class = a.class.to_ascii_lowercase();
        let words = || class.split(|c: char| !c.is_ascii_alphanumeric());
        if self.meta.author_nodes.len() < 16
            && (a.rel.split_ascii_whitespace().any(|r| r == "author")
                || words()
                    .any(|w| matches!(w, "author" | "byline" | "authorname" | "writer" | "auteur"))
                || class.contains("author-name")
                || class.contains("byline__name"))
        {
            self.meta.author_nodes.push(i);
        }
        if self.meta.date_nodes.len() < 16
            && tag != Tag::Time
            && !class.contains("today")
            && !class.contains("current")
            && !class.contains("updat")
            && !class.contains("modif")
            && (words().any(|w| matches!(w, "date" | "pubdate" | "published" | "timestamp"))
                || class.contains("post-date")
                || class.contains("entry-date")
                || class.contains("article-date")
                || class.contains("publish-date")
                || class.contains("date-publi"))
        {
            self.meta.date_nodes.push(i);
        }
    }

    pub fn hint(&self, i: usize) -> Option<&Hint> {
        let h = self.nodes[i].hint;
        (h != u32::MAX).then(|| &self.hints[h as usize])
    }

    pub fn node_text(&self, i: usize) -> &str {
        let (a, b) = self.nodes[i].text;
        &self.text[a as usize..b as usize]
    }

    /// Concatenated text of a subtree, whitespace collapsed.
    pub fn subtree_text(&self, i: usize) -> String {
        let mut out = String::new();
        for j in self.nodes[i].subtree(i) {
            let n = &self.nodes[j];
            if n.tag == Tag::Text {
                out.push_str(self.node_text(j));
            } else if n.tag.is_block() || n.tag == Tag::Br {
                out.push(' ');
            }
        }
        collapse_ws(&out)
    }

    /// The first element of a kind, in document order.
    pub fn find(&self, tag: Tag) -> Option<usize> {
        self.nodes.iter().position(|n| n.tag == tag)
    }

    /// Whether `a` is `b` or one of its ancestors.
    pub fn contains(&self, a: usize, b: usize) -> bool {
        a <= b && b < self.nodes[a].end as usize
    }
}

/// Characters that are never seen: soft hyphens, zero-width spaces, word joiners, stray
/// byte-order marks.
pub fn is_invisible(c: char) -> bool {
    matches!(c, '\u{ad}' | '\u{200b}' | '\u{2060}' | '\u{feff}')
}

/// Collapses runs of whitespace to one space, trims, and drops invisible characters.
pub fn collapse_ws(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for w in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        if w.contains(is_invisible) {
            out.extend(w.chars().filter(|c| !is_invisible(*c)));
        } else {
            out.push_str(w);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_is_cut_and_everything_else_kept() {
        let page = r#"<html><head><style>p { color: red }</style>
            <script>var a = "<p>not text</p>"; if (a < b) {}</script>
            <SCRIPT type="text/javascript">x()</SCRIPT >
            <script type="application/ld+json">{"headline": "kept"}</script>
            <title>How to write <script> tags</title></head>
            <body><a title="<script>" href="/">link</a><!-- <style> -->
            <p>Text <b>stays</b>.</p><textarea><style>typed</style></textarea>
            <svg viewBox="0 0 10 10"><path d="M0 0L10 10"/><text>icon</text></svg>
            <script src="x.js"></script><p>After.</p></body></html>"#;
        let cut = without_code(page);
        assert!(!cut.contains("color: red") && !cut.contains("not text"));
        assert!(!cut.contains("x()") && !cut.contains("icon") && !cut.contains("M0 0"));
        assert!(!cut.contains("<!--"), "comments dropped");
        assert!(cut.contains(r#"<svg viewBox="0 0 10 10"></svg>"#));
        for kept in [
            r#"{"headline": "kept"}"#,
            "How to write <script> tags",
            r#"title="<script>""#,
            "<p>Text <b>stays</b>.</p>",
            "<style>typed</style>",
            "<p>After.</p>",
            "<script></script>",
            "</SCRIPT >",
        ] {
            assert!(cut.contains(kept), "{kept:?} lost from {cut}");
        }
    }

    #[test]
    fn pages_without_code_or_with_broken_tags_pass_through() {
        for page in [
            "<p>plain</p>",
            "<p>a < b</p>",
            "<script>never closed",
            "<a href=\"unterminated>text",
            "<!-- open comment <script>x</script>",
            "<svg><path/>",
            "",
        ] {
            assert!(
                matches!(without_code(page), std::borrow::Cow::Borrowed(_)),
                "{page}"
            );
        }
    }

    #[test]
    fn deep_nesting_is_bounded_and_fast() {
        let html = "<div>".repeat(200_000) + "deep text";
        let t = std::time::Instant::now();
        let dom = Dom::parse(&html);
        assert!(t.elapsed().as_secs() < 10, "took {:?}", t.elapsed());
        assert!(dom.nodes.len() <= MAX_DEPTH + 8);
        assert!(dom.text.contains("deep text"));
    }

    #[test]
    fn unclosed_list_items_and_paragraphs_do_not_count_as_depth() {
        let html = format!("<ul>{}</ul>", "<li><p>item".repeat(2_000));
        let dom = Dom::parse(&html);
        let items = dom.nodes.iter().filter(|n| n.tag == Tag::Li).count();
        assert_eq!(items, 2_000);
    }

    #[test]
    fn scripts_styles_and_hidden_elements_are_dropped_metadata_kept() {
        let dom = Dom::parse(
            r#"<html lang="fr"><head><title>T</title><meta property="og:title" content="OG">
            <script type="application/ld+json">{"a":1}</script></head>
            <body><script>var x = 1;</script><style>p{}</style><p>Visible</p>
            <div hidden>Hidden</div><div style="display: none">None</div></body></html>"#,
        );
        assert!(dom.text.contains("Visible"));
        assert!(!dom.text.contains("var x"));
        assert!(!dom.text.contains("Hidden"));
        assert!(!dom.text.contains("None"));
        assert_eq!(dom.meta.title.as_deref(), Some("T"));
        assert_eq!(dom.meta.lang.as_deref(), Some("fr"));
        assert_eq!(dom.meta.json_ld, vec![r#"{"a":1}"#.to_string()]);
        assert!(dom
            .meta
            .metas
            .contains(&("og:title".to_string(), "OG".to_string())));
    }

    #[test]
    fn subtrees_are_contiguous() {
        let dom = Dom::parse("<div><p>a<b>b</b></p><p>c</p></div><p>d</p>");
        let div = dom.find(Tag::Div).unwrap();
        assert_eq!(dom.subtree_text(div), "ab c");
        for (i, n) in dom.nodes.iter().enumerate().skip(1) {
            assert!(dom.contains(n.parent as usize, i));
        }
    }
}
