//! `codex-shim calls`: human lines, `--json`, `--failed`, `--session`, and what it says about
//! unreadable lines and missing logs.

mod common;

use std::path::Path;

use common::*;
use serde_json::Value;

fn imported_log(dir: &Path) -> std::path::PathBuf {
    let log = dir.join("log.ndjson");
    for session in ["", "interrupt"] {
        let out = run(
            &[
                "import",
                "--log",
                log.to_str().unwrap(),
                fixtures()
                    .join(session)
                    .join("rollout.jsonl")
                    .to_str()
                    .unwrap(),
            ],
            b"",
            &[],
        );
        assert_eq!(out.status.code(), Some(0));
    }
    log
}

fn calls_cmd(args: &[&str]) -> (String, String, i32) {
    let mut all = vec!["calls"];
    all.extend_from_slice(args);
    let out = run(&all, b"", &[]);
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn human_and_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let log = imported_log(dir.path());
    let log_s = log.to_str().unwrap();
    let (out, err, code) = calls_cmd(&["--log", log_s]);
    assert_eq!(code, 0, "{err}");
    assert!(err.is_empty(), "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 8);
    assert!(lines.iter().all(|l| l.chars().count() <= 120), "{out}");
    let failing = lines.iter().find(|l| l.contains("ls /nope")).unwrap();
    for part in ["01a20096", "Bash", "failed", " 2 ", "file_not_found"] {
        assert!(failing.contains(part), "{part:?} in {failing}");
    }
    assert!(lines
        .iter()
        .any(|l| l.contains("blocked") && l.contains("hook_blocked")));
    assert!(lines
        .iter()
        .any(|l| l.contains("aborted") && l.contains("sleep 20")));

    let (json, _, _) = calls_cmd(&["--log", log_s, "--json"]);
    let objs: Vec<Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(objs.len(), 8);
    let c1 = objs
        .iter()
        .find(|o| o["call_id"] == "call_1" && o["input"] == "ls /nope")
        .unwrap();
    assert_eq!(c1["status"], "failed");
    assert_eq!(c1["exit_code"], 2);
    assert_eq!(c1["sources"], serde_json::json!(["rollout"]));
    assert!(c1["first_ts"].is_string() && c1["records"].as_u64().unwrap() >= 2);
}

#[test]
fn filters() {
    let dir = tempfile::tempdir().unwrap();
    let log = imported_log(dir.path());
    let log_s = log.to_str().unwrap();
    let (out, _, _) = calls_cmd(&["--log", log_s, "--failed", "--json"]);
    let statuses: Vec<String> = out
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["status"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    // In time order: the interrupt session ran first.
    assert_eq!(
        statuses,
        ["aborted", "failed", "failed", "blocked", "denied"]
    );
    // The interrupt session's ID starts 01a20096-8f8e.
    let (out, _, _) = calls_cmd(&["--log", log_s, "--session", "01a20096-8f8e"]);
    assert_eq!(out.lines().count(), 1);
    assert!(out.contains("sleep 20"));
    let (out, _, code) = calls_cmd(&["--log", log_s, "--session", "nope"]);
    assert_eq!((out.as_str(), code), ("", 0));
}

#[test]
fn unreadable_lines_are_noted_and_missing_logs_explained() {
    let dir = tempfile::tempdir().unwrap();
    let log = imported_log(dir.path());
    let mut text = std::fs::read(&log).unwrap();
    text.extend_from_slice(b"{broken\n{\"v\":1,\"ts\":\"2026-01-01T00:00:00Z\"");
    std::fs::write(&log, text).unwrap();
    let (out, err, code) = calls_cmd(&["--log", log.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 8);
    assert!(err.contains("skipped 2 unreadable line(s)"), "{err}");

    let (out, err, code) = calls_cmd(&["--log", dir.path().join("none.ndjson").to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert!(err.contains("codex-shim install"), "{err}");
}
