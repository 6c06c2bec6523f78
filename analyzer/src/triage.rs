//! After the rules, before anything is recorded or published: one finding per story, then
//! the ticket budget.
//!
//! **One story, one ticket.** Findings that share a topic ([`Finding::topics`]: a file, a
//! revert) are one problem seen twice: a `Cargo.lock` that is both a hotspot and churning
//! config, three keys of one new workflow rewritten in a day, a config change and the revert
//! that undid it. Two tickets for one story split the discussion and double the noise. The
//! group keeps one finding: the one that already has a ticket (refreshing it beats opening a
//! second), else the one with the highest impact (the first in [`crate::finding::sort`] order).
//! Each other one leaves a line in the kept one's evidence samples (`also config_churn: …`)
//! and its commit refs, so no fact is lost. A finding joins the first group it shares a topic
//! with; groups are not merged afterwards, so a finding bridging two groups joins the one of
//! higher impact.
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

use crate::finding::{sample, Finding, Ticketing, Topic};

/// The default of `[analysis] max_new_tickets`: a first run on a busy repository opens a
/// handful of tickets, not dozens.
pub const DEFAULT_MAX_NEW_TICKETS: usize = 3;

/// Both steps, on findings already in impact order ([`crate::finding::sort`]).
pub fn apply(findings: &mut Vec<Finding>, state: &State, run_id: &str, max_new: usize) {
    one_per_story(findings, |f| has_ticket(state, f));
    budget(findings, state, run_id, max_new);
}

fn has_ticket(state: &State, f: &Finding) -> bool {
    state
        .findings
        .get(&f.fingerprint)
        .is_some_and(|h| h.ticket.is_some())
}

/// Collapses findings that share a topic into one per group (see the module docs); the
/// others' titles and refs go into its evidence. Keeps the order of the groups' first
/// findings.
pub fn one_per_story(findings: &mut Vec<Finding>, has_ticket: impl Fn(&Finding) -> bool) {
    let mut groups: Vec<Vec<Finding>> = Vec::with_capacity(findings.len());
    let mut owner: HashMap<Topic, usize> = HashMap::new();
    for f in findings.drain(..) {
        let group = f.topics.iter().filter_map(|t| owner.get(t)).min().copied();
        let i = group.unwrap_or(groups.len());
        for t in &f.topics {
            owner.entry(t.clone()).or_insert(i);
        }
        match group {
            Some(i) => groups[i].push(f),
            None => groups.push(vec![f]),
        }
    }
    *findings = groups
        .into_iter()
        .map(|mut g| {
            let keep = g.iter().position(&has_ticket).unwrap_or(0);
            let mut kept = g.remove(keep);
            for other in g {
                absorb(&mut kept, other);
            }
            kept
        })
        .collect();
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
        f.ticketing = Some(if has_ticket(state, f) {
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

    fn about(mut f: Finding, topics: &[Topic]) -> Finding {
        f.topics = topics.to_vec();
        f
    }

    fn file(p: &str) -> Topic {
        Topic::File(p.into())
    }

    fn subjects(v: &[Finding]) -> Vec<&str> {
        v.iter().map(|f| f.subject.as_str()).collect()
    }

    #[test]
    fn a_key_level_config_churn_and_a_hotspot_of_its_file_are_one_finding() {
        let mut v = vec![
            about(
                f(
                    RuleId::ConfigChurn,
                    "Cargo.toml: package.edition",
                    Severity::Medium,
                    3,
                ),
                &[file("Cargo.toml")],
            ),
            about(
                f(RuleId::FileHotspot, "Cargo.toml", Severity::Low, 4),
                &[file("Cargo.toml")],
            ),
            about(
                f(
                    RuleId::ConfigChurn,
                    "**/Cargo.toml: package.edition",
                    Severity::Medium,
                    2,
                ),
                &[file("crates/a/Cargo.toml"), file("crates/b/Cargo.toml")],
            ),
            about(
                f(RuleId::FileHotspot, "src/lib.rs", Severity::Low, 4),
                &[file("src/lib.rs")],
            ),
        ];
        finding::sort(&mut v);
        one_per_story(&mut v, |_| false);
        assert_eq!(
            subjects(&v),
            [
                "Cargo.toml: package.edition",
                "**/Cargo.toml: package.edition",
                "src/lib.rs"
            ]
        );
        assert_eq!(
            v[0].evidence.samples[1],
            "also file_hotspot (low): file_hotspot Cargo.toml"
        );
    }

    #[test]
    fn one_file_one_finding_the_highest_impact_kept() {
        let mut v = vec![
            about(
                f(RuleId::FileHotspot, "Cargo.lock", Severity::Medium, 5),
                &[file("Cargo.lock")],
            ),
            about(
                f(RuleId::ConfigChurn, "Cargo.lock", Severity::High, 3),
                &[file("Cargo.lock")],
            ),
            about(
                f(RuleId::FileHotspot, "src/a.rs", Severity::Low, 4),
                &[file("src/a.rs")],
            ),
        ];
        finding::sort(&mut v);
        one_per_story(&mut v, |_| false);
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
    fn keys_of_one_file_are_one_finding_and_a_multi_file_churn_joins_them() {
        let w = ".github/workflows/winget.yml";
        let mut v = vec![
            about(
                f(
                    RuleId::ConfigChurn,
                    &format!("{w}: jobs.update.steps[a].run"),
                    Severity::Medium,
                    4,
                ),
                &[file(w)],
            ),
            about(
                f(
                    RuleId::ConfigChurn,
                    &format!("{w}: jobs.update.steps[b].with.url"),
                    Severity::Medium,
                    3,
                ),
                &[file(w)],
            ),
            about(
                f(
                    RuleId::ConfigChurn,
                    &format!("{w} + others: jobs"),
                    Severity::Low,
                    3,
                ),
                &[file(".github/workflows/ci.yml"), file(w)],
            ),
            about(
                f(RuleId::ConfigChurn, "other.yml: jobs", Severity::Low, 3),
                &[file("other.yml")],
            ),
        ];
        finding::sort(&mut v);
        one_per_story(&mut v, |_| false);
        assert_eq!(
            subjects(&v),
            [
                format!("{w}: jobs.update.steps[a].run").as_str(),
                "other.yml: jobs"
            ]
        );
        assert_eq!(
            v[0].evidence.samples.len(),
            3,
            "{:?}",
            v[0].evidence.samples
        );
    }

    #[test]
    fn a_config_change_and_the_revert_that_undid_it_are_one_finding() {
        let undo = Topic::Revert("9f3c2a".repeat(7)[..40].to_string());
        let other = Topic::Revert("1b2c3d".repeat(7)[..40].to_string());
        let mut v = vec![
            about(
                f(
                    RuleId::ConfigChurn,
                    "bench.yml: env.PROFILER",
                    Severity::Medium,
                    2,
                ),
                &[file("bench.yml"), undo.clone()],
            ),
            about(
                f(RuleId::Revert, "use perf for benchmarks", Severity::High, 1),
                &[undo],
            ),
            // Another revert, of another change: its own story.
            about(
                f(RuleId::Revert, "require pylock entries", Severity::High, 1),
                &[other],
            ),
        ];
        finding::sort(&mut v);
        one_per_story(&mut v, |_| false);
        assert_eq!(v.len(), 2, "{:?}", subjects(&v));
        let kept = v
            .iter()
            .find(|f| f.subject == "use perf for benchmarks")
            .unwrap();
        assert!(kept
            .evidence
            .samples
            .iter()
            .any(|s| s.starts_with("also config_churn (medium)")));
        assert!(v.iter().any(|f| f.subject == "require pylock entries"));
    }

    #[test]
    fn a_finding_with_a_ticket_is_kept_over_a_higher_impact_one_of_its_story() {
        let mut v = vec![
            about(
                f(RuleId::ConfigChurn, "a.yml: x", Severity::High, 9),
                &[file("a.yml")],
            ),
            about(
                f(RuleId::FileHotspot, "b.rs", Severity::High, 8),
                &[file("b.rs")],
            ),
            about(
                f(RuleId::ConfigChurn, "a.yml: y", Severity::Low, 2),
                &[file("a.yml")],
            ),
        ];
        finding::sort(&mut v);
        let order = subjects(&v).join(" | ");
        let at = |v: &[Finding], s: &str| v.iter().position(|f| f.subject == s).unwrap();
        let (x, y, b) = (at(&v, "a.yml: x"), at(&v, "a.yml: y"), at(&v, "b.rs"));
        assert!(x < y, "{order}");
        let mut state = State::default();
        ticketed(&mut state, &v[y], "2026-01-01-AM");
        apply(&mut v, &state, "2026-01-02-AM", 3);
        // The group keeps the place of its first finding, but is told by the ticketed one.
        let expected = if x < b {
            ["a.yml: y", "b.rs"]
        } else {
            ["b.rs", "a.yml: y"]
        };
        assert_eq!(subjects(&v), expected, "{order}");
        let kept = &v[at(&v, "a.yml: y")];
        assert_eq!(kept.ticketing, Some(Ticketing::Existing));
        assert_eq!(
            kept.evidence.samples[1],
            "also config_churn (high): config_churn a.yml: x"
        );
        assert_eq!(counts(&v), (1, 1, 0));
    }

    #[test]
    fn findings_without_topics_are_never_merged() {
        let mut v = vec![
            f(RuleId::ErrorTypeRepeat, "timeout", Severity::High, 5),
            f(RuleId::ToolFailureRate, "timeout", Severity::High, 5),
        ];
        one_per_story(&mut v, |_| false);
        assert_eq!(v.len(), 2);
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
