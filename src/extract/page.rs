//! Main text and metadata of an HTML page.

use scraper::{ElementRef, Html, Node, Selector};

/// What vigie reads in a page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    pub title: String,
    /// Main content, paragraphs separated by blank lines.
    pub text: String,
    pub published: Option<chrono::DateTime<chrono::Utc>>,
    pub author: Option<String>,
    pub lang: Option<String>,
    pub canonical: Option<String>,
}

const SKIP: &[&str] = &[
    "script", "style", "noscript", "nav", "header", "footer", "aside", "form", "template", "svg",
    "iframe", "button", "select",
];
const BLOCKS: &[&str] = &[
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "blockquote",
    "pre",
    "td",
    "dd",
    "dt",
    "figcaption",
];

fn collect(el: ElementRef<'_>, out: &mut Vec<String>, cur: &mut String) {
    for child in el.children() {
        match child.value() {
            Node::Text(t) => cur.push_str(t),
            Node::Element(e) => {
                let name = e.name();
                if SKIP.contains(&name) {
                    continue;
                }
                let Some(child_el) = ElementRef::wrap(child) else {
                    continue;
                };
                if BLOCKS.contains(&name)
                    || name == "div"
                    || name == "br"
                    || name == "section"
                    || name == "article"
                {
                    flush(out, cur);
                    collect(child_el, out, cur);
                    flush(out, cur);
                } else {
                    collect(child_el, out, cur);
                }
            }
            _ => {}
        }
    }
}

fn flush(out: &mut Vec<String>, cur: &mut String) {
    let t = cur.split_whitespace().collect::<Vec<_>>().join(" ");
    if !t.is_empty() {
        out.push(t);
    }
    cur.clear();
}

/// Extracts the main text and metadata of a page.
pub fn extract_page(html: &str, _url: Option<&str>) -> Page {
    let doc = Html::parse_document(html);
    let sel = |s: &str| Selector::parse(s).expect("static selector");
    let title = doc
        .select(&sel("title"))
        .next()
        .map(|t| t.text().collect::<String>().trim().to_string())
        .unwrap_or_default();
    let root = doc
        .select(&sel("article"))
        .next()
        .or_else(|| doc.select(&sel("body")).next())
        .unwrap_or_else(|| doc.root_element());
    let mut paras = Vec::new();
    let mut cur = String::new();
    collect(root, &mut paras, &mut cur);
    flush(&mut paras, &mut cur);
    let lang = doc.root_element().value().attr("lang").map(str::to_string);
    let canonical = doc
        .select(&sel("link[rel=canonical]"))
        .next()
        .and_then(|l| l.value().attr("href"))
        .map(str::to_string);
    Page {
        title,
        text: paras.join("\n\n"),
        published: None,
        author: None,
        lang,
        canonical,
    }
}
