//! `codex-shim import PATH...`: backfill the log from Codex session rollouts — files, or
//! folders searched recursively for `rollout-*.jsonl` (e.g. `~/.codex/sessions`).
//!
//! Import is idempotent: it skips every record the log already holds (same content key, see
//! [`crate::dedupe`]), whether an earlier import or the hooks' own reconciliation wrote it,
//! so importing twice, or importing a session the hooks already captured, adds nothing. It
//! also records in the offsets store how far it read each file, so the hooks of a resumed
//! session continue from there.
//!
//! With `--exec-json` it reads a `codex exec --json` stream on stdin instead
//! ([`crate::exec_json`]).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use codex_contract::append::Appender;
use codex_contract::record::Record;

use crate::dedupe::Seen;
use crate::progress::Progress;
use crate::rollout::{self, offsets};

pub struct ImportOptions {
    pub paths: Vec<PathBuf>,
    pub log: Option<PathBuf>,
    pub exec_json: bool,
}

/// Totals of one import.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub files: u64,
    pub lines: u64,
    pub added: u64,
    pub duplicates: u64,
    pub unknown: u64,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} files, {} lines, {} records added, {} duplicates skipped, {} unknown lines",
            self.files, self.lines, self.added, self.duplicates, self.unknown
        )
    }
}

/// Show a progress bar above this many bytes of rollouts (and only on a terminal).
const PROGRESS_MIN_BYTES: u64 = 8 * 1024 * 1024;
/// Records are appended in batches of this many (one lock each).
const BATCH: usize = 512;

/// Runs `codex-shim import`; returns the exit code.
pub fn run(opts: &ImportOptions) -> i32 {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let log = codex_contract::paths::log_path(opts.log.as_deref(), &cwd);
    if opts.exec_json {
        if !opts.paths.is_empty() {
            eprintln!("codex-shim import: --exec-json reads the stream on stdin; do not give paths with it");
            return 2;
        }
        return match crate::exec_json::run(&log, crate::exec::lock_timeout()) {
            Ok(stats) => {
                eprintln!(
                    "codex-shim import: exec-json stream: {} lines, {} records written to {}, {} unknown lines",
                    stats.lines,
                    stats.records,
                    log.display(),
                    stats.unknown
                );
                0
            }
            Err(e) => {
                eprintln!("codex-shim import: reading stdin failed: {e}");
                1
            }
        };
    }
    if opts.paths.is_empty() {
        eprintln!("codex-shim import: give rollout files or folders, e.g. `codex-shim import ~/.codex/sessions`, or --exec-json");
        return 2;
    }
    let files = match collect(&opts.paths) {
        Ok(f) => f,
        Err(msg) => {
            eprintln!("codex-shim import: {msg}");
            return 2;
        }
    };
    match import_files(&files, &log) {
        Ok(summary) => {
            eprintln!("codex-shim import: {summary} (log: {})", log.display());
            0
        }
        Err(msg) => {
            eprintln!("codex-shim import: {msg}");
            1
        }
    }
}

/// The rollout files named by `paths`: files as given, folders searched recursively for
/// `rollout-*.jsonl`, in sorted order, each once.
pub fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| format!("{}: {e}", p.display()))?;
        if meta.is_dir() {
            let mut found = Vec::new();
            walk(p, &mut found).map_err(|e| format!("{}: {e}", p.display()))?;
            found.sort();
            files.extend(found);
        } else {
            files.push(p.clone());
        }
    }
    let mut seen = std::collections::HashSet::new();
    files.retain(|f| seen.insert(f.canonicalize().unwrap_or_else(|_| f.clone())));
    Ok(files)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(&path, out)?;
        } else if kind.is_file()
            && path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("rollout-") && n.ends_with(".jsonl"))
        {
            out.push(path);
        }
    }
    Ok(())
}

/// Imports `files` into the log at `log`.
pub fn import_files(files: &[PathBuf], log: &Path) -> Result<Summary, String> {
    let mut seen =
        Seen::load(log, None).map_err(|e| format!("cannot read {}: {e}", log.display()))?;
    let total_bytes: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let mut bar = (std::io::stderr().is_terminal() && total_bytes >= PROGRESS_MIN_BYTES)
        .then(|| Progress::new(total_bytes, files.len()));
    let mut appender = Appender::open(log)
        .map_err(|e| e.to_string())?
        .lock_timeout(Duration::from_secs(30));
    let mut summary = Summary::default();
    for file in files {
        let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
        if let Some(b) = &mut bar {
            b.file(&file.file_name().unwrap_or_default().to_string_lossy());
        }
        let mut locked = offsets::Locked::acquire(log, Instant::now() + Duration::from_secs(30))?;
        let read = rollout::read(file, rollout::State::default(), None, None, true)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        summary.files += 1;
        summary.lines += read.stats.lines;
        summary.unknown += read.stats.unknown;
        let mut batch: Vec<Record> = Vec::with_capacity(BATCH);
        for r in read.records {
            if seen.insert(&r) {
                batch.push(r);
                if batch.len() >= BATCH {
                    appender.append(&batch).map_err(|e| e.to_string())?;
                    summary.added += batch.len() as u64;
                    batch.clear();
                }
            } else {
                summary.duplicates += 1;
            }
        }
        if !batch.is_empty() {
            appender.append(&batch).map_err(|e| e.to_string())?;
            summary.added += batch.len() as u64;
        }
        // Remember how far the file was read, for the hooks of a resumed session — keyed
        // like the hooks key it (the path Codex hands them is absolute).
        let key = std::path::absolute(file)
            .unwrap_or_else(|_| file.clone())
            .to_string_lossy()
            .into_owned();
        let newer = locked
            .store
            .transcripts
            .get(&key)
            .is_none_or(|s| s.offset < read.state.offset);
        if newer {
            let mut state = read.state;
            state.updated = offsets::now_secs();
            locked.store.transcripts.insert(key, state);
            locked
                .save()
                .map_err(|e| format!("cannot save {}: {e}", offsets::store_path(log).display()))?;
        }
        drop(locked);
        if let Some(b) = &mut bar {
            b.advance(size);
        }
    }
    if let Some(b) = bar {
        b.finish();
    }
    appender.sync().map_err(|e| e.to_string())?;
    Ok(summary)
}
