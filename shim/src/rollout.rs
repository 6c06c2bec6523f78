//! Outcome truth from Codex session rollouts (`transcript_path`,
//! `~/.codex/sessions/**/rollout-*.jsonl`).
//!
//! Codex's hooks cannot say how a call ended: `PostToolUse` carries no exit code for shell
//! calls and does not fire at all for blocked, denied, failed-verification or aborted calls.
//! The rollout can: it holds every call (`function_call`, `custom_tool_call`,
//! `local_shell_call`), its output as the model saw it, and for commands and patches an
//! `item_completed` item with the exit code, status and duration. This module turns rollout
//! lines into `source: rollout` records:
//!
//! - one `phase: pre` record per call line (tool, input, turn), so an import with no hooks
//!   still knows what ran;
//! - one `phase: outcome` record per piece of outcome evidence (the output text, a
//!   `CommandExecution`/`FileChange` item, legacy `exec_command_end`/`patch_apply_end`),
//!   each stamped with the timestamp of the line it came from;
//! - session records (`session_start`, `turn_complete`, `turn_aborted`, `compaction`,
//!   `context_window_exceeded`, `error`).
//!
//! Every record depends only on its line and a small [`State`] carried from line to line,
//! never on where a read started or stopped. That is what makes the two readers agree: the
//! hook reads a rollout incrementally at every `Stop`/`SessionEnd`/`Interrupt`, `import`
//! reads it whole, and both produce the same records with the same timestamps — so an import
//! after the hooks adds nothing (see [`crate::dedupe`]).
//!
//! The parser accepts the paginated format (0.169.0: `{timestamp, ordinal, type, payload}`),
//! the legacy format (the same without `ordinal`), and the oldest one (bare response items
//! with no envelope). Unknown line types and payload types are skipped and counted, never
//! fatal.

pub mod offsets;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Seek, SeekFrom};
use std::path::Path;
use std::time::Instant;

use codex_contract::record::{events, format_ts, parse_ts, Phase, Record, Source, Status};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::text::{self, int_of, str_of};

/// The tool name records use for shell calls, whatever the rollout calls them
/// (`exec_command`, `shell`, `local_shell_call`): the name Codex gives hooks.
pub const SHELL_TOOL: &str = "Bash";
/// The tool name of patches.
pub const PATCH_TOOL: &str = "apply_patch";
/// The unified-exec tool that writes to (or polls) a running process.
const POLL_TOOL: &str = "write_stdin";

/// What the parser carries from one line to the next, persisted between incremental reads
/// (in the offsets store) so a read that starts mid-file knows the session and the calls
/// still waiting for their outcome.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct State {
    /// Bytes of the file already read (always at a line boundary).
    #[serde(default)]
    pub offset: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// Set when the rollout is a subagent's (its `session_meta.id` is the agent's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turn_id: Option<String>,
    /// The commit the session started on (`session_meta.git.commit_hash`), stamped on its
    /// calls so an imported call knows the code it ran against (Harbor export needs it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_head: Option<String>,
    /// The last line timestamp seen (for lines without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_ts: Option<String>,
    /// Calls whose outcome is not settled yet, by call ID.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub calls: BTreeMap<String, Pending>,
    /// Unified-exec processes still running, by the session ID Codex gave them (`Process
    /// running with session ID N`), to the call that started them: a later `write_stdin`
    /// poll that sees the process exit reports that call's end.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub processes: BTreeMap<String, String>,
    /// The session's `session_start` record, held back until the first `turn_context`
    /// names the model (0.169.0's `session_meta` does not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_start: Option<Record>,
    /// When this entry was last written (seconds since the epoch), for pruning.
    #[serde(default)]
    pub updated: u64,
}

/// A call seen in the rollout whose outcome is not settled yet.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct Pending {
    pub tool: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turn_id: Option<String>,
    /// Its output line was seen.
    #[serde(default)]
    pub output: bool,
    /// A definite status was recorded.
    #[serde(default)]
    pub settled: bool,
    /// Its output said the process was still running when the model moved on.
    #[serde(default)]
    pub running: bool,
    /// For a `write_stdin` poll: the unified-exec session ID it writes to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<String>,
}

/// Calls kept pending at most; beyond this the oldest-named are dropped (a rollout with
/// thousands of unsettled calls is broken, and the state must stay small).
const MAX_PENDING: usize = 4096;

/// Counts of what a read saw.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ParseStats {
    /// Complete lines read.
    pub lines: u64,
    /// Lines of a type the parser does not know, or that are not JSON objects.
    pub unknown: u64,
}

/// Turns rollout lines into records. Feed lines in file order with [`Parser::line`].
pub struct Parser {
    state: State,
    /// Session ID to use when the rollout has not named one (a read starting mid-file with
    /// no saved state): the hook payload's.
    fallback_session: Option<String>,
    /// Timestamp for lines before any timestamp was seen (oldest format).
    fallback_ts: String,
    pub stats: ParseStats,
}

/// The envelope of a rollout line. Only the fields used are declared, so serde skips the
/// large ones (`base_instructions`, message `content`, `replacement_history`) without
/// allocating them.
#[derive(Deserialize)]
struct Line {
    #[serde(default)]
    timestamp: Option<Value>,
    #[serde(default, rename = "type")]
    kind: Option<Value>,
    #[serde(default)]
    payload: Option<Payload>,
    #[serde(default)]
    record_type: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    id: Option<Value>,
}

/// The union of the payload fields the parser reads. Everything is a loose `Value`: a field
/// that changes type in a future Codex must cost that field, not the line.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Payload {
    #[serde(rename = "type")]
    kind: Option<Value>,
    id: Option<Value>,
    call_id: Option<Value>,
    name: Option<Value>,
    namespace: Option<Value>,
    arguments: Option<Value>,
    input: Option<Value>,
    output: Option<Value>,
    action: Option<Value>,
    status: Option<Value>,
    internal_chat_message_metadata_passthrough: Option<Value>,
    item: Option<Value>,
    turn_id: Option<Value>,
    duration_ms: Option<Value>,
    reason: Option<Value>,
    message: Option<Value>,
    codex_error_info: Option<Value>,
    exit_code: Option<Value>,
    aggregated_output: Option<Value>,
    formatted_output: Option<Value>,
    stdout: Option<Value>,
    stderr: Option<Value>,
    duration: Option<Value>,
    success: Option<Value>,
    result: Option<Value>,
    session_id: Option<Value>,
    cwd: Option<Value>,
    git: Option<Value>,
    source: Option<Value>,
    model: Option<Value>,
    timestamp: Option<Value>,
}

fn s(v: &Option<Value>) -> Option<&str> {
    v.as_ref().and_then(Value::as_str)
}

/// Response item types of the oldest rollouts, written bare (no envelope).
const BARE_ITEMS: &[&str] = &[
    "message",
    "reasoning",
    "function_call",
    "function_call_output",
    "custom_tool_call",
    "custom_tool_call_output",
    "local_shell_call",
    "web_search_call",
];

/// Line types that carry nothing the shim records.
const IGNORED_LINES: &[&str] = &[
    "world_state",
    "token_usage_record",
    "inter_agent_communication_metadata",
];

/// What an output text says about how its call ended.
#[derive(Debug, Default, PartialEq)]
struct Outcome {
    status: Option<Status>,
    exit_code: Option<i32>,
    duration_ms: Option<u64>,
    error_type: Option<&'static str>,
    /// The output proper (after Codex's `…\nOutput:\n` header), when there is one.
    body: Option<String>,
    /// `Process running with session ID N`: the unified-exec session left running.
    process: Option<String>,
}

impl Parser {
    /// A parser continuing from `state` (default: the start of a file).
    pub fn new(state: State, fallback_session: Option<String>, fallback_ts: String) -> Parser {
        Parser {
            state,
            fallback_session,
            fallback_ts,
            stats: ParseStats::default(),
        }
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    pub fn into_state(self) -> State {
        self.state
    }

    /// At the end of a rollout that will not grow (an import, a session that ended): emits
    /// what was held back for a line that never came.
    pub fn flush(&mut self, out: &mut Vec<Record>) {
        if let Some(start) = self.state.pending_start.take() {
            out.push(start);
        }
    }

    /// Parses one line (without its newline), appending the records it yields to `out`.
    pub fn line(&mut self, line: &[u8], out: &mut Vec<Record>) {
        self.stats.lines += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        let Ok(parsed) = serde_json::from_slice::<Line>(line) else {
            self.stats.unknown += 1;
            return;
        };
        let ts = self.stamp(parsed.timestamp.as_ref());
        let kind = parsed.kind.as_ref().and_then(Value::as_str);
        match (kind, parsed.payload) {
            (Some("session_meta"), Some(p)) => self.session_meta(&p, &ts, out),
            (Some("turn_context"), Some(p)) => self.turn_context(&p, out),
            (Some("response_item"), Some(p)) => self.response_item(&p, &ts, out),
            (Some("event_msg"), Some(p)) => self.event_msg(&p, &ts, out),
            (Some("compacted"), _) => {
                let mut r = self.session(&ts, events::COMPACTION);
                r.turn_id = self.state.turn_id.clone();
                out.push(r);
            }
            (Some(k), _) if IGNORED_LINES.contains(&k) => {}
            (Some(k), None) if BARE_ITEMS.contains(&k) => {
                match serde_json::from_slice::<Payload>(line) {
                    Ok(p) => self.response_item(&p, &ts, out),
                    Err(_) => self.stats.unknown += 1,
                }
            }
            (None, None) if parsed.record_type.is_some() => {}
            (None, None) if parsed.id.is_some() => match serde_json::from_slice::<Payload>(line) {
                // The oldest rollouts open with a bare session header `{id, timestamp, …}`.
                Ok(p) => self.session_meta(&p, &ts, out),
                Err(_) => self.stats.unknown += 1,
            },
            _ => self.stats.unknown += 1,
        }
    }

    /// The record timestamp for a line: its own (normalised), else the last one seen.
    fn stamp(&mut self, raw: Option<&Value>) -> String {
        if let Some(t) = raw.and_then(Value::as_str).and_then(parse_ts) {
            let ts = format_ts(t);
            self.state.last_ts = Some(ts.clone());
            return ts;
        }
        self.state
            .last_ts
            .clone()
            .unwrap_or_else(|| self.fallback_ts.clone())
    }

    fn record(&self, ts: &str, phase: Phase) -> Record {
        let time = parse_ts(ts).unwrap_or_else(codex_contract::chrono::Utc::now);
        let mut r = Record::at(time, Source::Rollout, phase);
        r.session_id = self
            .state
            .session_id
            .clone()
            .or_else(|| self.fallback_session.clone());
        r.agent_id = self.state.agent_id.clone();
        r
    }

    fn session(&self, ts: &str, event: &str) -> Record {
        let mut r = self.record(ts, Phase::Session);
        r.event = Some(event.to_string());
        r
    }

    fn session_meta(&mut self, p: &Payload, ts: &str, out: &mut Vec<Record>) {
        let id = s(&p.id).map(str::to_string);
        let session = s(&p.session_id).map(str::to_string).or_else(|| id.clone());
        let subagent = p
            .source
            .as_ref()
            .is_some_and(|v| v.get("subagent").is_some())
            || (id.is_some() && session.is_some() && id != session);
        if session.is_some() {
            self.state.session_id = session;
        }
        if let Some(cwd) = s(&p.cwd) {
            self.state.cwd = Some(cwd.to_string());
        }
        if let Some(model) = s(&p.model) {
            self.state.model = Some(model.to_string());
        }
        if let Some(head) = p.git.as_ref().and_then(|g| str_of(g, "commit_hash")) {
            self.state.git_head = Some(head.to_string());
        }
        if subagent {
            // The subagent's calls belong to the parent session; its own start is the
            // parent's `SubagentStart`, not a new session.
            self.state.agent_id = id;
            return;
        }
        let mut r = self.session(ts, events::SESSION_START);
        r.cwd = self.state.cwd.clone();
        r.model = self.state.model.clone();
        r.git_head = self.state.git_head.clone();
        r.reason = s(&p.source).map(str::to_string);
        if r.model.is_some() {
            out.push(r);
        } else {
            self.state.pending_start = Some(r);
        }
    }

    fn turn_context(&mut self, p: &Payload, out: &mut Vec<Record>) {
        if let Some(model) = s(&p.model) {
            self.state.model = Some(model.to_string());
        }
        if let Some(mut start) = self.state.pending_start.take() {
            start.model = self.state.model.clone();
            out.push(start);
        }
        if let Some(cwd) = s(&p.cwd) {
            self.state.cwd = Some(cwd.to_string());
        }
        if let Some(turn) = s(&p.turn_id) {
            self.state.turn_id = Some(turn.to_string());
        }
    }

    fn turn_of(&self, p: &Payload) -> Option<String> {
        p.internal_chat_message_metadata_passthrough
            .as_ref()
            .and_then(|m| str_of(m, "turn_id"))
            .or(s(&p.turn_id))
            .map(str::to_string)
            .or_else(|| self.state.turn_id.clone())
    }

    fn response_item(&mut self, p: &Payload, ts: &str, out: &mut Vec<Record>) {
        match s(&p.kind) {
            Some("function_call") => {
                let Some(call_id) = s(&p.call_id) else { return };
                let name = s(&p.name).unwrap_or("unknown");
                let full = match s(&p.namespace) {
                    Some(ns) => format!("{ns}{name}"),
                    None => name.to_string(),
                };
                let args = match &p.arguments {
                    Some(Value::String(text)) => {
                        serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.clone()))
                    }
                    Some(v) => v.clone(),
                    None => Value::Null,
                };
                let (tool, input, workdir) = describe_function_call(&full, &args);
                self.call_started(call_id, tool, input, workdir, self.turn_of(p), ts, out);
                if full == POLL_TOOL {
                    let process = args.get("session_id").and_then(|v| match v {
                        Value::Number(n) => Some(n.to_string()),
                        Value::String(t) => Some(t.clone()),
                        _ => None,
                    });
                    self.update(call_id, |p| p.process = process);
                }
            }
            Some("custom_tool_call") => {
                let Some(call_id) = s(&p.call_id) else { return };
                let name = s(&p.name).unwrap_or("unknown").to_string();
                let input = match &p.input {
                    Some(Value::String(t)) => Some(text::input(t)),
                    Some(v) if !v.is_null() => Some(text::json_input(v)),
                    _ => None,
                };
                self.call_started(call_id, name, input, None, self.turn_of(p), ts, out);
            }
            Some("local_shell_call") => {
                let Some(call_id) = s(&p.call_id).or(s(&p.id)) else {
                    return;
                };
                let action = p.action.as_ref();
                let input = action
                    .and_then(|a| a.get("command"))
                    .and_then(Value::as_array)
                    .map(|argv| text::input(&text::command_from_argv(argv)));
                let workdir = action
                    .and_then(|a| str_of(a, "working_directory"))
                    .map(str::to_string);
                let turn = self.turn_of(p);
                self.call_started(
                    call_id,
                    SHELL_TOOL.to_string(),
                    input,
                    workdir,
                    turn,
                    ts,
                    out,
                );
            }
            Some("function_call_output" | "custom_tool_call_output") => {
                let Some(call_id) = s(&p.call_id) else { return };
                let (text, success) = output_text(p.output.as_ref());
                let outcome = interpret_output(&text, success);
                self.call_output(call_id, &text, outcome, ts, out);
            }
            _ => {}
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn call_started(
        &mut self,
        call_id: &str,
        tool: String,
        input: Option<String>,
        workdir: Option<String>,
        turn_id: Option<String>,
        ts: &str,
        out: &mut Vec<Record>,
    ) {
        let mut r = self.record(ts, Phase::Pre);
        r.call_id = Some(call_id.to_string());
        r.tool = Some(tool.clone());
        r.input = input;
        r.turn_id = turn_id.clone();
        r.cwd = match workdir {
            Some(w) if Path::new(&w).is_absolute() => Some(w),
            Some(w) => self
                .state
                .cwd
                .as_ref()
                .map(|c| Path::new(c).join(&w).to_string_lossy().into_owned()),
            None => self.state.cwd.clone(),
        };
        r.model = self.state.model.clone();
        r.git_head = self.state.git_head.clone();
        out.push(r);
        if self.state.calls.len() >= MAX_PENDING {
            let first = self.state.calls.keys().next().cloned();
            if let Some(k) = first {
                self.state.calls.remove(&k);
            }
        }
        self.state.calls.insert(
            call_id.to_string(),
            Pending {
                tool,
                turn_id,
                ..Pending::default()
            },
        );
    }

    /// The tool and turn of a call seen earlier, for its outcome records.
    fn known(&self, call_id: &str) -> (Option<String>, Option<String>) {
        match self.state.calls.get(call_id) {
            Some(p) => (Some(p.tool.clone()), p.turn_id.clone()),
            None => (None, None),
        }
    }

    fn call_output(
        &mut self,
        call_id: &str,
        raw: &str,
        mut o: Outcome,
        ts: &str,
        out: &mut Vec<Record>,
    ) {
        let (tool, turn) = self.known(call_id);
        let process = o.process.take();
        if tool.as_deref() == Some(POLL_TOOL) {
            self.poll_output(call_id, &mut o, ts, out);
        } else if let Some(process) = process {
            if self.state.processes.len() >= MAX_PENDING {
                let first = self.state.processes.keys().next().cloned();
                if let Some(k) = first {
                    self.state.processes.remove(&k);
                }
            }
            self.state.processes.insert(process, call_id.to_string());
        }
        let mut r = self.record(ts, Phase::Outcome);
        r.call_id = Some(call_id.to_string());
        r.tool = tool;
        r.turn_id = turn;
        r.status = o.status;
        r.exit_code = o.exit_code;
        r.duration_ms = o.duration_ms;
        r.error_type = o.error_type.map(str::to_string);
        let body = o.body.as_deref().unwrap_or(raw);
        if !body.is_empty() {
            r.output = Some(text::excerpt(body));
        }
        if text::shows_truncation(body) {
            r.truncated = Some(true);
        }
        out.push(r);
        let running = o.status == Some(Status::Running);
        let settled = o.status.is_some_and(Status::is_definite);
        self.update(call_id, |p| {
            p.output = true;
            p.running = running;
            p.settled |= settled;
        });
    }

    /// A `write_stdin` poll's output reports the process it writes to (`Process exited with
    /// code 1` is the test run's failure, not the poll's): that end is recorded for the call
    /// that started the process, and the poll itself succeeded. A poll the tool refused
    /// (`write_stdin failed: …`) keeps its own failure.
    fn poll_output(&mut self, call_id: &str, o: &mut Outcome, ts: &str, out: &mut Vec<Record>) {
        if !matches!(
            o.status,
            Some(Status::Ok | Status::Failed | Status::Running)
        ) || o.error_type.is_some()
            || (o.exit_code.is_none() && o.status != Some(Status::Running))
        {
            return;
        }
        let process = self
            .state
            .calls
            .get(call_id)
            .and_then(|p| p.process.clone());
        if let (Some(code), Some(process)) = (o.exit_code, process) {
            let started_by = self.state.processes.remove(&process);
            // Only while its end is unknown: an `exec_command_end` may have settled it.
            if let Some(started_by) = started_by.filter(|c| self.state.calls.contains_key(c)) {
                let mut r = self.outcome(&started_by, SHELL_TOOL, ts);
                r.status = o.status;
                r.exit_code = Some(code);
                if let Some(body) = o.body.as_deref().filter(|b| !b.is_empty()) {
                    r.output = Some(text::excerpt(body));
                }
                out.push(r);
                let status = o.status;
                self.update(&started_by, |p| {
                    p.running = false;
                    p.settled |= status.is_some_and(Status::is_definite);
                });
            }
        }
        o.status = Some(Status::Ok);
        o.exit_code = None;
    }

    /// Updates a pending call and drops it once nothing more is expected for it: its output
    /// was seen and either its status is settled or it is not a command (only commands get a
    /// later `CommandExecution` item, e.g. after running past the end of a turn).
    fn update(&mut self, call_id: &str, f: impl FnOnce(&mut Pending)) {
        let Some(p) = self.state.calls.get_mut(call_id) else {
            return;
        };
        f(p);
        let done = p.output && !p.running && (p.settled || p.tool != SHELL_TOOL);
        if done {
            self.state.calls.remove(call_id);
        }
    }

    fn event_msg(&mut self, p: &Payload, ts: &str, out: &mut Vec<Record>) {
        match s(&p.kind) {
            Some("item_completed") => {
                let Some(item) = p.item.as_ref() else { return };
                let turn = s(&p.turn_id).map(str::to_string);
                match str_of(item, "type") {
                    Some("CommandExecution" | "commandExecution" | "command_execution") => {
                        self.command_end(item, turn, ts, out);
                    }
                    Some("FileChange" | "fileChange" | "file_change") => {
                        self.file_change(item, turn, ts, out);
                    }
                    _ => self.other_item(item, ts, out),
                }
            }
            Some("exec_command_end") => {
                // Legacy: the same facts as a `CommandExecution` item, flat on the payload.
                let item = serde_json::json!({
                    "id": p.call_id,
                    "exit_code": p.exit_code,
                    "aggregated_output": p.aggregated_output.as_ref()
                        .or(p.formatted_output.as_ref()).or(p.stdout.as_ref()),
                    "stderr": if p.aggregated_output.is_none() { p.stderr.clone() } else { None },
                    "duration": p.duration,
                    "status": p.status,
                });
                self.command_end(&item, s(&p.turn_id).map(str::to_string), ts, out);
            }
            Some("patch_apply_end") => {
                let Some(call_id) = s(&p.call_id) else { return };
                let ok = p.success.as_ref().and_then(Value::as_bool);
                let status = match ok {
                    Some(true) => Some(Status::Ok),
                    Some(false) => Some(Status::Failed),
                    None => None,
                };
                let mut r = self.outcome(call_id, PATCH_TOOL, ts);
                r.status = status;
                if status == Some(Status::Failed) {
                    r.error_type = Some("patch_failed".into());
                }
                let stdout = s(&p.stdout).unwrap_or("");
                let stderr = s(&p.stderr).unwrap_or("");
                if !stdout.is_empty() {
                    r.output = Some(text::excerpt(stdout));
                }
                if !stderr.is_empty() {
                    r.stderr = Some(text::excerpt(stderr));
                }
                out.push(r);
                self.settle(call_id, status);
            }
            Some("mcp_tool_call_end") => self.mcp_end(p, ts, out),
            Some("task_started") => {
                if let Some(turn) = s(&p.turn_id) {
                    self.state.turn_id = Some(turn.to_string());
                }
            }
            Some("task_complete") => {
                let mut r = self.session(ts, events::TURN_COMPLETE);
                r.turn_id = s(&p.turn_id)
                    .map(str::to_string)
                    .or_else(|| self.state.turn_id.clone());
                r.duration_ms = p.duration_ms.as_ref().and_then(Value::as_u64);
                r.model = self.state.model.clone();
                out.push(r);
            }
            Some("turn_aborted") => self.turn_aborted(p, ts, out),
            Some("error") => {
                let message = s(&p.message).unwrap_or("");
                let info = p
                    .codex_error_info
                    .as_ref()
                    .map(Value::to_string)
                    .unwrap_or_default();
                let exceeded = info.contains("context_window_exceeded")
                    || message.contains("context window")
                    || message.contains("context_window_exceeded");
                let event = if exceeded {
                    events::CONTEXT_WINDOW_EXCEEDED
                } else {
                    events::ERROR
                };
                let mut r = self.session(ts, event);
                r.turn_id = self.state.turn_id.clone();
                if !message.is_empty() {
                    r.reason = Some(text::reason(message));
                }
                out.push(r);
            }
            _ => {}
        }
    }

    fn outcome(&self, call_id: &str, default_tool: &str, ts: &str) -> Record {
        let (tool, turn) = self.known(call_id);
        let mut r = self.record(ts, Phase::Outcome);
        r.call_id = Some(call_id.to_string());
        r.tool = Some(tool.unwrap_or_else(|| default_tool.to_string()));
        r.turn_id = turn;
        r
    }

    fn settle(&mut self, call_id: &str, status: Option<Status>) {
        let settled = status.is_some_and(Status::is_definite);
        self.update(call_id, |p| p.settled |= settled);
    }

    /// A command's end: `CommandExecution` items and legacy `exec_command_end`.
    fn command_end(&mut self, item: &Value, turn: Option<String>, ts: &str, out: &mut Vec<Record>) {
        let Some(call_id) = str_of(item, "id").or_else(|| str_of(item, "call_id")) else {
            return;
        };
        let exit = int_of(item, &["exit_code", "exitCode"]).map(|c| c as i32);
        let status_text = str_of(item, "status");
        let prior = self.state.calls.get(call_id);
        let was_running = prior.is_some_and(|p| p.running);
        // The model already saw an output (e.g. `aborted by user`) before the process ended:
        // the item only reports how Codex killed it. A call no longer pending was dropped
        // after its output settled it.
        let output_first = prior.is_none_or(|p| p.output);
        let mut r = self.outcome(call_id, SHELL_TOOL, ts);
        if r.turn_id.is_none() {
            r.turn_id = turn;
        }
        // Codex kills a process it gives up on: -1 ("no exit code") when it stops waiting
        // first, 137/143 (SIGKILL/SIGTERM) when it sees the death first — scheduling decides.
        let killed = matches!(exit, Some(-1 | 137 | 143));
        let (status, error_type) = match (exit, status_text) {
            // A command still running when its turn ended (killed when the session ends)
            // stays `running`; one killed by an interrupt is `aborted`.
            _ if killed && was_running => (Status::Running, None),
            _ if killed && (exit == Some(-1) || output_first) => (Status::Aborted, None),
            (_, Some("declined")) => (Status::Denied, Some("approval_denied")),
            (Some(0), _) => (Status::Ok, None),
            (Some(_), _) => (Status::Failed, None),
            (None, Some("completed")) => (Status::Ok, None),
            (None, Some("failed")) => (Status::Failed, None),
            (None, Some("in_progress" | "inProgress")) => (Status::Running, None),
            _ => (Status::Unknown, None),
        };
        r.status = Some(status);
        r.error_type = error_type.map(str::to_string);
        r.exit_code = exit.filter(|c| *c >= 0);
        r.duration_ms = item
            .get("duration")
            .and_then(text::duration_ms)
            .or_else(|| int_of(item, &["duration_ms", "durationMs"]).map(|d| d.max(0) as u64));
        if let Some(cwd) = str_of(item, "cwd") {
            r.cwd = Some(text::path_from_url(cwd));
        }
        let output = str_of(item, "aggregated_output")
            .or_else(|| str_of(item, "aggregatedOutput"))
            .unwrap_or("");
        if !output.is_empty() {
            r.output = Some(text::excerpt(output));
            if text::shows_truncation(output) {
                r.truncated = Some(true);
            }
        }
        if let Some(err) = str_of(item, "stderr").filter(|e| !e.is_empty()) {
            r.stderr = Some(text::excerpt(err));
        }
        out.push(r);
        let settled = status.is_definite();
        self.update(call_id, |p| {
            p.settled |= settled;
            if settled || status == Status::Running {
                // Its end is known: nothing later will change it.
                p.running = false;
                p.settled = true;
            }
        });
    }

    fn file_change(&mut self, item: &Value, turn: Option<String>, ts: &str, out: &mut Vec<Record>) {
        let Some(call_id) = str_of(item, "id") else {
            return;
        };
        let (status, error_type) = match str_of(item, "status") {
            Some("completed") => (Some(Status::Ok), None),
            Some("failed") => (Some(Status::Failed), Some("patch_failed")),
            Some("declined") => (Some(Status::Denied), Some("approval_denied")),
            Some("in_progress" | "inProgress") => (Some(Status::Running), None),
            _ => (None, None),
        };
        let mut r = self.outcome(call_id, PATCH_TOOL, ts);
        if r.turn_id.is_none() {
            r.turn_id = turn;
        }
        r.status = status;
        r.error_type = error_type.map(str::to_string);
        if let Some(o) = str_of(item, "stdout").filter(|o| !o.is_empty()) {
            r.output = Some(text::excerpt(o));
        }
        if let Some(e) = str_of(item, "stderr").filter(|e| !e.is_empty()) {
            r.stderr = Some(text::excerpt(e));
        }
        out.push(r);
        self.settle(call_id, status);
    }

    /// Any other completed item that names a pending call and says how it went
    /// (`McpToolCall`, `CollabAgentToolCall`, …).
    fn other_item(&mut self, item: &Value, ts: &str, out: &mut Vec<Record>) {
        let Some(call_id) = str_of(item, "id") else {
            return;
        };
        if !self.state.calls.contains_key(call_id) {
            return;
        }
        let status = match str_of(item, "status") {
            Some("completed") => Status::Ok,
            Some("failed") => Status::Failed,
            Some("declined") => Status::Denied,
            _ => return,
        };
        let mut r = self.outcome(call_id, "unknown", ts);
        r.status = Some(status);
        if status == Status::Denied {
            r.error_type = Some("approval_denied".into());
        }
        if let Some(err) = item.get("error").filter(|e| !e.is_null()) {
            let text = err.as_str().map_or_else(|| err.to_string(), str::to_string);
            r.output = Some(text::excerpt(&text));
        }
        r.duration_ms = int_of(item, &["duration_ms", "durationMs"]).map(|d| d.max(0) as u64);
        out.push(r);
        self.settle(call_id, Some(status));
    }

    /// Legacy `mcp_tool_call_end {call_id, result: {Ok: CallToolResult} | {Err: text}}`.
    fn mcp_end(&mut self, p: &Payload, ts: &str, out: &mut Vec<Record>) {
        let Some(call_id) = s(&p.call_id) else { return };
        let result = p.result.as_ref();
        let (status, text) = match result {
            Some(r) if r.get("Err").is_some() => {
                let e = &r["Err"];
                (
                    Status::Failed,
                    e.as_str().map_or_else(|| e.to_string(), str::to_string),
                )
            }
            Some(r) => {
                let ok = r.get("Ok").unwrap_or(r);
                let failed = ok.get("isError").and_then(Value::as_bool) == Some(true);
                (
                    if failed { Status::Failed } else { Status::Ok },
                    text::content_text(ok.get("content")),
                )
            }
            None => match s(&p.status) {
                Some("failed") => (Status::Failed, String::new()),
                Some(_) => (Status::Ok, String::new()),
                None => return,
            },
        };
        let mut r = self.outcome(call_id, "unknown", ts);
        r.status = Some(status);
        r.duration_ms = p.duration.as_ref().and_then(text::duration_ms);
        if !text.is_empty() {
            r.output = Some(text::excerpt(&text));
        }
        out.push(r);
        self.settle(call_id, Some(status));
    }

    fn turn_aborted(&mut self, p: &Payload, ts: &str, out: &mut Vec<Record>) {
        let turn = s(&p.turn_id)
            .map(str::to_string)
            .or_else(|| self.state.turn_id.clone());
        let mut r = self.session(ts, events::TURN_ABORTED);
        r.turn_id = turn.clone();
        r.reason = s(&p.reason).map(str::to_string);
        r.duration_ms = p.duration_ms.as_ref().and_then(Value::as_u64);
        out.push(r);
        // Calls of the aborted turn that never got an output were cut off.
        let cut: Vec<String> = self
            .state
            .calls
            .iter()
            .filter(|(_, c)| {
                !c.output && (turn.is_none() || c.turn_id.is_none() || c.turn_id == turn)
            })
            .map(|(id, _)| id.clone())
            .collect();
        for call_id in cut {
            let mut r = self.outcome(&call_id, "unknown", ts);
            r.status = Some(Status::Aborted);
            out.push(r);
            self.update(&call_id, |c| {
                c.output = true;
                c.settled = true;
                c.running = false;
            });
        }
    }
}

/// Tool name, input and working directory of a `function_call`.
fn describe_function_call(name: &str, args: &Value) -> (String, Option<String>, Option<String>) {
    let workdir = args
        .get("workdir")
        .or_else(|| args.get("working_directory"))
        .and_then(Value::as_str)
        .map(str::to_string);
    match name {
        "exec_command" | "shell" | "shell_command" | "container.exec" | "local_shell" => {
            let cmd = match args.get("cmd").or_else(|| args.get("command")) {
                Some(Value::String(c)) => Some(text::input(c)),
                Some(Value::Array(argv)) => Some(text::input(&text::command_from_argv(argv))),
                _ => None,
            };
            (SHELL_TOOL.to_string(), cmd, workdir)
        }
        "apply_patch" => {
            let input = match args {
                Value::String(t) => Some(text::input(t)),
                _ => str_of(args, "input")
                    .or_else(|| str_of(args, "patch"))
                    .map(text::input),
            };
            (PATCH_TOOL.to_string(), input, workdir)
        }
        _ => {
            let input = match args {
                Value::Null => None,
                Value::String(t) => Some(text::input(t)),
                v => Some(text::json_input(v)),
            };
            (name.to_string(), input, None)
        }
    }
}

/// The text of a tool output as the rollout stores it (a string, `{content, success}`, or a
/// list of content items), and its `success` flag when given.
fn output_text(v: Option<&Value>) -> (String, Option<bool>) {
    match v {
        Some(Value::String(t)) => (t.clone(), None),
        Some(Value::Object(o)) => {
            let success = o.get("success").and_then(Value::as_bool);
            let text = match o.get("content") {
                Some(Value::String(t)) => t.clone(),
                other => text::content_text(other),
            };
            (text, success)
        }
        Some(Value::Array(_)) => (text::content_text(v), None),
        _ => (String::new(), None),
    }
}

/// How a call ended, read from the output text the model was shown. Texts observed from
/// Codex 0.169.0 (see `docs/codex-observed.md`) and the older shapes.
fn interpret_output(text: &str, success: Option<bool>) -> Outcome {
    let t = text.trim_start();
    let fail = |status, error_type| Outcome {
        status: Some(status),
        error_type,
        ..Outcome::default()
    };
    if t.starts_with("Command blocked by PreToolUse hook")
        || t.contains("blocked by PreToolUse hook")
    {
        return fail(Status::Blocked, Some("hook_blocked"));
    }
    if t.contains("rejected by user") {
        return fail(Status::Denied, Some("approval_denied"));
    }
    if t.starts_with("approval policy is Never") {
        return fail(Status::Denied, Some("approval_denied"));
    }
    if t.starts_with("apply_patch verification failed") {
        return fail(Status::Failed, Some("patch_failed"));
    }
    if let Some(why) = tool_failure(t) {
        if why.contains("Rejected(") {
            let et = if why.to_ascii_lowercase().contains("sandbox") {
                "sandbox_denied"
            } else {
                "approval_denied"
            };
            return fail(Status::Denied, Some(et));
        }
        return fail(Status::Failed, None);
    }
    if let Some(o) = stated_failure(t) {
        return o;
    }
    if t.starts_with('{') {
        if let Some(o) = legacy_json_output(t) {
            return o;
        }
    }
    let mut o = headed_output(text);
    if o.status.is_none() {
        o.status = match success {
            Some(true) => Some(Status::Ok),
            Some(false) => Some(Status::Failed),
            None => None,
        };
    }
    if o.status != Some(Status::Ok)
        && o.body
            .as_deref()
            .unwrap_or(text)
            .contains("command timed out")
    {
        o.status = Some(Status::Timeout);
    }
    o
}

/// `<tool> failed: <why>`: a tool's own error, as Codex words it for every tool
/// (`exec_command failed: …`, `write_stdin failed: stdin is closed for this session; …`,
/// `apply_patch failed: …`). Returns `why` when the text has that shape.
fn tool_failure(t: &str) -> Option<&str> {
    let (tool, why) = t.split_once(" failed: ")?;
    let is_tool_name = !tool.is_empty()
        && tool.len() <= 40
        && tool
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.');
    is_tool_name.then_some(why)
}

/// The beginnings of apply_patch's own error messages (older Codex versions return them as
/// the plain output text, sometimes behind `error: `).
const PATCH_ERRORS: &[&str] = &[
    "Failed to find expected lines",
    "Failed to read file to update",
    "Failed to read file",
    "Failed to write file",
    "Failed to delete file",
    "Invalid patch",
    "invalid hunk",
    "Invalid Context",
];

/// Failures that older Codex versions state only in words, with no exit-code field or
/// header: the exit code, when the words carry one, is taken from them.
///
/// - `failed in sandbox LinuxSeccomp with execution error: sandbox denied exec error, exit
///   code: 2, stdout: …, stderr: …` (the sandbox stopped the command; its exit code is in the
///   text), or `… with execution error: command timed out`;
/// - `execution error: …` (the command could not be started);
/// - apply_patch's errors as plain text (`error: Failed to find expected lines in …`).
fn stated_failure(t: &str) -> Option<Outcome> {
    if let Some(rest) = t.strip_prefix("failed in sandbox ") {
        let err = rest
            .split_once(" with execution error: ")
            .map_or(rest, |(_, e)| e);
        if err.starts_with("command timed out") || err.starts_with("Timeout") {
            return Some(Outcome {
                status: Some(Status::Timeout),
                error_type: Some("timeout"),
                ..Outcome::default()
            });
        }
        let denied = err.strip_prefix("sandbox denied exec error, exit code: ");
        let exit_code = denied
            .and_then(|r| r.split(',').next())
            .and_then(|c| c.trim().parse::<i32>().ok())
            .filter(|c| *c > 0);
        // `stdout: A, stderr: B`: the command's own output, for the classifier and excerpts.
        let body = denied
            .and_then(|r| r.split_once(", stdout: "))
            .map(|(_, out)| match out.rsplit_once(", stderr: ") {
                Some(("", e)) => e.to_string(),
                Some((o, e)) => format!("{o}\n{e}"),
                None => out.to_string(),
            });
        return Some(Outcome {
            status: Some(Status::Failed),
            exit_code,
            error_type: Some("sandbox_denied"),
            body,
            ..Outcome::default()
        });
    }
    if t.starts_with("execution error: ") {
        // The program could not be started; `NotFound` from the spawn means it does not exist.
        let not_found = t.contains("kind: NotFound");
        return Some(Outcome {
            status: Some(Status::Failed),
            error_type: not_found.then_some("command_not_found"),
            ..Outcome::default()
        });
    }
    let patch = t.strip_prefix("error: ").unwrap_or(t);
    if PATCH_ERRORS.iter().any(|p| patch.starts_with(p)) {
        return Some(Outcome {
            status: Some(Status::Failed),
            error_type: Some("patch_failed"),
            ..Outcome::default()
        });
    }
    None
}

/// Older shell outputs: `{"output": "...", "metadata": {"exit_code": N, "duration_seconds": S}}`.
fn legacy_json_output(t: &str) -> Option<Outcome> {
    let v: Value = serde_json::from_str(t).ok()?;
    let body = str_of(&v, "output")?.to_string();
    let meta = v.get("metadata")?;
    let exit = int_of(meta, &["exit_code"]).map(|c| c as i32);
    let duration = meta
        .get("duration_seconds")
        .and_then(Value::as_f64)
        .map(|s| (s.max(0.0) * 1000.0).round() as u64);
    let status = match exit {
        Some(0) => Some(Status::Ok),
        Some(-1) => Some(Status::Aborted),
        Some(124) if body.contains("timed out") => Some(Status::Timeout),
        Some(_) => Some(Status::Failed),
        None => None,
    };
    Some(Outcome {
        status,
        exit_code: exit.filter(|c| *c >= 0),
        duration_ms: duration,
        body: Some(body),
        ..Outcome::default()
    })
}

/// Outputs with Codex's header lines before `Output:` — unified exec
/// (`Chunk ID`, `Wall time`, `Process exited with code N` / `Process running with session
/// ID K`, `Original token count`) and apply_patch/shell (`Exit code: N`, `Wall time`) — and
/// the interrupt text `Wall time: …\naborted by user`.
fn headed_output(text: &str) -> Outcome {
    let mut o = Outcome::default();
    let mut running = false;
    let mut aborted = false;
    let mut rest = text;
    let mut saw_header = false;
    loop {
        let (line, after) = match rest.split_once('\n') {
            Some((l, a)) => (l, Some(a)),
            None => (rest, None),
        };
        let l = line.trim_end_matches('\r');
        if l == "Output:" {
            o.body = Some(after.unwrap_or("").to_string());
            break;
        } else if let Some(code) = l
            .strip_prefix("Process exited with code ")
            .or_else(|| l.strip_prefix("Exit code: "))
        {
            o.exit_code = code.trim().parse().ok();
        } else if let Some(id) = l.strip_prefix("Process running with session ID") {
            running = true;
            o.process = Some(id.trim().to_string());
        } else if l.starts_with("Wall time:") {
            o.duration_ms = text::wall_time_ms(l);
        } else if l.starts_with("Chunk ID:") || l.starts_with("Original token count:") {
        } else if l.trim() == "aborted by user" || l.trim() == "aborted" {
            aborted = true;
        } else {
            // Not a header: the text is plain output.
            if !saw_header {
                return Outcome::default();
            }
            break;
        }
        saw_header = true;
        match after {
            Some(a) => rest = a,
            None => break,
        }
    }
    if !saw_header {
        return Outcome::default();
    }
    o.status = if aborted {
        Some(Status::Aborted)
    } else if let Some(code) = o.exit_code {
        if code == 0 {
            Some(Status::Ok)
        } else if code < 0 {
            o.exit_code = None;
            Some(Status::Aborted)
        } else {
            Some(Status::Failed)
        }
    } else if running {
        Some(Status::Running)
    } else {
        None
    };
    o
}

/// The result of reading a rollout from a saved state.
pub struct Read {
    pub records: Vec<Record>,
    pub state: State,
    pub stats: ParseStats,
    /// Whether the read stopped early (deadline) with complete lines left to read.
    pub stopped_early: bool,
}

/// Reads the complete lines of `path` after `state.offset` (all of it for a default state),
/// returning their records and the advanced state. A last line without its newline is left
/// for the next read (Codex may be writing it). A file shorter than the saved offset is a
/// different file: it is read from the start. With a `deadline`, reading stops at a line
/// boundary once it passes. `ended` says the rollout will not grow (import, `SessionEnd`):
/// records held back for a later line are then written.
pub fn read(
    path: &Path,
    state: State,
    fallback_session: Option<&str>,
    deadline: Option<Instant>,
    ended: bool,
) -> io::Result<Read> {
    let file = File::open(path)?;
    let meta = file.metadata()?;
    let fallback_ts = meta
        .modified()
        .ok()
        .map(|m| format_ts(m.into()))
        .unwrap_or_else(codex_contract::record::now_ts);
    let mut state = state;
    if state.offset > meta.len() {
        state = State::default();
    }
    let mut reader = BufReader::with_capacity(256 * 1024, file);
    reader.seek(SeekFrom::Start(state.offset))?;
    let mut offset = state.offset;
    let mut parser = Parser::new(state, fallback_session.map(str::to_string), fallback_ts);
    let mut records = Vec::new();
    let mut buf = Vec::with_capacity(64 * 1024);
    let mut stopped_early = false;
    loop {
        if let Some(d) = deadline {
            if parser.stats.lines.is_multiple_of(32) && Instant::now() >= d {
                stopped_early = true;
                break;
            }
        }
        buf.clear();
        let n = reader.read_until(b'\n', &mut buf)?;
        if n == 0 || buf.last() != Some(&b'\n') {
            break;
        }
        parser.line(&buf[..n - 1], &mut records);
        offset += n as u64;
    }
    if ended && !stopped_early {
        parser.flush(&mut records);
    }
    let stats = parser.stats;
    let mut state = parser.into_state();
    state.offset = offset;
    Ok(Read {
        records,
        state,
        stats,
        stopped_early,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_texts() {
        let o = interpret_output(
            "Chunk ID: 80a725\nWall time: 0.0000 seconds\nProcess exited with code 2\nOriginal token count: 14\nOutput:\nls: cannot access '/nope'\n",
            None,
        );
        assert_eq!(o.status, Some(Status::Failed));
        assert_eq!(o.exit_code, Some(2));
        assert_eq!(o.body.as_deref(), Some("ls: cannot access '/nope'\n"));

        let o = interpret_output(
            "Exit code: 0\nWall time: 0 seconds\nOutput:\nSuccess.\n",
            None,
        );
        assert_eq!(
            (o.status, o.exit_code, o.duration_ms),
            (Some(Status::Ok), Some(0), Some(0))
        );

        let o = interpret_output(
            "Chunk ID: 87e9ac\nWall time: 0.3016 seconds\nProcess running with session ID 44050\nOriginal token count: 0\nOutput:\n",
            None,
        );
        assert_eq!(o.status, Some(Status::Running));
        assert_eq!(o.duration_ms, Some(302));

        let o = interpret_output("Wall time: 0.5 seconds\naborted by user", None);
        assert_eq!(o.status, Some(Status::Aborted));

        let o = interpret_output(
            "Command blocked by PreToolUse hook: nope. Command: rm x",
            None,
        );
        assert_eq!(
            (o.status, o.error_type),
            (Some(Status::Blocked), Some("hook_blocked"))
        );

        let o = interpret_output(
            "exec_command failed: CreateProcess { message: \"Rejected(\\\"denied by test hook\\\")\" }",
            None,
        );
        assert_eq!(
            (o.status, o.error_type),
            (Some(Status::Denied), Some("approval_denied"))
        );

        let o = interpret_output("apply_patch verification failed: Failed to read file", None);
        assert_eq!(
            (o.status, o.error_type),
            (Some(Status::Failed), Some("patch_failed"))
        );

        let o = interpret_output(
            r#"{"output":"boom\n","metadata":{"exit_code":1,"duration_seconds":0.25}}"#,
            None,
        );
        assert_eq!(
            (o.status, o.exit_code, o.duration_ms),
            (Some(Status::Failed), Some(1), Some(250))
        );
        assert_eq!(o.body.as_deref(), Some("boom\n"));

        // Failures stated only in words (older Codex versions).
        let o = interpret_output(
            "failed in sandbox LinuxSeccomp with execution error: sandbox denied exec error, exit code: 2, stdout: , stderr: ls: cannot access '/root': Permission denied",
            None,
        );
        assert_eq!(
            (o.status, o.exit_code, o.error_type),
            (Some(Status::Failed), Some(2), Some("sandbox_denied"))
        );
        assert_eq!(
            o.body.as_deref(),
            Some("ls: cannot access '/root': Permission denied")
        );
        let o = interpret_output(
            "failed in sandbox MacosSeatbelt with execution error: command timed out",
            None,
        );
        assert_eq!(o.status, Some(Status::Timeout));
        let o = interpret_output(
            "write_stdin failed: stdin is closed for this session; rerun exec_command with tty=true to keep stdin open",
            None,
        );
        assert_eq!(o.status, Some(Status::Failed));
        let o = interpret_output(
            "error: Failed to find expected lines [\"let a = 1;\"] in src/lib.rs",
            None,
        );
        assert_eq!(
            (o.status, o.error_type),
            (Some(Status::Failed), Some("patch_failed"))
        );
        let o = interpret_output(
            "execution error: Io(Os { code: 2, kind: NotFound, message: \"No such file or directory\" })",
            None,
        );
        assert_eq!(o.status, Some(Status::Failed));
        // Words that only look like a failure stay no evidence.
        assert_eq!(
            interpret_output("Build failed: see above", None).status,
            None
        );
        assert_eq!(
            interpret_output("the error: Failed to find", None).status,
            None
        );

        // Plain text, no headers: no evidence.
        let o = interpret_output("{\"task_name\":\"/root/helper\"}", None);
        assert_eq!(o.status, None);
        let o = interpret_output("hello\nOutput:\nx", None);
        assert_eq!(o.status, None);
        assert_eq!(
            interpret_output("fine", Some(true)).status,
            Some(Status::Ok)
        );
    }

    /// Folds a captured rollout with the shell call's exit code rewritten, as Codex writes
    /// it when it sees the killed process die first.
    fn fold_with_exit(fixture: &str, exit: &str) -> Vec<codex_contract::Call> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/codex-0.169.0")
            .join(fixture)
            .join("rollout.jsonl");
        let text = std::fs::read_to_string(path).unwrap();
        let text = text.replace("\"exit_code\":-1", &format!("\"exit_code\":{exit}"));
        let mut parser = Parser::new(State::default(), None, "2026-01-01T00:00:00Z".into());
        let mut out = Vec::new();
        for line in text.lines() {
            parser.line(line.as_bytes(), &mut out);
        }
        parser.flush(&mut out);
        codex_contract::fold(out)
    }

    #[test]
    fn a_killed_call_means_the_same_with_minus_one_or_137() {
        for exit in ["-1", "137"] {
            let interrupted = fold_with_exit("interrupt", exit);
            let call = interrupted
                .iter()
                .find(|c| c.tool.as_deref() == Some("Bash"))
                .unwrap();
            assert_eq!(call.status, Status::Aborted, "interrupt, exit {exit}");
            let still = fold_with_exit("still-running", exit);
            let call = still
                .iter()
                .find(|c| c.tool.as_deref() == Some("Bash"))
                .unwrap();
            assert_eq!(call.status, Status::Running, "still running, exit {exit}");
        }
    }

    #[test]
    fn calls_carry_the_commit_the_session_started_on() {
        let lines = [
            r#"{"timestamp":"2026-11-22T00:09:57.985Z","ordinal":0,"type":"session_meta","payload":{"session_id":"S","id":"S","cwd":"/r","git":{"commit_hash":"b22a542fecce8e402df5338806156da74a602660","branch":"main"}}}"#,
            r#"{"timestamp":"2026-11-22T00:09:58.052Z","ordinal":1,"type":"response_item","payload":{"type":"function_call","name":"exec_command","arguments":"{\"cmd\":\"ls\"}","call_id":"call_0"}}"#,
        ];
        let mut parser = Parser::new(State::default(), None, "2026-11-22T00:00:00Z".into());
        let mut out = Vec::new();
        for l in lines {
            parser.line(l.as_bytes(), &mut out);
        }
        parser.flush(&mut out);
        let head = Some("b22a542fecce8e402df5338806156da74a602660");
        let pre = out.iter().find(|r| r.phase == Some(Phase::Pre)).unwrap();
        assert_eq!(pre.git_head.as_deref(), head);
        let start = out
            .iter()
            .find(|r| r.phase == Some(Phase::Session))
            .unwrap();
        assert_eq!(start.git_head.as_deref(), head);
        // A later read that resumes from the saved state still knows the commit.
        let mut resumed = Parser::new(parser.into_state(), None, "2026-11-22T00:00:00Z".into());
        let mut more = Vec::new();
        resumed.line(lines[1].replace("call_0", "call_1").as_bytes(), &mut more);
        assert_eq!(more[0].git_head.as_deref(), head);
    }
}
