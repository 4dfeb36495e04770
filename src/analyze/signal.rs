//! The terms a document contributes to emerging-signal detection: stems of its content words
//! and the short phrases (two or three content words, stop-words allowed between them) they
//! form, once each. Stop-words, numbers, URLs and one- or two-letter words are ignored.

use xxhash_rust::xxh3::Xxh3;

use crate::analyze::text::{Analyzed, TokenKind, WordSet};

/// A term: its key (hash of its stems) and where its text is in its document's [`Terms`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Term {
    pub key: u64,
    /// For a phrase, the key of each of its words alone (0 past `words`); for a word, its own
    /// key first.
    pub parts: [u64; 3],
    /// Its words as first written in the document, lowercased: `start..start + len` of the
    /// document's term text.
    start: u32,
    len: u32,
    /// Number of content words (1 to 3).
    pub words: u8,
}

/// The terms of one document. Their texts share one buffer, and the list is allocated at its
/// final size: the terms of thousands of documents wait in memory for the detectors.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Terms {
    text: String,
    list: Vec<Term>,
}

impl Terms {
    /// How `term` (one of these) reads.
    pub fn text(&self, term: &Term) -> &str {
        let start = term.start as usize;
        self.text
            .get(start..start + term.len as usize)
            .unwrap_or_default()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Term> {
        self.list.iter()
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The texts of the terms, in order.
    pub fn texts(&self) -> impl Iterator<Item = &str> {
        self.list.iter().map(|t| self.text(t))
    }
}

impl<'a> IntoIterator for &'a Terms {
    type Item = &'a Term;
    type IntoIter = std::slice::Iter<'a, Term>;

    fn into_iter(self) -> Self::IntoIter {
        self.list.iter()
    }
}

/// Most terms taken from one document (long pages would otherwise dominate).
pub const MAX_TERMS: usize = 400;

/// Stop-words two content words of a phrase may have between them.
const MAX_GAP: usize = 2;

const STOP_FR: &[&str] = &[
    "alors",
    "au",
    "aucun",
    "aucune",
    "aussi",
    "autre",
    "aux",
    "avec",
    "avoir",
    "bon",
    "car",
    "ce",
    "cela",
    "ces",
    "cet",
    "cette",
    "ceux",
    "chaque",
    "chez",
    "comme",
    "comment",
    "dans",
    "de",
    "des",
    "deux",
    "doit",
    "donc",
    "dont",
    "du",
    "elle",
    "elles",
    "en",
    "encore",
    "est",
    "et",
    "etaient",
    "etait",
    "etant",
    "ete",
    "etre",
    "eu",
    "fait",
    "faire",
    "fois",
    "font",
    "hors",
    "ici",
    "il",
    "ils",
    "je",
    "juste",
    "la",
    "le",
    "les",
    "leur",
    "leurs",
    "lui",
    "ma",
    "mais",
    "me",
    "meme",
    "mes",
    "moi",
    "mon",
    "ne",
    "ni",
    "nos",
    "notre",
    "nous",
    "on",
    "ont",
    "ou",
    "par",
    "parce",
    "pas",
    "peu",
    "peut",
    "plus",
    "pour",
    "pourquoi",
    "quand",
    "que",
    "quel",
    "quelle",
    "quelles",
    "quels",
    "qui",
    "sa",
    "sans",
    "se",
    "ses",
    "seulement",
    "si",
    "sien",
    "son",
    "sont",
    "sous",
    "soyez",
    "sujet",
    "sur",
    "ta",
    "tandis",
    "te",
    "tellement",
    "tels",
    "tes",
    "toi",
    "ton",
    "tous",
    "tout",
    "toute",
    "toutes",
    "tres",
    "trop",
    "tu",
    "un",
    "une",
    "vos",
    "votre",
    "vous",
    "vu",
    "ca",
    "c'est",
    "cest",
    "j'ai",
    "ai",
    "as",
    "avez",
    "avons",
    "suis",
    "es",
    "sommes",
    "etes",
    "sera",
    "serait",
    "ya",
    "y",
    "rien",
    "bien",
    "tjs",
    "toujours",
    "deja",
    "apres",
    "avant",
    "depuis",
    "jamais",
    "ceci",
    "celui",
    "celle",
    "lors",
    "puis",
    "ainsi",
    "alors",
    "oui",
    "non",
    "voila",
    "qu",
    "quoi",
    "ou",
    "dont",
    "entre",
    "vers",
    "via",
    "selon",
    "contre",
    "pendant",
    "mes",
    "nos",
    "leurs",
    "cet",
    "aujourd'hui",
    "hier",
    "demain",
];

const STOP_EN: &[&str] = &[
    "a",
    "about",
    "above",
    "after",
    "again",
    "against",
    "all",
    "also",
    "am",
    "an",
    "and",
    "any",
    "are",
    "aren't",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "but",
    "by",
    "can",
    "can't",
    "cannot",
    "could",
    "couldn't",
    "did",
    "didn't",
    "do",
    "does",
    "doesn't",
    "doing",
    "don't",
    "during",
    "each",
    "even",
    "ever",
    "few",
    "for",
    "from",
    "further",
    "get",
    "gets",
    "got",
    "had",
    "hadn't",
    "has",
    "hasn't",
    "have",
    "haven't",
    "having",
    "he",
    "he's",
    "her",
    "here",
    "hers",
    "herself",
    "him",
    "himself",
    "his",
    "how",
    "i",
    "i'd",
    "i'll",
    "i'm",
    "i've",
    "if",
    "in",
    "into",
    "is",
    "isn't",
    "it",
    "it's",
    "its",
    "itself",
    "just",
    "let",
    "let's",
    "like",
    "me",
    "more",
    "most",
    "much",
    "my",
    "myself",
    "no",
    "nor",
    "not",
    "now",
    "of",
    "on",
    "once",
    "one",
    "only",
    "or",
    "other",
    "ought",
    "our",
    "ours",
    "ourselves",
    "over",
    "own",
    "really",
    "same",
    "she",
    "she's",
    "should",
    "shouldn't",
    "so",
    "some",
    "such",
    "than",
    "that",
    "that's",
    "the",
    "their",
    "theirs",
    "them",
    "themselves",
    "then",
    "there",
    "there's",
    "these",
    "they",
    "they're",
    "this",
    "those",
    "through",
    "to",
    "too",
    "under",
    "until",
    "up",
    "us",
    "very",
    "was",
    "wasn't",
    "we",
    "we're",
    "were",
    "weren't",
    "what",
    "what's",
    "when",
    "where",
    "which",
    "while",
    "who",
    "who's",
    "whom",
    "why",
    "will",
    "with",
    "won't",
    "would",
    "wouldn't",
    "you",
    "you'd",
    "you'll",
    "you're",
    "you've",
    "your",
    "yours",
    "yourself",
    "yourselves",
    "im",
    "dont",
    "cant",
    "u",
    "ur",
    "lol",
    "rt",
    "via",
    "amp",
    "gonna",
    "wanna",
    "yeah",
    "yes",
    "oh",
    "ok",
    "okay",
    "still",
    "today",
    "day",
    "time",
    "new",
    "know",
    "think",
    "see",
    "go",
    "going",
    "make",
    "want",
    "need",
    "way",
    "well",
    "back",
    "today's",
    "http",
    "https",
    "www",
    "com",
];

fn is_stop(folded: &str) -> bool {
    static STOP: WordSet = WordSet::new(&[STOP_FR, STOP_EN]);
    STOP.contains(folded)
}

/// Whether a token can be (part of) a term.
fn is_content(a: &Analyzed<'_>, i: usize) -> bool {
    let t = &a.tokens[i];
    match t.kind {
        TokenKind::Hashtag | TokenKind::Handle => t.folded.len() > 2,
        TokenKind::Word => {
            t.folded.chars().count() >= 3
                && t.folded.chars().any(char::is_alphabetic)
                && !is_stop(&t.folded)
        }
        _ => false,
    }
}

/// The terms of an analysed text, each once.
pub fn extract_terms(a: &Analyzed<'_>) -> Terms {
    SCRATCH.with_borrow_mut(|(text, list)| {
        text.clear();
        list.clear();
        collect_terms(a, text, list);
        // copied out at their final sizes: the scratch buffers stay with the thread
        Terms {
            text: text.as_str().to_owned(),
            list: list.as_slice().to_vec(),
        }
    })
}

thread_local! {
    /// Term text and list under construction, reused from one document to the next.
    static SCRATCH: std::cell::RefCell<(String, Vec<Term>)> = Default::default();
}

fn collect_terms(a: &Analyzed<'_>, buf: &mut String, out: &mut Vec<Term>) {
    // about three terms a word (a word, the phrases it starts), within the cap; the keys are
    // hashes already: a light hasher is enough
    let room = (a.tokens.len() * 3).min(MAX_TERMS);
    let mut seen = rustc_hash::FxHashSet::with_capacity_and_hasher(room, rustc_hash::FxBuildHasher);
    let mut push = |out: &mut Vec<Term>, idx: &[usize]| {
        if out.len() >= MAX_TERMS {
            return;
        }
        let mut hasher = Xxh3::new();
        for (n, &i) in idx.iter().enumerate() {
            if n > 0 {
                hasher.update(b" ");
            }
            hasher.update(a.stems[i].as_bytes());
        }
        let key = hasher.digest();
        if seen.insert(key) {
            let mut parts = [0u64; 3];
            if idx.len() == 1 {
                parts[0] = key;
            } else {
                for (p, &i) in parts.iter_mut().zip(idx) {
                    *p = xxhash_rust::xxh3::xxh3_64(a.stems[i].as_bytes());
                }
            }
            let start = a.tokens[idx[0]].start;
            let end = a.tokens[*idx.last().expect("non-empty")].end;
            // lowercased, runs of white space made one space, in one pass
            let at = buf.len();
            let mut space = false;
            for c in a.text[start..end].chars() {
                if c.is_whitespace() {
                    space = buf.len() > at;
                    continue;
                }
                if space {
                    buf.push(' ');
                    space = false;
                }
                if c.is_ascii() {
                    buf.push(c.to_ascii_lowercase());
                } else {
                    buf.extend(c.to_lowercase());
                }
            }
            out.push(Term {
                key,
                parts,
                start: at as u32,
                len: (buf.len() - at) as u32,
                words: idx.len() as u8,
            });
        }
    };
    for sentence in &a.sentences {
        let range = a.tokens_in(sentence);
        // content tokens of the sentence, with how many stop-words sit before each
        let mut content: Vec<(usize, usize)> = Vec::new();
        let mut gap = 0usize;
        for i in range {
            if is_content(a, i) {
                content.push((i, gap));
                gap = 0;
            } else if matches!(a.tokens[i].kind, TokenKind::Word | TokenKind::Elision) {
                gap += 1;
            } else {
                // numbers, emoji: break phrases
                gap = MAX_GAP + 1;
            }
        }
        for k in 0..content.len() {
            let (i, _) = content[k];
            push(out, &[i]);
            if k + 1 < content.len() && content[k + 1].1 <= MAX_GAP {
                let j = content[k + 1].0;
                push(out, &[i, j]);
                if k + 2 < content.len() && content[k + 2].1 <= MAX_GAP {
                    push(out, &[i, j, content[k + 2].0]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::lang::Lang;

    fn texts(s: &str, lang: Lang) -> Vec<String> {
        extract_terms(&Analyzed::new(s, lang))
            .texts()
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn keys_hash_the_stems_joined_by_spaces() {
        // detector state saved on disk is keyed by these: they must never change
        let a = Analyzed::new("Mobile data down", Lang::En);
        let terms = extract_terms(&a);
        let phrase = terms.iter().find(|t| t.words == 3).unwrap();
        let joined = format!("{} {} {}", a.stems[0], a.stems[1], a.stems[2]);
        assert_eq!(phrase.key, xxhash_rust::xxh3::xxh3_64(joined.as_bytes()));
        assert_eq!(terms.text(phrase), "mobile data down");
    }

    #[test]
    fn a_phrase_knows_the_keys_of_its_words() {
        let terms = extract_terms(&Analyzed::new("Mobile data down", Lang::En));
        let word = |w: &str| terms.iter().find(|t| terms.text(t) == w).unwrap().key;
        let phrase = terms.iter().find(|t| t.words == 3).unwrap();
        assert_eq!(
            phrase.parts,
            [word("mobile"), word("data"), word("down")],
            "{terms:?}"
        );
        let first = terms.iter().next().unwrap();
        assert_eq!(first.parts, [first.key, 0, 0]);
    }

    #[test]
    fn words_and_phrases_without_stop_words() {
        let t = texts("Encore un prélèvement en double, troisième fois.", Lang::Fr);
        assert!(t.contains(&"prélèvement".to_string()));
        assert!(t.contains(&"prélèvement en double".to_string()), "{t:?}");
        assert!(
            !t.iter().any(|x| x == "en" || x == "un" || x == "encore"),
            "{t:?}"
        );
        let t = texts("Mobile data down for the third hour now.", Lang::En);
        assert!(
            t.contains(&"mobile data".to_string()) && t.contains(&"mobile data down".to_string()),
            "{t:?}"
        );
    }

    #[test]
    fn inflections_share_a_key_and_phrases_stay_in_their_sentence() {
        let a = extract_terms(&Analyzed::new("Les prélèvements en double.", Lang::Fr));
        let b = extract_terms(&Analyzed::new("Un prélèvement en double.", Lang::Fr));
        let key = |v: &Terms, w: u8| v.iter().find(|t| t.words == w).map(|t| t.key);
        assert_eq!(key(&a, 2), key(&b, 2));
        let t = texts("Panne réseau. Facture salée.", Lang::Fr);
        assert!(
            !t.iter()
                .any(|x| x.contains("réseau") && x.contains("facture")),
            "{t:?}"
        );
    }

    #[test]
    fn each_term_once_and_bounded() {
        let long = "alpha beta gamma ".repeat(10);
        let t = texts(&long, Lang::En);
        assert_eq!(t.iter().filter(|x| *x == "alpha").count(), 1);
        let huge: String = (0..5000).map(|i| format!("mot{i} ")).collect();
        assert_eq!(
            extract_terms(&Analyzed::new(&huge, Lang::Fr)).len(),
            MAX_TERMS
        );
    }
}
