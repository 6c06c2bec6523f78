//! The append writer: one record, one line, one `write`, under an exclusive lock.
//!
//! Every writer (hooks running in parallel, exec wrappers in CI, imports) appends to the
//! same file, so a line must never interleave with another. The file is opened `O_APPEND`
//! (the kernel positions every write at the end), locked with an exclusive `flock` (fs2),
//! written with a single `write` of the whole line, and unlocked. The lock also covers the
//! cases where one `write` is not enough (short writes on signals, full disks, network
//! filesystems): the rest of the line is written before the lock is released.
//!
//! Records are bounded ([`MAX_RECORD_BYTES`]) by shortening their excerpts, never by dropping
//! the record.
//!
//! **Torn lines.** A writer killed between two partial writes (or a full disk) leaves a last
//! line without its newline. Appending straight after it would glue the next record onto the
//! fragment, and every reader would then skip the merged line: the first record after a crash
//! would be lost silently. So, under the lock, a writer looks at the file's last byte and, when
//! it is not a newline, starts its own write with one. The fragment becomes a line of its own,
//! which readers skip and count as truncated, and the new record reads back. The check is one
//! `fstat` and one one-byte `pread`, a few microseconds.
//!
//! **Durability policy.** No `fsync` per record: the shim sits on every tool call's path and
//! an fsync costs milliseconds. A record reaches the page cache before the shim exits, so it
//! survives the process and the agent crashing; a machine crash can lose the last records,
//! and can leave a truncated last line, which the reader skips and counts. Bulk writers
//! (`import`) call [`Appender::sync`] once at the end.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fs2::FileExt;

use crate::record::Record;

/// The largest line a writer produces, newline included.
pub const MAX_RECORD_BYTES: usize = 64 * 1024;

/// How long a writer waits for the lock by default before giving up (and warning).
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    #[error("cannot create {}: {source}", path.display())]
    CreateDir { path: PathBuf, source: io::Error },
    #[error("cannot open {} for appending: {source}", path.display())]
    Open { path: PathBuf, source: io::Error },
    #[error("the lock on {} was held for more than {:?} by another writer", path.display(), timeout)]
    LockTimeout { path: PathBuf, timeout: Duration },
    #[error("cannot lock {}: {source}", path.display())]
    Lock { path: PathBuf, source: io::Error },
    #[error("cannot write to {}: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
}

/// Serializes a record into one bounded line (with its newline).
///
/// When the JSON is over [`MAX_RECORD_BYTES`], the output, stderr, input and prompt excerpt
/// are shortened (head and tail kept) step by step until it fits.
pub fn encode(record: &Record) -> Vec<u8> {
    let mut line = serde_json::to_vec(record).expect("records always serialize");
    if line.len() < MAX_RECORD_BYTES {
        line.push(b'\n');
        return line;
    }
    let mut r = record.clone();
    let mut budget = MAX_RECORD_BYTES / 2;
    loop {
        if let Some(o) = r.output.as_mut() {
            o.shrink(budget);
        }
        if let Some(o) = r.stderr.as_mut() {
            o.shrink(budget / 2);
        }
        if let Some(i) = r.input.as_mut() {
            if i.len() > budget / 2 {
                *i = crate::record::shorten(i, budget / 2);
            }
        }
        if let Some(p) = r.prompt_excerpt.as_mut() {
            if p.len() > budget / 4 {
                *p = crate::record::shorten(p, budget / 4);
            }
        }
        for s in [&mut r.reason, &mut r.cwd] {
            if let Some(v) = s.as_mut() {
                if v.len() > 4096 {
                    *v = crate::record::shorten(v, 4096);
                }
            }
        }
        line = serde_json::to_vec(&r).expect("records always serialize");
        // JSON escaping can grow text up to 6x: keep shrinking until it fits.
        if line.len() < MAX_RECORD_BYTES || budget < 64 {
            break;
        }
        budget /= 2;
    }
    line.push(b'\n');
    line
}

/// An open log file. One-shot writers use [`append`]; bulk writers keep an `Appender`.
pub struct Appender {
    file: File,
    path: PathBuf,
    lock_timeout: Duration,
}

impl Appender {
    /// Opens (creating the file and its folder when missing) for appending.
    pub fn open(path: &Path) -> Result<Appender, AppendError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.exists() {
                std::fs::create_dir_all(dir).map_err(|source| AppendError::CreateDir {
                    path: dir.to_path_buf(),
                    source,
                })?;
            }
        }
        // Readable too: the torn-line check reads the last byte under the lock.
        let file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(path)
            .map_err(|source| AppendError::Open {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(Appender {
            file,
            path: path.to_path_buf(),
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
        })
    }

    /// Sets how long to wait for the lock.
    pub fn lock_timeout(mut self, t: Duration) -> Appender {
        self.lock_timeout = t;
        self
    }

    /// Appends records, each as one `write` of one line, under one lock.
    pub fn append(&mut self, records: &[Record]) -> Result<(), AppendError> {
        let lines: Vec<Vec<u8>> = records.iter().map(encode).collect();
        self.append_lines(&lines)
    }

    /// Appends already-encoded lines (each ending in `\n`) under one lock.
    pub fn append_lines(&mut self, lines: &[Vec<u8>]) -> Result<(), AppendError> {
        self.lock()?;
        let result = self.write_locked(lines);
        // Unlock explicitly through fs2: std's `File::unlock` has the same name.
        let _ = FileExt::unlock(&self.file);
        result.map_err(|source| AppendError::Write {
            path: self.path.clone(),
            source,
        })
    }

    /// Writes the lines; the lock is held. The first line starts with a newline when the file
    /// ends in a torn line (see the module documentation).
    fn write_locked(&mut self, lines: &[Vec<u8>]) -> io::Result<()> {
        let mut lines = lines.iter();
        if ends_in_torn_line(&self.file)? {
            let first = lines.next().map(Vec::as_slice).unwrap_or_default();
            let mut joined = Vec::with_capacity(first.len() + 1);
            joined.push(b'\n');
            joined.extend_from_slice(first);
            write_line(&mut self.file, &joined)?;
        }
        lines.try_for_each(|l| write_line(&mut self.file, l))
    }

    /// Flushes the file to disk (bulk writers, once at the end).
    pub fn sync(&self) -> Result<(), AppendError> {
        self.file.sync_data().map_err(|source| AppendError::Write {
            path: self.path.clone(),
            source,
        })
    }

    fn lock(&self) -> Result<(), AppendError> {
        let start = Instant::now();
        let mut pause = Duration::from_micros(50);
        loop {
            match FileExt::try_lock_exclusive(&self.file) {
                Ok(()) => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock || is_contended(&e) => {
                    if start.elapsed() >= self.lock_timeout {
                        return Err(AppendError::LockTimeout {
                            path: self.path.clone(),
                            timeout: self.lock_timeout,
                        });
                    }
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(5));
                }
                Err(source) => {
                    return Err(AppendError::Lock {
                        path: self.path.clone(),
                        source,
                    })
                }
            }
        }
    }
}

fn is_contended(e: &io::Error) -> bool {
    e.raw_os_error() == fs2::lock_contended_error().raw_os_error()
}

/// Whether the file is non-empty and its last byte is not a newline.
fn ends_in_torn_line(file: &File) -> io::Result<bool> {
    let len = file.metadata()?.len();
    if len == 0 {
        return Ok(false);
    }
    let mut last = [0u8; 1];
    read_exact_at(file, &mut last, len - 1)?;
    Ok(last[0] != b'\n')
}

#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    // `seek_read` moves the cursor, which does not matter: appends always go to the end.
    let n = std::os::windows::fs::FileExt::seek_read(file, buf, offset)?;
    if n == buf.len() {
        Ok(())
    } else {
        Err(io::ErrorKind::UnexpectedEof.into())
    }
}

/// One `write` for the whole line; the rest only after a short write (still under the lock).
fn write_line(file: &mut File, line: &[u8]) -> io::Result<()> {
    let mut rest = line;
    while !rest.is_empty() {
        match file.write(rest) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => rest = &rest[n..],
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Appends one record to the log at `path`: open, lock, one write, unlock, close.
pub fn append(path: &Path, record: &Record) -> Result<(), AppendError> {
    Appender::open(path)?.append(std::slice::from_ref(record))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Excerpt, Phase, Source};

    #[test]
    fn oversized_record_is_shortened_not_dropped() {
        let mut r = Record::new(Source::Exec, Phase::Outcome);
        r.call_id = Some("c".into());
        let big = "x\"\\\u{1}".repeat(200_000);
        r.output = Some(Excerpt::new(&big, 1 << 20));
        r.stderr = Some(Excerpt::new(&big, 1 << 20));
        r.input = Some(big.clone());
        let line = encode(&r);
        assert!(line.len() <= MAX_RECORD_BYTES, "{}", line.len());
        assert_eq!(*line.last().unwrap(), b'\n');
        let back: Record = serde_json::from_slice(&line[..line.len() - 1]).unwrap();
        assert_eq!(back.output.unwrap().len, big.len() as u64);
        assert_eq!(back.call_id.as_deref(), Some("c"));
    }

    #[test]
    fn creates_folder_and_appends_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".codex/toolcalls.ndjson");
        for i in 0..3 {
            let mut r = Record::new(Source::Exec, Phase::Outcome);
            r.call_id = Some(format!("c{i}"));
            append(&path, &r).unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 3);
    }

    #[test]
    fn a_record_after_a_torn_line_starts_a_line_of_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.ndjson");
        let mut first = Record::new(Source::Exec, Phase::Outcome);
        first.call_id = Some("before".into());
        let whole = encode(&first);
        // A crash mid-write: a whole record, then half of the next one, no newline.
        let mut torn = whole.clone();
        torn.extend_from_slice(&whole[..whole.len() / 2]);
        std::fs::write(&path, &torn).unwrap();
        for id in ["after-1", "after-2"] {
            let mut r = Record::new(Source::Exec, Phase::Outcome);
            r.call_id = Some(id.into());
            append(&path, &r).unwrap();
        }
        let mut reader = crate::read::open(&path).unwrap();
        let ids: Vec<String> = reader.by_ref().filter_map(|r| r.call_id).collect();
        assert_eq!(ids, ["before", "after-1", "after-2"]);
        let stats = reader.stats();
        assert_eq!(stats.skipped, 1, "{stats:?}");
        assert_eq!(stats.problems[0].kind, crate::read::ProblemKind::Truncated);
        // A clean file gets no extra newline.
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.matches("\n\n").count(), 0);
        assert_eq!(text.lines().count(), 4);
    }

    #[test]
    fn lock_timeout_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.ndjson");
        let holder = Appender::open(&path).unwrap();
        FileExt::lock_exclusive(&holder.file).unwrap();
        let mut other = Appender::open(&path)
            .unwrap()
            .lock_timeout(Duration::from_millis(30));
        let err = other
            .append(&[Record::new(Source::Exec, Phase::Outcome)])
            .unwrap_err();
        assert!(matches!(err, AppendError::LockTimeout { .. }), "{err}");
        assert!(err.to_string().contains("held for more than"));
    }
}
