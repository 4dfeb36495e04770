//! The demo: the whole product on a machine with no network. A demo web served on 127.0.0.1
//! ([`server`]: five weeks of posts about three fictional brands, with a complaint wave and a
//! rising topic planted in the last days, made by [`corpus`]), and the sources file that
//! points at it; `vigie demo` crawls it with the real fetcher (full text on), analyses and
//! indexes everything, then prints the digest, the alerts and a few searches to try next.

pub mod corpus;
pub mod server;

/// Marks a folder as made by `vigie demo`, so a new demo may replace it.
pub const MARKER: &str = ".vigie-demo";
/// Where the demo lives when no `--data` is given.
pub const DEFAULT_DIR: &str = "vigie-demo";
/// The period of the demo's digest: the last days, where the planted stories are.
pub const DIGEST_DAYS: i64 = 3;

/// The sources file of the demo web being served.
pub fn sources_toml(web: &server::DemoWeb) -> String {
    format!(
        r#"# The demo web, served by `vigie demo` on 127.0.0.1 (the ports change at each run).
[defaults]
allow_private = true         # the demo web is on loopback
per_host_concurrency = 4
per_host_delay = "0s"
timeout = "10s"

[[sources]]
id = "quotidien"
name = "Le Quotidien du Réseau"
kind = "feed"
url = "{}/rss.xml"
tags = ["news", "fr"]
full_text = true

[[sources]]
id = "circuit"
name = "Circuit Daily"
kind = "feed"
url = "{}/atom.xml"
tags = ["news", "en"]
full_text = true

[[sources]]
id = "forum"
name = "Forum Conso & Cie"
kind = "feed"
url = "{}/feed.json"
tags = ["forum"]

[[sources]]
id = "avis-velo"
name = "Avis Vélo"
kind = "page"
url = "{}/avis.html"
tags = ["reviews", "fr"]
selectors = {{ item = "article.review", title = ".who", link = "a.permalink", date = "time" }}
"#,
        web.actu, web.tech, web.forum, web.avis
    )
}
