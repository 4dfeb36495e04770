//! The streaming analysis core: plain synchronous functions over one text, no I/O.
//!
//! [`Analyzer::analyze`] runs the text layer once (tokens, language, stems) and every analysis
//! over it: mentions, sentiment (of the text and of each mention's sentence), unmet
//! expectations and topics.

pub mod aspect;
pub mod cue;
pub mod expectation;
pub mod lang;
pub mod langid;
pub mod lexicon;
pub mod mention;
pub mod query;
pub mod sentiment;
pub mod signal;
pub mod text;

use crate::config::{Config, Watch};
use crate::doc::Analysis;
use lang::Lang;
use langid::LangPriors;
use mention::MentionMatcher;
use query::Query;
use text::Analyzed;

/// Everything needed to analyse texts for a set of watches. Cheap to share between threads.
#[derive(Debug, Clone, Default)]
pub struct Analyzer {
    /// What language detection knows before reading: the watches' languages, their brands.
    priors: LangPriors,
    mentions: MentionMatcher,
    /// `(watch/topic, query)`.
    topics: Vec<(String, Query)>,
}

impl Analyzer {
    pub fn new(config: &Config) -> Self {
        Self::for_watches(&config.watches)
    }

    pub fn for_watches(watches: &[Watch]) -> Self {
        let mentions = MentionMatcher::new(watches.iter().flat_map(|w| w.brands.iter()));
        let topics = watches
            .iter()
            .flat_map(|w| {
                w.topics
                    .iter()
                    .map(move |t| (format!("{}/{}", w.name, t.id), t.query.clone()))
            })
            .collect();
        let names = watches
            .iter()
            .flat_map(|w| w.brands.iter())
            .flat_map(|b| b.aliases.iter().chain(&b.ambiguous))
            .map(String::as_str);
        let languages: Vec<Lang> = watches
            .iter()
            .flat_map(|w| w.languages.iter().copied())
            .collect();
        let priors = if languages.is_empty() {
            LangPriors::new([Lang::Fr, Lang::En], names)
        } else {
            LangPriors::new(languages, names)
        };
        Analyzer {
            priors,
            mentions,
            topics,
        }
    }

    /// Analyses one text. `hint` is the language announced by the source, used when the text
    /// is too short to tell.
    pub fn analyze<'a>(&self, text: &'a str, hint: Option<Lang>) -> (Analysis, Analyzed<'a>) {
        let (doc, detected) = Analyzed::detect_with(text, hint, &self.priors);
        let analysis = self.analyze_tokens(&doc, detected.confidence);
        (analysis, doc)
    }

    /// The analyses over a text already tokenised.
    pub fn analyze_tokens(&self, doc: &Analyzed<'_>, lang_confidence: f64) -> Analysis {
        let sentiment = sentiment::score_sentiment(doc, 0..doc.text.len());
        let mut mentions = self.mentions.find(doc);
        for m in &mut mentions {
            let range = match doc.sentence_of(m.start) {
                Some(i) => doc.sentences[i].clone(),
                None => m.start..m.end,
            };
            m.sentiment = Some(sentiment::score_sentiment(doc, range));
        }
        let expectations = expectation::find_expectations(doc);
        let topics = self
            .topics
            .iter()
            .filter(|(_, q)| q.matches(doc))
            .map(|(id, _)| id.clone())
            .collect();
        Analysis {
            lang: doc.lang,
            lang_confidence,
            sentiment,
            mentions,
            expectations,
            topics,
        }
    }
}
