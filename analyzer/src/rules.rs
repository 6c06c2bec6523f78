//! Detection rules: from collected signals to findings. Each rule has a public ID
//! ([`RuleId`]), thresholds in `.codex/improvement.toml` (`[rules.<id>]`), and counts over the
//! rollup window (24h by default), as the spec states every threshold "in 24h".
//!
//! | rule | fires when | subject |
//! |---|---|---|
//! | `error_type_repeat` | an error type occurs `min_count`+ times | the error type |
//! | `ci_signature_repeat` | a non-transient CI signature occurs `min_count`+ times | the signature ID |
//! | `tool_failure_rate` | a tool fails more than `max_rate` of `min_samples`+ definite calls | the tool (`*` = all tools) |
//! | `file_hotspot` | a hand-edited file is reworked: `min_rework_lines`+ lines written in the window rewritten by `min_reworking_commits`+ later commits, in `min_commits`+ commits by `min_authors`+ authors | the path |
//! | `config_churn` | a setting flips back, changes `min_changes`+ times, or is reverted (see `config_churn`) | the file(s) and key |
//! | `revert` | a commit in the window reverts another (one finding per reverted change) | the reverted commit |
//!
//! Rules are pure functions of the signals and the config: the same inputs give the same
//! findings in the same order.

use std::collections::BTreeMap;

use crate::collect::ci_logs::{CiMetrics, SignatureStats};
use crate::collect::git::{GitActivity, RevertInfo};
use crate::collect::toolcalls::ToolMetrics;
use crate::config::Config;
use crate::finding::{self, sample, Evidence, Finding, RuleId, Severity, Topic};
use crate::signature::Category;

/// What the rules read: the rollup-window view of every collector.
pub struct RuleInputs<'a> {
    pub tools: &'a ToolMetrics,
    pub ci: &'a CiMetrics,
    /// `None` when the repository could not be read as git (then git rules are silent).
    pub git: Option<&'a GitActivity>,
    /// The rollup window's length, as shown in evidence (`24h`).
    pub window: String,
}

/// Runs every enabled rule. Findings are sorted (severity, rule, subject).
pub fn evaluate(inputs: &RuleInputs<'_>, config: &Config) -> Vec<Finding> {
    let mut out = Vec::new();
    let samples = config.analysis.samples;
    error_type_repeat(inputs, config, samples, &mut out);
    ci_signature_repeat(inputs, config, samples, &mut out);
    tool_failure_rate(inputs, config, samples, &mut out);
    if let Some(git) = inputs.git {
        file_hotspot(git, inputs, config, samples, &mut out);
        config_churn(git, inputs, config, samples, &mut out);
        revert(git, inputs, config, samples, &mut out);
    }
    finding::sort(&mut out);
    out
}

fn error_type_repeat(i: &RuleInputs<'_>, c: &Config, samples: usize, out: &mut Vec<Finding>) {
    let r = &c.rules.error_type_repeat;
    if !r.enabled {
        return;
    }
    for (et, stats) in &i.tools.error_types {
        if stats.count < r.min_count || r.ignore.iter().any(|x| x == et) {
            continue;
        }
        let mut f = Finding::new(
            RuleId::ErrorTypeRepeat,
            et,
            format!("`{et}` happened {} times in {}", stats.count, i.window),
            Severity::from_ratio(stats.count as f64, r.min_count as f64),
        );
        f.evidence = Evidence {
            count: stats.count,
            threshold: r.min_count as f64,
            window: i.window.clone(),
            first_seen: Some(stats.first_seen.clone()),
            last_seen: Some(stats.last_seen.clone()),
            samples: stats.samples.iter().take(samples).cloned().collect(),
            refs: stats
                .tools
                .iter()
                .map(|(tool, n)| format!("{tool}×{n}"))
                .collect(),
            ..Evidence::default()
        };
        let (action, risk) = error_type_advice(et);
        f.suggested_action = action.to_string();
        f.risk = risk.to_string();
        f.qa_notes = format!(
            "Reproduce with one of the sampled commands. After the fix, the next runs should \
             show `{et}` fewer than {} times per {} and a falling count in the Impact Summary.",
            r.min_count, i.window
        );
        out.push(f);
    }
}

/// What to do about an error type, and the risk of doing it.
pub fn error_type_advice(et: &str) -> (&'static str, &'static str) {
    match et {
        "command_not_found" => (
            "Install the missing tool in the agent's environment (setup script, devcontainer, CI image) or document the right command in AGENTS.md.",
            "Low: environment or documentation change; check the tool's version matches CI.",
        ),
        "permission_denied" | "sandbox_denied" => (
            "Check which paths or operations the sampled commands need; adjust the sandbox or workspace permissions, or teach the agent the allowed alternative in AGENTS.md.",
            "Medium: widening permissions reduces isolation; grant the narrowest access that works.",
        ),
        "approval_denied" | "hook_blocked" => (
            "Agents keep proposing commands that people or hooks reject: document the preferred alternative in AGENTS.md, or relax the policy if the rejections are routine.",
            "Low for documentation; medium if a blocking policy is relaxed.",
        ),
        "timeout" | "killed" => (
            "Find the slow step in the sampled commands; give it a narrower scope (a single test, a package) or a longer, explicit timeout, and document it.",
            "Low: longer timeouts can hide hangs; prefer narrowing the command.",
        ),
        "file_not_found" => (
            "The agent guesses paths that do not exist: document the repository layout (or the generated paths) in AGENTS.md, or create the expected files in setup.",
            "Low: documentation change.",
        ),
        "patch_failed" => (
            "Patches fail to apply on stale context: encourage re-reading files before editing (AGENTS.md), and check for generated or frequently reformatted files.",
            "Low: guidance change.",
        ),
        "compile_error" => (
            "Repeated compile errors: check whether the same error recurs (see samples) and document the build command and common pitfalls in AGENTS.md.",
            "Low: guidance; a code fix needs the usual review.",
        ),
        "test_failure" => (
            "The same tests keep failing for agents: check for flaky tests or missing setup, and document the right test command in AGENTS.md.",
            "Medium: quarantining a test hides regressions; fix the cause when possible.",
        ),
        "network_error" => (
            "Commands need the network where it is unavailable or flaky: vendor or cache dependencies, or document the offline workflow.",
            "Low: caching changes can serve stale artifacts; pin versions.",
        ),
        "context_window_exceeded" => (
            "Sessions run out of context: trim noisy command output (quiet flags, narrower commands) and keep AGENTS.md short.",
            "Low: guidance change.",
        ),
        "tool_error" => (
            "The agent calls a tool in a way the tool refuses (e.g. `write_stdin` to a command started without `tty=true`, a missing parameter): document the right call in AGENTS.md.",
            "Low: guidance change.",
        ),
        "git_conflict" => (
            "Agents hit merge conflicts: rebase more often, split long-lived work, or check the hotspot files below.",
            "Low: process change.",
        ),
        _ => (
            "Look at the sampled commands and outputs for the common cause, then fix the environment or document the working command in AGENTS.md.",
            "Low: investigation first; the fix's risk depends on the cause.",
        ),
    }
}

fn ci_signature_repeat(i: &RuleInputs<'_>, c: &Config, samples: usize, out: &mut Vec<Finding>) {
    let r = &c.rules.ci_signature_repeat;
    if !r.enabled {
        return;
    }
    for s in &i.ci.signatures {
        if s.count < r.min_count || (s.transient && !r.include_transient) {
            continue;
        }
        let mut f = Finding::new(
            RuleId::CiSignatureRepeat,
            &s.id,
            format!(
                "CI `{}` failed {} times in {} ({}): {}",
                s.job,
                s.count,
                i.window,
                s.category.as_str(),
                s.template
            ),
            Severity::from_ratio(s.count as f64, r.min_count as f64),
        );
        f.evidence = Evidence {
            count: s.count,
            threshold: r.min_count as f64,
            window: i.window.clone(),
            first_seen: s.first_seen.clone(),
            last_seen: s.last_seen.clone(),
            samples: s.samples.iter().take(samples).cloned().collect(),
            refs: s.logs.clone(),
            ..Evidence::default()
        };
        let (action, risk) = ci_advice(s);
        f.suggested_action = action;
        f.risk = risk.to_string();
        f.qa_notes = format!(
            "Re-run job `{}` after the fix; the signature {} (template `{}`) should not recur in \
             the next runs' Failure Clusters.",
            s.job, s.id, s.template
        );
        out.push(f);
    }
}

fn ci_advice(s: &SignatureStats) -> (String, &'static str) {
    match s.category {
        Category::TestFailure => (
            format!("Fix or stabilize the failing tests ({}); if they are flaky, find the nondeterminism (time, order, network) rather than retrying.", s.template),
            "Medium: quarantining or retrying tests can hide real regressions.",
        ),
        Category::RustCompile => (
            "The build breaks the same way repeatedly: fix the error and add the missing check (e.g. `cargo check --all-targets`) to the pre-merge steps agents run.".to_string(),
            "Low: the fix is a build fix reviewed as usual.",
        ),
        Category::Lint => (
            "Lint failures repeat: run the formatter and linter in the agent's loop (document the exact commands in AGENTS.md) or in a pre-commit hook.".to_string(),
            "Low: formatting and lint changes.",
        ),
        Category::Timeout => (
            "Jobs time out repeatedly: find the slow step, cache its inputs or split the job; raise the limit only with a reason.".to_string(),
            "Low: a higher limit can hide hangs.",
        ),
        Category::Oom => (
            "Jobs run out of memory: reduce parallelism (e.g. `CARGO_BUILD_JOBS`), split the job, or use a larger runner.".to_string(),
            "Low: slower builds with less parallelism.",
        ),
        _ => (
            "Look at the sampled log lines for the common cause and fix it in the workflow or the code.".to_string(),
            "Low: investigation first.",
        ),
    }
}

fn tool_failure_rate(i: &RuleInputs<'_>, c: &Config, samples: usize, out: &mut Vec<Finding>) {
    let r = &c.rules.tool_failure_rate;
    if !r.enabled {
        return;
    }
    let mut fired = false;
    for (tool, t) in &i.tools.per_tool {
        let Some(rate) = t.failure_rate else { continue };
        if t.definite < r.min_samples || rate <= r.max_rate {
            continue;
        }
        fired = true;
        out.push(rate_finding(
            i, c, samples, tool, t.failed, t.definite, rate,
        ));
    }
    // The overall rate only speaks when no single tool explains it (no double tickets).
    if !fired {
        if let Some(rate) = i.tools.failure_rate {
            if i.tools.definite >= r.min_samples && rate > r.max_rate {
                out.push(rate_finding(
                    i,
                    c,
                    samples,
                    "*",
                    i.tools.failed,
                    i.tools.definite,
                    rate,
                ));
            }
        }
    }
}

fn rate_finding(
    i: &RuleInputs<'_>,
    c: &Config,
    samples: usize,
    tool: &str,
    failed: u64,
    definite: u64,
    rate: f64,
) -> Finding {
    let r = &c.rules.tool_failure_rate;
    let label = if tool == "*" {
        "all tools".to_string()
    } else {
        format!("`{tool}`")
    };
    let mut f = Finding::new(
        RuleId::ToolFailureRate,
        tool,
        format!(
            "{label} failed {:.1}% of {definite} calls in {} (threshold {:.0}%)",
            rate * 100.0,
            i.window,
            r.max_rate * 100.0
        ),
        Severity::from_ratio(rate, r.max_rate),
    );
    // Samples and error-type refs from this tool's failing commands and error types.
    let mut cmd_samples = Vec::new();
    for cmd in &i.tools.top_failing_commands {
        if tool == "*" || cmd.tool == tool {
            cmd_samples.extend(cmd.samples.iter().take(1).cloned());
        }
    }
    cmd_samples.truncate(samples);
    let mut types: BTreeMap<&str, u64> = BTreeMap::new();
    for (et, s) in &i.tools.error_types {
        let n = if tool == "*" {
            s.calls
        } else {
            s.tools.get(tool).copied().unwrap_or(0)
        };
        if n > 0 {
            types.insert(et, n);
        }
    }
    let first = i
        .tools
        .error_types
        .values()
        .filter(|s| tool == "*" || s.tools.contains_key(tool))
        .map(|s| s.first_seen.clone())
        .min();
    let last = i
        .tools
        .error_types
        .values()
        .filter(|s| tool == "*" || s.tools.contains_key(tool))
        .map(|s| s.last_seen.clone())
        .max();
    f.evidence = Evidence {
        count: failed,
        threshold: r.max_rate,
        window: i.window.clone(),
        total: Some(definite),
        rate: Some(rate),
        first_seen: first,
        last_seen: last,
        samples: cmd_samples,
        refs: types.iter().map(|(et, n)| format!("{et}×{n}")).collect(),
    };
    f.suggested_action = format!(
        "Work through the top error types of {label} (refs) starting with the most frequent; \
         each usually has a documentation or environment fix (see the error-type findings)."
    );
    f.risk = "Low: fixes are environment and guidance changes; verify that the rate falls \
              without the call count collapsing (fewer calls can mean agents gave up)."
        .to_string();
    f.qa_notes = format!(
        "The next runs' Tool Call Analysis should show {label} at or below {:.0}% with at least \
         {} definite calls.",
        r.max_rate * 100.0,
        r.min_samples
    );
    f
}

pub(crate) fn short(sha: &str) -> &str {
    &sha[..sha.len().min(12)]
}

pub(crate) fn commit_lines(git: &GitActivity, shas: &[String], samples: usize) -> Vec<String> {
    shas.iter()
        .filter_map(|s| git.commits.iter().find(|c| &c.sha == s))
        .take(samples)
        .map(|c| sample(&format!("{} {}", short(&c.sha), c.subject), 200))
        .collect()
}

pub(crate) fn ts(t: chrono::DateTime<chrono::Utc>) -> String {
    codex_contract::record::format_ts(t)
}

fn file_hotspot(
    git: &GitActivity,
    i: &RuleInputs<'_>,
    c: &Config,
    samples: usize,
    out: &mut Vec<Finding>,
) {
    let r = &c.rules.file_hotspot;
    if !r.enabled {
        return;
    }
    for h in &git.hotspots {
        let n = h.commits as u64;
        let reworking = h.rework_shas.len() as u64;
        // Rework is the measure unless the config asks for the seed's commit count alone;
        // then authors are the file's authors rather than those involved in the rework.
        let by_rework = r.min_rework_lines > 0;
        let authors = if by_rework {
            h.rework_authors.len()
        } else {
            h.authors.len()
        };
        if n < r.min_commits
            || h.rework_lines < r.min_rework_lines
            || reworking < r.min_reworking_commits
            || (authors as u64) < r.min_authors
        {
            continue;
        }
        let (count, threshold) = if by_rework {
            (h.rework_lines, r.min_rework_lines)
        } else {
            (n, r.min_commits)
        };
        let title = if h.rework_lines > 0 {
            format!(
                "`{}` reworked: {} lines rewritten by {reworking} later commits in {} ({n} commits, {} authors)",
                h.path,
                h.rework_lines,
                i.window,
                h.authors.len()
            )
        } else {
            format!(
                "`{}` changed in {n} commits in {} (+{} −{} lines, {} authors)",
                h.path,
                i.window,
                h.lines_added,
                h.lines_removed,
                h.authors.len()
            )
        };
        let mut severity = Severity::from_ratio(count as f64, threshold as f64);
        if h.rework_authors.len() >= 2 {
            // People rewriting each other's fresh code is a coordination problem.
            severity = severity.max(Severity::Medium);
        }
        let mut f = Finding::new(RuleId::FileHotspot, &h.path, title, severity);
        f.topics = vec![Topic::File(h.path.clone())];
        let mut shown: Vec<String> = h.rework_shas.clone();
        shown.extend(
            h.shas
                .iter()
                .filter(|s| !h.rework_shas.contains(s))
                .cloned(),
        );
        f.evidence = Evidence {
            count,
            threshold: threshold as f64,
            window: i.window.clone(),
            first_seen: Some(ts(h.first_changed)),
            last_seen: Some(ts(h.last_changed)),
            samples: commit_lines(git, &shown, samples),
            refs: h.shas.iter().map(|s| short(s).to_string()).collect(),
            ..Evidence::default()
        };
        let who = if h.rework_authors.len() >= 2 {
            format!(
                " ({} rewrote each other's changes)",
                h.rework_authors.join(", ")
            )
        } else {
            String::new()
        };
        f.suggested_action = format!(
            "`{}` was changed and then changed again within {}{who}: read the reworking \
             commits (samples) for what the first change missed — a case without a test, an \
             unclear interface, a review that came late — and add the test or write down the \
             design decision so the next change lands once. If two people keep rewriting the \
             same code, agree on an owner or split the file.",
            h.path, i.window
        );
        f.risk = "Medium: refactoring a hot file conflicts with work in flight; coordinate with \
                  its recent authors."
            .to_string();
        f.qa_notes = if by_rework {
            format!(
                "Next runs: fewer than {} reworked lines of `{}` per {}, and no reverts touching it.",
                r.min_rework_lines, h.path, i.window
            )
        } else {
            format!(
                "Next runs: `{}` in fewer than {} commits per {}, and no reverts touching it.",
                h.path, r.min_commits, i.window
            )
        };
        out.push(f);
    }
}

fn config_churn(
    git: &GitActivity,
    i: &RuleInputs<'_>,
    c: &Config,
    samples: usize,
    out: &mut Vec<Finding>,
) {
    let r = &c.rules.config_churn;
    if r.enabled {
        out.extend(crate::config_churn::findings(git, r, &i.window, samples));
    }
}

/// How many files a revert finding names before "and N more".
const REVERT_FILES_SHOWN: usize = 8;

/// One finding per reverted change: reverts in the window that share the change at the start
/// of their chain (a revert and the revert of that revert) are one story, told by the newest.
fn revert(
    git: &GitActivity,
    i: &RuleInputs<'_>,
    c: &Config,
    samples: usize,
    out: &mut Vec<Finding>,
) {
    if !c.rules.revert.enabled {
        return;
    }
    // `git.reverts` is newest first, so each group's first entry is its newest revert.
    let mut groups: Vec<(String, Vec<&RevertInfo>)> = Vec::new();
    for rv in &git.reverts {
        let key = rv
            .original_sha
            .clone()
            .or_else(|| rv.original_subject.clone())
            .unwrap_or_else(|| rv.sha.clone());
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push(rv),
            None => groups.push((key, vec![rv])),
        }
    }
    for (key, members) in groups {
        let newest = members[0];
        let oldest = members[members.len() - 1];
        let what = newest
            .original_subject
            .clone()
            .or_else(|| newest.reverted_subject.clone())
            .unwrap_or_else(|| newest.subject.clone());
        let original = newest.original_sha.as_deref().map(short);
        let named = match original {
            Some(sha) => format!("`{what}` ({sha})"),
            None => format!("`{what}`"),
        };
        // An even depth undid an undo: the change is back.
        let came_back = newest.depth % 2 == 0;
        let title = if came_back {
            format!("Reverted, then re-applied in {}: {named}", i.window)
        } else {
            format!("Reverted in {}: {named}", i.window)
        };
        let mut files: Vec<&str> = members
            .iter()
            .flat_map(|m| m.files.iter().map(String::as_str))
            .collect();
        files.sort_unstable();
        files.dedup();
        let mut shown: Vec<String> = files
            .iter()
            .take(REVERT_FILES_SHOWN)
            .map(|f| format!("`{f}`"))
            .collect();
        if files.len() > REVERT_FILES_SHOWN {
            shown.push(format!("and {} more", files.len() - REVERT_FILES_SHOWN));
        }
        let files_text = if shown.is_empty() {
            "no files".to_string()
        } else {
            shown.join(", ")
        };
        let mut f = Finding::new(RuleId::Revert, &key, title, Severity::High);
        // Its reverts, not its files: two unrelated reverts that both touched `Cargo.lock`
        // are two stories.
        f.topics = members
            .iter()
            .map(|m| Topic::Revert(m.sha.clone()))
            .collect();
        let mut lines: Vec<String> = members
            .iter()
            .map(|m| format!("{} {}", short(&m.sha), m.subject))
            .collect();
        if let Some(sha) = original {
            lines.push(format!("{sha} {what}"));
        }
        let mut sample_lines: Vec<String> = lines.iter().map(|l| sample(l, 200)).collect();
        sample_lines.truncate(samples.max(1));
        sample_lines.push(sample(&format!("files: {files_text}"), 400));
        let mut refs: Vec<String> = members
            .iter()
            .map(|m| format!("revert {}", short(&m.sha)))
            .collect();
        if let Some(sha) = original {
            refs.push(format!("reverted {sha}"));
        }
        f.evidence = Evidence {
            count: members.len() as u64,
            threshold: 1.0,
            window: i.window.clone(),
            first_seen: Some(ts(oldest.time)),
            last_seen: Some(ts(newest.time)),
            samples: sample_lines,
            refs,
            ..Evidence::default()
        };
        let by = newest.author_name.as_str();
        f.suggested_action = if came_back {
            format!(
                "{named} was reverted and has come back (latest: {} by {by}). Before it \
                 sticks, check that whatever forced the revert is now covered: a test that \
                 fails without the fix, a CI job that would have caught it. Files: {files_text}.",
                short(&newest.sha)
            )
        } else {
            format!(
                "{named} had to be undone ({} by {by}): a change that reached the default \
                 branch and broke something means a check was missing. Find what the revert \
                 fixed (the revert's message, the PR, the failing build), add the test or CI \
                 check that would have stopped it, and note in AGENTS.md what agents must run \
                 before such a change. Files: {files_text}.",
                short(&newest.sha)
            )
        };
        f.risk = "Medium: re-landing the change without the missing check repeats the breakage; \
                  the added test is reviewed as usual."
            .to_string();
        f.qa_notes = format!(
            "The re-landed change (if any) passes the new test; the next runs show no revert \
             of {named} or of changes to the same files."
        );
        out.push(f);
    }
}
