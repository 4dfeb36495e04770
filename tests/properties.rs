//! Properties that must hold whatever the input: ingest never loses or duplicates a document
//! whatever the interleaving of duplicates and updates; the query and configuration parsers
//! never panic, whatever bytes they are given.

use std::collections::BTreeMap;
use std::sync::Arc;

use proptest::prelude::*;
use vigie::config::Config;
use vigie::data::DataDir;
use vigie::index::search::{Filters, Reader};
use vigie::ingest::{ingest, Input, Reporter};

struct Quiet;

impl Reporter for Quiet {
    fn line_problem(&self, _line: usize, _message: &str, _skipped: bool) {}
}

/// One line of a batch: a document (by number) in one of its versions, or a broken line.
#[derive(Debug, Clone)]
enum Op {
    Doc { id: u8, version: u8 },
    Broken,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        9 => (0u8..12, 0u8..3).prop_map(|(id, version)| Op::Doc { id, version }),
        1 => Just(Op::Broken),
    ]
}

fn line(op: &Op) -> String {
    match op {
        Op::Doc { id, version } => serde_json::json!({
            "url": format!("https://p.example/doc/{id}"),
            "text": format!("Document {id} parle du sujet zebulon, version v{version}x."),
            "published": format!("2026-06-{:02}T10:00:00Z", 1 + id % 28),
        })
        .to_string(),
        Op::Broken => "{\"url\": ".to_string(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    #[test]
    fn ingest_keeps_exactly_the_latest_version_of_each_document(batches in prop::collection::vec(prop::collection::vec(op(), 1..30), 1..4)) {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::new(dir.path().join("data"));
        let config = Arc::new(Config::default());
        let mut latest: BTreeMap<u8, u8> = BTreeMap::new();
        for (i, batch) in batches.iter().enumerate() {
            let text: String = batch.iter().map(|o| line(o) + "\n").collect();
            let path = dir.path().join(format!("b{i}.jsonl"));
            std::fs::write(&path, text).unwrap();
            ingest(config.clone(), &data, Input::File(path), &Quiet).unwrap();
            for o in batch {
                if let Op::Doc { id, version } = o {
                    latest.insert(*id, *version);
                }
            }
        }
        let reader = Reader::open(&data).unwrap();
        let hits = reader.search("zebulon", &Filters::default(), 1000).unwrap();
        let mut seen: BTreeMap<u8, u8> = BTreeMap::new();
        for h in &hits {
            let id: u8 = h.doc.url.rsplit('/').next().unwrap().parse().unwrap();
            let version: u8 = h.doc.content.split("version v").nth(1).unwrap()[..1].parse().unwrap();
            prop_assert!(seen.insert(id, version).is_none(), "document {} indexed twice", id);
        }
        prop_assert_eq!(seen, latest);
    }

    #[test]
    fn the_query_parser_never_panics(q in "\\PC{0,60}") {
        let _ = vigie::analyze::query::Query::parse(&q);
    }

    #[test]
    fn the_query_parser_never_panics_on_operators(parts in prop::collection::vec(prop_oneof![
        Just("AND"), Just("OR"), Just("NOT"), Just("NEAR/3"), Just("("), Just(")"), Just("\""), Just("-"), Just("*"),
        Just("fibre"), Just("très"), Just("l'avis"), Just("x*"), Just("NEAR/"), Just("«"), Just("»"),
    ], 0..12)) {
        let q = parts.join(" ");
        if let Ok(parsed) = vigie::analyze::query::Query::parse(&q) {
            let doc = vigie::analyze::text::Analyzed::new("la fibre très rapide et l'avis", vigie::analyze::lang::Lang::Fr);
            let _ = parsed.matches(&doc);
        }
    }

    #[test]
    fn the_config_parsers_never_panic(src in "\\PC{0,200}") {
        let _ = vigie::config::parse_sources(std::path::Path::new("s.toml"), &src);
        let _ = vigie::config::parse_watch(std::path::Path::new("w.toml"), &src, None);
    }

    #[test]
    fn the_config_parsers_never_panic_on_near_valid_files(lines in prop::collection::vec(prop_oneof![
        Just("[[sources]]"), Just("[defaults]"), Just("[[brands]]"), Just("[digest]"), Just("[alerts]"), Just("[[topics]]"),
        Just("id = \"a\""), Just("id = 3"), Just("kind = \"feed\""), Just("url = \"http://x.org/\""), Just("url = \"nope\""),
        Just("interval = \"5q\""), Just("aliases = [\"A\", 1]"), Just("query = \"(a OR\""), Just("at = \"99:99\""),
        Just("selectors = { item = \"[[\" }"), Just("channels = [\"log\", \"ftp://x\"]"), Just("name = \"\""),
    ], 0..16)) {
        let src = lines.join("\n");
        let (_, errs) = vigie::config::parse_sources(std::path::Path::new("s.toml"), &src);
        for e in &errs {
            prop_assert!(e.line <= src.lines().count() + 1, "line {} out of the file", e.line);
        }
        let _ = vigie::config::parse_watch(std::path::Path::new("w.toml"), &src, None);
    }
}
