//! Trained linear models over hashed features (fastText-style): the weights format, its
//! verification, and scoring with the features that weighed most.
//!
//! A model is a table of `2^bits` rows of one weight per output, plus a bias per output. A text
//! becomes a list of [`Features`]: hashed ids (words, word pairs, character n-grams, lexicon
//! and cue readings), each with a value and the byte span of the text it came from, so that a
//! score can say which spans weighed most. The feature extractors live with the analyses that
//! use them (`sentiment.rs`, `expectation.rs`); the training program
//! (`examples/train.rs`) calls the same extractors.
//!
//! # File format (little-endian)
//!
//! ```text
//! magic  b"VIGIEMDL"          8 bytes
//! version u32                 FORMAT_VERSION
//! name    u32 length + UTF-8  e.g. "sentiment-en"
//! outputs u32                 number of outputs (classes or binary heads)
//! bits    u32                 log2 of the number of rows
//! params  u32 count + f32 × count   thresholds and other settings of the model
//! scale   f32                 weight = i16 × scale
//! weights i16 × (2^bits × outputs), row-major (row = feature id)
//! bias    f32 × outputs
//! xxh3    u64                 of every byte before it
//! ```
//!
//! The shipped weights are compiled into the binary (`include_bytes!`) and verified once, on
//! first use or by [`verify_shipped`] at start: a file of the wrong version, truncated or
//! corrupted is a [`ModelError`], never a silent fallback.

use std::ops::Range;
use std::sync::OnceLock;

use thiserror::Error;

use crate::analyze::text::{Analyzed, Token, TokenKind};
use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

/// Version of the weights format and of the feature extractors: a model trained with other
/// features is refused.
pub const FORMAT_VERSION: u32 = 1;
const MAGIC: &[u8; 8] = b"VIGIEMDL";

/// Why a weights file cannot be used.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ModelError {
    #[error("model {name}: weights file is empty or missing (retrain with `cargo run --release --example train`)")]
    Missing { name: String },
    #[error("model {name}: not a vigie weights file")]
    NotAModel { name: String },
    #[error("model {name}: format version {found}, this vigie reads version {expected} (retrain with `cargo run --release --example train`)")]
    Version {
        name: String,
        found: u32,
        expected: u32,
    },
    #[error("model {name}: weights file is truncated or malformed ({what})")]
    Malformed { name: String, what: &'static str },
    #[error("model {name}: checksum mismatch, the weights file is corrupt")]
    Checksum { name: String },
    #[error("model {name}: the file holds model {found}")]
    WrongModel { name: String, found: String },
}

/// Hashed features of one text: ids (already reduced to the model's rows), values and the byte
/// span each one came from (an empty span for features of the whole text).
#[derive(Debug, Clone, Default)]
pub struct Features {
    pub ids: Vec<u64>,
    pub values: Vec<f32>,
    pub spans: Vec<Range<usize>>,
}

impl Features {
    pub fn with_capacity(n: usize) -> Self {
        Features {
            ids: Vec::with_capacity(n),
            values: Vec::with_capacity(n),
            spans: Vec::with_capacity(n),
        }
    }

    /// Adds a feature by its full 64-bit hash.
    pub fn push(&mut self, hash: u64, value: f32, span: Range<usize>) {
        self.ids.push(hash);
        self.values.push(value);
        self.spans.push(span);
    }

    /// Adds a named feature of the whole text ("lex:bin3", "cue:complaint:strong").
    pub fn named(&mut self, name: &str, value: f32) {
        self.push(hash_str(name, NAMED), value, 0..0);
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// Seeds that keep feature families apart.
pub const NAMED: u64 = 1;
pub const WORD: u64 = 2;
pub const NEGATED_WORD: u64 = 3;
pub const PAIR: u64 = 4;
pub const CHARS: u64 = 5;

/// The 64-bit hash of a string in a feature family.
pub fn hash_str(s: &str, family: u64) -> u64 {
    xxh3_64_with_seed(s.as_bytes(), family)
}

/// The hash of a pair of hashes (word pairs).
pub fn hash_pair(a: u64, b: u64) -> u64 {
    let x = a.rotate_left(17) ^ b.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ PAIR;
    x.wrapping_mul(0xFF51_AFD7_ED55_8CCD) ^ (x >> 29)
}

/// Words that open a negation scope, which runs to the end of the clause.
const NEGATIONS: &[&str] = &[
    "not", "no", "never", "cannot", "without", "nobody", "nothing", "none", "neither", "nor",
    "nowhere", "dont", "didnt", "doesnt", "isnt", "wasnt", "cant", "wont", "havent", "hasnt",
    "arent", "werent", "couldnt", "wouldnt", "shouldnt", "pas", "jamais", "ne", "n", "sans",
    "aucun", "aucune", "rien", "ni", "guere",
];

/// Whether a folded word opens a negation scope.
pub fn is_negation(w: &str) -> bool {
    NEGATIONS.contains(&w) || w.ends_with("n't")
}

/// Byte ranges of the links of a text (`http…`, `www.…` up to the next space).
pub fn link_ranges(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = text[from..]
        .find("http")
        .map(|i| i + from)
        .into_iter()
        .chain(text[from..].find("www.").map(|i| i + from))
        .min()
    {
        let end = text[i..]
            .find(char::is_whitespace)
            .map_or(text.len(), |e| i + e);
        out.push(i..end);
        from = end;
        if from >= text.len() {
            break;
        }
    }
    out
}

/// Which word features [`word_features`] adds.
#[derive(Debug, Clone, Copy)]
pub struct WordOptions {
    /// Character n-grams (3 to 5 bytes of the folded word, with boundaries), at this value; 0
    /// for none.
    pub chars: f32,
    /// Word pairs.
    pub pairs: bool,
}

/// Word features of `doc.text[range]`: each word (folded; marked when inside a negation scope,
/// which a clause break ends), each pair of neighbouring words in a clause, and the character
/// n-grams of words. Handles and links carry no sentiment and no topic: they are skipped, as
/// are the words of `skip` (a brand's name). Camel-case hashtags count as their words too.
pub fn word_features(
    doc: &Analyzed<'_>,
    range: &Range<usize>,
    skip: &[Range<usize>],
    opts: WordOptions,
    f: &mut Features,
) {
    let text = doc.text;
    // a range that splits a character is widened to whole characters
    let mut lo = range.start.min(text.len());
    while !text.is_char_boundary(lo) {
        lo -= 1;
    }
    let mut hi = range.end.clamp(lo, text.len());
    while !text.is_char_boundary(hi) {
        hi += 1;
    }
    let range = &(lo..hi);
    let links = link_ranges(&text[range.clone()]);
    let inside = |t: &Token, rs: &[Range<usize>], base: usize| {
        rs.iter()
            .any(|r| t.start >= r.start + base && t.start < r.end + base)
    };
    let mut negated = false;
    let mut prev: Option<(u64, usize)> = None;
    let mut prev_end = range.start;
    let mut buf = String::new();
    for t in &doc.tokens[doc.tokens_in(range)] {
        let gap = text.get(prev_end.min(t.start)..t.start).unwrap_or("");
        if gap.contains([',', ';', ':', '.', '!', '?', '(', ')', '\n', '"', '«', '»']) {
            negated = false;
            prev = None;
        }
        prev_end = t.end;
        if t.kind == TokenKind::Handle || inside(t, &links, range.start) || inside(t, skip, 0) {
            prev = None;
            continue;
        }
        let key: &str = match t.kind {
            TokenKind::Number => "<num>",
            TokenKind::Hashtag => &t.folded[1..],
            _ => &t.folded,
        };
        let span = t.range();
        let h = hash_str(key, WORD);
        let id = if negated {
            hash_str(key, NEGATED_WORD)
        } else {
            h
        };
        f.push(id, 1.0, span.clone());
        if opts.pairs {
            if let Some((ph, ps)) = prev {
                f.push(hash_pair(ph, h), 1.0, ps..t.end);
            }
        }
        prev = Some((h, t.start));
        if t.kind == TokenKind::Hashtag {
            f.push(hash_str(&t.folded, WORD), 1.0, span.clone());
            let raw = &text[t.start + 1..t.end];
            let parts = crate::analyze::text::split_camel(raw);
            if parts.len() > 1 {
                for p in parts {
                    f.push(
                        hash_str(&crate::analyze::text::fold(p), WORD),
                        1.0,
                        span.clone(),
                    );
                }
            }
        }
        if opts.chars > 0.0 && t.kind == TokenKind::Word && key.len() >= 3 {
            buf.clear();
            buf.push('<');
            buf.push_str(key);
            buf.push('>');
            let b = buf.as_bytes();
            for n in 3..=5 {
                if b.len() < n {
                    break;
                }
                for w in b.windows(n) {
                    f.push(xxh3_64_with_seed(w, CHARS), opts.chars, span.clone());
                }
            }
        }
        if is_negation(key) {
            negated = true;
        }
    }
}

/// A trained linear model.
#[derive(Debug, Clone)]
pub struct Linear {
    pub name: String,
    pub outputs: usize,
    pub bits: u32,
    /// Settings the trainer tuned (thresholds…), by position; each model documents its own.
    pub params: Vec<f32>,
    /// Row-major, `outputs` weights per row.
    pub weights: Vec<f32>,
    pub bias: Vec<f32>,
}

impl Linear {
    /// A model of zeros.
    pub fn zeros(name: &str, outputs: usize, bits: u32) -> Self {
        Linear {
            name: name.to_string(),
            outputs,
            bits,
            params: Vec::new(),
            weights: vec![0.0; (1usize << bits) * outputs],
            bias: vec![0.0; outputs],
        }
    }

    /// The row of a feature hash.
    #[inline]
    pub fn row(&self, hash: u64) -> usize {
        (hash & ((1u64 << self.bits) - 1)) as usize
    }

    /// The raw outputs (logits) for `f`.
    pub fn logits(&self, f: &Features) -> Vec<f32> {
        let mut out = self.bias.clone();
        for (&h, &v) in f.ids.iter().zip(&f.values) {
            let r = self.row(h) * self.outputs;
            for (o, w) in out.iter_mut().zip(&self.weights[r..r + self.outputs]) {
                *o += w * v;
            }
        }
        out
    }

    /// What each span contributed to `direction · logits` (a weighted sum of outputs),
    /// summed by span, the strongest first. Features without a span are left out.
    pub fn contributions(&self, f: &Features, direction: &[f32]) -> Vec<(Range<usize>, f32)> {
        let mut by_span: Vec<(Range<usize>, f32)> = Vec::new();
        for ((&h, &v), span) in f.ids.iter().zip(&f.values).zip(&f.spans) {
            if span.is_empty() {
                continue;
            }
            let r = self.row(h) * self.outputs;
            let c: f32 = self.weights[r..r + self.outputs]
                .iter()
                .zip(direction)
                .map(|(w, d)| w * d)
                .sum::<f32>()
                * v;
            if c == 0.0 {
                continue;
            }
            match by_span.iter_mut().find(|(s, _)| *s == *span) {
                Some((_, total)) => *total += c,
                None => by_span.push((span.clone(), c)),
            }
        }
        by_span.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
        by_span
    }

    /// The weights file of this model.
    pub fn to_bytes(&self) -> Vec<u8> {
        let max = self
            .weights
            .iter()
            .fold(0.0f32, |m, w| m.max(w.abs()))
            .max(1e-9);
        let scale = max / f32::from(i16::MAX);
        let mut b = Vec::with_capacity(self.weights.len() * 2 + 64);
        b.extend_from_slice(MAGIC);
        b.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        b.extend_from_slice(&(self.name.len() as u32).to_le_bytes());
        b.extend_from_slice(self.name.as_bytes());
        b.extend_from_slice(&(self.outputs as u32).to_le_bytes());
        b.extend_from_slice(&self.bits.to_le_bytes());
        b.extend_from_slice(&(self.params.len() as u32).to_le_bytes());
        for p in &self.params {
            b.extend_from_slice(&p.to_le_bytes());
        }
        b.extend_from_slice(&scale.to_le_bytes());
        for w in &self.weights {
            let q = (w / scale).round().clamp(-32767.0, 32767.0) as i16;
            b.extend_from_slice(&q.to_le_bytes());
        }
        for w in &self.bias {
            b.extend_from_slice(&w.to_le_bytes());
        }
        let sum = xxh3_64(&b);
        b.extend_from_slice(&sum.to_le_bytes());
        b
    }

    /// Reads and verifies a weights file of model `name`.
    pub fn from_bytes(name: &str, bytes: &[u8]) -> Result<Linear, ModelError> {
        let malformed = |what| ModelError::Malformed {
            name: name.to_string(),
            what,
        };
        if bytes.is_empty() {
            return Err(ModelError::Missing {
                name: name.to_string(),
            });
        }
        if bytes.len() < MAGIC.len() + 12 || &bytes[..8] != MAGIC {
            return Err(ModelError::NotAModel {
                name: name.to_string(),
            });
        }
        let mut r = Reader { b: bytes, at: 8 };
        let version = r.u32().ok_or_else(|| malformed("version"))?;
        if version != FORMAT_VERSION {
            return Err(ModelError::Version {
                name: name.to_string(),
                found: version,
                expected: FORMAT_VERSION,
            });
        }
        if bytes.len() < 8 + 8 {
            return Err(malformed("checksum"));
        }
        let (body, sum) = bytes.split_at(bytes.len() - 8);
        let sum = u64::from_le_bytes(sum.try_into().map_err(|_| malformed("checksum"))?);
        if xxh3_64(body) != sum {
            return Err(ModelError::Checksum {
                name: name.to_string(),
            });
        }
        let mut r = Reader { b: body, at: 12 };
        let len = r.u32().ok_or_else(|| malformed("name"))? as usize;
        let found = r
            .take(len)
            .and_then(|s| std::str::from_utf8(s).ok())
            .ok_or_else(|| malformed("name"))?
            .to_string();
        if found != name {
            return Err(ModelError::WrongModel {
                name: name.to_string(),
                found,
            });
        }
        let outputs = r.u32().ok_or_else(|| malformed("outputs"))? as usize;
        let bits = r.u32().ok_or_else(|| malformed("bits"))?;
        if outputs == 0 || outputs > 16 || !(8..=24).contains(&bits) {
            return Err(malformed("dimensions"));
        }
        let n = r.u32().ok_or_else(|| malformed("params"))? as usize;
        let params = (0..n)
            .map(|_| r.f32())
            .collect::<Option<Vec<f32>>>()
            .ok_or_else(|| malformed("params"))?;
        let scale = r.f32().ok_or_else(|| malformed("scale"))?;
        let count = (1usize << bits) * outputs;
        let raw = r.take(count * 2).ok_or_else(|| malformed("weights"))?;
        let weights = raw
            .chunks_exact(2)
            .map(|c| f32::from(i16::from_le_bytes([c[0], c[1]])) * scale)
            .collect();
        let bias = (0..outputs)
            .map(|_| r.f32())
            .collect::<Option<Vec<f32>>>()
            .ok_or_else(|| malformed("bias"))?;
        if r.at != body.len() {
            return Err(malformed("trailing bytes"));
        }
        Ok(Linear {
            name: found,
            outputs,
            bits,
            params,
            weights,
            bias,
        })
    }
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.b.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(s)
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
    fn f32(&mut self) -> Option<f32> {
        self.u32().map(f32::from_bits)
    }
}

/// Softmax of logits, in place.
pub fn softmax(x: &mut [f32]) {
    let max = x.iter().fold(f32::NEG_INFINITY, |m, v| m.max(*v));
    let mut sum = 0.0;
    for v in x.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    for v in x.iter_mut() {
        *v /= sum;
    }
}

/// The logistic function.
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Names of the shipped models and where their weights live (under `src/analyze/models/`).
pub const SENTIMENT_EN: &str = "sentiment-en";
pub const SENTIMENT_FR: &str = "sentiment-fr";
pub const EXPECTATION: &str = "expectation";

/// The shipped models, verified.
#[derive(Debug)]
pub struct Models {
    pub sentiment_en: Linear,
    pub sentiment_fr: Linear,
    pub expectation: Linear,
}

static SHIPPED_SENTIMENT_EN: &[u8] = include_bytes!("models/sentiment-en.bin");
static SHIPPED_SENTIMENT_FR: &[u8] = include_bytes!("models/sentiment-fr.bin");
static SHIPPED_EXPECTATION: &[u8] = include_bytes!("models/expectation.bin");

static SHIPPED: OnceLock<Result<Models, ModelError>> = OnceLock::new();

/// The shipped models, read and verified once.
pub fn shipped() -> Result<&'static Models, &'static ModelError> {
    SHIPPED
        .get_or_init(|| {
            Ok(Models {
                sentiment_en: Linear::from_bytes(SENTIMENT_EN, SHIPPED_SENTIMENT_EN)?,
                sentiment_fr: Linear::from_bytes(SENTIMENT_FR, SHIPPED_SENTIMENT_FR)?,
                expectation: Linear::from_bytes(EXPECTATION, SHIPPED_EXPECTATION)?,
            })
        })
        .as_ref()
}

/// Verifies the shipped weights: call it at start so that a corrupt build fails with a clear
/// message before any document is read.
pub fn verify_shipped() -> Result<(), ModelError> {
    shipped().map(|_| ()).map_err(Clone::clone)
}

/// The shipped models for the analyses. The binary verifies them at start
/// ([`verify_shipped`]); a library user who skipped that and shipped broken weights gets the
/// error here.
pub(crate) fn models() -> &'static Models {
    match shipped() {
        Ok(m) => m,
        Err(e) => panic!("{e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_round_trip_and_refuse_corruption() {
        let mut m = Linear::zeros("test", 3, 8);
        m.weights[5] = 0.5;
        m.weights[7] = -1.25;
        m.bias = vec![0.1, 0.2, -0.3];
        m.params = vec![0.4];
        let b = m.to_bytes();
        let back = Linear::from_bytes("test", &b).unwrap();
        assert!((back.weights[5] - 0.5).abs() < 1e-3);
        assert!((back.weights[7] + 1.25).abs() < 1e-3);
        assert_eq!(back.params, vec![0.4]);
        assert_eq!(back.bias, m.bias);
        let mut bad = b.clone();
        bad[40] ^= 1;
        assert!(matches!(
            Linear::from_bytes("test", &bad),
            Err(ModelError::Checksum { .. })
        ));
        assert!(matches!(
            Linear::from_bytes("test", &b[..b.len() - 3]),
            Err(ModelError::Checksum { .. })
        ));
        assert!(matches!(
            Linear::from_bytes("test", &[]),
            Err(ModelError::Missing { .. })
        ));
        assert!(matches!(
            Linear::from_bytes("other", &b),
            Err(ModelError::WrongModel { .. })
        ));
        let mut v2 = b.clone();
        v2[8] = 9;
        assert!(matches!(
            Linear::from_bytes("test", &v2),
            Err(ModelError::Version { found: 9, .. })
        ));
    }

    #[test]
    fn the_shipped_weights_verify() {
        verify_shipped().unwrap();
    }
}
