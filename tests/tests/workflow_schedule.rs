//! The scheduled workflow: its two crons map to the AM and the PM run ID every day of the year,
//! it triggers on schedule and manual dispatch only, and it runs the analyzer with `--apply`.
//!
//! The YAML is read line by line (the file is ours and simple) rather than with a YAML crate:
//! the checks need a handful of keys, not a parser dependency.

use std::path::PathBuf;

use chrono::{NaiveDate, TimeZone, Timelike, Utc};
use chrono_tz::America::Phoenix;
use codex_contract::runid::run_id;

fn workflow() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(".github/workflows/codex-improvement.yml");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// The lines of the block under a top-level `key:`, without comments and blank lines.
fn block(yaml: &str, key: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in yaml.lines() {
        let code = line.split(" #").next().unwrap_or("").trim_end();
        if code.trim().is_empty() || code.trim_start().starts_with('#') {
            continue;
        }
        let top_level = !code.starts_with(' ');
        if top_level {
            inside = code == format!("{key}:");
            continue;
        }
        if inside {
            out.push(code.to_string());
        }
    }
    out
}

/// The keys directly under a top-level block (the least-indented lines).
fn child_keys(lines: &[String]) -> Vec<String> {
    let indent = lines
        .iter()
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    lines
        .iter()
        .filter(|l| l.len() - l.trim_start().len() == indent)
        .filter_map(|l| l.trim().split(':').next().map(str::to_string))
        .collect()
}

fn crons(yaml: &str) -> Vec<String> {
    block(yaml, "on")
        .iter()
        .filter_map(|l| l.trim().strip_prefix("- cron:"))
        .map(|c| c.trim().trim_matches(|q| q == '"' || q == '\'').to_string())
        .collect()
}

/// `M H * * *` → (hour, minute); anything else (not daily) fails the test.
fn daily(cron: &str) -> (u32, u32) {
    let f: Vec<&str> = cron.split_whitespace().collect();
    assert_eq!(f.len(), 5, "{cron}");
    assert_eq!(&f[2..], ["*", "*", "*"], "{cron} must run every day");
    (f[1].parse().unwrap(), f[0].parse().unwrap())
}

#[test]
fn both_schedules_map_to_the_am_and_pm_run_ids_all_year() {
    let yaml = workflow();
    let crons = crons(&yaml);
    assert_eq!(crons, vec!["10 13 * * *", "10 22 * * *"]);
    // Every day of 2026 and 2027 (Phoenix has no DST, but the US switches around it).
    let mut day = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let end = NaiveDate::from_ymd_opt(2028, 1, 1).unwrap();
    while day < end {
        let mut halves = Vec::new();
        for cron in &crons {
            let (h, m) = daily(cron);
            let utc = Utc.from_utc_datetime(&day.and_hms_opt(h, m, 0).unwrap());
            let local = utc.with_timezone(&Phoenix);
            let id = run_id(utc);
            let local_date = local.date_naive().format("%Y-%m-%d").to_string();
            match (local.hour(), local.minute()) {
                (6, 10) => assert_eq!(id, format!("{local_date}-AM"), "{cron} on {day}"),
                (15, 10) => assert_eq!(id, format!("{local_date}-PM"), "{cron} on {day}"),
                other => panic!("{cron} on {day} runs at {other:?} Phoenix time"),
            }
            halves.push(id);
        }
        halves.sort();
        assert_eq!(
            halves,
            vec![
                format!("{}-AM", day.format("%Y-%m-%d")),
                format!("{}-PM", day.format("%Y-%m-%d"))
            ],
            "one AM and one PM run ID on {day}"
        );
        day = day.succ_opt().unwrap();
    }
}

#[test]
fn triggers_permissions_and_steps_are_as_designed() {
    let yaml = workflow();
    assert_eq!(
        child_keys(&block(&yaml, "on")),
        vec!["schedule", "workflow_dispatch"],
        "schedule and manual dispatch only: no push or pull_request triggers"
    );
    let concurrency = block(&yaml, "concurrency");
    assert!(concurrency.iter().any(|l| l.trim().starts_with("group:")));
    let mut perms: Vec<String> = block(&yaml, "permissions")
        .iter()
        .map(|l| l.trim().to_string())
        .collect();
    perms.sort();
    assert_eq!(
        perms,
        vec![
            "actions: read",
            "contents: write",
            "issues: write",
            "pull-requests: write"
        ]
    );
    let jobs = block(&yaml, "jobs").join("\n");
    assert!(
        jobs.contains("fetch-depth: 0"),
        "full history for the git signals"
    );
    assert!(jobs.contains("codex-analyzer run --repo . --apply"));
    assert!(jobs.contains("GITHUB_TOKEN:"));
}

#[test]
fn the_semantic_layer_gets_its_key_from_an_optional_secret_only() {
    let yaml = workflow();
    let jobs = block(&yaml, "jobs").join("\n");
    assert!(
        jobs.contains("OPENAI_API_KEY: ${{ secrets.OPENAI_API_KEY }}"),
        "the key comes from the optional OPENAI_API_KEY secret"
    );
    // Never a literal key, never a forced layer: `[semantic] enabled` in the repo decides.
    assert!(!yaml.contains("sk-"), "no literal key in the workflow");
    assert!(!jobs.contains("--semantic"));
    assert!(
        jobs.contains("path: .codex/semantic-cache.json"),
        "the semantic cache survives between runs"
    );
}
