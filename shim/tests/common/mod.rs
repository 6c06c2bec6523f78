//! Helpers shared by the shim's integration tests: the real `codex-shim` binary, the Codex
//! 0.169.0 fixtures, and replaying a captured session's hook payloads against a rollout that
//! grows the way it did in the real run.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use codex_contract::{Call, Record};
use serde_json::Value;

/// The fake token the fixtures carry (see the fixtures' README).
pub const FAKE_TOKEN: &str = "ghp_0123456789abcdefghijABCDEFGHIJklmnop";

pub fn shim() -> &'static str {
    env!("CARGO_BIN_EXE_codex-shim")
}

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/codex-0.169.0")
}

/// A `codex-shim` command with a clean environment for the log path.
pub fn cmd() -> Command {
    let mut c = Command::new(shim());
    c.env_remove("CODEX_TOOLCALLS_LOG")
        .env_remove("CODEX_SHIM_PROMPT_EXCERPT")
        .env_remove("CODEX_SHIM_HOOK_DEADLINE_MS");
    c
}

/// Runs `codex-shim <args>` with `stdin` as input.
pub fn run(args: &[&str], stdin: &[u8], env: &[(&str, &str)]) -> Output {
    let mut c = cmd();
    c.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        c.env(k, v);
    }
    let mut child = c.spawn().expect("spawn codex-shim");
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().expect("wait codex-shim");
    writer.join().unwrap();
    out
}

/// Runs `codex-shim hook --log <log>` on one payload and checks the hook contract: exit 0,
/// nothing on stdout. Returns stderr.
pub fn hook(payload: &Value, log: &Path, env: &[(&str, &str)]) -> String {
    let out = run(
        &["hook", "--log", log.to_str().unwrap()],
        payload.to_string().as_bytes(),
        env,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "hook exit status for {payload}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stdout.is_empty(),
        "hook printed on stdout: {:?}",
        out.stdout
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The payloads of a captured session, in the order the hooks ran.
pub fn payloads(session_dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(session_dir.join("hook-payloads.jsonl"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Every record of a log (asserting no line was unreadable).
pub fn records(log: &Path) -> Vec<Record> {
    let mut r = codex_contract::read::open(log).expect("open log");
    let recs: Vec<Record> = r.by_ref().collect();
    assert_eq!(r.stats().skipped, 0, "{:?}", r.stats().problems);
    recs
}

pub fn calls(log: &Path) -> Vec<Call> {
    codex_contract::fold(records(log))
}

pub fn call<'a>(calls: &'a [Call], id: &str) -> &'a Call {
    calls
        .iter()
        .find(|c| c.call_id == id)
        .unwrap_or_else(|| panic!("no call {id} in {calls:#?}"))
}

/// Session event names of a log, in order, for one source.
pub fn events(log: &Path, source: &str) -> Vec<String> {
    records(log)
        .into_iter()
        .filter(|r| r.phase == Some(codex_contract::Phase::Session))
        .filter(|r| serde_json::to_value(r.source).unwrap() == Value::String(source.to_string()))
        .filter_map(|r| r.event)
        .collect()
}

/// The lines of `file` up to and including the first line containing `needle`.
pub fn prefix_through(file: &Path, needle: &str) -> String {
    let text = std::fs::read_to_string(file).unwrap();
    let mut out = String::new();
    for line in text.split_inclusive('\n') {
        out.push_str(line);
        if line.contains(needle) {
            return out;
        }
    }
    panic!("{needle:?} not in {}", file.display());
}

/// Replays a captured session: each payload gets `cwd` = `work` and its transcript paths
/// pointed at copies under `work`; `before(event, n)` runs before the n-th payload (to grow
/// the rollout copies as Codex did). Returns each hook's stderr.
pub fn replay(
    session_dir: &Path,
    work: &Path,
    log: &Path,
    mut before: impl FnMut(&str, usize, &Value),
) -> Vec<String> {
    let main = work.join("rollout-main.jsonl");
    let sub = work.join("rollout-sub.jsonl");
    let mut errs = Vec::new();
    let payloads = payloads(session_dir);
    // The parent's rollout and the subagent's are told apart by file name.
    let parent_transcript = payloads[0]["transcript_path"].as_str().unwrap().to_string();
    for (n, mut p) in payloads.into_iter().enumerate() {
        let event = p["hook_event_name"].as_str().unwrap().to_string();
        before(&event, n, &p);
        p["cwd"] = Value::String(work.to_string_lossy().into_owned());
        for key in ["transcript_path", "agent_transcript_path"] {
            if let Some(t) = p.get(key).and_then(Value::as_str) {
                let to = if t == parent_transcript { &main } else { &sub };
                p[key] = Value::String(to.to_string_lossy().into_owned());
            }
        }
        errs.push(hook(&p, log, &[]));
    }
    errs
}

/// Asserts `needle` occurs in no file under `dir` (recursively, as bytes).
pub fn assert_nowhere(dir: &Path, needle: &str) {
    fn walk(dir: &Path, needle: &[u8]) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, needle);
            } else {
                let bytes = std::fs::read(&p).unwrap();
                assert!(
                    !bytes.windows(needle.len()).any(|w| w == needle),
                    "{} contains the secret",
                    p.display()
                );
            }
        }
    }
    walk(dir, needle.as_bytes());
}
