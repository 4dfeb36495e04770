//! The digest a director reads: summary, aspects, voices, share of voice, in French and in
//! English, everything quoted escaped in HTML.

mod common;

use common::*;
use serde_json::{json, Value};

const BRANDS: &str = r#"[[brands]]
id = "lumio"
name = "Lumio & Cie"
aliases = ["Lumio", "@LumioFR"]
own_handles = ["@LumioFR"]

[[brands]]
id = "vantel"
name = "Vantel"
aliases = ["Vantel"]
"#;

fn post(n: usize, author: &str, text: &str, hours_ago: i64) -> Value {
    let t = chrono::Utc::now() - chrono::Duration::hours(hours_ago);
    json!({
        "url": format!("https://forum.example/t/{n}"),
        "text": text,
        "author": author,
        "source": "forum",
        "published": t.to_rfc3339(),
    })
}

/// Two brands: Lumio's network criticised and its care praised, Vantel's prices criticised;
/// Bernard writes most about Lumio, then Élise, whose post is copied elsewhere.
fn setup(digest: &str) -> Scratch {
    let s = Scratch::new();
    s.write("sources.toml", "");
    s.write(
        "pipelines/w.toml",
        &format!("name = \"w\"\n{BRANDS}\n[digest]\n{digest}\n"),
    );
    let mut lines = Vec::new();
    let mut n = 0;
    let mut add = |author: &str, text: &str, h: i64, lines: &mut Vec<Value>| {
        n += 1;
        lines.push(post(n, author, text, h));
    };
    let network = [
        "Réseau Lumio en panne depuis hier soir, plus aucune connexion, c'est nul.",
        "Lumio network down again, no coverage at all, awful.",
        "Plus de connexion internet avec Lumio depuis deux jours, inadmissible.",
        "La fibre Lumio coupe tous les soirs, la honte.",
        "Constant signal drops with Lumio, this is terrible.",
        "Lumio : aucune barre de réseau dans tout le quartier, pénible.",
    ];
    for (i, t) in network.iter().enumerate() {
        add("Bernard Aubry", t, 10 + i as i64, &mut lines);
    }
    let care = [
        "Service client Lumio génial, conseillère très sympa et efficace.",
        "Lovely Lumio support agent, sorted everything in minutes, brilliant.",
        "Merci au conseiller Lumio, super patient, parfait.",
    ];
    for (i, t) in care.iter().enumerate() {
        add(&format!("@client{i}"), t, 20 + i as i64, &mut lines);
    }
    add("Élise Caradec", "Enquête : le réseau Lumio <script>alert(1)</script> s'effondre dans les villages, les coupures se multiplient et personne ne répond. Les abonnés sans connexion depuis des jours décrivent un service devenu inutilisable, entre appels coupés et débit en chute libre le soir venu.", 30, &mut lines);
    add(
        "Élise Caradec",
        "Lumio : encore une panne du réseau dans la vallée, les abonnés excédés.",
        31,
        &mut lines,
    );
    // Élise's investigation syndicated at another address
    let mut copy = lines[care.len() + network.len()].clone();
    copy["url"] = json!("https://relais.example/depeche/1");
    copy["source"] = json!("relais");
    lines.push(copy);
    // the brand's own account answers: not a voice
    add(
        "@LumioFR",
        "Lumio vous répond en message privé, désolés pour la gêne.",
        5,
        &mut lines,
    );
    add(
        "@LumioFR",
        "Lumio : nos équipes sont mobilisées.",
        6,
        &mut lines,
    );
    add(
        "@LumioFR",
        "Lumio : le réseau revient progressivement.",
        7,
        &mut lines,
    );
    let price = [
        "Vantel beaucoup trop cher, encore une augmentation de tarif, scandaleux.",
        "Vantel prices went up again, way overpriced, terrible.",
        "Les prix de Vantel sont délirants, honteux.",
    ];
    for (i, t) in price.iter().enumerate() {
        add(&format!("@v{i}"), t, 40 + i as i64, &mut lines);
    }
    let input: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let o = s.vigie_stdin(&["-q", "ingest", "-"], Some(&input));
    assert!(o.status.success(), "ingest: {}", stderr(&o));
    s
}

fn digest(s: &Scratch, format: &str) -> String {
    let o = s.vigie(&["digest", "--since", "3d", "--format", format]);
    assert!(o.status.success(), "digest: {}", stderr(&o));
    stdout(&o)
}

fn brand<'a>(d: &'a Value, id: &str) -> &'a Value {
    d["brands"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["id"] == id)
        .unwrap_or_else(|| panic!("no brand {id}"))
}

fn aspect<'a>(b: &'a Value, a: &str) -> &'a Value {
    b["aspects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["aspect"] == a)
        .unwrap_or_else(|| panic!("no aspect {a} in {}", b["aspects"]))
}

#[test]
fn aspects_voices_and_share_of_voice_in_the_json_digest() {
    let s = setup("timezone = \"UTC\"");
    let d: Value = serde_json::from_str(&digest(&s, "json")).unwrap();
    assert_eq!(d["language"], "en");
    let lumio = brand(&d, "lumio");
    // aspects: the network criticised, customer service praised, with examples about them
    let net = aspect(lumio, "network");
    assert!(net["negative"].as_u64().unwrap() >= 5, "{net}");
    assert!(net["negative"].as_u64() > net["positive"].as_u64());
    let ex = net["examples"].as_array().unwrap();
    assert!(!ex.is_empty() && ex.len() <= 3);
    assert!(ex
        .iter()
        .all(|u| u.as_str().unwrap().starts_with("https://forum.example/")));
    let care = aspect(lumio, "customer_service");
    assert!(care["positive"].as_u64().unwrap() >= 3, "{care}");
    assert!(care["positive"].as_u64() > care["negative"].as_u64());
    assert!(lumio["weaknesses"]
        .as_array()
        .unwrap()
        .contains(&json!("network")));
    assert!(lumio["strengths"]
        .as_array()
        .unwrap()
        .contains(&json!("customer_service")));
    let vantel = brand(&d, "vantel");
    assert_eq!(vantel["weaknesses"][0], "price", "{}", vantel["aspects"]);
    // voices: most posts first, the copy counted once and as reach, the brand's own account out
    let voices = lumio["voices"].as_array().unwrap();
    let names: Vec<&str> = voices
        .iter()
        .map(|v| v["author"].as_str().unwrap())
        .collect();
    assert_eq!(&names[..2], ["Bernard Aubry", "Élise Caradec"], "{names:?}");
    assert!(!names.contains(&"@LumioFR"), "{names:?}");
    assert_eq!(voices[0]["mentions"], 6);
    assert_eq!(voices[1]["mentions"], 2);
    assert!(voices[1]["reach"].as_u64() > voices[0]["reach"].as_u64());
    assert_eq!(voices[0]["source"], "forum");
    // shares of voice add up, ordered like the mentions
    let (a, b) = (
        lumio["share_of_voice"].as_f64().unwrap(),
        vantel["share_of_voice"].as_f64().unwrap(),
    );
    assert!((a + b - 1.0).abs() < 0.01 && a > b, "{a} {b}");
    // the summary leads with the most mentioned brand, in plain words
    let summary: Vec<&str> = d["summary"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
    assert!((1..=6).contains(&summary.len()));
    assert!(summary[0].starts_with("Lumio & Cie: "), "{summary:?}");
    assert!(summary[0].contains("the network"), "{summary:?}");
    assert!(!summary.join(" ").contains("deviation"));
}

#[test]
fn a_french_team_reads_a_french_digest() {
    // French from the time zone, and as asked
    for setting in [
        "timezone = \"Europe/Paris\"",
        "timezone = \"UTC\"\nlanguage = \"fr\"",
    ] {
        let s = setup(setting);
        let d: Value = serde_json::from_str(&digest(&s, "json")).unwrap();
        assert_eq!(d["language"], "fr", "{setting}");
        let text = digest(&s, "text");
        for w in [
            "RÉSUMÉ",
            "Points faibles",
            "Points forts",
            "Voix",
            "part de voix",
        ] {
            assert!(text.contains(w), "{w} missing in:\n{text}");
        }
        for w in [
            "Strengths",
            "Weaknesses",
            "Voices",
            "the period before",
            "negative",
        ] {
            assert!(!text.contains(w), "English {w:?} in:\n{text}");
        }
        assert!(d["summary"][0]
            .as_str()
            .unwrap()
            .starts_with("Lumio & Cie : "));
        let eml = digest(&s, "eml");
        assert!(eml.contains("Subject:"), "{eml}");
    }
    // English elsewhere, or when asked
    for setting in [
        "timezone = \"America/New_York\"",
        "timezone = \"Europe/Paris\"\nlanguage = \"en\"",
    ] {
        let s = setup(setting);
        let text = digest(&s, "text");
        assert!(
            text.contains("SUMMARY") && text.contains("Weaknesses"),
            "{setting}:\n{text}"
        );
    }
}

#[test]
fn a_bad_digest_language_is_a_configuration_error() {
    let s = Scratch::new();
    s.write("sources.toml", "");
    s.write(
        "pipelines/w.toml",
        &format!("name = \"w\"\n{BRANDS}\n[digest]\nlanguage = \"de\"\nevery = \"hourly\"\n"),
    );
    let o = s.vigie(&["check"]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("digest.language") && e.contains("\"fr\" or \"en\""),
        "{e}"
    );
    assert!(e.contains("digest.every"), "{e}");
}

#[test]
fn everything_quoted_in_the_html_digest_is_escaped() {
    let s = setup("timezone = \"UTC\"");
    let html = digest(&s, "html");
    assert!(
        !html.contains("<script>alert(1)</script>"),
        "document text unescaped"
    );
    assert!(html.contains("Lumio &amp; Cie"), "brand name escaped");
    for w in ["Summary", "Strengths", "Weaknesses", "Voices"] {
        assert!(html.contains(w), "{w} missing");
    }
    // the examples of an aspect are links
    let d: Value = serde_json::from_str(&digest(&s, "json")).unwrap();
    let ex = aspect(brand(&d, "lumio"), "network")["examples"][0]
        .as_str()
        .unwrap()
        .to_string();
    assert!(html.contains(&format!("href=\"{ex}\"")), "{ex} not linked");
}
