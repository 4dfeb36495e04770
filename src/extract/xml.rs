//! A tolerant XML reader for feeds: it never fails, it recovers what an ill-formed document
//! holds, and it never expands entities a document declares (so an entity-expansion bomb
//! stays a few bytes). Only the five XML entities and character references are decoded; HTML
//! named entities (`&eacute;`, invalid in XML but common in feeds) are left for the HTML layer.
//!
//! Elements carry their namespace URI, resolved from the `xmlns` declarations in scope (an
//! undeclared prefix resolves to itself), so `<atom:title>` and `<title>` in the Atom
//! namespace read alike and `<media:title>` does not pass for the title.
//!
//! Depth, element count and input size are bounded; time is linear in the input.

/// Deepest element nesting kept; deeper elements are flattened into their ancestor.
pub const MAX_DEPTH: usize = 128;
/// Most elements read from one document.
pub const MAX_ELEMENTS: usize = 200_000;
/// Largest document read, in bytes.
pub const MAX_XML_BYTES: usize = 32 << 20;

/// A child of an element.
#[derive(Debug, Clone)]
pub enum Child {
    Text(String),
    El(usize),
}

/// An element.
#[derive(Debug, Clone, Default)]
pub struct Element {
    /// Local name, lower case.
    pub name: String,
    /// Namespace URI (or the undeclared prefix), empty for none.
    pub ns: String,
    /// Attributes: (local name lower case, value), `xml:base` as `xml:base`, `xml:lang` as
    /// `xml:lang`.
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Child>,
    pub parent: usize,
}

/// A parsed document: element 0 is a synthetic root holding the document element(s).
#[derive(Debug, Clone)]
pub struct Doc {
    pub els: Vec<Element>,
}

impl Doc {
    pub fn attr(&self, i: usize, name: &str) -> Option<&str> {
        self.els[i]
            .attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Element children of `i`.
    pub fn elements(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        self.els[i].children.iter().filter_map(|c| match c {
            Child::El(e) => Some(*e),
            Child::Text(_) => None,
        })
    }

    /// All text under `i`, in order.
    pub fn text(&self, i: usize) -> String {
        let mut out = String::new();
        let mut stack = vec![(i, 0usize)];
        while let Some((e, k)) = stack.pop() {
            if let Some(c) = self.els[e].children.get(k) {
                stack.push((e, k + 1));
                match c {
                    Child::Text(t) => out.push_str(t),
                    Child::El(c) => stack.push((*c, 0)),
                }
            }
        }
        out
    }

    /// The markup under `i`, re-serialised (for XHTML content).
    pub fn inner_markup(&self, i: usize) -> String {
        let mut out = String::new();
        // (element, next child index)
        let mut stack = vec![(i, 0usize)];
        while let Some((e, k)) = stack.pop() {
            match self.els[e].children.get(k) {
                Some(c) => {
                    stack.push((e, k + 1));
                    match c {
                        Child::Text(t) => crate::html::html_escape_into(t, &mut out),
                        Child::El(c) => {
                            out.push('<');
                            out.push_str(&self.els[*c].name);
                            for (k, v) in &self.els[*c].attrs {
                                out.push(' ');
                                out.push_str(k);
                                out.push_str("=\"");
                                crate::html::html_escape_into(v, &mut out);
                                out.push('"');
                            }
                            out.push('>');
                            stack.push((*c, 0));
                        }
                    }
                }
                None => {
                    if e != i {
                        out.push_str("</");
                        out.push_str(&self.els[e].name);
                        out.push('>');
                    }
                }
            }
        }
        out
    }

    /// The document element: the first element under the synthetic root.
    pub fn root(&self) -> Option<usize> {
        self.elements(0).next()
    }
}

/// Decodes the five XML entities and character references; anything else stays as written.
pub fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let end = rest[1..]
            .find(|c: char| c == ';' || c == '&' || c.is_whitespace() || c == '<')
            .map(|e| e + 1);
        match end {
            Some(e) if rest.as_bytes()[e] == b';' && e <= 40 => {
                let name = &rest[1..e];
                let decoded = match name {
                    "amp" => Some('&'),
                    "lt" => Some('<'),
                    "gt" => Some('>'),
                    "quot" => Some('"'),
                    "apos" => Some('\''),
                    _ => name.strip_prefix('#').and_then(|n| {
                        let v = if let Some(h) = n.strip_prefix(['x', 'X']) {
                            u32::from_str_radix(h, 16).ok()
                        } else {
                            n.parse::<u32>().ok()
                        }?;
                        char::from_u32(v).filter(|c| *c != '\0')
                    }),
                };
                match decoded {
                    Some(c) => {
                        out.push(c);
                        rest = &rest[e + 1..];
                    }
                    None => {
                        out.push_str(&rest[..e + 1]);
                        rest = &rest[e + 1..];
                    }
                }
            }
            _ => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn is_name_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c == b':' || c >= 0x80
}

fn is_name_char(c: u8) -> bool {
    is_name_start(c) || c.is_ascii_digit() || c == b'-' || c == b'.'
}

struct Open {
    el: usize,
    /// Qualified name as written (for matching end tags).
    qname: String,
    /// Namespace declarations made by this element: (prefix, uri).
    decls: Vec<(String, String)>,
}

fn resolve(prefix: &str, stack: &[Open]) -> String {
    for o in stack.iter().rev() {
        if let Some((_, uri)) = o.decls.iter().find(|(p, _)| p == prefix) {
            return uri.clone();
        }
    }
    match prefix {
        "" => String::new(),
        "xml" => "http://www.w3.org/XML/1998/namespace".to_string(),
        p => p.to_ascii_lowercase(),
    }
}

/// Parses a document that is already text. Never fails: what cannot be read is skipped.
pub fn parse(input: &str) -> Doc {
    let input = super::dom::truncate_str(input, MAX_XML_BYTES);
    let b = input.as_bytes();
    let mut doc = Doc {
        els: vec![Element::default()],
    };
    let mut stack: Vec<Open> = vec![Open {
        el: 0,
        qname: String::new(),
        decls: Vec::new(),
    }];
    let mut pos = 0;
    let n = b.len();
    let push_text = |doc: &mut Doc, el: usize, t: String| {
        if t.is_empty() {
            return;
        }
        if let Some(Child::Text(last)) = doc.els[el].children.last_mut() {
            last.push_str(&t);
        } else {
            doc.els[el].children.push(Child::Text(t));
        }
    };
    while pos < n {
        let cur = stack.last().map_or(0, |o| o.el);
        if b[pos] != b'<' {
            let end = memchr(b'<', &b[pos..]).map_or(n, |e| pos + e);
            push_text(&mut doc, cur, decode_entities(&input[pos..end]));
            pos = end;
            continue;
        }
        let rest = &b[pos..];
        if rest.starts_with(b"<!--") {
            pos = find(&b[pos + 4..], b"-->").map_or(n, |e| pos + 4 + e + 3);
        } else if rest.starts_with(b"<![CDATA[") {
            let start = pos + 9;
            let end = find(&b[start..], b"]]>").map_or(n, |e| start + e);
            push_text(&mut doc, cur, input[start..end].to_string());
            pos = (end + 3).min(n);
        } else if rest.starts_with(b"<?") {
            pos = find(&b[pos + 2..], b"?>").map_or(n, |e| pos + 2 + e + 2);
        } else if rest.len() >= 9 && rest[..9].eq_ignore_ascii_case(b"<!doctype") {
            // skipped whole, internal subset included: declared entities are never expanded
            let mut i = pos + 9;
            let mut depth = 0i32;
            while i < n {
                match b[i] {
                    b'[' => depth += 1,
                    b']' => depth -= 1,
                    b'>' if depth <= 0 => break,
                    _ => {}
                }
                i += 1;
            }
            pos = (i + 1).min(n);
        } else if rest.starts_with(b"<!") {
            pos = memchr(b'>', rest).map_or(n, |e| pos + e + 1);
        } else if rest.starts_with(b"</") {
            let start = pos + 2;
            let mut i = start;
            while i < n && is_name_char(b[i]) {
                i += 1;
            }
            let qname = input[start..i].to_ascii_lowercase();
            pos = memchr(b'>', &b[i..]).map_or(n, |e| i + e + 1);
            if let Some(k) = stack.iter().rposition(|o| o.qname == qname) {
                if k > 0 {
                    stack.truncate(k);
                }
            }
        } else if rest.len() > 1 && is_name_start(rest[1]) {
            let (next, tag) = read_tag(input, pos);
            pos = next;
            let Some(tag) = tag else { continue };
            if doc.els.len() >= MAX_ELEMENTS || stack.len() > MAX_DEPTH {
                continue;
            }
            recover_unclosed(&mut stack, &doc, &tag.qname);
            let cur = stack.last().map_or(0, |o| o.el);
            let mut decls = Vec::new();
            for (k, v) in &tag.attrs {
                if k == "xmlns" {
                    decls.push((String::new(), v.trim().to_string()));
                } else if let Some(p) = k.strip_prefix("xmlns:") {
                    decls.push((p.to_string(), v.trim().to_string()));
                }
            }
            let (prefix, local) = match tag.qname.split_once(':') {
                Some((p, l)) => (p, l),
                None => ("", tag.qname.as_str()),
            };
            // the element's own declarations count for its name
            let ns = decls
                .iter()
                .find(|(p, _)| p == prefix)
                .map(|(_, u)| u.clone())
                .unwrap_or_else(|| resolve(prefix, &stack));
            let attrs = tag
                .attrs
                .into_iter()
                .filter(|(k, _)| k != "xmlns" && !k.starts_with("xmlns:"))
                .map(|(k, v)| {
                    let k = match k.split_once(':') {
                        Some(("xml", l)) => format!("xml:{l}"),
                        Some((_, l)) => l.to_string(),
                        None => k,
                    };
                    (k, v)
                })
                .collect();
            let el = doc.els.len();
            doc.els.push(Element {
                name: local.to_ascii_lowercase(),
                ns,
                attrs,
                children: Vec::new(),
                parent: cur,
            });
            doc.els[cur].children.push(Child::El(el));
            if !tag.self_closing {
                stack.push(Open {
                    el,
                    qname: tag.qname.to_ascii_lowercase(),
                    decls,
                });
            }
        } else {
            push_text(&mut doc, cur, "<".to_string());
            pos += 1;
        }
    }
    doc
}

/// Feed fields that hold text, never other fields.
fn is_text_field(name: &str) -> bool {
    matches!(
        name,
        "title"
            | "link"
            | "pubdate"
            | "guid"
            | "author"
            | "category"
            | "comments"
            | "creator"
            | "date"
            | "published"
            | "updated"
            | "id"
            | "description"
            | "summary"
            | "language"
            | "lastbuilddate"
    )
}

/// Feed fields: starting one closes an unclosed text field (`<title>One<link>…`).
fn is_field(name: &str) -> bool {
    is_text_field(name)
        || matches!(
            name,
            "item" | "entry" | "enclosure" | "content" | "encoded" | "source" | "channel"
        )
}

fn local(qname: &str) -> String {
    qname
        .rsplit(':')
        .next()
        .unwrap_or(qname)
        .to_ascii_lowercase()
}

/// Closes what an ill-formed feed left open before a new element: a text field before
/// another field, an item before the next item.
fn recover_unclosed(stack: &mut Vec<Open>, doc: &Doc, qname: &str) {
    let name = local(qname);
    if name == "item" || name == "entry" {
        if let Some(k) = stack
            .iter()
            .rposition(|o| o.el != 0 && matches!(doc.els[o.el].name.as_str(), "item" | "entry"))
        {
            stack.truncate(k);
            return;
        }
    }
    if is_field(&name) {
        while stack.len() > 1 {
            let top = &doc.els[stack[stack.len() - 1].el];
            if is_text_field(&top.name) && top.children.iter().all(|c| matches!(c, Child::Text(_)))
            {
                stack.pop();
            } else {
                break;
            }
        }
    }
}

struct RawTag {
    qname: String,
    attrs: Vec<(String, String)>,
    self_closing: bool,
}

/// Reads a start tag at `pos` (which is `<`); returns where reading resumes.
fn read_tag(input: &str, pos: usize) -> (usize, Option<RawTag>) {
    let b = input.as_bytes();
    let n = b.len();
    let mut i = pos + 1;
    let start = i;
    while i < n && is_name_char(b[i]) {
        i += 1;
    }
    let qname = input[start..i].to_string();
    let mut attrs = Vec::new();
    loop {
        while i < n && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= n {
            return (
                n,
                Some(RawTag {
                    qname,
                    attrs,
                    self_closing: false,
                }),
            );
        }
        match b[i] {
            b'>' => {
                return (
                    i + 1,
                    Some(RawTag {
                        qname,
                        attrs,
                        self_closing: false,
                    }),
                )
            }
            b'/' if i + 1 < n && b[i + 1] == b'>' => {
                return (
                    i + 2,
                    Some(RawTag {
                        qname,
                        attrs,
                        self_closing: true,
                    }),
                )
            }
            b'<' => {
                // an unclosed tag: stop before the next one
                return (
                    i,
                    Some(RawTag {
                        qname,
                        attrs,
                        self_closing: false,
                    }),
                );
            }
            c if is_name_start(c) => {
                let s = i;
                while i < n && is_name_char(b[i]) {
                    i += 1;
                }
                let key = input[s..i].to_ascii_lowercase();
                while i < n && b[i].is_ascii_whitespace() {
                    i += 1;
                }
                let mut value = String::new();
                if i < n && b[i] == b'=' {
                    i += 1;
                    while i < n && b[i].is_ascii_whitespace() {
                        i += 1;
                    }
                    if i < n && (b[i] == b'"' || b[i] == b'\'') {
                        let q = b[i];
                        let vs = i + 1;
                        let ve = memchr(q, &b[vs..]).map_or(n, |e| vs + e);
                        value = decode_entities(&input[vs..ve]);
                        i = (ve + 1).min(n);
                    } else {
                        let vs = i;
                        while i < n && !b[i].is_ascii_whitespace() && b[i] != b'>' {
                            i += 1;
                        }
                        value = decode_entities(&input[vs..i]);
                    }
                }
                if attrs.len() < 64 {
                    attrs.push((key, value));
                }
            }
            _ => i += 1,
        }
    }
}

fn memchr(c: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|&x| x == c)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    let first = needle[0];
    let mut i = 0;
    while i + needle.len() <= hay.len() {
        match memchr(first, &hay[i..=hay.len() - needle.len()]) {
            Some(p) => {
                let at = i + p;
                if &hay[at..at + needle.len()] == needle {
                    return Some(at);
                }
                i = at + 1;
            }
            None => return None,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_resolve_and_text_decodes() {
        let d = parse(
            r#"<?xml version="1.0"?><a:feed xmlns:a="http://www.w3.org/2005/Atom" xmlns:m="urn:m">
            <a:title>T &amp; &#233;&#x301; &eacute;</a:title><m:title>no</m:title><![CDATA[<b>x</b>]]></a:feed>"#,
        );
        let root = d.root().unwrap();
        assert_eq!(d.els[root].name, "feed");
        assert_eq!(d.els[root].ns, "http://www.w3.org/2005/Atom");
        let kids: Vec<usize> = d.elements(root).collect();
        assert_eq!(d.text(kids[0]), "T & \u{e9}\u{301} &eacute;");
        assert_eq!(d.els[kids[1]].ns, "urn:m");
        assert!(d.text(root).contains("<b>x</b>"));
    }

    #[test]
    fn entity_bombs_do_not_expand() {
        let bomb = r#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><rss><channel><title>&c;</title></channel></rss>"#;
        let d = parse(bomb);
        let t = d.text(d.root().unwrap());
        assert!(t.len() < 100, "{t}");
    }

    #[test]
    fn broken_documents_recover() {
        for s in [
            "",
            "<",
            "<<<>>>",
            "<rss><channel><title>x",
            "<a b='1' c=2 d><e/></f></a>",
            "<!-- never closed",
            "<![CDATA[ never closed",
            "<!DOCTYPE x [ <!ENTITY",
            "<a:b xmlns:a=>&#xFFFFFFFF;&#0;&#;&",
        ] {
            let _ = parse(s);
        }
        let d = parse("<rss><channel><title>x</channel><item><title>y");
        assert_eq!(d.els.len(), 6);
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let s = "<a>".repeat(100_000);
        let d = parse(&s);
        assert!(d.els.len() <= MAX_DEPTH + 2);
    }

    #[test]
    fn inner_markup_round_trips() {
        let d = parse(
            r#"<c><div xmlns="http://www.w3.org/1999/xhtml">a <b class="x">b &amp; c</b></div></c>"#,
        );
        let c = d.root().unwrap();
        assert_eq!(
            d.inner_markup(c),
            r#"<div>a <b class="x">b &amp; c</b></div>"#
        );
    }
}
