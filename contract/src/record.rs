//! Tool-call record schema v1: one JSON object per line of `.codex/toolcalls.ndjson`.
//!
//! The JSON field names are a public contract that other tools read; `docs/record-schema.md`
//! documents every field. Fields are additive: readers ignore unknown fields, writers omit
//! absent ones, and a change that breaks a reader bumps [`SCHEMA_VERSION`].

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// The record schema version written in every record's `v` field.
pub const SCHEMA_VERSION: u32 = 1;

/// Who observed the call.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// A Codex lifecycle hook payload (`codex-shim hook`).
    CodexHook,
    /// A Claude Code hook payload (`codex-shim hook`).
    ClaudeHook,
    /// `codex-shim exec -- CMD`: the shim ran the command itself.
    Exec,
    /// A Codex session rollout (transcript), read at `Stop`/`SessionEnd` or by `import`.
    Rollout,
    /// A `codex exec --json` event stream (`codex-shim import --exec-json`).
    ExecJson,
}

impl Source {
    /// How much a record of this source can be trusted about a call's outcome. Hooks see
    /// intent and output text; the shim's own exec, the rollout and the exec-json stream
    /// see exit codes.
    pub fn authority(self) -> u8 {
        match self {
            Source::CodexHook | Source::ClaudeHook => 1,
            Source::ExecJson => 2,
            Source::Rollout | Source::Exec => 3,
        }
    }
}

/// What moment of a call (or session) the record describes.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Before the tool ran (PreToolUse).
    Pre,
    /// A permission prompt for the tool (PermissionRequest).
    Permission,
    /// After the tool ran, as the hook saw it (PostToolUse).
    Post,
    /// The authoritative outcome (exec wrapper, rollout, exec-json).
    Outcome,
    /// A session-level event (`event` names it); no call.
    Session,
}

/// Names of session-level events (`event` of a `phase: session` record). Readers must accept
/// names not listed here; these are the ones the shim writes and the analyzer interprets.
pub mod events {
    pub const SESSION_START: &str = "session_start";
    pub const SESSION_END: &str = "session_end";
    /// A user prompt; carries `prompt_len` and `feedback`.
    pub const USER_PROMPT: &str = "user_prompt";
    /// The end of a turn (Codex `Stop`).
    pub const STOP: &str = "stop";
    pub const TURN_COMPLETE: &str = "turn_complete";
    /// A turn the user or Codex aborted; carries `reason`.
    pub const TURN_ABORTED: &str = "turn_aborted";
    pub const PRE_COMPACT: &str = "pre_compact";
    pub const POST_COMPACT: &str = "post_compact";
    pub const COMPACTION: &str = "compaction";
    pub const CONTEXT_WINDOW_EXCEEDED: &str = "context_window_exceeded";
    pub const SUBAGENT_START: &str = "subagent_start";
    pub const SUBAGENT_STOP: &str = "subagent_stop";
    pub const INTERRUPT: &str = "interrupt";
    /// An error the agent reported that ended no call (`reason` holds its redacted text).
    pub const ERROR: &str = "error";
    /// A `codex exec --json` turn that failed (`turn.failed`); carries `reason`.
    pub const TURN_FAILED: &str = "turn_failed";
}

/// A call's outcome. `unknown` means no evidence; it is never guessed as `ok`.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    Failed,
    Denied,
    Blocked,
    Aborted,
    Timeout,
    Running,
    Unknown,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Failed => "failed",
            Status::Denied => "denied",
            Status::Blocked => "blocked",
            Status::Aborted => "aborted",
            Status::Timeout => "timeout",
            Status::Running => "running",
            Status::Unknown => "unknown",
        }
    }

    /// A status that ends a call badly: what failure rates count.
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            Status::Failed | Status::Denied | Status::Blocked | Status::Aborted | Status::Timeout
        )
    }

    /// A status that settles the call (anything but `running` and `unknown`).
    pub fn is_definite(self) -> bool {
        !matches!(self, Status::Running | Status::Unknown)
    }
}

/// A bounded excerpt of a long text: the head and the tail, with the original length.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct Excerpt {
    /// The head and tail of the text; when shortened, a marker line
    /// `…[N bytes elided]…` joins them.
    pub text: String,
    /// The original length in bytes, before shortening (after redaction).
    pub len: u64,
}

/// The marker that joins the head and the tail of a shortened excerpt.
fn elision_marker(elided: usize) -> String {
    format!("\n…[{elided} bytes elided]…\n")
}

impl Excerpt {
    /// Keeps at most `max` bytes of `text`: 1/3 head, 2/3 tail (the end of an output is
    /// where errors are), cut on character boundaries.
    pub fn new(text: &str, max: usize) -> Excerpt {
        Excerpt {
            text: shorten(text, max),
            len: text.len() as u64,
        }
    }

    /// Whether the text was shortened.
    pub fn is_shortened(&self) -> bool {
        (self.text.len() as u64) < self.len
    }

    /// Shortens an existing excerpt further, keeping `len` (the original length).
    pub fn shrink(&mut self, max: usize) {
        if self.text.len() > max {
            self.text = shorten(&self.text, max);
        }
    }
}

/// Head-and-tail shortening of `text` to at most `max` bytes, on char boundaries.
pub fn shorten(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let marker_room = 32;
    let budget = max.saturating_sub(marker_room);
    let head_len = floor_char_boundary(text, budget / 3);
    let tail_start = ceil_char_boundary(text, text.len() - (budget - budget / 3));
    let elided = tail_start - head_len;
    let mut out = String::with_capacity(max);
    out.push_str(&text[..head_len]);
    out.push_str(&elision_marker(elided));
    out.push_str(&text[tail_start..]);
    out
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_char_boundary(s: &str, mut i: usize) -> usize {
    while i < s.len() && !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// Positive or negative feedback detected in a user prompt (see `feedback`).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Feedback {
    Positive,
    Negative,
}

/// One observation of a tool call or a session event. See `docs/record-schema.md`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct Record {
    /// Schema version ([`SCHEMA_VERSION`]).
    pub v: u32,
    /// When the observation was made: RFC 3339, UTC, milliseconds.
    pub ts: String,
    pub source: Option<Source>,
    pub phase: Option<Phase>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turn_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_id: Option<String>,
    /// Tool name as the agent names it (`Bash`, `apply_patch`, `mcp__s__t`, `exec`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    /// The call's input: the command line for shells, the patch for apply_patch, compact
    /// JSON of the arguments for other tools. Redacted and bounded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// Output (stdout, or the combined output the agent saw). Redacted and bounded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Excerpt>,
    /// Standard error, when it was captured separately (exec wrapper).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stderr: Option<Excerpt>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// The signal that killed the command, when it died of one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// Error type from the documented taxonomy (`classify`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_head: Option<String>,
    /// Session-level event name, for `phase: session` (see `docs/record-schema.md`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// Length in bytes of a user prompt (prompts are never stored verbatim).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_len: Option<u64>,
    /// Feedback detected in a user prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feedback: Option<Feedback>,
    /// A redacted, bounded excerpt of the prompt, only when configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_excerpt: Option<String>,
    /// A free-form reason: SessionEnd reason, abort reason, compaction trigger, error text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The output the agent saw was truncated (context truncation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncated: Option<bool>,
    /// The agent model, when the source tells it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The subagent that made the call, or that a `subagent_*` event is about (Codex hooks
    /// of a subagent carry the parent's `session_id` and their own `agent_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
}

impl Record {
    /// A new record stamped now.
    pub fn new(source: Source, phase: Phase) -> Record {
        Record::at(Utc::now(), source, phase)
    }

    /// A new record stamped at `ts`.
    pub fn at(ts: DateTime<Utc>, source: Source, phase: Phase) -> Record {
        Record {
            v: SCHEMA_VERSION,
            ts: format_ts(ts),
            source: Some(source),
            phase: Some(phase),
            ..Record::default()
        }
    }

    /// The record's timestamp, when it parses.
    pub fn time(&self) -> Option<DateTime<Utc>> {
        parse_ts(&self.ts)
    }
}

/// RFC 3339 UTC with milliseconds: the contract's one timestamp format.
pub fn format_ts(ts: DateTime<Utc>) -> String {
    ts.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Now, in the contract's timestamp format.
pub fn now_ts() -> String {
    format_ts(Utc::now())
}

/// Parses any RFC 3339 timestamp into UTC.
pub fn parse_ts(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shorten_keeps_head_and_tail_within_bound() {
        let text: String = (0..10_000)
            .map(|i| char::from(b'a' + (i % 26) as u8))
            .collect();
        let e = Excerpt::new(&text, 1000);
        assert!(e.text.len() <= 1000, "{}", e.text.len());
        assert_eq!(e.len, 10_000);
        assert!(e.is_shortened());
        assert!(e.text.starts_with("abc"));
        assert!(e.text.ends_with(&text[text.len() - 100..]));
        assert!(e.text.contains("bytes elided]"));
    }

    #[test]
    fn shorten_respects_char_boundaries() {
        let text = "é".repeat(5000);
        let s = shorten(&text, 777);
        assert!(s.len() <= 777);
        assert!(s.starts_with('é') && s.ends_with('é'));
    }

    #[test]
    fn short_text_is_kept() {
        let e = Excerpt::new("hello", 1000);
        assert_eq!(e.text, "hello");
        assert!(!e.is_shortened());
    }

    #[test]
    fn record_round_trips_and_omits_absent_fields() {
        let mut r = Record::at(
            parse_ts("2026-11-21T10:00:00.123Z").unwrap(),
            Source::Exec,
            Phase::Outcome,
        );
        r.call_id = Some("c1".into());
        r.status = Some(Status::Failed);
        r.exit_code = Some(2);
        let line = serde_json::to_string(&r).unwrap();
        assert_eq!(
            line,
            r#"{"v":1,"ts":"2026-11-21T10:00:00.123Z","source":"exec","phase":"outcome","call_id":"c1","exit_code":2,"status":"failed"}"#
        );
        let back: Record = serde_json::from_str(&line).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn unknown_fields_are_ignored() {
        let r: Record = serde_json::from_str(
            r#"{"v":1,"ts":"2026-11-21T10:00:00Z","source":"rollout","phase":"pre","future":42}"#,
        )
        .unwrap();
        assert_eq!(r.source, Some(Source::Rollout));
    }
}
