//! `codex-analyzer demo`: the whole closed loop on a throwaway workspace, in one command.
//!
//! The demo plants a known mix of friction and delight in synthetic Codex sessions and
//! sends them through the same code a real repository goes through:
//!
//! 1. **Data** — a git repository with nine days of history ([`workspace`]), `N/2` sessions
//!    written as Codex 0.169.0 rollouts ([`generate`], [`rollout`]) and CI logs; the
//!    rollouts are read by `codex-shim import`'s reader (`codex_shim::import`) and the
//!    prompts go through the `UserPromptSubmit` hook's record builder (`codex_shim::hook`),
//!    which detects feedback; both append to the repository's `.codex/toolcalls.ndjson`.
//! 2. **Analyze** — `codex-analyzer run` (dry, then `--apply`), 24 hours before the clock.
//! 3. **Signals** — friction and delight as bar charts, each beside its planted count.
//! 4. **Issues** — friction clusters ranked by impact.
//! 5. **Harbor** — `export-harbor` of the top clusters.
//! 6. **Fix and measure** — the analyzer's proposed `AGENTS.md` guidance is committed, the
//!    other `N/2` sessions (in which fewer agents run the script cold) are imported, and a
//!    second `run --apply` at the clock measures the change.
//! 7. **Report** — `report.html` over both days.
//!
//! The ground truth ([`generate::Planted`]) is counted on the plan, not on the output, and
//! written to `ground-truth.json`; what the pipeline found is in `demo-summary.json` and the
//! runs' JSON outputs. Same seed and `--now`, same files.

pub mod chart;
pub mod generate;
pub mod rng;
pub mod rollout;
pub mod workspace;

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Duration, DurationRound, Utc};
use codex_contract::append::Appender;
use codex_contract::record::format_ts;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::closed_loop::{ClosedLoop, ClustersSection};
use crate::cluster::Cluster;
use crate::output::{self, Format, Style};
use crate::run::{self, RunOutput, RunRequest};
use generate::{Mix, Phase, PlannedSession, Planted, FIXED_COMMAND, WORKING_ALTERNATIVE};
use rng::Rng;

/// The seed used when none is given: the demo shows the same numbers everywhere.
pub const DEFAULT_SEED: u64 = 20_261_122;
/// Sessions by default, as in the seed's demo.
pub const DEFAULT_SESSIONS: u32 = 500;
/// The file that marks a folder as the demo's (so a rerun may replace it).
pub const MARKER: &str = ".codex-demo";
/// How many stages the demo prints.
const STAGES: usize = 7;

/// What the user asked for.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    /// The workspace folder (default: a new temporary folder, kept).
    pub out: Option<PathBuf>,
    pub sessions: u32,
    pub seed: u64,
    /// Pause for Enter before each stage.
    pub interactive: bool,
    /// The clock (default: now). The second run is at this time, the first a day earlier.
    pub now: Option<DateTime<Utc>>,
}

/// One run of the analyzer, as the demo reports it.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct RunInfo {
    pub run_id: String,
    pub now: String,
    pub findings: usize,
    /// Files the `--apply` run wrote (repo-relative).
    pub written: Vec<String>,
}

/// The fixed friction's cluster before and after the fix.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct FixedCluster {
    pub id: String,
    pub before_count: u32,
    pub before_sessions: u32,
    pub after_count: u32,
    pub after_sessions: u32,
}

/// What the pipeline found, written to `demo-summary.json`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct Summary {
    pub seed: u64,
    pub sessions: u32,
    pub workspace: String,
    pub runs: Vec<RunInfo>,
    /// The signals of each run (`before`, `after`), in the ground truth's shape.
    pub found_before: Planted,
    pub found_after: Planted,
    pub fixed_cluster: FixedCluster,
    pub friction_per_session_before: f64,
    pub friction_per_session_after: f64,
    pub top_clusters: Vec<String>,
    pub harbor_tasks: Vec<String>,
    pub fix_commit: String,
    pub report: String,
}

/// The generator's ground truth, written to `ground-truth.json`.
#[derive(Serialize, Clone, Debug)]
pub struct GroundTruth {
    pub seed: u64,
    pub sessions: u32,
    pub before: Planted,
    pub after: Planted,
    pub history: workspace::History,
    pub ci_logs: workspace::CiLogs,
    pub fixed_command: &'static str,
    pub working_alternative: &'static str,
    /// The reference times of the two runs.
    pub run_before: String,
    pub run_after: String,
}

/// The demo's paths.
struct Paths {
    repo: PathBuf,
    sessions: PathBuf,
    log: PathBuf,
    runs: PathBuf,
}

/// Prints stage headings and waits for Enter in interactive mode.
struct Stage<'a> {
    out: &'a mut dyn Write,
    interactive: bool,
    n: usize,
}

impl Stage<'_> {
    fn begin(&mut self, title: &str) -> Result<()> {
        self.n += 1;
        if self.interactive && self.n > 1 {
            write!(self.out, "\n  [press Enter for stage {}] ", self.n)?;
            self.out.flush()?;
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
        }
        writeln!(self.out, "\n[{}/{STAGES}] {title}", self.n)?;
        Ok(())
    }
}

/// Prepares the workspace folder: a new temp folder, an empty or new folder, or an earlier
/// demo's folder (replaced). Anything else is refused rather than overwritten.
fn prepare(out: Option<&Path>) -> Result<PathBuf> {
    let root = match out {
        None => tempfile::Builder::new()
            .prefix("codex-demo-")
            .tempdir()
            .context("cannot create a temporary folder; pass --out DIR")?
            .keep(),
        Some(dir) => {
            if dir.exists() {
                let mut entries = std::fs::read_dir(dir)
                    .with_context(|| format!("cannot read {}", dir.display()))?;
                if entries.next().is_some() {
                    if !dir.join(MARKER).exists() {
                        bail!(
                            "{} is not empty and was not made by the demo; pass a new or empty folder to --out",
                            dir.display()
                        );
                    }
                    std::fs::remove_dir_all(dir)
                        .with_context(|| format!("cannot clear {}", dir.display()))?;
                }
            }
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            dir.to_path_buf()
        }
    };
    let root = std::path::absolute(&root)?;
    std::fs::write(
        root.join(MARKER),
        "made by `codex-analyzer demo`; a rerun with --out here replaces this folder\n",
    )?;
    Ok(root)
}

/// Draws `n` sessions spread over `(from, to)`.
#[allow(clippy::too_many_arguments)]
fn draw(
    rng: &mut Rng,
    n: u32,
    phase: Phase,
    mix: &Mix,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    history: &workspace::History,
    repo: &str,
) -> Vec<PlannedSession> {
    let slot = (to - from) / n.max(1) as i32;
    (0..n)
        .map(|i| {
            let jitter =
                Duration::milliseconds(rng.below(slot.num_milliseconds().max(1) as u64) as i64);
            let start = from + slot * i as i32 + jitter;
            let head = history.head_at(start).to_string();
            generate::session(rng, phase, mix, start, &head, repo)
        })
        .collect()
}

/// Writes the sessions' rollouts and sends them through the shim: the rollout reader of
/// `codex-shim import`, and the `UserPromptSubmit` hook's records for the prompts.
fn capture(sessions: &[PlannedSession], p: &Paths) -> Result<(codex_shim::import::Summary, u64)> {
    let repo = p.repo.to_string_lossy();
    let mut files = Vec::with_capacity(sessions.len());
    let mut prompts = Vec::new();
    let mut payloads = String::new();
    for s in sessions {
        let w = rollout::write(s, &repo, &p.sessions)
            .with_context(|| format!("cannot write a rollout under {}", p.sessions.display()))?;
        files.push(w.path);
        for h in w.prompts {
            payloads.push_str(&h.payload.to_string());
            payloads.push('\n');
            // The hook's own record builder; only the clock is the simulation's.
            let mut records = codex_shim::hook::records_for(
                &h.payload,
                "UserPromptSubmit",
                codex_shim::hook::Agent::Codex,
                &p.repo,
                &p.log,
            );
            for r in &mut records {
                r.ts = format_ts(h.at);
            }
            prompts.extend(records);
        }
    }
    let hooks = p
        .sessions
        .parent()
        .unwrap_or(&p.sessions)
        .join("hook-payloads.jsonl");
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&hooks)?;
    f.write_all(payloads.as_bytes())?;
    let summary = codex_shim::import::import_files(&files, &p.log).map_err(anyhow::Error::msg)?;
    let mut appender = Appender::open(&p.log)?;
    appender.append(&prompts)?;
    appender.sync()?;
    Ok((summary, prompts.len() as u64))
}

fn analyze(p: &Paths, now: DateTime<Utc>, apply: bool) -> Result<RunOutput> {
    let req = RunRequest {
        repo: Some(p.repo.clone()),
        now: Some(now),
        apply,
        force: false,
        window: None,
        rollup: None,
        log: Some(p.log.clone()),
        ci_logs: None,
        config: None,
        progress: false,
    };
    run::run_with(&req, &mut [&mut ClosedLoop])
}

/// Saves a run's text and JSON outputs under `runs/`.
fn save(p: &Paths, name: &str, out: &RunOutput) -> Result<()> {
    let plain = Style { colour: false };
    std::fs::create_dir_all(&p.runs)?;
    std::fs::write(
        p.runs.join(format!("{name}.txt")),
        output::render(out, Format::Text, plain),
    )?;
    std::fs::write(
        p.runs.join(format!("{name}.json")),
        output::render(out, Format::Json, plain),
    )?;
    Ok(())
}

/// The run's signals in the ground truth's shape.
fn found(out: &RunOutput) -> Result<Planted> {
    let v = out
        .sessions
        .clone()
        .context("the run produced no session signals (closed loop disabled?)")?;
    Ok(serde_json::from_value(v)?)
}

fn clusters(out: &RunOutput) -> Vec<Cluster> {
    ClustersSection::from_output(out)
        .map(|c| c.items)
        .unwrap_or_default()
}

fn friction_per_session(out: &RunOutput) -> f64 {
    out.sessions
        .as_ref()
        .and_then(|v| v.pointer("/rates/friction_per_session"))
        .and_then(Value::as_f64)
        .unwrap_or(0.0)
}

fn fixed_cluster(clusters: &[Cluster]) -> Option<&Cluster> {
    clusters
        .iter()
        .find(|c| c.last_command.as_deref() == Some(FIXED_COMMAND))
}

fn rel(p: &Path, root: &Path) -> String {
    p.strip_prefix(root)
        .unwrap_or(p)
        .to_string_lossy()
        .into_owned()
}

fn run_info(out: &RunOutput) -> RunInfo {
    RunInfo {
        run_id: out.run_id.clone(),
        now: out.now.clone(),
        findings: out.findings.len(),
        written: out.written.iter().map(|w| w.path.clone()).collect(),
    }
}

fn plural(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

fn one_line(s: &str, max: usize) -> String {
    let line = s
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    if line.chars().count() > max {
        format!("{}…", line.chars().take(max - 1).collect::<String>())
    } else {
        line.to_string()
    }
}

fn signal_charts(found: &Planted, planted: &Planted) -> String {
    use chart::Row;
    let rows: Vec<Row> = found
        .friction
        .rows()
        .into_iter()
        .zip(planted.friction.rows())
        .map(|((label, f), (_, p))| Row {
            label,
            found: f.into(),
            planted: Some(p.into()),
        })
        .collect();
    let mut s = chart::bars(
        &format!("friction ({} events)", found.friction.total()),
        &rows,
        32,
    );
    let d = &found.delight;
    let pd = &planted.delight;
    let rows = [
        Row {
            label: "fast_completions",
            found: d.fast_completions.into(),
            planted: Some(pd.fast_completions.into()),
        },
        Row {
            label: "zero_denial_sessions",
            found: d.zero_denial_sessions.into(),
            planted: Some(pd.zero_denial_sessions.into()),
        },
        Row {
            label: "first_attempt_turns",
            found: d.first_attempt_turns.into(),
            planted: Some(pd.first_attempt_turns.into()),
        },
        Row {
            label: "positive_feedback",
            found: d.positive_feedback.into(),
            planted: Some(pd.positive_feedback.into()),
        },
    ];
    s.push('\n');
    s.push_str(&chart::bars("delight", &rows, 32));
    s
}

/// Runs the demo, printing each stage to `w`. Returns what the pipeline found.
pub fn run(opts: &DemoOptions, w: &mut dyn Write) -> Result<Summary> {
    if opts.sessions < 2 {
        bail!("--sessions must be at least 2 (half before the fix, half after)");
    }
    let started = Instant::now();
    let root = prepare(opts.out.as_deref())?;
    let repo = root.join("repo");
    let p = Paths {
        log: repo.join(".codex").join("toolcalls.ndjson"),
        sessions: root.join("codex-home").join("sessions"),
        runs: root.join("runs"),
        repo,
    };
    let now = opts
        .now
        .unwrap_or_else(Utc::now)
        .duration_trunc(Duration::minutes(1))
        .unwrap_or_else(|_| opts.now.unwrap_or_else(Utc::now));
    let t1 = now - Duration::hours(24);
    let rng = Rng::new(opts.seed);
    let n_before = opts.sessions / 2;
    let n_after = opts.sessions - n_before;

    writeln!(
        w,
        "codex-analyzer demo: {} through the real capture and analysis code (seed {})\nworkspace: {}",
        plural(opts.sessions, "synthetic Codex session", "synthetic Codex sessions"),
        opts.seed,
        root.display()
    )?;
    let mut stage = Stage {
        out: w,
        interactive: opts.interactive,
        n: 0,
    };

    // 1. Data.
    stage.begin("Data: a repository, Codex 0.169.0 rollouts, CI logs, captured by the shim")?;
    let mut history = workspace::build_repo(&p.repo, t1 - Duration::hours(1), &mut rng.fork(1))?;
    let repo_str = p.repo.to_string_lossy().into_owned();
    let before = draw(
        &mut rng.fork(2),
        n_before,
        Phase::Before,
        &Mix::BEFORE,
        t1 - Duration::hours(23),
        t1 - Duration::hours(1),
        &history,
        &repo_str,
    );
    let ci_dir = p.repo.join(".codex").join("ci-logs");
    let mut ci = workspace::CiLogs::default();
    workspace::write_ci_logs(&ci_dir, t1, "before", &mut rng.fork(3), &mut ci)?;
    let (imported, prompts) = capture(&before, &p)?;
    let w = &mut *stage.out;
    writeln!(
        w,
        "  repository  {}  ({} over 9 days, {})",
        p.repo.display(),
        plural(history.commits, "commit", "commits"),
        plural(history.reverts, "revert", "reverts")
    )?;
    writeln!(
        w,
        "  rollouts    {}  ({} before the fix; {} more come in stage 6)",
        p.sessions.display(),
        plural(n_before, "session", "sessions"),
        n_after
    )?;
    writeln!(
        w,
        "  CI logs     {}  ({}, {} failing)",
        ci_dir.display(),
        plural(ci.files, "file", "files"),
        ci.failing
    )?;
    writeln!(
        w,
        "  captured    codex-shim import's rollout reader: {imported}\n              + {} through the UserPromptSubmit hook (feedback verdicts)\n  log         {}",
        plural(prompts, "prompt record", "prompt records"),
        p.log.display()
    )?;

    // 2. Analyze.
    stage.begin(&format!(
        "Analyze: codex-analyzer run at {} (dry run, then --apply; no GitHub)",
        format_ts(t1)
    ))?;
    let dry = analyze(&p, t1, false)?;
    let applied = analyze(&p, t1, true)?;
    save(&p, "1-before", &applied)?;
    let mut found_before = found(&applied)?;
    let w = &mut *stage.out;
    writeln!(
        w,
        "  run {}: {} in the last 24h, {} ({} failed), {}",
        dry.run_id,
        plural(found_before.sessions, "session", "sessions"),
        plural(found_before.calls, "tool call", "tool calls"),
        found_before.failures,
        plural(dry.findings.len() as u64, "finding", "findings")
    )?;
    for f in dry.findings.iter().take(5) {
        writeln!(w, "    - {}", one_line(&f.title, 100))?;
    }
    writeln!(
        w,
        "  dry run would write: {}",
        dry.would_write
            .iter()
            .map(|a| a.path.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    )?;
    writeln!(
        w,
        "  --apply wrote:       {}",
        applied
            .written
            .iter()
            .map(|a| a.path.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    )?;
    writeln!(
        w,
        "  full output: {} and .json",
        p.runs.join("1-before.txt").display()
    )?;

    // 3. Signals.
    let planted_before = Planted::count(&before.iter().collect::<Vec<_>>());
    stage.begin(&format!(
        "Signals: friction and delight in the {} before the fix (found by the analyzer; planted by the generator)",
        plural(found_before.sessions, "session", "sessions")
    ))?;
    writeln!(
        stage.out,
        "{}",
        signal_charts(&found_before, &planted_before)
    )?;

    // 4. Issues.
    let clusters_before = clusters(&applied);
    stage.begin(
        "Issues: friction clusters ranked by impact (count × severity × sessions × recency)",
    )?;
    let w = &mut *stage.out;
    writeln!(w, "   #   impact  count  sessions  tool     what failed")?;
    for (i, c) in clusters_before.iter().take(5).enumerate() {
        writeln!(
            w,
            "  {:>2}  {:>7.1}  {:>5}  {:>8}  {:<7}  `{}` → {}: {}",
            i + 1,
            c.impact,
            c.count,
            c.sessions,
            c.tool,
            one_line(c.last_command.as_deref().unwrap_or(&c.command_template), 48),
            c.error_type,
            one_line(&c.error_template, 60)
        )?;
        if let Some(alt) = &c.working_alternative {
            writeln!(w, "      worked instead: `{}`", one_line(&alt.command, 60))?;
        }
    }

    // 5. Harbor.
    stage.begin("Harbor: the top clusters as reproducible eval tasks (export-harbor)")?;
    let harbor_dir = root.join("harbor");
    let export = crate::harbor::export(
        &p.repo,
        &clusters_before,
        &crate::harbor::ExportOptions {
            out: harbor_dir.clone(),
            top: 3,
            fingerprint: None,
            now: t1,
        },
    )?;
    let w = &mut *stage.out;
    for t in &export.exported {
        writeln!(w, "  exported {} -> {}", t.cluster_id, t.dir.display())?;
    }
    for s in export.skipped.iter().take(3) {
        writeln!(w, "  skipped  {}: {}", s.cluster_id, s.reason)?;
    }
    writeln!(
        w,
        "  check one: harbor run -p {}/<task> -a oracle   (or tests/test.sh in a copy of environment/repo)",
        harbor_dir.display()
    )?;

    // 6. Fix and measure.
    stage.begin(
        "Fix and measure: the analyzer's AGENTS.md guidance is merged, a day of sessions later",
    )?;
    let agents_md = crate::guidance::update_agents_md(
        workspace::AGENTS_MD,
        &clusters_before,
        &crate::guidance::GuidanceOptions { top: 3 },
    )?;
    let fix = workspace::commit_fix(
        &p.repo,
        &agents_md,
        t1 + Duration::minutes(20),
        &mut history,
    )?;
    let after = draw(
        &mut rng.fork(4),
        n_after,
        Phase::After,
        &Mix::AFTER,
        t1 + Duration::hours(1),
        now - Duration::hours(1),
        &history,
        &repo_str,
    );
    workspace::write_ci_logs(&ci_dir, now, "after", &mut rng.fork(5), &mut ci)?;
    let (imported_after, _) = capture(&after, &p)?;
    let second = analyze(&p, now, true)?;
    save(&p, "2-after", &second)?;
    let mut found_after = found(&second)?;
    let planted_after = Planted::count(&after.iter().collect::<Vec<_>>());
    let clusters_after = clusters(&second);
    let fixed_before = fixed_cluster(&clusters_before);
    let fixed = FixedCluster {
        id: fixed_before.map(|c| c.id.clone()).unwrap_or_default(),
        before_count: fixed_before.map_or(0, |c| c.count),
        before_sessions: fixed_before.map_or(0, |c| c.sessions),
        after_count: fixed_cluster(&clusters_after).map_or(0, |c| c.count),
        after_sessions: fixed_cluster(&clusters_after).map_or(0, |c| c.sessions),
    };
    // The fixed friction as the clusters counted it, in the ground truth's fields.
    found_before.fixed_friction = fixed.before_count;
    found_before.fixed_friction_sessions = fixed.before_sessions;
    found_after.fixed_friction = fixed.after_count;
    found_after.fixed_friction_sessions = fixed.after_sessions;
    let fps = (
        friction_per_session(&applied),
        friction_per_session(&second),
    );
    let w = &mut *stage.out;
    writeln!(
        w,
        "  fix commit  {} (AGENTS.md: the analyzer's guidance block; `{WORKING_ALTERNATIVE}` instead of `{FIXED_COMMAND}`)",
        &fix[..12.min(fix.len())]
    )?;
    writeln!(w, "  captured    {imported_after}")?;
    writeln!(
        w,
        "  run {} --apply: {}, {} ({} failed)",
        second.run_id,
        plural(found_after.sessions, "session", "sessions"),
        plural(found_after.calls, "tool call", "tool calls"),
        found_after.failures
    )?;
    let change = |a: f64, b: f64| {
        if a > 0.0 {
            format!("{:+.0}%", (b - a) / a * 100.0)
        } else {
            "n/a".into()
        }
    };
    writeln!(
        w,
        "  fixed friction `{FIXED_COMMAND}`: {} in {} of {} sessions → {} in {} of {} ({})",
        plural(fixed.before_count, "failure", "failures"),
        fixed.before_sessions,
        found_before.sessions,
        fixed.after_count,
        fixed.after_sessions,
        found_after.sessions,
        change(
            f64::from(fixed.before_count) / f64::from(found_before.sessions.max(1)),
            f64::from(fixed.after_count) / f64::from(found_after.sessions.max(1))
        )
    )?;
    writeln!(
        w,
        "    planted by the generator: {} → {} {}",
        planted_before.fixed_friction,
        planted_after.fixed_friction,
        if (planted_before.fixed_friction, planted_after.fixed_friction)
            == (fixed.before_count, fixed.after_count)
        {
            "✓"
        } else {
            "✗ differs"
        }
    )?;
    writeln!(
        w,
        "  friction per session: {:.2} → {:.2} ({})",
        fps.0,
        fps.1,
        change(fps.0, fps.1)
    )?;
    if let Some(d) = &second.deltas {
        if let (Some(a), Some(b)) = (d.failure_rate.previous, d.failure_rate.current) {
            writeln!(
                w,
                "  analyzer deltas vs run {} (last 12h each): failure rate {:.1}% → {:.1}%, failed calls {:+}",
                d.previous_run.as_deref().unwrap_or("-"),
                a * 100.0,
                b * 100.0,
                d.failed_calls.change.unwrap_or(0)
            )?;
        }
    }
    writeln!(
        w,
        "  full output: {} and .json",
        p.runs.join("2-after.txt").display()
    )?;

    // 7. Report.
    stage.begin("Report: one self-contained HTML file over both days")?;
    let report = crate::report::generate(&crate::report::ReportRequest {
        repo: Some(p.repo.clone()),
        out: Some(root.join("report.html")),
        now: Some(now),
        log: Some(p.log.clone()),
        window: Some("48h".into()),
        config: None,
    })?;
    let w = &mut *stage.out;
    writeln!(
        w,
        "  {}  ({} charts, {} findings)",
        report.path.display(),
        report.charts,
        report.findings
    )?;

    let summary = Summary {
        seed: opts.seed,
        sessions: opts.sessions,
        workspace: root.to_string_lossy().into_owned(),
        runs: vec![run_info(&applied), run_info(&second)],
        found_before,
        found_after,
        fixed_cluster: fixed,
        friction_per_session_before: fps.0,
        friction_per_session_after: fps.1,
        top_clusters: clusters_before
            .iter()
            .take(5)
            .map(|c| c.id.clone())
            .collect(),
        harbor_tasks: export.exported.iter().map(|t| rel(&t.dir, &root)).collect(),
        fix_commit: fix,
        report: rel(&report.path, &root),
    };
    let truth = GroundTruth {
        seed: opts.seed,
        sessions: opts.sessions,
        before: planted_before,
        after: planted_after,
        history,
        ci_logs: ci,
        fixed_command: FIXED_COMMAND,
        working_alternative: WORKING_ALTERNATIVE,
        run_before: format_ts(t1),
        run_after: format_ts(now),
    };
    std::fs::write(
        root.join("ground-truth.json"),
        serde_json::to_string_pretty(&truth)? + "\n",
    )?;
    std::fs::write(
        root.join("demo-summary.json"),
        serde_json::to_string_pretty(&summary)? + "\n",
    )?;
    writeln!(
        w,
        "\nDone in {:.1} s. Ground truth: {}  What the pipeline found: {}\n\
         Try it on your own repository: codex-shim install, then codex-analyzer run (see the README).",
        started.elapsed().as_secs_f64(),
        root.join("ground-truth.json").display(),
        root.join("demo-summary.json").display()
    )?;
    Ok(summary)
}
