//! Reading the index: ranked search with filters and highlighted snippets, counts for the
//! digest. Readers never lock the data directory.

use std::ops::{Bound, Range};

use chrono::{DateTime, Utc};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, Occur, PhraseQuery, Query as TvQuery, RangeQuery, RegexQuery, TermQuery,
};
use tantivy::schema::IndexRecordOption;
use tantivy::{Index, IndexReader, ReloadPolicy, Searcher, TantivyDocument, Term};

use crate::analyze::lang::Lang;
use crate::analyze::query::{term_forms, Query};
use crate::analyze::text::{self, Analyzed, TokenKind};
use crate::data::{DataDir, DataError};
use crate::doc::{ExpectationKind, Label};
use crate::index::{tv_date, Fields, StoredDoc, DOCTYPE_DOC};

/// Filters and limits of a search.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub brand: Option<String>,
    pub watch: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub lang: Option<String>,
    pub sentiment: Option<Label>,
    /// `Some(None)`: any expectation; `Some(Some(k))`: that kind.
    pub expectation: Option<Option<ExpectationKind>>,
    pub source: Option<String>,
}

/// A field's values among a search's matches, with how many documents hold each.
pub type Facet = (String, Vec<(String, u64)>);

/// Copies of one text listed with a hit.
const MAX_COPIES_SHOWN: usize = 50;

/// One search result.
#[derive(Debug, Clone)]
pub struct Hit {
    pub doc: StoredDoc,
    pub score: f32,
    pub snippet: Snippet,
}

impl Hit {
    /// The hit as `vigie search --json` and the workspace's `/api/search` give it: one
    /// serializer for both doors. The snippet is HTML-escaped, matches in `<b>`.
    pub fn to_json(&self) -> serde_json::Value {
        let d = &self.doc;
        let mut v = serde_json::json!({
            "url": d.url,
            "title": d.title,
            "published": d.published.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "source": d.source,
            "author": d.meta.author,
            "lang": d.lang,
            "brands": d.brands,
            "sentiment": d.sentiment,
            "expectations": d.meta.expectations,
            "score": self.score,
            "snippet": self.snippet.render("<b>", "</b>", crate::html::html_escape),
        });
        // near-copies: where else this text was seen, or which document it copies
        if !d.meta.also_seen.is_empty() {
            v["also_seen"] = serde_json::json!(d.meta.also_seen);
        }
        if let Some(o) = &d.dup_of {
            v["copy_of"] = serde_json::json!(o);
        }
        if let Some(n) = d.meta.followers {
            v["followers"] = serde_json::json!(n);
        }
        if let Some(r) = d.meta.rating {
            v["rating"] = serde_json::json!(r);
        }
        v
    }
}

/// A window of a document's text with the matched words marked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snippet {
    pub text: String,
    /// Byte ranges of `text` to highlight.
    pub highlights: Vec<Range<usize>>,
}

impl Snippet {
    /// The snippet with each highlight wrapped in `open`/`close`, the rest passed through `esc`.
    pub fn render(&self, open: &str, close: &str, esc: impl Fn(&str) -> String) -> String {
        let mut out = String::with_capacity(
            self.text.len() + self.highlights.len() * (open.len() + close.len()),
        );
        let mut at = 0;
        for h in &self.highlights {
            out.push_str(&esc(&self.text[at..h.start]));
            out.push_str(open);
            out.push_str(&esc(&self.text[h.clone()]));
            out.push_str(close);
            at = h.end;
        }
        out.push_str(&esc(&self.text[at..]));
        out
    }
}

/// Problems reading the index.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error(transparent)]
    Data(#[from] DataError),
    #[error("index: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("invalid query: {0}")]
    Query(#[from] crate::analyze::query::QueryError),
}

/// A read-only view of a data directory's index.
pub struct Reader {
    pub index: Index,
    pub reader: IndexReader,
    pub fields: Fields,
}

impl Reader {
    pub fn open(data: &DataDir) -> Result<Reader, SearchError> {
        let index = data.open_index()?;
        Self::from_index(index)
    }

    pub fn from_index(index: Index) -> Result<Reader, SearchError> {
        let (_, fields) = crate::index::schema();
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(Reader {
            index,
            reader,
            fields,
        })
    }

    pub fn searcher(&self) -> Searcher {
        self.reader.searcher()
    }

    /// The tantivy query for a parsed query, with the filters, over documents only.
    pub fn build(&self, query: &Query, filters: &Filters) -> Box<dyn TvQuery> {
        let mut must: Vec<(Occur, Box<dyn TvQuery>)> = vec![(Occur::Must, self.compile(query))];
        must.extend(self.filter_clauses(filters));
        Box::new(BooleanQuery::new(must))
    }

    /// Filter clauses (documents only, plus each filter given).
    pub fn filter_clauses(&self, f: &Filters) -> Vec<(Occur, Box<dyn TvQuery>)> {
        let fl = &self.fields;
        let mut out: Vec<(Occur, Box<dyn TvQuery>)> =
            vec![(Occur::Must, term(fl.doctype, DOCTYPE_DOC))];
        if let Some(b) = &f.brand {
            out.push((Occur::Must, term(fl.brands, b)));
        }
        if let Some(w) = &f.watch {
            out.push((Occur::Must, term(fl.watches, w)));
        }
        if let Some(l) = &f.lang {
            out.push((
                Occur::Must,
                term(fl.lang, Lang::from_code(l).map(Lang::code).unwrap_or(l)),
            ));
        }
        if let Some(s) = f.sentiment {
            out.push((Occur::Must, term(fl.label, s.as_str())));
        }
        if let Some(src) = &f.source {
            out.push((Occur::Must, term(fl.source, src)));
        }
        match f.expectation {
            Some(Some(k)) => out.push((Occur::Must, term(fl.expectations, k.as_str()))),
            Some(None) => {
                let any: Vec<(Occur, Box<dyn TvQuery>)> = ["complaint", "request", "wish"]
                    .iter()
                    .map(|k| (Occur::Should, term(fl.expectations, k)))
                    .collect();
                out.push((Occur::Must, Box::new(BooleanQuery::new(any))));
            }
            None => {}
        }
        if f.since.is_some() || f.until.is_some() {
            out.push((Occur::Must, self.date_range(f.since, f.until)));
        }
        out
    }

    /// Event time in `[since, until)`.
    pub fn date_range(
        &self,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
    ) -> Box<dyn TvQuery> {
        let f = self.fields.published;
        let lo = since.map_or(Bound::Unbounded, |t| {
            Bound::Included(Term::from_field_date_for_search(f, tv_date(t)))
        });
        let hi = until.map_or(Bound::Unbounded, |t| {
            Bound::Excluded(Term::from_field_date_for_search(f, tv_date(t)))
        });
        Box::new(RangeQuery::new(lo, hi))
    }

    fn word_query(&self, word: &str) -> Box<dyn TvQuery> {
        let mut should: Vec<(Occur, Box<dyn TvQuery>)> = Vec::new();
        let mut seen: Vec<(tantivy::schema::Field, String)> = Vec::new();
        for &(lang, field) in &self.fields.stemmed {
            let (stem, _) = term_forms(lang, word);
            if !seen.contains(&(field, stem.clone())) {
                should.push((Occur::Should, scored_term(field, &stem)));
                seen.push((field, stem));
            }
        }
        should.push((
            Occur::Should,
            scored_term(self.fields.folded, &text::fold(word)),
        ));
        Box::new(BooleanQuery::new(should))
    }

    fn phrase_query(&self, words: &[String]) -> Box<dyn TvQuery> {
        // (the query parser already left elided articles out: they are not indexed)
        if words.len() == 1 {
            return self.word_query(&words[0]);
        }
        let mut should: Vec<(Occur, Box<dyn TvQuery>)> = Vec::new();
        for &(lang, field) in &self.fields.stemmed {
            let terms = words
                .iter()
                .map(|w| Term::from_field_text(field, &term_forms(lang, w).0))
                .collect();
            should.push((Occur::Should, Box::new(PhraseQuery::new(terms))));
        }
        let terms = words
            .iter()
            .map(|w| Term::from_field_text(self.fields.folded, &text::fold(w)))
            .collect();
        should.push((Occur::Should, Box::new(PhraseQuery::new(terms))));
        Box::new(BooleanQuery::new(should))
    }

    fn compile(&self, q: &Query) -> Box<dyn TvQuery> {
        match q {
            Query::All => Box::new(AllQuery),
            Query::Term(w) => self.word_query(w),
            Query::Phrase(ws) => self.phrase_query(ws),
            Query::Near(a, b, _) => {
                let side = |alts: &Vec<Vec<String>>| -> Box<dyn TvQuery> {
                    Box::new(BooleanQuery::new(
                        alts.iter()
                            .map(|p| (Occur::Should, self.phrase_query(p)))
                            .collect(),
                    ))
                };
                Box::new(BooleanQuery::new(vec![
                    (Occur::Must, side(a)),
                    (Occur::Must, side(b)),
                ]))
            }
            Query::Prefix(p) => match RegexQuery::from_pattern(
                &format!("{}.*", regex::escape(p)),
                self.fields.folded,
            ) {
                Ok(r) => Box::new(r),
                Err(_) => self.word_query(p),
            },
            Query::And(qs) => {
                let mut parts: Vec<(Occur, Box<dyn TvQuery>)> = qs
                    .iter()
                    .map(|q| match q {
                        Query::Not(inner) => (Occur::MustNot, self.compile(inner)),
                        other => (Occur::Must, self.compile(other)),
                    })
                    .collect();
                if parts.iter().all(|(o, _)| *o == Occur::MustNot) {
                    parts.push((Occur::Must, Box::new(AllQuery)));
                }
                Box::new(BooleanQuery::new(parts))
            }
            Query::Or(qs) => Box::new(BooleanQuery::new(
                qs.iter()
                    .map(|q| (Occur::Should, self.compile(q)))
                    .collect(),
            )),
            Query::Not(inner) => Box::new(BooleanQuery::new(vec![
                (Occur::Must, Box::new(AllQuery)),
                (Occur::MustNot, self.compile(inner)),
            ])),
        }
    }

    /// Ranked hits for a query string.
    pub fn search(
        &self,
        query: &str,
        filters: &Filters,
        limit: usize,
    ) -> Result<Vec<Hit>, SearchError> {
        let q = Query::parse(query)?;
        self.search_query(&q, filters, limit)
    }

    /// Ranked hits for a parsed query. NEAR is checked on the stored text of the candidates.
    pub fn search_query(
        &self,
        q: &Query,
        filters: &Filters,
        limit: usize,
    ) -> Result<Vec<Hit>, SearchError> {
        let searcher = self.searcher();
        let tq = self.build(q, filters);
        let near = q.has_near();
        let fetch = if near {
            limit.saturating_mul(4).saturating_add(100)
        } else {
            limit
        };
        let top = searcher.search(&*tq, &TopDocs::with_limit(fetch.max(1)).order_by_score())?;
        let words = q.positive_words();
        let mut hits = Vec::with_capacity(top.len().min(limit));
        for (score, addr) in top {
            let d: TantivyDocument = searcher.doc(addr)?;
            let mut doc = StoredDoc::from_tantivy(&self.fields, &d);
            if doc.dup_of.is_none() {
                doc.meta.also_seen = self.copies_of(&searcher, &doc.key)?;
            }
            let lang = Lang::from_code(&doc.lang).unwrap_or(Lang::Und);
            let analyzed = Analyzed::new(&doc.content, lang);
            if near && !q.matches(&analyzed) {
                continue;
            }
            let snippet = snippet(&analyzed, &words, 220);
            hits.push(Hit {
                doc,
                score,
                snippet,
            });
            if hits.len() >= limit {
                break;
            }
        }
        Ok(hits)
    }

    /// Addresses of the near-copies of a document (its text seen elsewhere), first seen first.
    pub fn copies_of(&self, searcher: &Searcher, key: &str) -> Result<Vec<String>, SearchError> {
        let q = term(self.fields.dup_of, key);
        let top = searcher.search(
            &*q,
            &TopDocs::with_limit(MAX_COPIES_SHOWN)
                .order_by_fast_field::<tantivy::DateTime>("published", tantivy::Order::Asc),
        )?;
        let mut out = Vec::with_capacity(top.len());
        for (_, addr) in top {
            let d: TantivyDocument = searcher.doc(addr)?;
            out.push(StoredDoc::from_tantivy(&self.fields, &d).url);
        }
        Ok(out)
    }

    /// How the documents matching a query and filters spread over fast fields (`brands`,
    /// `source`, `lang`, `label`, `expectations`): each field's values, the most frequent
    /// first, in one pass over the matches.
    pub fn facets(
        &self,
        query: &Query,
        filters: &Filters,
        fields: &[&str],
    ) -> Result<Vec<Facet>, SearchError> {
        use tantivy::aggregation::agg_req::Aggregations;
        use tantivy::aggregation::{AggContextParams, AggregationCollector};
        let mut req = serde_json::Map::new();
        for f in fields {
            req.insert(
                f.to_string(),
                serde_json::json!({"terms": {"field": f, "size": 50}}),
            );
        }
        let aggs: Aggregations = serde_json::from_value(serde_json::Value::Object(req))
            .map_err(|e| tantivy::TantivyError::InvalidArgument(e.to_string()))?;
        let collector = AggregationCollector::from_aggs(aggs, AggContextParams::default());
        let q = self.build(query, filters);
        let res = self.searcher().search(&*q, &collector)?;
        let v = serde_json::to_value(&res)
            .map_err(|e| tantivy::TantivyError::InternalError(e.to_string()))?;
        Ok(fields
            .iter()
            .map(|f| {
                let buckets = v[*f]["buckets"]
                    .as_array()
                    .map(|b| {
                        b.iter()
                            .filter_map(|x| {
                                Some((x["key"].as_str()?.to_string(), x["doc_count"].as_u64()?))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                (f.to_string(), buckets)
            })
            .collect())
    }

    /// Number of documents matching the filters (and query, if any).
    pub fn count(&self, query: Option<&Query>, filters: &Filters) -> Result<usize, SearchError> {
        let q = self.build(query.unwrap_or(&Query::All), filters);
        Ok(self.searcher().search(&*q, &Count)?)
    }
}

fn term(field: tantivy::schema::Field, value: &str) -> Box<dyn TvQuery> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, value),
        IndexRecordOption::Basic,
    ))
}

fn scored_term(field: tantivy::schema::Field, value: &str) -> Box<dyn TvQuery> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, value),
        IndexRecordOption::WithFreqs,
    ))
}

/// The best window of about `width` bytes of an analysed text for these query words, with the
/// matching tokens marked. Without matches, the start of the text.
pub fn snippet(doc: &Analyzed<'_>, words: &[String], width: usize) -> Snippet {
    let forms: Vec<(String, String)> = words.iter().map(|w| term_forms(doc.lang, w)).collect();
    let is_hit = |i: usize| {
        let t = &doc.tokens[i];
        t.kind != TokenKind::Elision
            && forms.iter().any(|(stem, folded)| {
                doc.stems[i] == *stem
                    || t.folded == *folded
                    || (words.iter().any(|w| w.ends_with('*'))
                        && t.folded.starts_with(folded.trim_end_matches('*')))
            })
    };
    let hits: Vec<usize> = (0..doc.tokens.len()).filter(|&i| is_hit(i)).collect();
    let text = doc.text;
    // the window start that covers the most hits
    let (mut best_start, mut best_count) = (0usize, 0usize);
    let mut j = 0;
    for (k, &i) in hits.iter().enumerate() {
        let start = doc.tokens[i].start;
        while j < hits.len() && doc.tokens[hits[j]].end <= start + width {
            j += 1;
        }
        if j - k > best_count {
            best_count = j - k;
            best_start = start;
        }
    }
    // back up a little for context, to a word boundary
    let mut start = if best_count > 0 {
        best_start.saturating_sub(width / 4)
    } else {
        0
    };
    while start > 0 && !text.is_char_boundary(start) {
        start -= 1;
    }
    if start > 0 {
        if let Some(ti) = doc.tokens.iter().position(|t| t.start >= start) {
            start = doc.tokens[ti].start;
        }
    }
    let mut end = (start + width).min(text.len());
    while end < text.len() && !text.is_char_boundary(end) {
        end += 1;
    }
    // end on a word boundary
    if end < text.len() {
        if let Some(t) = doc.tokens.iter().rev().find(|t| t.end <= end) {
            if t.end > start {
                end = t.end;
            }
        }
    }
    let raw = &text[start..end];
    // collapse whitespace, remembering where the highlights go
    let mut out = String::with_capacity(raw.len() + 2);
    let mut highlights = Vec::new();
    let mut map = Vec::with_capacity(raw.len() + 1);
    let mut prev_space = false;
    if start > 0 {
        out.push('…');
    }
    for (i, c) in raw.char_indices() {
        while map.len() <= i {
            map.push(out.len());
        }
        if c.is_whitespace() {
            if !prev_space {
                out.push(' ');
            }
            prev_space = true;
        } else {
            out.push(c);
            prev_space = false;
        }
    }
    while map.len() <= raw.len() {
        map.push(out.len());
    }
    for &i in &hits {
        let t = &doc.tokens[i];
        if t.start >= start && t.end <= end {
            highlights.push(map[t.start - start]..map[t.end - start]);
        }
    }
    let trimmed_end = out.trim_end().len();
    out.truncate(trimmed_end);
    highlights.retain(|h| h.end <= out.len());
    if end < text.len() {
        out.push('…');
    }
    Snippet {
        text: out,
        highlights,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippet_marks_stemmed_matches() {
        let text = "Intro sans rapport. Les livraisons de colis arrivent en retard depuis lundi.";
        let a = Analyzed::new(text, Lang::Fr);
        let s = snippet(&a, &["livraison".to_string()], 200);
        assert_eq!(
            s.render("[", "]", |x| x.to_string()),
            "Intro sans rapport. Les [livraisons] de colis arrivent en retard depuis lundi."
        );
    }

    #[test]
    fn snippet_windows_long_texts_around_the_match() {
        let text = format!(
            "{} La fibre est en panne. {}",
            "blabla ".repeat(100),
            "suite ".repeat(100)
        );
        let a = Analyzed::new(&text, Lang::Fr);
        let s = snippet(&a, &["panne".to_string()], 80);
        let r = s.render("[", "]", |x| x.to_string());
        assert!(
            r.starts_with('…') && r.ends_with('…') && r.contains("[panne]"),
            "{r}"
        );
        assert!(r.len() < 120, "{r}");
    }
}
