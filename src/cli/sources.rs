//! `vigie sources import FILE.opml` and `vigie sources list`.

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use crate::cli::args::{Global, SourcesCommand};
use crate::cli::common::{load_config, plural, Failure};
use crate::config::edit::{with_imported, ImportReport};
use crate::config::SourcesConfig;
use crate::fetch::opml::parse_opml;

/// `vigie sources import|list`.
pub fn sources(g: &Global, c: SourcesCommand) -> Result<ExitCode, Failure> {
    match c {
        SourcesCommand::Import { file, tags } => {
            for t in &tags {
                if t.trim().is_empty()
                    || !t
                        .chars()
                        .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
                {
                    return Err(Failure::Usage(format!(
                        "--tag {t:?}: use letters, digits, '-', '_' or '.'"
                    )));
                }
            }
            let r = import(&g.sources, &file, &tags)?;
            if !g.quiet {
                for (url, why) in r.invalid.iter().take(20) {
                    eprintln!("skipped {url:?}: {why}");
                }
                eprintln!(
                    "imported {} feed{} of {} into {}; {} already there, {} unusable",
                    r.added.len(),
                    plural(r.added.len()),
                    r.found,
                    g.sources.display(),
                    r.duplicates,
                    r.invalid.len()
                );
            }
            if r.found == 0 {
                eprintln!(
                    "error: no feed (an <outline> with an xmlUrl) in {}",
                    file.display()
                );
                return Ok(ExitCode::from(1));
            }
            Ok(ExitCode::SUCCESS)
        }
        SourcesCommand::List => list(g),
        SourcesCommand::Test { id, json } => test(g, &id, json),
    }
}

/// `vigie sources test ID`.
fn test(g: &Global, id: &str, json: bool) -> Result<ExitCode, Failure> {
    let config = std::sync::Arc::new(load_config(g, true)?);
    if config.sources.get(id).is_none() {
        let ids: Vec<&str> = config
            .sources
            .sources
            .iter()
            .map(|s| s.id.as_str())
            .collect();
        return Err(Failure::Usage(format!(
            "no source {id:?} in {} (sources: {})",
            g.sources.display(),
            ids.join(", ")
        )));
    }
    let data = crate::data::DataDir::new(&g.data);
    let t = crate::run::test_source(config, &data, id).map_err(|e| Failure::Other(e.into()))?;
    let mut out = String::new();
    if json {
        for d in &t.documents {
            let _ = writeln!(out, "{}", serde_json::to_string(d).unwrap_or_default());
        }
    } else {
        let _ = writeln!(
            out,
            "{} document{} would be indexed{}:",
            t.documents.len(),
            plural(t.documents.len()),
            if t.used_state {
                " (items already indexed left out)"
            } else {
                ""
            }
        );
        for d in &t.documents {
            let _ = writeln!(
                out,
                "  {}\n    {} | by {} | {} | {} | brands: {}",
                d.url,
                d.title,
                d.author.as_deref().unwrap_or("-"),
                d.published.as_deref().unwrap_or("undated"),
                d.lang,
                if d.brands.is_empty() {
                    "none".to_string()
                } else {
                    d.brands.join(", ")
                }
            );
        }
    }
    let mut report = String::new();
    let _ = writeln!(
        report,
        "{} request{}:",
        t.requests.len(),
        plural(t.requests.len())
    );
    for r in &t.requests {
        let _ = writeln!(report, "  {r}");
    }
    for s in &t.state {
        let _ = writeln!(report, "would save {s}");
    }
    for r in &t.refused {
        let _ = writeln!(report, "refused: {r}");
    }
    for p in &t.problems {
        let _ = writeln!(report, "problem: {p}");
    }
    if let Some(e) = &t.error {
        let _ = writeln!(report, "error: {e}");
    }
    let _ = writeln!(report, "nothing was written");
    if json {
        print!("{out}");
        eprint!("{report}");
    } else {
        print!("{out}{report}");
    }
    Ok(if t.error.is_some() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn list(g: &Global) -> Result<ExitCode, Failure> {
    let config = load_config(g, true)?;
    let health = read_health(g, &config.sources);
    let mut out = String::new();
    for s in &config.sources.sources {
        let kind = match s.search.as_ref().and_then(|x| x.preset) {
            Some(p) => format!("{}:{}", s.kind.as_str(), p.as_str()),
            None => s.kind.as_str().to_string(),
        };
        let _ = write!(
            out,
            "{}\t{}\t{}\tevery {}",
            s.id,
            kind,
            s.url,
            humantime(s.interval)
        );
        if !s.tags.is_empty() {
            let _ = write!(out, "\t[{}]", s.tags.join(", "));
        }
        if let Some(h) = health.as_ref().and_then(|h| h.get(&s.id)) {
            let when = |t: i64| {
                chrono::DateTime::from_timestamp(t, 0)
                    .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
                    .unwrap_or_default()
            };
            match (&h.last_error, h.failures) {
                (Some(e), n) if n > 0 => {
                    let _ = write!(
                        out,
                        "\tfailing ({n} in a row, last {}): {e}",
                        when(h.last_attempt)
                    );
                }
                _ => {
                    if let Some(ok) = h.last_success {
                        let _ = write!(out, "\tok {}", when(ok));
                    }
                    if !h.problems.is_empty() {
                        let _ = write!(out, " with problems: {}", h.problems.join("; "));
                    }
                }
            }
        }
        out.push('\n');
    }
    print!("{out}");
    if !g.quiet {
        eprintln!(
            "{} source{} in {}",
            config.sources.sources.len(),
            plural(config.sources.sources.len()),
            g.sources.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Source health from the data directory, when it exists and no writer holds it.
fn read_health(
    g: &Global,
    cfg: &SourcesConfig,
) -> Option<std::collections::HashMap<String, crate::fetch::schedule::Health>> {
    let data = crate::data::DataDir::new(&g.data);
    if !data.state_dir().exists() {
        return None;
    }
    let _lock = data.lock("sources list").ok()?;
    let state = crate::state::State::open(&data.state_dir()).ok()?;
    Some(
        cfg.sources
            .iter()
            .filter_map(|s| Some((s.id.clone(), crate::fetch::schedule::load(&state, s)?)))
            .collect(),
    )
}

fn humantime(d: std::time::Duration) -> String {
    let s = d.as_secs();
    if s.is_multiple_of(86_400) && s > 0 {
        format!("{}d", s / 86_400)
    } else if s.is_multiple_of(3600) && s > 0 {
        format!("{}h", s / 3600)
    } else if s.is_multiple_of(60) && s > 0 {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

/// Appends the feeds of `opml` to the sources file at `sources` (created when missing). The
/// file is rewritten only when something is added, through a temporary file renamed over it,
/// and only after the result has been checked.
fn import(sources: &Path, opml: &Path, tags: &[String]) -> Result<ImportReport, Failure> {
    let bytes = std::fs::read(opml).with_context(|| format!("cannot read {}", opml.display()))?;
    let feeds = parse_opml(&bytes);
    let current = if sources.exists() {
        std::fs::read_to_string(sources)
            .with_context(|| format!("cannot read {}", sources.display()))?
    } else {
        String::new()
    };
    let origin = opml
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (text, report) = with_imported(sources, &current, &feeds, tags, &origin)?;
    if let Some(text) = text {
        let tmp = sources.with_extension("toml.importing");
        std::fs::write(&tmp, text)
            .and_then(|_| std::fs::rename(&tmp, sources))
            .with_context(|| format!("cannot write {}", sources.display()))?;
    }
    Ok(report)
}
