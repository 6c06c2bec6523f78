//! The publisher and the signal collectors against the local GitHub double: reruns write
//! nothing, racing runs make no duplicates, faults lose nothing, `main` is never written,
//! secrets never leave, and the double answers in GitHub's own shapes.

use std::sync::{Arc, Barrier};
use std::time::Duration;

use chrono::{DateTime, Utc};
use codex_analyzer::publish::{
    block_on, branch_for_run, fingerprint_marker, Action, GithubTarget, ItemKey, Limits,
    PendingItem, PrFile, PrPlan, PublishOutcome, PublishPlan, PublishSettings, PublishStatus,
    Publisher, TicketPlan, Window, ALLOWED_PR_FILES, NO_TOKEN, ROLLING_MARKER, ROLLING_TITLE,
};
use e2e::github_double::{
    make_zip, Fault, GithubDouble, IssueView, Rendezvous, SeedPull, SeedRun, HUMAN_LOGIN,
};

const AM: &str = "2026-03-10-AM";
const PM: &str = "2026-03-10-PM";
const FP_CI: &str = "ci:v1:0a1b2c";
const FP_TOOL: &str = "tool:v1:3d4e5f";

fn settings() -> PublishSettings {
    PublishSettings {
        limits: Limits {
            request_timeout: Duration::from_secs(2),
            max_retries: 2,
            rate_limit_wait_cap: Duration::from_secs(3),
            backoff: Duration::from_millis(10),
        },
        ..PublishSettings::default()
    }
}

fn target(d: &GithubDouble) -> GithubTarget {
    GithubTarget {
        api_url: d.url().to_string(),
        token: Some("ghs_double_test_token".into()),
        repository: Some(d.repo_full_name()),
    }
}

fn publisher(d: &GithubDouble) -> Publisher {
    Publisher::new(&target(d), settings())
}

fn publish(d: &GithubDouble, plan: &PublishPlan) -> PublishOutcome {
    let p = publisher(d);
    block_on(p.publish(plan)).expect("a tokio runtime")
}

fn ticket(fp: &str, level: f64) -> TicketPlan {
    TicketPlan {
        fingerprint: fp.to_string(),
        title: format!("Recurring failure {fp}"),
        body_markdown: format!(
            "## Evidence\n\n{fp} failed {level} times in the window.\n\n## Risk\nlow\n\n## QA\nrerun"
        ),
        labels: vec![],
        severity: "medium".into(),
        level,
        held_back: false,
    }
}

fn pr(run_id: &str) -> PrPlan {
    PrPlan {
        branch: branch_for_run(run_id),
        title: format!("Codex improvement {run_id}"),
        body: format!("## Evidence\nrun {run_id}\n\n## Risk\nlow: docs and state only\n\n## QA\nreview the diff"),
        files: vec![
            PrFile {
                path: ".codex/improvement-log.md".into(),
                content: format!("# Improvement log\n\n## {run_id}\n- two findings\n"),
            },
            PrFile {
                path: ".codex/improvement-state.json".into(),
                content: format!("{{\"last_run\":\"{run_id}\"}}\n"),
            },
        ],
    }
}

fn plan(run_id: &str, level: f64) -> PublishPlan {
    PublishPlan {
        run_id: run_id.to_string(),
        tickets: vec![ticket(FP_CI, level), ticket(FP_TOOL, 3.0)],
        rolling_body: Some(format!(
            "# Codex Continuous Improvement\n\nLatest run: {run_id}\n\n| finding | level |\n|---|---|\n| {FP_CI} | {level} |\n"
        )),
        pr: Some(pr(run_id)),
        pending: vec![],
    }
}

fn with_marker(d: &GithubDouble, fp: &str) -> Vec<IssueView> {
    let m = fingerprint_marker(fp);
    d.issues()
        .into_iter()
        .filter(|i| i.body.as_deref().is_some_and(|b| b.contains(&m)))
        .collect()
}

fn open(v: Vec<IssueView>) -> Vec<IssueView> {
    v.into_iter().filter(|i| i.state == "open").collect()
}

fn rolling(d: &GithubDouble) -> Vec<IssueView> {
    d.issues()
        .into_iter()
        .filter(|i| {
            i.body
                .as_deref()
                .is_some_and(|b| b.contains(ROLLING_MARKER))
        })
        .collect()
}

/// Every planned item is on GitHub exactly once.
fn assert_complete(d: &GithubDouble, run_id: &str) {
    for fp in [FP_CI, FP_TOOL] {
        let open = open(with_marker(d, fp));
        assert_eq!(open.len(), 1, "one open ticket for {fp}: {open:?}");
        let labels = &open[0].labels;
        assert!(
            labels.contains(&"automation".to_string())
                && labels.contains(&"codex-improvement".to_string()),
            "{labels:?}"
        );
    }
    let r = open(rolling(d));
    assert_eq!(r.len(), 1, "one open rolling issue: {r:?}");
    assert_eq!(r[0].title, ROLLING_TITLE);
    let branch = branch_for_run(run_id);
    let prs: Vec<_> = d
        .pulls()
        .into_iter()
        .filter(|p| p.head_ref == branch)
        .collect();
    assert_eq!(prs.len(), 1, "one PR for {run_id}: {prs:?}");
    assert!(prs[0].draft);
    assert_eq!(prs[0].base_ref, "main");
    assert!(
        prs[0].labels.contains(&"automation".to_string()),
        "{:?}",
        prs[0].labels
    );
}

#[test]
fn first_run_publishes_everything_and_a_rerun_makes_zero_writes() {
    let d = GithubDouble::start();
    let main_before = d.branch_sha("main").unwrap();
    let out = publish(&d, &plan(AM, 5.0));
    assert_eq!(out.status, PublishStatus::Published, "{:#?}", out);
    assert!(out.pending.is_empty());
    assert_complete(&d, AM);
    assert_eq!(out.tickets.len(), 2);
    assert_eq!(
        out.tickets[FP_CI],
        open(with_marker(&d, FP_CI))[0].number,
        "the outcome names the ticket"
    );

    // The PR: one commit on top of main, only the planned (allow-listed) files, main untouched.
    let pr = d.pulls().into_iter().next().unwrap();
    assert_eq!(d.branch_sha("main").unwrap(), main_before);
    assert_eq!(d.commit_parents(&pr.head_sha), vec![main_before]);
    let changed = d.changed_paths(&pr.head_sha);
    assert_eq!(
        changed,
        vec![".codex/improvement-log.md", ".codex/improvement-state.json"]
    );
    assert!(changed
        .iter()
        .all(|p| ALLOWED_PR_FILES.contains(&p.as_str())));
    let files = d.branch_files(&branch_for_run(AM)).unwrap();
    assert!(files[".codex/improvement-log.md"].contains(AM));
    assert_eq!(
        files["README.md"], "# widgets\n",
        "the rest of main is kept"
    );
    assert!(d.write_requests().iter().all(|r| r.authorized));

    // Rerun of the same run ID: reads only.
    d.clear_log();
    let again = publish(&d, &plan(AM, 5.0));
    assert_eq!(d.write_requests().len(), 0, "{:#?}", d.write_requests());
    assert_eq!(again.writes, 0);
    assert_eq!(again.status, PublishStatus::Published);
    assert!(
        again
            .results
            .iter()
            .all(|r| matches!(r.action, Action::Unchanged | Action::AlreadyExists)),
        "{:#?}",
        again.results
    );
    assert_eq!(again.tickets, out.tickets);
    assert_complete(&d, AM);
}

#[test]
fn next_run_refreshes_tickets_with_a_comment_and_opens_its_own_pr() {
    let d = GithubDouble::start();
    publish(&d, &plan(AM, 5.0));
    let out = publish(&d, &plan(PM, 9.0));
    assert_eq!(out.status, PublishStatus::Published, "{:#?}", out.results);
    assert_complete(&d, AM);
    assert_complete(&d, PM);
    let t = open(with_marker(&d, FP_CI)).remove(0);
    assert!(t.body.as_deref().unwrap().contains("level: 9"));
    assert_eq!(t.comments.len(), 1, "{:?}", t.comments);
    assert!(t.comments[0].contains("Seen again in run `2026-03-10-PM`: level 9 (was 5"));
    let r = open(rolling(&d)).remove(0);
    assert!(r
        .body
        .as_deref()
        .unwrap()
        .contains("Latest run: 2026-03-10-PM"));
    assert_eq!(d.pulls().len(), 2);

    d.clear_log();
    publish(&d, &plan(PM, 9.0));
    assert!(d.write_requests().is_empty(), "{:#?}", d.write_requests());
    assert_eq!(open(with_marker(&d, FP_CI))[0].comments.len(), 1);
}

#[test]
fn racing_publishers_make_no_duplicates() {
    let d = GithubDouble::start();
    // Hold both runs' searches (tickets, then rolling issue) and PR lookups until both
    // runs have made them, so that both finish looking before either creates anything:
    // the check-then-create race for sure, however the threads are scheduled.
    let searches = Rendezvous::new(2);
    d.inject("GET", "/search/issues", Fault::Rendezvous(searches), 0, 4);
    let pulls = Rendezvous::new(2);
    d.inject(
        "GET",
        "/repos/octo-org/widgets/pulls",
        Fault::Rendezvous(pulls),
        0,
        2,
    );
    let barrier = Arc::new(Barrier::new(2));
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let target = target(&d);
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                let p = Publisher::new(&target, settings());
                barrier.wait();
                block_on(p.publish(&plan(AM, 5.0))).unwrap()
            })
        })
        .collect();
    let outs: Vec<PublishOutcome> = handles.into_iter().map(|h| h.join().unwrap()).collect();

    assert_complete(&d, AM);
    assert_eq!(d.pulls().len(), 1);
    assert_eq!(
        d.branches().len(),
        2,
        "main and one bot branch: {:?}",
        d.branches()
    );
    for o in &outs {
        assert!(o.pending.is_empty(), "{:#?}", o);
    }
    // Both runs agree on which issues are the tickets and the rolling issue.
    assert_eq!(outs[0].tickets, outs[1].tickets);
    assert_eq!(outs[0].rolling_issue, outs[1].rolling_issue);
    assert_eq!(outs[0].pull_request, outs[1].pull_request);
    // The race really happened: duplicates were created and closed at write time.
    let closed_dups: usize = outs
        .iter()
        .map(|o| {
            o.results
                .iter()
                .filter(|r| r.action == Action::ClosedDuplicate)
                .count()
        })
        .sum();
    assert!(closed_dups >= 2, "{:#?}", outs);
    for fp in [FP_CI, FP_TOOL] {
        let all = with_marker(&d, fp);
        let keep = open(all.clone())[0].number;
        assert!(
            all.iter().all(|i| i.number >= keep),
            "the lowest number survives"
        );
        for dup in all.iter().filter(|i| i.state == "closed") {
            assert!(dup
                .comments
                .iter()
                .any(|c| c.contains(&format!("Duplicate of #{keep}"))));
        }
    }

    d.clear_log();
    publish(&d, &plan(AM, 5.0));
    assert!(d.write_requests().is_empty(), "{:#?}", d.write_requests());
}

#[test]
fn a_failed_write_mid_run_goes_pending_and_the_next_run_completes_without_duplicates() {
    let d = GithubDouble::start();
    // Writes: two labels, then the first ticket: the 3rd write fails.
    d.fault_nth_write(3, Fault::Status(500));
    let first = publish(&d, &plan(AM, 5.0));
    assert_eq!(first.status, PublishStatus::Partial);
    assert_eq!(first.pending.len(), 1, "{:#?}", first.pending);
    assert_eq!(first.pending[0].key(), ItemKey::Ticket(FP_CI.into()));
    assert!(with_marker(&d, FP_CI).is_empty());
    assert_eq!(open(with_marker(&d, FP_TOOL)).len(), 1, "the rest went on");
    assert_eq!(d.pulls().len(), 1);

    // The caller stores the pending list (it is plain JSON) and hands it back next run.
    let stored = serde_json::to_string(&first.pending).unwrap();
    let pending: Vec<PendingItem> = serde_json::from_str(&stored).unwrap();
    let mut next = plan(PM, 6.0);
    next.tickets.retain(|t| t.fingerprint != FP_CI); // the finding did not recur
    next.pending = pending;
    let second = publish(&d, &next);
    assert_eq!(second.status, PublishStatus::Published, "{:#?}", second);
    assert_eq!(open(with_marker(&d, FP_CI)).len(), 1, "nothing lost");
    assert_eq!(with_marker(&d, FP_CI).len(), 1, "nothing duplicated");
    assert_complete(&d, PM);
}

#[test]
fn a_write_that_applied_but_answered_502_is_not_duplicated() {
    let d = GithubDouble::start();
    d.inject(
        "POST",
        "/repos/octo-org/widgets/issues",
        Fault::AfterApply(502),
        0,
        1,
    );
    let first = publish(&d, &plan(AM, 5.0));
    assert_eq!(first.pending.len(), 1);
    assert_eq!(with_marker(&d, FP_CI).len(), 1, "GitHub did create it");
    let mut next = plan(AM, 5.0);
    next.pending = first.pending.clone();
    let second = publish(&d, &next);
    assert!(second.pending.is_empty());
    assert_eq!(
        with_marker(&d, FP_CI).len(),
        1,
        "found by its marker, not created again"
    );
    assert_complete(&d, AM);
}

#[test]
fn server_errors_on_reads_are_retried_and_short_rate_limits_are_waited_out() {
    let d = GithubDouble::start();
    d.fail_next("GET", "/repos/octo-org/widgets/issues", 502, 1);
    d.inject(
        "GET",
        "/search/issues",
        Fault::TooManyRequests {
            retry_after_secs: 1,
        },
        0,
        1,
    );
    d.inject(
        "GET",
        "/repos/octo-org/widgets/git/ref",
        Fault::SecondaryRateLimit {
            retry_after_secs: 1,
        },
        0,
        1,
    );
    let started = std::time::Instant::now();
    let out = publish(&d, &plan(AM, 5.0));
    assert_eq!(out.status, PublishStatus::Published, "{:#?}", out);
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "retry-after was honoured"
    );
    assert_complete(&d, AM);
    let statuses: Vec<u16> = d.requests().iter().map(|r| r.status).collect();
    assert!(statuses.contains(&502) && statuses.contains(&429) && statuses.contains(&403));
}

#[test]
fn a_long_rate_limit_stops_the_run_and_the_next_run_finishes_it() {
    let d = GithubDouble::start();
    // A primary rate limit resetting in an hour: far past the wait cap.
    d.inject(
        "GET",
        "/search/issues",
        Fault::PrimaryRateLimit {
            reset_in_secs: 3600,
        },
        1,
        1,
    );
    let first = publish(&d, &plan(AM, 5.0));
    assert_eq!(first.status, PublishStatus::Partial);
    // Tickets went through (first search); the rolling issue's search hit the limit, and the
    // PR was not even attempted.
    assert_eq!(first.pending.len(), 2, "{:#?}", first.pending);
    assert!(first.results.iter().any(
        |r| r.item == ItemKey::PullRequest(AM.into()) && r.detail.starts_with("not attempted")
    ));
    assert!(d.pulls().is_empty());
    let requests_after_limit = d.requests().iter().skip_while(|r| r.status != 403).count();
    assert_eq!(requests_after_limit, 1, "no request after the rate limit");

    let mut next = plan(AM, 5.0);
    next.pending = first.pending.clone();
    let second = publish(&d, &next);
    assert_eq!(second.status, PublishStatus::Published, "{:#?}", second);
    assert_complete(&d, AM);
}

#[test]
fn a_timeout_goes_pending_and_the_late_write_is_found_next_run() {
    let d = GithubDouble::start();
    // The rolling issue's creation answers after the 2 s client deadline (and still applies).
    d.inject(
        "POST",
        "/repos/octo-org/widgets/issues",
        Fault::Delay(Duration::from_secs(3)),
        2,
        1,
    );
    let first = publish(&d, &plan(AM, 5.0));
    assert_eq!(first.status, PublishStatus::Partial);
    assert_eq!(first.pending.len(), 1);
    assert_eq!(first.pending[0].key(), ItemKey::Rolling);
    assert!(
        first
            .results
            .iter()
            .any(|r| r.detail.contains("within 2 s")),
        "{:#?}",
        first.results
    );
    // Wait for the delayed request to land in the double, as it would on GitHub.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while rolling(&d).is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut next = plan(AM, 5.0);
    next.pending = first.pending.clone();
    let second = publish(&d, &next);
    assert!(second.pending.is_empty());
    assert_eq!(rolling(&d).len(), 1);
    assert_complete(&d, AM);
}

fn pr_only(run_id: &str, branch: &str) -> PublishPlan {
    let mut p = pr(run_id);
    p.branch = branch.to_string();
    PublishPlan {
        run_id: run_id.to_string(),
        tickets: vec![],
        rolling_body: None,
        pr: Some(p),
        pending: vec![],
    }
}

#[test]
fn the_main_guard_refuses_before_any_request() {
    let d = GithubDouble::start();
    d.set_default_branch("trunk");
    d.protect_branch("main");
    d.protect_branch("trunk");
    for branch in [
        "main",
        "master",
        "trunk",
        "refs/heads/main",
        "feature/x",
        "codex-improvement/2026-03-10-PM",
    ] {
        let out = publish(&d, &pr_only(AM, branch));
        assert!(
            out.results
                .iter()
                .any(|r| r.item == ItemKey::PullRequest(AM.into()) && r.action == Action::Refused),
            "{branch}: {:#?}",
            out
        );
        assert!(out.pending.is_empty(), "a refusal is not retried");
        assert!(d.requests().is_empty(), "{branch}: {:#?}", d.requests());
    }
    // A file outside the allow-list is refused too.
    let mut bad = pr_only(AM, &branch_for_run(AM));
    bad.pr.as_mut().unwrap().files.push(PrFile {
        path: ".github/workflows/ci.yml".into(),
        content: "on: push".into(),
    });
    let out = publish(&d, &bad);
    assert_eq!(out.results[0].action, Action::Refused);
    assert!(out.results[0].detail.contains(".github/workflows/ci.yml"));
    assert!(d.requests().is_empty());

    // A default branch inside the bot prefix: known only after reading the repository, and
    // still refused before any write.
    let bot = branch_for_run(AM);
    d.set_default_branch(&bot);
    let before = d.branch_sha(&bot);
    let out = publish(&d, &pr_only(AM, &bot));
    assert_eq!(out.results[0].action, Action::Refused, "{:#?}", out);
    assert!(out.results[0].detail.contains("default branch"));
    assert!(d.write_requests().is_empty(), "{:#?}", d.write_requests());
    assert_eq!(d.branch_sha(&bot), before);
}

#[test]
fn no_token_sends_nothing_and_keeps_everything_pending() {
    let d = GithubDouble::start();
    let mut t = target(&d);
    t.token = None;
    let p = Publisher::new(&t, settings());
    assert_eq!(p.unavailable_reason(), Some(NO_TOKEN));
    let out = block_on(p.publish(&plan(AM, 5.0))).unwrap();
    assert_eq!(out.status, PublishStatus::NotPublished);
    assert_eq!(out.reason.as_deref(), Some(NO_TOKEN));
    assert!(
        out.summary().contains("not published: no GITHUB_TOKEN"),
        "{}",
        out.summary()
    );
    assert_eq!(
        out.pending.len(),
        4,
        "two tickets, the rolling issue, the PR"
    );
    assert!(d.requests().is_empty());
    let err = block_on(p.pr_activity(&window(0, 12)))
        .unwrap()
        .unwrap_err();
    assert!(err.to_string().contains("no GITHUB_TOKEN"));

    // With a token, the pending items go out.
    let mut next = PublishPlan {
        run_id: PM.into(),
        ..PublishPlan::default()
    };
    next.pending = out.pending;
    let out = publish(&d, &next);
    assert_eq!(out.status, PublishStatus::Published, "{:#?}", out);
    assert_complete(&d, AM);
}

#[test]
fn a_closed_ticket_reopens_only_when_the_finding_regresses() {
    let d = GithubDouble::start();
    publish(&d, &plan(AM, 5.0));
    let n = open(with_marker(&d, FP_CI))[0].number;
    d.close_issue(n, "completed");

    for (run, level) in [(PM, 5.0), ("2026-03-11-AM", 4.0)] {
        d.clear_log();
        let out = publish(&d, &plan(run, level));
        let r = out.results_for(&ItemKey::Ticket(FP_CI.into()));
        assert_eq!(r[0].action, Action::KeptClosed, "{run}: {r:#?}");
        let issue_path = format!("/repos/octo-org/widgets/issues/{n}");
        let touched = d
            .write_requests()
            .iter()
            .any(|w| w.path == issue_path || w.path.starts_with(&format!("{issue_path}/")));
        assert!(!touched, "{run}: a closed ticket is not edited");
        assert_eq!(
            with_marker(&d, FP_CI).len(),
            1,
            "{run}: no new ticket either"
        );
        assert_eq!(d.issue(n).unwrap().state, "closed");
    }

    let out = publish(&d, &plan("2026-03-11-PM", 8.0));
    let r = out.results_for(&ItemKey::Ticket(FP_CI.into()));
    assert_eq!(r[0].action, Action::Reopened, "{r:#?}");
    let t = d.issue(n).unwrap();
    assert_eq!(t.state, "open");
    assert_eq!(t.state_reason.as_deref(), Some("reopened"));
    assert!(
        t.comments
            .iter()
            .any(|c| c.contains("level is 8, past the 5")),
        "{:?}",
        t.comments
    );
    assert_eq!(with_marker(&d, FP_CI).len(), 1);
}

#[test]
fn the_rolling_body_is_capped_under_githubs_limit() {
    let d = GithubDouble::start();
    let mut p = plan(AM, 5.0);
    p.rolling_body = Some("| finding | level |\n".repeat(10_000));
    let out = publish(&d, &p);
    assert_eq!(out.status, PublishStatus::Published, "{:#?}", out);
    let body = rolling(&d).remove(0).body.unwrap();
    assert!(body.chars().count() <= 60_000, "{}", body.chars().count());
    assert!(body.contains("Truncated"));
    assert!(body.contains(ROLLING_MARKER));
    d.clear_log();
    publish(&d, &p);
    assert!(
        d.write_requests().is_empty(),
        "no write when the body is unchanged"
    );
}

#[test]
fn duplicates_left_behind_are_closed_and_the_lowest_is_kept() {
    let d = GithubDouble::start();
    let marker = fingerprint_marker(FP_CI);
    let a = d.seed_issue(
        "old",
        &format!("x\n{marker}\n"),
        &["automation", "codex-improvement"],
    );
    let b = d.seed_issue(
        "old dup",
        &format!("y\n{marker}\n"),
        &["automation", "codex-improvement"],
    );
    let r1 = d.seed_issue(
        ROLLING_TITLE,
        &format!("old\n{ROLLING_MARKER}\n"),
        &["automation", "codex-improvement"],
    );
    let r2 = d.seed_issue(
        ROLLING_TITLE,
        &format!("old 2\n{ROLLING_MARKER}\n"),
        &["automation", "codex-improvement"],
    );
    let out = publish(&d, &plan(AM, 5.0));
    assert_eq!(out.tickets[FP_CI], a);
    assert_eq!(d.issue(b).unwrap().state, "closed");
    assert_eq!(d.issue(a).unwrap().state, "open");
    assert!(d.issue(a).unwrap().body.unwrap().contains("level: 5"));
    assert_eq!(out.rolling_issue, Some(r1));
    assert_eq!(d.issue(r2).unwrap().state, "closed");
    assert_complete(&d, AM);
}

#[test]
fn tickets_are_found_by_marker_when_search_lags_or_labels_were_removed() {
    let d = GithubDouble::start();
    // A ticket whose labels a maintainer removed: only search can find it.
    let unlabelled = d.seed_issue(
        "renamed by a human",
        &format!("{}\n", fingerprint_marker(FP_TOOL)),
        &[],
    );
    // A human issue with the ticket's title but no marker is not the ticket.
    d.seed_issue(
        &format!("Recurring failure {FP_CI}"),
        "same title, no marker",
        &[],
    );
    publish(&d, &plan(AM, 5.0));
    assert_eq!(with_marker(&d, FP_TOOL).len(), 1);
    assert_eq!(with_marker(&d, FP_TOOL)[0].number, unlabelled);
    assert_eq!(
        with_marker(&d, FP_CI).len(),
        1,
        "a new ticket despite the same title"
    );

    // Search stops seeing new issues; the consistent labelled listing still finds them.
    d.freeze_search_index();
    let mut p = plan(PM, 5.0);
    p.tickets.push(ticket("new:v1:777", 1.0));
    publish(&d, &p);
    d.clear_log();
    publish(&d, &p);
    assert!(d.write_requests().is_empty(), "{:#?}", d.write_requests());
    assert_eq!(with_marker(&d, "new:v1:777").len(), 1);
}

#[test]
fn secrets_are_redacted_before_they_reach_github() {
    let d = GithubDouble::start();
    let token = "ghp_R8x2Lq0ZkT5vN3mW7yB1cD4eF6gH9jK0pQ2s";
    let aws = "AKIAZ3MXQ7RB4TLW2K5P";
    let mut p = plan(AM, 5.0);
    p.tickets[0].body_markdown = format!("The log printed GITHUB_TOKEN={token} before failing.");
    p.rolling_body = Some(format!("Summary; a tool printed {aws}"));
    p.pr.as_mut().unwrap().files[0].content = format!("- leaked: {token}\n");
    let out = publish(&d, &p);
    for r in d.requests() {
        assert!(
            !r.body.contains(token) && !r.body.contains(aws),
            "sent: {}",
            r.body
        );
    }
    for i in d.issues() {
        let b = i.body.unwrap_or_default();
        assert!(!b.contains(token) && !b.contains(aws), "stored: {b}");
    }
    for (_, content) in d.branch_files(&branch_for_run(AM)).unwrap_or_default() {
        assert!(!content.contains(token));
    }
    // The pending list (which the caller persists) never holds a secret either.
    let pending = serde_json::to_string(&out.pending).unwrap();
    assert!(!pending.contains(token) && !pending.contains(aws));
    // Redacted, not silently dropped: the ticket exists.
    assert_eq!(open(with_marker(&d, FP_CI)).len(), 1);
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// Window `[2026-03-10 start_h:00, end_h:00)` UTC.
fn window(start_h: u32, end_h: u32) -> Window {
    Window {
        start: at(&format!("2026-03-10T{start_h:02}:00:00Z")),
        end: at(&format!("2026-03-10T{end_h:02}:00:00Z")),
    }
}

#[test]
fn pr_activity_counts_human_prs_and_leaves_out_automation() {
    let d = GithubDouble::start();
    let seed = |title: &str,
                head: &str,
                labels: &[&str],
                created: &str,
                merged: Option<&str>,
                closed: Option<&str>| {
        d.seed_pull(SeedPull {
            title: title.into(),
            head: head.into(),
            author: HUMAN_LOGIN.into(),
            labels: labels.iter().map(|s| s.to_string()).collect(),
            created_at: at(created),
            merged_at: merged.map(at),
            closed_at: closed.map(at),
            draft: false,
        })
    };
    seed("opened", "f1", &[], "2026-03-10T02:00:00Z", None, None);
    seed(
        "merged",
        "f2",
        &[],
        "2026-03-09T02:00:00Z",
        Some("2026-03-10T03:00:00Z"),
        None,
    );
    seed(
        "closed",
        "f3",
        &[],
        "2026-03-09T02:00:00Z",
        None,
        Some("2026-03-10T04:00:00Z"),
    );
    let reviewed = seed("reviewed", "f4", &[], "2026-03-01T02:00:00Z", None, None);
    d.seed_review(reviewed, "reviewer", "APPROVED", at("2026-03-10T05:00:00Z"));
    seed(
        "old",
        "f5",
        &[],
        "2026-03-01T02:00:00Z",
        Some("2026-03-02T02:00:00Z"),
        None,
    );
    seed(
        "bot",
        "f6",
        &["automation"],
        "2026-03-10T02:00:00Z",
        None,
        None,
    );
    seed("after", "f7", &[], "2026-03-10T13:00:00Z", None, None);

    let act = block_on(publisher(&d).pr_activity(&window(0, 12)))
        .unwrap()
        .unwrap();
    assert_eq!(
        (act.opened, act.merged, act.closed, act.reviewed),
        (1, 1, 1, 1),
        "{act:#?}"
    );
    assert_eq!(act.excluded_automation, 1);
    let mut titles: Vec<&str> = act.prs.iter().map(|p| p.title.as_str()).collect();
    titles.sort();
    assert_eq!(titles, vec!["closed", "merged", "opened", "reviewed"]);
    assert!(d.write_requests().is_empty());
}

#[test]
fn ci_failures_bring_failed_jobs_with_bounded_logs_and_flag_transient_ones() {
    let d = GithubDouble::start();
    let run = |name: &str, conclusion: &str, created: &str| {
        d.seed_run(SeedRun {
            workflow: name.into(),
            status: "completed".into(),
            conclusion: Some(conclusion.into()),
            created_at: at(created),
            head_branch: "main".into(),
            event: "push".into(),
        })
    };
    let real = run("CI", "failure", "2026-03-10T02:00:00Z");
    let long_log = format!(
        "{}error[E0308]: mismatched types\ntest result: FAILED\n",
        "compiling...\n".repeat(50_000)
    );
    d.seed_job(real, "test", "failure", Some(&long_log));
    d.seed_job(
        real,
        "lint",
        "cancelled",
        Some("The operation was canceled."),
    );
    d.seed_job(real, "build", "success", Some("ok"));
    let infra = run("CI", "failure", "2026-03-10T03:00:00Z");
    d.seed_job(
        infra,
        "test",
        "failure",
        Some("##[error]The runner has received a shutdown signal."),
    );
    let expired = run("Nightly", "failure", "2026-03-10T04:00:00Z");
    d.seed_job(expired, "e2e", "failure", None);
    run("CI", "failure", "2026-03-09T02:00:00Z"); // before the window
    run("CI", "success", "2026-03-10T05:00:00Z");

    let mut s = settings();
    s.max_log_bytes = 4096;
    let p = Publisher::new(&target(&d), s);
    let ci = block_on(p.ci_failures(&window(0, 12))).unwrap().unwrap();
    let mut jobs: Vec<(u64, &str, bool)> = ci
        .failures
        .iter()
        .map(|f| (f.run_id, f.job.as_str(), f.transient))
        .collect();
    jobs.sort();
    let mut want = vec![
        (real, "test", false),
        (real, "lint", true),
        (infra, "test", true),
        (expired, "e2e", false),
    ];
    want.sort();
    assert_eq!(jobs, want, "{ci:#?}");
    let test = ci
        .failures
        .iter()
        .find(|f| f.run_id == real && f.job == "test")
        .unwrap();
    assert!(test.log_truncated);
    assert!(test.log_text.len() <= 4096 + 64);
    assert!(
        test.log_text.contains("error[E0308]: mismatched types"),
        "the tail is kept"
    );
    assert_eq!(test.workflow, "CI");
    assert_eq!(test.conclusion, "failure");
    let lost = ci.failures.iter().find(|f| f.run_id == infra).unwrap();
    assert_eq!(lost.transient_reason.as_deref(), Some("runner lost"));
    let gone = ci.failures.iter().find(|f| f.run_id == expired).unwrap();
    assert!(gone.log_text.is_empty());
    assert!(ci.notes.iter().any(|n| n.contains("410")), "{:?}", ci.notes);
}

#[test]
fn artifact_toolcalls_are_downloaded_and_unzipped() {
    let d = GithubDouble::start();
    let run = d.seed_run(SeedRun {
        workflow: "Agents".into(),
        status: "completed".into(),
        conclusion: Some("success".into()),
        created_at: at("2026-03-10T02:00:00Z"),
        head_branch: "main".into(),
        event: "schedule".into(),
    });
    let ndjson = b"{\"v\":1,\"tool\":\"shell\"}\n{\"v\":1,\"tool\":\"apply_patch\"}\n";
    let zip = make_zip(&[("toolcalls.ndjson", ndjson), ("notes.txt", b"hi")]);
    let wanted = d.seed_artifact(
        run,
        "toolcalls-agent-1",
        zip.clone(),
        at("2026-03-10T02:30:00Z"),
        false,
    );
    d.seed_artifact(
        run,
        "toolcalls-agent-2",
        zip.clone(),
        at("2026-03-10T03:00:00Z"),
        true,
    );
    d.seed_artifact(
        run,
        "coverage",
        make_zip(&[("lcov.ndjson", b"{}\n")]),
        at("2026-03-10T03:00:00Z"),
        false,
    );
    d.seed_artifact(run, "toolcalls-old", zip, at("2026-03-09T03:00:00Z"), false);

    let h = block_on(publisher(&d).artifact_toolcalls(&window(0, 12)))
        .unwrap()
        .unwrap();
    assert_eq!(h.files.len(), 1, "{h:#?}");
    let f = &h.files[0];
    assert_eq!(
        (f.artifact_id, f.entry.as_str(), f.run_id),
        (wanted, "toolcalls.ndjson", Some(run))
    );
    assert_eq!(f.bytes, ndjson);
    assert!(
        h.skipped.iter().any(|s| s.contains("expired")),
        "{:?}",
        h.skipped
    );
}

/// The double's answers deserialize into octocrab's typed models (which follow GitHub's
/// schema), and it refuses what GitHub refuses.
#[test]
fn the_double_answers_in_githubs_shapes() {
    use octocrab::models;
    use octocrab::params::repos::Reference;
    use octocrab::params::State;

    let d = GithubDouble::start();
    let run = d.seed_run(SeedRun {
        workflow: "CI".into(),
        status: "completed".into(),
        conclusion: Some("failure".into()),
        created_at: Utc::now(),
        head_branch: "main".into(),
        event: "push".into(),
    });
    let job = d.seed_job(run, "test", "failure", Some("boom\n"));
    d.seed_artifact(
        run,
        "toolcalls",
        make_zip(&[("toolcalls.ndjson", b"{}\n")]),
        Utc::now(),
        false,
    );
    let human_pr = d.seed_pull(SeedPull {
        title: "feature".into(),
        head: "feature".into(),
        author: HUMAN_LOGIN.into(),
        labels: vec![],
        created_at: Utc::now(),
        merged_at: None,
        closed_at: None,
        draft: false,
    });
    d.seed_review(human_pr, "reviewer", "APPROVED", Utc::now());

    block_on(async {
        let octo = octocrab::Octocrab::builder()
            .base_uri(d.url())
            .unwrap()
            .personal_token("ghs_double_test_token".to_string())
            .build()
            .unwrap();
        let (o, r) = ("octo-org", "widgets");
        let repo = octo.repos(o, r).get().await.unwrap();
        assert_eq!(repo.default_branch.as_deref(), Some("main"));

        let issue = octo
            .issues(o, r)
            .create("typed")
            .body("body")
            .labels(vec!["automation".to_string()])
            .send()
            .await
            .unwrap();
        assert_eq!(issue.labels[0].name, "automation");
        assert_eq!(
            issue.labels[0].color, "ededed",
            "labels are created on first use"
        );
        octo.issues(o, r).create("second").send().await.unwrap();
        let c = octo
            .issues(o, r)
            .create_comment(issue.number, "hi")
            .await
            .unwrap();
        assert_eq!(c.body.as_deref(), Some("hi"));
        let closed = octo
            .issues(o, r)
            .update(issue.number)
            .state(models::IssueState::Closed)
            .send()
            .await
            .unwrap();
        assert_eq!(closed.state, models::IssueState::Closed);

        let page = octo
            .issues(o, r)
            .list()
            .state(State::All)
            .per_page(1)
            .send()
            .await
            .unwrap();
        assert_eq!(page.items.len(), 1);
        assert!(page.next.is_some(), "Link: rel=next");
        let next: octocrab::Page<models::issues::Issue> =
            octo.get_page(&page.next).await.unwrap().unwrap();
        assert_eq!(next.items.len(), 1);
        let all = octo.all_pages(page).await.unwrap();
        assert_eq!(all.len(), 3, "two issues and the PR");

        let labels = octo
            .issues(o, r)
            .list_labels_for_repo()
            .send()
            .await
            .unwrap();
        assert_eq!(labels.items.len(), 1);
        let found = octo
            .search()
            .issues_and_pull_requests("repo:octo-org/widgets is:issue in:title second")
            .send()
            .await
            .unwrap();
        assert_eq!(found.total_count, Some(1));

        let pulls = octo
            .pulls(o, r)
            .list()
            .state(State::All)
            .send()
            .await
            .unwrap();
        assert_eq!(pulls.items[0].head.ref_field, "feature");
        let reviews = octo
            .pulls(o, r)
            .list_reviews(human_pr)
            .send()
            .await
            .unwrap();
        assert_eq!(reviews.items.len(), 1);

        let runs = octo.workflows(o, r).list_all_runs().send().await.unwrap();
        assert_eq!(runs.items[0].id.0, run);
        let jobs = octo
            .workflows(o, r)
            .list_jobs(run.into())
            .send()
            .await
            .unwrap();
        assert_eq!(jobs.items[0].id.0, job);
        let log = octo
            .workflows(o, r)
            .download_job_logs(job.into())
            .await
            .unwrap();
        assert_eq!(&log[..], b"boom\n");
        let arts = octo
            .actions()
            .list_workflow_run_artifacts(o, r, run.into())
            .send()
            .await
            .unwrap();
        assert_eq!(arts.value.unwrap().items[0].name, "toolcalls");

        let main = octo
            .repos(o, r)
            .get_ref(&Reference::Branch("main".into()))
            .await
            .unwrap();
        let models::repos::Object::Commit { sha, .. } = main.object else {
            panic!("a commit ref");
        };
        let commit: models::commits::GitCommitObject = octo
            .get(format!("/repos/{o}/{r}/git/commits/{sha}"), None::<&()>)
            .await
            .unwrap();
        assert_eq!(commit.sha, sha);
    })
    .unwrap();

    // What GitHub refuses, the double refuses.
    let raw = |method: &str, path: &str, body: &str, auth: bool| -> u16 {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(d.url().trim_start_matches("http://")).unwrap();
        let auth = if auth {
            "Authorization: Bearer t\r\n"
        } else {
            ""
        };
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut resp = String::new();
        s.read_to_string(&mut resp).unwrap();
        resp[9..12].parse().unwrap()
    };
    let sha = d.branch_sha("main").unwrap();
    d.protect_branch("main");
    assert_eq!(
        raw(
            "PATCH",
            "/repos/octo-org/widgets/git/refs/heads/main",
            &format!("{{\"sha\":\"{sha}\",\"force\":true}}"),
            true
        ),
        422
    );
    assert_eq!(
        raw(
            "POST",
            "/repos/octo-org/widgets/issues",
            "{\"title\":\"x\"}",
            false
        ),
        401
    );
    assert_eq!(
        raw("POST", "/repos/octo-org/widgets/issues", "{}", true),
        422
    );
    assert_eq!(
        raw(
            "GET",
            "/search/issues?q=repo%3Aocto-org%2Fwidgets%20x",
            "",
            false
        ),
        422
    );
    assert_eq!(
        raw("GET", "/repos/octo-org/widgets/issues/999", "", false),
        404
    );
    assert_eq!(
        raw(
            "GET",
            &format!("/repos/octo-org/widgets/actions/jobs/{job}/logs"),
            "",
            false
        ),
        302
    );
    assert_eq!(
        raw(
            "POST",
            "/repos/octo-org/widgets/labels",
            "{\"name\":\"AUTOMATION\",\"color\":\"ffffff\"}",
            true
        ),
        422
    );
    // A bare head filter is ignored (GitHub's behaviour); `owner:branch` filters.
    let count = |q: &str| -> usize {
        block_on(async {
            let octo = octocrab::Octocrab::builder()
                .base_uri(d.url())
                .unwrap()
                .build()
                .unwrap();
            let v: serde_json::Value = octo
                .get(
                    format!("/repos/octo-org/widgets/pulls?state=all&head={q}"),
                    None::<&()>,
                )
                .await
                .unwrap();
            v.as_array().unwrap().len()
        })
        .unwrap()
    };
    assert_eq!(count("nope"), 1);
    assert_eq!(count("octo-org:nope"), 0);
    assert_eq!(count("octo-org:feature"), 1);
}
