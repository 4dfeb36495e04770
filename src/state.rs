//! State that must survive a restart, in sled under the data directory: documents seen (with
//! their content hash), HTTP validators, detector state, digests sent.
//!
//! Writes are staged in memory and reach sled only after the index commit they belong to, in
//! one atomic batch ([`State::flush`]). A crash before the index commit loses the staged
//! writes together with the documents they describe, so a restart redoes both; a crash
//! between the index commit and the batch makes the restart re-add documents the index
//! already holds, which replaces them (documents are keyed by URL): nothing lost, nothing
//! twice.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Key spaces, as prefixes in one sled tree (so a batch covers them all atomically).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Space {
    /// Documents seen: canonical key → [`Seen`].
    Seen,
    /// HTTP validators: URL → [`Validators`].
    Validators,
    /// Detector state: watch → opaque.
    Detectors,
    /// Near-duplicate fingerprints: band → keys.
    Simhash,
    /// Bookkeeping: generation, digests sent, source health.
    Meta,
}

impl Space {
    fn prefix(self) -> &'static [u8] {
        match self {
            Space::Seen => b"s/",
            Space::Validators => b"v/",
            Space::Detectors => b"d/",
            Space::Simhash => b"h/",
            Space::Meta => b"m/",
        }
    }

    fn key(self, k: &str) -> Vec<u8> {
        let mut v = self.prefix().to_vec();
        v.extend_from_slice(k.as_bytes());
        v
    }
}

/// What is remembered of a document once indexed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    /// Hash of its analysed content: same hash, nothing to do.
    pub hash: u64,
    /// Event time, seconds since the epoch.
    pub at: i64,
}

/// HTTP validators of a fetched URL.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// Problems with the state store.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot open the state store at {path}: {source}")]
    Open { path: String, source: sled::Error },
    #[error("state store: {0}")]
    Sled(#[from] sled::Error),
}

/// The state store, safe to share between threads.
pub struct State {
    db: sled::Db,
    tree: sled::Tree,
    /// Staged writes (`None` = delete), by full key.
    pending: Mutex<HashMap<Vec<u8>, Option<Vec<u8>>>>,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State").finish_non_exhaustive()
    }
}

const GENERATION: &str = "generation";

impl State {
    pub fn open(path: &Path) -> Result<State, StateError> {
        // sled lets go of its file lock a moment after the last handle is dropped: a store
        // closed and opened again in one process (one crawl after another) waits for it
        let mut tries = 0;
        let db = loop {
            let opened = sled::Config::new()
                .path(path)
                .cache_capacity(32 * 1024 * 1024)
                .flush_every_ms(None)
                .open();
            match opened {
                Err(sled::Error::Io(e))
                    if tries < 100 && e.to_string().contains("could not acquire lock") =>
                {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                other => {
                    break other.map_err(|source| StateError::Open {
                        path: path.display().to_string(),
                        source,
                    })?
                }
            }
        };
        let tree = db.open_tree("vigie").map_err(|source| StateError::Open {
            path: path.display().to_string(),
            source,
        })?;
        Ok(State {
            db,
            tree,
            pending: Mutex::new(HashMap::new()),
        })
    }

    fn raw_get(&self, key: &[u8]) -> Option<Vec<u8>> {
        if let Some(v) = self.pending.lock().expect("state lock").get(key) {
            return v.clone();
        }
        self.tree.get(key).ok().flatten().map(|v| v.to_vec())
    }

    /// Reads a value, staged writes first.
    pub fn get<T: DeserializeOwned>(&self, space: Space, key: &str) -> Option<T> {
        let raw = self.raw_get(&space.key(key))?;
        serde_json::from_slice(&raw).ok()
    }

    /// Stages a write; it reaches disk with the next [`State::flush`].
    pub fn put<T: Serialize>(&self, space: Space, key: &str, value: &T) {
        let raw = serde_json::to_vec(value).expect("state values serialise");
        self.pending
            .lock()
            .expect("state lock")
            .insert(space.key(key), Some(raw));
    }

    /// Reads raw bytes, staged writes first.
    pub fn get_raw(&self, space: Space, key: &str) -> Option<Vec<u8>> {
        self.raw_get(&space.key(key))
    }

    /// Stages a write of raw bytes.
    pub fn put_raw(&self, space: Space, key: &str, value: Vec<u8>) {
        self.pending
            .lock()
            .expect("state lock")
            .insert(space.key(key), Some(value));
    }

    /// Stages a deletion.
    pub fn delete(&self, space: Space, key: &str) {
        self.pending
            .lock()
            .expect("state lock")
            .insert(space.key(key), None);
    }

    pub fn seen(&self, key: &str) -> Option<Seen> {
        self.get(Space::Seen, key)
    }

    /// Whether a document key is known (committed or staged).
    pub fn is_seen(&self, key: &str) -> bool {
        self.raw_get(&Space::Seen.key(key)).is_some()
    }

    /// Number of staged writes.
    pub fn pending_len(&self) -> usize {
        self.pending.lock().expect("state lock").len()
    }

    /// The generation of the last flush (the index commit it followed).
    pub fn generation(&self) -> u64 {
        self.tree
            .get(Space::Meta.key(GENERATION))
            .ok()
            .flatten()
            .and_then(|v| serde_json::from_slice(&v).ok())
            .unwrap_or(0)
    }

    /// Writes every staged change and the new generation in one atomic batch, and waits for
    /// it to be on disk. Call right after the index commit.
    pub fn flush(&self, generation: u64) -> Result<(), StateError> {
        let staged: Vec<(Vec<u8>, Option<Vec<u8>>)> =
            self.pending.lock().expect("state lock").drain().collect();
        let mut batch = sled::Batch::default();
        for (k, v) in staged {
            match v {
                Some(v) => batch.insert(k, v),
                None => batch.remove(k),
            }
        }
        batch.insert(
            Space::Meta.key(GENERATION),
            serde_json::to_vec(&generation).expect("u64"),
        );
        self.tree.apply_batch(batch)?;
        self.db.flush()?;
        Ok(())
    }

    /// Drops staged writes (after a failed commit).
    pub fn discard(&self) {
        self.pending.lock().expect("state lock").clear();
    }

    /// Iterates committed entries of a space (staged ones are not included).
    pub fn scan<T: DeserializeOwned>(
        &self,
        space: Space,
    ) -> impl Iterator<Item = (String, T)> + '_ {
        let plen = space.prefix().len();
        self.tree.scan_prefix(space.prefix()).filter_map(move |r| {
            let (k, v) = r.ok()?;
            let key = String::from_utf8(k[plen..].to_vec()).ok()?;
            Some((key, serde_json::from_slice(&v).ok()?))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staged_writes_are_visible_and_reach_disk_only_on_flush() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = State::open(dir.path()).unwrap();
            s.put(Space::Seen, "https://a.example/1", &Seen { hash: 7, at: 1 });
            assert_eq!(s.seen("https://a.example/1").unwrap().hash, 7);
            s.flush(1).unwrap();
            s.put(Space::Seen, "https://a.example/2", &Seen { hash: 8, at: 2 });
            // dropped without flush: the second write is lost with the commit it awaited
        }
        let s = State::open(dir.path()).unwrap();
        assert!(s.is_seen("https://a.example/1"));
        assert!(!s.is_seen("https://a.example/2"));
        assert_eq!(s.generation(), 1);
        s.delete(Space::Seen, "https://a.example/1");
        assert!(!s.is_seen("https://a.example/1"));
    }

    #[test]
    fn can_be_opened_again_right_after_closing() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..30 {
            let s = State::open(dir.path()).unwrap();
            for k in 0..100 {
                s.put(Space::Meta, &format!("k{i}-{k}"), &k);
            }
            s.flush(i).unwrap();
        }
    }
}
