//! The ticket budget and one-file-one-rule, end to end: the real analyzer binary on a real git
//! repository with more findings than the budget, publishing to the local GitHub double.
//!
//! What must hold: a dry run shows the split an apply then makes; the apply opens exactly
//! `max_new_tickets` tickets, for the highest-impact findings, and lists every other finding
//! on the rolling issue's watch list with its evidence, in the JSON (`ticketing`) and in the
//! run log; a forced rerun of the same run ID opens nothing; the next run refreshes the
//! existing tickets for free and gives the next held-back findings their tickets; a ticket
//! found on GitHub by its marker (the state lost) is refreshed, not duplicated; a file two
//! rules report is one finding.

use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use codex_analyzer::publish::{fingerprint_marker, ROLLING_MARKER};
use codex_contract::record::parse_ts;
use e2e::bins::{assert_output_schema, run_analyzer, stdout_ok, write_file};
use e2e::github_double::{GithubDouble, IssueView};
use serde_json::Value;

const NOW: &str = "2026-03-10T13:10:00Z";
const RUN: &str = "2026-03-10-AM";
const NEXT: &str = "2026-03-10T22:10:00Z";
const TOKEN: &str = "ghs_e2e_double_token";
const LOG: &str = ".codex/improvement-log.md";
const STATE: &str = ".codex/improvement-state.json";
const BUDGET: usize = 3;
/// Planted hotspots: file `i` is reworked `HOT_BASE - i` times in the window.
const HOT_FILES: usize = 8;
const HOT_BASE: usize = 13;

fn before(hours: f64) -> DateTime<Utc> {
    parse_ts(NOW).unwrap() - Duration::milliseconds((hours * 3_600_000.0) as i64)
}

fn git(dir: &Path, args: &[&str], when: Option<DateTime<Utc>>) {
    e2e::bins::git_at(dir, args, when, "alice");
}

/// A repository whose last 9h before [`NOW`] (so also the next run's window) hold eight files each rewritten 5-12 times
/// (existing files, every commit rewriting the line the last one wrote: rework, not growth)
/// and a `Cargo.toml` whose edition flips back and forth (config churn and a hotspot at once).
fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    git(r, &["init", "-q"], None);
    write_file(r, "README.md", "# widgets\n");
    write_file(
        r,
        "Cargo.toml",
        "[package]\nname = \"widgets\"\nedition = \"2021\"\n",
    );
    for i in 0..HOT_FILES {
        write_file(r, &format!("src/m{i}.rs"), "fn f() {}\n");
    }
    git(r, &["add", "-A"], None);
    git(r, &["commit", "-q", "-m", "initial"], Some(before(72.0)));
    let mut commit = 0;
    for round in 0..HOT_BASE {
        for i in 0..HOT_FILES {
            if round < HOT_BASE - i {
                write_file(
                    r,
                    &format!("src/m{i}.rs"),
                    &format!("fn f() {{ {round} }}\n"),
                );
            }
        }
        if round < 4 {
            let ed = if round % 2 == 0 { "2018" } else { "2021" };
            write_file(
                r,
                "Cargo.toml",
                &format!("[package]\nname = \"widgets\"\nedition = \"{ed}\"\n"),
            );
        }
        commit += 1;
        git(
            r,
            &["commit", "-q", "-am", &format!("rework round {round}")],
            Some(before(9.0 - commit as f64 * 0.5)),
        );
    }
    // Local config, not committed: the budget this test checks, quick request deadlines.
    write_file(
        r,
        ".codex/improvement.toml",
        &format!(
            "[analysis]\nmax_new_tickets = {BUDGET}\n\n[rules.file_hotspot]\nmin_commits = 4\nmin_rework_lines = 0\nmin_reworking_commits = 0\nmin_authors = 1\n\n[github]\nrequest_timeout_secs = 5\nrate_limit_wait_secs = 2\n"
        ),
    );
    dir
}

fn run(repo: &Path, d: Option<&GithubDouble>, now: &str, extra: &[&str]) -> Value {
    let r = repo.to_str().unwrap();
    let slug = d.map(|d| d.repo_full_name()).unwrap_or_default();
    let mut args = vec!["run", "--repo", r, "--now", now, "--format", "json"];
    let mut env = Vec::new();
    if let Some(d) = d {
        args.extend(["--apply", "--github-repo", &slug]);
        env = vec![("GITHUB_TOKEN", TOKEN), ("GITHUB_API_URL", d.url())];
    }
    args.extend_from_slice(extra);
    let json: Value =
        serde_json::from_str(&stdout_ok(run_analyzer(repo, &args, &env), "run")).unwrap();
    assert_output_schema(&json);
    json
}

fn findings(out: &Value) -> &Vec<Value> {
    out["findings"].as_array().unwrap()
}

/// The fingerprints with this `ticketing` decision, in finding order.
fn decided(out: &Value, what: &str) -> Vec<String> {
    findings(out)
        .iter()
        .filter(|f| f["ticketing"] == what)
        .map(|f| f["fingerprint"].as_str().unwrap().to_string())
        .collect()
}

fn tickets_for(d: &GithubDouble, fp: &str) -> Vec<IssueView> {
    let m = fingerprint_marker(fp);
    d.issues()
        .into_iter()
        .filter(|i| !i.is_pull && i.body.as_deref().is_some_and(|b| b.contains(&m)))
        .collect()
}

fn ticket_count(d: &GithubDouble) -> usize {
    d.issues()
        .iter()
        .filter(|i| {
            !i.is_pull
                && i.body
                    .as_deref()
                    .is_some_and(|b| b.contains("fingerprint="))
        })
        .count()
}

fn rolling_body(d: &GithubDouble) -> String {
    let r: Vec<IssueView> = d
        .issues()
        .into_iter()
        .filter(|i| {
            i.body
                .as_deref()
                .is_some_and(|b| b.contains(ROLLING_MARKER))
        })
        .collect();
    assert_eq!(r.len(), 1, "one rolling issue");
    r[0].body.clone().unwrap()
}

/// The watch list part of the rolling issue body.
fn watch_list(body: &str) -> &str {
    let start = body.find("## Watch list").expect("a watch list section");
    let rest = &body[start..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 3);
    &rest[..end]
}

#[test]
fn the_budget_opens_the_highest_impact_tickets_and_watches_the_rest() {
    let d = GithubDouble::start();
    let dir = repo();
    let r = dir.path();

    // A dry run (no token) shows the split the apply makes, in JSON and in the terminal.
    let dry = run(r, None, NOW, &[]);
    let all: Vec<String> = findings(&dry)
        .iter()
        .map(|f| f["fingerprint"].as_str().unwrap().to_string())
        .collect();
    assert!(
        all.len() >= HOT_FILES,
        "more findings than the budget: {all:?}"
    );
    let new = decided(&dry, "new");
    let held = decided(&dry, "held_back");
    // The budget goes to the first findings in impact order; everything else is held back.
    assert_eq!(new, all[..BUDGET].to_vec());
    assert_eq!(held, all[BUDGET..].to_vec());
    let text = stdout_ok(
        run_analyzer(
            r,
            &["run", "--repo", r.to_str().unwrap(), "--now", NOW],
            &[],
        ),
        "dry run text",
    );
    assert!(
        text.contains(&format!(
            "tickets {BUDGET} new, 0 existing, {} held back",
            held.len()
        )),
        "{text}"
    );
    assert_eq!(text.matches("· held back").count(), held.len(), "{text}");

    // One story, one finding: Cargo.toml is config churn and a hotspot, reported once, the other
    // rule's facts in its evidence.
    let cargo: Vec<&Value> = findings(&dry)
        .iter()
        .filter(|f| {
            let s = f["subject"].as_str().unwrap();
            s == "Cargo.toml" || s.starts_with("Cargo.toml: ")
        })
        .collect();
    assert_eq!(cargo.len(), 1, "{cargo:#?}");
    let samples = cargo[0]["evidence"]["samples"].to_string();
    assert!(samples.contains("also "), "{samples}");

    // Impact order: within one rule and severity, the more reworked file ranks first.
    let hot: Vec<&Value> = findings(&dry)
        .iter()
        .filter(|f| f["rule"] == "file_hotspot")
        .collect();
    assert!(hot.len() >= HOT_FILES - 1, "{hot:#?}");
    for pair in hot.windows(2) {
        if pair[0]["severity"] == pair[1]["severity"] {
            let c = |f: &Value| f["evidence"]["count"].as_u64().unwrap();
            assert!(c(pair[0]) >= c(pair[1]), "{pair:#?}");
        }
    }

    // The apply: exactly BUDGET tickets, for exactly the findings the dry run named.
    let out = run(r, Some(&d), NOW, &[]);
    assert_eq!(out["run_id"], RUN);
    assert_eq!(decided(&out, "new"), new);
    assert_eq!(decided(&out, "held_back"), held);
    assert_eq!(ticket_count(&d), BUDGET);
    for fp in &new {
        assert_eq!(tickets_for(&d, fp).len(), 1, "{fp}");
    }
    for fp in &held {
        assert!(tickets_for(&d, fp).is_empty(), "{fp} was held back");
    }
    let st: Value = serde_json::from_str(&std::fs::read_to_string(r.join(STATE)).unwrap()).unwrap();
    assert_eq!(
        st["pending"],
        serde_json::json!([]),
        "held back is not pending"
    );
    let created = out["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["kind"] == "ticket" && t["action"] == "created")
        .count();
    assert_eq!(created, BUDGET, "{:#}", out["tickets"]);
    let summary = out["github"]["publish"]["summary"].as_str().unwrap();
    assert!(
        summary.contains(&format!("{} held back", held.len())),
        "{summary}"
    );

    // The rolling issue lists every held-back finding under the watch list, with evidence.
    let body = rolling_body(&d);
    let watch = watch_list(&body);
    for f in findings(&out)
        .iter()
        .filter(|f| f["ticketing"] == "held_back")
    {
        let fp = f["fingerprint"].as_str().unwrap();
        assert!(watch.contains(fp), "{fp} not on the watch list:\n{watch}");
        let figure = format!(
            "{} in the last {}",
            f["evidence"]["count"],
            f["evidence"]["window"].as_str().unwrap()
        );
        assert!(watch.contains(&figure), "{figure} missing:\n{watch}");
    }
    for fp in &new {
        assert!(!watch.contains(fp.as_str()), "{fp} has a ticket:\n{watch}");
    }
    // And the run log: the budget line and the watch list.
    let log = std::fs::read_to_string(r.join(LOG)).unwrap();
    assert!(
        log.contains(&format!(
            "{BUDGET} new, 0 existing (refreshed, free), {} held back",
            held.len()
        )),
        "{log}"
    );
    for fp in &held {
        assert!(log.contains(fp.as_str()), "{fp} missing in the run log");
    }

    // A forced rerun of the same run ID: the budget is spent; nothing new, no duplicate.
    let first_watch = watch.to_string();
    let again = run(r, Some(&d), NOW, &["--force"]);
    assert_eq!(decided(&again, "new"), Vec::<String>::new());
    assert_eq!(decided(&again, "existing"), new);
    assert_eq!(ticket_count(&d), BUDGET);
    // Nothing changed, so the watch list did not either (no churn of the rolling issue).
    assert_eq!(watch_list(&rolling_body(&d)), first_watch);

    // The next run: the three tickets are refreshed for free, the next three held-back
    // findings get theirs.
    let next = run(r, Some(&d), NEXT, &[]);
    let refreshed = decided(&next, "existing");
    for fp in &new {
        assert!(refreshed.contains(fp), "{fp} refreshed");
        assert_eq!(tickets_for(&d, fp).len(), 1, "{fp} not duplicated");
    }
    let second = decided(&next, "new");
    assert_eq!(second.len(), BUDGET.min(held.len()), "{next:#}");
    for fp in &second {
        assert!(held.contains(fp), "{fp} was held back before");
        assert_eq!(tickets_for(&d, fp).len(), 1);
    }
    assert_eq!(ticket_count(&d), BUDGET + second.len());

    // The state lost: tickets are found on GitHub by their markers and refreshed (free); the
    // room goes to the next held-back findings, never to a duplicate.
    std::fs::remove_file(r.join(STATE)).unwrap();
    let lost = run(r, Some(&d), NEXT, &["--force"]);
    let before_count = BUDGET + second.len();
    let existing = decided(&lost, "existing");
    for fp in new.iter().chain(&second) {
        assert!(existing.contains(fp), "{fp} found by its marker");
        assert_eq!(tickets_for(&d, fp).len(), 1, "{fp} not duplicated");
    }
    let third = decided(&lost, "new");
    let left = all.len().saturating_sub(before_count);
    assert_eq!(third.len(), BUDGET.min(left), "{lost:#}");
    assert_eq!(ticket_count(&d), before_count + third.len());
}
