//! `codex-analyzer run` on a planted scenario (see `common/mod.rs`): a real git repository
//! with a hotspot, config churn and a revert; a tool-call log with repeated error types and
//! a failing tool; CI logs with repeated failure signatures — each next to noise below
//! every threshold. Exactly the planted findings must appear, with fingerprints that do not
//! depend on input order or on repetition.

mod common;

use codex_analyzer::signature;
use codex_contract::fingerprint::fingerprint;
use common::*;

fn scenario() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    build_scenario(dir.path(), &toolcall_lines());
    dir
}

/// The signature ID the planted repeated `test` job failure must get.
fn test_job_signature() -> String {
    let log = &ci_logs()["test/run-101.log"];
    signature::ci_log_signature("test", log)
        .unwrap()
        .signature
        .id
}

fn unit_signature() -> String {
    signature::test_case_signature("unit", "pkg.Parser::rejects_bad_utf8", "expected Err").id
}

#[test]
fn exactly_the_planted_findings_appear() {
    let dir = scenario();
    let json = run_json(dir.path(), NOW, &[]);
    assert_eq!(json["run_id"], RUN_ID);
    assert_eq!(json["skipped"], false);
    let mut want = vec![
        ("ci_signature_repeat".to_string(), test_job_signature()),
        ("ci_signature_repeat".to_string(), unit_signature()),
        (
            "error_type_repeat".to_string(),
            "command_not_found".to_string(),
        ),
        (
            "error_type_repeat".to_string(),
            "file_not_found".to_string(),
        ),
        ("file_hotspot".to_string(), "src/hot.rs".to_string()),
        ("tool_failure_rate".to_string(), "Bash".to_string()),
        // The rust-toolchain.toml change that was reverted, keyed by the reverted commit. Its
        // config churn (`toolchain.channel` flipped) is the same story: it is told in the
        // revert's evidence, not as a finding of its own (`triage`).
        (
            "revert".to_string(),
            json["metrics"]["git"]["reverts"][0]["original_sha"]
                .as_str()
                .unwrap()
                .to_string(),
        ),
    ];
    want.sort();
    assert_eq!(finding_keys(&json), want, "{:#}", json["findings"]);

    // Every finding carries the contract fingerprint of (rule, subject) and full evidence.
    for f in json["findings"].as_array().unwrap() {
        let (rule, subject) = (f["rule"].as_str().unwrap(), f["subject"].as_str().unwrap());
        assert_eq!(
            f["fingerprint"],
            fingerprint(rule, subject),
            "{rule} {subject}"
        );
        for key in ["title", "severity", "suggested_action", "risk", "qa_notes"] {
            assert!(
                !f[key].as_str().unwrap().is_empty(),
                "{rule} {subject}: {key}"
            );
        }
        let ev = &f["evidence"];
        assert!(ev["count"].as_u64().unwrap() >= 1);
        assert!(
            !ev["samples"].as_array().unwrap().is_empty(),
            "{rule} {subject}: samples"
        );
        assert!(
            ev["first_seen"].is_string() && ev["last_seen"].is_string(),
            "{rule} {subject}"
        );
        assert_eq!(f["status"], "new");
    }

    let by = |rule: &str, subject: &str| {
        json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == rule && f["subject"] == subject)
            .unwrap()
            .clone()
    };
    // Counts match what was planted, over the 24h rollup only.
    assert_eq!(
        by("error_type_repeat", "command_not_found")["evidence"]["count"],
        3
    );
    assert_eq!(
        by("error_type_repeat", "file_not_found")["evidence"]["count"],
        2
    );
    let rate = by("tool_failure_rate", "Bash");
    assert_eq!(rate["evidence"]["count"], 5);
    assert_eq!(rate["evidence"]["total"], 20);
    assert_eq!(rate["evidence"]["rate"], 0.25);
    // Counted in reworked lines: commits 2-4 each rewrote the 8 lines of the one before.
    assert_eq!(by("file_hotspot", "src/hot.rs")["evidence"]["count"], 24);
    let revert = by(
        "revert",
        json["metrics"]["git"]["reverts"][0]["original_sha"]
            .as_str()
            .unwrap(),
    );
    assert!(
        revert["title"].as_str().unwrap().contains("`try nightly`"),
        "{revert:#}"
    );
    assert_eq!(revert["severity"], "high");
    let also: Vec<&str> = revert["evidence"]["samples"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s.as_str().filter(|s| s.starts_with("also ")))
        .collect();
    assert_eq!(also.len(), 1, "{revert:#}");
    assert!(
        also[0].starts_with("also config_churn (medium): Config `rust-toolchain.toml`")
            && also[0].contains("`toolchain.channel` flipped 1.89 → nightly → 1.89"),
        "{also:?}"
    );
    // Cargo.toml's version bump and added `edition` are ordinary development: no finding.
    assert_eq!(
        by("ci_signature_repeat", &test_job_signature())["evidence"]["count"],
        2
    );
    assert_eq!(
        by("ci_signature_repeat", &unit_signature())["evidence"]["count"],
        2
    );

    // Samples are masked command shapes with the error line, never a raw dump.
    let s = by("error_type_repeat", "command_not_found")["evidence"]["samples"][0]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        s.starts_with("Bash: /opt/tools-0/bin/cargo-nextest run --workspace (exit 127) → "),
        "{s}"
    );

    // Noise is measured but below thresholds.
    let m = &json["metrics"];
    let et = &m["tool_calls"]["rollup"]["error_types"];
    for once in ["timeout", "permission_denied", "sandbox_denied"] {
        assert_eq!(et[once]["count"], 1, "{once}");
    }
    assert!(et.get("patch_failed").is_none(), "older than the rollup");
    assert!(et.get("git_conflict").is_none(), "after --now");
    let tools = &m["tool_calls"]["rollup"]["per_tool"];
    assert_eq!(tools["Read"]["below_floor"], true);
    assert_eq!(tools["apply_patch"]["failure_rate"], 0.083333);
    assert_eq!(m["tool_calls"]["rollup"]["unknown"], 2);
    let cmds = m["tool_calls"]["rollup"]["top_failing_commands"]
        .as_array()
        .unwrap();
    assert_eq!(cmds[0]["template"], "<path> run --workspace");
    assert_eq!(cmds[0]["count"], 3);
    let ci = &m["ci"]["rollup"];
    assert_eq!(ci["failures"], 7, "{ci:#}");
    assert_eq!(ci["transient_failures"], 2);
    let git = &m["git"];
    assert_eq!(git["totals"]["reverts"], 1);
    assert_eq!(git["totals"]["bot_commits_skipped"], 2);

    // Reader problems are reported, not fatal.
    assert_eq!(json["inputs"]["toolcalls"]["skipped"], 2);
    let warnings = json["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap().contains("2 lines of")),
        "{warnings:?}"
    );
}

#[test]
fn fingerprints_survive_shuffled_inputs_and_repeated_runs() {
    let a = scenario();
    let b = tempfile::tempdir().unwrap();
    build_scenario(b.path(), &shuffled(&toolcall_lines()));
    let first = run_json(a.path(), NOW, &[]);
    let again = run_json(a.path(), NOW, &[]);
    let shuffled = run_json(b.path(), NOW, &[]);
    // The findings (fingerprints, counts, samples, evidence) are identical.
    assert_eq!(first["findings"], again["findings"]);
    assert_eq!(first["findings"], shuffled["findings"]);
    assert_eq!(first["metrics"], shuffled["metrics"]);
    assert_eq!(first["findings"].as_array().unwrap().len(), FINDINGS);
}

#[test]
fn fingerprints_do_not_depend_on_counts() {
    // One more planted failure raises the count and the sample set, not the identity.
    let a = scenario();
    let mut lines = toolcall_lines();
    let mut extra = Vec::new();
    call(
        &mut extra,
        before(1.25),
        "s4",
        "call_extra",
        "Bash",
        "/opt/tools-9/bin/cargo-nextest run",
        codex_contract::Status::Failed,
        Some(127),
        "bash: cargo-nextest: command not found",
    );
    lines.extend(extra.iter().map(|r| serde_json::to_string(r).unwrap()));
    let b = tempfile::tempdir().unwrap();
    build_scenario(b.path(), &lines);
    let x = run_json(a.path(), NOW, &[]);
    let y = run_json(b.path(), NOW, &[]);
    let fp = |j: &serde_json::Value| {
        j["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["subject"] == "command_not_found")
            .map(|f| (f["fingerprint"].clone(), f["evidence"]["count"].clone()))
            .unwrap()
    };
    let (fx, cx) = fp(&x);
    let (fy, cy) = fp(&y);
    assert_eq!(fx, fy);
    assert_eq!((cx, cy), (3.into(), 4.into()));
}

#[test]
fn window_flags_change_what_counts() {
    let dir = scenario();
    // A 6h rollup keeps only the latest activity: no hotspot (1 commit of src/hot.rs).
    let json = run_json(dir.path(), NOW, &["--window", "3h", "--rollup", "6h"]);
    assert_eq!(json["windows"]["rollup"]["length"], "6h");
    assert_eq!(json["windows"]["primary"]["start"], ts(before(3.0)));
    let keys = finding_keys(&json);
    assert!(!keys.iter().any(|(r, _)| r == "file_hotspot"), "{keys:?}");
    // A 2d rollup reaches the old rework of src/cold.rs (5 commits 36-40h ago).
    let json = run_json(dir.path(), NOW, &["--rollup", "2d"]);
    let keys = finding_keys(&json);
    assert!(
        keys.contains(&("file_hotspot".into(), "src/cold.rs".into())),
        "{keys:?}"
    );
    // The old patch_failed calls are inside 2d too.
    assert!(
        keys.contains(&("error_type_repeat".into(), "patch_failed".into())),
        "{keys:?}"
    );
}

#[test]
fn thresholds_come_from_the_config_file() {
    let dir = scenario();
    std::fs::write(
        dir.path().join(".codex/improvement.toml"),
        "[rules.file_hotspot]\nmin_commits = 3\nmin_rework_lines = 0\nmin_reworking_commits = 0\nmin_authors = 1\n[rules.error_type_repeat]\nignore = [\"file_not_found\"]\n[rules.tool_failure_rate]\nenabled = false\n",
    )
    .unwrap();
    let json = run_json(dir.path(), NOW, &[]);
    let keys = finding_keys(&json);
    assert!(
        keys.contains(&("file_hotspot".into(), "src/warm.rs".into())),
        "{keys:?}"
    );
    assert!(!keys.iter().any(|(_, s)| s == "file_not_found"), "{keys:?}");
    assert!(
        !keys.iter().any(|(r, _)| r == "tool_failure_rate"),
        "{keys:?}"
    );
    assert_eq!(json["config_file"], ".codex/improvement.toml");

    // --config points elsewhere; a typo is an error that names the file.
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[rules.file_hotspot]\nmin_comits = 3\n").unwrap();
    let out = analyzer(
        dir.path(),
        &[
            "run",
            "--repo",
            dir.path().to_str().unwrap(),
            "--now",
            NOW,
            "--config",
            bad.to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.toml") && err.contains("min_comits"),
        "{err}"
    );
}

#[test]
fn ci_logs_flag_and_log_flag_point_elsewhere() {
    let dir = scenario();
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::rename(
        dir.path().join(".codex/ci-logs"),
        elsewhere.path().join("ci"),
    )
    .unwrap();
    std::fs::rename(
        dir.path().join(".codex/toolcalls.ndjson"),
        elsewhere.path().join("calls.ndjson"),
    )
    .unwrap();
    let without = run_json(dir.path(), NOW, &[]);
    let keys = finding_keys(&without);
    assert!(!keys
        .iter()
        .any(|(r, _)| r == "ci_signature_repeat" || r == "error_type_repeat"));
    let ci = elsewhere.path().join("ci");
    let log = elsewhere.path().join("calls.ndjson");
    let with = run_json(
        dir.path(),
        NOW,
        &[
            "--ci-logs",
            ci.to_str().unwrap(),
            "--log",
            log.to_str().unwrap(),
        ],
    );
    assert_eq!(finding_keys(&with).len(), FINDINGS);
    assert_eq!(with["inputs"]["ci_logs"]["files"], 10);
}
