//! The index sink: the one tantivy `IndexWriter` of a data directory, with the state that
//! commits with it.

use std::time::{Duration, Instant};

use tantivy::{Index, IndexWriter, TantivyDocument, Term};

use crate::data::{DataDir, DataError, WriterLock};
use crate::index::{schema, Fields, IndexRecord};
use crate::state::{Space, State};

/// Commit after this many added documents...
pub const COMMIT_EVERY_DOCS: usize = 20_000;
/// ...or this long after the first uncommitted one.
pub const COMMIT_EVERY: Duration = Duration::from_secs(5);
/// Memory budget of the index writer.
const WRITER_MEMORY: usize = 96 * 1024 * 1024;

/// Problems writing the index.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Data(#[from] DataError),
    #[error("index: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error(transparent)]
    State(#[from] crate::state::StateError),
    #[error(
        "the index in {dir} was written by another version of vigie (its fields differ): \
         move it aside and ingest or crawl again"
    )]
    OtherSchema { dir: String },
}

/// A data directory opened for writing.
pub struct Store {
    pub fields: Fields,
    pub index: Index,
    writer: IndexWriter<TantivyDocument>,
    pub state: std::sync::Arc<State>,
    uncommitted: usize,
    first_uncommitted: Option<Instant>,
    generation: u64,
    /// Every document of the index has its key in the state (the index was created with it
    /// and the two were always committed together): a key the state does not know is in no
    /// segment, and adding it needs no delete.
    seen_complete: bool,
    _lock: WriterLock,
}

/// State key of [`Store`]'s `seen_complete`.
const SEEN_COMPLETE: &str = "seen-complete";

impl Store {
    /// Locks the data directory and opens (or creates) its index and state.
    pub fn open(data: &DataDir, command: &str) -> Result<Store, StoreError> {
        let lock = data.lock(command)?;
        let (schema, fields) = schema();
        let dir = data.index_dir();
        let fresh = !dir.join("meta.json").exists();
        let index = if !fresh {
            let index = Index::open_in_dir(&dir)?;
            if index.schema() != schema {
                return Err(StoreError::OtherSchema {
                    dir: dir.display().to_string(),
                });
            }
            index
        } else {
            Index::create_in_dir(&dir, schema)?
        };
        super::register_tokenizers(&index);
        // indexing is a fifth of an ingest's work, the analysis most of the rest: one indexing
        // thread for two cores (an ingest of 20,000 posts on two cores: 2.03 s against 2.13 s
        // with two, and fewer segments to merge), up to four
        let threads = std::thread::available_parallelism()
            .map(|n| n.get() / 2)
            .unwrap_or(1)
            .clamp(1, 4);
        let writer = index
            .writer_with_num_threads(threads, WRITER_MEMORY.max(threads * 16 * 1024 * 1024))?;
        let state = State::open(&data.state_dir())?;
        let indexed = index
            .load_metas()?
            .payload
            .and_then(|p| p.parse::<u64>().ok())
            .unwrap_or(0);
        let generation = indexed.max(state.generation());
        let seen_complete = if fresh {
            state.put(Space::Meta, SEEN_COMPLETE, &true);
            true
        } else if state.get::<bool>(Space::Meta, SEEN_COMPLETE) == Some(true) {
            // an index committed without the state that goes with it (a stop between the two)
            // may hold documents the state never saw: from now on every key is looked up
            let agree = indexed == state.generation();
            if !agree {
                state.delete(Space::Meta, SEEN_COMPLETE);
            }
            agree
        } else {
            false
        };
        Ok(Store {
            fields,
            index,
            writer,
            state: std::sync::Arc::new(state),
            uncommitted: 0,
            first_uncommitted: None,
            generation,
            seen_complete,
            _lock: lock,
        })
    }

    /// Adds a record, replacing any document with the same key.
    pub fn upsert(&mut self, rec: IndexRecord) -> Result<(), StoreError> {
        self.writer
            .delete_term(Term::from_field_text(self.fields.key, &rec.key));
        self.add(rec)
    }

    /// Adds the record of a document whose key the state does not know (nor has staged).
    /// Where the state is known to cover the whole index, no delete of its key is queued:
    /// applying a delete per new document at each commit is a term query per document.
    pub fn insert_new(&mut self, rec: IndexRecord) -> Result<(), StoreError> {
        if !self.seen_complete {
            return self.upsert(rec);
        }
        self.add(rec)
    }

    fn add(&mut self, rec: IndexRecord) -> Result<(), StoreError> {
        self.writer.add_document(rec.doc)?;
        self.uncommitted += 1;
        self.first_uncommitted.get_or_insert_with(Instant::now);
        Ok(())
    }

    /// Whether a commit is due (by size or age).
    pub fn commit_due(&self) -> bool {
        self.uncommitted >= COMMIT_EVERY_DOCS
            || self
                .first_uncommitted
                .is_some_and(|t| t.elapsed() >= COMMIT_EVERY)
    }

    /// Uncommitted documents.
    pub fn uncommitted(&self) -> usize {
        self.uncommitted
    }

    /// Commits the index, then the state staged for it. No-op when nothing changed.
    pub fn commit(&mut self) -> Result<(), StoreError> {
        if self.uncommitted == 0 && self.state.pending_len() == 0 {
            return Ok(());
        }
        let generation = self.generation + 1;
        let mut prepared = self.writer.prepare_commit()?;
        prepared.set_payload(&generation.to_string());
        prepared.commit()?;
        self.state.flush(generation)?;
        self.generation = generation;
        self.uncommitted = 0;
        self.first_uncommitted = None;
        Ok(())
    }

    /// Commits and waits for background merges, leaving the index compact.
    pub fn close(mut self) -> Result<(), StoreError> {
        self.commit()?;
        self.writer.wait_merging_threads()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(store: &Store, key: &str) -> IndexRecord {
        let mut doc = TantivyDocument::default();
        doc.add_text(store.fields.key, key);
        IndexRecord {
            key: key.to_string(),
            doc,
        }
    }

    fn docs(store: &Store) -> u64 {
        store.index.reader().unwrap().searcher().num_docs()
    }

    #[test]
    fn new_keys_skip_the_delete_only_while_the_state_covers_the_index() {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::new(dir.path());
        let mut s = Store::open(&data, "test").unwrap();
        assert!(s.seen_complete, "a new index is covered by its state");
        s.insert_new(record(&s, "a")).unwrap();
        s.commit().unwrap();
        s.upsert(record(&s, "a")).unwrap();
        s.commit().unwrap();
        assert_eq!(docs(&s), 1);
        drop(s);

        // committed together: still covered
        let mut s = Store::open(&data, "test").unwrap();
        assert!(s.seen_complete);
        // an index commit the state never followed (a stop between the two)
        s.writer.add_document(record(&s, "b").doc).unwrap();
        let mut p = s.writer.prepare_commit().unwrap();
        p.set_payload(&(s.generation + 1).to_string());
        p.commit().unwrap();
        drop(s);

        let mut s = Store::open(&data, "test").unwrap();
        assert!(!s.seen_complete, "the index may hold keys the state lacks");
        s.insert_new(record(&s, "b")).unwrap();
        s.commit().unwrap();
        assert_eq!(
            docs(&s),
            2,
            "the key the state lacked was replaced, not doubled"
        );
        drop(s);

        // and it stays so, even once index and state agree again
        let s = Store::open(&data, "test").unwrap();
        assert!(!s.seen_complete);
    }
}
