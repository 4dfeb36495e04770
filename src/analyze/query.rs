//! The query language shared by topics and `vigie search`:
//!
//! ```text
//! fibre OR "très haut débit"        either
//! fibre AND box   /   fibre box      both (AND is implied between terms)
//! fibre AND NOT publicité            exclusion (also: -publicité)
//! panne NEAR/5 réseau                both within 5 words, in either order
//! (a OR b) AND c                     grouping
//! livr*                              prefix
//! ```
//!
//! Operators are upper case, so the French "or" and English "and" stay words. Words match on
//! stems in the document's language with accents and case folded, so `livraison` finds
//! `livraisons` and `Livraisons`.

use std::fmt;

use crate::analyze::lang::Lang;
use crate::analyze::text::{self, Analyzed, TokenKind};

/// A parsed query.
#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    /// One word, as typed.
    Term(String),
    /// Words starting with this (folded) prefix.
    Prefix(String),
    /// Consecutive words, as typed.
    Phrase(Vec<String>),
    /// Two phrases (or words) within `distance` words of each other, either order; each side
    /// lists alternatives (`panne NEAR/5 (réseau OR internet)`). Words are counted as the
    /// index counts them: elided articles and emoji are not words.
    Near(Vec<Vec<String>>, Vec<Vec<String>>, u32),
    And(Vec<Query>),
    Or(Vec<Query>),
    Not(Box<Query>),
    /// Every document (the query `*`, or a query of exclusions only).
    All,
}

/// Where and why a query does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    /// Byte offset in the query.
    pub at: usize,
    pub message: String,
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at character {})", self.message, self.at + 1)
    }
}

impl std::error::Error for QueryError {}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Phrase(Vec<String>),
    And,
    Or,
    Not,
    Near(u32),
    Open,
    Close,
}

fn lex(q: &str) -> Result<Vec<(usize, Tok)>, QueryError> {
    let mut out = Vec::new();
    let bytes = q.as_bytes();
    let mut i = 0;
    while i < q.len() {
        let c = q[i..].chars().next().expect("in bounds");
        if c.is_whitespace() {
            i += c.len_utf8();
            continue;
        }
        match c {
            '(' => {
                out.push((i, Tok::Open));
                i += 1;
            }
            ')' => {
                out.push((i, Tok::Close));
                i += 1;
            }
            '"' | '“' | '”' | '«' | '»' => {
                let start = i;
                i += c.len_utf8();
                let close = q[i..].find(['"', '”', '»', '“']).ok_or(QueryError {
                    at: start,
                    message: "unclosed quote".into(),
                })?;
                let inner = &q[i..i + close];
                i += close;
                i += q[i..].chars().next().map(char::len_utf8).unwrap_or(1);
                let words: Vec<String> = phrase_words(inner);
                if words.is_empty() {
                    return Err(QueryError {
                        at: start,
                        message: "empty phrase".into(),
                    });
                }
                out.push((start, Tok::Phrase(words)));
            }
            '-' if bytes.get(i + 1).is_some_and(|b| !b.is_ascii_whitespace())
                && (i == 0 || bytes[i - 1].is_ascii_whitespace() || bytes[i - 1] == b'(') =>
            {
                out.push((i, Tok::Not));
                i += 1;
            }
            _ => {
                let start = i;
                let end = q[i..]
                    .find(|c: char| {
                        c.is_whitespace() || matches!(c, '(' | ')' | '"' | '“' | '”' | '«' | '»')
                    })
                    .map_or(q.len(), |e| i + e);
                let w = &q[start..end];
                i = end;
                let tok = match w {
                    "AND" | "&&" => Tok::And,
                    "OR" | "||" => Tok::Or,
                    "NOT" => Tok::Not,
                    _ if w.starts_with("NEAR/") || w == "NEAR" => {
                        let n = if w == "NEAR" {
                            Ok(10)
                        } else {
                            w[5..].parse::<u32>()
                        };
                        match n {
                            Ok(n) if n <= 1000 => Tok::Near(n),
                            _ => return Err(QueryError { at: start, message: format!("{w:?}: expected NEAR/n with n a number of words, such as NEAR/5") }),
                        }
                    }
                    _ => Tok::Word(w.to_string()),
                };
                out.push((start, tok));
            }
        }
    }
    Ok(out)
}

/// The words of a phrase as the text layer cuts them, elided articles left out (they are
/// not indexed): `jus d'orange` searches `jus` then `orange`.
fn phrase_words(s: &str) -> Vec<String> {
    text::tokenize(s)
        .into_iter()
        .filter(|t| t.kind != TokenKind::Elision)
        .map(|t| s[t.range()].to_string())
        .collect()
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    pos: usize,
    len: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(_, t)| t)
    }

    fn at(&self) -> usize {
        self.toks.get(self.pos).map(|(a, _)| *a).unwrap_or(self.len)
    }

    fn or(&mut self) -> Result<Query, QueryError> {
        let mut parts = vec![self.and()?];
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 {
            parts.pop().expect("one")
        } else {
            Query::Or(parts)
        })
    }

    fn and(&mut self) -> Result<Query, QueryError> {
        let mut parts = vec![self.near()?];
        loop {
            match self.peek() {
                Some(Tok::And) => {
                    self.pos += 1;
                    parts.push(self.near()?);
                }
                Some(Tok::Word(_) | Tok::Phrase(_) | Tok::Not | Tok::Open) => {
                    parts.push(self.near()?)
                }
                _ => break,
            }
        }
        Ok(if parts.len() == 1 {
            parts.pop().expect("one")
        } else {
            Query::And(parts)
        })
    }

    fn near(&mut self) -> Result<Query, QueryError> {
        let left = self.unary()?;
        if let Some(Tok::Near(n)) = self.peek().cloned() {
            let at = self.at();
            self.pos += 1;
            let right = self.unary()?;
            fn alternatives(q: Query) -> Option<Vec<Vec<String>>> {
                match q {
                    Query::Term(w) => Some(vec![vec![w]]),
                    Query::Phrase(p) => Some(vec![p]),
                    Query::Or(qs) => qs
                        .into_iter()
                        .map(alternatives)
                        .collect::<Option<Vec<_>>>()
                        .map(|v| v.concat()),
                    _ => None,
                }
            }
            match (alternatives(left), alternatives(right)) {
                (Some(a), Some(b)) => return Ok(Query::Near(a, b, n)),
                _ => {
                    return Err(QueryError {
                        at,
                        message: "NEAR joins two words, phrases, or groups of them joined by OR"
                            .into(),
                    })
                }
            }
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Query, QueryError> {
        let at = self.at();
        match self.toks.get(self.pos).map(|(_, t)| t.clone()) {
            Some(Tok::Not) => {
                self.pos += 1;
                Ok(Query::Not(Box::new(self.unary()?)))
            }
            Some(Tok::Open) => {
                self.pos += 1;
                let q = self.or()?;
                if self.peek() != Some(&Tok::Close) {
                    return Err(QueryError {
                        at: self.at(),
                        message: "missing closing parenthesis".into(),
                    });
                }
                self.pos += 1;
                Ok(q)
            }
            Some(Tok::Word(w)) => {
                self.pos += 1;
                if w == "*" {
                    return Ok(Query::All);
                }
                if let Some(p) = w.strip_suffix('*') {
                    let folded = text::fold(p);
                    if folded.is_empty() {
                        return Err(QueryError {
                            at,
                            message: "a prefix needs at least one letter before *".into(),
                        });
                    }
                    return Ok(Query::Prefix(folded));
                }
                // a "word" with inner punctuation (`service-client`, `orange.fr`) is a phrase
                let words = phrase_words(&w);
                match words.len() {
                    0 => Err(QueryError {
                        at,
                        message: format!("{w:?} has no word to search for"),
                    }),
                    1 => Ok(Query::Term(words.into_iter().next().expect("one"))),
                    _ => Ok(Query::Phrase(words)),
                }
            }
            Some(Tok::Phrase(p)) => {
                self.pos += 1;
                Ok(if p.len() == 1 {
                    Query::Term(p.into_iter().next().expect("one"))
                } else {
                    Query::Phrase(p)
                })
            }
            Some(Tok::Close) => Err(QueryError {
                at,
                message: "unexpected closing parenthesis".into(),
            }),
            Some(t @ (Tok::And | Tok::Or | Tok::Near(_))) => Err(QueryError {
                at,
                message: format!(
                    "{} needs something on its left",
                    match t {
                        Tok::And => "AND",
                        Tok::Or => "OR",
                        _ => "NEAR",
                    }
                ),
            }),
            None => Err(QueryError {
                at,
                message: "the query ends where a word was expected".into(),
            }),
        }
    }
}

impl Query {
    /// Parses a query. Empty queries are errors.
    pub fn parse(q: &str) -> Result<Query, QueryError> {
        let toks = lex(q)?;
        if toks.is_empty() {
            return Err(QueryError {
                at: 0,
                message: "empty query".into(),
            });
        }
        let mut p = Parser {
            toks,
            pos: 0,
            len: q.len(),
        };
        let query = p.or()?;
        if p.pos < p.toks.len() {
            return Err(QueryError {
                at: p.at(),
                message: "unexpected text after the query".into(),
            });
        }
        Ok(query)
    }

    /// Whether a document matches, on stems in its language and folded words.
    pub fn matches(&self, doc: &Analyzed<'_>) -> bool {
        match self {
            Query::All => true,
            Query::Term(w) => {
                let (stem, folded) = term_forms(doc.lang, w);
                doc.tokens
                    .iter()
                    .zip(&doc.stems)
                    .any(|(t, s)| *s == stem || t.folded == folded)
            }
            Query::Prefix(p) => doc.tokens.iter().any(|t| t.folded.starts_with(p.as_str())),
            Query::Phrase(words) => !phrase_positions(doc, words).is_empty(),
            Query::Near(a, b, n) => {
                // distances in words as the index counts them: elided articles and emoji
                // take no position (`panne d'électricité` is two words)
                let words = word_positions(doc);
                let spans = |alts: &[Vec<String>]| -> Vec<(usize, usize)> {
                    alts.iter()
                        .flat_map(|p| phrase_positions(doc, p))
                        .filter_map(|(s, e)| Some((words[s]?, words[e - 1]? + 1)))
                        .collect()
                };
                let pa = spans(a);
                if pa.is_empty() {
                    return false;
                }
                let pb = spans(b);
                let n = *n as usize;
                pa.iter().any(|&(s1, e1)| {
                    pb.iter()
                        .any(|&(s2, e2)| (s2 >= e1 && s2 - e1 <= n) || (s1 >= e2 && s1 - e2 <= n))
                })
            }
            Query::And(qs) => qs.iter().all(|q| q.matches(doc)),
            Query::Or(qs) => qs.iter().any(|q| q.matches(doc)),
            Query::Not(q) => !q.matches(doc),
        }
    }

    /// The positive words of the query (for highlighting), as typed.
    pub fn positive_words(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.collect_words(false, &mut out);
        out
    }

    fn collect_words(&self, negated: bool, out: &mut Vec<String>) {
        match self {
            Query::Term(w) | Query::Prefix(w) if !negated => out.push(w.clone()),
            Query::Phrase(p) if !negated => out.extend(p.iter().cloned()),
            Query::Near(a, b, _) if !negated => out.extend(a.iter().chain(b).flatten().cloned()),
            Query::And(qs) | Query::Or(qs) => qs.iter().for_each(|q| q.collect_words(negated, out)),
            Query::Not(q) => q.collect_words(!negated, out),
            _ => {}
        }
    }

    /// Whether the query holds a NEAR.
    pub fn has_near(&self) -> bool {
        match self {
            Query::Near(..) => true,
            Query::And(qs) | Query::Or(qs) => qs.iter().any(Query::has_near),
            Query::Not(q) => q.has_near(),
            _ => false,
        }
    }

    /// Whether the index alone cannot answer the query, so that candidates must be checked
    /// with [`Query::matches`] on their text: it holds a NEAR with a phrase of several words
    /// on one side. A NEAR between single words is answered from the index's word positions.
    pub fn needs_check(&self) -> bool {
        match self {
            Query::Near(a, b, _) => single_words(a).is_none() || single_words(b).is_none(),
            Query::And(qs) | Query::Or(qs) => qs.iter().any(Query::needs_check),
            Query::Not(q) => q.needs_check(),
            _ => false,
        }
    }
}

/// The words of one side of a NEAR when each of its alternatives is a single word.
pub fn single_words(alternatives: &[Vec<String>]) -> Option<Vec<&str>> {
    alternatives
        .iter()
        .map(|p| match p.as_slice() {
            [w] => Some(w.as_str()),
            _ => None,
        })
        .collect()
}

/// The index position of each token of a text, as `index::token_streams` numbers them: one a
/// token, but none for elided articles, emoji and tokens without a folded form, which the
/// index leaves out.
fn word_positions(doc: &Analyzed<'_>) -> Vec<Option<usize>> {
    let mut next = 0;
    doc.tokens
        .iter()
        .map(|t| {
            let indexed = !matches!(t.kind, TokenKind::Elision | TokenKind::Emoji)
                && !t.folded.is_empty()
                && !t.folded.contains(['\u{1e}', '\u{1f}']);
            indexed.then(|| {
                next += 1;
                next - 1
            })
        })
        .collect()
}

/// The stem (in `lang`) and the folded form of one query word.
pub fn term_forms(lang: Lang, word: &str) -> (String, String) {
    let folded = text::fold(word);
    (text::stem(lang, word, &folded), folded)
}

/// Token index ranges (start, end exclusive) where the phrase occurs; elided articles in the
/// document are skipped.
fn phrase_positions(doc: &Analyzed<'_>, words: &[String]) -> Vec<(usize, usize)> {
    let forms: Vec<(String, String)> = words.iter().map(|w| term_forms(doc.lang, w)).collect();
    let mut out = Vec::new();
    if forms.is_empty() {
        return out;
    }
    'start: for i in 0..doc.tokens.len() {
        let mut j = i;
        for (k, (stem, folded)) in forms.iter().enumerate() {
            // elisions are not words of a phrase ("jus orange" matches "jus d'orange")
            while k > 0 && j < doc.tokens.len() && doc.tokens[j].kind == TokenKind::Elision {
                j += 1;
            }
            let Some(t) = doc.tokens.get(j) else {
                continue 'start;
            };
            if doc.stems[j] != *stem && t.folded != *folded {
                continue 'start;
            }
            j += 1;
        }
        out.push((i, j));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Query {
        Query::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn m(query: &str, text: &str, lang: Lang) -> bool {
        q(query).matches(&Analyzed::new(text, lang))
    }

    #[test]
    fn parses_the_documented_example() {
        assert_eq!(
            q("(fibre OR \"très haut débit\") AND NOT publicité"),
            Query::And(vec![
                Query::Or(vec![
                    Query::Term("fibre".into()),
                    Query::Phrase(vec!["très".into(), "haut".into(), "débit".into()])
                ]),
                Query::Not(Box::new(Query::Term("publicité".into()))),
            ])
        );
    }

    #[test]
    fn implicit_and_lowercase_words_and_near() {
        assert_eq!(
            q("panne or box"),
            Query::And(vec![
                Query::Term("panne".into()),
                Query::Term("or".into()),
                Query::Term("box".into())
            ])
        );
        assert_eq!(
            q("panne NEAR/3 \"service client\""),
            Query::Near(
                vec![vec!["panne".into()]],
                vec![vec!["service".into(), "client".into()]],
                3
            )
        );
        assert_eq!(
            q("panne NEAR/5 (réseau OR \"la box\")"),
            Query::Near(
                vec![vec!["panne".into()]],
                vec![vec!["réseau".into()], vec!["la".into(), "box".into()]],
                5
            )
        );
        assert_eq!(
            q("-pub fibre"),
            Query::And(vec![
                Query::Not(Box::new(Query::Term("pub".into()))),
                Query::Term("fibre".into())
            ])
        );
        assert_eq!(q("livr*"), Query::Prefix("livr".into()));
    }

    #[test]
    fn errors_say_where() {
        assert_eq!(
            Query::parse("(a OR b").unwrap_err().message,
            "missing closing parenthesis"
        );
        assert_eq!(Query::parse("a OR").unwrap_err().at, 4);
        assert!(Query::parse("\"abc")
            .unwrap_err()
            .message
            .contains("unclosed"));
        assert!(Query::parse("").is_err());
        assert!(Query::parse("a NEAR/x b").is_err());
        assert!(Query::parse("OR a").is_err());
    }

    #[test]
    fn matches_on_stems_and_folded_accents() {
        assert!(m(
            "livraison",
            "Les livraisons arrivent en retard",
            Lang::Fr
        ));
        assert!(m("livraisons", "Une livraison ratée", Lang::Fr));
        assert!(m("reseau", "Le Réseau est tombé", Lang::Fr));
        assert!(m(
            "\"très haut débit\"",
            "Offre très haut débit disponible",
            Lang::Fr
        ));
        assert!(!m(
            "\"très haut débit\"",
            "Très bon débit, haut la main",
            Lang::Fr
        ));
        assert!(m("fibre AND NOT publicité", "La fibre arrive", Lang::Fr));
        assert!(!m(
            "fibre AND NOT publicité",
            "Publicité pour la fibre",
            Lang::Fr
        ));
        assert!(m("\"jus orange\"", "un jus d'orange", Lang::Fr));
        assert!(m("\"jus d'orange\"", "un jus d'orange", Lang::Fr));
        assert!(m("deliveries", "the delivery was late", Lang::En));
    }

    #[test]
    fn near_counts_words_as_the_index_does() {
        // elided articles and emoji take no position in the index: they are not words
        assert!(m("panne NEAR/1 réseau", "panne d'un réseau", Lang::Fr));
        assert!(!m("panne NEAR/0 réseau", "panne d'un réseau", Lang::Fr));
        assert!(m("panne NEAR/0 réseau", "panne 😡 réseau", Lang::Fr));
        assert!(!m("l NEAR/3 panne", "l'appli en panne", Lang::Fr));
        // two occurrences, not one counted twice
        assert!(m("panne NEAR/1 pannes", "panne, encore panne", Lang::Fr));
        assert!(!m("panne NEAR/1 pannes", "une panne", Lang::Fr));
    }

    #[test]
    fn only_a_near_with_a_phrase_needs_the_text() {
        assert!(!q("panne NEAR/2 réseau").needs_check());
        assert!(!q("(panne OR coupure) NEAR/2 réseau AND fibre").needs_check());
        assert!(!q("\"service client\" fibre").needs_check());
        assert!(q("panne NEAR/2 \"service client\"").needs_check());
        assert!(q("fibre OR NOT (panne NEAR (réseau OR \"la box\"))").needs_check());
    }

    #[test]
    fn near_is_unordered_and_bounded() {
        assert!(m("panne NEAR/3 réseau", "le réseau est en panne", Lang::Fr));
        assert!(m(
            "panne NEAR/3 réseau",
            "panne sur tout le réseau",
            Lang::Fr
        ));
        assert!(!m(
            "panne NEAR/2 réseau",
            "panne hier soir sur tout le réseau",
            Lang::Fr
        ));
        assert!(m(
            "panne NEAR/2 (internet OR réseau)",
            "une panne du réseau",
            Lang::Fr
        ));
    }
}
