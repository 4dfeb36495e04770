//! URL canonicalisation: one story, one address.

use url::Url;

/// Query parameters that only track the reader.
fn is_tracking_param(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.starts_with("utm_")
        || matches!(
            n.as_str(),
            "fbclid"
                | "gclid"
                | "dclid"
                | "msclkid"
                | "mc_cid"
                | "mc_eid"
                | "igshid"
                | "yclid"
                | "_hsenc"
                | "_hsmi"
                | "mkt_tok"
                | "ref_src"
                | "xtor"
        )
}

/// The canonical form of a URL: scheme and host lower case, default port and fragment
/// dropped, tracking parameters removed. Strings that are not absolute URLs are returned
/// trimmed, as they are.
pub fn canonicalize(raw: &str) -> String {
    let raw = raw.trim();
    let Ok(mut u) = Url::parse(raw) else {
        return raw.to_string();
    };
    u.set_fragment(None);
    if u.query().is_some() {
        let kept: Vec<(String, String)> = u
            .query_pairs()
            .filter(|(k, _)| !is_tracking_param(k))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if kept.is_empty() {
            u.set_query(None);
        } else {
            u.query_pairs_mut().clear().extend_pairs(kept);
        }
    }
    u.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_forms() {
        assert_eq!(
            canonicalize("HTTPS://Example.ORG:443/a?utm_source=x&id=3#top"),
            "https://example.org/a?id=3"
        );
        assert_eq!(
            canonicalize("http://example.org:80/?fbclid=abc"),
            "http://example.org/"
        );
        assert_eq!(canonicalize(" not a url "), "not a url");
    }
}
