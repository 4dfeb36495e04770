//! Short customer posts, as a new user types them: their language, their sentiment, their
//! requests and complaints, their brands, and why each judgement was made. The watch is the
//! repository's own `pipelines/telecoms.toml`.

use std::path::Path;

use vigie::analyze::Analyzer;
use vigie::config::parse_watch;
use vigie::doc::{Analysis, ExpectationKind, Label};

fn analyzer() -> Analyzer {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines/telecoms.toml");
    let src = std::fs::read_to_string(&path).expect("the shipped watch");
    let (watch, errs) = parse_watch(&path, &src, None);
    assert!(errs.is_empty(), "{errs:?}");
    Analyzer::for_watches(&[watch.expect("a watch")]).explaining()
}

fn analyze(a: &Analyzer, text: &str) -> Analysis {
    a.analyze(text, None).0
}

fn kinds(an: &Analysis) -> Vec<ExpectationKind> {
    an.expectations.iter().map(|e| e.kind).collect()
}

/// The analysis of `text`, which must hold an expectation of `kind`.
fn analyze_expecting(a: &Analyzer, text: &str, kind: ExpectationKind) -> Analysis {
    let an = analyze(a, text);
    assert!(
        kinds(&an).contains(&kind),
        "{text:?}: {:?}",
        an.expectations
    );
    an
}

#[test]
fn a_few_french_words_are_french() {
    let a = analyzer();
    for text in [
        "SFR en panne",
        "Livebox HS",
        "Sosh trop cher",
        "#FreeEnPanne encore une fois, merci @free",
        "j'ai besoin qu'on me rappelle svp",
    ] {
        assert_eq!(analyze(&a, text).lang.code(), "fr", "{text:?}");
    }
    for text in [
        "Can someone from @Orange please call me back",
        "@SFR_SAV #fail #outage https://t.co/x1y2 down again since 8am",
    ] {
        assert_eq!(analyze(&a, text).lang.code(), "en", "{text:?}");
    }
}

#[test]
fn outages_prices_and_hidden_fees_are_negative() {
    let a = analyzer();
    for text in [
        "SFR en panne",
        "Livebox HS",
        "Sosh trop cher",
        "encore des frais cachés Ondine, j'ai écrit au service client",
        "Ondine hidden fees on transfers abroad, nothing in the app explained them.",
    ] {
        let an = analyze(&a, text);
        assert_eq!(an.sentiment.label, Label::Negative, "{text:?}: {an:?}");
        assert!(an.sentiment.score < 0.0, "{text:?}");
        assert!(!an.because.is_empty(), "{text:?} says why");
    }
}

#[test]
fn sarcasm_does_not_read_as_praise() {
    let a = analyzer();
    for text in [
        "génial, encore en panne",
        "Great flight, thanks @united #not",
        "#FreeEnPanne encore une fois, merci @free",
    ] {
        let an = analyze(&a, text);
        assert_eq!(an.sentiment.label, Label::Negative, "{text:?}: {an:?}");
        // the reason given is the complaint or the marker, not the praise
        let reason = &an.because[0];
        assert!(
            ["en panne", "#not", "EnPanne"].contains(&reason.text.as_str()),
            "{text:?}: {:?}",
            an.because
        );
    }
}

#[test]
fn praise_and_thanks_stay_positive() {
    let a = analyzer();
    for text in [
        "Thanks @delta, the issue is fixed, great service!",
        "Très satisfait de la fibre Orange, la connexion est excellente.",
        // the problem someone got in touch for is the occasion, not the judgement
        "Service client Ondine réactif pour un souci de carte bloquée",
        "Merci à la conseillère Orange qui a réglé mon problème en 5 minutes, au top !",
    ] {
        let an = analyze(&a, text);
        assert_eq!(an.sentiment.label, Label::Positive, "{text:?}: {an:?}");
        assert!(kinds(&an).is_empty(), "{text:?}: {:?}", an.expectations);
    }
}

#[test]
fn call_back_requests_are_requests_and_solved_problems_are_not_complaints() {
    let a = analyzer();
    for text in [
        "Can someone from @Orange please call me back",
        "Toujours pas remboursé après ma résiliation chez SFR, j'ai envoyé 3 mails",
        "j'ai besoin qu'on me rappelle svp",
        "ça fait 3 jours que j'attends une réponse",
    ] {
        let an = analyze_expecting(&a, text, ExpectationKind::Request);
        for e in &an.expectations {
            assert!(!e.because.is_empty(), "{text:?}: {e:?} says why");
            for r in &e.because {
                assert_eq!(&text[r.start..r.end], r.text, "{text:?}");
            }
        }
    }
    for text in [
        "Je n'ai jamais eu de souci avec Bouygues Telecom",
        "Merci @Orange_conseil, problème réglé",
    ] {
        let an = analyze(&a, text);
        assert!(kinds(&an).is_empty(), "{text:?}: {:?}", an.expectations);
    }
}

#[test]
fn brands_in_any_case_and_inside_hashtags() {
    let a = analyzer();
    for (text, brand) in [
        ("ma livebox redémarre toute seule", "orange"),
        ("MA LIVEBOX REDÉMARRE TOUTE SEULE", "orange"),
        ("#Sosh trop cher pour ce que c'est", "orange"),
        ("#FreeEnPanne encore une fois, merci @free", "free"),
    ] {
        let an = analyze(&a, text);
        assert!(
            an.brands().contains(&brand.to_string()),
            "{text:?}: {:?}",
            an.mentions
        );
    }
}

#[test]
fn explanations_point_into_the_text() {
    let a = analyzer();
    for text in [
        "Le réseau SFR est vraiment nul ce soir",
        "Love the new Freebox, setup took five minutes",
        "Toujours pas de réponse de Bouygues Telecom après 3 relances",
    ] {
        let an = analyze(&a, text);
        assert!(!an.because.is_empty(), "{text:?}");
        for r in &an.because {
            assert_eq!(&text[r.start..r.end], r.text, "{text:?}");
        }
    }
}

#[test]
fn the_words_the_lexicon_scored_are_reasons() {
    let a = analyzer();
    for (text, reason) in [
        ("Livebox HS", "HS"),
        ("Sosh trop cher", "trop cher"),
        ("ma box est hors service depuis hier", "hors service"),
        (
            "Service client Ondine réactif pour un souci de carte bloquée",
            "réactif",
        ),
        (
            "Très satisfait de la fibre Orange, la connexion est excellente.",
            "excellente",
        ),
    ] {
        let an = analyze(&a, text);
        assert_eq!(
            an.because.first().map(|r| r.text.as_str()),
            Some(reason),
            "{text:?}: {:?}",
            an.because
        );
        for r in &an.because {
            assert_eq!(&text[r.start..r.end], r.text, "{text:?}");
            // the problem someone got in touch for is no reason for their praise
            assert!(!r.text.contains("souci"), "{text:?}: {:?}", an.because);
        }
    }
}

#[test]
fn outages_refunds_and_threats_to_leave_are_complaints() {
    let a = analyzer();
    for text in [
        "Livebox HS",
        "ma box est hors service depuis hier",
        "Mon téléphone SFR ne capte plus rien depuis la mise à jour",
        "Réseau Bouygues inexistant dans mon village depuis des mois",
        "Bouygues a augmenté mon forfait de 3€ sans prévenir, je vais résilier",
        "@VirginMedia my broadband has been down since Monday, any update?",
        "Switching to EE next month, had enough of Vodafone",
    ] {
        analyze_expecting(&a, text, ExpectationKind::Complaint);
    }
}
