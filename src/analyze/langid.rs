//! Language detection made for short posts as much as for pages.
//!
//! Only words are evidence: handles, hashtags, links, numbers, short acronyms in a mixed-case
//! text ("SFR", "HS") and brand aliases say nothing about the language a post is written in, so
//! they are left out before anything is measured. What is left is scored with Lingua's
//! character 1- to 5-gram models (made for short text, shipped in the `lingua-*-language-model`
//! crates and compiled in) for the seven languages vigie stems, the way Lingua scores them, with
//! each word's scores cached for the whole process; whatlang takes the long tail (other
//! scripts, and long texts that are surely in another language). Common words and chat abbreviations of French
//! and English vote, and what is known before reading (the language the source declares, the
//! languages the watches expect) weighs as a prior: decisive on two words, negligible on a
//! sentence. It reads the tokenizer's words, so it stands above [`crate::analyze::text`].

use std::borrow::Borrow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{LazyLock, OnceLock, PoisonError, RwLock};

use rustc_hash::FxHashMap;

use crate::analyze::lang::{from_whatlang, Lang};
use crate::analyze::text::{tokenize, Analyzed, Token, TokenKind};

/// A detected language with how sure the detector is (0..1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detected {
    pub lang: Lang,
    pub confidence: f64,
}

/// How much text detection reads: statistics settle long before this.
const MAX_DETECT_BYTES: usize = 1024;

/// How much of the words the n-gram models read: past 120 letters they count trigrams only
/// and are as sure as they get.
const MAX_NGRAM_BYTES: usize = 320;

/// The largest char boundary of `s` at or below `max`.
fn cut_at(s: &str, max: usize) -> usize {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    end
}

/// The languages the n-gram models choose among, in the order of [`models`].
const MODELLED: [Lang; 7] = [
    Lang::Fr,
    Lang::En,
    Lang::De,
    Lang::Es,
    Lang::It,
    Lang::Pt,
    Lang::Nl,
];
const N: usize = MODELLED.len();

/// Prior weight of the language a source declares, against 1 for any other language.
const HINT_WEIGHT: f64 = 6.0;

/// Probability the models alone (no prior) give the declared language for it to be taken
/// without looking further.
const CONFIRMED: f64 = 0.9;

/// Common words of the declared language (and none of another) that confirm it: as a quarter
/// of the words at least, without reading the n-grams; fewer, when the models prefer it on
/// their own, without asking whatlang about the long tail.
const CONFIRMING_WORDS: usize = 3;

/// Or as a sixth of the words, five of them at least: a longer text names places, people and
/// things more than a short one, and a text of another language that quotes five of them
/// writes more of its own.
const SURE_WORDS: usize = 5;

/// Prior weight of each language the watches expect, against 1 for any other language.
const EXPECTED_WEIGHT: f64 = 2.0;

/// Words of evidence from which whatlang's verdict for a language the models do not know can
/// stand against their choice among their own.
const LONG_TAIL_WORDS: usize = 6;

/// Prior weight a chat abbreviation of one language gives it (`HS`, `svp`, `lol`): the n-gram
/// models, made from edited text, do not know them.
const CHAT_WEIGHT: f64 = 4.0;

/// Chat abbreviations that belong to one language, folded.
const CHAT: &[(&str, Lang)] = &[
    ("hs", Lang::Fr),
    ("svp", Lang::Fr),
    ("stp", Lang::Fr),
    ("mdr", Lang::Fr),
    ("ptdr", Lang::Fr),
    ("bcp", Lang::Fr),
    ("jsp", Lang::Fr),
    ("tkt", Lang::Fr),
    ("dsl", Lang::Fr),
    ("mtn", Lang::Fr),
    ("jpp", Lang::Fr),
    ("rdv", Lang::Fr),
    ("lol", Lang::En),
    ("omg", Lang::En),
    ("pls", Lang::En),
    ("plz", Lang::En),
    ("thx", Lang::En),
    ("btw", Lang::En),
    ("imo", Lang::En),
    ("imho", Lang::En),
    ("wtf", Lang::En),
    ("idk", Lang::En),
    ("tbh", Lang::En),
    ("smh", Lang::En),
    ("fyi", Lang::En),
    ("ngl", Lang::En),
];

fn chat_lang(folded: &str) -> Option<Lang> {
    static BY_WORD: OnceLock<FxHashMap<&'static str, Lang>> = OnceLock::new();
    BY_WORD
        .get_or_init(|| CHAT.iter().copied().collect())
        .get(folded)
        .copied()
}

/// Prior weight each common word of French or English gives its language. The n-gram
/// probabilities of two or three words are flat (a few points apart), and the commonest words
/// of a language are what its n-grams say least about.
const WORD_WEIGHT: f64 = 2.0;

/// Most the votes can weigh together: they settle a few words, not a text.
const MAX_VOTE: f64 = 16.0;

/// Common French words (folded) that are no common word of the other modelled languages.
const FR_WORDS: &[&str] = &[
    "les",
    "une",
    "et",
    "est",
    "pour",
    "pas",
    "nous",
    "vous",
    "cette",
    "avec",
    "sur",
    "dans",
    "au",
    "aux",
    "tres",
    "plus",
    "mon",
    "elle",
    "ils",
    "sont",
    "suis",
    "ai",
    "avez",
    "avons",
    "fait",
    "etait",
    "c'est",
    "leur",
    "leurs",
    "quand",
    "comme",
    "depuis",
    "toujours",
    "encore",
    "rien",
    "aucun",
    "aucune",
    "chez",
    "sans",
    "etre",
    "avoir",
    "merci",
    "bonjour",
    "oui",
    "alors",
    "donc",
    "aussi",
    "tout",
    "tous",
    "toute",
    "moi",
    "toi",
    "notre",
    "votre",
    "trop",
    "ca",
    "deja",
    "jamais",
    "vraiment",
    "hier",
    "aujourd'hui",
    "panne",
    "cher",
    "hors",
    "marche",
    "rappel",
    "reponse",
    "plante",
    "coupe",
];

/// Common English words (folded) that are no common word of the other modelled languages.
const EN_WORDS: &[&str] = &[
    "the", "and", "are", "were", "of", "to", "for", "with", "that", "this", "it", "not", "be",
    "have", "has", "you", "my", "your", "at", "from", "but", "or", "very", "they", "he", "she",
    "our", "their", "what", "when", "would", "can", "could", "should", "don't", "it's", "i'm",
    "just", "if", "about", "all", "been", "does", "did", "yes", "thanks", "thank", "please",
    "really", "today", "there", "here", "how", "why", "who", "him", "them", "us", "let", "get",
    "got", "still", "again", "never", "after", "by", "into", "out", "up", "more", "some", "any",
    "down", "gone", "worst", "ever", "joke", "help", "broken", "since", "waiting", "hours", "days",
    "nobody", "anyone",
];

fn common_word_lang(folded: &str) -> Option<Lang> {
    static BY_WORD: OnceLock<FxHashMap<&'static str, Lang>> = OnceLock::new();
    BY_WORD
        .get_or_init(|| {
            // French first: a word of both lists is French, as it always was
            let en = EN_WORDS.iter().map(|w| (*w, Lang::En));
            en.chain(FR_WORDS.iter().map(|w| (*w, Lang::Fr))).collect()
        })
        .get(folded)
        .copied()
}

/// What is known of a text's language before reading it, and which words of it are names.
#[derive(Debug, Clone)]
pub struct LangPriors {
    /// Languages the watches expect; more likely than the others, all else equal.
    expected: Vec<Lang>,
    /// Brand aliases as folded token sequences, by first token: never evidence.
    names: HashMap<String, Vec<Vec<String>>>,
}

impl Default for LangPriors {
    /// French and English expected (vigie's first-class languages), no names.
    fn default() -> Self {
        LangPriors::new([Lang::Fr, Lang::En], std::iter::empty::<&str>())
    }
}

impl LangPriors {
    /// `expected`: the languages the watches are written for; `names`: brand aliases (names,
    /// products), whose words are left out of the evidence.
    pub fn new<'n>(
        expected_langs: impl IntoIterator<Item = Lang>,
        names: impl IntoIterator<Item = &'n str>,
    ) -> Self {
        let mut expected: Vec<Lang> = Vec::new();
        for l in expected_langs {
            if !expected.contains(&l) {
                expected.push(l);
            }
        }
        let mut by_first: HashMap<String, Vec<Vec<String>>> = HashMap::new();
        for name in names {
            let words: Vec<String> = tokenize(name)
                .into_iter()
                .filter(|t| t.kind == TokenKind::Word)
                .map(|t| t.folded)
                .collect();
            if let Some(first) = words.first() {
                by_first.entry(first.clone()).or_default().push(words);
            }
        }
        LangPriors {
            expected,
            names: by_first,
        }
    }

    /// No language expected more than another, no names: the detector alone.
    pub fn neutral() -> Self {
        LangPriors::new(std::iter::empty(), std::iter::empty::<&str>())
    }

    fn weight(&self, lang: Lang, hint: Option<Lang>) -> f64 {
        let mut w = 1.0;
        if self.expected.contains(&lang) {
            w *= EXPECTED_WEIGHT;
        }
        if hint == Some(lang) {
            w *= HINT_WEIGHT;
        }
        w
    }

    /// How many tokens from `i` are a name (0 when none starts there).
    fn name_at(&self, tokens: &[Token], i: usize) -> usize {
        let Some(seqs) = self.names.get(tokens[i].folded.as_str()) else {
            return 0;
        };
        seqs.iter()
            .filter(|seq| {
                i + seq.len() <= tokens.len()
                    && seq.iter().zip(&tokens[i..]).all(|(w, t)| t.folded == *w)
            })
            .map(Vec::len)
            .max()
            .unwrap_or(0)
    }
}

/// Lingua's models (Leipzig corpora, Apache-2.0): for each language, the log-probability of
/// each character n-gram of length 1 to 5, in a finite-state transducer compiled into the
/// binary and read in place.
fn models() -> &'static [fst::Map<&'static [u8]>] {
    static MODELS: OnceLock<Vec<fst::Map<&'static [u8]>>> = OnceLock::new();
    MODELS.get_or_init(|| {
        let dirs = [
            &lingua_french_language_model::FRENCH_MODELS_DIRECTORY,
            &lingua_english_language_model::ENGLISH_MODELS_DIRECTORY,
            &lingua_german_language_model::GERMAN_MODELS_DIRECTORY,
            &lingua_spanish_language_model::SPANISH_MODELS_DIRECTORY,
            &lingua_italian_language_model::ITALIAN_MODELS_DIRECTORY,
            &lingua_portuguese_language_model::PORTUGUESE_MODELS_DIRECTORY,
            &lingua_dutch_language_model::DUTCH_MODELS_DIRECTORY,
        ];
        dirs.iter()
            .zip(MODELLED)
            .map(|(dir, lang)| {
                let bytes = dir
                    .get_file("ngrams.fst")
                    .unwrap_or_else(|| {
                        panic!("the {lang} language model is missing from the build")
                    })
                    .contents();
                fst::Map::new(bytes)
                    .unwrap_or_else(|e| panic!("the {lang} language model is corrupt: {e}"))
            })
            .collect()
    })
}

/// What the models say of one word: per language, the summed log-probabilities of its
/// n-grams of each length (a missing n-gram backs off to its longest known prefix, as Lingua
/// does).
#[derive(Debug, Clone, Copy)]
struct WordScore {
    sums: [[f32; 5]; N],
    /// Whether every order is summed; otherwise trigrams only (all a long text reads).
    full: bool,
}

/// What the threads of a process have already scored, shared: a word one of them has looked
/// up in the models, the others need not look up again. Emptied when full.
struct Shared<K, V> {
    map: RwLock<FxHashMap<K, V>>,
    cap: usize,
}

impl<K: Hash + Eq, V: Copy> Shared<K, V> {
    fn new(cap: usize) -> Self {
        Shared {
            map: RwLock::default(),
            cap,
        }
    }

    fn get<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        let map = self.map.read().unwrap_or_else(PoisonError::into_inner);
        map.get(key).copied()
    }

    fn insert(&self, key: K, value: V) {
        let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= self.cap {
            map.clear();
        }
        map.insert(key, value);
    }
}

/// Word scores remembered: words follow Zipf's law, most of them come back soon.
static WORDS: LazyLock<Shared<Box<str>, WordScore>> = LazyLock::new(|| Shared::new(200_000));

/// N-gram scores remembered: far fewer than words, so a new word is mostly made of n-grams
/// already looked up.
static NGRAMS: LazyLock<Shared<u128, [f32; N]>> = LazyLock::new(|| Shared::new(400_000));

/// The cache key of a word's n-gram: up to five chars of 21 bits, and its length.
fn ngram_key(gram: &str) -> u128 {
    gram.chars()
        .fold(gram.len() as u128, |k, c| k << 21 | c as u128)
}

/// Each model's log-probability of the n-gram of `n` chars that starts `window` (its char
/// boundaries, from its start, in `bounds`: five chars at most), backing off to its longest
/// known prefix as Lingua does. Every n-gram starting there is the prefix of the window's
/// longest one: one walk down each model reads them all, and remembers them all.
fn ngram_score(
    word: &str,
    bounds: &[usize],
    n: usize,
    models: &[fst::Map<&'static [u8]>],
) -> [f32; N] {
    let start = bounds[0];
    if let Some(hit) = NGRAMS.get(&ngram_key(&word[start..bounds[n]])) {
        return hit;
    }
    let chars = bounds.len() - 1;
    let window = &word.as_bytes()[start..bounds[chars]];
    // per order (1 to `chars`), per model
    let mut orders = [[0.0f32; N]; 5];
    for (l, model) in models.iter().enumerate() {
        let fst = model.as_fst();
        let mut node = fst.root();
        let mut out = fst::raw::Output::zero();
        // the longest prefix known so far (0 when none is)
        let mut known = 0.0f32;
        let mut k = 1;
        for (j, &b) in window.iter().enumerate() {
            let Some(t) = node.find_input(b) else { break };
            let t = node.transition(t);
            out = out.cat(t.out);
            node = fst.node(t.addr);
            if start + j + 1 == bounds[k] {
                if node.is_final() {
                    known = f64::from_bits(out.cat(node.final_output()).value()) as f32;
                }
                orders[k - 1][l] = known;
                k += 1;
            }
        }
        // past where the model knows nothing longer, each order backs off to the same prefix
        for o in &mut orders[k - 1..chars] {
            o[l] = known;
        }
    }
    for k in 1..=chars {
        NGRAMS.insert(ngram_key(&word[start..bounds[k]]), orders[k - 1]);
    }
    orders[n - 1]
}

/// Where each char of `word` starts, and its end.
fn char_bounds(word: &str) -> Vec<usize> {
    word.char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(word.len()))
        .collect()
}

/// The word's scores: every order when `full`, else at least its trigrams.
fn score_word(word: &str, full: bool) -> WordScore {
    if let Some(hit) = WORDS.get(word) {
        if hit.full || !full {
            return hit;
        }
    }
    let models = models();
    let bounds = char_bounds(word);
    let chars = bounds.len() - 1;
    let mut score = WordScore {
        sums: [[0.0; 5]; N],
        full,
    };
    let orders = if full {
        1..=5.min(chars)
    } else {
        3..=3.min(chars)
    };
    for n in orders {
        for i in 0..=chars - n {
            let gram = ngram_score(word, &bounds[i..=(i + 5).min(chars)], n, models);
            for (sums, g) in score.sums.iter_mut().zip(gram) {
                sums[n - 1] += g;
            }
        }
    }
    WORDS.insert(word.into(), score);
    score
}

/// The probability of each modelled language for these words (lowercase letters only), the
/// way Lingua weighs them: n-grams of 1 to 5 letters below 120 letters, trigrams above; each
/// language's log-likelihood divided by how many letters it knows, then a softmax. `None` when
/// no language knows any of them.
fn ngram_probabilities(words: &[&str]) -> Option<[f64; N]> {
    let letters: usize = words.iter().map(|w| w.chars().count()).sum();
    let full = letters < 120;
    let orders = if full { 0..5 } else { 2..3 };
    let mut totals = [0.0f64; N];
    for w in words {
        let s = score_word(w, full);
        for (total, sums) in totals.iter_mut().zip(&s.sums) {
            *total += sums[orders.clone()].iter().map(|&x| x as f64).sum::<f64>();
        }
    }
    // Lingua divides by the number of distinct letters each language knows
    let mut distinct: Vec<char> = words.iter().flat_map(|w| w.chars()).collect();
    distinct.sort_unstable();
    distinct.dedup();
    let mut unigrams = [0u32; N];
    for c in distinct {
        let known = known_letter(c);
        for (l, u) in unigrams.iter_mut().enumerate() {
            *u += (known >> l & 1) as u32;
        }
    }
    let mut known = false;
    let mut logits = [f64::NEG_INFINITY; N];
    for l in 0..N {
        if totals[l] < 0.0 {
            known = true;
            logits[l] = totals[l] / unigrams[l].max(1) as f64;
        }
    }
    if !known {
        return None;
    }
    let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut p = [0.0; N];
    let mut sum = 0.0;
    for l in 0..N {
        p[l] = (logits[l] - max).exp();
        sum += p[l];
    }
    p.iter_mut().for_each(|x| *x /= sum);
    Some(p)
}

/// Which models know the letter `c`, as a bit per language.
fn known_letter(c: char) -> u8 {
    thread_local! {
        static LETTERS: RefCell<FxHashMap<char, u8>> = RefCell::default();
    }
    if let Some(k) = LETTERS.with(|m| m.borrow().get(&c).copied()) {
        return k;
    }
    let mut buf = [0u8; 4];
    let key = c.encode_utf8(&mut buf);
    let known = models()
        .iter()
        .enumerate()
        .filter(|(_, m)| m.contains_key(&*key))
        .fold(0u8, |acc, (l, _)| acc | 1 << l);
    LETTERS.with(|m| m.borrow_mut().insert(c, known));
    known
}

fn in_modelled(lang: Lang) -> bool {
    MODELLED.contains(&lang)
}

/// Detects the language of `text`, with `hint` the language its source declares and the
/// default priors (French and English expected).
pub fn detect_lang(text: &str, hint: Option<Lang>) -> Detected {
    let sample = &text[..detect_cut(text)];
    detect_lang_tokens(sample, &tokenize(sample), hint, &LangPriors::default())
}

/// Where detection stops reading `text` (a char boundary).
pub fn detect_cut(text: &str) -> usize {
    let mut cut = text.len().min(MAX_DETECT_BYTES);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    cut
}

/// Byte ranges of links, e-mail addresses and bare domains: whitespace-separated chunks with
/// `://`, `www.`, an inner `@`, or a dot between letters.
fn link_spans(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    for chunk in text.split_whitespace() {
        // a slice of `text`: where it starts is how far its first byte is from text's
        let start = chunk.as_ptr() as usize - text.as_ptr() as usize;
        let pos = start + chunk.len();
        let trimmed = chunk.trim_end_matches(|c: char| !c.is_alphanumeric() && c != '/');
        let b = trimmed.as_bytes();
        let dotted = b
            .windows(3)
            .any(|w| w[1] == b'.' && w[0].is_ascii_alphanumeric() && w[2].is_ascii_alphabetic());
        let inner_at = trimmed
            .find('@')
            .is_some_and(|i| i > 0 && i + 1 < trimmed.len());
        if trimmed.contains("://") || trimmed.starts_with("www.") || dotted || inner_at {
            spans.push((start, pos));
        }
    }
    spans
}

/// Whether a word written like this is an acronym in a mixed-case text: two to four letters,
/// all capitals.
fn is_acronym(word: &str) -> bool {
    let n = word.chars().count();
    (2..=4).contains(&n) && word.chars().all(|c| c.is_uppercase())
}

/// The words that are evidence of the language, joined by spaces (French elisions kept glued
/// to their word), how many there are, and the weight of each word that votes for a language
/// (chat abbreviations, set apart from the words, and common words).
struct Evidence {
    words: String,
    n: usize,
    votes: Vec<(Lang, f64)>,
}

fn evidence(text: &str, tokens: &[Token], priors: &LangPriors, strict: bool) -> Evidence {
    let links = link_spans(text);
    let in_link = |t: &Token| links.iter().any(|&(s, e)| t.start >= s && t.end <= e);
    let words: Vec<&Token> = tokens
        .iter()
        .filter(|t| matches!(t.kind, TokenKind::Word | TokenKind::Elision))
        .collect();
    // in a text written in capitals, capitals say nothing
    let mixed_case = text.chars().any(|c| c.is_lowercase());
    let mut out = String::new();
    let mut n = 0;
    let mut votes = Vec::new();
    let mut skip = 0;
    for (i, t) in tokens.iter().enumerate() {
        if skip > 0 {
            skip -= 1;
            continue;
        }
        if !matches!(t.kind, TokenKind::Word | TokenKind::Elision) || in_link(t) {
            continue;
        }
        let original = &text[t.range()];
        if original.chars().any(|c| c.is_ascii_digit()) {
            continue;
        }
        if let Some(l) = chat_lang(&t.folded) {
            votes.push((l, CHAT_WEIGHT));
            n += 1;
            continue;
        }
        if strict {
            let name = priors.name_at(tokens, i);
            if name > 0 {
                skip = name - 1;
                continue;
            }
            if mixed_case && words.len() > 1 && is_acronym(original) {
                continue;
            }
        }
        if !out.is_empty() && !out.ends_with(['\'', '\u{2019}']) {
            out.push(' ');
        }
        out.push_str(original);
        n += 1;
        if let Some(l) = common_word_lang(&t.folded) {
            votes.push((l, WORD_WEIGHT));
        }
    }
    Evidence {
        words: out,
        n,
        votes,
    }
}

/// [`detect_lang`] over tokens already made, with explicit priors: only tokens ending before
/// [`detect_cut`] count.
pub fn detect_lang_tokens(
    text: &str,
    tokens: &[Token],
    hint: Option<Lang>,
    priors: &LangPriors,
) -> Detected {
    let cut = detect_cut(text);
    let sample = &text[..cut];
    let tokens = &tokens[..tokens.partition_point(|t| t.end <= cut)];
    let mut ev = evidence(sample, tokens, priors, true);
    if ev.n == 0 {
        // only names and acronyms: they are all there is to read
        ev = evidence(sample, tokens, priors, false);
    }
    let Evidence { words, n, votes } = ev;
    if n == 0 {
        return Detected {
            lang: hint.unwrap_or(Lang::Und),
            confidence: 0.0,
        };
    }
    // another script than the modelled languages': whatlang knows it
    let latin = whatlang::detect_script(&words).is_none_or(|s| s == whatlang::Script::Latin);
    let mut info = None;
    if !latin {
        info = whatlang::detect(&words);
        if let Some(info) = &info {
            if info.script() != whatlang::Script::Latin {
                return Detected {
                    lang: from_whatlang(info.lang()),
                    confidence: info.confidence(),
                };
            }
        }
    }
    // the language the source declares, written with its common words (a quarter of the
    // words at least) and none of another's: the n-gram models would only confirm it
    if let Some(h) = hint.filter(|_| latin) {
        let own = votes.iter().filter(|(v, _)| *v == h).count();
        let confirmed =
            own >= CONFIRMING_WORDS && own * 4 >= n || own >= SURE_WORDS && own * 6 >= n;
        if confirmed && own == votes.len() {
            return Detected {
                lang: h,
                confidence: vote_confidence(h, hint, &votes, priors),
            };
        }
    }
    // the n-gram models read lowercase runs of letters, as far as they need
    let lower = words[..cut_at(&words, MAX_NGRAM_BYTES)].to_lowercase();
    let letter_runs: Vec<&str> = lower
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
        .collect();
    let mut probs = ngram_probabilities(&letter_runs);
    if probs.is_none() && !votes.is_empty() {
        // nothing but chat abbreviations: they decide
        probs = Some([1.0 / N as f64; N]);
    }
    let mut best: Option<(Lang, f64)> = None;
    let mut total = 0.0;
    for (l, &lang) in MODELLED.iter().enumerate() {
        let Some(p) = probs.map(|p| p[l]) else { break };
        // votes settle a few words; past that the n-grams know better
        let vote: f64 = votes
            .iter()
            .filter(|(v, _)| *v == lang && n < LONG_TAIL_WORDS)
            .map(|(_, w)| w)
            .product::<f64>()
            .min(MAX_VOTE);
        let p = p * priors.weight(lang, hint) * vote;
        total += p;
        if best.is_none_or(|(_, b)| p > b) {
            best = Some((lang, p));
        }
    }
    // the language the source declares, which the models choose on their own: no long tail
    // to look for
    if let (Some(h), Some((lang, p)), Some(probs)) = (hint, best, probs) {
        let l = MODELLED.iter().position(|&m| m == lang);
        if h == lang && total > 0.0 && l.is_some_and(|l| probs[l] >= CONFIRMED) {
            return Detected {
                lang,
                confidence: p / total,
            };
        }
        // or which the models prefer on their own, and its common words say too, none of
        // another language's: a long-tail language does not write that way
        let own = votes.iter().filter(|(v, _)| *v == h).count();
        let top = probs.iter().copied().fold(0.0, f64::max);
        if h == lang
            && total > 0.0
            && own >= CONFIRMING_WORDS
            && own == votes.len()
            && l.is_some_and(|l| probs[l] >= top)
        {
            return Detected {
                lang,
                confidence: p / total,
            };
        }
    }
    // whatlang reads the whole sample: asked only when its verdict can count (the long tail
    // on enough words, or the models at a loss)
    let at_a_loss = !matches!(best, Some((_, p)) if total > 0.0 && p > 0.0);
    if latin && (n >= LONG_TAIL_WORDS || at_a_loss) {
        info = whatlang::detect(&words);
    }
    // the long tail: a language the models do not choose among, which whatlang is sure of on a
    // text long enough, or which the source declares and nothing contradicts
    let foreign = info
        .as_ref()
        .map(|i| from_whatlang(i.lang()))
        .filter(|l| !in_modelled(*l));
    if let (Some(info), Some(other)) = (&info, foreign) {
        if info.is_reliable() && n >= LONG_TAIL_WORDS {
            return Detected {
                lang: other,
                confidence: info.confidence(),
            };
        }
    }
    if let Some(h) = hint.filter(|h| !in_modelled(*h)) {
        if n < LONG_TAIL_WORDS || foreign == Some(h) {
            return Detected {
                lang: h,
                confidence: 0.5,
            };
        }
    }
    match best {
        Some((lang, p)) if total > 0.0 && p > 0.0 => Detected {
            lang,
            confidence: p / total,
        },
        // the models could not tell (letters none of them knows)
        _ => match (info, hint) {
            (_, Some(h)) => Detected {
                lang: h,
                confidence: 0.5,
            },
            (Some(info), None) => Detected {
                lang: from_whatlang(info.lang()),
                confidence: info.confidence(),
            },
            (None, None) => Detected {
                lang: Lang::Und,
                confidence: 0.0,
            },
        },
    }
}

/// The share of `lang` among the modelled languages when the n-grams are not read: each
/// language's prior times its votes.
fn vote_confidence(
    lang: Lang,
    hint: Option<Lang>,
    votes: &[(Lang, f64)],
    priors: &LangPriors,
) -> f64 {
    let weight = |l: Lang| {
        let vote: f64 = votes
            .iter()
            .filter(|(v, _)| *v == l)
            .map(|(_, w)| w)
            .product();
        priors.weight(l, hint) * vote.min(MAX_VOTE)
    };
    let total: f64 = MODELLED.iter().map(|&l| weight(l)).sum();
    if total > 0.0 {
        weight(lang) / total
    } else {
        0.0
    }
}

/// French or English, by trigrams alone, for a short piece of text already known to be one of
/// the two (a sentence of a post): a choice between two is far surer than among seventy.
pub fn french_or_english(text: &str) -> Option<(Lang, f64)> {
    static DETECTOR: OnceLock<whatlang::Detector> = OnceLock::new();
    let d = DETECTOR.get_or_init(|| {
        whatlang::Detector::with_allowlist(vec![whatlang::Lang::Fra, whatlang::Lang::Eng])
    });
    let info = d.detect(&text[..detect_cut(text)])?;
    Some((from_whatlang(info.lang()), info.confidence()))
}

impl<'a> Analyzed<'a> {
    /// Tokenises `text` once, detects its language from those tokens (`hint` is the language
    /// its source declares; French and English are expected), and stems in that language.
    pub fn detect(text: &'a str, hint: Option<Lang>) -> (Self, Detected) {
        Self::detect_with(text, hint, &LangPriors::default())
    }

    /// [`Analyzed::detect`] with the priors of a set of watches (their languages, their
    /// brands' names).
    pub fn detect_with(text: &'a str, hint: Option<Lang>, priors: &LangPriors) -> (Self, Detected) {
        let tokens = tokenize(text);
        let detected = detect_lang_tokens(text, &tokens, hint, priors);
        (Self::with_tokens(text, detected.lang, tokens), detected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lang(text: &str) -> Lang {
        detect_lang(text, None).lang
    }

    #[test]
    fn detects_french_and_english_sentences() {
        assert_eq!(
            lang("Acme est vraiment génial, je recommande ce produit à tout le monde !"),
            Lang::Fr
        );
        assert_eq!(
            lang("The weather is really nice today, let us go for a long walk."),
            Lang::En
        );
        assert_eq!(
            lang("Acme ne répond toujours pas à mes messages depuis une semaine."),
            Lang::Fr
        );
    }

    #[test]
    fn short_french_posts_are_french() {
        for text in ["SFR en panne", "Livebox HS", "Sosh trop cher"] {
            assert_eq!(lang(text), Lang::Fr, "{text}");
        }
        let brands = LangPriors::new([Lang::Fr, Lang::En], ["SFR", "Livebox", "Sosh"]);
        for text in ["SFR en panne", "Livebox HS", "Sosh trop cher"] {
            let d = detect_lang_tokens(text, &tokenize(text), None, &brands);
            assert_eq!(d.lang, Lang::Fr, "{text}, brands known");
        }
    }

    #[test]
    fn hashtags_links_and_handles_are_no_evidence() {
        let tweets = [
            "@united #fail #UA123 http://t.co/x1Ab2 flight delayed again",
            "@AmericanAir thanks for nothing #AAfail #neveragain https://t.co/Zq9 #customerservice",
            "@SouthwestAir #DestinationDragons #LasVegas http://t.co/abc love this",
            "#Paris #vacances #soleil @JetBlue http://t.co/k3 great crew on my flight",
        ];
        for t in tweets {
            assert_eq!(lang(t), Lang::En, "{t}");
        }
        assert_eq!(
            lang("#BlackFriday @orange https://boutique.orange.fr encore une panne de ma box"),
            Lang::Fr
        );
    }

    #[test]
    fn capitals_are_read_like_any_text() {
        assert_eq!(lang("LIVEBOX EN PANNE DEPUIS HIER"), Lang::Fr);
        assert_eq!(lang("WORST CUSTOMER SERVICE EVER"), Lang::En);
    }

    #[test]
    fn short_texts_fall_back_to_the_hint() {
        assert_eq!(detect_lang("Ouigo 🚄", Some(Lang::Fr)).lang, Lang::Fr);
        assert_eq!(detect_lang("", Some(Lang::En)).lang, Lang::En);
        assert_eq!(detect_lang("1234 !!!", None).lang, Lang::Und);
        assert_eq!(detect_lang("super", Some(Lang::De)).lang, Lang::De);
    }

    #[test]
    fn other_languages_flow_through() {
        assert_eq!(
            lang("Die Lieferung ist leider immer noch nicht angekommen, und der Kundendienst antwortet nicht."),
            Lang::De
        );
        assert_eq!(
            lang("Dostawa wciąż nie dotarła, a obsługa klienta w ogóle nie odpowiada na moje wiadomości."),
            Lang::Other("pl")
        );
        assert_eq!(
            lang("Η παράδοση δεν έχει φτάσει ακόμα και η εξυπηρέτηση πελατών δεν απαντά."),
            Lang::Other("el")
        );
        assert_eq!(detect_lang("mdr", None).lang, Lang::Fr);
    }

    #[test]
    fn every_model_loads_and_scores() {
        assert_eq!(models().len(), N);
        let p = ngram_probabilities(&["bonjour", "tout", "le", "monde"]).expect("known words");
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        assert_eq!(
            p.iter().cloned().fold(0.0, f64::max),
            p[0],
            "French first: {p:?}"
        );
    }

    #[test]
    fn one_walk_reads_each_ngram_as_its_own_lookup_would() {
        // each n-gram looked up alone, backing off to its longest known prefix
        let alone = |gram: &str| -> [f32; N] {
            let ends = char_bounds(gram);
            let mut out = [0.0f32; N];
            for (o, model) in out.iter_mut().zip(models()) {
                if let Some(bits) = ends[1..]
                    .iter()
                    .rev()
                    .find_map(|&end| model.get(&gram[..end]))
                {
                    *o = f64::from_bits(bits) as f32;
                }
            }
            out
        };
        let models = models();
        for word in [
            "réclamation",
            "qqqqzzzz",
            "straße",
            "über",
            "açaí",
            "xylophone",
            "ñandú",
        ] {
            let bounds = char_bounds(word);
            let chars = bounds.len() - 1;
            for n in 1..=5.min(chars) {
                for i in 0..=chars - n {
                    let gram = &word[bounds[i]..bounds[i + n]];
                    let walked = ngram_score(word, &bounds[i..=(i + 5).min(chars)], n, models);
                    assert_eq!(walked, alone(gram), "{gram} in {word}");
                }
            }
        }
    }

    #[test]
    fn french_or_english_decides_short_sentences() {
        assert_eq!(
            french_or_english("Orange publishes its quarterly network coverage report.")
                .map(|x| x.0),
            Some(Lang::En)
        );
        assert_eq!(
            french_or_english("Débit catastrophique sur la fibre ce soir.").map(|x| x.0),
            Some(Lang::Fr)
        );
    }
}
