//! The crawler: polite, incremental fetching of feeds, pages and sitemaps.

pub mod opml;
