//! Bodies to text: charset sniffing (BOM, header, `<meta>`, then the bytes), decoding,
//! HTML fragments to plain text, NFC.

use super::dom;

/// Whether a body reads as HTML: text (not binary) with tags in its first 64 kB.
pub fn looks_like_html(body: &[u8]) -> bool {
    let head = &body[..body.len().min(64 * 1024)];
    let (head, bom) = match encoding_rs::Encoding::for_bom(head) {
        Some((enc, n)) if enc != encoding_rs::UTF_8 => {
            return enc.decode_without_bom_handling(&head[n..]).0.contains('<');
        }
        Some((_, n)) => (&head[n..], true),
        None => (head, false),
    };
    let _ = bom;
    // binary data has control bytes that text never has
    let controls = head
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c))
        .count();
    if controls * 50 > head.len() {
        return false;
    }
    let lower = head.to_ascii_lowercase();
    let has = |pat: &[u8]| lower.windows(pat.len()).any(|w| w == pat);
    has(b"<html")
        || has(b"<!doctype")
        || has(b"<head")
        || has(b"<body")
        || has(b"<div")
        || has(b"<p>")
        || has(b"<p ")
        || has(b"<meta")
        || has(b"<title")
        || has(b"<article")
        || has(b"<h1")
        || has(b"<br")
        || has(b"<span")
        || has(b"<a ")
        || has(b"<table")
        || has(b"<script")
        || has(b"<style")
        || has(b"<link ")
        || has(b"<section")
        || has(b"<img ")
        || has(b"<ul")
        || has(b"<!--")
}

/// Plain text of an HTML fragment: tags dropped (with what scripts, styles and hidden
/// elements hold), entities decoded, whitespace collapsed to single spaces.
pub fn html_to_text(fragment: &str) -> String {
    if !fragment.contains('<') && !fragment.contains('&') {
        return nfc(dom::collapse_ws(fragment));
    }
    let d = dom::Dom::parse(fragment);
    nfc(d.subtree_text(0))
}

/// Decodes an HTML body to text: the byte-order mark wins, then the `charset` of the
/// Content-Type header, then a `<meta charset>` (or `http-equiv`) in the first kilobytes,
/// then UTF-8 if the bytes are valid UTF-8, else windows-1252 (what browsers assume).
pub fn decode_html(body: &[u8], content_type: Option<&str>) -> String {
    if let Some((enc, bom_len)) = encoding_rs::Encoding::for_bom(body) {
        return enc
            .decode_without_bom_handling(&body[bom_len..])
            .0
            .into_owned();
    }
    let from_header = content_type
        .and_then(charset_param)
        .and_then(|c| encoding_rs::Encoding::for_label(c.as_bytes()));
    let enc = from_header
        .or_else(|| meta_charset(&body[..body.len().min(4096)]))
        .unwrap_or_else(|| {
            if std::str::from_utf8(body).is_ok() {
                encoding_rs::UTF_8
            } else {
                encoding_rs::WINDOWS_1252
            }
        });
    // UTF-8 labelled as a one-byte encoding (a server default, a copied template): valid
    // multi-byte sequences are next to impossible in Latin-1 text
    let enc = if enc.is_single_byte() && is_utf8_beyond_ascii(body) {
        encoding_rs::UTF_8
    } else {
        enc
    };
    // a page that says UTF-16 in its meta but has no BOM is ASCII-compatible text that lies
    let enc = if enc == encoding_rs::UTF_16LE || enc == encoding_rs::UTF_16BE {
        encoding_rs::UTF_8
    } else {
        enc
    };
    enc.decode_without_bom_handling(body).0.into_owned()
}

/// Unicode canonical composition (NFC): the same text always has the same code points,
/// whatever form the page used (`e` + combining accent and `é` alike).
pub fn nfc(s: String) -> String {
    use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};
    if s.is_ascii() || is_nfc_quick(s.chars()) == IsNormalized::Yes {
        return s;
    }
    s.nfc().collect()
}

/// Whether `body` is valid UTF-8 with at least one non-ASCII character.
pub fn is_utf8_beyond_ascii(body: &[u8]) -> bool {
    !body.is_ascii() && std::str::from_utf8(body).is_ok()
}

/// The `charset` parameter of a Content-Type value.
pub fn charset_param(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        (k.trim().eq_ignore_ascii_case("charset"))
            .then(|| v.trim().trim_matches(['"', '\'']).to_string())
    })
}

fn meta_charset(head: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    let lower = String::from_utf8_lossy(head).to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find("<meta") {
        let start = from + i;
        let end = lower[start..].find('>').map_or(lower.len(), |e| start + e);
        let tag = &lower[start..end];
        if let Some(c) = tag.find("charset=") {
            let rest = tag[c + 8..].trim_start_matches(['"', '\'', ' ']);
            let label: String = rest
                .chars()
                .take_while(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_' | ':' | '.'))
                .collect();
            if let Some(enc) = encoding_rs::Encoding::for_label(label.as_bytes()) {
                return Some(enc);
            }
        }
        from = end;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_by_bom_header_meta_then_sniffing() {
        assert_eq!(
            decode_html(
                b"\xEF\xBB\xBFcaf\xC3\xA9",
                Some("text/html; charset=iso-8859-1")
            ),
            "café"
        );
        assert_eq!(
            decode_html(b"caf\xE9", Some("text/html; charset=ISO-8859-1")),
            "café"
        );
        assert_eq!(
            decode_html(b"<meta charset=\"windows-1252\"><p>caf\xE9", None),
            "<meta charset=\"windows-1252\"><p>café"
        );
        assert_eq!(decode_html(b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=iso-8859-15\">\xA4", None).chars().last(), Some('€'));
        assert_eq!(decode_html("déjà".as_bytes(), None), "déjà");
        assert_eq!(decode_html(b"d\xE9j\xE0", None), "déjà");
    }

    #[test]
    fn fragments_become_plain_text() {
        assert_eq!(
            html_to_text("<p>Hello &amp; <b>bye</b></p>\n<p>again</p>"),
            "Hello & bye again"
        );
        assert_eq!(html_to_text("plain   text"), "plain text");
    }
}
