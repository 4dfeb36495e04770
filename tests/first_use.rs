//! What a new user meets in a first afternoon: bad values named (exit 2, the valid ones
//! listed), brands by their display name, times with their zone, authors shown, queries that
//! start with `-`, missing files, strict checks, bad addresses at ingest, sources' tags.

mod common;

use common::{jsonl, stderr, stdout, write_jsonl, Scratch};
use serde_json::json;

const WATCH: &str = r#"name = "operateurs"

[[brands]]
id = "bytel"
name = "Bouygues Telecom"
aliases = ["Bouygues Telecom", "Bbox"]

[[brands]]
id = "sfr"
name = "SFR"
aliases = ["SFR"]

[digest]
timezone = "Europe/Helsinki"
"#;

/// A scratch folder with the watch and a few posts ingested.
fn ingested() -> Scratch {
    let s = Scratch::new();
    s.write("pipelines/operateurs.toml", WATCH);
    write_jsonl(
        &s.path("posts.jsonl"),
        &[
            json!({"url": "https://forum.example/t/1", "text": "Ma Bbox ne s'allume plus depuis hier, coupure totale.", "published": "2026-11-29T00:15:00+01:00", "source": "forum", "author": "nadia_b"}),
            json!({"url": "https://forum.example/t/2", "title": "Facture SFR", "text": "Facture SFR erronée encore ce mois-ci.", "published": "2026-11-28T10:00:00Z", "source": "forum"}),
        ],
    );
    let o = s.vigie(&["ingest", s.path("posts.jsonl").to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    s
}

#[test]
fn filters_naming_nothing_are_usage_errors_that_list_what_exists() {
    let s = ingested();
    for (args, names) in [
        (
            vec!["search", "fibre", "--brand", "vodafone"],
            vec!["vodafone", "bytel", "sfr"],
        ),
        (
            vec!["alerts", "--watch", "mobile-fr"],
            vec!["mobile-fr", "operateurs"],
        ),
        (
            vec!["search", "fibre", "--watch", "mobile-fr"],
            vec!["mobile-fr", "operateurs"],
        ),
        (vec!["search", "fibre", "--lang", "zz"], vec!["zz", "fr"]),
        (
            vec![
                "search",
                "fibre",
                "--since",
                "2026-11-20",
                "--until",
                "2026-10-01",
            ],
            vec!["--since 2026-11-20", "--until 2026-10-01"],
        ),
    ] {
        let o = s.vigie(&args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        for n in names {
            assert!(err.contains(n), "{args:?}: {n:?} not in {err}");
        }
    }
}

#[test]
fn a_brand_is_found_by_its_display_name_too() {
    let s = ingested();
    let by_id = jsonl(&stdout(
        &s.vigie(&["search", "Bbox", "--brand", "bytel", "--json"]),
    ));
    assert_eq!(by_id.len(), 1);
    for name in ["Bouygues Telecom", "bouygues telecom", "BYTEL"] {
        let o = s.vigie(&["search", "Bbox", "--brand", name, "--json"]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(jsonl(&stdout(&o)), by_id, "--brand {name:?}");
    }
}

#[test]
fn search_shows_times_in_the_watch_zone_and_says_it() {
    let s = ingested();
    let out = stdout(&s.vigie(&["search", "coupure"]));
    // 2026-11-29T00:15:00+01:00 is 01:15 in Helsinki (EET, UTC+2)
    assert!(out.contains("2026-11-29 01:15 EET"), "{out}");
}

#[test]
fn the_author_given_at_ingest_is_shown_by_search_and_the_digest() {
    let s = ingested();
    let hits = jsonl(&stdout(&s.vigie(&["search", "coupure", "--json"])));
    assert_eq!(hits[0]["author"], "nadia_b");
    assert!(stdout(&s.vigie(&["search", "coupure"])).contains("by nadia_b"));
    let text = stdout(&s.vigie(&["digest", "--since", "2026-11-27"]));
    assert!(text.contains("nadia_b"), "{text}");
    let dj = stdout(&s.vigie(&["digest", "--since", "2026-11-27", "--format", "json"]));
    assert!(dj.contains("\"author\": \"nadia_b\""), "{dj}");
}

#[test]
fn an_untitled_post_is_headed_by_its_first_words_and_its_address_shown_once() {
    let s = ingested();
    let text = stdout(&s.vigie(&["digest", "--since", "2026-11-27"]));
    let url = "https://forum.example/t/1";
    let lines: Vec<&str> = text.lines().collect();
    let at: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].contains(url))
        .collect();
    assert!(!at.is_empty(), "{text}");
    assert!(at.windows(2).all(|w| w[1] - w[0] > 2), "{text}");
    assert!(text.contains("1. Ma Bbox ne s'allume plus"), "{text}");
    let out = stdout(&s.vigie(&["search", "coupure"]));
    assert_eq!(out.matches(url).count(), 1, "{out}");
}

#[test]
fn a_query_starting_with_a_dash_is_explained_and_works_after_two_dashes() {
    let s = ingested();
    let o = s.vigie(&["search", "-coupure"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("vigie search -- -coupure"), "{err}");
    assert!(!err.contains("panicked"));
    let o = s.vigie(&["search", "--json", "--", "-coupure"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let urls: Vec<String> = jsonl(&stdout(&o))
        .iter()
        .map(|h| h["url"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(urls, ["https://forum.example/t/2"]);
}

#[test]
fn a_missing_input_file_is_a_usage_error_naming_it() {
    let s = Scratch::new();
    for cmd in ["ingest", "analyze", "extract"] {
        let o = s.vigie(&[cmd, "/no/such/folder/avis.jsonl"]);
        assert_eq!(o.status.code(), Some(2), "{cmd}");
        assert!(stderr(&o).contains("/no/such/folder/avis.jsonl"), "{cmd}");
    }
}

#[test]
fn check_refuses_a_zero_interval_and_warns_of_what_is_probably_not_meant() {
    let s = Scratch::new();
    s.write("pipelines/operateurs.toml", WATCH);
    s.write(
        "sources.toml",
        "[defaults]\ninterval = \"0s\"\n\n[[sources]]\nid = \"a\"\nkind = \"feed\"\nurl = \"https://example.org/f.xml\"\n",
    );
    let o = s.vigie(&["check"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("interval"), "{}", stderr(&o));

    s.write(
        "sources.toml",
        "[[sources]]\nid = \"a\"\nkind = \"feed\"\nurl = \"https://example.org/f.xml\"\ntags = [\"news\"]\n",
    );
    s.write(
        "pipelines/operateurs.toml",
        &format!("{WATCH}\n[alerts]\nchannels = [\"log\", \"http://alerts.example.net/hook\", \"http://127.0.0.1:9/hook\"]\n")
            .replace("name = \"operateurs\"\n", "name = \"operateurs\"\nsources = [\"news\"]\n"),
    );
    let o = s.vigie(&["check"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("http://alerts.example.net/hook") && err.contains("plain http"),
        "{err}"
    );
    assert!(
        !err.contains("127.0.0.1"),
        "a webhook on this machine is fine: {err}"
    );

    std::fs::remove_file(s.path("pipelines/operateurs.toml")).unwrap();
    let o = s.vigie(&["check"]);
    assert!(o.status.success());
    assert!(stderr(&o).contains("no watch"), "{}", stderr(&o));
}

#[test]
fn documents_whose_address_is_no_web_address_are_reported_by_line_and_skipped() {
    let s = Scratch::new();
    s.write("pipelines/operateurs.toml", WATCH);
    write_jsonl(
        &s.path("in.jsonl"),
        &[
            json!({"url": "https://ok.example/1", "text": "Bbox en panne"}),
            json!({"url": "javascript:void(0)", "text": "Bbox en panne encore"}),
            json!({"url": "www.exemple.fr/sans-schema", "text": "Bbox en panne toujours"}),
        ],
    );
    let o = s.vigie(&["ingest", s.path("in.jsonl").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("line 2") && err.contains("line 3"), "{err}");
    let hits = jsonl(&stdout(&s.vigie(&["search", "Bbox", "--json"])));
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0]["url"], "https://ok.example/1");
}

#[test]
fn an_ingested_line_naming_a_configured_source_carries_its_tags() {
    let s = Scratch::new();
    s.write(
        "sources.toml",
        "[[sources]]\nid = \"01net\"\nkind = \"feed\"\nurl = \"https://www.01net.com/actualites/feed/\"\ntags = [\"news\", \"fr\"]\n",
    );
    s.write(
        "pipelines/operateurs.toml",
        &WATCH.replace(
            "name = \"operateurs\"\n",
            "name = \"operateurs\"\nsources = [\"news\"]\n",
        ),
    );
    write_jsonl(
        &s.path("in.jsonl"),
        &[
            json!({"url": "https://www.01net.com/a/1", "text": "SFR relève ses prix au 1er janvier.", "published": "2026-11-28T10:00:00Z", "source": "01net"}),
        ],
    );
    let o = s.vigie(&["ingest", s.path("in.jsonl").to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let hits = jsonl(&stdout(&s.vigie(&[
        "search",
        "prix",
        "--watch",
        "operateurs",
        "--json",
    ])));
    assert_eq!(hits.len(), 1);
    let dj: serde_json::Value = serde_json::from_str(&stdout(&s.vigie(&[
        "digest",
        "--since",
        "2026-11-27",
        "--format",
        "json",
    ])))
    .unwrap();
    assert_eq!(dj["documents"], 1, "{dj}");
}

#[test]
fn the_same_short_sentence_by_two_customers_is_two_mentions_and_a_syndicated_story_one() {
    let s = Scratch::new();
    s.write("pipelines/operateurs.toml", WATCH);
    let text = "Plus de réseau SFR depuis ce matin, rien ne marche.";
    let story = "Une coupure du réseau mobile SFR prive de téléphone des milliers d'abonnés dans le Sud-Est depuis l'aube.";
    write_jsonl(
        &s.path("in.jsonl"),
        &[
            json!({"url": "https://forum.example/t/200", "text": text, "author": "Karim", "published": "2026-11-30T06:00:00Z"}),
            json!({"url": "https://forum.example/t/201", "text": text, "author": "Sophie", "published": "2026-11-30T10:00:00Z"}),
            json!({"url": "https://www.sudinfo.example/a/coupure-sfr", "title": "Coupure SFR", "text": story, "author": "Paul Martin", "published": "2026-11-30T07:00:00Z"}),
            json!({"url": "https://actus-agreg.example/x/coupure-sfr", "title": "Coupure SFR", "text": story, "author": "Paul Martin", "published": "2026-11-30T09:00:00Z"}),
        ],
    );
    let o = s.vigie(&["ingest", s.path("in.jsonl").to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let hits = jsonl(&stdout(&s.vigie(&["search", "SFR", "--json"])));
    let by_url = |u: &str| hits.iter().find(|h| h["url"] == u).cloned().unwrap();
    assert!(by_url("https://forum.example/t/201")
        .get("copy_of")
        .is_none());
    assert!(by_url("https://forum.example/t/200")
        .get("copy_of")
        .is_none());
    assert_eq!(
        by_url("https://actus-agreg.example/x/coupure-sfr")["copy_of"],
        "https://www.sudinfo.example/a/coupure-sfr"
    );
    let dj: serde_json::Value = serde_json::from_str(&stdout(&s.vigie(&[
        "digest",
        "--since",
        "2026-11-29",
        "--format",
        "json",
    ])))
    .unwrap();
    // copies are grouped as the index marks them, and only so: the two customers stay two
    let mut pairs = Vec::new();
    for b in dj["brands"].as_array().unwrap() {
        for m in b["top"].as_array().unwrap() {
            for o in m["also_at"].as_array().into_iter().flatten() {
                pairs.push((
                    m["url"].as_str().unwrap().to_string(),
                    o.as_str().unwrap().to_string(),
                ));
            }
        }
    }
    assert_eq!(
        pairs,
        [(
            "https://www.sudinfo.example/a/coupure-sfr".to_string(),
            "https://actus-agreg.example/x/coupure-sfr".to_string()
        )],
        "{dj}"
    );
    for e in dj["expectations"].as_array().unwrap() {
        assert!(
            e.get("also_at").is_none() && e.get("others").is_none(),
            "{e}"
        );
        assert!(
            !e["url"].as_str().unwrap().contains("actus-agreg"),
            "a copy counts once: {e}"
        );
    }
}

#[test]
fn an_undated_file_ingested_twice_is_unchanged_and_feeds_no_detector() {
    let s = Scratch::new();
    s.write("pipelines/operateurs.toml", WATCH);
    let docs: Vec<serde_json::Value> = (0..30)
        .map(|i| json!({"url": format!("https://u.example/{i}"), "text": format!("Archive SFR : mon forfait {i} correct"), "source": "archive"}))
        .collect();
    write_jsonl(&s.path("undated.jsonl"), &docs);
    let f = s.path("undated.jsonl");
    let first = s.vigie(&["ingest", f.to_str().unwrap()]);
    assert!(first.status.success(), "{}", stderr(&first));
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let again = s.vigie(&["ingest", f.to_str().unwrap()]);
    let err = stderr(&again);
    assert!(err.contains("0 new, 0 updated, 30 unchanged"), "{err}");
    let alerts = stdout(&s.vigie(&["alerts", "--json", "--since", "60d"]));
    assert!(alerts.trim().is_empty(), "{alerts}");
}

#[test]
fn an_ingest_beside_a_running_crawler_is_handed_over_and_indexed() {
    let s = Scratch::new();
    s.write("pipelines/operateurs.toml", WATCH);
    // one feed on a closed loopback port: the run starts, fails to fetch, and waits
    s.write(
        "sources.toml",
        "[defaults]\nallow_private = true\ninterval = \"1h\"\n\n[[sources]]\nid = \"loop\"\nkind = \"feed\"\nurl = \"http://127.0.0.1:9/rss.xml\"\n",
    );
    let mut run = s
        .command(&["-q", "run"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("vigie run starts");
    // the run holds the data directory once its lock file says so
    let lock = s.path("data/vigie.lock");
    let started = std::time::Instant::now();
    while !std::fs::read_to_string(&lock).is_ok_and(|l| l.contains("vigie run")) {
        assert!(
            started.elapsed().as_secs() < 60,
            "vigie run never took the data directory"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let line = json!({"url": "https://crm.example/77", "text": "Cliente de Roubaix : ma Bbox redémarre toutes les heures.", "source": "crm"});
    let bad = "{not json";
    let o = s.vigie_stdin(&["ingest", "-"], Some(&format!("{line}\n{bad}\n")));
    let said = stderr(&o);
    // the bad line is named, the good one handed over
    assert_eq!(o.status.code(), Some(1), "{said}");
    assert!(
        said.contains("line 2") && said.contains("handed over"),
        "{said}"
    );
    let found = || {
        jsonl(&stdout(&s.vigie(&["search", "Roubaix", "--json"])))
            .iter()
            .any(|h| h["url"] == "https://crm.example/77")
    };
    let started = std::time::Instant::now();
    while !found() && started.elapsed().as_secs() < 40 {
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    let _ = run.kill();
    let _ = run.wait();
    assert!(found(), "the handed-over document never reached the index");
    // the inbox is empty once indexed
    let left: Vec<_> = std::fs::read_dir(s.path("data/inbox"))
        .map(|d| d.filter_map(|e| e.ok()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn what_a_stopped_crawler_was_handed_is_indexed_by_the_next_writer() {
    let s = ingested();
    // a file handed over to a run that stopped before its next tick
    std::fs::create_dir_all(s.path("data/inbox")).unwrap();
    let line =
        json!({"url": "https://crm.example/78", "text": "SFR : toujours pas de réseau à Lannion."});
    std::fs::write(
        s.path("data/inbox/20261201T000000.000000-1.jsonl"),
        format!("{line}\n"),
    )
    .unwrap();
    let o = s.vigie_stdin(&["ingest", "-"], Some(""));
    assert!(o.status.success(), "{}", stderr(&o));
    let hits = jsonl(&stdout(&s.vigie(&["search", "Lannion", "--json"])));
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert!(!s.path("data/inbox/20261201T000000.000000-1.jsonl").exists());
}
