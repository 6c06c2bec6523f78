//! `codex-shim hook`: one lifecycle-hook payload on stdin (Codex's or Claude Code's), zero or
//! more records appended to the log, nothing on stdout, exit 0.
//!
//! The hook sits on the latency path of every tool call, and what it prints or how it exits
//! changes what the agent does (`PreToolUse` exit 2 blocks the tool; stdout becomes model
//! context for `SessionStart` and `UserPromptSubmit`). So, whatever happens — a payload that
//! is not JSON, an unwritable log, a lock held too long, a panic, an unknown flag from a newer
//! `hooks.json` — it prints nothing on stdout and exits 0; problems are one warning line on
//! stderr ([`crate::warn`]). A watchdog ends the process (exit 0) at a hard deadline so a stuck
//! filesystem cannot stall the agent. Arguments are parsed by hand: an argument error from a
//! general-purpose parser exits 2, which for `PreToolUse` would block the tool call.
//!
//! What each event records is listed in `docs/capture.md`. On `Stop`, `SessionEnd`,
//! `Interrupt` and `SubagentStop` the hook also reads the session's rollout from where it last
//! stopped and records the authoritative outcomes ([`crate::rollout`]).

use std::ffi::OsString;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use codex_contract::append::Appender;
use codex_contract::record::{events, Phase, Record, Source, Status};
use codex_contract::{feedback, paths, redact};
use serde_json::Value;

use crate::rollout;
use crate::text::{self, str_of};

/// The hard deadline by default: under the 3 s Codex clamps `SessionEnd` and `Interrupt`
/// hooks to, so the shim always ends on its own terms.
pub const DEFAULT_DEADLINE: Duration = Duration::from_millis(2500);
/// Time kept in reserve at the end for appending and saving offsets after reading a rollout.
const RESERVE: Duration = Duration::from_millis(500);
/// How much of the log's tail a `PermissionRequest` searches for its `PreToolUse`.
const PERMISSION_LOOKBACK: u64 = 256 * 1024;

/// Options of one hook run.
#[derive(Debug, Default, Clone)]
pub struct HookOptions {
    pub log: Option<PathBuf>,
}

/// Parses the hook's arguments (after `hook`). Never fails: unknown arguments are reported
/// and ignored. `None` means help was asked for.
pub fn parse_args(args: impl IntoIterator<Item = OsString>) -> Option<HookOptions> {
    let mut opts = HookOptions::default();
    let mut args = args.into_iter();
    while let Some(a) = args.next() {
        let s = a.to_string_lossy();
        if s == "--help" || s == "-h" {
            return None;
        } else if s == "--log" {
            match args.next() {
                Some(p) => opts.log = Some(PathBuf::from(p)),
                None => crate::warn::warn("hook: --log needs a path; using the default log", false),
            }
        } else if let Some(p) = s.strip_prefix("--log=") {
            opts.log = Some(PathBuf::from(p));
        } else {
            crate::warn::warn(&format!("hook: ignoring unknown argument {s:?}"), false);
        }
    }
    Some(opts)
}

/// The whole `codex-shim hook` command: returns the exit code (always 0).
pub fn main(args: impl IntoIterator<Item = OsString>) -> i32 {
    let Some(opts) = parse_args(args) else {
        // `codex-shim hook --help` is answered by clap before this runs.
        println!("Usage: codex-shim hook [--log PATH]; see `codex-shim hook --help`");
        return 0;
    };
    let deadline_len = std::env::var("CODEX_SHIM_HOOK_DEADLINE_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map(Duration::from_millis)
        .unwrap_or(DEFAULT_DEADLINE);
    let deadline = Instant::now() + deadline_len;
    arm_watchdog(deadline_len);
    std::panic::set_hook(Box::new(|info| {
        let _ = writeln!(
            std::io::stderr(),
            "codex-shim: warning: hook crashed ({info}); nothing more recorded"
        );
        // SAFETY: _exit ends the process at once; exit status 0 keeps the agent unaffected.
        unsafe { libc::_exit(0) };
    }));
    if std::io::stdin().is_terminal() {
        let _ = writeln!(
            std::io::stderr(),
            "codex-shim hook: expects a hook payload on stdin (it is run by Codex); see `codex-shim hook --help`"
        );
        return 0;
    }
    let mut payload = Vec::with_capacity(8 * 1024);
    if let Err(e) = std::io::stdin().lock().read_to_end(&mut payload) {
        crate::warn::warn(&format!("hook: cannot read the payload: {e}"), false);
        return 0;
    }
    if let Err(msg) = handle(&payload, &opts, deadline) {
        crate::warn::warn(&format!("hook: {msg}"), false);
    }
    0
}

/// Ends the process with status 0 when the deadline passes (SIGALRM), whatever it is doing.
fn arm_watchdog(after: Duration) {
    extern "C" fn on_alarm(_sig: libc::c_int) {
        const MSG: &[u8] =
            b"codex-shim: warning: hook deadline reached; exiting without finishing\n";
        // SAFETY: write(2) and _exit(2) are async-signal-safe.
        unsafe {
            libc::write(2, MSG.as_ptr().cast(), MSG.len());
            libc::_exit(0);
        }
    }
    let usec = after.as_micros().max(1000);
    // SAFETY: installing a plain handler for SIGALRM and arming a one-shot real-time timer.
    unsafe {
        libc::signal(
            libc::SIGALRM,
            on_alarm as extern "C" fn(libc::c_int) as libc::sighandler_t,
        );
        let timer = libc::itimerval {
            it_interval: libc::timeval {
                tv_sec: 0,
                tv_usec: 0,
            },
            it_value: libc::timeval {
                tv_sec: (usec / 1_000_000) as libc::time_t,
                tv_usec: (usec % 1_000_000) as libc::suseconds_t,
            },
        };
        libc::setitimer(libc::ITIMER_REAL, &timer, std::ptr::null_mut());
    }
}

/// Which agent sent the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agent {
    Codex,
    Claude,
}

impl Agent {
    fn source(self) -> Source {
        match self {
            Agent::Codex => Source::CodexHook,
            Agent::Claude => Source::ClaudeHook,
        }
    }
}

/// Tells Codex payloads from Claude Code's. Codex's transcript is a `rollout-*.jsonl` and
/// most of its events carry `turn_id`; Claude Code keeps transcripts under `~/.claude/`,
/// has events Codex lacks, and answers Bash with `{stdout, stderr, interrupted}`.
pub fn detect(v: &Value, event: &str) -> Agent {
    if let Some(t) = str_of(v, "transcript_path") {
        let name = t.rsplit('/').next().unwrap_or(t);
        if name.starts_with("rollout-") {
            return Agent::Codex;
        }
        if t.contains("/.claude/") {
            return Agent::Claude;
        }
    }
    if v.get("turn_id").is_some() {
        return Agent::Codex;
    }
    if matches!(
        event,
        "PostToolUseFailure" | "Notification" | "PreCompactClaude"
    ) {
        return Agent::Claude;
    }
    if let Some(r) = v.get("tool_response").filter(|r| r.is_object()) {
        if r.get("stdout").is_some() || r.get("interrupted").is_some() {
            return Agent::Claude;
        }
    }
    Agent::Codex
}

/// Handles one payload: records it, and reconciles the rollout at the end of a turn.
pub fn handle(payload: &[u8], opts: &HookOptions, deadline: Instant) -> Result<(), String> {
    let v: Value = serde_json::from_slice(payload)
        .map_err(|e| format!("the payload is not JSON ({e}); nothing recorded"))?;
    if !v.is_object() {
        return Err("the payload is not a JSON object; nothing recorded".into());
    }
    let event = str_of(&v, "hook_event_name")
        .ok_or("the payload has no hook_event_name; nothing recorded")?;
    let agent = detect(&v, event);
    let cwd = str_of(&v, "cwd")
        .map(PathBuf::from)
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_else(|| PathBuf::from("."));
    let log = paths::log_path(opts.log.as_deref(), &cwd);
    let records = records_for(&v, event, agent, &cwd, &log);
    let lock_timeout = crate::exec::lock_timeout();
    if !records.is_empty() {
        Appender::open(&log)
            .and_then(|a| a.lock_timeout(lock_timeout).append(&records))
            .map_err(|e| format!("could not record the {event} event ({e})"))?;
    }
    if agent == Agent::Codex {
        let transcript = match event {
            "SubagentStop" => str_of(&v, "agent_transcript_path"),
            "Stop" | "SessionEnd" | "Interrupt" => str_of(&v, "transcript_path"),
            _ => None,
        };
        if let Some(t) = transcript.filter(|t| !t.is_empty()) {
            let stop_reading = deadline.checked_sub(RESERVE).unwrap_or(deadline);
            rollout::offsets::reconcile(
                &log,
                Path::new(t),
                str_of(&v, "session_id"),
                stop_reading,
                lock_timeout.min(RESERVE),
                event == "SessionEnd",
            )?;
        }
    }
    Ok(())
}

/// The records one payload yields (none for events with nothing to say).
pub fn records_for(v: &Value, event: &str, agent: Agent, cwd: &Path, log: &Path) -> Vec<Record> {
    let base = |phase: Phase| {
        let mut r = Record::new(agent.source(), phase);
        r.session_id = str_of(v, "session_id").map(str::to_string);
        r.turn_id = str_of(v, "turn_id").map(str::to_string);
        r.agent_id = str_of(v, "agent_id").map(str::to_string);
        r.cwd = Some(cwd.to_string_lossy().into_owned());
        r
    };
    let session = |event_name: &str| {
        let mut r = base(Phase::Session);
        r.event = Some(event_name.to_string());
        r.model = str_of(v, "model").map(str::to_string);
        r
    };
    match event {
        "PreToolUse" => {
            let mut r = tool_record(v, base(Phase::Pre));
            r.model = str_of(v, "model").map(str::to_string);
            r.git_head = paths::git_top_level(cwd).and_then(|top| paths::git_head(&top));
            vec![r]
        }
        "PostToolUse" => {
            let mut r = tool_record(v, base(Phase::Post));
            response(v, agent, &mut r);
            vec![r]
        }
        "PostToolUseFailure" => {
            let mut r = tool_record(v, base(Phase::Post));
            let interrupted = v.get("is_interrupt").and_then(Value::as_bool) == Some(true);
            r.status = Some(if interrupted {
                Status::Aborted
            } else {
                Status::Failed
            });
            if let Some(err) = v.get("error").filter(|e| !e.is_null()) {
                let t = err.as_str().map_or_else(|| err.to_string(), str::to_string);
                r.exit_code = t
                    .strip_prefix("Exit code ")
                    .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
                    .and_then(|n| n.parse().ok());
                r.truncated = text::shows_truncation(&t).then_some(true);
                r.output = Some(text::excerpt(&t));
            }
            vec![r]
        }
        "PermissionRequest" => {
            let mut r = tool_record(v, base(Phase::Permission));
            r.reason = v
                .get("tool_input")
                .and_then(|i| str_of(i, "description"))
                .map(text::reason);
            if r.call_id.is_none() {
                r.call_id = find_pre_call(log, &r);
            }
            vec![r]
        }
        "SessionStart" => {
            let mut r = session(events::SESSION_START);
            r.reason = str_of(v, "source").map(str::to_string);
            r.git_head = paths::git_top_level(cwd).and_then(|top| paths::git_head(&top));
            vec![r]
        }
        "UserPromptSubmit" => {
            let mut r = session(events::USER_PROMPT);
            if let Some(prompt) = str_of(v, "prompt") {
                let redacted = redact::redact(prompt);
                r.prompt_len = Some(prompt.len() as u64);
                r.feedback = feedback::detect(&redacted);
                if let Some(max) = prompt_excerpt_max() {
                    r.prompt_excerpt = Some(text::head(&redacted, max).to_string());
                }
            }
            vec![r]
        }
        "Stop" => vec![session(events::STOP)],
        "SessionEnd" => {
            let mut r = session(events::SESSION_END);
            r.reason = str_of(v, "reason").map(str::to_string);
            vec![r]
        }
        "PreCompact" | "PostCompact" => {
            let name = if event == "PreCompact" {
                events::PRE_COMPACT
            } else {
                events::POST_COMPACT
            };
            let mut r = session(name);
            r.reason = str_of(v, "trigger").map(str::to_string);
            vec![r]
        }
        "SubagentStart" | "SubagentStop" => {
            let name = if event == "SubagentStart" {
                events::SUBAGENT_START
            } else {
                events::SUBAGENT_STOP
            };
            let mut r = session(name);
            r.reason = str_of(v, "agent_type").map(str::to_string);
            vec![r]
        }
        "Interrupt" => vec![session(events::INTERRUPT)],
        other => {
            let mut r = session(&text::snake_case(other));
            r.reason = str_of(v, "reason")
                .or_else(|| str_of(v, "message"))
                .map(text::reason);
            vec![r]
        }
    }
}

/// The session's `CODEX_SHIM_PROMPT_EXCERPT` bound, if set and positive (capped).
fn prompt_excerpt_max() -> Option<usize> {
    let n: usize = std::env::var("CODEX_SHIM_PROMPT_EXCERPT")
        .ok()?
        .trim()
        .parse()
        .ok()?;
    (n > 0).then(|| n.min(text::PROMPT_EXCERPT_MAX))
}

/// Fills the call fields of a tool event: call ID, tool, input.
fn tool_record(v: &Value, mut r: Record) -> Record {
    r.call_id = str_of(v, "tool_use_id").map(str::to_string);
    let tool = str_of(v, "tool_name").unwrap_or("unknown");
    r.tool = Some(tool.to_string());
    r.input = v.get("tool_input").and_then(|i| tool_input(tool, i));
    r
}

/// `tool_input.command` for shells and patches (what the user would read), compact JSON of
/// the arguments for everything else. Redacted and bounded.
pub fn tool_input(tool: &str, input: &Value) -> Option<String> {
    match input {
        Value::Null => None,
        Value::String(s) => Some(text::input(s)),
        Value::Object(o) => {
            let shell_like = matches!(
                tool,
                "Bash" | "apply_patch" | "shell" | "exec_command" | "local_shell"
            );
            match o.get("command") {
                Some(Value::String(c)) if shell_like => Some(text::input(c)),
                Some(Value::Array(argv)) if shell_like => {
                    Some(text::input(&text::command_from_argv(argv)))
                }
                _ => Some(text::json_input(input)),
            }
        }
        other => Some(text::json_input(other)),
    }
}

/// What a `PostToolUse` tells about the outcome. Codex's Bash response is only the output
/// text (no exit code: the status stays unset until the rollout is read); apply_patch's is
/// `Exit code: N\nWall time: …\nOutput:\n…`; an MCP result says `isError`. Claude Code's
/// `PostToolUse` fires only for tools that succeeded (failures fire `PostToolUseFailure`).
fn response(v: &Value, agent: Agent, r: &mut Record) {
    let Some(resp) = v.get("tool_response").filter(|x| !x.is_null()) else {
        return;
    };
    let tool = r.tool.clone().unwrap_or_default();
    let claude_ok = (agent == Agent::Claude).then_some(Status::Ok);
    let output_text = match resp {
        Value::String(t) => {
            if tool == rollout::PATCH_TOOL || t.starts_with("Exit code: ") {
                let o = patch_response(t);
                r.exit_code = o.0;
                r.duration_ms = o.1;
                r.status =
                    o.0.map(|c| if c == 0 { Status::Ok } else { Status::Failed });
                if r.status.is_none() {
                    r.status = claude_ok;
                }
                o.2.to_string()
            } else {
                r.status = claude_ok;
                t.clone()
            }
        }
        Value::Object(o) if o.contains_key("stdout") || o.contains_key("interrupted") => {
            let stdout = o.get("stdout").and_then(Value::as_str).unwrap_or("");
            let stderr = o.get("stderr").and_then(Value::as_str).unwrap_or("");
            if !stderr.is_empty() {
                r.stderr = Some(text::excerpt(stderr));
            }
            let interrupted = o.get("interrupted").and_then(Value::as_bool) == Some(true);
            r.status = if interrupted {
                Some(Status::Aborted)
            } else {
                claude_ok
            };
            stdout.to_string()
        }
        Value::Object(o) if o.contains_key("isError") || o.contains_key("content") => {
            let failed = o.get("isError").and_then(Value::as_bool) == Some(true);
            r.status = Some(if failed { Status::Failed } else { Status::Ok });
            match o.get("content") {
                c @ Some(Value::Array(_) | Value::String(_)) => text::content_text(c),
                _ => String::new(),
            }
        }
        other => {
            let mut redacted = other.clone();
            redact::redact_json(&mut redacted);
            r.status = claude_ok;
            serde_json::to_string(&redacted).unwrap_or_default()
        }
    };
    if !output_text.is_empty() {
        let t = output_text;
        if text::shows_truncation(&t) {
            r.truncated = Some(true);
        }
        r.output = Some(text::excerpt(&t));
    }
}

/// `Exit code: N\nWall time: S seconds\nOutput:\n<body>` → (N, ms, body).
fn patch_response(t: &str) -> (Option<i32>, Option<u64>, &str) {
    let mut exit = None;
    let mut wall = None;
    let mut rest = t;
    while let Some((line, after)) = rest.split_once('\n') {
        if let Some(c) = line.strip_prefix("Exit code: ") {
            exit = c.trim().parse().ok();
        } else if line.starts_with("Wall time:") {
            wall = text::wall_time_ms(line);
        } else if line == "Output:" {
            return (exit, wall, after);
        } else {
            break;
        }
        rest = after;
    }
    (exit, wall, t)
}

/// A `PermissionRequest` has no `tool_use_id`: its call is the latest `PreToolUse` of the
/// same session and turn with the same tool and input, found in the log's tail.
fn find_pre_call(log: &Path, r: &Record) -> Option<String> {
    use std::io::{Seek, SeekFrom};
    let mut f = std::fs::File::open(log).ok()?;
    let len = f.metadata().ok()?.len();
    let start = len.saturating_sub(PERMISSION_LOOKBACK);
    f.seek(SeekFrom::Start(start)).ok()?;
    let mut buf = Vec::new();
    f.take(PERMISSION_LOOKBACK).read_to_end(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf);
    let mut lines = text.lines();
    if start > 0 {
        lines.next(); // partial
    }
    let mut found = None;
    for line in lines {
        if !line.contains("\"phase\":\"pre\"") {
            continue;
        }
        let Ok(pre) = serde_json::from_str::<Record>(line) else {
            continue;
        };
        if pre.source == r.source
            && pre.session_id == r.session_id
            && pre.turn_id == r.turn_id
            && pre.tool == r.tool
            && pre.input == r.input
            && pre.call_id.is_some()
        {
            found = pre.call_id;
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn detects_agents() {
        let codex = json!({"transcript_path": "/h/.codex/sessions/2026/rollout-x.jsonl"});
        assert_eq!(detect(&codex, "SessionEnd"), Agent::Codex);
        let claude = json!({"transcript_path": "/home/u/.claude/projects/p/abc.jsonl",
            "tool_response": {"stdout": "x", "stderr": "", "interrupted": false}});
        assert_eq!(detect(&claude, "PostToolUse"), Agent::Claude);
        assert_eq!(detect(&json!({}), "PostToolUseFailure"), Agent::Claude);
        assert_eq!(detect(&json!({"turn_id": "t"}), "PreToolUse"), Agent::Codex);
    }

    #[test]
    fn args_never_fail() {
        let o = parse_args(["--log", "/x"].map(OsString::from)).unwrap();
        assert_eq!(o.log, Some(PathBuf::from("/x")));
        let o = parse_args(["--future-flag", "--log=/y"].map(OsString::from)).unwrap();
        assert_eq!(o.log, Some(PathBuf::from("/y")));
        assert!(parse_args(["--help"].map(OsString::from)).is_none());
    }

    #[test]
    fn patch_responses() {
        let (c, w, body) =
            patch_response("Exit code: 0\nWall time: 0 seconds\nOutput:\nSuccess.\nA added.txt\n");
        assert_eq!((c, w, body), (Some(0), Some(0), "Success.\nA added.txt\n"));
        assert_eq!(patch_response("plain").2, "plain");
    }
}
