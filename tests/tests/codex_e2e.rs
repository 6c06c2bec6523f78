//! End to end with the real Codex CLI 0.169.0, offline: `codex-shim install` into a scratch
//! repository (plus a PreToolUse hook that blocks one call), one scripted session with one
//! call per outcome, and then:
//!
//! - `codex-shim calls --json` shows exactly those six calls with the right status, exit code
//!   and error type — outcomes the hooks alone cannot see, read from the rollout at `Stop`
//!   and `SessionEnd`;
//! - the fake token of the third call appears in no file under `.codex/`;
//! - Codex's own output (the `--json` stream, modulo ids, timestamps and temp paths), what
//!   the model was shown, the side effects and the exit status are the same with and without
//!   the shim installed;
//! - importing the session's rollout afterwards adds nothing, and importing it into an empty
//!   log folds to the same outcomes.
//!
//! `CODEX_E2E_KEEP_LOG=PATH` copies the run's log to PATH (how `.codex/toolcalls.ndjson` of
//! this repository, the analyzer's demo data, was made).

use std::path::{Path, PathBuf};
use std::process::Output;

use e2e::codex::{self, shell_quote, CodexHome, BLOCK_MARKER, FAKE_TOKEN};
use e2e::model_server::ModelServer;
use serde_json::{json, Value};

struct Run {
    output: Output,
    /// Tool outputs the model was shown, `(call_id, text)`.
    model_saw: Vec<(String, String)>,
    repo: tempfile::TempDir,
    home: CodexHome,
    _capture: tempfile::TempDir,
}

/// One scripted session in a fresh repository, with or without the shim's hooks.
fn session(with_shim: bool) -> Run {
    let server = ModelServer::start(codex::outcome_script());
    let home = CodexHome::new(server.port());
    let repo = codex::git_repo();
    std::fs::write(repo.path().join(BLOCK_MARKER), "must survive the session\n").unwrap();
    let capture = tempfile::tempdir().unwrap();
    let blocker = capture.path().join("block.sh");
    std::fs::write(&blocker, codex::block_marker_hook_script()).unwrap();

    if with_shim {
        let command = format!(
            "{} hook",
            shell_quote(&e2e::bins::shim().display().to_string())
        );
        let out = std::process::Command::new(e2e::bins::shim())
            .args(["install", "--repo"])
            .arg(repo.path())
            .args(["--command", &command])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "codex-shim install failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(said.contains("--dangerously-bypass-hook-trust"), "{said}");
    }
    // The blocking hook, merged into whatever is there (as a user's own hook would be).
    let hooks_path = repo.path().join(".codex/hooks.json");
    let mut hooks: Value = std::fs::read(&hooks_path)
        .ok()
        .map(|b| serde_json::from_slice(&b).unwrap())
        .unwrap_or_else(|| json!({"hooks": {}}));
    let pre = hooks["hooks"]
        .as_object_mut()
        .unwrap()
        .entry("PreToolUse")
        .or_insert_with(|| json!([]));
    pre.as_array_mut().unwrap().insert(
        0,
        json!({"matcher": "Bash", "hooks": [{"type": "command",
            "command": format!("sh {}", shell_quote(&blocker.display().to_string())), "timeout": 10}]}),
    );
    std::fs::create_dir_all(hooks_path.parent().unwrap()).unwrap();
    std::fs::write(&hooks_path, serde_json::to_vec_pretty(&hooks).unwrap()).unwrap();
    home.trust_project(repo.path());

    let mut cmd = codex::exec_command(&home, repo.path(), &[]);
    // Hooks must find the log from the session's cwd, not from the developer's environment.
    cmd.env_remove("CODEX_TOOLCALLS_LOG");
    let output = codex::run_bounded(cmd, codex::EXEC_TIMEOUT);
    Run {
        output,
        model_saw: server.tool_outputs(),
        repo,
        home,
        _capture: capture,
    }
}

fn shim(args: &[&str]) -> Output {
    std::process::Command::new(e2e::bins::shim())
        .args(args)
        .env_remove("CODEX_TOOLCALLS_LOG")
        .output()
        .unwrap()
}

fn folded(log: &Path) -> Vec<Value> {
    let out = shim(&["calls", "--json", "--log", log.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "codex-shim calls: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `(call_id, status, exit_code, error_type)` of each folded call.
fn outcomes(calls: &[Value]) -> Vec<(String, String, Value, Value)> {
    calls
        .iter()
        .map(|c| {
            (
                c["call_id"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
                c.get("exit_code").cloned().unwrap_or(Value::Null),
                c.get("error_type").cloned().unwrap_or(Value::Null),
            )
        })
        .collect()
}

/// The `--json` stream without what differs between any two runs: item ids, the thread id,
/// and the scratch repository's path.
fn normalized_stream(out: &[u8], repo: &Path) -> Vec<Value> {
    let repo = repo.canonicalize().unwrap();
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| {
            let l = l
                .replace(&repo.display().to_string(), "<repo>")
                .replace(&repo.display().to_string().replace('/', "\\/"), "<repo>");
            let mut v: Value = serde_json::from_str(&l).unwrap();
            if let Some(item) = v.get_mut("item").and_then(Value::as_object_mut) {
                item.remove("id");
            }
            if let Some(o) = v.as_object_mut() {
                o.remove("thread_id");
            }
            v
        })
        .collect()
}

/// What the model saw, without run-specific numbers (chunk ids, wall times, paths).
fn normalized_outputs(saw: &[(String, String)], repo: &Path) -> Vec<(String, String)> {
    let repo = repo.canonicalize().unwrap().display().to_string();
    saw.iter()
        .map(|(id, text)| {
            let t: Vec<String> = text
                .replace(&repo, "<repo>")
                .lines()
                .map(|l| {
                    if l.starts_with("Chunk ID:") {
                        "Chunk ID: _".to_string()
                    } else if l.starts_with("Wall time:") {
                        "Wall time: _".to_string()
                    } else {
                        l.to_string()
                    }
                })
                .collect();
            (id.clone(), t.join("\n"))
        })
        .collect()
}

/// Waits (at most 5 s) until the log has not grown for 300 ms: `PostToolUse` hooks are
/// async and may still be appending when `codex exec` returns.
fn settle(log: &Path) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let mut last = (0, std::time::Instant::now());
    while std::time::Instant::now() < deadline {
        let len = std::fs::metadata(log).map_or(0, |m| m.len());
        if len != last.0 {
            last = (len, std::time::Instant::now());
        } else if last.1.elapsed() >= std::time::Duration::from_millis(300) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
}

fn log_of(run: &Run) -> PathBuf {
    run.repo.path().join(".codex/toolcalls.ndjson")
}

#[test]
fn codex_session_is_captured_with_definite_outcomes_and_no_secret() {
    let with = session(true);
    assert!(
        with.output.status.success(),
        "codex exec failed with the shim: {}",
        String::from_utf8_lossy(&with.output.stderr)
    );
    let log = log_of(&with);
    settle(&log);
    let calls = folded(&log);
    let want: Vec<(String, String, Value, Value)> = vec![
        ("call_0".into(), "ok".into(), json!(0), Value::Null),
        (
            "call_1".into(),
            "failed".into(),
            json!(2),
            json!("file_not_found"),
        ),
        ("call_2".into(), "ok".into(), json!(0), Value::Null),
        (
            "call_3".into(),
            "failed".into(),
            Value::Null,
            json!("patch_failed"),
        ),
        ("call_4".into(), "ok".into(), json!(0), Value::Null),
        (
            "call_5".into(),
            "blocked".into(),
            Value::Null,
            json!("hook_blocked"),
        ),
    ];
    assert_eq!(outcomes(&calls), want);
    let script = codex::outcome_script();
    for (c, step) in calls.iter().zip(&script) {
        let (e2e::model_server::Step::Shell(text) | e2e::model_server::Step::Patch(text)) = step
        else {
            panic!("not a call step")
        };
        if !text.contains(FAKE_TOKEN) {
            assert_eq!(c["input"], json!(text), "{c}");
        }
        // Hooks saw it start; the rollout settled it.
        let sources = c["sources"].as_array().unwrap();
        assert!(sources.contains(&json!("codex-hook")), "{c}");
        assert!(sources.contains(&json!("rollout")), "{c}");
    }
    assert!(calls[2]["input"].as_str().unwrap().starts_with("echo "));

    // The hooks ran for the whole session, and the turn's end was read at SessionEnd.
    let records = e2e::bins::read_log(&log);
    let events: Vec<(String, String)> = records
        .iter()
        .filter_map(|r| {
            let source = serde_json::to_value(r.source).unwrap();
            Some((source.as_str()?.to_string(), r.event.clone()?))
        })
        .collect();
    for want in [
        ("codex-hook", "session_start"),
        ("codex-hook", "user_prompt"),
        ("codex-hook", "stop"),
        ("codex-hook", "session_end"),
        ("rollout", "session_start"),
        ("rollout", "turn_complete"),
    ] {
        assert!(
            events.contains(&(want.0.to_string(), want.1.to_string())),
            "missing {want:?} in {events:?}"
        );
    }
    // Post hooks fired for the calls that ran (async, so only count, never order).
    let posts = records
        .iter()
        .filter(|r| r.phase == Some(codex_contract::Phase::Post))
        .count();
    assert!(posts >= 1, "no PostToolUse recorded");

    // Importing the same rollout adds nothing; into an empty log it folds the same.
    let rollout = with.home.rollout();
    let before = std::fs::read(&log).unwrap();
    let out = shim(&[
        "import",
        "--log",
        log.to_str().unwrap(),
        rollout.to_str().unwrap(),
    ]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(said.contains(" 0 records added"), "{said}");
    assert_eq!(
        std::fs::read(&log).unwrap(),
        before,
        "import changed the log"
    );
    let scratch = tempfile::tempdir().unwrap();
    let fresh = scratch.path().join("fresh.ndjson");
    let out = shim(&[
        "import",
        "--log",
        fresh.to_str().unwrap(),
        rollout.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    assert_eq!(outcomes(&folded(&fresh)), want);

    if let Some(keep) = std::env::var_os("CODEX_E2E_KEEP_LOG") {
        std::fs::copy(&log, keep).unwrap();
    }

    // Codex behaves exactly as it does without the shim.
    let without = session(false);
    assert_eq!(with.output.status.code(), without.output.status.code());
    assert_eq!(
        normalized_stream(&with.output.stdout, with.repo.path()),
        normalized_stream(&without.output.stdout, without.repo.path()),
        "the --json stream differs with the shim installed"
    );
    assert_eq!(
        normalized_outputs(&with.model_saw, with.repo.path()),
        normalized_outputs(&without.model_saw, without.repo.path()),
        "the model was shown different tool outputs"
    );
    for run in [&with, &without] {
        assert!(run.repo.path().join(BLOCK_MARKER).exists());
        assert_eq!(
            std::fs::read_to_string(run.repo.path().join("added.txt")).unwrap(),
            "added by the scripted model\n"
        );
    }
    assert!(!without.repo.path().join(".codex/toolcalls.ndjson").exists());

    // No file under .codex/ holds the token: the log, the offsets store, hooks.json.
    assert_nowhere(&with.repo.path().join(".codex"), FAKE_TOKEN);
    for r in &records {
        let line = serde_json::to_string(r).unwrap();
        assert!(!codex_contract::redact::contains_secret(&line), "{line}");
    }
}

fn assert_nowhere(dir: &Path, needle: &str) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            assert_nowhere(&p, needle);
        } else {
            let bytes = std::fs::read(&p).unwrap();
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{} contains the token",
                p.display()
            );
        }
    }
}
