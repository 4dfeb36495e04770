//! Time each stage of ingest on a JSON Lines file, on one thread:
//! `cargo run --release --example stages -- pages.jsonl`.
use std::time::Instant;
fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: stages FILE.jsonl  (documents as `vigie ingest` reads them)");
        std::process::exit(2);
    };
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        eprintln!("{path}: {e}");
        std::process::exit(1);
    });
    let lines: Vec<&str> = text.lines().collect();
    let config = std::sync::Arc::new(vigie::config::Config::default());
    let t = vigie::pipeline::Transform::new(config);
    let (mut t_json, mut t_extract, mut t_analyze, mut t_record) = (0f64, 0f64, 0f64, 0f64);
    let mut htmls = Vec::new();
    let s = Instant::now();
    for l in &lines {
        let (inc, _) = vigie::ingest::parse_line(l.as_bytes(), chrono::Utc::now()).unwrap();
        htmls.push(inc);
    }
    t_json += s.elapsed().as_secs_f64();
    let mut contents = Vec::new();
    let s = Instant::now();
    for inc in &htmls {
        let p =
            vigie::extract::page::extract_page(inc.html.as_deref().unwrap(), Some(&inc.doc.url));
        contents.push(p.text);
    }
    t_extract += s.elapsed().as_secs_f64();
    let s = Instant::now();
    let mut analyzed = 0;
    for c in &contents {
        let (a, _) = t.analyzer.analyze(c, None);
        analyzed += a.mentions.len();
    }
    t_analyze += s.elapsed().as_secs_f64();
    let s = Instant::now();
    for c in &contents {
        let (_, b) = vigie::analyze::text::Analyzed::detect(c, None);
        std::hint::black_box(b);
    }
    let t_text = s.elapsed().as_secs_f64();
    let s = Instant::now();
    let mut n = 0;
    for c in &contents {
        let a = vigie::analyze::text::Analyzed::new(c, vigie::analyze::lang::Lang::En);
        n += vigie::analyze::signal::extract_terms(&a).len();
    }
    t_record += s.elapsed().as_secs_f64();
    let chars: usize = contents.iter().map(|c| c.len()).sum();
    println!("{} pages, {} MB html, {} MB text: json {:.2}s extract {:.2}s analyze {:.2}s (text layer+lang {:.2}s) text+terms {:.2}s [{analyzed} {n}]",
        lines.len(), text.len() >> 20, chars >> 20, t_json, t_extract, t_analyze, t_text, t_record);
}
