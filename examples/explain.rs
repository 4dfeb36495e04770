//! What each word contributed to the sentiment of a text:
//! `cargo run --release --example explain -- fr "Le service est nul."`.
use vigie::analyze::{lang::Lang, sentiment, text::Analyzed};
fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(lang), Some(text)) = (args.next(), args.next()) else {
        eprintln!("usage: explain fr|en TEXT");
        std::process::exit(2);
    };
    let lang = if lang == "fr" { Lang::Fr } else { Lang::En };
    let doc = Analyzed::new(&text, lang);
    for (r, v) in sentiment::explain_sentiment(&doc, 0..text.len()) {
        println!("{:>7.3}  {}", v, &text[r]);
    }
    println!(
        "score {:.3}",
        sentiment::score_sentiment(&doc, 0..text.len()).score
    );
    for r in &doc.sentences {
        let s = sentiment::score_sentiment(&doc, r.clone());
        println!("sentence {:.3}  {}", s.score, &text[r.clone()]);
    }
}
