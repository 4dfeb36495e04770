//! Cue patterns: short token patterns with alternatives, prefixes, optional words and gaps,
//! matched on the folded tokens of the text layer ("still waiting", "ne … toujours pas",
//! "personne ne … répond*", "it would be great|nice if").
//!
//! Syntax, one pattern a line, slots separated by spaces:
//!
//! - `word` matches a token whose folded form is `word` (accents and case do not matter; a
//!   hashtag matches without its `#`); `a|b|c` matches any of them; `is_not` (words joined by
//!   `_`) matches several tokens in a row, so `isn't|is_not` is one slot;
//! - `word*` matches a token that starts with `word` (`répond*`: répond, répondu, répondre);
//! - `slot?` may be absent;
//! - `…` (or `...`) skips up to 3 tokens, `…N` up to N, never past the end of the sentence;
//! - `#` matches a number, `@` a handle; `^` as the first slot anchors the pattern at the
//!   start of a sentence (`^ add|allow`: an imperative);
//! - a word ending with an apostrophe is an elision (`j'`, `n'`, `qu'`); English contractions
//!   stay whole (`don't`).
//!
//! Patterns are indexed by the words their first slot accepts, so each token of a document
//! costs one hash lookup however many patterns there are.

use rustc_hash::{FxHashMap, FxHashSet};

use crate::analyze::lexicon;
use crate::analyze::text::{fold, Token, TokenKind};

/// What one token of an alternative accepts.
#[derive(Debug, Clone, PartialEq)]
enum Unit {
    Word(Box<str>),
    Prefix(Box<str>),
    Number,
    Handle,
}

impl Unit {
    fn accepts(&self, t: &Token) -> bool {
        match self {
            Unit::Word(w) => t.kind != TokenKind::Handle && lexicon::key(t) == &**w,
            Unit::Prefix(p) => t.kind != TokenKind::Handle && lexicon::key(t).starts_with(&**p),
            Unit::Number => t.kind == TokenKind::Number,
            Unit::Handle => t.kind == TokenKind::Handle,
        }
    }
}

/// One alternative of a slot: one or more tokens in a row.
type Atom = Vec<Unit>;

#[derive(Debug, Clone, PartialEq)]
enum Slot {
    Any {
        /// Every alternative, as written.
        atoms: Vec<Atom>,
        /// The alternatives that are one plain word, for one hash lookup a token.
        words: FxHashSet<Box<str>>,
        /// The other alternatives (several tokens, prefixes, numbers, handles).
        others: Vec<Atom>,
        optional: bool,
    },
    Gap(usize),
    /// The start of a sentence.
    Start,
}

/// One compiled pattern.
#[derive(Debug, Clone)]
pub struct Pattern<T> {
    slots: Vec<Slot>,
    /// What the caller attached to it (a kind, a weight).
    pub tag: T,
    /// The pattern as written.
    pub source: Box<str>,
}

/// A match: the tokens `start..end` (indices into the document's tokens) and the pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Match {
    pub pattern: usize,
    pub start: usize,
    pub end: usize,
}

/// A set of patterns, indexed by first word.
#[derive(Debug, Clone)]
pub struct Patterns<T> {
    patterns: Vec<Pattern<T>>,
    by_first: FxHashMap<Box<str>, Vec<usize>>,
    /// Patterns whose first slot is not a plain word (prefix, number, handle, optional).
    unindexed: Vec<usize>,
}

/// A pattern that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad cue pattern {pattern:?}: {why}")]
pub struct PatternError {
    pub pattern: String,
    pub why: &'static str,
}

fn parse(source: &str) -> Result<Vec<Slot>, PatternError> {
    let err = |why| PatternError {
        pattern: source.to_string(),
        why,
    };
    let mut slots = Vec::new();
    for raw in source.split_whitespace() {
        if raw == "^" {
            if !slots.is_empty() {
                return Err(err("^ only starts a pattern"));
            }
            slots.push(Slot::Start);
            continue;
        }
        if let Some(n) = raw.strip_prefix('…').or_else(|| raw.strip_prefix("...")) {
            let n = if n.is_empty() {
                3
            } else {
                n.parse().map_err(|_| err("a gap is … or …N"))?
            };
            slots.push(Slot::Gap(n));
            continue;
        }
        let (body, optional) = match raw.strip_suffix('?') {
            Some(b) => (b, true),
            None => (raw, false),
        };
        let mut atoms = Vec::new();
        for alt in body.split('|') {
            let mut atom = Vec::new();
            for word in alt.split(['_', '-']) {
                let unit = match word {
                    "#" => Unit::Number,
                    "@" => Unit::Handle,
                    _ => {
                        let folded = fold(word);
                        let folded = folded.trim_start_matches('#').trim_end_matches('\'');
                        match folded.strip_suffix('*') {
                            Some(p) => Unit::Prefix(p.into()),
                            None => Unit::Word(folded.into()),
                        }
                    }
                };
                if matches!(&unit, Unit::Word(w) | Unit::Prefix(w) if w.is_empty()) {
                    return Err(err("empty alternative"));
                }
                atom.push(unit);
            }
            atoms.push(atom);
        }
        let (singles, others): (Vec<Atom>, Vec<Atom>) = atoms
            .iter()
            .cloned()
            .partition(|a| matches!(a[..], [Unit::Word(_)]));
        let words = singles
            .into_iter()
            .filter_map(|a| match a.into_iter().next() {
                Some(Unit::Word(w)) => Some(w),
                _ => None,
            })
            .collect();
        slots.push(Slot::Any {
            atoms,
            words,
            others,
            optional,
        });
    }
    match slots.first() {
        None | Some(Slot::Start) if slots.len() <= 1 => Err(err("empty pattern")),
        Some(Slot::Start) if matches!(slots[1], Slot::Gap(_)) => {
            Err(err("a pattern cannot start with a gap"))
        }
        Some(Slot::Gap(_)) => Err(err("a pattern cannot start with a gap")),
        _ if matches!(slots.last(), Some(Slot::Gap(_))) => {
            Err(err("a pattern cannot end with a gap"))
        }
        _ => Ok(slots),
    }
}

impl<T> Patterns<T> {
    /// Compiles `(pattern, tag)` pairs.
    pub fn new<'a>(sources: impl IntoIterator<Item = (&'a str, T)>) -> Result<Self, PatternError> {
        let mut patterns = Vec::new();
        let mut by_first: FxHashMap<Box<str>, Vec<usize>> = FxHashMap::default();
        let mut unindexed = Vec::new();
        for (source, tag) in sources {
            let slots = parse(source)?;
            let i = patterns.len();
            let first = slots.iter().find(|s| !matches!(s, Slot::Start));
            match first.expect("a pattern has a slot") {
                Slot::Any {
                    atoms,
                    optional: false,
                    ..
                } if atoms.iter().all(|a| matches!(a[0], Unit::Word(_))) => {
                    let mut firsts: Vec<&Box<str>> = atoms
                        .iter()
                        .filter_map(|a| match &a[0] {
                            Unit::Word(w) => Some(w),
                            _ => None,
                        })
                        .collect();
                    firsts.sort();
                    firsts.dedup();
                    for w in firsts {
                        by_first.entry(w.clone()).or_default().push(i);
                    }
                }
                _ => unindexed.push(i),
            }
            patterns.push(Pattern {
                slots,
                tag,
                source: source.into(),
            });
        }
        Ok(Patterns {
            patterns,
            by_first,
            unindexed,
        })
    }

    pub fn get(&self, i: usize) -> &Pattern<T> {
        &self.patterns[i]
    }

    pub fn len(&self) -> usize {
        self.patterns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Every match in `tokens`, each the longest for its pattern and start. `sentence(i)` is
    /// the token range of the sentence of token `i`: no match crosses its end, `^` matches at
    /// its start.
    pub fn find_all(
        &self,
        tokens: &[Token],
        sentence: impl Fn(usize) -> std::ops::Range<usize>,
    ) -> Vec<Match> {
        let mut out = Vec::new();
        for i in 0..tokens.len() {
            let s = sentence(i);
            let end = s.end.min(tokens.len());
            let start = s.start;
            let indexed = self
                .by_first
                .get(lexicon::key(&tokens[i]))
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            for &p in indexed.iter().chain(&self.unindexed) {
                let slots = match self.patterns[p].slots.split_first() {
                    Some((Slot::Start, rest)) if i == start => rest,
                    Some((Slot::Start, _)) => continue,
                    _ => &self.patterns[p].slots[..],
                };
                if let Some(e) = match_slots(slots, tokens, i, end) {
                    if e > i {
                        out.push(Match {
                            pattern: p,
                            start: i,
                            end: e,
                        });
                    }
                }
            }
        }
        out
    }
}

/// Matches `slots` from token `i`; the end of the longest match, tokens before `end` only.
fn match_slots(slots: &[Slot], tokens: &[Token], i: usize, end: usize) -> Option<usize> {
    let Some((slot, rest)) = slots.split_first() else {
        return Some(i);
    };
    match slot {
        Slot::Start => None,
        Slot::Gap(n) => (0..=*n)
            .filter(|k| i + k <= end)
            .filter_map(|k| match_slots(rest, tokens, i + k, end))
            .max(),
        Slot::Any {
            words,
            others,
            optional,
            ..
        } => {
            let t = tokens.get(i).filter(|_| i < end);
            let one = t
                .filter(|t| t.kind != TokenKind::Handle && words.contains(lexicon::key(t)))
                .and_then(|_| match_slots(rest, tokens, i + 1, end));
            let longer = others
                .iter()
                .filter(|a| {
                    i + a.len() <= end && a.iter().zip(&tokens[i..]).all(|(u, t)| u.accepts(t))
                })
                .filter_map(|a| match_slots(rest, tokens, i + a.len(), end))
                .max();
            let skipped = optional
                .then(|| match_slots(rest, tokens, i, end))
                .flatten();
            one.max(longer).max(skipped)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::text::tokenize;

    fn spans(patterns: &[&str], text: &str) -> Vec<String> {
        let p = Patterns::new(patterns.iter().map(|s| (*s, ()))).unwrap();
        let toks = tokenize(text);
        p.find_all(&toks, |_| 0..usize::MAX)
            .into_iter()
            .map(|m| text[toks[m.start].start..toks[m.end - 1].end].to_string())
            .collect()
    }

    #[test]
    fn words_alternatives_prefixes_and_accents() {
        assert_eq!(
            spans(&["still waiting"], "I am STILL waiting!"),
            ["STILL waiting"]
        );
        assert_eq!(
            spans(
                &["personne ne … répond*"],
                "Personne ne me répond depuis lundi"
            ),
            ["Personne ne me répond"]
        );
        assert_eq!(
            spans(
                &["it would be great|nice if"],
                "It would be nice if it synced"
            ),
            ["It would be nice if"]
        );
        assert_eq!(
            spans(&["ce serait bien que|si|de"], "Ce serait bien de pouvoir"),
            ["Ce serait bien de"]
        );
        assert!(spans(&["still waiting"], "still not waiting").is_empty());
    }

    #[test]
    fn elisions_gaps_and_optional_slots() {
        assert_eq!(
            spans(&["j' aimerais"], "J’aimerais un mode sombre"),
            ["J’aimerais"]
        );
        assert_eq!(
            spans(&["n' … toujours pas"], "je n'ai toujours pas reçu"),
            ["n'ai toujours pas"]
        );
        assert_eq!(
            spans(
                &["toujours pas|aucune de? réponse*"],
                "toujours pas réponse"
            ),
            ["toujours pas réponse"]
        );
        assert_eq!(
            spans(
                &["toujours pas|aucune de? réponse*"],
                "toujours pas de réponses"
            ),
            ["toujours pas de réponses"]
        );
        assert_eq!(
            spans(&["waited # hours|days"], "waited 3 hours"),
            ["waited 3 hours"]
        );
        assert!(
            spans(&["no … reply"], "no one, really, ever, at all will reply").is_empty(),
            "gaps are short"
        );
    }

    #[test]
    fn multi_word_alternatives() {
        let p = ["isn't|is_not|no_longer working"];
        assert_eq!(spans(&p, "it is not working"), ["is not working"]);
        assert_eq!(spans(&p, "it isn't working"), ["isn't working"]);
        assert_eq!(spans(&p, "no longer working"), ["no longer working"]);
        assert_eq!(
            spans(&["s'_il_vous_plaît ajoutez"], "S’il vous plaît ajoutez"),
            ["S’il vous plaît ajoutez"]
        );
        assert_eq!(spans(&["#fail"], "great service #fail"), ["#fail"]);
    }

    #[test]
    fn matches_stop_at_the_sentence_end() {
        let p = Patterns::new([("still … waiting", ())]).unwrap();
        let toks = tokenize("Still here. Waiting.");
        assert!(p
            .find_all(&toks, |i| if i < 2 { 0..2 } else { 2..3 })
            .is_empty());
    }

    #[test]
    fn sentence_start_anchor() {
        let p = Patterns::new([("^ add|allow", ())]).unwrap();
        let toks = tokenize("Add dark mode. Please add it");
        let sentence = |i: usize| if i < 3 { 0..3 } else { 3..6 };
        let m = p.find_all(&toks, sentence);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].start, 0);
    }

    #[test]
    fn bad_patterns_are_errors() {
        assert!(Patterns::new([("^", ())]).is_err());
        assert!(Patterns::new([("a ^", ())]).is_err());
        assert!(Patterns::new([("", ())]).is_err());
        assert!(Patterns::new([("… still", ())]).is_err());
        assert!(Patterns::new([("still …", ())]).is_err());
        assert!(Patterns::new([("a||b", ())]).is_err());
    }
}
