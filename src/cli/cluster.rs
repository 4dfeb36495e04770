//! `vigie cluster init|status` and `vigie run --nats URLS --role fetch|analyze|index`.
//!
//! Exit status: 0 on success (a role: after Ctrl-C or SIGTERM); 1 when the cluster cannot
//! be reached, is too old, or is not initialised; 2 for bad arguments or configuration.

use std::process::ExitCode;
use std::sync::Arc;

use crate::cli::args::{ClusterCommand, Global, Role};
use std::io::Write;

use crate::cli::common::{load_config, output_failed, Failure};
use crate::cluster::broker::{connect, Broker, ClusterError};
use crate::cluster::metrics::Metrics;
use crate::cluster::setup::{self, Status};
use crate::data::DataDir;

fn failure(e: ClusterError) -> Failure {
    match e {
        ClusterError::Urls(_) => Failure::Usage(e.to_string()),
        e => Failure::Other(anyhow::Error::new(e)),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("vigie-cluster")
        .enable_all()
        .build()
        .map_err(|e| Failure::Other(anyhow::anyhow!("cannot start the runtime: {e}")))
}

/// `vigie cluster init|status`.
pub fn cluster(g: &Global, command: ClusterCommand) -> Result<ExitCode, Failure> {
    let rt = runtime()?;
    rt.block_on(async {
        match command {
            ClusterCommand::Init(a) => {
                let b = connect(&a.nats, "vigie cluster init").await.map_err(failure)?;
                let r = setup::init(&b, a.partitions, a.replicas)
                    .await
                    .map_err(failure)?;
                if !g.quiet {
                    eprintln!(
                        "cluster ready at {}: {} partitions, {} replica{}; created {}; already there {}{}",
                        b.urls,
                        r.partitions,
                        r.replicas,
                        if r.replicas == 1 { "" } else { "s" },
                        list(&r.created),
                        list(&r.existing),
                        r.note.as_deref().map(|n| format!("\nnote: {n}")).unwrap_or_default(),
                    );
                }
                Ok(ExitCode::SUCCESS)
            }
            ClusterCommand::Status(a) => {
                let b = connect(&a.nats, "vigie cluster status").await.map_err(failure)?;
                let s = setup::status(&b).await.map_err(failure)?;
                let out = if a.json {
                    serde_json::to_string_pretty(&s).expect("status serialises") + "\n"
                } else {
                    text(&s)
                };
                let mut stdout = std::io::stdout().lock();
                match stdout.write_all(out.as_bytes()).and_then(|_| stdout.flush()) {
                    Ok(()) => Ok(ExitCode::SUCCESS),
                    Err(e) => output_failed(e),
                }
            }
        }
    })
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "nothing".into()
    } else {
        names.join(", ")
    }
}

/// `cluster status` for people.
fn text(s: &Status) -> String {
    let mut out = format!(
        "NATS {} at {}; frontier of {} partitions\n\n",
        s.server, s.urls, s.partitions
    );
    out.push_str(&format!(
        "{:<16} {:<8} {:>10} {:>12}  replicas\n",
        "stream", "leader", "messages", "bytes"
    ));
    for st in &s.streams {
        let replicas: Vec<String> = st
            .replicas
            .iter()
            .map(|r| {
                if r.current {
                    r.name.clone()
                } else {
                    format!("{} (behind by {})", r.name, r.lag)
                }
            })
            .collect();
        out.push_str(&format!(
            "{:<16} {:<8} {:>10} {:>12}  {}\n",
            st.name,
            st.leader.as_deref().unwrap_or("-"),
            st.messages,
            st.bytes,
            if replicas.is_empty() {
                "-".into()
            } else {
                replicas.join(", ")
            }
        ));
    }
    out.push_str(&format!(
        "\n{:<16} {:<14} {:>9} {:>11} {:>11} {:>8}\n",
        "consumer", "stream", "pending", "unacked", "redelivered", "waiting"
    ));
    for st in &s.streams {
        for c in st
            .consumers
            .iter()
            .filter(|c| !c.name.starts_with("fetch-"))
        {
            out.push_str(&format!(
                "{:<16} {:<14} {:>9} {:>11} {:>11} {:>8}\n",
                c.name, st.name, c.pending, c.ack_pending, c.redelivered, c.waiting
            ));
        }
    }
    out.push_str(&format!(
        "\n{:<10} {:<32} {:>9} {:>9}\n",
        "partition", "owner", "pending", "unacked"
    ));
    for p in &s.partition_owners {
        out.push_str(&format!(
            "{:<10} {:<32} {:>9} {:>9}\n",
            p.partition,
            p.owner.as_deref().unwrap_or("(none)"),
            p.pending,
            p.ack_pending
        ));
    }
    out
}

/// This machine's name, for fetcher names.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// `vigie run --nats URLS --role ROLE [--metrics ADDR]`.
pub fn run_role(
    g: &Global,
    urls: &str,
    role: Role,
    metrics_addr: Option<&str>,
    once: bool,
    listen: Option<&str>,
) -> Result<ExitCode, Failure> {
    if once {
        return Err(Failure::Usage(
            "--once is for a single process; the roles of a cluster run until stopped".into(),
        ));
    }
    if listen.is_some() {
        return Err(Failure::Usage(
            "--listen serves the workspace from a single process; beside an index role, run `vigie serve` on its --data".into(),
        ));
    }
    let config = Arc::new(load_config(g, role == Role::Fetch)?);
    if role == Role::Fetch && config.sources.sources.is_empty() {
        return Err(Failure::Usage(format!(
            "no sources in {}: a fetcher polls the sources of the partitions it owns",
            g.sources.display()
        )));
    }
    let name = match role {
        Role::Fetch => "fetch",
        Role::Analyze => "analyze",
        Role::Index => "index",
    };
    let data = DataDir::new(&g.data);
    let rt = runtime()?;
    let metrics = Metrics::new(name);
    let result: Result<(), ClusterError> = rt.block_on(async {
        let worker = format!("{}-{}-{}", name, hostname(), std::process::id());
        let b: Broker = connect(urls, &worker).await?;
        if let Some(addr) = metrics_addr {
            let bound = crate::cluster::metrics::serve(addr, metrics.clone())
                .await
                .map_err(|e| ClusterError::Urls(format!("--metrics {addr}: {e}")))?;
            if !g.quiet {
                eprintln!("{name} role: metrics on http://{bound}/metrics");
            }
        }
        let partitions = b.partitions().await?;
        if !g.quiet {
            eprintln!(
                "{name} role {worker} on {} (nats-server {}, {partitions} partitions); Ctrl-C to stop",
                b.urls,
                b.client.server_info().version
            );
        }
        let stop = crate::cli::run::shutdown_signal();
        match role {
            Role::Fetch => {
                crate::cluster::fetch::run(b, config, &data, worker, metrics.clone(), stop).await
            }
            Role::Analyze => {
                let workers = crate::pipeline::default_workers();
                crate::cluster::analyze::run(b, config, metrics.clone(), workers, stop).await
            }
            Role::Index => crate::cluster::index::run(b, config, &data, metrics.clone(), stop).await,
        }
    });
    rt.shutdown_timeout(std::time::Duration::from_secs(2));
    result.map_err(failure)?;
    if !g.quiet {
        eprintln!(
            "{name} role stopped: {} messages taken, {} acknowledged, {} published",
            Metrics::get(&metrics.received),
            Metrics::get(&metrics.acked),
            Metrics::get(&metrics.published)
        );
    }
    Ok(ExitCode::SUCCESS)
}
