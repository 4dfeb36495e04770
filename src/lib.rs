//! vigie: social listening and web watch.
//!
//! Sources (feeds, pages, sitemaps, JSON Lines) emit documents into bounded channels;
//! synchronous transforms extract, analyse and prepare them on every core; one sink indexes
//! them in a local tantivy index with the sled state that commits with it. Search, the digest
//! and alerts read the index. See `ARCHITECTURE.md` for the walk-through.

pub mod alert;
pub mod analyze;
pub mod cli;
pub mod commands;
pub mod config;
pub mod data;
pub mod demo;
pub mod digest;
pub mod doc;
pub mod extract;
pub mod fetch;
pub mod index;
pub mod ingest;
pub mod mail;
pub mod pipeline;
pub mod run;
pub mod state;
pub mod time;

/// The User-Agent of every request vigie makes: it names vigie and where to learn about it.
pub const USER_AGENT: &str = concat!(
    "vigie/",
    env!("CARGO_PKG_VERSION"),
    " (+https://github.com/vigie-watch/vigie; web watch, honours robots.txt)"
);

/// Escapes text for HTML element content and attribute values.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    html_escape_into(s, &mut out);
    out
}

/// [`html_escape`], appending to `out` (valid in XML too).
pub fn html_escape_into(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}
