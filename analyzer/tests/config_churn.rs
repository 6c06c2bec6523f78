//! `config_churn` on real git repositories (built with the git CLI at planted times): real
//! instability fires and says which keys flipped between which values in which commits;
//! releases, dependency updates, lockfiles and reformatting do not; one cause across many
//! files is one finding with a stable subject.

mod common;

use std::path::Path;

use chrono::Duration;
use codex_analyzer::collect::git::{collect, GitActivity, GitOptions, GitWindow};
use codex_analyzer::config::Config;
use codex_analyzer::config::{ChurnLevel, ConfigChurn};
use codex_analyzer::finding::{Finding, RuleId};
use codex_contract::fingerprint::fingerprint;
use codex_contract::state::State;
use common::{before, commit_file, git, git_findings, now};

fn init(repo: &Path, files: &[(String, String)]) {
    git(repo, &["init", "-q"], None, "alice");
    write_all(repo, files);
    git(repo, &["add", "-A"], None, "alice");
    git(
        repo,
        &["commit", "-q", "-m", "initial"],
        Some(before(72.0)),
        "alice",
    );
}

fn write_all(repo: &Path, files: &[(String, String)]) {
    for (rel, content) in files {
        let p = repo.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }
}

/// Writes every file and commits them in one commit `hours` before now.
fn commit_all(repo: &Path, files: &[(String, String)], hours: f64, msg: &str) -> String {
    write_all(repo, files);
    git(repo, &["add", "-A"], None, "bob");
    git(
        repo,
        &["commit", "-q", "-m", msg],
        Some(before(hours)),
        "bob",
    );
    head(repo)
}

fn head(repo: &Path) -> String {
    let out = std::process::Command::new("git")
        .current_dir(repo)
        .args(["rev-parse", "HEAD"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn revert(repo: &Path, sha: &str, hours: f64) -> String {
    git(
        repo,
        &["revert", "--no-edit", sha],
        Some(before(hours)),
        "carol",
    );
    head(repo)
}

/// The 24h rollup's git activity, with the rule's lockfile globs (as `run` passes them).
fn activity_with(repo: &Path, rule: &ConfigChurn) -> GitActivity {
    let window = GitWindow::ending_at(now(), Duration::hours(24));
    let mut opts = GitOptions::new(window);
    opts.lockfile_globs = rule.lockfiles.clone();
    collect(repo, &opts).unwrap()
}

fn activity(repo: &Path) -> GitActivity {
    activity_with(repo, &ConfigChurn::default())
}

fn findings_with(repo: &Path, rule: &ConfigChurn) -> Vec<Finding> {
    codex_analyzer::config_churn::findings(&activity_with(repo, rule), rule, "24h", 3)
}

fn findings(repo: &Path) -> Vec<Finding> {
    findings_with(repo, &ConfigChurn::default())
}

fn short(sha: &str) -> &str {
    &sha[..12]
}

/// `n` crate manifests (plus the workspace root) with `version` and `edition`, and a lockfile.
fn workspace(n: usize, version: &str, edition: &str) -> Vec<(String, String)> {
    let mut files = vec![(
        "Cargo.toml".to_string(),
        "[workspace]\nmembers = [\"crates/*\"]\nresolver = \"2\"\n".to_string(),
    )];
    let mut lock = String::from("version = 4\n");
    for i in 0..n {
        files.push((
            format!("crates/c{i:02}/Cargo.toml"),
            format!(
                "[package]\nname = \"c{i:02}\"\nversion = \"{version}\"\nedition = \"{edition}\"\n\n[dependencies]\nserde = \"1.0.100\"\n"
            ),
        ));
        lock.push_str(&format!(
            "\n[[package]]\nname = \"c{i:02}\"\nversion = \"{version}\"\n"
        ));
    }
    files.push(("Cargo.lock".to_string(), lock));
    files
}

#[test]
fn a_toolchain_pin_then_reverted_fires_and_names_key_values_commits() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    init(
        repo,
        &[(
            "rust-toolchain.toml".into(),
            "[toolchain]\nchannel = \"1.80\"\ncomponents = [\"clippy\"]\n".into(),
        )],
    );
    commit_file(
        repo,
        "rust-toolchain.toml",
        "[toolchain]\nchannel = \"1.81\"\ncomponents = [\"clippy\"]\n",
        before(10.0),
        "bob",
        "pin 1.81",
    );
    let pin = head(repo);
    let undo = revert(repo, &pin, 4.0);

    let found = findings(repo);
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!(f.subject, "rust-toolchain.toml: toolchain.channel");
    assert_eq!(
        f.fingerprint,
        fingerprint("config_churn", "rust-toolchain.toml: toolchain.channel")
    );
    assert!(f.title.contains("`rust-toolchain.toml`"), "{}", f.title);
    assert!(
        f.title.contains("flipped 1.80 → 1.81 → 1.80"),
        "{}",
        f.title
    );
    assert!(
        f.title.contains(&format!("{} 'pin 1.81'", short(&pin))),
        "{}",
        f.title
    );
    assert!(
        f.title.contains(&format!("{} 'Revert", short(&undo))),
        "{}",
        f.title
    );
    assert_eq!(f.severity.as_str(), "medium");
    assert_eq!(f.evidence.count, 2);
    assert!(f
        .evidence
        .samples
        .contains(&"toolchain.channel: 1.80 → 1.81 → 1.80".to_string()));
    assert!(f
        .evidence
        .refs
        .contains(&format!("revert {}", short(&undo))));
    assert!(f.evidence.refs.contains(&"rust-toolchain.toml".to_string()));

    // Flips switched off, reverts switched off: nothing left to report.
    let quiet = ConfigChurn {
        on_flip: false,
        on_revert: false,
        ..ConfigChurn::default()
    };
    assert!(findings_with(repo, &quiet).is_empty());
}

#[test]
fn a_workflow_step_dropped_then_restored_fires() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    let with_lint = "on: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - name: Lint\n        run: cargo clippy -- -D warnings\n      - name: Test\n        run: cargo test\n";
    init(
        repo,
        &[(".github/workflows/ci.yml".into(), with_lint.into())],
    );
    commit_file(
        repo,
        ".github/workflows/ci.yml",
        "on: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - name: Test\n        run: cargo test\n",
        before(12.0),
        "bob",
        "ci: drop lint, too slow",
    );
    let drop = head(repo);
    // Restored by hand, formatted differently (flow style, quotes): the same step.
    commit_file(
        repo,
        ".github/workflows/ci.yml",
        "on: [push]\njobs:\n  test:\n    runs-on: \"ubuntu-latest\"\n    steps:\n      - uses: actions/checkout@v4\n      - { name: Lint, run: \"cargo clippy -- -D warnings\" }\n      - name: Test\n        run: cargo test\n",
        before(3.0),
        "carol",
        "ci: lint is back",
    );
    let back = head(repo);

    let found = findings(repo);
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!(f.subject, ".github/workflows/ci.yml: jobs.test.steps[Lint]");
    assert!(f.title.contains("flipped"), "{}", f.title);
    assert!(f.title.contains(short(&drop)) && f.title.contains(short(&back)));
    assert!(f
        .evidence
        .samples
        .iter()
        .any(|s| s == "jobs.test.steps[Lint].run: cargo clippy -- -D warnings → (absent) → cargo clippy -- -D warnings"),
        "{:#?}", f.evidence.samples);
}

/// A repository whose `package.json` requires node 18 (with `files` beside it), then node 20
/// in a commit 30 hours ago, before the 24h window; returns that commit.
fn node_20_before_the_window(repo: &Path, files: &[(String, String)]) -> String {
    let mut all = vec![(
        "package.json".to_string(),
        "{\"name\": \"x\", \"engines\": {\"node\": \">=18\"}}\n".to_string(),
    )];
    all.extend_from_slice(files);
    init(repo, &all);
    commit_file(
        repo,
        "package.json",
        "{\"name\": \"x\", \"engines\": {\"node\": \">=20\"}}\n",
        before(30.0),
        "bob",
        "require node 20",
    );
    head(repo)
}

#[test]
fn a_revert_of_a_config_change_fires() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    let change = node_20_before_the_window(repo, &[]);
    let undo = revert(repo, &change, 2.0);

    let found = findings(repo);
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!(f.subject, "package.json: engines.node");
    assert!(
        f.title.contains("changed and reverted (>=20 → >=18)"),
        "{}",
        f.title
    );
    assert_eq!(
        f.evidence.refs,
        [
            "package.json".to_string(),
            format!("revert {}", short(&undo))
        ]
    );
}

/// The revert rule reports the revert and the config rule the setting it undid: one story,
/// so triage keeps one finding with the other in its evidence, not two tickets. A revert of
/// another change in the same window stays its own finding.
#[test]
fn a_reverted_config_change_and_its_revert_are_one_finding_after_triage() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    let change =
        node_20_before_the_window(repo, &[("src/a.js".into(), "export const a = 1;\n".into())]);
    commit_file(
        repo,
        "src/a.js",
        "export const a = 2;\n",
        before(20.0),
        "bob",
        "a is 2",
    );
    let other = head(repo);
    let undo = revert(repo, &change, 2.0);
    revert(repo, &other, 1.0);

    let activity = activity(repo);
    let mut found = git_findings(&activity, &Config::default());
    let rules_of = |v: &[Finding]| {
        let mut r: Vec<RuleId> = v.iter().map(|f| f.rule).collect();
        r.sort();
        r
    };
    // Before triage: two reverts and the config churn the first one undid.
    assert_eq!(
        rules_of(&found),
        [RuleId::ConfigChurn, RuleId::Revert, RuleId::Revert],
        "{found:#?}"
    );
    codex_analyzer::finding::sort(&mut found);
    codex_analyzer::triage::apply(&mut found, &State::default(), "2026-01-02-AM", 3);
    assert_eq!(
        rules_of(&found),
        [RuleId::Revert, RuleId::Revert],
        "{found:#?}"
    );
    let story = found
        .iter()
        .find(|f| {
            f.evidence
                .refs
                .contains(&format!("revert {}", short(&undo)))
        })
        .expect("the revert of the config change");
    assert!(
        story
            .evidence
            .samples
            .iter()
            .any(|s| s.starts_with("also config_churn") && s.contains("engines.node")),
        "{:#?}",
        story.evidence.samples
    );
}

#[test]
fn a_release_bumping_80_manifests_and_the_lockfile_is_no_finding() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    init(repo, &workspace(80, "0.1.0", "2021"));
    // Three releases in a day, each touching 80 manifests and Cargo.lock.
    commit_all(repo, &workspace(80, "0.2.0", "2021"), 20.0, "release 0.2.0");
    commit_all(repo, &workspace(80, "0.3.0", "2021"), 10.0, "release 0.3.0");
    commit_all(repo, &workspace(80, "0.3.1", "2021"), 2.0, "release 0.3.1");

    let git = activity(repo);
    let lock = git
        .config_changes
        .iter()
        .find(|c| c.path == "Cargo.lock")
        .unwrap();
    assert!(lock.lockfile && lock.keys.is_empty());
    let manifest = git
        .config_changes
        .iter()
        .find(|c| c.path == "crates/c00/Cargo.toml")
        .unwrap();
    let keys: Vec<_> = manifest.keys.iter().map(|k| k.key.as_str()).collect();
    assert_eq!(keys, ["package.version"]);
    assert!(manifest.keys[0].changes.iter().all(|c| c.version_bump));

    let found = findings(repo);
    assert!(found.is_empty(), "{found:#?}");

    // The first releases' file-level meaning is still expressible, and shows the noise.
    let old = ConfigChurn {
        level: ChurnLevel::File,
        min_changes: 2,
        lockfiles: Vec::new(),
        ..ConfigChurn::default()
    };
    assert_eq!(findings_with(repo, &old).len(), 81);
}

#[test]
fn a_dependency_update_with_its_lockfile_is_no_finding() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    init(repo, &workspace(3, "0.1.0", "2021"));
    // A dependency added, then updated twice, each with the lockfile.
    let mut files = workspace(3, "0.1.0", "2021");
    files[1].1.push_str("anyhow = \"1.0.80\"\n");
    let lock = files.len() - 1;
    files[lock]
        .1
        .push_str("\n[[package]]\nname = \"anyhow\"\nversion = \"1.0.80\"\n");
    commit_all(repo, &files, 9.0, "add anyhow");
    for (h, v) in [(6.0, "1.0.81"), (3.0, "1.0.86")] {
        let mut files = workspace(3, "0.1.0", "2021");
        files[1].1.push_str(&format!("anyhow = \"{v}\"\n"));
        let lock = files.len() - 1;
        files[lock].1.push_str(&format!(
            "\n[[package]]\nname = \"anyhow\"\nversion = \"{v}\"\n"
        ));
        commit_all(repo, &files, h, &format!("update anyhow to {v}"));
    }
    let found = findings(repo);
    assert!(found.is_empty(), "{found:#?}");
    // Counting version bumps makes the three changes of the dependency a repeat.
    let counted = ConfigChurn {
        count_version_bumps: true,
        ..ConfigChurn::default()
    };
    let found = findings_with(repo, &counted);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(
        found[0].subject,
        "crates/c00/Cargo.toml: dependencies.anyhow"
    );
}

#[test]
fn a_setting_changed_in_80_manifests_and_back_is_one_finding() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    init(repo, &workspace(80, "0.1.0", "2021"));
    let flip = commit_all(repo, &workspace(80, "0.1.0", "2024"), 12.0, "edition 2024");
    let undo = revert(repo, &flip, 5.0);

    let found = findings(repo);
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = &found[0];
    assert_eq!(f.subject, "**/Cargo.toml: package.edition");
    assert!(f.title.contains("80 files"), "{}", f.title);
    assert!(
        f.title.contains("flipped 2021 → 2024 → 2021"),
        "{}",
        f.title
    );
    assert!(f.title.contains(short(&flip)) && f.title.contains(short(&undo)));
    // Files capped with a count, then the commits.
    assert_eq!(f.evidence.refs.len(), 10 + 1 + 2, "{:?}", f.evidence.refs);
    assert_eq!(f.evidence.refs[10], "… and 70 more files");
    assert_eq!(f.evidence.refs[12], format!("revert {}", short(&undo)));

    // A later run that still sees the flip, with more unrelated commits: same fingerprint.
    commit_file(
        repo,
        "src/lib.rs",
        "pub fn a() {}\n",
        before(1.0),
        "bob",
        "code",
    );
    let again = findings(repo);
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].fingerprint, f.fingerprint);
}

#[test]
fn a_reformatted_json_file_is_no_finding() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    init(
        repo,
        &[(
            "tsconfig.json".into(),
            "{\"compilerOptions\": {\"strict\": true, \"target\": \"es2022\"}, \"include\": [\"src\"]}\n"
                .into(),
        )],
    );
    for (h, text) in [
        (10.0, "{\n  \"compilerOptions\": {\n    \"strict\": true,\n    \"target\": \"es2022\"\n  },\n  \"include\": [\"src\"]\n}\n"),
        (6.0, "{\n    \"include\": [ \"src\" ],\n    \"compilerOptions\": { \"target\": \"es2022\", \"strict\": true }\n}\n"),
        (2.0, "{\"include\":[\"src\"],\"compilerOptions\":{\"strict\":true,\"target\":\"es2022\"}}"),
    ] {
        commit_file(repo, "tsconfig.json", text, before(h), "bob", "format");
    }
    let git = activity(repo);
    let ts = &git.config_changes[0];
    assert_eq!((ts.path.as_str(), ts.commits), ("tsconfig.json", 3));
    assert!(ts.keys.is_empty(), "{:?}", ts.keys);
    assert!(findings(repo).is_empty());
}
