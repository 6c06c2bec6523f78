//! Runs the real Codex CLI offline and pins down the facts the shim's hook handler and
//! rollout importer rely on, for the live run and for the committed fixtures alike.
//!
//! Four sessions, each with a recorder hook on every event:
//! - **outcomes**: one call per outcome (success, failure, a fake token, a patch that fails
//!   verification, a patch that applies, a call blocked by a PreToolUse hook) plus a call
//!   Codex rejects on its own (`rm -rf`), and a `Stop` hook that copies the rollout at that
//!   moment;
//! - **permission-denied**: a call that asks for sandbox escalation, so `PermissionRequest`
//!   fires, and a hook that denies it;
//! - **compaction**: a tiny `model_auto_compact_token_limit`, so Codex compacts after each
//!   tool call (`PreCompact`, `PostCompact`, `SessionStart` with source `compact`);
//! - **interrupt**: SIGINT while a command runs (`Interrupt`, an aborted turn, no `Stop`);
//! - **still-running**: a command that outlives its `yield_time_ms`, so the turn ends while it
//!   runs and Codex kills it when the session ends (its outcome lands after `Stop`);
//! - **subagent**: with the `multi_agent_v2` feature the model spawns a subagent that runs a
//!   command in its own thread and rollout (`SubagentStart`, `SubagentStop`).
//!
//! `CODEX_FIXTURES_UPDATE=1 cargo test -p e2e --test codex_fixtures` rewrites the fixtures
//! under `shim/tests/fixtures/codex-0.169.0/` from the live run (and re-extracts the hook
//! JSON schemas the Codex binary embeds into `hook-schemas/`); otherwise the live run and the
//! committed fixtures are both checked against the same facts, so the fixtures the shim's
//! tests read cannot drift from what Codex really does. Every hook payload is also validated
//! against Codex's own schema for its event.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use e2e::codex::{self, shell_quote, CodexHome, Hooks, BLOCK_MARKER, FAKE_TOKEN};
use e2e::model_server::{call_id, ModelServer, Step};
use serde_json::{json, Value};

/// A command Codex refuses by its own policy before running it (no hook involved).
const REJECTED_BY_CODEX: &str = "rm -rf ./scratch";

/// Wall-time budget for one scripted session (Codex itself is killed after 60 s).
const SESSION_BUDGET: Duration = Duration::from_secs(30);

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shim/tests/fixtures")
        .join(format!("codex-{}", codex::CODEX_VERSION))
}

/// `CODEX_FIXTURES_DUMP=DIR` keeps each live session's evidence under `DIR/<session>/`
/// (written before the checks), to look at a failing run.
fn dump_live(session: &str, evidence: &Evidence) {
    if let Some(dir) = std::env::var_os("CODEX_FIXTURES_DUMP") {
        evidence.write(&Path::new(&dir).join(session));
    }
}

fn updating_fixtures() -> bool {
    std::env::var_os("CODEX_FIXTURES_UPDATE").is_some_and(|v| v == "1")
}

/// A hook command copying the file its payload names as `transcript_path` to `dest`, at the
/// moment the hook runs.
fn copy_transcript_command(dest: &Path) -> String {
    format!(
        r#"p=$(sed -n 's/.*"transcript_path":"\([^"]*\)".*/\1/p'); cp "$p" {}"#,
        shell_quote(&dest.display().to_string())
    )
}

/// What a session left behind, as raw text (what the fixtures store).
struct Evidence {
    hook_payloads: String,
    rollout: String,
    /// The rollout as it was when the `Stop` hook ran (sessions with a copying Stop hook).
    rollout_at_stop: Option<String>,
    /// The spawned subagent's own rollout (subagent session only).
    subagent_rollout: Option<String>,
    exec: String,
}

impl Evidence {
    fn write(&self, dir: &Path) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("hook-payloads.jsonl"), &self.hook_payloads).unwrap();
        std::fs::write(dir.join("rollout.jsonl"), &self.rollout).unwrap();
        std::fs::write(dir.join("exec.jsonl"), &self.exec).unwrap();
        if let Some(at_stop) = &self.rollout_at_stop {
            std::fs::write(dir.join("rollout-at-stop.jsonl"), at_stop).unwrap();
        }
        if let Some(sub) = &self.subagent_rollout {
            std::fs::write(dir.join("subagent-rollout.jsonl"), sub).unwrap();
        }
    }

    /// The fixture in `dir`, with the same parts as `like` (the stop-time and subagent
    /// rollouts only when it has them).
    fn read_like(dir: &Path, like: &Evidence) -> Evidence {
        let read = |name: &str| {
            std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| {
                panic!(
                    "fixture {}/{name} is missing ({e}); regenerate with \
                     `CODEX_FIXTURES_UPDATE=1 cargo test -p e2e --test codex_fixtures`",
                    dir.display()
                )
            })
        };
        Evidence {
            hook_payloads: read("hook-payloads.jsonl"),
            rollout: read("rollout.jsonl"),
            rollout_at_stop: like
                .rollout_at_stop
                .as_ref()
                .map(|_| read("rollout-at-stop.jsonl")),
            subagent_rollout: like
                .subagent_rollout
                .as_ref()
                .map(|_| read("subagent-rollout.jsonl")),
            exec: read("exec.jsonl"),
        }
    }
}

/// The end every session test shares: `check` holds on the live session; with
/// `CODEX_FIXTURES_UPDATE=1` the live session becomes the fixture in `dir`; and `check` holds
/// on the fixture as committed, which is what the shim's own tests replay.
fn check_live_and_fixture(live: &Evidence, dir: &Path, check: fn(&Evidence)) {
    check(live);
    if updating_fixtures() {
        live.write(dir);
        eprintln!("wrote fixtures to {}", dir.display());
    }
    check(&Evidence::read_like(dir, live));
}

// ---------------------------------------------------------------------------------------
// The outcomes session
// ---------------------------------------------------------------------------------------

/// The scripted calls of the outcomes session, in order: the e2e script plus a call Codex
/// rejects by itself, then the final message.
fn outcomes_script() -> Vec<Step> {
    let mut script = codex::outcome_script();
    let last = script.len() - 1;
    script.insert(last, Step::shell(REJECTED_BY_CODEX));
    script
}

/// What each call of the outcomes session must look like.
struct Expected {
    tool_name: &'static str,
    /// `tool_input.command` in hook payloads.
    command: String,
    /// Whether `PostToolUse` fires for it.
    post_tool_use: bool,
    /// For shell calls that ran: the exact `tool_response` of their `PostToolUse`.
    shell_response: Option<String>,
    /// The exit code in the rollout's `CommandExecution` item (shell calls that ran).
    exit_code: Option<i64>,
    /// The `item_completed` item type the rollout records for it, if any.
    completed_item: Option<&'static str>,
    /// How the tool output the model saw begins.
    output_prefix: String,
}

fn expected_calls() -> Vec<Expected> {
    let script = outcomes_script();
    let text = |n: usize| match &script[n] {
        Step::Shell(cmd) | Step::Patch(cmd) => cmd.clone(),
        other => panic!("step {n} is not a tool call: {other:?}"),
    };
    let shell = |n: usize, exit: i64, response: String| Expected {
        tool_name: "Bash",
        command: text(n),
        post_tool_use: true,
        shell_response: Some(response),
        exit_code: Some(exit),
        completed_item: Some("CommandExecution"),
        output_prefix: "Chunk ID: ".into(),
    };
    vec![
        shell(0, 0, "hello\n".into()),
        shell(1, 2, "ls: cannot access '/nope': No such file or directory\n".into()),
        shell(2, 0, format!("{FAKE_TOKEN}\n")),
        Expected {
            tool_name: "apply_patch",
            command: text(3),
            post_tool_use: false,
            shell_response: None,
            exit_code: None,
            completed_item: None,
            output_prefix: "apply_patch verification failed: ".into(),
        },
        Expected {
            tool_name: "apply_patch",
            command: text(4),
            post_tool_use: true,
            shell_response: None,
            exit_code: None,
            completed_item: Some("FileChange"),
            output_prefix: "Exit code: 0\nWall time: ".into(),
        },
        Expected {
            tool_name: "Bash",
            command: text(5),
            post_tool_use: false,
            shell_response: None,
            exit_code: None,
            completed_item: None,
            output_prefix: format!(
                "Command blocked by PreToolUse hook: blocked by test policy: {BLOCK_MARKER} is protected"
            ),
        },
        Expected {
            tool_name: "Bash",
            command: text(6),
            post_tool_use: false,
            shell_response: None,
            exit_code: None,
            completed_item: None,
            output_prefix: "exec_command failed: CreateProcess { message: \"Rejected(".into(),
        },
    ]
}

struct LiveRun {
    evidence: Evidence,
    status: std::process::ExitStatus,
    stderr: String,
    elapsed: Duration,
    /// Tool outputs the model was shown, from the server's last request.
    model_saw: Vec<(String, String)>,
    transcript: PathBuf,
    repo: tempfile::TempDir,
    // Kept alive until the checks ran: the rollout lives here.
    _home: CodexHome,
}

fn run_outcomes_session() -> LiveRun {
    let server = ModelServer::start(outcomes_script());
    let home = CodexHome::new(server.port());
    let repo = codex::git_repo();
    std::fs::write(repo.path().join(BLOCK_MARKER), "must survive the session\n").unwrap();

    let capture = tempfile::tempdir().unwrap();
    let payloads = capture.path().join("payloads.jsonl");
    let at_stop = capture.path().join("rollout-at-stop.jsonl");
    let blocker = capture.path().join("block.sh");
    std::fs::write(&blocker, codex::block_marker_hook_script()).unwrap();
    let copy_transcript = copy_transcript_command(&at_stop);
    Hooks::new()
        .record_all_events(&payloads)
        .command(
            "PreToolUse",
            "Bash",
            &format!("sh {}", shell_quote(&blocker.display().to_string())),
            10,
        )
        .command("Stop", "*", &copy_transcript, 10)
        .write_to_repo(repo.path());
    // Project hooks only load for trusted projects, as for a real user.
    home.trust_project(repo.path());

    let started = Instant::now();
    let output = codex::run_exec(&home, repo.path(), &[]);
    let elapsed = started.elapsed();

    let transcript = home.rollout();
    let read = |p: &Path| {
        std::fs::read_to_string(p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
    };
    LiveRun {
        evidence: Evidence {
            hook_payloads: read(&payloads),
            rollout: read(&transcript),
            rollout_at_stop: Some(read(&at_stop)),
            subagent_rollout: None,
            exec: String::from_utf8(output.stdout).expect("exec --json is UTF-8"),
        },
        status: output.status,
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        elapsed,
        model_saw: server.tool_outputs(),
        transcript,
        repo,
        _home: home,
    }
}

#[test]
fn outcomes_session_live_and_fixtures() {
    let live = run_outcomes_session();
    dump_live("outcomes", &live.evidence);
    eprintln!("outcomes session: codex exec took {:?}", live.elapsed);
    assert!(
        live.status.success(),
        "codex exec failed ({}); stderr:\n{}",
        live.status,
        live.stderr
    );
    assert!(
        live.elapsed < SESSION_BUDGET,
        "a 7-call scripted session took {:?}",
        live.elapsed
    );

    // Side effects: the applied patch landed, the failed one created nothing, the blocked
    // and the rejected calls did not run.
    let repo = live.repo.path();
    assert_eq!(
        std::fs::read_to_string(repo.join("added.txt")).unwrap(),
        "added by the scripted model\n"
    );
    assert!(!repo.join("missing.txt").exists());
    assert!(
        repo.join(BLOCK_MARKER).exists(),
        "the PreToolUse hook did not block the rm"
    );

    // Hooks name the live rollout file.
    let payloads = codex::parse_jsonl(&live.evidence.hook_payloads);
    for p in &payloads {
        assert_eq!(
            p["transcript_path"],
            json!(live.transcript.display().to_string())
        );
    }

    // The model was shown exactly the outputs the rollout recorded.
    let rollout = codex::parse_jsonl(&live.evidence.rollout);
    let recorded: Vec<(String, String)> = (0..7)
        .map(|n| (call_id(n), tool_output(&rollout, &call_id(n)).to_string()))
        .collect();
    assert_eq!(live.model_saw, recorded);

    check_live_and_fixture(&live.evidence, &fixtures_dir(), check_outcomes);
}

/// Every structural fact about the outcomes session the shim depends on.
fn check_outcomes(ev: &Evidence) {
    let payloads = codex::parse_jsonl(&ev.hook_payloads);
    check_hook_schemas(&payloads);
    let rollout = codex::parse_jsonl(&ev.rollout);
    let at_stop = codex::parse_jsonl(ev.rollout_at_stop.as_deref().expect("rollout at Stop"));
    let exec = codex::parse_jsonl(&ev.exec);
    let calls = expected_calls();

    check_outcome_hooks(&payloads, &calls);
    let session_id = payloads[0]["session_id"].as_str().unwrap().to_string();
    check_paginated_rollout(&rollout, &session_id);
    check_rollout_outcomes(&rollout, &calls);
    check_rollout_at_stop(&rollout, &at_stop, &calls);
    check_outcome_exec_stream(&exec, &session_id);

    // The fake token reaches every surface verbatim: the shim must redact it.
    assert!(ev.hook_payloads.contains(FAKE_TOKEN));
    assert!(ev.rollout.contains(FAKE_TOKEN));
    assert!(ev.exec.contains(FAKE_TOKEN));
}

fn check_outcome_hooks(payloads: &[Value], calls: &[Expected]) {
    // Which events fire, in order: a PreToolUse per call, a PostToolUse only for calls that
    // ran to completion (not the failed patch, the hook-blocked call, or the rejected one).
    let mut expected = vec!["SessionStart".to_string(), "UserPromptSubmit".to_string()];
    for (n, call) in calls.iter().enumerate() {
        expected.push(format!("PreToolUse {}", call_id(n)));
        if call.post_tool_use {
            expected.push(format!("PostToolUse {}", call_id(n)));
        }
    }
    expected.extend(["Stop".to_string(), "SessionEnd".to_string()]);
    let fired: Vec<String> = payloads.iter().map(event_label).collect();
    assert_eq!(fired, expected);

    let session_id = &payloads[0]["session_id"];
    let turn_id = &payloads[1]["turn_id"];
    assert!(turn_id.is_string());
    for p in payloads {
        let event = p["hook_event_name"].as_str().unwrap();
        assert_eq!(&p["session_id"], session_id, "{event}");
        assert!(p["cwd"].is_string(), "{event}");
        let transcript = p["transcript_path"].as_str().unwrap();
        assert!(
            transcript.contains("/sessions/")
                && transcript.ends_with(&format!("-{}.jsonl", session_id.as_str().unwrap())),
            "{event}: transcript_path {transcript}"
        );
        // Session-level events carry no turn; SessionEnd not even model or permission mode.
        match event {
            "SessionStart" => {
                assert!(p.get("turn_id").is_none());
                assert_eq!(p["source"], "startup");
                assert_eq!(p["model"], codex::MODEL);
            }
            "SessionEnd" => {
                assert!(p.get("turn_id").is_none() && p.get("model").is_none());
                assert!(p.get("permission_mode").is_none());
                assert_eq!(p["reason"], "other");
            }
            _ => {
                assert_eq!(&p["turn_id"], turn_id, "{event}");
                assert_eq!(p["model"], codex::MODEL, "{event}");
                assert_eq!(p["permission_mode"], "bypassPermissions", "{event}");
            }
        }
    }
    let by_event = |name: &str| {
        payloads
            .iter()
            .find(|p| p["hook_event_name"] == name)
            .unwrap()
    };
    assert_eq!(by_event("UserPromptSubmit")["prompt"], "do it");
    assert_eq!(by_event("Stop")["stop_hook_active"], false);
    assert_eq!(by_event("Stop")["last_assistant_message"], "done");

    for (n, call) in calls.iter().enumerate() {
        let id = call_id(n);
        let pre = find_hook(payloads, "PreToolUse", &id).expect("PreToolUse");
        assert_eq!(pre["tool_name"], call.tool_name, "{id}");
        // The raw command (not `bash -lc ...`) or the raw patch text.
        assert_eq!(pre["tool_input"], json!({"command": call.command}), "{id}");
        let Some(post) = find_hook(payloads, "PostToolUse", &id) else {
            continue;
        };
        assert_eq!(post["tool_input"], pre["tool_input"], "{id}");
        let response = post["tool_response"]
            .as_str()
            .expect("tool_response is a string");
        if let Some(expected) = &call.shell_response {
            // Only the output text: no exit code, duration or success flag.
            assert_eq!(response, expected, "{id}");
        } else {
            assert!(
                response.starts_with("Exit code: 0\nWall time: "),
                "{id}: {response:?}"
            );
        }
    }
}

/// The 0.169.0 rollout is "paginated": every line has a dense `ordinal` from 0, and the first
/// line is `session_meta` (legacy rollouts have no `ordinal`).
fn check_paginated_rollout(rollout: &[Value], session_id: &str) {
    check_paginated_rollout_head(rollout, session_id);
    let last = rollout.last().unwrap();
    assert_eq!(last["payload"]["type"], "task_complete");
    assert!(last["payload"]["duration_ms"].is_u64());
}

/// Dense ordinals from 0 and a `session_meta` first line (any session, even one whose turn
/// did not complete last).
fn check_paginated_rollout_head(rollout: &[Value], session_id: &str) {
    for (i, line) in rollout.iter().enumerate() {
        assert_eq!(line["ordinal"], json!(i), "line {i} ordinal");
        assert!(
            line["timestamp"].is_string() && line["type"].is_string(),
            "line {i}"
        );
        assert!(line["payload"].is_object(), "line {i}");
    }
    assert_eq!(rollout[0]["type"], "session_meta");
    assert_eq!(rollout[0]["payload"]["id"], session_id);
    assert_eq!(rollout[0]["payload"]["cli_version"], codex::CODEX_VERSION);
}

fn check_rollout_outcomes(rollout: &[Value], calls: &[Expected]) {
    for (n, call) in calls.iter().enumerate() {
        let id = call_id(n);
        let (kind, name) = if call.tool_name == "Bash" {
            ("function_call", "exec_command")
        } else {
            ("custom_tool_call", "apply_patch")
        };
        let request = response_items(rollout, kind)
            .find(|p| p["call_id"] == id.as_str())
            .unwrap_or_else(|| panic!("{id}: no {kind}"));
        assert_eq!(request["name"], name, "{id}");

        let output = tool_output(rollout, &id);
        assert!(
            output.starts_with(&call.output_prefix),
            "{id}: output {output:?} should start with {:?}",
            call.output_prefix
        );
        if let Some(code) = call.exit_code {
            assert!(
                output.contains(&format!("\nProcess exited with code {code}\n")),
                "{id}"
            );
        }

        let completed: Vec<&Value> = completed_items(rollout)
            .filter(|item| item["id"] == id.as_str())
            .collect();
        match call.completed_item {
            None => assert!(completed.is_empty(), "{id}: unexpected {completed:?}"),
            Some(item_type) => {
                assert_eq!(completed.len(), 1, "{id}");
                let item = completed[0];
                assert_eq!(item["type"], item_type, "{id}");
                if item_type == "CommandExecution" {
                    let code = call.exit_code.unwrap();
                    assert_eq!(item["exit_code"], code, "{id}");
                    assert_eq!(
                        item["status"],
                        if code == 0 { "completed" } else { "failed" },
                        "{id}"
                    );
                    assert_eq!(item["command"][2], call.command.as_str(), "{id}");
                    assert!(item["duration"]["secs"].is_u64(), "{id}");
                    assert!(item["duration"]["nanos"].is_u64(), "{id}");
                    assert!(item["aggregated_output"].is_string(), "{id}");
                } else {
                    assert_eq!(item["status"], "completed", "{id}");
                }
            }
        }
    }
    // The rejected call says why.
    assert!(tool_output(rollout, &call_id(6)).contains("rm -f style commands are not permitted"));
}

/// The rollout is already written through the turn's last outcome when `Stop` runs: only the
/// closing `task_complete` line is added after it.
fn check_rollout_at_stop(rollout: &[Value], at_stop: &[Value], calls: &[Expected]) {
    assert!(at_stop.len() < rollout.len());
    // Compared line by line: a whole-rollout diff would bury the failing line in 60 KB.
    if let Some(i) = (0..at_stop.len()).find(|&i| at_stop[i] != rollout[i]) {
        panic!(
            "the Stop-time copy is not a prefix of the final rollout: line {i} differs\n\
             at Stop: {}\nfinal:   {}",
            at_stop[i], rollout[i]
        );
    }
    assert!(rollout[at_stop.len()..]
        .iter()
        .all(|l| l["payload"]["type"] == "task_complete"));
    for (n, call) in calls.iter().enumerate() {
        let id = call_id(n);
        assert!(
            tool_output(at_stop, &id).starts_with(&call.output_prefix),
            "{id}"
        );
        if let Some(code) = call.exit_code {
            let item = completed_items(at_stop)
                .find(|item| item["id"] == id.as_str())
                .unwrap_or_else(|| panic!("{id}: no exit code at Stop"));
            assert_eq!(item["exit_code"], code, "{id}");
        }
    }
}

fn check_outcome_exec_stream(exec: &[Value], session_id: &str) {
    assert_eq!(exec[0]["type"], "thread.started");
    assert_eq!(exec[0]["thread_id"], session_id);
    assert_eq!(exec.last().unwrap()["type"], "turn.completed");
    let done = |kind: &str| -> Vec<&Value> {
        exec.iter()
            .filter(|e| e["type"] == "item.completed" && e["item"]["type"] == kind)
            .map(|e| &e["item"])
            .collect()
    };
    // Only the three shell calls that ran and the applied patch appear; the failed patch, the
    // blocked and the rejected call leave no item at all.
    let commands: Vec<(&str, &Value, &str)> = done("command_execution")
        .iter()
        .map(|i| {
            (
                i["command"].as_str().unwrap(),
                &i["exit_code"],
                i["status"].as_str().unwrap(),
            )
        })
        .collect();
    let token_cmd = format!("/bin/bash -lc 'echo {FAKE_TOKEN}'");
    assert_eq!(
        commands,
        vec![
            ("/bin/bash -lc 'echo hello'", &json!(0), "completed"),
            ("/bin/bash -lc 'ls /nope'", &json!(2), "failed"),
            (token_cmd.as_str(), &json!(0), "completed"),
        ]
    );
    let changes = done("file_change");
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0]["status"], "completed");
    assert_eq!(changes[0]["changes"][0]["kind"], "add");
    assert!(changes[0]["changes"][0]["path"]
        .as_str()
        .unwrap()
        .ends_with("/added.txt"));
    assert_eq!(done("agent_message")[0]["text"], "done");
    // Exec-stream item ids are per-stream counters, not the model's call ids.
    assert!(exec
        .iter()
        .filter_map(|e| e["item"]["id"].as_str())
        .all(|id| id.starts_with("item_")));
}

// ---------------------------------------------------------------------------------------
// The permission-denied session
// ---------------------------------------------------------------------------------------

const ESCALATED_COMMAND: &str = "touch escalated.txt";
const DENY_MESSAGE: &str = "denied by test hook";

/// `codex exec` forces `approval_policy = never`, so no approval is ever requested there
/// unless approvals are routed to automatic review (`--approve-for-me`). A PermissionRequest
/// hook that answers `deny` then decides before the reviewer model is consulted.
fn run_permission_session() -> (Evidence, std::process::ExitStatus, tempfile::TempDir) {
    let script = vec![
        Step::Call {
            name: "exec_command".into(),
            arguments: json!({
                "cmd": ESCALATED_COMMAND,
                "yield_time_ms": 5000,
                "sandbox_permissions": "require_escalated",
                "justification": "needs to write outside the sandbox",
            }),
        },
        Step::final_message("done"),
    ];
    let server = ModelServer::start(script);
    let home = CodexHome::new(server.port());
    codex::edit_config(
        &home,
        r#"approval_policy = "never""#,
        r#"approval_policy = "on-request""#,
    );
    codex::edit_config(
        &home,
        r#"sandbox_mode = "danger-full-access""#,
        r#"sandbox_mode = "workspace-write""#,
    );
    let repo = codex::git_repo();
    let capture = tempfile::tempdir().unwrap();
    let payloads = capture.path().join("payloads.jsonl");
    let decision = json!({"hookSpecificOutput": {
        "hookEventName": "PermissionRequest",
        "decision": {"behavior": "deny", "message": DENY_MESSAGE},
    }});
    let deny = format!(
        "cat >/dev/null; printf '%s' {}",
        shell_quote(&decision.to_string())
    );
    // User-level hooks this time, so both hook locations are exercised.
    Hooks::new()
        .record_all_events(&payloads)
        .command("PermissionRequest", "*", &deny, 10)
        .write_to_home(&home);

    let cmd = codex::exec_command_with_flags(&home, repo.path(), &[], &["--approve-for-me"]);
    let output = codex::run_bounded(cmd, codex::EXEC_TIMEOUT);
    assert!(
        output.status.success(),
        "codex exec failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The hook decided: the reviewer model was never consulted (one request per model turn).
    assert_eq!(server.requests().len(), 2, "the reviewer model was called");
    let evidence = Evidence {
        hook_payloads: std::fs::read_to_string(&payloads).unwrap(),
        rollout: std::fs::read_to_string(home.rollout()).unwrap(),
        rollout_at_stop: None,
        subagent_rollout: None,
        exec: String::from_utf8(output.stdout).unwrap(),
    };
    (evidence, output.status, repo)
}

#[test]
fn permission_denied_session_live_and_fixtures() {
    let (live, status, repo) = run_permission_session();
    dump_live("permission-denied", &live);
    assert!(status.success());
    assert!(
        !repo.path().join("escalated.txt").exists(),
        "the denied command ran"
    );
    check_live_and_fixture(
        &live,
        &fixtures_dir().join("permission-denied"),
        check_permission_denied,
    );
}

fn check_permission_denied(ev: &Evidence) {
    let payloads = codex::parse_jsonl(&ev.hook_payloads);
    check_hook_schemas(&payloads);
    let fired: Vec<String> = payloads.iter().map(event_label).collect();
    assert_eq!(
        fired,
        [
            "SessionStart",
            "UserPromptSubmit",
            "PreToolUse call_0",
            "PermissionRequest",
            "Stop",
            "SessionEnd"
        ]
    );
    let request = &payloads[3];
    // No tool_use_id: PermissionRequest is tied to its call only by order and command.
    assert!(request.get("tool_use_id").is_none());
    assert_eq!(request["tool_name"], "Bash");
    assert_eq!(
        request["tool_input"],
        json!({"command": ESCALATED_COMMAND, "description": "needs to write outside the sandbox"})
    );
    assert_eq!(request["permission_mode"], "default");

    let rollout = codex::parse_jsonl(&ev.rollout);
    check_paginated_rollout(&rollout, payloads[0]["session_id"].as_str().unwrap());
    assert_eq!(
        tool_output(&rollout, "call_0"),
        format!("exec_command failed: CreateProcess {{ message: \"Rejected(\\\"{DENY_MESSAGE}\\\")\" }}")
    );
    assert!(completed_items(&rollout).all(|i| i["id"] != "call_0"));

    let exec = codex::parse_jsonl(&ev.exec);
    assert!(exec
        .iter()
        .all(|e| e["item"]["type"] != "command_execution"));
}

// ---------------------------------------------------------------------------------------
// The compaction session
// ---------------------------------------------------------------------------------------

fn run_compaction_session() -> Evidence {
    let server = ModelServer::start(vec![
        Step::shell("echo one"),
        Step::shell("echo two"),
        Step::final_message("done"),
    ]);
    let home = CodexHome::new(server.port());
    // Every scripted response reports 15 tokens, so each tool round passes this limit.
    codex::edit_config(
        &home,
        "check_for_update_on_startup = false\n",
        "check_for_update_on_startup = false\nmodel_auto_compact_token_limit = 12\n",
    );
    let repo = codex::git_repo();
    let capture = tempfile::tempdir().unwrap();
    let payloads = capture.path().join("payloads.jsonl");
    Hooks::new()
        .record_all_events(&payloads)
        .write_to_home(&home);
    let output = codex::run_exec(&home, repo.path(), &[]);
    assert!(
        output.status.success(),
        "codex exec failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let compactions = server.requests().iter().filter(|r| r.compaction).count();
    assert_eq!(
        compactions, 2,
        "the model was asked for a summary after each tool call"
    );
    Evidence {
        hook_payloads: std::fs::read_to_string(&payloads).unwrap(),
        rollout: std::fs::read_to_string(home.rollout()).unwrap(),
        rollout_at_stop: None,
        subagent_rollout: None,
        exec: String::from_utf8(output.stdout).unwrap(),
    }
}

#[test]
fn compaction_session_live_and_fixtures() {
    let live = run_compaction_session();
    dump_live("compaction", &live);
    check_live_and_fixture(&live, &fixtures_dir().join("compaction"), check_compaction);
}

fn check_compaction(ev: &Evidence) {
    let payloads = codex::parse_jsonl(&ev.hook_payloads);
    check_hook_schemas(&payloads);
    let compact = ["PreCompact", "PostCompact", "SessionStart"];
    let mut expected = vec!["SessionStart", "UserPromptSubmit"];
    expected.extend(["PreToolUse call_0", "PostToolUse call_0"]);
    expected.extend(compact);
    expected.extend(["PreToolUse call_1", "PostToolUse call_1"]);
    expected.extend(compact);
    expected.extend(["Stop", "SessionEnd"]);
    let fired: Vec<String> = payloads.iter().map(event_label).collect();
    assert_eq!(fired, expected);

    let session_id = &payloads[0]["session_id"];
    let turn_id = &payloads[1]["turn_id"];
    for p in &payloads {
        // A compaction is not a new session: same id, same rollout file.
        assert_eq!(&p["session_id"], session_id);
        assert_eq!(p["transcript_path"], payloads[0]["transcript_path"]);
        match p["hook_event_name"].as_str().unwrap() {
            "PreCompact" | "PostCompact" => {
                assert_eq!(p["trigger"], "auto");
                assert_eq!(&p["turn_id"], turn_id, "compaction happens inside the turn");
                assert!(p.get("permission_mode").is_none());
            }
            "SessionStart" => assert!(p.get("turn_id").is_none()),
            _ => {}
        }
    }
    let sources: Vec<&Value> = payloads
        .iter()
        .filter(|p| p["hook_event_name"] == "SessionStart")
        .map(|p| &p["source"])
        .collect();
    assert_eq!(
        sources,
        [&json!("startup"), &json!("compact"), &json!("compact")]
    );

    // The rollout keeps the full history: `compacted` lines are added, nothing is rewritten,
    // so the outcomes from before a compaction stay readable.
    let rollout = codex::parse_jsonl(&ev.rollout);
    check_paginated_rollout(&rollout, session_id.as_str().unwrap());
    let compacted: Vec<&Value> = rollout
        .iter()
        .filter(|l| l["type"] == "compacted")
        .collect();
    assert_eq!(compacted.len(), 2);
    for line in &compacted {
        assert!(line["payload"]["message"]
            .as_str()
            .unwrap()
            .ends_with(e2e::model_server::COMPACTION_SUMMARY));
        assert!(line["payload"]["replacement_history"].is_array());
    }
    assert_eq!(
        completed_items(&rollout)
            .filter(|i| i["type"] == "ContextCompaction")
            .count(),
        2
    );
    for (n, echoed) in ["one", "two"].iter().enumerate() {
        let id = call_id(n);
        let item = completed_items(&rollout)
            .find(|i| i["id"] == id.as_str())
            .unwrap_or_else(|| panic!("{id}: no CommandExecution"));
        assert_eq!(item["exit_code"], 0);
        assert_eq!(item["aggregated_output"], format!("{echoed}\n"));
    }
    // The exec stream does not mention compaction at all.
    assert!(!ev.exec.to_lowercase().contains("compact"));
}

// ---------------------------------------------------------------------------------------
// The interrupt session
// ---------------------------------------------------------------------------------------

const LONG_COMMAND: &str = "sleep 20";

fn run_interrupt_session() -> (Evidence, std::process::ExitStatus) {
    let server = ModelServer::start(vec![
        Step::Call {
            name: "exec_command".into(),
            // Long enough a yield that the call is still running when the signal arrives.
            arguments: json!({"cmd": LONG_COMMAND, "yield_time_ms": 30000}),
        },
        Step::final_message("done"),
    ]);
    let home = CodexHome::new(server.port());
    let repo = codex::git_repo();
    let capture = tempfile::tempdir().unwrap();
    let payloads = capture.path().join("payloads.jsonl");
    Hooks::new()
        .record_all_events(&payloads)
        .write_to_home(&home);

    let started = Instant::now();
    let running = codex::RunningExec::spawn(codex::exec_command(&home, repo.path(), &[]));
    assert!(
        codex::wait_for_text(&payloads, "\"PreToolUse\"", Duration::from_secs(30)),
        "the scripted call never started"
    );
    // PreToolUse runs just before the command is spawned; give it a moment to be running.
    std::thread::sleep(Duration::from_millis(500));
    running.interrupt();
    let output = running.wait(codex::EXEC_TIMEOUT);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "the interrupt did not stop `{LONG_COMMAND}`"
    );
    let evidence = Evidence {
        hook_payloads: std::fs::read_to_string(&payloads).unwrap(),
        rollout: std::fs::read_to_string(home.rollout()).unwrap(),
        rollout_at_stop: None,
        subagent_rollout: None,
        exec: String::from_utf8(output.stdout).unwrap(),
    };
    (evidence, output.status)
}

#[test]
fn interrupt_session_live_and_fixtures() {
    let (live, status) = run_interrupt_session();
    dump_live("interrupt", &live);
    // An interrupted `codex exec` fails.
    assert_eq!(status.code(), Some(1));
    check_live_and_fixture(&live, &fixtures_dir().join("interrupt"), check_interrupt);
}

fn check_interrupt(ev: &Evidence) {
    let payloads = codex::parse_jsonl(&ev.hook_payloads);
    check_hook_schemas(&payloads);
    let fired: Vec<String> = payloads.iter().map(event_label).collect();
    // No PostToolUse and no Stop: only Interrupt and SessionEnd tell the turn is over.
    assert_eq!(
        fired,
        [
            "SessionStart",
            "UserPromptSubmit",
            "PreToolUse call_0",
            "Interrupt",
            "SessionEnd"
        ]
    );
    let interrupt = &payloads[3];
    assert_eq!(interrupt["turn_id"], payloads[1]["turn_id"]);
    assert_eq!(interrupt["permission_mode"], "bypassPermissions");

    let rollout = codex::parse_jsonl(&ev.rollout);
    check_paginated_rollout_head(&rollout, payloads[0]["session_id"].as_str().unwrap());
    // No task_complete: the turn ends with turn_aborted, and the killed command's
    // CommandExecution (exit code -1) is written after it.
    assert!(rollout
        .iter()
        .all(|l| l["payload"]["type"] != "task_complete"));
    let aborted = rollout
        .iter()
        .position(|l| l["payload"]["type"] == "turn_aborted")
        .expect("turn_aborted");
    assert_eq!(rollout[aborted]["payload"]["reason"], "interrupted");
    assert!(rollout[aborted]["payload"]["duration_ms"].is_u64());
    let output = tool_output(&rollout, "call_0");
    assert!(
        output.starts_with("Wall time: ") && output.ends_with("\naborted by user"),
        "{output:?}"
    );
    let killed = rollout
        .iter()
        .position(|l| {
            l["payload"]["type"] == "item_completed" && l["payload"]["item"]["id"] == "call_0"
        })
        .expect("CommandExecution for the interrupted call");
    assert!(killed > aborted);
    let item = &rollout[killed]["payload"]["item"];
    assert_eq!(item["type"], "CommandExecution");
    assert_eq!(item["status"], "failed");
    // -1 or 137, as for the still-running session below.
    assert!(
        item["exit_code"] == -1 || item["exit_code"] == 137,
        "{:?}",
        item["exit_code"]
    );

    // The exec stream just stops: the command is started but never completed, no turn end.
    let exec = codex::parse_jsonl(&ev.exec);
    assert!(exec
        .iter()
        .any(|e| e["type"] == "item.started" && e["item"]["type"] == "command_execution"));
    assert!(exec
        .iter()
        .all(|e| e["type"] != "item.completed" || e["item"]["type"] != "command_execution"));
    assert!(exec
        .iter()
        .all(|e| e["type"] != "turn.completed" && e["type"] != "turn.failed"));
}

// ---------------------------------------------------------------------------------------
// The still-running session
// ---------------------------------------------------------------------------------------

fn run_still_running_session() -> Evidence {
    let server = ModelServer::start(vec![
        Step::Call {
            name: "exec_command".into(),
            arguments: json!({"cmd": LONG_COMMAND, "yield_time_ms": 300}),
        },
        Step::final_message("done"),
    ]);
    let home = CodexHome::new(server.port());
    let repo = codex::git_repo();
    let capture = tempfile::tempdir().unwrap();
    let payloads = capture.path().join("payloads.jsonl");
    let at_stop = capture.path().join("rollout-at-stop.jsonl");
    Hooks::new()
        .record_all_events(&payloads)
        .command("Stop", "*", &copy_transcript_command(&at_stop), 10)
        .write_to_home(&home);
    let started = Instant::now();
    let output = codex::run_exec(&home, repo.path(), &[]);
    assert!(
        output.status.success(),
        "codex exec failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "codex waited for `{LONG_COMMAND}` instead of ending the session"
    );
    Evidence {
        hook_payloads: std::fs::read_to_string(&payloads).unwrap(),
        rollout: std::fs::read_to_string(home.rollout()).unwrap(),
        rollout_at_stop: Some(std::fs::read_to_string(&at_stop).unwrap()),
        subagent_rollout: None,
        exec: String::from_utf8(output.stdout).unwrap(),
    }
}

#[test]
fn still_running_session_live_and_fixtures() {
    let live = run_still_running_session();
    dump_live("still-running", &live);
    check_live_and_fixture(
        &live,
        &fixtures_dir().join("still-running"),
        check_still_running,
    );
}

fn check_still_running(ev: &Evidence) {
    let payloads = codex::parse_jsonl(&ev.hook_payloads);
    check_hook_schemas(&payloads);
    let fired: Vec<String> = payloads.iter().map(event_label).collect();
    assert_eq!(
        fired,
        [
            "SessionStart",
            "UserPromptSubmit",
            "PreToolUse call_0",
            "Stop",
            "SessionEnd"
        ]
    );
    let rollout = codex::parse_jsonl(&ev.rollout);
    let at_stop = codex::parse_jsonl(ev.rollout_at_stop.as_deref().unwrap());
    check_paginated_rollout_head(&rollout, payloads[0]["session_id"].as_str().unwrap());
    assert_eq!(at_stop, rollout[..at_stop.len()]);

    // At Stop the call has only a "still running" output and no outcome.
    let output = tool_output(&at_stop, "call_0");
    assert!(
        output.starts_with("Chunk ID: ") && output.contains("\nProcess running with session ID "),
        "{output:?}"
    );
    assert!(completed_items(&at_stop).all(|i| i["id"] != "call_0"));
    // The turn completed normally anyway...
    let complete = rollout
        .iter()
        .position(|l| l["payload"]["type"] == "task_complete")
        .expect("task_complete");
    // ...and the command's outcome (killed at session end: failed, exit code -1) comes
    // after it, and after Stop.
    let killed = rollout
        .iter()
        .position(|l| {
            l["payload"]["type"] == "item_completed" && l["payload"]["item"]["id"] == "call_0"
        })
        .expect("CommandExecution for the still-running call");
    assert!(killed > complete && killed >= at_stop.len());
    let item = &rollout[killed]["payload"]["item"];
    assert_eq!(item["status"], "failed");
    // Codex kills the process at session end: it records -1 when it gives up on the process
    // first, 137 (128 + SIGKILL) when it sees the process die first; which one depends on
    // scheduling (both were seen here, the second under CI load).
    assert!(
        item["exit_code"] == -1 || item["exit_code"] == 137,
        "{:?}",
        item["exit_code"]
    );

    // The exec stream starts the command and never completes it.
    let exec = codex::parse_jsonl(&ev.exec);
    assert!(exec
        .iter()
        .any(|e| e["type"] == "item.started" && e["item"]["type"] == "command_execution"));
    assert!(exec
        .iter()
        .all(|e| e["type"] != "item.completed" || e["item"]["type"] != "command_execution"));
    assert_eq!(exec.last().unwrap()["type"], "turn.completed");
}

// ---------------------------------------------------------------------------------------
// The subagent session
// ---------------------------------------------------------------------------------------

const SUBAGENT_COMMAND: &str = "echo from-subagent";

fn run_subagent_session() -> Evidence {
    let collaboration = |name: &str, arguments: Value| Step::NamespacedCall {
        namespace: "collaboration".into(),
        name: name.into(),
        arguments,
    };
    let session = vec![
        collaboration(
            "spawn_agent",
            json!({"task_name": "helper", "message": "run the command", "fork_turns": "none"}),
        ),
        collaboration("wait_agent", json!({"timeout_ms": 10000})),
        Step::final_message("done"),
    ];
    let subagent = vec![
        Step::shell(SUBAGENT_COMMAND),
        Step::final_message("subagent done"),
    ];
    let server = ModelServer::start_threads(vec![session, subagent]);
    let home = CodexHome::new(server.port());
    let repo = codex::git_repo();
    let capture = tempfile::tempdir().unwrap();
    let payloads = capture.path().join("payloads.jsonl");
    Hooks::new()
        .record_all_events(&payloads)
        .write_to_home(&home);
    let cmd = codex::exec_command_with_flags(
        &home,
        repo.path(),
        &[],
        &[
            "--dangerously-bypass-approvals-and-sandbox",
            "--enable",
            "multi_agent_v2",
        ],
    );
    let output = codex::run_bounded(cmd, codex::EXEC_TIMEOUT);
    assert!(
        output.status.success(),
        "codex exec failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let exec = String::from_utf8(output.stdout).unwrap();
    let thread_id = codex::parse_jsonl(&exec)[0]["thread_id"]
        .as_str()
        .expect("thread.started")
        .to_string();
    // One rollout per thread, named after it.
    let rollouts = home.rollouts();
    assert_eq!(rollouts.len(), 2, "{rollouts:?}");
    let (session, subagent): (Vec<_>, Vec<_>) = rollouts.iter().partition(|p| {
        p.to_string_lossy()
            .ends_with(&format!("-{thread_id}.jsonl"))
    });
    Evidence {
        hook_payloads: std::fs::read_to_string(&payloads).unwrap(),
        rollout: std::fs::read_to_string(session[0]).unwrap(),
        rollout_at_stop: None,
        subagent_rollout: Some(std::fs::read_to_string(subagent[0]).unwrap()),
        exec,
    }
}

#[test]
fn subagent_session_live_and_fixtures() {
    let live = run_subagent_session();
    dump_live("subagent", &live);
    check_live_and_fixture(&live, &fixtures_dir().join("subagent"), check_subagent);
}

fn check_subagent(ev: &Evidence) {
    let payloads = codex::parse_jsonl(&ev.hook_payloads);
    check_hook_schemas(&payloads);
    let rollout = codex::parse_jsonl(&ev.rollout);
    let sub_rollout = codex::parse_jsonl(ev.subagent_rollout.as_deref().unwrap());
    let session_id = payloads[0]["session_id"].as_str().unwrap();
    let agent_id = sub_rollout[0]["payload"]["id"].as_str().unwrap();
    let sub_call = e2e::model_server::thread_call_id(1, 0);

    // The two threads run concurrently, so only the order within each is fixed.
    let is_subagent = |p: &&Value| {
        p.get("agent_id").is_some()
            || matches!(
                p["hook_event_name"].as_str(),
                Some("SubagentStart" | "SubagentStop")
            )
    };
    let session_events: Vec<String> = payloads
        .iter()
        .filter(|p| !is_subagent(p))
        .map(event_label)
        .collect();
    assert_eq!(
        session_events,
        [
            "SessionStart",
            "UserPromptSubmit",
            "PreToolUse call_0",
            "PostToolUse call_0",
            "PreToolUse call_1",
            "PostToolUse call_1",
            "Stop",
            "SessionEnd"
        ]
    );
    let subagent_events: Vec<String> = payloads
        .iter()
        .filter(is_subagent)
        .map(event_label)
        .collect();
    assert_eq!(
        subagent_events,
        [
            "SubagentStart".to_string(),
            format!("PreToolUse {sub_call}"),
            format!("PostToolUse {sub_call}"),
            "SubagentStop".to_string(),
        ]
    );

    // Namespaced tools are named namespace + name with no separator.
    let spawn = find_hook(&payloads, "PreToolUse", "call_0").unwrap();
    assert_eq!(spawn["tool_name"], "collaborationspawn_agent");
    assert_eq!(spawn["tool_input"]["task_name"], "helper");
    let wait = find_hook(&payloads, "PostToolUse", "call_1").unwrap();
    assert_eq!(wait["tool_name"], "collaborationwait_agent");

    let main_transcript = &payloads[0]["transcript_path"];
    let sub_transcript = |p: &Value| {
        p.as_str()
            .is_some_and(|t| t.ends_with(&format!("-{agent_id}.jsonl")))
    };
    for p in payloads.iter().filter(is_subagent) {
        let event = p["hook_event_name"].as_str().unwrap();
        // Subagent events carry the parent's session id and the subagent's own id.
        assert_eq!(p["session_id"], session_id, "{event}");
        assert_eq!(p["agent_id"], agent_id, "{event}");
        assert_eq!(p["agent_type"], "default", "{event}");
        if event == "SubagentStop" {
            // The parent's transcript, plus the subagent's as agent_transcript_path.
            assert_eq!(&p["transcript_path"], main_transcript);
            assert!(sub_transcript(&p["agent_transcript_path"]), "{p}");
            assert_eq!(p["last_assistant_message"], "subagent done");
            assert_eq!(p["stop_hook_active"], false);
        } else {
            assert!(sub_transcript(&p["transcript_path"]), "{event}: {p}");
        }
    }
    let sub_bash = find_hook(&payloads, "PostToolUse", &sub_call).unwrap();
    assert_eq!(sub_bash["tool_name"], "Bash");
    assert_eq!(sub_bash["tool_response"], "from-subagent\n");
    assert_ne!(
        sub_bash["turn_id"], payloads[1]["turn_id"],
        "the subagent has its own turn"
    );

    // The session's rollout records the namespaced calls; the subagent's rollout is a
    // separate paginated file whose session_meta points back at the parent.
    check_paginated_rollout(&rollout, session_id);
    let spawn_call = response_items(&rollout, "function_call")
        .find(|p| p["call_id"] == "call_0")
        .unwrap();
    assert_eq!(spawn_call["namespace"], "collaboration");
    assert_eq!(spawn_call["name"], "spawn_agent");
    assert!(completed_items(&rollout)
        .any(|i| i["type"] == "SubAgentActivity" && i["agent_thread_id"] == agent_id));
    for (i, line) in sub_rollout.iter().enumerate() {
        assert_eq!(line["ordinal"], json!(i), "subagent line {i}");
    }
    let meta = &sub_rollout[0]["payload"];
    assert_eq!(sub_rollout[0]["type"], "session_meta");
    assert_eq!(meta["session_id"], session_id);
    assert_eq!(meta["parent_thread_id"], session_id);
    assert!(meta["source"]["subagent"].is_object());
    let item = completed_items(&sub_rollout)
        .find(|i| i["id"] == sub_call.as_str())
        .expect("subagent CommandExecution");
    assert_eq!(item["exit_code"], 0);
    assert_eq!(item["command"][2], SUBAGENT_COMMAND);
    assert_eq!(
        sub_rollout.last().unwrap()["payload"]["type"],
        "task_complete"
    );

    // The exec stream shows none of the subagent's commands.
    let exec = codex::parse_jsonl(&ev.exec);
    assert!(exec
        .iter()
        .all(|e| e["item"]["type"] != "command_execution"));
    assert!(!ev.exec.contains(SUBAGENT_COMMAND));
}

// ---------------------------------------------------------------------------------------
// Codex's own hook schemas
// ---------------------------------------------------------------------------------------

fn hook_schemas_dir() -> PathBuf {
    fixtures_dir().join("hook-schemas")
}

/// Validate every payload against the input schema Codex embeds for its event
/// (`pre-tool-use.command.input.json` for `PreToolUse`, ...; they forbid unknown fields).
fn check_hook_schemas(payloads: &[Value]) {
    for payload in payloads {
        let event = payload["hook_event_name"]
            .as_str()
            .expect("hook_event_name");
        let path = hook_schemas_dir().join(format!("{}.command.input.json", kebab(event)));
        let schema: Value = serde_json::from_str(
            &std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
        )
        .unwrap();
        if let Err(error) = jsonschema::validate(&schema, payload) {
            panic!(
                "{event} payload violates {}: {error}\n{payload}",
                path.display()
            );
        }
    }
}

/// `PreToolUse` -> `pre-tool-use`.
fn kebab(event: &str) -> String {
    let mut out = String::new();
    for (i, c) in event.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('-');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

#[test]
fn hook_schemas_are_codex_own() {
    if updating_fixtures() {
        let dir = hook_schemas_dir();
        std::fs::create_dir_all(&dir).unwrap();
        for (title, schema) in embedded_hook_schemas() {
            let text = serde_json::to_string_pretty(&schema).unwrap() + "\n";
            std::fs::write(dir.join(format!("{title}.json")), text).unwrap();
        }
    }
    // The committed schemas are what the installed binary embeds, one input schema per event.
    let embedded = embedded_hook_schemas();
    for event in codex::ALL_EVENTS {
        let title = format!("{}.command.input", kebab(event));
        assert!(
            embedded.iter().any(|(t, _)| *t == title),
            "Codex embeds no {title} schema"
        );
    }
    for (title, schema) in &embedded {
        let path = hook_schemas_dir().join(format!("{title}.json"));
        let committed: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| {
                panic!(
                    "{}: {e}; regenerate with CODEX_FIXTURES_UPDATE=1",
                    path.display()
                )
            }))
            .unwrap();
        assert_eq!(&committed, schema, "{title}");
    }
}

/// The native Codex binary behind the npm launcher (`node_modules/.bin/codex` is a Node
/// script that runs `node_modules/@openai/codex-<platform>/vendor/<triple>/bin/codex`).
fn native_codex_binary() -> PathBuf {
    let bin = codex::codex_bin();
    let head = std::fs::read(&bin).unwrap();
    if head.starts_with(b"\x7fELF") {
        return bin;
    }
    let node_modules = bin.parent().and_then(Path::parent).unwrap().join("@openai");
    for package in std::fs::read_dir(&node_modules).unwrap().flatten() {
        let vendor = package.path().join("vendor");
        for triple in std::fs::read_dir(&vendor).into_iter().flatten().flatten() {
            let native = triple.path().join("bin/codex");
            if native.is_file() {
                return native;
            }
        }
    }
    panic!("no native codex binary under {}", node_modules.display());
}

/// The hook JSON schemas compiled into the binary, as `(title, schema)`: each is a
/// pretty-printed JSON object from `{\n  "$schema"` to `\n}` with a title like
/// `pre-tool-use.command.input`.
fn embedded_hook_schemas() -> Vec<(String, Value)> {
    let data = std::fs::read(native_codex_binary()).unwrap();
    // str searching is std's optimised code even in a debug build; the binary is ~150 MB.
    let text = String::from_utf8_lossy(&data);
    let mut found: Vec<(String, Value)> = Vec::new();
    for (at, _) in text.match_indices("\"title\": \"") {
        let rest = &text[at + 10..];
        let Some(end) = rest.find('"') else {
            continue;
        };
        let title = &rest[..end];
        if !is_hook_schema_title(title) || found.iter().any(|(t, _)| t == title) {
            continue;
        }
        let start = text[..at].rfind("{\n  \"$schema\"").expect("schema start");
        let close = text[at..].find("\n}").expect("schema end") + at + 2;
        let schema: Value = serde_json::from_str(&text[start..close])
            .unwrap_or_else(|e| panic!("embedded schema {title} is not JSON: {e}"));
        found.push((title.to_string(), schema));
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

/// `<kebab-event>.command.input` or `<kebab-event>.command.output`.
fn is_hook_schema_title(title: &str) -> bool {
    let Some(event) = title
        .strip_suffix(".command.input")
        .or_else(|| title.strip_suffix(".command.output"))
    else {
        return false;
    };
    !event.is_empty() && event.chars().all(|c| c.is_ascii_lowercase() || c == '-')
}

// ---------------------------------------------------------------------------------------
// Helpers over parsed JSONL
// ---------------------------------------------------------------------------------------

/// `"PreToolUse call_3"` for tool events, the bare event name otherwise.
fn event_label(payload: &Value) -> String {
    let event = payload["hook_event_name"].as_str().unwrap_or("?");
    match payload["tool_use_id"].as_str() {
        Some(id) => format!("{event} {id}"),
        None => event.to_string(),
    }
}

fn find_hook<'a>(payloads: &'a [Value], event: &str, id: &str) -> Option<&'a Value> {
    payloads
        .iter()
        .find(|p| p["hook_event_name"] == event && p["tool_use_id"] == id)
}

fn response_items<'a>(rollout: &'a [Value], kind: &'a str) -> impl Iterator<Item = &'a Value> {
    rollout
        .iter()
        .filter(move |l| l["type"] == "response_item" && l["payload"]["type"] == kind)
        .map(|l| &l["payload"])
}

fn completed_items(rollout: &[Value]) -> impl Iterator<Item = &Value> {
    rollout
        .iter()
        .filter(|l| l["type"] == "event_msg" && l["payload"]["type"] == "item_completed")
        .map(|l| &l["payload"]["item"])
}

/// The output text the rollout recorded for `call_id` (exactly one output item per call).
fn tool_output<'a>(rollout: &'a [Value], call_id: &str) -> &'a str {
    let outputs: Vec<&Value> = response_items(rollout, "function_call_output")
        .chain(response_items(rollout, "custom_tool_call_output"))
        .filter(|p| p["call_id"] == call_id)
        .collect();
    assert_eq!(outputs.len(), 1, "{call_id}: outputs {outputs:?}");
    outputs[0]["output"]
        .as_str()
        .unwrap_or_else(|| panic!("{call_id}: output is not a string"))
}
