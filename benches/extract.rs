//! Extraction throughput: pages (main text and metadata), feeds, near-duplicate signatures.
//!
//! Reads real pages from `../shared/corpora/article_extraction_benchmark` when present (181
//! news and blog pages, 31 MB), else the fixtures under `tests/fixtures/extract/`. The
//! results are checked before timing, so a fast wrong answer fails the bench.
//!
//! `cargo bench --bench extract` (throughput in MB/s per core).

use std::hint::black_box;
use std::io::Read;
use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use vigie::extract::{dedup, feed, page};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn fixture(name: &str) -> String {
    let bytes = std::fs::read(root().join("tests/fixtures/extract").join(name)).unwrap();
    vigie::extract::decode_html(&bytes, None)
}

/// Real pages when the corpus is there, the fixtures otherwise.
fn pages() -> Vec<String> {
    let dir = root().join("../shared/corpora/article_extraction_benchmark/html");
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(&dir) {
        let mut paths: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
        paths.sort();
        for p in paths {
            let mut bytes = Vec::new();
            if let Ok(f) = std::fs::File::open(&p) {
                if flate2::read::GzDecoder::new(f)
                    .read_to_end(&mut bytes)
                    .is_ok()
                {
                    out.push(vigie::extract::decode_html(&bytes, None));
                }
            }
        }
    }
    if out.is_empty() {
        eprintln!("corpus not found: benchmarking the fixtures only");
        for name in [
            "article-fr.html",
            "article-en.html",
            "article-fr-repris.html",
        ] {
            out.push(fixture(name));
        }
    }
    out
}

fn check_pages(pages: &[String]) {
    let fr = page::extract_page(&fixture("article-fr.html"), None);
    assert!(fr.text.contains("La panne a commencé lundi matin"));
    assert!(!fr.text.contains("cookies"));
    assert!(!fr.text.contains("Chez moi aussi"));
    let with_text = pages
        .iter()
        .filter(|h| page::extract_page(h, None).text.len() > 200)
        .count();
    assert!(
        with_text * 100 >= pages.len() * 95,
        "only {with_text} of {} pages gave a main text",
        pages.len()
    );
}

fn bench_pages(c: &mut Criterion) {
    let pages = pages();
    check_pages(&pages);
    let bytes: usize = pages.iter().map(String::len).sum();
    let mut g = c.benchmark_group("extract");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("extract_page", |b| {
        b.iter(|| {
            for h in &pages {
                black_box(page::extract_page(black_box(h), Some("https://e.example/")));
            }
        })
    });
    g.bench_function("parse_only", |b| {
        b.iter(|| {
            for h in &pages {
                black_box(vigie::extract::dom::Dom::parse(black_box(h)));
            }
        })
    });
    g.finish();
}

fn bench_feeds(c: &mut Criterion) {
    let feeds: Vec<Vec<u8>> = ["rss-fr.xml", "atom.xml", "broken.xml"]
        .iter()
        .map(|n| std::fs::read(root().join("tests/fixtures/extract").join(n)).unwrap())
        .collect();
    // a large feed: the French fixture's items, many times
    let rss = String::from_utf8(feeds[0].clone()).unwrap();
    let (head, rest) = rss.split_at(rss.find("<item>").unwrap());
    let (items, tail) = rest.split_at(rest.rfind("</channel>").unwrap());
    let big = format!("{head}{}{tail}", items.repeat(500));
    let parsed = feed::parse_feed(big.as_bytes(), Some("https://courrier.example/")).unwrap();
    assert_eq!(parsed.items.len(), 1000);
    assert_eq!(
        parsed.items[0].title,
        "Panne géante de la fibre : l’opérateur s’excuse"
    );
    let mut g = c.benchmark_group("feed");
    g.throughput(Throughput::Bytes(big.len() as u64));
    g.bench_function("parse_feed", |b| {
        b.iter(|| black_box(feed::parse_feed(black_box(big.as_bytes()), None)))
    });
    g.finish();
}

fn bench_dedup(c: &mut Criterion) {
    let text = page::extract_page(&fixture("article-fr.html"), None).text;
    let copy = page::extract_page(&fixture("article-fr-repris.html"), None).text;
    let a = dedup::fingerprint_text(&text).unwrap();
    assert!(a.is_near_duplicate(&dedup::fingerprint_text(&copy).unwrap()));
    let mut g = c.benchmark_group("dedup");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("fingerprint_text", |b| {
        b.iter(|| black_box(dedup::fingerprint_text(black_box(&text))))
    });
    g.finish();
}

criterion_group!(benches, bench_pages, bench_feeds, bench_dedup);
criterion_main!(benches);
