//! The crawler: polite, incremental fetching of feeds, pages and sitemaps.
//!
//! The source side of the pipeline (see `run.rs` for the wiring):
//!
//! - [`crawl`]: the schedule. Each source is polled in its own task, every `interval` (one
//!   pass with `--once`); failing sources are backed off ([`schedule`]).
//! - [`source`]: one poll. The list (feed via feed-rs on the raw bytes, page with CSS
//!   selectors or feed autodiscovery, sitemap or sitemap index) is fetched with its ETag /
//!   Last-Modified; new items (canonical URL not yet seen) become documents, with their page
//!   when `full_text = true`; the validators follow the items through the pipeline.
//! - [`client`]: one fetch. Private-address refusal for addresses found in content
//!   ([`guard`]), robots.txt per origin with Crawl-delay ([`robots`]), per-host concurrency
//!   and delay shared by every source ([`host`]), a global cap, a timeout on every request,
//!   a maximum body size, gzip/brotli, redirects followed by hand (each hop checked again),
//!   429/503 Retry-After and exponential backoff with jitter ([`retry`]).
//! - [`search`]: one poll of a `search` source (a platform's public search, asked for a
//!   watch's brands in its dialect: [`query`]) or a `json` source (JSONPath mapping), read
//!   by [`platform`]; incremental through cursors committed with the index.
//! - [`opml`]: `vigie sources import` and `vigie sources list`.

pub mod client;
pub mod crawl;
pub mod error;
pub mod guard;
pub mod host;
pub mod html;
pub mod markup;
pub mod opml;
pub mod platform;
pub mod query;
pub mod report;
pub mod retry;
pub mod robots;
pub mod schedule;
pub mod search;
pub mod sitemap;
pub mod source;

pub use client::{FetchSettings, Fetcher, Policy, Request, Response, Via};
pub use error::FetchError;
pub use report::{DocCounts, PassCounters, PassSummary};
pub use source::{Crawler, Msg, PollError};
