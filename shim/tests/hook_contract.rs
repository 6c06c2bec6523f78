//! The hook's contract with the agent, whatever it is fed: exit 0, nothing on stdout, at most
//! a warning on stderr — for payloads that are not JSON, logs that cannot be written, locks
//! held too long, stdin that never ends, and flags from a newer `hooks.json`. Plus what it
//! records for Claude Code payloads, prompts and unknown events, and where the log goes.

mod common;

use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, Instant};

use codex_contract::{Feedback, Phase, Source, Status};
use common::*;
use serde_json::json;

fn raw_hook(args: &[&str], stdin: &[u8], env: &[(&str, &str)]) -> (String, Vec<u8>, i32) {
    let mut all = vec!["hook"];
    all.extend_from_slice(args);
    let out = run(&all, stdin, env);
    (
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.stdout,
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn bad_payloads_exit_zero_silently_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.ndjson");
    let log_s = log.to_str().unwrap();
    for payload in [
        &b"not json"[..],
        b"",
        b"[1,2,3]",
        b"{\"session_id\":\"s\"}",
        b"{\"hook_event_name\":\"PreToolUse\",\"tool_input\":",
        b"\xff\xfe\x00",
    ] {
        let (stderr, stdout, code) = raw_hook(&["--log", log_s], payload, &[]);
        assert_eq!(code, 0, "{payload:?}");
        assert!(stdout.is_empty(), "{payload:?}");
        assert_eq!(stderr.lines().count(), 1, "one warning line: {stderr}");
        assert!(stderr.starts_with("codex-shim: warning: hook:"), "{stderr}");
    }
    assert!(!log.exists(), "nothing recorded from bad payloads");
}

#[test]
fn unknown_flags_from_a_newer_install_do_not_block_the_tool() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.ndjson");
    let payload = json!({"session_id": "s", "turn_id": "t", "cwd": "/", "hook_event_name": "PreToolUse",
        "tool_name": "Bash", "tool_input": {"command": "ls"}, "tool_use_id": "c1"});
    let (stderr, stdout, code) = raw_hook(
        &["--future-flag", "x", "--log", log.to_str().unwrap()],
        payload.to_string().as_bytes(),
        &[],
    );
    assert_eq!(code, 0);
    assert!(stdout.is_empty());
    assert!(stderr.contains("ignoring unknown argument"), "{stderr}");
    assert_eq!(calls(&log).len(), 1);
}

#[test]
fn unwritable_log_and_held_lock_only_warn() {
    let dir = tempfile::tempdir().unwrap();
    let payload = json!({"session_id": "s", "turn_id": "t", "cwd": "/", "hook_event_name": "PreToolUse",
        "tool_name": "Bash", "tool_input": {"command": "ls"}, "tool_use_id": "c1"});
    // The log path is a directory.
    let (stderr, stdout, code) = raw_hook(
        &["--log", dir.path().to_str().unwrap()],
        payload.to_string().as_bytes(),
        &[],
    );
    assert_eq!((code, stdout.is_empty()), (0, true));
    assert!(stderr.contains("could not record"), "{stderr}");

    // Another writer holds the lock past the timeout.
    let log = dir.path().join("log.ndjson");
    let held = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .unwrap();
    fs2::FileExt::lock_exclusive(&held).unwrap();
    let started = Instant::now();
    let (stderr, stdout, code) = raw_hook(
        &["--log", log.to_str().unwrap()],
        payload.to_string().as_bytes(),
        &[("CODEX_SHIM_LOCK_TIMEOUT_MS", "100")],
    );
    assert_eq!((code, stdout.is_empty()), (0, true));
    assert!(stderr.contains("held for more than"), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn stdin_that_never_ends_hits_the_deadline_and_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = cmd()
        .args(["hook", "--log", dir.path().join("log").to_str().unwrap()])
        .env("CODEX_SHIM_HOOK_DEADLINE_MS", "200")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"{\"hook_event_name\":").unwrap();
    let started = Instant::now();
    let out = loop {
        if let Some(_status) = child.try_wait().unwrap() {
            break child.wait_with_output().unwrap();
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the hook did not end at its deadline"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    drop(stdin);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("deadline"));
}

#[test]
fn claude_code_payloads() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.ndjson");
    let base = json!({"session_id": "cc1", "transcript_path": "/home/u/.claude/projects/p/cc1.jsonl",
        "cwd": dir.path(), "permission_mode": "default"});
    let with = |extra: serde_json::Value| {
        let mut p = base.clone();
        for (k, v) in extra.as_object().unwrap() {
            p[k] = v.clone();
        }
        p
    };
    hook(
        &with(json!({"hook_event_name": "PreToolUse", "tool_name": "Bash",
            "tool_input": {"command": "cargo test", "description": "run tests"}, "tool_use_id": "toolu_1"})),
        &log,
        &[],
    );
    hook(
        &with(
            json!({"hook_event_name": "PostToolUse", "tool_name": "Bash",
            "tool_input": {"command": "cargo test"}, "tool_use_id": "toolu_1",
            "tool_response": {"stdout": "test result: ok", "stderr": "warning: x", "interrupted": false, "isImage": false}}),
        ),
        &log,
        &[],
    );
    hook(
        &with(
            json!({"hook_event_name": "PostToolUseFailure", "tool_name": "Bash",
            "tool_input": {"command": "false"}, "tool_use_id": "toolu_2",
            "error": "Exit code 1\nboom", "is_interrupt": false}),
        ),
        &log,
        &[],
    );
    hook(
        &with(
            json!({"hook_event_name": "PostToolUse", "tool_name": "Edit",
            "tool_input": {"file_path": "/a.rs", "old_string": "a", "new_string": "b"}, "tool_use_id": "toolu_3",
            "tool_response": {"filePath": "/a.rs", "success": true}}),
        ),
        &log,
        &[],
    );
    let recs = records(&log);
    assert!(recs.iter().all(|r| r.source == Some(Source::ClaudeHook)));
    let folded = calls(&log);
    let ok = call(&folded, "toolu_1");
    assert_eq!(ok.status, Status::Ok);
    assert_eq!(ok.input.as_deref(), Some("cargo test"));
    assert_eq!(ok.output.as_ref().unwrap().text, "test result: ok");
    assert_eq!(ok.stderr.as_ref().unwrap().text, "warning: x");
    let failed = call(&folded, "toolu_2");
    assert_eq!((failed.status, failed.exit_code), (Status::Failed, Some(1)));
    let edit = call(&folded, "toolu_3");
    assert_eq!(edit.status, Status::Ok);
    assert_eq!(
        edit.input.as_deref(),
        Some(r#"{"file_path":"/a.rs","new_string":"b","old_string":"a"}"#)
    );
}

#[test]
fn codex_post_tool_use_never_guesses_ok_for_shell_calls() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.ndjson");
    let fx = payloads(&fixtures());
    for p in fx.iter().filter(|p| p["hook_event_name"] == "PostToolUse") {
        let mut p = p.clone();
        p["transcript_path"] = json!(null);
        hook(&p, &log, &[]);
    }
    let folded = calls(&log);
    assert_eq!(folded.len(), 4);
    for id in ["call_0", "call_1", "call_2"] {
        assert_eq!(call(&folded, id).status, Status::Unknown, "{id}");
    }
    // apply_patch's response carries its exit code.
    let patch = call(&folded, "call_4");
    assert_eq!((patch.status, patch.exit_code), (Status::Ok, Some(0)));
    assert_eq!(
        patch.output.as_ref().unwrap().text,
        "Success. Updated the following files:\nA added.txt\n"
    );
}

#[test]
fn prompts_are_measured_not_stored() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.ndjson");
    let prompt = |text: &str| {
        json!({"session_id": "s", "turn_id": "t", "transcript_path": null, "cwd": "/",
            "hook_event_name": "UserPromptSubmit", "model": "m", "permission_mode": "default",
            "prompt": text})
    };
    hook(
        &prompt("thanks, that works — now the private plan"),
        &log,
        &[],
    );
    hook(&prompt("No, that's wrong"), &log, &[]);
    hook(
        &prompt("add a secret-free excerpt please, it is long"),
        &log,
        &[("CODEX_SHIM_PROMPT_EXCERPT", "12")],
    );
    hook(&prompt(&format!("use {FAKE_TOKEN} to push")), &log, &[]);
    let recs = records(&log);
    assert_eq!(recs.len(), 4);
    assert_eq!(recs[0].feedback, Some(Feedback::Positive));
    assert_eq!(
        recs[0].prompt_len,
        Some("thanks, that works — now the private plan".len() as u64)
    );
    assert_eq!(recs[1].feedback, Some(Feedback::Negative));
    assert_eq!(recs[2].feedback, None);
    let excerpt = recs[2].prompt_excerpt.as_deref().unwrap();
    assert!(excerpt.len() <= 12 && !excerpt.is_empty(), "{excerpt:?}");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!text.contains("private plan"));
    assert!(!text.contains("No, that"));
    assert!(!text.contains(FAKE_TOKEN));
    assert!(recs
        .iter()
        .all(|r| r.event.as_deref() == Some("user_prompt")));
}

#[test]
fn unknown_events_become_snake_case_session_records() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.ndjson");
    hook(
        &json!({"session_id": "s", "turn_id": "t", "cwd": "/", "hook_event_name": "FutureThingHappened",
            "reason": "why not"}),
        &log,
        &[],
    );
    let r = &records(&log)[0];
    assert_eq!(r.phase, Some(Phase::Session));
    assert_eq!(r.event.as_deref(), Some("future_thing_happened"));
    assert_eq!(r.reason.as_deref(), Some("why not"));
}

#[test]
fn log_goes_to_the_git_top_level_of_the_payload_cwd() {
    let repo = tempfile::tempdir().unwrap();
    std::fs::create_dir(repo.path().join(".git")).unwrap();
    let sub = repo.path().join("a/b");
    std::fs::create_dir_all(&sub).unwrap();
    let payload = json!({"session_id": "s", "turn_id": "t", "cwd": sub, "hook_event_name": "PreToolUse",
        "tool_name": "Bash", "tool_input": {"command": "ls"}, "tool_use_id": "c1"});
    let out = run(&["hook"], payload.to_string().as_bytes(), &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty() && out.stderr.is_empty());
    let log = repo.path().join(".codex/toolcalls.ndjson");
    assert_eq!(calls(&log)[0].cwd.as_deref(), sub.to_str());
    // The environment variable wins over the repository.
    let elsewhere = tempfile::tempdir().unwrap();
    let env_log = elsewhere.path().join("env.ndjson");
    let out = run(
        &["hook"],
        payload.to_string().as_bytes(),
        &[("CODEX_TOOLCALLS_LOG", env_log.to_str().unwrap())],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(calls(&env_log).len(), 1);
    assert_eq!(calls(&log).len(), 1);
}

#[test]
fn parallel_hooks_lose_and_interleave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.ndjson");
    let big = "x".repeat(30_000);
    let handles: Vec<_> = (0..12)
        .map(|i| {
            let log = log.clone();
            let big = big.clone();
            std::thread::spawn(move || {
                for j in 0..5 {
                    let p = json!({"session_id": "s", "turn_id": "t", "cwd": "/",
                        "hook_event_name": "PostToolUse", "tool_name": "Bash",
                        "tool_input": {"command": format!("echo {i}-{j}")},
                        "tool_use_id": format!("c{i}-{j}"), "tool_response": big});
                    hook(&p, &log, &[]);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(calls(&log).len(), 60);
}

#[test]
fn help_is_printed_only_when_asked() {
    let out = run(&["hook", "--help"], b"", &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Usage: codex-shim hook"));
}
