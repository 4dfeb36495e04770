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
pub mod model;
pub mod query;
pub mod sentiment;
pub mod signal;
pub mod text;

use std::cell::RefCell;
use std::ops::Range;

use crate::config::{Config, Watch};
use crate::doc::{Analysis, Expectation, ExpectationKind, Label, Reason, Sentiment};
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
    /// Say which words weighed for the text's sentiment ([`Analysis::because`]): a second pass
    /// over the features, for the readers who show it (`vigie analyze`), not for the index.
    explain: bool,
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
            explain: false,
        }
    }

    /// The same analyser, saying which words weighed for each text's sentiment.
    pub fn explaining(mut self) -> Self {
        self.explain = true;
        self
    }

    /// Analyses one text. `hint` is the language announced by the source, used when the text
    /// is too short to tell.
    pub fn analyze<'a>(&self, text: &'a str, hint: Option<Lang>) -> (Analysis, Analyzed<'a>) {
        let (doc, detected) = Analyzed::detect_with(text, hint, &self.priors);
        let analysis = self.analyze_tokens(&doc, detected.confidence);
        (analysis, doc)
    }

    /// The text layer of [`Analyzer::analyze`] alone: tokens, language, stems.
    pub fn prepare<'a>(&self, text: &'a str, hint: Option<Lang>) -> Analyzed<'a> {
        Analyzed::detect_with(text, hint, &self.priors).0
    }

    /// The analyses over a text already tokenised.
    pub fn analyze_tokens(&self, doc: &Analyzed<'_>, lang_confidence: f64) -> Analysis {
        let mut mentions = self.mentions.find(doc);
        let brands: Vec<Range<usize>> = mentions.iter().map(|m| m.start..m.end).collect();
        let [mut features, mut sentence_features] = FEATURES.with(|f| f.take());
        let read = read(doc, 0..doc.text.len(), &brands, &mut features);
        let sentiment_model = model::sentiment_model(doc.lang);
        let sentiment = model::sentiment_of(sentiment_model, &features, read.context.lexicon);
        let because = if self.explain {
            model::reasons(
                doc,
                sentiment_model,
                &features,
                class_of(sentiment.label),
                REASONS,
            )
        } else {
            Vec::new()
        };
        let expectations = decide_expectations(doc, read.expectations, &read.context, &features);
        let (sentiment, because) = consistent(doc, sentiment, because, &expectations);
        for m in &mut mentions {
            let range = match doc.sentence_of(m.start) {
                Some(i) => doc.sentences[i].clone(),
                None => m.start..m.end,
            };
            m.sentiment = Some(
                if range == (0..doc.text.len()) || doc.sentences.len() <= 1 {
                    sentiment
                } else {
                    mention_sentiment(doc, range, &brands, &expectations, &mut sentence_features)
                },
            );
        }
        FEATURES.with(|f| f.replace([features, sentence_features]));
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
            because,
            mentions,
            expectations,
            topics,
        }
    }
}

thread_local! {
    /// The feature buffers of a thread's last document (its whole text, one sentence), for
    /// the next: thousands of entries, cheaper to refill than to grow anew.
    static FEATURES: RefCell<[model::Features; 2]> = RefCell::default();
}

/// The text speaks to an account: it holds an `@handle`.
fn addressed(doc: &Analyzed<'_>) -> bool {
    doc.tokens.iter().any(|t| t.kind == text::TokenKind::Handle)
}

/// Up to this many sentences a text is a post: judged as a whole.
const SHORT_TEXT_SENTENCES: usize = 4;
/// The score of a post turned negative by its complaint (by sarcasm: at least this far below 0).
const TURNED: f64 = 0.3;
/// Hashtags that say the praise before them is not meant.
const SARCASM_TAGS: &[&str] = &["#not", "#sarcasm", "#sarcasme", "#ironie", "#irony"];

/// A post that voices a complaint is not positive nor neutral: a complaint is a breach of
/// expectation, and praise around it ("génial, encore en panne", "merci @free" after an outage)
/// is sarcasm; so is praise followed by `#not`. The complaint or the marker then says why.
fn consistent(
    doc: &Analyzed<'_>,
    sentiment: Sentiment,
    because: Vec<Reason>,
    expectations: &[Expectation],
) -> (Sentiment, Vec<Reason>) {
    if sentiment.label == Label::Negative || doc.sentences.len() > SHORT_TEXT_SENTENCES {
        return (sentiment, because);
    }
    let marker = doc
        .tokens
        .iter()
        .find(|t| SARCASM_TAGS.contains(&t.folded.as_str()))
        .map(|t| (t.start..t.end, false));
    let complaint = expectations
        .iter()
        .find(|e| e.kind == ExpectationKind::Complaint)
        .map(|e| (e.start..e.end, true));
    let Some((r, by_complaint)) = complaint.or(marker) else {
        return (sentiment, because);
    };
    // sarcasm mirrors the praise; a complaint among praise makes the post mildly negative
    let score = if by_complaint {
        -TURNED
    } else {
        -sentiment.score.abs().max(TURNED)
    };
    let turned = Sentiment {
        score,
        label: Label::Negative,
    };
    // what spoke for the praise does not explain the label it turned into
    drop(because);
    let reasons = vec![Reason {
        text: doc.text[r.clone()].to_string(),
        start: r.start,
        end: r.end,
        weight: 1.0,
    }];
    (turned, reasons)
}

/// How many spans explain a judgement.
const REASONS: usize = 3;

/// What the rules read of a range before the models do.
pub struct Read {
    /// The expectations the cues decided.
    pub expectations: Vec<Expectation>,
    /// The lexicon's score and the cues' evidence.
    pub context: model::Context,
}

/// Reads `range` of `doc` for the models: the lexicon's score, the expectation cues, and the
/// hashed features into `features`. `brands`: the spans of the watch's brand names, which are
/// no evidence. The training command reads its corpora through this same function.
pub fn read(
    doc: &Analyzed<'_>,
    range: Range<usize>,
    brands: &[Range<usize>],
    features: &mut model::Features,
) -> Read {
    let lexicon = lexicon_score(doc, range.clone());
    let (expectations, evidence) = expectation::find_with_evidence(doc);
    let mut context = model::Context {
        lexicon,
        ..Default::default()
    };
    for (kind, e) in [
        ExpectationKind::Request,
        ExpectationKind::Complaint,
        ExpectationKind::Wish,
    ]
    .into_iter()
    .zip(evidence)
    {
        context.add_cue(kind, e, expectations.iter().any(|x| x.kind == kind));
    }
    model::features(doc, range, brands, &context, features);
    Read {
        expectations,
        context,
    }
}

/// The lexicon's score of a range, the problem its writer got in touch for left out.
fn lexicon_score(doc: &Analyzed<'_>, range: Range<usize>) -> f64 {
    let tokens = &doc.tokens[doc.tokens_in(&range)];
    let occasions = model::reasons_for_contact(doc, tokens, range.end);
    sentiment::score_without(doc, range, &occasions)
}

fn class_of(label: Label) -> usize {
    model::SENTIMENT_CLASSES
        .iter()
        .position(|&l| l == label)
        .unwrap_or(1)
}

/// The sentiment of a mention's sentence: the lexicon and the cues of that sentence only.
fn mention_sentiment(
    doc: &Analyzed<'_>,
    range: Range<usize>,
    brands: &[Range<usize>],
    expectations: &[Expectation],
    features: &mut model::Features,
) -> Sentiment {
    let lexicon = lexicon_score(doc, range.clone());
    let mut context = model::Context {
        lexicon,
        ..Default::default()
    };
    for e in expectations
        .iter()
        .filter(|e| range.start <= e.start && e.end <= range.end)
    {
        context.add_cue(e.kind, 1.0, true);
    }
    model::features(doc, range, brands, &context, features);
    model::sentiment_of(model::sentiment_model(doc.lang), features, lexicon)
}

/// The expectations of a text: requests as the cues say; in English, complaints and wishes as
/// the trained model says, with the cues among its evidence: it confirms or overrules what the
/// cues found, and needs more certainty where they found nothing; in French and in long texts
/// (articles, pages), as the cues say (the model learnt from English posts). Each says why.
fn decide_expectations(
    doc: &Analyzed<'_>,
    cues: Vec<Expectation>,
    context: &model::Context,
    features: &model::Features,
) -> Vec<Expectation> {
    let cue_reason = |e: &Expectation| {
        vec![Reason {
            text: e.cue.clone(),
            start: e.start,
            end: e.end,
            weight: 1.0,
        }]
    };
    if doc.lang == Lang::Fr || doc.sentences.len() > SHORT_TEXT_SENTENCES {
        // the model learnt from English posts only: in French, and in a long text whose cues
        // are judged with the sentences around them, the cues decide
        return cues
            .into_iter()
            .map(|e| Expectation {
                because: cue_reason(&e),
                ..e
            })
            .collect();
    }
    let m = &model::models().expectation;
    let p = m.probabilities(features);
    let mut out: Vec<Expectation> = Vec::with_capacity(cues.len());
    for (class, kind) in model::EXPECTATION_CLASSES.iter().enumerate() {
        let threshold = if context.decided(*kind) {
            m.thresholds[class]
        } else if *kind == ExpectationKind::Complaint && !addressed(doc) {
            // without a cue, a complaint is one only when told to an account, as in the
            // complaints the model learnt from: a sad or angry post is not one by itself
            continue;
        } else {
            m.alone[class]
        };
        if p[class] < threshold {
            continue;
        }
        let because = model::reasons(doc, m, features, class, REASONS);
        let of_kind: Vec<&Expectation> = cues.iter().filter(|e| e.kind == *kind).collect();
        if of_kind.is_empty() {
            // the model sees it where no cue fired: its strongest span stands for the cue
            let Some(r) = because.first() else { continue };
            out.push(Expectation {
                kind: *kind,
                cue: r.text.clone(),
                start: r.start,
                end: r.end,
                because,
            });
        } else {
            out.extend(of_kind.into_iter().map(|e| Expectation {
                because: because.clone(),
                ..e.clone()
            }));
        }
    }
    for e in cues
        .into_iter()
        .filter(|e| e.kind == ExpectationKind::Request)
    {
        let because = vec![Reason {
            text: e.cue.clone(),
            start: e.start,
            end: e.end,
            weight: 1.0,
        }];
        out.push(Expectation { because, ..e });
    }
    out.sort_by_key(|e| (e.start, e.end));
    out
}
