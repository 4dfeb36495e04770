//! What `vigie extract` reads in pages and feeds written for these tests
//! (`tests/fixtures/extract/`), the JSON contract of the command, and hostile inputs.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use serde_json::Value;
use vigie::extract::{dedup, extract_body, feed, page};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/extract")
        .join(name)
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).unwrap()
}

fn page_json(name: &str, url: &str) -> Value {
    extract_body(&read(name), Some(url)).unwrap()
}

// ---------------------------------------------------------------------------------------------
// pages

#[test]
fn french_article_keeps_the_story_and_drops_the_page_around_it() {
    let v = page_json("article-fr.html", "https://courrier.example/tech/x");
    assert_eq!(v["kind"], "page");
    assert_eq!(v["title"], "Panne géante de la fibre dans le Sud-Ouest");
    assert_eq!(v["published"], "2024-03-05T07:30:00+00:00");
    assert_eq!(v["author"], "Jeanne Martin");
    assert_eq!(v["lang"], "fr");
    assert_eq!(
        v["canonical"],
        "https://courrier.example/tech/2024/03/05/panne-fibre-sud-ouest"
    );
    let text = v["text"].as_str().unwrap();
    for kept in [
        "Des dizaines de milliers d'abonnés",  // the standfirst
        "La panne a commencé lundi matin",     // paragraphs
        "Un service client débordé",           // a heading
        "Trois communes privées de téléphone", // list items
        "toujours pas de réponse du service client. C'est inadmissible.", // the quote
        "redémarrer leur box",
    ] {
        assert!(text.contains(kept), "{kept:?} missing from {text}");
    }
    for noise in [
        "cookies",           // cookie banner
        "Économie",          // menu
        "Accueil",           // breadcrumb
        "Publicité",         // ad slot
        "La tranchée",       // caption
        "Partager",          // sharing
        "Mots-clés",         // tags
        "prix des forfaits", // related articles
        "Chez moi aussi",    // comments
        "Les plus lus",      // sidebar
        "Tous droits",       // footer
        "Jeanne Martin",     // byline
    ] {
        assert!(!text.contains(noise), "{noise:?} in {text}");
    }
    // reading order, blank lines between paragraphs
    let a = text.find("La panne a commencé").unwrap();
    let b = text.find("Un service client débordé").unwrap();
    let c = text.find("redémarrer leur box").unwrap();
    assert!(a < b && b < c);
    assert!(text.contains("\n\nUn service client débordé\n\n"));
}

#[test]
fn english_article_with_json_ld_and_a_data_table() {
    let v = page_json("article-en.html", "https://wire.example/news/outage");
    assert_eq!(
        v["title"],
        "Broadband provider apologises after week-long outage"
    );
    assert_eq!(v["published"], "2024-02-12T17:45:00+00:00");
    assert_eq!(v["author"], "Sam Okoro");
    assert_eq!(v["lang"], "en");
    assert_eq!(v["canonical"], Value::Null);
    let text = v["text"].as_str().unwrap();
    assert!(
        text.starts_with("A broadband provider has apologised"),
        "{text}"
    );
    assert!(text.contains("I am still waiting for the engineer"));
    assert!(text.contains("Leeds | 4,120"), "{text}");
    assert!(text.ends_with("in contact with the provider."), "{text}");
    for noise in [
        "Skip to content",
        "Subscribe for £1",
        "Read more:",
        "morning briefing",
        "52 comments",
        "Trending",
        "external linking",
    ] {
        assert!(!text.contains(noise), "{noise:?} in {text}");
    }
}

#[test]
fn legacy_encodings_are_decoded() {
    let v = page_json("cp1252.html", "https://e.example/");
    assert_eq!(v["title"], "Café et crème");
    let text = v["text"].as_str().unwrap();
    assert!(text.contains("Le café crème coûte désormais"), "{text}");
    assert!(text.contains("prix de l’énergie"), "{text}");
    assert_eq!(v["lang"], "fr");
}

#[test]
fn syndicated_copy_in_another_template_is_a_near_duplicate() {
    let original = page::extract_page(
        &String::from_utf8(read("article-fr.html")).unwrap(),
        Some("https://courrier.example/x"),
    );
    let copy = page::extract_page(
        &String::from_utf8(read("article-fr-repris.html")).unwrap(),
        Some("https://agregateur.example/y"),
    );
    let a = dedup::fingerprint_text(&original.text).unwrap();
    let b = dedup::fingerprint_text(&copy.text).unwrap();
    assert!(a.is_near_duplicate(&b), "similarity {}", a.similarity(&b));
    // and the other article of the site is not
    let other = page::extract_page(&String::from_utf8(read("article-en.html")).unwrap(), None);
    let c = dedup::fingerprint_text(&other.text).unwrap();
    assert!(!a.is_near_duplicate(&c));
}

// ---------------------------------------------------------------------------------------------
// feeds

#[test]
fn rss_items_are_plain_text_with_absolute_links_and_utc_dates() {
    let f = feed::parse_feed(
        &read("rss-fr.xml"),
        Some("https://courrier.example/tech/feed/"),
    )
    .unwrap();
    assert_eq!(f.title, "Le Courrier du Net – Tech");
    assert_eq!(f.lang.as_deref(), Some("fr"));
    assert_eq!(f.items.len(), 2);
    let a = &f.items[0];
    assert_eq!(a.title, "Panne géante de la fibre : l’opérateur s’excuse");
    assert_eq!(
        a.url.as_deref(),
        Some("https://courrier.example/tech/2024/03/05/panne-fibre-sud-ouest?utm_source=rss")
    );
    assert_eq!(
        a.text,
        "La panne a commencé lundi matin. Le service client est débordé : « toujours pas de réponse »."
    );
    assert_eq!(a.author.as_deref(), Some("Jeanne Martin"));
    assert_eq!(
        a.published.unwrap().to_rfc3339(),
        "2024-03-05T07:30:00+00:00"
    );
    let b = &f.items[1];
    assert_eq!(b.title, "Forfaits mobiles & hausse des prix");
    assert_eq!(b.text, "Les forfaits augmentent de 2 € par mois.");
    assert_eq!(b.author.as_deref(), Some("La rédaction"));
}

#[test]
fn atom_text_constructs_follow_their_type() {
    let f = feed::parse_feed(&read("atom.xml"), None).unwrap();
    assert_eq!(f.title, "Support & Status");
    assert_eq!(f.lang.as_deref(), Some("en"));
    let a = &f.items[0];
    assert_eq!(a.title, "Outage resolved");
    assert_eq!(
        a.url.as_deref(),
        Some("https://blog.example/posts/outage-resolved")
    );
    assert_eq!(a.text, "The fix is rolled out. Accounts will be credited.");
    assert_eq!(
        a.published.unwrap().to_rfc3339(),
        "2024-02-12T16:45:00+00:00"
    );
    let b = &f.items[1];
    // type="text": markup-looking text is text
    assert_eq!(b.title, "Plain <text> title");
    assert_eq!(
        b.url.as_deref(),
        Some("https://other.example/notes/maintenance")
    );
}

#[test]
fn ill_formed_feed_yields_what_it_holds() {
    let f = feed::parse_feed(&read("broken.xml"), None).unwrap();
    assert_eq!(f.title, "Flux cassé & mal formé");
    assert_eq!(f.items.len(), 2);
    assert_eq!(f.items[0].url.as_deref(), Some("https://casse.example/1"));
    assert!(f.items[0].text.contains("balises non échappées"));
    assert_eq!(f.items[1].title, "Second article");
    assert_eq!(f.items[1].url.as_deref(), Some("https://casse.example/2"));
    assert_eq!(
        f.items[1].published.unwrap().to_rfc3339(),
        "2024-03-02T09:00:00+00:00"
    );
    let latin1 = feed::parse_feed(&read("latin1.xml"), None).unwrap();
    assert_eq!(latin1.items[0].title, "Crème brûlée");
}

// ---------------------------------------------------------------------------------------------
// the command

fn vigie_extract(args: &[&str], stdin: &[u8]) -> (i32, Value, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .arg("extract")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut i = child.stdin.take().unwrap();
        let _ = i.write_all(stdin);
    }
    let out = child.wait_with_output().unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (
        out.status.code().unwrap_or(-1),
        json,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn keys(v: &Value) -> Vec<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

#[test]
fn command_prints_the_documented_json() {
    let path = fixture("article-fr.html");
    let (code, v, _) = vigie_extract(
        &[
            path.to_str().unwrap(),
            "--url",
            "https://courrier.example/x",
        ],
        b"",
    );
    assert_eq!(code, 0);
    assert_eq!(
        keys(&v),
        [
            "kind",
            "title",
            "text",
            "published",
            "author",
            "lang",
            "canonical"
        ]
    );
    let (code, v, _) = vigie_extract(&["-"], &read("rss-fr.xml"));
    assert_eq!(code, 0);
    assert_eq!(keys(&v), ["kind", "title", "items"]);
    assert_eq!(
        keys(&v["items"][0]),
        ["url", "title", "text", "published", "author"]
    );
}

#[test]
fn command_refuses_what_is_neither_page_nor_feed() {
    for body in [
        &b"just some words, no markup at all"[..],
        b"",
        b"\x00\x01\x02\x03\xff\xfe binary",
        b"<opml version=\"2.0\"><body/></opml>",
    ] {
        let (code, v, err) = vigie_extract(&["-"], body);
        assert_eq!(code, 1, "{body:?}");
        assert_eq!(v, Value::Null);
        assert!(err.contains("error:"), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

// ---------------------------------------------------------------------------------------------
// hostile inputs: no panic, bounded time

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let t = Instant::now();
    let r = f();
    (r, t.elapsed())
}

#[test]
fn deep_nesting_random_bytes_and_entity_bombs_are_harmless() {
    let bomb = br#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"><!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;"><!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">]><rss><channel><title>&g;</title></channel></rss>"#;
    let (r, t) = timed(|| extract_body(bomb, None));
    let v = r.unwrap();
    assert!(v["title"].as_str().unwrap().len() < 10);
    assert!(t < Duration::from_secs(2));

    let deep = "<div>".repeat(200_000);
    let (r, t) = timed(|| extract_body(deep.as_bytes(), None));
    assert!(r.is_ok());
    assert!(t < Duration::from_secs(10), "{t:?}");

    let deep_xml = format!("<rss><channel>{}", "<item><title>x".repeat(100_000));
    let (r, t) = timed(|| feed::parse_feed(deep_xml.as_bytes(), None));
    assert!(r.unwrap().items.len() > 1000);
    assert!(t < Duration::from_secs(10), "{t:?}");

    let nested_inline = "<b><i><span><a href=x>".repeat(50_000) + "texte";
    let (_, t) = timed(|| page::extract_page(&nested_inline, None));
    assert!(t < Duration::from_secs(10), "{t:?}");

    let many_tables = "<table><tr><td>".repeat(20_000) + "cell";
    let (_, t) = timed(|| page::extract_page(&many_tables, None));
    assert!(t < Duration::from_secs(10), "{t:?}");

    use rand::{RngCore, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut noise = vec![0u8; 1 << 20];
    rng.fill_bytes(&mut noise);
    let (r, t) = timed(|| extract_body(&noise, None));
    assert!(r.is_err());
    assert!(t < Duration::from_secs(5), "{t:?}");
    // random bytes behind a feed or page opening
    for prefix in [&b"<rss><channel><item><title>"[..], b"<html><body><p>"] {
        let mut body = prefix.to_vec();
        body.extend_from_slice(&noise[..200_000]);
        let (_, t) = timed(|| extract_body(&body, None));
        assert!(t < Duration::from_secs(5), "{t:?}");
    }
}

fn markup() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("<div>".to_string()),
        Just("</div>".to_string()),
        Just("<p>".to_string()),
        Just("<table><tr><td>".to_string()),
        Just("<script>".to_string()),
        Just("<!--".to_string()),
        Just("]]>".to_string()),
        Just("<![CDATA[".to_string()),
        Just("&amp;".to_string()),
        Just("&#x".to_string()),
        Just("<item><title>".to_string()),
        Just("<feed xmlns='http://www.w3.org/2005/Atom'>".to_string()),
        Just("<rss>".to_string()),
        Just("<a href='/x'>".to_string()),
        "[a-zéà ,.]{0,40}",
        any::<char>().prop_map(|c| c.to_string()),
    ];
    prop::collection::vec(piece, 0..60).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..4096)) {
        let _ = extract_body(&body, Some("https://e.example/"));
        let _ = feed::parse_feed(&body, None);
    }

    #[test]
    fn any_markup_never_panics(s in markup()) {
        let _ = extract_body(s.as_bytes(), Some("https://e.example/a/"));
        let _ = feed::parse_feed(s.as_bytes(), Some("https://e.example/feed"));
        let _ = page::extract_page(&s, None);
        let _ = vigie::extract::html_to_text(&s);
    }
}
