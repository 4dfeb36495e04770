//! Aspects of the customer experience a text speaks of (price, billing, network, customer
//! service, delivery, product, app, stores), each with the opinion the text gives of it.
//!
//! The words that name each aspect are a documented vocabulary (`aspects.txt`, French and
//! English). A text is cut into clauses (sentences, then at "mais", "but", "though", `;`), and an
//! aspect takes the sentiment of the clause that names it: "coupure réseau toute la matinée,
//! mais le conseiller a été top" is negative on the network and positive on customer service.
//! Naming what is missing ("plus de réseau", "no coverage") is a complaint about it.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::analyze::lang::Lang;
use crate::analyze::sentiment::score_sentiment;
use crate::analyze::text::{Analyzed, TokenKind};

/// One aspect of the customer experience.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aspect {
    Price,
    Billing,
    Network,
    CustomerService,
    Delivery,
    Product,
    App,
    Stores,
}

impl Aspect {
    pub const ALL: [Aspect; 8] = [
        Aspect::Price,
        Aspect::Billing,
        Aspect::Network,
        Aspect::CustomerService,
        Aspect::Delivery,
        Aspect::Product,
        Aspect::App,
        Aspect::Stores,
    ];

    /// The id used in JSON and the vocabulary file.
    pub fn as_str(self) -> &'static str {
        match self {
            Aspect::Price => "price",
            Aspect::Billing => "billing",
            Aspect::Network => "network",
            Aspect::CustomerService => "customer_service",
            Aspect::Delivery => "delivery",
            Aspect::Product => "product",
            Aspect::App => "app",
            Aspect::Stores => "stores",
        }
    }

    pub fn parse(s: &str) -> Option<Aspect> {
        Aspect::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// One place a text names an aspect.
#[derive(Debug, Clone, PartialEq)]
pub struct AspectHit {
    pub aspect: Aspect,
    /// The words that named it, as written.
    pub cue: String,
    /// Byte range of the cue.
    pub at: Range<usize>,
    /// The clause that carries it.
    pub clause: Range<usize>,
    /// The opinion of the aspect there, in [-1, 1].
    pub score: f64,
}

/// The opinion a whole text gives of one aspect.
#[derive(Debug, Clone, PartialEq)]
pub struct AspectOpinion {
    pub aspect: Aspect,
    /// Sum of the opinions of its clauses, in [-1, 1].
    pub score: f64,
    /// The first cue that named it.
    pub cue: String,
    /// Where the first cue is.
    pub at: usize,
}

/// A cue of the vocabulary.
#[derive(Debug)]
struct Cue {
    aspect: Aspect,
    /// The language the words are from (`None`: several). Every cue is read in every text:
    /// short posts are often detected in the wrong language, and the words of one list rarely
    /// mean anything else in the other. Kept to check that each aspect has words in both.
    #[cfg_attr(not(test), allow(dead_code))]
    lang: Option<Lang>,
    /// Folded words; a trailing `*` on a word makes it a prefix.
    words: Vec<(String, bool)>,
    /// The judgement the words carry themselves ("overpriced", "panne"): -1, 0 or 1.
    valence: f64,
}

struct Vocabulary {
    /// Cues by their first word (exact first words).
    by_first: HashMap<String, Vec<usize>>,
    /// Cues whose first word is a prefix.
    prefixed: Vec<usize>,
    cues: Vec<Cue>,
}

const VOCABULARY: &str = include_str!("aspects.txt");

fn vocabulary() -> &'static Vocabulary {
    static V: OnceLock<Vocabulary> = OnceLock::new();
    V.get_or_init(|| parse_vocabulary(VOCABULARY).expect("the aspect vocabulary parses"))
}

fn parse_vocabulary(src: &str) -> Result<Vocabulary, String> {
    let mut v = Vocabulary {
        by_first: HashMap::new(),
        prefixed: Vec::new(),
        cues: Vec::new(),
    };
    for (n, line) in src.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut parts = line.splitn(3, ' ');
        let (Some(a), Some(l), Some(words)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(format!("line {}: expected ASPECT LANG WORDS", n + 1));
        };
        let aspect = Aspect::parse(a).ok_or_else(|| format!("line {}: aspect {a:?}", n + 1))?;
        let lang = match l {
            "*" => None,
            code => Some(
                Lang::from_code(code).ok_or_else(|| format!("line {}: language {l:?}", n + 1))?,
            ),
        };
        let (words, valence) = match (words.strip_suffix(" -"), words.strip_suffix(" +")) {
            (Some(w), _) => (w, -1.0),
            (_, Some(w)) => (w, 1.0),
            _ => (words, 0.0),
        };
        let words: Vec<(String, bool)> = words
            .split([' ', '-'])
            .filter(|w| !w.is_empty())
            .map(|w| match w.strip_suffix('*') {
                Some(p) => (crate::analyze::text::fold(p), true),
                None => (crate::analyze::text::fold(w), false),
            })
            .collect();
        let i = v.cues.len();
        if words[0].1 {
            v.prefixed.push(i);
        } else {
            v.by_first.entry(words[0].0.clone()).or_default().push(i);
        }
        v.cues.push(Cue {
            aspect,
            lang,
            words,
            valence,
        });
    }
    Ok(v)
}

/// Words that, just before an aspect, say it is missing: "plus de réseau", "no signal".
const LACKING: &[&str] = &[
    "pas", "plus", "aucun", "aucune", "sans", "zero", "no", "without", "lost", "never",
];
/// How far back (in words) a lacking word reaches.
const LACKING_REACH: usize = 3;
/// What naming a missing aspect weighs, against the clause's own sentiment.
const LACKING_WEIGHT: f64 = 0.45;
/// What a cue that judges by itself ("overpriced", "panne") weighs.
const VALENCE_WEIGHT: f64 = 0.35;

/// Words that start a new clause with another opinion.
const CONTRAST: &[&[&str]] = &[
    &["mais"],
    &["cependant"],
    &["pourtant"],
    &["toutefois"],
    &["neanmoins"],
    &["par", "contre"],
    &["en", "revanche"],
    &["cela", "dit"],
    &["ceci", "dit"],
    &["but"],
    &["however"],
    &["though"],
    &["although"],
    &["whereas"],
    &["yet"],
];

/// A word's form for matching: folded, without a hashtag's `#`.
fn form<'t>(doc: &'t Analyzed<'_>, i: usize) -> &'t str {
    doc.tokens[i].folded.trim_start_matches('#')
}

/// The clauses of `doc`: each sentence, cut before a contrast word and at `;`.
pub fn clauses(doc: &Analyzed<'_>) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    for s in &doc.sentences {
        let toks = doc.tokens_in(s);
        let mut start = s.start;
        let mut i = toks.start;
        while i < toks.end {
            let t = &doc.tokens[i];
            let cut = CONTRAST.iter().find(|c| {
                c.iter()
                    .enumerate()
                    .all(|(k, w)| i + k < toks.end && form(doc, i + k) == *w)
            });
            let at = if cut.is_some() && i > toks.start {
                Some(t.start)
            } else {
                None
            };
            if let Some(at) = at {
                if doc.text[start..at].trim().len() > 1 {
                    out.push(start..at);
                    start = at;
                }
            }
            i += 1;
        }
        // `;` cuts too
        let rest = &doc.text[start..s.end];
        let mut from = start;
        for (k, _) in rest.match_indices(';') {
            let at = start + k + 1;
            if doc.text[from..at].trim().len() > 1 {
                out.push(from..at);
                from = at;
            }
        }
        if doc.text[from..s.end].trim().is_empty() {
            if let Some(last) = out.last_mut() {
                last.end = s.end;
            }
        } else {
            out.push(from..s.end);
        }
    }
    out
}

/// Every place `doc` names an aspect (once per clause), in text order, each with the opinion
/// of its clause, the judgement its own words carry, and whether it is said to be missing.
pub fn find_aspects(doc: &Analyzed<'_>) -> Vec<AspectHit> {
    let v = vocabulary();
    let clauses = clauses(doc);
    let mut clause_scores: Vec<Option<f64>> = vec![None; clauses.len()];
    let mut out: Vec<AspectHit> = Vec::new();
    let n = doc.tokens.len();
    let mut i = 0;
    while i < n {
        if !matches!(
            doc.tokens[i].kind,
            TokenKind::Word | TokenKind::Number | TokenKind::Hashtag
        ) {
            i += 1;
            continue;
        }
        let first = form(doc, i);
        let candidates = v
            .by_first
            .get(first)
            .into_iter()
            .flatten()
            .chain(v.prefixed.iter());
        // the longest cue that matches here
        let mut best: Option<(usize, usize)> = None;
        for &c in candidates {
            let cue = &v.cues[c];
            if let Some(len) = matches_at(doc, i, &cue.words) {
                if best.is_none_or(|(_, l)| len > l) {
                    best = Some((c, len));
                }
            }
        }
        let Some((c, len)) = best else {
            i += 1;
            continue;
        };
        let aspect = v.cues[c].aspect;
        let at = doc.tokens[i].start..doc.tokens[i + len - 1].end;
        let k = clauses
            .iter()
            .position(|r| r.start <= at.start && at.start < r.end)
            .unwrap_or(0);
        let clause = clauses.get(k).cloned().unwrap_or(0..doc.text.len());
        let base = *clause_scores
            .get_mut(k)
            .map(|s| s.get_or_insert_with(|| score_sentiment(doc, clause.clone()).score))
            .unwrap_or(&mut 0.0);
        let lacking = (i.saturating_sub(LACKING_REACH)..i)
            .any(|j| doc.tokens[j].start >= clause.start && LACKING.contains(&form(doc, j)));
        let mut score = base + v.cues[c].valence * VALENCE_WEIGHT;
        if lacking && v.cues[c].valence >= 0.0 {
            score -= LACKING_WEIGHT;
        }
        let score = score.clamp(-1.0, 1.0);
        // one hit per aspect and clause
        if !out.iter().any(|h| h.aspect == aspect && h.clause == clause) {
            out.push(AspectHit {
                aspect,
                cue: doc.text[at.clone()].to_string(),
                at,
                clause,
                score,
            });
        } else if let Some(h) = out
            .iter_mut()
            .find(|h| h.aspect == aspect && h.clause == clause)
        {
            // the strongest judgement of the clause on the aspect
            if score.abs() > h.score.abs() {
                h.score = score;
            }
        }
        i += len;
    }
    out
}

/// How many tokens the cue covers from token `i`, if it matches there.
fn matches_at(doc: &Analyzed<'_>, i: usize, words: &[(String, bool)]) -> Option<usize> {
    let mut j = i;
    for (k, (w, prefix)) in words.iter().enumerate() {
        // skip elisions and punctuation inside a phrase ("l'appli", "rapport qualité-prix")
        while k > 0
            && j < doc.tokens.len()
            && !matches!(
                doc.tokens[j].kind,
                TokenKind::Word | TokenKind::Number | TokenKind::Hashtag
            )
        {
            j += 1;
        }
        let f = (j < doc.tokens.len()).then(|| form(doc, j))?;
        let ok = if *prefix {
            f.starts_with(w.as_str())
        } else {
            f == w
        };
        if !ok {
            return None;
        }
        j += 1;
    }
    Some(j - i)
}

/// The opinion `doc` gives of each aspect it names, in the order first named. `fallback` is the
/// text's own opinion, used where the clauses naming an aspect have none and the text names
/// one aspect only.
pub fn opinions(hits: &[AspectHit], fallback: f64) -> Vec<AspectOpinion> {
    let mut out: Vec<AspectOpinion> = Vec::new();
    for h in hits {
        match out.iter_mut().find(|o| o.aspect == h.aspect) {
            Some(o) => o.score += h.score,
            None => out.push(AspectOpinion {
                aspect: h.aspect,
                score: h.score,
                cue: h.cue.clone(),
                at: h.at.start,
            }),
        }
    }
    let clauses_named = {
        let mut c: Vec<&Range<usize>> = hits.iter().map(|h| &h.clause).collect();
        c.dedup();
        c.len()
    };
    let single = out.len() == 1 || clauses_named == 1 && out.len() <= 2;
    for o in &mut out {
        o.score = o.score.clamp(-1.0, 1.0);
        if single && crate::doc::label_of(o.score) == crate::doc::Label::Neutral {
            o.score = fallback;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::{label_of, Label};

    fn of(text: &str, lang: Lang) -> Vec<(Aspect, Label)> {
        let doc = Analyzed::new(text, lang);
        let hits = find_aspects(&doc);
        let whole = score_sentiment(&doc, 0..text.len()).score;
        opinions(&hits, whole)
            .into_iter()
            .map(|o| (o.aspect, label_of(o.score)))
            .collect()
    }

    #[test]
    fn the_vocabulary_parses_and_covers_every_aspect() {
        let v = parse_vocabulary(VOCABULARY).unwrap();
        for a in Aspect::ALL {
            for l in [Lang::Fr, Lang::En] {
                assert!(
                    v.cues.iter().any(|c| c.aspect == a && c.lang == Some(l)),
                    "{a:?} has no {l:?} cue"
                );
            }
        }
        assert!(parse_vocabulary("price xx prix").is_err());
        assert!(parse_vocabulary("taste fr goût").is_err());
    }

    #[test]
    fn french_aspects_take_the_opinion_of_their_clause() {
        let got = of(
            "Coupure réseau toute la matinée, mais le conseiller a été super sympa.",
            Lang::Fr,
        );
        assert!(got.contains(&(Aspect::Network, Label::Negative)), "{got:?}");
        assert!(
            got.contains(&(Aspect::CustomerService, Label::Positive)),
            "{got:?}"
        );
        assert_eq!(
            of("Ma facture a doublé, c'est honteux.", Lang::Fr),
            [(Aspect::Billing, Label::Negative)]
        );
        assert_eq!(
            of("Le nouveau décodeur est magnifique, bravo.", Lang::Fr),
            [(Aspect::Product, Label::Positive)]
        );
        // "débit" is the network's speed, "débité" a payment
        assert_eq!(
            of("Le débit s'effondre tous les soirs, c'est nul.", Lang::Fr)[0].0,
            Aspect::Network
        );
        assert_eq!(
            of("Ils m'ont débité deux fois, c'est honteux.", Lang::Fr)[0].0,
            Aspect::Billing
        );
    }

    #[test]
    fn naming_what_is_missing_is_a_complaint() {
        assert_eq!(
            of("Plus aucune connexion depuis deux jours.", Lang::Fr),
            [(Aspect::Network, Label::Negative)]
        );
        assert_eq!(
            of("No coverage in my area since Monday.", Lang::En),
            [(Aspect::Network, Label::Negative)]
        );
    }

    #[test]
    fn english_aspects() {
        let got = of(
            "Lost all coverage yesterday, but the support agent was fantastic.",
            Lang::En,
        );
        assert!(got.contains(&(Aspect::Network, Label::Negative)), "{got:?}");
        assert!(
            got.contains(&(Aspect::CustomerService, Label::Positive)),
            "{got:?}"
        );
        assert_eq!(
            of("Way overpriced, I can't afford it anymore.", Lang::En)[0],
            (Aspect::Price, Label::Negative)
        );
        assert_eq!(
            of("My parcel never arrived, awful.", Lang::En)[0],
            (Aspect::Delivery, Label::Negative)
        );
        assert_eq!(
            of("Lovely staff in the store on the high street.", Lang::En)
                .iter()
                .map(|x| x.0)
                .collect::<Vec<_>>(),
            [Aspect::CustomerService, Aspect::Stores]
        );
        assert_eq!(
            of("The app logs me out every single time.", Lang::En)[0].0,
            Aspect::App
        );
        // hashtags name aspects too
        assert_eq!(of("encore une #panne", Lang::Fr)[0].0, Aspect::Network);
    }

    #[test]
    fn a_text_about_nothing_has_no_aspect() {
        assert!(of("Vivement les vacances.", Lang::Fr).is_empty());
        assert!(of("What a match yesterday!", Lang::En).is_empty());
    }
}
