//! Trained models: linear classifiers over hashed features, fastText-style, that read a text the
//! way the rest of the analysis does (tokens, the lexicon's score, the expectation cues) and say
//! which words weighed most.
//!
//! Three models ship in `models/`, built into the binary:
//!
//! - `sentiment-en.bin` and `sentiment-fr.bin`: negative / neutral / positive (softmax); the score
//!   in [-1, 1] is P(positive) − P(negative);
//! - `expectation.bin`: complaint and wish, each its own probability (sigmoid) and its own
//!   thresholds, tuned on development data and stored with the weights: one where the cues found
//!   that kind (the model confirms or overrules them), a higher one where they did not (the model
//!   alone). The model learnt from English only: in French the cues decide. Requests ("call me back",
//!   "still waiting for an answer") have no labelled corpus: the cues decide them.
//!
//! `cargo run --release --example train` rebuilds every file from `../shared/corpora` (training
//! and development splits only) and prints the development scores; `models/README.md` lists the
//! sources and their licences.
//!
//! **Features** ([`features`]), all hashed into [`BUCKETS`] buckets: each word (folded) and each
//! pair of neighbouring words; the character 3- to 5-grams of each word, so that "remboursé" and
//! "remboursement" share evidence and typos still count; words in the scope of a negation
//! ("not good", "pas terrible", up to three words or the end of the clause) as features of their
//! own; emoji and emoticons; `!`, `?`, words in capitals; the last word (a "merci" that closes a
//! complaint); `#not` / `#sarcasme`. The problem a writer got in touch for ("réactif pour un
//! souci de carte bloquée") is left out: it is the occasion, not the judgement. Global features: the lexicon's score of the same range (its
//! rules: intensifiers, contrast, negation), and the expectation cues found there. URLs, `@handles`,
//! numbers' values and the brand names of the watch carry no evidence: a model must not learn that
//! one airline is hated.
//!
//! **File format** (little-endian): magic `VIGIEMDL`, format version, feature-scheme version,
//! kind (0 softmax, 1 sigmoid), classes, buckets, feature families, lexicon share, weight scale,
//! per class a bias and two thresholds (f32), the weights (i16, bucket-major), and the xxh3-64 of everything before it.

use std::ops::Range;
use std::sync::LazyLock;

use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

use crate::analyze::lang::Lang;
use crate::analyze::sentiment;
use crate::analyze::text::{Analyzed, TokenKind, WordSet};
use crate::doc::{ExpectationKind, Label, Reason, Sentiment};

/// Hashed feature space of every model.
pub const BUCKETS: usize = 1 << 18;
const MAGIC: &[u8; 8] = b"VIGIEMDL";
/// The layout of the file.
const FORMAT: u32 = 1;
/// The way [`features`] reads a text: a model trained under another scheme is refused.
pub const FEATURE_SCHEME: u32 = 3;

/// How a model turns its scores into probabilities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One class out of several.
    Softmax,
    /// Each class on its own (a text can be both a complaint and a wish).
    Sigmoid,
}

/// Why a weights file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("model {name}: {what}; rebuild the weights with `cargo run --release --example train` (see models/README.md)")]
    Invalid { name: String, what: String },
}

/// A linear model over hashed features.
#[derive(Debug, Clone)]
pub struct Linear {
    pub kind: Kind,
    pub classes: usize,
    pub bias: Vec<f32>,
    /// Decision threshold per class (sigmoid models) where the cues saw something of that class.
    pub thresholds: Vec<f32>,
    /// Decision threshold per class where no cue of that class fired: the model alone.
    pub alone: Vec<f32>,
    /// The feature families it reads (see [`family`]).
    pub families: u32,
    /// Sentiment models: the share of the lexicon's score in the model's score.
    pub blend: f32,
    scale: f32,
    weights: Vec<i16>,
}

impl Linear {
    /// A model from unquantised weights (`weights[bucket * classes + class]`).
    pub fn from_f32(
        kind: Kind,
        families: u32,
        blend: f32,
        bias: Vec<f32>,
        thresholds: Vec<f32>,
        alone: Vec<f32>,
        weights: &[f32],
    ) -> Self {
        let classes = bias.len();
        assert_eq!(weights.len(), BUCKETS * classes);
        let max = weights.iter().fold(0f32, |m, w| m.max(w.abs()));
        let scale = if max > 0.0 { max / 32767.0 } else { 1.0 };
        Linear {
            kind,
            classes,
            bias,
            thresholds,
            alone,
            families,
            blend,
            scale,
            weights: weights
                .iter()
                .map(|w| (w / scale).round().clamp(-32767.0, 32767.0) as i16)
                .collect(),
        }
    }

    /// The file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(64 + self.weights.len() * 2);
        b.extend_from_slice(MAGIC);
        for v in [
            FORMAT,
            FEATURE_SCHEME,
            match self.kind {
                Kind::Softmax => 0,
                Kind::Sigmoid => 1,
            },
            self.classes as u32,
            BUCKETS as u32,
            self.families,
        ] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        b.extend_from_slice(&self.blend.to_le_bytes());
        b.extend_from_slice(&self.scale.to_le_bytes());
        for v in self.bias.iter().chain(&self.thresholds).chain(&self.alone) {
            b.extend_from_slice(&v.to_le_bytes());
        }
        for w in &self.weights {
            b.extend_from_slice(&w.to_le_bytes());
        }
        let sum = xxh3_64(&b);
        b.extend_from_slice(&sum.to_le_bytes());
        b
    }

    /// Reads a weights file, checking its version and checksum.
    pub fn parse(name: &str, bytes: &[u8]) -> Result<Self, ModelError> {
        let bad = |what: String| ModelError::Invalid {
            name: name.to_string(),
            what,
        };
        if bytes.len() < 8 + 6 * 4 + 8 + 8 || &bytes[..8] != MAGIC {
            return Err(bad("not a vigie weights file".into()));
        }
        let (body, sum) = bytes.split_at(bytes.len() - 8);
        let sum = u64::from_le_bytes(sum.try_into().expect("8 bytes"));
        if xxh3_64(body) != sum {
            return Err(bad("checksum mismatch (the file is damaged)".into()));
        }
        let u32_at = |i: usize| u32::from_le_bytes(body[i..i + 4].try_into().expect("4 bytes"));
        let f32_at = |i: usize| f32::from_le_bytes(body[i..i + 4].try_into().expect("4 bytes"));
        let (format, scheme, kind, classes, buckets) =
            (u32_at(8), u32_at(12), u32_at(16), u32_at(20), u32_at(24));
        if format != FORMAT {
            return Err(bad(format!(
                "file format {format}, this build reads {FORMAT}"
            )));
        }
        if scheme != FEATURE_SCHEME {
            return Err(bad(format!(
                "trained on feature scheme {scheme}, this build computes scheme {FEATURE_SCHEME}"
            )));
        }
        let kind = match kind {
            0 => Kind::Softmax,
            1 => Kind::Sigmoid,
            k => return Err(bad(format!("unknown model kind {k}"))),
        };
        let classes = classes as usize;
        if buckets as usize != BUCKETS || !(1..=8).contains(&classes) {
            return Err(bad(format!("{classes} classes over {buckets} buckets")));
        }
        let families = u32_at(28);
        if families & !family::KNOWN != 0 {
            return Err(bad(format!(
                "reads feature families {:#b}, this build computes {:#b}",
                families,
                family::KNOWN
            )));
        }
        let blend = f32_at(32);
        let scale = f32_at(36);
        let mut at = 40;
        let mut floats = |n: usize| {
            let v: Vec<f32> = (0..n).map(|i| f32_at(at + 4 * i)).collect();
            at += 4 * n;
            v
        };
        let bias = floats(classes);
        let thresholds = floats(classes);
        let alone = floats(classes);
        let expected = at + BUCKETS * classes * 2;
        if body.len() != expected {
            return Err(bad(format!(
                "{} bytes of weights, {} expected",
                body.len().saturating_sub(at),
                expected - at
            )));
        }
        let weights = body[at..]
            .chunks_exact(2)
            .map(|c| i16::from_le_bytes([c[0], c[1]]))
            .collect();
        Ok(Linear {
            kind,
            classes,
            bias,
            thresholds,
            alone,
            families,
            blend,
            scale,
            weights,
        })
    }

    /// The weight of `bucket` for `class`.
    #[inline]
    pub fn weight(&self, bucket: u32, class: usize) -> f32 {
        f32::from(self.weights[bucket as usize * self.classes + class]) * self.scale
    }

    /// Raw scores (logits) of each class.
    pub fn logits(&self, f: &Features) -> Vec<f32> {
        // the rows are scattered over a table larger than the caches: all asked for at once,
        // they arrive together instead of one wait per feature
        for (h, _, _) in f.iter(self.families) {
            prefetch(&self.weights, h as usize * self.classes);
        }
        let mut out = self.bias.clone();
        for (h, v, _) in f.iter(self.families) {
            let row = &self.weights[h as usize * self.classes..(h as usize + 1) * self.classes];
            for (o, w) in out.iter_mut().zip(row) {
                *o += f32::from(*w) * self.scale * v;
            }
        }
        out
    }

    /// Probabilities of each class.
    pub fn probabilities(&self, f: &Features) -> Vec<f32> {
        probabilities(self.kind, self.logits(f))
    }

    /// What bucket `h` weighs for `class`: its weight, or for a softmax its weight less the
    /// mean of the other classes' weights.
    fn weight_for(&self, h: u32, class: usize) -> f32 {
        match self.kind {
            Kind::Sigmoid => self.weight(h, class),
            Kind::Softmax => {
                let others = (0..self.classes)
                    .filter(|&c| c != class)
                    .map(|c| self.weight(h, c))
                    .sum::<f32>()
                    / (self.classes - 1).max(1) as f32;
                self.weight(h, class) - others
            }
        }
    }

    /// What the features of the lexicon's score weighed for `class`, together.
    pub fn lexicon_contribution(&self, f: &Features, class: usize) -> f32 {
        f.iter(self.families)
            .filter(|&(_, _, t)| t == LEXICON_TOKEN)
            .map(|(h, v, _)| self.weight_for(h, class) * v)
            .sum()
    }

    /// What each token contributed to `class` (against the other classes of a softmax model):
    /// `(token index, contribution)`, strongest first, contributions under `min` left out.
    pub fn contributions(&self, f: &Features, class: usize, min: f32) -> Vec<(u32, f32)> {
        let (lo, hi) = f
            .tokens
            .iter()
            .filter(|&&t| is_token(t))
            .fold((u32::MAX, 0), |(lo, hi), &t| (lo.min(t), hi.max(t)));
        if lo > hi {
            return Vec::new();
        }
        // one slot per token of the range: a long text has thousands of features
        let mut by_token = vec![0f32; (hi - lo + 1) as usize];
        for (h, v, t) in f.iter(self.families) {
            if is_token(t) {
                by_token[(t - lo) as usize] += self.weight_for(h, class) * v;
            }
        }
        let mut out: Vec<(u32, f32)> = by_token
            .into_iter()
            .enumerate()
            .filter(|(_, c)| *c >= min)
            .map(|(i, c)| (lo + i as u32, c))
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1));
        out
    }
}

/// Asks the processor to bring `table[at]` into the cache (no effect where it cannot).
#[inline(always)]
fn prefetch<T>(table: &[T], at: usize) {
    #[cfg(target_arch = "x86_64")]
    if let Some(x) = table.get(at) {
        // SAFETY: a prefetch reads nothing and cannot fault; the address is in the table
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                (x as *const T).cast::<i8>(),
            )
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (table, at);
}

/// Softmax or per-class sigmoid of `logits`.
pub fn probabilities(kind: Kind, mut logits: Vec<f32>) -> Vec<f32> {
    match kind {
        Kind::Sigmoid => {
            for l in &mut logits {
                *l = 1.0 / (1.0 + (-*l).exp());
            }
        }
        Kind::Softmax => {
            let max = logits.iter().fold(f32::NEG_INFINITY, |m, &l| m.max(l));
            let mut sum = 0.0;
            for l in &mut logits {
                *l = (*l - max).exp();
                sum += *l;
            }
            for l in &mut logits {
                *l /= sum;
            }
        }
    }
    logits
}

/// The shipped models.
pub struct Models {
    pub sentiment_en: Linear,
    pub sentiment_fr: Linear,
    /// Classes: [`EXPECTATION_CLASSES`].
    pub expectation: Linear,
}

/// The classes of the expectation model, in order.
pub const EXPECTATION_CLASSES: [ExpectationKind; 2] =
    [ExpectationKind::Complaint, ExpectationKind::Wish];

static MODELS: LazyLock<Result<Models, ModelError>> = LazyLock::new(|| {
    let sentiment_en = Linear::parse(
        "models/sentiment-en.bin",
        include_bytes!("../../models/sentiment-en.bin"),
    )?;
    let sentiment_fr = Linear::parse(
        "models/sentiment-fr.bin",
        include_bytes!("../../models/sentiment-fr.bin"),
    )?;
    let expectation = Linear::parse(
        "models/expectation.bin",
        include_bytes!("../../models/expectation.bin"),
    )?;
    let shape = |m: &Linear, name: &str, kind: Kind, classes: usize| {
        if m.kind != kind || m.classes != classes {
            Err(ModelError::Invalid {
                name: name.into(),
                what: format!("{} classes, {classes} expected", m.classes),
            })
        } else {
            Ok(())
        }
    };
    shape(&sentiment_en, "models/sentiment-en.bin", Kind::Softmax, 3)?;
    shape(&sentiment_fr, "models/sentiment-fr.bin", Kind::Softmax, 3)?;
    shape(
        &expectation,
        "models/expectation.bin",
        Kind::Sigmoid,
        EXPECTATION_CLASSES.len(),
    )?;
    Ok(Models {
        sentiment_en,
        sentiment_fr,
        expectation,
    })
});

/// Loads and checks the shipped models: called once at start so that a damaged build says so
/// before any work.
pub fn check() -> Result<(), &'static ModelError> {
    MODELS.as_ref().map(|_| ())
}

/// The shipped models; [`check`] at start has made sure they load.
pub fn models() -> &'static Models {
    match &*MODELS {
        Ok(m) => m,
        Err(e) => panic!("{e}"),
    }
}

/// Sentiment labels in the order of the sentiment models' classes.
pub const SENTIMENT_CLASSES: [Label; 3] = [Label::Negative, Label::Neutral, Label::Positive];

/// Token index of a feature that belongs to no token (a cue, the bias).
pub const NO_TOKEN: u32 = u32::MAX;
/// Token index of the features of the lexicon's score: they belong to the words the lexicon
/// scored, which [`reasons`] finds again.
pub const LEXICON_TOKEN: u32 = u32::MAX - 1;

/// Whether `t`, a feature's token index, points at a token of the text.
pub fn is_token(t: u32) -> bool {
    t < LEXICON_TOKEN
}

/// The features of one range of a text.
#[derive(Debug, Clone, Default)]
pub struct Features {
    pub buckets: Vec<u32>,
    pub values: Vec<f32>,
    /// The token each feature comes from, or [`NO_TOKEN`].
    pub tokens: Vec<u32>,
    /// The family of each feature (one of [`family`]).
    pub families: Vec<u8>,
    /// The range of the text they were read from, and the words the lexicon's score left out
    /// there (the problem its writer got in touch for).
    pub range: Range<usize>,
    pub occasions: Vec<Range<usize>>,
}

impl Features {
    /// A feature of the sentence families ([`family::MOOD`], [`family::ADVICE`]), named by
    /// its parts, weighing [`MOOD_VALUE`].
    fn push_named(&mut self, family: u8, seed: u64, name: &[&str], token: u32) {
        let h = name
            .iter()
            .fold(seed, |h, part| xxh3_64_with_seed(part.as_bytes(), h));
        self.push(family, h, MOOD_VALUE, token);
    }

    fn push(&mut self, family: u8, hash: u64, value: f32, token: u32) {
        self.buckets.push((hash as usize & (BUCKETS - 1)) as u32);
        self.values.push(value);
        self.tokens.push(token);
        self.families.push(family);
    }

    fn clear(&mut self) {
        self.buckets.clear();
        self.values.clear();
        self.tokens.clear();
        self.families.clear();
        self.occasions.clear();
    }

    /// The features of the families in `mask` (a bit per [`family`]).
    pub fn iter(&self, mask: u32) -> impl Iterator<Item = (u32, f32, u32)> + '_ {
        (0..self.buckets.len())
            .filter(move |&i| mask & (1 << self.families[i]) != 0)
            .map(|i| (self.buckets[i], self.values[i], self.tokens[i]))
    }
}

/// Feature families: a model reads the families of its mask.
pub mod family {
    /// Words, numbers, hashtags, first and last words.
    pub const WORDS: u8 = 0;
    pub const BIGRAMS: u8 = 1;
    /// Character 3- to 5-grams of words.
    pub const CHARS: u8 = 2;
    /// Emoji and emoticons.
    pub const EMOJI: u8 = 3;
    /// Punctuation, capitals, the lexicon's score, the cues, the bias.
    pub const GLOBAL: u8 = 4;
    /// How a sentence asks or advises: the verb it opens with, the modal verbs and who they
    /// are said of ("you should", "it would be nice"), its length (see [`super::mood`]).
    pub const MOOD: u8 = 5;
    /// Advice inside a sentence: a clause that opens with an imperative ("great location, but
    /// avoid the ground floor"), a condition put to the reader ("if you have a car, park
    /// here"), a want or a need and who has it ("we need", "users want") (see [`super::advice`]).
    pub const ADVICE: u8 = 6;
    /// The five families every model reads (the sentiment models read these only).
    pub const ALL: u32 = 0b11111;
    /// The five families but character n-grams.
    pub const NO_CHARS: u32 = ALL & !(1 << CHARS);
    /// What the expectation model reads: words, pairs of words, the mood of the sentences,
    /// emoji, the global features.
    pub const EXPECTATION: u32 = NO_CHARS | 1 << MOOD | 1 << ADVICE;
    /// Every family this build computes: a model that reads another one is refused.
    pub const KNOWN: u32 = ALL | 1 << MOOD | 1 << ADVICE;
}

/// Seeds that keep the feature families apart.
mod seed {
    pub const WORD: u64 = 1;
    pub const NEGATED: u64 = 2;
    pub const BIGRAM: u64 = 3;
    pub const CHARS: u64 = 4;
    pub const EMOJI: u64 = 5;
    pub const GLOBAL: u64 = 6;
    pub const LAST: u64 = 7;
    pub const FIRST: u64 = 8;
    pub const NEGATED_CHARS: u64 = 9;
    pub const MOOD: u64 = 10;
    pub const ADVICE: u64 = 11;
}

/// What else than its words the models know of a range.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context {
    /// The lexicon's score of the range.
    pub lexicon: f64,
    /// Evidence of the expectation cues in the range, per kind (request, complaint, wish), and
    /// whether the cues alone decided that kind.
    pub cues: [(f32, bool); 3],
}

fn cue_slot(kind: ExpectationKind) -> usize {
    match kind {
        ExpectationKind::Request => 0,
        ExpectationKind::Complaint => 1,
        ExpectationKind::Wish => 2,
    }
}

impl Context {
    /// The cues' evidence for `kind`.
    pub fn cue(&self, kind: ExpectationKind) -> f32 {
        self.cues[cue_slot(kind)].0
    }

    /// The cues alone found `kind`.
    pub fn decided(&self, kind: ExpectationKind) -> bool {
        self.cues[cue_slot(kind)].1
    }

    pub fn add_cue(&mut self, kind: ExpectationKind, weight: f32, decided: bool) {
        let slot = &mut self.cues[cue_slot(kind)];
        slot.0 += weight;
        slot.1 |= decided;
    }
}

const NEGATIONS: &[&str] = &[
    "not",
    "no",
    "never",
    "cannot",
    "cant",
    "can't",
    "dont",
    "don't",
    "doesnt",
    "doesn't",
    "didnt",
    "didn't",
    "isnt",
    "isn't",
    "wasnt",
    "wasn't",
    "arent",
    "aren't",
    "werent",
    "weren't",
    "wont",
    "won't",
    "wouldnt",
    "wouldn't",
    "couldnt",
    "couldn't",
    "shouldnt",
    "shouldn't",
    "havent",
    "haven't",
    "hasnt",
    "hasn't",
    "hadnt",
    "hadn't",
    "nor",
    "without",
    "nothing",
    "ne",
    "n",
    "pas",
    "jamais",
    "rien",
    "aucun",
    "aucune",
    "sans",
    "ni",
    "guere",
];
const SARCASM: &[&str] = &["#not", "#sarcasm", "#sarcasme", "#ironie", "#irony"];
const EMOTICONS: &[&str] = &[
    ":)", ":-)", ":(", ":-(", ":D", ":-D", ";)", ";-)", ":/", ":-/", ":'(", "<3", ":p", ":P", "xD",
    "XD", "^^", ":o", ":O", ":|", "-_-", ">:(", ":@",
];
/// Negation scope, in words.
const SCOPE: usize = 3;
/// A clause ends at these.
fn breaks_clause(gap: &str) -> bool {
    gap.contains([',', '.', ';', ':', '!', '?', '(', ')', '\n'])
}

/// A dash between words opens a clause ("great location - avoid the ground floor"); a hyphen
/// inside a word does not.
fn dash(gap: &str) -> bool {
    gap.contains(char::is_whitespace) && gap.contains(['-', '\u{2013}', '\u{2014}'])
}

/// A sentence ends at these.
fn ends_sentence(gap: &str) -> bool {
    gap.contains(['.', '!', '?', '\n'])
}

/// The value of each feature of [`family::MOOD`], about what one word weighs in a sentence of
/// forty features: at 1 these few features outweighed the words (out-of-fold F1 of the
/// SemEval-2019 trial sets 0.763 at 1, 0.780 at 0.4, 0.783 at 0.2, 0.788 at 0.15, 0.785 at
/// 0.1, 0.776 at 0.05; 0.770 without them).
const MOOD_VALUE: f32 = 0.15;

/// Verbs that open an imperative sentence: a request ("add a setting"), advice ("avoid the
/// ground floor").
const IMPERATIVES: &[&str] = &[
    "add",
    "allow",
    "make",
    "provide",
    "consider",
    "support",
    "let",
    "give",
    "include",
    "enable",
    "disable",
    "create",
    "remove",
    "change",
    "fix",
    "improve",
    "implement",
    "use",
    "try",
    "check",
    "go",
    "get",
    "take",
    "avoid",
    "book",
    "ask",
    "bring",
    "keep",
    "stop",
    "put",
    "show",
    "open",
    "expose",
    "integrate",
    "offer",
    "update",
    "extend",
    "expand",
    "introduce",
    "rename",
    "merge",
    "restore",
    "display",
    "unlock",
    "publish",
    "increase",
    "reduce",
    "lower",
    "raise",
    "port",
    "release",
    "drop",
    "replace",
    "move",
    "visit",
    "stay",
    "eat",
    "think",
    "look",
    "request",
    "start",
    "build",
    "develop",
    "document",
    "reconsider",
    "send",
    "return",
    "hire",
    "train",
    "clean",
    "upgrade",
    "invest",
    "focus",
    "follow",
    "contact",
    "call",
    "stick",
    "reserve",
    "leave",
    "skip",
    "choose",
    "pick",
    "ensure",
    "note",
    "remember",
    "beware",
    "vote",
    "tell",
    "explain",
    "share",
    "limit",
    "set",
    "turn",
    "simplify",
    "unify",
    "standardize",
    "warn",
    "notify",
    "hide",
    "install",
    "download",
    "be",
    "do",
    "don't",
    "dont",
    "never",
    "please",
];
/// Words said before an imperative that leave it one ("also add", "maybe consider").
const OPENERS: &[&str] = &[
    "also",
    "so",
    "and",
    "then",
    "maybe",
    "perhaps",
    "ideally",
    "just",
    "simply",
    "but",
    "or",
    "now",
    "finally",
    "additionally",
    "alternatively",
    "instead",
    "definitely",
    "really",
];
/// Words between a modal and its verb that change nothing ("should also add").
const ADVERBS: &[&str] = &[
    "also",
    "really",
    "just",
    "definitely",
    "certainly",
    "probably",
    "maybe",
    "perhaps",
    "simply",
    "still",
    "actually",
    "even",
    "only",
    "then",
    "already",
    "ideally",
    "please",
    "at",
    "least",
    "seriously",
    "surely",
    "absolutely",
    "totally",
    "very",
    "much",
    "greatly",
];

static IMPERATIVE: WordSet = WordSet::new(&[IMPERATIVES]);
static OPENER: WordSet = WordSet::new(&[OPENERS]);
static ADVERB: WordSet = WordSet::new(&[ADVERBS]);

/// A modal verb, or a contraction that holds one (`i'd`: "i" and "would"): the subject it
/// holds, the modal, whether it is negated.
fn modal(word: &str) -> Option<(Option<&'static str>, &'static str, bool)> {
    let m = match word {
        "should" | "shall" => (None, "should", false),
        "shouldn't" | "shouldnt" => (None, "should", true),
        "could" => (None, "could", false),
        "couldn't" | "couldnt" => (None, "could", true),
        "would" => (None, "would", false),
        "wouldn't" | "wouldnt" => (None, "would", true),
        "must" => (None, "must", false),
        "mustn't" | "mustnt" => (None, "must", true),
        "might" | "may" => (None, "might", false),
        "can" | "will" => (None, "can", false),
        "can't" | "cant" | "cannot" | "won't" | "wont" => (None, "can", true),
        "i'd" | "we'd" => (Some("self"), "would", false),
        "you'd" => (Some("you"), "would", false),
        "it'd" | "that'd" | "this'd" | "there'd" => (Some("it"), "would", false),
        "they'd" => (Some("they"), "would", false),
        _ => return None,
    };
    Some(m)
}

/// Who a modal is said of, from the word before it.
fn subject(word: Option<&str>) -> &'static str {
    match word {
        None => "none",
        Some("i" | "we") => "self",
        Some("you" | "u" | "ya" | "y'all") => "you",
        Some("it" | "this" | "that" | "there" | "which") => "it",
        Some("they" | "he" | "she") => "they",
        Some(_) => "noun",
    }
}

/// What a modal says: need ("should", "must", "need to"), hypothesis ("would", "could"),
/// ability ("can", "will").
fn modal_class(m: &str) -> &'static str {
    match m {
        "should" | "must" | "need" => "need",
        "would" | "could" | "might" => "hypothesis",
        _ => "ability",
    }
}

/// The mood of a range's sentences, the features of [`family::MOOD`]: the words each sentence
/// opens with and whether they make it an imperative; each modal verb with who it is said of
/// and the verb it governs ("you should add", "it would be nice", "should have been"); the
/// opening of a question; the length of the range in words. Each weighs [`MOOD_VALUE`].
fn mood(sequence: &[(&str, u32, bool)], question: bool, out: &mut Features) {
    let mut push =
        |name: &[&str], token: u32| out.push_named(family::MOOD, seed::MOOD, name, token);
    let word = |i: usize| sequence.get(i).map(|w| w.0);
    for (i, &(w, t, opens)) in sequence.iter().enumerate() {
        if opens {
            let next = word(i + 1).unwrap_or("");
            push(&["opens", w], t);
            push(&["opens", w, next], t);
            if question {
                push(&["question opens", w], t);
            }
            let verb = if OPENER.contains(w) { next } else { w };
            if IMPERATIVE.contains(verb) {
                push(&["imperative"], t);
                push(&["imperative", verb], t);
            }
        }
        if w == "please" {
            push(&["please", word(i + 1).unwrap_or("")], t);
        }
        // "need to", "needs to", "ought to", "has to" count as modals
        let found = match (w, word(i + 1)) {
            ("need" | "needs", Some("to")) => Some((None, "need", false, i + 2)),
            ("ought" | "has" | "have", Some("to")) => Some((None, "need", false, i + 2)),
            _ => modal(w).map(|(s, m, neg)| (s, m, neg, i + 1)),
        };
        let Some((held, m, mut negated, mut next)) = found else {
            continue;
        };
        let who = held.unwrap_or_else(|| subject(if opens || i == 0 { None } else { word(i - 1) }));
        while let Some(a) = word(next) {
            if a == "not" || a == "never" {
                negated = true;
            } else if !ADVERB.contains(a) {
                break;
            }
            next += 1;
        }
        let not = if negated { "not" } else { "" };
        let verb = word(next).unwrap_or("");
        let class = modal_class(m);
        push(&["modal", m, not], t);
        push(&["modal", who, class, not], t);
        push(&["modal", m, not, verb], t);
        push(&["modal", who, m, not, verb], t);
        if verb == "be" || verb == "have" {
            let then = word(next + 1).unwrap_or("");
            push(&["modal", class, not, verb, then], t);
            if verb == "have" && then == "been" {
                push(
                    &["modal", class, "have been", word(next + 2).unwrap_or("")],
                    t,
                );
            }
        }
    }
    let length = match sequence.len() {
        0..=4 => "0",
        5..=9 => "5",
        10..=14 => "10",
        15..=24 => "15",
        25..=39 => "25",
        _ => "40",
    };
    push(&["length", length], NO_TOKEN);
}

/// Conjunctions after which a clause can turn to advice without a comma ("clean rooms but avoid
/// the breakfast", "go early and ask for a quiet room").
const CONJUNCTIONS: &[&str] = &["and", "but", "so", "or", "then", "otherwise", "though"];
/// Words that put a condition to the reader ("if you have a car", "when you arrive", "for
/// anyone travelling with children").
const CONDITIONS: &[&str] = &["if", "when", "unless", "whenever", "before", "once"];
/// Who a want or a need is said of, for [`advice`].
const WANTS: &[&str] = &[
    "need", "needs", "want", "wants", "require", "requires", "expect", "hope", "hoping",
];

static CONJUNCTION: WordSet = WordSet::new(&[CONJUNCTIONS]);
static CONDITION: WordSet = WordSet::new(&[CONDITIONS]);
static WANT: WordSet = WordSet::new(&[WANTS]);

/// Advice inside a sentence, the features of [`family::ADVICE`] (the mood of [`mood`] reads
/// how sentences open; this reads their clauses): a clause that opens with an imperative,
/// after a comma, a dash or a conjunction ("great location, but avoid the ground floor",
/// "don't ask the staff and make sure…"); a condition put to the reader ("if you have a car",
/// "anyone who"), and whether an imperative or "you" with a modal follows it; a want or a
/// need with who has it and what it bears on ("we need a way", "users want"). Each weighs
/// [`MOOD_VALUE`].
fn advice(sequence: &[(&str, u32, bool)], clause_starts: &[bool], out: &mut Features) {
    let mut push =
        |name: &[&str], token: u32| out.push_named(family::ADVICE, seed::ADVICE, name, token);
    let word = |i: usize| sequence.get(i).map_or("", |w| w.0);
    // a condition put to the reader is open until its sentence ends
    let mut condition = false;
    for (i, &(w, t, opens)) in sequence.iter().enumerate() {
        if opens {
            condition = false;
        }
        // opens a clause inside its sentence, or follows a word that does and leaves it
        // one ("…, but avoid", "…, maybe try")
        let opens_clause = |k: usize| clause_starts.get(k).copied().unwrap_or(false);
        let place = if opens {
            None
        } else if opens_clause(i)
            || (i > 0 && opens_clause(i - 1) && !sequence[i - 1].2 && OPENER.contains(word(i - 1)))
        {
            Some("clause")
        } else if i > 0 && CONJUNCTION.contains(word(i - 1)) {
            Some("conjunction")
        } else {
            None
        };
        if let Some(place) = place {
            if IMPERATIVE.contains(w) && w != "do" {
                push(&["imperative", place], t);
                push(&["imperative", place, w], t);
                if condition {
                    push(&["imperative after a condition"], t);
                }
            }
        }
        if CONDITION.contains(w) && matches!(word(i + 1), "you" | "u" | "your" | "you're") {
            condition = true;
            push(&["condition", w, "you"], t);
        }
        if w == "anyone" || w == "whoever" || (w == "those" && word(i + 1) == "who") {
            condition = true;
            push(&["reader", w], t);
        }
        if condition && matches!(w, "you" | "u") && i + 1 < sequence.len() {
            if let Some((_, m, _)) = modal(word(i + 1)) {
                push(&["condition then you", modal_class(m)], t);
            }
        }
        if WANT.contains(w) && i > 0 {
            let who = subject(Some(word(i - 1)));
            let what = match word(i + 1) {
                "to" => "to",
                "a" | "an" | "the" | "some" | "more" | "better" | "proper" => "thing",
                "it" | "this" | "that" | "them" => "it",
                _ => "other",
            };
            push(&["want", who, what], t);
        }
    }
}

/// Byte ranges of the URLs of `text`.
fn urls(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(p) = memchr::memmem::find(&bytes[i..], b"http")
        .map(|p| p + i)
        .or_else(|| memchr::memmem::find(&bytes[i..], b"www.").map(|p| p + i))
    {
        let rest = &text[p..];
        if rest.starts_with("http://") || rest.starts_with("https://") || rest.starts_with("www.") {
            let end = rest
                .find(|c: char| c.is_whitespace())
                .map_or(text.len(), |e| p + e);
            out.push(p..end);
            i = end;
        } else {
            i = p + 4;
        }
        if i >= bytes.len() {
            break;
        }
    }
    out
}

/// Whether the folded `word` negates what follows it.
fn is_negation(word: &str) -> bool {
    static SET: WordSet = WordSet::new(&[NEGATIONS]);
    SET.contains(word)
}

/// What introduces the problem someone got in touch for.
const FOR_A: &[&str] = &["pour", "for", "about", "concernant"];
const A: &[&str] = &["un", "une", "des", "mon", "ma", "mes", "a", "an", "my"];
const PROBLEMS: &[&str] = &[
    "souci",
    "soucis",
    "probleme",
    "problemes",
    "panne",
    "bug",
    "incident",
    "issue",
    "problem",
];

/// The spans that tell what a post's writer got in touch for ("réactif pour un souci de carte
/// bloquée", "quick to help with an issue on my card"), to the end of their clause: the
/// problem is the occasion, not the writer's judgement of the brand, so its words are no
/// evidence of sentiment.
pub fn reasons_for_contact(
    doc: &Analyzed<'_>,
    tokens: &[crate::analyze::text::Token],
    end: usize,
) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    for (i, w) in tokens.windows(3).enumerate() {
        if FOR_A.contains(&w[0].folded.as_str())
            && A.contains(&w[1].folded.as_str())
            && PROBLEMS.contains(&w[2].folded.as_str())
        {
            let start = tokens[i].start;
            let after = tokens[i + 2].end;
            // to the end of the clause the problem's noun is in
            let clause_end = doc.text[after..end.max(after)]
                .find([',', '.', ';', ':', '!', '?', '(', ')', '\n'])
                .map_or(end.max(after), |k| after + k);
            out.push(start..clause_end);
        }
    }
    out
}

fn overlaps(spans: &[Range<usize>], start: usize, end: usize) -> bool {
    spans.iter().any(|s| s.start < end && start < s.end)
}

/// The features of `range` of `doc` into `out` (cleared first). `skip`: byte ranges that carry
/// no evidence (the watch's brand names).
pub fn features(
    doc: &Analyzed<'_>,
    range: Range<usize>,
    skip: &[Range<usize>],
    ctx: &Context,
    out: &mut Features,
) {
    out.clear();
    let text = doc.text;
    let tokens = &doc.tokens[doc.tokens_in(&range)];
    let first = doc.tokens_in(&range).start as u32;
    let urls = urls(&text[range.clone()]);
    let urls: Vec<Range<usize>> = urls
        .into_iter()
        .map(|r| r.start + range.start..r.end + range.start)
        .collect();
    let reasons = reasons_for_contact(doc, tokens, range.end);
    out.range = range.clone();
    out.occasions.extend(reasons.iter().cloned());
    let mut negation = 0usize;
    let mut prev: Option<u64> = None;
    // the words in order, for the mood of the sentences: (word, token, opens a sentence)
    let mut sequence: Vec<(&str, u32, bool)> = Vec::with_capacity(tokens.len());
    let mut sentence_start = true;
    // for each word of `sequence`, whether it opens a clause (a sentence, or after a comma, a
    // semicolon, a colon, a dash)
    let mut clause_starts: Vec<bool> = Vec::with_capacity(tokens.len());
    let mut clause_start = true;
    let mut last_word: Option<(u64, u32)> = None;
    let mut first_word: Option<(u64, u32)> = None;
    let mut caps = 0usize;
    let mut words = 0usize;
    let mut gap_start = range.start;
    let mut token_features = 0usize;
    let start_len = out.buckets.len();
    let mut buf = String::new();
    for (i, t) in tokens.iter().enumerate() {
        let ti = first + i as u32;
        let gap = &text[gap_start.min(t.start)..t.start];
        gap_start = t.end;
        emoticons(gap, out);
        if ends_sentence(gap) {
            sentence_start = true;
        }
        if breaks_clause(gap) {
            negation = 0;
            prev = None;
        }
        if breaks_clause(gap) || dash(gap) {
            clause_start = true;
        }
        if overlaps(&urls, t.start, t.end) {
            continue;
        }
        if overlaps(skip, t.start, t.end) || overlaps(&reasons, t.start, t.end) {
            prev = None;
            continue;
        }
        let word: &str = match t.kind {
            TokenKind::Handle => {
                prev = None;
                continue;
            }
            TokenKind::Number => {
                out.push(
                    family::WORDS,
                    xxh3_64_with_seed(b"<num>", seed::WORD),
                    1.0,
                    ti,
                );
                token_features += 1;
                prev = None;
                continue;
            }
            TokenKind::Emoji => {
                out.push(
                    family::EMOJI,
                    xxh3_64_with_seed(t.folded.as_bytes(), seed::EMOJI),
                    1.0,
                    ti,
                );
                token_features += 1;
                continue;
            }
            TokenKind::Hashtag => {
                if SARCASM.contains(&t.folded.as_str()) {
                    out.push(
                        family::GLOBAL,
                        xxh3_64_with_seed(b"sarcasm", seed::GLOBAL),
                        1.0,
                        ti,
                    );
                    token_features += 1;
                    continue;
                }
                t.folded.trim_start_matches('#')
            }
            TokenKind::Word | TokenKind::Elision => t.folded.as_str(),
        };
        words += 1;
        let original = &text[t.range()];
        if original.chars().count() >= 3 && original.chars().all(|c| !c.is_lowercase()) {
            caps += 1;
        }
        let h = xxh3_64_with_seed(word.as_bytes(), seed::WORD);
        // a negated word's spelling is evidence of its own too: "pas terrible" is not "terrible"
        let char_seed = if negation > 0 {
            seed::NEGATED_CHARS
        } else {
            seed::CHARS
        };
        if negation > 0 {
            out.push(
                family::WORDS,
                xxh3_64_with_seed(word.as_bytes(), seed::NEGATED),
                1.0,
                ti,
            );
            negation -= 1;
        } else {
            out.push(family::WORDS, h, 1.0, ti);
        }
        token_features += 1;
        if let Some(p) = prev {
            out.push(
                family::BIGRAMS,
                xxh3_64_with_seed(&[p.to_le_bytes(), h.to_le_bytes()].concat(), seed::BIGRAM),
                1.0,
                ti,
            );
            token_features += 1;
        }
        prev = Some(h);
        sequence.push((word, ti, std::mem::take(&mut sentence_start)));
        clause_starts.push(std::mem::take(&mut clause_start));
        // character n-grams of the word with its boundaries
        buf.clear();
        buf.push('<');
        buf.push_str(word);
        buf.push('>');
        let b: Vec<usize> = buf
            .char_indices()
            .map(|(i, _)| i)
            .chain([buf.len()])
            .collect();
        let chars = b.len() - 1;
        if chars > 3 {
            for n in 3..=5usize.min(chars - 1) {
                for s in 0..=chars - n {
                    out.push(
                        family::CHARS,
                        xxh3_64_with_seed(&buf.as_bytes()[b[s]..b[s + n]], char_seed),
                        0.5,
                        ti,
                    );
                    token_features += 1;
                }
            }
        }
        if is_negation(word) {
            negation = SCOPE;
        }
        if first_word.is_none() {
            first_word = Some((xxh3_64_with_seed(word.as_bytes(), seed::FIRST), ti));
        }
        last_word = Some((xxh3_64_with_seed(word.as_bytes(), seed::LAST), ti));
    }
    emoticons(&text[gap_start.min(range.end)..range.end], out);
    if let Some((h, t)) = first_word {
        out.push(family::WORDS, h, 1.0, t);
        token_features += 1;
    }
    if let Some((h, t)) = last_word {
        out.push(family::WORDS, h, 1.0, t);
        token_features += 1;
    }
    // token features share one unit of weight, as fastText averages its words
    let norm = 1.0 / (token_features.max(1) as f32).sqrt();
    for v in &mut out.values[start_len..] {
        *v *= norm;
    }
    let slice = &text[range.clone()];
    mood(&sequence, slice.contains('?'), out);
    advice(&sequence, &clause_starts, out);
    let global = |name: &str| xxh3_64_with_seed(name.as_bytes(), seed::GLOBAL);
    let exclamations = slice.matches('!').count();
    if exclamations > 0 {
        out.push(
            family::GLOBAL,
            global("!"),
            (exclamations.min(3) as f32) / 3.0,
            NO_TOKEN,
        );
    }
    if slice.contains('?') {
        out.push(family::GLOBAL, global("?"), 1.0, NO_TOKEN);
    }
    if caps > 0 && words > 0 {
        let all = caps * 2 > words;
        out.push(
            family::GLOBAL,
            global(if all { "all caps" } else { "caps" }),
            1.0,
            NO_TOKEN,
        );
    }
    let lex = ctx.lexicon as f32;
    out.push(
        family::GLOBAL,
        global("lexicon+"),
        lex.max(0.0),
        LEXICON_TOKEN,
    );
    out.push(
        family::GLOBAL,
        global("lexicon-"),
        (-lex).max(0.0),
        LEXICON_TOKEN,
    );
    let bin = ((lex * 4.0).round() as i32).clamp(-4, 4);
    out.push(
        family::GLOBAL,
        LEXICON_BINS[(bin + 4) as usize],
        1.0,
        LEXICON_TOKEN,
    );
    for ([cue, decides], (evidence, decided)) in CUE_FEATURES.iter().zip(ctx.cues) {
        if evidence > 0.0 {
            out.push(family::GLOBAL, *cue, evidence.min(2.0), NO_TOKEN);
        }
        if decided {
            out.push(family::GLOBAL, *decides, 1.0, NO_TOKEN);
        }
    }
    out.push(family::GLOBAL, global("bias"), 1.0, NO_TOKEN);
}

/// The global features of the lexicon's score, binned from -4 to 4.
static LEXICON_BINS: LazyLock<[u64; 9]> = LazyLock::new(|| {
    std::array::from_fn(|i| {
        let name = format!("lexicon bin {}", i as i32 - 4);
        xxh3_64_with_seed(name.as_bytes(), seed::GLOBAL)
    })
});

/// The global features of the cues (request, complaint, wish): found, and deciding.
static CUE_FEATURES: LazyLock<[[u64; 2]; 3]> = LazyLock::new(|| {
    ["request", "complaint", "wish"].map(|name| {
        [format!("cue {name}"), format!("cues decide {name}")]
            .map(|f| xxh3_64_with_seed(f.as_bytes(), seed::GLOBAL))
    })
});

fn emoticons(gap: &str, out: &mut Features) {
    if gap.len() < 2 {
        return;
    }
    for e in EMOTICONS {
        if gap.contains(e) {
            out.push(
                family::EMOJI,
                xxh3_64_with_seed(e.as_bytes(), seed::EMOJI),
                1.0,
                NO_TOKEN,
            );
        }
    }
}

/// The sentiment model for a language: French for French, English for the rest.
pub fn sentiment_model(lang: Lang) -> &'static Linear {
    let m = models();
    if lang == Lang::Fr {
        &m.sentiment_fr
    } else {
        &m.sentiment_en
    }
}

/// The sentiment of a range from its features: labelled by the most probable class, scored
/// P(positive) − P(negative) blended with the lexicon's score (`lexicon`) as the model says.
pub fn sentiment_of(model: &Linear, f: &Features, lexicon: f64) -> Sentiment {
    let p = model.probabilities(f);
    let b = f64::from(model.blend);
    let score = ((1.0 - b) * f64::from(p[2] - p[0]) + b * lexicon).clamp(-1.0, 1.0);
    let best = (0..3).max_by(|&x, &y| p[x].total_cmp(&p[y])).unwrap_or(1);
    Sentiment {
        score,
        label: SENTIMENT_CLASSES[best],
    }
}

/// The spans that weighed most for `class`: up to `n`, strongest first. A span is a token, or
/// an expression of the lexicon: what the lexicon's score weighed goes to the words that made
/// that score, in proportion to what each gave it, with what the model read in them.
pub fn reasons(
    doc: &Analyzed<'_>,
    model: &Linear,
    f: &Features,
    class: usize,
    n: usize,
) -> Vec<Reason> {
    let mut spans: Vec<(Range<usize>, f32)> = model
        .contributions(f, class, f32::NEG_INFINITY)
        .into_iter()
        .map(|(t, w)| (doc.tokens[t as usize].range(), w))
        .collect();
    let lexicon = model.lexicon_contribution(f, class);
    if lexicon > MIN_REASON {
        let items = sentiment::explain_without(doc, f.range.clone(), &f.occasions);
        // the words on the side of the score
        let sign = items.iter().map(|(_, c)| c).sum::<f64>().signum();
        let total: f64 = items
            .iter()
            .filter(|(_, c)| c.signum() == sign)
            .map(|(_, c)| c.abs())
            .sum();
        for (r, c) in items.into_iter().filter(|(_, c)| c.signum() == sign) {
            let share = lexicon * (c.abs() / total) as f32;
            let inside: f32 = spans
                .iter()
                .filter(|(s, _)| r.start <= s.start && s.end <= r.end)
                .map(|(_, w)| w)
                .sum();
            spans.retain(|(s, _)| !(r.start <= s.start && s.end <= r.end));
            spans.push((r, share + inside));
        }
    }
    spans.retain(|(_, w)| *w >= MIN_REASON);
    spans.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.start.cmp(&b.0.start)));
    spans
        .into_iter()
        .take(n)
        .map(|(r, w)| Reason {
            text: doc.text[r.clone()].to_string(),
            start: r.start,
            end: r.end,
            weight: (f64::from(w) * 1000.0).round() / 1000.0,
        })
        .collect()
}

/// The least a span must weigh to be a reason.
const MIN_REASON: f32 = 0.01;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_round_trips_and_damage_is_refused() {
        let mut w = vec![0f32; BUCKETS * 2];
        w[7] = 0.5;
        w[BUCKETS] = -1.25;
        let m = Linear::from_f32(
            Kind::Sigmoid,
            family::ALL,
            0.0,
            vec![0.1, -0.2],
            vec![0.5, 0.4],
            vec![0.9, 0.8],
            &w,
        );
        let bytes = m.to_bytes();
        let back = Linear::parse("t", &bytes).expect("parses");
        assert_eq!(back.classes, 2);
        assert!((back.weight(3, 1) - 0.5).abs() < 1e-3);
        assert!((back.weight((BUCKETS / 2) as u32, 0) + 1.25).abs() < 1e-3);
        assert_eq!(back.thresholds, vec![0.5, 0.4]);
        assert_eq!(back.alone, vec![0.9, 0.8]);
        assert_eq!(back.families, family::ALL);
        let mut damaged = bytes.clone();
        damaged[100] ^= 1;
        let e = Linear::parse("t", &damaged).unwrap_err().to_string();
        assert!(e.contains("checksum") && e.contains("example train"), "{e}");
        assert!(Linear::parse("t", &bytes[..50]).is_err());
        assert!(Linear::parse("t", b"hello").is_err());
    }

    #[test]
    fn a_model_that_reads_an_unknown_family_is_refused() {
        let m = Linear::from_f32(
            Kind::Sigmoid,
            family::KNOWN | 1 << 12,
            0.0,
            vec![0.0],
            vec![0.5],
            vec![0.5],
            &vec![0f32; BUCKETS],
        );
        let e = Linear::parse("t", &m.to_bytes()).unwrap_err().to_string();
        assert!(e.contains("feature families"), "{e}");
    }

    /// The features of family `fam` of `text`, by token (the words they point at).
    fn of_family(text: &str, fam: u8) -> (Vec<u32>, Vec<String>) {
        let a = Analyzed::new(text, Lang::En);
        let mut f = Features::default();
        features(&a, 0..a.text.len(), &[], &Context::default(), &mut f);
        let mut buckets = Vec::new();
        let mut words = Vec::new();
        for i in (0..f.buckets.len()).filter(|&i| f.families[i] == fam) {
            buckets.push(f.buckets[i]);
            if is_token(f.tokens[i]) {
                words.push(a.tokens[f.tokens[i] as usize].folded.clone());
            }
        }
        buckets.sort_unstable();
        (buckets, words)
    }

    #[test]
    fn the_mood_of_a_sentence_is_read_for_the_expectation_model_only() {
        // the sentiment models do not read it: their features are those they were trained on
        assert_eq!(family::ALL & 1 << family::MOOD, 0);
        assert_ne!(family::EXPECTATION & 1 << family::MOOD, 0);
        // an imperative and a modal point at the verb and the modal
        let (_, words) = of_family(
            "Please add a dark mode. You should also allow themes",
            family::MOOD,
        );
        assert!(words.contains(&"please".to_string()), "{words:?}");
        assert!(words.contains(&"should".to_string()), "{words:?}");
        // who a modal is said of and the verb it governs are what counts, not the adverbs
        let (a, _) = of_family("You should add themes", family::MOOD);
        let (b, _) = of_family("You should really add themes", family::MOOD);
        let (c, _) = of_family("I should add themes", family::MOOD);
        let common = |x: &[u32], y: &[u32]| x.iter().filter(|h| y.contains(h)).count();
        assert!(common(&a, &b) > common(&a, &c), "{a:?} {b:?} {c:?}");
        // a suggestion and a statement of the same words read differently
        let (d, _) = of_family("It would be nice to have themes", family::MOOD);
        let (e, _) = of_family("It was nice to have themes", family::MOOD);
        assert_ne!(d, e);
    }

    #[test]
    fn advice_is_read_in_clauses_for_the_expectation_model_only() {
        assert_eq!(family::ALL & 1 << family::ADVICE, 0);
        assert_ne!(family::EXPECTATION & 1 << family::ADVICE, 0);
        // an imperative after a comma, a dash or a conjunction points at its verb
        for (text, verb) in [
            ("Great location, but avoid the ground floor", "avoid"),
            ("Nice staff - ask for a room upstairs", "ask"),
            ("The rooms are small so bring earplugs", "bring"),
        ] {
            let (_, words) = of_family(text, family::ADVICE);
            assert!(words.contains(&verb.to_string()), "{text}: {words:?}");
        }
        // the same verb told of the past is no advice
        let (b, _) = of_family(
            "Great location, but we avoided the ground floor",
            family::ADVICE,
        );
        assert!(b.is_empty(), "{b:?}");
        // a condition put to the reader, and the advice that follows it
        let (c, words) = of_family("If you have a car, use the garage", family::ADVICE);
        assert!(words.contains(&"if".to_string()), "{words:?}");
        let (d, _) = of_family("If you have a car, parking is expensive", family::ADVICE);
        assert!(c.len() > d.len(), "{c:?} {d:?}");
        // who needs what
        let (e, _) = of_family("We need a way to export", family::ADVICE);
        let (f, _) = of_family("It needs a restart", family::ADVICE);
        assert!(!e.is_empty() && !f.is_empty() && e != f, "{e:?} {f:?}");
    }

    #[test]
    fn the_shipped_models_load() {
        assert!(check().is_ok(), "{:?}", check().err());
    }

    #[test]
    fn the_problem_someone_got_in_touch_for_is_no_evidence() {
        let a = Analyzed::new(
            "Service client réactif pour un souci de carte bloquée.",
            Lang::Fr,
        );
        let b = Analyzed::new("Service client réactif.", Lang::Fr);
        let (mut fa, mut fb) = (Features::default(), Features::default());
        let ctx = Context::default();
        features(&a, 0..a.text.len(), &[], &ctx, &mut fa);
        features(&b, 0..b.text.len(), &[], &ctx, &mut fb);
        let words = |f: &Features| {
            let mut v: Vec<u32> = f
                .buckets
                .iter()
                .zip(&f.families)
                .filter(|(_, &fam)| fam != family::GLOBAL)
                .map(|(b, _)| *b)
                .collect();
            v.sort_unstable();
            v
        };
        assert_eq!(words(&fa), words(&fb));
        // a complaint after the occasion still counts
        let c = Analyzed::new("Appelé pour un souci, toujours rien", Lang::Fr);
        let mut fc = Features::default();
        features(&c, 0..c.text.len(), &[], &ctx, &mut fc);
        assert!(fc
            .tokens
            .iter()
            .any(|&t| is_token(t) && c.tokens[t as usize].folded == "rien"));
    }

    #[test]
    fn urls_handles_and_brands_are_no_evidence() {
        let a = Analyzed::new("@united great flight https://t.co/x1", Lang::En);
        let b = Analyzed::new("@delta great flight http://bit.ly/y2", Lang::En);
        let (mut fa, mut fb) = (Features::default(), Features::default());
        let ctx = Context::default();
        features(&a, 0..a.text.len(), &[], &ctx, &mut fa);
        features(&b, 0..b.text.len(), &[], &ctx, &mut fb);
        assert_eq!(fa.buckets, fb.buckets);
        let c = Analyzed::new("Ondine great flight", Lang::En);
        let d = Analyzed::new("Lumio great flight", Lang::En);
        let (mut fc, mut fd) = (Features::default(), Features::default());
        // the brand spans, as the mention matcher gives them
        let ondine: Vec<Range<usize>> = std::iter::once(0..6).collect();
        let lumio: Vec<Range<usize>> = std::iter::once(0..5).collect();
        features(&c, 0..c.text.len(), &ondine, &ctx, &mut fc);
        features(&d, 0..d.text.len(), &lumio, &ctx, &mut fd);
        assert_eq!(fc.buckets, fd.buckets);
    }
}
