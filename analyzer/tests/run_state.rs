//! `codex-analyzer run --apply`: the state file and the run log. Run IDs are processed once
//! (a rerun changes nothing, byte for byte; `--force` overrides), dry runs write nothing, a
//! corrupt state recovers from its backup without losing processed run IDs, concurrent runs
//! are locked out, and the same inputs give the same bytes.

mod common;

use std::path::Path;

use codex_contract::state::State;
use common::*;

const LOG: &str = ".codex/improvement-log.md";
const STATE: &str = ".codex/improvement-state.json";

fn scenario() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    build_scenario(dir.path(), &toolcall_lines());
    dir
}

fn read(dir: &Path, rel: &str) -> Vec<u8> {
    std::fs::read(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn state(dir: &Path) -> State {
    State::from_bytes(&read(dir, STATE)).unwrap()
}

#[test]
fn apply_writes_log_and_state_once_then_skips() {
    let dir = scenario();
    let d = dir.path();
    let log_before = read(d, LOG);
    let out = run_json(d, NOW, &["--apply"]);
    assert_eq!(out["mode"], "apply");
    let written: Vec<&str> = out["written"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["path"].as_str().unwrap())
        .collect();
    assert!(
        written.contains(&LOG) && written.contains(&STATE),
        "{written:?}"
    );
    assert_eq!(out["would_write"].as_array().unwrap().len(), 0);

    // The log got exactly one section, appended after what was there.
    let log = String::from_utf8(read(d, LOG)).unwrap();
    assert!(log.as_bytes().starts_with(&log_before));
    assert_eq!(log.matches(&format!("## Run {RUN_ID}")).count(), 1);
    let s = state(d);
    assert!(s.processed_runs.contains(RUN_ID));
    assert_eq!(s.findings.len(), FINDINGS);
    assert_eq!(
        s.runs[RUN_ID].metrics.tool_calls,
        out["metrics"]["tool_calls"]["primary"]["calls"]
            .as_u64()
            .unwrap()
    );

    // The same run ID again: skipped, exit 0, and not one byte or mtime changes.
    let before = snapshot(d);
    let log_bytes = read(d, LOG);
    let state_bytes = read(d, STATE);
    let text = run_ok(d, NOW, &["--apply"]);
    assert!(
        text.contains("Skipped:") && text.contains("already processed"),
        "{text}"
    );
    assert!(text.contains("--force"), "{text}");
    assert_eq!(snapshot(d), before);
    assert_eq!(read(d, LOG), log_bytes);
    assert_eq!(read(d, STATE), state_bytes);
    let json = run_json(d, NOW, &["--apply"]);
    assert_eq!(json["skipped"], true);
    assert_eq!(json["findings"].as_array().unwrap().len(), 0);
    assert!(json["metrics"].is_null() && json["deltas"].is_null() && json["inputs"].is_null());
    assert_eq!(snapshot(d), before);
}

#[test]
fn force_reruns_a_processed_run_id() {
    let dir = scenario();
    let d = dir.path();
    run_ok(d, NOW, &["--apply"]);
    let first_state = state(d);
    let out = run_json(d, NOW, &["--apply", "--force"]);
    assert_eq!(out["skipped"], false);
    assert_eq!(out["forced"], true);
    let log = String::from_utf8(read(d, LOG)).unwrap();
    assert_eq!(log.matches(&format!("## Run {RUN_ID}\n")).count(), 1);
    assert_eq!(
        log.matches(&format!("## Run {RUN_ID} (forced rerun)\n"))
            .count(),
        1
    );
    let s = state(d);
    assert_eq!(s.processed_runs, first_state.processed_runs);
    // A rerun of the same run ID compares with the run before it, not with itself.
    assert!(
        out["deltas"].get("previous_run").is_none(),
        "{:#}",
        out["deltas"]
    );
    assert_eq!(out["findings"][0]["status"], "new");
    // The previous state was kept as the backup.
    let bak = State::from_bytes(&read(d, ".codex/improvement-state.json.bak")).unwrap();
    assert_eq!(bak, first_state);
}

#[test]
fn next_run_reports_impact_deltas() {
    let dir = scenario();
    let d = dir.path();
    run_ok(d, NOW, &["--apply"]);
    // Twelve hours later. The new primary window holds only the 3 `git_conflict` calls
    // planted after the first run's --now: a new finding; some findings persist (their
    // evidence is still inside the 24h rollup), the others resolve.
    let out = run_json(d, NEXT, &["--apply"]);
    assert_eq!(out["run_id"], NEXT_RUN_ID);
    let deltas = &out["deltas"];
    assert_eq!(deltas["previous_run"], RUN_ID);
    assert_eq!(deltas["tool_calls"]["current"], 3);
    assert!(
        deltas["tool_calls"]["change"].as_i64().unwrap() < 0,
        "{deltas:#}"
    );
    assert_eq!(deltas["failure_rate"]["current"], 1.0);
    assert_eq!(deltas["error_types"]["git_conflict"]["change"], 3);
    assert_eq!(deltas["error_types"]["command_not_found"]["current"], 0);
    let resolved = deltas["findings"]["resolved"].as_array().unwrap();
    let persisting = deltas["findings"]["persisting"].as_array().unwrap();
    let new = deltas["findings"]["new"].as_array().unwrap();
    assert_eq!(resolved.len() + persisting.len(), FINDINGS, "{deltas:#}");
    assert!(!resolved.is_empty() && !persisting.is_empty(), "{deltas:#}");
    let conflict = codex_contract::fingerprint::fingerprint("error_type_repeat", "git_conflict");
    assert_eq!(new, &[serde_json::json!(conflict)]);
    for f in out["findings"].as_array().unwrap() {
        let want = if f["fingerprint"] == conflict.as_str() {
            "new"
        } else {
            "persisting"
        };
        assert_eq!(f["status"], want, "{f:#}");
    }
    let log = String::from_utf8(read(d, LOG)).unwrap();
    let section = &log[log.find(&format!("## Run {NEXT_RUN_ID}")).unwrap()..];
    assert!(
        section.contains(&format!("Compared with run {RUN_ID}")),
        "{section}"
    );
    assert!(section.contains("resolved"), "{section}");
    let s = state(d);
    assert_eq!(s.last_run.as_deref(), Some(NEXT_RUN_ID));
    let gone = &resolved[0]["fingerprint"];
    assert_eq!(
        s.findings[gone.as_str().unwrap()].resolved_run.as_deref(),
        Some(NEXT_RUN_ID)
    );
}

#[test]
fn dry_run_writes_nothing() {
    // A repository with no analyzer files yet...
    let dir = scenario();
    let d = dir.path();
    let before = snapshot(d);
    let text = run_ok(d, NOW, &[]);
    assert!(text.contains("dry run: nothing is written"), "{text}");
    assert!(
        text.contains("Would write (pass --apply to write):"),
        "{text}"
    );
    assert!(text.contains(&format!("create   {STATE}")), "{text}");
    run_ok(d, NOW, &["--format", "json"]);
    run_ok(d, NOW, &["--format", "md"]);
    assert_eq!(snapshot(d), before);
    assert!(!d.join(STATE).exists() && !d.join(".codex/improvement-state.json.lock").exists());

    // ...and one with a state: a dry run of the next run ID (which would write) writes nothing.
    run_ok(d, NOW, &["--apply"]);
    let before = snapshot(d);
    let json = run_json(d, NEXT, &[]);
    let actions: Vec<(String, String)> = json["would_write"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["path"].as_str().unwrap().into(),
                w["action"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            (LOG.to_string(), "append".to_string()),
            (format!("{STATE}.bak"), "copy".to_string()),
            (STATE.to_string(), "replace".to_string()),
        ]
    );
    assert_eq!(json["written"].as_array().unwrap().len(), 0);
    assert_eq!(snapshot(d), before);
}

#[test]
fn md_output_is_exactly_what_apply_appends() {
    let dir = scenario();
    let d = dir.path();
    let md = run_ok(d, NOW, &["--format", "md"]);
    let before = read(d, LOG);
    run_ok(d, NOW, &["--apply"]);
    let after = read(d, LOG);
    let appended = String::from_utf8(after[before.len()..].to_vec()).unwrap();
    assert_eq!(appended, format!("\n{md}"));
    // The eight headings, in the spec's order.
    let positions: Vec<usize> = codex_analyzer::runlog::HEADINGS
        .iter()
        .map(|h| {
            md.find(&format!("\n### {h}\n"))
                .unwrap_or_else(|| panic!("missing {h}"))
        })
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    assert_eq!(
        codex_analyzer::runlog::HEADINGS,
        [
            "Activity Summary",
            "Failure Clusters",
            "Tool Call Analysis",
            "Metadata Changes",
            "Impact Summary",
            "Auto-Created Tickets",
            "PRs Created",
            "Next 12h Focus"
        ]
    );
}

#[test]
fn same_inputs_same_bytes_in_fresh_copies() {
    // Two repositories built from scratch (same commits, same SHAs) in different places.
    let a = scenario();
    let b = scenario();
    for d in [a.path(), b.path()] {
        run_ok(d, NOW, &["--apply"]);
        run_ok(d, NEXT, &["--apply"]);
    }
    assert_eq!(read(a.path(), LOG), read(b.path(), LOG));
    assert_eq!(read(a.path(), STATE), read(b.path(), STATE));
    // And nothing in them names where the repository lives.
    let log = String::from_utf8(read(a.path(), LOG)).unwrap();
    assert!(!log.contains(a.path().to_str().unwrap()));
}

#[test]
fn corrupt_state_recovers_from_backup_keeping_processed_run_ids() {
    let dir = scenario();
    let d = dir.path();
    run_ok(d, NOW, &["--apply"]);
    run_ok(d, NEXT, &["--apply"]);
    // The backup holds the first run only; the live file is damaged (a bad merge).
    let bak = State::from_bytes(&read(d, ".codex/improvement-state.json.bak")).unwrap();
    assert!(bak.processed_runs.contains(RUN_ID) && !bak.processed_runs.contains(NEXT_RUN_ID));
    let good = read(d, STATE);
    let mut damaged = b"<<<<<<< HEAD\n".to_vec();
    damaged.extend_from_slice(&good[..good.len() / 2]);
    damaged.extend_from_slice(b"\n=======\n");
    std::fs::write(d.join(STATE), &damaged).unwrap();

    // A dry run says it would recover, and writes nothing.
    let before = snapshot(d);
    let json = run_json(d, "2026-03-03T13:10:00Z", &[]);
    assert_eq!(json["state"]["outcome"], "recovered_from_backup");
    assert_eq!(json["state"]["processed_runs"], 2);
    assert!(
        json["warnings"][0]
            .as_str()
            .unwrap()
            .contains("would be recovered"),
        "{:#}",
        json["warnings"]
    );
    assert_eq!(snapshot(d), before);

    // The second run ID is still processed: skipped, though the backup does not have it.
    let json = run_json(d, NEXT, &["--apply"]);
    assert_eq!(json["skipped"], true, "{json:#}");
    assert_eq!(snapshot(d), before);

    // A new run applies on top of the recovered state; the damage is kept aside.
    let json = run_json(d, "2026-03-03T13:10:00Z", &["--apply"]);
    assert_eq!(json["skipped"], false);
    let s = state(d);
    let ids: Vec<&str> = s.processed_runs.iter().map(String::as_str).collect();
    assert_eq!(ids, [RUN_ID, NEXT_RUN_ID, "2026-03-03-AM"]);
    assert_eq!(read(d, ".codex/improvement-state.json.corrupt"), damaged);
    // The backup was not overwritten with the damaged file.
    assert_eq!(
        State::from_bytes(&read(d, ".codex/improvement-state.json.bak")).unwrap(),
        bak
    );
}

#[test]
fn concurrent_apply_is_locked_out() {
    use fs2::FileExt;
    let dir = scenario();
    let d = dir.path();
    std::fs::create_dir_all(d.join(".codex")).unwrap();
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(d.join(".codex/improvement-state.json.lock"))
        .unwrap();
    FileExt::lock_exclusive(&lock).unwrap();
    let out = analyzer(
        d,
        &[
            "run",
            "--repo",
            d.to_str().unwrap(),
            "--now",
            NOW,
            "--apply",
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("another codex-analyzer run holds"), "{err}");
    assert!(!d.join(STATE).exists());
    // A dry run does not need the lock.
    run_ok(d, NOW, &[]);
    FileExt::unlock(&lock).unwrap();
    run_ok(d, NOW, &["--apply"]);
    assert!(state(d).processed_runs.contains(RUN_ID));
}

#[test]
fn interrupted_run_is_completed_without_a_second_section() {
    // The log was appended but the state write never happened (a crash in between).
    let dir = scenario();
    let d = dir.path();
    run_ok(d, NOW, &["--apply"]);
    std::fs::remove_file(d.join(STATE)).unwrap();
    let log = read(d, LOG);
    let json = run_json(d, NOW, &["--apply"]);
    assert_eq!(json["skipped"], false);
    assert_eq!(
        json["written"][0]["action"], "keep",
        "{:#}",
        json["written"]
    );
    assert_eq!(read(d, LOG), log);
    assert!(state(d).processed_runs.contains(RUN_ID));
}
