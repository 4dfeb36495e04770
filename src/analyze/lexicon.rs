//! The sentiment lexicons vigie ships, built once per process.
//!
//! Every table is keyed by folded forms (see [`text::fold`]), so a lookup is one hash of a
//! token the text layer already folded. Sources and licences are in `LICENSES.md` next to the
//! data files:
//!
//! - English: the VADER lexicon and its emoji descriptions (MIT), with vigie's own additions;
//! - French: vigie's own list of words and expressions, textblob-fr adjectives (PDDL) and FEEL
//!   lemmas (matched on stems);
//! - the grammar words every rule reads (negations, intensifiers, contrasts) in both languages.
//!
//! Valences are on VADER's scale: -4 (extremely negative) to +4 (extremely positive).

use std::sync::LazyLock;

use rustc_hash::FxHashMap;

use crate::analyze::lang::Lang;
use crate::analyze::text::{self, Token, TokenKind};

const EN_VADER: &str = include_str!("lexicon/en_vader.tsv");
const EN_VADER_EMOJI: &str = include_str!("lexicon/en_vader_emoji.txt");
const EN_VIGIE: &str = include_str!("lexicon/en_vigie.tsv");
const FR_VIGIE: &str = include_str!("lexicon/fr_vigie.tsv");
const FR_TEXTBLOB: &str = include_str!("lexicon/fr_textblob.tsv");
const FR_FEEL: &str = include_str!("lexicon/fr_feel.tsv");

/// What a booster adds to the magnitude of the sentiment word it precedes (VADER's empirical
/// mean, 0.293 on the -4..4 scale); dampeners subtract it.
pub const BOOST: f32 = 0.293;

/// Valence of a textblob-fr polarity of 1.0.
const TEXTBLOB_SCALE: f32 = 2.6;
/// Subjectivity at which a textblob-fr polarity counts in full; less subjective adjectives
/// ("royal", "électrique") count in proportion.
const TEXTBLOB_SUBJECTIVE: f32 = 0.5;
/// Valences of FEEL lemmas, which come with a polarity and emotion flags but no strength. Its
/// positive lemmas without joy are mostly neutral nouns ("situation", "train"): they count for
/// nothing, but still mark the word as French.
const FEEL_JOY: f32 = 0.6;
const FEEL_ANGER: f32 = 1.0;
const FEEL_NEGATIVE: f32 = 0.6;
const FEEL_BARE: f32 = 0.4;

/// Stems shorter than this are too ambiguous to match on.
pub const MIN_STEM: usize = 4;

/// Grammar roles of a word, as bit flags.
pub mod role {
    /// Negates the sentiment words that follow it (`not`, `pas`, `sans`, `aucun`).
    pub const NEGATE: u8 = 1;
    /// French pre-verbal `ne`/`n'`: negates what sits between it and a [`NE_CLOSE`] word.
    pub const NE: u8 = 2;
    /// Closes a French `ne … X` negation (`pas`, `plus`, `jamais`, `rien`, `guère`).
    pub const NE_CLOSE: u8 = 4;
    /// A contrast: what follows outweighs what precedes (`but`, `mais`, `cependant`).
    pub const CONTRAST: u8 = 8;
    /// A concession: the clause it opens weighs less (`although`, `même si`, `malgré`).
    pub const CONCEDE: u8 = 16;
    /// `least`: negates the next word unless in `at least`.
    pub const LEAST: u8 = 32;
    /// An unreal or unmet expectation (`would have been`, `aurait pu`, `je m'attendais à`):
    /// praise that follows it in its clause was not met.
    pub const UNREAL: u8 = 64;
    /// A word that names what a text is about (FEEL's "guerre", "maladie") more than it judges
    /// it: in a long text it counts less than an evaluative word.
    pub const CONTENT: u8 = 128;
}

/// What the lexicon says about one word or expression.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Entry {
    /// Sentiment valence, -4..4; 0 for grammar words.
    pub valence: f32,
    /// Intensifier (> 0) or dampener (< 0) strength, added to the magnitude of the next
    /// sentiment words.
    pub boost: f32,
    /// [`role`] flags.
    pub roles: u8,
}

impl Entry {
    fn valence(v: f32) -> Entry {
        Entry {
            valence: v,
            ..Entry::default()
        }
    }

    pub fn has(&self, role: u8) -> bool {
        self.roles & role != 0
    }

    /// Whether the entry says anything at all (a zero entry still blocks a fallback lookup).
    pub fn is_inert(&self) -> bool {
        self.valence == 0.0 && self.boost == 0.0 && self.roles == 0
    }
}

/// A multi-word expression: its folded tokens, first included.
#[derive(Debug, Clone)]
pub struct Phrase {
    pub words: Box<[Box<str>]>,
    pub entry: Entry,
}

/// The words and expressions of one language.
#[derive(Debug, Default)]
pub struct Table {
    words: FxHashMap<Box<str>, Entry>,
    /// Expressions by their first token, longest first.
    phrases: FxHashMap<Box<str>, Vec<Phrase>>,
}

impl Table {
    /// The entry of one folded word.
    pub fn word(&self, key: &str) -> Option<Entry> {
        self.words.get(key).copied()
    }

    /// The longest expression starting at `tokens[i]`: how many tokens it covers and its entry.
    pub fn phrase_at(&self, tokens: &[Token], i: usize) -> Option<(usize, Entry)> {
        let candidates = self.phrases.get(key(&tokens[i]))?;
        candidates.iter().find_map(|p| {
            let n = p.words.len();
            let fits = i + n <= tokens.len()
                && p.words[1..]
                    .iter()
                    .zip(&tokens[i + 1..i + n])
                    .all(|(w, t)| **w == *key(t));
            fits.then_some((n, p.entry))
        })
    }

    /// Adds or overrides one word or expression (folded tokens); roles and boosts merge.
    fn set(&mut self, words: Vec<String>, entry: Entry, merge: bool) {
        match words.len() {
            0 => {}
            1 => {
                let w = words.into_iter().next().expect("one word");
                let slot = self.words.entry(w.into_boxed_str()).or_default();
                if merge {
                    slot.roles |= entry.roles;
                    if entry.boost != 0.0 {
                        slot.boost = entry.boost;
                    }
                    if entry.valence != 0.0 {
                        slot.valence = entry.valence;
                    }
                } else {
                    *slot = entry;
                }
            }
            _ => {
                let words: Box<[Box<str>]> =
                    words.into_iter().map(String::into_boxed_str).collect();
                let list = self.phrases.entry(words[0].clone()).or_default();
                match list.iter_mut().find(|p| p.words == words) {
                    Some(p) if merge => {
                        p.entry.roles |= entry.roles;
                        if entry.boost != 0.0 {
                            p.entry.boost = entry.boost;
                        }
                        if entry.valence != 0.0 {
                            p.entry.valence = entry.valence;
                        }
                    }
                    Some(p) => p.entry = entry,
                    None => list.push(Phrase { words, entry }),
                }
                list.sort_by_key(|p| std::cmp::Reverse(p.words.len()));
            }
        }
    }

    fn len(&self) -> usize {
        self.words.len() + self.phrases.values().map(Vec::len).sum::<usize>()
    }
}

/// The key a token is looked up by: its folded form, without the `#` of a hashtag.
pub fn key(t: &Token) -> &str {
    match t.kind {
        TokenKind::Hashtag => &t.folded[1..],
        TokenKind::Handle => "",
        _ => &t.folded,
    }
}

/// Every table, built once.
#[derive(Debug)]
pub struct Lexicons {
    pub en: Table,
    pub fr: Table,
    /// French stems (folded) of FEEL lemmas and of vigie's entries marked `~`.
    pub fr_stems: FxHashMap<Box<str>, Entry>,
    pub emoji: FxHashMap<char, f32>,
    /// Emoticons as written (`:-)`, `<3`, `:D`), and their lowercase forms.
    pub emoticons: FxHashMap<Box<str>, f32>,
    /// Length in bytes of the longest emoticon.
    pub emoticon_max: usize,
    /// Grammar words: (French, English).
    votes: FxHashMap<&'static str, (bool, bool)>,
}

impl Lexicons {
    /// The table for a document language: French for French, English for everything else
    /// (social text in any language borrows English words and emoticons).
    pub fn table(&self, lang: Lang) -> &Table {
        match lang {
            Lang::Fr => &self.fr,
            _ => &self.en,
        }
    }

    /// The function words that tell French from English in a short text: word → (is French,
    /// is English).
    pub fn grammar_votes(&self) -> &FxHashMap<&'static str, (bool, bool)> {
        &self.votes
    }

    /// Sizes, for logs and tests: (English, French, French stems, emoji, emoticons).
    pub fn sizes(&self) -> (usize, usize, usize, usize, usize) {
        (
            self.en.len(),
            self.fr.len(),
            self.fr_stems.len(),
            self.emoji.len(),
            self.emoticons.len(),
        )
    }
}

static LEXICONS: LazyLock<Lexicons> = LazyLock::new(build);

/// The lexicons (built on first use, a few milliseconds).
pub fn lexicons() -> &'static Lexicons {
    &LEXICONS
}

/// Data lines: not empty, not a `#` comment, split on tabs.
fn rows(data: &str) -> impl Iterator<Item = Vec<&str>> {
    data.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with("# "))
        .map(|l| l.split('\t').collect())
}

/// The folded tokens of an expression as the tokenizer would see it in a text.
fn words_of(expr: &str) -> Vec<String> {
    text::tokenize(expr)
        .into_iter()
        .map(|t| key(&t).to_string())
        .collect()
}

fn is_emoticon(s: &str) -> bool {
    !s.chars()
        .all(|c| c.is_alphanumeric() || c == '\'' || c == '-' || c == ' ')
        && !s.contains(' ')
}

fn build() -> Lexicons {
    let mut en = Table::default();
    let mut emoticons: FxHashMap<Box<str>, f32> = FxHashMap::default();
    for r in rows(EN_VADER) {
        let (Some(w), Some(v)) = (r.first(), r.get(1).and_then(|v| v.parse::<f32>().ok())) else {
            continue;
        };
        if is_emoticon(w) {
            emoticons.insert((*w).into(), v);
            emoticons.entry(w.to_lowercase().into()).or_insert(v);
        } else if !w.chars().all(|c| c.is_ascii_digit()) {
            // bare numbers ("143", "187") are codes in chat slang but counts everywhere else
            en.set(words_of(w), Entry::valence(v), false);
        }
    }
    let mut fr_stems: FxHashMap<Box<str>, Entry> = FxHashMap::default();
    let stemmers = text::Stemmers::new();
    let mut fr = Table::default();
    // FEEL first: the weakest source, overridden by the others.
    for r in rows(FR_FEEL) {
        let (Some(lemma), Some(pol)) = (r.first(), r.get(1)) else {
            continue;
        };
        if lemma.contains(' ') {
            continue; // lemmatised expressions ("à le hâte") do not occur as written
        }
        let emotions = r.get(2).copied().unwrap_or("");
        let (sign, strong) = if *pol == "+" {
            (1.0, emotions.contains('j'))
        } else {
            (-1.0, emotions.contains('a') || emotions.contains('d'))
        };
        let v = if sign > 0.0 {
            if strong {
                FEEL_JOY
            } else {
                0.0
            }
        } else if strong {
            -FEEL_ANGER
        } else if emotions.is_empty() {
            -FEEL_BARE
        } else {
            -FEEL_NEGATIVE
        };
        let stem = stemmers.stem(Lang::Fr, lemma, &text::fold(lemma));
        if stem.len() < MIN_STEM {
            // a short stem ("tu" of "tuer") meets unrelated words: the lemma only
            let entry = Entry {
                valence: v,
                boost: 0.0,
                roles: role::CONTENT,
            };
            fr.set(words_of(lemma), entry, false);
            continue;
        }
        let entry = Entry {
            valence: v,
            boost: 0.0,
            roles: role::CONTENT,
        };
        match fr_stems.get(stem.as_str()) {
            // a stem both positive and negative says nothing
            Some(old) if old.valence == 0.0 || (old.valence > 0.0) != (v > 0.0) => {
                fr_stems.insert(stem.into_boxed_str(), Entry::default());
            }
            _ => {
                fr_stems.insert(stem.into_boxed_str(), entry);
            }
        }
    }
    for r in rows(FR_TEXTBLOB) {
        let (Some(form), Some(p)) = (r.first(), r.get(1).and_then(|v| v.parse::<f32>().ok()))
        else {
            continue;
        };
        let subjectivity = r.get(2).and_then(|v| v.parse::<f32>().ok()).unwrap_or(1.0);
        let weight = (subjectivity / TEXTBLOB_SUBJECTIVE).clamp(0.0, 1.0);
        if weight == 0.0
            && fr_stems.contains_key(stemmers.stem(Lang::Fr, form, &text::fold(form)).as_str())
        {
            continue; // an objective adjective: let FEEL say what it knows of the word
        }
        fr.set(
            words_of(form),
            Entry::valence(p * TEXTBLOB_SCALE * weight),
            false,
        );
    }
    // vigie's own lists override the others.
    for (table, data, lang) in [(&mut en, EN_VIGIE, Lang::En), (&mut fr, FR_VIGIE, Lang::Fr)] {
        for r in rows(data) {
            let (Some(expr), Some(v)) = (r.first(), r.get(1).and_then(|v| v.parse::<f32>().ok()))
            else {
                continue;
            };
            if expr.chars().filter(|&c| c != '\u{FE0F}').count() == 1 {
                continue; // one emoji: read below
            }
            let (expr, by_stem) = match expr.strip_suffix('~') {
                Some(e) => (e, true),
                None => (*expr, false),
            };
            if lang == Lang::En && is_emoticon(expr) && expr.chars().count() > 1 {
                emoticons.insert(expr.into(), v);
                continue;
            }
            // a third column `subject` marks words that name what a text is about
            let entry = Entry {
                valence: v,
                boost: 0.0,
                roles: if r.get(2) == Some(&"subject") {
                    role::CONTENT
                } else {
                    0
                },
            };
            table.set(words_of(expr), entry, false);
            if by_stem && lang == Lang::Fr {
                let stem = stemmers.stem(lang, expr, &text::fold(expr));
                fr_stems.insert(stem.into_boxed_str(), entry);
            }
        }
    }
    for (table, grammar) in [(&mut en, EN_GRAMMAR), (&mut fr, FR_GRAMMAR)] {
        for &(expr, boost, roles) in grammar {
            table.set(
                words_of(expr),
                Entry {
                    valence: 0.0,
                    boost,
                    roles,
                },
                true,
            );
        }
    }
    let mut emoji = FxHashMap::default();
    for line in EN_VADER_EMOJI.lines() {
        let Some((e, description)) = line.split_once('\t') else {
            continue;
        };
        let mut chars = e.chars().filter(|&c| c != '\u{FE0F}');
        let (Some(c), None) = (chars.next(), chars.next()) else {
            continue; // sequences: the tokenizer sees their characters one by one
        };
        emoji.insert(c, describe(&en, description));
    }
    // vigie's emoji valences (single characters in en_vigie.tsv) override the descriptions
    for r in rows(EN_VIGIE) {
        let mut chars = r[0].chars().filter(|&c| c != '\u{FE0F}');
        if let (Some(c), None, Some(v)) = (
            chars.next(),
            chars.next(),
            r.get(1).and_then(|v| v.parse::<f32>().ok()),
        ) {
            if text::is_emoji(c) {
                emoji.insert(c, v);
            }
        }
    }
    let emoticon_max = emoticons.keys().map(|k| k.len()).max().unwrap_or(0);
    let mut votes: FxHashMap<&'static str, (bool, bool)> = FxHashMap::default();
    for w in FR_GRAMMAR_WORDS {
        votes.entry(w).or_default().0 = true;
    }
    for w in EN_GRAMMAR_WORDS {
        votes.entry(w).or_default().1 = true;
    }
    Lexicons {
        votes,
        en,
        fr,
        fr_stems,
        emoji,
        emoticons,
        emoticon_max,
    }
}

/// The valence of an emoji from its English description ("smiling face with heart-eyes"): the
/// sum of its words' valences, a word after a negation counting against.
fn describe(en: &Table, description: &str) -> f32 {
    let mut sum = 0.0;
    let mut negated = false;
    for w in words_of(description) {
        let e = en.word(&w).unwrap_or_default();
        sum += if negated { -e.valence } else { e.valence };
        negated = e.has(role::NEGATE);
    }
    sum
}

use role::{CONCEDE, CONTRAST, LEAST, NE, NEGATE, NE_CLOSE, UNREAL};

/// Frequent English function words, to tell the language of a short text.
pub const EN_GRAMMAR_WORDS: &[&str] = &[
    "the", "a", "an", "and", "is", "are", "was", "were", "of", "to", "in", "for", "on", "with",
    "that", "this", "it", "i", "you", "my", "your", "at", "be", "have", "has", "had", "we", "they",
    "he", "she", "what", "when", "will", "would", "can", "just", "so", "if", "about", "all",
    "been", "do", "did", "me", "him", "her", "them", "from", "but", "or", "it's", "i'm", "don't",
    "not", "no", "get", "got", "how", "why", "who", "there", "here", "today", "really", "love",
];

/// Frequent French function words, to tell the language of a short text.
pub const FR_GRAMMAR_WORDS: &[&str] = &[
    "le", "la", "les", "des", "du", "un", "une", "et", "est", "que", "qui", "pour", "pas", "ne",
    "je", "tu", "il", "nous", "vous", "ce", "cette", "avec", "sur", "dans", "au", "aux", "mais",
    "ou", "tres", "mon", "ma", "mes", "son", "sa", "ses", "elle", "ils", "sont", "suis", "ai",
    "c'est", "leur", "quand", "comme", "chez", "sans", "etre", "avoir", "merci", "bonjour", "oui",
    "non", "alors", "donc", "aussi", "bien", "tout", "moi", "toi", "notre", "votre", "vos", "nos",
];

/// English grammar words: (expression, boost, roles).
const EN_GRAMMAR: &[(&str, f32, u8)] = &[
    // negations
    ("not", 0.0, NEGATE),
    ("no", 0.0, NEGATE),
    ("never", 0.0, NEGATE),
    ("nothing", 0.0, NEGATE),
    ("nobody", 0.0, NEGATE),
    ("none", 0.0, NEGATE),
    ("nowhere", 0.0, NEGATE),
    ("neither", 0.0, NEGATE),
    ("nor", 0.0, NEGATE),
    ("without", 0.0, NEGATE),
    ("cannot", 0.0, NEGATE),
    ("nope", 0.0, NEGATE),
    ("rarely", 0.0, NEGATE),
    ("seldom", 0.0, NEGATE),
    ("least", 0.0, LEAST),
    // shifters: lessening a bad thing is good ("reduce pollution", "fight cancer")
    ("reduce", 0.0, NEGATE),
    ("reduces", 0.0, NEGATE),
    ("reduced", 0.0, NEGATE),
    ("reducing", 0.0, NEGATE),
    ("reduction", 0.0, NEGATE),
    ("decrease", 0.0, NEGATE),
    ("decreases", 0.0, NEGATE),
    ("decreasing", 0.0, NEGATE),
    ("prevent", 0.0, NEGATE),
    ("prevents", 0.0, NEGATE),
    ("preventing", 0.0, NEGATE),
    ("prevention", 0.0, NEGATE),
    ("fight against", 0.0, NEGATE),
    ("fighting", 0.0, NEGATE),
    ("combat", 0.0, NEGATE),
    ("combating", 0.0, NEGATE),
    ("combatting", 0.0, NEGATE),
    ("tackle", 0.0, NEGATE),
    ("tackles", 0.0, NEGATE),
    ("tackling", 0.0, NEGATE),
    ("eliminate", 0.0, NEGATE),
    ("eliminates", 0.0, NEGATE),
    ("eliminating", 0.0, NEGATE),
    ("end to", 0.0, NEGATE),
    ("lack of", 0.0, NEGATE),
    ("protect against", 0.0, NEGATE),
    ("protects against", 0.0, NEGATE),
    ("aint", 0.0, NEGATE),
    ("arent", 0.0, NEGATE),
    ("cant", 0.0, NEGATE),
    ("couldnt", 0.0, NEGATE),
    ("didnt", 0.0, NEGATE),
    ("doesnt", 0.0, NEGATE),
    ("dont", 0.0, NEGATE),
    ("hadnt", 0.0, NEGATE),
    ("hasnt", 0.0, NEGATE),
    ("havent", 0.0, NEGATE),
    ("isnt", 0.0, NEGATE),
    ("mightnt", 0.0, NEGATE),
    ("mustnt", 0.0, NEGATE),
    ("neednt", 0.0, NEGATE),
    ("shant", 0.0, NEGATE),
    ("shouldnt", 0.0, NEGATE),
    ("wasnt", 0.0, NEGATE),
    ("werent", 0.0, NEGATE),
    ("wont", 0.0, NEGATE),
    ("wouldnt", 0.0, NEGATE),
    // intensifiers
    ("absolutely", BOOST, 0),
    ("amazingly", BOOST, 0),
    ("awfully", BOOST, 0),
    ("completely", BOOST, 0),
    ("considerably", BOOST, 0),
    ("decidedly", BOOST, 0),
    ("deeply", BOOST, 0),
    ("effing", BOOST, 0),
    ("enormously", BOOST, 0),
    ("entirely", BOOST, 0),
    ("especially", BOOST, 0),
    ("exceptionally", BOOST, 0),
    ("extremely", BOOST, 0),
    ("fabulously", BOOST, 0),
    ("freaking", BOOST, 0),
    ("friggin", BOOST, 0),
    ("frigging", BOOST, 0),
    ("fully", BOOST, 0),
    ("fucking", BOOST, 0),
    ("fuckin", BOOST, 0),
    ("greatly", BOOST, 0),
    ("hella", BOOST, 0),
    ("highly", BOOST, 0),
    ("hugely", BOOST, 0),
    ("incredibly", BOOST, 0),
    ("intensely", BOOST, 0),
    ("majorly", BOOST, 0),
    ("more", BOOST, 0),
    ("most", BOOST, 0),
    ("particularly", BOOST, 0),
    ("purely", BOOST, 0),
    ("quite", BOOST, 0),
    ("really", BOOST, 0),
    ("remarkably", BOOST, 0),
    ("so", BOOST, 0),
    ("substantially", BOOST, 0),
    ("such", BOOST, 0),
    ("thoroughly", BOOST, 0),
    ("too", BOOST, 0),
    ("totally", BOOST, 0),
    ("tremendously", BOOST, 0),
    ("truly", BOOST, 0),
    ("uber", BOOST, 0),
    ("unbelievably", BOOST, 0),
    ("unusually", BOOST, 0),
    ("utterly", BOOST, 0),
    ("very", BOOST, 0),
    ("way", BOOST, 0),
    ("super", BOOST, 0),
    ("soo", BOOST, 0),
    ("sooo", BOOST, 0),
    ("soooo", BOOST, 0),
    ("real", BOOST, 0),
    ("pretty", BOOST * 0.5, 0),
    ("extra", BOOST, 0),
    // dampeners
    ("almost", -BOOST, 0),
    ("barely", -BOOST, 0),
    ("hardly", -BOOST, 0),
    ("kinda", -BOOST, 0),
    ("kind of", -BOOST, 0),
    ("sort of", -BOOST, 0),
    ("sorta", -BOOST, 0),
    ("a bit", -BOOST, 0),
    ("a little", -BOOST, 0),
    ("less", -BOOST, 0),
    ("marginally", -BOOST, 0),
    ("occasionally", -BOOST, 0),
    ("partly", -BOOST, 0),
    ("scarcely", -BOOST, 0),
    ("slightly", -BOOST, 0),
    ("somewhat", -BOOST, 0),
    ("fairly", -BOOST, 0),
    ("rather", -BOOST, 0),
    ("just enough", -BOOST, 0),
    // unmet expectations
    ("would have", 0.0, UNREAL),
    ("could have", 0.0, UNREAL),
    ("should have", 0.0, UNREAL),
    ("would've", 0.0, UNREAL),
    ("could've", 0.0, UNREAL),
    ("should've", 0.0, UNREAL),
    ("was expecting", 0.0, UNREAL),
    ("was hoping", 0.0, UNREAL),
    ("supposed to", 0.0, UNREAL),
    // contrast and concession
    ("but", 0.0, CONTRAST),
    ("however", 0.0, CONTRAST),
    ("nevertheless", 0.0, CONTRAST),
    ("nonetheless", 0.0, CONTRAST),
    ("although", 0.0, CONCEDE),
    ("even though", 0.0, CONCEDE),
    ("despite", 0.0, CONCEDE),
    ("in spite of", 0.0, CONCEDE),
];

/// French grammar words: (expression, boost, roles).
const FR_GRAMMAR: &[(&str, f32, u8)] = &[
    // negations
    ("ne", 0.0, NE),
    ("n'", 0.0, NE),
    ("pas", 0.0, NEGATE | NE_CLOSE),
    ("jamais", 0.0, NEGATE | NE_CLOSE),
    ("rien", 0.0, NEGATE | NE_CLOSE),
    ("aucun", 0.0, NEGATE | NE_CLOSE),
    ("aucune", 0.0, NEGATE | NE_CLOSE),
    ("aucuns", 0.0, NEGATE | NE_CLOSE),
    ("aucunes", 0.0, NEGATE | NE_CLOSE),
    ("nullement", 0.0, NEGATE | NE_CLOSE),
    ("ni", 0.0, NEGATE | NE_CLOSE),
    ("sans", 0.0, NEGATE),
    ("peu", 0.0, NEGATE),
    ("guere", 0.0, NE_CLOSE),
    ("point", 0.0, NE_CLOSE),
    ("personne", 0.0, NE_CLOSE),
    ("plus", BOOST, NE_CLOSE),
    ("pas du tout", 0.0, NEGATE | NE_CLOSE),
    ("pas vraiment", 0.0, NEGATE | NE_CLOSE),
    ("pas tres", 0.0, NEGATE | NE_CLOSE),
    ("pas si", 0.0, NEGATE | NE_CLOSE),
    ("pas assez", 0.0, NEGATE | NE_CLOSE),
    ("not", 0.0, NEGATE),
    ("no", 0.0, NEGATE),
    ("never", 0.0, NEGATE),
    // intensifiers
    ("tres", BOOST, 0),
    ("trop", BOOST, 0),
    ("vraiment", BOOST, 0),
    ("tellement", BOOST, 0),
    ("si", BOOST, 0),
    ("tant", BOOST, 0),
    ("super", BOOST, 0),
    ("hyper", BOOST, 0),
    ("ultra", BOOST, 0),
    ("archi", BOOST, 0),
    ("extremement", BOOST, 0),
    ("vachement", BOOST, 0),
    ("carrement", BOOST, 0),
    ("totalement", BOOST, 0),
    ("completement", BOOST, 0),
    ("absolument", BOOST, 0),
    ("entierement", BOOST, 0),
    ("particulierement", BOOST, 0),
    ("incroyablement", BOOST, 0),
    ("terriblement", BOOST, 0),
    ("profondement", BOOST, 0),
    ("enormement", BOOST, 0),
    ("hautement", BOOST, 0),
    ("fortement", BOOST, 0),
    ("grandement", BOOST, 0),
    ("infiniment", BOOST, 0),
    ("follement", BOOST, 0),
    ("beaucoup", BOOST, 0),
    ("bien", BOOST, 0),
    ("franchement", BOOST, 0),
    ("vraiement", BOOST, 0),
    ("tout a fait", BOOST, 0),
    ("de plus en plus", BOOST, 0),
    ("grave", BOOST, 0),
    ("real", BOOST, 0),
    ("so", BOOST, 0),
    ("very", BOOST, 0),
    ("really", BOOST, 0),
    // dampeners
    ("un peu", -BOOST, 0),
    ("un brin", -BOOST, 0),
    ("assez", -BOOST * 0.5, 0),
    ("plutot", -BOOST, 0),
    ("moins", 0.0, NEGATE),
    ("le moins", 0.0, NEGATE),
    ("la moins", 0.0, NEGATE),
    ("les moins", 0.0, NEGATE),
    ("presque", -BOOST, 0),
    ("a peine", -BOOST, 0),
    ("legerement", -BOOST, 0),
    ("quelque peu", -BOOST, 0),
    ("relativement", -BOOST, 0),
    ("moyennement", -BOOST * 2.0, 0),
    ("pas mal de", 0.0, 0),
    // shifters: lessening a bad thing is good, lessening a good one bad ("lutter contre la
    // pollution", "réduire les aides")
    ("lutte contre", 0.0, NEGATE),
    ("lutter contre", 0.0, NEGATE),
    ("luttent contre", 0.0, NEGATE),
    ("lutter efficacement contre", 0.0, NEGATE),
    ("se battre contre", 0.0, NEGATE),
    ("combat contre", 0.0, NEGATE),
    ("combattre", 0.0, NEGATE),
    ("combat", 0.0, NEGATE),
    ("combattent", 0.0, NEGATE),
    ("réduire", 0.0, NEGATE),
    ("réduit", 0.0, NEGATE),
    ("réduite", 0.0, NEGATE),
    ("réduits", 0.0, NEGATE),
    ("réduisent", 0.0, NEGATE),
    ("réduction", 0.0, NEGATE),
    ("réductions", 0.0, NEGATE),
    ("diminuer", 0.0, NEGATE),
    ("diminue", 0.0, NEGATE),
    ("diminuent", 0.0, NEGATE),
    ("diminué", 0.0, NEGATE),
    ("diminution", 0.0, NEGATE),
    ("limiter", 0.0, NEGATE),
    ("limite", 0.0, NEGATE),
    ("limitent", 0.0, NEGATE),
    ("limitation", 0.0, NEGATE),
    ("prévenir", 0.0, NEGATE),
    ("prévient", 0.0, NEGATE),
    ("prévention", 0.0, NEGATE),
    ("enrayer", 0.0, NEGATE),
    ("stopper", 0.0, NEGATE),
    ("freiner", 0.0, NEGATE),
    ("éradiquer", 0.0, NEGATE),
    ("éradication", 0.0, NEGATE),
    ("supprimer", 0.0, NEGATE),
    ("supprime", 0.0, NEGATE),
    ("suppression", 0.0, NEGATE),
    ("baisse de", 0.0, NEGATE),
    ("baisse du", 0.0, NEGATE),
    ("baisse des", 0.0, NEGATE),
    ("fin de", 0.0, NEGATE),
    ("fin du", 0.0, NEGATE),
    ("fin des", 0.0, NEGATE),
    ("recul de", 0.0, NEGATE),
    ("recul du", 0.0, NEGATE),
    ("recul des", 0.0, NEGATE),
    ("protéger contre", 0.0, NEGATE),
    ("protège contre", 0.0, NEGATE),
    ("face à", 0.0, NEGATE),
    // unmet expectations
    ("aurait pu", 0.0, UNREAL),
    ("aurait du", 0.0, UNREAL),
    ("aurais du", 0.0, UNREAL),
    ("aurait ete", 0.0, UNREAL),
    ("aurait merite", 0.0, UNREAL),
    ("aurais aime", 0.0, UNREAL),
    ("aurais voulu", 0.0, UNREAL),
    ("aurais prefere", 0.0, UNREAL),
    ("aurait fallu", 0.0, UNREAL),
    ("m'attendais", 0.0, UNREAL),
    ("attendais", 0.0, UNREAL),
    ("esperais", 0.0, UNREAL),
    ("promettait", 0.0, UNREAL),
    ("devait etre", 0.0, UNREAL),
    ("etait cense", 0.0, UNREAL),
    ("etait censee", 0.0, UNREAL),
    // contrast and concession
    ("mais", 0.0, CONTRAST),
    ("cependant", 0.0, CONTRAST),
    ("toutefois", 0.0, CONTRAST),
    ("neanmoins", 0.0, CONTRAST),
    ("par contre", 0.0, CONTRAST),
    ("en revanche", 0.0, CONTRAST),
    ("sauf que", 0.0, CONTRAST),
    ("but", 0.0, CONTRAST),
    ("bien que", 0.0, CONCEDE),
    ("quoique", 0.0, CONCEDE),
    ("meme si", 0.0, CONCEDE),
    ("malgre", 0.0, CONCEDE),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_load_every_source() {
        let lx = lexicons();
        let (en, fr, stems, emoji, emoticons) = lx.sizes();
        assert!(en > 7000, "VADER words: {en}");
        assert!(fr > 5000, "textblob-fr forms and vigie's list: {fr}");
        assert!(stems > 5000, "FEEL stems: {stems}");
        assert!(emoji > 1000, "emoji: {emoji}");
        assert!(emoticons > 100, "emoticons: {emoticons}");
        assert!(lx.en.word("good").unwrap().valence > 1.0);
        assert!(lx.en.word("horrible").unwrap().valence < -2.0);
        assert!(lx.fr.word("magnifique").unwrap().valence > 2.0);
        assert!(lx.emoji[&'😍'] > 1.0, "heart eyes from its description");
        assert!(lx.emoji[&'😡'] < -1.0);
        assert!(lx.emoticons[":-)"] > 1.0 && lx.emoticons[":("] < -1.0);
    }

    #[test]
    fn grammar_words_merge_with_their_valence() {
        let lx = lexicons();
        let pas = lx.fr.word("pas").unwrap();
        assert!(pas.has(role::NEGATE) && pas.has(role::NE_CLOSE));
        let plus = lx.fr.word("plus").unwrap();
        assert!(!plus.has(role::NEGATE) && plus.has(role::NE_CLOSE) && plus.boost > 0.0);
        assert!(lx.en.word("no").unwrap().has(role::NEGATE));
    }

    #[test]
    fn names_and_counting_words_are_neutral() {
        let lx = lexicons();
        for w in ["amazon", "number"] {
            assert_eq!(lx.en.word(w).map(|e| e.valence), Some(0.0), "{w}");
        }
    }

    #[test]
    fn expressions_match_the_longest_first() {
        let lx = lexicons();
        let toks = text::tokenize("ce n'est pas du tout bon");
        let (n, e) = lx.fr.phrase_at(&toks, 3).expect("pas du tout");
        assert_eq!(n, 3);
        assert!(e.has(role::NEGATE));
        let toks = text::tokenize("it was kind of good");
        assert_eq!(lx.en.phrase_at(&toks, 2).map(|p| p.0), Some(2));
    }
}
