//! Impact deltas: this run against the previous applied run (by run ID order) from the
//! state, and the state's per-fingerprint history updated with this run.
//!
//! Deltas compare primary-window metrics: consecutive twice-daily runs have back-to-back
//! 12h windows, so each delta compares two disjoint, equal periods.

use std::collections::{BTreeMap, BTreeSet};

use codex_contract::state::{Baseline, FindingHistory, RunMetrics, RunSummary, State, TicketRef};
use serde::Serialize;

use crate::finding::{Finding, FindingStatus};

/// A count now and in the previous run.
#[derive(Serialize, Clone, Debug, PartialEq, Default)]
pub struct CountDelta {
    pub current: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<i64>,
}

impl CountDelta {
    fn new(current: u64, previous: Option<u64>) -> CountDelta {
        CountDelta {
            current,
            previous,
            change: previous.map(|p| current as i64 - p as i64),
        }
    }
}

/// A rate now and in the previous run; the change is in percentage points.
#[derive(Serialize, Clone, Debug, PartialEq, Default)]
pub struct RateDelta {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change_pp: Option<f64>,
}

/// A finding that the previous run reported and this one does not.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct ResolvedFinding {
    pub fingerprint: String,
    pub rule: String,
    pub subject: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket: Option<TicketRef>,
}

/// A ticketed finding's figure at ticket creation beside today's (measured improvement).
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Tracked {
    pub fingerprint: String,
    pub rule: String,
    pub subject: String,
    pub ticket: TicketRef,
    pub baseline: Baseline,
    /// This run's count (0 when the finding did not fire).
    pub current: u64,
    /// This run's rate, for rate rules (beside `baseline.value`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_value: Option<f64>,
}

#[derive(Serialize, Clone, Debug, PartialEq, Default)]
pub struct FindingDeltas {
    pub new: Vec<String>,
    pub persisting: Vec<String>,
    pub recurring: Vec<String>,
    pub resolved: Vec<ResolvedFinding>,
}

/// Everything the Impact Summary shows.
#[derive(Serialize, Clone, Debug, PartialEq, Default)]
pub struct Deltas {
    /// The run compared with; absent on a first run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_run: Option<String>,
    pub failure_rate: RateDelta,
    pub tool_calls: CountDelta,
    pub failed_calls: CountDelta,
    pub ci_failures: CountDelta,
    pub commits: CountDelta,
    /// Every error type seen now or in the previous run.
    pub error_types: BTreeMap<String, CountDelta>,
    pub findings: FindingDeltas,
    pub tracked: Vec<Tracked>,
}

fn round_pp(x: f64) -> f64 {
    (x * 1e4).round() / 1e2
}

/// Computes deltas and sets each finding's status and ticket from the state.
pub fn compute(
    state: &State,
    run_id: &str,
    metrics: &RunMetrics,
    findings: &mut [Finding],
) -> Deltas {
    let prev = state.previous_run(run_id);
    let pm = prev.map(|p| &p.metrics);
    let mut d = Deltas {
        previous_run: prev.map(|p| p.run_id.clone()),
        failure_rate: RateDelta {
            current: metrics.failure_rate,
            previous: pm.and_then(|m| m.failure_rate),
            change_pp: match (metrics.failure_rate, pm.and_then(|m| m.failure_rate)) {
                (Some(c), Some(p)) => Some(round_pp(c - p)),
                _ => None,
            },
        },
        tool_calls: CountDelta::new(metrics.tool_calls, pm.map(|m| m.tool_calls)),
        failed_calls: CountDelta::new(metrics.failed, pm.map(|m| m.failed)),
        ci_failures: CountDelta::new(metrics.ci_failures, pm.map(|m| m.ci_failures)),
        commits: CountDelta::new(metrics.commits, pm.map(|m| m.commits)),
        ..Deltas::default()
    };
    let mut types: BTreeSet<&String> = metrics.error_types.keys().collect();
    if let Some(m) = pm {
        types.extend(m.error_types.keys());
    }
    for t in types {
        let cur = metrics.error_types.get(t).copied().unwrap_or(0);
        let p = pm.map(|m| m.error_types.get(t).copied().unwrap_or(0));
        d.error_types.insert(t.clone(), CountDelta::new(cur, p));
    }
    let prev_fps: BTreeSet<&str> = prev
        .map(|p| p.findings.iter().map(String::as_str).collect())
        .unwrap_or_default();
    let mut now_fps = BTreeSet::new();
    for f in findings.iter_mut() {
        now_fps.insert(f.fingerprint.clone());
        let history = state.findings.get(&f.fingerprint);
        f.status = if prev_fps.contains(f.fingerprint.as_str()) {
            FindingStatus::Persisting
        } else if history.is_some_and(|h| h.first_seen_run.as_str() < run_id) {
            FindingStatus::Recurring
        } else {
            FindingStatus::New
        };
        f.ticket = history.and_then(|h| h.ticket.clone());
        match f.status {
            FindingStatus::New => d.findings.new.push(f.fingerprint.clone()),
            FindingStatus::Persisting => d.findings.persisting.push(f.fingerprint.clone()),
            FindingStatus::Recurring => d.findings.recurring.push(f.fingerprint.clone()),
        }
    }
    for fp in prev_fps {
        if now_fps.contains(fp) {
            continue;
        }
        let h = state.findings.get(fp);
        d.findings.resolved.push(ResolvedFinding {
            fingerprint: fp.to_string(),
            rule: h.map(|h| h.rule.clone()).unwrap_or_default(),
            subject: h.map(|h| h.subject.clone()).unwrap_or_default(),
            ticket: h.and_then(|h| h.ticket.clone()),
        });
    }
    for (fp, h) in &state.findings {
        if let (Some(ticket), Some(baseline)) = (&h.ticket, &h.baseline) {
            let now = findings.iter().find(|f| &f.fingerprint == fp);
            let current = now.map_or(0, |f| f.evidence.count);
            let current_value = now.and_then(|f| f.evidence.rate);
            d.tracked.push(Tracked {
                fingerprint: fp.clone(),
                rule: h.rule.clone(),
                subject: h.subject.clone(),
                ticket: ticket.clone(),
                baseline: baseline.clone(),
                current,
                current_value,
            });
        }
    }
    d.findings.new.sort();
    d.findings.persisting.sort();
    d.findings.recurring.sort();
    d
}

/// Records this run in the state: processed ID, metrics summary and finding histories.
pub fn record(
    state: &mut State,
    run_id: &str,
    now: &str,
    metrics: RunMetrics,
    findings: &[Finding],
    deltas: &Deltas,
) {
    let mut fps: Vec<String> = findings.iter().map(|f| f.fingerprint.clone()).collect();
    fps.sort();
    state.record_run(RunSummary {
        run_id: run_id.to_string(),
        now: now.to_string(),
        metrics,
        findings: fps,
    });
    for f in findings {
        let h = state
            .findings
            .entry(f.fingerprint.clone())
            .or_insert_with(|| FindingHistory {
                rule: f.rule.as_str().to_string(),
                subject: f.subject.clone(),
                first_seen_run: run_id.to_string(),
                last_seen_run: run_id.to_string(),
                ..FindingHistory::default()
            });
        if run_id < h.first_seen_run.as_str() {
            h.first_seen_run = run_id.to_string();
        }
        if run_id > h.last_seen_run.as_str() {
            h.last_seen_run = run_id.to_string();
        }
        h.first_seen = min_opt(h.first_seen.take(), f.evidence.first_seen.clone());
        h.last_seen = max_opt(h.last_seen.take(), f.evidence.last_seen.clone());
        h.record_count(run_id, f.evidence.count);
        h.resolved_run = None;
    }
    for r in &deltas.findings.resolved {
        if let Some(h) = state.findings.get_mut(&r.fingerprint) {
            h.resolved_run = Some(run_id.to_string());
        }
    }
}

fn min_opt(a: Option<String>, b: Option<String>) -> Option<String> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

fn max_opt(a: Option<String>, b: Option<String>) -> Option<String> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, y) => x.or(y),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{RuleId, Severity};

    fn finding(subject: &str, count: u64) -> Finding {
        let mut f = Finding::new(RuleId::ErrorTypeRepeat, subject, "t".into(), Severity::Low);
        f.evidence.count = count;
        f
    }

    fn metrics(calls: u64, failed: u64, types: &[(&str, u64)]) -> RunMetrics {
        RunMetrics {
            tool_calls: calls,
            definite: calls,
            failed,
            failure_rate: crate::collect::toolcalls::rate(failed, calls),
            error_types: types.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            ..RunMetrics::default()
        }
    }

    #[test]
    fn first_run_everything_new() {
        let state = State::default();
        let mut f = vec![finding("timeout", 3)];
        let d = compute(
            &state,
            "2026-01-01-AM",
            &metrics(10, 2, &[("timeout", 2)]),
            &mut f,
        );
        assert_eq!(d.previous_run, None);
        assert_eq!(d.findings.new, [f[0].fingerprint.clone()]);
        assert_eq!(d.failure_rate.change_pp, None);
        assert_eq!(d.error_types["timeout"].change, None);
    }

    #[test]
    fn second_run_new_persisting_resolved_and_rates() {
        let mut state = State::default();
        let mut first = vec![finding("timeout", 3), finding("file_not_found", 2)];
        let m1 = metrics(10, 2, &[("timeout", 2), ("file_not_found", 1)]);
        let d1 = compute(&state, "2026-01-01-AM", &m1, &mut first);
        record(&mut state, "2026-01-01-AM", "n", m1, &first, &d1);

        let mut second = vec![finding("timeout", 5), finding("killed", 2)];
        let m2 = metrics(20, 2, &[("timeout", 2)]);
        let d2 = compute(&state, "2026-01-01-PM", &m2, &mut second);
        assert_eq!(d2.previous_run.as_deref(), Some("2026-01-01-AM"));
        assert_eq!(d2.failure_rate.change_pp, Some(-10.0));
        assert_eq!(d2.tool_calls.change, Some(10));
        assert_eq!(d2.error_types["file_not_found"].current, 0);
        assert_eq!(d2.error_types["file_not_found"].change, Some(-1));
        assert_eq!(second[0].status, FindingStatus::Persisting);
        assert_eq!(second[1].status, FindingStatus::New);
        assert_eq!(d2.findings.resolved.len(), 1);
        assert_eq!(d2.findings.resolved[0].subject, "file_not_found");
        record(&mut state, "2026-01-01-PM", "n", m2, &second, &d2);
        let h = &state.findings[&second[0].fingerprint];
        assert_eq!(h.counts.len(), 2);
        assert_eq!(h.first_seen_run, "2026-01-01-AM");
        let gone = &state.findings[&first[1].fingerprint];
        assert_eq!(gone.resolved_run.as_deref(), Some("2026-01-01-PM"));

        // Third run: file_not_found is back after a gap: recurring.
        let mut third = vec![finding("file_not_found", 2)];
        let d3 = compute(&state, "2026-01-02-AM", &metrics(1, 0, &[]), &mut third);
        assert_eq!(third[0].status, FindingStatus::Recurring);
        assert_eq!(d3.findings.recurring.len(), 1);
    }

    #[test]
    fn tracked_findings_show_baseline_and_current() {
        let mut state = State::default();
        let mut f = vec![finding("timeout", 6)];
        let m = metrics(10, 6, &[]);
        let d = compute(&state, "2026-01-01-AM", &m, &mut f);
        record(&mut state, "2026-01-01-AM", "n", m.clone(), &f, &d);
        state
            .findings
            .get_mut(&f[0].fingerprint)
            .unwrap()
            .set_ticket(
                TicketRef {
                    number: 4,
                    url: "u".into(),
                    state: None,
                },
                "2026-01-01-AM",
            );
        let mut g = vec![finding("timeout", 2)];
        let d = compute(&state, "2026-01-01-PM", &m, &mut g);
        assert_eq!(g[0].ticket.as_ref().unwrap().number, 4);
        assert_eq!(d.tracked.len(), 1);
        assert_eq!((d.tracked[0].baseline.count, d.tracked[0].current), (6, 2));
    }
}
