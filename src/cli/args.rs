//! Command-line definitions. The names and flags are a contract (DESIGN.md): extend, never
//! rename.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// vigie: social listening and web watch. Crawl feeds and pages, find brand mentions, unmet
/// expectations and emerging signals, search them, get the daily digest.
#[derive(Debug, Parser)]
#[command(name = "vigie", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args, Clone)]
pub struct Global {
    /// Data directory (index and state).
    #[arg(
        long,
        global = true,
        env = "VIGIE_DATA",
        default_value = "index",
        value_name = "DIR"
    )]
    pub data: PathBuf,
    /// Sources file.
    #[arg(
        long,
        global = true,
        default_value = "sources.toml",
        value_name = "FILE"
    )]
    pub sources: PathBuf,
    /// Folder of watch files (one watch per .toml file).
    #[arg(long, global = true, default_value = "pipelines", value_name = "DIR")]
    pub pipelines: PathBuf,
    /// More log output (-v: debug, -vv: trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Less output: errors only.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate sources and pipelines; every error names file, line and what to fix.
    Check,
    /// Crawl on schedule (or one pass), analyse, index, raise alerts.
    Run(RunArgs),
    /// JSON Lines documents through the pipeline (no network).
    Ingest(IngestArgs),
    /// JSON Lines `{"id", "text"}` in, analyses out (one line per input, same order).
    Analyze(AnalyzeArgs),
    /// What vigie reads in one fetched body (page or feed), as JSON.
    Extract(ExtractArgs),
    /// Ranked hits with highlighted snippets.
    Search(SearchArgs),
    /// The watch digest (text, HTML, JSON or a complete e-mail).
    Digest(DigestArgs),
    /// Alerts raised, each with its evidence.
    Alerts(AlertsArgs),
    /// The whole product offline: serve the bundled demo web on loopback, crawl it, print the digest.
    Demo(DemoArgs),
    /// The team's workspace in the browser: overview, search, answer queue, alerts, sources.
    Serve(ServeArgs),
    /// Manage sources.
    Sources {
        #[command(subcommand)]
        command: SourcesCommand,
    },
    /// Past one machine: set up and inspect the NATS JetStream cluster the roles of
    /// `vigie run --nats URLS --role ROLE` work through.
    Cluster {
        #[command(subcommand)]
        command: ClusterCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum ClusterCommand {
    /// Create the streams, consumers and buckets (idempotent; the partition count is fixed
    /// by the first run).
    Init(ClusterInitArgs),
    /// Each stream's messages, each consumer's lag, each partition's owner.
    Status(ClusterStatusArgs),
}

#[derive(Debug, Args)]
pub struct ClusterInitArgs {
    /// The cluster's nodes: nats://HOST:PORT[,nats://HOST:PORT…].
    #[arg(long, value_name = "URLS", env = "VIGIE_NATS")]
    pub nats: String,
    /// Partitions of the crawl frontier (a host's sources are all in one).
    #[arg(long, default_value_t = 64)]
    pub partitions: u32,
    /// Copies of every stream and bucket (1 on a single server; 3 survives a node lost).
    #[arg(long, default_value_t = 3)]
    pub replicas: usize,
}

#[derive(Debug, Args)]
pub struct ClusterStatusArgs {
    /// The cluster's nodes: nats://HOST:PORT[,nats://HOST:PORT…].
    #[arg(long, value_name = "URLS", env = "VIGIE_NATS")]
    pub nats: String,
    /// JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// A role of `vigie run --nats`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Role {
    /// Polls the sources of the frontier partitions it owns; publishes what it fetched.
    Fetch,
    /// Extracts and analyses fetched documents; publishes index records.
    Analyze,
    /// Indexes the records (the single writer of --data), raises alerts, sends digests.
    Index,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// One pass over every source, then exit.
    #[arg(long)]
    pub once: bool,
    /// Also serve the workspace from the crawler, on this address (as `vigie serve --listen`).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Run one role of a cluster through NATS JetStream at these nodes
    /// (nats://HOST:PORT[,…]); needs --role. Without it, everything runs in this process.
    #[arg(long, value_name = "URLS", env = "VIGIE_NATS", requires = "role")]
    pub nats: Option<String>,
    /// The role this process plays in the cluster (with --nats). A fetcher takes a scratch
    /// --data of its own (a cache of its fetch state); the index role's --data is the index;
    /// an analyser writes nothing.
    #[arg(long, value_enum, requires = "nats")]
    pub role: Option<Role>,
    /// Serve the role's counters as Prometheus text on http://ADDR/metrics (with --nats).
    #[arg(long, value_name = "ADDR", requires = "nats")]
    pub metrics: Option<String>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on. Any address but loopback needs VIGIE_SERVE_TOKEN.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7878")]
    pub listen: String,
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// JSON Lines file, or `-` for standard input.
    pub file: String,
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// JSON Lines file, or `-` (the default) for standard input.
    #[arg(default_value = "-")]
    pub file: String,
}

#[derive(Debug, Args)]
pub struct ExtractArgs {
    /// Fetched body (HTML page or feed), or `-` for standard input.
    pub file: String,
    /// Address the body came from (resolves relative links).
    #[arg(long)]
    pub url: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SentimentArg {
    Negative,
    Neutral,
    Positive,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Query: words, "phrases", AND, OR, NOT, NEAR/n, parentheses; matched on stems.
    pub query: String,
    /// Only documents mentioning this brand (its id).
    #[arg(long)]
    pub brand: Option<String>,
    /// Only documents of this watch.
    #[arg(long)]
    pub watch: Option<String>,
    /// From this event time: a duration back from now (24h, 7d) or a date.
    #[arg(long)]
    pub since: Option<String>,
    /// Until this event time (excluded): a duration back from now or a date.
    #[arg(long)]
    pub until: Option<String>,
    /// Only this language (fr, en, …).
    #[arg(long)]
    pub lang: Option<String>,
    /// Only this sentiment.
    #[arg(long, value_enum)]
    pub sentiment: Option<SentimentArg>,
    /// Only documents with an unmet expectation (optionally of one kind: complaint, request, wish).
    #[arg(long, num_args = 0..=1, default_missing_value = "any", value_name = "KIND")]
    pub expectation: Option<String>,
    /// Only documents from this source.
    #[arg(long)]
    pub source: Option<String>,
    /// Most hits shown.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// One JSON object a hit and a line.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum DigestFormat {
    Text,
    Html,
    Json,
    Eml,
}

#[derive(Debug, Args)]
pub struct DigestArgs {
    /// Watch name (default: the only watch, or every watch in turn).
    #[arg(long)]
    pub watch: Option<String>,
    /// Period: back from now (24h, 7d) or from a date. Default: the last day in the watch's time zone.
    #[arg(long, conflicts_with = "day")]
    pub since: Option<String>,
    /// One calendar day in the watch's time zone.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub day: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: DigestFormat,
    /// Write to this file instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Mail it over SMTP (VIGIE_SMTP_URL) to the watch's recipients.
    #[arg(long)]
    pub send: bool,
}

#[derive(Debug, Args)]
pub struct AlertsArgs {
    /// From this event time: a duration back from now (24h, 7d) or a date [default: 7d].
    #[arg(long)]
    pub since: Option<String>,
    /// Only this watch.
    #[arg(long)]
    pub watch: Option<String>,
    /// One JSON object an alert and a line.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Keep serving the demo web after the digest, for trying searches.
    #[arg(long)]
    pub serve: bool,
}

#[derive(Debug, Subcommand)]
pub enum SourcesCommand {
    /// Append the feeds of an OPML file (from another reader) to the sources file.
    Import {
        /// OPML file.
        file: PathBuf,
        /// Tags given to every imported feed.
        #[arg(long = "tag")]
        tags: Vec<String>,
    },
    /// List configured sources.
    List,
    /// Poll one source once without writing anything: print what it would index (url,
    /// title, author, published, brands found) and the requests it made.
    Test {
        /// The source's id.
        id: String,
        /// The documents as JSON Lines on stdout (requests and problems go to stderr).
        #[arg(long)]
        json: bool,
    },
}
