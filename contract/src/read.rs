//! The tolerant reader: streams records in constant memory and never panics.
//!
//! Logs are written by many processes over months, some killed mid-write, some by older or
//! newer versions. The reader skips and counts what it cannot use — malformed JSON,
//! truncated last lines, non-UTF-8 bytes, lines over [`MAX_LINE_BYTES`] — and reports the
//! first [`MAX_PROBLEMS`] with their line numbers, so one bad line never hides the rest.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::Path;

use serde::Serialize;

use crate::record::Record;

/// Lines longer than this are skipped without being held in memory.
pub const MAX_LINE_BYTES: usize = 1 << 20;
/// How many problems are kept with their line numbers (all are counted).
pub const MAX_PROBLEMS: usize = 100;

#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    Malformed,
    NotUtf8,
    Oversized,
    Truncated,
}

#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub line: u64,
    pub kind: ProblemKind,
    pub detail: String,
}

#[derive(Serialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// Lines seen (blank lines included).
    pub lines: u64,
    /// Records returned.
    pub records: u64,
    /// Lines skipped.
    pub skipped: u64,
    /// The first problems, with line numbers.
    pub problems: Vec<Problem>,
}

impl ReadStats {
    fn problem(&mut self, line: u64, kind: ProblemKind, detail: String) {
        self.skipped += 1;
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(Problem { line, kind, detail });
        }
    }
}

/// An iterator over the records of a log.
pub struct RecordReader<R> {
    inner: R,
    buf: Vec<u8>,
    stats: ReadStats,
    done: bool,
    /// Bytes consumed so far, and where the line in `buf` started.
    consumed: u64,
    line_start: u64,
    /// The underlying read error that ended the stream, if any.
    pub error: Option<io::Error>,
}

impl<R: BufRead> RecordReader<R> {
    pub fn new(inner: R) -> RecordReader<R> {
        RecordReader {
            inner,
            buf: Vec::with_capacity(4096),
            stats: ReadStats::default(),
            done: false,
            consumed: 0,
            line_start: 0,
            error: None,
        }
    }

    pub fn stats(&self) -> &ReadStats {
        &self.stats
    }

    pub fn into_stats(self) -> ReadStats {
        self.stats
    }

    /// Where the line of the record [`Iterator::next`] last returned starts, in bytes from
    /// the start of the reader: a stable key for the record (derived stores use it) and a
    /// resume point.
    pub fn last_offset(&self) -> u64 {
        self.line_start
    }

    /// Bytes read so far: after `next` returned a record, the end of its line.
    pub fn consumed(&self) -> u64 {
        self.consumed
    }

    /// The raw text of the record `next` last returned (without its line ending), so a
    /// derived store can keep the line exactly as written.
    pub fn last_line(&self) -> &[u8] {
        self.buf.strip_suffix(b"\r").unwrap_or(&self.buf)
    }

    /// Reads one line into `buf`, up to the cap. Returns whether it was oversized, or None at EOF.
    fn read_line(&mut self) -> io::Result<Option<bool>> {
        self.buf.clear();
        self.line_start = self.consumed;
        let mut oversized = false;
        let mut any = false;
        loop {
            let available = match self.inner.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if available.is_empty() {
                return Ok(any.then_some(oversized));
            }
            any = true;
            let (chunk, found) = match available.iter().position(|&b| b == b'\n') {
                Some(i) => (&available[..i], true),
                None => (available, false),
            };
            if !oversized {
                if self.buf.len() + chunk.len() > MAX_LINE_BYTES {
                    oversized = true;
                    self.buf.clear();
                } else {
                    self.buf.extend_from_slice(chunk);
                }
            }
            let used = chunk.len() + usize::from(found);
            self.inner.consume(used);
            self.consumed += used as u64;
            if found {
                return Ok(Some(oversized));
            }
        }
    }
}

impl<R: BufRead> Iterator for RecordReader<R> {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        while !self.done {
            let oversized = match self.read_line() {
                Ok(Some(x)) => x,
                Ok(None) => {
                    self.done = true;
                    return None;
                }
                Err(e) => {
                    self.done = true;
                    self.error = Some(e);
                    return None;
                }
            };
            self.stats.lines += 1;
            let n = self.stats.lines;
            if oversized {
                self.stats.problem(
                    n,
                    ProblemKind::Oversized,
                    format!("line longer than {MAX_LINE_BYTES} bytes"),
                );
                continue;
            }
            let line = self.buf.strip_suffix(b"\r").unwrap_or(&self.buf);
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let Ok(text) = std::str::from_utf8(line) else {
                self.stats
                    .problem(n, ProblemKind::NotUtf8, "line is not valid UTF-8".into());
                continue;
            };
            match serde_json::from_str::<Record>(text) {
                Ok(r) => {
                    self.stats.records += 1;
                    return Some(r);
                }
                Err(e) => {
                    // A record cut short is truncated whether or not a newline follows: a
                    // writer after a crash terminates the torn fragment (see `append`).
                    let kind = if e.is_eof() {
                        ProblemKind::Truncated
                    } else {
                        ProblemKind::Malformed
                    };
                    self.stats.problem(n, kind, e.to_string());
                }
            }
        }
        None
    }
}

/// Opens a log for reading.
pub fn open(path: &Path) -> io::Result<RecordReader<BufReader<File>>> {
    Ok(RecordReader::new(BufReader::with_capacity(
        1 << 16,
        File::open(path)?,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_and_counts_bad_lines() {
        let good = r#"{"v":1,"ts":"2026-01-01T00:00:00Z","source":"exec","phase":"outcome","call_id":"a"}"#;
        let mut data = Vec::new();
        data.extend_from_slice(good.as_bytes());
        data.extend_from_slice(b"\n\n{not json}\n");
        data.extend_from_slice(b"{\"v\":1,\"ts\":\"\xff\xfe\"}\n");
        data.extend_from_slice(&vec![b'a'; MAX_LINE_BYTES + 10]);
        data.push(b'\n');
        data.extend_from_slice(good.as_bytes());
        data.extend_from_slice(b"\r\n");
        data.extend_from_slice(&good.as_bytes()[..30]);
        let mut r = RecordReader::new(io::Cursor::new(data));
        let recs: Vec<Record> = r.by_ref().collect();
        assert_eq!(recs.len(), 2);
        let s = r.stats();
        assert_eq!(s.lines, 7);
        assert_eq!(s.skipped, 4);
        let kinds: Vec<(u64, ProblemKind)> = s.problems.iter().map(|p| (p.line, p.kind)).collect();
        assert_eq!(
            kinds,
            vec![
                (3, ProblemKind::Malformed),
                (4, ProblemKind::NotUtf8),
                (5, ProblemKind::Oversized),
                (7, ProblemKind::Truncated)
            ]
        );
    }

    #[test]
    fn offsets_and_lines_point_at_each_record() {
        let a = r#"{"v":1,"ts":"2026-01-01T00:00:00Z","source":"exec","phase":"outcome","call_id":"a"}"#;
        let b = r#"{"v":1,"ts":"2026-01-01T00:00:01Z","source":"exec","phase":"outcome","call_id":"b"}"#;
        let data = format!("{a}\n{{bad}}\n\n{b}\r\n");
        let mut r = RecordReader::new(io::Cursor::new(data.clone()));
        assert!(r.next().is_some());
        assert_eq!((r.last_offset(), r.last_line()), (0, a.as_bytes()));
        assert!(r.next().is_some());
        let off = data.find(b).unwrap() as u64;
        assert_eq!((r.last_offset(), r.last_line()), (off, b.as_bytes()));
        assert_eq!(r.consumed(), data.len() as u64);
        assert!(r.next().is_none());
    }

    #[test]
    fn wrong_types_are_malformed_not_panics() {
        let data = b"{\"v\":\"one\"}\n[1,2]\n\"str\"\n{\"v\":1,\"ts\":\"x\",\"source\":\"martian\",\"phase\":\"pre\"}\n";
        let mut r = RecordReader::new(io::Cursor::new(&data[..]));
        assert_eq!(r.by_ref().count(), 0);
        assert_eq!(r.stats().skipped, 4);
    }
}
