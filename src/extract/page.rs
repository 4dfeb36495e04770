//! Main text and metadata of an HTML page.

use super::{content, dom::Dom, meta};

/// What vigie reads in a page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    pub title: String,
    /// Main content, paragraphs separated by blank lines.
    pub text: String,
    pub published: Option<chrono::DateTime<chrono::Utc>>,
    pub author: Option<String>,
    /// Language: declared by the page, or detected from its text when it declares none (or
    /// declares one its text clearly is not in).
    pub lang: Option<String>,
    /// Canonical URL (`rel=canonical`, else `og:url`), absolute and canonicalised.
    pub canonical: Option<String>,
}

/// Extracts the main text and metadata of a page. `url` is where it was fetched from: it
/// resolves a relative canonical link and gives a date when the path carries one.
///
/// Time and memory are bounded for any input (see [`super::dom`]); this never panics.
pub fn extract_page(html: &str, url: Option<&str>) -> Page {
    let dom = Dom::parse(html);
    let meta = meta::read(&dom, url);
    let paragraphs = content::main_content(&dom, &meta.titles);
    let text = super::decode::nfc(paragraphs.join("\n\n"));
    let lang = page_lang(meta.lang, &text);
    Page {
        title: super::decode::nfc(meta.title.unwrap_or_default()),
        text,
        published: meta.published,
        author: meta.author,
        lang,
        canonical: meta.canonical,
    }
}

/// The declared language, unless the text clearly is in another one (templates declare
/// `lang="en"` on French pages); the detected one when the page declares none. A sample of
/// the text is enough to tell.
fn page_lang(declared: Option<String>, text: &str) -> Option<String> {
    use crate::analyze::lang::Lang;
    use crate::analyze::langid::detect_lang;
    if text.len() < 200 {
        return declared;
    }
    let sample = super::dom::truncate_str(text, 1200);
    let d = detect_lang(sample, None);
    let detected = (d.lang != Lang::Und && d.confidence >= 0.8).then(|| d.lang.code().to_string());
    match (declared, detected) {
        (Some(decl), Some(det)) if decl != det && d.confidence >= 0.95 && text.len() >= 1000 => {
            Some(det)
        }
        (Some(decl), _) => Some(decl),
        (None, det) => det,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_fields() {
        let body = "Les clients se plaignent depuis des semaines de coupures répétées, et le \
            service client ne répond plus. L'opérateur promet une réparation rapide, mais rien \
            n'a changé depuis le début du mois, ce qui agace de plus en plus les abonnés.";
        let html = format!(
            r#"<html><head><title>Coupures</title><link rel="canonical" href="https://a.example/c?fbclid=1"></head>
            <body><nav><a href="/">Accueil</a></nav><article><h1>Coupures</h1><p>{body}</p><p>{body} Fin.</p></article></body></html>"#
        );
        let p = extract_page(&html, Some("https://a.example/c"));
        assert_eq!(p.title, "Coupures");
        assert_eq!(p.text, format!("{body}\n\n{body} Fin."));
        assert_eq!(p.lang.as_deref(), Some("fr"));
        assert_eq!(p.canonical.as_deref(), Some("https://a.example/c"));
    }

    #[test]
    fn hostile_inputs_do_not_panic() {
        for html in [
            String::new(),
            "<".repeat(10_000),
            "<div>".repeat(200_000),
            "<table><tr><td>".repeat(5_000),
            "<b><i><u>".repeat(20_000) + "text",
            "\u{0}\u{feff}<p>\u{0}</p>".to_string(),
            "<svg><foreignObject><p>x</p></foreignObject></svg><math><mi>x".to_string(),
        ] {
            let _ = extract_page(&html, Some("not a url"));
        }
    }
}
