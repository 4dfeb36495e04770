//! Helpers for the integration tests: a scratch folder with pipelines, and the `vigie` binary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub struct Scratch {
    pub dir: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> Scratch {
        Scratch {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn write(&self, rel: &str, content: &str) -> PathBuf {
        let p = self.path(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&p, content).expect("write");
        p
    }

    /// Runs vigie with `--data`, `--sources`, `--pipelines` pointing into the scratch folder.
    pub fn vigie(&self, args: &[&str]) -> Output {
        self.vigie_stdin(args, None)
    }

    pub fn vigie_stdin(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut cmd = self.command(args);
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("vigie runs");
        if let Some(input) = stdin {
            use std::io::Write;
            let mut si = child.stdin.take().expect("stdin");
            let input = input.to_string();
            std::thread::spawn(move || {
                let _ = si.write_all(input.as_bytes());
            });
        }
        child.wait_with_output().expect("vigie finishes")
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_vigie"));
        cmd.arg("--data").arg(self.path("data"));
        cmd.arg("--sources").arg(self.path("sources.toml"));
        cmd.arg("--pipelines").arg(self.path("pipelines"));
        cmd.args(args);
        cmd.env_remove("VIGIE_SMTP_URL");
        cmd.env_remove("RUST_LOG");
        cmd
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn jsonl(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

/// Writes JSON Lines documents.
pub fn write_jsonl(path: &Path, docs: &[serde_json::Value]) {
    let mut s = String::new();
    for d in docs {
        s.push_str(&serde_json::to_string(d).expect("json"));
        s.push('\n');
    }
    std::fs::write(path, s).expect("write jsonl");
}

/// The shared corpora, when present next to the repository.
pub fn corpora() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora");
    p.is_dir().then_some(p)
}
