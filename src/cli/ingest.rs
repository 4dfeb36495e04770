//! `vigie ingest FILE`: JSON Lines documents through the pipeline, with progress and every
//! problem line reported.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::cli::args::{Global, IngestArgs};
use crate::cli::common::{input_failed, load_config, plural, Failure};
use crate::data::DataDir;
use crate::ingest::{Input, Reporter};

/// Prints line problems to stderr: every one up to a limit, then a count.
pub struct LineReporter {
    shown: AtomicU64,
    hidden: AtomicU64,
    progress: Option<indicatif::ProgressBar>,
}

const SHOWN_PROBLEMS: u64 = 25;

impl LineReporter {
    pub fn new(total_bytes: Option<u64>, quiet: bool) -> Self {
        let progress = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let pb = match total_bytes {
                Some(t) => indicatif::ProgressBar::new(t).with_style(
                    indicatif::ProgressStyle::with_template(
                        "{spinner} {bytes}/{total_bytes} {wide_bar} {bytes_per_sec} eta {eta}",
                    )
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                ),
                None => indicatif::ProgressBar::new_spinner(),
            };
            pb.set_draw_target(indicatif::ProgressDrawTarget::stderr_with_hz(5));
            pb
        });
        LineReporter {
            shown: AtomicU64::new(0),
            hidden: AtomicU64::new(0),
            progress,
        }
    }

    pub fn finish(&self) {
        if let Some(p) = &self.progress {
            p.finish_and_clear();
        }
        let hidden = self.hidden.load(Ordering::Relaxed);
        if hidden > 0 {
            eprintln!(
                "… and {hidden} more problem line{} not shown",
                plural(hidden as usize)
            );
        }
    }
}

impl Reporter for LineReporter {
    fn line_problem(&self, line: usize, message: &str, skipped: bool) {
        if self.shown.fetch_add(1, Ordering::Relaxed) < SHOWN_PROBLEMS {
            let what = if skipped { "error" } else { "warning" };
            let msg = format!("{what}: line {line}: {message}");
            match &self.progress {
                Some(p) => p.println(msg),
                None => eprintln!("{msg}"),
            }
        } else {
            self.hidden.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn progress(&self, bytes: u64) {
        if let Some(p) = &self.progress {
            p.set_position(bytes);
        }
    }
}

/// ", 3 bad lines skipped", or nothing.
fn skipped(bad_lines: u64, sep: &str) -> String {
    if bad_lines > 0 {
        format!(
            "{sep}{bad_lines} bad line{} skipped",
            plural(bad_lines as usize)
        )
    } else {
        String::new()
    }
}

/// `vigie ingest`.
pub fn ingest(g: &Global, a: IngestArgs) -> Result<ExitCode, Failure> {
    let config = Arc::new(load_config(g, false)?);
    let input = if a.file == "-" {
        Input::Stdin
    } else {
        Input::File(a.file.clone().into())
    };
    let total = match &input {
        Input::File(p) => {
            let m = std::fs::metadata(p).map_err(|e| input_failed(&a.file, e))?;
            if m.is_dir() {
                return Err(Failure::Usage(format!(
                    "{} is a folder, not a file",
                    a.file
                )));
            }
            Some(m.len())
        }
        Input::Stdin => None,
    };
    let reporter = LineReporter::new(total, g.quiet);
    let data = DataDir::new(&g.data);
    let result = crate::ingest::ingest(config, &data, input, &reporter);
    reporter.finish();
    let r = result.map_err(|e| Failure::Other(e.into()))?;
    if let Some(holder) = &r.handed_to {
        eprintln!(
            "{} is being written by {holder}: {} document{} handed over to it{}, searchable once it indexes them (within seconds){}",
            g.data.display(),
            r.queued,
            plural(r.queued as usize),
            r.inbox_file
                .as_ref()
                .map(|f| format!(" ({})", f.display()))
                .unwrap_or_default(),
            skipped(r.bad_lines, "; ")
        );
        return Ok(if r.bad_lines > 0 {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        });
    }
    if !g.quiet {
        eprintln!(
            "ingested {} line{} in {:.1}s: {} new, {} updated, {} unchanged{}{}{}",
            r.lines,
            plural(r.lines as usize),
            r.seconds,
            r.added,
            r.updated,
            r.unchanged,
            if r.copies > 0 {
                format!(" ({} copies of texts already seen)", r.copies)
            } else {
                String::new()
            },
            skipped(r.bad_lines, ", "),
            if r.failed > 0 {
                format!(
                    ", {} document{} refused",
                    r.failed,
                    plural(r.failed as usize)
                )
            } else {
                String::new()
            },
        );
    }
    Ok(if r.bad_lines + r.failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
