//! Mentions of ambiguous brands, against plain keyword matching, on labelled sentences written
//! for vigie (French and English): the brand rules of DESIGN.md must do clearly better.

use std::collections::BTreeSet;
use std::path::Path;

use vigie::analyze::Analyzer;
use vigie::config::parse_watch;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/mentions")
            .join(name),
    )
    .unwrap()
}

/// The alert-service baseline: any alias or ambiguous name, anywhere, any case.
fn keyword(brands: &[vigie::config::Brand], text: &str) -> BTreeSet<String> {
    let lower = text.to_lowercase();
    brands
        .iter()
        .filter(|b| {
            b.aliases
                .iter()
                .chain(&b.ambiguous)
                .any(|a| lower.contains(&a.to_lowercase()))
        })
        .map(|b| b.id.clone())
        .collect()
}

fn f1(tp: usize, fp: usize, fn_: usize) -> f64 {
    let p = tp as f64 / (tp + fp).max(1) as f64;
    let r = tp as f64 / (tp + fn_).max(1) as f64;
    if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    }
}

#[test]
fn brand_rules_beat_keyword_matching_on_ambiguous_names() {
    let (watch, errs) = parse_watch(Path::new("brands.toml"), &fixture("brands.toml"), None);
    assert!(errs.is_empty(), "{errs:?}");
    let watch = watch.unwrap();
    let analyzer = Analyzer::for_watches(std::slice::from_ref(&watch));
    let (mut ours, mut base) = ([0usize; 3], [0usize; 3]);
    let mut wrong = Vec::new();
    for line in fixture("labelled.jsonl")
        .lines()
        .filter(|l| !l.trim().is_empty())
    {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let text = v["text"].as_str().unwrap();
        let gold: BTreeSet<String> = v["brands"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b.as_str().unwrap().to_string())
            .collect();
        let (analysis, _) = analyzer.analyze(text, None);
        let got: BTreeSet<String> = analysis.brands().into_iter().collect();
        if got != gold {
            wrong.push(format!("{text:?}: got {got:?}, want {gold:?}"));
        }
        for (counts, pred) in [
            (&mut ours, &got),
            (&mut base, &keyword(&watch.brands, text)),
        ] {
            counts[0] += pred.intersection(&gold).count();
            counts[1] += pred.difference(&gold).count();
            counts[2] += gold.difference(pred).count();
        }
    }
    let (f_ours, f_base) = (f1(ours[0], ours[1], ours[2]), f1(base[0], base[1], base[2]));
    println!("mention F1 on ambiguous brands: vigie {f_ours:.3}, keyword matching {f_base:.3}");
    assert!(
        f_ours >= 0.95,
        "vigie F1 {f_ours:.3}; mistakes:\n{}",
        wrong.join("\n")
    );
    assert!(
        f_ours >= f_base + 0.15,
        "vigie {f_ours:.3} vs keywords {f_base:.3}"
    );
}
