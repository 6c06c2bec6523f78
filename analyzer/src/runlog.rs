//! The run log: one Markdown section per applied run, appended to
//! `.codex/improvement-log.md`, with the spec's eight headings in order.
//!
//! Same inputs, same bytes: the section is a pure function of the run's output (no wall
//! clock: every time is the run's `--now` or an evidence time; every map is sorted; paths
//! are repository-relative). It does not depend on dry-run vs apply, so `--format md` shows
//! exactly what `--apply` appends.
//!
//! Extra content (closed-loop clusters, PR activity, tickets) plugs in through
//! [`crate::run::RunOutput::log_extras`], rendered at the end of the named heading.

use std::fmt::Write as _;

use crate::finding::{Finding, Ticketing};
use crate::numbers::pct_or_na;
use crate::run::{LogSection, RunOutput};

/// The headings, in order.
pub const HEADINGS: [&str; 8] = [
    "Activity Summary",
    "Failure Clusters",
    "Tool Call Analysis",
    "Metadata Changes",
    "Impact Summary",
    "Auto-Created Tickets",
    "PRs Created",
    "Next 12h Focus",
];

/// The title written when the log file is created.
pub const LOG_HEADER: &str = "# Codex Continuous Improvement Log\n\nOne section per applied run of `codex-analyzer run --apply` (newest last). Generated; do not edit by hand.\n";

/// The heading line of a run's section.
pub fn section_heading(run_id: &str, forced: bool) -> String {
    if forced {
        format!("## Run {run_id} (forced rerun)")
    } else {
        format!("## Run {run_id}")
    }
}

/// Escapes text for a Markdown table cell.
/// (GFM: `\|` is also how a pipe is written inside a code span in a table.)
pub fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Text as inline code, with a fence longer than any backtick run inside it.
pub fn code(s: &str) -> String {
    let mut run = 0;
    let mut max_run = 0;
    for c in s.chars() {
        if c == '`' {
            run += 1;
            max_run = max_run.max(run);
        } else {
            run = 0;
        }
    }
    let fence = "`".repeat(max_run + 1);
    if max_run > 0 || s.starts_with(' ') || s.ends_with(' ') {
        format!("{fence} {s} {fence}")
    } else {
        format!("{fence}{s}{fence}")
    }
}

fn signed(n: i64) -> String {
    if n > 0 {
        format!("+{n}")
    } else {
        n.to_string()
    }
}

fn pp(x: f64) -> String {
    if x > 0.0 {
        format!("+{x:.1} pp")
    } else if x < 0.0 {
        format!("−{:.1} pp", -x)
    } else {
        "±0.0 pp".to_string()
    }
}

fn short(fp: &str) -> &str {
    &fp[..fp.len().min(12)]
}

/// Renders the run's section (ending with one newline).
pub fn render(out: &RunOutput) -> String {
    let mut s = String::new();
    let w = |s: &mut String, line: &str| {
        s.push_str(line);
        s.push('\n');
    };
    w(&mut s, &section_heading(&out.run_id, out.forced));
    w(&mut s, "");
    let _ = writeln!(
        s,
        "Reference time {} · primary window {} → {} ({}) · rollup {} from {}.",
        out.now,
        out.windows.primary.start,
        out.windows.primary.end,
        out.windows.primary.length,
        out.windows.rollup.length,
        out.windows.rollup.start
    );
    for (i, heading) in HEADINGS.iter().enumerate() {
        w(&mut s, "");
        let _ = writeln!(s, "### {heading}");
        w(&mut s, "");
        let section = LogSection::ALL[i];
        let body = match section {
            LogSection::ActivitySummary => activity(out),
            LogSection::FailureClusters => clusters(out),
            LogSection::ToolCallAnalysis => tool_calls(out),
            LogSection::MetadataChanges => metadata(out),
            LogSection::ImpactSummary => impact(out),
            LogSection::AutoCreatedTickets => tickets(out),
            LogSection::PrsCreated => prs(out),
            LogSection::Next12hFocus => focus(out),
        };
        s.push_str(&body);
        for extra in out.log_extras.iter().filter(|e| e.section == section) {
            w(&mut s, "");
            s.push_str(extra.markdown.trim_end());
            s.push('\n');
        }
    }
    s
}

fn activity(out: &RunOutput) -> String {
    let mut s = String::new();
    let Some(m) = &out.metrics else {
        return "- No analysis (run skipped).\n".to_string();
    };
    let (p, r) = (&m.tool_calls.primary, &m.tool_calls.rollup);
    let _ = writeln!(
        s,
        "- Tool calls ({}): {} in {}; {} failed ({}), {} without a known outcome.",
        out.windows.primary.length,
        p.calls,
        crate::args::plural(p.sessions, "session"),
        p.failed,
        pct_or_na(p.failure_rate),
        p.unknown
    );
    let _ = writeln!(
        s,
        "- Tool calls ({}): {}; {} failed ({}).",
        out.windows.rollup.length,
        r.calls,
        r.failed,
        pct_or_na(r.failure_rate)
    );
    match &m.git {
        Some(g) => {
            let _ = writeln!(
                s,
                "- Commits ({}): {} ({} in the last {}), {} merges, {} reverts, {} bulk; {} authors; {} files changed (+{} −{} lines); {} config files changed.",
                out.windows.rollup.length,
                g.totals.commits,
                g.primary_commits,
                out.windows.primary.length,
                g.totals.merges,
                g.totals.reverts,
                g.totals.bulk_commits,
                g.totals.authors,
                g.totals.files_changed,
                g.totals.lines_added,
                g.totals.lines_removed,
                g.totals.config_files_changed
            );
        }
        None => {
            let why = out
                .inputs
                .as_ref()
                .and_then(|i| i.git.error.clone())
                .unwrap_or_else(|| "not collected".into());
            let _ = writeln!(s, "- Commits: git history unavailable ({}).", why);
        }
    }
    let ci = &m.ci.rollup;
    let _ = writeln!(
        s,
        "- CI failures ({}): {} in {} signatures ({} transient).",
        out.windows.rollup.length,
        ci.failures,
        ci.signatures.len(),
        ci.transient_failures
    );
    let d = out.deltas.as_ref();
    let resolved = d.map_or(0, |d| d.findings.resolved.len());
    let count =
        |st: crate::finding::FindingStatus| out.findings.iter().filter(|f| f.status == st).count();
    let _ = writeln!(
        s,
        "- Findings: {} ({} new, {} persisting, {} recurring); {} resolved since the previous run.",
        out.findings.len(),
        count(crate::finding::FindingStatus::New),
        count(crate::finding::FindingStatus::Persisting),
        count(crate::finding::FindingStatus::Recurring),
        resolved
    );
    if let Some(inputs) = &out.inputs {
        let t = &inputs.toolcalls;
        let c = &t.counts;
        if !t.exists {
            let _ = writeln!(s, "- Tool-call log {} does not exist yet.", code(&t.path));
        } else if c.skipped > 0 || c.bad_timestamps > 0 || c.read_error.is_some() {
            let _ = writeln!(
                s,
                "- Tool-call log {}: {} unreadable lines skipped, {} records with bad timestamps{}.",
                code(&t.path),
                c.skipped,
                c.bad_timestamps,
                c.read_error
                    .as_ref()
                    .map(|e| format!(", read stopped early: {e}"))
                    .unwrap_or_default()
            );
        }
        for p in &inputs.ci_logs.problems {
            let _ = writeln!(s, "- CI log problem: {}", crate::finding::sample(p, 300));
        }
    }
    s
}

fn clusters(out: &RunOutput) -> String {
    let mut s = String::new();
    let Some(m) = &out.metrics else {
        return "- None.\n".to_string();
    };
    let sigs = &m.ci.rollup.signatures;
    if sigs.is_empty() {
        let _ = writeln!(
            s,
            "- CI failure signatures ({}): none.",
            out.windows.rollup.length
        );
    } else {
        let _ = writeln!(s, "CI failure signatures ({}):", out.windows.rollup.length);
        s.push('\n');
        s.push_str("| Signature | Category | Job | Count | Transient | Template |\n");
        s.push_str("|---|---|---|---:|---|---|\n");
        for g in sigs {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} |",
                code(&g.id),
                g.category.as_str(),
                cell(&g.job),
                g.count,
                if g.transient { "yes" } else { "no" },
                cell(&code(&g.template))
            );
        }
    }
    s.push('\n');
    let cmds = &m.tool_calls.rollup.top_failing_commands;
    if cmds.is_empty() {
        let _ = writeln!(
            s,
            "- Failing command signatures ({}): none.",
            out.windows.rollup.length
        );
    } else {
        let _ = writeln!(
            s,
            "Failing command signatures ({}):",
            out.windows.rollup.length
        );
        s.push('\n');
        s.push_str("| Signature | Tool | Count | Error types | Command |\n");
        s.push_str("|---|---|---:|---|---|\n");
        for c in cmds {
            let types: Vec<String> = c
                .error_types
                .iter()
                .map(|(k, v)| format!("{k}×{v}"))
                .collect();
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} |",
                code(&c.signature),
                cell(&c.tool),
                c.count,
                cell(&types.join(", ")),
                cell(&code(&c.template))
            );
        }
    }
    s
}

fn tool_calls(out: &RunOutput) -> String {
    let mut s = String::new();
    let Some(m) = &out.metrics else {
        return "- None.\n".to_string();
    };
    let (p, r) = (&m.tool_calls.primary, &m.tool_calls.rollup);
    if r.per_tool.is_empty() {
        let _ = writeln!(
            s,
            "- No tool calls in the last {}.",
            out.windows.rollup.length
        );
    } else {
        let (pw, rw) = (&out.windows.primary.length, &out.windows.rollup.length);
        let _ = writeln!(
            s,
            "Per tool (the rule judges the {rw} rate; rates under the sample floor are shown, not judged):"
        );
        s.push('\n');
        let _ = writeln!(
            s,
            "| Tool | Calls ({pw}) | Failed ({pw}) | Calls ({rw}) | Failed ({rw}) | Unknown ({rw}) | Failure rate ({rw}) |"
        );
        s.push_str("|---|---:|---:|---:|---:|---:|---:|\n");
        for (tool, t) in &r.per_tool {
            let (pc, pf) = p.per_tool.get(tool).map_or((0, 0), |x| (x.calls, x.failed));
            let _ = writeln!(
                s,
                "| {} | {pc} | {pf} | {} | {} | {} | {}{} |",
                cell(&code(tool)),
                t.calls,
                t.failed,
                t.unknown,
                pct_or_na(t.failure_rate),
                if t.below_floor { " (below floor)" } else { "" }
            );
        }
    }
    s.push('\n');
    let r = &m.tool_calls.rollup;
    if r.error_types.is_empty() {
        let _ = writeln!(s, "- Error types ({}): none.", out.windows.rollup.length);
    } else {
        let _ = writeln!(s, "Error types ({}):", out.windows.rollup.length);
        s.push('\n');
        s.push_str("| Error type | Count | Tools | First seen | Last seen |\n");
        s.push_str("|---|---:|---|---|---|\n");
        for (et, e) in &r.error_types {
            let tools: Vec<String> = e.tools.iter().map(|(k, v)| format!("{k}×{v}")).collect();
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} |",
                code(et),
                e.count,
                cell(&tools.join(", ")),
                e.first_seen,
                e.last_seen
            );
        }
    }
    s
}

fn metadata(out: &RunOutput) -> String {
    let mut s = String::new();
    let Some(g) = out.metrics.as_ref().and_then(|m| m.git.as_ref()) else {
        return "- Git history unavailable.\n".to_string();
    };
    if g.config_changes.is_empty() {
        let _ = writeln!(
            s,
            "- Config files changed ({}): none.",
            out.windows.rollup.length
        );
    } else {
        let _ = writeln!(s, "Config files changed ({}):", out.windows.rollup.length);
        s.push('\n');
        s.push_str("| File | Commits | Lines | Reverted | Commits |\n");
        s.push_str("|---|---:|---|---|---|\n");
        for c in &g.config_changes {
            let shas: Vec<&str> = c.shas.iter().map(|x| &x[..x.len().min(12)]).collect();
            let reverted = if !c.reverted_by.is_empty() {
                "reverted"
            } else if c.returned_to_earlier_state {
                "back to earlier content"
            } else {
                "no"
            };
            let _ = writeln!(
                s,
                "| {} | {} | +{} −{} | {} | {} |",
                cell(&code(&c.path)),
                c.commits,
                c.lines_added,
                c.lines_removed,
                reverted,
                shas.join(", ")
            );
        }
    }
    s.push('\n');
    if g.reverts.is_empty() {
        let _ = writeln!(s, "- Reverts ({}): none.", out.windows.rollup.length);
    } else {
        let _ = writeln!(s, "Reverts ({}):", out.windows.rollup.length);
        s.push('\n');
        for r in &g.reverts {
            let _ = writeln!(
                s,
                "- {} {}{}",
                code(&r.sha[..r.sha.len().min(12)]),
                crate::finding::sample(&r.subject, 200),
                if r.revert_of_revert {
                    " (revert of a revert)"
                } else {
                    ""
                }
            );
        }
    }
    s
}

fn impact(out: &RunOutput) -> String {
    let mut s = String::new();
    let Some(d) = &out.deltas else {
        return "- No deltas (run skipped).\n".to_string();
    };
    let Some(prev) = &d.previous_run else {
        s.push_str("- First recorded run: no previous run to compare with.\n");
        tracked(&mut s, d);
        return s;
    };
    let _ = writeln!(
        s,
        "Compared with run {prev} ({} window):",
        out.windows.primary.length
    );
    s.push('\n');
    let fr = &d.failure_rate;
    let _ = writeln!(
        s,
        "- Failure rate: {} (previous {}{}).",
        pct_or_na(fr.current),
        pct_or_na(fr.previous),
        fr.change_pp
            .map(|c| format!(", {}", pp(c)))
            .unwrap_or_default()
    );
    let cd = |c: &crate::deltas::CountDelta| {
        format!(
            "{} (previous {}, {})",
            c.current,
            c.previous.map_or("n/a".into(), |p| p.to_string()),
            c.change.map_or("n/a".into(), signed)
        )
    };
    let _ = writeln!(
        s,
        "- Tool calls: {}; failed: {}.",
        cd(&d.tool_calls),
        cd(&d.failed_calls)
    );
    let _ = writeln!(
        s,
        "- CI failures: {}; commits: {}.",
        cd(&d.ci_failures),
        cd(&d.commits)
    );
    let changed: Vec<String> = d
        .error_types
        .iter()
        .filter(|(_, c)| c.change != Some(0))
        .map(|(k, c)| {
            format!(
                "{} {} ({})",
                code(k),
                c.current,
                c.change.map_or("n/a".into(), signed)
            )
        })
        .collect();
    if changed.is_empty() {
        s.push_str("- Error types: no change.\n");
    } else {
        let _ = writeln!(s, "- Error types: {}.", changed.join(", "));
    }
    let f = &d.findings;
    let _ = writeln!(
        s,
        "- Findings: {} new, {} persisting, {} recurring, {} resolved.",
        f.new.len(),
        f.persisting.len(),
        f.recurring.len(),
        f.resolved.len()
    );
    for r in &f.resolved {
        let _ = writeln!(
            s,
            "  - Resolved: {} {} ({}){}",
            r.rule,
            code(&r.subject),
            code(short(&r.fingerprint)),
            r.ticket
                .as_ref()
                .map(|t| format!(" — ticket #{}", t.number))
                .unwrap_or_default()
        );
    }
    tracked(&mut s, d);
    s
}

/// Measured improvement: each ticketed finding's figure when its ticket was created beside
/// this run's.
fn tracked(s: &mut String, d: &crate::deltas::Deltas) {
    let figure = tracked_figure;
    for t in &d.tracked {
        let _ = writeln!(
            s,
            "- Ticket #{} ({} {}): {} at ticket creation ({}), {} now.",
            t.ticket.number,
            t.rule,
            code(&t.subject),
            figure(t.baseline.count, t.baseline.value),
            t.baseline.run_id,
            figure(t.current, t.current_value)
        );
    }
}

fn finding_row(f: &Finding) -> String {
    format!(
        "| {} | {} | {} | {} | {} | {} |",
        f.severity.as_str(),
        f.rule,
        cell(&code(&f.subject)),
        f.status.as_str(),
        code(&f.fingerprint),
        ticket_cell(f, true)
    )
}

/// A finding's ticket as a table cell: its number (linked when `link`), `new` when this run
/// opens it, `watch list` when the budget held it back, `—` otherwise.
pub fn ticket_cell(f: &Finding, link: bool) -> String {
    match (&f.ticket, f.ticketing) {
        (Some(t), _) if link && !t.url.is_empty() => format!("[#{}]({})", t.number, t.url),
        (Some(t), _) => format!("#{}", t.number),
        (None, Some(Ticketing::New)) => "new".to_string(),
        (None, Some(Ticketing::HeldBack)) => "watch list".to_string(),
        _ => "—".to_string(),
    }
}

/// The watch list: findings the ticket budget held back, each with its evidence (count
/// against threshold, first and last seen, two samples, refs), at most `max` of them, then
/// how many more. Deterministic (finding order), so an unchanged run renders the same bytes.
pub fn watch_list(findings: &[Finding], max: usize) -> String {
    let held: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.ticketing == Some(Ticketing::HeldBack))
        .collect();
    let mut s = String::new();
    for f in held.iter().take(max) {
        let e = &f.evidence;
        let _ = writeln!(
            s,
            "- **{}** {} · {} · {} ({}, fingerprint {})",
            f.severity.as_str(),
            code(f.rule.as_str()),
            code(&crate::finding::sample(&f.subject, 120)),
            crate::finding::sample(&f.title, 200),
            f.status.as_str(),
            code(&f.fingerprint)
        );
        let figure = match e.rate {
            Some(r) => format!("{} ({})", e.count, pct_or_na(Some(r))),
            None => e.count.to_string(),
        };
        let threshold = if e.rate.is_some() {
            pct_or_na(Some(e.threshold))
        } else {
            format!("{}", e.threshold)
        };
        let mut line = format!(
            "  - {figure} in the last {} (threshold {threshold})",
            e.window
        );
        if let (Some(a), Some(b)) = (&e.first_seen, &e.last_seen) {
            let _ = write!(line, "; first {a}, last {b}");
        }
        if !e.refs.is_empty() {
            let refs: Vec<String> = e
                .refs
                .iter()
                .take(3)
                .map(|r| code(&crate::finding::sample(r, 40)))
                .collect();
            let more = e.refs.len().saturating_sub(3);
            let _ = write!(
                line,
                "; refs {}{}",
                refs.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            );
        }
        s.push_str(&line);
        s.push('\n');
        for x in e.samples.iter().take(2) {
            let _ = writeln!(s, "  - e.g. {}", code(&crate::finding::sample(x, 160)));
        }
    }
    if held.len() > max {
        let _ = writeln!(
            s,
            "- …and {} more held back (the run log lists every one).",
            held.len() - max
        );
    }
    s
}

fn tickets(out: &RunOutput) -> String {
    let mut s = String::new();
    if out.tickets.is_empty() {
        s.push_str("- None created or updated by this run (GitHub publishing did not run).\n");
    } else {
        for t in &out.tickets {
            let _ = writeln!(s, "- {}", t.line());
        }
    }
    if !out.findings.is_empty() {
        s.push('\n');
        s.push_str("Findings and their tickets:\n\n");
        s.push_str("| Severity | Rule | Subject | Status | Fingerprint | Ticket |\n");
        s.push_str("|---|---|---|---|---|---|\n");
        for f in &out.findings {
            s.push_str(&finding_row(f));
            s.push('\n');
        }
        let (existing, new, held) = crate::triage::counts(&out.findings);
        let _ = writeln!(
            s,
            "\nTicket budget (`[analysis] max_new_tickets`): {new} new, {existing} existing \
             (refreshed, free), {held} held back."
        );
        if held > 0 {
            s.push_str("\nWatch list (held back by the budget; each gets its ticket in a later run with room if it recurs):\n\n");
            s.push_str(&watch_list(&out.findings, usize::MAX));
        }
    }
    s
}

fn prs(out: &RunOutput) -> String {
    if out.pull_requests.is_empty() {
        return "- None.\n".to_string();
    }
    out.pull_requests
        .iter()
        .map(|p| format!("- {}\n", p.line()))
        .collect()
}

fn focus(out: &RunOutput) -> String {
    let mut s = String::new();
    if out.findings.is_empty() {
        s.push_str("- No threshold crossed. Keep watching the error types and files above.\n");
        return s;
    }
    for (i, f) in out.findings.iter().take(5).enumerate() {
        let _ = writeln!(
            s,
            "{}. **{}** {} — {}",
            i + 1,
            f.severity.as_str(),
            crate::finding::sample(&f.title, 200),
            f.suggested_action
        );
        for sample in f.evidence.samples.iter().take(1) {
            let _ = writeln!(s, "   - e.g. {}", code(sample));
        }
    }
    if out.findings.len() > 5 {
        let _ = writeln!(
            s,
            "- …and {} more findings (see the table above).",
            out.findings.len() - 5
        );
    }
    s
}

/// A ticketed finding's figure: the count, with the rate when the rule has one.
pub fn tracked_figure(count: u64, value: Option<f64>) -> String {
    match value {
        Some(v) => format!("{count} ({})", pct_or_na(Some(v))),
        None => count.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_survive_backticks() {
        assert_eq!(code("ls"), "`ls`");
        assert_eq!(code("a `b` c"), "`` a `b` c ``");
        assert_eq!(code("x``y"), "``` x``y ```");
    }

    #[test]
    fn cells_escape_pipes() {
        assert_eq!(cell("a|b\nc"), "a\\|b c");
    }
}
