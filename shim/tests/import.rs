//! `codex-shim import`: rollouts (captured 0.169.0 sessions, hand-written legacy ones) into a
//! log — idempotently, also after the hooks already reconciled the session — and
//! `--exec-json`, which must pass the stream through byte for byte.

mod common;

use std::path::Path;

use codex_contract::Status;
use common::*;

fn import(args: &[&str], log: &Path) -> (String, i32) {
    let mut all = vec!["import", "--log", log.to_str().unwrap()];
    all.extend_from_slice(args);
    let out = run(&all, b"", &[]);
    assert!(out.stdout.is_empty(), "import printed on stdout");
    (
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

fn statuses(log: &Path) -> Vec<(String, Status, Option<i32>, Option<String>)> {
    calls(log)
        .into_iter()
        .map(|c| (c.call_id, c.status, c.exit_code, c.error_type))
        .collect()
}

#[test]
fn importing_twice_adds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.ndjson");
    let rollout = fixtures().join("rollout.jsonl");
    let (err, code) = import(&[rollout.to_str().unwrap()], &log);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("1 files, 46 lines, 20 records added, 0 duplicates skipped, 0 unknown lines"),
        "{err}"
    );
    let first = std::fs::read(&log).unwrap();
    let (err, code) = import(&[rollout.to_str().unwrap()], &log);
    assert_eq!(code, 0);
    assert!(
        err.contains("0 records added, 20 duplicates skipped"),
        "{err}"
    );
    assert_eq!(std::fs::read(&log).unwrap(), first, "the log changed");
    let s = statuses(&log);
    assert_eq!(s.len(), 7);
    assert_eq!(
        s[1],
        (
            "call_1".into(),
            Status::Failed,
            Some(2),
            Some("file_not_found".into())
        )
    );
    assert_eq!(s[5].1, Status::Blocked);
}

#[test]
fn import_after_the_hooks_adds_nothing_and_agrees_with_them() {
    let fx = fixtures();
    let work = tempfile::tempdir().unwrap();
    let log = work.path().join("log.ndjson");
    let rollout = work.path().join("rollout-main.jsonl");
    std::fs::copy(fx.join("rollout-at-stop.jsonl"), &rollout).unwrap();
    replay(&fx, work.path(), &log, |event, _, _| {
        if event == "SessionEnd" {
            std::fs::copy(fx.join("rollout.jsonl"), &rollout).unwrap();
        }
    });
    let hooked = statuses(&log);
    let before = std::fs::read(&log).unwrap();
    // The same file, and a copy of it elsewhere (same lines, other path): nothing new.
    let copy_dir = tempfile::tempdir().unwrap();
    let copy = copy_dir.path().join("rollout-copy.jsonl");
    std::fs::copy(fx.join("rollout.jsonl"), &copy).unwrap();
    let (err, code) = import(&[rollout.to_str().unwrap(), copy.to_str().unwrap()], &log);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("2 files, 92 lines, 0 records added, 40 duplicates skipped"),
        "{err}"
    );
    assert_eq!(std::fs::read(&log).unwrap(), before);
    // Into an empty log, the rollout alone folds to the same outcomes as hooks + rollout.
    let fresh = work.path().join("fresh.ndjson");
    import(&[rollout.to_str().unwrap()], &fresh);
    assert_eq!(statuses(&fresh), hooked);
}

#[test]
fn folders_are_searched_for_rollouts() {
    let dir = tempfile::tempdir().unwrap();
    let sessions = dir.path().join("sessions/2026/11/22");
    std::fs::create_dir_all(&sessions).unwrap();
    let fx = fixtures();
    for (n, session) in [
        "",
        "compaction",
        "interrupt",
        "still-running",
        "permission-denied",
    ]
    .iter()
    .enumerate()
    {
        std::fs::copy(
            fx.join(session).join("rollout.jsonl"),
            sessions.join(format!("rollout-2026-11-22T00-00-0{n}-x.jsonl")),
        )
        .unwrap();
    }
    std::fs::copy(
        fx.join("subagent/subagent-rollout.jsonl"),
        dir.path().join("sessions/rollout-sub.jsonl"),
    )
    .unwrap();
    std::fs::write(sessions.join("notes.jsonl"), "not a rollout\n").unwrap();
    let log = dir.path().join("log.ndjson");
    let (err, code) = import(&[dir.path().join("sessions").to_str().unwrap()], &log);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("6 files,"), "{err}");
    assert!(err.contains("0 unknown lines"), "{err}");
    let folded = calls(&log);
    // outcomes 7 + compaction 2 + interrupt 1 + still-running 1 + permission 1 + subagent 1
    assert_eq!(folded.len(), 13);
    let sessions: std::collections::BTreeSet<_> =
        folded.iter().map(|c| c.session_id.clone()).collect();
    assert_eq!(sessions.len(), 6);
    // Every call whose session was captured to its end has an outcome.
    for c in &folded {
        assert_ne!(c.status, Status::Unknown, "{c:#?}");
    }
}

#[test]
fn legacy_rollouts() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.ndjson");
    let legacy = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/legacy");
    let (err, code) = import(&[legacy.to_str().unwrap()], &log);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("2 files,"), "{err}");
    assert!(err.contains("3 unknown lines"), "{err}");
    let got = statuses(&log);
    let want: Vec<(String, Status, Option<i32>, Option<String>)> = vec![
        (
            "call_x".into(),
            Status::Failed,
            Some(2),
            Some("nonzero_exit".into()),
        ),
        (
            "call_a".into(),
            Status::Failed,
            Some(101),
            Some("compile_error".into()),
        ),
        (
            "call_b".into(),
            Status::Failed,
            Some(1),
            Some("patch_failed".into()),
        ),
        ("call_c".into(), Status::Ok, Some(0), None),
        (
            "call_d".into(),
            Status::Denied,
            None,
            Some("approval_denied".into()),
        ),
        (
            "call_e".into(),
            Status::Failed,
            None,
            Some("network_error".into()),
        ),
        (
            "call_f".into(),
            Status::Aborted,
            None,
            Some("aborted".into()),
        ),
    ];
    assert_eq!(got, want);
    let folded = calls(&log);
    let a = call(&folded, "call_a");
    assert_eq!(a.input.as_deref(), Some("cargo build"));
    assert_eq!(a.duration_ms, Some(2500));
    assert_eq!(a.tool.as_deref(), Some("Bash"));
    assert_eq!(call(&folded, "call_c").input.as_deref(), Some("ls"));
    assert_eq!(
        call(&folded, "call_e").tool.as_deref(),
        Some("mcp__docs__search")
    );
    assert_eq!(call(&folded, "call_x").session_id.as_deref(), Some("old-1"));
    let ev = events(&log, "rollout");
    assert_eq!(
        ev,
        [
            "session_start",
            "session_start",
            "context_window_exceeded",
            "turn_complete",
            "turn_aborted"
        ]
    );
    let models: Vec<Option<String>> = records(&log)
        .into_iter()
        .filter(|r| r.event.as_deref() == Some("session_start"))
        .map(|r| r.model)
        .collect();
    // The oldest format has no turn_context: its start is written at the end of the file.
    assert_eq!(models, [None, Some("gpt-5-codex".to_string())]);
    // Still idempotent.
    let (err, _) = import(&[legacy.to_str().unwrap()], &log);
    assert!(err.contains(" 0 records added"), "{err}");
}

/// Rollouts of four older Codex generations (`tests/fixtures/generations/README.md`): every
/// call once, with its command, exit codes where the file has them or states them in words,
/// every failure in any wording classified, a call the reader does not understand kept as
/// unknown, and a reimport that adds nothing.
#[test]
fn older_generations() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.ndjson");
    let gens = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/generations");
    let (err, code) = import(&[gens.to_str().unwrap()], &log);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("4 files,"), "{err}");
    assert!(err.contains("0 unknown lines"), "{err}");
    type Want<'a> = (&'a str, Status, Option<i32>, Option<&'a str>, &'a str);
    let want: &[Want] = &[
        ("b1", Status::Ok, Some(0), None, "cargo build"),
        (
            "b2",
            Status::Failed,
            Some(2),
            Some("sandbox_denied"),
            "ls /root",
        ),
        (
            "b3",
            Status::Failed,
            Some(101),
            Some("test_failure"),
            "cargo test",
        ),
        (
            "g1",
            Status::Failed,
            Some(1),
            Some("test_failure"),
            "npm test",
        ),
        (
            "g2",
            Status::Failed,
            Some(6),
            Some("sandbox_denied"),
            "curl -sS https://registry.npmjs.org/left-pad",
        ),
        ("g3", Status::Timeout, None, Some("timeout"), "npm run e2e"),
        ("g4", Status::Failed, None, Some("patch_failed"), ""),
        ("g5", Status::Ok, Some(0), None, "npx jest src/sum.test.js"),
        (
            "d1",
            Status::Failed,
            Some(2),
            Some("nonzero_exit"),
            "make lint",
        ),
        ("d2", Status::Ok, Some(0), None, "npm run lint"),
        (
            "d3",
            Status::Failed,
            None,
            Some("command_not_found"),
            "pnpm install",
        ),
        ("d4", Status::Failed, None, Some("patch_failed"), ""),
        (
            "d5",
            Status::Denied,
            None,
            Some("approval_denied"),
            "rm -rf node_modules",
        ),
        (
            "u1",
            Status::Failed,
            Some(1),
            Some("test_failure"),
            "pytest -x",
        ),
        // The poll succeeded: the exit it saw is u1's.
        ("u2", Status::Ok, None, None, ""),
        ("u3", Status::Failed, None, Some("tool_error"), ""),
        ("u4", Status::Failed, None, Some("tool_error"), ""),
        ("u5", Status::Ok, Some(0), None, "git status --short"),
        ("u6", Status::Unknown, None, None, ""),
    ];
    let folded = calls(&log);
    assert_eq!(folded.len(), want.len(), "each call exactly once");
    for (id, status, exit, et, input) in want {
        let c = call(&folded, id);
        assert_eq!(
            (c.status, c.exit_code, c.error_type.as_deref()),
            (*status, *exit, *et),
            "{id}"
        );
        if !input.is_empty() {
            assert_eq!(c.input.as_deref(), Some(*input), "{id}");
        }
    }
    assert_eq!(call(&folded, "u6").tool.as_deref(), Some("future_tool"));
    // The reimport adds nothing.
    let before = std::fs::read(&log).unwrap();
    let (err, _) = import(&[gens.to_str().unwrap()], &log);
    assert!(err.contains(" 0 records added"), "{err}");
    assert_eq!(std::fs::read(&log).unwrap(), before);
}

/// A `write_stdin` poll that sees the process exit reports the end of the call that started
/// it, also when no `exec_command_end` line follows.
#[test]
fn a_poll_reports_the_end_of_the_process_it_polls() {
    let dir = tempfile::tempdir().unwrap();
    let gens = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/generations");
    let text =
        std::fs::read_to_string(gens.join("rollout-2026-06-20T11-00-00-gen0128.jsonl")).unwrap();
    let without_end: String = text
        .lines()
        .filter(|l| !l.contains("exec_command_end"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(without_end.len(), text.len());
    let rollout = dir.path().join("rollout-2026-06-20T11-00-00-noend.jsonl");
    std::fs::write(&rollout, without_end).unwrap();
    let log = dir.path().join("log.ndjson");
    let (err, code) = import(&[rollout.to_str().unwrap()], &log);
    assert_eq!(code, 0, "{err}");
    let folded = calls(&log);
    let u1 = call(&folded, "u1");
    assert_eq!((u1.status, u1.exit_code), (Status::Failed, Some(1)));
    assert_eq!(call(&folded, "u2").status, Status::Ok);
}

#[test]
fn missing_paths_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.ndjson");
    let (err, code) = import(&[dir.path().join("nope").to_str().unwrap()], &log);
    assert_eq!(code, 2);
    assert!(err.contains("nope"), "{err}");
    let (err, code) = import(&[], &log);
    assert_eq!(code, 2);
    assert!(err.contains("~/.codex/sessions"), "{err}");
}

#[test]
fn exec_json_passes_every_byte_through_and_records_the_calls() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.ndjson");
    let mut stream = std::fs::read(fixtures().join("exec.jsonl")).unwrap();
    // Malformed lines, CRLF and a missing final newline must pass through as they are.
    stream.extend_from_slice(
        b"garbage line {\r\n\xff\xfe binary\n{\"type\":\"future.event\"}\n{\"partial\":",
    );
    let out = run(
        &["import", "--exec-json", "--log", log.to_str().unwrap()],
        &stream,
        &[],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, stream, "the stream was altered");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("exec-json stream"), "{err}");
    let folded = calls(&log);
    let got: Vec<_> = folded
        .iter()
        .map(|c| {
            (
                c.call_id.as_str(),
                c.tool.as_deref().unwrap(),
                c.status,
                c.exit_code,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("item_2", "Bash", Status::Ok, Some(0)),
            ("item_3", "Bash", Status::Failed, Some(2)),
            ("item_4", "Bash", Status::Ok, Some(0)),
            ("item_5", "apply_patch", Status::Ok, None),
        ]
    );
    assert_eq!(call(&folded, "item_3").input.as_deref(), Some("ls /nope"));
    assert!(folded.iter().all(|c| c.duration_ms.is_some()));
    assert!(folded
        .iter()
        .all(|c| c.session_id.as_deref() == Some("01a20096-93be-7fb2-967b-b1933fc32542")));
    assert_eq!(
        events(&log, "exec-json"),
        ["session_start", "turn_complete"]
    );
}

#[test]
fn exec_json_interrupted_and_still_running_streams() {
    let dir = tempfile::tempdir().unwrap();
    for (session, want) in [
        ("interrupt", Status::Aborted),
        ("still-running", Status::Running),
    ] {
        let log = dir.path().join(format!("{session}.ndjson"));
        let stream = std::fs::read(fixtures().join(session).join("exec.jsonl")).unwrap();
        let out = run(
            &["import", "--exec-json", "--log", log.to_str().unwrap()],
            &stream,
            &[],
        );
        assert_eq!(out.stdout, stream);
        let folded = calls(&log);
        assert_eq!(folded.len(), 1, "{session}");
        assert_eq!(folded[0].status, want, "{session}");
    }
}

#[test]
fn exec_json_keeps_recording_when_the_reader_goes_away() {
    use std::io::Write;
    use std::process::Stdio;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.ndjson");
    let stream = std::fs::read(fixtures().join("exec.jsonl")).unwrap();
    let mut child = cmd()
        .args(["import", "--exec-json", "--log", log.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the downstream reader exits at once
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&stream).unwrap();
    drop(stdin);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    assert_eq!(calls(&log).len(), 4);
}
