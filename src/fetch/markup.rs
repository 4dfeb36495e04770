//! A forgiving tokenizer for the XML that sitemaps and OPML files really contain: raw `&`
//! in attributes, undeclared entities, stray `<`, missing end tags. It never fails; it
//! yields what it can read.

use std::borrow::Cow;

/// One piece of markup.
#[derive(Debug, Clone, PartialEq)]
pub enum Token<'a> {
    /// `<name attrs>` or `<name attrs/>` (`empty`).
    Start {
        name: &'a str,
        attrs: &'a str,
        empty: bool,
    },
    /// `</name>`.
    End { name: &'a str },
    /// Text between tags, entities decoded (CDATA as is).
    Text(Cow<'a, str>),
}

/// Tokens of a document.
pub struct Tokens<'a> {
    s: &'a str,
    i: usize,
}

/// Tokenizes `s`.
pub fn tokens(s: &str) -> Tokens<'_> {
    Tokens { s, i: 0 }
}

fn find_from(s: &str, from: usize, pat: &str) -> Option<usize> {
    s.get(from..)?.find(pat).map(|p| from + p)
}

impl<'a> Iterator for Tokens<'a> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        let s = self.s;
        let b = s.as_bytes();
        while self.i < s.len() {
            let i = self.i;
            if b[i] != b'<' {
                let end = find_from(s, i + 1, "<").unwrap_or(s.len());
                self.i = end;
                return Some(Token::Text(decode_entities(&s[i..end])));
            }
            let rest = &s[i..];
            if rest.starts_with("<!--") {
                self.i = find_from(s, i + 4, "-->").map_or(s.len(), |e| e + 3);
                continue;
            }
            if rest.starts_with("<![CDATA[") {
                let start = i + 9;
                let end = find_from(s, start, "]]>").unwrap_or(s.len());
                self.i = (end + 3).min(s.len());
                return Some(Token::Text(Cow::Borrowed(&s[start..end])));
            }
            if rest.starts_with("<?") {
                self.i = find_from(s, i + 2, "?>").map_or(s.len(), |e| e + 2);
                continue;
            }
            if rest.starts_with("<!") {
                self.i = find_from(s, i + 2, ">").map_or(s.len(), |e| e + 1);
                continue;
            }
            if let Some(after) = rest.strip_prefix("</") {
                let name_len = after
                    .find(|c: char| c.is_whitespace() || c == '>')
                    .unwrap_or(after.len());
                let name = &after[..name_len];
                self.i = find_from(s, i + 2, ">").map_or(s.len(), |e| e + 1);
                return Some(Token::End { name });
            }
            let after = &rest[1..];
            if !after
                .chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_' || c == ':')
            {
                // a stray '<' in text
                let end = find_from(s, i + 1, "<").unwrap_or(s.len());
                self.i = end;
                return Some(Token::Text(decode_entities(&s[i..end])));
            }
            let name_len = after
                .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
                .unwrap_or(after.len());
            let name = &after[..name_len];
            let attrs_start = i + 1 + name_len;
            let end = tag_end(s, attrs_start);
            let mut attrs = &s[attrs_start..end];
            let mut empty = false;
            if let Some(a) = attrs.trim_end().strip_suffix('/') {
                attrs = a;
                empty = true;
            }
            self.i = (end + 1).min(s.len());
            return Some(Token::Start { name, attrs, empty });
        }
        None
    }
}

/// Longest start tag read with its quotes honoured; past it, a tag ends at its first `>`.
const MAX_TAG: usize = 64 * 1024;

/// Where the `>` closing a start tag is, skipping quoted attribute values (so that a raw
/// `<a href="…">` inside a quoted description does not end the tag early). A quote that is
/// never closed, or a tag that would grow past [`MAX_TAG`], ends at the next `>`.
fn tag_end(s: &str, from: usize) -> usize {
    let b = s.as_bytes();
    let first_gt = || find_from(s, from, ">").unwrap_or(s.len());
    let mut j = from;
    while j < b.len() {
        if j - from > MAX_TAG {
            return first_gt();
        }
        match b[j] {
            b'>' => return j,
            q @ (b'"' | b'\'') => match b[j + 1..].iter().position(|&c| c == q) {
                Some(p) => j += p + 2,
                None => return find_from(s, j + 1, ">").unwrap_or(s.len()),
            },
            _ => j += 1,
        }
    }
    s.len()
}

/// The attributes of a start tag, names as written, values with entities decoded. Quoted
/// (either quote) and unquoted values are read; a name without a value has an empty one.
pub fn attributes(raw: &str) -> Vec<(&str, String)> {
    let mut out = Vec::new();
    let b = raw.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
            i += 1;
        }
        let start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'=' {
            i += 1;
        }
        if start == i {
            i += 1;
            continue;
        }
        let name = &raw[start..i];
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= b.len() || b[i] != b'=' {
            out.push((name, String::new()));
            continue;
        }
        i += 1;
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let value = if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
            let q = b[i];
            let vstart = i + 1;
            let vend = raw[vstart..]
                .bytes()
                .position(|c| c == q)
                .map_or(raw.len(), |p| vstart + p);
            i = vend + 1;
            &raw[vstart..vend]
        } else {
            let vstart = i;
            while i < b.len() && !b[i].is_ascii_whitespace() {
                i += 1;
            }
            &raw[vstart..i]
        };
        out.push((name, decode_entities(value).into_owned()));
    }
    out
}

/// The value of attribute `name` (compared without case).
pub fn attribute(raw: &str, name: &str) -> Option<String> {
    attributes(raw)
        .into_iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// The local part of a possibly prefixed name (`news:title` → `title`).
pub fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

/// Decodes the XML entities and numeric references; anything else (a raw `&`, an HTML
/// entity) is kept as written.
pub fn decode_entities(s: &str) -> Cow<'_, str> {
    if !s.contains('&') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(p) = rest.find('&') {
        out.push_str(&rest[..p]);
        rest = &rest[p..];
        let semi = rest[1..].find(';').map(|q| q + 1).filter(|q| *q <= 12);
        let decoded = semi.and_then(|q| {
            let ent = &rest[1..q];
            let c = match ent {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                _ => {
                    let num = ent.strip_prefix('#')?;
                    let code = match num.strip_prefix(['x', 'X']) {
                        Some(h) => u32::from_str_radix(h, 16).ok()?,
                        None => num.parse().ok()?,
                    };
                    char::from_u32(code)
                }
            }?;
            Some((c, q + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Decodes a markup document to text: byte-order mark, then the `encoding` of the XML
/// declaration, then UTF-8 (invalid bytes replaced).
pub fn decode_xml(bytes: &[u8]) -> String {
    if let Some((enc, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        return enc
            .decode_without_bom_handling(&bytes[bom..])
            .0
            .into_owned();
    }
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]);
    if let Some(decl) = head
        .strip_prefix("<?xml")
        .and_then(|r| r.split("?>").next())
    {
        if let Some(label) = attribute(decl, "encoding") {
            if let Some(enc) = encoding_rs::Encoding::for_label(label.trim().as_bytes()) {
                if enc != encoding_rs::UTF_16LE && enc != encoding_rs::UTF_16BE {
                    return enc.decode_without_bom_handling(bytes).0.into_owned();
                }
            }
        }
    }
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_broken_markup() {
        let s = r#"<?xml version="1.0"?><!-- c --><opml><outline text="A & B" xmlUrl="http://x.org/?a=1&b=2" /><outline title='it&apos;s' x=un>t &amp; u<![CDATA[<raw>]]></outline>a < b</opml>"#;
        let toks: Vec<Token> = tokens(s).collect();
        let starts: Vec<(&str, bool)> = toks
            .iter()
            .filter_map(|t| match t {
                Token::Start { name, empty, .. } => Some((*name, *empty)),
                _ => None,
            })
            .collect();
        assert_eq!(
            starts,
            [("opml", false), ("outline", true), ("outline", false)]
        );
        let Token::Start { attrs, .. } = &toks[1] else {
            panic!()
        };
        assert_eq!(attribute(attrs, "xmlurl").unwrap(), "http://x.org/?a=1&b=2");
        assert_eq!(attribute(attrs, "text").unwrap(), "A & B");
        let Token::Start { attrs, .. } = &toks[2] else {
            panic!()
        };
        assert_eq!(attribute(attrs, "title").unwrap(), "it's");
        assert_eq!(attribute(attrs, "x").unwrap(), "un");
        let text: String = toks
            .iter()
            .filter_map(|t| match t {
                Token::Text(t) => Some(t.to_string()),
                _ => None,
            })
            .collect();
        assert_eq!(text, "t & u<raw>a < b");
    }

    #[test]
    fn entities() {
        assert_eq!(
            decode_entities("&#233;t&#xE9; &amp;&lt; &foo; & x"),
            "été &< &foo; & x"
        );
        assert!(matches!(decode_entities("plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn html_inside_a_quoted_attribute() {
        let s = r#"<outline description="works at <a href="https://square.com/">Square</a>." xmlUrl="https://saket.me/feed/" type="rss" /><outline xmlUrl="https://next.example/"/>"#;
        let urls: Vec<String> = tokens(s)
            .filter_map(|t| match t {
                Token::Start { attrs, .. } => attribute(attrs, "xmlUrl"),
                _ => None,
            })
            .collect();
        assert_eq!(urls, ["https://saket.me/feed/", "https://next.example/"]);
    }

    #[test]
    fn unterminated_quotes_end_at_the_tag() {
        let toks: Vec<Token> = tokens(r#"<a href="x>text</a><b/>"#).collect();
        assert!(matches!(toks[0], Token::Start { name: "a", .. }));
        assert!(toks.iter().any(|t| matches!(
            t,
            Token::Start {
                name: "b",
                empty: true,
                ..
            }
        )));
    }

    #[test]
    fn declared_encodings() {
        assert_eq!(
            decode_xml(b"<?xml version='1.0' encoding='ISO-8859-1'?><a>caf\xe9</a>"),
            "<?xml version='1.0' encoding='ISO-8859-1'?><a>caf\u{e9}</a>"
        );
        assert_eq!(decode_xml("<a>été</a>".as_bytes()), "<a>été</a>");
    }
}
