//! From a repository to [`ReportData`]: one forced dry run of the `run` pipeline with a
//! capturing extension, so the report's numbers are exactly what `run` would compute and
//! record at the same `--now`, plus the closed-loop signals and clusters computed here from
//! the same collected calls (the report does not depend on how `run` wires them).
//!
//! Every text that comes from the inputs (samples, templates, subjects, titles, paths,
//! warnings) goes through [`clean`] — `codex_contract::redact` first, then one bounded line —
//! before it reaches the data, so the renderer cannot leak what the redactor would catch.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use codex_contract::state::State;
use codex_contract::{Call, Record};

use super::*;
use crate::cluster::{self, ClusterOptions};
use crate::config::{format_duration, parse_duration};
use crate::run::{self, Extension, RunContext, RunOutput, RunRequest, Signals};
use crate::signals;

/// Redacts and bounds a text from the inputs (see the module docs).
pub fn clean(text: &str, max: usize) -> String {
    crate::finding::sample(text, max)
}

/// The run-pipeline extension that keeps what the report needs.
#[derive(Default)]
struct Capture {
    calls: Vec<Call>,
    session_events: Vec<Record>,
    now: Option<DateTime<Utc>>,
    repo_name: String,
    run_window: String,
    /// The state as this run would leave it (history plus this run).
    state: Option<State>,
}

impl Extension for Capture {
    fn name(&self) -> &str {
        "report"
    }

    fn analyze(
        &mut self,
        ctx: &RunContext,
        signals: &Signals,
        _out: &mut RunOutput,
    ) -> anyhow::Result<()> {
        self.calls = signals.tool_calls.calls.clone();
        self.session_events = signals.tool_calls.session_events.clone();
        self.now = Some(ctx.now);
        self.repo_name = ctx
            .repo
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| ".".into());
        self.run_window = format_duration(ctx.primary.length());
        Ok(())
    }

    fn publish(
        &mut self,
        _ctx: &RunContext,
        _out: &mut RunOutput,
        state: &mut State,
    ) -> anyhow::Result<()> {
        self.state = Some(state.clone());
        Ok(())
    }
}

/// The run request for a report: the report's window is the rules' rollup; each run's
/// primary window stays the configured one (so this run's failure rate compares with the
/// stored runs'), unless the report window is shorter.
fn run_request(req: &ReportRequest) -> anyhow::Result<RunRequest> {
    let mut rr = RunRequest {
        repo: req.repo.clone(),
        now: req.now,
        apply: false,
        // A report about an already processed run ID still needs the numbers; a dry run
        // writes nothing either way.
        force: true,
        log: req.log.clone(),
        config: req.config.clone(),
        progress: false,
        ..RunRequest::default()
    };
    if let Some(w) = &req.window {
        let len = parse_duration(w).map_err(|e| anyhow::anyhow!("--window: {e:#}"))?;
        let ctx = RunContext::resolve(&rr)?;
        rr.rollup = Some(w.clone());
        if len < ctx.primary.length() {
            rr.window = Some(w.clone());
        }
    }
    Ok(rr)
}

/// Runs the pipeline (dry) and collects everything the page shows.
///
/// Without `--window` and `--now` the window is [`DEFAULT_WINDOW`]; when that holds no
/// records but the log has some, it reaches back to the newest record (plus the default
/// window before it), so a first report shows the data the repository has, and says so.
pub fn gather(req: &ReportRequest) -> anyhow::Result<ReportData> {
    if req.window.is_some() || req.now.is_some() {
        let (mut d, _) = gather_once(req)?;
        d.notice = d
            .warnings
            .iter()
            .find(|w| w.starts_with(run::EMPTY_WINDOW))
            .cloned();
        return Ok(d);
    }
    let default = parse_duration(DEFAULT_WINDOW)?;
    let week = ReportRequest {
        window: Some(DEFAULT_WINDOW.to_string()),
        ..req.clone()
    };
    let (d, out) = gather_once(&week)?;
    let Some(tc) = out.inputs.as_ref().map(|i| &i.toolcalls) else {
        return Ok(d);
    };
    let newest = std::iter::once(&tc.counts)
        .chain(tc.extra_sources.iter().map(|s| &s.counts))
        .filter_map(|c| {
            c.newest
                .as_deref()
                .and_then(codex_contract::record::parse_ts)
        })
        .max();
    let in_window = tc.counts.in_window
        + tc.extra_sources
            .iter()
            .map(|s| s.counts.in_window)
            .sum::<u64>();
    let now = parse_ts_or_now(&out.now);
    let newest = match newest {
        Some(n) if in_window == 0 && n < now => n,
        _ => return Ok(d),
    };
    // Whole days from the newest record back to now, plus the default window before it.
    let days = (now - newest).num_seconds().div_euclid(86_400) + 1 + default.num_days();
    let back = ReportRequest {
        window: Some(format!("{days}d")),
        ..req.clone()
    };
    let (mut d, _) = gather_once(&back)?;
    let notice = format!(
        "the last {DEFAULT_WINDOW} hold no records; the newest is from {newest}, so this report \
         covers the last {days}d (pass --window or --now to choose)",
        newest = codex_contract::record::format_ts(newest)
    );
    d.warnings.insert(0, clean(&notice, 400));
    d.notice = Some(notice);
    Ok(d)
}

fn parse_ts_or_now(ts: &str) -> DateTime<Utc> {
    codex_contract::record::parse_ts(ts).unwrap_or_else(Utc::now)
}

/// One dry run of the pipeline for `req`, and the page's data.
fn gather_once(req: &ReportRequest) -> anyhow::Result<(ReportData, RunOutput)> {
    let rr = run_request(req)?;
    let mut capture = Capture::default();
    let out = run::run_with(&rr, &mut [&mut capture])?;
    let state = capture.state.take().unwrap_or_default();
    let now = capture.now.unwrap_or_else(Utc::now);
    let sig = signals::analyze(&capture.calls, &capture.session_events);
    let clusters = cluster::cluster(&capture.calls, &ClusterOptions::at(now));
    let data = assemble(&out, &state, &sig, &clusters, &capture, req.now.is_none());
    Ok((data, out))
}

fn assemble(
    out: &RunOutput,
    state: &State,
    sig: &signals::SessionSignals,
    clusters: &[cluster::Cluster],
    cap: &Capture,
    now_is_clock: bool,
) -> ReportData {
    let metrics = out.metrics.as_ref();
    let rollup = metrics.map(|m| &m.tool_calls.rollup);
    let mut d = ReportData {
        repo_name: clean(&cap.repo_name, 80),
        run_id: out.run_id.clone(),
        now: out.now.clone(),
        now_is_clock,
        window: out.windows.rollup.length.clone(),
        window_start: out.windows.rollup.start.clone(),
        window_end: out.windows.rollup.end.clone(),
        run_window: cap.run_window.clone(),
        totals: Totals {
            calls: rollup.map_or(0, |r| r.calls),
            definite: rollup.map_or(0, |r| r.definite),
            failed: rollup.map_or(0, |r| r.failed),
            unknown: rollup.map_or(0, |r| r.unknown),
            failure_rate: rollup.and_then(|r| r.failure_rate),
            sessions: rollup.map_or(0, |r| r.sessions),
            ci_failures: metrics.map_or(0, |m| m.ci.rollup.failures),
            commits: metrics
                .and_then(|m| m.git.as_ref())
                .map_or(0, |g| g.totals.commits as u64),
        },
        git_available: metrics.is_some_and(|m| m.git.is_some()),
        previous_run: out.deltas.as_ref().and_then(|d| d.previous_run.clone()),
        warnings: out.warnings.iter().map(|w| clean(w, 400)).collect(),
        ..ReportData::default()
    };

    // (a) Runs: the state's history as this run leaves it, oldest first.
    d.runs = state
        .runs
        .values()
        .map(|r| RunRow {
            run_id: r.run_id.clone(),
            calls: r.metrics.tool_calls,
            definite: r.metrics.definite,
            failed: r.metrics.failed,
            unknown: r.metrics.unknown,
            failure_rate: r.metrics.failure_rate,
            current: r.run_id == out.run_id,
        })
        .collect();

    // (b) Error types over the window, most frequent first.
    if let Some(r) = rollup {
        let mut types: Vec<ErrorTypeRow> = r
            .error_types
            .iter()
            .map(|(name, s)| {
                let mut tools: Vec<(String, u64)> =
                    s.tools.iter().map(|(t, n)| (clean(t, 80), *n)).collect();
                tools.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                ErrorTypeRow {
                    name: clean(name, 80),
                    count: s.count,
                    calls: s.calls,
                    tools,
                    last_seen: s.last_seen.clone(),
                    sample: s.samples.first().map(|x| clean(x, 240)),
                }
            })
            .collect();
        types.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
        types.truncate(TOP_ROWS);
        d.error_types = types;
    }

    // (c) Friction vs delight per session (the bucket of calls without a session is not a
    // session: it has no delight).
    let mut sessions: Vec<SessionRow> = sig
        .per_session
        .iter()
        .filter_map(|s| {
            let id = s.session_id.as_deref()?;
            let friction_kinds: Vec<(String, u32)> = s
                .friction
                .rows()
                .iter()
                .filter(|(_, n)| *n > 0)
                .map(|(k, n)| (k.to_string(), *n))
                .collect();
            let delight_kinds: Vec<(String, u32)> = [
                ("fast_completion", u32::from(s.delight.fast_completion)),
                ("zero_denials", u32::from(s.delight.zero_denials)),
                ("first_attempt_turns", s.delight.first_attempt_turns),
                ("positive_feedback", s.delight.positive_feedback),
            ]
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|(k, n)| (k.to_string(), n))
            .collect();
            Some(SessionRow {
                session: clean(id, 120),
                calls: s.calls,
                failures: s.failures,
                turns: s.turns,
                friction: s.friction.total(),
                delight: delight_kinds.iter().map(|(_, n)| n).sum(),
                friction_kinds,
                delight_kinds,
            })
        })
        .collect();
    // Most friction first; ties by more delight, then by ID (deterministic).
    sessions.sort_by(|a, b| {
        b.friction
            .cmp(&a.friction)
            .then(b.delight.cmp(&a.delight))
            .then_with(|| a.session.cmp(&b.session))
    });
    d.sessions_omitted = sessions.len().saturating_sub(TOP_SESSIONS);
    sessions.truncate(TOP_SESSIONS);
    d.sessions = sessions;

    // (d) Failure signatures: command clusters and CI signatures, by count.
    let mut sigs: Vec<SignatureRow> = clusters
        .iter()
        .map(|c| SignatureRow {
            kind: "command".into(),
            id: c.id.clone(),
            label: clean(
                &format!("{}: {} · {}", c.tool, c.command_template, c.error_type),
                240,
            ),
            error_type: clean(&c.error_type, 80),
            template: clean(&c.error_template, 240),
            count: u64::from(c.count),
            sessions: Some(c.sessions),
            impact: Some(c.impact),
            last_seen: codex_contract::record::format_ts(c.last_seen),
        })
        .collect();
    if let Some(m) = metrics {
        sigs.extend(m.ci.rollup.signatures.iter().map(|s| SignatureRow {
            kind: "ci".into(),
            id: s.id.clone(),
            label: clean(&format!("CI {}", s.job), 240),
            error_type: s.category.as_str().to_string(),
            template: clean(&s.template, 240),
            count: s.count,
            sessions: None,
            impact: None,
            last_seen: s.last_seen.clone().unwrap_or_default(),
        }));
    }
    sigs.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| b.impact.unwrap_or(0.0).total_cmp(&a.impact.unwrap_or(0.0)))
            .then_with(|| (&a.kind, &a.id).cmp(&(&b.kind, &b.id)))
    });
    d.signatures_omitted = sigs.len().saturating_sub(TOP_ROWS);
    sigs.truncate(TOP_ROWS);
    d.signatures = sigs;

    // (e) Hotspots (the run's list is already most rework first, then most commits).
    if let Some(g) = metrics.and_then(|m| m.git.as_ref()) {
        d.hotspots = g
            .hotspots
            .iter()
            .take(TOP_ROWS)
            .map(|h| HotspotRow {
                path: clean(&h.path, 300),
                commits: h.commits as u64,
                lines_added: h.lines_added,
                lines_removed: h.lines_removed,
                authors: h.authors.iter().map(|a| clean(a, 80)).collect(),
                last_changed: codex_contract::record::format_ts(h.last_changed),
            })
            .collect();
    }

    // (f) Findings per run, and this run's findings with their deltas and tickets.
    d.finding_runs = finding_runs(state, &out.run_id);
    d.findings = findings(out, state);
    d
}

/// New / persisting / recurring / resolved findings of the most recent runs, each compared
/// with the run before it in the state (the oldest stored run has nothing to compare with:
/// its findings count as new or persisting from their history only).
fn finding_runs(state: &State, current: &str) -> Vec<FindingRunRow> {
    let mut rows = Vec::new();
    let mut prev: Option<BTreeSet<&str>> = None;
    for r in state.runs.values() {
        let now: BTreeSet<&str> = r.findings.iter().map(String::as_str).collect();
        let mut row = FindingRunRow {
            run_id: r.run_id.clone(),
            current: r.run_id == current,
            ..FindingRunRow::default()
        };
        for fp in &now {
            let first = state
                .findings
                .get(*fp)
                .map(|h| h.first_seen_run.as_str())
                .unwrap_or(r.run_id.as_str());
            if prev.as_ref().is_some_and(|p| p.contains(fp)) {
                row.persisting += 1;
            } else if first < r.run_id.as_str() {
                if prev.is_some() {
                    row.recurring += 1;
                } else {
                    row.persisting += 1;
                }
            } else {
                row.new += 1;
            }
        }
        if let Some(p) = &prev {
            row.resolved = p.difference(&now).count() as u64;
        }
        rows.push(row);
        prev = Some(now);
    }
    let skip = rows.len().saturating_sub(FINDING_RUNS);
    rows.split_off(skip)
}

fn findings(out: &RunOutput, state: &State) -> Vec<FindingRow> {
    let prev = out.deltas.as_ref().and_then(|d| d.previous_run.clone());
    let prev_count = |fp: &str| {
        let h = state.findings.get(fp)?;
        h.counts.get(prev.as_deref()?).copied()
    };
    let mut rows: Vec<FindingRow> = out
        .findings
        .iter()
        .map(|f| {
            let h = state.findings.get(&f.fingerprint);
            FindingRow {
                fingerprint: f.fingerprint.clone(),
                rule: f.rule.as_str().to_string(),
                subject: clean(&f.subject, 240),
                title: clean(&f.title, 240),
                severity: f.severity.as_str().to_string(),
                status: f.status.as_str().to_string(),
                count: f.evidence.count,
                previous: prev_count(&f.fingerprint),
                ticket: f.ticket.clone(),
                baseline: h.and_then(|h| h.baseline.clone()),
                first_seen_run: h.map(|h| h.first_seen_run.clone()),
            }
        })
        .collect();
    if let Some(deltas) = &out.deltas {
        rows.extend(deltas.findings.resolved.iter().map(|r| {
            let h = state.findings.get(&r.fingerprint);
            FindingRow {
                fingerprint: r.fingerprint.clone(),
                rule: clean(&r.rule, 80),
                subject: clean(&r.subject, 240),
                title: format!(
                    "resolved since {}",
                    prev.as_deref().unwrap_or("the last run")
                ),
                severity: String::new(),
                status: "resolved".into(),
                count: 0,
                previous: prev_count(&r.fingerprint),
                ticket: r.ticket.clone(),
                baseline: h.and_then(|h| h.baseline.clone()),
                first_seen_run: h.map(|h| h.first_seen_run.clone()),
            }
        }));
    }
    rows
}
