//! `vigie demo`: the whole product offline. Serves the bundled demo web on loopback, crawls it
//! with the real fetcher, and prints the digest, the alerts and searches to try next.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use chrono::{Duration, Utc};

use crate::cli::args::{DemoArgs, Global};
use crate::cli::common::Failure;
use crate::config::Config;
use crate::data::DataDir;
use crate::demo::{corpus, server, sources_toml, DEFAULT_DIR, DIGEST_DAYS, MARKER};
use crate::index::search::{Filters, Reader};
use crate::run::{crawl, RunOptions};

/// The demo folder: `--data` when given, else `vigie-demo` in the current directory. A
/// previous demo there is replaced; any other non-empty folder is left alone.
fn demo_dir(g: &Global) -> Result<PathBuf, Failure> {
    let explicit = g.data != Path::new("index") || std::env::var_os("VIGIE_DATA").is_some();
    let dir = if explicit {
        g.data.clone()
    } else {
        PathBuf::from(DEFAULT_DIR)
    };
    if dir.exists() {
        let empty = std::fs::read_dir(&dir)
            .map(|mut r| r.next().is_none())
            .unwrap_or(false);
        if dir.join(MARKER).exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| {
                Failure::Other(anyhow::anyhow!(
                    "cannot replace the previous demo in {}: {e}",
                    dir.display()
                ))
            })?;
        } else if !empty {
            return Err(Failure::Usage(format!(
                "{} exists and was not made by `vigie demo`: give another folder with --data DIR",
                dir.display()
            )));
        }
    }
    std::fs::create_dir_all(dir.join("pipelines"))
        .map_err(|e| Failure::Other(anyhow::anyhow!("cannot create {}: {e}", dir.display())))?;
    std::fs::write(dir.join(MARKER), "made by vigie demo\n")
        .map_err(|e| Failure::Other(e.into()))?;
    Ok(dir)
}

fn rule(title: &str) {
    println!(
        "\n── {title} {}",
        "─".repeat(70usize.saturating_sub(title.chars().count() + 4))
    );
}

/// `vigie demo`.
pub fn demo(g: &Global, a: DemoArgs) -> Result<ExitCode, Failure> {
    let started = std::time::Instant::now();
    let dir = demo_dir(g)?;
    let now = Utc::now();
    let posts = corpus::generate(now);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("vigie-demo-web")
        .enable_all()
        .build()
        .map_err(|e| Failure::Other(e.into()))?;
    let web = rt.block_on(server::serve(&posts)).map_err(|e| {
        Failure::Other(anyhow::anyhow!(
            "cannot serve the demo web on 127.0.0.1: {e}"
        ))
    })?;
    let sources = dir.join("sources.toml");
    let pipelines = dir.join("pipelines");
    std::fs::write(&sources, sources_toml(&web)).map_err(|e| Failure::Other(e.into()))?;
    std::fs::write(pipelines.join("demo.toml"), corpus::WATCH)
        .map_err(|e| Failure::Other(e.into()))?;
    let config = Arc::new(Config::load(&sources, &pipelines, true)?);
    let data = DataDir::new(dir.join("index"));
    let shown = |p: &Path| p.display().to_string();
    println!(
        "vigie demo — a demo web of {} posts over {} days, about three fictional brands:",
        posts.len(),
        corpus::DAYS
    );
    println!("  Lumio (fibre and mobile), Velocita (electric bikes), Ondine (a banking app)");
    println!(
        "  served on {} (news, RSS), {} (tech, Atom), {} (forum, JSON Feed), {} (reviews, a page)",
        web.actu, web.tech, web.forum, web.avis
    );
    println!(
        "  configuration in {} and {}, index in {}",
        shown(&sources),
        shown(&pipelines),
        shown(&data.root)
    );
    rule("crawl");
    let opts = RunOptions {
        once: true,
        progress: !g.quiet && std::io::stderr().is_terminal(),
        summaries: !g.quiet,
        workers: crate::pipeline::default_workers(),
        share_state: None,
    };
    let report = crawl(config.clone(), &data, &opts, std::future::pending::<()>)
        .map_err(|e| Failure::Other(e.into()))?;
    println!(
        "crawled the demo web with the real fetcher: {} new documents analysed and indexed in {:.1}s",
        report.documents.added,
        started.elapsed().as_secs_f64()
    );
    let reader = Reader::open(&data).map_err(|e| Failure::Other(e.into()))?;
    let watch = config.watch("demo").expect("the demo watch");
    // the digest of the last days, where the planted stories are
    let period = crate::digest::build::Period {
        from: now - Duration::days(DIGEST_DAYS),
        to: now,
    };
    let digest =
        crate::digest::compose(&reader, watch, period).map_err(|e| Failure::Other(e.into()))?;
    rule(&format!(
        "digest of the last {DIGEST_DAYS} days, in {} (the watch's [digest] language)",
        if digest.language == crate::analyze::lang::Lang::Fr {
            "French"
        } else {
            "English"
        }
    ));
    print!("{}", crate::digest::render::text(&digest));
    rule("alerts of the last week");
    let alerts = crate::alert::read_alerts(&reader, Some(now - Duration::days(7)), None, None)
        .map_err(|e| Failure::Other(e.into()))?;
    if alerts.is_empty() {
        println!("no alert");
    }
    for al in &alerts {
        println!(
            "{} {}\n  {}",
            crate::cli::common::local_time(al.at, watch.digest.timezone),
            al.summary(),
            al.message
        );
        for u in al.evidence.iter().take(3) {
            println!("  - {u}");
        }
    }
    rule("searches");
    let flags = format!(
        "--data {} --pipelines {}",
        shown(&data.root),
        shown(&pipelines)
    );
    let tries: [(&str, Filters); 3] = [
        (
            "panne NEAR/5 (fibre OR internet)",
            Filters {
                brand: Some("lumio".into()),
                ..Default::default()
            },
        ),
        ("\"frais cachés\" OR \"hidden fees\"", Filters::default()),
        (
            "batterie OR battery",
            Filters {
                brand: Some("velocita".into()),
                expectation: Some(None),
                ..Default::default()
            },
        ),
    ];
    let commands = [
        format!("vigie {flags} search 'panne NEAR/5 (fibre OR internet)' --brand lumio"),
        format!("vigie {flags} search '\"frais cachés\" OR \"hidden fees\"'"),
        format!("vigie {flags} search 'batterie OR battery' --brand velocita --expectation"),
    ];
    for ((q, f), cmd) in tries.iter().zip(&commands) {
        println!("$ {cmd}");
        let hits = reader
            .search(q, f, 3)
            .map_err(|e| Failure::Other(e.into()))?;
        for (i, h) in hits.iter().enumerate() {
            println!(
                "  {}. {} — {}",
                i + 1,
                h.snippet.render("[", "]", str::to_string),
                h.doc.url
            );
        }
    }
    rule("try next");
    println!("vigie {flags} search 'service client' --since 7d --sentiment negative");
    println!("vigie {flags} alerts --since 7d");
    println!("vigie {flags} digest --since 3d --format html --out digest.html");
    println!("vigie {flags} search 'livraison OR delivery' --json | jq .url");
    println!("\ndone in {:.1}s", started.elapsed().as_secs_f64());
    if a.serve {
        println!(
            "serving the demo web until Ctrl-C: {} {} {} {}",
            web.actu, web.tech, web.forum, web.avis
        );
        let _ = rt.block_on(tokio::signal::ctrl_c());
    }
    Ok(ExitCode::SUCCESS)
}
