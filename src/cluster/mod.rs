//! Past one machine: the crawl's three roles as workers on a NATS JetStream cluster.
//!
//! `vigie run` alone keeps everything in one process, with in-process channels. With
//! `--nats URLS --role fetch|analyze|index`, each role runs on its own and the broker carries
//! the work between them, as a buffer, never as the system of record:
//!
//! - [`broker`]: the connection (a refusal of servers older than 2.11), names of streams,
//!   subjects and buckets, the partition of a host, publishing that retries through leader
//!   elections.
//! - [`setup`]: `vigie cluster init` (streams, consumers, buckets; idempotent) and
//!   `vigie cluster status`.
//! - [`wire`]: what travels: fetched documents (compressed; large ones in the object store)
//!   and prepared records, each with a message id that makes a redelivery harmless.
//! - [`fetch`]: the fetch role. The frontier is partitioned by host; one fetcher owns a
//!   partition at a time (a pinned consumer), so politeness holds with any number of them;
//!   fetch state (validators, seen items, health) lives in a key-value bucket.
//! - [`analyze`]: the analyse role: the transforms of `vigie run`, on every core.
//! - [`index`]: the index role, the single writer of the index and its state; it acks a
//!   batch only once its commit is on disk.
//! - [`inbox`]: what the analyse and index roles do alike with a message they take.
//! - [`metrics`]: each role's counters, served as `/metrics`.

pub mod analyze;
pub mod broker;
pub mod fetch;
pub mod inbox;
pub mod index;
pub mod metrics;
pub mod setup;
pub mod wire;
