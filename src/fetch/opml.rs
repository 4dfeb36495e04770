//! `vigie sources`: OPML import and listing.
//!
//! OPML files exported by feed readers are often not well-formed XML (a raw `&` in a query
//! string is the usual culprit), so they are read with a forgiving tokenizer
//! ([`super::markup`]): every `<outline>` with an `xmlUrl` is a feed, and the titles of the
//! outlines around it are its categories. Imported feeds are appended to the sources file as
//! `[[sources]]` blocks, the file's own text left untouched; ids are derived from titles (or
//! hosts), and feeds whose address is already there are skipped.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use unicode_normalization::UnicodeNormalization;
use url::Url;

use super::markup::{attributes, decode_xml, tokens, Token};
use crate::cli::{Global, SourcesCommand};
use crate::commands::{plural, Failure};
use crate::config::{parse_sources, ConfigErrors, SourcesConfig};

/// A feed found in an OPML file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpmlFeed {
    /// `xmlUrl`, entities decoded, as written otherwise.
    pub xml_url: String,
    /// `title`, else `text`.
    pub title: Option<String>,
    /// Titles of the enclosing outlines, outermost first.
    pub categories: Vec<String>,
}

/// Every feed of an OPML document, in order. Never fails: what cannot be read is skipped.
pub fn parse_opml(bytes: &[u8]) -> Vec<OpmlFeed> {
    let text = decode_xml(bytes);
    let mut feeds = Vec::new();
    // enclosing outlines: Some(title) for categories, None for outlines that are feeds
    let mut stack: Vec<Option<String>> = Vec::new();
    for tok in tokens(&text) {
        match tok {
            Token::Start { name, attrs, empty } if name.eq_ignore_ascii_case("outline") => {
                let attrs = attributes(attrs);
                let get = |k: &str| {
                    attrs
                        .iter()
                        .find(|(n, _)| n.eq_ignore_ascii_case(k))
                        .map(|(_, v)| v.trim().to_string())
                        .filter(|v| !v.is_empty())
                };
                let title = get("title").or_else(|| get("text"));
                let xml_url = get("xmlUrl");
                if let Some(xml_url) = &xml_url {
                    feeds.push(OpmlFeed {
                        xml_url: xml_url.clone(),
                        title: title.clone(),
                        categories: stack.iter().flatten().cloned().collect(),
                    });
                }
                if !empty {
                    stack.push(if xml_url.is_some() { None } else { title });
                }
            }
            Token::End { name } if name.eq_ignore_ascii_case("outline") => {
                stack.pop();
            }
            Token::End { name } if name.eq_ignore_ascii_case("body") => stack.clear(),
            _ => {}
        }
    }
    feeds
}

/// A lower-case ASCII slug: accents dropped, anything else becomes `-`.
pub fn slug(s: &str, max: usize) -> String {
    let mut out = String::new();
    for c in s.nfkd() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii() || c.is_whitespace() || c.is_alphanumeric() {
            // punctuation, spaces and letters outside ASCII separate words
            if !out.ends_with('-') && !out.is_empty() {
                out.push('-');
            }
        }
        // combining marks (accents after NFKD) are dropped
    }
    let mut out = out.trim_matches('-').to_string();
    if out.len() > max {
        // cut at a word boundary when one is near
        let cut = if out.as_bytes()[max] == b'-' {
            max
        } else {
            out[..max]
                .rfind('-')
                .filter(|&i| i >= max / 2)
                .unwrap_or(max)
        };
        out.truncate(cut);
        out = out.trim_matches('-').to_string();
    }
    out
}

/// An id for a feed: from its title, else its host and path.
fn derive_id(feed: &OpmlFeed, url: &Url) -> String {
    let from_title = feed
        .title
        .as_deref()
        .map(|t| slug(t, 40))
        .filter(|s| s.len() >= 2);
    from_title.unwrap_or_else(|| {
        let host = url.host_str().unwrap_or("feed");
        let host = host.strip_prefix("www.").unwrap_or(host);
        let path = slug(url.path(), 24);
        let base = slug(host, 32);
        if path.is_empty() || matches!(path.as_str(), "rss" | "feed" | "atom" | "rss-xml") {
            base
        } else {
            format!("{base}-{path}")
        }
    })
}

/// The form of an address compared to find duplicates.
fn same_feed_key(url: &str) -> String {
    let c = crate::extract::url::canonicalize(url);
    c.trim_end_matches('/').to_string()
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportReport {
    /// Feeds in the OPML file.
    pub found: usize,
    /// (id, url) appended.
    pub added: Vec<(String, String)>,
    /// Already in the sources file (or earlier in the OPML file).
    pub duplicates: usize,
    /// (address, why) not usable.
    pub invalid: Vec<(String, String)>,
}

/// Why an import did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("the sources file has errors; fix them before importing")]
    Config(ConfigErrors),
}

/// The `[[sources]]` blocks to append for the feeds of an OPML document, and what was
/// skipped. `existing` is the current sources file.
pub fn plan_import(
    existing: &SourcesConfig,
    feeds: &[OpmlFeed],
    tags: &[String],
) -> (String, ImportReport) {
    let mut report = ImportReport {
        found: feeds.len(),
        ..Default::default()
    };
    let mut ids: BTreeSet<String> = existing.sources.iter().map(|s| s.id.clone()).collect();
    let mut urls: BTreeSet<String> = existing
        .sources
        .iter()
        .map(|s| same_feed_key(s.url.as_str()))
        .collect();
    let mut out = String::new();
    for f in feeds {
        let url = match Url::parse(f.xml_url.trim()) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => u,
            Ok(u) => {
                report.invalid.push((
                    f.xml_url.clone(),
                    format!("scheme {:?} cannot be fetched", u.scheme()),
                ));
                continue;
            }
            Err(e) => {
                report
                    .invalid
                    .push((f.xml_url.clone(), format!("not an absolute address ({e})")));
                continue;
            }
        };
        if !urls.insert(same_feed_key(url.as_str())) {
            report.duplicates += 1;
            continue;
        }
        let base = derive_id(f, &url);
        let mut id = base.clone();
        let mut n = 2;
        while ids.contains(&id) {
            id = format!("{base}-{n}");
            n += 1;
        }
        ids.insert(id.clone());
        let mut all_tags: Vec<String> = tags.to_vec();
        for c in &f.categories {
            let t = slug(c, 32);
            if !t.is_empty() && !all_tags.contains(&t) {
                all_tags.push(t);
            }
        }
        out.push_str("\n[[sources]]\n");
        let _ = writeln!(out, "id = {}", toml_string(&id));
        out.push_str("kind = \"feed\"\n");
        let _ = writeln!(out, "url = {}", toml_string(url.as_str()));
        if let Some(t) = &f.title {
            let _ = writeln!(out, "name = {}", toml_string(t));
        }
        if !all_tags.is_empty() {
            let list: Vec<String> = all_tags.iter().map(|t| toml_string(t)).collect();
            let _ = writeln!(out, "tags = [{}]", list.join(", "));
        }
        report.added.push((id, url.to_string()));
    }
    (out, report)
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Imports the feeds of `opml` into the sources file at `sources` (created when missing).
/// The file is rewritten only when something is added, through a temporary file renamed
/// over it, and only after the result has been checked.
pub fn import(sources: &Path, opml: &Path, tags: &[String]) -> Result<ImportReport, ImportError> {
    let bytes = std::fs::read(opml).map_err(|source| ImportError::Read {
        path: opml.display().to_string(),
        source,
    })?;
    let feeds = parse_opml(&bytes);
    let current = if sources.exists() {
        std::fs::read_to_string(sources).map_err(|source| ImportError::Read {
            path: sources.display().to_string(),
            source,
        })?
    } else {
        String::new()
    };
    let (cfg, errors) = parse_sources(sources, &current);
    if !errors.is_empty() {
        return Err(ImportError::Config(ConfigErrors(errors)));
    }
    let tags: Vec<String> = tags
        .iter()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect();
    let (blocks, report) = plan_import(&cfg, &feeds, &tags);
    if report.added.is_empty() {
        return Ok(report);
    }
    let mut text = current;
    if text.is_empty() {
        text.push_str("# Where vigie listens. `vigie check` validates this file; `vigie run` polls each source.\n");
    } else if !text.ends_with('\n') {
        text.push('\n');
    }
    let name = opml
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let _ = write!(
        text,
        "\n# --- imported from {name} on {} ---\n",
        chrono::Utc::now().format("%Y-%m-%d")
    );
    text.push_str(&blocks);
    let (_, errors) = parse_sources(sources, &text);
    if !errors.is_empty() {
        return Err(ImportError::Config(ConfigErrors(errors)));
    }
    let tmp = sources.with_extension("toml.importing");
    let write_err = |source| ImportError::Write {
        path: sources.display().to_string(),
        source,
    };
    std::fs::write(&tmp, text).map_err(write_err)?;
    std::fs::rename(&tmp, sources).map_err(write_err)?;
    Ok(report)
}

/// `vigie sources import|list`.
pub fn sources_command(g: &Global, c: SourcesCommand) -> Result<ExitCode, Failure> {
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
            let r = match import(&g.sources, &file, &tags) {
                Ok(r) => r,
                Err(ImportError::Config(e)) => return Err(Failure::Config(e)),
                Err(e) => return Err(Failure::Other(anyhow::Error::new(e))),
            };
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
    }
}

fn list(g: &Global) -> Result<ExitCode, Failure> {
    let config = crate::commands::load_config(g, true)?;
    let health = read_health(g, &config.sources);
    let mut out = String::new();
    for s in &config.sources.sources {
        let _ = write!(
            out,
            "{}\t{}\t{}\tevery {}",
            s.id,
            s.kind.as_str(),
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
) -> Option<std::collections::HashMap<String, super::schedule::Health>> {
    let data = crate::data::DataDir::new(&g.data);
    if !data.state_dir().exists() {
        return None;
    }
    let _lock = data.lock("sources list").ok()?;
    let state = crate::state::State::open(&data.state_dir()).ok()?;
    Some(
        cfg.sources
            .iter()
            .filter_map(|s| Some((s.id.clone(), super::schedule::load(&state, s)?)))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_opml_with_categories() {
        let opml = r#"<?xml version='1.0' encoding='UTF-8' ?>
<opml version="1.0"><head><title>Export</title></head><body>
<outline text="Actualit&#233;s" title="Actualités">
  <outline text="Le Monde" title="Le Monde" xmlUrl="https://www.lemonde.fr/rss/une.xml" type="rss" />
  <outline title="Diplomatie" xmlUrl="https://www.diplomatie.gouv.fr/spip.php?page=backend-fd&lang=en" type="rss"/>
</outline>
<outline text="Sans titre" xmlurl='http://example.org/feed?a=1&amp;b=2'></outline>
<outline text="Link only" url="https://example.org/" type="link"/>
</body></opml>"#;
        let feeds = parse_opml(opml.as_bytes());
        assert_eq!(feeds.len(), 3);
        assert_eq!(feeds[0].title.as_deref(), Some("Le Monde"));
        assert_eq!(feeds[0].categories, ["Actualités"]);
        assert_eq!(
            feeds[1].xml_url,
            "https://www.diplomatie.gouv.fr/spip.php?page=backend-fd&lang=en"
        );
        assert_eq!(feeds[2].xml_url, "http://example.org/feed?a=1&b=2");
        assert!(feeds[2].categories.is_empty());
    }

    #[test]
    fn ids_tags_and_duplicates() {
        let (existing, errs) = parse_sources(
            Path::new("sources.toml"),
            "[[sources]]\nid = \"le-monde\"\nkind = \"feed\"\nurl = \"https://www.lemonde.fr/pixels/rss_full.xml\"\n",
        );
        assert!(errs.is_empty());
        let feed = |url: &str, title: Option<&str>| OpmlFeed {
            xml_url: url.into(),
            title: title.map(str::to_string),
            categories: vec!["Tech & Sciences".into()],
        };
        let feeds = vec![
            feed("https://www.lemonde.fr/rss/une.xml", Some("Le Monde")),
            feed(
                "https://www.lemonde.fr/pixels/rss_full.xml/",
                Some("Pixels"),
            ),
            feed("https://www.lemonde.fr/rss/une.xml#x", Some("Again")),
            feed("https://blog.example.org/feed", None),
            feed("feed.xml", Some("Relative")),
            feed("ftp://x.org/f", Some("Ftp")),
            feed(
                "https://x.org/f",
                Some("Société Générale — l'actualité \"quotidienne\""),
            ),
        ];
        let (blocks, r) = plan_import(&existing, &feeds, &["veille".to_string()]);
        assert_eq!(r.found, 7);
        assert_eq!(r.duplicates, 2);
        assert_eq!(r.invalid.len(), 2);
        let ids: Vec<&str> = r.added.iter().map(|(i, _)| i.as_str()).collect();
        assert_eq!(
            ids,
            [
                "le-monde-2",
                "blog-example-org",
                "societe-generale-l-actualite-quotidienne"
            ]
        );
        assert!(
            blocks.contains("tags = [\"veille\", \"tech-sciences\"]"),
            "{blocks}"
        );
        assert!(blocks.contains("name = \"Société Générale — l'actualité \\\"quotidienne\\\"\""));
        let all = format!(
            "[[sources]]\nid = \"le-monde\"\nkind = \"feed\"\nurl = \"https://www.lemonde.fr/pixels/rss_full.xml\"\n{blocks}"
        );
        let (cfg, errs) = parse_sources(Path::new("sources.toml"), &all);
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(cfg.sources.len(), 4);
    }

    #[test]
    fn slugs() {
        assert_eq!(
            slug("Le Monde.fr - Actualités", 40),
            "le-monde-fr-actualites"
        );
        assert_eq!(slug("日本語 News", 40), "news");
        assert_eq!(
            slug(
                "La Dépêche du Midi : actualités et info en direct de la région",
                40
            ),
            "la-depeche-du-midi-actualites-et-info-en"
        );
        assert_eq!(slug("---", 10), "");
    }
}
