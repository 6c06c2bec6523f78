//! After the rules, before anything is recorded or published: one finding per subject, then
//! the ticket budget.
//!
//! **One file, one rule.** Two rules reporting the same subject (a `Cargo.lock` that is both
//! a hotspot and churning config) are one problem seen twice; two tickets for it split the
//! discussion and double the noise. The finding with the highest impact (the first in
//! [`finding::sort`] order) is kept; each dropped one leaves a line in the kept one's
//! evidence samples (`also config_churn: …`) and its commit refs, so no fact is lost.
//!
//! **The ticket budget.** At most `[analysis] max_new_tickets` new tickets per run (default
//! [`DEFAULT_MAX_NEW_TICKETS`]), spent in impact order. A finding that already has a ticket
//! costs nothing: refreshing a ticket adds no issue to anyone's list. Everything over the
//! budget is held back, not dropped: it stays in the JSON (`ticketing: held_back`), the
//! terminal summary and the run log, and the rolling issue lists it under a watch list with
//! its evidence. A held-back finding that recurs gets its ticket in a later run with room.
//! A forced rerun of a run ID spends only what the first attempt left (tickets whose baseline
//! was fixed in this run ID count as spent), so rerunning never adds tickets.
//!
//! This decision uses the state alone, so a dry run shows the same split an apply makes. The
//! GitHub stage refines it with what GitHub knows: a ticket found there by its fingerprint
//! marker is refreshed for free, and the room it leaves goes to the next finding in line.

use std::collections::HashMap;

use codex_contract::state::State;

use crate::finding::{sample, Finding, RuleId, Ticketing};

/// The default of `[analysis] max_new_tickets`: a first run on a busy repository opens a
/// handful of tickets, not dozens.
pub const DEFAULT_MAX_NEW_TICKETS: usize = 3;

/// Both steps, on findings already in impact order ([`crate::finding::sort`]).
pub fn apply(findings: &mut Vec<Finding>, state: &State, run_id: &str, max_new: usize) {
    one_per_subject(findings);
    budget(findings, state, run_id, max_new);
}

/// Collapses findings of different rules about the same subject into the first (highest
/// impact) one; the others' titles and refs go into its evidence. Keeps the order.
pub fn one_per_subject(findings: &mut Vec<Finding>) {
    let mut kept: Vec<Finding> = Vec::with_capacity(findings.len());
    let mut by_subject: HashMap<String, usize> = HashMap::new();
    for f in findings.drain(..) {
        let file = file_of(&f).to_string();
        match by_subject.get(&file) {
            Some(&i) if kept[i].rule != f.rule => absorb(&mut kept[i], f),
            Some(_) => kept.push(f),
            None => {
                by_subject.insert(file, kept.len());
                kept.push(f);
            }
        }
    }
    *findings = kept;
}

/// What a finding is about, for "one file, one rule": its subject, except that a config
/// churn subject names the key too (`Cargo.toml: package.edition`) — the file is what a
/// hotspot on the same file shares with it. A churn over many files (`**/Cargo.toml: …`)
/// keeps its whole subject.
fn file_of(f: &Finding) -> &str {
    match f.rule {
        RuleId::ConfigChurn => match f.subject.split_once(": ") {
            Some((file, _)) if !file.contains('*') && !file.contains(' ') => file,
            _ => &f.subject,
        },
        _ => &f.subject,
    }
}

fn absorb(into: &mut Finding, other: Finding) {
    let line = format!(
        "also {} ({}): {}",
        other.rule,
        other.severity.as_str(),
        other.title
    );
    into.evidence.samples.push(sample(&line, 240));
    for r in other.evidence.refs {
        if !into.evidence.refs.contains(&r) {
            into.evidence.refs.push(r);
        }
    }
}

/// Tickets this run ID already created (a forced rerun): their baseline was fixed in it.
pub fn created_in_run(state: &State, run_id: &str) -> usize {
    state
        .findings
        .values()
        .filter(|h| h.ticket.is_some() && h.baseline.as_ref().is_some_and(|b| b.run_id == run_id))
        .count()
}

/// New tickets this run may still open.
pub fn room(state: &State, run_id: &str, max_new: usize) -> usize {
    max_new.saturating_sub(created_in_run(state, run_id))
}

/// Sets every finding's [`Ticketing`]: existing ticket, new ticket while there is room, held
/// back after that.
pub fn budget(findings: &mut [Finding], state: &State, run_id: &str, max_new: usize) {
    let mut room = room(state, run_id, max_new);
    for f in findings {
        let has_ticket = state
            .findings
            .get(&f.fingerprint)
            .is_some_and(|h| h.ticket.is_some());
        f.ticketing = Some(if has_ticket {
            Ticketing::Existing
        } else if room > 0 {
            room -= 1;
            Ticketing::New
        } else {
            Ticketing::HeldBack
        });
    }
}

/// How many findings got each decision: (existing, new, held back).
pub fn counts(findings: &[Finding]) -> (usize, usize, usize) {
    let n = |t: Ticketing| findings.iter().filter(|f| f.ticketing == Some(t)).count();
    (
        n(Ticketing::Existing),
        n(Ticketing::New),
        n(Ticketing::HeldBack),
    )
}

#[cfg(test)]
mod tests {
    use codex_contract::state::{Baseline, FindingHistory, TicketRef};

    use super::*;
    use crate::finding::{self, RuleId, Severity};

    fn f(rule: RuleId, subject: &str, sev: Severity, count: u64) -> Finding {
        let mut f = Finding::new(rule, subject, format!("{rule} {subject}"), sev);
        f.evidence.count = count;
        f.evidence.threshold = 2.0;
        f.evidence.samples = vec![format!("sample of {rule}")];
        f.evidence.refs = vec![format!("ref-{rule}"), "shared".into()];
        f
    }

    #[test]
    fn a_key_level_config_churn_and_a_hotspot_of_its_file_are_one_finding() {
        let mut v = vec![
            f(
                RuleId::ConfigChurn,
                "Cargo.toml: package.edition",
                Severity::Medium,
                3,
            ),
            f(RuleId::FileHotspot, "Cargo.toml", Severity::Low, 4),
            f(
                RuleId::ConfigChurn,
                "**/Cargo.toml: package.edition",
                Severity::Medium,
                3,
            ),
            f(RuleId::FileHotspot, "**/Cargo.toml", Severity::Low, 4),
        ];
        finding::sort(&mut v);
        one_per_subject(&mut v);
        let subjects: Vec<&str> = v.iter().map(|f| f.subject.as_str()).collect();
        assert_eq!(v.len(), 3, "{subjects:?}");
        assert!(subjects.contains(&"Cargo.toml: package.edition"));
        assert!(!subjects.contains(&"Cargo.toml"));
    }

    #[test]
    fn one_subject_one_finding_the_highest_impact_kept() {
        let mut v = vec![
            f(RuleId::FileHotspot, "Cargo.lock", Severity::Medium, 5),
            f(RuleId::ConfigChurn, "Cargo.lock", Severity::High, 3),
            f(RuleId::FileHotspot, "src/a.rs", Severity::Low, 4),
        ];
        finding::sort(&mut v);
        one_per_subject(&mut v);
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].rule, RuleId::ConfigChurn);
        assert_eq!(v[0].subject, "Cargo.lock");
        let s = &v[0].evidence.samples;
        assert_eq!(s[0], "sample of config_churn");
        assert_eq!(s[1], "also file_hotspot (medium): file_hotspot Cargo.lock");
        assert_eq!(
            v[0].evidence.refs,
            ["ref-config_churn", "shared", "ref-file_hotspot"]
        );
        assert_eq!(v[1].subject, "src/a.rs");
    }

    #[test]
    fn within_a_rule_and_severity_the_larger_count_ranks_first() {
        let mut v = vec![
            f(RuleId::FileHotspot, "a", Severity::Medium, 5),
            f(RuleId::FileHotspot, "b", Severity::Medium, 9),
        ];
        finding::sort(&mut v);
        assert_eq!(v[0].subject, "b");
    }

    fn ticketed(state: &mut State, f: &Finding, run: &str) {
        state.findings.insert(
            f.fingerprint.clone(),
            FindingHistory {
                rule: f.rule.to_string(),
                subject: f.subject.clone(),
                ticket: Some(TicketRef {
                    number: 1,
                    url: String::new(),
                    state: Some("open".into()),
                }),
                baseline: Some(Baseline {
                    run_id: run.into(),
                    count: 1,
                    value: None,
                }),
                ..FindingHistory::default()
            },
        );
    }

    #[test]
    fn the_budget_spends_in_order_and_refreshes_are_free() {
        let mut v: Vec<Finding> = (0..6)
            .map(|i| f(RuleId::FileHotspot, &format!("f{i}"), Severity::High, 9 - i))
            .collect();
        let mut state = State::default();
        ticketed(&mut state, &v[1], "2026-01-01-AM");
        budget(&mut v, &state, "2026-01-02-AM", 3);
        let got: Vec<&str> = v.iter().map(|f| f.ticketing.unwrap().as_str()).collect();
        assert_eq!(
            got,
            ["new", "existing", "new", "new", "held_back", "held_back"]
        );
        assert_eq!(counts(&v), (1, 3, 2));
    }

    #[test]
    fn a_forced_rerun_spends_only_what_is_left() {
        let mut v: Vec<Finding> = (0..5)
            .map(|i| f(RuleId::FileHotspot, &format!("f{i}"), Severity::High, 9 - i))
            .collect();
        let mut state = State::default();
        ticketed(&mut state, &v[0], "2026-01-02-AM");
        ticketed(&mut state, &v[1], "2026-01-02-AM");
        budget(&mut v, &state, "2026-01-02-AM", 3);
        assert_eq!(counts(&v), (2, 1, 2));
        // The next run has its whole budget again.
        budget(&mut v, &state, "2026-01-02-PM", 3);
        assert_eq!(counts(&v), (2, 3, 0));
    }
}
