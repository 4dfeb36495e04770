//! The command line end to end: configuration errors, ingest (idempotent, bad lines
//! reported), search on stems with filters, analyze's format and order.

mod common;

use common::{jsonl, stderr, stdout, write_jsonl, Scratch};
use serde_json::json;

const WATCH: &str = "name = \"w\"\n\n[[brands]]\nid = \"acme\"\naliases = [\"Acme\"]\n";

#[test]
fn check_names_the_unknown_field_and_its_line() {
    let s = Scratch::new();
    s.write("pipelines/w.toml", WATCH);
    s.write("sources.toml", "[defaults]\ninterval = \"30m\"\n\n[[sources]]\nid = \"x\"\nkind = \"feed\"\nurl = \"http://example.org/f.xml\"\ncolour = \"blue\"\n");
    let o = s.vigie(&["check"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("sources.toml:8") && err.contains("colour"),
        "{err}"
    );
}

#[test]
fn check_reports_every_error_at_once() {
    let s = Scratch::new();
    s.write("pipelines/w.toml", "name = \"w\"\n[[brands]]\nid = \"b\"\nambiguous = [\"B\"]\n[digest]\ntimezone = \"Nowhere/Land\"\n");
    s.write(
        "sources.toml",
        "[[sources]]\nid = 7\nkind = \"feed\"\nurl = \"not a url\"\n",
    );
    let o = s.vigie(&["check"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    for want in [
        "sources.toml:2",
        "`sources[0].id`",
        "sources.toml:4",
        "`sources[0].url`",
        "w.toml:4",
        "context",
        "w.toml:6",
        "time zone",
    ] {
        assert!(err.contains(want), "missing {want:?} in:\n{err}");
    }
    assert!(err.contains("4 errors"), "{err}");
}

#[test]
fn check_accepts_the_shipped_examples() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_vigie"))
        .current_dir(root)
        .arg("check")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("ok:"));
}

fn docs(n: usize) -> Vec<serde_json::Value> {
    (0..n)
        .map(|i| {
            json!({
                "url": format!("https://example.org/n/{i}"),
                "title": format!("Nouvelle {i}"),
                "text": format!("Les clients d'Acme attendent toujours la livraison numéro {i}. Les colis arrivent en retard."),
                "published": format!("2026-10-{:02}T08:00:00Z", 1 + i % 28),
                "source": "test",
            })
        })
        .collect()
}

#[test]
fn ingest_twice_keeps_each_document_once_and_reports_bad_lines() {
    let s = Scratch::new();
    s.write("pipelines/w.toml", WATCH);
    let path = s.path("docs.jsonl");
    write_jsonl(&path, &docs(300));
    // two broken lines, at known places
    let mut text = std::fs::read_to_string(&path).unwrap();
    text = text.replacen("\n", "\n{not json\n", 1);
    text.push_str("{\"title\": \"no url\"}\n");
    std::fs::write(&path, text).unwrap();
    let first = s.vigie(&["ingest", path.to_str().unwrap()]);
    assert_eq!(
        first.status.code(),
        Some(1),
        "bad lines make a partial failure"
    );
    let err = stderr(&first);
    assert!(
        err.contains("line 2:") && err.contains("line 302:"),
        "{err}"
    );
    assert!(err.contains("300 new"), "{err}");
    let second = s.vigie(&["ingest", path.to_str().unwrap()]);
    assert!(
        stderr(&second).contains("0 new, 0 updated, 300 unchanged"),
        "{}",
        stderr(&second)
    );
    let hits = jsonl(&stdout(&s.vigie(&[
        "search",
        "livraisons",
        "--limit",
        "10000",
        "--json",
    ])));
    let mut urls: Vec<&str> = hits.iter().map(|h| h["url"].as_str().unwrap()).collect();
    urls.sort();
    urls.dedup();
    assert_eq!((hits.len(), urls.len()), (300, 300));
}

#[test]
fn an_edited_document_replaces_the_old_one() {
    let s = Scratch::new();
    s.write("pipelines/w.toml", WATCH);
    let p = s.path("a.jsonl");
    write_jsonl(
        &p,
        &[
            json!({"url": "https://e.org/1", "text": "première version avec girafe", "published": "2026-10-01T00:00:00Z"}),
        ],
    );
    s.vigie(&["ingest", p.to_str().unwrap()]);
    write_jsonl(
        &p,
        &[
            json!({"url": "https://e.org/1", "text": "seconde version avec éléphant", "published": "2026-10-01T00:00:00Z"}),
        ],
    );
    let o = s.vigie(&["ingest", p.to_str().unwrap()]);
    assert!(stderr(&o).contains("1 updated"), "{}", stderr(&o));
    assert!(jsonl(&stdout(&s.vigie(&["search", "girafe", "--json"]))).is_empty());
    assert_eq!(
        jsonl(&stdout(&s.vigie(&["search", "elephant", "--json"]))).len(),
        1,
        "accents folded in queries too"
    );
}

#[test]
fn a_syndicated_copy_points_at_the_original_and_an_unrelated_text_does_not() {
    let s = Scratch::new();
    s.write("pipelines/w.toml", WATCH);
    let story = "La société Acme a annoncé mardi la fermeture de son usine de Villeurbanne, \
        qui emploie deux cent quarante salariés, à la suite d'une baisse durable des commandes \
        de ses clients européens. Les syndicats dénoncent une décision brutale et réclament un \
        plan de reprise. La direction affirme que des reclassements seront proposés à chaque \
        salarié dans les autres sites du groupe en France et en Belgique.";
    let other = "Le festival de jazz de Vienne accueille cette année plus de soixante concerts \
        sur la scène du théâtre antique, avec des artistes venus des États-Unis, du Brésil et \
        du Mali. Les organisateurs attendent deux cent mille spectateurs sur deux semaines et \
        ont renforcé les navettes depuis Lyon pour éviter les embouteillages du soir.";
    let p = s.path("a.jsonl");
    write_jsonl(
        &p,
        &[
            json!({"url": "https://journal.example/acme", "text": story, "published": "2026-10-01T08:00:00Z"}),
            json!({"url": "https://agregateur.example/7", "text": format!("{story} Par notre correspondant, avec l'AFP."), "published": "2026-10-01T09:00:00Z"}),
            json!({"url": "https://culture.example/jazz", "text": other, "published": "2026-10-01T10:00:00Z"}),
        ],
    );
    let o = s.vigie(&["ingest", p.to_str().unwrap()]);
    assert!(stderr(&o).contains("3 new"), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("1 copies of texts already seen"),
        "{}",
        stderr(&o)
    );
    let hits = jsonl(&stdout(&s.vigie(&["search", "usine", "--json"])));
    assert_eq!(hits.len(), 2, "both addresses stay searchable");
    let original = hits
        .iter()
        .find(|h| h["url"] == "https://journal.example/acme")
        .unwrap();
    assert_eq!(
        original["also_seen"],
        json!(["https://agregateur.example/7"])
    );
    let copy = hits
        .iter()
        .find(|h| h["url"] == "https://agregateur.example/7")
        .unwrap();
    assert_eq!(copy["copy_of"], json!("https://journal.example/acme"));
    let jazz = jsonl(&stdout(&s.vigie(&["search", "jazz", "--json"])));
    assert!(jazz[0].get("copy_of").is_none() && jazz[0].get("also_seen").is_none());
    // the digest shows the story once, under its first address
    let digest: serde_json::Value = serde_json::from_str(&stdout(&s.vigie(&[
        "digest",
        "--day",
        "2026-10-01",
        "--format",
        "json",
    ])))
    .unwrap();
    let top = &digest["brands"][0]["top"];
    assert_eq!(top.as_array().unwrap().len(), 1, "{top}");
    assert_eq!(top[0]["url"], "https://journal.example/acme");
    assert_eq!(top[0]["also_at"], json!(["https://agregateur.example/7"]));
}

#[test]
fn search_filters_by_event_time_language_brand_and_expectation() {
    let s = Scratch::new();
    s.write("pipelines/w.toml", WATCH);
    let p = s.path("docs.jsonl");
    write_jsonl(&p, &docs(280));
    s.vigie(&["ingest", p.to_str().unwrap()]);
    let since = jsonl(&stdout(&s.vigie(&[
        "search",
        "livraisons",
        "--since",
        "2026-10-20",
        "--limit",
        "1000",
        "--json",
    ])));
    assert_eq!(since.len(), 90, "days 20 to 28 of 28, ten documents a day");
    assert!(since
        .iter()
        .all(|h| h["published"].as_str().unwrap() >= "2026-10-20"));
    let until = jsonl(&stdout(&s.vigie(&[
        "search",
        "livraison",
        "--until",
        "2026-10-03",
        "--limit",
        "1000",
        "--json",
    ])));
    assert_eq!(until.len(), 20);
    let fr = jsonl(&stdout(&s.vigie(&[
        "search", "colis", "--lang", "fr", "--brand", "acme", "--limit", "1", "--json",
    ])));
    assert_eq!(fr.len(), 1);
    let h = &fr[0];
    for key in [
        "url",
        "title",
        "published",
        "source",
        "lang",
        "brands",
        "sentiment",
        "expectations",
        "score",
        "snippet",
    ] {
        assert!(h.get(key).is_some(), "hit lacks {key}: {h}");
    }
    assert_eq!(h["brands"], json!(["acme"]));
    assert!(
        h["snippet"].as_str().unwrap().contains("<b>colis</b>"),
        "{h}"
    );
    assert!(jsonl(&stdout(
        &s.vigie(&["search", "colis", "--lang", "en", "--json"])
    ))
    .is_empty());
    assert!(jsonl(&stdout(
        &s.vigie(&["search", "colis", "--brand", "other", "--json"])
    ))
    .is_empty());
}

#[test]
fn search_speaks_the_query_language() {
    let s = Scratch::new();
    s.write("pipelines/w.toml", WATCH);
    let p = s.path("q.jsonl");
    write_jsonl(
        &p,
        &[
            json!({"url": "https://e.org/1", "text": "Panne générale du réseau fibre ce matin."}),
            json!({"url": "https://e.org/2", "text": "Publicité : la fibre très haut débit arrive."}),
            json!({"url": "https://e.org/3", "text": "Le réseau mobile est tombé en panne après la mise à jour."}),
            json!({"url": "https://e.org/4", "text": "Un jus d'orange pressée, rien à voir."}),
        ],
    );
    s.vigie(&["ingest", p.to_str().unwrap()]);
    let urls = |q: &str| -> Vec<String> {
        let mut v: Vec<String> = jsonl(&stdout(&s.vigie(&["search", q, "--json"])))
            .iter()
            .map(|h| h["url"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    assert_eq!(urls("fibre AND NOT publicité"), ["https://e.org/1"]);
    assert_eq!(urls("\"très haut débit\""), ["https://e.org/2"]);
    assert_eq!(
        urls("panne NEAR/4 réseau"),
        ["https://e.org/1", "https://e.org/3"]
    );
    assert_eq!(urls("panne NEAR/2 réseau"), ["https://e.org/1"]);
    assert_eq!(urls("\"jus d'orange\""), ["https://e.org/4"]);
    assert_eq!(urls("pann*"), ["https://e.org/1", "https://e.org/3"]);
    let bad = s.vigie(&["search", "(panne OR réseau", "--json"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("parenthesis"), "{}", stderr(&bad));
}

#[test]
fn analyze_answers_one_line_per_input_in_order() {
    let s = Scratch::new();
    s.write("pipelines/w.toml", WATCH);
    let input = [
        json!({"id": "a", "text": "Acme est vraiment génial, je recommande ce produit à tout le monde !"}),
        json!({"id": 2, "text": "The weather is really nice today, let us go for a long walk."}),
        json!({"id": "c", "text": "Acme ne répond toujours pas à mes messages depuis une semaine."}),
    ];
    let mut stdin: String = input.iter().map(|v| v.to_string() + "\n").collect();
    stdin.push_str("{broken\n");
    stdin.push_str(&json!({"id": "d", "text": "Merci Acme"}).to_string());
    let o = s.vigie_stdin(&["analyze"], Some(&stdin));
    let out = jsonl(&stdout(&o));
    assert_eq!(out.len(), 5, "one line per input, the broken one included");
    let ids: Vec<&serde_json::Value> = out.iter().map(|o| &o["id"]).collect();
    assert_eq!(
        ids,
        [
            &json!("a"),
            &json!(2),
            &json!("c"),
            &serde_json::Value::Null,
            &json!("d")
        ]
    );
    assert_eq!(
        (
            out[0]["lang"].as_str(),
            out[1]["lang"].as_str(),
            out[2]["lang"].as_str()
        ),
        (Some("fr"), Some("en"), Some("fr"))
    );
    let m = &out[0]["mentions"][0];
    assert_eq!(
        (
            m["brand"].as_str(),
            m["alias"].as_str(),
            m["start"].as_u64(),
            m["end"].as_u64()
        ),
        (Some("acme"), Some("Acme"), Some(0), Some(4))
    );
    for o in [&out[0], &out[1], &out[2]] {
        let score = o["sentiment"]["score"].as_f64().unwrap();
        assert!((-1.0..=1.0).contains(&score));
        assert!(["negative", "neutral", "positive"]
            .contains(&o["sentiment"]["label"].as_str().unwrap()));
        assert!(o["expectations"].is_array());
    }
    assert!(out[3]["error"].as_str().unwrap().contains("line 4"));
    assert!(stderr(&o).contains("line 4"));
}

#[test]
fn a_second_writer_is_told_the_directory_is_in_use() {
    let s = Scratch::new();
    s.write("pipelines/w.toml", WATCH);
    let p = s.path("docs.jsonl");
    write_jsonl(&p, &docs(20));
    // hold the lock from this process, as another ingest would (a running `vigie run` is
    // handed the documents instead: tests/first_use.rs)
    let data = vigie::data::DataDir::new(s.path("data"));
    let lock = data.lock("ingest").unwrap();
    let o = s.vigie(&["ingest", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("in use") && err.contains(&std::process::id().to_string()),
        "{err}"
    );
    drop(lock);
    assert!(s.vigie(&["ingest", p.to_str().unwrap()]).status.success());
    // readers never need the lock
    let _again = data.lock("run").unwrap();
    assert_eq!(
        jsonl(&stdout(&s.vigie(&["search", "colis", "--json"]))).len(),
        20
    );
}

#[test]
fn hostile_lines_are_reported_and_the_rest_ingested() {
    let s = Scratch::new();
    s.write("pipelines/w.toml", WATCH);
    let p = s.path("hostile.jsonl");
    let mut bytes: Vec<u8> = Vec::new();
    bytes.extend_from_slice(b"\x00\x01\x02\xff\xfe binary junk\n");
    bytes.extend_from_slice(
        b"{\"url\": \"https://e.org/u\", \"text\": \"caf\xe9 cr\xe8me \xff\"}\n",
    );
    bytes.extend_from_slice(
        json!({"url": "https://e.org/big", "text": "x".repeat(9 * 1024 * 1024)})
            .to_string()
            .as_bytes(),
    );
    bytes.push(b'\n');
    bytes.extend_from_slice(
        json!({"url": "https://e.org/after", "text": "Acme après le gros document"})
            .to_string()
            .as_bytes(),
    );
    bytes.push(b'\n');
    std::fs::write(&p, bytes).unwrap();
    let o = s.vigie(&["ingest", p.to_str().unwrap()]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("line 1:"), "{err}");
    assert!(err.contains("line 2:") && err.contains("UTF-8"), "{err}");
    assert!(err.contains("line 3:") && err.contains("limit"), "{err}");
    assert!(!err.contains("panicked"));
    assert_eq!(
        jsonl(&stdout(&s.vigie(&["search", "gros", "--json"]))).len(),
        1
    );
    assert_eq!(
        jsonl(&stdout(&s.vigie(&["search", "caf", "--json"]))).len(),
        1,
        "the line with invalid UTF-8 is kept"
    );
}
