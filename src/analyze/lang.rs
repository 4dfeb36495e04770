//! Languages: the [`Lang`] of a document and its codes. Detection lives in
//! [`crate::analyze::langid`], above the tokenizer it reads.

use std::fmt;

use serde::{Serialize, Serializer};

/// A document language. French and English get every analysis; the other stemmed languages
/// get stemmed search; everything else flows through folded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    Fr,
    En,
    De,
    Es,
    It,
    Pt,
    Nl,
    /// Another language, by ISO 639-1 code (or 639-3 when it has no two-letter code).
    Other(&'static str),
    /// Undetermined: too little text, or no letters.
    Und,
}

impl Lang {
    /// Languages with a stemmed index field.
    pub const STEMMED: &'static [Lang] = &[
        Lang::Fr,
        Lang::En,
        Lang::De,
        Lang::Es,
        Lang::It,
        Lang::Pt,
        Lang::Nl,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
            Lang::De => "de",
            Lang::Es => "es",
            Lang::It => "it",
            Lang::Pt => "pt",
            Lang::Nl => "nl",
            Lang::Other(c) => c,
            Lang::Und => "und",
        }
    }

    /// Parses an ISO 639-1 or 639-3 code, or a BCP 47 tag (`fr-FR`, `en_US`): the primary
    /// subtag decides. Unknown codes give `None`.
    pub fn from_code(code: &str) -> Option<Lang> {
        let primary = code.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        let lang = match primary.as_str() {
            "fr" | "fra" | "fre" => Lang::Fr,
            "en" | "eng" => Lang::En,
            "de" | "deu" | "ger" => Lang::De,
            "es" | "spa" => Lang::Es,
            "it" | "ita" => Lang::It,
            "pt" | "por" => Lang::Pt,
            "nl" | "nld" | "dut" => Lang::Nl,
            "und" | "" => return None,
            other => {
                let wl = whatlang::Lang::from_code(other).or_else(|| {
                    whatlang::Lang::all()
                        .iter()
                        .copied()
                        .find(|l| iso1(*l) == Some(other))
                })?;
                from_whatlang(wl)
            }
        };
        Some(lang)
    }

    pub fn is_stemmed(self) -> bool {
        Lang::STEMMED.contains(&self)
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Lang {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

fn iso1(l: whatlang::Lang) -> Option<&'static str> {
    use whatlang::Lang as W;
    Some(match l {
        W::Eng => "en",
        W::Fra => "fr",
        W::Deu => "de",
        W::Spa => "es",
        W::Ita => "it",
        W::Por => "pt",
        W::Nld => "nl",
        W::Rus => "ru",
        W::Ukr => "uk",
        W::Pol => "pl",
        W::Ces => "cs",
        W::Slk => "sk",
        W::Slv => "sl",
        W::Hrv => "hr",
        W::Srp => "sr",
        W::Bul => "bg",
        W::Mkd => "mk",
        W::Ron => "ro",
        W::Hun => "hu",
        W::Fin => "fi",
        W::Est => "et",
        W::Lav => "lv",
        W::Lit => "lt",
        W::Swe => "sv",
        W::Dan => "da",
        W::Nob => "nb",
        W::Tur => "tr",
        W::Ell => "el",
        W::Ara => "ar",
        W::Heb => "he",
        W::Pes => "fa",
        W::Urd => "ur",
        W::Hin => "hi",
        W::Ben => "bn",
        W::Cmn => "zh",
        W::Jpn => "ja",
        W::Kor => "ko",
        W::Vie => "vi",
        W::Tha => "th",
        W::Ind => "id",
        W::Cat => "ca",
        W::Epo => "eo",
        W::Lat => "la",
        W::Afr => "af",
        W::Bel => "be",
        W::Kat => "ka",
        W::Hye => "hy",
        W::Aze => "az",
        W::Uzb => "uz",
        W::Tgl => "tl",
        W::Jav => "jv",
        W::Yid => "yi",
        W::Amh => "am",
        W::Tam => "ta",
        W::Tel => "te",
        W::Mar => "mr",
        W::Guj => "gu",
        W::Kan => "kn",
        W::Mal => "ml",
        W::Ori => "or",
        W::Pan => "pa",
        W::Sin => "si",
        W::Nep => "ne",
        W::Mya => "my",
        W::Khm => "km",
        W::Zul => "zu",
        W::Sna => "sn",
        W::Aka => "ak",
        W::Tuk => "tk",
        W::Cym => "cy",
    })
}

pub(crate) fn from_whatlang(l: whatlang::Lang) -> Lang {
    match iso1(l) {
        Some("fr") => Lang::Fr,
        Some("en") => Lang::En,
        Some("de") => Lang::De,
        Some("es") => Lang::Es,
        Some("it") => Lang::It,
        Some("pt") => Lang::Pt,
        Some("nl") => Lang::Nl,
        Some(code) => Lang::Other(code),
        None => Lang::Other(l.code()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        assert_eq!(Lang::from_code("pt-BR"), Some(Lang::Pt));
        assert_eq!(Lang::from_code("ru").map(Lang::code), Some("ru"));
        assert_eq!(Lang::from_code("xx"), None);
    }
}
