//! Early warning on a replayed month: background posts with shuffled times, planted events
//! (a new phrase that keeps coming, a one-day outage, a brand whose audience turns). Each is
//! caught within a day and never before; nothing else fires; a restart halfway changes nothing.

mod common;

use chrono::{DateTime, Duration, TimeZone, Utc};
use common::{jsonl, stderr, stdout, write_jsonl, Scratch};
use serde_json::json;

const WATCH: &str = r#"name = "replay"

[[brands]]
id = "lumio"
name = "Lumio"
aliases = ["Lumio", "@lumio_aide"]
"#;

/// A deterministic generator (xorshift) so the replay is the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const FILLER: &[&str] = &[
    "le", "la", "de", "et", "un", "une", "pour", "avec", "the", "and", "of", "to", "with", "a",
];

/// A background post: common words at Zipf-like rates, nothing rising.
fn background(r: &mut Rng) -> String {
    let n = 8 + r.below(10);
    let mut words = Vec::new();
    for _ in 0..n {
        if r.below(3) == 0 {
            words.push(r.pick(FILLER).to_string());
        } else {
            // rank drawn so that low ranks are frequent
            let rank = (r.below(1000) * r.below(1000)) / 1000;
            words.push(format!("terme{rank}"));
        }
    }
    words.join(" ") + "."
}

const NEG: &[&str] = &[
    "Lumio a encore coupé ma connexion, c'est honteux et insupportable.",
    "Service client Lumio injoignable, trois heures d'attente, scandaleux.",
    "Lumio is the worst provider ever, the network is down again and support is useless.",
    "Ma facture Lumio a doublé sans explication, je suis furieux.",
];
const POS: &[&str] = &[
    "Merci Lumio, installation parfaite et technicien adorable, je recommande !",
    "Great service from Lumio today, fast and friendly support, love it.",
    "Très satisfait de Lumio, la connexion est excellente.",
];
const NEU: &[&str] = &[
    "Lumio publie ses résultats trimestriels.",
    "Lumio annonce une nouvelle boutique à Lyon.",
];
const PHRASE: &[&str] = &[
    "Quelqu'un a aussi une double facturation ce mois-ci ?",
    "Encore une double facturation sur mon relevé, troisième fois.",
    "La double facturation touche tout le quartier ce matin.",
];
const OUTAGE: &[&str] = &[
    "Mobile data down everywhere downtown.",
    "Anyone else with mobile data down since noon?",
    "Mobile data down for hours now.",
];

fn day0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap()
}

fn replay() -> Vec<serde_json::Value> {
    let mut r = Rng(0x9E37_79B9_7F4A_7C15);
    let mut docs: Vec<(i64, String, String)> = Vec::new();
    let mut add = |r: &mut Rng, day: i64, text: String, tag: &str| {
        let t = day * 86400 + r.below(86400) as i64;
        let n = docs.len();
        docs.push((t, format!("https://replay.example/{tag}/{n}"), text));
    };
    for day in 0..30 {
        for _ in 0..200 {
            let t = background(&mut r);
            add(&mut r, day, t, "bg");
        }
        let neg = if day >= 21 { 70 } else { 20 };
        for _ in 0..20 {
            let x = r.below(100);
            let base = if x < neg {
                r.pick(NEG)
            } else if x < neg + (100 - neg) * 6 / 10 {
                r.pick(POS)
            } else {
                r.pick(NEU)
            };
            let t = format!("{base} {}", background(&mut r));
            add(&mut r, day, t, "brand");
        }
        if day >= 15 {
            for _ in 0..25 {
                let t = format!("{} {}", r.pick(PHRASE), background(&mut r));
                add(&mut r, day, t, "phrase");
            }
        }
        if day == 25 {
            for _ in 0..30 {
                let t = format!("{} {}", r.pick(OUTAGE), background(&mut r));
                add(&mut r, day, t, "outage");
            }
        }
    }
    docs.sort();
    docs.into_iter()
        .map(|(t, url, text)| json!({"url": url, "text": text, "published": (day0() + Duration::seconds(t)).to_rfc3339(), "source": "replay"}))
        .collect()
}

fn day_of(a: &serde_json::Value) -> f64 {
    let at = DateTime::parse_from_rfc3339(a["at"].as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc);
    (at - day0()).num_seconds() as f64 / 86400.0
}

fn alerts(s: &Scratch) -> Vec<serde_json::Value> {
    jsonl(&stdout(&s.vigie(&[
        "alerts",
        "--json",
        "--since",
        "2026-01-01",
    ])))
}

#[test]
fn planted_events_are_caught_within_a_day_and_nothing_else_fires() {
    let s = Scratch::new();
    s.write("pipelines/replay.toml", WATCH);
    let path = s.path("replay.jsonl");
    write_jsonl(&path, &replay());
    let o = s.vigie(&["ingest", path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let all = alerts(&s);
    let terms_with = |a: &serde_json::Value, w: &str| {
        a["terms"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t.as_str().unwrap().contains(w))
    };
    type Matcher<'a> = Box<dyn Fn(&serde_json::Value) -> bool + 'a>;
    let events: [(&str, f64, Matcher); 3] = [
        (
            "new phrase",
            15.0,
            Box::new(|a| a["kind"] == "emerging" && terms_with(a, "facturation")),
        ),
        (
            "outage",
            25.0,
            Box::new(|a| {
                a["kind"] == "emerging" && (terms_with(a, "data") || terms_with(a, "down"))
            }),
        ),
        (
            "audience turns",
            21.0,
            Box::new(|a| a["kind"] == "sentiment_shift" && a["brand"] == "lumio"),
        ),
    ];
    let mut explained = vec![false; all.len()];
    for (name, onset, matches) in &events {
        let hits: Vec<f64> = all
            .iter()
            .enumerate()
            .filter(|(_, a)| matches(a))
            .map(|(i, a)| {
                explained[i] = true;
                day_of(a)
            })
            .collect();
        assert!(!hits.is_empty(), "{name} not caught; alerts: {all:#?}");
        assert!(
            hits.iter().all(|d| *d >= *onset),
            "{name} raised before its onset: {hits:?}"
        );
        assert!(
            hits[0] <= onset + 1.0,
            "{name} caught {:.1} h after onset",
            (hits[0] - onset) * 24.0
        );
        assert!(hits.len() <= 3, "{name} raised {} times", hits.len());
    }
    let others: Vec<&serde_json::Value> = all
        .iter()
        .zip(&explained)
        .filter(|(_, e)| !**e)
        .map(|(a, _)| a)
        .collect();
    assert!(others.len() <= 3, "false alarms: {others:#?}");
    // every alert explains itself
    for a in &all {
        assert!(
            !a["evidence"].as_array().unwrap().is_empty()
                && !a["message"].as_str().unwrap().is_empty(),
            "{a}"
        );
    }
}

#[test]
fn a_restart_halfway_raises_the_same_alerts_once() {
    let docs = replay();
    let whole = Scratch::new();
    whole.write("pipelines/replay.toml", WATCH);
    let p = whole.path("all.jsonl");
    write_jsonl(&p, &docs);
    assert!(whole
        .vigie(&["ingest", p.to_str().unwrap()])
        .status
        .success());

    let split = Scratch::new();
    split.write("pipelines/replay.toml", WATCH);
    let half = docs.len() / 2;
    let a = split.path("a.jsonl");
    let b = split.path("b.jsonl");
    write_jsonl(&a, &docs[..half]);
    write_jsonl(&b, &docs[half..]);
    assert!(split
        .vigie(&["ingest", a.to_str().unwrap()])
        .status
        .success());
    assert!(split
        .vigie(&["ingest", b.to_str().unwrap()])
        .status
        .success());
    // and once more: nothing new, nothing raised again
    assert!(split
        .vigie(&["ingest", b.to_str().unwrap()])
        .status
        .success());

    let ids = |s: &Scratch| {
        alerts(s)
            .iter()
            .map(|a| a["id"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let (w, s) = (ids(&whole), ids(&split));
    assert!(!w.is_empty());
    assert_eq!(w, s, "the same alerts, once each");
}
