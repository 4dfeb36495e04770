//! Sentiment: lexicon and rules, per document and per mention, in the spirit of VADER (Hutto
//! and Gilbert, ICWSM 2014) and extended to French.
//!
//! The lexicon is chosen by language: French for French texts (vigie's list, textblob-fr,
//! FEEL on stems, then English for borrowed words no French table knows), English for the
//! rest. Grammar words overrule a detector fooled by a short post ("Damn, the bus is late" is
//! not Norwegian).
//!
//! Each token of the scored range becomes an *item* (words, expressions, emoji and emoticons,
//! elisions such as `l'` and `qu'` included) with the valence its lexicon gives it. The rules
//! then adjust each sentiment item from its neighbours, in the same sentence and clause:
//!
//! - **intensifiers and dampeners** up to three items before it (`very`, `très`, `un peu`),
//!   weaker with distance; `super` and `bien` intensify before a sentiment word and count on
//!   their own otherwise;
//! - **negation** up to three items before it (`not`, `never`, `pas`, `jamais`, `sans`,
//!   `aucun`, `moins`), or the French frame `ne … pas/plus/jamais/rien/guère` around it
//!   (`plus` intensifies unless it closes `ne`; `ne … que` negates nothing); **shifters**
//!   (`reduce`, `lutter contre`) reverse it the same way: less pollution is good news;
//! - **unmet expectations**: praise after `would have been`, `aurait pu être`, `je
//!   m'attendais à` turns into regret;
//! - **emphasis**: a word in capitals when the text is not all capitals, and the `!` (and `??`)
//!   of the range; emoji and emoticons are never negated ("still no cheque :(" is sad);
//! - **contrast**: after `but`, `mais`, `cependant` a sentence's second half outweighs its
//!   first; a concession (`although`, `même si`, `malgré`) weighs less.
//!
//! A short text sums its items and squashes the sum into [-1, 1] as VADER does
//! (`x / sqrt(x² + 15)`). A long one (a review, an article) averages its sentences, the first
//! and last with sentiment counting double, and its subject words ("guerre", "maladie") half.
//! [`explain_sentiment`] lists what each word contributed.

use std::ops::Range;

use crate::analyze::lang::Lang;
use crate::analyze::lexicon::{self, lexicons, role, Entry, Lexicons, Table};
use crate::analyze::text::{Analyzed, Token, TokenKind};
use crate::doc::Sentiment;

pub use crate::doc::{label_of, NEGATIVE_AT, POSITIVE_AT};

/// How far back (in items) negations and intensifiers reach.
const WINDOW: usize = 3;
/// An intensifier two or three items away counts less.
const BOOST_DISTANCE: [f32; WINDOW] = [1.0, 0.95, 0.9];
/// A negated valence is reversed and weakened (VADER's empirical -0.74).
const NEGATION: f32 = -0.74;
/// Added to the magnitude of a word in capitals in a text that is not all capitals.
const CAPS: f32 = 0.733;
/// Praise after an unmet expectation ("it could have been great") turns into regret.
const UNMET: f32 = -0.4;
/// How far (in items) an unmet expectation reaches.
const UNREAL_REACH: usize = 6;
/// Weight of what precedes and follows a contrast.
const BEFORE_CONTRAST: f32 = 0.5;
const AFTER_CONTRAST: f32 = 1.5;
/// Weight of a concessive clause.
const CONCESSION: f32 = 0.5;
/// Each `!` (up to [`MAX_EXCLAMATIONS`]) adds this to the magnitude of the sum.
const EXCLAMATION: f32 = 0.292;
const MAX_EXCLAMATIONS: usize = 4;
/// Two or three `?` add this each; more add [`QUESTIONS_MAX`].
const QUESTION: f32 = 0.18;
const QUESTIONS_MAX: f32 = 0.96;
/// How many tokens the grammar-word vote on the language reads.
const LANG_VOTE_TOKENS: usize = 200;
/// From this many items a text is long: its sentences are scored one by one and averaged.
const LONG_TEXT_ITEMS: usize = 60;
/// In a long text, what words that name a subject ("war", "illness") count for, against words
/// that judge it: a review of a war novel is not a negative review.
const CONTENT_IN_LONG_TEXT: f32 = 0.5;
/// Weight of the first and the last sentences with sentiment of a long text.
const VERDICT: f64 = 2.0;
/// The squashing constant: the raw sum that maps to ±0.5 is about ±2.2.
const ALPHA: f64 = 15.0;

/// Scores the part of `doc` in the byte range `range` (the whole text, or a mention's
/// sentence): a score in [-1, 1] and its label.
pub fn score_sentiment(doc: &Analyzed<'_>, range: Range<usize>) -> Sentiment {
    let score = score(doc, range);
    Sentiment {
        score,
        label: label_of(score),
    }
}

/// The score of `range` leaving out what the items inside `skip` contributed (the problem a
/// post's writer got in touch for): the sum of the other items' contributions, squashed.
pub fn score_without(doc: &Analyzed<'_>, range: Range<usize>, skip: &[Range<usize>]) -> f64 {
    if skip.is_empty() {
        return score(doc, range);
    }
    squash(
        explain_without(doc, range, skip)
            .into_iter()
            .map(|(_, c)| c)
            .sum(),
    )
}

/// [`explain_sentiment`] without the items that overlap `skip`.
pub fn explain_without(
    doc: &Analyzed<'_>,
    range: Range<usize>,
    skip: &[Range<usize>],
) -> Vec<(Range<usize>, f64)> {
    let mut items = explain_sentiment(doc, range);
    items.retain(|(r, _)| !skip.iter().any(|s| s.start < r.end && r.start < s.end));
    items
}

/// `x / sqrt(x² + α)`, clamped to [-1, 1].
fn squash(x: f64) -> f64 {
    (x / (x * x + ALPHA).sqrt()).clamp(-1.0, 1.0)
}

/// One unit the rules reason about: a word, an expression, an emoji or an emoticon.
#[derive(Debug, Clone, Copy)]
struct Item<'a> {
    /// Byte range in the text.
    start: usize,
    end: usize,
    /// Folded form of its first token (empty for emoticons).
    key: &'a str,
    entry: Entry,
    /// Written in capitals (two letters or more).
    caps: bool,
    /// Sentence index in the document.
    sentence: usize,
    /// A clause break (`,` `;` `:` brackets, dashes) separates it from the previous item.
    clause: bool,
}

/// What each word, expression, emoji or emoticon of the range contributed to its score after
/// the rules: `(byte range, contribution)` for every non-zero contribution, in text order. The
/// contributions plus the punctuation emphasis make the raw sum that [`score_sentiment`]
/// squashes.
pub fn explain_sentiment(doc: &Analyzed<'_>, range: Range<usize>) -> Vec<(Range<usize>, f64)> {
    let range = range.start.min(doc.text.len())..range.end.min(doc.text.len());
    let items = items(doc, &range);
    let cap_diff = cap_differential(doc, &range, &items);
    let mut valences = adjusted(&items, cap_diff);
    sarcasm(&items, &mut valences);
    let weights = contrast_weights(&items);
    items
        .iter()
        .zip(valences.iter().zip(&weights))
        .filter(|(_, (v, _))| **v != 0.0)
        .map(|(it, (v, w))| (it.start..it.end, f64::from(v * w)))
        .collect()
}

/// Some words in capitals, not all: capitals then mark emphasis.
fn cap_differential(doc: &Analyzed<'_>, range: &Range<usize>, items: &[Item<'_>]) -> bool {
    let words = doc.tokens[doc.tokens_in(range)]
        .iter()
        .filter(|t| t.kind == TokenKind::Word)
        .count();
    let caps = items.iter().filter(|i| i.caps).count();
    caps > 0 && caps < words
}

/// The score of a range. A short text (a post, a sentence, a snippet) sums its items and
/// squashes the sum. A long one (a review, an article) averages the scores of its sentences,
/// so that no long sentence drowns the others, and gives the first and the last sentences
/// with sentiment more weight: that is where a writer states a verdict.
fn score(doc: &Analyzed<'_>, range: Range<usize>) -> f64 {
    let range = range.start.min(doc.text.len())..range.end.min(doc.text.len());
    let items = items(doc, &range);
    if items.is_empty() {
        return 0.0;
    }
    let cap_diff = cap_differential(doc, &range, &items);
    let mut valences = adjusted(&items, cap_diff);
    sarcasm(&items, &mut valences);
    let weights = contrast_weights(&items);
    // (sentence, sum of its items)
    let mut sums: Vec<(usize, f32)> = Vec::new();
    let long = items.len() >= LONG_TEXT_ITEMS;
    for ((it, v), w) in items.iter().zip(&valences).zip(&weights) {
        let w = if long && it.entry.has(role::CONTENT) {
            w * CONTENT_IN_LONG_TEXT
        } else {
            *w
        };
        match sums.last_mut() {
            Some((s, sum)) if *s == it.sentence => *sum += v * w,
            _ => sums.push((it.sentence, v * w)),
        }
    }
    sums.retain(|(_, v)| *v != 0.0);
    if sums.is_empty() {
        return 0.0;
    }
    if !long || sums.len() < 3 {
        let sum: f32 = sums.iter().map(|(_, v)| v).sum();
        let emphasis = punctuation_emphasis(doc.text.get(range).unwrap_or(""));
        return squash(f64::from(sum + emphasis.copysign(sum)));
    }
    let last = sums.len() - 1;
    let (mut total, mut weight) = (0.0, 0.0);
    for (i, &(s, v)) in sums.iter().enumerate() {
        let sentence = doc.sentences.get(s).map_or(range.clone(), |r| {
            r.start.max(range.start)..r.end.min(range.end)
        });
        let emphasis = punctuation_emphasis(doc.text.get(sentence).unwrap_or(""));
        let w = if i == 0 || i == last { VERDICT } else { 1.0 };
        total += w * squash(f64::from(v + emphasis.copysign(v)));
        weight += w;
    }
    total / weight
}

/// `!` and `??` in the range.
fn punctuation_emphasis(text: &str) -> f32 {
    let bangs = text.bytes().filter(|&b| b == b'!').count();
    let questions = text.bytes().filter(|&b| b == b'?').count();
    let q = match questions {
        0 | 1 => 0.0,
        2 | 3 => questions as f32 * QUESTION,
        _ => QUESTIONS_MAX,
    };
    bangs.min(MAX_EXCLAMATIONS) as f32 * EXCLAMATION + q
}

/// The items of a range, in order.
fn items<'a>(doc: &'a Analyzed<'_>, range: &Range<usize>) -> Vec<Item<'a>> {
    let lx = lexicons();
    let lang = sentiment_lang(doc, range);
    let table = lx.table(lang);
    let fallback = (lang == Lang::Fr).then_some(&lx.en);
    let r = doc.tokens_in(range);
    let tokens = &doc.tokens[r.clone()];
    // a sentence read in another language than the document's needs stems of its own
    let restemmed: Vec<String>;
    let stems: &[String] = if lang == doc.lang || !doc.lang.is_stemmed() && lang == Lang::En {
        &doc.stems[r]
    } else {
        restemmed = tokens
            .iter()
            .map(|t| match t.kind {
                TokenKind::Word => {
                    crate::analyze::text::stem(lang, &doc.text[t.range()], &t.folded)
                }
                _ => t.folded.clone(),
            })
            .collect();
        &restemmed
    };
    let emoticons = find_emoticons(doc.text, range, lx);
    let mut out = Vec::with_capacity(tokens.len() + emoticons.len());
    let mut sentence = doc
        .sentences
        .partition_point(|s| s.end <= range.start)
        .min(doc.sentences.len().saturating_sub(1));
    let mut prev_end = range.start;
    let mut next_emoticon = 0;
    let mut push = |out: &mut Vec<Item<'a>>,
                    start: usize,
                    end: usize,
                    key: &'a str,
                    entry: Entry,
                    caps: bool| {
        while sentence + 1 < doc.sentences.len() && doc.sentences[sentence].end <= start {
            sentence += 1;
        }
        let gap = doc.text.get(prev_end.min(start)..start).unwrap_or("");
        let clause = gap.contains([',', ';', ':', '(', ')', '—', '–', '"', '«', '»'])
            || gap.len() >= 3 && gap.contains(" - ");
        prev_end = end;
        out.push(Item {
            start,
            end,
            key,
            entry,
            caps,
            sentence,
            clause,
        });
    };
    let mut i = 0;
    while i < tokens.len() {
        let t = &tokens[i];
        while let Some(&(s, e, v)) = emoticons.get(next_emoticon) {
            if s > t.start {
                break;
            }
            push(&mut out, s, e, "", valence_entry(v), false);
            next_emoticon += 1;
        }
        if next_emoticon > 0 {
            let (s, e, _) = emoticons[next_emoticon - 1];
            if t.start >= s && t.end <= e {
                i += 1; // the `D` of `:D`
                continue;
            }
        }
        let caps = t.kind == TokenKind::Word && is_caps(&doc.text[t.range()]);
        match t.kind {
            TokenKind::Emoji => {
                let c = t.folded.chars().next().unwrap_or(' ');
                let v = lx.emoji.get(&c).copied().unwrap_or(0.0);
                push(&mut out, t.start, t.end, &t.folded, valence_entry(v), false);
            }
            TokenKind::Handle | TokenKind::Number => {
                push(&mut out, t.start, t.end, "", Entry::default(), false);
            }
            TokenKind::Word | TokenKind::Hashtag | TokenKind::Elision => {
                let phrase = table
                    .phrase_at(tokens, i)
                    .or_else(|| fallback.and_then(|f| f.phrase_at(tokens, i)));
                if let Some((n, entry)) = phrase {
                    let end = tokens[i + n - 1].end;
                    push(&mut out, t.start, end, lexicon::key(t), entry, caps);
                    i += n;
                    continue;
                }
                let entry = word_entry(lx, table, fallback, t, &stems[i], lang, caps);
                push(&mut out, t.start, t.end, lexicon::key(t), entry, caps);
            }
        }
        i += 1;
    }
    for &(s, e, v) in &emoticons[next_emoticon..] {
        push(&mut out, s, e, "", valence_entry(v), false);
    }
    out
}

/// The language whose lexicon reads a range: French or English. The grammar words of the range
/// itself decide when they are clear (a French sentence quoted in an English post, or the
/// reverse); else the detected language of the document, unless its grammar words say
/// otherwise (short social posts fool detectors: "Damn, running late sucks" is not Norwegian);
/// any other language is read with the English lexicon, the lingua franca of social text,
/// unless French grammar words dominate.
fn sentiment_lang(doc: &Analyzed<'_>, range: &Range<usize>) -> Lang {
    let votes = lexicons().grammar_votes();
    let count = |tokens: &[Token]| {
        let (mut fr, mut en) = (0usize, 0usize);
        for t in tokens.iter().take(LANG_VOTE_TOKENS) {
            match t.kind {
                TokenKind::Elision => fr += 1,
                TokenKind::Word => {
                    if let Some(&(f, e)) = votes.get(t.folded.as_str()) {
                        fr += f as usize;
                        en += e as usize;
                    }
                }
                _ => {}
            }
        }
        (fr, en)
    };
    let whole = range.start == 0 && range.end >= doc.text.len();
    if !whole {
        let (fr, en) = count(&doc.tokens[doc.tokens_in(range)]);
        if fr >= 2 && fr > 2 * en {
            return Lang::Fr;
        }
        if en >= 2 && en > 2 * fr {
            return Lang::En;
        }
        // too few grammar words, or mixed ones: the sentence's own trigrams, when they are
        // sure of it, else the side with more grammar words
        let part = doc.text.get(range.clone()).unwrap_or_default();
        if part.len() >= 24 && matches!(doc.lang, Lang::Fr | Lang::En) {
            if let Some((l, confidence)) = crate::analyze::langid::french_or_english(part) {
                if l != doc.lang && confidence >= 0.1 {
                    return l;
                }
            }
        }
        if fr >= 3 && fr > en {
            return Lang::Fr;
        }
        if en >= 3 && en > fr {
            return Lang::En;
        }
    }
    let (fr, en) = count(&doc.tokens);
    match doc.lang {
        Lang::Fr if en >= 2 && en > 2 * fr => Lang::En,
        Lang::Fr => Lang::Fr,
        Lang::En if fr >= 2 && fr > 2 * en => Lang::Fr,
        _ if fr >= 2 && fr > en => Lang::Fr,
        _ => Lang::En,
    }
}

fn valence_entry(v: f32) -> Entry {
    Entry {
        valence: v,
        ..Entry::default()
    }
}

/// One word's entry: the document language's table, then (French) the stem of a FEEL lemma or
/// a marked entry, then (French) the English table for borrowed words.
fn word_entry(
    lx: &Lexicons,
    table: &Table,
    fallback: Option<&Table>,
    t: &Token,
    stem: &str,
    lang: Lang,
    caps: bool,
) -> Entry {
    let key = lexicon::key(t);
    if let Some(e) = table.word(key) {
        return e;
    }
    if key.ends_with("n't") {
        // don't, isn't, wouldn't…
        return Entry {
            roles: role::NEGATE,
            ..Entry::default()
        };
    }
    if lang == Lang::Fr && t.kind == TokenKind::Word && stem.len() >= lexicon::MIN_STEM {
        if let Some(&e) = lx.fr_stems.get(stem) {
            return e;
        }
    }
    match fallback {
        Some(f) if borrowable(t, key, caps) => f.word(key).unwrap_or_default(),
        _ => Entry::default(),
    }
}

/// Whether a word of a French text that no French table knows may be read as English: words
/// and hashtags of three letters or more (elisions and single letters are French grammar), not
/// acronyms (`BAD` is a bank) unless they are chat words.
fn borrowable(t: &Token, key: &str, caps: bool) -> bool {
    matches!(t.kind, TokenKind::Word | TokenKind::Hashtag)
        && key.len() >= 3
        && (!caps
            || matches!(
                key,
                "lol" | "wtf" | "omg" | "lmao" | "rofl" | "fail" | "win"
            ))
}

/// Two letters or more, none lowercase.
fn is_caps(word: &str) -> bool {
    let mut letters = 0;
    for c in word.chars() {
        if c.is_lowercase() {
            return false;
        }
        if c.is_alphabetic() {
            letters += 1;
        }
    }
    letters >= 2
}

/// Emoticons in `text[range]`: `(start, end, valence)`, in order. An emoticon stands alone
/// between spaces (`:-)`), possibly followed by closing punctuation (`:),`), or is glued to the
/// end of a word (`merci:)`). Links are never read as emoticons.
fn find_emoticons(text: &str, range: &Range<usize>, lx: &Lexicons) -> Vec<(usize, usize, f32)> {
    let Some(slice) = text.get(range.clone()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for chunk in slice.split_whitespace() {
        if chunk.is_ascii() && !chunk.bytes().any(|b| EMOTICON_BYTE[b as usize])
            || chunk.contains("://")
            || chunk.starts_with("www.")
        {
            continue;
        }
        if let Some((s, e, v)) = emoticon_in(chunk, lx) {
            // `split_whitespace` yields subslices: their offset is their distance from `slice`
            let start = range.start + (chunk.as_ptr() as usize - slice.as_ptr() as usize);
            out.push((start + s, start + e, v));
        }
    }
    out
}

/// Bytes of which every emoticon has at least one.
const EMOTICON_BYTES: &[u8] = b":;=<>^()[]{}|\\/*_@$%&#'\"-.,0o";

/// [`EMOTICON_BYTES`] as a table: whether a byte is one of them.
static EMOTICON_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < EMOTICON_BYTES.len() {
        t[EMOTICON_BYTES[i] as usize] = true;
        i += 1;
    }
    t
};

/// The emoticon in one whitespace-free chunk: `(start, end, valence)` relative to the chunk.
fn emoticon_in(chunk: &str, lx: &Lexicons) -> Option<(usize, usize, f32)> {
    let get = |s: &str| {
        lx.emoticons
            .get(s)
            .or_else(|| {
                // lowercase ASCII is its own lowercase form: nothing else to look up
                if s.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase()) {
                    return None;
                }
                lx.emoticons.get(s.to_lowercase().as_str())
            })
            .copied()
    };
    if let Some(v) = get(chunk) {
        return Some((0, chunk.len(), v));
    }
    let trimmed = chunk.trim_end_matches(['.', ',', '!', '?', '"']);
    if trimmed.len() >= 2 && trimmed.len() < chunk.len() {
        if let Some(v) = get(trimmed) {
            return Some((0, trimmed.len(), v));
        }
    }
    // glued to the end of a word: `merci:)`
    let max = lx.emoticon_max.min(4).min(trimmed.len());
    for n in (2..=max).rev() {
        let cut = trimmed.len() - n;
        if !trimmed.is_char_boundary(cut) {
            continue;
        }
        let (word, tail) = trimmed.split_at(cut);
        let first = tail.chars().next()?;
        if first.is_alphanumeric() || !word.chars().next_back().is_some_and(char::is_alphanumeric) {
            continue;
        }
        if let Some(v) = get(tail) {
            return Some((cut, trimmed.len(), v));
        }
    }
    None
}

/// Whether items `a < b` are in the same sentence and clause.
/// Emoji that say the words around them mean the opposite ("vraiment génial 🙄").
const SARCASM_MARKERS: &[&str] = &["🙄", "🙃", "😒"];
/// What a praising word weighs, turned, in a sentence marked as sarcastic.
const SARCASM_TURN: f32 = -0.8;

/// In a sentence with a sarcasm marker, praise is blame: its positive words are turned.
fn sarcasm(items: &[Item<'_>], valences: &mut [f32]) {
    let marked: Vec<usize> = items
        .iter()
        .filter(|it| SARCASM_MARKERS.contains(&it.key))
        .map(|it| it.sentence)
        .collect();
    if marked.is_empty() {
        return;
    }
    for (it, v) in items.iter().zip(valences.iter_mut()) {
        if *v > 0.0 && marked.contains(&it.sentence) {
            *v *= SARCASM_TURN;
        }
    }
}

fn same_clause(items: &[Item<'_>], a: usize, b: usize) -> bool {
    items[a].sentence == items[b].sentence && !items[a + 1..=b].iter().any(|i| i.clause)
}

/// Each item's valence after intensifiers, negations and capitals.
fn adjusted(items: &[Item<'_>], cap_diff: bool) -> Vec<f32> {
    let n = items.len();
    let has_valence = |k: usize| k < n && items[k].entry.valence != 0.0;
    // A word that is both a sentiment word and an intensifier (`super`, `bien`) intensifies
    // when a sentiment word follows it, and so does a negation that carries a valence of its
    // own (`no`). `plus` after `ne` closes the negation instead of intensifying.
    let modifies: Vec<bool> = (0..n)
        .map(|k| {
            let e = &items[k].entry;
            let next = k + 1 < n && has_valence(k + 1) && same_clause(items, k, k + 1);
            if e.has(role::NE_CLOSE) && ne_before(items, k) {
                return false;
            }
            (e.boost != 0.0 || e.has(role::NEGATE)) && (e.valence == 0.0 || next)
        })
        .collect();
    let mut out = vec![0.0f32; n];
    for k in 0..n {
        let it = &items[k];
        let base = it.entry.valence;
        if base == 0.0 || modifies[k] {
            continue;
        }
        let sign = base.signum();
        let mut v = base;
        if it.caps && cap_diff {
            v += CAPS * sign;
        }
        let mut negated = false;
        for d in 1..=WINDOW.min(k) {
            let j = k - d;
            if !same_clause(items, j, k) {
                break;
            }
            let p = &items[j];
            if p.entry.boost != 0.0 && modifies[j] {
                let mut s = p.entry.boost * BOOST_DISTANCE[d - 1] * sign;
                if p.caps && cap_diff {
                    s += CAPS * sign;
                }
                v += s;
            }
            if p.entry.has(role::NEGATE) && !negation_lifted(items, j, k) {
                negated = true;
            }
            if p.entry.has(role::LEAST)
                && !(j > 0
                    && matches!(items[j - 1].key, "at" | "very")
                    && same_clause(items, j - 1, j))
            {
                negated = true;
            }
        }
        if !negated && ne_frame(items, k) {
            negated = true;
        }
        // an emoji or an emoticon says how the writer feels: "still no cheque :(" is sad
        let symbol = it.key.is_empty();
        if negated && !symbol {
            v *= NEGATION;
        }
        if v > 0.0 && !symbol && unreal_before(items, k) {
            v *= UNMET;
        }
        out[k] = v;
    }
    out
}

/// An unreal or unmet expectation (`aurait pu être`, `would have been`) in the clause before
/// item `k`, within [`UNREAL_REACH`] items.
fn unreal_before(items: &[Item<'_>], k: usize) -> bool {
    (1..=UNREAL_REACH.min(k))
        .take_while(|&d| same_clause(items, k - d, k))
        .any(|d| items[k - d].entry.has(role::UNREAL))
}

/// `never so good`, `never this good`, `without doubt`: negations that do not negate.
fn negation_lifted(items: &[Item<'_>], j: usize, k: usize) -> bool {
    let between = &items[j + 1..k];
    match items[j].key {
        "never" => between.iter().any(|i| matches!(i.key, "so" | "this")),
        "without" | "sans" => between.iter().any(|i| matches!(i.key, "doubt" | "doute")),
        _ => false,
    }
}

/// A French `ne`/`n'` within the window before item `k`, in its clause.
fn ne_before(items: &[Item<'_>], k: usize) -> bool {
    (1..=WINDOW.min(k)).any(|d| items[k - d].entry.has(role::NE) && same_clause(items, k - d, k))
}

/// Item `k` sits inside a French `ne … pas/plus/jamais/rien` frame: `ne` before it and the
/// closing word before it (`n'est plus bon`) or after it (`je n'aime pas`), in one clause.
fn ne_frame(items: &[Item<'_>], k: usize) -> bool {
    if !ne_before(items, k) {
        return false;
    }
    let n = items.len();
    let back = (1..=WINDOW.min(k)).any(|d| {
        let j = k - d;
        items[j].entry.has(role::NE_CLOSE)
            && !items[j].entry.has(role::NEGATE)
            && same_clause(items, j, k)
    });
    let ahead = (1..=WINDOW)
        .take_while(|d| k + d < n)
        .any(|d| items[k + d].entry.has(role::NE_CLOSE) && same_clause(items, k, k + d));
    back || ahead
}

/// Weights from contrasts and concessions: in a sentence with `but`/`mais`, what precedes the
/// first one counts half and what follows half again as much; a sentence that opens with it
/// halves the sentence before. A concessive clause (`although …,`) counts half.
fn contrast_weights(items: &[Item<'_>]) -> Vec<f32> {
    let mut w = vec![1.0f32; items.len()];
    let mut k = 0;
    while k < items.len() {
        let s = items[k].sentence;
        let end = k + items[k..].iter().take_while(|i| i.sentence == s).count();
        if let Some(c) = (k..end).find(|&c| items[c].entry.has(role::CONTRAST)) {
            if c == k {
                let prev = items[..k].iter().rposition(|i| i.sentence + 1 == s);
                if let Some(p) = prev {
                    let ps = items[p].sentence;
                    for (x, it) in w[..=p].iter_mut().zip(&items[..=p]).rev() {
                        if it.sentence != ps {
                            break;
                        }
                        *x *= BEFORE_CONTRAST;
                    }
                }
            }
            for x in &mut w[k..c] {
                *x *= BEFORE_CONTRAST;
            }
            for x in &mut w[c + 1..end] {
                *x *= AFTER_CONTRAST;
            }
        }
        for c in (k..end).filter(|&c| items[c].entry.has(role::CONCEDE)) {
            let stop = (c + 1..end).find(|&j| items[j].clause).unwrap_or(end);
            for x in &mut w[c + 1..stop] {
                *x *= CONCESSION;
            }
        }
        k = end;
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::Label;

    fn score(text: &str, lang: Lang) -> f64 {
        let doc = Analyzed::new(text, lang);
        score_sentiment(&doc, 0..text.len()).score
    }
    fn en(text: &str) -> f64 {
        score(text, Lang::En)
    }
    fn fr(text: &str) -> f64 {
        score(text, Lang::Fr)
    }

    #[test]
    fn scores_stay_in_range_and_labels_follow_thresholds() {
        let s = en("GREAT GREAT GREAT amazing wonderful love love love!!!!! :) :) :D");
        assert!(s > 0.95 && s <= 1.0, "{s}");
        let s = en("horrible awful terrible hate hate worst disgusting!!!!");
        assert!((-1.0..-0.95).contains(&s), "{s}");
        assert_eq!(en("The train leaves at noon."), 0.0);
        assert_eq!(label_of(0.3), Label::Positive);
        assert_eq!(label_of(-0.3), Label::Negative);
        assert_eq!(label_of(0.0), Label::Neutral);
    }

    #[test]
    fn english_negation_reverses_and_weakens() {
        let good = en("The book was good.");
        let not_good = en("The book was not good.");
        assert!(
            good > 0.3 && not_good < 0.0 && not_good.abs() < good,
            "{good} {not_good}"
        );
        assert!(en("It isn't a horrible book.") > 0.0);
        assert!(en("I never liked it") < 0.0);
        assert!(
            en("Without a doubt, an excellent idea.") > 0.4,
            "without doubt lifts it"
        );
        assert!(en("Never so happy!") > 0.4, "never so is not a negation");
    }

    #[test]
    fn negation_stops_at_the_clause() {
        assert!(en("Not the cheapest, but great.") > 0.3);
        assert!(en("No, it is great") > 0.3);
    }

    #[test]
    fn french_negation_frames() {
        assert!(fr("Ce livre est bon.") > 0.3);
        assert!(fr("Ce livre n'est pas bon.") < 0.0, "ne … pas, pas before");
        assert!(
            fr("Je n'aime pas ce livre.") < 0.0,
            "ne … pas around the verb"
        );
        assert!(fr("Je ne l'ai jamais aimé.") < 0.0, "ne … jamais");
        assert!(
            fr("Ce n'est plus possible, je n'ai plus confiance.") < 0.0,
            "ne … plus"
        );
        assert!(fr("Pas content du tout") < 0.0, "spoken pas alone");
        assert!(fr("Un livre sans intérêt.") < 0.0, "sans");
        assert!(fr("Aucun plaisir à le lire") < 0.0, "aucun");
        assert!(fr("Un roman peu convaincant") <= 0.0, "peu");
        assert!(
            fr("Je ne suis pas déçu") > 0.0,
            "negated negative turns positive"
        );
        assert!(
            fr("C'était pas mal du tout") > 0.0,
            "pas mal is an expression"
        );
        assert!(
            fr("Je n'ai que des éloges, excellent") > 0.3,
            "ne … que is no negation"
        );
    }

    #[test]
    fn plus_intensifies_unless_it_closes_ne() {
        assert!(fr("il est plus beau") > fr("il est beau"));
        assert!(fr("il n'est plus beau") < 0.0);
    }

    #[test]
    fn intensifiers_and_dampeners() {
        assert!(en("very good") > en("good"));
        assert!(en("kind of good") < en("good"));
        assert!(en("kind of good") > 0.0);
        assert!(fr("très bon") > fr("bon"));
        assert!(fr("trop bien") > fr("bien"));
        assert!(fr("un peu décevant") > fr("décevant") && fr("un peu décevant") < 0.0);
        assert!(
            en("very bad") < en("bad"),
            "intensifiers strengthen negatives too"
        );
    }

    #[test]
    fn words_that_are_both_intensifier_and_sentiment() {
        assert!(fr("super") > 0.3, "alone it is a sentiment word");
        assert!(
            fr("super nul") < fr("nul"),
            "before a sentiment word it intensifies"
        );
    }

    #[test]
    fn contrast_shifts_the_weight_to_the_second_half() {
        let s = en("The plot was good, but the characters are dull and the dialog is bad.");
        assert!(s < 0.0, "{s}");
        assert!(fr("Belle écriture mais histoire ennuyeuse et décevante.") < 0.0);
        assert!(fr("Quelques longueurs, mais un roman magnifique.") > 0.3);
        assert!(
            en("It was bad. But the ending was great") > en("It was bad. The ending was great"),
            "a sentence that opens with but halves the one before"
        );
        assert!(en("Although the food was great, the service was bad.") < 0.0);
    }

    #[test]
    fn emphasis_from_caps_and_exclamation() {
        assert!(en("This is GREAT") > en("This is great"));
        assert!(en("This is great!!!") > en("This is great"));
        assert!(en("This is bad!!!") < en("This is bad"));
        assert_eq!(
            en("GREAT"),
            en("great"),
            "an all-caps text has no emphasis to tell"
        );
    }

    #[test]
    fn emoji_and_emoticons() {
        assert!(en("Got my package 😍") > 0.3);
        assert!(en("Got my package 😡") < -0.3);
        assert!(en("Got my package :)") > 0.3);
        assert!(en("Got my package :(") < -0.3);
        assert!(en("Got my package :D") > 0.3, "letters in emoticons");
        assert!(
            en("Still no cheque :(") < 0.0,
            "a negation does not reverse an emoticon"
        );
        assert!(
            fr("Colis reçu merci:)") > fr("Colis reçu merci"),
            "glued to a word"
        );
        assert_eq!(
            en("see https://example.com/a:/b"),
            0.0,
            "links are not emoticons"
        );
    }

    #[test]
    fn french_elisions_and_borrowings() {
        assert!(fr("J'adore l'équipe, c'est top") > 0.5);
        assert!(fr("Franchement c'est nul, l'appli plante") < -0.3);
        assert!(
            fr("Cette série est so cool, I love it") > 0.3,
            "English words in French text"
        );
        assert!(fr("du pain et du vin") == 0.0, "pain is bread in French");
    }

    #[test]
    fn french_words_match_on_stems() {
        // `adorer~` in vigie's list covers the verb's forms
        assert!(fr("ils adoraient ce film") > 0.3);
        // FEEL lemmas are matched on stems
        assert!(fr("une situation angoissante") < 0.0);
    }

    #[test]
    fn shifters_turn_a_bad_thing_lessened_into_a_good_one() {
        assert!(fr("la pollution") < 0.0);
        assert!(fr("lutter contre la pollution") > 0.0);
        assert!(
            fr("réduire les bénéfices") < 0.0,
            "lessening a good thing is bad"
        );
        assert!(en("a simple way to reduce stress") > 0.0);
    }

    #[test]
    fn praise_after_an_unmet_expectation_is_regret() {
        assert!(fr("un livre passionnant") > 0.3);
        assert!(fr("un livre qui aurait pu être passionnant") < 0.0);
        assert!(en("it could have been great") < 0.0);
        assert!(fr("je m'attendais à un chef-d'œuvre") <= 0.0);
    }

    #[test]
    fn long_texts_average_their_sentences_and_weigh_subjects_less() {
        // a review of a war novel: the subject is grim, the verdict glowing
        let review = "Ce roman raconte la guerre de 1914 à travers les yeux de trois jeunes \
            soldats venus du même village. On suit leur départ, les tranchées, la mort des \
            camarades, la peur et la souffrance au quotidien. Les combats sont décrits sans \
            détour et la violence est partout, jusque dans les lettres envoyées aux familles. \
            Les victimes tombent, les blessés attendent les secours pendant des heures. \
            Un roman magnifique et bouleversant, je le recommande.";
        assert!(fr(review) > 0.0, "{}", fr(review));
        // the same words in a short news post are bad news
        assert!(fr("La guerre fait des victimes") < 0.0);
    }

    #[test]
    fn grammar_words_correct_a_misdetected_language() {
        // detectors call short posts anything; "the" and "and" say English
        let doc = Analyzed::new("Damn, the bus is late and it sucks", Lang::Other("nb"));
        assert!(score_sentiment(&doc, 0..doc.text.len()).score < -0.3);
        let doc = Analyzed::new("Applesauce, you are the best", Lang::Fr);
        assert!(score_sentiment(&doc, 0..doc.text.len()).score > 0.3);
    }

    #[test]
    fn an_eye_roll_turns_praise_into_blame() {
        assert!(fr("Bravo, encore une panne, vraiment génial 🙄") < -0.3);
        assert!(en("Great, another outage 🙃") < -0.3);
        // without the marker, praise stays praise
        assert!(fr("Bravo, réparé en une heure, vraiment génial") > 0.3);
    }

    #[test]
    fn being_at_the_end_of_ones_tether_without_service() {
        assert!(fr("Trois semaines sans connexion, je suis à bout") < -0.3);
    }

    #[test]
    fn french_acronyms_are_not_english_words() {
        assert_eq!(
            fr("Un fonds de la BAD pour le climat"),
            0.0,
            "BAD is a bank"
        );
        assert!(
            fr("trop BAD ce film") < 0.0,
            "a shouted word still counts… as French"
        );
    }

    #[test]
    fn explanations_add_up_to_the_score() {
        let text = "Great phone, but the battery is terrible";
        let doc = Analyzed::new(text, Lang::En);
        let parts = explain_sentiment(&doc, 0..text.len());
        let words: Vec<&str> = parts.iter().map(|(r, _)| &text[r.clone()]).collect();
        assert_eq!(words, ["Great", "terrible"]);
        let sum: f64 = parts.iter().map(|(_, c)| c).sum();
        let score = score_sentiment(&doc, 0..text.len()).score;
        assert!((squash(sum) - score).abs() < 1e-6, "{sum} {score}");
    }

    #[test]
    fn a_range_scores_only_its_part() {
        let text = "Le service est nul. La fibre est excellente.";
        let doc = Analyzed::new(text, Lang::Fr);
        let first = score_sentiment(&doc, doc.sentences[0].clone()).score;
        let second = score_sentiment(&doc, doc.sentences[1].clone()).score;
        assert!(first < 0.0 && second > 0.0, "{first} {second}");
    }
}
