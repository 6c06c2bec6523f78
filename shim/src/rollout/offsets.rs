//! How far each rollout has been read, so every `Stop` reads only the new lines.
//!
//! The store is one small JSON file next to the log, `<log dir>/.rollout-offsets.json`,
//! mapping a transcript path to the parser [`State`] after the last read (the byte offset of
//! the first unread line, the session, the calls still waiting for an outcome). Hooks of a
//! session and of its subagents run concurrently, and `import` may run at the same time, so
//! every read-append-save cycle holds an exclusive lock on `<log dir>/.rollout-offsets.lock`
//! (a separate file: the store itself is replaced by rename, which would drop a lock held on
//! it). The store is written to a temporary file and renamed over the old one, so a reader
//! never sees half of it; a store that does not parse is started afresh, and the first read
//! of each rollout then filters out what the log already holds ([`crate::dedupe`]).

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use codex_contract::append::Appender;
use codex_contract::record::Record;
use fs2::FileExt;
use serde::{Deserialize, Serialize};

use super::State;
use crate::dedupe::Seen;

pub const STORE_FILE: &str = ".rollout-offsets.json";
pub const LOCK_FILE: &str = ".rollout-offsets.lock";

/// Entries not updated for this long are dropped (their sessions are long over; a resumed
/// one is read again from the start and deduplicated).
const PRUNE_AFTER: Duration = Duration::from_secs(30 * 24 * 3600);
/// At most this many transcripts are remembered (the most recently updated).
const MAX_ENTRIES: usize = 2000;

#[derive(Serialize, Deserialize, Default, Debug)]
pub struct Store {
    #[serde(default)]
    pub v: u32,
    #[serde(default)]
    pub transcripts: BTreeMap<String, State>,
}

/// The store, loaded under its lock; dropped = unlocked.
pub struct Locked {
    lock: File,
    path: PathBuf,
    pub store: Store,
}

fn dir_of(log: &Path) -> PathBuf {
    match log.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Path of the store for the log at `log`.
pub fn store_path(log: &Path) -> PathBuf {
    dir_of(log).join(STORE_FILE)
}

pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Locked {
    /// Locks and loads the store of the log at `log`, waiting for the lock until `deadline`.
    pub fn acquire(log: &Path, deadline: Instant) -> Result<Locked, String> {
        let dir = dir_of(log);
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let lock_path = dir.join(LOCK_FILE);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| format!("cannot open {}: {e}", lock_path.display()))?;
        let mut pause = Duration::from_micros(100);
        loop {
            match FileExt::try_lock_exclusive(&lock) {
                Ok(()) => break,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock || is_contended(&e) => {
                    if Instant::now() >= deadline {
                        return Err(format!(
                            "{} is held by another codex-shim; rollout not read this time (the next Stop or `codex-shim import` will)",
                            lock_path.display()
                        ));
                    }
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(10));
                }
                Err(e) => return Err(format!("cannot lock {}: {e}", lock_path.display())),
            }
        }
        let path = dir.join(STORE_FILE);
        let store = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_default(),
            Err(_) => Store::default(),
        };
        Ok(Locked { lock, path, store })
    }

    /// Writes the store back (pruned), atomically.
    pub fn save(&mut self) -> io::Result<()> {
        let now = now_secs();
        let horizon = now.saturating_sub(PRUNE_AFTER.as_secs());
        self.store.transcripts.retain(|_, s| s.updated >= horizon);
        if self.store.transcripts.len() > MAX_ENTRIES {
            let mut by_age: Vec<(u64, String)> = self
                .store
                .transcripts
                .iter()
                .map(|(k, s)| (s.updated, k.clone()))
                .collect();
            by_age.sort();
            let excess = by_age.len() - MAX_ENTRIES;
            for (_, k) in by_age.into_iter().take(excess) {
                self.store.transcripts.remove(&k);
            }
        }
        self.store.v = 1;
        let tmp = self
            .path
            .with_extension(format!("json.tmp{}", std::process::id()));
        let result = (|| {
            let mut f = File::create(&tmp)?;
            f.write_all(&serde_json::to_vec(&self.store).map_err(io::Error::other)?)?;
            f.write_all(b"\n")?;
            drop(f);
            std::fs::rename(&tmp, &self.path)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }
}

impl Drop for Locked {
    fn drop(&mut self) {
        let _ = FileExt::unlock(&self.lock);
    }
}

fn is_contended(e: &io::Error) -> bool {
    e.raw_os_error() == fs2::lock_contended_error().raw_os_error()
}

/// What one reconciliation did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reconciled {
    pub added: usize,
    pub duplicates: usize,
    pub lines: u64,
    pub unknown: u64,
    pub stopped_early: bool,
}

/// Reads the new lines of the rollout at `transcript` and appends their records to `log`,
/// under the store's lock, then saves the advanced offset. The first read of a transcript
/// the store does not know filters out records the log already holds (an earlier `import`,
/// a lost store). Reading stops at a line boundary at `deadline`. `ended`: the session is
/// over (`SessionEnd`), see [`super::read`].
pub fn reconcile(
    log: &Path,
    transcript: &Path,
    fallback_session: Option<&str>,
    deadline: Instant,
    lock_timeout: Duration,
    ended: bool,
) -> Result<Reconciled, String> {
    let mut locked = Locked::acquire(log, deadline)?;
    let key = transcript.to_string_lossy().into_owned();
    let known = locked.store.transcripts.get(&key).cloned();
    let fresh = known.is_none();
    let read = super::read(
        transcript,
        known.unwrap_or_default(),
        fallback_session,
        Some(deadline),
        ended,
    )
    .map_err(|e| format!("cannot read the rollout {}: {e}", transcript.display()))?;
    let mut out = Reconciled {
        lines: read.stats.lines,
        unknown: read.stats.unknown,
        stopped_early: read.stopped_early,
        ..Reconciled::default()
    };
    let mut records: Vec<Record> = read.records;
    if fresh && !records.is_empty() {
        let session = read.state.session_id.as_deref().or(fallback_session);
        let mut seen =
            Seen::load(log, session).map_err(|e| format!("cannot read {}: {e}", log.display()))?;
        let before = records.len();
        records.retain(|r| seen.insert(r));
        out.duplicates = before - records.len();
    }
    if !records.is_empty() {
        Appender::open(log)
            .and_then(|a| a.lock_timeout(lock_timeout).append(&records))
            .map_err(|e| e.to_string())?;
    }
    out.added = records.len();
    let mut state = read.state;
    state.updated = now_secs();
    locked.store.transcripts.insert(key, state);
    locked
        .save()
        .map_err(|e| format!("cannot save {}: {e}", store_path(log).display()))?;
    Ok(out)
}
