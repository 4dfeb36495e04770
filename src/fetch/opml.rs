//! OPML, as feed readers export their subscriptions.
//!
//! OPML files exported by feed readers are often not well-formed XML (a raw `&` in a query
//! string is the usual culprit), so they are read with a forgiving tokenizer
//! ([`super::markup`]): every `<outline>` with an `xmlUrl` is a feed, and the titles of the
//! outlines around it are its categories. [`crate::config::edit`] turns them into
//! `[[sources]]` blocks.

use super::markup::{attributes, decode_xml, tokens, Token};

/// A feed found in an OPML file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpmlFeed {
    /// `xmlUrl`, entities decoded, as written otherwise.
    pub xml_url: String,
    /// `title`, else `text`.
    pub title: Option<String>,
    /// Titles of the enclosing outlines, outermost first.
    pub categories: Vec<String>,
}

/// Every feed of an OPML document, in order. Never fails: what cannot be read is skipped.
pub fn parse_opml(bytes: &[u8]) -> Vec<OpmlFeed> {
    let text = decode_xml(bytes);
    let mut feeds = Vec::new();
    // enclosing outlines: Some(title) for categories, None for outlines that are feeds
    let mut stack: Vec<Option<String>> = Vec::new();
    for tok in tokens(&text) {
        match tok {
            Token::Start { name, attrs, empty } if name.eq_ignore_ascii_case("outline") => {
                let attrs = attributes(attrs);
                let get = |k: &str| {
                    attrs
                        .iter()
                        .find(|(n, _)| n.eq_ignore_ascii_case(k))
                        .map(|(_, v)| v.trim().to_string())
                        .filter(|v| !v.is_empty())
                };
                let title = get("title").or_else(|| get("text"));
                let xml_url = get("xmlUrl");
                if let Some(xml_url) = &xml_url {
                    feeds.push(OpmlFeed {
                        xml_url: xml_url.clone(),
                        title: title.clone(),
                        categories: stack.iter().flatten().cloned().collect(),
                    });
                }
                if !empty {
                    stack.push(if xml_url.is_some() { None } else { title });
                }
            }
            Token::End { name } if name.eq_ignore_ascii_case("outline") => {
                stack.pop();
            }
            Token::End { name } if name.eq_ignore_ascii_case("body") => stack.clear(),
            _ => {}
        }
    }
    feeds
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_opml_with_categories() {
        let opml = r#"<?xml version='1.0' encoding='UTF-8' ?>
<opml version="1.0"><head><title>Export</title></head><body>
<outline text="Actualit&#233;s" title="Actualités">
  <outline text="Le Monde" title="Le Monde" xmlUrl="https://www.lemonde.fr/rss/une.xml" type="rss" />
  <outline title="Diplomatie" xmlUrl="https://www.diplomatie.gouv.fr/spip.php?page=backend-fd&lang=en" type="rss"/>
</outline>
<outline text="Sans titre" xmlurl='http://example.org/feed?a=1&amp;b=2'></outline>
<outline text="Link only" url="https://example.org/" type="link"/>
</body></opml>"#;
        let feeds = parse_opml(opml.as_bytes());
        assert_eq!(feeds.len(), 3);
        assert_eq!(feeds[0].title.as_deref(), Some("Le Monde"));
        assert_eq!(feeds[0].categories, ["Actualités"]);
        assert_eq!(
            feeds[1].xml_url,
            "https://www.diplomatie.gouv.fr/spip.php?page=backend-fd&lang=en"
        );
        assert_eq!(feeds[2].xml_url, "http://example.org/feed?a=1&b=2");
        assert!(feeds[2].categories.is_empty());
    }
}
