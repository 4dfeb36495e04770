//! Reading the index: ranked search with filters and highlighted snippets, counts for the
//! digest. Readers never lock the data directory.

use std::ops::{Bound, Range};

use chrono::{DateTime, Utc};
use tantivy::collector::{Collector, Count, TopDocs};
use tantivy::postings::{Postings, SegmentPostings};
use tantivy::query::{
    AllQuery, BooleanQuery, EmptyScorer, EnableScoring, Explanation, Occur, PhraseQuery,
    Query as TvQuery, RangeQuery, RegexQuery, Scorer, TermQuery, Weight,
};
use tantivy::schema::IndexRecordOption;
use tantivy::{
    DocAddress, DocId, DocSet, Index, IndexReader, ReloadPolicy, Score, Searcher, SegmentReader,
    TantivyDocument, TantivyError, Term, TERMINATED,
};

use crate::analyze::lang::Lang;
use crate::analyze::query::{single_words, term_forms, Query};
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

/// Most candidates whose text [`Reader::search_checked`] reads to count the matches of a
/// query the index cannot answer alone ([`Query::needs_check`]).
pub const MAX_CHECKED: usize = 10_000;

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

    pub fn from_index(mut index: Index) -> Result<Reader, SearchError> {
        let (_, fields) = crate::index::schema();
        // a search reads its segments on every core: past a few hundred thousand documents a
        // query of common words (a phrase, a NEAR, an AND) spends its time in the three or
        // four largest segments, and reading them side by side halves its latency
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
        if cores > 1 {
            index.set_multithread_executor(cores)?;
        }
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

    /// The terms a word is looked up as: its stem in each stemmed field (in that field's
    /// language), its folded form in the folded field.
    fn word_terms(&self, word: &str) -> Vec<Term> {
        let mut terms: Vec<Term> = self
            .fields
            .stemmed
            .iter()
            .map(|&(lang, field)| Term::from_field_text(field, &term_forms(lang, word).0))
            .collect();
        terms.push(Term::from_field_text(self.fields.folded, &text::fold(word)));
        terms
    }

    fn word_query(&self, word: &str) -> Box<dyn TvQuery> {
        let should: Vec<(Occur, Box<dyn TvQuery>)> = self
            .word_terms(word)
            .into_iter()
            .map(|t| {
                let q: Box<dyn TvQuery> = Box::new(TermQuery::new(t, IndexRecordOption::WithFreqs));
                (Occur::Should, q)
            })
            .collect();
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
            Query::Near(a, b, n) => {
                if let (Some(wa), Some(wb)) = (single_words(a), single_words(b)) {
                    // answered from the word positions; the words' own terms rank the hits
                    let terms = |ws: &[&str]| -> Vec<Term> {
                        let mut t: Vec<Term> = ws.iter().flat_map(|w| self.word_terms(w)).collect();
                        t.sort();
                        t.dedup();
                        t
                    };
                    let side = |ws: &[&str]| -> Box<dyn TvQuery> {
                        Box::new(BooleanQuery::new(
                            ws.iter()
                                .map(|w| (Occur::Should, self.word_query(w)))
                                .collect(),
                        ))
                    };
                    let near = NearQuery {
                        a: terms(&wa),
                        b: terms(&wb),
                        gap: *n,
                    };
                    return Box::new(BooleanQuery::new(vec![
                        (Occur::Must, Box::new(near)),
                        (Occur::Should, side(&wa)),
                        (Occur::Should, side(&wb)),
                    ]));
                }
                // a phrase of several words on a side: candidates hold both sides, and the
                // search checks them on their text (`Query::needs_check`)
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
                // a part said twice ("the AND the") is one part: the same postings need not be
                // intersected with themselves
                let mut distinct: Vec<&Query> = Vec::with_capacity(qs.len());
                for q in qs {
                    if !distinct.contains(&q) {
                        distinct.push(q);
                    }
                }
                if let [only] = distinct[..] {
                    if !matches!(only, Query::Not(_)) {
                        return self.compile(only);
                    }
                }
                let mut parts: Vec<(Occur, Box<dyn TvQuery>)> = distinct
                    .into_iter()
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

    /// Ranked hits for a parsed query. A NEAR the index cannot answer alone
    /// ([`Query::needs_check`]) is checked on the stored text of the best candidates.
    pub fn search_query(
        &self,
        q: &Query,
        filters: &Filters,
        limit: usize,
    ) -> Result<Vec<Hit>, SearchError> {
        let searcher = self.searcher();
        let tq = self.build(q, filters);
        let check = q.needs_check();
        let fetch = if check {
            limit.saturating_mul(4).saturating_add(100)
        } else {
            limit
        };
        let top = searcher.search(&*tq, &top_docs(&searcher, fetch))?;
        Ok(self.hits(&searcher, q, top, limit, check, false)?.1)
    }

    /// Ranked hits for a query, and how many documents match it, reading the text of at most
    /// `max_checked` candidates (the best) when the query needs checking there
    /// ([`Query::needs_check`]). The count is then exact when at most `max_checked` documents
    /// hold what the index looks up (both sides of each NEAR); otherwise it is a lower bound,
    /// and the hits come from those candidates. Without checking, the count is
    /// [`Reader::count`]'s.
    pub fn search_checked(
        &self,
        q: &Query,
        filters: &Filters,
        limit: usize,
        max_checked: usize,
    ) -> Result<(usize, Vec<Hit>), SearchError> {
        if !q.needs_check() {
            return Ok((
                self.count(Some(q), filters)?,
                self.search_query(q, filters, limit)?,
            ));
        }
        let searcher = self.searcher();
        let tq = self.build(q, filters);
        let top = searcher.search(&*tq, &top_docs(&searcher, max_checked))?;
        self.hits(&searcher, q, top, limit, true, true)
    }

    /// The first `limit` hits among ranked candidates, checked with [`Query::matches`] when
    /// `check`, and (when `count`) how many candidates pass.
    fn hits(
        &self,
        searcher: &Searcher,
        q: &Query,
        top: Vec<(Score, DocAddress)>,
        limit: usize,
        check: bool,
        count: bool,
    ) -> Result<(usize, Vec<Hit>), SearchError> {
        let words = q.positive_words();
        let mut passed = 0;
        let mut hits = Vec::with_capacity(top.len().min(limit));
        for (score, addr) in top {
            if hits.len() >= limit && !count {
                break;
            }
            let d: TantivyDocument = searcher.doc(addr)?;
            if hits.len() >= limit {
                // counting only: the text and its language are enough
                use tantivy::schema::Value;
                let s = |f| d.get_first(f).and_then(|v| v.as_str()).unwrap_or_default();
                let lang = Lang::from_code(s(self.fields.lang)).unwrap_or(Lang::Und);
                if !check || q.matches(&Analyzed::new(s(self.fields.content), lang)) {
                    passed += 1;
                }
                continue;
            }
            let mut doc = StoredDoc::from_tantivy(&self.fields, &d);
            let lang = Lang::from_code(&doc.lang).unwrap_or(Lang::Und);
            let analyzed = Analyzed::new(&doc.content, lang);
            if check && !q.matches(&analyzed) {
                continue;
            }
            passed += 1;
            let snippet = snippet(&analyzed, &words, 220);
            if doc.dup_of.is_none() {
                doc.meta.also_seen = self.copies_of(searcher, &doc.key)?;
            }
            hits.push(Hit {
                doc,
                score,
                snippet,
            });
        }
        Ok((passed, hits))
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

/// The best `n` documents by score. `n` is kept to the documents there are: a `TopDocs`
/// allocates for its limit.
fn top_docs(searcher: &Searcher, n: usize) -> impl Collector<Fruit = Vec<(Score, DocAddress)>> {
    let docs = usize::try_from(searcher.num_docs()).unwrap_or(usize::MAX);
    TopDocs::with_limit(n.min(docs).max(1)).order_by_score()
}

/// Documents where a term of `a` and a term of `b` stand at most `gap` words apart, in either
/// order, at two different positions: `Query::Near` between single words, answered from the
/// postings' positions as `Query::matches` counts them (elided articles and emoji have no
/// position in the index, nor in `matches`). The stemmed and folded streams of a text are
/// written token for token (`index::token_streams`), so their positions agree and one word
/// may match by its stem while the other matches by its folded form, as in `matches`.
/// Matches score 0: the words' own term queries rank them.
#[derive(Debug, Clone)]
struct NearQuery {
    a: Vec<Term>,
    b: Vec<Term>,
    gap: u32,
}

impl TvQuery for NearQuery {
    fn weight(&self, _: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(self.clone()))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        for t in self.a.iter().chain(&self.b) {
            visitor(t, true);
        }
    }
}

impl NearQuery {
    fn near_scorer(&self, reader: &SegmentReader) -> tantivy::Result<Option<NearScorer>> {
        let side = |terms: &[Term]| -> tantivy::Result<Option<Side>> {
            let mut postings = Vec::with_capacity(terms.len());
            for t in terms {
                let entry = reader.schema().get_field_entry(t.field());
                if !entry
                    .field_type()
                    .get_index_record_option()
                    .is_some_and(|o| o.has_positions())
                {
                    return Err(TantivyError::SchemaError(format!(
                        "NEAR needs the positions of field {:?}",
                        entry.name()
                    )));
                }
                let inverted = reader.inverted_index(t.field())?;
                if let Some(p) =
                    inverted.read_postings(t, IndexRecordOption::WithFreqsAndPositions)?
                {
                    postings.push(p);
                }
            }
            Ok((!postings.is_empty()).then(|| Side::new(postings)))
        };
        let (Some(a), Some(b)) = (side(&self.a)?, side(&self.b)?) else {
            return Ok(None);
        };
        let mut s = NearScorer {
            a,
            b,
            gap: self.gap.saturating_add(1),
            doc: 0,
            pa: Vec::new(),
            pb: Vec::new(),
        };
        s.settle(0);
        Ok(Some(s))
    }
}

impl Weight for NearQuery {
    fn scorer(&self, reader: &SegmentReader, _boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        Ok(match self.near_scorer(reader)? {
            Some(s) => Box::new(s),
            None => Box::new(EmptyScorer),
        })
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut s = self.scorer(reader, 1.0)?;
        if s.doc() > doc || s.seek(doc) != doc {
            return Err(TantivyError::InvalidArgument(format!(
                "document #({doc}) does not match"
            )));
        }
        Ok(Explanation::new("NEAR", s.score()))
    }
}

/// The documents holding any of a side's terms, in order.
struct Side {
    postings: Vec<SegmentPostings>,
    doc: DocId,
}

impl Side {
    fn new(postings: Vec<SegmentPostings>) -> Side {
        let doc = postings.iter().map(|p| p.doc()).min().unwrap_or(TERMINATED);
        Side { postings, doc }
    }

    /// The first document at or after `target`.
    fn seek(&mut self, target: DocId) -> DocId {
        if target > self.doc {
            let mut doc = TERMINATED;
            for p in &mut self.postings {
                let d = if p.doc() < target {
                    p.seek(target)
                } else {
                    p.doc()
                };
                doc = doc.min(d);
            }
            self.doc = doc;
        }
        self.doc
    }

    /// The sorted positions of the side's terms in the current document.
    fn positions(&mut self, out: &mut Vec<u32>) {
        out.clear();
        for p in &mut self.postings {
            if p.doc() == self.doc {
                p.append_positions_with_offset(0, out);
            }
        }
        out.sort_unstable();
        out.dedup();
    }
}

struct NearScorer {
    a: Side,
    b: Side,
    /// Greatest difference of positions: the gap in words, plus one.
    gap: u32,
    doc: DocId,
    pa: Vec<u32>,
    pb: Vec<u32>,
}

impl NearScorer {
    /// Moves to the first match at or after `target`.
    fn settle(&mut self, mut target: DocId) -> DocId {
        self.doc = loop {
            let da = self.a.seek(target);
            if da == TERMINATED {
                break TERMINATED;
            }
            let db = self.b.seek(da);
            if db != da {
                target = db;
                continue;
            }
            self.a.positions(&mut self.pa);
            self.b.positions(&mut self.pb);
            if close(&self.pa, &self.pb, self.gap) {
                break da;
            }
            target = da + 1;
        };
        self.doc
    }
}

/// Whether a position of `a` and a different position of `b` are at most `max` apart (both
/// sorted).
fn close(a: &[u32], b: &[u32], max: u32) -> bool {
    a.iter().any(|&x| {
        let from = b.partition_point(|&y| y < x.saturating_sub(max));
        b[from..]
            .iter()
            .take_while(|&&y| y <= x.saturating_add(max))
            .any(|&y| y != x)
    })
}

impl DocSet for NearScorer {
    fn advance(&mut self) -> DocId {
        if self.doc == TERMINATED {
            return TERMINATED;
        }
        self.settle(self.doc + 1)
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if target <= self.doc {
            return self.doc;
        }
        self.settle(target)
    }

    fn doc(&self) -> DocId {
        self.doc
    }

    fn size_hint(&self) -> u32 {
        let len = |s: &Side| s.postings.iter().map(|p| p.size_hint()).sum::<u32>();
        len(&self.a).min(len(&self.b))
    }
}

impl Scorer for NearScorer {
    fn score(&mut self) -> Score {
        0.0
    }
}

fn term(field: tantivy::schema::Field, value: &str) -> Box<dyn TvQuery> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, value),
        IndexRecordOption::Basic,
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

/// Small indexes in memory, for tests.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use crate::doc::{Analysis, Document, Sentiment};

    /// A reader over an index of these texts (in these languages), keyed `0`, `1`…, each
    /// indexed as the pipeline indexes it.
    pub fn reader(texts: &[(&str, Lang)]) -> Reader {
        let (schema, fields) = crate::index::schema();
        let index = Index::create_in_ram(schema);
        crate::index::register_tokenizers(&index);
        let mut w: tantivy::IndexWriter<TantivyDocument> = index
            .writer_with_num_threads(1, 15_000_000)
            .expect("writer");
        let t = chrono::DateTime::from_timestamp(1_700_000_000, 0).expect("a time");
        for (i, &(text, lang)) in texts.iter().enumerate() {
            let doc = Document {
                url: format!("https://e.org/{i}"),
                title: String::new(),
                text: text.to_string(),
                published: Some(t),
                fetched: t,
                source: "test".into(),
                author: None,
                followers: None,
                rating: None,
                lang_hint: Some(lang),
            };
            let analysis = Analysis {
                lang,
                lang_confidence: 1.0,
                sentiment: Sentiment::NEUTRAL,
                because: Vec::new(),
                mentions: Vec::new(),
                expectations: Vec::new(),
                topics: Vec::new(),
            };
            let analyzed = Analyzed::new(text, lang);
            let key = i.to_string();
            let rec =
                crate::index::build_record(&fields, &key, &doc, text, &analyzed, &analysis, &[]);
            w.add_document(rec.doc).expect("add");
        }
        w.commit().expect("commit");
        let r = Reader::from_index(index).expect("reader");
        r.reader.reload().expect("reload");
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keys of the documents the index finds for a query, sorted.
    fn found(r: &Reader, q: &Query) -> Vec<String> {
        let mut k: Vec<String> = r
            .search_query(q, &Filters::default(), usize::MAX)
            .expect("search")
            .into_iter()
            .map(|h| h.doc.key)
            .collect();
        k.sort();
        k
    }

    /// Keys of the documents `Query::matches` accepts, sorted.
    fn matching(texts: &[(&str, Lang)], q: &Query) -> Vec<String> {
        let mut k: Vec<String> = texts
            .iter()
            .enumerate()
            .filter(|(_, (t, l))| q.matches(&Analyzed::new(t, *l)))
            .map(|(i, _)| i.to_string())
            .collect();
        k.sort();
        k
    }

    #[test]
    fn text_fields_are_indexed_with_positions() {
        let (schema, fields) = crate::index::schema();
        for f in fields
            .stemmed
            .iter()
            .map(|(_, f)| *f)
            .chain([fields.folded])
        {
            assert_eq!(
                schema
                    .get_field_entry(f)
                    .field_type()
                    .get_index_record_option(),
                Some(IndexRecordOption::WithFreqsAndPositions),
                "{}",
                schema.get_field_entry(f).name()
            );
        }
    }

    #[test]
    fn near_between_words_is_answered_by_the_index_as_matches_answers_it() {
        // gaps of 0 to 4 words, both orders, stems and folded forms, elided articles and
        // emoji (no position), the same word twice, a word by its stem and the other by its
        // folded form only
        let texts: Vec<(&str, Lang)> = vec![
            ("La panne du réseau ce matin.", Lang::Fr),
            ("Le réseau est en panne.", Lang::Fr),
            ("Pannes : tout le réseau mobile coupé.", Lang::Fr),
            ("Panne hier soir sur tout le réseau.", Lang::Fr),
            ("Le réseau, encore et toujours, en panne.", Lang::Fr),
            ("Une panne d'électricité du réseau.", Lang::Fr),
            ("Une panne 😡 😡 réseau.", Lang::Fr),
            ("Une panne, une seule.", Lang::Fr),
            ("Panne, puis panne encore.", Lang::Fr),
            ("La livraison tombée à l'eau.", Lang::Fr),
            ("Les livraisons tombées à l'eau.", Lang::Fr),
            ("Les livraisons ont été tombées hier.", Lang::Fr),
            ("Rien à voir ici.", Lang::Fr),
            ("I think it's broken.", Lang::En),
            ("I think its battery died.", Lang::En),
            ("Its screen, I still think, is fine.", Lang::En),
            ("I really do not think that its price is fair.", Lang::En),
            (
                "Deliveries were late again; the delivery man never came.",
                Lang::En,
            ),
            ("The delivery arrived late.", Lang::En),
            ("Late, as every delivery is.", Lang::En),
        ];
        let r = testing::reader(&texts);
        let queries = [
            "panne NEAR/0 réseau",
            "panne NEAR/1 réseau",
            "panne NEAR/2 réseau",
            "panne NEAR/3 réseau",
            "réseau NEAR/4 panne",
            "pannes NEAR/1 reseau",
            "panne NEAR/3 pannes",
            "panne NEAR/1 panne",
            "panne NEAR/5 (réseau OR électricité)",
            "livraisons NEAR/0 tombee",
            "livraison NEAR/1 tombées",
            "livraisons NEAR/2 tombee",
            "think NEAR/0 its",
            "think NEAR/1 its",
            "think NEAR/2 its",
            "its NEAR/3 think",
            "think NEAR/5 its",
            "delivery NEAR/1 late",
            "deliveries NEAR/0 late",
            "(delivery OR man) NEAR/2 (late OR came)",
            "panne NEAR/2 réseau AND NOT électricité",
            "think NEAR/1 its OR panne NEAR/0 réseau",
        ];
        for s in queries {
            let q = Query::parse(s).expect(s);
            assert!(!q.needs_check(), "{s}");
            assert_eq!(found(&r, &q), matching(&texts, &q), "{s}");
        }
        // the boundaries, by hand: a gap of n words is near at NEAR/n, not at NEAR/(n-1)
        let keys = |s: &str| found(&r, &Query::parse(s).expect(s));
        assert_eq!(keys("panne NEAR/0 réseau"), ["6"], "emoji are not words");
        assert_eq!(keys("panne NEAR/1 réseau"), ["0", "6"]);
        assert_eq!(keys("panne NEAR/2 réseau"), ["0", "1", "2", "5", "6"]);
        assert_eq!(keys("réseau NEAR/3 panne"), ["0", "1", "2", "5", "6"]);
        assert_eq!(keys("réseau NEAR/4 panne"), ["0", "1", "2", "4", "5", "6"]);
        assert_eq!(keys("think NEAR/0 its"), ["13", "14"]);
        assert_eq!(keys("think NEAR/1 its"), ["13", "14", "16"]);
        assert_eq!(keys("think NEAR/2 its"), ["13", "14", "16"]);
        assert_eq!(keys("its NEAR/3 think"), ["13", "14", "15", "16"]);
        assert_eq!(
            keys("panne NEAR/1 panne"),
            ["8"],
            "two occurrences, not one twice"
        );
        // `livraisons` meets `livraison` by its stem, `tombee` meets `tombée` by its folded
        // form only (their stems differ): the two fields' positions are read together
        assert_ne!(
            term_forms(Lang::Fr, "tombee").0,
            term_forms(Lang::Fr, "tombée").0
        );
        assert_eq!(keys("livraisons NEAR/0 tombee"), ["9"]);
    }

    #[test]
    fn near_agrees_with_matches_on_generated_texts() {
        // a small vocabulary with inflections, accents, elisions and emoji, so that most
        // pairs of words stand at every distance in some text
        let fr = [
            "panne",
            "pannes",
            "réseau",
            "reseau",
            "réseaux",
            "l'appli",
            "d'internet",
            "😡",
            "tombée",
            "tombee",
            "livraison",
            "livraisons",
            "le",
            "qu'il",
            "encore",
            "Réseau",
        ];
        let en = [
            "think",
            "thinks",
            "its",
            "it's",
            "delivery",
            "deliveries",
            "late",
            "😡",
            "the",
            "battery",
            "Think",
            "is",
        ];
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let mut owned: Vec<(String, Lang)> = Vec::new();
        for i in 0..300 {
            let (words, lang) = if i % 2 == 0 {
                (&fr[..], Lang::Fr)
            } else {
                (&en[..], Lang::En)
            };
            let len = 2 + next(10);
            let text: Vec<&str> = (0..len).map(|_| words[next(words.len())]).collect();
            owned.push((text.join(" "), lang));
        }
        let texts: Vec<(&str, Lang)> = owned.iter().map(|(t, l)| (t.as_str(), *l)).collect();
        let r = testing::reader(&texts);
        let words = [
            "panne",
            "pannes",
            "réseau",
            "reseau",
            "appli",
            "internet",
            "tombee",
            "livraisons",
            "think",
            "its",
            "it's",
            "deliveries",
            "late",
            "battery",
        ];
        let mut checked = 0;
        for _ in 0..400 {
            let (a, b) = (words[next(words.len())], words[next(words.len())]);
            let s = if next(4) == 0 {
                let c = words[next(words.len())];
                format!("({a} OR {c}) NEAR/{} {b}", next(5))
            } else {
                format!("{a} NEAR/{} {b}", next(5))
            };
            let q = Query::parse(&s).expect("parses");
            let expected = matching(&texts, &q);
            checked += expected.len();
            assert_eq!(found(&r, &q), expected, "{s}");
        }
        assert!(checked > 500, "the texts hold the pairs: {checked}");
    }

    #[test]
    fn near_with_a_phrase_is_checked_on_the_text() {
        let texts = [
            ("Le service client ne répond pas, panne totale.", Lang::Fr),
            (
                "Panne : le service technique dit que le client attend.",
                Lang::Fr,
            ),
        ];
        let r = testing::reader(&texts);
        let q = Query::parse("panne NEAR/3 \"service client\"").unwrap();
        assert!(q.needs_check());
        assert_eq!(found(&r, &q), ["0"]);
        let (total, hits) = r
            .search_checked(&q, &Filters::default(), 10, MAX_CHECKED)
            .unwrap();
        assert_eq!((total, hits.len()), (1, 1));
        // counting reads past the hits asked for
        let q = Query::parse("panne NEAR/10 (\"service client\" OR \"le client\")").unwrap();
        let (total, hits) = r.search_checked(&q, &Filters::default(), 1, 1000).unwrap();
        assert_eq!((total, hits.len()), (2, 1));
        let (total, _) = r.search_checked(&q, &Filters::default(), 1, 1).unwrap();
        assert_eq!(total, 1, "a lower bound past the candidates read");
    }

    #[test]
    fn huge_limits_do_not_overflow() {
        let r = testing::reader(&[("think its fine", Lang::En)]);
        for s in ["think NEAR/5 its", "think", "\"think its\" NEAR/2 fine"] {
            let q = Query::parse(s).unwrap();
            assert_eq!(
                r.search_query(&q, &Filters::default(), usize::MAX)
                    .unwrap()
                    .len(),
                1
            );
            let (total, hits) = r
                .search_checked(&q, &Filters::default(), usize::MAX, usize::MAX)
                .unwrap();
            assert_eq!((total, hits.len()), (1, 1), "{s}");
        }
        let empty = testing::reader(&[]);
        let q = Query::parse("think NEAR/5 its").unwrap();
        assert!(empty
            .search_query(&q, &Filters::default(), usize::MAX)
            .unwrap()
            .is_empty());
    }

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
