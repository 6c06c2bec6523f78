//! The fold: merges every record of one (session, call) into one [`Call`].
//!
//! A call can be observed several times — before it runs (PreToolUse), after (PostToolUse),
//! and authoritatively (the exec wrapper, the session rollout, the exec-json stream). The
//! fold is documented in `docs/record-schema.md`; in short:
//!
//! 1. Records are grouped by `(session_id, call_id)`; records without a `call_id` are session
//!    events and belong to no call.
//! 2. For each outcome field (`status`, `exit_code`, `signal`, `duration_ms`, `error_type`,
//!    `output`, `stderr`, `truncated`) the value comes from the record of the highest source
//!    authority that has it (`exec` = `rollout` > `exec-json` > hooks), ties going to the
//!    later record, then to the later line. A record's status `unknown` or `running` never
//!    overrides a definite status.
//! 3. Descriptive fields (`tool`, `input`, `cwd`, `git_head`, `turn_id`) come from the
//!    first record that has them.
//! 4. With no status evidence at all the call's status is `unknown` — never guessed as `ok`.
//! 5. A failing call without an `error_type` gets one from [`crate::classify`].
//!
//! The result does not depend on the order of the input lines.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::classify;
use crate::record::{Excerpt, Record, Source, Status};

/// One tool call, folded from all its records.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Call {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    pub call_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub turn_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<Excerpt>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stderr: Option<Excerpt>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signal: Option<i32>,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub git_head: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub truncated: Option<bool>,
    /// First and last observation.
    pub first_ts: DateTime<Utc>,
    pub last_ts: DateTime<Utc>,
    /// Every source that observed the call, sorted.
    pub sources: Vec<Source>,
    /// How many records were folded.
    pub records: u32,
}

/// The rank of a record for outcome fields: authority, then time, then line order.
type Rank = (u8, DateTime<Utc>, u64);

struct Slot<T> {
    value: Option<T>,
    rank: Option<Rank>,
}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Slot {
            value: None,
            rank: None,
        }
    }
}

impl<T> Slot<T> {
    /// Highest rank wins.
    fn offer(&mut self, value: Option<T>, rank: Rank) {
        if let Some(v) = value {
            if self.rank.is_none_or(|r| rank > r) {
                self.value = Some(v);
                self.rank = Some(rank);
            }
        }
    }
    /// Earliest rank wins (descriptive fields: the first observation).
    fn offer_first(&mut self, value: Option<T>, rank: Rank) {
        if let Some(v) = value {
            let key = (rank.1, rank.2);
            if self.rank.is_none_or(|r| key < (r.1, r.2)) {
                self.value = Some(v);
                self.rank = Some(rank);
            }
        }
    }
}

struct Acc {
    session_id: Option<String>,
    call_id: String,
    turn_id: Slot<String>,
    tool: Slot<String>,
    input: Slot<String>,
    cwd: Slot<String>,
    git_head: Slot<String>,
    output: Slot<Excerpt>,
    stderr: Slot<Excerpt>,
    exit_code: Slot<i32>,
    signal: Slot<i32>,
    status: Slot<Status>,
    weak_status: Slot<Status>,
    duration_ms: Slot<u64>,
    error_type: Slot<String>,
    truncated: Slot<bool>,
    first_ts: DateTime<Utc>,
    last_ts: DateTime<Utc>,
    sources: Vec<Source>,
    records: u32,
}

/// Folds records into calls, streaming: feed records with [`Folder::push`], then
/// [`Folder::finish`]. Memory is proportional to the number of distinct calls.
#[derive(Default)]
pub struct Folder {
    calls: HashMap<(Option<String>, String), Acc>,
    seq: u64,
}

impl Folder {
    pub fn new() -> Folder {
        Folder::default()
    }

    /// Adds one record. Records without a `call_id` (session events) or with an
    /// unparsable timestamp are ignored.
    pub fn push(&mut self, r: Record) {
        let Some(call_id) = r.call_id else { return };
        let Some(ts) = crate::record::parse_ts(&r.ts) else {
            return;
        };
        self.seq += 1;
        let source = r.source.unwrap_or(Source::CodexHook);
        let rank: Rank = (source.authority(), ts, self.seq);
        let key = (r.session_id, call_id);
        let acc = self.calls.entry(key.clone()).or_insert_with(|| Acc {
            session_id: key.0.clone(),
            call_id: key.1.clone(),
            turn_id: Slot::default(),
            tool: Slot::default(),
            input: Slot::default(),
            cwd: Slot::default(),
            git_head: Slot::default(),
            output: Slot::default(),
            stderr: Slot::default(),
            exit_code: Slot::default(),
            signal: Slot::default(),
            status: Slot::default(),
            weak_status: Slot::default(),
            duration_ms: Slot::default(),
            error_type: Slot::default(),
            truncated: Slot::default(),
            first_ts: ts,
            last_ts: ts,
            sources: Vec::new(),
            records: 0,
        });
        acc.records += 1;
        acc.first_ts = acc.first_ts.min(ts);
        acc.last_ts = acc.last_ts.max(ts);
        if !acc.sources.contains(&source) {
            acc.sources.push(source);
        }
        acc.turn_id.offer_first(r.turn_id, rank);
        acc.tool.offer_first(r.tool, rank);
        acc.input.offer_first(r.input, rank);
        acc.cwd.offer_first(r.cwd, rank);
        acc.git_head.offer_first(r.git_head, rank);
        acc.output.offer(r.output, rank);
        acc.stderr.offer(r.stderr, rank);
        acc.exit_code.offer(r.exit_code, rank);
        acc.signal.offer(r.signal, rank);
        acc.duration_ms.offer(r.duration_ms, rank);
        acc.error_type.offer(r.error_type, rank);
        acc.truncated.offer(r.truncated, rank);
        match r.status {
            Some(s) if s.is_definite() => acc.status.offer(Some(s), rank),
            other => acc.weak_status.offer(other, rank),
        }
    }

    /// The folded calls, sorted by first observation, then session and call ID.
    pub fn finish(self) -> Vec<Call> {
        let mut calls: Vec<Call> = self.calls.into_values().map(finish_one).collect();
        calls.sort_by(|a, b| {
            (a.first_ts, &a.session_id, &a.call_id).cmp(&(b.first_ts, &b.session_id, &b.call_id))
        });
        calls
    }
}

fn finish_one(mut a: Acc) -> Call {
    a.sources.sort();
    let status = a
        .status
        .value
        .or(a.weak_status.value)
        .unwrap_or(Status::Unknown);
    let mut error_type = a.error_type.value;
    if error_type.is_none() && status.is_failure() {
        let text = a.output.value.as_ref().map(|e| e.text.as_str());
        let err = a.stderr.value.as_ref().map(|e| e.text.as_str());
        error_type = Some(
            classify::classify(&classify::Evidence {
                status,
                exit_code: a.exit_code.value,
                signal: a.signal.value,
                output: text.unwrap_or(""),
                stderr: err.unwrap_or(""),
            })
            .to_string(),
        );
    }
    Call {
        session_id: a.session_id,
        call_id: a.call_id,
        turn_id: a.turn_id.value,
        tool: a.tool.value,
        input: a.input.value,
        output: a.output.value,
        stderr: a.stderr.value,
        exit_code: a.exit_code.value,
        signal: a.signal.value,
        status,
        duration_ms: a.duration_ms.value,
        error_type,
        cwd: a.cwd.value,
        git_head: a.git_head.value,
        truncated: a.truncated.value,
        first_ts: a.first_ts,
        last_ts: a.last_ts,
        sources: a.sources,
        records: a.records,
    }
}

/// Folds a whole set of records.
pub fn fold(records: impl IntoIterator<Item = Record>) -> Vec<Call> {
    let mut f = Folder::new();
    for r in records {
        f.push(r);
    }
    f.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{parse_ts, Phase};

    fn rec(ts: &str, source: Source, phase: Phase, call: &str) -> Record {
        let mut r = Record::at(parse_ts(ts).unwrap(), source, phase);
        r.session_id = Some("s1".into());
        r.call_id = Some(call.into());
        r
    }

    #[test]
    fn rollout_outcome_overrides_hook_and_keeps_hook_input() {
        let mut pre = rec("2026-01-01T00:00:00Z", Source::CodexHook, Phase::Pre, "c1");
        pre.tool = Some("Bash".into());
        pre.input = Some("ls /nope".into());
        let mut post = rec("2026-01-01T00:00:01Z", Source::CodexHook, Phase::Post, "c1");
        post.output = Some(Excerpt::new(
            "ls: cannot access '/nope': No such file or directory",
            100,
        ));
        post.status = Some(Status::Unknown);
        let mut out = rec(
            "2026-01-01T00:00:02Z",
            Source::Rollout,
            Phase::Outcome,
            "c1",
        );
        out.exit_code = Some(2);
        out.status = Some(Status::Failed);
        out.duration_ms = Some(12);
        let calls = fold(vec![out.clone(), post.clone(), pre.clone()]);
        assert_eq!(calls.len(), 1);
        let c = &calls[0];
        assert_eq!(c.status, Status::Failed);
        assert_eq!(c.exit_code, Some(2));
        assert_eq!(c.input.as_deref(), Some("ls /nope"));
        assert_eq!(c.tool.as_deref(), Some("Bash"));
        assert_eq!(c.sources, vec![Source::CodexHook, Source::Rollout]);
        assert_eq!(c.records, 3);
        assert_eq!(c.error_type.as_deref(), Some("file_not_found"));
        // Order independence.
        assert_eq!(fold(vec![pre, post, out]), calls);
    }

    #[test]
    fn pre_only_call_stays_unknown() {
        let pre = rec("2026-01-01T00:00:00Z", Source::CodexHook, Phase::Pre, "c1");
        let calls = fold(vec![pre]);
        assert_eq!(calls[0].status, Status::Unknown);
        assert_eq!(calls[0].error_type, None);
    }

    #[test]
    fn weak_status_never_overrides_definite() {
        let mut a = rec("2026-01-01T00:00:00Z", Source::CodexHook, Phase::Post, "c1");
        a.status = Some(Status::Ok);
        let mut b = rec(
            "2026-01-01T00:00:05Z",
            Source::Rollout,
            Phase::Outcome,
            "c1",
        );
        b.status = Some(Status::Unknown);
        assert_eq!(fold(vec![a, b])[0].status, Status::Ok);
    }

    #[test]
    fn sessions_keep_same_call_ids_apart() {
        let a = rec(
            "2026-01-01T00:00:00Z",
            Source::CodexHook,
            Phase::Pre,
            "call_1",
        );
        let mut b = a.clone();
        b.session_id = Some("s2".into());
        assert_eq!(fold(vec![a, b]).len(), 2);
    }

    #[test]
    fn session_events_are_not_calls() {
        let mut r = Record::new(Source::CodexHook, Phase::Session);
        r.event = Some("session_start".into());
        assert!(fold(vec![r]).is_empty());
    }
}
