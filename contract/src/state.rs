//! The analyzer's run memory: the format of `.codex/improvement-state.json`.
//!
//! The state is committed to the repository by the bot PR, merged by people and read by the
//! next run, so it is plain, sorted, pretty JSON (small diffs, no wall-clock values: every
//! time in it comes from the run's `--now`). It is versioned by [`STATE_SCHEMA_VERSION`];
//! readers ignore unknown fields and keep unknown top-level sections ([`State::extra`]) so an
//! older analyzer does not drop what a newer one wrote.
//!
//! What it holds, and who writes it:
//! - `processed_runs`: every run ID ever applied. A run ID in here is skipped. Never pruned
//!   (two IDs a day is ~10 KB a year), because losing one would let a run publish twice.
//! - `runs`: the last [`MAX_RUN_HISTORY`] runs' metrics: the previous run's metrics give the
//!   impact deltas, the series gives the report's charts.
//! - `findings`: per-fingerprint history (first/last seen, counts per run, the ticket and the
//!   baseline when it was ticketed). The analyzer writes it; the publisher fills `ticket`
//!   and `baseline` through [`FindingHistory::set_ticket`].
//! - `pending`: GitHub writes that could not be made yet (the publisher's queue).
//!
//! File IO (locking, atomic replace, backup, recovery) lives in the analyzer's `state`
//! module; this module is only the format.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// The state file schema version (`schema_version`).
pub const STATE_SCHEMA_VERSION: u32 = 1;

/// How many runs' metrics are kept in `runs` (30 days of twice-daily runs).
pub const MAX_RUN_HISTORY: usize = 60;

/// How many per-run counts a finding's history keeps.
pub const MAX_FINDING_COUNTS: usize = 60;

/// The whole state file.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct State {
    pub schema_version: u32,
    /// Every applied run ID, sorted.
    #[serde(default)]
    pub processed_runs: BTreeSet<String>,
    /// The run most recently applied (by run ID order, not by wall clock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run: Option<String>,
    /// Metrics of the most recent runs, keyed by run ID.
    #[serde(default)]
    pub runs: BTreeMap<String, RunSummary>,
    /// Per-fingerprint history.
    #[serde(default)]
    pub findings: BTreeMap<String, FindingHistory>,
    /// GitHub writes not made yet (the publisher's retry queue).
    #[serde(default)]
    pub pending: Vec<PendingWrite>,
    /// Top-level sections this version does not know, kept verbatim.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl Default for State {
    fn default() -> Self {
        State {
            schema_version: STATE_SCHEMA_VERSION,
            processed_runs: BTreeSet::new(),
            last_run: None,
            runs: BTreeMap::new(),
            findings: BTreeMap::new(),
            pending: Vec::new(),
            extra: BTreeMap::new(),
        }
    }
}

/// What one run measured, kept for deltas and charts.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct RunSummary {
    pub run_id: String,
    /// The run's reference time (`--now`), RFC 3339 UTC.
    pub now: String,
    /// Metrics of the primary window (consecutive runs' primary windows do not overlap, so
    /// deltas compare like with like).
    pub metrics: RunMetrics,
    /// Fingerprints of the findings the run reported, sorted.
    #[serde(default)]
    pub findings: Vec<String>,
}

/// The numbers deltas are computed from.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct RunMetrics {
    /// Folded tool calls in the window.
    pub tool_calls: u64,
    /// Calls with a definite status (the failure-rate denominator).
    pub definite: u64,
    /// Calls that failed (failed, denied, blocked, aborted, timeout).
    pub failed: u64,
    /// Calls with no status evidence.
    #[serde(default)]
    pub unknown: u64,
    /// `failed / definite`, absent when nothing was definite.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_rate: Option<f64>,
    /// Occurrences per error type.
    #[serde(default)]
    pub error_types: BTreeMap<String, u64>,
    /// Failed CI jobs or tests (non-transient and transient).
    #[serde(default)]
    pub ci_failures: u64,
    /// Commits counted by the git collector.
    #[serde(default)]
    pub commits: u64,
    /// Further named numbers (closed-loop signals, PR activity, ...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, f64>,
}

/// The life of one fingerprint.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct FindingHistory {
    pub rule: String,
    pub subject: String,
    /// First and last run that reported the finding.
    pub first_seen_run: String,
    pub last_seen_run: String,
    /// First and last occurrence (evidence time), RFC 3339 UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<String>,
    /// The finding's evidence count per run ID (the most recent [`MAX_FINDING_COUNTS`]).
    #[serde(default)]
    pub counts: BTreeMap<String, u64>,
    /// The run in which the finding was last seen resolved (absent while it is active).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_run: Option<String>,
    /// The ticket tracking it (filled by the publisher).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<TicketRef>,
    /// The finding's figure when its ticket was created: the "before" of measured improvement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<Baseline>,
}

impl FindingHistory {
    /// Records a ticket for this finding. The first ticket also fixes the baseline at the
    /// count of `run_id` (or the latest count), so later runs can show before/after.
    pub fn set_ticket(&mut self, ticket: TicketRef, run_id: &str) {
        if self.baseline.is_none() {
            let count = self
                .counts
                .get(run_id)
                .or_else(|| self.counts.values().next_back())
                .copied()
                .unwrap_or(0);
            self.baseline = Some(Baseline {
                run_id: run_id.to_string(),
                count,
                value: None,
            });
        }
        self.ticket = Some(ticket);
    }

    /// Adds a run's count, keeping the most recent [`MAX_FINDING_COUNTS`].
    pub fn record_count(&mut self, run_id: &str, count: u64) {
        self.counts.insert(run_id.to_string(), count);
        while self.counts.len() > MAX_FINDING_COUNTS {
            let oldest = self.counts.keys().next().cloned().expect("non-empty");
            self.counts.remove(&oldest);
        }
    }
}

/// A GitHub issue or PR.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct TicketRef {
    pub number: u64,
    pub url: String,
    /// `open` or `closed`, as last seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}

/// The "before" of a ticketed finding.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct Baseline {
    pub run_id: String,
    pub count: u64,
    /// A rate or other figure when the rule has one (e.g. a failure rate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
}

/// A GitHub write that could not be made yet, retried next run.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct PendingWrite {
    /// What to do (`ticket`, `rolling_issue`, `pull_request`, `comment`, ...).
    pub kind: String,
    /// What it is about (a fingerprint, a run ID); one pending write per (kind, key).
    pub key: String,
    /// The run that queued it.
    pub run_id: String,
    #[serde(default)]
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// What the publisher needs to retry (redacted before it is stored).
    #[serde(default)]
    pub payload: serde_json::Value,
}

impl State {
    /// The most recent run before `run_id` (by run ID order), if any.
    pub fn previous_run(&self, run_id: &str) -> Option<&RunSummary> {
        use std::ops::Bound;
        self.runs
            .range::<str, _>((Bound::Unbounded, Bound::Excluded(run_id)))
            .next_back()
            .map(|(_, summary)| summary)
    }

    /// Records an applied run: marks it processed and stores its summary, keeping the most
    /// recent [`MAX_RUN_HISTORY`] summaries.
    pub fn record_run(&mut self, summary: RunSummary) {
        let id = summary.run_id.clone();
        self.processed_runs.insert(id.clone());
        self.runs.insert(id.clone(), summary);
        while self.runs.len() > MAX_RUN_HISTORY {
            let oldest = self.runs.keys().next().cloned().expect("non-empty");
            self.runs.remove(&oldest);
        }
        if self.last_run.as_deref().is_none_or(|l| l < id.as_str()) {
            self.last_run = Some(id);
        }
    }

    /// Queues a pending write, replacing one with the same kind and key.
    pub fn queue_pending(&mut self, write: PendingWrite) {
        self.pending
            .retain(|p| !(p.kind == write.kind && p.key == write.key));
        self.pending.push(write);
        self.pending
            .sort_by(|a, b| (&a.kind, &a.key).cmp(&(&b.kind, &b.key)));
    }

    /// Serializes the state the one way it is written: pretty, sorted, newline-terminated.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(self).expect("state always serializes");
        out.push(b'\n');
        out
    }

    /// Parses a state file. Rejects a schema version newer than this build understands.
    pub fn from_bytes(bytes: &[u8]) -> Result<State, StateError> {
        let state: State = serde_json::from_slice(bytes).map_err(StateError::Parse)?;
        if state.schema_version > STATE_SCHEMA_VERSION {
            return Err(StateError::TooNew {
                found: state.schema_version,
                supported: STATE_SCHEMA_VERSION,
            });
        }
        Ok(State {
            schema_version: STATE_SCHEMA_VERSION,
            ..state
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("the state file is not valid state JSON: {0}")]
    Parse(serde_json::Error),
    #[error("the state file has schema_version {found}, newer than this analyzer's {supported}; upgrade codex-analyzer")]
    TooNew { found: u32, supported: u32 },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(id: &str) -> RunSummary {
        RunSummary {
            run_id: id.into(),
            now: "2026-01-01T13:10:00.000Z".into(),
            ..RunSummary::default()
        }
    }

    #[test]
    fn round_trip_keeps_unknown_sections() {
        let text = r#"{"schema_version":1,"processed_runs":["2026-01-01-AM"],"future":{"x":1}}"#;
        let s = State::from_bytes(text.as_bytes()).unwrap();
        assert!(s.processed_runs.contains("2026-01-01-AM"));
        assert_eq!(s.extra["future"], serde_json::json!({"x": 1}));
        let back = State::from_bytes(&s.to_bytes()).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn newer_schema_is_refused() {
        let err = State::from_bytes(br#"{"schema_version":99}"#).unwrap_err();
        assert!(matches!(err, StateError::TooNew { found: 99, .. }), "{err}");
    }

    #[test]
    fn previous_run_is_by_run_id_order() {
        let mut s = State::default();
        for id in ["2026-01-02-AM", "2026-01-01-PM", "2026-01-01-AM"] {
            s.record_run(summary(id));
        }
        assert_eq!(s.last_run.as_deref(), Some("2026-01-02-AM"));
        assert_eq!(
            s.previous_run("2026-01-02-AM").map(|r| r.run_id.as_str()),
            Some("2026-01-01-PM")
        );
        assert!(s.previous_run("2026-01-01-AM").is_none());
    }

    #[test]
    fn history_is_bounded_but_processed_ids_are_not() {
        let mut s = State::default();
        for day in 1..=40 {
            for half in ["AM", "PM"] {
                s.record_run(summary(&format!("2026-02-{:02}-{half}", day % 28 + 1)));
                s.record_run(summary(&format!("2026-03-{:02}-{half}", day % 28 + 1)));
            }
        }
        assert_eq!(s.runs.len(), MAX_RUN_HISTORY);
        assert_eq!(s.processed_runs.len(), 112);
    }

    #[test]
    fn ticket_fixes_baseline_once() {
        let mut h = FindingHistory::default();
        h.record_count("2026-01-01-AM", 5);
        h.set_ticket(
            TicketRef {
                number: 7,
                url: "u".into(),
                state: None,
            },
            "2026-01-01-AM",
        );
        h.record_count("2026-01-01-PM", 2);
        h.set_ticket(
            TicketRef {
                number: 7,
                url: "u2".into(),
                state: None,
            },
            "2026-01-01-PM",
        );
        let b = h.baseline.unwrap();
        assert_eq!((b.run_id.as_str(), b.count), ("2026-01-01-AM", 5));
        assert_eq!(h.ticket.unwrap().url, "u2");
    }

    #[test]
    fn pending_is_keyed_by_kind_and_key() {
        let mut s = State::default();
        for attempts in [1, 2] {
            s.queue_pending(PendingWrite {
                kind: "ticket".into(),
                key: "abc".into(),
                run_id: "2026-01-01-AM".into(),
                attempts,
                ..PendingWrite::default()
            });
        }
        assert_eq!(s.pending.len(), 1);
        assert_eq!(s.pending[0].attempts, 2);
    }
}
