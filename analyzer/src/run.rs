//! The `run` pipeline: resolve → lock (apply only) → load state → skip check → extensions
//! (`gather`) → collect → rules → extensions (`analyze`) → deltas → record in state →
//! extensions (`publish`) → render the run-log section → write (apply) or describe (dry
//! run) → extensions (`after_write`).
//!
//! Everything a run knows ends up in one [`RunOutput`], which is also the `--format json`
//! document (`docs/analyzer-output.schema.json`). Stages that other issues add (closed-loop
//! signals and clusters, GitHub publishing) plug in as [`Extension`]s: they may add findings,
//! fill the optional `sessions` / `clusters` / `github` sections and the `tickets` /
//! `pull_requests` lists, and add Markdown to any run-log heading through `log_extras`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use chrono::{DateTime, Utc};
use codex_contract::record::format_ts;
use codex_contract::state::{RunMetrics, State};
use serde::Serialize;

use crate::collect::ci_logs::{self, CiInput, CiLog, CiMetrics};
use crate::collect::git::{self, ConfigChange, FileChurn, GitActivity, GitTotals, RevertInfo};
use crate::collect::toolcalls::{
    self, LogInput, RecordSource, ToolCallActivity, ToolCallOptions, ToolMetrics,
};
use crate::collect::{Window, WindowInfo};
use crate::config::{parse_duration, Config};
use crate::deltas::{self, Deltas};
use crate::finding::{self, Finding};
use crate::runlog;
use crate::state::{self, Loaded, StateFiles};

/// The version of the `--format json` document. Bump on any change that can break a reader
/// (removing or renaming a field, changing a type); adding optional fields does not.
pub const OUTPUT_SCHEMA_VERSION: u32 = 1;

/// What the user asked for.
#[derive(Clone, Debug, Default)]
pub struct RunRequest {
    /// The repository (default: the git top level of the current directory).
    pub repo: Option<PathBuf>,
    /// The reference time (default: the clock).
    pub now: Option<DateTime<Utc>>,
    pub apply: bool,
    pub force: bool,
    /// Window lengths overriding the config (`12h`).
    pub window: Option<String>,
    pub rollup: Option<String>,
    /// The tool-call log (default: contract `paths::log_path`).
    pub log: Option<PathBuf>,
    /// The local CI-log folder (default: config `ci_logs_dir`).
    pub ci_logs: Option<PathBuf>,
    /// The config file (default: `<repo>/.codex/improvement.toml` when present).
    pub config: Option<PathBuf>,
    /// Show progress bars (the caller decides: stderr is a TTY).
    pub progress: bool,
}

/// Everything resolved before anything is read.
#[derive(Clone, Debug)]
pub struct RunContext {
    pub repo: PathBuf,
    pub now: DateTime<Utc>,
    pub run_id: String,
    pub config: Config,
    pub config_path: Option<PathBuf>,
    pub primary: Window,
    pub rollup: Window,
    pub toolcalls_log: PathBuf,
    pub ci_logs_dir: PathBuf,
    pub run_log: PathBuf,
    pub state_files: StateFiles,
    pub apply: bool,
    pub force: bool,
    pub progress: bool,
}

impl RunContext {
    pub fn resolve(req: &RunRequest) -> anyhow::Result<RunContext> {
        let cwd = std::env::current_dir().context("cannot read the current directory")?;
        let repo = crate::args::repo(req.repo.as_deref())?;
        let (config, config_path) = Config::load(req.config.as_deref(), &repo)?;
        let window_s = req.window.as_deref().unwrap_or(&config.analysis.window);
        let rollup_s = req.rollup.as_deref().unwrap_or(&config.analysis.rollup);
        let window = parse_duration(window_s).context("--window")?;
        let rollup = parse_duration(rollup_s).context("--rollup")?;
        if rollup < window {
            bail!(
                "the rollup ({rollup_s}) must be at least the primary window ({window_s}); \
                 pass a longer --rollup or a shorter --window"
            );
        }
        let now = req.now.unwrap_or_else(Utc::now);
        let toolcalls_log = match &req.log {
            Some(p) if p.is_relative() => cwd.join(p),
            Some(p) => p.clone(),
            None => codex_contract::paths::log_path(None, &repo),
        };
        let ci_logs_dir = match &req.ci_logs {
            Some(p) if p.is_relative() => cwd.join(p),
            Some(p) => p.clone(),
            None => repo.join(&config.analysis.ci_logs_dir),
        };
        let run_log = repo.join(&config.analysis.run_log);
        let state_files = StateFiles::new(repo.join(&config.analysis.state));
        Ok(RunContext {
            run_id: codex_contract::runid::run_id(now),
            primary: Window::ending_at(now, window),
            rollup: Window::ending_at(now, rollup),
            repo,
            now,
            config,
            config_path,
            toolcalls_log,
            ci_logs_dir,
            run_log,
            state_files,
            apply: req.apply,
            force: req.force,
            progress: req.progress,
        })
    }

    /// A path as shown in outputs: relative to the repository when inside it, so outputs do
    /// not depend on where the repository is checked out.
    pub fn display(&self, p: &Path) -> String {
        match p.strip_prefix(&self.repo) {
            Ok(rel) if rel.as_os_str().is_empty() => ".".to_string(),
            Ok(rel) => rel.to_string_lossy().replace('\\', "/"),
            Err(_) => p.to_string_lossy().into_owned(),
        }
    }
}

/// Everything the collectors produced.
pub struct Signals {
    pub tool_calls: ToolCallActivity,
    pub ci: CiInput,
    pub ci_primary: CiMetrics,
    pub ci_rollup: CiMetrics,
    /// `None` when the repository could not be read as git (see `git_error`).
    pub git: Option<GitActivity>,
    pub git_error: Option<String>,
    /// What extensions could not gather (see [`ExtraInputs::warnings`]).
    pub gather_warnings: Vec<String>,
}

/// Inputs extensions bring before the collectors run (the `gather` hook): more tool-call
/// records and more CI job logs, which then go through the same collectors, windows and
/// signature algorithm as the local ones.
#[derive(Default)]
pub struct ExtraInputs {
    /// More tool-call logs (e.g. artifacts uploaded by CI agents).
    pub toolcall_sources: Vec<RecordSource>,
    /// More CI job logs (e.g. GitHub Actions failed jobs), turned into failures with
    /// [`ci_logs::failure_from_log`].
    pub ci_logs: Vec<CiLog>,
    /// Said in the output's warnings (what could not be gathered).
    pub warnings: Vec<String>,
}

/// Runs every collector for the context's windows.
pub fn collect(ctx: &RunContext) -> Signals {
    collect_with(ctx, ExtraInputs::default())
}

/// [`collect`] with what extensions gathered merged in.
pub fn collect_with(ctx: &RunContext, extra: ExtraInputs) -> Signals {
    let opts = ToolCallOptions {
        min_samples: ctx.config.rules.tool_failure_rate.min_samples,
        top_commands: ctx.config.analysis.top_commands,
        samples: ctx.config.analysis.samples,
    };
    let bar = progress_bar(ctx, &ctx.toolcalls_log);
    let tool_calls = toolcalls::collect_with_sources(
        &ctx.toolcalls_log,
        ctx.display(&ctx.toolcalls_log),
        extra.toolcall_sources,
        ctx.primary,
        ctx.rollup,
        &opts,
        &|n| bar.set_position(n),
    );
    bar.finish_and_clear();
    let mut ci = ci_logs::read_dir(&ctx.ci_logs_dir, ctx.display(&ctx.ci_logs_dir));
    ci.failures
        .extend(extra.ci_logs.iter().filter_map(ci_logs::failure_from_log));
    let ci_primary = ci_logs::measure(&ci.failures, ctx.primary, ctx.config.analysis.samples);
    let ci_rollup = ci_logs::measure(&ci.failures, ctx.rollup, ctx.config.analysis.samples);
    let spinner = spinner(ctx, "reading git history");
    let mut git_opts = ctx
        .config
        .git
        .options(ctx.rollup.git(), &ctx.config.analysis.ci_logs_dir);
    git_opts.lockfile_globs = ctx.config.rules.config_churn.lockfiles.clone();
    ctx.config.rules.file_hotspot.apply_to(&mut git_opts);
    let (git, git_error) = match git::collect(&ctx.repo, &git_opts) {
        Ok(g) => (Some(g), None),
        Err(e) => (None, Some(format!("{e:#}"))),
    };
    spinner.finish_and_clear();
    Signals {
        tool_calls,
        ci,
        ci_primary,
        ci_rollup,
        git,
        git_error,
        gather_warnings: extra.warnings,
    }
}

/// Files over this size get a progress bar (on a TTY).
const PROGRESS_MIN_BYTES: u64 = 8 << 20;

fn progress_bar(ctx: &RunContext, path: &Path) -> indicatif::ProgressBar {
    let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if !ctx.progress || len < PROGRESS_MIN_BYTES {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} ({eta})")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message("reading tool calls");
    bar
}

fn spinner(ctx: &RunContext, msg: &'static str) -> indicatif::ProgressBar {
    if !ctx.progress {
        return indicatif::ProgressBar::hidden();
    }
    let s = indicatif::ProgressBar::new_spinner();
    s.set_message(msg);
    s.enable_steady_tick(std::time::Duration::from_millis(120));
    s
}

// ---------------------------------------------------------------------------------------
// The output document.

#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    DryRun,
    Apply,
}

#[derive(Serialize, Clone, Debug)]
pub struct ToolInfo {
    pub name: &'static str,
    pub version: &'static str,
}

#[derive(Serialize, Clone, Debug)]
pub struct Windows {
    pub primary: WindowInfo,
    pub rollup: WindowInfo,
}

/// What the git collector saw, as shown in outputs.
#[derive(Serialize, Clone, Debug)]
pub struct GitInput {
    pub repo: String,
    pub available: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head: Option<String>,
    pub shallow: bool,
    /// Commits the walk read (follows the window, not the history).
    pub visited: usize,
}

#[derive(Serialize, Clone, Debug)]
pub struct Inputs {
    pub toolcalls: LogInput,
    pub ci_logs: CiInput,
    pub git: GitInput,
}

#[derive(Serialize, Clone, Debug)]
pub struct WindowPair<T> {
    pub primary: T,
    pub rollup: T,
}

/// Git numbers of the rollup window.
#[derive(Serialize, Clone, Debug)]
pub struct GitMetrics {
    pub totals: GitTotals,
    /// Commits in the primary window.
    pub primary_commits: u64,
    /// The top hotspots (most commits first).
    pub hotspots: Vec<FileChurn>,
    pub reverts: Vec<RevertInfo>,
    pub config_changes: Vec<ConfigChange>,
}

/// How many hotspots the output lists.
const HOTSPOTS_SHOWN: usize = 20;

#[derive(Serialize, Clone, Debug)]
pub struct Metrics {
    pub tool_calls: WindowPair<ToolMetrics>,
    pub ci: WindowPair<CiMetrics>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub git: Option<GitMetrics>,
}

/// How the state was read.
#[derive(Serialize, Clone, Debug)]
pub struct StateInfo {
    pub path: String,
    /// `fresh`, `loaded`, `recovered_from_backup` or `recovered_empty`.
    pub outcome: String,
    pub processed_runs: usize,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// One file the run writes (or would write).
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct WriteAction {
    pub path: String,
    /// `create`, `append`, `replace`, or `copy` (a backup or a kept-aside corrupt file).
    pub action: String,
    pub bytes: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A ticket or PR touched by the publisher.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct PublishedItem {
    /// `ticket`, `rolling_issue`, `pull_request`.
    pub kind: String,
    /// What happened: the publisher's actions (`created`, `updated`, `reopened`,
    /// `unchanged`, `kept_closed`, `already_exists`, `closed_duplicate`, `superseded`,
    /// `refused`, `pending`), `planned` in a dry run, `proposed` for the PR a run log
    /// section travels in (its number is not known inside it).
    pub action: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    pub title: String,
}

impl PublishedItem {
    /// The run-log line for this item.
    pub fn line(&self) -> String {
        let what = match (&self.number, &self.url) {
            (Some(n), Some(u)) => format!(" [#{n}]({u})"),
            (Some(n), None) => format!(" #{n}"),
            _ => String::new(),
        };
        let fp = self
            .fingerprint
            .as_ref()
            .map(|f| format!(" · fingerprint {}", runlog::code(f)))
            .unwrap_or_default();
        format!(
            "{}{what}: {}{fp}",
            self.action,
            finding::sample(&self.title, 200)
        )
    }
}

/// The run-log headings, for [`LogExtra`].
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LogSection {
    ActivitySummary,
    FailureClusters,
    ToolCallAnalysis,
    MetadataChanges,
    ImpactSummary,
    AutoCreatedTickets,
    PrsCreated,
    Next12hFocus,
}

impl LogSection {
    /// In heading order ([`runlog::HEADINGS`]).
    pub const ALL: [LogSection; 8] = [
        LogSection::ActivitySummary,
        LogSection::FailureClusters,
        LogSection::ToolCallAnalysis,
        LogSection::MetadataChanges,
        LogSection::ImpactSummary,
        LogSection::AutoCreatedTickets,
        LogSection::PrsCreated,
        LogSection::Next12hFocus,
    ];
}

/// Markdown an extension adds under a run-log heading (after the built-in content).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogExtra {
    pub section: LogSection,
    pub markdown: String,
}

/// The result of a run: what `--format json` prints.
#[derive(Serialize, Clone, Debug)]
pub struct RunOutput {
    pub schema_version: u32,
    pub tool: ToolInfo,
    pub run_id: String,
    /// The reference time, RFC 3339 UTC.
    pub now: String,
    pub mode: Mode,
    pub forced: bool,
    /// The run ID was already processed: nothing was analyzed or written.
    pub skipped: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_reason: Option<String>,
    pub windows: Windows,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_file: Option<String>,
    /// `null` when skipped (as are `metrics` and `deltas`).
    pub inputs: Option<Inputs>,
    pub metrics: Option<Metrics>,
    pub findings: Vec<Finding>,
    pub deltas: Option<Deltas>,
    pub state: StateInfo,
    /// Dry run: the files an `--apply` would write. Empty when applied.
    pub would_write: Vec<WriteAction>,
    /// Apply: the files written. Empty in a dry run.
    pub written: Vec<WriteAction>,
    pub warnings: Vec<String>,
    /// Tickets and the rolling issue created/updated by the publisher.
    pub tickets: Vec<PublishedItem>,
    /// The bot PR of this run, when the publisher made one.
    pub pull_requests: Vec<PublishedItem>,
    /// Closed-loop per-session signals (issue 6), when that stage ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sessions: Option<serde_json::Value>,
    /// Closed-loop friction clusters (issue 6), when that stage ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clusters: Option<serde_json::Value>,
    /// GitHub activity (PRs, CI runs) and publishing results (issue 5), when that stage ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub github: Option<serde_json::Value>,
    /// The semantic layer's report (issue 13), when it ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub semantic: Option<serde_json::Value>,
    /// Markdown extensions add to run-log headings (not part of the JSON).
    #[serde(skip)]
    pub log_extras: Vec<LogExtra>,
    /// The run-log section this run appends (or would append); empty when skipped.
    #[serde(skip)]
    pub log_section: String,
}

/// A stage added to the pipeline by another part of the analyzer. Every hook has a no-op
/// default; implement the ones you need.
pub trait Extension {
    fn name(&self) -> &str;

    /// Before the collectors: bring more inputs (tool-call record sources, CI job logs),
    /// which are windowed, folded and normalized with the local ones, so rules, metrics and
    /// signatures see them like any other input.
    fn gather(&mut self, _ctx: &RunContext, _extra: &mut ExtraInputs) -> anyhow::Result<()> {
        Ok(())
    }

    /// After the built-in rules: add findings (to `out.findings`), signals and clusters
    /// (`out.sessions`, `out.clusters`, `out.github`), run-log Markdown (`out.log_extras`).
    /// Findings are re-sorted afterwards and deltas include them.
    fn analyze(
        &mut self,
        _ctx: &RunContext,
        _signals: &Signals,
        _out: &mut RunOutput,
    ) -> anyhow::Result<()> {
        Ok(())
    }

    /// After the state recorded this run, before the run log is rendered: publish, set
    /// ticket references (`FindingHistory::set_ticket`), queue pending writes, list what was
    /// done in `out.tickets` / `out.pull_requests`. `ctx.apply` says whether writing is allowed.
    fn publish(
        &mut self,
        _ctx: &RunContext,
        _out: &mut RunOutput,
        _state: &mut State,
    ) -> anyhow::Result<()> {
        Ok(())
    }

    /// After the run log and the state are on disk (apply only): e.g. commit them to the
    /// bot branch and open the PR.
    fn after_write(&mut self, _ctx: &RunContext, _out: &mut RunOutput) -> anyhow::Result<()> {
        Ok(())
    }
}

impl RunOutput {
    fn new(ctx: &RunContext, loaded: &Loaded) -> RunOutput {
        RunOutput {
            schema_version: OUTPUT_SCHEMA_VERSION,
            tool: ToolInfo {
                name: "codex-analyzer",
                version: env!("CARGO_PKG_VERSION"),
            },
            run_id: ctx.run_id.clone(),
            now: format_ts(ctx.now),
            mode: if ctx.apply { Mode::Apply } else { Mode::DryRun },
            forced: ctx.force,
            skipped: false,
            skip_reason: None,
            windows: Windows {
                primary: ctx.primary.info(),
                rollup: ctx.rollup.info(),
            },
            config_file: ctx.config_path.as_deref().map(|p| ctx.display(p)),
            inputs: None,
            metrics: None,
            findings: Vec::new(),
            deltas: None,
            state: StateInfo {
                path: ctx.display(&ctx.state_files.path),
                outcome: loaded.outcome.label().to_string(),
                processed_runs: loaded.state.processed_runs.len(),
                notes: loaded.notes.clone(),
            },
            would_write: Vec::new(),
            written: Vec::new(),
            warnings: Vec::new(),
            tickets: Vec::new(),
            pull_requests: Vec::new(),
            sessions: None,
            clusters: None,
            github: None,
            semantic: None,
            log_extras: Vec::new(),
            log_section: String::new(),
        }
    }
}

/// The numbers stored in the state for the next run's deltas (primary window).
pub fn run_metrics(signals: &Signals, out: &RunOutput) -> RunMetrics {
    let p = &signals.tool_calls.primary;
    RunMetrics {
        tool_calls: p.calls,
        definite: p.definite,
        failed: p.failed,
        unknown: p.unknown,
        failure_rate: p.failure_rate,
        error_types: p
            .error_types
            .iter()
            .map(|(k, v)| (k.clone(), v.count))
            .collect(),
        ci_failures: signals.ci_primary.failures,
        commits: out
            .metrics
            .as_ref()
            .and_then(|m| m.git.as_ref())
            .map_or(0, |g| g.primary_commits),
        extra: Default::default(),
    }
}

/// Runs the pipeline with no extensions.
pub fn run(req: &RunRequest) -> anyhow::Result<RunOutput> {
    run_with(req, &mut [])
}

/// Runs the pipeline with extensions, in order.
pub fn run_with(
    req: &RunRequest,
    extensions: &mut [&mut dyn Extension],
) -> anyhow::Result<RunOutput> {
    let ctx = RunContext::resolve(req)?;
    // The lock is held until the end of this function (apply only: a dry run writes
    // nothing, not even a lock file).
    let _lock = if ctx.apply {
        Some(state::lock(&ctx.state_files)?)
    } else {
        None
    };
    let loaded = state::load(&ctx.state_files, &ctx.run_log)?;
    let mut out = RunOutput::new(&ctx, &loaded);
    if loaded.outcome.is_recovery() {
        out.warnings.push(format!(
            "the state file was damaged and {}: {}",
            if ctx.apply {
                "has been recovered"
            } else {
                "would be recovered"
            },
            loaded.notes.join("; ")
        ));
    }
    if loaded.state.processed_runs.contains(&ctx.run_id) && !ctx.force {
        out.skipped = true;
        out.skip_reason = Some(format!(
            "run {} was already processed (recorded in {}); nothing to do. Pass --force to run it again",
            ctx.run_id,
            ctx.display(&ctx.state_files.path)
        ));
        return Ok(out);
    }

    let mut extra = ExtraInputs::default();
    for ext in extensions.iter_mut() {
        ext.gather(&ctx, &mut extra)
            .with_context(|| format!("stage {}", ext.name()))?;
    }
    let signals = collect_with(&ctx, extra);
    out.inputs = Some(Inputs {
        toolcalls: signals.tool_calls.input.clone(),
        ci_logs: signals.ci.clone(),
        git: GitInput {
            repo: ctx.display(&ctx.repo),
            available: signals.git.is_some(),
            error: signals.git_error.clone(),
            head: signals.git.as_ref().and_then(|g| g.head.clone()),
            shallow: signals.git.as_ref().is_some_and(|g| g.shallow),
            visited: signals.git.as_ref().map_or(0, |g| g.visited),
        },
    });
    warn_inputs(&ctx, &signals, &mut out);
    out.metrics = Some(Metrics {
        tool_calls: WindowPair {
            primary: signals.tool_calls.primary.clone(),
            rollup: signals.tool_calls.rollup.clone(),
        },
        ci: WindowPair {
            primary: signals.ci_primary.clone(),
            rollup: signals.ci_rollup.clone(),
        },
        git: signals.git.as_ref().map(|g| GitMetrics {
            totals: g.totals.clone(),
            primary_commits: g
                .commits
                .iter()
                .filter(|c| ctx.primary.contains(c.time))
                .count() as u64,
            hotspots: g.hotspots.iter().take(HOTSPOTS_SHOWN).cloned().collect(),
            reverts: g.reverts.clone(),
            config_changes: g.config_changes.clone(),
        }),
    });

    let inputs = crate::rules::RuleInputs {
        tools: &signals.tool_calls.rollup,
        ci: &signals.ci_rollup,
        git: signals.git.as_ref(),
        window: ctx.rollup.info().length,
    };
    out.findings = crate::rules::evaluate(&inputs, &ctx.config);
    for ext in extensions.iter_mut() {
        ext.analyze(&ctx, &signals, &mut out)
            .with_context(|| format!("stage {}", ext.name()))?;
    }
    finding::sort(&mut out.findings);
    crate::triage::apply(
        &mut out.findings,
        &loaded.state,
        &ctx.run_id,
        ctx.config.analysis.max_new_tickets,
    );

    let metrics = run_metrics(&signals, &out);
    let deltas = deltas::compute(&loaded.state, &ctx.run_id, &metrics, &mut out.findings);
    let mut new_state = loaded.state.clone();
    deltas::record(
        &mut new_state,
        &ctx.run_id,
        &out.now,
        metrics,
        &out.findings,
        &deltas,
    );
    out.deltas = Some(deltas);
    for ext in extensions.iter_mut() {
        ext.publish(&ctx, &mut out, &mut new_state)
            .with_context(|| format!("stage {}", ext.name()))?;
    }

    out.log_section = runlog::render(&out);
    let plan = plan_writes(&ctx, &loaded, &new_state, &out)?;
    if ctx.apply {
        execute(&ctx, &loaded, &new_state, &plan)?;
        out.written = plan.actions;
        for ext in extensions.iter_mut() {
            ext.after_write(&ctx, &mut out)
                .with_context(|| format!("stage {}", ext.name()))?;
        }
    } else {
        out.would_write = plan.actions;
    }
    Ok(out)
}

fn warn_inputs(ctx: &RunContext, signals: &Signals, out: &mut RunOutput) {
    let t = &signals.tool_calls.input;
    // Paths in warnings are for pasting: relative to the current directory, else absolute.
    let log = crate::args::pasteable(&ctx.toolcalls_log);
    if !t.exists {
        out.warnings.push(format!(
            "no tool-call log at {log} yet: install the capture shim (`codex-shim install`) or pass --log"
        ));
    }
    if let Some(w) = empty_window_warning(ctx, t) {
        out.warnings.push(w);
    }
    if t.counts.skipped > 0 {
        let first = t
            .counts
            .problems
            .first()
            .map(|p| {
                format!(
                    " (first: line {}, {:?}: {})",
                    p.line,
                    p.kind,
                    finding::sample(&p.detail, 120)
                )
            })
            .unwrap_or_default();
        out.warnings.push(format!(
            "{} of {log} could not be read and were skipped{first}",
            crate::args::plural(t.counts.skipped, "line")
        ));
    }
    if t.counts.bad_timestamps > 0 {
        out.warnings.push(format!(
            "{} of {log} with an unparsable `ts` ignored",
            crate::args::plural(t.counts.bad_timestamps, "record")
        ));
    }
    if let Some(e) = &t.counts.read_error {
        out.warnings
            .push(format!("reading {log} stopped early: {e}"));
    }
    for p in &signals.ci.problems {
        out.warnings.push(format!("CI log skipped: {p}"));
    }
    for src in &t.extra_sources {
        if src.counts.skipped > 0 || src.counts.read_error.is_some() {
            out.warnings.push(format!(
                "{}: {} line(s) could not be read and were skipped{}",
                src.name,
                src.counts.skipped,
                src.counts
                    .read_error
                    .as_ref()
                    .map(|e| format!("; reading stopped early: {e}"))
                    .unwrap_or_default()
            ));
        }
    }
    out.warnings.extend(signals.gather_warnings.iter().cloned());
    if let Some(e) = &signals.git_error {
        out.warnings.push(format!(
            "git history of {} unavailable, git rules skipped: {}",
            crate::args::pasteable(&ctx.repo),
            finding::sample(e, 300)
        ));
    }
}

/// How [`empty_window_warning`] begins (the report finds it by this).
pub const EMPTY_WINDOW: &str = "no records in the ";

/// When the windows hold no records but the log has some: one line with the newest record's
/// time and the `--now` that would include it, instead of a silently empty analysis.
pub fn empty_window_warning(ctx: &RunContext, t: &LogInput) -> Option<String> {
    let in_window = t.counts.in_window
        + t.extra_sources
            .iter()
            .map(|s| s.counts.in_window)
            .sum::<u64>();
    let records = t.counts.records
        + t.extra_sources
            .iter()
            .map(|s| s.counts.records)
            .sum::<u64>();
    if in_window > 0 || records == 0 {
        return None;
    }
    let newest = std::iter::once(&t.counts)
        .chain(t.extra_sources.iter().map(|s| &s.counts))
        .filter_map(|c| {
            c.newest
                .as_deref()
                .and_then(codex_contract::record::parse_ts)
        })
        .max()?;
    let window = crate::config::format_duration(ctx.rollup.length());
    let when = if newest >= ctx.now { "after" } else { "before" };
    // The next whole minute after the newest record: a window ending there holds it.
    let secs = newest.timestamp().div_euclid(60) * 60 + 60;
    let suggest = DateTime::<Utc>::from_timestamp(secs, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| codex_contract::record::format_ts(newest));
    Some(format!(
        "{EMPTY_WINDOW}{window} ending {now}, but {log} has {n}: the newest is from {newest} \
         ({when} the window); pass --now {suggest} to analyze up to it",
        now = ctx.now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        log = crate::args::pasteable(&ctx.toolcalls_log),
        n = crate::args::plural(records, "record"),
        newest = codex_contract::record::format_ts(newest),
    ))
}

/// What an apply writes, computed the same way for a dry run.
struct Plan {
    actions: Vec<WriteAction>,
    /// Bytes to append to the run log (empty: nothing).
    log_bytes: Vec<u8>,
}

/// The run log as it is now (`None`: no file yet).
fn read_run_log(ctx: &RunContext) -> anyhow::Result<Option<Vec<u8>>> {
    match std::fs::read(&ctx.run_log) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", ctx.run_log.display())),
    }
}

/// The bytes an apply appends to a run log holding `existing` for `section`: the file title
/// when the log is new, a line break to end a cut-off last line, a blank line, the section.
/// `None` when the log already has this run's section (an interrupted earlier run) and the
/// run is not forced: then the log is kept as it is.
fn log_append_bytes(ctx: &RunContext, existing: Option<&[u8]>, section: &str) -> Option<Vec<u8>> {
    let already = existing
        .is_some_and(|b| state::run_ids_in_log(&String::from_utf8_lossy(b)).contains(&ctx.run_id));
    if already && !ctx.force {
        return None;
    }
    let mut log_bytes = Vec::new();
    match existing {
        None => log_bytes.extend_from_slice(runlog::LOG_HEADER.as_bytes()),
        Some(b) if !b.is_empty() && !b.ends_with(b"\n") => log_bytes.push(b'\n'),
        _ => {}
    }
    log_bytes.push(b'\n');
    log_bytes.extend_from_slice(section.as_bytes());
    Some(log_bytes)
}

/// The whole run log after this run's apply appends `section` to it: what the bot PR
/// commits as `.codex/improvement-log.md`, byte for byte what `--apply` leaves on disk.
pub fn run_log_after_apply(ctx: &RunContext, section: &str) -> anyhow::Result<Vec<u8>> {
    let existing = read_run_log(ctx)?;
    let mut all = existing.clone().unwrap_or_default();
    if let Some(more) = log_append_bytes(ctx, existing.as_deref(), section) {
        all.extend_from_slice(&more);
    }
    Ok(all)
}

fn plan_writes(
    ctx: &RunContext,
    loaded: &Loaded,
    new_state: &State,
    out: &RunOutput,
) -> anyhow::Result<Plan> {
    let mut actions = Vec::new();
    let existing = read_run_log(ctx)?;
    let appended = log_append_bytes(ctx, existing.as_deref(), &out.log_section);
    let log_path = ctx.display(&ctx.run_log);
    let log_bytes = appended.clone().unwrap_or_default();
    if appended.is_none() {
        actions.push(WriteAction {
            path: log_path,
            action: "keep".into(),
            bytes: 0,
            note: Some(format!(
                "the log already has a section for {} (an interrupted earlier run); only the state is completed",
                ctx.run_id
            )),
        });
    } else {
        actions.push(WriteAction {
            path: log_path,
            action: if existing.is_some() {
                "append"
            } else {
                "create"
            }
            .into(),
            bytes: log_bytes.len() as u64,
            note: Some(format!(
                "section \"{}\"",
                runlog::section_heading(&ctx.run_id, ctx.force)
            )),
        });
    }
    let state_path = ctx.display(&ctx.state_files.path);
    if let Some(bad) = &loaded.corrupt_bytes {
        actions.push(WriteAction {
            path: ctx.display(&ctx.state_files.corrupt),
            action: "copy".into(),
            bytes: bad.len() as u64,
            note: Some("the damaged state file, kept for inspection".into()),
        });
    } else if loaded.outcome == state::LoadOutcome::Loaded {
        let len = std::fs::metadata(&ctx.state_files.path).map_or(0, |m| m.len());
        actions.push(WriteAction {
            path: ctx.display(&ctx.state_files.backup),
            action: "copy".into(),
            bytes: len,
            note: Some(format!("backup of the previous {state_path}")),
        });
    }
    let state_bytes = new_state.to_bytes();
    actions.push(WriteAction {
        path: state_path,
        action: if ctx.state_files.path.exists() {
            "replace"
        } else {
            "create"
        }
        .into(),
        bytes: state_bytes.len() as u64,
        note: Some(format!(
            "schema v{}, {} processed runs, atomic (temp file, fsync, rename)",
            new_state.schema_version,
            new_state.processed_runs.len()
        )),
    });
    if !ctx.state_files.lock.exists() {
        actions.push(WriteAction {
            path: ctx.display(&ctx.state_files.lock),
            action: "create".into(),
            bytes: 0,
            note: Some("the run lock (empty)".into()),
        });
    }
    Ok(Plan { actions, log_bytes })
}

fn execute(
    ctx: &RunContext,
    loaded: &Loaded,
    new_state: &State,
    plan: &Plan,
) -> anyhow::Result<()> {
    // The log first: if the state write then fails, the next run sees the section and only
    // completes the state (see plan_writes), so no section is ever written twice.
    if !plan.log_bytes.is_empty() {
        if let Some(dir) = ctx.run_log.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&ctx.run_log)
            .with_context(|| format!("cannot open {} for appending", ctx.run_log.display()))?;
        f.write_all(&plan.log_bytes)
            .and_then(|_| f.sync_all())
            .with_context(|| format!("cannot append to {}", ctx.run_log.display()))?;
    }
    state::save(&ctx.state_files, loaded, new_state)
}
