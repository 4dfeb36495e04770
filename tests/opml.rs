//! `vigie sources import`: OPML files as feed readers export them (often not well-formed),
//! appended to the sources file, duplicates skipped; and `vigie sources list`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use vigie::config::edit::plan_import;
use vigie::config::Config;
use vigie::fetch::opml::parse_opml;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fetch")
        .join(name)
}

fn vigie(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_reader_export_is_imported_once() {
    let dir = tempfile::tempdir().unwrap();
    let sources = dir.path().join("sources.toml");
    std::fs::write(
        &sources,
        "# my sources\n[defaults]\ninterval = \"1h\"\n\n[[sources]]\nid = \"numerama\"\nkind = \"feed\"\nurl = \"https://www.numerama.com/feed/\" # kept as written\n",
    )
    .unwrap();
    let opml = fixture("reader-export.opml");
    let (code, _, err) = vigie(
        dir.path(),
        &[
            "sources",
            "import",
            opml.to_str().unwrap(),
            "--tag",
            "veille",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("imported 3 feeds of 6") && err.contains("2 already there, 1 unusable"),
        "{err}"
    );
    let text = std::fs::read_to_string(&sources).unwrap();
    assert!(
        text.starts_with("# my sources\n[defaults]"),
        "the file's own text is kept"
    );
    assert!(text.contains("# kept as written"));
    let cfg = Config::load(&sources, &dir.path().join("pipelines"), true).unwrap();
    let ids: Vec<&str> = cfg.sources.sources.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["numerama", "forum-operateur", "que-choisir", "l-obs"]);
    let forum = cfg.sources.get("forum-operateur").unwrap();
    assert_eq!(
        forum.url.as_str(),
        "https://forum.example.org/feed.php?f=12&t=rss&lang=fr"
    );
    assert_eq!(forum.tags, ["veille", "telecoms"]);
    assert_eq!(forum.interval, std::time::Duration::from_secs(3600));
    assert_eq!(
        cfg.sources.get("l-obs").unwrap().name.as_deref(),
        Some("L'Obs")
    );

    // a second import adds nothing and leaves the file alone
    let (code, _, err) = vigie(dir.path(), &["sources", "import", opml.to_str().unwrap()]);
    assert_eq!(code, Some(0));
    assert!(err.contains("imported 0 feeds of 6"), "{err}");
    assert_eq!(std::fs::read_to_string(&sources).unwrap(), text);

    let (code, out, _) = vigie(dir.path(), &["sources", "list"]);
    assert_eq!(code, Some(0));
    assert_eq!(out.lines().count(), 4);
    assert!(
        out.contains("que-choisir\tfeed\thttps://www.quechoisir.org/rss/actualites.xml\tevery 1h")
    );
    let (code, _, _) = vigie(dir.path(), &["check"]);
    assert_eq!(code, Some(0));
}

#[test]
fn import_refuses_a_broken_sources_file_and_a_file_without_feeds() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("sources.toml"), "[[sources]]\nid = \"x\"\n").unwrap();
    let opml = fixture("reader-export.opml");
    let (code, _, err) = vigie(dir.path(), &["sources", "import", opml.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("sources.toml:1"), "{err}");
    std::fs::remove_file(dir.path().join("sources.toml")).unwrap();
    let empty = dir.path().join("empty.opml");
    std::fs::write(
        &empty,
        "<opml><body><outline text=\"nothing\"/></body></opml>",
    )
    .unwrap();
    let (code, _, err) = vigie(dir.path(), &["sources", "import", empty.to_str().unwrap()]);
    assert_eq!(code, Some(1));
    assert!(err.contains("no feed"), "{err}");
    assert!(!dir.path().join("sources.toml").exists());
}

fn corpus() -> Option<PathBuf> {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora/opml_awesome_rss_feeds");
    if dir.is_dir() {
        Some(dir)
    } else {
        // straight to stderr: the test harness would hide a printed line
        let _ = writeln!(
            std::io::stderr(),
            "skipped: the OPML corpus is not present at {}",
            dir.display()
        );
        None
    }
}

fn opml_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "opml") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_feed_of_the_real_world_corpus_is_recovered() {
    let Some(dir) = corpus() else { return };
    let files = opml_files(&dir);
    assert_eq!(files.len(), 118);
    let mut total = 0;
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        let feeds = parse_opml(&bytes);
        // an independent count of the attribute in the raw text
        let raw = String::from_utf8_lossy(&bytes).to_ascii_lowercase();
        let expected = raw.matches("xmlurl=").count();
        assert_eq!(feeds.len(), expected, "{}", f.display());
        for feed in &feeds {
            assert!(
                feed.xml_url.starts_with("http://") || feed.xml_url.starts_with("https://"),
                "{}: {:?}",
                f.display(),
                feed.xml_url
            );
            assert!(!feed.xml_url.contains("&amp;"), "{:?}", feed.xml_url);
        }
        total += feeds.len();
    }
    assert_eq!(total, 1572);
    let france =
        parse_opml(&std::fs::read(dir.join("countries/with_category/France.opml")).unwrap());
    assert!(france.iter().any(|f| f.xml_url
        == "https://www.diplomatie.gouv.fr/spip.php?page=backend-fd&lang=en"
        && f.categories == ["France"]));
    assert!(france
        .iter()
        .any(|f| f.title.as_deref() == Some("L'essentiel")));
}

#[test]
fn the_whole_corpus_imports_into_one_valid_sources_file() {
    let Some(dir) = corpus() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let sources = tmp.path().join("sources.toml");
    let files = opml_files(&dir);
    // two files through the command path, file by file
    let (mut added, mut dup) = (0, 0);
    for f in &files[..2] {
        let (code, _, err) = vigie(tmp.path(), &["sources", "import", f.to_str().unwrap()]);
        assert_eq!(code, Some(0), "{err}");
        // "imported A feeds of F into …; D already there, U unusable"
        let n = |after: &str, before: &str| -> usize {
            let i = err.find(after).unwrap() + after.len();
            let j = i + err[i..].find(before).unwrap();
            err[i..j].trim().parse().unwrap()
        };
        added += n("imported ", " feed");
        dup += n("; ", " already there");
        assert!(err.contains("already there, 0 unusable"), "{err}");
    }
    // then every feed of every file at once
    let all: Vec<_> = files
        .iter()
        .flat_map(|f| parse_opml(&std::fs::read(f).unwrap()))
        .collect();
    assert_eq!(all.len(), 1572);
    let before = std::fs::read_to_string(&sources).unwrap();
    let existing = Config::load(&sources, &tmp.path().join("none"), true)
        .unwrap()
        .sources;
    let (blocks, r) = plan_import(&existing, &all, &["corpus".to_string()]);
    assert!(r.invalid.is_empty(), "{:?}", r.invalid);
    assert_eq!(r.added.len() + r.duplicates, 1572);
    assert_eq!(r.duplicates, 1572 - r.added.len());
    added += r.added.len();
    // 781 distinct addresses as written; a few differ only by a trailing slash
    assert!(
        (760..=781).contains(&added),
        "{added} (and {dup} duplicates at first)"
    );
    std::fs::write(&sources, before + &blocks).unwrap();
    let cfg = Config::load(&sources, &tmp.path().join("none"), true).unwrap();
    assert_eq!(cfg.sources.sources.len(), added);
    let ids: std::collections::HashSet<&str> =
        cfg.sources.sources.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids.len(), added, "ids are unique");
}
