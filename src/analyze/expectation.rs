//! Unmet expectations: complaints, requests still waiting, wishes — each with its cue.
//!
//! Cues are token patterns (see [`crate::analyze::cue`]) listed with a kind and a weight in
//! `lexicon/expectation_cues.tsv`, in English and French: "still waiting", "toujours pas de
//! réponse", "personne ne … répond", "it would be great if", "ce serait bien que", "not
//! working", "en panne", "charged twice"…
//!
//! - A cue of weight 1 is enough on its own; each one found becomes an expectation.
//! - Weaker cues ("issue", "again", "why …", "3 days") add up. For a complaint, the negative
//!   sentiment of the text adds to them: a complaint is a breach of expectation, so negative
//!   words alone do not make one, but "why is my order late again?" does.
//! - A text addressed to an account (`@handle`) and strongly negative is a complaint even
//!   without a listed cue; its cue is then its most negative words ("worst service ever").
//! - Complaint cues right after a negation do not count ("no problem", "never had an issue"),
//!   and in clear praise ("amazing crew, thanks!") complaint and request cues count half.
//! - A short text (a post, a message) is judged as a whole; in a long one (an article, a
//!   review), cues are judged with the sentences around them and far-apart cues never add up.
//!
//! Requests ("asked and still waiting") are listed apart from complaints: a text can hold both
//! ("still waiting for my refund": a request, and a refund not made).

use std::ops::Range;
use std::sync::LazyLock;

use crate::analyze::cue::{Match, Patterns};
use crate::analyze::mention::camel_parts;
use crate::analyze::sentiment;
use crate::analyze::text::{fold, Analyzed, Token, TokenKind};
use crate::doc::{Expectation, ExpectationKind};

const CUES: &str = include_str!("lexicon/expectation_cues.tsv");

/// The weight of a veto (`not-wish` in the cue list): it removes the cues of its kind it
/// overlaps and is never one itself.
const VETO: f32 = f32::NEG_INFINITY;
/// Evidence a kind needs.
const ENOUGH: f32 = 1.0;
/// Evidence a negative text adds to complaint cues, at and below these scores.
const NEGATIVE: (f64, f32) = (-0.2, 0.25);
const VERY_NEGATIVE: (f64, f32) = (-0.5, 0.5);
/// Evidence a text addressed to an account (`@brand …`) adds when it is at least this negative.
const ADDRESSED_NEGATIVE: (f64, f32) = (-0.05, 0.25);
/// Evidence a question to an account adds ("@brand why is my order late?").
const ADDRESSED_QUESTION: f32 = 0.25;
/// A text addressed to an account and at least this negative is a complaint on its own.
const ADDRESSED_COMPLAINT: f64 = -0.45;
/// Up to this many sentences a text is short: judged as a whole (a post, a message).
const SHORT_TEXT_SENTENCES: usize = 4;
/// A text at least this positive is praise: its complaint and request cues count half.
const PRAISE: f64 = 0.6;
/// How many tokens before a complaint cue a negation cancels it.
const NEGATION_REACH: usize = 2;

#[derive(Debug, Clone, Copy, PartialEq)]
struct Cue {
    kind: ExpectationKind,
    weight: f32,
}

static PATTERNS: LazyLock<Patterns<Cue>> = LazyLock::new(|| {
    let rows = CUES
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut f = l.split('\t');
            // `not-wish`: what this pattern matches is no wish, whatever else matches there
            let (veto, kind) = match f.next() {
                Some(k) => match k.strip_prefix("not-") {
                    Some(k) => (true, ExpectationKind::parse(k)),
                    None => (false, ExpectationKind::parse(k)),
                },
                None => (false, None),
            };
            let weight = f
                .next()
                .and_then(|w| w.trim().parse::<f32>().ok())
                .map(|w| if veto { VETO } else { w });
            let pattern = f.next().unwrap_or("").trim();
            match (kind, weight) {
                (Some(kind), Some(weight)) => (pattern, Cue { kind, weight }),
                _ => panic!("bad line in expectation_cues.tsv: {l:?}"),
            }
        });
    Patterns::new(rows).expect("the shipped cues parse")
});

/// Words that cancel a complaint cue right after them.
const NEGATIONS: &[&str] = &[
    "no", "not", "never", "without", "zero", "any", "pas", "jamais", "sans", "aucun", "aucune",
    "don't", "didn't", "doesn't", "haven't", "hasn't", "wasn't", "isn't", "aren't", "dont",
    "didnt", "doesnt", "havent", "hasnt", "wasnt", "isnt", "arent",
];

/// The unmet expectations the cues find in `doc`, in text order.
pub fn find_expectations(doc: &Analyzed<'_>) -> Vec<Expectation> {
    find_with_evidence(doc).0
}

/// [`find_expectations`], and the evidence of the cues kept for each kind (request, complaint,
/// wish), which the trained model reads.
pub fn find_with_evidence(doc: &Analyzed<'_>) -> (Vec<Expectation>, [f32; 3]) {
    let expanded = with_hashtag_words(&doc.tokens, doc.text);
    let tokens: &[Token] = expanded.as_deref().unwrap_or(&doc.tokens);
    let mut evidence_of = [0f32; 3];
    if tokens.is_empty() {
        return (Vec::new(), evidence_of);
    }
    let patterns = &*PATTERNS;
    let sentences = sentence_ranges(doc, tokens);
    let mut found: Vec<(Match, Cue)> = patterns
        .find_all(tokens, |i| sentences[i].clone())
        .into_iter()
        .map(|m| (m, patterns.get(m.pattern).tag))
        .filter(|(m, cue)| cue.kind != ExpectationKind::Complaint || !negated(tokens, m.start))
        .collect();
    let vetoes: Vec<(Match, Cue)> = found
        .iter()
        .filter(|(_, c)| c.weight == VETO)
        .copied()
        .collect();
    found.retain(|(m, c)| {
        c.weight != VETO
            && !vetoes
                .iter()
                .any(|(v, vc)| vc.kind == c.kind && v.start < m.end && m.start < v.end)
    });
    // longest first at each start, then drop what overlaps a stronger or longer cue kept
    found.sort_by(|(a, x), (b, y)| {
        a.start
            .cmp(&b.start)
            .then((b.end - b.start).cmp(&(a.end - a.start)))
            .then(y.weight.total_cmp(&x.weight))
    });
    let mut kept: Vec<(Match, Cue)> = Vec::new();
    for (m, cue) in found {
        let clash = kept.iter().any(|(k, c)| {
            k.start < m.end
                && m.start < k.end
                && (c.kind == cue.kind || c.weight >= ENOUGH || cue.weight < ENOUGH)
        });
        if !clash {
            kept.push((m, cue));
        }
    }
    for (_, c) in &kept {
        let slot = match c.kind {
            ExpectationKind::Request => 0,
            ExpectationKind::Complaint => 1,
            ExpectationKind::Wish => 2,
        };
        evidence_of[slot] += c.weight.max(0.0);
    }
    let span = |m: &Match| tokens[m.start].start..tokens[m.end - 1].end;
    // A short text is judged as a whole; in a long one, cues are judged with the sentences
    // around them, and cues far apart do not add up.
    let short = doc.sentences.len() <= SHORT_TEXT_SENTENCES;
    let sentence_of = |m: &Match| doc.sentence_of(tokens[m.start].start).unwrap_or(0);
    let around = |first: usize, last: usize| -> Range<usize> {
        if short {
            return 0..doc.text.len();
        }
        let a = doc.sentences[first.saturating_sub(1)].start;
        let b = doc.sentences[(last + 1).min(doc.sentences.len() - 1)].end;
        a..b
    };
    let mut out = Vec::new();
    for kind in [
        ExpectationKind::Request,
        ExpectationKind::Complaint,
        ExpectationKind::Wish,
    ] {
        let of_kind: Vec<&(Match, Cue)> = kept.iter().filter(|(_, c)| c.kind == kind).collect();
        if of_kind.is_empty() {
            // a short text to an account, angry enough, complains without a listed cue
            if kind == ExpectationKind::Complaint
                && short
                && addressed(tokens)
                && sentiment::score_sentiment(doc, 0..doc.text.len()).score <= ADDRESSED_COMPLAINT
            {
                if let Some(r) = most_negative(doc) {
                    out.push(expectation(doc, kind, r));
                }
            }
            continue;
        }
        // clusters of cues in neighbouring sentences (one cluster for a short text)
        let mut clusters: Vec<Vec<&(Match, Cue)>> = Vec::new();
        for mc in of_kind {
            match clusters.last_mut() {
                Some(c) if short || sentence_of(&mc.0) <= sentence_of(&c[c.len() - 1].0) + 1 => {
                    c.push(mc)
                }
                _ => clusters.push(vec![mc]),
            }
        }
        for cluster in clusters {
            let range = around(
                sentence_of(&cluster[0].0),
                sentence_of(&cluster[cluster.len() - 1].0),
            );
            let mut score = None;
            let mut score = || {
                *score.get_or_insert_with(|| sentiment::score_sentiment(doc, range.clone()).score)
            };
            // a text full of praise that mentions a delay is thanks, not a complaint
            let praise = kind != ExpectationKind::Wish && score() >= PRAISE;
            let strong: Vec<Range<usize>> = cluster
                .iter()
                .filter(|(_, c)| c.weight >= ENOUGH && !praise)
                .map(|(m, _)| span(m))
                .collect();
            if !strong.is_empty() {
                out.extend(strong.into_iter().map(|r| expectation(doc, kind, r)));
                continue;
            }
            let mut evidence: f32 = cluster
                .iter()
                .map(|(_, c)| if praise { c.weight / 2.0 } else { c.weight })
                .sum();
            if kind == ExpectationKind::Complaint {
                let s = score();
                evidence += if s <= VERY_NEGATIVE.0 {
                    VERY_NEGATIVE.1
                } else if s <= NEGATIVE.0 {
                    NEGATIVE.1
                } else {
                    0.0
                };
                if short && addressed(tokens) {
                    if s <= ADDRESSED_NEGATIVE.0 {
                        evidence += ADDRESSED_NEGATIVE.1;
                    }
                    if doc.text.contains('?') {
                        evidence += ADDRESSED_QUESTION;
                    }
                }
            }
            if evidence >= ENOUGH {
                out.extend(cluster.iter().map(|(m, _)| expectation(doc, kind, span(m))));
            }
        }
    }
    out.sort_by_key(|e| (e.start, e.end));
    (out, evidence_of)
}

fn expectation(doc: &Analyzed<'_>, kind: ExpectationKind, r: Range<usize>) -> Expectation {
    Expectation {
        kind,
        cue: doc.text[r.clone()].to_string(),
        start: r.start,
        end: r.end,
        because: Vec::new(),
    }
}

/// For each token of `tokens`, the token range of its sentence.
fn sentence_ranges(doc: &Analyzed<'_>, tokens: &[Token]) -> Vec<Range<usize>> {
    let mut ranges = vec![0..tokens.len(); tokens.len()];
    for s in &doc.sentences {
        let a = tokens.partition_point(|t| t.start < s.start);
        let b = tokens.partition_point(|t| t.start < s.end);
        for e in &mut ranges[a..b] {
            *e = a..b;
        }
    }
    ranges
}

/// The tokens with each camel-case hashtag read as its words (`#FreeEnPanne`: `free`, `en`,
/// `panne`), so that a cue written inside one counts; `None` when the text has no such hashtag.
fn with_hashtag_words(tokens: &[Token], text: &str) -> Option<Vec<Token>> {
    let parts = |t: &Token| camel_parts(&text[t.start + 1..t.end]);
    if !tokens
        .iter()
        .any(|t| t.kind == TokenKind::Hashtag && parts(t).len() > 1)
    {
        return None;
    }
    let mut out = Vec::with_capacity(tokens.len() + 4);
    for t in tokens {
        let p = if t.kind == TokenKind::Hashtag {
            parts(t)
        } else {
            Vec::new()
        };
        if p.len() < 2 {
            out.push(t.clone());
            continue;
        }
        for r in p {
            let (start, end) = (t.start + 1 + r.start, t.start + 1 + r.end);
            out.push(Token {
                start,
                end,
                folded: fold(text[start..end].trim_matches('_')),
                kind: TokenKind::Word,
            });
        }
    }
    Some(out)
}

/// A negation within [`NEGATION_REACH`] tokens before token `i`.
fn negated(tokens: &[Token], i: usize) -> bool {
    tokens[i.saturating_sub(NEGATION_REACH)..i]
        .iter()
        .any(|t| NEGATIONS.contains(&t.folded.as_str()))
}

/// The text speaks to an account: it holds a handle.
fn addressed(tokens: &[Token]) -> bool {
    tokens.iter().any(|t| t.kind == TokenKind::Handle)
}

/// The most negative word or expression of the text, by its contribution to the sentiment.
fn most_negative(doc: &Analyzed<'_>) -> Option<Range<usize>> {
    sentiment::explain_sentiment(doc, 0..doc.text.len())
        .into_iter()
        .filter(|(_, c)| *c < 0.0)
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(r, _)| r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::lang::Lang;

    fn find(text: &str) -> Vec<(ExpectationKind, String)> {
        let lang = if text.is_ascii() { Lang::En } else { Lang::Fr };
        find_in(text, lang)
    }

    fn find_in(text: &str, lang: Lang) -> Vec<(ExpectationKind, String)> {
        let doc = Analyzed::new(text, lang);
        let found = find_expectations(&doc);
        for e in &found {
            assert_eq!(&text[e.start..e.end], e.cue, "offsets point at the cue");
        }
        found.into_iter().map(|e| (e.kind, e.cue)).collect()
    }

    fn kinds(text: &str) -> Vec<ExpectationKind> {
        find(text).into_iter().map(|(k, _)| k).collect()
    }

    use ExpectationKind::{Complaint, Request, Wish};

    #[test]
    fn a_cue_inside_a_camel_case_hashtag_counts() {
        assert_eq!(
            find("#FreeEnPanne encore une fois, merci @free"),
            [(Complaint, "EnPanne".to_string())]
        );
        assert!(find("#MerciFree pour la fibre").is_empty());
    }

    #[test]
    fn every_shipped_cue_parses() {
        assert!(PATTERNS.len() > 100);
    }

    #[test]
    fn requests_still_waiting() {
        assert_eq!(
            find("@Acme still waiting for my refund"),
            [
                (Request, "still waiting".into()),
                (Complaint, "refund".into())
            ]
        );
        assert_eq!(
            find("Toujours pas de réponse de votre part."),
            [(Request, "Toujours pas de réponse".into())]
        );
        assert_eq!(
            find_in("Personne ne me répond au 3900", Lang::Fr),
            [(Request, "Personne ne me répond".into())]
        );
        assert_eq!(
            find("Je n'ai toujours pas été remboursé")[0],
            (Request, "n'ai toujours pas été remboursé".into())
        );
        assert!(kinds("@Acme no reply to my emails since Monday").contains(&Request));
    }

    #[test]
    fn complaints_are_breaches_not_mere_negativity() {
        assert_eq!(
            find("@Acme my router is not working again"),
            [(Complaint, "is not working".into())]
        );
        assert!(kinds("@Airline you charged me twice for the same seat").contains(&Complaint));
        assert!(kinds("Ma box est en panne depuis hier").contains(&Complaint));
        // sad news is negative but breaks no promise
        assert!(kinds("So sad to hear about the storm victims").is_empty());
        // a negated problem is no complaint
        assert!(kinds("No problem at all, thanks for the quick help").is_empty());
    }

    #[test]
    fn weak_cues_add_up_with_negative_sentiment() {
        // "issue" alone is not enough…
        assert!(kinds("There is an issue with the new font").is_empty());
        // …with "again" and an angry tone it is
        assert!(kinds("Same stupid issue again with my order, so annoying").contains(&Complaint));
    }

    #[test]
    fn addressed_and_very_negative_is_a_complaint() {
        let found = find("@ShopCo you people are the absolute worst, liars");
        assert!(found.iter().any(|(k, _)| *k == Complaint), "{found:?}");
        // the same anger at nobody in particular is not addressed to a brand
        assert!(find("life is the absolute worst, liars everywhere")
            .iter()
            .all(|(k, _)| *k == Complaint));
    }

    #[test]
    fn wishes_and_suggestions() {
        assert_eq!(
            find("It would be great if the app had a dark mode."),
            [(Wish, "It would be great".into())]
        );
        assert_eq!(
            find("Ce serait bien que l'appli ait un mode sombre"),
            [(Wish, "Ce serait bien".into())]
        );
        assert_eq!(
            find("J'aimerais pouvoir exporter en CSV"),
            [(Wish, "J'aimerais".into())]
        );
        assert!(kinds("Please add an option to export").contains(&Wish));
        assert!(kinds("You should allow users to pick a theme").contains(&Wish));
        assert!(kinds("Il manque une option pour exporter").contains(&Wish));
    }

    #[test]
    fn praise_that_mentions_a_delay_is_thanks() {
        assert!(
            kinds("@Acme your crew did an amazing job with our delayed flight, thank you!")
                .is_empty()
        );
        assert!(kinds("@Acme our flight was delayed again").contains(&Complaint));
    }

    #[test]
    fn long_texts_judge_cues_where_they_stand() {
        // two weak cues far apart in a long article do not make a complaint
        let text = "The company shipped a new phone this year. It has an issue tracker \
            for developers. Sales grew in Europe. Analysts expect more growth. The launch \
            event was in Paris. Reviews praised the screen. Buyers will get it again in \
            spring.";
        assert!(kinds(text).is_empty(), "{:?}", find(text));
        // in one sentence of the same article they do
        let text = "The company shipped a new phone this year. Sales grew in Europe. \
            Analysts expect more growth. The launch event was in Paris. My order has the \
            same stupid issue again, so annoying.";
        assert!(kinds(text).contains(&Complaint));
    }

    #[test]
    fn gaps_and_elisions_in_french_cues() {
        assert_eq!(
            find("Je n'ai jamais été remboursé")[0].0,
            Request,
            "ne … jamais remboursé"
        );
        assert_eq!(find("Ça fait 3 semaines que j'attends")[0].0, Request);
        assert!(kinds("Ma connexion ne fonctionne plus").contains(&Complaint));
    }

    #[test]
    fn vetoes_remove_what_looks_like_a_wish() {
        assert!(kinds("Please let me know when it ships.").is_empty());
        assert!(kinds("Please add a way to know when it ships.").contains(&Wish));
    }

    #[test]
    fn asking_to_be_called_back_is_a_request() {
        for t in [
            "Can someone from @Acme please call me back",
            "Please DM me, my line is dead",
            "j'ai besoin qu'on me rappelle svp",
            "Rappelez-moi au plus vite",
            "Je n'ai jamais eu de réponse",
        ] {
            assert!(kinds(t).contains(&Request), "{t}: {:?}", find(t));
        }
    }

    #[test]
    fn a_problem_never_had_or_solved_is_no_complaint() {
        for t in [
            "Je n'ai jamais eu de souci avec Acme",
            "Merci @Acme_conseil, problème réglé",
            "Merci, souci réglé en 10 minutes !",
            "Thanks, the issue is fixed",
        ] {
            assert!(kinds(t).is_empty(), "{t}: {:?}", find(t));
        }
        // still not solved is one
        assert!(
            kinds("Problème toujours pas réglé, trois jours sans internet").contains(&Complaint)
        );
    }

    #[test]
    fn plain_texts_have_no_expectation() {
        assert!(kinds("The train leaves at noon.").is_empty());
        assert!(kinds("Merci pour votre aide, tout est réglé !").is_empty());
        assert!(kinds("").is_empty());
    }
}
