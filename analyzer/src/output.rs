//! Printing a run: the human summary (`text`), the run-log section (`md`) and the JSON
//! document (`json`). Colour only when stdout is a terminal and `NO_COLOR` is unset
//! (<https://no-color.org>); never in `md` or `json`.

use std::fmt::Write as _;
use std::io::IsTerminal;

use crate::finding::{Severity, Ticketing};
use crate::numbers::pct_or_na;
use crate::run::{Mode, RunOutput, WriteAction};

/// Output formats of `run`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Md,
    Json,
}

/// Whether to colour stdout: a terminal, and `NO_COLOR` unset or empty.
pub fn use_colour() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// ANSI styling that collapses to plain text when disabled.
#[derive(Clone, Copy)]
pub struct Style {
    pub colour: bool,
}

impl Style {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.colour {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    pub fn bold(&self, s: &str) -> String {
        self.wrap("1", s)
    }
    pub fn dim(&self, s: &str) -> String {
        self.wrap("2", s)
    }
    pub fn yellow(&self, s: &str) -> String {
        self.wrap("33", s)
    }
    pub fn green(&self, s: &str) -> String {
        self.wrap("32", s)
    }
    pub fn severity(&self, sev: Severity) -> String {
        let label = format!("{:<6}", sev.as_str().to_uppercase());
        match sev {
            Severity::High => self.wrap("1;31", &label),
            Severity::Medium => self.wrap("33", &label),
            Severity::Low => self.wrap("36", &label),
        }
    }
}

/// Renders a run in `format`.
pub fn render(out: &RunOutput, format: Format, style: Style) -> String {
    match format {
        Format::Json => {
            let mut s = serde_json::to_string_pretty(out).expect("the output always serializes");
            s.push('\n');
            s
        }
        Format::Md => {
            if out.skipped {
                format!(
                    "<!-- {} -->\n",
                    out.skip_reason.as_deref().unwrap_or("skipped")
                )
            } else {
                out.log_section.clone()
            }
        }
        Format::Text => text(out, style),
    }
}

fn writes(s: &mut String, actions: &[WriteAction]) {
    for a in actions {
        let _ = writeln!(
            s,
            "  {:<8} {} ({} bytes){}",
            a.action,
            a.path,
            a.bytes,
            a.note
                .as_ref()
                .map(|n| format!(" — {n}"))
                .unwrap_or_default()
        );
    }
}

fn text(out: &RunOutput, st: Style) -> String {
    let mut s = String::new();
    let mode = match out.mode {
        Mode::DryRun => "dry run: nothing is written",
        // A skipped --apply run wrote nothing: it is not headed "applied".
        Mode::Apply if out.skipped => "skipped: nothing is written",
        Mode::Apply => "applied",
    };
    let _ = writeln!(
        s,
        "{} {} ({}{})",
        st.bold("codex-analyzer run"),
        st.bold(&out.run_id),
        mode,
        if out.forced { ", forced" } else { "" }
    );
    let _ = writeln!(
        s,
        "  {} {}   {} {} → {} ({})   {} {}",
        st.dim("now"),
        out.now,
        st.dim("window"),
        out.windows.primary.start,
        out.windows.primary.end,
        out.windows.primary.length,
        st.dim("rollup"),
        out.windows.rollup.length
    );
    if out.skipped {
        let _ = writeln!(
            s,
            "\n{} {}",
            st.yellow("Skipped:"),
            out.skip_reason.as_deref().unwrap_or("already processed")
        );
        for w in &out.warnings {
            let _ = writeln!(s, "{} {w}", st.yellow("warning:"));
        }
        return s;
    }
    if let (Some(m), Some(inputs)) = (&out.metrics, &out.inputs) {
        s.push('\n');
        let (p, r) = (&m.tool_calls.primary, &m.tool_calls.rollup);
        let _ = writeln!(
            s,
            "{:<12} {}: {} in {}, {} failed ({}), {} unknown",
            st.bold("Tool calls"),
            out.windows.primary.length,
            crate::args::plural(p.calls, "call"),
            crate::args::plural(p.sessions, "session"),
            p.failed,
            pct_or_na(p.failure_rate),
            p.unknown
        );
        let _ = writeln!(
            s,
            "{:<12} {}: {} calls, {} failed ({}); log {} ({} records read, {} lines skipped)",
            "",
            out.windows.rollup.length,
            r.calls,
            r.failed,
            pct_or_na(r.failure_rate),
            inputs.toolcalls.path,
            inputs.toolcalls.counts.records,
            inputs.toolcalls.counts.skipped
        );
        let top: Vec<String> = {
            let mut v: Vec<(&String, u64)> =
                r.error_types.iter().map(|(k, e)| (k, e.count)).collect();
            v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
            v.iter().take(5).map(|(k, n)| format!("{k}×{n}")).collect()
        };
        if !top.is_empty() {
            let _ = writeln!(
                s,
                "{:<12} error types {}: {}",
                "",
                out.windows.rollup.length,
                top.join(", ")
            );
        }
        let ci = &m.ci.rollup;
        let _ = writeln!(
            s,
            "{:<12} {}: {} failures in {} signatures ({} transient) from {} ({} files)",
            st.bold("CI logs"),
            out.windows.rollup.length,
            ci.failures,
            ci.signatures.len(),
            ci.transient_failures,
            inputs.ci_logs.dir,
            inputs.ci_logs.files
        );
        match &m.git {
            Some(g) => {
                let hot = g
                    .hotspots
                    .first()
                    .map(|h| match h.rework_lines {
                        0 => format!("; busiest file {} ({} commits)", h.path, h.commits),
                        n => format!("; most reworked file {} ({n} lines)", h.path),
                    })
                    .unwrap_or_default();
                let _ = writeln!(
                    s,
                    "{:<12} {}: {} commits, {} reverts, {} config files changed{hot}",
                    st.bold("Git"),
                    out.windows.rollup.length,
                    g.totals.commits,
                    g.totals.reverts,
                    g.totals.config_files_changed
                );
            }
            None => {
                let _ = writeln!(s, "{:<12} unavailable", st.bold("Git"));
            }
        }
    }
    s.push('\n');
    if out.findings.is_empty() {
        let _ = writeln!(s, "{} no threshold crossed.", st.green("Findings:"));
    } else {
        let (existing, new, held) = crate::triage::counts(&out.findings);
        let _ = writeln!(
            s,
            "{} ({}): tickets {new} new, {existing} existing, {held} held back by the budget \
             ([analysis] max_new_tickets; held-back findings are on the rolling issue's watch list)",
            st.bold("Findings"),
            out.findings.len()
        );
        for f in &out.findings {
            let ticket = match f.ticketing {
                Some(Ticketing::New) => " · new ticket",
                Some(Ticketing::Existing) => " · ticket refreshed",
                Some(Ticketing::HeldBack) => " · held back",
                None => "",
            };
            let _ = writeln!(
                s,
                "  {} {:<20} {} {}",
                st.severity(f.severity),
                f.rule.as_str(),
                f.title,
                st.dim(&format!(
                    "[{}{ticket} {}]",
                    f.status.as_str(),
                    &f.fingerprint
                ))
            );
            let _ = writeln!(s, "         → {}", f.suggested_action);
        }
    }
    if let Some(d) = &out.deltas {
        match &d.previous_run {
            Some(prev) => {
                let change = d
                    .failure_rate
                    .change_pp
                    .map(|c| format!(" ({c:+.1} pp)"))
                    .unwrap_or_default();
                let _ = writeln!(
                    s,
                    "\n{} vs {prev}: failure rate {}{change}; findings {} new, {} persisting, {} recurring, {} resolved",
                    st.bold("Impact"),
                    pct_or_na(d.failure_rate.current),
                    d.findings.new.len(),
                    d.findings.persisting.len(),
                    d.findings.recurring.len(),
                    d.findings.resolved.len()
                );
            }
            None => {
                let _ = writeln!(
                    s,
                    "\n{} first recorded run, nothing to compare with",
                    st.bold("Impact")
                );
            }
        }
    }
    if let Some(summary) = out
        .github
        .as_ref()
        .and_then(|g| g.pointer("/publish/summary"))
        .and_then(|v| v.as_str())
    {
        let _ = writeln!(s, "\n{:<12} {summary}", st.bold("GitHub"));
        for item in out.tickets.iter().chain(&out.pull_requests) {
            let _ = writeln!(s, "  {:<13} {}", item.kind, item.line());
        }
    }
    for w in &out.warnings {
        let _ = writeln!(s, "{} {w}", st.yellow("warning:"));
    }
    s.push('\n');
    match out.mode {
        Mode::DryRun => {
            let _ = writeln!(s, "{}", st.bold("Would write (pass --apply to write):"));
            writes(&mut s, &out.would_write);
        }
        Mode::Apply => {
            let _ = writeln!(s, "{}", st.bold("Wrote:"));
            writes(&mut s, &out.written);
        }
    }
    s
}
