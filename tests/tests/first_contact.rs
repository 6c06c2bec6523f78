//! What a newcomer meets first, with the real binaries: an empty window that says where the
//! data is, a report whose default period shows the data, `--repo` given a subdirectory,
//! and the shim outside a git repository.

use std::path::Path;
use std::process::{Command, Output};

use e2e::bins::{analyzer, git_repo, shim};

/// A repository whose log holds 3 failing `cargo test` calls, 10 days before `now`.
const OLD: &str = "2026-11-22T01:14:53.526Z";

fn plant_old_log(repo: &Path) {
    let dir = repo.join(".codex");
    std::fs::create_dir_all(&dir).unwrap();
    let mut text = String::new();
    for i in 0..3 {
        text.push_str(&format!(
            "{{\"v\":1,\"ts\":\"2026-11-22T01:1{i}:00.000Z\",\"source\":\"exec\",\"phase\":\"post\",\"session_id\":\"s1\",\"call_id\":\"c{i}\",\"tool\":\"exec\",\"input\":\"cargo test\",\"exit_code\":101,\"status\":\"failed\"}}\n"
        ));
    }
    text.push_str(&format!(
        "{{\"v\":1,\"ts\":\"{OLD}\",\"source\":\"exec\",\"phase\":\"post\",\"session_id\":\"s1\",\"call_id\":\"c9\",\"tool\":\"exec\",\"input\":\"true\",\"exit_code\":0,\"status\":\"ok\"}}\n"
    ));
    std::fs::write(dir.join("toolcalls.ndjson"), text).unwrap();
}

fn run_in(dir: &Path, bin: &Path, args: &[&str]) -> Output {
    Command::new(bin)
        .args(args)
        .current_dir(dir)
        .env_remove("CODEX_TOOLCALLS_LOG")
        .env_remove("GITHUB_TOKEN")
        .env_remove("GITHUB_REPOSITORY")
        .output()
        .unwrap()
}

#[test]
fn an_empty_window_names_the_newest_record_and_the_flag_that_includes_it() {
    let repo = git_repo();
    plant_old_log(repo.path());
    let o = run_in(
        repo.path(),
        &analyzer(),
        &["run", "--now", "2026-12-02T13:10:00Z"],
    );
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let line = text
        .lines()
        .find(|l| l.contains("no records in the 24h ending 2026-12-02T13:10:00Z"))
        .unwrap_or_else(|| panic!("no empty-window line:\n{text}"));
    assert!(
        line.contains(".codex/toolcalls.ndjson has 4 records")
            && line.contains(&format!("the newest is from {OLD}"))
            && line.contains("pass --now 2026-11-22T01:15:00Z"),
        "{line}"
    );
    // The suggested --now does include it.
    let o = run_in(
        repo.path(),
        &analyzer(),
        &["run", "--now", "2026-11-22T01:15:00Z"],
    );
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(!text.contains("no records in the"), "{text}");
    assert!(text.contains("4 calls in 1 session,"), "{text}");
}

#[test]
fn the_default_report_reaches_back_to_the_data_and_says_so() {
    let repo = git_repo();
    plant_old_log(repo.path());
    let out = repo.path().join("r.html");
    let o = run_in(
        repo.path(),
        &analyzer(),
        &["report", "--out", out.to_str().unwrap()],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains(
            "codex-analyzer report: note: the last 7d hold no records; the newest is from"
        ) && err.contains(OLD),
        "{err}"
    );
    let html = std::fs::read_to_string(&out).unwrap();
    // The three failures are in the page: the window reached them.
    assert!(html.contains("cargo test"), "the data is in the report");
    assert!(
        html.contains("the last 7d hold no records"),
        "and the page says why"
    );

    // An explicit window is kept as asked, and its emptiness is said in one line.
    let o = run_in(
        repo.path(),
        &analyzer(),
        &["report", "--out", out.to_str().unwrap(), "--window", "24h"],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("note: no records in the 24h ending")
            && err.contains("pass --now 2026-11-22T01:15:00Z"),
        "{err}"
    );
}

#[test]
fn repo_given_a_subdirectory_is_the_top_level_everywhere() {
    let repo = git_repo();
    plant_old_log(repo.path());
    let sub = repo.path().join("src/deep");
    std::fs::create_dir_all(&sub).unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let args = [
        "run",
        "--repo",
        sub.to_str().unwrap(),
        "--now",
        "2026-11-22T01:15:00Z",
        "--apply",
    ];
    let o = run_in(elsewhere.path(), &analyzer(), &args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(repo.path().join(".codex/improvement-state.json").exists());
    assert!(
        !sub.join(".codex").exists(),
        "nothing written in the subdirectory"
    );
    // The applied run is recognised from the subdirectory too.
    let o = run_in(elsewhere.path(), &analyzer(), &args);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("already processed"), "{text}");
    assert!(
        text.contains("(skipped: nothing is written)"),
        "a skipped --apply run is not headed applied: {text}"
    );
}

#[test]
fn warnings_print_paths_the_user_can_paste() {
    let repo = git_repo();
    let elsewhere = tempfile::tempdir().unwrap();
    let o = run_in(
        elsewhere.path(),
        &analyzer(),
        &["run", "--repo", repo.path().to_str().unwrap()],
    );
    let text = String::from_utf8_lossy(&o.stdout);
    let want = repo.path().join(".codex/toolcalls.ndjson");
    assert!(
        text.contains(&format!("no tool-call log at {} yet", want.display())),
        "an absolute path outside the cwd: {text}"
    );
    assert_eq!(
        text.matches("publishing is off (no GITHUB_TOKEN)").count(),
        1,
        "publishing off is said once: {text}"
    );
    assert!(!text.contains("kept pending"), "{text}");
}

#[test]
fn outside_a_git_repository_exec_says_where_the_log_goes_and_install_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let o = run_in(
        dir.path(),
        &shim(),
        &["exec", "--", "sh", "-c", "echo hi; exit 4"],
    );
    assert_eq!(o.status.code(), Some(4), "the command's exit code");
    assert_eq!(o.stdout, b"hi\n", "stdout passes through");
    let err = String::from_utf8_lossy(&o.stderr);
    let log = dir.path().join(".codex/toolcalls.ndjson");
    assert!(
        err.contains("is not inside a git repository: recording to")
            && err.contains(&log.display().to_string()),
        "{err}"
    );
    assert!(log.exists());
    // Only the first time: the folder exists now.
    let o = run_in(dir.path(), &shim(), &["exec", "--", "true"]);
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    let other = tempfile::tempdir().unwrap();
    let o = run_in(other.path(), &shim(), &["install"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("is not inside a git repository") && err.contains("--user"),
        "{err}"
    );
    assert!(!other.path().join(".codex").exists(), "nothing created");
}

#[test]
fn install_offers_the_gitignore_lines_and_writes_them_with_a_flag() {
    let repo = git_repo();
    let o = run_in(repo.path(), &shim(), &["install"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success());
    for l in [
        ".codex/*.lock",
        ".codex/*.tmp*",
        ".codex/.rollout-offsets.json",
    ] {
        assert!(text.contains(&format!("    {l}\n")), "{l}: {text}");
    }
    assert!(!repo.path().join(".gitignore").exists(), "only printed");
    let o = run_in(repo.path(), &shim(), &["install", "--gitignore"]);
    assert!(o.status.success());
    let gi = std::fs::read_to_string(repo.path().join(".gitignore")).unwrap();
    assert!(
        gi.contains(".codex/*.lock\n.codex/*.tmp*\n.codex/.rollout-offsets.json\n"),
        "{gi}"
    );
    // Idempotent, and no longer offered.
    let o = run_in(repo.path(), &shim(), &["install", "--gitignore"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        std::fs::read_to_string(repo.path().join(".gitignore")).unwrap(),
        gi
    );
    assert!(!text.contains(".gitignore"), "{text}");
    // git ignores a lock file next to the log.
    std::fs::write(repo.path().join(".codex/improvement-state.json.lock"), "").unwrap();
    let st = Command::new("git")
        .args(["status", "--porcelain", "--ignored"])
        .current_dir(repo.path())
        .output()
        .unwrap();
    let st = String::from_utf8_lossy(&st.stdout);
    assert!(st.contains("!! .codex/improvement-state.json.lock"), "{st}");
}
