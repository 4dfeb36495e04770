fn main() {
    let t = std::env::args().nth(1).unwrap();
    let (doc, det) = vigie::analyze::text::Analyzed::detect(&t, None);
    println!(
        "{:?} {:?}",
        det,
        doc.sentences
            .iter()
            .map(|r| &t[r.clone()])
            .collect::<Vec<_>>()
    );
    let r = doc.sentences[0].clone();
    println!(
        "{:?}",
        vigie::analyze::sentiment::score_sentiment(&doc, r.clone())
    );
    for (rr, v) in vigie::analyze::sentiment::explain_sentiment(&doc, r) {
        println!("  {:?} {}", &t[rr], v);
    }
    println!(
        "{:?}",
        vigie::analyze::langid::french_or_english(
            "Orange publishes its quarterly network coverage report."
        )
    );
}
