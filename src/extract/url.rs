//! URL canonicalisation: one story, one address.

use url::Url;

/// Query parameters that only track the reader: campaign tags (Google Analytics `utm_*`,
/// Matomo/Piwik `pk_*` and `mtm_*`, AT Internet `xtor` and `at_*`, HubSpot, Mailchimp,
/// Marketo, Adobe, comScore `ns_*`) and click identifiers (Facebook, Google, Microsoft,
/// Yandex, TikTok, Twitter/X, Instagram, LinkedIn).
fn is_tracking_param(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    const PREFIXES: &[&str] = &["utm_", "pk_", "mtm_", "hsa_"];
    PREFIXES.iter().any(|p| n.starts_with(p))
        || matches!(
            n.as_str(),
            "fbclid"
                | "gclid"
                | "gclsrc"
                | "dclid"
                | "gbraid"
                | "wbraid"
                | "msclkid"
                | "yclid"
                | "ttclid"
                | "twclid"
                | "li_fat_id"
                | "igshid"
                | "igsh"
                | "mc_cid"
                | "mc_eid"
                | "mkt_tok"
                | "_ga"
                | "_gl"
                | "_ke"
                | "ref_src"
                | "ref_url"
                | "xtor"
                | "xtref"
                | "cmpid"
                | "s_cid"
                | "wt.mc_id"
                | "wt_mc"
                | "ncid"
                | "ocid"
                | "sr_share"
                | "spm"
                | "__twitter_impression"
                | "campaign_id"
                | "ito"
                | "at_medium"
                | "at_campaign"
                | "ns_mchannel"
                | "ns_source"
                | "ns_campaign"
                | "ns_linkname"
                | "ns_fee"
                | "_hsenc"
                | "_hsmi"
                | "oly_enc_id"
                | "oly_anon_id"
                | "vero_conv"
                | "vero_id"
        )
}

/// The canonical form of a URL: scheme and host lower case (an internationalised host in
/// its ASCII form), default port, dot segments, fragment and empty query dropped, tracking
/// parameters removed and the others sorted by name (stable, so repeated names keep their
/// order). Strings that are not absolute URLs are returned trimmed, as they are.
pub fn canonicalize(raw: &str) -> String {
    let raw = raw.trim();
    let Ok(mut u) = Url::parse(raw) else {
        return raw.to_string();
    };
    u.set_fragment(None);
    if u.query().is_some() {
        let mut kept: Vec<(String, String)> = u
            .query_pairs()
            .filter(|(k, _)| !k.is_empty() && !is_tracking_param(k))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if kept.is_empty() {
            u.set_query(None);
        } else {
            kept.sort_by(|a, b| a.0.cmp(&b.0));
            u.query_pairs_mut().clear().extend_pairs(kept);
        }
    }
    if matches!(u.scheme(), "http" | "https") {
        // `http://a.example` and `http://a.example/` are the same resource
        if u.path().is_empty() {
            u.set_path("/");
        }
    }
    u.to_string()
}

/// Whether two URLs name the same resource once canonical.
pub fn same_resource(a: &str, b: &str) -> bool {
    canonicalize(a) == canonicalize(b)
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

    #[test]
    fn tracking_parameters_of_every_kind_go() {
        let u = "https://news.example/a/b.html?pk_campaign=rss&xtor=RSS-1&gclid=1&mtm_source=x\
                 &_ga=2.1&igshid=z&ns_mchannel=s&mc_cid=9&page=2";
        assert_eq!(canonicalize(u), "https://news.example/a/b.html?page=2");
    }

    #[test]
    fn parameters_are_sorted_and_paths_normalised() {
        assert_eq!(
            canonicalize("https://e.example/x/../a/./b?z=1&a=2&a=1"),
            "https://e.example/a/b?a=2&a=1&z=1"
        );
        assert!(same_resource(
            "https://e.example?b=2&a=1",
            "https://E.example:443/?a=1&b=2#c"
        ));
        assert_eq!(canonicalize("https://e.example/a?"), "https://e.example/a");
        assert_eq!(
            canonicalize("https://Bücher.example/é"),
            "https://xn--bcher-kva.example/%C3%A9"
        );
    }

    #[test]
    fn other_schemes_pass_through() {
        assert_eq!(canonicalize("mailto:a@b.example"), "mailto:a@b.example");
    }
}
