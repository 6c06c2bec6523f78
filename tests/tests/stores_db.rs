//! `codex-analyzer db` on a real log and state file: the tables a user queries, an
//! incremental update that matches a rebuild, a kill in the middle of an update that leaves
//! a sound database, and a newer schema refused with what to do.

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use e2e::bins::analyzer;
use rusqlite::Connection;
use serde_json::json;

/// `calls` tool calls over `sessions` sessions, every 7th failing, with prompts.
fn log_lines(first: usize, calls: usize, sessions: usize) -> String {
    let mut s = String::new();
    for i in first..first + calls {
        let session = format!("s{}", i % sessions);
        let ts = |ms: usize| {
            let t =
                chrono::DateTime::from_timestamp_millis(1_772_359_200_000 + (i * 1000 + ms) as i64)
                    .unwrap();
            codex_contract::record::format_ts(t)
        };
        if i % 5 == 0 {
            s += &format!(
                "{}\n",
                json!({"v":1,"ts":ts(0),"source":"codex-hook","phase":"session","session_id":session,"event":"user_prompt","prompt_len":20})
            );
        }
        let failed = i % 7 == 0;
        s += &format!(
            "{}\n",
            json!({"v":1,"ts":ts(1),"source":"codex-hook","phase":"pre","session_id":session,"turn_id":format!("t{}", i / 5),"call_id":format!("c{i}"),"tool":"Bash","input":if failed {"cargo nextest run"} else {"cargo test"}})
        );
        s += &format!(
            "{}\n",
            json!({"v":1,"ts":ts(400),"source":"rollout","phase":"outcome","session_id":session,"call_id":format!("c{i}"),"exit_code":if failed {127} else {0},"status":if failed {"failed"} else {"ok"},"duration_ms":399,"output":{"text":if failed {"bash: cargo-nextest: command not found"} else {"test result: ok"},"len":30}})
        );
    }
    s
}

const STATE: &str = r#"{
  "schema_version": 1,
  "processed_runs": ["2026-03-01-AM"],
  "last_run": "2026-03-01-AM",
  "runs": {"2026-03-01-AM": {"run_id": "2026-03-01-AM", "now": "2026-03-01T13:10:00Z",
    "metrics": {"tool_calls": 30, "definite": 30, "failed": 5, "failure_rate": 0.1667},
    "findings": ["ab12"]}},
  "findings": {"ab12": {"rule": "error-type-repeat", "subject": "command_not_found",
    "first_seen_run": "2026-03-01-AM", "last_seen_run": "2026-03-01-AM",
    "counts": {"2026-03-01-AM": 5},
    "ticket": {"number": 12, "url": "https://github.com/o/r/issues/12", "state": "open"},
    "baseline": {"run_id": "2026-03-01-AM", "count": 5}}},
  "pending": []
}"#;

fn db(repo: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    Command::new(analyzer())
        .arg("db")
        .arg("--repo")
        .arg(repo)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

fn ok(o: std::process::Output) -> String {
    assert!(
        o.status.success(),
        "db failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn dump(path: &Path) -> Vec<String> {
    let conn = Connection::open(path).unwrap();
    let mut out = Vec::new();
    for t in [
        "records", "calls", "sessions", "signals", "clusters", "findings", "runs", "tickets",
        "meta",
    ] {
        let mut st = conn.prepare(&format!("SELECT * FROM {t}")).unwrap();
        let n = st.column_count();
        let mut rows: Vec<String> = st
            .query_map([], |r| {
                (0..n)
                    .map(|i| {
                        r.get::<_, rusqlite::types::Value>(i)
                            .map(|v| format!("{v:?}"))
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map(|c| format!("{t}: {}", c.join("|")))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        rows.sort();
        out.extend(rows);
    }
    out
}

fn one<T: rusqlite::types::FromSql>(path: &Path, sql: &str) -> T {
    Connection::open(path)
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

#[test]
fn db_answers_questions_and_updates_like_a_rebuild() {
    let repo = tempfile::tempdir().unwrap();
    let codex = repo.path().join(".codex");
    std::fs::create_dir_all(&codex).unwrap();
    let log = codex.join("toolcalls.ndjson");
    std::fs::write(&log, log_lines(0, 30, 3)).unwrap();
    std::fs::write(codex.join("improvement-state.json"), STATE).unwrap();
    let inc = repo.path().join("inc.sqlite");
    let out = ok(db(repo.path(), &inc, &[]));
    assert!(
        out.contains("rows: 30 calls, 3 sessions, 1 clusters, 1 findings, 1 runs, 1 tickets"),
        "{out}"
    );

    // The questions docs/store.md shows.
    assert_eq!(
        one::<i64>(&inc, "SELECT count(*) FROM calls WHERE status = 'failed'"),
        5
    );
    assert_eq!(
        one::<String>(&inc, "SELECT input FROM calls WHERE status = 'failed' GROUP BY input ORDER BY count(*) DESC LIMIT 1"),
        "cargo nextest run"
    );
    assert_eq!(
        one::<i64>(
            &inc,
            "SELECT count FROM clusters WHERE error_type = 'command_not_found'"
        ),
        5
    );
    assert_eq!(
        one::<i64>(
            &inc,
            "SELECT sum(value) FROM signals WHERE signal = 'command_failures'"
        ),
        5
    );
    assert_eq!(
        one::<i64>(&inc, "SELECT prompts FROM sessions WHERE session_id = 's0'"),
        2
    );
    assert_eq!(one::<i64>(&inc, "SELECT t.number FROM tickets t JOIN findings f USING (fingerprint) WHERE f.rule = 'error-type-repeat'"), 12);
    assert_eq!(one::<i64>(&inc, "PRAGMA user_version"), 1);
    // The indexes the common questions use.
    let uses: String = Connection::open(&inc)
        .unwrap()
        .query_row(
            "EXPLAIN QUERY PLAN SELECT count(*) FROM calls WHERE error_type = 'test_failure' AND first_ts >= '2026-03-01'",
            [],
            |r| r.get(3),
        )
        .unwrap();
    assert!(uses.contains("calls_failures"), "{uses}");

    // More records; then the incremental result equals a rebuild from scratch.
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    f.write_all(log_lines(30, 20, 4).as_bytes()).unwrap();
    drop(f);
    let out = ok(db(repo.path(), &inc, &[]));
    assert!(out.contains("rows: 50 calls, 4 sessions"), "{out}");
    let full = repo.path().join("full.sqlite");
    ok(db(repo.path(), &full, &[]));
    assert_eq!(dump(&inc), dump(&full));

    // A newer schema is refused, and the message says what to do.
    Connection::open(&inc)
        .unwrap()
        .execute_batch("PRAGMA user_version = 7")
        .unwrap();
    let o = db(repo.path(), &inc, &[]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("schema version 7") && err.contains("upgrade codex-analyzer"),
        "{err}"
    );
}

#[test]
fn a_killed_update_leaves_a_sound_database() {
    let repo = tempfile::tempdir().unwrap();
    let codex = repo.path().join(".codex");
    std::fs::create_dir_all(&codex).unwrap();
    let log = codex.join("toolcalls.ndjson");
    std::fs::write(&log, log_lines(0, 100, 5)).unwrap();
    let path = repo.path().join("db.sqlite");
    ok(db(repo.path(), &path, &[]));
    let before = dump(&path);
    // A big append, and a kill while the update runs.
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    f.write_all(log_lines(100, 20_000, 200).as_bytes()).unwrap();
    drop(f);
    let mut child = Command::new(analyzer())
        .arg("db")
        .arg("--repo")
        .arg(repo.path())
        .arg("--out")
        .arg(&path)
        .spawn()
        .unwrap();
    // Kill once the update has its journal open (it is writing), or give up waiting.
    let journal = repo.path().join("db.sqlite-journal");
    let t0 = std::time::Instant::now();
    while !journal.exists() && t0.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(200));
    let killed = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        killed,
        "the update finished before it could be killed; make the append bigger"
    );
    // The next open rolls the hot journal back: the rows of before, a sound file.
    assert_eq!(one::<String>(&path, "PRAGMA integrity_check"), "ok");
    assert_eq!(dump(&path), before);
    // And the next update catches up to what a rebuild gives.
    ok(db(repo.path(), &path, &[]));
    let full = repo.path().join("full.sqlite");
    ok(db(repo.path(), &full, &[]));
    assert_eq!(dump(&path), dump(&full));
}
