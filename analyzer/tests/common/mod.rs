//! Fixtures for the `codex-analyzer run` scenario tests: a real git repository built with the
//! git CLI at planted times, a tool-call log and a CI-log folder, each with planted problems
//! plus noise below every threshold; and helpers to run the real binary.
//!
//! The fixture is fully deterministic (fixed identities, dates and contents), so building it
//! twice gives byte-identical repositories (same commit SHAs).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use chrono::{DateTime, Duration, Utc};
use codex_analyzer::collect::ci_logs::CiMetrics;
use codex_analyzer::collect::git::GitActivity;
use codex_analyzer::collect::toolcalls::ToolMetrics;
use codex_analyzer::config::Config;
use codex_analyzer::finding::Finding;
use codex_analyzer::rules::{self, RuleInputs};
use codex_contract::record::{format_ts, parse_ts, Excerpt, Phase, Record, Source, Status};

/// The reference time of the scenario: 06:10 in Phoenix, run ID 2026-03-02-AM.
pub const NOW: &str = "2026-03-02T13:10:00Z";
pub const RUN_ID: &str = "2026-03-02-AM";
/// Twelve hours later: the next scheduled run.
pub const NEXT: &str = "2026-03-03T01:10:00Z";
pub const NEXT_RUN_ID: &str = "2026-03-02-PM";
/// The findings a run over the scenario reports: eight planted problems (one per rule, two CI
/// signatures, two error types), seven after triage, which tells the toolchain's config
/// churn in the evidence of the revert that undid it (one story, one ticket).
pub const FINDINGS: usize = 7;

pub fn now() -> DateTime<Utc> {
    parse_ts(NOW).unwrap()
}

/// `hours` before [`NOW`] (negative: after).
pub fn before(hours: f64) -> DateTime<Utc> {
    now() - Duration::milliseconds((hours * 3_600_000.0) as i64)
}

/// Runs git in `dir` with a clean environment and fixed identity/date.
pub fn git(dir: &Path, args: &[&str], when: Option<DateTime<Utc>>, author: &str) {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("LC_ALL", "C")
        .env("GIT_AUTHOR_NAME", author)
        .env(
            "GIT_AUTHOR_EMAIL",
            format!("{}@example.com", author.replace(['[', ']'], "")),
        )
        .env("GIT_COMMITTER_NAME", author)
        .env(
            "GIT_COMMITTER_EMAIL",
            format!("{}@example.com", author.replace(['[', ']'], "")),
        )
        .args([
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
            "-c",
            "core.autocrlf=false",
        ])
        .args(args);
    if let Some(t) = when {
        let d = t.to_rfc3339();
        cmd.env("GIT_AUTHOR_DATE", &d).env("GIT_COMMITTER_DATE", &d);
    }
    let out = cmd.output().expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Writes `content` to `rel` and commits it at `when` by `author`.
pub fn commit_file(
    repo: &Path,
    rel: &str,
    content: &str,
    when: DateTime<Utc>,
    author: &str,
    msg: &str,
) {
    let p = repo.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, content).unwrap();
    git(repo, &["add", "--", rel], None, author);
    git(repo, &["commit", "-q", "-m", msg], Some(when), author);
}

/// The planted git history (see the module docs of `run_scenarios.rs` for what each is).
pub fn build_git(repo: &Path) {
    git(repo, &["init", "-q"], None, "alice");
    let t0 = before(72.0);
    for (rel, content) in [
        ("src/hot.rs", "fn hot() {}\n"),
        ("src/warm.rs", "fn warm() {}\n"),
        ("src/cold.rs", "fn cold() {}\n"),
        (
            "Cargo.toml",
            "[package]\nname = \"demo\"\nversion = \"0.1.0\"\n",
        ),
        ("rust-toolchain.toml", "[toolchain]\nchannel = \"1.89\"\n"),
        ("deny.toml", "[bans]\n"),
        ("README.md", "# demo\n"),
    ] {
        let p = repo.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }
    git(repo, &["add", "-A"], None, "alice");
    git(repo, &["commit", "-q", "-m", "initial"], Some(t0), "alice");
    // Churn before the rollup window (bob and carol reworking each other's lines): must not
    // count.
    for i in 0..5 {
        let steps: String = (0..8).map(|k| format!("    cold_{i}_{k}();\n")).collect();
        commit_file(
            repo,
            "src/cold.rs",
            &format!("fn cold() {{\n{steps}}}\n"),
            before(40.0 - i as f64),
            if i % 2 == 0 { "bob" } else { "carol" },
            "old churn",
        );
    }
    // Planted hotspot: src/hot.rs in 4 commits in 24h, alice and bob rewriting each other's
    // 8 fresh lines: 3 x 8 = 24 reworked lines.
    for (i, h) in [20.0, 15.0, 10.0, 5.0].into_iter().enumerate() {
        let steps: String = (0..8).map(|k| format!("    step_{i}_{k}();\n")).collect();
        commit_file(
            repo,
            "src/hot.rs",
            &format!("fn hot() {{\n{steps}}}\n"),
            before(h),
            if i % 2 == 0 { "alice" } else { "bob" },
            &format!("tweak hot path #{i}"),
        );
    }
    // Noise: src/warm.rs in 3 commits by people...
    for (i, h) in [19.0, 12.0, 4.0].into_iter().enumerate() {
        commit_file(
            repo,
            "src/warm.rs",
            &format!("fn warm() {{ {i} }}\n"),
            before(h),
            "carol",
            "warm change",
        );
    }
    // ...and 2 more by the analyzer's bot, which are skipped (loop prevention).
    for (i, h) in [3.0, 2.0].into_iter().enumerate() {
        commit_file(
            repo,
            "src/warm.rs",
            &format!("fn warm() {{ bot{i} }}\n"),
            before(h),
            "codex-improvement[bot]",
            "bot change",
        );
    }
    // The analyzer's own files are never a signal.
    for (i, h) in [18.0, 14.0, 9.0, 6.0, 1.5].into_iter().enumerate() {
        commit_file(
            repo,
            ".codex/improvement-log.md",
            &format!("# log {i}\n"),
            before(h),
            "alice",
            "log",
        );
    }
    // Noise since issue 11: Cargo.toml changed twice, a version bump and a key added once.
    commit_file(
        repo,
        "Cargo.toml",
        "[package]\nname = \"demo\"\nversion = \"0.1.1\"\n",
        before(17.0),
        "alice",
        "bump",
    );
    commit_file(
        repo,
        "Cargo.toml",
        "[package]\nname = \"demo\"\nversion = \"0.1.2\"\nedition = \"2021\"\n",
        before(8.0),
        "bob",
        "edition",
    );
    // Planted config churn: rust-toolchain.toml `toolchain.channel` changed, then reverted.
    commit_file(
        repo,
        "rust-toolchain.toml",
        "[toolchain]\nchannel = \"nightly\"\n",
        before(11.0),
        "bob",
        "try nightly",
    );
    git(
        repo,
        &["revert", "--no-edit", "HEAD"],
        Some(before(7.0)),
        "bob",
    );
    // Noise: deny.toml changed once.
    commit_file(
        repo,
        "deny.toml",
        "[bans]\nmultiple-versions = \"warn\"\n",
        before(6.5),
        "carol",
        "deny tweak",
    );
}

fn rec(ts: DateTime<Utc>, source: Source, phase: Phase, session: &str, call: &str) -> Record {
    let mut r = Record::at(ts, source, phase);
    r.session_id = Some(session.into());
    r.call_id = Some(call.into());
    r
}

/// One call: a hook `pre` record and an authoritative `outcome` record. (One positional
/// argument per record field keeps the planted table below readable.)
#[allow(clippy::too_many_arguments)]
pub fn call(
    out: &mut Vec<Record>,
    ts: DateTime<Utc>,
    session: &str,
    id: &str,
    tool: &str,
    input: &str,
    status: Status,
    exit: Option<i32>,
    output: &str,
) {
    let mut pre = rec(ts, Source::CodexHook, Phase::Pre, session, id);
    pre.tool = Some(tool.into());
    pre.input = Some(input.into());
    out.push(pre);
    let mut o = rec(
        ts + Duration::milliseconds(350),
        Source::Rollout,
        Phase::Outcome,
        session,
        id,
    );
    o.status = Some(status);
    o.exit_code = exit;
    o.duration_ms = Some(350);
    if !output.is_empty() {
        o.output = Some(Excerpt::new(output, 4000));
    }
    out.push(o);
}

/// The planted tool-call log, one JSON line per record, in chronological order.
///
/// In the 24h rollup: `Bash` 20 definite calls, 5 failed (25%: over 10% with 20 >= 10
/// samples) — `command_not_found` x3 and `file_not_found` x2 (both repeat); `apply_patch` 12
/// calls, 1 timeout (8.3%: under 10%); `Read` 3 calls, 2 failed (66%, but under the 10-call
/// floor) — `permission_denied` x1 and `sandbox_denied` x1 (each once). Plus 2 calls with no
/// outcome (unknown), `patch_failed` x3 older than 24h, `git_conflict` x3 after --now.
pub fn toolcall_records() -> Vec<Record> {
    let mut v = Vec::new();
    let mut n = 0;
    let mut id = || {
        n += 1;
        format!("call_{n:03}")
    };
    // Bash: 15 ok.
    for i in 0..15 {
        let t = before(22.0 - i as f64);
        call(
            &mut v,
            t,
            if i < 8 { "s1" } else { "s2" },
            &id(),
            "Bash",
            &format!("cargo test -p demo test_{i}"),
            Status::Ok,
            Some(0),
            "test result: ok. 1 passed",
        );
    }
    // Bash: command_not_found x3 (exit 127), different paths and versions.
    for (i, h) in [21.5, 13.25, 2.5].into_iter().enumerate() {
        call(
            &mut v,
            before(h),
            "s1",
            &id(),
            "Bash",
            &format!("/opt/tools-{i}/bin/cargo-nextest run --workspace"),
            Status::Failed,
            Some(127),
            &format!("bash: /opt/tools-{i}/bin/cargo-nextest: command not found"),
        );
    }
    // Bash: file_not_found x2.
    for (i, h) in [16.5, 3.5].into_iter().enumerate() {
        call(
            &mut v,
            before(h),
            "s2",
            &id(),
            "Bash",
            &format!("cat /tmp/build-{i}a7/out.txt"),
            Status::Failed,
            Some(1),
            &format!("cat: /tmp/build-{i}a7/out.txt: No such file or directory"),
        );
    }
    // apply_patch: 11 ok, 1 timeout.
    for i in 0..11 {
        call(
            &mut v,
            before(20.0 - i as f64 * 1.5),
            "s2",
            &id(),
            "apply_patch",
            "*** Begin Patch\n*** Update File: src/hot.rs\n",
            Status::Ok,
            None,
            "Success",
        );
    }
    call(
        &mut v,
        before(9.75),
        "s2",
        &id(),
        "apply_patch",
        "*** Begin Patch\n*** Update File: src/big.rs\n",
        Status::Timeout,
        None,
        "",
    );
    // Read: 1 ok, permission_denied x1, sandbox_denied x1 (below the floor).
    call(
        &mut v,
        before(5.0),
        "s3",
        &id(),
        "Read",
        "{\"path\":\"src/hot.rs\"}",
        Status::Ok,
        None,
        "fn hot() {}",
    );
    call(
        &mut v,
        before(4.5),
        "s3",
        &id(),
        "Read",
        "{\"path\":\"/root/.ssh/config\"}",
        Status::Failed,
        Some(126),
        "Permission denied",
    );
    call(
        &mut v,
        before(4.25),
        "s3",
        &id(),
        "Read",
        "{\"path\":\"/etc/shadow\"}",
        Status::Failed,
        Some(1),
        "Sandbox(Denied { output: .. })",
    );
    // Two calls with no outcome: pre-only (unknown, never counted as ok).
    for h in [1.0, 0.5] {
        let mut pre = rec(before(h), Source::CodexHook, Phase::Pre, "s3", &id());
        pre.tool = Some("Bash".into());
        pre.input = Some("sleep 1000".into());
        v.push(pre);
    }
    // Older than the rollup: patch_failed x3 (must not count).
    for h in [30.0, 29.0, 28.0] {
        call(
            &mut v,
            before(h),
            "s0",
            &id(),
            "apply_patch",
            "*** Begin Patch",
            Status::Failed,
            None,
            "apply_patch verification failed: Failed to find expected lines",
        );
    }
    // After --now: git_conflict x3 (must not count).
    for h in [-1.0, -2.0, -3.0] {
        call(
            &mut v,
            before(h),
            "s9",
            &id(),
            "Bash",
            "git merge main",
            Status::Failed,
            Some(1),
            "CONFLICT (content): Merge conflict in src/hot.rs",
        );
    }
    v.sort_by(|a, b| a.ts.cmp(&b.ts));
    v
}

/// The log's lines, with two damaged lines (reported, not fatal).
pub fn toolcall_lines() -> Vec<String> {
    let mut lines: Vec<String> = toolcall_records()
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    lines.insert(
        7,
        "{\"v\":1,\"ts\":\"2026-03-02T00:00:00Z\",\"source\":".to_string(),
    );
    lines.insert(20, "not json at all".to_string());
    lines
}

/// A CI log in GitHub's format: every line prefixed with a timestamp.
fn gh_log(start: DateTime<Utc>, lines: &[&str]) -> String {
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let t = start + Duration::milliseconds(i as i64 * 137);
            // GitHub's format: seven fractional digits.
            let frac = t.timestamp_subsec_nanos() / 100;
            format!("{}.{frac:07}Z {l}\n", t.format("%Y-%m-%dT%H:%M:%S"))
        })
        .collect()
}

fn cargo_test_failure(start: DateTime<Utc>, secs: &str, runner: &str) -> String {
    let panic = format!(
        "thread 'tests::flaky_io' panicked at /home/runner/work/{runner}/{runner}/src/io.rs:41:9:"
    );
    let result = format!("test result: FAILED. 41 passed; 1 failed; 0 ignored; finished in {secs}");
    gh_log(
        start,
        &[
            "##[group]Run cargo test --workspace",
            "running 42 tests",
            "test tests::flaky_io ... FAILED",
            "---- tests::flaky_io stdout ----",
            &panic,
            "assertion `left == right` failed",
            &result,
            "error: test failed, to rerun pass `--lib`",
            "##[error]Process completed with exit code 101.",
        ],
    )
}

const JUNIT_FAIL: &str = r#"<?xml version="1.0"?>
<testsuites><testsuite name="unit" tests="2" failures="1" timestamp="TS">
<testcase classname="pkg.Parser" name="handles_empty" time="0.01"/>
<testcase classname="pkg.Parser" name="rejects_bad_utf8" time="0.2"><failure message="expected Err, got Ok(LEN)" type="AssertionError">at parser.rs:LEN</failure></testcase>
</testsuite></testsuites>
"#;

/// The planted CI logs (relative path → content).
///
/// In the rollup: `test` fails twice the same way (different times, durations and runner
/// paths) and JUnit `unit` fails twice on the same test: both repeat. Noise: `build` fails
/// once; `deploy` hits a network error twice (transient: stays out of findings); `lint`
/// failed twice but more than 24h ago; `docs` passed.
pub fn ci_logs() -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    m.insert(
        "test/run-101.log".into(),
        cargo_test_failure(before(20.0), "3.41s", "demo"),
    );
    m.insert(
        "test/run-102.log".into(),
        cargo_test_failure(before(6.0), "12.07s", "demo-fork"),
    );
    let junit = |h: f64, len: &str| {
        JUNIT_FAIL
            .replace("TS", &before(h).format("%Y-%m-%dT%H:%M:%S").to_string())
            .replace("LEN", len)
    };
    m.insert("unit/junit-1.xml".into(), junit(18.0, "3"));
    m.insert("unit/junit-2.xml".into(), junit(2.0, "17"));
    m.insert(
        "build/run-7.log".into(),
        gh_log(
            before(9.0),
            &[
                "   Compiling demo v0.1.2 (/home/runner/work/demo/demo)",
                "error[E0425]: cannot find value `cfg` in this scope",
                " --> src/hot.rs:3:5",
                "error: could not compile `demo` (lib) due to 1 previous error",
                "##[error]Process completed with exit code 101.",
            ],
        ),
    );
    for (name, h) in [("deploy/a.log", 15.0), ("deploy/b.log", 3.0)] {
        m.insert(
            name.into(),
            gh_log(
                before(h),
                &[
                    "Fetching artifacts",
                    "fatal: unable to access 'https://example.com/x.git/': Could not resolve host: example.com",
                    "##[error]Process completed with exit code 128.",
                ],
            ),
        );
    }
    for (name, h) in [("lint/old-1.log", 40.0), ("lint/old-2.log", 30.0)] {
        m.insert(
            name.into(),
            gh_log(
                before(h),
                &[
                    "error: this could be `Option::map` [clippy::manual_map]",
                    "##[error]Process completed with exit code 1.",
                ],
            ),
        );
    }
    m.insert(
        "docs/ok.log".into(),
        gh_log(before(5.0), &["Documenting demo", "Finished"]),
    );
    m
}

/// Builds the whole scenario in `dir`: git history, tool-call log (lines in the given
/// order), CI logs.
pub fn build_scenario(dir: &Path, lines: &[String]) {
    build_git(dir);
    write_lines(&dir.join(".codex/toolcalls.ndjson"), lines);
    for (rel, content) in ci_logs() {
        let p = dir.join(".codex/ci-logs").join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }
}

pub fn write_lines(path: &Path, lines: &[String]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut text = lines.join("\n");
    text.push('\n');
    std::fs::write(path, text).unwrap();
}

/// A deterministic shuffle (no RNG crate): a fixed permutation by multiplicative hashing.
pub fn shuffled(lines: &[String]) -> Vec<String> {
    let mut keyed: Vec<(u64, &String)> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| (((i as u64 + 1) * 2_654_435_761) % 1_000_003, l))
        .collect();
    keyed.sort();
    let out: Vec<String> = keyed.into_iter().map(|(_, l)| l.clone()).collect();
    assert_ne!(out, lines, "the permutation must change the order");
    out
}

/// Runs the real binary in `dir` with a clean environment for the analyzer.
pub fn analyzer(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_codex-analyzer"))
        .current_dir(dir)
        .env_remove("CODEX_TOOLCALLS_LOG")
        .env_remove("NO_COLOR")
        // Hermetic: never publish to (or read from) a real GitHub from a test.
        .env_remove("GITHUB_TOKEN")
        .env_remove("GITHUB_REPOSITORY")
        .env_remove("GITHUB_API_URL")
        .env_remove("GITHUB_SERVER_URL")
        .args(args)
        .output()
        .expect("the analyzer runs")
}

/// Runs `run --repo dir --now now` plus `extra`, asserting success; returns stdout.
pub fn run_ok(dir: &Path, now: &str, extra: &[&str]) -> String {
    let repo = dir.to_str().unwrap();
    let mut args = vec!["run", "--repo", repo, "--now", now];
    args.extend_from_slice(extra);
    let out = analyzer(dir, &args);
    assert!(
        out.status.success(),
        "codex-analyzer {args:?} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `run --format json` as a value.
pub fn run_json(dir: &Path, now: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["--format", "json"];
    args.extend_from_slice(extra);
    serde_json::from_str(&run_ok(dir, now, &args)).expect("--format json prints JSON")
}

/// Every file under `dir` (except `.git`) with its size and modification time.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (u64, std::time::SystemTime)> {
    fn walk(root: &Path, d: &Path, out: &mut BTreeMap<PathBuf, (u64, std::time::SystemTime)>) {
        for e in std::fs::read_dir(d).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            if p.file_name().is_some_and(|n| n == ".git") {
                continue;
            }
            let m = e.metadata().unwrap();
            out.insert(
                p.strip_prefix(root).unwrap().to_path_buf(),
                (m.len(), m.modified().unwrap()),
            );
            if m.is_dir() {
                walk(root, &p, out);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// (rule, subject) of every finding in a JSON output, sorted.
pub fn finding_keys(json: &serde_json::Value) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["subject"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

pub fn ts(t: DateTime<Utc>) -> String {
    format_ts(t)
}

/// The rules' findings over git activity alone (no tool calls, no CI logs), as a 24h
/// window shows them, before triage.
pub fn git_findings(activity: &GitActivity, config: &Config) -> Vec<Finding> {
    let (tools, ci) = (ToolMetrics::default(), CiMetrics::default());
    let inputs = RuleInputs {
        tools: &tools,
        ci: &ci,
        git: Some(activity),
        window: "24h".into(),
    };
    rules::evaluate(&inputs, config)
}
