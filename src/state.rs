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
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use rustc_hash::FxHashMap;
use xxhash_rust::xxh3::xxh3_64;

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
    #[error("cannot write the near-duplicate index {path}: {source}")]
    Near {
        path: String,
        source: std::io::Error,
    },
}

/// The state store, safe to share between threads.
pub struct State {
    db: sled::Db,
    tree: sled::Tree,
    /// Staged writes (`None` = delete), by full key.
    pending: Mutex<HashMap<Vec<u8>, Option<Vec<u8>>>>,
    /// The near-duplicate index, read from its file on first use.
    lsh: Mutex<Option<Lsh>>,
    dir: PathBuf,
    /// Whether fingerprints kept in sled by earlier versions were looked for.
    legacy_checked: AtomicBool,
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
            lsh: Mutex::new(None),
            dir: path.to_path_buf(),
            legacy_checked: AtomicBool::new(false),
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

    fn with_lsh<R>(&self, f: impl FnOnce(&mut Lsh) -> R) -> R {
        let mut g = self.lsh.lock().expect("near-duplicate lock");
        let lsh = g.get_or_insert_with(|| {
            let path = self.dir.join(LSH_FILE);
            load_lsh(&path, self.generation()).unwrap_or_else(|e| {
                tracing::warn!(file = %path.display(), error = %e,
                    "near-duplicate index unreadable: copies of earlier documents go unnoticed");
                Lsh::default()
            })
        });
        f(lsh)
    }

    /// Documents whose band buckets meet `bands`, with their sketches (staged ones too).
    pub fn near_candidates(&self, bands: &Bands) -> Vec<(String, Sketch)> {
        self.with_lsh(|l| l.candidates(bands))
    }

    /// Remembers a document's bands and sketch (staged; on disk with the next flush).
    pub fn near_insert(&self, key: &str, bands: &Bands, sketch: &Sketch) {
        self.with_lsh(|l| l.insert(key, bands, sketch, true));
    }

    /// Forgets a document's fingerprint, if it had one.
    pub fn near_remove(&self, key: &str) {
        self.with_lsh(|l| l.remove(key, true));
    }

    /// Fingerprinted documents remembered.
    pub fn near_len(&self) -> usize {
        self.with_lsh(|l| l.live)
    }

    /// Fingerprints that earlier versions kept in sled (`h/s/KEY` → JSON), once per open:
    /// handed to the caller to move into the near-duplicate index, and staged for deletion
    /// with their band buckets.
    pub fn take_legacy_fingerprints(&self) -> Vec<(String, Vec<u8>)> {
        if self.legacy_checked.swap(true, Ordering::Relaxed) {
            return Vec::new();
        }
        let mut out = Vec::new();
        let mut gone = Vec::new();
        // only the signatures (`h/s/`) and the band buckets (`h/b…`): the exact-copy keys of
        // short texts (`h/x/`, one a post) stay, and are not read
        let signatures = Space::Simhash.key("s/");
        for (k, v) in self.tree.scan_prefix(&signatures).flatten() {
            if let Ok(key) = std::str::from_utf8(&k[signatures.len()..]) {
                out.push((key.to_string(), v.to_vec()));
            }
            gone.push(k.to_vec());
        }
        for (k, _) in self.tree.scan_prefix(Space::Simhash.key("b")).flatten() {
            gone.push(k.to_vec());
        }
        let mut p = self.pending.lock().expect("state lock");
        for k in gone {
            p.insert(k, None);
        }
        out
    }

    /// Appends the staged near-duplicate records as one block of `generation`, synced.
    fn flush_lsh(&self, generation: u64) -> Result<(), StateError> {
        let mut g = self.lsh.lock().expect("near-duplicate lock");
        let Some(lsh) = g.as_mut() else {
            return Ok(());
        };
        if lsh.staged.is_empty() {
            return Ok(());
        }
        let payload = std::mem::take(&mut lsh.staged);
        let mut block = Vec::with_capacity(payload.len() + 24);
        block.extend_from_slice(&LSH_MAGIC.to_le_bytes());
        block.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        block.extend_from_slice(&generation.to_le_bytes());
        block.extend_from_slice(&payload);
        block.extend_from_slice(&xxh3_64(&payload).to_le_bytes());
        let path = self.dir.join(LSH_FILE);
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| {
                f.write_all(&block)?;
                f.sync_data()
            })
            .map_err(|source| StateError::Near {
                path: path.display().to_string(),
                source,
            })?;
        Ok(())
    }

    /// Writes every staged change and the new generation in one atomic batch, and waits for
    /// it to be on disk. Call right after the index commit. The near-duplicate records go
    /// first, in a block of the new generation: a crash before the batch leaves a block of a
    /// generation never committed, which the next open drops.
    pub fn flush(&self, generation: u64) -> Result<(), StateError> {
        self.flush_lsh(generation)?;
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
        // read again from the file on next use
        *self.lsh.lock().expect("near-duplicate lock") = None;
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

// ---- near-duplicate buckets ----------------------------------------------------------------

/// Bands of a near-duplicate sketch (see `extract::dedup`): one bucket hash each.
pub const LSH_BANDS: usize = 16;
/// Bytes of a near-duplicate sketch: one byte of each MinHash value.
pub const SKETCH_LEN: usize = 128;

/// Band hashes and sketch of one document, as stored.
pub type Bands = [u32; LSH_BANDS];
pub type Sketch = [u8; SKETCH_LEN];

/// File of the near-duplicate index, beside sled's: blocks appended by each flush.
const LSH_FILE: &str = "near-duplicates.log";
const LSH_MAGIC: u32 = 0x4853_4C56; // "VLSH"
const INSERT: u8 = 1;
const REMOVE: u8 = 2;

/// The near-duplicate index, in memory: for each band bucket, the first live document that
/// fell in it, and each document's key and sketch. About 500 bytes a fingerprinted document
/// (a million of them in some 500 MB); lookups and inserts are hash-table operations, where
/// sled paid thirty-two keyed writes a document.
#[derive(Default)]
struct Lsh {
    buckets: FxHashMap<u32, u32>,
    keys: Vec<Option<Box<str>>>,
    sketches: Vec<Sketch>,
    by_key: FxHashMap<Box<str>, u32>,
    /// Records not yet in the file.
    staged: Vec<u8>,
    live: usize,
}

impl Lsh {
    fn insert(&mut self, key: &str, bands: &Bands, sketch: &Sketch, stage: bool) {
        self.remove(key, false);
        let ord = self.keys.len() as u32;
        self.keys.push(Some(key.into()));
        self.sketches.push(*sketch);
        self.by_key.insert(key.into(), ord);
        self.live += 1;
        for &b in bands {
            let owner = self.buckets.entry(b).or_insert(ord);
            // a bucket whose first document is gone is taken by the new one
            if self.keys[*owner as usize].is_none() {
                *owner = ord;
            }
        }
        if stage {
            self.staged.push(INSERT);
            push_key(&mut self.staged, key);
            for b in bands {
                self.staged.extend_from_slice(&b.to_le_bytes());
            }
            self.staged.extend_from_slice(sketch);
        }
    }

    fn remove(&mut self, key: &str, stage: bool) {
        if let Some(ord) = self.by_key.remove(key) {
            self.keys[ord as usize] = None;
            self.live -= 1;
            if stage {
                self.staged.push(REMOVE);
                push_key(&mut self.staged, key);
            }
        }
    }

    fn candidates(&self, bands: &Bands) -> Vec<(String, Sketch)> {
        let mut out: Vec<u32> = Vec::new();
        for b in bands {
            if let Some(&ord) = self.buckets.get(b) {
                if self.keys[ord as usize].is_some() && !out.contains(&ord) {
                    out.push(ord);
                }
            }
        }
        out.into_iter()
            .filter_map(|o| {
                let k = self.keys[o as usize].as_deref()?;
                Some((k.to_string(), self.sketches[o as usize]))
            })
            .collect()
    }

    /// Replays the records of one block.
    fn replay(&mut self, mut p: &[u8]) -> Option<()> {
        while let Some((&tag, rest)) = p.split_first() {
            let (&[a, b], rest) = rest.split_first_chunk::<2>()?;
            let len = u16::from_le_bytes([a, b]) as usize;
            let key = std::str::from_utf8(rest.get(..len)?).ok()?;
            let rest = &rest[len..];
            match tag {
                INSERT => {
                    let (raw, rest) = rest.split_at_checked(LSH_BANDS * 4)?;
                    let mut bands = [0u32; LSH_BANDS];
                    for (b, c) in bands.iter_mut().zip(raw.chunks_exact(4)) {
                        *b = u32::from_le_bytes(c.try_into().ok()?);
                    }
                    let (sk, rest) = rest.split_first_chunk::<SKETCH_LEN>()?;
                    self.insert(key, &bands, sk, false);
                    p = rest;
                }
                REMOVE => {
                    self.remove(key, false);
                    p = rest;
                }
                _ => return None,
            }
        }
        Some(())
    }
}

fn push_key(out: &mut Vec<u8>, key: &str) {
    let key = &key.as_bytes()[..key.len().min(u16::MAX as usize)];
    out.extend_from_slice(&(key.len() as u16).to_le_bytes());
    out.extend_from_slice(key);
}

/// Reads the blocks of the file up to the generation `committed`; a block of a later
/// generation (written before a crash cut the commit short) or a torn one ends it, and the
/// file is cut there.
fn load_lsh(path: &Path, committed: u64) -> std::io::Result<Lsh> {
    let mut lsh = Lsh::default();
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(lsh),
        Err(e) => return Err(e),
    };
    // room for every record at once: the tables are not grown (and rehashed) step by step
    let records = bytes.len() / (1 + 2 + 32 + LSH_BANDS * 4 + SKETCH_LEN);
    lsh.buckets.reserve(records * LSH_BANDS);
    lsh.keys.reserve(records);
    lsh.sketches.reserve(records);
    lsh.by_key.reserve(records);
    let mut at = 0usize;
    while let Some(head) = bytes.get(at..at + 16) {
        let magic = u32::from_le_bytes(head[0..4].try_into().expect("4 bytes"));
        let len = u32::from_le_bytes(head[4..8].try_into().expect("4 bytes")) as usize;
        let generation = u64::from_le_bytes(head[8..16].try_into().expect("8 bytes"));
        let Some(block) = bytes.get(at + 16..at + 16 + len + 8) else {
            break;
        };
        let (payload, sum) = block.split_at(len);
        if magic != LSH_MAGIC
            || generation > committed
            || xxh3_64(payload) != u64::from_le_bytes(sum.try_into().expect("8 bytes"))
        {
            break;
        }
        if lsh.replay(payload).is_none() {
            break;
        }
        at += 16 + len + 8;
    }
    if at < bytes.len() {
        tracing::warn!(
            file = %path.display(),
            kept = at,
            dropped = bytes.len() - at,
            "near-duplicate index: records of an unfinished commit dropped"
        );
        let f = std::fs::OpenOptions::new().write(true).open(path)?;
        f.set_len(at as u64)?;
        f.sync_all()?;
    }
    Ok(lsh)
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

    #[test]
    fn near_duplicate_records_follow_the_commits() {
        let dir = tempfile::tempdir().unwrap();
        let bands = |x: u32| -> Bands { std::array::from_fn(|i| x * 100 + i as u32) };
        let sketch = [7u8; SKETCH_LEN];
        {
            let s = State::open(dir.path()).unwrap();
            s.near_insert("https://a.example/1", &bands(1), &sketch);
            // staged records are seen before the flush
            assert_eq!(s.near_candidates(&bands(1)).len(), 1);
            s.flush(1).unwrap();
            s.near_insert("https://a.example/2", &bands(2), &sketch);
            s.near_remove("https://a.example/1");
            // a crash between the near-duplicate block and the sled batch
            s.flush_lsh(2).unwrap();
        }
        let path = dir.path().join(LSH_FILE);
        let committed_len = {
            let s = State::open(dir.path()).unwrap();
            // the block of generation 2 was never committed: dropped, the file cut
            let c = s.near_candidates(&bands(1));
            assert_eq!(c.len(), 1);
            assert_eq!(c[0].0, "https://a.example/1");
            assert!(s.near_candidates(&bands(2)).is_empty());
            assert_eq!(s.near_len(), 1);
            std::fs::metadata(&path).unwrap().len()
        };
        // a torn block at the end is dropped too
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(&LSH_MAGIC.to_le_bytes())
            .unwrap();
        let s = State::open(dir.path()).unwrap();
        s.near_remove("https://a.example/1");
        assert_eq!(s.near_len(), 0);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), committed_len);
        s.flush(2).unwrap();
        drop(s);
        let s = State::open(dir.path()).unwrap();
        assert!(s.near_candidates(&bands(1)).is_empty());
    }
}
