//! Stage and end-to-end benchmarks of the core: language detection, the text layer, mentions,
//! the whole analysis, indexing, search latency over 100,000 documents, and ingest of real
//! pages from the public extraction benchmarks (when `../shared/corpora` is present).
//!
//! `cargo bench --bench pipeline`; the search latency and ingest figures are printed as well.

use std::hint::black_box;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use vigie::analyze::lang::Lang;
use vigie::analyze::langid::detect_lang;
use vigie::analyze::text::Analyzed;
use vigie::analyze::Analyzer;
use vigie::config::{parse_watch, Config};
use vigie::data::DataDir;
use vigie::index::search::{Filters, Reader};
use vigie::ingest::{ingest, Input, Reporter};

const FR: &str =
    "Ma Livebox est en panne depuis trois jours et toujours aucune réponse du service client. \
Le conseiller m'a promis un technicien pour lundi, mais personne n'est venu. Franchement, Orange, \
ce n'est pas sérieux : je paie mon forfait fibre chaque mois pour un réseau qui ne marche pas.";
const EN: &str =
    "My Orange network has been down since Monday and customer service still has not answered. \
I was promised a technician, nobody came. Please add a status page so we know what is going on!";

const WATCH: &str = r#"name = "bench"
[[brands]]
id = "orange"
aliases = ["Orange France", "@Orange_conseil", "Livebox", "Sosh"]
ambiguous = ["Orange"]
context = ["opérateur", "forfait", "fibre", "box", "réseau", "client", "service client", "network", "customer service"]
exclude = ["jus d'orange"]
case_sensitive = true
[[brands]]
id = "sncf"
aliases = ["SNCF", "TGV", "TER", "Ouigo"]
"#;

fn config() -> Config {
    let (w, errs) = parse_watch(Path::new("bench.toml"), WATCH, None);
    assert!(errs.is_empty());
    Config {
        watches: vec![w.unwrap()],
        ..Default::default()
    }
}

fn stages(c: &mut Criterion) {
    let mut g = c.benchmark_group("stages");
    let both = format!("{FR}\n{EN}");
    g.throughput(Throughput::Bytes(both.len() as u64));
    g.bench_function("language detection", |b| {
        b.iter(|| {
            let d = detect_lang(black_box(FR), None);
            assert_eq!(d.lang, Lang::Fr);
        })
    });
    g.bench_function("text layer (tokens, sentences, stems)", |b| {
        b.iter(|| {
            let a = Analyzed::new(black_box(&both), Lang::Fr);
            assert!(a.tokens.len() > 80);
        })
    });
    let analyzer = Analyzer::new(&config());
    let a = Analyzed::new(&both, Lang::Fr);
    let m = vigie::analyze::mention::MentionMatcher::new(config().watches[0].brands.iter());
    g.bench_function("mentions", |b| {
        b.iter(|| {
            let found = m.find(black_box(&a));
            assert!(found.len() >= 3);
        })
    });
    g.bench_function("whole analysis", |b| {
        b.iter(|| {
            let (an, _) = analyzer.analyze(black_box(&both), None);
            assert!(!an.mentions.is_empty());
        })
    });
    g.finish();
}

struct Quiet;

impl Reporter for Quiet {
    fn line_problem(&self, _: usize, _: &str, _: bool) {}
}

const WORDS: &[&str] = &[
    "réseau",
    "fibre",
    "client",
    "forfait",
    "panne",
    "service",
    "réponse",
    "attente",
    "livraison",
    "colis",
    "magasin",
    "produit",
    "qualité",
    "prix",
    "remboursement",
    "conseiller",
    "application",
    "batterie",
    "écran",
    "train",
    "retard",
    "billet",
    "voyage",
    "network",
    "delivery",
    "refund",
    "support",
    "outage",
    "update",
    "battery",
    "price",
    "store",
    "order",
    "package",
    "screen",
];

/// Synthetic posts with Zipf-ish word frequencies.
fn corpus(n: usize) -> String {
    let mut s = String::new();
    let mut x: u64 = 42;
    for i in 0..n {
        let mut text = String::new();
        for _ in 0..30 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let r = ((x % 1000) * (x / 1000 % 1000) / 1000) as usize % WORDS.len();
            text.push_str(WORDS[r]);
            text.push(' ');
        }
        let brand = if i % 3 == 0 { "Orange réseau" } else { "" };
        s.push_str(&serde_json::json!({"url": format!("https://b.example/{i}"), "text": format!("{brand} {text}"), "published": format!("2026-09-{:02}T10:00:00Z", 1 + i % 28)}).to_string());
        s.push('\n');
    }
    s
}

fn index_and_search(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::new(dir.path().join("data"));
    let path = dir.path().join("docs.jsonl");
    const N: usize = 100_000;
    std::fs::write(&path, corpus(N)).unwrap();
    let t = Instant::now();
    let report = ingest(Arc::new(config()), &data, Input::File(path.clone()), &Quiet).unwrap();
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(report.added as usize, N);
    println!(
        "indexing: {N} documents in {secs:.1}s ({:.0} documents/s)",
        N as f64 / secs
    );
    let reader = Reader::open(&data).unwrap();
    let queries = [
        "panne",
        "fibre AND retard",
        "\"service client\"",
        "remboursement OR refund",
        "panne NEAR/5 réseau",
        "livr*",
        "batterie -écran",
    ];
    let filters = [
        Filters::default(),
        Filters {
            brand: Some("orange".into()),
            ..Default::default()
        },
    ];
    // latency distribution over many queries
    let mut times = Vec::new();
    for round in 0..150 {
        for q in &queries {
            let f = &filters[round % 2];
            let t = Instant::now();
            let hits = reader.search(q, f, 20).unwrap();
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            black_box(hits);
        }
    }
    times.sort_by(f64::total_cmp);
    let p = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
    println!(
        "search latency over {N} documents: p50 {:.2} ms, p99 {:.2} ms ({} queries)",
        p(0.5),
        p(0.99),
        times.len()
    );
    assert!(
        p(0.5) < 5.0 && p(0.99) < 50.0,
        "search too slow: p50 {:.2} ms, p99 {:.2} ms",
        p(0.5),
        p(0.99)
    );
    let mut g = c.benchmark_group("search over 100k documents");
    g.bench_function("word", |b| {
        b.iter(|| {
            assert!(!reader
                .search("panne", &Filters::default(), 20)
                .unwrap()
                .is_empty())
        })
    });
    g.bench_function("phrase with brand filter", |b| {
        b.iter(|| {
            black_box(
                reader
                    .search("\"service client\"", &filters[1], 20)
                    .unwrap(),
            )
        })
    });
    g.finish();
}

fn real_pages(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora");
    let mut pages = Vec::new();
    for sub in [
        "article_extraction_benchmark/html",
        "trafilatura_eval_en_fr/html",
    ] {
        let Ok(rd) = std::fs::read_dir(root.join(sub)) else {
            continue;
        };
        let mut files: Vec<_> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
        files.sort();
        for f in files {
            let mut gz = Vec::new();
            std::fs::File::open(&f)
                .unwrap()
                .read_to_end(&mut gz)
                .unwrap();
            let mut html = Vec::new();
            if flate2::read::GzDecoder::new(&gz[..])
                .read_to_end(&mut html)
                .is_ok()
            {
                pages.push(String::from_utf8_lossy(&html).into_owned());
            }
        }
    }
    if pages.is_empty() {
        println!("ingest of real pages: skipped (../shared/corpora not present)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pages.jsonl");
    let mut s = String::new();
    for i in 0..800 {
        s.push_str(&serde_json::json!({"url": format!("https://pages.example/{i}"), "html": pages[i % pages.len()], "published": "2026-09-01T10:00:00Z"}).to_string());
        s.push('\n');
    }
    std::fs::write(&path, &s).unwrap();
    let mb = s.len() as f64 / 1e6;
    let mut g = c.benchmark_group("ingest of 800 real pages");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(s.len() as u64));
    g.bench_function("end to end", |b| {
        b.iter(|| {
            let d = tempfile::tempdir().unwrap();
            let t = Instant::now();
            let r = ingest(
                Arc::new(config()),
                &DataDir::new(d.path().join("data")),
                Input::File(path.clone()),
                &Quiet,
            )
            .unwrap();
            assert_eq!(r.added, 800);
            let secs = t.elapsed().as_secs_f64();
            println!(
                "  800 pages ({mb:.0} MB) in {secs:.2}s: {:.0} pages/s, {:.1} MB/s",
                800.0 / secs,
                mb / secs
            );
        })
    });
    g.finish();
}

criterion_group!(benches, stages, index_and_search, real_pages);
criterion_main!(benches);
