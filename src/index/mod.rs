//! The local search index (tantivy): per-language analysed text, stored fields for display,
//! fast fields for date, brand, language and sentiment filters.
//!
//! Text is indexed pre-tokenised by the text layer (the same tokens every analysis read), once
//! under its language's stemmed field and once folded, so a query finds inflections in the
//! document's language and exact words whatever the language was taken to be.

pub mod search;
pub mod writer;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tantivy::schema::{
    DateOptions, DateTimePrecision, Field, IndexRecordOption, NumericOptions, Schema,
    TextFieldIndexing, TextOptions, FAST, STORED, STRING,
};
use tantivy::TantivyDocument;

use crate::analyze::lang::Lang;
use crate::analyze::text::{Analyzed, TokenKind};
use crate::doc::{Analysis, Document, Expectation, Label, Mention, Sentiment};

/// `doctype` of documents.
pub const DOCTYPE_DOC: &str = "doc";
/// `doctype` of alerts (kept in the index so readers see them beside the documents).
pub const DOCTYPE_ALERT: &str = "alert";

/// The folded-words field: every document, every language.
pub const FOLDED_FIELD: &str = "text_xx";

/// Handles to every field of the schema.
#[derive(Debug, Clone)]
pub struct Fields {
    pub key: Field,
    pub doctype: Field,
    pub url: Field,
    pub title: Field,
    pub content: Field,
    /// `(lang, field)` for each stemmed language.
    pub stemmed: Vec<(Lang, Field)>,
    pub folded: Field,
    pub published: Field,
    pub lang: Field,
    pub source: Field,
    pub watches: Field,
    pub brands: Field,
    /// `brand:label` for each brand mentioned, with the sentiment of its mentions.
    pub brand_sentiment: Field,
    pub sentiment: Field,
    pub label: Field,
    /// Expectation kinds present.
    pub expectations: Field,
    pub topics: Field,
    /// Key of the document this one is a copy of (syndication, reposts).
    pub dup_of: Field,
    /// Stored JSON: [`Meta`].
    pub meta: Field,
}

fn text_field_options() -> TextOptions {
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(TERMS_TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    )
}

/// The schema; the same code opens and creates indexes, so field ids always agree.
pub fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let key = b.add_text_field("key", STRING | STORED);
    let doctype = b.add_text_field("doctype", STRING | FAST);
    let url = b.add_text_field("url", STORED);
    let title = b.add_text_field("title", STORED);
    let content = b.add_text_field("content", STORED);
    let stemmed = Lang::STEMMED
        .iter()
        .map(|&l| {
            (
                l,
                b.add_text_field(&format!("text_{}", l.code()), text_field_options()),
            )
        })
        .collect();
    let folded = b.add_text_field(FOLDED_FIELD, text_field_options());
    let published = b.add_date_field(
        "published",
        DateOptions::default()
            .set_indexed()
            .set_fast()
            .set_stored()
            .set_precision(DateTimePrecision::Seconds),
    );
    let lang = b.add_text_field("lang", STRING | FAST | STORED);
    let source = b.add_text_field("source", STRING | FAST | STORED);
    let watches = b.add_text_field("watches", STRING | FAST | STORED);
    let brands = b.add_text_field("brands", STRING | FAST | STORED);
    let brand_sentiment = b.add_text_field("brand_sentiment", STRING | FAST);
    let sentiment = b.add_f64_field(
        "sentiment",
        NumericOptions::default().set_fast().set_stored(),
    );
    let label = b.add_text_field("label", STRING | FAST | STORED);
    let expectations = b.add_text_field("expectations", STRING | FAST | STORED);
    let topics = b.add_text_field("topics", STRING | STORED);
    let dup_of = b.add_text_field("dup_of", STRING | STORED);
    let meta = b.add_text_field("meta", STORED);
    let fields = Fields {
        key,
        doctype,
        url,
        title,
        content,
        stemmed,
        folded,
        published,
        lang,
        source,
        watches,
        brands,
        brand_sentiment,
        sentiment,
        label,
        expectations,
        topics,
        dup_of,
        meta,
    };
    (b.build(), fields)
}

impl Fields {
    /// The stemmed field of a language, if it has one.
    pub fn stemmed_field(&self, lang: Lang) -> Option<Field> {
        self.stemmed
            .iter()
            .find(|(l, _)| *l == lang)
            .map(|(_, f)| *f)
    }
}

/// What is stored with a document besides its text: enough to show it and build the digest
/// without analysing it again.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// The author's audience (followers), where the platform says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub followers: Option<u64>,
    /// An app review's stars (1 to 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<u8>,
    #[serde(default)]
    pub mentions: Vec<Mention>,
    #[serde(default)]
    pub expectations: Vec<Expectation>,
    /// Other places the same story was seen (syndicated copies, reposts).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also_seen: Vec<String>,
    /// The time it was fetched, when it differs from the event time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fetched: Option<DateTime<Utc>>,
    /// Sentiment towards each brand mentioned.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub brand_sentiment: Vec<(String, Sentiment)>,
}

/// A document ready for the index: its key and the tantivy document (built off the writer
/// thread, so the single writer only adds).
pub struct IndexRecord {
    pub key: String,
    pub doc: TantivyDocument,
}

/// Converts a chrono time for tantivy.
pub fn tv_date(t: DateTime<Utc>) -> tantivy::DateTime {
    tantivy::DateTime::from_timestamp_secs(t.timestamp())
}

/// Converts a tantivy time back.
pub fn from_tv_date(t: tantivy::DateTime) -> DateTime<Utc> {
    DateTime::from_timestamp(t.into_timestamp_secs(), 0).unwrap_or_default()
}

/// Name of the tokenizer of the text fields: [`TermsTokenizer`].
pub const TERMS_TOKENIZER: &str = "vigie_terms";
/// Between two terms of a token stream.
const NEXT: char = '\u{1e}';
/// Between two terms at the same position (a hashtag and its word).
const SAME: char = '\u{1f}';

/// Reads back the term streams of [`token_streams`]: the text layer has tokenised, folded and
/// stemmed already, tantivy only splits.
#[derive(Clone, Default)]
pub struct TermsTokenizer {
    token: tantivy::tokenizer::Token,
}

/// The terms of one stream, in order.
pub struct TermsStream<'a> {
    text: &'a str,
    at: usize,
    /// The previous term was followed by [`SAME`].
    same: bool,
    token: &'a mut tantivy::tokenizer::Token,
}

impl tantivy::tokenizer::Tokenizer for TermsTokenizer {
    type TokenStream<'a> = TermsStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> TermsStream<'a> {
        self.token.reset();
        self.token.position = usize::MAX;
        TermsStream {
            text,
            at: 0,
            same: false,
            token: &mut self.token,
        }
    }
}

impl tantivy::tokenizer::TokenStream for TermsStream<'_> {
    fn advance(&mut self) -> bool {
        while self.at < self.text.len() {
            let rest = &self.text[self.at..];
            let len = rest.find([NEXT, SAME]).unwrap_or(rest.len());
            let same = rest[len..].starts_with(SAME);
            let from = self.at;
            self.at += len + if len < rest.len() { 1 } else { 0 };
            if len == 0 {
                continue;
            }
            self.token.text.clear();
            self.token.text.push_str(&rest[..len]);
            self.token.offset_from = from;
            self.token.offset_to = from + len;
            if !self.same {
                self.token.position = self.token.position.wrapping_add(1);
            }
            self.token.position_length = 1;
            self.same = same;
            return true;
        }
        false
    }

    fn token(&self) -> &tantivy::tokenizer::Token {
        self.token
    }

    fn token_mut(&mut self) -> &mut tantivy::tokenizer::Token {
        self.token
    }
}

/// Makes [`TermsTokenizer`] known to an index (before writing to it).
pub fn register_tokenizers(index: &tantivy::Index) {
    index
        .tokenizers()
        .register(TERMS_TOKENIZER, TermsTokenizer::default());
}

/// Term streams of an analysed text, for [`TermsTokenizer`]: stems for its language's field
/// (if stemmed) and folded words for the folded field. Elisions are left out; hashtags are
/// indexed both whole (`#fibre`) and as their word (`fibre`) at the same position.
pub fn token_streams(a: &Analyzed<'_>) -> (Option<String>, String) {
    let stemmed = a.lang.is_stemmed();
    let mut stems = String::with_capacity(if stemmed { a.text.len() } else { 0 });
    let mut folded = String::with_capacity(a.text.len());
    for (i, t) in a.tokens.iter().enumerate() {
        if matches!(t.kind, TokenKind::Elision | TokenKind::Emoji) {
            continue;
        }
        let clean = |s: &str| !s.is_empty() && !s.contains([NEXT, SAME]);
        if !clean(&t.folded) {
            continue;
        }
        folded.push_str(&t.folded);
        if stemmed {
            let stem = if clean(&a.stems[i]) {
                &a.stems[i]
            } else {
                &t.folded
            };
            stems.push_str(stem);
        }
        if t.kind == TokenKind::Hashtag && t.folded.len() > 1 {
            let body = &t.folded[1..];
            folded.push(SAME);
            folded.push_str(body);
            if stemmed {
                let stem = crate::analyze::text::stem(a.lang, &a.text[t.start + 1..t.end], body);
                stems.push(SAME);
                stems.push_str(if clean(&stem) { &stem } else { body });
            }
        }
        folded.push(NEXT);
        if stemmed {
            stems.push(NEXT);
        }
    }
    (stemmed.then_some(stems), folded)
}

/// Builds the index record of an analysed document.
pub fn build_record(
    fields: &Fields,
    key: &str,
    doc: &Document,
    content: &str,
    analyzed: &Analyzed<'_>,
    analysis: &Analysis,
    watches: &[String],
) -> IndexRecord {
    let mut d = TantivyDocument::default();
    d.add_text(fields.key, key);
    d.add_text(fields.doctype, DOCTYPE_DOC);
    d.add_text(fields.url, &doc.url);
    d.add_text(fields.title, &doc.title);
    d.add_text(fields.content, content);
    let (stems, folded) = token_streams(analyzed);
    if let (Some(s), Some(f)) = (stems, fields.stemmed_field(analyzed.lang)) {
        d.add_text(f, s);
    }
    d.add_text(fields.folded, folded);
    d.add_date(fields.published, tv_date(doc.event_time()));
    d.add_text(fields.lang, analysis.lang.code());
    d.add_text(fields.source, &doc.source);
    for w in watches {
        d.add_text(fields.watches, w);
    }
    let brands = analysis.brands();
    let mut brand_sentiment = Vec::with_capacity(brands.len());
    for b in &brands {
        d.add_text(fields.brands, b);
        let s = analysis.brand_sentiment(b);
        d.add_text(fields.brand_sentiment, format!("{b}:{}", s.label.as_str()));
        brand_sentiment.push((b.clone(), s));
    }
    d.add_f64(fields.sentiment, analysis.sentiment.score);
    d.add_text(fields.label, analysis.sentiment.label.as_str());
    let mut kinds: Vec<&str> = analysis
        .expectations
        .iter()
        .map(|e| e.kind.as_str())
        .collect();
    kinds.sort();
    kinds.dedup();
    for k in kinds {
        d.add_text(fields.expectations, k);
    }
    for t in &analysis.topics {
        d.add_text(fields.topics, t);
    }
    let meta = Meta {
        author: doc.author.clone(),
        followers: doc.followers,
        rating: doc.rating,
        mentions: analysis.mentions.clone(),
        expectations: analysis.expectations.clone(),
        also_seen: Vec::new(),
        fetched: (doc.published.is_some() && doc.published != Some(doc.fetched))
            .then_some(doc.fetched),
        brand_sentiment,
    };
    d.add_text(
        fields.meta,
        serde_json::to_string(&meta).unwrap_or_default(),
    );
    IndexRecord {
        key: key.to_string(),
        doc: d,
    }
}

/// A stored document read back.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredDoc {
    pub key: String,
    pub url: String,
    pub title: String,
    pub content: String,
    pub published: DateTime<Utc>,
    pub lang: String,
    pub source: String,
    pub watches: Vec<String>,
    pub brands: Vec<String>,
    pub sentiment: Sentiment,
    pub topics: Vec<String>,
    pub dup_of: Option<String>,
    pub meta: Meta,
}

impl StoredDoc {
    /// The kinds of its unmet expectations, in the order found, a run of one kind said once.
    pub fn expectation_kinds(&self) -> Vec<&'static str> {
        let mut kinds: Vec<&'static str> = self
            .meta
            .expectations
            .iter()
            .map(|e| e.kind.as_str())
            .collect();
        kinds.dedup();
        kinds
    }

    pub fn from_tantivy(fields: &Fields, d: &TantivyDocument) -> StoredDoc {
        use tantivy::schema::Value;
        let s = |f: Field| {
            d.get_first(f)
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        };
        let all = |f: Field| {
            d.get_all(f)
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect::<Vec<_>>()
        };
        let score = d
            .get_first(fields.sentiment)
            .and_then(|v| v.as_f64())
            .unwrap_or(0.0);
        let label = Label::parse(&s(fields.label)).unwrap_or(Label::Neutral);
        let published = d
            .get_first(fields.published)
            .and_then(|v| v.as_datetime())
            .map(from_tv_date)
            .unwrap_or_default();
        let dup = s(fields.dup_of);
        StoredDoc {
            key: s(fields.key),
            url: s(fields.url),
            title: s(fields.title),
            content: s(fields.content),
            published,
            lang: s(fields.lang),
            source: s(fields.source),
            watches: all(fields.watches),
            brands: all(fields.brands),
            sentiment: Sentiment { score, label },
            topics: all(fields.topics),
            dup_of: (!dup.is_empty()).then_some(dup),
            meta: serde_json::from_str(&s(fields.meta)).unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::tokenizer::{TokenStream, Tokenizer};

    #[test]
    fn term_streams_keep_positions_and_hashtags_share_theirs() {
        let a = Analyzed::new("La #fibre d'Orange est coupée", Lang::Fr);
        let (stems, folded) = token_streams(&a);
        let mut tk = TermsTokenizer::default();
        let mut read = |text: &str| {
            let mut s = tk.token_stream(text);
            let mut out = Vec::new();
            while s.advance() {
                out.push((s.token().text.clone(), s.token().position));
            }
            out
        };
        let f = read(&folded);
        let words: Vec<&str> = f.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(words, ["la", "#fibre", "fibre", "orange", "est", "coupee"]);
        let positions: Vec<usize> = f.iter().map(|(_, p)| *p).collect();
        assert_eq!(
            positions,
            [0, 1, 1, 2, 3, 4],
            "the elision takes no position"
        );
        let s = read(&stems.unwrap());
        assert_eq!(s.len(), 6);
        assert_eq!(s[5].1, 4);
        assert!(read("").is_empty() && read("\u{1e}\u{1e}").is_empty());
    }
}
