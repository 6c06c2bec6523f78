//! `codex-analyzer db`: builds or updates the SQLite store (`codex-store`) from the log and
//! the state, with the analyzer's per-session signals and friction clusters.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use codex_contract::fold::Call;
use codex_contract::record::{format_ts, Record};
use codex_store::{ClusterRow, Derive, SessionRow, Store, UpdateOptions, UpdateReport};

use super::{RepoArgs, Target};
use crate::closed_loop::ClosedLoopConfig;
use crate::cluster::{self, ClusterOptions};
use crate::signals;

/// `codex-analyzer db`.
#[derive(Args, Debug, Clone)]
pub struct DbArgs {
    #[command(flatten)]
    pub target: RepoArgs,
    /// The database file [default: <repo>/.codex/closed-loop.sqlite].
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
    /// Drop every row and rebuild from the start of the log (the result is the same as
    /// updating; use it after changing the analyzer's version).
    #[arg(long)]
    pub rebuild: bool,
}

/// The analyzer's side of the store: signals per session, clusters over every call.
pub struct AnalyzerDerive {
    pub half_life_hours: f64,
}

impl Derive for AnalyzerDerive {
    fn sessions(&self, calls: &[Call], events: &[Record]) -> Vec<SessionRow> {
        let s = signals::analyze(calls, events);
        s.per_session
            .into_iter()
            .filter_map(|r| {
                let session_id = r.session_id?;
                let mut signals: Vec<(&'static str, String, i64)> = r
                    .friction
                    .rows()
                    .iter()
                    .filter(|(_, n)| *n > 0)
                    .map(|(name, n)| ("friction", name.to_string(), i64::from(*n)))
                    .collect();
                let d = &r.delight;
                for (name, n) in [
                    ("fast_completion", u32::from(d.fast_completion)),
                    ("zero_denials", u32::from(d.zero_denials)),
                    ("first_attempt_turns", d.first_attempt_turns),
                    ("positive_feedback", d.positive_feedback),
                ] {
                    if n > 0 {
                        signals.push(("delight", name.to_string(), i64::from(n)));
                    }
                }
                Some(SessionRow {
                    session_id,
                    first_ts: r.first_ts.map(format_ts),
                    last_ts: r.last_ts.map(format_ts),
                    turns: r.turns,
                    calls: r.calls,
                    failures: r.failures,
                    prompts: r.prompts,
                    ended: r.ended,
                    failure_rate: r.failure_rate,
                    friction: r.friction.total(),
                    signals,
                })
            })
            .collect()
    }

    /// Recency is measured from the newest call, not the clock, so the same log gives the
    /// same rows whenever it is rebuilt.
    fn clusters(&self, calls: &[Call]) -> Vec<ClusterRow> {
        let Some(now) = calls.iter().map(|c| c.last_ts).max() else {
            return Vec::new();
        };
        let opts = ClusterOptions {
            half_life_hours: self.half_life_hours,
            ..ClusterOptions::at(now)
        };
        cluster::cluster(calls, &opts)
            .into_iter()
            .map(|c| ClusterRow {
                cluster_id: c.id,
                tool: c.tool,
                command_template: c.command_template,
                error_type: c.error_type,
                error_template: c.error_template,
                severity: c.severity,
                count: c.count,
                sessions: c.sessions,
                first_seen: format_ts(c.first_seen),
                last_seen: format_ts(c.last_seen),
                impact: c.impact,
                last_status: c.last_status.as_str().to_string(),
                last_command: c.last_command,
                fixed_at: c.fixed_at,
            })
            .collect()
    }
}

/// Updates the database; returns where it is and what the update did.
pub fn run(args: &DbArgs) -> Result<(PathBuf, UpdateReport)> {
    let t = Target::resolve(&args.target)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| t.codex_path("closed-loop.sqlite"));
    anyhow::ensure!(
        t.log.is_file(),
        "no tool-call log at {}; install the capture shim (`codex-shim install`) or pass --log",
        t.log.display()
    );
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let state = crate::state::load(&t.state_files, &t.run_log)?.state;
    let cfg: ClosedLoopConfig = t.config.section("closed_loop")?.unwrap_or_default();
    let derive = AnalyzerDerive {
        half_life_hours: cfg.half_life_hours,
    };
    let mut store = Store::open(&out)?;
    let opts = UpdateOptions {
        rebuild: args.rebuild,
        ..UpdateOptions::default()
    };
    let report = store
        .update(&t.log, Some(&state), &derive, &opts)
        .with_context(|| format!("updating {}", out.display()))?;
    Ok((out, report))
}

/// The summary `db` prints.
pub fn render(out: &std::path::Path, r: &UpdateReport) -> String {
    let mut s = String::new();
    if let Some(why) = &r.rebuilt {
        s.push_str(&format!("rebuilt from the start of the log: {why}\n"));
    }
    s.push_str(&format!(
        "{}: {} new records (bytes {}..{}), {} unreadable lines skipped, {} sessions updated\n\
         rows: {} calls, {} sessions, {} clusters, {} findings, {} runs, {} tickets\n",
        out.display(),
        r.records,
        r.from_offset,
        r.to_offset,
        r.skipped,
        r.sessions_updated,
        r.calls,
        r.sessions,
        r.clusters,
        r.findings,
        r.runs,
        r.tickets
    ));
    s
}
