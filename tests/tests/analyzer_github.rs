//! `codex-analyzer run` end to end against the local GitHub double: the real binary, a real
//! git repository with planted churn, a tool-call log with planted errors, and GitHub Actions
//! runs, PRs and artifacts seeded in the double.
//!
//! What must hold: the first `run --apply` opens one ticket per finding, the rolling issue
//! and one draft PR on `codex-improvement/<run-id>` with only the allowed files, never
//! touching `main`; the same run ID again makes zero writes; the next run ID refreshes the
//! tickets (a comment) and opens its own PR; a fault in the middle of a run then a rerun
//! leaves no duplicates and loses nothing; without a token the local outputs are complete
//! and the run says so; GitHub's CI failures, PR activity and artifacts feed the analysis.

use std::collections::BTreeSet;
use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use codex_analyzer::publish::{
    fingerprint_marker, ALLOWED_PR_FILES, ROLLING_MARKER, ROLLING_TITLE,
};
use codex_contract::record::{events, parse_ts, Excerpt, Phase, Record, Source, Status};
use e2e::bins::{assert_output_schema, run_analyzer, stdout_ok, write_file};
use e2e::github_double::{make_zip, Fault, GithubDouble, IssueView, SeedPull, SeedRun};
use serde_json::Value;

const NOW: &str = "2026-03-10T13:10:00Z";
const RUN: &str = "2026-03-10-AM";
/// The next scheduled run: 15:10 Phoenix.
const NEXT: &str = "2026-03-10T22:10:00Z";
const NEXT_RUN: &str = "2026-03-10-PM";
const TOKEN: &str = "ghs_e2e_double_token";
const LOG: &str = ".codex/improvement-log.md";
const STATE: &str = ".codex/improvement-state.json";
const AGENTS_TEXT: &str = "# Agents\n\nHand-written guidance.  \nKeep this line exactly.\n";

fn now() -> DateTime<Utc> {
    parse_ts(NOW).unwrap()
}

/// `hours` before [`NOW`].
fn before(hours: f64) -> DateTime<Utc> {
    now() - Duration::milliseconds((hours * 3_600_000.0) as i64)
}

fn git(dir: &Path, args: &[&str], when: Option<DateTime<Utc>>) {
    e2e::bins::git_at(dir, args, when, "alice");
}

/// One call: a hook `pre` record and the rollout's `outcome`.
#[allow(clippy::too_many_arguments)]
fn call(
    out: &mut Vec<Record>,
    ts: DateTime<Utc>,
    session: &str,
    id: &str,
    tool: &str,
    input: &str,
    status: Status,
    exit: i32,
    output: &str,
) {
    let mut pre = Record::at(ts, Source::CodexHook, Phase::Pre);
    pre.session_id = Some(session.into());
    pre.call_id = Some(id.into());
    pre.tool = Some(tool.into());
    pre.input = Some(input.into());
    out.push(pre);
    let mut o = Record::at(
        ts + Duration::milliseconds(300),
        Source::Rollout,
        Phase::Outcome,
    );
    o.session_id = Some(session.into());
    o.call_id = Some(id.into());
    o.status = Some(status);
    o.exit_code = Some(exit);
    o.output = Some(Excerpt::new(output, 4000));
    out.push(o);
}

fn event(out: &mut Vec<Record>, ts: DateTime<Utc>, session: &str, name: &str) {
    let mut r = Record::at(ts, Source::CodexHook, Phase::Session);
    r.session_id = Some(session.into());
    r.event = Some(name.into());
    out.push(r);
}

fn ndjson(records: &[Record]) -> String {
    records
        .iter()
        .map(|r| serde_json::to_string(r).unwrap() + "\n")
        .collect()
}

/// The local tool-call log: `Bash` 17 calls in 2 sessions, 3 of them `cargo-nextest`
/// failing with command not found (an error type repeating, a 17.6% failure rate over 10+
/// samples, and a cluster in 2 sessions with a working alternative, `cargo test`).
fn local_log() -> String {
    let mut v = Vec::new();
    let mut n = 0;
    for (s, fails) in [("s1", 2), ("s2", 1)] {
        event(&mut v, before(11.5), s, events::USER_PROMPT);
        for i in 0..6 {
            n += 1;
            call(
                &mut v,
                before(11.0 - i as f64),
                s,
                &format!("c{n}"),
                "Bash",
                &format!("cargo build -p widget{i}"),
                Status::Ok,
                0,
                "Finished dev profile",
            );
        }
        for k in 0..fails {
            n += 1;
            call(
                &mut v,
                before(4.0 - k as f64 * 0.5),
                s,
                &format!("c{n}"),
                "Bash",
                "cargo-nextest run --workspace",
                Status::Failed,
                127,
                "bash: cargo-nextest: command not found",
            );
        }
        n += 1;
        call(
            &mut v,
            before(2.5),
            s,
            &format!("c{n}"),
            "Bash",
            "cargo test --workspace",
            Status::Ok,
            0,
            "test result: ok. 12 passed",
        );
        event(&mut v, before(2.0), s, events::STOP);
    }
    v.sort_by(|a, b| a.ts.cmp(&b.ts));
    ndjson(&v)
}

/// What a CI agent uploaded as an artifact: another session, with a tool the local log has
/// not (`exec_command`), failing twice on lint.
fn artifact_log() -> String {
    let mut v = Vec::new();
    call(
        &mut v,
        before(7.0),
        "ci-agent-1",
        "a1",
        "exec_command",
        "npm ci",
        Status::Ok,
        0,
        "added 120 packages",
    );
    for (i, h) in [6.5, 6.0].into_iter().enumerate() {
        call(
            &mut v,
            before(h),
            "ci-agent-1",
            &format!("a{}", i + 2),
            "exec_command",
            "npm run lint",
            Status::Failed,
            1,
            "error: 3 lint problems found",
        );
    }
    ndjson(&v)
}

/// A git repository with planted churn (`src/hot.rs` in 4 commits of the last 24h), an
/// `AGENTS.md` written by people, and the tool-call log.
fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    git(r, &["init", "-q"], None);
    write_file(r, "README.md", "# widgets\n");
    write_file(r, "AGENTS.md", AGENTS_TEXT);
    write_file(r, "src/hot.rs", "fn hot() {}\n");
    git(r, &["add", "-A"], None);
    git(r, &["commit", "-q", "-m", "initial"], Some(before(72.0)));
    for (i, h) in [10.0, 8.0, 6.0, 4.0].into_iter().enumerate() {
        write_file(r, "src/hot.rs", &format!("fn hot() {{ {i} }}\n"));
        git(
            r,
            &["commit", "-q", "-am", &format!("tweak hot #{i}")],
            Some(before(h)),
        );
    }
    write_file(r, ".codex/toolcalls.ndjson", &local_log());
    // Short request deadlines keep fault tests quick (not committed: the config is local).
    // The hotspot rule uses the seed's literal threshold (a file in 4+ commits), so one
    // author's one-line tweaks make the ticket these publishing tests follow. These tests check
    // publishing itself, one ticket per finding: the ticket budget (tested in
    // ticket_budget.rs) is set above the number of findings.
    write_file(
        r,
        ".codex/improvement.toml",
        "[analysis]\nmax_new_tickets = 50\n\n[github]\nrequest_timeout_secs = 5\nrate_limit_wait_secs = 2\n\
         [rules.file_hotspot]\nmin_commits = 4\nmin_rework_lines = 0\n\
         min_reworking_commits = 0\nmin_authors = 1\n",
    );
    dir
}

fn gh_log(start: DateTime<Utc>, lines: &[&str]) -> String {
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let t = start + Duration::milliseconds(i as i64 * 211);
            format!("{}.{:07}Z {l}\n", t.format("%Y-%m-%dT%H:%M:%S"), i * 13)
        })
        .collect()
}

fn failed_run(d: &GithubDouble, workflow: &str, at: DateTime<Utc>) -> u64 {
    d.seed_run(SeedRun {
        workflow: workflow.into(),
        status: "completed".into(),
        conclusion: Some("failure".into()),
        created_at: at,
        head_branch: "main".into(),
        event: "push".into(),
    })
}

/// GitHub's side: two CI runs failing the same test (a repeating signature), two deploys
/// failing on the network and one cancelled job (transient), human PRs, an automation PR,
/// and a tool-call artifact.
fn seed(d: &GithubDouble) {
    for (h, secs, runner) in [(9.0, "3.41s", "widgets"), (5.0, "12.07s", "widgets-2")] {
        let run = failed_run(d, "CI", before(h));
        let panic = format!(
            "thread 'parser::rejects_bad_utf8' panicked at /home/runner/work/{runner}/{runner}/src/parser.rs:41:9:"
        );
        let result = format!("test result: FAILED. 41 passed; 1 failed; finished in {secs}");
        d.seed_job(run, "build", "success", Some("Finished"));
        d.seed_job(
            run,
            "test",
            "failure",
            Some(&gh_log(
                before(h),
                &[
                    "##[group]Run cargo test --workspace",
                    "test parser::rejects_bad_utf8 ... FAILED",
                    "---- parser::rejects_bad_utf8 stdout ----",
                    &panic,
                    &result,
                    "##[error]Process completed with exit code 101.",
                ],
            )),
        );
    }
    for h in [8.0, 3.0] {
        let run = failed_run(d, "Deploy", before(h));
        d.seed_job(
            run,
            "deploy",
            "failure",
            Some(&gh_log(
                before(h),
                &[
                    "Fetching artifacts",
                    "fatal: unable to access 'https://example.com/x.git/': Could not resolve host: example.com",
                    "##[error]Process completed with exit code 128.",
                ],
            )),
        );
    }
    let run = failed_run(d, "Nightly", before(7.5));
    d.seed_job(
        run,
        "long-test",
        "cancelled",
        Some(&gh_log(
            before(7.5),
            &["##[error]The operation was canceled."],
        )),
    );

    let pr = |title: &str, head: &str, labels: &[&str], created: f64, merged: Option<f64>| {
        d.seed_pull(SeedPull {
            title: title.into(),
            head: head.into(),
            author: "octocat".into(),
            labels: labels.iter().map(|l| l.to_string()).collect(),
            created_at: before(created),
            merged_at: merged.map(before),
            closed_at: merged.map(before),
            draft: false,
        })
    };
    let opened = pr("Add a parser fuzz test", "fuzz", &[], 5.0, None);
    pr("Speed up the build", "speed", &[], 30.0, Some(3.0));
    pr("Bump deps", "deps-bot", &["automation"], 4.0, None);
    d.seed_review(opened, "hubot", "APPROVED", before(2.0));

    let ci_agent = failed_run(d, "Agents", before(7.2));
    d.seed_artifact(
        ci_agent,
        "toolcalls-linux",
        make_zip(&[("toolcalls.ndjson", artifact_log().as_bytes())]),
        before(6.0),
        false,
    );
}

/// `run --apply --format json` at `now` with the token, the double's API base and
/// `--github-repo`; plus `extra` arguments.
fn apply(repo: &Path, d: &GithubDouble, now: &str, extra: &[&str]) -> Value {
    let r = repo.to_str().unwrap();
    let slug = d.repo_full_name();
    let mut args = vec![
        "run",
        "--repo",
        r,
        "--now",
        now,
        "--apply",
        "--format",
        "json",
        "--github-repo",
        &slug,
    ];
    args.extend_from_slice(extra);
    let out = run_analyzer(
        repo,
        &args,
        &[("GITHUB_TOKEN", TOKEN), ("GITHUB_API_URL", d.url())],
    );
    let json: Value = serde_json::from_str(&stdout_ok(out, "run --apply")).unwrap();
    assert_output_schema(&json);
    json
}

fn read(repo: &Path, rel: &str) -> String {
    std::fs::read_to_string(repo.join(rel)).unwrap()
}

fn state(repo: &Path) -> Value {
    serde_json::from_str(&read(repo, STATE)).unwrap()
}

fn fingerprints(out: &Value) -> Vec<String> {
    out["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["fingerprint"].as_str().unwrap().to_string())
        .collect()
}

fn rules(out: &Value) -> BTreeSet<String> {
    out["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

fn tickets_for(d: &GithubDouble, fp: &str) -> Vec<IssueView> {
    let m = fingerprint_marker(fp);
    d.issues()
        .into_iter()
        .filter(|i| i.body.as_deref().is_some_and(|b| b.contains(&m)))
        .collect()
}

fn rolling(d: &GithubDouble) -> Vec<IssueView> {
    d.issues()
        .into_iter()
        .filter(|i| {
            i.title == ROLLING_TITLE
                || i.body
                    .as_deref()
                    .is_some_and(|b| b.contains(ROLLING_MARKER))
        })
        .collect()
}

/// Every ref the run wrote is a bot branch, and `main` never moved.
fn assert_main_untouched(d: &GithubDouble, main_sha: &str) {
    assert_eq!(d.branch_sha("main").as_deref(), Some(main_sha));
    for w in d.write_requests() {
        assert!(
            !w.path.contains("/git/refs/heads/main"),
            "{} {}",
            w.method,
            w.path
        );
        if w.path.ends_with("/git/refs") {
            let body: Value = serde_json::from_str(&w.body).unwrap();
            assert!(
                body["ref"]
                    .as_str()
                    .unwrap()
                    .starts_with("refs/heads/codex-improvement/"),
                "{}",
                w.body
            );
        }
    }
}

/// The PR of `run_id`: draft, on its bot branch, one commit on `main` changing only
/// allowed files.
fn assert_bot_pr(d: &GithubDouble, run_id: &str, main_sha: &str) -> u64 {
    let branch = format!("codex-improvement/{run_id}");
    let prs: Vec<_> = d
        .pulls()
        .into_iter()
        .filter(|p| p.head_ref == branch)
        .collect();
    assert_eq!(prs.len(), 1, "one PR per run ID: {prs:#?}");
    let p = &prs[0];
    assert!(p.draft);
    assert_eq!(p.base_ref, "main");
    assert!(p.labels.iter().any(|l| l == "automation"), "{:?}", p.labels);
    let body = p.body.as_deref().unwrap();
    for part in ["## Evidence", "## Risk", "## QA notes"] {
        assert!(body.contains(part), "{part} missing:\n{body}");
    }
    assert_eq!(d.commit_parents(&p.head_sha), vec![main_sha.to_string()]);
    let changed = d.changed_paths(&p.head_sha);
    assert!(changed.contains(&LOG.to_string()) && changed.contains(&STATE.to_string()));
    for path in &changed {
        assert!(
            ALLOWED_PR_FILES.contains(&path.as_str()),
            "{path} is not allowed"
        );
    }
    p.number
}

#[test]
fn first_apply_publishes_a_rerun_writes_nothing_and_the_next_run_refreshes() {
    let d = GithubDouble::start();
    seed(&d);
    let main_sha = d.branch_sha("main").unwrap();
    let dir = repo();
    let r = dir.path();

    let out = apply(r, &d, NOW, &[]);
    assert_eq!(out["run_id"], RUN);
    assert_eq!(out["github"]["publish"]["status"], "published", "{out:#}");
    let want: BTreeSet<String> = [
        "error_type_repeat",
        "tool_failure_rate",
        "file_hotspot",
        "ci_signature_repeat",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert!(rules(&out).is_superset(&want), "{:?}", rules(&out));
    let fps = fingerprints(&out);

    // One ticket per finding, found by its marker, with the evidence a person needs.
    let st = state(r);
    for fp in &fps {
        let t = tickets_for(&d, fp);
        assert_eq!(t.len(), 1, "one ticket for {fp}");
        let t = &t[0];
        assert_eq!(t.state, "open");
        for l in ["automation", "codex-improvement"] {
            assert!(t.labels.iter().any(|x| x == l), "{:?}", t.labels);
        }
        let body = t.body.as_deref().unwrap();
        for part in [
            "## Evidence",
            "## Suggested action",
            "## Risk",
            "## QA notes",
        ] {
            assert!(
                body.contains(part),
                "{part} missing in #{}:\n{body}",
                t.number
            );
        }
        // The state holds the ticket and its baseline (this run).
        let h = &st["findings"][fp];
        assert_eq!(h["ticket"]["number"], t.number, "{h:#}");
        assert_eq!(h["baseline"]["run_id"], RUN);
        // The output lists it as created, with its number.
        let item = out["tickets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["fingerprint"] == fp.as_str())
            .unwrap();
        assert_eq!(item["action"], "created");
        assert_eq!(item["number"], t.number);
    }
    assert_eq!(st["pending"], serde_json::json!([]));
    let roll = rolling(&d);
    assert_eq!(roll.len(), 1);
    let roll_body = roll[0].body.clone().unwrap();
    assert!(
        roll_body.contains(&format!("Latest run **{RUN}**")),
        "{roll_body}"
    );
    assert!(roll_body.contains("## Measured improvement"), "{roll_body}");

    // One draft PR carrying exactly the log and state this apply wrote, and AGENTS.md with
    // only the marked block added.
    let pr1 = assert_bot_pr(&d, RUN, &main_sha);
    assert_eq!(out["pull_requests"][0]["number"], pr1);
    assert_eq!(out["pull_requests"][0]["action"], "created");
    let files = d.branch_files(&format!("codex-improvement/{RUN}")).unwrap();
    assert_eq!(
        files[STATE],
        read(r, STATE),
        "the PR commits the state on disk"
    );
    assert_eq!(files[LOG], read(r, LOG), "the PR commits the log on disk");
    let agents = &files["AGENTS.md"];
    assert!(agents.starts_with(AGENTS_TEXT), "{agents}");
    assert!(agents.contains(codex_analyzer::guidance::BEGIN));
    assert!(agents.contains("cargo-nextest run --workspace"), "{agents}");
    assert!(
        agents.contains("What worked instead: `cargo test --workspace`"),
        "{agents}"
    );
    assert_eq!(
        read(r, "AGENTS.md"),
        AGENTS_TEXT,
        "AGENTS.md is proposed, not written"
    );

    // The run log shows tickets (with numbers), the PR (by branch) and the baselines.
    let log = read(r, LOG);
    let tickets_at = log.find("### Auto-Created Tickets").unwrap();
    let prs_at = log.find("### PRs Created").unwrap();
    let created = log.find("- created [#").unwrap();
    assert!(tickets_at < created && created < prs_at, "{log}");
    assert!(log.contains(&format!(
        "- proposed: draft PR from codex-improvement/{RUN}: Codex improvement: run {RUN}"
    )));
    assert!(
        log.contains(&format!("at ticket creation ({RUN})")),
        "{log}"
    );
    assert_main_untouched(&d, &main_sha);

    // The same run ID again: skipped before anything is read, zero writes.
    d.clear_log();
    let again = apply(r, &d, NOW, &[]);
    assert_eq!(again["skipped"], true);
    assert!(d.write_requests().is_empty(), "{:#?}", d.write_requests());
    assert!(d.requests().is_empty());

    // The next run ID: every ticket refreshed with a comment, its own PR, the rolling
    // issue rewritten; still one of each.
    let next = apply(r, &d, NEXT, &[]);
    assert_eq!(next["github"]["publish"]["status"], "published", "{next:#}");
    for fp in &fingerprints(&next) {
        let t = tickets_for(&d, fp);
        assert_eq!(t.len(), 1, "still one ticket for {fp}");
        let seen: Vec<&String> = t[0]
            .comments
            .iter()
            .filter(|c| c.contains(&format!("Seen again in run `{NEXT_RUN}`")))
            .collect();
        assert_eq!(seen.len(), 1, "{:#?}", t[0].comments);
        let item = next["tickets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["fingerprint"] == fp.as_str())
            .unwrap();
        assert_eq!(item["action"], "updated");
    }
    let roll = rolling(&d);
    assert_eq!(roll.len(), 1);
    assert!(roll[0]
        .body
        .as_deref()
        .unwrap()
        .contains(&format!("Latest run **{NEXT_RUN}**")));
    let pr2 = assert_bot_pr(&d, NEXT_RUN, &main_sha);
    assert_ne!(pr1, pr2);
    assert_bot_pr(&d, RUN, &main_sha);
    assert_eq!(
        d.pulls()
            .iter()
            .filter(|p| p.head_ref.starts_with("codex-improvement/"))
            .count(),
        2
    );
    // Measured improvement: the ticket's baseline beside this run's figure, in the log and
    // the rolling issue.
    let log = read(r, LOG);
    let section = &log[log.find(&format!("## Run {NEXT_RUN}")).unwrap()..];
    let hot = tickets_for(&d, &hotspot_fp(&next))[0].number;
    assert!(
        section.contains(&format!(
            "- Ticket #{hot} (file_hotspot `src/hot.rs`): 4 at ticket creation ({RUN}), 4 now."
        )),
        "{section}"
    );
    assert!(roll[0].body.as_deref().unwrap().contains(&format!(
        "| #{hot} | file_hotspot | `src/hot.rs` | 4 ({RUN}) | 4 |"
    )));
    // The bot's own PRs are automation: never part of PR activity.
    let act = &next["github"]["collected"]["pr_activity"];
    assert!(act["excluded_automation"].as_u64().unwrap() >= 1, "{act:#}");
    assert!(act["prs"].as_array().unwrap().iter().all(|p| !p["title"]
        .as_str()
        .unwrap()
        .starts_with("Codex improvement")));
    assert_main_untouched(&d, &main_sha);
}

fn hotspot_fp(out: &Value) -> String {
    out["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "file_hotspot")
        .unwrap()["fingerprint"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn a_fault_mid_run_then_reruns_leave_no_duplicates_and_lose_nothing() {
    let d = GithubDouble::start();
    seed(&d);
    let main_sha = d.branch_sha("main").unwrap();
    let dir = repo();
    let r = dir.path();
    let issues = format!("/repos/{}/issues", d.repo_full_name());
    // The 2nd ticket is created but the answer is lost; the 3rd fails outright; opening the
    // PR fails after its branch was pushed.
    d.inject("POST", &issues, Fault::AfterApply(502), 1, 1);
    d.inject("POST", &issues, Fault::Status(500), 0, 1);
    d.fail_next(
        "POST",
        &format!("/repos/{}/pulls", d.repo_full_name()),
        503,
        1,
    );

    let out = apply(r, &d, NOW, &[]);
    assert_eq!(out["github"]["publish"]["status"], "partial", "{out:#}");
    let warnings = out["warnings"].to_string();
    assert!(warnings.contains("kept pending"), "{warnings}");
    // The local outputs are complete regardless.
    assert!(read(r, LOG).contains(&format!("## Run {RUN}")));
    let st = state(r);
    let pending: Vec<(String, String)> = st["pending"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["kind"].as_str().unwrap().to_string(),
                p["key"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        pending.iter().filter(|(k, _)| k == "ticket").count(),
        2,
        "{pending:?}"
    );
    assert!(
        pending.contains(&("pull_request".into(), RUN.into())),
        "{pending:?}"
    );
    assert!(d
        .pulls()
        .iter()
        .all(|p| !p.head_ref.starts_with("codex-improvement/")));

    // A forced rerun of the same run ID finishes the job: the ticket whose answer was lost
    // is found by its marker, the failed one is created, the PR opens from the pushed branch.
    d.clear_faults();
    let rerun = apply(r, &d, NOW, &["--force"]);
    assert_eq!(
        rerun["github"]["publish"]["status"], "published",
        "{rerun:#}"
    );
    assert_eq!(state(r)["pending"], serde_json::json!([]));
    for fp in &fingerprints(&out) {
        let t = tickets_for(&d, fp);
        assert_eq!(t.len(), 1, "no duplicate for {fp}: {t:#?}");
        assert_eq!(t[0].state, "open");
        assert_eq!(state(r)["findings"][fp]["ticket"]["number"], t[0].number);
    }
    assert_eq!(rolling(&d).len(), 1);
    assert_bot_pr(&d, RUN, &main_sha);

    // And the next run ID: still no duplicate anywhere.
    let next = apply(r, &d, NEXT, &[]);
    assert_eq!(next["github"]["publish"]["status"], "published");
    for fp in &fingerprints(&next) {
        assert_eq!(tickets_for(&d, fp).len(), 1);
    }
    assert_eq!(rolling(&d).len(), 1);
    assert_bot_pr(&d, NEXT_RUN, &main_sha);
    assert_main_untouched(&d, &main_sha);
}

#[test]
fn without_a_token_local_outputs_are_complete_and_the_next_run_publishes_the_backlog() {
    let d = GithubDouble::start();
    seed(&d);
    let main_sha = d.branch_sha("main").unwrap();
    let dir = repo();
    let r = dir.path();
    let rs = r.to_str().unwrap();
    let slug = d.repo_full_name();

    let text = stdout_ok(
        run_analyzer(
            r,
            &["run", "--repo", rs, "--now", NOW, "--apply"],
            &[("GITHUB_API_URL", d.url()), ("GITHUB_REPOSITORY", &slug)],
        ),
        "run --apply without a token",
    );
    assert!(text.contains("not published: no GITHUB_TOKEN"), "{text}");
    assert!(
        d.requests().is_empty(),
        "nothing may reach GitHub without a token"
    );
    let log = read(r, LOG);
    assert!(log.contains(&format!("## Run {RUN}")));
    assert!(
        log.contains("GitHub (tickets and rolling issue): publishing is off (no GITHUB_TOKEN)"),
        "{log}"
    );
    for h in [
        "### Failure Clusters",
        "#### Top friction clusters",
        "#### Friction and delight",
    ] {
        assert!(log.contains(h), "{h} missing:\n{log}");
    }
    let st = state(r);
    assert!(st["processed_runs"]
        .as_array()
        .unwrap()
        .contains(&Value::from(RUN)));
    let kinds: Vec<&str> = st["pending"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["kind"].as_str().unwrap())
        .collect();
    let n_findings = st["runs"][RUN]["findings"].as_array().unwrap().len();
    assert_eq!(kinds.iter().filter(|k| **k == "ticket").count(), n_findings);
    assert!(
        kinds.contains(&"rolling_issue") && kinds.contains(&"pull_request"),
        "{kinds:?}"
    );

    // With a token, the next run publishes everything once; the stale PR of the first run
    // is superseded by this run's, which carries the whole log and state.
    let next = apply(r, &d, NEXT, &[]);
    assert_eq!(next["github"]["publish"]["status"], "published", "{next:#}");
    let superseded = next["github"]["publish"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["action"] == "superseded" && x["item"]["id"] == RUN);
    assert!(superseded, "{:#}", next["github"]["publish"]);
    for fp in st["runs"][RUN]["findings"].as_array().unwrap() {
        assert_eq!(tickets_for(&d, fp.as_str().unwrap()).len(), 1);
    }
    assert_eq!(state(r)["pending"], serde_json::json!([]));
    assert_eq!(rolling(&d).len(), 1);
    assert_bot_pr(&d, NEXT_RUN, &main_sha);
    assert!(d
        .pulls()
        .iter()
        .all(|p| p.head_ref != format!("codex-improvement/{RUN}")));
    let files = d
        .branch_files(&format!("codex-improvement/{NEXT_RUN}"))
        .unwrap();
    assert!(
        files[LOG].contains(&format!("## Run {RUN}"))
            && files[LOG].contains(&format!("## Run {NEXT_RUN}"))
    );
    assert_main_untouched(&d, &main_sha);
}

#[test]
fn a_dry_run_with_a_token_sends_nothing_and_lists_what_it_would_publish() {
    let d = GithubDouble::start();
    seed(&d);
    let dir = repo();
    let r = dir.path();
    let rs = r.to_str().unwrap();
    let slug = d.repo_full_name();
    let out = stdout_ok(
        run_analyzer(
            r,
            &[
                "run",
                "--repo",
                rs,
                "--now",
                NOW,
                "--format",
                "json",
                "--github-repo",
                &slug,
            ],
            &[("GITHUB_TOKEN", TOKEN), ("GITHUB_API_URL", d.url())],
        ),
        "dry run",
    );
    let out: Value = serde_json::from_str(&out).unwrap();
    assert_output_schema(&out);
    assert!(
        d.requests().is_empty(),
        "a dry run sends nothing: {:#?}",
        d.requests()
    );
    assert_eq!(out["github"]["publish"]["status"], "dry_run");
    let tickets = out["tickets"].as_array().unwrap();
    assert_eq!(tickets.len(), out["findings"].as_array().unwrap().len() + 1);
    assert!(tickets.iter().all(|t| t["action"] == "planned"));
    assert_eq!(out["pull_requests"][0]["action"], "planned");
    assert!(!r.join(LOG).exists() && !r.join(STATE).exists());
}

#[test]
fn github_ci_failures_pr_activity_and_artifacts_feed_the_analysis() {
    let d = GithubDouble::start();
    seed(&d);
    let dir = repo();
    let r = dir.path();
    let out = apply(r, &d, NOW, &[]);

    // CI: the repeated test failure (GitHub logs through the shared signature algorithm) is
    // a finding; the network and cancelled failures are transient: in the log, no ticket.
    let sigs = out["metrics"]["ci"]["rollup"]["signatures"]
        .as_array()
        .unwrap();
    let test = sigs
        .iter()
        .find(|s| s["job"] == "CI / test")
        .unwrap_or_else(|| panic!("{sigs:#?}"));
    assert_eq!(test["count"], 2);
    assert_eq!(test["transient"], false);
    assert_eq!(test["category"], "test-failure");
    let deploy = sigs.iter().find(|s| s["job"] == "Deploy / deploy").unwrap();
    assert_eq!(
        (deploy["count"].as_u64(), deploy["transient"].as_bool()),
        (Some(2), Some(true))
    );
    let ci_subjects: Vec<&str> = out["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "ci_signature_repeat")
        .map(|f| f["subject"].as_str().unwrap())
        .collect();
    assert_eq!(ci_subjects, vec![test["id"].as_str().unwrap()]);
    let ci = &out["github"]["collected"]["ci"];
    assert_eq!(ci["failed_jobs"], 5);
    assert_eq!(ci["transient"], 3);
    let log = read(r, LOG);
    assert!(
        log.contains("GitHub Actions failed jobs (24h): 5 (3 transient"),
        "{log}"
    );

    // PR activity: human PRs only.
    let act = &out["github"]["collected"]["pr_activity"];
    assert_eq!(act["opened"], 1, "{act:#}");
    assert_eq!(act["merged"], 1);
    assert_eq!(act["reviewed"], 1);
    assert_eq!(act["excluded_automation"], 1);
    let titles: Vec<&str> = act["prs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    assert!(!titles.contains(&"Bump deps"), "{titles:?}");
    assert!(log.contains(
        "- Pull requests (12h, without automation PRs): 1 opened, 1 merged, 0 closed unmerged, 1 reviewed; 1 automation PR(s) left out."
    ), "{log}");

    // Artifacts: the CI agent's calls are in the metrics, the sessions and the clusters.
    let extra = &out["inputs"]["toolcalls"]["extra_sources"];
    assert!(
        extra[0]["name"]
            .as_str()
            .unwrap()
            .contains("toolcalls-linux"),
        "{extra:#}"
    );
    assert_eq!(extra[0]["in_window"], 6);
    let per_tool = &out["metrics"]["tool_calls"]["rollup"]["per_tool"];
    assert_eq!(per_tool["exec_command"]["calls"], 3);
    assert_eq!(per_tool["exec_command"]["failed"], 2);
    assert_eq!(per_tool["Bash"]["calls"], 17);
    let sessions: Vec<&str> = out["sessions"]["per_session"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["session_id"].as_str())
        .collect();
    assert!(sessions.contains(&"ci-agent-1"), "{sessions:?}");
    assert!(out["clusters"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["tool"] == "exec_command" && c["count"] == 2));
    assert!(log
        .contains("Tool-call artifacts merged into this analysis: 1 file(s) from 1 artifact(s)."));
}

/// The scheduled workflow's analyzer step runs flags the real binary accepts: its command
/// line, with the repository filled in, works against the double.
#[test]
fn the_workflow_runs_the_real_cli_flags() {
    let yaml = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../.github/workflows/codex-improvement.yml"),
    )
    .unwrap();
    let line = yaml
        .lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix("run: ./target/release/codex-analyzer "))
        .expect("the workflow runs the analyzer");
    let d = GithubDouble::start();
    seed(&d);
    let dir = repo();
    let r = dir.path();
    let slug = d.repo_full_name();
    let args: Vec<String> = line
        .replace("\"${{ github.repository }}\"", &slug)
        .split_whitespace()
        .map(str::to_string)
        .collect();
    assert!(!args.iter().any(|a| a.contains("${{")), "{args:?}");
    assert!(args.contains(&"--apply".to_string()));
    let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
    args.extend(["--now", NOW, "--format", "json"]);
    let out = run_analyzer(
        r,
        &args,
        &[("GITHUB_TOKEN", TOKEN), ("GITHUB_API_URL", d.url())],
    );
    let out: Value = serde_json::from_str(&stdout_ok(out, "the workflow's command")).unwrap();
    assert_eq!(out["github"]["repository"], slug.as_str());
    assert_eq!(out["github"]["publish"]["status"], "published", "{out:#}");
    assert_eq!(
        d.pulls()
            .iter()
            .filter(|p| p.head_ref == format!("codex-improvement/{RUN}"))
            .count(),
        1
    );
}
