//! `codex-shim import --exec-json`: record the calls of a `codex exec --json` stream while
//! passing it through untouched, so a CI step can pipe through the shim:
//!
//! ```sh
//! codex exec --json "fix the build" | codex-shim import --exec-json | jq ...
//! ```
//!
//! Every byte read from stdin is written to stdout as soon as it is read, before it is parsed
//! (malformed lines included); a closed stdout stops the copying but not the recording, so
//! the producer is never killed by the shim. The stream has no durations and no call IDs:
//! durations are measured from `item.started` to `item.completed`, and calls are named by the
//! stream's item IDs (`item_3`), which are per-stream counters that cannot be joined to hooks
//! or the rollout (see `docs/capture.md`). Items the stream never completes are `running`
//! when their turn completed, `aborted` when the stream ended without a turn end.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use codex_contract::append::Appender;
use codex_contract::chrono::{DateTime, Utc};
use codex_contract::record::{events, Phase, Record, Source, Status};
use serde_json::Value;

use crate::rollout::{PATCH_TOOL, SHELL_TOOL};
use crate::text::{self, int_of, str_of};

/// Counts of one stream.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct StreamStats {
    pub lines: u64,
    pub records: u64,
    /// Lines that are not JSON objects with a known `type`.
    pub unknown: u64,
}

struct Started {
    at: Instant,
    tool: String,
}

/// Turns exec-json events into records.
pub struct Recorder {
    session_id: Option<String>,
    started: HashMap<String, Started>,
    turn_open: bool,
    pub stats: StreamStats,
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder::new()
    }
}

impl Recorder {
    pub fn new() -> Recorder {
        Recorder {
            session_id: None,
            started: HashMap::new(),
            turn_open: false,
            stats: StreamStats::default(),
        }
    }

    fn record(&self, now: DateTime<Utc>, phase: Phase) -> Record {
        let mut r = Record::at(now, Source::ExecJson, phase);
        r.session_id = self.session_id.clone();
        r
    }

    /// One line of the stream (without its newline), observed at `now`.
    pub fn line(&mut self, line: &[u8], now: DateTime<Utc>, mono: Instant) -> Vec<Record> {
        self.stats.lines += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            return Vec::new();
        }
        let Ok(v) = serde_json::from_slice::<Value>(line) else {
            self.stats.unknown += 1;
            return Vec::new();
        };
        let mut out = Vec::new();
        match str_of(&v, "type") {
            Some("thread.started") => {
                self.session_id = str_of(&v, "thread_id").map(str::to_string);
                let mut r = self.record(now, Phase::Session);
                r.event = Some(events::SESSION_START.into());
                r.reason = Some("exec".into());
                out.push(r);
            }
            Some("turn.started") => self.turn_open = true,
            Some("item.started") => {
                if let Some(item) = v.get("item") {
                    if let Some(r) = self.item_started(item, now, mono) {
                        out.push(r);
                    }
                }
            }
            Some("item.completed") => {
                if let Some(item) = v.get("item") {
                    if let Some(r) = self.item_completed(item, now, mono) {
                        out.push(r);
                    }
                }
            }
            Some("item.updated") => {}
            Some("turn.completed") => {
                self.turn_open = false;
                // Calls the turn left behind are still running (Codex reports them no more).
                let mut ids: Vec<String> = self.started.keys().cloned().collect();
                ids.sort();
                for id in ids {
                    let s = self.started.remove(&id).expect("key listed");
                    let mut r = self.record(now, Phase::Outcome);
                    r.call_id = Some(id);
                    r.tool = Some(s.tool);
                    r.status = Some(Status::Running);
                    out.push(r);
                }
                let mut r = self.record(now, Phase::Session);
                r.event = Some(events::TURN_COMPLETE.into());
                out.push(r);
            }
            Some("turn.failed") => {
                self.turn_open = false;
                let mut r = self.record(now, Phase::Session);
                r.event = Some(events::TURN_FAILED.into());
                r.reason = v
                    .get("error")
                    .and_then(|e| str_of(e, "message"))
                    .map(text::reason);
                out.push(r);
            }
            Some("error") => {
                let message = str_of(&v, "message").unwrap_or("");
                let event = if message.contains("context window")
                    || message.contains("context_window_exceeded")
                {
                    events::CONTEXT_WINDOW_EXCEEDED
                } else {
                    events::ERROR
                };
                let mut r = self.record(now, Phase::Session);
                r.event = Some(event.into());
                r.reason = (!message.is_empty()).then(|| text::reason(message));
                out.push(r);
            }
            _ => self.stats.unknown += 1,
        }
        self.stats.records += out.len() as u64;
        out
    }

    fn item_started(&mut self, item: &Value, now: DateTime<Utc>, mono: Instant) -> Option<Record> {
        let id = str_of(item, "id")?;
        let (tool, input) = describe(item)?;
        self.started.insert(
            id.to_string(),
            Started {
                at: mono,
                tool: tool.clone(),
            },
        );
        let mut r = self.record(now, Phase::Pre);
        r.call_id = Some(id.to_string());
        r.tool = Some(tool);
        r.input = input;
        Some(r)
    }

    fn item_completed(
        &mut self,
        item: &Value,
        now: DateTime<Utc>,
        mono: Instant,
    ) -> Option<Record> {
        let id = str_of(item, "id")?;
        let (tool, input) = describe(item)?;
        let started = self.started.remove(id);
        let mut r = self.record(now, Phase::Outcome);
        r.call_id = Some(id.to_string());
        r.tool = Some(tool.clone());
        if started.is_none() {
            // No item.started (e.g. file changes reported only when done): this is the
            // only record of the call.
            r.input = input;
        }
        r.duration_ms = started.map(|s| mono.duration_since(s.at).as_millis() as u64);
        let status_text = str_of(item, "status");
        let declined = status_text == Some("declined");
        match str_of(item, "type") {
            Some("command_execution") => {
                let exit = int_of(item, &["exit_code", "exitCode"]).map(|c| c as i32);
                r.exit_code = exit.filter(|c| *c >= 0);
                r.status = Some(match (exit, status_text) {
                    _ if declined => Status::Denied,
                    (Some(-1), _) => Status::Aborted,
                    (Some(0), _) => Status::Ok,
                    (Some(_), _) => Status::Failed,
                    (None, Some("completed")) => Status::Ok,
                    (None, Some("failed")) => Status::Failed,
                    _ => Status::Unknown,
                });
                let out = str_of(item, "aggregated_output").unwrap_or("");
                if !out.is_empty() {
                    r.output = Some(text::excerpt(out));
                    r.truncated = text::shows_truncation(out).then_some(true);
                }
            }
            Some("file_change") => {
                r.status = Some(match status_text {
                    _ if declined => Status::Denied,
                    Some("completed") => Status::Ok,
                    Some("failed") => Status::Failed,
                    _ => Status::Unknown,
                });
                if r.status == Some(Status::Failed) {
                    r.error_type = Some("patch_failed".into());
                }
            }
            Some("mcp_tool_call") => {
                let error = item.get("error").filter(|e| !e.is_null());
                r.status = Some(match status_text {
                    _ if declined => Status::Denied,
                    _ if error.is_some() => Status::Failed,
                    Some("completed") => Status::Ok,
                    Some("failed") => Status::Failed,
                    _ => Status::Unknown,
                });
                let text = match (error, item.get("result").filter(|x| !x.is_null())) {
                    (Some(e), _) => str_of(e, "message")
                        .map(str::to_string)
                        .unwrap_or_else(|| e.to_string()),
                    (None, Some(res)) => match res.get("content") {
                        Some(Value::Array(items)) => items
                            .iter()
                            .filter_map(|i| str_of(i, "text"))
                            .collect::<Vec<_>>()
                            .join("\n"),
                        _ => res.to_string(),
                    },
                    _ => String::new(),
                };
                if !text.is_empty() {
                    r.output = Some(text::excerpt(&text));
                }
            }
            _ => return None,
        }
        if declined {
            r.error_type = Some("approval_denied".into());
        }
        Some(r)
    }

    /// At the end of the stream: calls never completed in an unfinished turn were cut off.
    pub fn finish(&mut self, now: DateTime<Utc>) -> Vec<Record> {
        let mut ids: Vec<String> = self.started.keys().cloned().collect();
        ids.sort();
        let mut out = Vec::new();
        for id in ids {
            let s = self.started.remove(&id).expect("key listed");
            let mut r = self.record(now, Phase::Outcome);
            r.call_id = Some(id);
            r.tool = Some(s.tool);
            r.status = Some(if self.turn_open {
                Status::Aborted
            } else {
                Status::Running
            });
            out.push(r);
        }
        self.stats.records += out.len() as u64;
        out
    }
}

/// The tool name and input of a call item; `None` for items that are not calls.
fn describe(item: &Value) -> Option<(String, Option<String>)> {
    match str_of(item, "type")? {
        "command_execution" => {
            let input = match item.get("command") {
                Some(Value::String(c)) => Some(text::input(&text::unwrap_shell_string(c))),
                Some(Value::Array(argv)) => Some(text::input(&text::command_from_argv(argv))),
                _ => None,
            };
            Some((SHELL_TOOL.to_string(), input))
        }
        "file_change" => {
            let paths: Vec<String> = item
                .get("changes")
                .and_then(Value::as_array)
                .map(|cs| {
                    cs.iter()
                        .filter_map(|c| {
                            let path = str_of(c, "path")?;
                            Some(format!("{} {path}", str_of(c, "kind").unwrap_or("update")))
                        })
                        .collect()
                })
                .unwrap_or_default();
            let input = (!paths.is_empty()).then(|| text::input(&paths.join("\n")));
            Some((PATCH_TOOL.to_string(), input))
        }
        "mcp_tool_call" => {
            let server = str_of(item, "server").unwrap_or("unknown");
            let tool = str_of(item, "tool").unwrap_or("unknown");
            let input = item
                .get("arguments")
                .filter(|a| !a.is_null())
                .map(text::json_input);
            Some((format!("mcp__{server}__{tool}"), input))
        }
        _ => None,
    }
}

/// Copies stdin to stdout unchanged while recording the calls into `log`. Returns the
/// stream's counts; recording failures are warnings, never a broken pipe for the producer.
pub fn run(log: &Path, lock_timeout: Duration) -> io::Result<StreamStats> {
    let mut stdin = io::stdin().lock();
    let mut stdout = io::stdout().lock();
    let mut appender = match Appender::open(log) {
        Ok(a) => Some(a.lock_timeout(lock_timeout)),
        Err(e) => {
            crate::warn::warn(
                &format!("import --exec-json: {e}; passing the stream through without recording"),
                false,
            );
            None
        }
    };
    let mut recorder = Recorder::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut pending: Vec<u8> = Vec::new();
    let mut out_open = true;
    let mut warned = false;
    let mut write_records = |records: Vec<Record>, appender: &mut Option<Appender>| {
        if records.is_empty() {
            return;
        }
        if let Some(a) = appender.as_mut() {
            if let Err(e) = a.append(&records) {
                if !warned {
                    crate::warn::warn(
                        &format!("import --exec-json: could not record ({e})"),
                        false,
                    );
                    warned = true;
                }
            }
        }
    };
    loop {
        let n = match stdin.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if out_open && (stdout.write_all(&buf[..n]).is_err() || stdout.flush().is_err()) {
            // The reader went away; keep recording, stop copying.
            out_open = false;
        }
        pending.extend_from_slice(&buf[..n]);
        let mut start = 0;
        while let Some(i) = pending[start..].iter().position(|&b| b == b'\n') {
            let end = start + i;
            let line = pending[start..end]
                .strip_suffix(b"\r")
                .unwrap_or(&pending[start..end]);
            let records = recorder.line(line, Utc::now(), Instant::now());
            write_records(records, &mut appender);
            start = end + 1;
        }
        pending.drain(..start);
    }
    if !pending.is_empty() {
        let records = recorder.line(&pending, Utc::now(), Instant::now());
        write_records(records, &mut appender);
    }
    let records = recorder.finish(Utc::now());
    write_records(records, &mut appender);
    if out_open {
        let _ = stdout.flush();
    }
    Ok(recorder.stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lifecycle() {
        let mut rec = Recorder::new();
        let t0 = Instant::now();
        let now = Utc::now();
        rec.line(br#"{"type":"thread.started","thread_id":"T"}"#, now, t0);
        rec.line(br#"{"type":"turn.started"}"#, now, t0);
        let pre = rec.line(
            br#"{"type":"item.started","item":{"id":"item_3","type":"command_execution","command":"/bin/bash -lc 'ls /nope'","aggregated_output":"","exit_code":null,"status":"in_progress"}}"#,
            now,
            t0,
        );
        assert_eq!(pre[0].input.as_deref(), Some("ls /nope"));
        let out = rec.line(
            br#"{"type":"item.completed","item":{"id":"item_3","type":"command_execution","command":"/bin/bash -lc 'ls /nope'","aggregated_output":"ls: nope\n","exit_code":2,"status":"failed"}}"#,
            now,
            t0 + Duration::from_millis(40),
        );
        let r = &out[0];
        assert_eq!(r.session_id.as_deref(), Some("T"));
        assert_eq!((r.status, r.exit_code), (Some(Status::Failed), Some(2)));
        assert_eq!(r.duration_ms, Some(40));
        // A started item the stream never completes, then EOF mid-turn: aborted.
        rec.line(
            br#"{"type":"item.started","item":{"id":"item_4","type":"command_execution","command":"sleep 20","status":"in_progress"}}"#,
            now,
            t0,
        );
        let fin = rec.finish(now);
        assert_eq!(fin[0].status, Some(Status::Aborted));
        rec.line(b"not json", now, t0);
        assert_eq!(rec.stats.unknown, 1);
    }
}
