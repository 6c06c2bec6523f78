//! Findings: what a rule reports, with the evidence, the action, the risk and the QA notes
//! a ticket needs. The fingerprint (contract `fingerprint`) is the finding's identity across
//! runs; everything else may change from run to run.

use std::fmt;

use codex_contract::state::TicketRef;
use serde::{Deserialize, Serialize};

/// The detection rules. The string IDs are public (config sections, fingerprints, ticket
/// markers): never rename one.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum RuleId {
    ErrorTypeRepeat,
    CiSignatureRepeat,
    ToolFailureRate,
    FileHotspot,
    ConfigChurn,
    Revert,
}

impl RuleId {
    pub const ALL: [RuleId; 6] = [
        RuleId::ErrorTypeRepeat,
        RuleId::CiSignatureRepeat,
        RuleId::ToolFailureRate,
        RuleId::FileHotspot,
        RuleId::ConfigChurn,
        RuleId::Revert,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RuleId::ErrorTypeRepeat => "error_type_repeat",
            RuleId::CiSignatureRepeat => "ci_signature_repeat",
            RuleId::ToolFailureRate => "tool_failure_rate",
            RuleId::FileHotspot => "file_hotspot",
            RuleId::ConfigChurn => "config_churn",
            RuleId::Revert => "revert",
        }
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How urgent a finding is. Ordered: `High` > `Medium` > `Low`.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }

    /// The documented scale for count rules: 5x the threshold is high, 2x medium.
    pub fn from_ratio(value: f64, threshold: f64) -> Severity {
        if threshold <= 0.0 {
            return Severity::Medium;
        }
        let r = value / threshold;
        if r >= 5.0 {
            Severity::High
        } else if r >= 2.0 {
            Severity::Medium
        } else {
            Severity::Low
        }
    }
}

/// Where a finding stands compared with the previous run.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[serde(rename_all = "snake_case")]
pub enum FindingStatus {
    /// Not reported by the previous run (and never before).
    #[default]
    New,
    /// Reported by the previous run too.
    Persisting,
    /// Seen in an earlier run, absent from the previous one, back now.
    Recurring,
}

impl FindingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingStatus::New => "new",
            FindingStatus::Persisting => "persisting",
            FindingStatus::Recurring => "recurring",
        }
    }
}

/// The numbers and samples behind a finding.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct Evidence {
    /// Occurrences (calls, failures, commits, changes) in the rule's window.
    pub count: u64,
    /// The threshold the rule compares with (a count, or a rate for rate rules).
    pub threshold: f64,
    /// The rule's window (`24h`).
    pub window: String,
    /// The denominator, for rate rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// The measured rate, for rate rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    /// First and last occurrence in the window, RFC 3339 UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<String>,
    /// Redacted, bounded samples (commands and error lines, log lines, commit subjects).
    #[serde(default)]
    pub samples: Vec<String>,
    /// Identifiers behind the count: commit SHAs, signature IDs, log names.
    #[serde(default)]
    pub refs: Vec<String>,
}

/// One detected problem.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Finding {
    pub rule: RuleId,
    /// `fingerprint(rule, subject)`: stable across runs, inputs order and counts.
    pub fingerprint: String,
    /// What the finding is about: an error type, a signature ID, a tool, a file.
    pub subject: String,
    /// A one-line human title.
    pub title: String,
    pub severity: Severity,
    #[serde(default)]
    pub status: FindingStatus,
    pub evidence: Evidence,
    pub suggested_action: String,
    pub risk: String,
    pub qa_notes: String,
    /// The ticket tracking this fingerprint, from the state (filled by the publisher).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<TicketRef>,
    /// What the run's ticket budget decided for this finding (`triage`); absent only before
    /// the budget ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticketing: Option<Ticketing>,
    /// What else the finding is about besides its subject (the files it names, the reverts
    /// it counts), set by the rule that made it. `triage` merges findings that share one:
    /// two tickets about one file or one revert are one story told twice. Not part of the
    /// output: the kept finding's evidence names what was merged into it.
    #[serde(skip)]
    pub topics: Vec<Topic>,
}

/// Something findings of different rules (or of one rule, about different keys) can share;
/// see [`Finding::topics`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Topic {
    /// A repository path.
    File(String),
    /// A revert commit (full SHA).
    Revert(String),
}

/// What the ticket budget (`triage`) decided for a finding.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Ticketing {
    /// It has a ticket already (in the state, or found on GitHub by its marker): the ticket
    /// is refreshed, which costs no budget.
    Existing,
    /// It gets a new ticket in this run (within `max_new_tickets`).
    New,
    /// Over the budget: no ticket this run. It stays a finding (JSON, terminal, run log) and
    /// is listed under the rolling issue's watch list; if it recurs, a later run with room
    /// gives it a ticket.
    HeldBack,
}

impl Ticketing {
    pub fn as_str(self) -> &'static str {
        match self {
            Ticketing::Existing => "existing",
            Ticketing::New => "new",
            Ticketing::HeldBack => "held_back",
        }
    }
}

impl Finding {
    /// A finding with its fingerprint computed from `rule` and `subject`.
    pub fn new(rule: RuleId, subject: &str, title: String, severity: Severity) -> Finding {
        let subject = codex_contract::fingerprint::normalize_subject(subject);
        Finding {
            rule,
            fingerprint: codex_contract::fingerprint::fingerprint(rule.as_str(), &subject),
            subject,
            title: sample(&title, 200),
            severity,
            status: FindingStatus::New,
            evidence: Evidence::default(),
            suggested_action: String::new(),
            risk: String::new(),
            qa_notes: String::new(),
            ticket: None,
            ticketing: None,
            topics: Vec::new(),
        }
    }

    /// How far past its threshold the finding is (count, or rate for rate rules, over the
    /// threshold): what ranks findings of one rule and severity.
    pub fn impact_ratio(&self) -> f64 {
        let e = &self.evidence;
        let value = e.rate.unwrap_or(e.count as f64);
        if e.threshold > 0.0 {
            value / e.threshold
        } else {
            value
        }
    }
}

/// Sorts findings the one way they are shown, which is also their impact order (what the
/// ticket budget spends on first): severity (high first), rule (in [`RuleId`] order: the
/// agent's own failures before repository churn), how far past the threshold (furthest
/// first), subject.
pub fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.rule.cmp(&b.rule))
            .then_with(|| b.impact_ratio().total_cmp(&a.impact_ratio()))
            .then_with(|| a.subject.cmp(&b.subject))
    });
}

/// Text as it may be shown anywhere (samples, titles, log lines): redacted first, then made
/// one line (control characters become spaces, runs of whitespace collapse) and bounded to
/// `max` bytes on a character boundary, with `…` when cut.
pub fn sample(text: &str, max: usize) -> String {
    let redacted = codex_contract::redact::redact(text);
    let mut one_line = String::with_capacity(redacted.len().min(max + 8));
    let mut last_space = false;
    for ch in redacted.chars() {
        let ch = if ch.is_control() || ch.is_whitespace() {
            ' '
        } else {
            ch
        };
        if ch == ' ' {
            if last_space {
                continue;
            }
            last_space = true;
        } else {
            last_space = false;
        }
        one_line.push(ch);
    }
    let t = one_line.trim();
    if t.len() <= max {
        return t.to_string();
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while !t.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", t[..end].trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_is_one_bounded_line() {
        assert_eq!(sample("a\n\tb\x1b[31m  c", 100), "a b [31m c");
        let long = "é".repeat(100);
        let s = sample(&long, 21);
        assert!(s.len() <= 21, "{}", s.len());
        assert!(s.ends_with('…'));
    }

    #[test]
    fn fingerprint_depends_on_rule_and_subject_only() {
        let a = Finding::new(
            RuleId::ErrorTypeRepeat,
            "timeout",
            "x".into(),
            Severity::Low,
        );
        let b = Finding::new(
            RuleId::ErrorTypeRepeat,
            " timeout ",
            "y".into(),
            Severity::High,
        );
        assert_eq!(a.fingerprint, b.fingerprint);
        assert_eq!(
            a.fingerprint,
            codex_contract::fingerprint::fingerprint("error_type_repeat", "timeout")
        );
    }

    #[test]
    fn severity_scale() {
        assert_eq!(Severity::from_ratio(2.0, 2.0), Severity::Low);
        assert_eq!(Severity::from_ratio(4.0, 2.0), Severity::Medium);
        assert_eq!(Severity::from_ratio(10.0, 2.0), Severity::High);
        let mut v = vec![
            Finding::new(RuleId::FileHotspot, "b", "t".into(), Severity::Low),
            Finding::new(RuleId::ErrorTypeRepeat, "a", "t".into(), Severity::High),
            Finding::new(RuleId::ErrorTypeRepeat, "0", "t".into(), Severity::Low),
        ];
        sort(&mut v);
        let order: Vec<&str> = v.iter().map(|f| f.subject.as_str()).collect();
        assert_eq!(order, ["a", "0", "b"]);
    }
}
