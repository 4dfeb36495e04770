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
use crate::analyze::lang::Lang;
use crate::analyze::model::{self, Features};
use crate::analyze::sentiment;
use crate::analyze::text::{Analyzed, Token, TokenKind};
use crate::doc::{Expectation, ExpectationKind, Reason, Sentiment};

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

/// The cues found in a text (after negations, vetoes and overlaps) and what the rules alone
/// make of them.
pub struct Cues {
    /// `(kind, weight, pattern index, byte span)` of each cue kept.
    pub found: Vec<(ExpectationKind, f32, usize, Range<usize>)>,
    /// The expectations the rules alone see.
    pub ruled: Vec<Expectation>,
}

/// The unmet expectations in `doc`, in text order. The trained model decides complaints and
/// wishes from the words, the cues and what the rules make of them; requests ("still
/// waiting", "please call me back") are the cues' (no labelled corpus of them exists to learn
/// from). Each expectation cites the spans that weighed most (`because`).
pub fn find_expectations(doc: &Analyzed<'_>) -> Vec<Expectation> {
    find_expectations_in(doc, &sentiment::score_sentiment(doc, 0..doc.text.len()))
}

/// [`find_expectations`] for a text whose sentiment is already known.
pub fn find_expectations_in(doc: &Analyzed<'_>, tone: &Sentiment) -> Vec<Expectation> {
    if doc.tokens.is_empty() {
        return Vec::new();
    }
    let cues = find_cues(doc);
    let f = features(doc, &cues, tone);
    let m = &model::models().expectation;
    let logits = m.logits(&f);
    let mut out = Vec::new();
    for (head, kind) in HEADS.iter().enumerate() {
        let p = model::sigmoid(logits[head]);
        let threshold = m.params.get(head).copied().unwrap_or(0.5);
        // no French corpus of wishes exists to learn from: in French, the wish cues' verdict
        // stands (the model learnt English suggestions)
        let french_wish = *kind == ExpectationKind::Wish
            && doc.lang == Lang::Fr
            && cues.ruled.iter().any(|e| e.kind == ExpectationKind::Wish);
        if p < threshold && !french_wish {
            continue;
        }
        let mut direction = vec![0.0; m.outputs];
        direction[head] = 1.0;
        let because: Vec<Reason> = m
            .contributions(&f, &direction)
            .into_iter()
            .filter(|(_, c)| *c > 0.0)
            .take(sentiment::BECAUSE)
            .map(|(r, c)| reason(doc, r, c))
            .collect();
        let before = out.len();
        out.extend(
            cues.ruled
                .iter()
                .filter(|e| e.kind == *kind)
                .cloned()
                .map(|mut e| {
                    e.because = because.clone();
                    e
                }),
        );
        if out.len() == before {
            if let Some(top) = because.first() {
                out.push(Expectation {
                    kind: *kind,
                    cue: top.text.clone(),
                    start: top.start,
                    end: top.end,
                    because,
                });
            }
        }
    }
    out.extend(
        cues.ruled
            .iter()
            .filter(|e| e.kind == ExpectationKind::Request)
            .cloned()
            .map(|mut e| {
                e.because = vec![Reason {
                    text: e.cue.clone(),
                    start: e.start,
                    end: e.end,
                    weight: 1.0,
                }];
                e
            }),
    );
    out.sort_by_key(|e| (e.start, e.end));
    out
}

/// What the outputs of the expectation model are, in order. Its parameters are one threshold
/// on the probability of each.
pub const HEADS: [ExpectationKind; 2] = [ExpectationKind::Complaint, ExpectationKind::Wish];

fn reason(doc: &Analyzed<'_>, r: Range<usize>, c: f32) -> Reason {
    Reason {
        text: doc.text[r.clone()].to_string(),
        start: r.start,
        end: r.end,
        weight: (f64::from(c) * 1000.0).round() / 1000.0,
    }
}

/// The value of each character n-gram feature.
const CHARS: f32 = 0.0;

/// The features the expectation model reads: words and word pairs (negation-scoped), each cue
/// by kind and strength and by pattern, what the rules concluded, the lexicon's and the sentiment model's tone, whether
/// the text speaks to an account or asks a question, and its length. The training program
/// calls this very function.
pub fn features(doc: &Analyzed<'_>, cues: &Cues, tone: &Sentiment) -> Features {
    let mut f = Features::with_capacity(doc.tokens.len() * 2 + 32);
    let all = 0..doc.text.len();
    model::word_features(
        doc,
        &all,
        &[],
        model::WordOptions {
            chars: CHARS,
            pairs: true,
        },
        &mut f,
    );
    for (kind, weight, pattern, span) in &cues.found {
        let strength = if *weight >= ENOUGH { "strong" } else { "weak" };
        let name = format!("cue:{}:{strength}", kind.as_str());
        f.push(model::hash_str(&name, model::NAMED), 1.0, span.clone());
        f.push(
            model::hash_str(&format!("cuepattern:{pattern}"), model::NAMED),
            1.0,
            span.clone(),
        );
    }
    for e in &cues.ruled {
        let name = format!("rule:{}", e.kind.as_str());
        f.push(model::hash_str(&name, model::NAMED), 1.0, e.start..e.end);
    }
    let s = sentiment::lexicon_score(doc, all.clone()) as f32;
    f.named("lex", s * 2.0);
    f.named(&format!("lexbin{}", ((s + 1.0) * 5.0).floor() as i32), 1.0);
    f.named("tone", tone.score as f32 * 2.0);
    f.named(&format!("tone:{}", tone.label.as_str()), 1.0);
    if addressed(&doc.tokens) {
        f.named("addressed", 1.0);
        f.named(&format!("addressed:{}", tone.label.as_str()), 1.0);
    }
    if doc.text.contains('?') {
        f.named("question", 1.0);
    }
    f.named(
        &format!(
            "len{}",
            (doc.tokens.len() as f32 + 1.0).log2().floor() as i32
        ),
        1.0,
    );
    f
}

/// The cues of `doc` and what the rules alone make of them.
pub fn find_cues(doc: &Analyzed<'_>) -> Cues {
    let tokens = &doc.tokens;
    if tokens.is_empty() {
        return Cues {
            found: Vec::new(),
            ruled: Vec::new(),
        };
    }
    let patterns = &*PATTERNS;
    let sentences = sentence_ranges(doc);
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
    // cues strong enough on their own first ("please call me back" is not lost inside a
    // weaker "can someone … call" that starts earlier), then longest first at each start;
    // drop what overlaps a stronger or longer cue kept
    found.sort_by(|(a, x), (b, y)| {
        (y.weight >= ENOUGH)
            .cmp(&(x.weight >= ENOUGH))
            .then(a.start.cmp(&b.start))
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
    kept.sort_by_key(|(m, _)| (m.start, m.end));
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
                && sentiment::lexicon_score(doc, 0..doc.text.len()) <= ADDRESSED_COMPLAINT
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
            let mut score =
                || *score.get_or_insert_with(|| sentiment::lexicon_score(doc, range.clone()));
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
    Cues {
        found: kept
            .iter()
            .map(|(m, c)| (c.kind, c.weight, m.pattern, span(m)))
            .collect(),
        ruled: out,
    }
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

/// For each token, the token range of its sentence.
fn sentence_ranges(doc: &Analyzed<'_>) -> Vec<Range<usize>> {
    let mut ranges = vec![0..doc.tokens.len(); doc.tokens.len()];
    for s in &doc.sentences {
        let r = doc.tokens_in(s);
        for e in &mut ranges[r.clone()] {
            *e = r.clone();
        }
    }
    ranges
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

    /// What the cues and rules alone see (the model reads it, and keeps their requests).
    fn find_in(text: &str, lang: Lang) -> Vec<(ExpectationKind, String)> {
        let doc = Analyzed::new(text, lang);
        let found = find_cues(&doc).ruled;
        for e in &found {
            assert_eq!(&text[e.start..e.end], e.cue, "offsets point at the cue");
        }
        found.into_iter().map(|e| (e.kind, e.cue)).collect()
    }

    fn kinds(text: &str) -> Vec<ExpectationKind> {
        find(text).into_iter().map(|(k, _)| k).collect()
    }

    use ExpectationKind::{Complaint, Request, Wish};

    /// What the trained model and the request cues find.
    fn model(text: &str) -> Vec<ExpectationKind> {
        let (doc, _) = Analyzed::detect(text, None);
        let found = find_expectations(&doc);
        for e in &found {
            assert_eq!(&text[e.start..e.end], e.cue, "offsets point at the cue");
            assert!(!e.because.is_empty(), "{e:?}");
            for r in &e.because {
                assert_eq!(&text[r.start..r.end], r.text);
            }
        }
        found.into_iter().map(|e| e.kind).collect()
    }

    #[test]
    fn the_trained_model_reads_customer_posts() {
        assert!(model("Can someone from @Orange please call me back").contains(&Request));
        assert!(model("j'ai besoin qu'on me rappelle svp").contains(&Request));
        assert!(model("ça fait 3 jours que j'attends une réponse").contains(&Request));
        let none = model("Je n'ai jamais eu de souci avec Bouygues Telecom");
        assert!(
            !none.contains(&Request) && !none.contains(&Complaint),
            "{none:?}"
        );
        assert!(!model("Merci @Orange_conseil, problème réglé").contains(&Complaint));
        assert!(
            model("@Acme my router is not working again, third time this week")
                .contains(&Complaint)
        );
        assert!(model("It would be great if the app had a dark mode").contains(&Wish));
        assert!(model("The train leaves at noon.").is_empty());
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
    fn plain_texts_have_no_expectation() {
        assert!(kinds("The train leaves at noon.").is_empty());
        assert!(kinds("Merci pour votre aide, tout est réglé !").is_empty());
        assert!(kinds("").is_empty());
    }
}
