//! Replays the hook payloads Codex 0.169.0 really sent (the committed captures) through the
//! real `codex-shim hook`, with the session's rollout growing the way it did in the live run
//! (the copy taken when `Stop` ran, then the final file), and checks what the fold makes of
//! the log: every call's status, exit code and error type, the session events, and that no
//! hook printed anything or exited non-zero.

mod common;

use codex_contract::Status;
use common::*;
use serde_json::Value;

fn copy(from: &std::path::Path, to: &std::path::Path) {
    std::fs::copy(from, to).unwrap();
}

/// `(call_id, tool, status, exit_code, error_type)`.
type Expected = (
    &'static str,
    &'static str,
    Status,
    Option<i32>,
    Option<&'static str>,
);

#[test]
fn outcomes_session_every_call_settles_at_stop() {
    let fx = fixtures();
    let work = tempfile::tempdir().unwrap();
    let log = work.path().join("log.ndjson");
    let rollout = work.path().join("rollout-main.jsonl");
    copy(&fx.join("rollout-at-stop.jsonl"), &rollout);
    let mut at_stop = None;
    let errs = replay(&fx, work.path(), &log, |event, _, _| {
        if event == "SessionEnd" {
            // What the log held right after the Stop hook: Stop already sees every outcome.
            at_stop = Some(calls(&log));
            copy(&fx.join("rollout.jsonl"), &rollout);
        }
    });
    for e in &errs {
        assert!(e.is_empty(), "a hook warned: {e}");
    }
    let expected: &[Expected] = &[
        ("call_0", "Bash", Status::Ok, Some(0), None),
        (
            "call_1",
            "Bash",
            Status::Failed,
            Some(2),
            Some("file_not_found"),
        ),
        ("call_2", "Bash", Status::Ok, Some(0), None),
        (
            "call_3",
            "apply_patch",
            Status::Failed,
            None,
            Some("patch_failed"),
        ),
        ("call_4", "apply_patch", Status::Ok, Some(0), None),
        (
            "call_5",
            "Bash",
            Status::Blocked,
            None,
            Some("hook_blocked"),
        ),
        (
            "call_6",
            "Bash",
            Status::Denied,
            None,
            Some("approval_denied"),
        ),
    ];
    for folded in [at_stop.expect("SessionEnd replayed"), calls(&log)] {
        assert_eq!(folded.len(), expected.len(), "{folded:#?}");
        for (id, tool, status, exit, et) in expected {
            let c = call(&folded, id);
            assert_eq!(c.tool.as_deref(), Some(*tool), "{id}");
            assert_eq!(c.status, *status, "{id}");
            assert_eq!(c.exit_code, *exit, "{id}");
            assert_eq!(c.error_type.as_deref(), *et, "{id}");
            assert!(c.status.is_definite(), "{id}");
        }
    }
    let folded = calls(&log);
    // Inputs are the raw commands, as hooks show them; the rollout agrees.
    assert_eq!(call(&folded, "call_1").input.as_deref(), Some("ls /nope"));
    assert_eq!(
        call(&folded, "call_1").output.as_ref().unwrap().text,
        "ls: cannot access '/nope': No such file or directory\n"
    );
    assert!(call(&folded, "call_0").duration_ms.is_some());
    // Both hooks and the rollout saw the calls that ran; only the rollout the blocked one.
    assert_eq!(
        serde_json::to_value(&call(&folded, "call_0").sources).unwrap(),
        serde_json::json!(["codex-hook", "rollout"])
    );
    let hook_events = events(&log, "codex-hook");
    assert_eq!(
        hook_events,
        ["session_start", "user_prompt", "stop", "session_end"]
    );
    let rollout_events = events(&log, "rollout");
    assert_eq!(rollout_events, ["session_start", "turn_complete"]);
    // The session's facts from the rollout: cwd and commit from session_meta, the model from
    // the first turn_context.
    let start = records(&log)
        .into_iter()
        .find(|r| {
            r.source == Some(codex_contract::Source::Rollout)
                && r.event.as_deref() == Some("session_start")
        })
        .unwrap();
    assert_eq!(start.model.as_deref(), Some("scripted-model"));
    assert_eq!(start.cwd.as_deref(), Some("/tmp/codex-repo-pSg5SR"));
    assert_eq!(
        start.git_head.as_deref(),
        Some("b22a542fecce8e402df5338806156da74a602660")
    );
    assert_eq!(start.reason.as_deref(), Some("exec"));
    // The prompt is never stored: only its length.
    let prompt = records(&log)
        .into_iter()
        .find(|r| r.event.as_deref() == Some("user_prompt"))
        .unwrap();
    assert_eq!(prompt.prompt_len, Some(5));
    assert_eq!(prompt.prompt_excerpt, None);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!text.contains("do it"), "the prompt text reached the log");
}

#[test]
fn outcomes_session_token_is_redacted_everywhere() {
    let fx = fixtures();
    let work = tempfile::tempdir().unwrap();
    let log = work.path().join(".codex/toolcalls.ndjson");
    copy(
        &fx.join("rollout.jsonl"),
        &work.path().join("rollout-main.jsonl"),
    );
    replay(&fx, work.path(), &log, |_, _, _| {});
    let folded = calls(&log);
    let c = call(&folded, "call_2");
    assert_eq!(c.status, Status::Ok);
    assert!(c.input.as_deref().unwrap().starts_with("echo "));
    // The log and the offsets store next to it hold no trace of the token.
    assert_nowhere(&work.path().join(".codex"), FAKE_TOKEN);
}

#[test]
fn permission_request_is_joined_to_its_call_and_denial_comes_from_the_rollout() {
    let fx = fixtures().join("permission-denied");
    let work = tempfile::tempdir().unwrap();
    let log = work.path().join("log.ndjson");
    copy(
        &fx.join("rollout.jsonl"),
        &work.path().join("rollout-main.jsonl"),
    );
    let errs = replay(&fx, work.path(), &log, |_, _, _| {});
    assert!(errs.iter().all(String::is_empty), "{errs:?}");
    let recs = records(&log);
    let perm = recs
        .iter()
        .find(|r| r.phase == Some(codex_contract::Phase::Permission))
        .expect("a permission record");
    assert_eq!(perm.call_id.as_deref(), Some("call_0"));
    assert_eq!(perm.input.as_deref(), Some("touch escalated.txt"));
    assert_eq!(
        perm.reason.as_deref(),
        Some("needs to write outside the sandbox")
    );
    let folded = calls(&log);
    assert_eq!(folded.len(), 1);
    let c = &folded[0];
    assert_eq!(c.status, Status::Denied);
    assert_eq!(c.error_type.as_deref(), Some("approval_denied"));
}

#[test]
fn interrupt_aborts_the_running_call_without_a_stop() {
    let fx = fixtures().join("interrupt");
    let work = tempfile::tempdir().unwrap();
    let log = work.path().join("log.ndjson");
    let rollout = work.path().join("rollout-main.jsonl");
    let mut at_interrupt = None;
    replay(&fx, work.path(), &log, |event, _, _| match event {
        // The Interrupt hook runs after the turn was aborted, before the killed command's
        // CommandExecution item is written.
        "Interrupt" => std::fs::write(
            &rollout,
            prefix_through(&fx.join("rollout.jsonl"), "\"turn_aborted\""),
        )
        .unwrap(),
        "SessionEnd" => {
            at_interrupt = Some(calls(&log));
            copy(&fx.join("rollout.jsonl"), &rollout);
        }
        _ => {}
    });
    let before = at_interrupt.unwrap();
    assert_eq!(call(&before, "call_0").status, Status::Aborted);
    let after = calls(&log);
    let c = call(&after, "call_0");
    assert_eq!(c.status, Status::Aborted);
    assert_eq!(c.error_type.as_deref(), Some("aborted"));
    assert_eq!(c.exit_code, None, "-1 is not an exit code");
    assert_eq!(c.duration_ms, Some(372), "the CommandExecution's duration");
    assert_eq!(
        events(&log, "codex-hook"),
        ["session_start", "user_prompt", "interrupt", "session_end"]
    );
    assert_eq!(events(&log, "rollout"), ["session_start", "turn_aborted"]);
    let aborted = records(&log)
        .into_iter()
        .find(|r| r.event.as_deref() == Some("turn_aborted"))
        .unwrap();
    assert_eq!(aborted.reason.as_deref(), Some("interrupted"));
}

#[test]
fn still_running_call_is_picked_up_after_stop() {
    let fx = fixtures().join("still-running");
    let work = tempfile::tempdir().unwrap();
    let log = work.path().join("log.ndjson");
    let rollout = work.path().join("rollout-main.jsonl");
    copy(&fx.join("rollout-at-stop.jsonl"), &rollout);
    let mut at_stop = None;
    replay(&fx, work.path(), &log, |event, _, _| {
        if event == "SessionEnd" {
            at_stop = Some(calls(&log));
            copy(&fx.join("rollout.jsonl"), &rollout);
        }
    });
    let c0 = call(at_stop.as_ref().unwrap(), "call_0").clone();
    assert_eq!(c0.status, Status::Running);
    assert_eq!(c0.duration_ms, Some(302), "Wall time of the yield");
    let c = call(&calls(&log), "call_0").clone();
    // Its later CommandExecution (exit_code -1: killed when the session ended) was read at
    // SessionEnd: still no exit code, and the duration is the process's.
    assert_eq!(c.status, Status::Running);
    assert_eq!(c.exit_code, None);
    assert_eq!(c.duration_ms, Some(353));
    // The offsets store no longer waits for it.
    let store: Value =
        serde_json::from_slice(&std::fs::read(work.path().join(".rollout-offsets.json")).unwrap())
            .unwrap();
    let state = &store["transcripts"][rollout.to_str().unwrap()];
    assert!(state.get("calls").is_none(), "{state}");
    assert_eq!(
        state["offset"].as_u64(),
        Some(std::fs::metadata(&rollout).unwrap().len())
    );
}

#[test]
fn compaction_is_a_continuation_not_a_new_session() {
    let fx = fixtures().join("compaction");
    let work = tempfile::tempdir().unwrap();
    let log = work.path().join("log.ndjson");
    copy(
        &fx.join("rollout.jsonl"),
        &work.path().join("rollout-main.jsonl"),
    );
    replay(&fx, work.path(), &log, |_, _, _| {});
    let folded = calls(&log);
    assert_eq!(folded.len(), 2);
    assert!(folded
        .iter()
        .all(|c| c.status == Status::Ok && c.exit_code == Some(0)));
    let hook = events(&log, "codex-hook");
    assert_eq!(hook.iter().filter(|e| *e == "pre_compact").count(), 2);
    assert_eq!(hook.iter().filter(|e| *e == "post_compact").count(), 2);
    let starts: Vec<_> = records(&log)
        .into_iter()
        .filter(|r| r.event.as_deref() == Some("session_start") && r.reason.is_some())
        .map(|r| r.reason.unwrap())
        .collect();
    assert_eq!(starts, ["startup", "compact", "compact", "exec"]);
    let rollout = events(&log, "rollout");
    assert_eq!(rollout.iter().filter(|e| *e == "compaction").count(), 2);
    let sessions: std::collections::BTreeSet<_> =
        records(&log).into_iter().map(|r| r.session_id).collect();
    assert_eq!(sessions.len(), 1, "one session: {sessions:?}");
}

#[test]
fn subagent_calls_come_from_its_own_rollout() {
    let fx = fixtures().join("subagent");
    let work = tempfile::tempdir().unwrap();
    let log = work.path().join("log.ndjson");
    copy(
        &fx.join("rollout.jsonl"),
        &work.path().join("rollout-main.jsonl"),
    );
    copy(
        &fx.join("subagent-rollout.jsonl"),
        &work.path().join("rollout-sub.jsonl"),
    );
    let errs = replay(&fx, work.path(), &log, |_, _, _| {});
    assert!(errs.iter().all(String::is_empty), "{errs:?}");
    let folded = calls(&log);
    assert_eq!(folded.len(), 3, "{folded:#?}");
    let sub = call(&folded, "call_t1_0");
    assert_eq!((sub.status, sub.exit_code), (Status::Ok, Some(0)));
    assert_eq!(sub.input.as_deref(), Some("echo from-subagent"));
    let parent = folded[0].session_id.clone();
    assert!(folded.iter().all(|c| c.session_id == parent), "one session");
    let agent = records(&log)
        .into_iter()
        .find(|r| {
            r.call_id.as_deref() == Some("call_t1_0")
                && r.source == Some(codex_contract::Source::Rollout)
        })
        .unwrap()
        .agent_id;
    assert_eq!(
        agent.as_deref(),
        Some("01a20098-b0ef-7af2-a206-e1f13d747c57")
    );
    // wait_agent completed (CollabAgentToolCall); spawn_agent's output says nothing about
    // success, so it stays unknown rather than guessed.
    let wait = call(&folded, "call_1");
    assert_eq!(wait.tool.as_deref(), Some("collaborationwait_agent"));
    assert_eq!(wait.status, Status::Ok);
    assert_eq!(call(&folded, "call_0").status, Status::Unknown);
    // The subagent's start is not a second session start.
    let starts = events(&log, "rollout")
        .into_iter()
        .filter(|e| e == "session_start")
        .count();
    assert_eq!(starts, 1);
}

#[test]
fn concurrent_reconciliations_write_each_outcome_once() {
    // A session's Stop and a subagent's hooks run concurrently; two readers of the same
    // rollout must not both append its records.
    let fx = fixtures();
    let work = tempfile::tempdir().unwrap();
    let log = work.path().join("log.ndjson");
    let rollout = work.path().join("rollout-main.jsonl");
    copy(&fx.join("rollout.jsonl"), &rollout);
    let stop = payloads(&fx)
        .into_iter()
        .find(|p| p["hook_event_name"] == "Stop")
        .unwrap();
    let mut stop = stop;
    stop["transcript_path"] = Value::String(rollout.to_string_lossy().into_owned());
    stop["cwd"] = Value::String(work.path().to_string_lossy().into_owned());
    let handles: Vec<_> = (0..6)
        .map(|_| {
            let p = stop.clone();
            let log = log.clone();
            std::thread::spawn(move || hook(&p, &log, &[]))
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), "");
    }
    let rollout_records = records(&log)
        .into_iter()
        .filter(|r| r.source == Some(codex_contract::Source::Rollout))
        .count();
    // One reader's worth: 7 pre + 9 outcome (two per command that ran, one per other call)
    // + session_start + turn_complete.
    let single = tempfile::tempdir().unwrap();
    let single_log = single.path().join("log.ndjson");
    hook(&stop, &single_log, &[]);
    let expected = records(&single_log)
        .into_iter()
        .filter(|r| r.source == Some(codex_contract::Source::Rollout))
        .count();
    assert!(expected > 10);
    assert_eq!(rollout_records, expected);
}
