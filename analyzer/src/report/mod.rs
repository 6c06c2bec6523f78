//! `codex-analyzer report`: one self-contained HTML file people can open from a CI artifact
//! or a laptop, with no network: inline CSS, one small inline script (table sorting only),
//! and charts as inline SVG generated here ([`svg`]).
//!
//! The report is computed from the library, not from another command's output: a dry run of
//! the `run` pipeline (forced, so an already processed run ID still yields numbers; nothing
//! is written) with one extension that keeps the collected calls, computes the closed-loop
//! [`signals`](crate::signals) and [`clusters`](crate::cluster) itself, and reads the state
//! as this run would leave it. [`gather`] turns that into plain [`ReportData`]; [`html`]
//! renders it. Rendering is a pure function of the data: the same inputs give the same
//! bytes (the wall clock only appears, once, when no `--now` is given).
//!
//! What it shows (see `docs/report.md`): the tool failure rate across recent runs, error
//! types, friction vs delight per session, top failure signatures, hotspot files, findings
//! per run, and the findings with their tickets and deltas.

pub mod gather;
pub mod html;
pub mod svg;

use std::path::PathBuf;

use anyhow::Context;
use chrono::{DateTime, Utc};
use codex_contract::state::{Baseline, TicketRef};

pub use gather::gather;
pub use html::render;

/// What the user asked for (`codex-analyzer report`).
#[derive(Clone, Debug, Default)]
pub struct ReportRequest {
    /// The repository (default: the git top level of the current directory).
    pub repo: Option<PathBuf>,
    /// Where to write the HTML (default: `report.html` in the current directory).
    pub out: Option<PathBuf>,
    /// The reference time (default: the clock, which then appears in the report).
    pub now: Option<DateTime<Utc>>,
    /// The tool-call log (default as for `run`).
    pub log: Option<PathBuf>,
    /// The window the report covers (default: with `now`, the config's rollup, 24h, so the
    /// numbers are the run's; without it, [`DEFAULT_WINDOW`], reaching back to the newest
    /// record when that holds none).
    pub window: Option<String>,
    /// The config file (default as for `run`).
    pub config: Option<PathBuf>,
}

/// The report's window when neither `--window` nor `--now` is given: a week shows what a
/// repository has been doing, where the run's 24h rollup is often empty.
pub const DEFAULT_WINDOW: &str = "7d";

/// The default output file, relative to the current directory.
pub const DEFAULT_OUT: &str = "report.html";

/// How many rows the bar charts show at most (tables show the same rows).
pub const TOP_ROWS: usize = 15;
/// How many sessions the friction/delight chart shows at most.
pub const TOP_SESSIONS: usize = 25;
/// How many runs the findings-per-run chart shows (the most recent).
pub const FINDING_RUNS: usize = 14;

/// Everything the page shows, already redacted and bounded. Built by [`gather`] from a
/// repository, or by hand in tests.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReportData {
    /// One line for the terminal about the window: that it holds no records (and what to
    /// pass), or that the default window reached back to the data. Also in `warnings`.
    pub notice: Option<String>,
    /// The repository's folder name (not its path: the page must not depend on where the
    /// repository is checked out).
    pub repo_name: String,
    pub run_id: String,
    /// The reference time, RFC 3339 UTC.
    pub now: String,
    /// `true` when `--now` was not given: the reference time is the wall clock.
    pub now_is_clock: bool,
    /// The window the report covers (`24h`) and its bounds.
    pub window: String,
    pub window_start: String,
    pub window_end: String,
    /// The primary window of a run (`12h`): what each run's failure rate covers.
    pub run_window: String,
    pub totals: Totals,
    /// Recent runs from the state, oldest first, the current one last.
    pub runs: Vec<RunRow>,
    pub error_types: Vec<ErrorTypeRow>,
    pub sessions: Vec<SessionRow>,
    /// Sessions in the window that the chart leaves out (beyond [`TOP_SESSIONS`]).
    pub sessions_omitted: usize,
    pub signatures: Vec<SignatureRow>,
    pub signatures_omitted: usize,
    pub hotspots: Vec<HotspotRow>,
    /// `false` when git history could not be read (the reason is in `warnings`).
    pub git_available: bool,
    pub finding_runs: Vec<FindingRunRow>,
    pub findings: Vec<FindingRow>,
    /// The run the findings' deltas compare with.
    pub previous_run: Option<String>,
    pub warnings: Vec<String>,
}

/// Headline numbers of the window.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Totals {
    pub calls: u64,
    pub definite: u64,
    pub failed: u64,
    pub unknown: u64,
    pub failure_rate: Option<f64>,
    pub sessions: u64,
    pub ci_failures: u64,
    pub commits: u64,
}

/// One run's primary-window numbers (from the state, or this report's run).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunRow {
    pub run_id: String,
    pub calls: u64,
    pub definite: u64,
    pub failed: u64,
    pub unknown: u64,
    pub failure_rate: Option<f64>,
    /// The run this report computed (not read from the state).
    pub current: bool,
}

/// One error type over the window.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ErrorTypeRow {
    pub name: String,
    pub count: u64,
    /// Of which failing calls (the rest are session events).
    pub calls: u64,
    pub tools: Vec<(String, u64)>,
    pub last_seen: String,
    /// A redacted sample.
    pub sample: Option<String>,
}

/// Friction and delight of one session.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SessionRow {
    pub session: String,
    pub calls: u32,
    pub failures: u32,
    pub turns: u32,
    pub friction: u32,
    pub delight: u32,
    /// The non-zero friction kinds, for the tooltip and the table.
    pub friction_kinds: Vec<(String, u32)>,
    pub delight_kinds: Vec<(String, u32)>,
}

/// A failure signature: a cluster of failing tool calls, or a CI failure signature.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SignatureRow {
    /// `command` or `ci`.
    pub kind: String,
    pub id: String,
    /// `tool: command template`, or `job` for CI.
    pub label: String,
    /// The error type (commands) or the category (CI).
    pub error_type: String,
    /// The normalized error (commands) or the failure template (CI).
    pub template: String,
    pub count: u64,
    /// Sessions affected (commands only).
    pub sessions: Option<u32>,
    /// The cluster's impact score (commands only).
    pub impact: Option<f64>,
    pub last_seen: String,
}

/// A file changed in many commits.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HotspotRow {
    pub path: String,
    pub commits: u64,
    pub lines_added: u64,
    pub lines_removed: u64,
    pub authors: Vec<String>,
    pub last_changed: String,
}

/// How the findings of one run compare with the run before it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FindingRunRow {
    pub run_id: String,
    pub new: u64,
    pub persisting: u64,
    pub recurring: u64,
    pub resolved: u64,
    pub current: bool,
}

/// A finding of this run, or one the previous run had that is now resolved.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FindingRow {
    pub fingerprint: String,
    pub rule: String,
    pub subject: String,
    pub title: String,
    /// `high`, `medium`, `low`; empty for resolved findings.
    pub severity: String,
    /// `new`, `persisting`, `recurring` or `resolved`.
    pub status: String,
    /// This run's count (0 when resolved).
    pub count: u64,
    /// The count in the previous run, when it reported the finding.
    pub previous: Option<u64>,
    pub ticket: Option<TicketRef>,
    /// The count when the ticket was created.
    pub baseline: Option<Baseline>,
    pub first_seen_run: Option<String>,
}

/// The result of [`generate`].
#[derive(Clone, Debug)]
pub struct Written {
    pub path: PathBuf,
    /// See [`ReportData::notice`].
    pub notice: Option<String>,
    pub bytes: usize,
    pub charts: usize,
    pub findings: usize,
}

/// Gathers, renders and writes the report (atomically: a temp sibling renamed over it).
pub fn generate(req: &ReportRequest) -> anyhow::Result<Written> {
    let data = gather(req)?;
    let page = render(&data);
    // As given: a relative path is relative to the current directory, and is printed so.
    let path = req
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_OUT));
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| {
            format!(
                "cannot create {} for the report; pass another --out",
                dir.display()
            )
        })?;
    }
    let mut tmp = path.clone().into_os_string();
    tmp.push(".tmp");
    crate::state::write_atomic(&path, &PathBuf::from(tmp), page.html.as_bytes())?;
    Ok(Written {
        notice: data.notice.clone(),
        path,
        bytes: page.html.len(),
        charts: page.charts,
        findings: data.findings.len(),
    })
}
