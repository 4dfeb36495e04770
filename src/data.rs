//! The data directory: the tantivy index, the sled state, and the lock that keeps it to one
//! writer. Readers (search, digest, alerts) open the index alone and never take the lock, so
//! they work beside a running writer.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Problems opening a data directory.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("data directory {dir} is in use by another vigie writer ({holder}); wait for it to finish or use another --data directory")]
    InUse { dir: String, holder: String },
    #[error("cannot create the data directory {dir}: {source}")]
    Create { dir: String, source: std::io::Error },
    #[error("cannot lock the data directory {dir}: {source}")]
    Lock { dir: String, source: std::io::Error },
    #[error("no index in {dir} yet: run `vigie ingest FILE` or `vigie run` first")]
    NoIndex { dir: String },
    #[error("index in {dir}: {source}")]
    Index {
        dir: String,
        source: tantivy::TantivyError,
    },
    #[error(transparent)]
    State(#[from] crate::state::StateError),
}

/// Paths inside a data directory.
#[derive(Debug, Clone)]
pub struct DataDir {
    pub root: PathBuf,
}

impl DataDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DataDir { root: root.into() }
    }

    pub fn index_dir(&self) -> PathBuf {
        self.root.join("index")
    }

    pub fn state_dir(&self) -> PathBuf {
        self.root.join("state")
    }

    /// Documents handed over to the writer that holds the directory (`vigie ingest` beside a
    /// running `vigie run`): JSON Lines files it indexes and then removes.
    pub fn inbox_dir(&self) -> PathBuf {
        self.root.join("inbox")
    }

    /// The workspace's own ledgers (queue states, alert verdicts), written by `vigie serve`.
    pub fn workspace_dir(&self) -> PathBuf {
        self.root.join("workspace")
    }

    fn lock_path(&self) -> PathBuf {
        self.root.join("vigie.lock")
    }

    fn display(&self) -> String {
        self.root.display().to_string()
    }

    /// Creates the directory if needed and takes the writer lock. A reader that holds it for a
    /// moment (the workspace reading source health: its holder says "reading") is waited for.
    pub fn lock(&self, command: &str) -> Result<WriterLock, DataError> {
        let mut tries = 0;
        loop {
            match self.lock_once(command) {
                Err(DataError::InUse { holder, .. })
                    if holder.contains("(reading") && tries < 100 =>
                {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                other => return other,
            }
        }
    }

    fn lock_once(&self, command: &str) -> Result<WriterLock, DataError> {
        let create = |p: &Path| {
            std::fs::create_dir_all(p).map_err(|source| DataError::Create {
                dir: p.display().to_string(),
                source,
            })
        };
        create(&self.root)?;
        create(&self.index_dir())?;
        let path = self.lock_path();
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|source| DataError::Lock {
                dir: self.display(),
                source,
            })?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                let holder = if holder.is_empty() {
                    "another process".to_string()
                } else {
                    holder.to_string()
                };
                return Err(DataError::InUse {
                    dir: self.display(),
                    holder,
                });
            }
            Err(std::fs::TryLockError::Error(source)) => {
                return Err(DataError::Lock {
                    dir: self.display(),
                    source,
                })
            }
        }
        let _ = file.set_len(0);
        let _ = file.seek(SeekFrom::Start(0));
        let _ = write!(
            file,
            "pid {} (vigie {command}, since {})",
            std::process::id(),
            chrono::Utc::now().format("%Y-%m-%d %H:%M:%S UTC")
        );
        let _ = file.flush();
        Ok(WriterLock { _file: file })
    }

    /// Opens the index for reading.
    pub fn open_index(&self) -> Result<tantivy::Index, DataError> {
        let dir = self.index_dir();
        if !dir.join("meta.json").exists() {
            return Err(DataError::NoIndex {
                dir: self.display(),
            });
        }
        let index = tantivy::Index::open_in_dir(&dir).map_err(|source| DataError::Index {
            dir: self.display(),
            source,
        })?;
        crate::index::register_tokenizers(&index);
        Ok(index)
    }
}

/// Held while writing; released when dropped (or when the process dies).
pub struct WriterLock {
    _file: File,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_is_told_who_holds_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let d = DataDir::new(dir.path().join("data"));
        let held = d.lock("ingest").unwrap();
        let err = d.lock("run").err().expect("second lock must fail");
        let msg = err.to_string();
        assert!(
            msg.contains("in use")
                && msg.contains(&format!("pid {}", std::process::id()))
                && msg.contains("ingest"),
            "{msg}"
        );
        drop(held);
        assert!(d.lock("run").is_ok());
    }
}
