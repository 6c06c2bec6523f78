//! The store's promises: incremental updates give the rows a rebuild gives, a failed update
//! changes nothing, a partly written line waits, a rewritten log is rebuilt, a newer schema is
//! refused.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use codex_contract::fold::Call;
use codex_contract::record::Record;
use codex_contract::state::{FindingHistory, RunSummary, State, TicketRef};
use codex_store::{ClusterRow, Derive, SessionRow, Store, StoreError, UpdateOptions};

/// A small stand-in for the analyzer: a row per session, a cluster per error type.
struct Counts;

impl Derive for Counts {
    fn sessions(&self, calls: &[Call], events: &[Record]) -> Vec<SessionRow> {
        let mut by: BTreeMap<String, SessionRow> = BTreeMap::new();
        for c in calls {
            let Some(s) = &c.session_id else { continue };
            let row = by.entry(s.clone()).or_insert_with(|| SessionRow {
                session_id: s.clone(),
                first_ts: None,
                last_ts: None,
                turns: 0,
                calls: 0,
                failures: 0,
                prompts: 0,
                ended: false,
                failure_rate: 0.0,
                friction: 0,
                signals: Vec::new(),
            });
            row.calls += 1;
            row.failures += u32::from(c.status.is_failure());
        }
        for e in events {
            if let Some(row) = e.session_id.as_ref().and_then(|s| by.get_mut(s)) {
                row.prompts += 1;
            }
        }
        for row in by.values_mut() {
            row.signals
                .push(("friction", "command_failures".into(), row.failures.into()));
        }
        by.into_values().collect()
    }

    fn clusters(&self, calls: &[Call]) -> Vec<ClusterRow> {
        let mut by: BTreeMap<String, u32> = BTreeMap::new();
        for c in calls.iter().filter(|c| c.status.is_failure()) {
            *by.entry(c.error_type.clone().unwrap_or_default())
                .or_default() += 1;
        }
        by.into_iter()
            .map(|(et, n)| ClusterRow {
                cluster_id: format!("cl-{et}"),
                tool: "Bash".into(),
                command_template: String::new(),
                error_type: et,
                error_template: String::new(),
                severity: 1.0,
                count: n,
                sessions: 1,
                first_seen: String::new(),
                last_seen: String::new(),
                impact: f64::from(n),
                last_status: "failed".into(),
                last_command: None,
                fixed_at: None,
            })
            .collect()
    }
}

fn pre(ts: &str, session: &str, call: &str, input: &str) -> String {
    format!(
        r#"{{"v":1,"ts":"{ts}","source":"codex-hook","phase":"pre","session_id":"{session}","call_id":"{call}","tool":"Bash","input":"{input}"}}"#
    )
}

fn outcome(ts: &str, session: &str, call: &str, exit: i32, out: &str) -> String {
    let status = if exit == 0 { "ok" } else { "failed" };
    format!(
        r#"{{"v":1,"ts":"{ts}","source":"rollout","phase":"outcome","session_id":"{session}","call_id":"{call}","exit_code":{exit},"status":"{status}","output":{{"text":"{out}","len":{}}}}}"#,
        out.len()
    )
}

fn prompt(ts: &str, session: &str) -> String {
    format!(
        r#"{{"v":1,"ts":"{ts}","source":"codex-hook","phase":"session","session_id":"{session}","event":"user_prompt","prompt_len":12}}"#
    )
}

/// The first half of a log: s1 complete, s2's call c3 only announced.
fn part1() -> Vec<String> {
    vec![
        prompt("2026-03-01T10:00:00.000Z", "s1"),
        pre("2026-03-01T10:00:01.000Z", "s1", "c1", "cargo build"),
        outcome(
            "2026-03-01T10:00:02.000Z",
            "s1",
            "c1",
            101,
            "error[E0425]: cannot find value",
        ),
        pre("2026-03-01T10:00:03.000Z", "s1", "c2", "ls"),
        outcome("2026-03-01T10:00:04.000Z", "s1", "c2", 0, "a b"),
        "{not json".to_string(),
        prompt("2026-03-01T11:00:00.000Z", "s2"),
        pre("2026-03-01T11:00:01.000Z", "s2", "c3", "cat /nope"),
    ]
}

/// The second half: c3's outcome (a call spanning both halves), a new session.
fn part2() -> Vec<String> {
    vec![
        outcome(
            "2026-03-01T11:00:02.000Z",
            "s2",
            "c3",
            1,
            "cat: /nope: No such file or directory",
        ),
        prompt("2026-03-01T12:00:00.000Z", "s3"),
        pre("2026-03-01T12:00:01.000Z", "s3", "c1", "cargo test"),
        outcome(
            "2026-03-01T12:00:02.000Z",
            "s3",
            "c1",
            101,
            "test result: FAILED. 1 passed; 1 failed",
        ),
    ]
}

fn append(path: &Path, lines: &[String]) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    for l in lines {
        writeln!(f, "{l}").unwrap();
    }
}

fn state() -> State {
    let mut s = State::default();
    s.processed_runs.insert("2026-03-01-AM".into());
    s.processed_runs.insert("2026-03-01-PM".into());
    s.runs.insert(
        "2026-03-01-PM".into(),
        RunSummary {
            run_id: "2026-03-01-PM".into(),
            now: "2026-03-01T22:10:00Z".into(),
            findings: vec!["fp1".into()],
            ..RunSummary::default()
        },
    );
    let mut f = FindingHistory {
        rule: "repeated-command-failure".into(),
        subject: "cargo build".into(),
        first_seen_run: "2026-03-01-AM".into(),
        last_seen_run: "2026-03-01-PM".into(),
        ..FindingHistory::default()
    };
    f.record_count("2026-03-01-PM", 4);
    f.set_ticket(
        TicketRef {
            number: 7,
            url: "https://github.com/o/r/issues/7".into(),
            state: Some("open".into()),
        },
        "2026-03-01-PM",
    );
    s.findings.insert("fp1".into(), f);
    s
}

/// Every row of every table, in a fixed order, as text.
fn dump(store: &Store) -> Vec<String> {
    let conn = store.conn();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut out = Vec::new();
    for t in tables {
        let mut stmt = conn.prepare(&format!("SELECT * FROM {t}")).unwrap();
        let n = stmt.column_count();
        let mut rows: Vec<String> = stmt
            .query_map([], |r| {
                let mut cells = Vec::new();
                for i in 0..n {
                    let v: rusqlite::types::Value = r.get(i)?;
                    cells.push(format!("{v:?}"));
                }
                Ok(format!("{t}: {}", cells.join(" | ")))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        rows.sort();
        out.extend(rows);
    }
    out
}

fn rows(store: &Store, sql: &str) -> Vec<String> {
    let mut stmt = store.conn().prepare(sql).unwrap();
    let n = stmt.column_count();
    stmt.query_map([], |r| {
        let mut cells = Vec::new();
        for i in 0..n {
            let v: rusqlite::types::Value = r.get(i)?;
            cells.push(format!("{v:?}"));
        }
        Ok(cells.join(" | "))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

#[test]
fn incremental_updates_give_the_rows_of_a_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("toolcalls.ndjson");
    append(&log, &part1());
    let st = state();
    let mut inc = Store::open(&dir.path().join("inc.sqlite")).unwrap();
    let r1 = inc
        .update(&log, Some(&st), &Counts, &UpdateOptions::default())
        .unwrap();
    assert_eq!((r1.records, r1.skipped, r1.rebuilt), (7, 1, None));
    assert_eq!(
        rows(
            &inc,
            "SELECT session_id, call_id, status FROM calls ORDER BY 1, 2"
        ),
        vec![
            r#"Text("s1") | Text("c1") | Text("failed")"#,
            r#"Text("s1") | Text("c2") | Text("ok")"#,
            r#"Text("s2") | Text("c3") | Text("unknown")"#,
        ]
    );

    // A line still being written is left for later.
    let p2 = part2();
    append(&log, &p2[..2]);
    let half = &p2[2];
    std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .unwrap()
        .write_all(&half.as_bytes()[..20])
        .unwrap();
    let r2 = inc
        .update(&log, Some(&st), &Counts, &UpdateOptions::default())
        .unwrap();
    assert_eq!(r2.records, 2, "{r2:?}");
    assert_eq!(
        r2.skipped, 0,
        "the partial line is not read, so not skipped"
    );
    std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .unwrap()
        .write_all(format!("{}\n{}\n", &half[20..], p2[3]).as_bytes())
        .unwrap();
    let r3 = inc
        .update(&log, Some(&st), &Counts, &UpdateOptions::default())
        .unwrap();
    assert_eq!(r3.records, 2, "{r3:?}");
    // Nothing new: nothing changes.
    let before = dump(&inc);
    let r4 = inc
        .update(&log, Some(&st), &Counts, &UpdateOptions::default())
        .unwrap();
    assert_eq!((r4.records, r4.sessions_updated), (0, 0));
    assert_eq!(dump(&inc), before);

    // c3, announced in the first half, has its outcome from the second.
    assert_eq!(
        rows(
            &inc,
            "SELECT status, exit_code, error_type, input, records FROM calls WHERE call_id = 'c3'"
        ),
        vec![
            r#"Text("failed") | Integer(1) | Text("file_not_found") | Text("cat /nope") | Integer(2)"#
        ]
    );
    assert_eq!(
        rows(
            &inc,
            "SELECT session_id, calls, failures, prompts FROM sessions ORDER BY 1"
        ),
        vec![
            r#"Text("s1") | Integer(2) | Integer(1) | Integer(1)"#,
            r#"Text("s2") | Integer(1) | Integer(1) | Integer(1)"#,
            r#"Text("s3") | Integer(1) | Integer(1) | Integer(1)"#,
        ]
    );
    assert_eq!(
        rows(
            &inc,
            "SELECT number, fingerprint, baseline_count FROM tickets"
        ),
        vec![r#"Integer(7) | Text("fp1") | Integer(4)"#]
    );
    assert_eq!(
        rows(&inc, "SELECT run_id, findings FROM runs ORDER BY 1"),
        vec![
            r#"Text("2026-03-01-AM") | Null"#,
            r#"Text("2026-03-01-PM") | Integer(1)"#
        ]
    );

    let mut full = Store::open(&dir.path().join("full.sqlite")).unwrap();
    let r = full
        .update(&log, Some(&st), &Counts, &UpdateOptions::default())
        .unwrap();
    assert_eq!(r.records, 11);
    assert_eq!(dump(&full), dump(&inc));
    // And --rebuild of the incremental one gives the same rows again.
    let opts = UpdateOptions {
        rebuild: true,
        ..UpdateOptions::default()
    };
    let r = inc.update(&log, Some(&st), &Counts, &opts).unwrap();
    assert!(r.rebuilt.is_some());
    assert_eq!(dump(&inc), dump(&full));
}

#[test]
fn a_failed_update_leaves_the_database_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("toolcalls.ndjson");
    append(&log, &part1());
    let db = dir.path().join("db.sqlite");
    let mut store = Store::open(&db).unwrap();
    store
        .update(&log, None, &Counts, &UpdateOptions::default())
        .unwrap();
    let before = dump(&store);
    append(&log, &part2());
    let opts = UpdateOptions {
        fail_after_records: Some(3),
        ..UpdateOptions::default()
    };
    let err = store.update(&log, None, &Counts, &opts).unwrap_err();
    assert!(matches!(err, StoreError::Injected(3)), "{err}");
    drop(store);
    // Reopened (as after a crash): the same rows, a sound file, and the next update catches up.
    let mut store = Store::open(&db).unwrap();
    assert_eq!(dump(&store), before);
    let ok: String = store
        .conn()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    let r = store
        .update(&log, None, &Counts, &UpdateOptions::default())
        .unwrap();
    assert_eq!(r.records, 4);
    let mut full = Store::open(&dir.path().join("full.sqlite")).unwrap();
    full.update(&log, None, &Counts, &UpdateOptions::default())
        .unwrap();
    assert_eq!(dump(&store), dump(&full));
}

#[test]
fn a_rewritten_log_is_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("toolcalls.ndjson");
    append(&log, &part1());
    let mut store = Store::open(&dir.path().join("db.sqlite")).unwrap();
    store
        .update(&log, None, &Counts, &UpdateOptions::default())
        .unwrap();
    // Rotated: a new, shorter log.
    std::fs::write(&log, format!("{}\n", part2().join("\n"))).unwrap();
    let r = store
        .update(&log, None, &Counts, &UpdateOptions::default())
        .unwrap();
    assert!(r.rebuilt.as_deref().unwrap().contains("shorter"), "{r:?}");
    assert_eq!(r.records, 4);
    assert_eq!(
        rows(&store, "SELECT DISTINCT session_id FROM records ORDER BY 1"),
        vec![r#"Text("s2")"#, r#"Text("s3")"#]
    );
    // Rewritten in place, same length or longer: the head hash notices.
    let mut lines = part2();
    lines[1] = lines[1].replace("s3", "s9");
    std::fs::write(&log, format!("{}\n", lines.join("\n"))).unwrap();
    let r = store
        .update(&log, None, &Counts, &UpdateOptions::default())
        .unwrap();
    assert!(
        r.rebuilt.as_deref().unwrap().contains("first bytes"),
        "{r:?}"
    );
}

#[test]
fn a_newer_schema_is_refused_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db.sqlite");
    drop(Store::open(&db).unwrap());
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("PRAGMA user_version = 99").unwrap();
    drop(conn);
    let err = Store::open(&db).err().expect("refused").to_string();
    assert!(err.contains("schema version 99"), "{err}");
    assert!(err.contains("upgrade codex-analyzer"), "{err}");
    // A database of something else is not written into either.
    let other = dir.path().join("other.sqlite");
    let conn = rusqlite::Connection::open(&other).unwrap();
    conn.execute_batch("CREATE TABLE mine(x)").unwrap();
    drop(conn);
    let err = Store::open(&other).err().expect("refused").to_string();
    assert!(err.contains("did not create"), "{err}");
}
