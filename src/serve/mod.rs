//! The team's workspace, `vigie serve` (and `vigie run --listen`): server-rendered pages for the
//! overview, search, the answer queue, alerts and sources, a JSON API returning the command
//! line's own objects, CSV export and Prometheus metrics. It reads the index a running crawl or
//! ingest writes (reloaded every half second, no lock taken) and writes only its own ledgers
//! (queue states, alert verdicts) under `DATA/workspace/`.
//!
//! Files, lowest first: `words` (French and English), `store` (the ledgers), `params` (query
//! strings into filters), `queue` (the answer queue), `metrics`, `svg` (charts), `app` (what
//! the handlers share), `security` (token, session, CSRF, headers), `api`, `pages`, `server`
//! (the router, binding, running).

pub mod api;
pub mod app;
pub mod metrics;
pub mod pages;
pub mod params;
pub mod queue;
pub mod security;
pub mod server;
pub mod store;
pub mod svg;
pub mod words;
