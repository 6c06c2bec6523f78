//! Writes a planned session as a Codex 0.169.0 rollout (`rollout-*.jsonl`, the "paginated"
//! format of `docs/codex-observed.md`): `{timestamp, ordinal, type, payload}` lines with the
//! payload shapes and output texts observed from the real binary (the fixtures under
//! `shim/tests/fixtures/codex-0.169.0/`). Lines that carry nothing an importer reads and are
//! large in real files (`world_state`, `token_usage_record`, `base_instructions`) are left
//! out. Also returns the `UserPromptSubmit` hook payloads of the session: Codex writes no
//! feedback verdict into the rollout, so prompts reach the log through the hook.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

use super::generate::{Outcome, PlannedCall, PlannedSession};
use super::rng::Rng;

/// The model the sessions name.
pub const MODEL: &str = "gpt-5.3-codex";

/// A hook payload and when Codex would have sent it.
pub struct HookPayload {
    pub at: DateTime<Utc>,
    pub payload: Value,
}

/// One written rollout.
pub struct Written {
    pub path: PathBuf,
    pub prompts: Vec<HookPayload>,
}

struct Lines {
    text: String,
    ordinal: u64,
    clock: DateTime<Utc>,
}

impl Lines {
    fn push(&mut self, kind: &str, payload: Value) {
        let line = json!({
            "timestamp": stamp(self.clock),
            "ordinal": self.ordinal,
            "type": kind,
            "payload": payload,
        });
        self.ordinal += 1;
        let _ = writeln!(self.text, "{line}");
    }

    /// An `event_msg` `item_completed` line (with the item's start and end times).
    fn item(&mut self, thread: &str, turn: &str, item: Value, started: DateTime<Utc>) {
        let payload = json!({
            "type": "item_completed",
            "thread_id": thread,
            "turn_id": turn,
            "item": item,
            "started_at_ms": started.timestamp_millis(),
            "completed_at_ms": self.clock.timestamp_millis(),
        });
        self.push("event_msg", payload);
    }

    fn tick(&mut self, ms: i64) {
        self.clock += Duration::milliseconds(ms);
    }
}

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Writes `s` under `sessions_dir/YYYY/MM/DD/` as Codex names its rollouts.
pub fn write(s: &PlannedSession, repo: &str, sessions_dir: &Path) -> std::io::Result<Written> {
    let dir = sessions_dir.join(s.start.format("%Y/%m/%d").to_string());
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!(
        "rollout-{}-{}.jsonl",
        s.start.format("%Y-%m-%dT%H-%M-%S"),
        s.id
    ));
    let (text, prompts) = render(s, repo, &path);
    std::fs::write(&path, text)?;
    Ok(Written { path, prompts })
}

/// The rollout text of `s` and its prompt hook payloads (`transcript` names the file).
pub fn render(s: &PlannedSession, repo: &str, transcript: &Path) -> (String, Vec<HookPayload>) {
    // Ids inside the file come from the session id, so the same plan gives the same bytes.
    let mut rng = Rng::new(
        s.id.bytes()
            .fold(0u64, |h, b| h.wrapping_mul(0x100_0000_01B3) ^ u64::from(b)),
    );
    let mut l = Lines {
        text: String::with_capacity(16 * 1024),
        ordinal: 0,
        clock: s.start,
    };
    let cwd_url = format!("file://{repo}");
    l.push(
        "session_meta",
        json!({
            "account_scoped": true,
            "session_id": s.id,
            "id": s.id,
            "timestamp": stamp(s.start),
            "cwd": repo,
            "runtime_workspace_roots": [repo],
            "originator": "codex_cli_rs",
            "cli_version": "0.169.0",
            "source": "cli",
            "thread_source": "user",
            "model_provider": "openai",
            "context_window": 258400,
            "git": {"commit_hash": s.git_head, "branch": "main"},
        }),
    );
    let mut prompts = Vec::new();
    let mut call_no = 0u32;
    for turn in &s.turns {
        l.tick(rng.range(20_000, 240_000) as i64);
        let turn_id = super::generate::uuid_v7(&mut rng, l.clock);
        let turn_start = l.clock;
        let meta = json!({"turn_id": turn_id});
        l.push(
            "event_msg",
            json!({
                "type": "task_started",
                "turn_id": turn_id,
                "root_turn_id": turn_id,
                "started_at": l.clock.timestamp(),
                "model_context_window": 258400,
                "collaboration_mode_kind": "default",
            }),
        );
        let turn_context = json!({
            "turn_id": turn_id,
            "root_turn_id": turn_id,
            "cwd": repo,
            "approval_policy": "on-request",
            "approvals_reviewer": "user",
            "model": MODEL,
            "summary": "auto",
            "sandbox_policy": {"type": "workspace-write"},
        });
        l.push("turn_context", turn_context.clone());
        l.tick(15);
        prompts.push(HookPayload {
            at: l.clock,
            payload: json!({
                "session_id": s.id,
                "turn_id": turn_id,
                "transcript_path": transcript.to_string_lossy(),
                "cwd": repo,
                "hook_event_name": "UserPromptSubmit",
                "model": MODEL,
                "permission_mode": "default",
                "prompt": turn.prompt,
            }),
        });
        l.push(
            "response_item",
            json!({
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": turn.prompt}],
                "internal_chat_message_metadata_passthrough": meta,
            }),
        );
        let item = json!({"type": "UserMessage", "id": super::generate::uuid_v7(&mut rng, l.clock),
                         "content": [{"type": "text", "text": turn.prompt, "text_elements": []}]});
        l.item(&s.id, &turn_id, item, l.clock);
        for (i, call) in turn.calls.iter().enumerate() {
            l.tick(rng.range(1_500, 9_000) as i64);
            let call_id = format!("call_{call_no}");
            call_no += 1;
            write_call(
                &mut l, &mut rng, call, &call_id, &turn_id, s, repo, &cwd_url,
            );
            if call.outcome == Outcome::Interrupted {
                break;
            }
            if i == 0 {
                for _ in 0..turn.compactions {
                    l.tick(900);
                    l.push(
                        "compacted",
                        json!({
                            "message": "Another language model started to solve this problem and produced a summary of its thinking process. Use this to build on the work that has already been done.",
                            "replacement_history": [],
                        }),
                    );
                    l.push("turn_context", turn_context.clone());
                    let item = json!({"type": "ContextCompaction", "id": super::generate::uuid_v7(&mut rng, l.clock)});
                    l.item(&s.id, &turn_id, item, l.clock);
                }
            }
        }
        if turn.aborted {
            continue;
        }
        l.tick(rng.range(2_000, 20_000) as i64);
        let msg_id = format!("msg_{call_no}");
        let text = "Done: the change is in place and the checks pass.";
        let item = json!({"type": "AgentMessage", "id": msg_id, "content": [{"type": "Text", "text": text}]});
        l.item(&s.id, &turn_id, item, l.clock);
        l.push(
            "response_item",
            json!({
                "type": "message",
                "status": "completed",
                "id": msg_id,
                "role": "assistant",
                "content": [{"type": "output_text", "text": text, "annotations": []}],
                "internal_chat_message_metadata_passthrough": meta,
            }),
        );
        l.push(
            "event_msg",
            json!({
                "type": "task_complete",
                "root_turn_id": turn_id,
                "turn_id": turn_id,
                "last_agent_message": text,
                "started_at": turn_start.timestamp(),
                "completed_at": l.clock.timestamp(),
                "duration_ms": (l.clock - turn_start).num_milliseconds(),
                "time_to_first_token_ms": rng.range(300, 2_500),
            }),
        );
    }
    (l.text, prompts)
}

#[allow(clippy::too_many_arguments)]
fn write_call(
    l: &mut Lines,
    rng: &mut Rng,
    c: &PlannedCall,
    call_id: &str,
    turn_id: &str,
    s: &PlannedSession,
    repo: &str,
    cwd_url: &str,
) {
    let meta = json!({"turn_id": turn_id});
    let fco = |rng: &mut Rng| format!("fco_{}", rng.hex(24));
    if c.patch {
        l.push(
            "response_item",
            json!({
                "type": "custom_tool_call",
                "id": format!("ctc_{}", &call_id[5..]),
                "status": "completed",
                "call_id": call_id,
                "name": "apply_patch",
                "input": c.input,
                "internal_chat_message_metadata_passthrough": meta,
            }),
        );
        l.tick(rng.range(20, 400) as i64);
        let output = if c.outcome == Outcome::Ok {
            let file = format!("{repo}/src/inventory/api.py");
            let item = json!({"type": "FileChange", "id": call_id,
                             "changes": {file: {"type": "update", "unified_diff": "@@ -56 +56 @@\n-    return None\n+    return jsonify(error=\"name is required\"), 422\n", "move_path": null}},
                             "status": "completed", "stdout": c.output, "stderr": ""});
            l.item(&s.id, turn_id, item, l.clock);
            format!("Exit code: 0\nWall time: 0 seconds\nOutput:\n{}", c.output)
        } else {
            c.output.clone()
        };
        l.push(
            "response_item",
            json!({
                "type": "custom_tool_call_output",
                "id": format!("ctco_{}", rng.hex(24)),
                "call_id": call_id,
                "output": output,
                "internal_chat_message_metadata_passthrough": meta,
            }),
        );
        return;
    }
    l.push(
        "response_item",
        json!({
            "type": "function_call",
            "status": "completed",
            "id": format!("fc_{}", &call_id[5..]),
            "name": "exec_command",
            "arguments": json!({"cmd": c.input, "yield_time_ms": 10000}).to_string(),
            "call_id": call_id,
            "internal_chat_message_metadata_passthrough": meta,
        }),
    );
    let started = l.clock;
    l.tick((c.secs * 1000.0) as i64 + rng.range(5, 60) as i64);
    let output_line = |l: &mut Lines, rng: &mut Rng, text: String| {
        l.tick(rng.range(5, 40) as i64);
        l.push(
            "response_item",
            json!({
                "type": "function_call_output",
                "id": fco(rng),
                "call_id": call_id,
                "output": text,
                "internal_chat_message_metadata_passthrough": meta,
            }),
        );
    };
    let execution = |l: &mut Lines, rng: &mut Rng, status: &str, exit: i32, out: &str| {
        let took = l.clock - started;
        let item = json!({
            "type": "CommandExecution", "id": call_id,
            "process_id": rng.range(1_000, 99_999).to_string(),
            "command": ["/bin/bash", "-lc", c.input],
            "cwd": cwd_url,
            "parsed_cmd": [{"type": "unknown", "cmd": c.input}],
            "source": "unified_exec_startup",
            "status": status,
            "aggregated_output": out,
            "exit_code": exit,
            "duration": {"secs": took.num_seconds(), "nanos": took.subsec_nanos()},
        });
        l.item(&s.id, turn_id, item, started);
    };
    let headed = |rng: &mut Rng, exit: i32| {
        format!(
            "Chunk ID: {}\nWall time: {:.4} seconds\nProcess exited with code {exit}\nOriginal token count: {}\nOutput:\n{}",
            rng.hex(6),
            c.secs,
            c.output.len() / 4,
            c.output
        )
    };
    match c.outcome {
        Outcome::Ok | Outcome::Failed(_) | Outcome::Timeout => {
            let exit = match c.outcome {
                Outcome::Failed(code) => code,
                Outcome::Timeout => 124,
                _ => 0,
            };
            let status = if exit == 0 { "completed" } else { "failed" };
            execution(l, rng, status, exit, &c.output);
            let text = headed(rng, exit);
            output_line(l, rng, text);
        }
        Outcome::Denied => output_line(
            l,
            rng,
            format!(
                "exec_command failed: CreateProcess {{ message: \"Rejected(\\\"{}\\\")\" }}",
                c.output
            ),
        ),
        Outcome::Blocked => output_line(
            l,
            rng,
            format!(
                "Command blocked by PreToolUse hook: {}. Command: {}",
                c.output, c.input
            ),
        ),
        Outcome::Interrupted => {
            output_line(
                l,
                rng,
                format!("Wall time: {:.1} seconds\naborted by user", c.secs),
            );
            let took = (l.clock - started).num_milliseconds();
            l.push(
                "event_msg",
                json!({"type": "turn_aborted", "root_turn_id": turn_id, "turn_id": turn_id,
                       "reason": "interrupted", "duration_ms": took}),
            );
            l.tick(40);
            execution(l, rng, "failed", -1, "");
        }
        // Only patches fail verification; a shell call never gets here.
        Outcome::PatchFailed => output_line(l, rng, c.output.clone()),
    }
}
