//! The import's progress line on stderr: bytes and files done, the file being read, and
//! the time left.
//!
//! Why not indicatif (which the analyzer uses): the shim starts on every tool call, and
//! indicatif's rate estimator calls `pow`, which made every dynamically linked shim load
//! libm at start-up (10 page faults, measured) for a bar that only `import` draws. This is
//! one line, redrawn at most every 100 ms, and only on a terminal.

use std::io::Write;
use std::time::{Duration, Instant};

const REDRAW: Duration = Duration::from_millis(100);

pub(crate) struct Progress {
    total: u64,
    done: u64,
    files: usize,
    n_files: usize,
    name: String,
    started: Instant,
    drawn: Option<Instant>,
}

impl Progress {
    pub(crate) fn new(total_bytes: u64, n_files: usize) -> Progress {
        Progress {
            total: total_bytes.max(1),
            done: 0,
            files: 0,
            n_files,
            name: String::new(),
            started: Instant::now(),
            drawn: None,
        }
    }

    /// Starts the next file.
    pub(crate) fn file(&mut self, name: &str) {
        self.files += 1;
        self.name = name.to_string();
        self.draw();
    }

    /// `bytes` more are done.
    pub(crate) fn advance(&mut self, bytes: u64) {
        self.done = (self.done + bytes).min(self.total);
        self.draw();
    }

    /// Clears the line.
    pub(crate) fn finish(self) {
        let _ = write!(std::io::stderr(), "\r\x1b[2K");
    }

    fn draw(&mut self) {
        let now = Instant::now();
        if self.drawn.is_some_and(|t| now - t < REDRAW) {
            return;
        }
        self.drawn = Some(now);
        let _ = write!(
            std::io::stderr(),
            "\r\x1b[2K{}",
            self.line(now - self.started)
        );
    }

    /// The line as drawn after `elapsed`.
    fn line(&self, elapsed: Duration) -> String {
        let percent = self.done * 100 / self.total;
        let left = match self.done {
            0 => String::new(),
            done => {
                let secs = elapsed.as_secs() * (self.total - done) / done;
                format!(", ~{secs} s left")
            }
        };
        format!(
            "importing file {}/{}, {} of {} MiB ({percent}%{left}): {}",
            self.files,
            self.n_files,
            mib(self.done),
            mib(self.total),
            self.name
        )
    }
}

/// `bytes` in MiB with one decimal, in integers.
fn mib(bytes: u64) -> String {
    let tenths = bytes * 10 / (1024 * 1024);
    format!("{}.{}", tenths / 10, tenths % 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_says_where_the_import_is() {
        let mut p = Progress::new(40 * 1024 * 1024, 4);
        p.files = 2;
        p.name = "rollout-b.jsonl".into();
        assert_eq!(
            p.line(Duration::from_secs(3)),
            "importing file 2/4, 0.0 of 40.0 MiB (0%): rollout-b.jsonl"
        );
        p.done = 10 * 1024 * 1024;
        assert_eq!(
            p.line(Duration::from_secs(3)),
            "importing file 2/4, 10.0 of 40.0 MiB (25%, ~9 s left): rollout-b.jsonl"
        );
    }
}
