//! Main-content extraction: which blocks of a page a reader came for.
//!
//! The page is cut into text blocks (paragraphs, headings, list items, quotes, cells). Then:
//!
//! 1. **Boilerplate marking.** Elements that announce themselves as navigation, headers,
//!    footers, sidebars, sharing, comments, cookie notices, related links… (by tag, ARIA role,
//!    class and id) are marked. A weak hint never removes most of a page's text.
//! 2. **Container scoring.** Each paragraph long enough to be prose scores its ancestors
//!    (more for commas and length, less the further up), scaled by the ancestor's own hints
//!    and by one minus its link density, as readability does. The best container wins, climbing
//!    to a parent that holds more of the text; its siblings that score well join it.
//! 3. **Cleaning inside the container.** Boilerplate descendants, link lists, image galleries,
//!    forms and embeds without text are dropped (readability's conditional cleaning); so are
//!    short lines that are only "Share" or "Advertisement", duplicate paragraphs, the headline
//!    (it is the title) and headings left with nothing under them.
//! 4. **Recall guard.** When the container holds far less prose than the page, the prose
//!    blocks of the whole page are taken instead.
//!
//! Every pass is a loop over the arena: time is linear in the size of the page.

use super::boiler::{is_boiler_line, is_call_to_action};
use super::dom::{collapse_ws, Dom, Tag};

const NONE: u32 = u32::MAX;

/// A block of text in document order.
#[derive(Debug, Clone)]
pub struct Block {
    /// Nearest block-level element holding the text.
    pub owner: u32,
    /// First text node of the block.
    pub first: u32,
    /// Nearest boilerplate element around the text (`NONE` if none).
    pub junk: u32,
    /// Text, whitespace collapsed (line breaks kept for `<br>` and `<pre>`).
    pub text: String,
    pub chars: u32,
    pub link_chars: u32,
    pub kind: Tag,
}

impl Block {
    fn link_density(&self) -> f32 {
        if self.chars == 0 {
            0.0
        } else {
            self.link_chars as f32 / self.chars as f32
        }
    }
}

// ---------------------------------------------------------------------------------------------
// hints

/// How an element's own class, id and role classify it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Neutral,
    /// Comments and replies: never content, whatever their size.
    Comments,
    /// Navigation, sharing, related links, footers…: not content unless it holds most of the
    /// page.
    Boiler,
}

fn tokens(names: &str) -> impl Iterator<Item = &str> {
    names
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| !t.is_empty())
}

/// Substrings of class and id values that mark boilerplate whatever else the element says.
const STRONG_SUBSTR: &[&str] = &[
    "sidebar",
    "side-bar",
    "widget",
    "related",
    "recommend",
    "share",
    "sharing",
    "social",
    "newsletter",
    "subscri",
    "promo",
    "sponsor",
    "advert",
    "cookie",
    "consent",
    "gdpr",
    "breadcrumb",
    "bread-crumb",
    "pagination",
    "navbar",
    "navigation",
    "menu",
    "footer",
    "skip-link",
    "skiplink",
    "signup",
    "sign-up",
    "outbrain",
    "taboola",
    "trending",
    "most-read",
    "mostread",
    "most-popular",
    "mostpopular",
    "popular-",
    "read-more",
    "readmore",
    "more-stories",
    "also-read",
    "taglist",
    "tag-list",
    "tags-",
    "-tags",
    "byline",
    "author-info",
    "author-bio",
    "authorbio",
    "author-box",
    "authorbox",
    "about-author",
    "about-the-author",
    "post-meta",
    "postmeta",
    "entry-meta",
    "article-meta",
    "meta-info",
    "sr-only",
    "visually-hidden",
    "screen-reader",
    "visuallyhidden",
    "adsense",
    "ad-slot",
    "ad-container",
    "ad-wrapper",
    "adslot",
    "adunit",
    "ad-unit",
    "dfp-",
    "shoutbox",
    "timestamp",
    "dateline",
    "post-date",
    "entry-date",
    "next-post",
    "prev-post",
    "previous-post",
    "post-nav",
    "postnav",
    "newsfeed",
    "follow-us",
    "more-from",
    "you-may",
    "youmay",
    "you-might",
    "read-next",
    "readnext",
    "recirc",
    "upsell",
    "comments-link",
    "back-to-top",
    "backtotop",
];

/// Substrings that mark boilerplate unless the element also says it is the article.
const WEAK_SUBSTR: &[&str] = &[
    "popup",
    "modal",
    "pager",
    "masthead",
    "login",
    "toolbar",
    "metadata",
    "print-",
    "banner",
    "overlay",
    "rating",
    "follow-",
    "donate",
    "copyright",
    "disclaimer",
    "feedback",
    "survey",
    "supplemental",
    "site-header",
    "page-header",
    "global-header",
    "site-nav",
    "subnav",
    "published",
    "author-",
    "infobox",
    "contact-info",
    "tooltip",
    "rollover",
    "popover",
    "hovercard",
    "hover-card",
    "dropdown",
    "teaser",
    "jump-link",
    "top-link",
    "caption-credit",
    "image-credit",
    "photo-credit",
    "lightbox",
    "slideshow",
    "carousel",
];

/// Whole class/id tokens that mark boilerplate (too short to match as substrings).
fn is_boiler_token(t: &str) -> bool {
    matches!(
        t,
        "ad" | "ads"
            | "advert"
            | "adv"
            | "advertisement"
            | "nav"
            | "navi"
            | "header"
            | "footer"
            | "aside"
            | "tags"
            | "tag"
            | "tagged"
            | "categories"
            | "category"
            | "meta"
            | "date"
            | "time"
            | "author"
            | "authors"
            | "byline"
            | "share"
            | "print"
            | "related"
            | "sponsored"
            | "promoted"
            | "masthead"
            | "breadcrumbs"
            | "pager"
            | "topbar"
            | "bottombar"
            | "rail"
            | "sidebar"
            | "widget"
            | "newsletter"
            | "signup"
            | "credits"
            | "credit"
            | "legal"
            | "extra"
            | "extras"
            | "addthis"
            | "sharedaddy"
            | "jp"
            | "wpcnt"
    )
}

/// Substrings that mark comments.
const COMMENT_SUBSTR: &[&str] = &["comment", "disqus", "respond", "replies", "reply"];

/// Substrings that mark the article itself (readability's positive class weight).
const POSITIVE_SUBSTR: &[&str] = &[
    "article",
    "content",
    "contenu",
    "contenido",
    "conteudo",
    "inhalt",
    "texte",
    "corps",
    "cuerpo",
    "chapo",
    "entry",
    "post-body",
    "postbody",
    "post-text",
    "post-content",
    "story",
    "main",
    "blog",
    "prose",
    "rich-text",
    "richtext",
    "body-text",
    "bodytext",
    "text",
    "page-body",
];

/// Substrings that name the body of an article, as content management systems write it.
const BODY_SUBSTR: &[&str] = &[
    "article-body",
    "articlebody",
    "article_body",
    "article__body",
    "article-content",
    "articlecontent",
    "article_content",
    "article__content",
    "article-text",
    "article__text",
    "articletext",
    "story-body",
    "storybody",
    "story-content",
    "story__body",
    "storycontent",
    "entry-content",
    "entrycontent",
    "entry_content",
    "entry-body",
    "post-content",
    "postcontent",
    "post_content",
    "post-body",
    "postbody",
    "post-entry",
    "post-text",
    "posttext",
    "main-content",
    "maincontent",
    "content-body",
    "body-copy",
    "bodycopy",
    "text-body",
    "page-content",
    "rich-text",
];

/// What an element's names say, classified once per element.
#[derive(Debug, Clone, Copy, Default)]
struct Flags {
    /// A comment section (not commentary, not live commentary).
    comment: bool,
    strong: bool,
    weak: bool,
    /// A whole class token that marks boilerplate (`ad`, `nav`, `tags`…).
    token: bool,
    positive: bool,
    /// Names the body of the article (or `itemprop=articleBody`).
    body: bool,
    /// An embedded post (tweet, Instagram…).
    embed: bool,
    /// A class that hides the element (`hidden`, `d-none`…).
    hidden: bool,
}

const LISTS: [&[&str]; 6] = [
    COMMENT_SUBSTR,
    STRONG_SUBSTR,
    WEAK_SUBSTR,
    POSITIVE_SUBSTR,
    BODY_SUBSTR,
    &["embed", "twitter-tweet"],
];

/// One automaton for every substring list: (automaton, list of each pattern).
static MATCHER: std::sync::LazyLock<(aho_corasick::AhoCorasick, Vec<usize>)> =
    std::sync::LazyLock::new(|| {
        let mut patterns = Vec::new();
        let mut list = Vec::new();
        for (k, l) in LISTS.iter().enumerate() {
            for p in l.iter() {
                patterns.push(*p);
                list.push(k);
            }
        }
        let ac = aho_corasick::AhoCorasick::new(patterns).expect("static patterns");
        (ac, list)
    });

fn classify(h: &super::dom::Hint) -> Flags {
    let (ac, list) = &*MATCHER;
    let names = h.names.as_str();
    let mut f = Flags::default();
    for m in ac.find_overlapping_iter(names) {
        match list[m.pattern().as_usize()] {
            0 => f.comment = true,
            1 => f.strong = true,
            2 => f.weak = true,
            3 => f.positive = true,
            4 => f.body = true,
            _ => f.embed = true,
        }
    }
    if f.comment
        && (names.contains("commentary")
            || names.contains("comment-free")
            || names.contains("no-comment")
            || tokens(names).any(|t| t == "live" || t == "liveblog" || t == "direct"))
    {
        f.comment = false;
    }
    f.token = tokens(names).any(is_boiler_token);
    f.hidden = names
        .split_ascii_whitespace()
        .any(|c| matches!(c, "hidden" | "hide" | "d-none" | "invisible" | "is-hidden"));
    f.body |= h.itemprop.contains("articlebody") || h.itemprop == "text";
    f
}

fn flags<'a>(dom: &Dom, all: &'a [Flags], i: usize) -> Option<&'a Flags> {
    let h = dom.nodes[i].hint;
    (h != u32::MAX).then(|| &all[h as usize])
}

/// Whether an element names itself as the body of the article.
fn names_body(dom: &Dom, all: &[Flags], i: usize) -> bool {
    flags(dom, all, i).is_some_and(|f| f.body)
}

fn kind_of(dom: &Dom, all: &[Flags], i: usize, holds_body: bool, prose: u32) -> Kind {
    let n = &dom.nodes[i];
    if matches!(n.tag, Tag::Body | Tag::Html | Tag::Main | Tag::Root) {
        return Kind::Neutral;
    }
    let by_tag = matches!(n.tag, Tag::Nav | Tag::Aside | Tag::Footer | Tag::Header);
    let (Some(h), Some(f)) = (dom.hint(i), flags(dom, all, i)) else {
        return if by_tag && !holds_body && (prose < 3 || matches!(n.tag, Tag::Nav | Tag::Aside)) {
            Kind::Boiler
        } else {
            Kind::Neutral
        };
    };
    if h.itemprop.contains("articlebody") || h.role == "main" || h.role == "article" {
        return Kind::Neutral;
    }
    if h.itemprop.contains("comment") || h.itemtype.contains("comment") {
        return Kind::Comments;
    }
    if !holds_body && f.comment {
        return Kind::Comments;
    }
    if holds_body {
        return Kind::Neutral;
    }
    if matches!(
        h.role.as_str(),
        "navigation"
            | "banner"
            | "contentinfo"
            | "complementary"
            | "search"
            | "menu"
            | "menubar"
            | "dialog"
            | "alertdialog"
            | "tablist"
            | "toolbar"
    ) {
        return Kind::Boiler;
    }
    // embedded posts (tweets, Instagram, Facebook) quoted by the article are content
    if matches!(n.tag, Tag::Nav | Tag::Aside) || (!f.embed && f.strong) {
        return Kind::Boiler;
    }
    // navigation, banners and footers do not hold several paragraphs of prose
    if prose >= 3 {
        return Kind::Neutral;
    }
    if by_tag || f.hidden {
        return Kind::Boiler;
    }
    if n.tag == Tag::Blockquote {
        return Kind::Neutral;
    }
    if !f.positive && (f.weak || f.token) {
        return Kind::Boiler;
    }
    Kind::Neutral
}

/// Readability's class weight: −25 for boilerplate names, +25 for article names.
fn class_weight(dom: &Dom, all: &[Flags], i: usize) -> i32 {
    let Some(f) = flags(dom, all, i) else {
        return 0;
    };
    let mut w = 0;
    if f.body {
        w += 25;
    }
    if f.comment || f.strong || f.weak || f.token {
        w -= 25;
    }
    if f.positive {
        w += 25;
    }
    w
}

// ---------------------------------------------------------------------------------------------
// statistics

struct Stats {
    /// Visible characters (whitespace excluded) of the subtree, boilerplate excluded.
    chars: Vec<u32>,
    link_chars: Vec<u32>,
    commas: Vec<u32>,
    paragraphs: Vec<u32>,
    images: Vec<u32>,
    items: Vec<u32>,
    headings_chars: Vec<u32>,
    /// Nearest boilerplate element around each node, itself included (`NONE` if none).
    junk: Vec<u32>,
    /// Elements marked as comments or boilerplate.
    kind: Vec<Kind>,
    /// What each element's names say, by hint index.
    flags: Vec<Flags>,
}

fn count_chars(s: &str) -> u32 {
    s.chars().filter(|c| !c.is_whitespace()).count() as u32
}

fn count_commas(s: &str) -> u32 {
    s.chars()
        .filter(|c| matches!(c, ',' | '，' | '、' | '،'))
        .count() as u32
}

fn stats(dom: &Dom) -> Stats {
    let n = dom.nodes.len();
    let all: Vec<Flags> = dom.hints.iter().map(classify).collect();
    let mut raw = vec![0u32; n];
    let mut kind = vec![Kind::Neutral; n];
    // raw character counts, for the "never remove most of the page" rule, and paragraphs of
    // prose (long, few links), that boilerplate does not have
    let mut raw_links = vec![0u32; n];
    let mut prose = vec![0u32; n];
    for i in (1..n).rev() {
        let node = &dom.nodes[i];
        match node.tag {
            Tag::Text => raw[i] = count_chars(dom.node_text(i)),
            Tag::A => raw_links[i] = raw[i],
            Tag::P if raw[i] >= 100 && raw_links[i] * 5 < raw[i] => prose[i] += 1,
            _ => {}
        }
        let p = node.parent as usize;
        raw[p] += raw[i];
        raw_links[p] += raw_links[i];
        prose[p] += prose[i];
    }
    // elements holding the article body (by name, or a long `<article>`) are never boilerplate
    let mut holds_body = vec![false; n];
    for i in (1..n).rev() {
        let node = &dom.nodes[i];
        if node.tag == Tag::Text {
            continue;
        }
        if names_body(dom, &all, i) && raw[i] >= 200 || node.tag == Tag::Article && raw[i] >= 1000 {
            holds_body[i] = true;
        }
        if holds_body[i] {
            holds_body[node.parent as usize] = true;
        }
    }
    for i in 0..n {
        if dom.nodes[i].tag != Tag::Text {
            kind[i] = kind_of(dom, &all, i, holds_body[i], prose[i]);
        }
    }
    let body = dom.find(Tag::Body).unwrap_or(0);
    let total = raw[body].max(1);
    for i in 0..n {
        if kind[i] == Kind::Boiler && raw[i] as f32 > 0.4 * total as f32 && raw[i] > 1000 {
            kind[i] = Kind::Neutral;
        }
    }
    let mut junk = vec![NONE; n];
    for i in 1..n {
        let p = dom.nodes[i].parent as usize;
        junk[i] = if kind[i] != Kind::Neutral {
            i as u32
        } else {
            junk[p]
        };
    }
    let mut s = Stats {
        chars: vec![0; n],
        link_chars: vec![0; n],
        commas: vec![0; n],
        paragraphs: vec![0; n],
        images: vec![0; n],
        items: vec![0; n],
        headings_chars: vec![0; n],
        junk,
        kind,
        flags: all,
    };
    for i in (1..n).rev() {
        let node = &dom.nodes[i];
        match node.tag {
            Tag::Text => {
                s.chars[i] = raw[i];
                s.commas[i] = count_commas(dom.node_text(i));
            }
            Tag::P => s.paragraphs[i] += 1,
            Tag::Img => s.images[i] += 1,
            Tag::Li => s.items[i] += 1,
            Tag::A => s.link_chars[i] = s.chars[i],
            t if t.is_heading() => s.headings_chars[i] = s.chars[i],
            _ => {}
        }
        if s.kind[i] != Kind::Neutral {
            continue; // boilerplate does not count for its ancestors
        }
        let p = node.parent as usize;
        s.chars[p] += s.chars[i];
        s.link_chars[p] += s.link_chars[i];
        s.commas[p] += s.commas[i];
        s.paragraphs[p] += s.paragraphs[i];
        s.images[p] += s.images[i];
        s.items[p] += s.items[i];
        s.headings_chars[p] += s.headings_chars[i];
    }
    s
}

impl Stats {
    fn link_density(&self, i: usize) -> f32 {
        if self.chars[i] == 0 {
            0.0
        } else {
            self.link_chars[i] as f32 / self.chars[i] as f32
        }
    }
}

// ---------------------------------------------------------------------------------------------
// blocks

/// The block being gathered while walking the page.
struct Gather<'a> {
    dom: &'a Dom,
    st: &'a Stats,
    out: Vec<Block>,
    text: String,
    first: u32,
    links: u32,
}

impl Gather<'_> {
    /// Ends the current block, owned by `owner`; `pre` keeps its whitespace.
    fn flush(&mut self, owner: u32, pre: bool) {
        if self.first != NONE {
            let text = if pre {
                self.text.trim_matches(['\n', '\r']).to_string()
            } else {
                let mut lines: Vec<String> = Vec::new();
                for l in self.text.split('\n') {
                    let c = collapse_ws(l);
                    if !c.is_empty() {
                        lines.push(c);
                    }
                }
                lines.join("\n")
            };
            let chars = count_chars(&text);
            if chars > 0 {
                self.out.push(Block {
                    owner,
                    first: self.first,
                    junk: self.st.junk[self.first as usize],
                    text,
                    chars,
                    link_chars: self.links.min(chars),
                    kind: self.dom.nodes[owner as usize].tag,
                });
            }
        }
        self.text.clear();
        self.first = NONE;
        self.links = 0;
    }
}

fn blocks(dom: &Dom, st: &Stats) -> Vec<Block> {
    let mut g = Gather {
        dom,
        st,
        out: Vec::new(),
        text: String::new(),
        first: NONE,
        links: 0,
    };
    // open elements: (index, end)
    let mut stack: Vec<(u32, u32)> = Vec::with_capacity(64);
    let mut owners: Vec<u32> = vec![0];
    let mut link_end = 0u32;
    let mut pre_end = 0u32;
    // inside an inline element that is boilerplate (a hover card in a paragraph): skipped
    let mut skip_end = 0u32;
    let mut pending_br = 0u8;
    let n = dom.nodes.len();
    let mut i = 1;
    while i < n {
        let iu = i as u32;
        while let Some(&(j, end)) = stack.last() {
            if end > iu {
                break;
            }
            stack.pop();
            if dom.nodes[j as usize].tag.is_block() {
                g.flush(*owners.last().unwrap_or(&0), pre_end > j);
                owners.pop();
            }
        }
        let node = &dom.nodes[i];
        if node.tag != Tag::Text
            && !node.tag.is_block()
            && st.kind[i] != Kind::Neutral
            && skip_end <= iu
        {
            skip_end = node.end;
        }
        match node.tag {
            Tag::Text => {
                let t = dom.node_text(i);
                if skip_end > iu || g.first == NONE && t.trim().is_empty() {
                    i += 1;
                    continue;
                }
                if g.first == NONE {
                    g.first = iu;
                }
                if pending_br > 0 {
                    g.text.push('\n');
                    pending_br = 0;
                }
                g.text.push_str(t);
                if link_end > iu {
                    g.links += count_chars(t);
                }
            }
            Tag::Br => {
                if g.first != NONE && skip_end <= iu {
                    pending_br += 1;
                    if pending_br >= 2 {
                        // a blank line: a new paragraph
                        g.flush(*owners.last().unwrap_or(&0), false);
                        pending_br = 0;
                    }
                }
            }
            t => {
                if t.is_block() {
                    g.flush(*owners.last().unwrap_or(&0), pre_end > iu);
                    pending_br = 0;
                    owners.push(iu);
                }
                if t == Tag::A && link_end <= iu {
                    link_end = node.end;
                }
                if t == Tag::Pre && pre_end <= iu {
                    pre_end = node.end;
                }
                if node.end > iu + 1 {
                    stack.push((iu, node.end));
                } else if t.is_block() {
                    owners.pop();
                }
            }
        }
        i += 1;
    }
    g.flush(*owners.last().unwrap_or(&0), false);
    g.out
}

// ---------------------------------------------------------------------------------------------
// container scoring

fn initial_score(dom: &Dom, st: &Stats, i: usize) -> f32 {
    let base = match dom.nodes[i].tag {
        Tag::Div | Tag::Article | Tag::Main | Tag::Section => 5.0,
        Tag::Pre | Tag::Td | Tag::Blockquote => 3.0,
        Tag::Address | Tag::Ol | Tag::Ul | Tag::Dl | Tag::Dd | Tag::Dt | Tag::Li | Tag::Form => {
            -3.0
        }
        Tag::H1 | Tag::H2 | Tag::H3 | Tag::H4 | Tag::H5 | Tag::H6 | Tag::Th => -5.0,
        _ => 0.0,
    };
    base + class_weight(dom, &st.flags, i) as f32
}

struct Scores {
    score: Vec<f32>,
    scored: Vec<bool>,
}

fn score_candidates(dom: &Dom, st: &Stats, blocks: &[Block]) -> Scores {
    let n = dom.nodes.len();
    let mut sc = Scores {
        score: vec![0.0; n],
        scored: vec![false; n],
    };
    for b in blocks {
        if b.junk != NONE || b.chars < 25 || b.kind.is_heading() {
            continue;
        }
        let mut score = 1.0 + count_commas(&b.text) as f32 + (b.chars as f32 / 100.0).min(3.0);
        if b.kind == Tag::Li {
            score *= 0.5;
        }
        let mut a = dom.nodes[b.owner as usize].parent;
        let mut level = 0;
        while a != NONE && level < 5 {
            let ai = a as usize;
            if matches!(dom.nodes[ai].tag, Tag::Root | Tag::Html) {
                break;
            }
            if !sc.scored[ai] {
                sc.scored[ai] = true;
                sc.score[ai] = initial_score(dom, st, ai);
            }
            let div = match level {
                0 => 1.0,
                1 => 2.0,
                l => l as f32 * 3.0,
            };
            sc.score[ai] += score / div;
            a = dom.nodes[ai].parent;
            level += 1;
        }
    }
    for i in 0..n {
        if sc.scored[i] {
            sc.score[i] *= 1.0 - st.link_density(i);
        }
    }
    sc
}

fn parent(dom: &Dom, i: usize) -> Option<usize> {
    let p = dom.nodes[i].parent;
    (p != NONE).then_some(p as usize)
}

/// Element children of `i`.
fn children(dom: &Dom, i: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut j = i + 1;
    let end = dom.nodes[i].end as usize;
    while j < end {
        out.push(j);
        j = dom.nodes[j].end as usize;
    }
    out
}

fn is_top(dom: &Dom, i: usize) -> bool {
    matches!(dom.nodes[i].tag, Tag::Body | Tag::Html | Tag::Root)
}

/// The best container and the siblings that join it.
fn choose_region(dom: &Dom, st: &Stats, sc: &Scores) -> Vec<usize> {
    let n = dom.nodes.len();
    let body = dom.find(Tag::Body).unwrap_or(0);
    let mut cands: Vec<usize> = (0..n)
        .filter(|&i| sc.scored[i] && st.junk[i] == NONE)
        .collect();
    cands.sort_by(|&a, &b| sc.score[b].total_cmp(&sc.score[a]));
    cands.truncate(5);
    let Some(&first) = cands.first() else {
        return vec![body];
    };
    let mut top = first;
    if is_top(dom, top) {
        return vec![body];
    }
    // several close candidates under one ancestor: the ancestor holds the article
    let alternatives: Vec<usize> = cands[1..]
        .iter()
        .copied()
        .filter(|&c| sc.score[c] >= 0.75 * sc.score[top])
        .collect();
    if alternatives.len() >= 3 {
        let mut p = parent(dom, top);
        while let Some(pi) = p {
            if is_top(dom, pi) {
                break;
            }
            let inside = alternatives
                .iter()
                .filter(|&&c| dom.contains(pi, c))
                .count();
            if inside >= 3 {
                top = pi;
                break;
            }
            p = parent(dom, pi);
        }
    }
    if !sc.scored[top] {
        // readability initialises it here
    }
    // climb while the parent scores better (the article split in parts)
    let mut last = sc.score[top];
    let threshold = last / 3.0;
    let mut p = parent(dom, top);
    while let Some(pi) = p {
        if is_top(dom, pi) {
            break;
        }
        if !sc.scored[pi] {
            p = parent(dom, pi);
            continue;
        }
        let ps = sc.score[pi];
        if ps < threshold {
            break;
        }
        if ps > last {
            top = pi;
            break;
        }
        last = ps;
        p = parent(dom, pi);
    }
    // an only child says nothing its parent does not
    while let Some(pi) = parent(dom, top) {
        if is_top(dom, pi) || children(dom, pi).len() != 1 {
            break;
        }
        top = pi;
    }
    // siblings that belong to the article
    let Some(pi) = parent(dom, top) else {
        return vec![top];
    };
    let top_score = if sc.scored[top] { sc.score[top] } else { 0.0 };
    let threshold = (top_score * 0.2).max(10.0);
    let top_names = dom.hint(top).map(|h| h.names.clone()).unwrap_or_default();
    let mut region = Vec::new();
    for c in children(dom, pi) {
        if c == top {
            region.push(c);
            continue;
        }
        if st.junk[c] != NONE || dom.nodes[c].tag == Tag::Text {
            continue;
        }
        let mut bonus = 0.0;
        if !top_names.is_empty() && dom.hint(c).is_some_and(|h| h.names == top_names) {
            bonus = top_score * 0.2;
        }
        let s = if sc.scored[c] { sc.score[c] } else { 0.0 };
        if sc.scored[c] && s + bonus >= threshold {
            region.push(c);
            continue;
        }
        if dom.nodes[c].tag == Tag::P {
            let ld = st.link_density(c);
            let len = st.chars[c];
            if (len > 80 && ld < 0.25)
                || (len > 0 && len <= 80 && ld == 0.0 && {
                    let t = dom.subtree_text(c);
                    t.ends_with('.') || t.contains(". ")
                })
            {
                region.push(c);
            }
        }
    }
    region
}

// ---------------------------------------------------------------------------------------------
// cleaning inside the region

fn is_data_table(dom: &Dom, st: &Stats, i: usize) -> bool {
    if dom
        .hint(i)
        .is_some_and(|h| h.role == "presentation" || h.role == "none")
    {
        return false;
    }
    let mut rows = 0;
    let mut cells = 0;
    let mut header = false;
    for j in dom.nodes[i].subtree(i).skip(1) {
        match dom.nodes[j].tag {
            Tag::Table => return false,
            Tag::Th | Tag::Caption => header = true,
            Tag::Tr => rows += 1,
            Tag::Td => cells += 1,
            _ => {}
        }
    }
    let _ = st;
    header || rows >= 10 || cells > 10
}

/// Readability's conditional cleaning: whether a container inside the article is clutter.
fn clutter(dom: &Dom, st: &Stats, i: usize) -> bool {
    let tag = dom.nodes[i].tag;
    if !matches!(
        tag,
        Tag::Div
            | Tag::Section
            | Tag::Ul
            | Tag::Ol
            | Tag::Dl
            | Tag::Table
            | Tag::Form
            | Tag::Fieldset
            | Tag::Figure
            | Tag::Header
            | Tag::Center
    ) {
        return false;
    }
    if tag == Tag::Table && is_data_table(dom, st, i) {
        return false;
    }
    let weight = class_weight(dom, &st.flags, i);
    if weight < 0 {
        return true;
    }
    if st.commas[i] >= 10 {
        return false;
    }
    let p = st.paragraphs[i] as f32;
    let img = st.images[i] as f32;
    let li = st.items[i] as f32 - 100.0;
    let chars = st.chars[i];
    let ld = st.link_density(i);
    let list_chars: u32 = if tag.is_list() {
        chars
    } else {
        // share of the text in list items
        let mut c = 0;
        let mut j = i + 1;
        let end = dom.nodes[i].end as usize;
        while j < end {
            if dom.nodes[j].tag == Tag::Li {
                c += st.chars[j];
                j = dom.nodes[j].end as usize;
            } else {
                j += 1;
            }
        }
        c
    };
    let is_list = tag.is_list() || (chars > 0 && list_chars as f32 > 0.9 * chars as f32);
    let heading_density = if chars > 0 {
        st.headings_chars[i] as f32 / chars as f32
    } else {
        0.0
    };
    let in_figure = tag == Tag::Figure;
    (!in_figure && img > 1.0 && p / img < 0.5 && chars < 200)
        || (!is_list && li > p)
        || (!is_list
            && !in_figure
            && heading_density < 0.9
            && chars < 25
            && (img == 0.0 || img > 2.0)
            && ld > 0.0)
        || (!is_list && weight < 25 && ld > 0.2 && chars < 1000)
        || (weight >= 25 && ld > 0.5)
}

/// An `<article>` among other `<article>`s inside the article: teasers of other stories.
fn card(dom: &Dom, st: &Stats, i: usize) -> bool {
    if dom.nodes[i].tag != Tag::Article {
        return false;
    }
    if st.chars[i] >= 300 && st.link_density(i) < 0.4 && !other_post(dom, i) {
        return false;
    }
    let Some(p) = parent(dom, i) else {
        return false;
    };
    children(dom, p)
        .into_iter()
        .filter(|&c| c != i && dom.nodes[c].tag == Tag::Article)
        .count()
        >= 1
}

/// The `post-1234` id a content management system gives an item in its classes.
fn post_id(dom: &Dom, i: usize) -> Option<&str> {
    dom.hint(i)?.names.split_ascii_whitespace().find(|t| {
        t.strip_prefix("post-")
            .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
    })
}

/// An `<article>` inside another that names a different item: another story.
fn other_post(dom: &Dom, i: usize) -> bool {
    let Some(mine) = post_id(dom, i) else {
        return false;
    };
    let mut a = parent(dom, i);
    while let Some(ai) = a {
        if dom.nodes[ai].tag == Tag::Article {
            return post_id(dom, ai).is_some_and(|theirs| theirs != mine);
        }
        a = parent(dom, ai);
    }
    false
}

/// Text next to a picture or a video (in a container named for it): a caption or a credit.
fn in_media(dom: &Dom, b: &Block) -> bool {
    let mut a = b.owner;
    for _ in 0..3 {
        if a == NONE {
            return false;
        }
        let ai = a as usize;
        if dom.nodes[ai].tag == Tag::Figure
            || dom.hint(ai).is_some_and(|h| {
                tokens(&h.names).any(|t| {
                    matches!(
                        t,
                        "image" | "img" | "photo" | "picture" | "figure" | "media" | "video"
                    )
                })
            })
        {
            return true;
        }
        a = dom.nodes[ai].parent;
    }
    false
}

/// Captions of pictures: under a `<figcaption>` or an element named as a caption.
fn is_caption(dom: &Dom, b: &Block) -> bool {
    let mut a = b.first;
    for _ in 0..4 {
        a = dom.nodes[a as usize].parent;
        if a == NONE {
            return false;
        }
        let ai = a as usize;
        if dom.nodes[ai].tag == Tag::Figcaption
            || dom
                .hint(ai)
                .is_some_and(|h| h.names.contains("caption") || h.names.contains("credit"))
        {
            return true;
        }
    }
    false
}

fn heading_level(t: Tag) -> u8 {
    match t {
        Tag::H1 => 1,
        Tag::H2 => 2,
        Tag::H3 => 3,
        Tag::H4 => 4,
        Tag::H5 => 5,
        Tag::H6 => 6,
        _ => 9,
    }
}

fn normalise_title(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// A container's signature: its tag and class names, digits dropped (`article-section-2`).
fn signature(dom: &Dom, i: usize) -> Option<(Tag, String)> {
    let h = dom.hint(i)?;
    let class: Vec<String> = h
        .names
        .split_ascii_whitespace()
        .map(|t| {
            t.chars()
                .filter(|c| !c.is_ascii_digit())
                .collect::<String>()
        })
        .filter(|t| t.len() > 1)
        .collect();
    if class.is_empty() {
        return None;
    }
    Some((dom.nodes[i].tag, class.join(" ")))
}

/// Bodies split around advertisements into containers of the same kind: the other parts.
fn split_parts(dom: &Dom, st: &Stats, region: &[usize]) -> Vec<usize> {
    let sigs: Vec<(Tag, String)> = region.iter().filter_map(|&r| signature(dom, r)).collect();
    if sigs.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut i = 1;
    let n = dom.nodes.len();
    while i < n {
        let inside = region
            .iter()
            .any(|&r| dom.contains(r, i) || dom.contains(i, r));
        if !inside
            && st.junk[i] == NONE
            && dom.nodes[i].tag != Tag::Text
            && st.chars[i] >= 50
            && st.link_density(i) < 0.3
            && signature(dom, i).is_some_and(|s| sigs.contains(&s))
        {
            out.push(i);
            i = dom.nodes[i].end as usize;
        } else {
            i += 1;
        }
    }
    out
}

/// Prose just before the region, in the article around it: the standfirst that templates
/// often keep apart from the body.
fn ledes(
    dom: &Dom,
    blocks: &[Block],
    region: &[usize],
    in_region: &dyn Fn(&Block) -> bool,
) -> Vec<usize> {
    let mut out = Vec::new();
    let Some(first) = blocks.iter().position(in_region) else {
        return out;
    };
    let mut around = region[0];
    for _ in 0..3 {
        match parent(dom, around) {
            Some(p) if !is_top(dom, p) => around = p,
            _ => break,
        }
    }
    let mut skipped = 0;
    let mut k = first;
    while k > 0 && out.len() < 3 && skipped < 8 {
        k -= 1;
        let b = &blocks[k];
        if !dom.contains(around, b.first as usize) {
            break;
        }
        if b.junk != NONE {
            skipped += 1;
            continue;
        }
        if b.chars >= 100
            && b.link_density() < 0.2
            && !b.kind.is_list()
            && !b.kind.is_heading()
            && b.kind != Tag::Li
            && !in_media(dom, b)
        {
            out.push(k);
            continue;
        }
        if b.link_density() >= 0.5 && b.chars >= 30 {
            break;
        }
        skipped += 1;
    }
    out
}

/// Extracts the main content of a parsed page as paragraphs.
pub fn main_content(dom: &Dom, titles: &[String]) -> Vec<String> {
    let st = stats(dom);
    let blocks = blocks(dom, &st);
    let sc = score_candidates(dom, &st, &blocks);
    let mut region = choose_region(dom, &st, &sc);
    let parts = split_parts(dom, &st, &region);
    region.extend(parts);
    region.sort_unstable();
    for &r in &region {
        tracing::trace!(
            node = r,
            tag = ?dom.nodes[r].tag,
            names = dom.hint(r).map_or("", |h| h.names.as_str()),
            score = sc.score[r],
            chars = st.chars[r],
            "main content region"
        );
    }

    // elements removed inside the region: boilerplate and clutter
    let n = dom.nodes.len();
    let mut removed = vec![false; n];
    for &r in &region {
        let end = dom.nodes[r].end as usize;
        let mut j = r + 1;
        while j < end {
            let node = &dom.nodes[j];
            if node.tag != Tag::Text
                && (st.kind[j] != Kind::Neutral || clutter(dom, &st, j) || card(dom, &st, j))
            {
                removed[j] = true;
                j = node.end as usize;
            } else {
                j += 1;
            }
        }
    }
    // nearest removed ancestor, as for boilerplate
    let mut gone = vec![false; n];
    for i in 1..n {
        gone[i] = removed[i] || gone[dom.nodes[i].parent as usize];
    }
    let in_region = |b: &Block| region.iter().any(|&r| dom.contains(r, b.first as usize));
    let ledes = ledes(dom, &blocks, &region, &in_region);

    // captions go, unless they are what the page is about (a gallery, a slideshow)
    let (mut caption_chars, mut region_chars) = (0u32, 0u32);
    let captions: Vec<bool> = blocks
        .iter()
        .map(|b| {
            let live = in_region(b) && !gone[b.first as usize];
            let c = live && is_caption(dom, b);
            if live {
                region_chars += b.chars;
                caption_chars += if c { b.chars } else { 0 };
            }
            c
        })
        .collect();
    let drop_captions = caption_chars * 2 < region_chars;
    // keep/drop per block, in order
    let mut picked: Vec<(usize, bool)> = Vec::new();
    for (k, b) in blocks.iter().enumerate() {
        if ledes.contains(&k) {
            picked.push((k, !is_boiler_line(&b.text)));
            continue;
        }
        if !in_region(b) || captions[k] && drop_captions {
            continue;
        }
        // links: a list of them, or a heading that is one
        let links = b.link_density() > 0.6 && (b.chars < 200 || b.kind.is_heading());
        let drop =
            gone[b.first as usize] || gone[b.owner as usize] || is_boiler_line(&b.text) || links;
        let keep = !drop;
        picked.push((k, keep));
    }
    // headings with nothing kept under them
    for idx in 0..picked.len() {
        let (k, keep) = picked[idx];
        if !keep || !blocks[k].kind.is_heading() {
            continue;
        }
        let level = heading_level(blocks[k].kind);
        let next = picked[idx + 1..]
            .iter()
            .find(|(k2, _)| blocks[*k2].chars > 0);
        let orphan = match next {
            None => true,
            Some(&(k2, keep2)) => {
                !keep2 || (blocks[k2].kind.is_heading() && heading_level(blocks[k2].kind) <= level)
            }
        };
        if orphan {
            picked[idx].1 = false;
        }
    }
    let title_norms: Vec<String> = titles
        .iter()
        .map(|t| normalise_title(t))
        .filter(|t| !t.is_empty())
        .collect();
    let mut out: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    // cells of one table row make one line
    let mut last_row = NONE;
    for (k, keep) in picked {
        if !keep {
            continue;
        }
        let b = &blocks[k];
        if out.len() < 3 && b.kind.is_heading() {
            let h = normalise_title(&b.text);
            if !h.is_empty()
                && title_norms
                    .iter()
                    .any(|t| *t == h || (h.len() >= 12 && t.contains(&h)))
            {
                continue;
            }
        }
        if b.chars >= 20 && !seen.insert(b.text.clone()) {
            continue;
        }
        let row = if matches!(b.kind, Tag::Td | Tag::Th) {
            dom.nodes[b.owner as usize].parent
        } else {
            NONE
        };
        match out.last_mut() {
            Some(line) if row != NONE && row == last_row => {
                line.push_str(" | ");
                line.push_str(&b.text);
            }
            _ => out.push(b.text.clone()),
        }
        last_row = row;
    }
    // calls to action around the text
    while out.len() > 1 && out.last().is_some_and(|p| is_call_to_action(p)) {
        out.pop();
    }
    while out.len() > 1 && is_call_to_action(&out[0]) {
        out.remove(0);
    }
    let got: usize = out.iter().map(|p| count_chars(p) as usize).sum();

    // recall guard: the container missed most of the prose
    let prose: Vec<&Block> = blocks
        .iter()
        .filter(|b| {
            b.junk == NONE
                && b.chars >= 60
                && b.link_density() < 0.3
                && !b.kind.is_heading()
                && !is_boiler_line(&b.text)
        })
        .collect();
    let prose_chars: usize = prose.iter().map(|b| b.chars as usize).sum();
    if got < 200 && prose_chars > 3 * got.max(50) {
        let mut seen = std::collections::HashSet::new();
        return prose
            .into_iter()
            .filter(|b| seen.insert(b.text.clone()))
            .map(|b| b.text.clone())
            .collect();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn extract(html: &str) -> String {
        let dom = Dom::parse(html);
        let titles: Vec<String> = dom.meta.title.iter().cloned().collect();
        main_content(&dom, &titles).join("\n\n")
    }

    const LOREM: &str = "Le service client a répondu après trois semaines, ce qui est bien trop long, \
        et la panne de la box n'était toujours pas réparée, malgré deux techniciens envoyés sur place.";

    #[test]
    fn keeps_article_drops_navigation_footer_sidebar() {
        let html = format!(
            r##"<html><head><title>Panne de box</title></head><body>
            <header><nav><ul><li><a href="/">Accueil</a></li><li><a href="/a">Actualités</a></li></ul></nav></header>
            <div class="sidebar"><h3>Populaires</h3><ul><li><a href="/x">Un autre article très lu aujourd'hui</a></li></ul></div>
            <article><h1>Panne de box</h1><p>{LOREM}</p><h2>La suite</h2><p>{LOREM} Encore.</p>
            <blockquote>« Nous sommes désolés », a écrit l'opérateur, sans plus de détails.</blockquote>
            <div class="share"><a href="#">Facebook</a> <a href="#">Twitter</a></div></article>
            <div id="comments"><p>Moi aussi j'ai eu ce problème, c'est une honte, vraiment une honte.</p></div>
            <footer><p>© 2024 Le Journal, tous droits réservés. Mentions légales.</p></footer>
            </body></html>"##
        );
        let text = extract(&html);
        assert!(text.contains("trois semaines"), "{text}");
        assert!(text.contains("La suite"), "{text}");
        assert!(text.contains("Nous sommes désolés"), "{text}");
        for noise in [
            "Accueil",
            "Populaires",
            "Facebook",
            "honte",
            "droits réservés",
        ] {
            assert!(!text.contains(noise), "{noise} in {text}");
        }
        // the headline is the title, not the text
        assert!(!text.starts_with("Panne de box"), "{text}");
    }

    #[test]
    fn paragraphs_are_separated_by_blank_lines_in_reading_order() {
        let html = format!(
            "<div class=post><p>{LOREM} Un.</p><ul><li>{LOREM} Deux.</li></ul><p>{LOREM} Trois.</p></div>"
        );
        let text = extract(&html);
        let parts: Vec<&str> = text.split("\n\n").collect();
        assert_eq!(parts.len(), 3, "{text}");
        assert!(
            parts[0].ends_with("Un.")
                && parts[1].ends_with("Deux.")
                && parts[2].ends_with("Trois.")
        );
    }

    #[test]
    fn link_lists_inside_the_article_are_dropped() {
        let html = format!(
            r#"<article><p>{LOREM}</p><p>{LOREM} Bis.</p><ul class="links"><li><a href="/1">Lien un vers ailleurs</a></li>
            <li><a href="/2">Lien deux vers ailleurs</a></li><li><a href="/3">Lien trois vers ailleurs</a></li></ul></article>"#
        );
        let text = extract(&html);
        assert!(text.contains("Bis."));
        assert!(!text.contains("Lien deux"), "{text}");
    }

    #[test]
    fn text_in_divs_with_line_breaks_is_kept() {
        let html =
            format!("<body><div id=main>{LOREM}<br>{LOREM}<br><br>{LOREM} Fin.</div></body>");
        let text = extract(&html);
        assert!(text.contains("Fin."), "{text}");
        assert!(text.contains('\n'));
    }

    #[test]
    fn calls_to_action_close_no_article_whose_topic_they_name() {
        let html = format!(
            "<article><p>{LOREM}</p><p>{LOREM} Les abonnés recevront un geste.</p>\
             <p>Subscribe to our newsletter for more.</p></article>"
        );
        let text = extract(&html);
        assert!(text.ends_with("Les abonnés recevront un geste."), "{text}");
    }

    #[test]
    fn hover_cards_inside_a_paragraph_do_not_split_it() {
        let html = format!(
            r#"<article><p>{LOREM}</p><p>La ministre <span class="person">Jeanne Dupont<span class="rollover-block">Jeanne Dupont : 12 articles, suivre</span></span> a réagi mardi, en promettant une enquête.</p></article>"#
        );
        let text = extract(&html);
        assert!(
            text.contains("La ministre Jeanne Dupont a réagi mardi, en promettant une enquête."),
            "{text}"
        );
        assert!(!text.contains("12 articles"));
    }

    #[test]
    fn noscript_text_is_read_and_invisible_characters_are_not() {
        let html = format!(
            "<body><noscript><p>{LOREM}</p><p>Ré\u{ad}seau in\u{200b}stable depuis lundi, selon les abonnés de la région.</p></noscript></body>"
        );
        let text = extract(&html);
        assert!(text.contains("Réseau instable depuis lundi"), "{text}");
    }

    #[test]
    fn empty_and_textless_pages_give_nothing() {
        assert_eq!(extract(""), "");
        assert_eq!(extract("<html><body><img src=a.png></body></html>"), "");
    }
}
