//! The CLI surface: `run-id`, argument errors, the main job on a repository without any
//! capture yet, colour rules, and the JSON document validated against its published schema
//! (`docs/analyzer-output.schema.json`).

mod common;

use std::path::Path;

use common::*;

fn schema() -> jsonschema::Validator {
    let text = include_str!("../../docs/analyzer-output.schema.json");
    let schema: serde_json::Value = serde_json::from_str(text).unwrap();
    jsonschema::validator_for(&schema).expect("the schema itself is valid")
}

fn assert_valid(v: &jsonschema::Validator, doc: &serde_json::Value, what: &str) {
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{what}: {errors:#?}");
}

#[test]
fn run_id_prints_the_phoenix_half_day() {
    for (now, want) in [
        ("2026-03-02T13:10:00Z", "2026-03-02-AM"),
        ("2026-03-02T22:10:00Z", "2026-03-02-PM"),
        ("2026-03-03T06:59:59Z", "2026-03-02-PM"),
        ("2026-07-01T07:00:00+00:00", "2026-07-01-AM"),
    ] {
        let out = analyzer(Path::new("."), &["run-id", "--now", now]);
        assert!(out.status.success());
        assert_eq!(String::from_utf8(out.stdout).unwrap(), format!("{want}\n"));
    }
    let out = analyzer(Path::new("."), &["run-id"]);
    let id = String::from_utf8(out.stdout).unwrap();
    assert!(codex_contract::runid::is_run_id(id.trim()), "{id}");
}

#[test]
fn bad_arguments_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let out = analyzer(dir.path(), &["run", "--repo", d, "--now", "yesterday"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("RFC 3339"));
    // A value that does not parse is a usage error (2); a consistent-looking but impossible
    // combination is found at run time (1).
    for (flag, value, hint, code) in [
        ("--window", "12", "missing unit", 2),
        ("--window", "12x", "12h", 2),
        ("--rollup", "1h", "at least the primary window", 1),
    ] {
        let out = analyzer(dir.path(), &["run", "--repo", d, "--now", NOW, flag, value]);
        assert_eq!(out.status.code(), Some(code), "{flag} {value}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(hint), "{flag} {value}: {err}");
    }
    let out = analyzer(dir.path(), &["run", "--repo", "/nonexistent/repo"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/repo does not exist"));
}

#[test]
fn main_job_works_without_any_capture_or_git() {
    // Not a git repository, no .codex folder: a useful summary, no failure.
    let dir = tempfile::tempdir().unwrap();
    let text = run_ok(dir.path(), NOW, &[]);
    assert!(text.contains("codex-analyzer run 2026-03-02-AM"), "{text}");
    assert!(text.contains("0 calls"), "{text}");
    assert!(
        text.contains("no tool-call log at .codex/toolcalls.ndjson"),
        "{text}"
    );
    assert!(text.contains("git history of . unavailable"), "{text}");
    assert!(text.contains("no threshold crossed"), "{text}");
    assert!(
        !text.contains('\x1b'),
        "no colour when stdout is not a terminal"
    );

    // An empty log in a fresh git repository.
    git(dir.path(), &["init", "-q"], None, "alice");
    std::fs::create_dir_all(dir.path().join(".codex")).unwrap();
    std::fs::write(dir.path().join(".codex/toolcalls.ndjson"), "").unwrap();
    let json = run_json(dir.path(), NOW, &[]);
    assert_eq!(json["inputs"]["toolcalls"]["exists"], true);
    assert_eq!(json["inputs"]["git"]["available"], true);
    assert_eq!(json["findings"].as_array().unwrap().len(), 0);
    assert_valid(&schema(), &json, "empty repository");
}

#[test]
fn default_repo_is_the_git_top_level_of_the_current_directory() {
    let dir = scenario_dir();
    let sub = dir.path().join("src");
    let out = analyzer(&sub, &["run", "--now", NOW, "--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["inputs"]["git"]["repo"], ".");
    // Eight rule findings, seven stories: the toolchain pin's config churn is told by the
    // revert that undid it (`triage`).
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), FINDINGS, "{findings:#?}");
    let revert = findings.iter().find(|f| f["rule"] == "revert").unwrap();
    assert!(
        revert["evidence"]["samples"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s.as_str().unwrap().starts_with("also config_churn")),
        "{revert:#?}"
    );
}

fn scenario_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    build_scenario(dir.path(), &toolcall_lines());
    dir
}

#[test]
fn json_output_matches_the_published_schema() {
    let v = schema();
    let dir = scenario_dir();
    let d = dir.path();
    let dry = run_json(d, NOW, &[]);
    assert_eq!(dry["schema_version"], 1);
    assert_valid(&v, &dry, "dry run with findings");
    let applied = run_json(d, NOW, &["--apply"]);
    assert_valid(&v, &applied, "applied run");
    let skipped = run_json(d, NOW, &["--apply"]);
    assert_eq!(skipped["skipped"], true);
    assert_valid(&v, &skipped, "skipped run");
    let next = run_json(d, NEXT, &["--apply"]);
    assert!(next["deltas"]["previous_run"].is_string());
    assert_valid(&v, &next, "run with deltas");

    // The schema is strict enough to catch drift: an unknown top-level field, a wrong type
    // or a bad fingerprint is rejected.
    let mut bad = dry.clone();
    bad["surprise"] = serde_json::json!(1);
    assert!(!v.is_valid(&bad));
    let mut bad = dry.clone();
    bad["findings"][0]["fingerprint"] = serde_json::json!("XYZ");
    assert!(!v.is_valid(&bad));
    let mut bad = dry.clone();
    bad["findings"][0]["evidence"]["count"] = serde_json::json!("three");
    assert!(!v.is_valid(&bad));
    // A skipped run carries no analysis; a run that was not skipped always does.
    let mut bad = skipped.clone();
    bad["findings"] = dry["findings"].clone();
    assert!(!v.is_valid(&bad));
    let mut bad = dry.clone();
    bad["metrics"] = serde_json::Value::Null;
    assert!(!v.is_valid(&bad));
}

#[test]
fn text_summary_names_findings_and_actions() {
    let dir = scenario_dir();
    let text = run_ok(dir.path(), NOW, &[]);
    assert!(text.contains(&format!("Findings ({FINDINGS})")), "{text}");
    assert!(text.contains("file_hotspot"), "{text}");
    assert!(
        text.contains("`src/hot.rs` reworked: 24 lines rewritten by 3 later commits in 24h"),
        "{text}"
    );
    assert!(text.contains("→ "), "{text}");
    assert!(
        text.contains("warning: 2 lines of .codex/toolcalls.ndjson could not be read"),
        "{text}"
    );
    assert!(!text.contains('\x1b'));
    // NO_COLOR is honoured too (stdout is a pipe here, so this checks the flag path).
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_codex-analyzer"))
        .args(["run", "--repo", dir.path().to_str().unwrap(), "--now", NOW])
        .env("NO_COLOR", "1")
        .env_remove("CODEX_TOOLCALLS_LOG")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stdout).contains('\x1b'));
}

#[test]
fn colour_only_on_a_terminal_and_never_with_no_color() {
    // `script` (util-linux) gives the analyzer a pseudo-terminal as stdout.
    let dir = scenario_dir();
    let cmd = format!(
        "{} run --repo {} --now {NOW}",
        env!("CARGO_BIN_EXE_codex-analyzer"),
        dir.path().display()
    );
    let tty = |no_color: bool| {
        let mut c = std::process::Command::new("script");
        c.args(["-qec", &cmd, "/dev/null"])
            .env_remove("CODEX_TOOLCALLS_LOG");
        if no_color {
            c.env("NO_COLOR", "1");
        } else {
            c.env_remove("NO_COLOR");
        }
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // Colour = SGR sequences (`ESC [ ... m`); progress bars may also move the cursor on a
    // terminal, which is not colour.
    let sgr = regex::Regex::new("\x1b\\[[0-9;]*m").unwrap();
    let coloured = tty(false);
    assert!(sgr.is_match(&coloured), "{coloured:?}");
    assert!(
        coloured.contains("\x1b[1;31m") || coloured.contains("\x1b[33m"),
        "{coloured:?}"
    );
    let plain = tty(true);
    assert!(
        !sgr.is_match(&plain),
        "NO_COLOR must disable colour: {plain:?}"
    );
    assert!(
        plain.contains(&format!("Findings ({FINDINGS})")),
        "{plain:?}"
    );
}
