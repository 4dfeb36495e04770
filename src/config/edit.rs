//! Edits of the sources file that keep its text: feeds imported from OPML are appended as
//! `[[sources]]` blocks, with ids derived from their titles (or hosts); feeds whose address is
//! already there are skipped. The `sources` command reads and writes the files.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use unicode_normalization::UnicodeNormalization;
use url::Url;

use crate::config::{parse_sources, ConfigErrors, SourcesConfig};
use crate::fetch::opml::OpmlFeed;

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

/// The sources file `current` (read from `path`, empty when there is none) with the feeds
/// of an OPML file (`origin`, its file name) appended, checked; `None` when nothing is new.
/// The file's own text is left untouched: blocks are added after a dated comment.
pub fn with_imported(
    path: &Path,
    current: &str,
    feeds: &[OpmlFeed],
    tags: &[String],
    origin: &str,
) -> Result<(Option<String>, ImportReport), ConfigErrors> {
    let (cfg, errors) = parse_sources(path, current);
    if !errors.is_empty() {
        return Err(ConfigErrors(errors));
    }
    let tags: Vec<String> = tags
        .iter()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect();
    let (blocks, report) = plan_import(&cfg, feeds, &tags);
    if report.added.is_empty() {
        return Ok((None, report));
    }
    let mut text = current.to_string();
    if text.is_empty() {
        text.push_str("# Where vigie listens. `vigie check` validates this file; `vigie run` polls each source.\n");
    } else if !text.ends_with('\n') {
        text.push('\n');
    }
    let _ = write!(
        text,
        "\n# --- imported from {origin} on {} ---\n",
        chrono::Utc::now().format("%Y-%m-%d")
    );
    text.push_str(&blocks);
    let (_, errors) = parse_sources(path, &text);
    if !errors.is_empty() {
        return Err(ConfigErrors(errors));
    }
    Ok((Some(text), report))
}

#[cfg(test)]
mod tests {
    use super::*;

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
