//! The GitHub stage of `codex-analyzer run`: reads GitHub's signals before the rules and
//! publishes the run's results after the state recorded it.
//!
//! Active only with `--apply`, a token (`GITHUB_TOKEN`) and a repository (`--github-repo`
//! or `GITHUB_REPOSITORY`); the API base comes from `GITHUB_API_URL`. A dry run sends
//! nothing and reads nothing from GitHub: it lists what an apply would publish.
//!
//! **Before the rules** ([`Extension::gather`]):
//! - PR activity in the primary window, without `automation`-labelled PRs (loop prevention),
//!   into the Activity Summary and `github.collected.pr_activity`;
//! - failed Actions jobs of the rollup, as [`CiLog`]s with `source: Github`, which the run
//!   turns into failures with `ci_logs::failure_from_log` — the same signature algorithm as
//!   local CI logs, so `ci_signature_repeat` counts both, and transient failures stay in the
//!   log, out of tickets;
//! - `toolcalls*` artifacts of the rollup, merged into the tool-call analysis as extra record
//!   sources.
//!
//! **Publishing** ([`Extension::publish`]), in three steps so each one can cite the last:
//! 1. one ticket per finding fingerprint (plus tickets earlier runs left pending); the ticket
//!    numbers go into the state (`FindingHistory::set_ticket` fixes the baseline) and into the
//!    findings, the Impact Summary shows baseline beside current;
//! 2. the rolling issue, whose body is this run's summary with deltas, tickets and measured
//!    improvement;
//! 3. when findings triggered: one draft PR on `codex-improvement/<run-id>` with the run log
//!    and state exactly as this apply leaves them on disk, and `AGENTS.md` when clusters
//!    recur. The log inside the PR cannot know the PR's own number, so it names the branch;
//!    the number is reported in the output.
//!
//! What could not be published is kept in the state's `pending` list and passed back next
//! run. Every body goes through the publisher's sanitizer (redaction, then a final secret
//! check) before it is sent.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::time::Duration;

use anyhow::Context;
use codex_contract::state::{FindingHistory, PendingWrite, State, TicketRef};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::closed_loop::ClustersSection;
use crate::cluster::Cluster;
use crate::collect::ci_logs::{self, CiLog, CiSource};
use crate::collect::toolcalls::RecordSource;
use crate::deltas::Tracked;
use crate::finding::{sample, Finding, RuleId, Ticketing};
use crate::guidance::{self, code_block, code_span, GuidanceOptions};
use crate::numbers::pct;
use crate::publish::{
    self, block_on, branch_for_run, Action, ArtifactHarvest, CiFailures, GithubTarget, ItemKey,
    ItemResult, Limits, PendingItem, PrActivity, PrFile, PrPlan, PublishOutcome, PublishPlan,
    PublishSettings, PublishStatus, Publisher, TicketPlan,
};
use crate::run::{
    self, Extension, ExtraInputs, LogExtra, LogSection, PublishedItem, RunContext, RunOutput,
    Signals,
};
use crate::runlog::{self, cell, code};
use crate::triage;

/// `[github]` in `.codex/improvement.toml`.
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct GithubConfig {
    /// Off: neither read nor publish, even with a token.
    pub enabled: bool,
    /// Labels of tickets and the rolling issue (the listing that finds tickets filters on
    /// all of them).
    pub labels: Vec<String>,
    /// Labels of the bot PR.
    pub pr_labels: Vec<String>,
    /// PRs with this label are left out of PR activity.
    pub exclude_label: String,
    /// Artifacts whose name starts with this are read as tool-call logs.
    pub artifact_prefix: String,
    /// Moved to `[analysis] max_new_tickets` (the budget applies to dry runs and runs
    /// without GitHub too); still parsed only to say so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_new_tickets: Option<usize>,
    /// A closed ticket reopens when `level > earlier * (1 + reopen_margin)`.
    pub reopen_margin: f64,
    /// Per-request deadline, seconds.
    pub request_timeout_secs: u64,
    /// The longest rate-limit wait honoured before the rest goes pending, seconds.
    pub rate_limit_wait_secs: u64,
    pub collect_pr_activity: bool,
    pub collect_ci: bool,
    pub collect_artifacts: bool,
}

impl Default for GithubConfig {
    fn default() -> Self {
        let s = PublishSettings::default();
        GithubConfig {
            enabled: true,
            labels: s.labels,
            pr_labels: s.pr_labels,
            exclude_label: s.exclude_label,
            artifact_prefix: s.artifact_prefix,
            max_new_tickets: None,
            reopen_margin: s.reopen_margin,
            request_timeout_secs: s.limits.request_timeout.as_secs(),
            rate_limit_wait_secs: s.limits.rate_limit_wait_cap.as_secs(),
            collect_pr_activity: true,
            collect_ci: true,
            collect_artifacts: true,
        }
    }
}

impl GithubConfig {
    fn load(ctx: &RunContext) -> anyhow::Result<GithubConfig> {
        let c: GithubConfig = ctx.config.section("github")?.unwrap_or_default();
        if let Some(n) = c.max_new_tickets {
            anyhow::bail!(
                "[github] max_new_tickets has moved: write `max_new_tickets = {n}` under \
                 [analysis] in {} (the ticket budget applies to dry runs too)",
                crate::config::CONFIG_REL
            );
        }
        if c.labels.is_empty() {
            anyhow::bail!(
                "[github] labels must name at least one label (tickets are found by them); \
                 the default is [\"automation\", \"codex-improvement\"]"
            );
        }
        Ok(c)
    }

    /// The publisher's settings.
    pub fn settings(&self) -> PublishSettings {
        let d = PublishSettings::default();
        PublishSettings {
            labels: self.labels.clone(),
            pr_labels: self.pr_labels.clone(),
            exclude_label: self.exclude_label.clone(),
            artifact_prefix: self.artifact_prefix.clone(),
            reopen_margin: self.reopen_margin,
            limits: Limits {
                request_timeout: Duration::from_secs(self.request_timeout_secs.max(1)),
                rate_limit_wait_cap: Duration::from_secs(self.rate_limit_wait_secs),
                ..d.limits.clone()
            },
            ..d
        }
    }
}

/// What was read from GitHub before the rules.
#[derive(Default)]
struct Collected {
    pr_activity: Option<PrActivity>,
    ci: Option<CiFailures>,
    artifacts: Option<ArtifactHarvest>,
    /// Why something was not read.
    notes: Vec<String>,
}

/// The run's PR as published in the `publish` hook, completed in `after_write`.
struct PrDone {
    number: Option<u64>,
    url: Option<String>,
    action: String,
    /// The log section the PR carries, to check it is what the run wrote.
    section: String,
}

/// The GitHub stage.
pub struct GithubStage {
    target: GithubTarget,
    collected: Collected,
    pr: Option<PrDone>,
}

impl GithubStage {
    pub fn new(target: GithubTarget) -> GithubStage {
        GithubStage {
            target,
            collected: Collected::default(),
            pr: None,
        }
    }

    /// Where issue and PR pages live: `GITHUB_SERVER_URL` (set by Actions), else derived
    /// from the API base (`api.github.com` → `github.com`, GHES `…/api/v3` → `…`).
    fn html_base(&self) -> String {
        if let Some(s) = std::env::var("GITHUB_SERVER_URL")
            .ok()
            .filter(|s| !s.trim().is_empty())
        {
            return s.trim_end_matches('/').to_string();
        }
        let api = self.target.api_url.trim_end_matches('/');
        if api == "https://api.github.com" {
            "https://github.com".to_string()
        } else {
            api.strip_suffix("/api/v3").unwrap_or(api).to_string()
        }
    }

    fn page_url(&self, kind: &str, n: u64) -> Option<String> {
        let repo = self.target.repository.as_deref()?;
        Some(format!("{}/{repo}/{kind}/{n}", self.html_base()))
    }
}

/// The publisher's window type for a collector window.
fn window(w: crate::collect::Window) -> publish::Window {
    publish::Window {
        start: w.start,
        end: w.end,
    }
}

impl Extension for GithubStage {
    fn name(&self) -> &str {
        "github"
    }

    fn gather(&mut self, ctx: &RunContext, extra: &mut ExtraInputs) -> anyhow::Result<()> {
        let cfg = GithubConfig::load(ctx)?;
        if !cfg.enabled {
            self.collected
                .notes
                .push("GitHub stage disabled ([github] enabled = false)".into());
            return Ok(());
        }
        if !ctx.apply {
            self.collected.notes.push(
                "GitHub signals not read: dry run (pass --apply with GITHUB_TOKEN to read PRs, CI runs and artifacts)"
                    .into(),
            );
            return Ok(());
        }
        let publisher = Publisher::new(&self.target, cfg.settings());
        if let Some(why) = publisher.unavailable_reason() {
            self.collected.notes.push(format!(
                "GitHub signals not read ({})",
                why.trim_start_matches("not published: ")
            ));
            return Ok(());
        }
        let (primary, rollup) = (window(ctx.primary), window(ctx.rollup));
        let (prs, ci, artifacts) = block_on(async {
            let prs = if cfg.collect_pr_activity {
                Some(publisher.pr_activity(&primary).await)
            } else {
                None
            };
            let ci = if cfg.collect_ci {
                Some(publisher.ci_failures(&rollup).await)
            } else {
                None
            };
            let artifacts = if cfg.collect_artifacts {
                Some(publisher.artifact_toolcalls(&rollup).await)
            } else {
                None
            };
            (prs, ci, artifacts)
        })
        .context("cannot start the async runtime for GitHub requests")?;

        let mut note = |what: &str, e: &dyn std::fmt::Display| {
            let msg = format!("GitHub {what} not read: {e}");
            extra.warnings.push(msg.clone());
            self.collected.notes.push(msg);
        };
        match prs {
            Some(Ok(a)) => self.collected.pr_activity = Some(a),
            Some(Err(e)) => note("PR activity", &e),
            None => {}
        }
        match ci {
            Some(Ok(f)) => {
                for job in &f.failures {
                    extra.ci_logs.push(ci_log_of(job));
                }
                self.collected.ci = Some(f);
            }
            Some(Err(e)) => note("CI runs", &e),
            None => {}
        }
        match artifacts {
            Some(Ok(h)) => {
                for f in &h.files {
                    extra.toolcall_sources.push(RecordSource::from_bytes(
                        format!(
                            "artifact {} ({})/{}",
                            f.artifact_id, f.artifact_name, f.entry
                        ),
                        f.bytes.clone(),
                    ));
                }
                self.collected.artifacts = Some(h);
            }
            Some(Err(e)) => note("tool-call artifacts", &e),
            None => {}
        }
        Ok(())
    }

    fn analyze(
        &mut self,
        ctx: &RunContext,
        _signals: &Signals,
        out: &mut RunOutput,
    ) -> anyhow::Result<()> {
        let c = &self.collected;
        if let Some(a) = &c.pr_activity {
            out.log_extras.push(LogExtra {
                section: LogSection::ActivitySummary,
                markdown: pr_activity_markdown(a, &ctx.primary.info().length),
            });
        }
        if let Some(f) = &c.ci {
            out.log_extras.push(LogExtra {
                section: LogSection::FailureClusters,
                markdown: ci_jobs_markdown(f, &ctx.rollup.info().length),
            });
        }
        if let Some(h) = &c.artifacts {
            out.log_extras.push(LogExtra {
                section: LogSection::ToolCallAnalysis,
                markdown: artifacts_markdown(h),
            });
        }
        out.github = Some(json!({
            "repository": self.target.repository,
            "api_url": self.target.api_url,
            "collected": {
                "pr_activity": c.pr_activity,
                "ci": c.ci.as_ref().map(ci_json),
                "artifacts": c.artifacts.as_ref().map(|h| json!({
                    "files": h.files,
                    "skipped": h.skipped,
                })),
            },
            "notes": c.notes,
        }));
        Ok(())
    }

    fn publish(
        &mut self,
        ctx: &RunContext,
        out: &mut RunOutput,
        state: &mut State,
    ) -> anyhow::Result<()> {
        let cfg = GithubConfig::load(ctx)?;
        if !cfg.enabled {
            set_publish(
                out,
                json!({"status": "disabled", "summary": "GitHub stage disabled ([github] enabled = false)"}),
            );
            return Ok(());
        }
        let clusters = ClustersSection::from_output(out)
            .map(|c| c.items)
            .unwrap_or_default();
        let tickets: Vec<TicketPlan> = out
            .findings
            .iter()
            .map(|f| {
                ticket_plan(
                    f,
                    state.findings.get(&f.fingerprint),
                    &clusters,
                    &ctx.run_id,
                )
            })
            .collect();
        let has_pr = !out.findings.is_empty();
        let branch = branch_for_run(&ctx.run_id);
        let pr_title = format!(
            "Codex improvement: run {} ({} finding{})",
            ctx.run_id,
            out.findings.len(),
            if out.findings.len() == 1 { "" } else { "s" }
        );

        // The budget left to this run ID (a forced rerun spends only what its first attempt
        // left); the publisher spends it in finding order, refreshes costing nothing.
        let mut settings = cfg.settings();
        settings.max_new_tickets =
            triage::room(state, &ctx.run_id, ctx.config.analysis.max_new_tickets);
        let publisher = Publisher::new(&self.target, settings);
        if !ctx.apply && publisher.unavailable_reason().is_none() {
            return dry_run(ctx, out, &tickets, has_pr.then_some((&branch, &pr_title)));
        }
        // An apply, or a dry run that could not publish anyway (no token or repository):
        // the same steps, which send nothing without a connection, so `--format md` of such
        // a dry run is exactly the section the apply appends. The state a dry run changes
        // here is never written.
        let pending = Pending::take(state, &mut out.warnings);

        // 1. Tickets.
        let plan = PublishPlan {
            run_id: ctx.run_id.clone(),
            tickets: tickets.clone(),
            rolling_body: None,
            pr: None,
            pending: pending.tickets.clone(),
        };
        let o1 = run_publish(&publisher, &plan)?;
        settle_ticketing(out, &o1);
        self.record_tickets(ctx, out, state, &plan, &o1);
        pending.keep(&o1, state);

        // 2. The rolling issue (this run's body supersedes any pending one).
        let body = rolling_body(ctx, out, &clusters, has_pr.then_some(branch.as_str()));
        let plan = PublishPlan {
            run_id: ctx.run_id.clone(),
            rolling_body: Some(body),
            ..PublishPlan::default()
        };
        let o2 = run_publish(&publisher, &plan)?;
        let main = main_result(&o2.results_for(&ItemKey::Rolling));
        out.tickets.push(PublishedItem {
            kind: "rolling_issue".into(),
            action: main.map_or("unchanged".into(), |r| action_str(r.action)),
            fingerprint: None,
            number: o2.rolling_issue,
            url: o2.rolling_issue.and_then(|n| self.page_url("issues", n)),
            title: publish::ROLLING_TITLE.into(),
        });
        pending.keep(&o2, state);
        // The PR's fate is not known yet (the log travels in it), so this line is about the
        // tickets and the rolling issue.
        out.log_extras.push(LogExtra {
            section: LogSection::AutoCreatedTickets,
            markdown: format!(
                "GitHub (tickets and rolling issue): {}.",
                combined_summary(&[&o1, &o2])
            ),
        });

        // 3. The PR: this run's (carrying the log and state as they will be on disk), or a
        //    retry of an earlier run's pending one on a clean run.
        let o3 = if has_pr {
            out.pull_requests.push(PublishedItem {
                kind: "pull_request".into(),
                action: if publisher.unavailable_reason().is_some() {
                    "pending"
                } else {
                    "proposed"
                }
                .into(),
                fingerprint: None,
                number: None,
                url: None,
                title: format!("draft PR from {branch}: {pr_title}"),
            });
            // The state the PR commits: older PR plans are superseded by this one and never
            // nest inside it.
            let section = runlog::render(out);
            let files = pr_files(ctx, &section, state, &clusters, &mut out.warnings)?;
            let pr = PrPlan {
                branch: branch.clone(),
                title: pr_title,
                body: pr_body(ctx, out, &clusters, &files),
                files,
            };
            let plan = PublishPlan {
                run_id: ctx.run_id.clone(),
                pr: Some(pr),
                pending: pending.prs.clone(),
                ..PublishPlan::default()
            };
            let o3 = run_publish(&publisher, &plan)?;
            let main = main_result(&o3.results_for(&ItemKey::PullRequest(ctx.run_id.clone())));
            self.pr = Some(PrDone {
                number: o3.pull_request,
                url: o3.pull_request.and_then(|n| self.page_url("pull", n)),
                action: main.map_or("unchanged".into(), |r| action_str(r.action)),
                section,
            });
            o3
        } else {
            let plan = PublishPlan {
                run_id: ctx.run_id.clone(),
                pending: pending.prs.clone(),
                ..PublishPlan::default()
            };
            let o3 = run_publish(&publisher, &plan)?;
            for p in &pending.prs {
                let key = p.key();
                let main = main_result(&o3.results_for(&key));
                out.pull_requests.push(PublishedItem {
                    kind: "pull_request".into(),
                    action: main.map_or("unchanged".into(), |r| action_str(r.action)),
                    fingerprint: None,
                    number: main.and_then(|r| r.number),
                    url: main
                        .and_then(|r| r.number)
                        .and_then(|n| self.page_url("pull", n)),
                    title: format!("{key} (retried)"),
                });
            }
            if pending.prs.is_empty() {
                out.log_extras.push(LogExtra {
                    section: LogSection::PrsCreated,
                    markdown: "No PR for this run: no finding crossed a threshold.".into(),
                });
            }
            o3
        };
        pending.keep(&o3, state);

        let all = [&o1, &o2, &o3];
        // A dry run says why nothing would be published in its summary line, once.
        if ctx.apply {
            if let Some(reason) = all.iter().find_map(|o| o.reason.as_ref()) {
                out.warnings.push(format!(
                    "{reason}: the local run log and state are complete; {} item(s) are kept pending in the state for the next run",
                    state.pending.len()
                ));
            } else if !state.pending.is_empty() {
                out.warnings.push(format!(
                    "GitHub publishing incomplete: {} item(s) kept pending in the state for the next run",
                    state.pending.len()
                ));
            }
        }
        set_publish(
            out,
            json!({
                "status": combined_status(&all),
                "reason": o1.reason.clone(),
                "summary": combined_summary(&all),
                "results": all.iter().flat_map(|o| o.results.iter()).collect::<Vec<&ItemResult>>(),
                "pending": state.pending.len(),
                "writes": all.iter().map(|o| o.writes).sum::<u32>(),
                "rolling_issue": o2.rolling_issue,
                "pull_request": o3.pull_request,
                "branch": has_pr.then_some(branch),
            }),
        );
        Ok(())
    }

    fn after_write(&mut self, _ctx: &RunContext, out: &mut RunOutput) -> anyhow::Result<()> {
        // The log on disk names the PR by its branch (it is inside the PR); the output can
        // now say what became of it.
        if let Some(done) = self.pr.take() {
            if done.section != out.log_section {
                out.warnings.push(
                    "the run log section in the bot PR differs from the one written locally; \
                     the next run's PR carries the local one"
                        .into(),
                );
            }
            if let Some(item) = out
                .pull_requests
                .iter_mut()
                .find(|p| p.action == "proposed")
            {
                item.action = done.action;
                item.number = done.number;
                item.url = done.url;
            }
        }
        Ok(())
    }
}

impl GithubStage {
    /// Stores ticket numbers in the state and the findings, lists the tickets in the output,
    /// and shows newly ticketed findings' baselines in the Impact Summary.
    fn record_tickets(
        &self,
        ctx: &RunContext,
        out: &mut RunOutput,
        state: &mut State,
        plan: &PublishPlan,
        o: &PublishOutcome,
    ) {
        // This run's tickets in finding order, then earlier runs' pending ones.
        let mut titles: Vec<(&String, &String)> = Vec::new();
        let pending = plan.pending.iter().filter_map(|p| match p {
            PendingItem::Ticket { ticket, .. } => Some(ticket),
            _ => None,
        });
        for t in plan.tickets.iter().chain(pending) {
            if !titles.iter().any(|(fp, _)| **fp == t.fingerprint) {
                titles.push((&t.fingerprint, &t.title));
            }
        }
        for (fp, title) in titles {
            let results = o.results_for(&ItemKey::Ticket(fp.clone()));
            if results.is_empty() {
                continue;
            }
            let main = main_result(&results);
            let number = o.tickets.get(fp).copied();
            out.tickets.push(PublishedItem {
                kind: "ticket".into(),
                action: main.map_or_else(
                    || action_str(results[results.len() - 1].action),
                    |r| action_str(r.action),
                ),
                fingerprint: Some(fp.clone()),
                number: number.or_else(|| main.and_then(|r| r.number)),
                url: number.and_then(|n| self.page_url("issues", n)),
                title: title.clone(),
            });
            for dup in results
                .iter()
                .filter(|r| r.action == Action::ClosedDuplicate)
            {
                out.tickets.push(PublishedItem {
                    kind: "ticket".into(),
                    action: action_str(dup.action),
                    fingerprint: Some(fp.clone()),
                    number: dup.number,
                    url: dup.number.and_then(|n| self.page_url("issues", n)),
                    title: format!("{title} ({})", dup.detail),
                });
            }
            let Some(number) = number else {
                continue;
            };
            let open = main.is_none_or(|r| r.action != Action::KeptClosed);
            let Some(h) = state.findings.get_mut(fp) else {
                continue;
            };
            let ticket = TicketRef {
                number,
                url: self.page_url("issues", number).unwrap_or_default(),
                state: Some(if open { "open" } else { "closed" }.into()),
            };
            h.set_ticket(ticket.clone(), &ctx.run_id);
            let finding = out.findings.iter_mut().find(|f| &f.fingerprint == fp);
            if let (Some(b), Some(f)) = (h.baseline.as_mut(), finding.as_ref()) {
                if b.run_id == ctx.run_id && b.value.is_none() {
                    b.value = f.evidence.rate;
                }
            }
            let (baseline, rule, subject) = (h.baseline.clone(), h.rule.clone(), h.subject.clone());
            let (current, current_value) = finding
                .as_ref()
                .map_or((0, None), |f| (f.evidence.count, f.evidence.rate));
            if let Some(f) = finding {
                f.ticket = Some(ticket.clone());
            }
            if let (Some(deltas), Some(baseline)) = (out.deltas.as_mut(), baseline) {
                deltas.tracked.retain(|t| &t.fingerprint != fp);
                deltas.tracked.push(Tracked {
                    fingerprint: fp.clone(),
                    rule,
                    subject,
                    ticket,
                    baseline,
                    current,
                    current_value,
                });
                deltas
                    .tracked
                    .sort_by(|a, b| a.fingerprint.cmp(&b.fingerprint));
            }
        }
    }
}

/// The failed job as a CI log for the shared signature algorithm. A job whose log names no
/// error (or whose log GitHub no longer has) still failed: a line saying so is added, so it
/// is counted rather than dropped.
fn ci_log_of(job: &publish::CiFailure) -> CiLog {
    let name = if job.run_url.is_empty() {
        format!("actions/runs/{}/job/{}", job.run_id, job.job_id)
    } else {
        format!("{}/job/{}", job.run_url.trim_end_matches('/'), job.job_id)
    };
    let mut log = CiLog {
        source: CiSource::Github,
        job: format!("{} / {}", job.workflow, job.job),
        name,
        text: job.log_text.clone(),
        when: job.created_at,
        transient: job.transient,
    };
    if ci_logs::failure_from_log(&log).is_none() {
        let _ = write!(
            log.text,
            "\n##[error]The job ended with conclusion {} and its log names no error{}",
            job.conclusion,
            if job.log_text.is_empty() {
                " (the log is no longer available)"
            } else {
                ""
            }
        );
    }
    log
}

fn ci_json(f: &CiFailures) -> Value {
    json!({
        "failed_jobs": f.failures.len(),
        "transient": f.failures.iter().filter(|j| j.transient).count(),
        "jobs": f.failures.iter().map(|j| json!({
            "run_id": j.run_id,
            "workflow": sample(&j.workflow, 200),
            "job": sample(&j.job, 200),
            "job_id": j.job_id,
            "conclusion": j.conclusion,
            "created_at": j.created_at,
            "run_url": j.run_url,
            "head_branch": j.head_branch,
            "transient": j.transient,
            "transient_reason": j.transient_reason,
            "log_truncated": j.log_truncated,
        })).collect::<Vec<_>>(),
        "notes": f.notes,
    })
}

fn pr_activity_markdown(a: &PrActivity, window: &str) -> String {
    let mut s = format!(
        "- Pull requests ({window}, without automation PRs): {} opened, {} merged, {} closed unmerged, {} reviewed; {} automation PR(s) left out.\n",
        a.opened, a.merged, a.closed, a.reviewed, a.excluded_automation
    );
    for p in a.prs.iter().take(10) {
        let mut what = Vec::new();
        if p.opened_in_window {
            what.push("opened".to_string());
        }
        if p.merged_in_window {
            what.push("merged".to_string());
        }
        if p.closed_in_window {
            what.push("closed".to_string());
        }
        if p.reviews_in_window > 0 {
            what.push(format!("{} review(s)", p.reviews_in_window));
        }
        let _ = writeln!(
            s,
            "  - #{} {} ({}): {}",
            p.number,
            sample(&p.title, 120),
            sample(&p.author, 60),
            what.join(", ")
        );
    }
    if a.prs.len() > 10 {
        let _ = writeln!(s, "  - …and {} more.", a.prs.len() - 10);
    }
    s
}

fn ci_jobs_markdown(f: &CiFailures, window: &str) -> String {
    let transient = f.failures.iter().filter(|j| j.transient).count();
    let mut s = format!(
        "GitHub Actions failed jobs ({window}): {} ({transient} transient: kept here, never ticketed).\n",
        f.failures.len()
    );
    if !f.failures.is_empty() {
        s.push_str(
            "\n| Workflow / job | Conclusion | Transient | When | Run |\n|---|---|---|---|---|\n",
        );
        for j in f.failures.iter().take(20) {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} |",
                cell(&sample(&format!("{} / {}", j.workflow, j.job), 200)),
                j.conclusion,
                j.transient_reason.as_deref().unwrap_or("no"),
                j.created_at
                    .map(codex_contract::record::format_ts)
                    .unwrap_or_default(),
                if j.run_url.is_empty() {
                    format!("run {}", j.run_id)
                } else {
                    format!("[run {}]({})", j.run_id, j.run_url)
                }
            );
        }
        if f.failures.len() > 20 {
            let _ = writeln!(s, "\n…and {} more.", f.failures.len() - 20);
        }
    }
    for n in &f.notes {
        let _ = writeln!(s, "- Not read: {}", sample(n, 300));
    }
    s
}

fn artifacts_markdown(h: &ArtifactHarvest) -> String {
    let artifacts: BTreeSet<u64> = h.files.iter().map(|f| f.artifact_id).collect();
    let mut s = format!(
        "Tool-call artifacts merged into this analysis: {} file(s) from {} artifact(s).\n",
        h.files.len(),
        artifacts.len()
    );
    for f in h.files.iter().take(20) {
        let _ = writeln!(
            s,
            "- {} `{}` (artifact {}, run {})",
            cell(&sample(&f.artifact_name, 120)),
            cell(&sample(&f.entry, 200)),
            f.artifact_id,
            f.run_id.map_or_else(|| "?".into(), |r| r.to_string())
        );
    }
    for k in &h.skipped {
        let _ = writeln!(s, "- Skipped: {}", sample(k, 300));
    }
    s
}

/// The ticket of one finding. Same finding, same body: a rerun writes nothing.
fn ticket_plan(
    f: &Finding,
    history: Option<&FindingHistory>,
    clusters: &[Cluster],
    run_id: &str,
) -> TicketPlan {
    TicketPlan {
        fingerprint: f.fingerprint.clone(),
        title: format!("[codex-improvement] {}", f.title),
        body_markdown: ticket_body(f, history, clusters, run_id),
        labels: Vec::new(),
        severity: f.severity.as_str().into(),
        level: f.evidence.rate.unwrap_or(f.evidence.count as f64),
        held_back: f.ticketing == Some(Ticketing::HeldBack),
    }
}

/// Clusters behind a finding: same error type, or same tool.
fn related<'a>(f: &Finding, clusters: &'a [Cluster]) -> Vec<&'a Cluster> {
    clusters
        .iter()
        .filter(|c| match f.rule {
            RuleId::ErrorTypeRepeat => c.error_type == f.subject,
            RuleId::ToolFailureRate => f.subject == "*" || c.tool == f.subject,
            _ => false,
        })
        .take(5)
        .collect()
}

fn cluster_rows(s: &mut String, clusters: &[&Cluster]) {
    s.push_str("| # | Cluster | Tool | Command | Error type | Count | Sessions | Impact |\n");
    s.push_str("|---:|---|---|---|---|---:|---:|---:|\n");
    for (i, c) in clusters.iter().enumerate() {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {:.2} |",
            i + 1,
            code(&c.id),
            cell(&code(&c.tool)),
            cell(&code(&sample(&c.command_template, 80))),
            cell(&c.error_type),
            c.count,
            c.sessions,
            c.impact
        );
    }
    let notes = crate::semantic::summary::render_notes(clusters);
    if !notes.is_empty() {
        s.push('\n');
        s.push_str(&notes);
    }
}

fn ticket_body(
    f: &Finding,
    history: Option<&FindingHistory>,
    clusters: &[Cluster],
    run_id: &str,
) -> String {
    let e = &f.evidence;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "**{}** · rule `{}` · subject {} · fingerprint `{}`\n",
        f.severity.as_str(),
        f.rule,
        code(&sample(&f.subject, 200)),
        f.fingerprint
    );
    s.push_str("## Evidence\n\n");
    let rate = match (e.rate, e.total) {
        (Some(r), Some(t)) => format!(": {} of {t} calls", pct(r)),
        (Some(r), None) => format!(": {}", pct(r)),
        _ => String::new(),
    };
    let threshold = if e.rate.is_some() {
        pct(e.threshold)
    } else {
        publish_level(e.threshold)
    };
    let _ = writeln!(
        s,
        "- {} in the last {} (threshold {threshold}){rate}.",
        e.count, e.window
    );
    if let (Some(a), Some(b)) = (&e.first_seen, &e.last_seen) {
        let _ = writeln!(s, "- First seen {a}, last seen {b}.");
    }
    if !e.refs.is_empty() {
        let refs: Vec<String> = e
            .refs
            .iter()
            .take(10)
            .map(|r| code(&sample(r, 120)))
            .collect();
        let _ = writeln!(s, "- Refs: {}.", refs.join(", "));
    }
    let mut samples: Vec<&str> = Vec::new();
    for x in &e.samples {
        if !samples.contains(&x.as_str()) {
            samples.push(x);
        }
    }
    if !samples.is_empty() {
        s.push_str("\nSamples (redacted):\n\n");
        s.push_str(code_block(&samples.join("\n"), "text").trim_end());
        s.push('\n');
    }
    if let Some(h) = history {
        if let (Some(b), Some(t)) = (&h.baseline, &h.ticket) {
            let _ = writeln!(
                s,
                "\n## Measured improvement\n\n- At ticket creation (run {}): {}{}; now (run {run_id}): {}{}. Ticket #{}.",
                b.run_id,
                b.count,
                b.value.map(|v| format!(" ({})", pct(v))).unwrap_or_default(),
                e.count,
                e.rate.map(|v| format!(" ({})", pct(v))).unwrap_or_default(),
                t.number
            );
        }
    }
    let rel = related(f, clusters);
    if !rel.is_empty() {
        s.push_str("\n## Friction clusters behind it (ranked by impact)\n\n");
        cluster_rows(&mut s, &rel);
        if let Some(a) = rel.iter().find_map(|c| c.working_alternative.as_ref()) {
            let _ = writeln!(
                s,
                "\nWhat worked instead in a session: {}",
                code_span(&sample(&a.command, 200))
            );
        }
    }
    let _ = writeln!(s, "\n## Suggested action\n\n{}", f.suggested_action.trim());
    let _ = writeln!(s, "\n## Risk\n\n{}", f.risk.trim());
    let _ = writeln!(s, "\n## QA notes\n\n{}", f.qa_notes.trim());
    let first = history.map_or(run_id, |h| h.first_seen_run.as_str());
    let _ = writeln!(
        s,
        "\n_First seen in run {first}; reported by run {run_id}._"
    );
    s
}

fn publish_level(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// How many watch-list entries the rolling issue shows with their evidence (the rest are
/// counted; the run log lists them all): keeps the body well under its size cap.
const WATCH_LIST_SHOWN: usize = 25;

/// The publisher has the last word on the budget: a ticket it found on GitHub by its marker
/// is a refresh, and the room that leaves went to the next finding in line.
fn settle_ticketing(out: &mut RunOutput, o: &PublishOutcome) {
    for f in out.findings.iter_mut() {
        let results = o.results_for(&ItemKey::Ticket(f.fingerprint.clone()));
        let Some(main) = main_result(&results) else {
            continue;
        };
        f.ticketing = Some(match main.action {
            Action::HeldBack => Ticketing::HeldBack,
            Action::Created => Ticketing::New,
            Action::Pending | Action::Refused => continue,
            _ => Ticketing::Existing,
        });
    }
}

/// The rolling issue body: this run's summary with deltas, findings and their tickets,
/// measured improvement, the top clusters and the PR branch. A function of the run only.
fn rolling_body(
    ctx: &RunContext,
    out: &RunOutput,
    clusters: &[Cluster],
    pr_branch: Option<&str>,
) -> String {
    let mut s = String::from("# Codex Continuous Improvement\n\n");
    let _ = writeln!(
        s,
        "Latest run **{}** (reference time {}): primary window {} → {} ({}), rollup {}.\n",
        out.run_id,
        out.now,
        out.windows.primary.start,
        out.windows.primary.end,
        out.windows.primary.length,
        out.windows.rollup.length
    );
    s.push_str("## Summary\n\n");
    if let Some(d) = &out.deltas {
        let prev = d.previous_run.as_deref();
        let _ = writeln!(
            s,
            "| Metric ({}) | This run | Previous{} | Change |\n|---|---:|---:|---:|",
            out.windows.primary.length,
            prev.map(|p| format!(" ({p})")).unwrap_or_default()
        );
        let rate = |r: Option<f64>| r.map_or("n/a".to_string(), pct);
        let _ = writeln!(
            s,
            "| Failure rate | {} | {} | {} |",
            rate(d.failure_rate.current),
            rate(d.failure_rate.previous),
            d.failure_rate
                .change_pp
                .map_or("n/a".into(), |c| format!("{c:+.1} pp"))
        );
        for (name, c) in [
            ("Tool calls", &d.tool_calls),
            ("Failed calls", &d.failed_calls),
            ("CI failures", &d.ci_failures),
            ("Commits", &d.commits),
        ] {
            let _ = writeln!(
                s,
                "| {name} | {} | {} | {} |",
                c.current,
                c.previous.map_or("n/a".into(), |p| p.to_string()),
                c.change.map_or("n/a".into(), |x| format!("{x:+}"))
            );
        }
        s.push('\n');
        if prev.is_none() {
            s.push_str("First recorded run: nothing to compare with yet.\n\n");
        }
    }
    if let Some(rates) = out.sessions.as_ref() {
        let n = |k: &str| rates.get(k).and_then(Value::as_u64).unwrap_or(0);
        let r = |k: &str| {
            rates
                .get("rates")
                .and_then(|x| x.get(k))
                .and_then(Value::as_f64)
                .unwrap_or(0.0)
        };
        let _ = writeln!(
            s,
            "- Sessions ({}): {}, friction {:.2} per session, fast completions {}, first-attempt success {} of turns.",
            out.windows.rollup.length,
            n("sessions"),
            r("friction_per_session"),
            pct(r("fast_completion_rate")),
            pct(r("first_attempt_success_rate"))
        );
    }
    if let Some(a) = out
        .github
        .as_ref()
        .and_then(|g| g.pointer("/collected/pr_activity"))
        .filter(|v| !v.is_null())
    {
        let n = |k: &str| a.get(k).and_then(Value::as_u64).unwrap_or(0);
        let _ = writeln!(
            s,
            "- Pull requests ({}): {} opened, {} merged, {} closed, {} reviewed (automation PRs left out).",
            out.windows.primary.length,
            n("opened"),
            n("merged"),
            n("closed"),
            n("reviewed")
        );
    }
    let _ = writeln!(s, "\n## Findings ({})\n", out.findings.len());
    if out.findings.is_empty() {
        s.push_str("No threshold crossed.\n");
    } else {
        s.push_str(
            "| Severity | Rule | Subject | Status | Count | Ticket |\n|---|---|---|---|---:|---|\n",
        );
        for f in out.findings.iter().take(50) {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} |",
                f.severity.as_str(),
                f.rule,
                cell(&code(&sample(&f.subject, 120))),
                f.status.as_str(),
                f.evidence.count,
                runlog::ticket_cell(f, false)
            );
        }
        if out.findings.len() > 50 {
            let _ = writeln!(s, "\n…and {} more.", out.findings.len() - 50);
        }
    }
    let held = out
        .findings
        .iter()
        .filter(|f| f.ticketing == Some(Ticketing::HeldBack))
        .count();
    if held > 0 {
        let _ = writeln!(
            s,
            "\n## Watch list ({held})\n\nHeld back by the ticket budget (at most {} new \
             tickets per run, highest impact first; refreshing a ticket costs nothing). Nothing \
             is dropped: each stays here with its evidence, and one that recurs gets its ticket \
             in a later run with room.\n",
            ctx.config.analysis.max_new_tickets
        );
        s.push_str(&runlog::watch_list(&out.findings, WATCH_LIST_SHOWN));
    }
    if let Some(d) = &out.deltas {
        for r in &d.findings.resolved {
            let _ = writeln!(
                s,
                "- Resolved since the previous run: {} {}{}",
                r.rule,
                code(&sample(&r.subject, 120)),
                r.ticket
                    .as_ref()
                    .map(|t| format!(" (ticket #{})", t.number))
                    .unwrap_or_default()
            );
        }
        if !d.tracked.is_empty() {
            s.push_str("\n## Measured improvement\n\n");
            s.push_str(
                "| Ticket | Rule | Subject | At ticket creation | Now |\n|---|---|---|---:|---:|\n",
            );
            for t in &d.tracked {
                let _ = writeln!(
                    s,
                    "| #{} | {} | {} | {} ({}) | {} |",
                    t.ticket.number,
                    t.rule,
                    cell(&code(&sample(&t.subject, 120))),
                    runlog::tracked_figure(t.baseline.count, t.baseline.value),
                    t.baseline.run_id,
                    runlog::tracked_figure(t.current, t.current_value)
                );
            }
        }
    }
    if !clusters.is_empty() {
        s.push_str("\n## Top friction clusters (by impact)\n\n");
        let top: Vec<&Cluster> = clusters.iter().take(10).collect();
        cluster_rows(&mut s, &top);
    }
    s.push_str("\n## This run's PR\n\n");
    match pr_branch {
        Some(b) => {
            let _ = writeln!(
                s,
                "Draft PR from `{b}` with the run log and state{}.",
                if ctx.apply { "" } else { " (dry run)" }
            );
        }
        None => s.push_str("None: no finding crossed a threshold.\n"),
    }
    s.push_str("\n<sub>Rewritten by codex-analyzer on every run; the full history is in `.codex/improvement-log.md`.</sub>\n");
    s
}

/// The PR's files: the run log and the state exactly as this apply writes them, and
/// `AGENTS.md` with the guidance block when clusters recur and the block would change.
fn pr_files(
    ctx: &RunContext,
    section: &str,
    state: &mut State,
    clusters: &[Cluster],
    warnings: &mut Vec<String>,
) -> anyhow::Result<Vec<PrFile>> {
    state.pending.retain(|p| p.kind != PENDING_PR);
    let log = run::run_log_after_apply(ctx, section)?;
    let mut files = vec![
        PrFile {
            path: ctx.config.analysis.run_log.clone(),
            content: String::from_utf8_lossy(&log).into_owned(),
        },
        PrFile {
            path: ctx.config.analysis.state.clone(),
            content: String::from_utf8_lossy(&state.to_bytes()).into_owned(),
        },
    ];
    if clusters.iter().any(|c| c.count >= guidance::MIN_COUNT) {
        let path = ctx.repo.join("AGENTS.md");
        let existing = match std::fs::read_to_string(&path) {
            Ok(t) => Some(t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                warnings.push(format!(
                    "AGENTS.md left out of the PR: cannot read it ({e})"
                ));
                return Ok(files);
            }
        };
        let before = existing.clone().unwrap_or_default();
        match guidance::update_agents_md(&before, clusters, &GuidanceOptions::default()) {
            Ok(after) if Some(&after) != existing.as_ref() => files.push(PrFile {
                path: "AGENTS.md".into(),
                content: after,
            }),
            Ok(_) => {}
            Err(e) => warnings.push(format!("AGENTS.md left out of the PR: {e}")),
        }
    }
    Ok(files)
}

fn pr_body(ctx: &RunContext, out: &RunOutput, clusters: &[Cluster], files: &[PrFile]) -> String {
    let mut s = format!(
        "Automated proposal of `codex-analyzer` for run **{}** (reference time {}).\n\n## Evidence\n\n",
        ctx.run_id, out.now
    );
    let _ = writeln!(
        s,
        "{} finding(s) crossed a threshold in the last {}:\n",
        out.findings.len(),
        out.windows.rollup.length
    );
    s.push_str(
        "| Severity | Rule | Subject | Count | Ticket | Sample |\n|---|---|---|---:|---|---|\n",
    );
    for f in out.findings.iter().take(30) {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} |",
            f.severity.as_str(),
            f.rule,
            cell(&code(&sample(&f.subject, 120))),
            f.evidence.count,
            runlog::ticket_cell(f, false),
            f.evidence
                .samples
                .first()
                .map_or(String::new(), |x| cell(&code(&sample(x, 160))))
        );
    }
    let top: Vec<&Cluster> = clusters.iter().take(5).collect();
    if !top.is_empty() {
        s.push_str("\nTop friction clusters (by impact):\n\n");
        cluster_rows(&mut s, &top);
    }
    s.push_str("\n## What changes\n\n");
    for f in files {
        let what = if f.path == ctx.config.analysis.run_log {
            format!("appends the section `## Run {}`", ctx.run_id)
        } else if f.path == ctx.config.analysis.state {
            format!(
                "records run {} (processed runs, metrics, finding history, tickets and baselines, pending GitHub writes)",
                ctx.run_id
            )
        } else {
            "updates only the block between the `codex-improvement` markers: the recurring frictions and what worked instead".to_string()
        };
        let _ = writeln!(s, "- `{}`: {what}.", f.path);
    }
    s.push_str(
        "\n## Risk\n\nLow. Only the analyzer's log and state (and the marked guidance block of \
         `AGENTS.md`) change: no code, build or CI configuration. The branch is new, made from \
         the default branch by one commit, never force-pushed; the default branch is never \
         written.\n\n## QA notes\n\n\
         - Read the appended log section: every finding carries its evidence and links its ticket.\n\
         - The state diff adds this run's ID, metrics and finding history; nothing is removed \
           except pending writes that were published.\n\
         - If `AGENTS.md` changed, check the listed commands and alternatives before merging.\n\
         - Merging keeps the next run's deltas and skip list current; closing it is safe: the \
           next run's PR carries the whole log and state.\n",
    );
    s
}

/// The dry run: nothing sent, everything an apply would publish listed.
fn dry_run(
    ctx: &RunContext,
    out: &mut RunOutput,
    tickets: &[TicketPlan],
    pr: Option<(&String, &String)>,
) -> anyhow::Result<()> {
    let (tickets, held): (Vec<&TicketPlan>, Vec<&TicketPlan>) =
        tickets.iter().partition(|t| !t.held_back);
    for t in &tickets {
        out.tickets.push(PublishedItem {
            kind: "ticket".into(),
            action: "planned".into(),
            fingerprint: Some(t.fingerprint.clone()),
            number: None,
            url: None,
            title: t.title.clone(),
        });
    }
    out.tickets.push(PublishedItem {
        kind: "rolling_issue".into(),
        action: "planned".into(),
        fingerprint: None,
        number: None,
        url: None,
        title: publish::ROLLING_TITLE.into(),
    });
    if let Some((branch, title)) = pr {
        out.pull_requests.push(PublishedItem {
            kind: "pull_request".into(),
            action: "planned".into(),
            fingerprint: None,
            number: None,
            url: None,
            title: format!("draft PR from {branch}: {title}"),
        });
    }
    let summary = format!(
        "dry run: nothing sent to GitHub; --apply would publish {} ticket(s) ({} more held back \
         by the ticket budget, on the rolling issue's watch list), the rolling issue{}",
        tickets.len(),
        held.len(),
        if pr.is_some() {
            " and one draft PR"
        } else {
            " and no PR (no finding)"
        }
    );
    out.log_extras.push(LogExtra {
        section: LogSection::AutoCreatedTickets,
        markdown: format!("GitHub: {summary}."),
    });
    set_publish(
        out,
        json!({
            "status": "dry_run",
            "reason": "dry run: pass --apply to publish",
            "summary": summary,
            "branch": pr.map(|(b, _)| b.clone()),
            "run_id": ctx.run_id,
        }),
    );
    Ok(())
}

fn set_publish(out: &mut RunOutput, publish: Value) {
    let g = out.github.get_or_insert_with(|| json!({}));
    if let Some(obj) = g.as_object_mut() {
        obj.insert("publish".into(), publish);
    }
}

fn run_publish(p: &Publisher, plan: &PublishPlan) -> anyhow::Result<PublishOutcome> {
    block_on(p.publish(plan)).context("cannot start the async runtime for GitHub requests")
}

/// The result that says what happened to an item (a closed duplicate is a side note).
fn main_result<'a>(results: &[&'a ItemResult]) -> Option<&'a ItemResult> {
    results
        .iter()
        .rev()
        .find(|r| r.action != Action::ClosedDuplicate)
        .copied()
}

fn action_str(a: Action) -> String {
    serde_json::to_value(a)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{a:?}").to_lowercase())
}

fn combined_status(all: &[&PublishOutcome]) -> &'static str {
    if all.iter().all(|o| o.status == PublishStatus::NotPublished) {
        "not_published"
    } else if all.iter().any(|o| o.status != PublishStatus::Published) {
        "partial"
    } else {
        "published"
    }
}

/// One line for the log and the output. When publishing is not set up (no token, no
/// repository), it says so plainly, once, with what turns it on — the same words in a dry
/// run and an applied one, so `--format md` stays exactly what `--apply` appends; the items
/// waiting are listed as `pending` under Auto-Created Tickets either way.
fn combined_summary(all: &[&PublishOutcome]) -> String {
    if let Some(reason) = all.iter().find_map(|o| o.reason.clone()) {
        return format!(
            "publishing is off ({}): set GITHUB_TOKEN and --github-repo OWNER/NAME (or \
             $GITHUB_REPOSITORY) and run with --apply to publish tickets, the rolling issue and \
             the PR",
            reason.trim_start_matches("not published: ")
        );
    }
    let count = |a: Action| {
        all.iter()
            .flat_map(|o| o.results.iter())
            .filter(|r| r.action == a && r.item != ItemKey::Labels)
            .count()
    };
    let pending: usize = all.iter().map(|o| o.pending.len()).sum();
    let writes: u32 = all.iter().map(|o| o.writes).sum();
    let head = match combined_status(all) {
        "published" => "published",
        "partial" => "partly published",
        _ => "not published",
    };
    format!(
        "{head}: {} created, {} updated, {} reopened, {} unchanged, {} duplicates closed, {} refused, {} held back, {pending} pending ({writes} writes)",
        count(Action::Created),
        count(Action::Updated),
        count(Action::Reopened),
        count(Action::Unchanged) + count(Action::AlreadyExists) + count(Action::KeptClosed),
        count(Action::ClosedDuplicate),
        count(Action::Refused),
        count(Action::HeldBack),
    )
}

const PENDING_TICKET: &str = "ticket";
const PENDING_ROLLING: &str = "rolling_issue";
const PENDING_PR: &str = "pull_request";

/// The state's pending list as publisher items, split by the step that retries them.
struct Pending {
    tickets: Vec<PendingItem>,
    prs: Vec<PendingItem>,
    /// The stored entries, for attempt counts.
    previous: Vec<PendingWrite>,
}

impl Pending {
    /// Takes the pending list out of the state (what is still pending after each step is
    /// put back by [`Pending::keep`]). A pending rolling body is dropped: this run's body
    /// replaces it.
    fn take(state: &mut State, warnings: &mut Vec<String>) -> Pending {
        let previous = std::mem::take(&mut state.pending);
        let mut p = Pending {
            tickets: Vec::new(),
            prs: Vec::new(),
            previous: previous.clone(),
        };
        for w in previous {
            match serde_json::from_value::<PendingItem>(w.payload.clone()) {
                Ok(item @ PendingItem::Ticket { .. }) => p.tickets.push(item),
                Ok(item @ PendingItem::PullRequest { .. }) => p.prs.push(item),
                Ok(PendingItem::Rolling { .. }) => {}
                Err(e) => warnings.push(format!(
                    "dropped a pending GitHub write ({} {}) the state could not describe: {e}",
                    w.kind, w.key
                )),
            }
        }
        p
    }

    /// Puts what a step left pending into the state.
    fn keep(&self, o: &PublishOutcome, state: &mut State) {
        for item in &o.pending {
            let (kind, key, run_id) = match item {
                PendingItem::Ticket { run_id, ticket } => {
                    (PENDING_TICKET, ticket.fingerprint.clone(), run_id)
                }
                PendingItem::Rolling { run_id, .. } => (PENDING_ROLLING, "rolling".into(), run_id),
                PendingItem::PullRequest { run_id, .. } => (PENDING_PR, run_id.clone(), run_id),
            };
            let attempts = self
                .previous
                .iter()
                .find(|w| w.kind == kind && w.key == key)
                .map_or(0, |w| w.attempts)
                + 1;
            let last_error = o
                .results_for(&item.key())
                .last()
                .map(|r| sample(&r.detail, 400));
            state.queue_pending(PendingWrite {
                kind: kind.into(),
                key,
                run_id: run_id.clone(),
                attempts,
                last_error,
                payload: serde_json::to_value(item).unwrap_or(Value::Null),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_maps_to_publisher_settings() {
        let c = crate::config::Config::parse(
            "[github]\nlabels = [\"bot\"]\nrequest_timeout_secs = 3\n",
        )
        .unwrap();
        let g: GithubConfig = c.section("github").unwrap().unwrap();
        let s = g.settings();
        assert_eq!(s.labels, ["bot"]);
        assert_eq!(s.limits.request_timeout, Duration::from_secs(3));
        assert_eq!(s.pr_labels, ["automation"]);
        let c = crate::config::Config::parse("[github]\nlabel = [\"x\"]\n").unwrap();
        assert!(c.section::<GithubConfig>("github").is_err());
    }

    #[test]
    fn shipped_config_documents_the_defaults() {
        let c =
            crate::config::Config::parse(include_str!("../../.codex/improvement.toml")).unwrap();
        let g: GithubConfig = c.section("github").unwrap().unwrap();
        assert_eq!(g, GithubConfig::default());
        let cl: crate::closed_loop::ClosedLoopConfig = c.section("closed_loop").unwrap().unwrap();
        assert_eq!(cl, crate::closed_loop::ClosedLoopConfig::default());
    }

    #[test]
    fn html_urls_follow_the_api_base() {
        let stage = |api: &str| {
            GithubStage::new(GithubTarget {
                api_url: api.into(),
                token: None,
                repository: Some("o/r".into()),
            })
        };
        if std::env::var_os("GITHUB_SERVER_URL").is_none() {
            assert_eq!(
                stage("https://api.github.com")
                    .page_url("issues", 3)
                    .unwrap(),
                "https://github.com/o/r/issues/3"
            );
            assert_eq!(
                stage("https://ghe.example/api/v3")
                    .page_url("pull", 4)
                    .unwrap(),
                "https://ghe.example/o/r/pull/4"
            );
        }
    }

    #[test]
    fn a_job_without_an_error_line_still_counts() {
        let job = publish::CiFailure {
            run_id: 1,
            workflow: "ci".into(),
            run_url: String::new(),
            head_branch: "main".into(),
            created_at: None,
            job_id: 2,
            job: "test".into(),
            conclusion: "failure".into(),
            log_text: String::new(),
            log_truncated: false,
            transient: false,
            transient_reason: None,
        };
        let log = ci_log_of(&job);
        let f = ci_logs::failure_from_log(&log).expect("counted");
        assert_eq!(f.source, CiSource::Github);
        assert!(!f.transient);
        assert_eq!(f.name, "actions/runs/1/job/2");
    }
}
