//! The workspace's own ledgers under `DATA/workspace/`: what the team decided about queue items
//! (answered, dismissed, open again) and about alerts (useful, noise). Each is a JSON Lines
//! file written by appending one line per decision, flushed to disk before the answer; the
//! last line for an id wins. The files are read again when they grow, so two workspaces on one
//! data directory (`vigie serve` beside `vigie run --listen`) see each other's decisions. The
//! crawl's sled state is not used: it is held by the writing process, and the workspace must
//! keep serving and deciding while a crawl or an ingest runs.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub id: String,
    pub value: String,
    pub at: DateTime<Utc>,
}

/// Problems with a ledger.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

struct Loaded {
    /// Bytes of the file read so far.
    read: u64,
    entries: HashMap<String, Entry>,
    /// Bumped whenever `entries` changes.
    version: u64,
}

/// An append-only ledger of decisions by id.
pub struct Ledger {
    path: PathBuf,
    loaded: Mutex<Loaded>,
}

impl Ledger {
    /// Opens (or will create on first write) the ledger at `path`.
    pub fn open(path: &Path) -> Ledger {
        let l = Ledger {
            path: path.to_path_buf(),
            loaded: Mutex::new(Loaded {
                read: 0,
                entries: HashMap::new(),
                version: 0,
            }),
        };
        l.refresh();
        l
    }

    /// Reads what other writers appended since the last read.
    pub fn refresh(&self) {
        let mut g = self.loaded.lock().expect("ledger lock");
        let Ok(meta) = std::fs::metadata(&self.path) else {
            return;
        };
        let len = meta.len();
        if len == g.read {
            return;
        }
        let Ok(bytes) = std::fs::read(&self.path) else {
            return;
        };
        // a file shorter than what was read was replaced: read it whole again
        let from = if (bytes.len() as u64) < g.read {
            g.entries.clear();
            0
        } else {
            g.read as usize
        };
        // only whole lines: a line being written is read next time
        let Some(end) = bytes.iter().rposition(|&b| b == b'\n').map(|i| i + 1) else {
            return;
        };
        if end <= from {
            return;
        }
        for line in bytes[from..end].split(|&b| b == b'\n') {
            if let Ok(e) = serde_json::from_slice::<Entry>(line) {
                g.entries.insert(e.id.clone(), e);
            }
        }
        g.read = end as u64;
        g.version += 1;
    }

    /// Records a decision, on disk before it returns.
    pub fn set(&self, id: &str, value: &str) -> Result<Entry, StoreError> {
        self.refresh();
        let e = Entry {
            id: id.to_string(),
            value: value.to_string(),
            at: Utc::now(),
        };
        let err = |source| StoreError::Write {
            path: self.path.display().to_string(),
            source,
        };
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        let mut line = serde_json::to_vec(&e).expect("entry serialises");
        line.push(b'\n');
        let mut g = self.loaded.lock().expect("ledger lock");
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(err)?;
        f.write_all(&line).map_err(err)?;
        f.sync_data().map_err(err)?;
        g.read += line.len() as u64;
        g.entries.insert(e.id.clone(), e.clone());
        g.version += 1;
        Ok(e)
    }

    /// The last decision for `id`.
    pub fn get(&self, id: &str) -> Option<Entry> {
        self.loaded
            .lock()
            .expect("ledger lock")
            .entries
            .get(id)
            .cloned()
    }

    /// Every id's last decision, and the ledger's version (changes with every decision).
    pub fn snapshot(&self) -> (HashMap<String, Entry>, u64) {
        let g = self.loaded.lock().expect("ledger lock");
        (g.entries.clone(), g.version)
    }

    pub fn version(&self) -> u64 {
        self.loaded.lock().expect("ledger lock").version
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_survive_a_reopen_and_reach_another_reader() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("workspace/queue.jsonl");
        let a = Ledger::open(&p);
        let b = Ledger::open(&p);
        a.set("x", "answered").unwrap();
        a.set("y", "dismissed").unwrap();
        a.set("x", "open").unwrap();
        assert_eq!(a.get("x").unwrap().value, "open");
        b.refresh();
        assert_eq!(b.get("y").unwrap().value, "dismissed");
        assert_eq!(b.get("x").unwrap().value, "open");
        drop(a);
        let c = Ledger::open(&p);
        assert_eq!(c.snapshot().0.len(), 2);
        // a torn last line is left for later
        std::fs::OpenOptions::new()
            .append(true)
            .open(&p)
            .unwrap()
            .write_all(b"{\"id\":\"z\"")
            .unwrap();
        c.refresh();
        assert!(c.get("z").is_none());
    }
}
