//! Language detection: whatlang's trigram models, backed by a stop-word vote for the short
//! texts where trigrams are unreliable, and by the source's or page's hint when both are unsure.
//! It reads the tokenizer's words, so it stands above [`crate::analyze::text`].

use crate::analyze::lang::{from_whatlang, Lang};
use crate::analyze::text::{tokenize, Analyzed, Token, TokenKind};

/// A detected language with how sure the detector is (0..1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detected {
    pub lang: Lang,
    pub confidence: f64,
}

/// How much text detection reads: trigram statistics settle long before this.
const MAX_DETECT_BYTES: usize = 1024;

const FR_WORDS: &[&str] = &[
    "le", "la", "les", "des", "du", "un", "une", "et", "est", "que", "qui", "pour", "pas", "ne",
    "je", "tu", "il", "nous", "vous", "ce", "cette", "avec", "sur", "dans", "au", "aux", "mais",
    "ou", "tres", "plus", "mon", "ma", "mes", "son", "sa", "ses", "elle", "ils", "sont", "suis",
    "ai", "avez", "avons", "fait", "etait", "c'est", "leur", "leurs", "quand", "comme", "depuis",
    "toujours", "encore", "rien", "aucun", "aucune", "chez", "sans", "etre", "avoir", "qu", "j",
    "l", "d", "c", "n", "s", "m", "y", "en", "merci", "bonjour", "oui", "non", "alors", "donc",
    "aussi", "bien", "tout", "tous", "toute", "moi", "toi", "lui", "notre", "votre", "vos", "nos",
];
const EN_WORDS: &[&str] = &[
    "the", "a", "an", "and", "is", "are", "was", "were", "of", "to", "in", "for", "on", "with",
    "that", "this", "it", "not", "be", "have", "has", "had", "i", "you", "my", "your", "at",
    "from", "but", "or", "very", "we", "they", "he", "she", "our", "their", "what", "when", "will",
    "would", "can", "could", "should", "don't", "it's", "i'm", "just", "so", "if", "about", "all",
    "been", "do", "does", "did", "no", "yes", "thanks", "please", "really", "today", "there",
    "here", "how", "why", "who", "me", "him", "her", "them", "us", "let", "get", "got", "still",
    "again", "never", "after", "by", "into", "out", "up", "more", "some", "any",
];

fn is_fr_word(w: &str) -> bool {
    FR_WORDS.contains(&w)
}

fn is_en_word(w: &str) -> bool {
    EN_WORDS.contains(&w)
}

/// Detects the language of `text`. `hint` (from the source, the page's `lang` attribute or the
/// input line) wins when the text is too short or the detectors disagree.
pub fn detect_lang(text: &str, hint: Option<Lang>) -> Detected {
    let sample = &text[..detect_cut(text)];
    detect_lang_tokens(sample, &tokenize(sample), hint)
}

/// Where detection stops reading `text` (a char boundary).
pub fn detect_cut(text: &str) -> usize {
    let mut cut = text.len().min(MAX_DETECT_BYTES);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    cut
}

/// [`detect_lang`] over tokens already made: only those starting before [`detect_cut`] count.
pub fn detect_lang_tokens(text: &str, tokens: &[Token], hint: Option<Lang>) -> Detected {
    let cut = detect_cut(text);
    let sample = &text[..cut];
    // stop-word vote: decisive on short social text where trigrams are noisy
    let (mut fr, mut en, mut words) = (0usize, 0usize, 0usize);
    for tok in tokens.iter().take_while(|t| t.end <= cut) {
        if tok.kind == TokenKind::Word || tok.kind == TokenKind::Elision {
            words += 1;
            fr += is_fr_word(&tok.folded) as usize;
            en += is_en_word(&tok.folded) as usize;
        }
    }
    if words == 0 {
        return Detected {
            lang: hint.unwrap_or(Lang::Und),
            confidence: 0.0,
        };
    }
    let info = whatlang::detect(sample);
    let vote = if fr >= 2 && fr >= 2 * en.max(1) {
        Some(Lang::Fr)
    } else if en >= 2 && en >= 2 * fr.max(1) {
        Some(Lang::En)
    } else {
        None
    };
    match info {
        Some(info) => {
            let wl = from_whatlang(info.lang());
            let conf = info.confidence();
            // trigram and stop-word evidence agree, or trigrams are sure on a long text
            if vote == Some(wl) || (info.is_reliable() && words >= 12 && vote.is_none()) {
                return Detected {
                    lang: wl,
                    confidence: conf.max(0.5),
                };
            }
            if let Some(v) = vote {
                // short texts: a clear stop-word majority beats an unsure trigram guess; a
                // sure trigram guess on a long text that is neither fr nor en stands
                if !(info.is_reliable() && words >= 12 && !matches!(wl, Lang::Fr | Lang::En)) {
                    let share = (fr.max(en) as f64 / words as f64).min(1.0);
                    return Detected {
                        lang: v,
                        confidence: (0.5 + share).min(0.95),
                    };
                }
            }
            if info.is_reliable() {
                return Detected {
                    lang: wl,
                    confidence: conf,
                };
            }
            match hint {
                Some(h) => Detected {
                    lang: h,
                    confidence: 0.5,
                },
                None => Detected {
                    lang: wl,
                    confidence: conf,
                },
            }
        }
        None => match (vote, hint) {
            (Some(v), _) => Detected {
                lang: v,
                confidence: 0.6,
            },
            (None, Some(h)) => Detected {
                lang: h,
                confidence: 0.5,
            },
            (None, None) => Detected {
                lang: Lang::Und,
                confidence: 0.0,
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_french_and_english_sentences() {
        let fr = detect_lang(
            "Acme est vraiment génial, je recommande ce produit à tout le monde !",
            None,
        );
        assert_eq!(fr.lang, Lang::Fr);
        let en = detect_lang(
            "The weather is really nice today, let us go for a long walk.",
            None,
        );
        assert_eq!(en.lang, Lang::En);
        let fr2 = detect_lang(
            "Acme ne répond toujours pas à mes messages depuis une semaine.",
            None,
        );
        assert_eq!(fr2.lang, Lang::Fr);
    }

    #[test]
    fn short_texts_fall_back_to_the_hint() {
        assert_eq!(detect_lang("Ouigo 🚄", Some(Lang::Fr)).lang, Lang::Fr);
        assert_eq!(detect_lang("", Some(Lang::En)).lang, Lang::En);
        assert_eq!(detect_lang("1234 !!!", None).lang, Lang::Und);
    }

    #[test]
    fn other_languages_flow_through() {
        let de = detect_lang("Die Lieferung ist leider immer noch nicht angekommen, und der Kundendienst antwortet nicht.", None);
        assert_eq!(de.lang, Lang::De);
    }
}

/// French or English, by trigrams alone, for a short piece of text already known to be one of
/// the two (a sentence of a post): a choice between two is far surer than among seventy.
pub fn french_or_english(text: &str) -> Option<(Lang, f64)> {
    static DETECTOR: std::sync::OnceLock<whatlang::Detector> = std::sync::OnceLock::new();
    let d = DETECTOR.get_or_init(|| {
        whatlang::Detector::with_allowlist(vec![whatlang::Lang::Fra, whatlang::Lang::Eng])
    });
    let info = d.detect(&text[..detect_cut(text)])?;
    Some((from_whatlang(info.lang()), info.confidence()))
}

#[cfg(test)]
mod fr_en_tests {
    use super::*;

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

impl<'a> Analyzed<'a> {
    /// Tokenises `text` once, detects its language from those tokens (`hint` wins when the
    /// text is too short to tell), and stems in that language.
    pub fn detect(text: &'a str, hint: Option<Lang>) -> (Self, Detected) {
        let tokens = tokenize(text);
        let detected = detect_lang_tokens(text, &tokens, hint);
        (Self::with_tokens(text, detected.lang, tokens), detected)
    }
}
