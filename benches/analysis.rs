//! Throughput of the analysis core, stage by stage and end to end, on vigie's labelled fixtures:
//! short posts (documents/s) and a page made of them (MB/s). Every iteration checks what it
//! computed, so a fast wrong answer fails the bench.

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use vigie::analyze::expectation::find_expectations;
use vigie::analyze::sentiment::score_sentiment;
use vigie::analyze::text::Analyzed;
use vigie::analyze::Analyzer;
use vigie::doc::{ExpectationKind, Label};

/// The fixture texts with their labelled sentiment (when given) and expectation kinds.
fn fixtures() -> Vec<(String, Option<Label>, Vec<ExpectationKind>)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/analysis/labelled.jsonl");
    std::fs::read_to_string(path)
        .expect("fixtures")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("fixture line");
            let label = v["sentiment"].as_str().and_then(Label::parse);
            let kinds = v["expect"]
                .as_array()
                .expect("expect")
                .iter()
                .filter_map(|k| k.as_str().and_then(ExpectationKind::parse))
                .collect();
            (v["text"].as_str().expect("text").to_string(), label, kinds)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let fixtures = fixtures();
    let posts: Vec<&str> = fixtures.iter().map(|(t, _, _)| t.as_str()).collect();
    let post_bytes: usize = posts.iter().map(|t| t.len()).sum();
    // a page: every post as a paragraph, four times over (about 12 KB)
    let page = posts
        .iter()
        .cycle()
        .take(posts.len() * 4)
        .copied()
        .collect::<Vec<_>>()
        .join("\n\n");
    let analyzer = Analyzer::for_watches(&[]);

    // what every iteration must reproduce
    let labelled: Vec<(usize, Label)> = fixtures
        .iter()
        .enumerate()
        .filter_map(|(i, (_, l, _))| l.map(|l| (i, l)))
        .collect();
    let expected_kinds: usize = fixtures.iter().map(|(_, _, k)| k.len()).sum();
    let docs: Vec<Analyzed<'_>> = posts.iter().map(|t| Analyzed::detect(t, None).0).collect();
    let page_doc = Analyzed::detect(&page, None).0;
    let page_tokens = page_doc.tokens.len();
    // each wish of a post is a wish in the page too (wishes do not depend on the context)
    let wishes = fixtures
        .iter()
        .filter(|(_, _, k)| k.contains(&ExpectationKind::Wish))
        .count();
    let page_found = find_expectations(&page_doc);
    let page_wishes = page_found
        .iter()
        .filter(|e| e.kind == ExpectationKind::Wish)
        .count();
    assert!(
        page_wishes >= 4 * wishes,
        "{page_wishes} wishes in the page"
    );
    let page_expectations = page_found.len();

    let check_sentiments = |labels: &[Label]| {
        for &(i, want) in &labelled {
            assert_eq!(labels[i], want, "sentiment of {:?}", posts[i]);
        }
    };
    // the trained models: at least nine labels in ten right, as tests/analysis.rs asks
    let check_model_sentiments = |labels: &[Label]| {
        let right = labelled
            .iter()
            .filter(|&&(i, want)| labels[i] == want)
            .count();
        assert!(
            right * 10 >= labelled.len() * 9,
            "{right} of {} sentiments right",
            labelled.len()
        );
    };
    let count_kinds = |found: &[Vec<ExpectationKind>]| -> usize {
        found
            .iter()
            .map(|k| {
                let mut k = k.clone();
                k.sort();
                k.dedup();
                k.len()
            })
            .sum()
    };

    let mut g = c.benchmark_group("posts");
    g.throughput(Throughput::Elements(posts.len() as u64));
    g.bench_function("text layer", |b| {
        b.iter(|| {
            let n: usize = posts
                .iter()
                .map(|t| Analyzed::detect(black_box(t), None).0.tokens.len())
                .sum();
            assert_eq!(n, docs.iter().map(|d| d.tokens.len()).sum::<usize>());
        })
    });
    g.bench_function("sentiment", |b| {
        b.iter(|| {
            let labels: Vec<Label> = docs
                .iter()
                .map(|d| score_sentiment(black_box(d), 0..d.text.len()).label)
                .collect();
            check_sentiments(&labels);
        })
    });
    g.bench_function("expectations", |b| {
        b.iter(|| {
            let found: Vec<Vec<ExpectationKind>> = docs
                .iter()
                .map(|d| {
                    find_expectations(black_box(d))
                        .iter()
                        .map(|e| e.kind)
                        .collect()
                })
                .collect();
            assert_eq!(count_kinds(&found), expected_kinds);
        })
    });
    g.bench_function("end to end", |b| {
        b.iter(|| {
            let analyses: Vec<_> = posts
                .iter()
                .map(|t| analyzer.analyze(black_box(t), None).0)
                .collect();
            check_model_sentiments(
                &analyses
                    .iter()
                    .map(|a| a.sentiment.label)
                    .collect::<Vec<_>>(),
            );
            let found: Vec<Vec<ExpectationKind>> = analyses
                .iter()
                .map(|a| a.expectations.iter().map(|e| e.kind).collect())
                .collect();
            assert_eq!(count_kinds(&found), expected_kinds);
        })
    });
    g.finish();

    let mut g = c.benchmark_group("page");
    g.throughput(Throughput::Bytes(page.len() as u64));
    g.bench_function("text layer", |b| {
        b.iter(|| {
            assert_eq!(
                Analyzed::detect(black_box(&page), None).0.tokens.len(),
                page_tokens
            )
        })
    });
    g.bench_function("sentiment", |b| {
        b.iter(|| {
            let s = score_sentiment(black_box(&page_doc), 0..page.len());
            assert!((-1.0..=1.0).contains(&s.score));
        })
    });
    g.bench_function("expectations", |b| {
        b.iter(|| {
            assert_eq!(
                find_expectations(black_box(&page_doc)).len(),
                page_expectations
            );
        })
    });
    // the whole analysis keeps what the models decide, every time, and finds the page's wishes
    let page_decided = analyzer.analyze(&page, None).0.expectations;
    assert!(
        page_decided
            .iter()
            .filter(|e| e.kind == ExpectationKind::Wish)
            .count()
            >= 4 * wishes,
        "{page_decided:?}"
    );
    g.bench_function("end to end", |b| {
        b.iter(|| {
            let a = analyzer.analyze(black_box(&page), None).0;
            assert_eq!(a.expectations, page_decided);
        })
    });
    g.finish();
    println!(
        "fixtures: {} posts ({} bytes), page of {} bytes",
        posts.len(),
        post_bytes,
        page.len()
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
