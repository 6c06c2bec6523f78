//! `export-harbor` end to end: a real git repository where `./check.sh` fails at commit A
//! and passes at commit B, a tool-call log of agents failing at A, the export, and then the
//! task checked the way Harbor would use it (schema, layout, reward contract, oracle).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{DateTime, Duration, Utc};
use codex_analyzer::cluster::{cluster, ClusterOptions};
use codex_analyzer::harbor::{self, export, run_export_cli, ExportArgs, ExportOptions};
use codex_contract::record::format_ts;
use codex_contract::redact::contains_secret;
use codex_contract::{Excerpt, Phase, Record, Source, Status};
use tempfile::TempDir;

/// A fake GitHub token planted in a failing command's output. Never real.
const FAKE_TOKEN: &str = "ghp_Zq3Xv8Lm2Nc5Rt7Wy1Ks4Hd6Jf9Gb0Pa8Ue2";

const CHECK_SH: &str = "#!/bin/sh\n\
# Passes once the service is marked ready.\n\
if [ ! -f config/ready.txt ]; then\n\
  echo \"error: config/ready.txt is missing\" >&2\n\
  exit 1\n\
fi\n\
grep -q ready config/ready.txt && echo \"all checks passed\"\n";

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-01T12:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.invalid",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn write(path: &Path, body: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, body).unwrap();
}

fn set_exec(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

struct Fixture {
    _root: TempDir,
    repo: PathBuf,
    log: PathBuf,
    out: PathBuf,
    a: String,
    b: String,
}

/// The repository (A: check fails, B: the fix) and the log of agents failing at A.
fn fixture() -> Fixture {
    let root = tempfile::tempdir().unwrap();
    let repo = root.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    git(&repo, &["init", "-q"]);
    write(&repo.join("check.sh"), CHECK_SH);
    set_exec(&repo.join("check.sh"));
    write(&repo.join("README.md"), "# demo\n");
    write(&repo.join("obsolete.txt"), "remove me\n");
    git(&repo, &["add", "."]);
    git(
        &repo,
        &["commit", "-q", "-m", "A: check needs a ready marker"],
    );
    let a = git(&repo, &["rev-parse", "HEAD"]);
    write(&repo.join("config/ready.txt"), "ready\n");
    write(&repo.join("README.md"), "# demo\n\nNow ready.\n");
    std::fs::remove_file(repo.join("obsolete.txt")).unwrap();
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "B: mark the service ready"]);
    let b = git(&repo, &["rev-parse", "HEAD"]);

    let log = root.path().join("toolcalls.ndjson");
    let cwd = repo.to_str().unwrap().to_string();
    let mut lines = Vec::new();
    let mut push = |r: Record| lines.push(serde_json::to_string(&r).unwrap());
    let failing_output =
        format!("error: config/ready.txt is missing\nhint: the deploy used token {FAKE_TOKEN}\n");
    let call = |session: &str,
                id: &str,
                secs: i64,
                input: &str,
                head: &str,
                status: Status,
                output: &str| {
        let ts = t0() + Duration::seconds(secs);
        let mut pre = Record::at(ts, Source::CodexHook, Phase::Pre);
        pre.session_id = Some(session.into());
        pre.call_id = Some(id.into());
        pre.turn_id = Some("t1".into());
        pre.tool = Some("Bash".into());
        pre.input = Some(input.into());
        pre.cwd = Some(cwd.clone());
        pre.git_head = Some(head.into());
        let mut outcome = Record::at(
            ts + Duration::milliseconds(40),
            Source::Rollout,
            Phase::Outcome,
        );
        outcome.session_id = Some(session.into());
        outcome.call_id = Some(id.into());
        outcome.status = Some(status);
        outcome.exit_code = match status {
            Status::Ok => Some(0),
            Status::Failed => Some(1),
            _ => None,
        };
        outcome.output = Some(Excerpt::new(output, 4096));
        (pre, outcome)
    };
    let mut session_start = Record::at(t0(), Source::CodexHook, Phase::Session);
    session_start.session_id = Some("s1".into());
    session_start.event = Some("session_start".into());
    push(session_start);
    for (session, id, secs, input, head, status, output) in [
        (
            "s1",
            "k1",
            10,
            "./check.sh",
            a.as_str(),
            Status::Failed,
            failing_output.as_str(),
        ),
        (
            "s1",
            "k2",
            20,
            "./check.sh",
            a.as_str(),
            Status::Failed,
            failing_output.as_str(),
        ),
        (
            "s1",
            "d1",
            30,
            "rm -rf build",
            a.as_str(),
            Status::Denied,
            "exec command rejected by user",
        ),
        (
            "s1",
            "d2",
            40,
            "rm -rf build",
            a.as_str(),
            Status::Denied,
            "exec command rejected by user",
        ),
        (
            "s2",
            "k3",
            100,
            "./check.sh",
            a.as_str(),
            Status::Failed,
            failing_output.as_str(),
        ),
        (
            "s2",
            "k4",
            500,
            "./check.sh",
            b.as_str(),
            Status::Ok,
            "all checks passed\n",
        ),
    ] {
        let (pre, outcome) = call(session, id, secs, input, head, status, output);
        push(pre);
        push(outcome);
    }
    std::fs::write(&log, lines.join("\n") + "\n").unwrap();
    let out = root.path().join("dataset");
    Fixture {
        repo,
        log,
        out,
        a,
        b,
        _root: root,
    }
}

fn args(f: &Fixture) -> ExportArgs {
    ExportArgs {
        repo: Some(f.repo.clone()),
        out: f.out.clone(),
        top: 3,
        fingerprint: None,
        log: Some(f.log.clone()),
        now: Some(t0() + Duration::days(1)),
        window: "7d".into(),
        config: None,
        semantic: false,
    }
}

/// Exports with the CLI entry point and returns the one task folder.
fn exported(f: &Fixture) -> PathBuf {
    run_export_cli(args(f)).unwrap();
    let dirs: Vec<PathBuf> = std::fs::read_dir(&f.out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(
        dirs.len(),
        1,
        "one exportable cluster, no leftovers: {dirs:?}"
    );
    dirs.into_iter().next().unwrap()
}

fn files_under(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut m = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                m.insert(
                    p.strip_prefix(root).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    m
}

fn validator() -> jsonschema::Validator {
    let schema: serde_json::Value = serde_json::from_str(harbor::TASK_SCHEMA).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

#[test]
fn task_toml_validates_against_harbor_schema_and_carries_provenance() {
    let f = fixture();
    let task = exported(&f);
    let text = std::fs::read_to_string(task.join("task.toml")).unwrap();
    let doc: serde_json::Value = toml::from_str(&text).unwrap();
    let v = validator();
    let errors: Vec<String> = v.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}\n{text}");

    // The validator bites: a wrong type is rejected.
    let mut bad = doc.clone();
    bad["verifier"]["timeout_sec"] = serde_json::json!("ten minutes");
    assert!(!v.is_valid(&bad));
    let mut bad = doc.clone();
    bad["task"].as_object_mut().unwrap().remove("name");
    assert!(!v.is_valid(&bad));

    assert_eq!(doc["schema_version"], "1.4");
    let name = doc["task"]["name"].as_str().unwrap();
    assert!(
        name.starts_with("codex-friction/check-sh-nonzero-exit-"),
        "{name}"
    );
    assert_eq!(
        task.file_name().unwrap().to_str().unwrap(),
        name.split('/').nth(1).unwrap()
    );
    let m = &doc["metadata"];
    assert_eq!(m["source_commit"], f.a.as_str());
    assert_eq!(m["fixed_at"], f.b.as_str());
    assert_eq!(m["occurrences"], 3);
    assert_eq!(m["sessions"], 2);
    assert_eq!(m["tool"], "Bash");
    assert_eq!(m["error_type"], "nonzero_exit");
    assert_eq!(m["first_seen"], "2026-03-01T12:00:10.000Z");
    assert!(m["cluster_id"].as_str().unwrap().starts_with("cl2-"));
    assert_eq!(m["fingerprint"], m["cluster_id"]);
    assert!(["easy", "medium", "hard"].contains(&m["difficulty"].as_str().unwrap()));
    assert_eq!(doc["verifier"]["timeout_sec"], 600.0);
    assert_eq!(doc["environment"]["memory_mb"], 2048);
}

#[test]
fn task_folder_has_every_file_harbor_needs() {
    let f = fixture();
    let task = exported(&f);
    for rel in [
        "task.toml",
        "instruction.md",
        "environment/Dockerfile",
        "tests/test.sh",
        "solution/solve.sh",
        "solution/fix.patch",
        "environment/repo/check.sh",
        "environment/repo/README.md",
        "environment/repo/obsolete.txt",
    ] {
        assert!(task.join(rel).is_file(), "missing {rel}");
    }
    // The snapshot is commit A's tracked files, nothing else.
    assert!(!task.join("environment/repo/config").exists());
    assert!(!task.join("environment/repo/.git").exists());
    assert_eq!(
        std::fs::read_to_string(task.join("environment/repo/check.sh")).unwrap(),
        CHECK_SH
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(task.join("environment/repo/check.sh"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(
        mode & 0o111,
        0o111,
        "the executable bit survives the snapshot"
    );

    let docker = std::fs::read_to_string(task.join("environment/Dockerfile")).unwrap();
    let instructions: Vec<&str> = docker
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect();
    assert_eq!(
        instructions,
        vec![
            "FROM debian:bookworm-slim",
            "WORKDIR /app",
            "COPY repo/ /app/"
        ]
    );
    let instruction = std::fs::read_to_string(task.join("instruction.md")).unwrap();
    assert!(instruction.starts_with("# Make `./check.sh` succeed"));
    assert!(instruction.contains("error: config/ready.txt is missing"));
    assert!(instruction.contains("3 times in 2 sessions on 2026-03-01"));
    // Three identical failures are one piece of evidence.
    assert_eq!(instruction.matches("```console").count(), 1);
    let test_sh = std::fs::read_to_string(task.join("tests/test.sh")).unwrap();
    let check_at = test_sh.find("if (check)").unwrap();
    assert!(!test_sh[..check_at]
        .lines()
        .any(|l| l.trim_start().starts_with("set -e")));
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// Runs test.sh in `work` with the reward folder mapped to a fresh temp folder; returns the
/// reward files written.
fn verify(task: &Path, work: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let rewards = tempfile::tempdir().unwrap();
    let reward_dir = rewards.path().join("verifier");
    let status = Command::new("bash")
        .arg(task.join("tests/test.sh"))
        .current_dir(work)
        .env("REWARD_DIR", &reward_dir)
        .status()
        .unwrap();
    assert!(status.code().is_some());
    files_under(&reward_dir)
}

#[test]
fn reward_is_0_before_the_fix_and_1_after_the_oracle_solution() {
    let f = fixture();
    let task = exported(&f);
    let work_root = tempfile::tempdir().unwrap();
    let work = work_root.path().join("app");
    copy_tree(&task.join("environment/repo"), &work);

    let before = verify(&task, &work);
    assert_eq!(before.len(), 1, "exactly one reward file: {before:?}");
    assert_eq!(before[Path::new("reward.txt")], b"0\n");

    let solved = Command::new("bash")
        .arg(task.join("solution/solve.sh"))
        .current_dir(&work)
        .status()
        .unwrap();
    assert!(solved.success());
    assert!(
        !work.join("obsolete.txt").exists(),
        "the fix's deletion is applied"
    );
    assert_eq!(
        std::fs::read_to_string(work.join("README.md")).unwrap(),
        "# demo\n\nNow ready.\n"
    );

    let after = verify(&task, &work);
    assert_eq!(after.len(), 1, "exactly one reward file: {after:?}");
    assert_eq!(after[Path::new("reward.txt")], b"1\n");
}

#[test]
fn fix_patch_applies_with_git_apply() {
    let f = fixture();
    let task = exported(&f);
    let work_root = tempfile::tempdir().unwrap();
    let work = work_root.path().join("app");
    copy_tree(&task.join("environment/repo"), &work);
    let out = Command::new("git")
        .args(["apply", "--check"])
        .arg(task.join("solution/fix.patch"))
        .current_dir(&work)
        .env("GIT_CEILING_DIRECTORIES", work_root.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn export_is_reproducible_and_only_replaces_its_own_tasks() {
    let f = fixture();
    let task = exported(&f);
    let first = files_under(&f.out);
    run_export_cli(args(&f)).unwrap();
    assert_eq!(files_under(&f.out), first, "same inputs, same bytes");

    std::fs::write(task.join("task.toml"), "# someone else's task\n").unwrap();
    let err = run_export_cli(args(&f)).unwrap_err();
    assert!(
        format!("{err:#}").contains("is not a task exported by codex-analyzer"),
        "{err:#}"
    );
    assert_eq!(
        std::fs::read_to_string(task.join("task.toml")).unwrap(),
        "# someone else's task\n"
    );
}

fn clusters_of(f: &Fixture) -> Vec<codex_analyzer::cluster::Cluster> {
    let calls = codex_contract::fold(codex_contract::read::open(&f.log).unwrap());
    cluster(&calls, &ClusterOptions::at(t0() + Duration::days(1)))
}

#[test]
fn clusters_a_verifier_cannot_reproduce_are_skipped_with_a_reason() {
    let f = fixture();
    let clusters = clusters_of(&f);
    assert_eq!(clusters.len(), 2);
    let opts = ExportOptions {
        out: f.out.clone(),
        top: 3,
        fingerprint: None,
        now: t0(),
    };
    let report = export(&f.repo, &clusters, &opts).unwrap();
    assert_eq!(report.exported.len(), 1);
    assert_eq!(report.skipped.len(), 1);
    assert!(
        report.skipped[0].reason.contains("approval_denied"),
        "{:?}",
        report.skipped
    );
    let check = clusters
        .iter()
        .find(|c| c.last_command.as_deref() == Some("./check.sh"))
        .unwrap();
    assert_eq!(
        check.working_alternative, None,
        "the same command is a fix, not an alternative"
    );
    let task = &report.exported[0];
    assert_eq!(task.source_commit, f.a);
    assert_eq!(task.fixed_at.as_deref(), Some(f.b.as_str()));
    assert_eq!(task.snapshot_files, 3);

    // --top 0 exports nothing.
    let none = export(
        &f.repo,
        &clusters,
        &ExportOptions {
            top: 0,
            ..opts.clone()
        },
    )
    .unwrap();
    assert!(none.exported.is_empty());

    // A fingerprint selects one cluster, by full ID or a prefix.
    let denied = clusters
        .iter()
        .find(|c| c.error_type == "approval_denied")
        .unwrap();
    let r = export(
        &f.repo,
        &clusters,
        &ExportOptions {
            fingerprint: Some(denied.id[..10].to_string()),
            ..opts.clone()
        },
    )
    .unwrap();
    assert!(r.exported.is_empty());
    assert_eq!(r.skipped[0].cluster_id, denied.id);
    let err = export(
        &f.repo,
        &clusters,
        &ExportOptions {
            fingerprint: Some("cl1-ffffffffffffffff".into()),
            ..opts.clone()
        },
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("no friction cluster has fingerprint"),
        "{err}"
    );

    // A commit the repository does not have cannot be snapshotted.
    let mut foreign = clusters.clone();
    for c in &mut foreign {
        c.last_git_head = Some("0123456789abcdef0123456789abcdef01234567".into());
    }
    let r = export(&f.repo, &foreign, &opts).unwrap();
    assert!(r.exported.is_empty());
    assert!(
        r.skipped.iter().any(|s| s.reason.contains("is not in")),
        "{:?}",
        r.skipped
    );

    // Without a known fix there is no solution folder.
    let mut unfixed = clusters.clone();
    for c in &mut unfixed {
        c.fixed_at = None;
    }
    let out2 = f.out.with_file_name("dataset-unfixed");
    let r = export(&f.repo, &unfixed, &ExportOptions { out: out2, ..opts }).unwrap();
    assert_eq!(r.exported.len(), 1);
    assert!(!r.exported[0].dir.join("solution").exists());
    assert!(!r.exported[0]
        .files
        .iter()
        .any(|p| p.starts_with("solution/")));
}

/// Needs the real redaction engine (the contract's `redact` is a skeleton on this branch):
/// the token planted in the failing output must not reach any exported file.
#[test]
fn no_secret_reaches_an_exported_file() {
    let f = fixture();
    exported(&f);
    for (path, bytes) in files_under(&f.out) {
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains(FAKE_TOKEN),
            "{} holds the planted token",
            path.display()
        );
        assert!(
            !contains_secret(&text),
            "{} looks like it holds a secret",
            path.display()
        );
    }
}

/// The `export-harbor` subcommand of the real binary: same tasks as the library call, the
/// documented messages, and exit 1 with advice for a fingerprint that matches nothing.
#[test]
fn export_harbor_subcommand_of_the_binary_writes_valid_tasks() {
    let f = fixture();
    let a = args(&f);
    let bin = env!("CARGO_BIN_EXE_codex-analyzer");
    let base = |extra: &[&str]| {
        let mut c = Command::new(bin);
        c.args(["export-harbor", "--repo"])
            .arg(&f.repo)
            .arg("--out")
            .arg(&f.out)
            .arg("--log")
            .arg(&f.log)
            .args(["--now", &format_ts(a.now.unwrap()), "--window", "7d"])
            .args(extra)
            .env_remove("CODEX_TOOLCALLS_LOG");
        c.output().unwrap()
    };
    let out = base(&[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("exported codex-friction/check-sh-nonzero-exit-"),
        "{stdout}"
    );
    assert!(stdout.contains("[with solution]"), "{stdout}");
    assert!(stdout.contains("1 task(s) in"), "{stdout}");
    assert!(
        stderr.contains("skipped cl2-"),
        "the skipped cluster is named: {stderr}"
    );
    let dirs: Vec<PathBuf> = std::fs::read_dir(&f.out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    let task = &dirs[0];
    for rel in [
        "task.toml",
        "instruction.md",
        "environment/Dockerfile",
        "tests/test.sh",
    ] {
        assert!(task.join(rel).is_file(), "missing {rel}");
    }
    let doc: serde_json::Value =
        toml::from_str(&std::fs::read_to_string(task.join("task.toml")).unwrap()).unwrap();
    let errors: Vec<String> = validator()
        .iter_errors(&doc)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    // The binary and the library write the same bytes.
    let by_binary = files_under(task);
    std::fs::remove_dir_all(&f.out).unwrap();
    assert_eq!(files_under(&exported(&f)), by_binary);

    let out = base(&["--fingerprint", "cl2-000000"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no friction cluster has fingerprint `cl2-000000`"),
        "{stderr}"
    );
}
