//! State file IO: `.codex/improvement-state.json` (format: `codex_contract::state`).
//!
//! - **Locked**: an applied run holds an exclusive `flock` on
//!   `.codex/improvement-state.json.lock` from before it reads the state until after it wrote
//!   it, so two runs (a cron overlap, a manual run during CI) cannot both process a run ID.
//!   A second run fails fast instead of waiting: the first one will have processed the run.
//! - **Atomic**: the new state is written to a temporary sibling, fsynced and renamed over
//!   the old one (then the folder is fsynced), so a crash leaves the old or the new file,
//!   never half of one. Before that, the previous good state is copied (the same way) to
//!   `.codex/improvement-state.json.bak`.
//! - **Recoverable**: a state file that does not parse (a bad merge, a manual edit) is
//!   replaced by the backup, and every run ID that the corrupt file, the backup or the run log
//!   still name is kept as processed, so no run is published twice. The corrupt bytes are
//!   kept as `.corrupt` for a person to look at. A state written by a *newer* analyzer is
//!   never overwritten: that is an error asking for an upgrade.
//!
//! Dry runs read without locking and write nothing.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{bail, Context};
use codex_contract::state::{State, StateError};
use fs2::FileExt;
use regex::Regex;

/// The state file and its siblings.
#[derive(Clone, Debug)]
pub struct StateFiles {
    pub path: PathBuf,
    pub backup: PathBuf,
    pub lock: PathBuf,
    pub corrupt: PathBuf,
    tmp: PathBuf,
}

impl StateFiles {
    pub fn new(path: PathBuf) -> StateFiles {
        let sibling = |suffix: &str| {
            let mut s = path.clone().into_os_string();
            s.push(suffix);
            PathBuf::from(s)
        };
        StateFiles {
            backup: sibling(".bak"),
            lock: sibling(".lock"),
            corrupt: sibling(".corrupt"),
            tmp: sibling(".tmp"),
            path,
        }
    }
}

/// How the state was obtained.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoadOutcome {
    /// No state file yet: a first run.
    Fresh,
    /// The state file parsed.
    Loaded,
    /// The state file was missing or corrupt and the backup was used.
    RecoveredFromBackup { reason: String },
    /// The state file was corrupt and no usable backup existed: history starts over, but
    /// the processed run IDs that could be salvaged are kept.
    RecoveredEmpty { reason: String },
}

impl LoadOutcome {
    pub fn label(&self) -> &'static str {
        match self {
            LoadOutcome::Fresh => "fresh",
            LoadOutcome::Loaded => "loaded",
            LoadOutcome::RecoveredFromBackup { .. } => "recovered_from_backup",
            LoadOutcome::RecoveredEmpty { .. } => "recovered_empty",
        }
    }

    pub fn is_recovery(&self) -> bool {
        matches!(
            self,
            LoadOutcome::RecoveredFromBackup { .. } | LoadOutcome::RecoveredEmpty { .. }
        )
    }
}

/// A loaded state and how it was loaded.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub state: State,
    pub outcome: LoadOutcome,
    /// Human notes about the recovery (what was salvaged from where).
    pub notes: Vec<String>,
    /// The corrupt file's bytes, to be kept aside when the run is applied.
    pub corrupt_bytes: Option<Vec<u8>>,
}

/// Run IDs named in `text` (any `YYYY-MM-DD-AM|PM`).
fn run_ids_in(text: &str) -> Vec<String> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| Regex::new(r"\b\d{4}-\d{2}-\d{2}-(?:AM|PM)\b").expect("valid"));
    re.find_iter(text)
        .map(|m| m.as_str().to_string())
        .filter(|s| codex_contract::runid::is_run_id(s))
        .collect()
}

/// Run IDs that have a section in the run log (`## Run <id>` headings).
pub fn run_ids_in_log(log_text: &str) -> Vec<String> {
    log_text
        .lines()
        .filter_map(|l| l.strip_prefix("## Run "))
        .filter_map(|rest| rest.split_whitespace().next())
        .filter(|id| codex_contract::runid::is_run_id(id))
        .map(str::to_string)
        .collect()
}

/// Reads the state (no lock, no writes). Recovery happens in memory; see the module docs.
pub fn load(files: &StateFiles, run_log: &Path) -> anyhow::Result<Loaded> {
    let read = |p: &Path| -> anyhow::Result<Option<Vec<u8>>> {
        match std::fs::read(p) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", p.display())),
        }
    };
    let current = read(&files.path)?;
    let (reason, corrupt_bytes) = match current {
        Some(bytes) => match State::from_bytes(&bytes) {
            Ok(state) => {
                return Ok(Loaded {
                    state,
                    outcome: LoadOutcome::Loaded,
                    notes: Vec::new(),
                    corrupt_bytes: None,
                })
            }
            Err(e @ StateError::TooNew { .. }) => {
                bail!("{}: {e}", files.path.display())
            }
            Err(e) => (
                format!("{} is corrupt ({e})", files.path.display()),
                Some(bytes),
            ),
        },
        None => match read(&files.backup)? {
            // No state and no backup: a first run.
            None => {
                return Ok(Loaded {
                    state: State::default(),
                    outcome: LoadOutcome::Fresh,
                    notes: Vec::new(),
                    corrupt_bytes: None,
                })
            }
            Some(_) => (
                format!(
                    "{} is missing but its backup exists (an interrupted write?)",
                    files.path.display()
                ),
                None,
            ),
        },
    };
    let mut notes = vec![reason.clone()];
    let (mut state, outcome) = match read(&files.backup)?.map(|b| State::from_bytes(&b)) {
        Some(Ok(s)) => {
            notes.push(format!("recovered from {}", files.backup.display()));
            (s, LoadOutcome::RecoveredFromBackup { reason })
        }
        Some(Err(e @ StateError::TooNew { .. })) => bail!("{}: {e}", files.backup.display()),
        Some(Err(e)) => {
            notes.push(format!(
                "the backup {} is unusable too ({e}); starting a new history",
                files.backup.display()
            ));
            (State::default(), LoadOutcome::RecoveredEmpty { reason })
        }
        None => {
            notes.push(format!(
                "no backup at {}; starting a new history",
                files.backup.display()
            ));
            (State::default(), LoadOutcome::RecoveredEmpty { reason })
        }
    };
    // Salvage processed run IDs: a run named by the corrupt file or by the run log was
    // applied, and must stay skipped.
    let before = state.processed_runs.len();
    if let Some(bytes) = &corrupt_bytes {
        state
            .processed_runs
            .extend(run_ids_in(&String::from_utf8_lossy(bytes)));
    }
    if let Some(log) = read(run_log)? {
        state
            .processed_runs
            .extend(run_ids_in_log(&String::from_utf8_lossy(&log)));
    }
    let salvaged = state.processed_runs.len() - before;
    if salvaged > 0 {
        notes.push(format!(
            "kept {salvaged} more processed run ID(s) named by the damaged file or the run log"
        ));
    }
    if let Some(last) = state.processed_runs.iter().next_back() {
        if state.last_run.as_deref().is_none_or(|l| l < last.as_str()) {
            state.last_run = Some(last.clone());
        }
    }
    Ok(Loaded {
        state,
        outcome,
        notes,
        corrupt_bytes,
    })
}

/// The exclusive lock of an applied run; released on drop.
#[derive(Debug)]
pub struct StateLock {
    file: File,
}

impl Drop for StateLock {
    fn drop(&mut self) {
        let _ = FileExt::unlock(&self.file);
    }
}

/// Takes the run lock, creating the state's folder when needed. Fails fast when another
/// run holds it.
pub fn lock(files: &StateFiles) -> anyhow::Result<StateLock> {
    if let Some(dir) = files.lock.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&files.lock)
        .with_context(|| format!("cannot open the lock file {}", files.lock.display()))?;
    match FileExt::try_lock_exclusive(&file) {
        Ok(()) => Ok(StateLock { file }),
        Err(e)
            if e.kind() == std::io::ErrorKind::WouldBlock
                || e.raw_os_error() == fs2::lock_contended_error().raw_os_error() =>
        {
            bail!(
                "another codex-analyzer run holds {}; it is processing a run right now. \
                 Wait for it to finish (this run ID will then be skipped) or, if no run is \
                 active, check for a stuck process",
                files.lock.display()
            )
        }
        Err(e) => Err(e).with_context(|| format!("cannot lock {}", files.lock.display())),
    }
}

/// Writes `bytes` to `path` atomically: temp sibling, fsync, rename, fsync of the folder.
pub fn write_atomic(path: &Path, tmp: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    {
        let mut f =
            File::create(tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
        f.write_all(bytes)
            .and_then(|_| f.sync_all())
            .with_context(|| format!("cannot write {}", tmp.display()))?;
    }
    std::fs::rename(tmp, path)
        .with_context(|| format!("cannot replace {} with {}", path.display(), tmp.display()))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        // Make the rename itself durable; not every platform can fsync a folder.
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// Saves the state: the previous *good* state becomes the backup, then the new state
/// replaces it atomically. A corrupt previous file is kept as `.corrupt`, never as the
/// backup. Call with the lock held.
pub fn save(files: &StateFiles, loaded: &Loaded, state: &State) -> anyhow::Result<()> {
    if let Some(dir) = files.path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    if let Some(bad) = &loaded.corrupt_bytes {
        write_atomic(&files.corrupt, &files.tmp, bad)?;
    } else if loaded.outcome == LoadOutcome::Loaded {
        let previous = std::fs::read(&files.path)
            .with_context(|| format!("cannot read {}", files.path.display()))?;
        write_atomic(&files.backup, &files.tmp, &previous)?;
    }
    write_atomic(&files.path, &files.tmp, &state.to_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use codex_contract::state::RunSummary;

    fn files(dir: &Path) -> StateFiles {
        StateFiles::new(dir.join(".codex/improvement-state.json"))
    }

    fn with_run(id: &str) -> State {
        let mut s = State::default();
        s.record_run(RunSummary {
            run_id: id.into(),
            now: "x".into(),
            ..RunSummary::default()
        });
        s
    }

    #[test]
    fn fresh_then_saved_then_backed_up() {
        let dir = tempfile::tempdir().unwrap();
        let f = files(dir.path());
        let log = dir.path().join("log.md");
        let l = load(&f, &log).unwrap();
        assert_eq!(l.outcome, LoadOutcome::Fresh);
        let _lock = lock(&f).unwrap();
        save(&f, &l, &with_run("2026-01-01-AM")).unwrap();
        assert!(!f.backup.exists(), "no previous state, no backup");
        let l = load(&f, &log).unwrap();
        assert_eq!(l.outcome, LoadOutcome::Loaded);
        save(&f, &l, &with_run("2026-01-01-PM")).unwrap();
        let bak = State::from_bytes(&std::fs::read(&f.backup).unwrap()).unwrap();
        assert!(bak.processed_runs.contains("2026-01-01-AM"));
        assert!(!f.tmp.exists());
    }

    #[test]
    fn corrupt_state_recovers_backup_and_salvages_run_ids() {
        let dir = tempfile::tempdir().unwrap();
        let f = files(dir.path());
        std::fs::create_dir_all(f.path.parent().unwrap()).unwrap();
        std::fs::write(&f.backup, with_run("2026-01-01-AM").to_bytes()).unwrap();
        std::fs::write(
            &f.path,
            "<<<<<<< HEAD\n{\"processed_runs\": [\"2026-01-01-AM\", \"2026-01-01-PM\"]\n=======\n",
        )
        .unwrap();
        let log = dir.path().join("log.md");
        std::fs::write(
            &log,
            "# Log\n\n## Run 2026-01-02-AM\n\ntext 2026-01-09-AM\n",
        )
        .unwrap();
        let l = load(&f, &log).unwrap();
        assert!(
            matches!(l.outcome, LoadOutcome::RecoveredFromBackup { .. }),
            "{:?}",
            l.outcome
        );
        let ids: Vec<&str> = l.state.processed_runs.iter().map(String::as_str).collect();
        // From the backup, the corrupt file and the log heading (not from log prose).
        assert_eq!(ids, ["2026-01-01-AM", "2026-01-01-PM", "2026-01-02-AM"]);
        assert_eq!(l.state.last_run.as_deref(), Some("2026-01-02-AM"));
        let _lock = lock(&f).unwrap();
        save(&f, &l, &l.state).unwrap();
        // The corrupt bytes are kept aside; the backup still holds the last good state.
        assert!(std::fs::read_to_string(&f.corrupt)
            .unwrap()
            .starts_with("<<<<<<<"));
        let bak = State::from_bytes(&std::fs::read(&f.backup).unwrap()).unwrap();
        assert_eq!(bak.processed_runs.len(), 1);
    }

    #[test]
    fn corrupt_without_backup_starts_over_keeping_ids() {
        let dir = tempfile::tempdir().unwrap();
        let f = files(dir.path());
        std::fs::create_dir_all(f.path.parent().unwrap()).unwrap();
        std::fs::write(&f.path, "{\"processed_runs\": [\"2026-01-01-AM\"").unwrap();
        let l = load(&f, &dir.path().join("none.md")).unwrap();
        assert!(matches!(l.outcome, LoadOutcome::RecoveredEmpty { .. }));
        assert!(l.state.processed_runs.contains("2026-01-01-AM"));
    }

    #[test]
    fn newer_state_is_an_error_not_a_recovery() {
        let dir = tempfile::tempdir().unwrap();
        let f = files(dir.path());
        std::fs::create_dir_all(f.path.parent().unwrap()).unwrap();
        std::fs::write(&f.path, "{\"schema_version\": 9}").unwrap();
        let err = load(&f, &dir.path().join("none.md")).unwrap_err();
        assert!(format!("{err:#}").contains("upgrade"), "{err:#}");
    }

    #[test]
    fn second_lock_fails_fast() {
        let dir = tempfile::tempdir().unwrap();
        let f = files(dir.path());
        let first = lock(&f).unwrap();
        let err = lock(&f).unwrap_err();
        assert!(
            err.to_string().contains("another codex-analyzer run"),
            "{err}"
        );
        drop(first);
        lock(&f).unwrap();
    }
}
