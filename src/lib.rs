//! vigie: social listening and web watch.
//!
//! Floors, from the top: [`cli`] (the command layer, used by `main.rs` only); the services the
//! commands drive ([`run`], [`ingest`], [`demo`], [`digest`], [`alert`]); the pipeline and its
//! stages ([`pipeline`], [`fetch`], [`extract`], [`analyze`], [`index`]); the ground they stand
//! on ([`config`], [`state`], [`data`], [`doc`], [`mail`], [`time`], [`html`], [`agent`]). A file imports only
//! files below it; ARCHITECTURE.md draws the whole map.
//!
//! Sources (feeds, pages, sitemaps, JSON Lines) emit documents into bounded channels;
//! synchronous transforms extract, analyse and prepare them on every core; one sink indexes
//! them in a local tantivy index with the sled state that commits with it. Search, the digest
//! and alerts read the index. See `ARCHITECTURE.md` for the walk-through.

pub mod agent;
pub mod alert;
pub mod analyze;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod data;
pub mod demo;
pub mod digest;
pub mod doc;
pub mod extract;
pub mod fetch;
pub mod html;
pub mod index;
pub mod ingest;
pub mod mail;
pub mod pipeline;
pub mod run;
pub mod serve;
pub mod state;
pub mod time;
