//! How vigie names itself to the servers it talks to (feeds, pages, webhooks).

/// The User-Agent of every request vigie makes (unless a source sets its own): vigie, its
/// version, and where to read about it.
pub const USER_AGENT: &str = concat!(
    "vigie/",
    env!("CARGO_PKG_VERSION"),
    " (+https://github.com/vigie-watch/vigie; web watch, honours robots.txt)"
);
