//! Signal collectors: each turns one source (tool-call log, CI logs, git history, GitHub)
//! into plain data and counts for a time window. Collectors only read; rules decide.

pub mod ci_logs;
pub mod config_keys;
pub mod git;
pub mod linguist;
pub mod rework;
pub mod toolcalls;

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

/// A half-open time window `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Window {
    /// The window of length `length` that ends at `end`.
    pub fn ending_at(end: DateTime<Utc>, length: Duration) -> Window {
        Window {
            start: end - length,
            end,
        }
    }

    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.start <= t && t < self.end
    }

    pub fn length(&self) -> Duration {
        self.end - self.start
    }

    /// The same window for the git collector.
    pub fn git(&self) -> git::GitWindow {
        git::GitWindow::new(self.start, self.end)
    }

    /// The serializable description (RFC 3339 bounds and a `12h`-style length).
    pub fn info(&self) -> WindowInfo {
        WindowInfo {
            start: codex_contract::record::format_ts(self.start),
            end: codex_contract::record::format_ts(self.end),
            length: crate::config::format_duration(self.length()),
        }
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = self.info();
        write!(f, "{} → {} ({})", i.start, i.end, i.length)
    }
}

/// A window as it appears in the JSON output and the run log.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct WindowInfo {
    pub start: String,
    pub end: String,
    pub length: String,
}
