//! Friction clusters: failing tool calls grouped by what went wrong, ranked by impact.
//!
//! Two failures belong to the same cluster when they share the **tool**, the **normalized
//! command** ([`normalize_command`]), the **error type** (from the contract's classifier) and
//! the **normalized error template** ([`normalize_error`] of the first error-looking line of
//! the output). Grouping is exact on that key, so it is deterministic: the same calls in any
//! order give the same clusters, the same IDs and the same ranking.
//!
//! **Templates** come from the analyzer's one normalization algorithm, `crate::signature`
//! (the same masks as CI failure and command signatures): a failing command here and in the
//! run log's "Failing command signatures" table has the same template.
//!
//! **ID.** `cl2-` + the first 16 hex digits of SHA-256 over
//! `"cluster-v2\n<tool>\n<command template>\n<error type>\n<error template>"`. The prefix and
//! the algorithm name change together whenever the key or the normalizers change, so an ID
//! never silently means something else (`cluster-v1` had its own masks; v2 uses
//! `signature.rs`'s, versioned by `signature::ALGORITHM_VERSION`).
//!
//! **Impact** (documented in `docs/closed-loop.md`):
//!
//! ```text
//! impact = count × severity(error type) × sessions affected × 0.5^(age_hours / half_life_hours)
//! ```
//!
//! where `age_hours` is the time from the cluster's last occurrence to `now` (never negative)
//! and the half-life defaults to 24 hours. [`SEVERITY`] holds the weights. Clusters are ranked
//! by impact (descending), then count (descending), then ID.
//!
//! Every text a cluster carries (templates, samples, commands) has been through
//! [`codex_contract::redact::redact`].

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use codex_contract::record::shorten;
use codex_contract::{Call, Status};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::signature;

/// The name of the grouping algorithm, hashed into every ID.
pub const CLUSTER_ALGORITHM: &str = "cluster-v2";
/// The prefix of every cluster ID made by [`CLUSTER_ALGORITHM`].
pub const ID_PREFIX: &str = "cl2-";
/// Templates are cut to this many bytes.
pub const TEMPLATE_MAX: usize = 200;
/// Sample commands are cut to this many bytes.
pub const SAMPLE_COMMAND_MAX: usize = 500;
/// Sample error excerpts are cut to this many bytes.
pub const SAMPLE_ERROR_MAX: usize = 600;

/// Severity weight per error type. Types not listed weigh [`DEFAULT_SEVERITY`]. The weights
/// say how much one occurrence costs an agent: losing the context or hanging until a timeout
/// wastes a whole turn; a denial or a missing file usually costs one more call.
pub const SEVERITY: &[(&str, f64)] = &[
    ("context_window_exceeded", 3.0),
    ("timeout", 2.5),
    ("killed", 2.0),
    ("patch_failed", 2.0),
    ("git_conflict", 2.0),
    ("compile_error", 1.5),
    ("hook_blocked", 1.5),
    ("approval_denied", 1.5),
    ("sandbox_denied", 1.5),
    ("permission_denied", 1.5),
    ("command_not_found", 1.5),
    ("test_failure", 1.2),
    ("network_error", 1.0),
    ("file_not_found", 1.0),
    ("aborted", 1.0),
    ("nonzero_exit", 1.0),
];
/// The weight of an error type [`SEVERITY`] does not list.
pub const DEFAULT_SEVERITY: f64 = 1.0;
/// The default recency half-life.
pub const DEFAULT_HALF_LIFE_HOURS: f64 = 24.0;

/// The severity weight of an error type.
pub fn severity(error_type: &str) -> f64 {
    SEVERITY
        .iter()
        .find(|(t, _)| *t == error_type)
        .map_or(DEFAULT_SEVERITY, |(_, w)| *w)
}

/// How to cluster.
#[derive(Clone, Debug)]
pub struct ClusterOptions {
    /// The clock for recency decay (`--now`).
    pub now: DateTime<Utc>,
    /// Recency half-life in hours.
    pub half_life_hours: f64,
    /// Redacted samples kept per cluster.
    pub max_samples: usize,
}

impl ClusterOptions {
    /// Defaults at a given clock: 24 h half-life, 3 samples.
    pub fn at(now: DateTime<Utc>) -> ClusterOptions {
        ClusterOptions {
            now,
            half_life_hours: DEFAULT_HALF_LIFE_HOURS,
            max_samples: 3,
        }
    }
}

/// One redacted occurrence kept as evidence.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Sample {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    pub call_id: String,
    pub ts: DateTime<Utc>,
    /// The command as run (redacted, bounded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// Head and tail of the error output (redacted, bounded).
    pub error: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub git_head: Option<String>,
}

/// A command that worked where the cluster's command failed: the next successful call of
/// the same tool, with a different command, in the same session after the cluster's last
/// failure there.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Alternative {
    pub tool: String,
    /// Redacted, bounded.
    pub command: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    pub ts: DateTime<Utc>,
}

/// A group of similar failures.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Cluster {
    /// Stable ID (`cl2-…`), the cluster's fingerprint.
    pub id: String,
    /// [`CLUSTER_ALGORITHM`] at the time the ID was made.
    pub algorithm: String,
    pub tool: String,
    pub command_template: String,
    pub error_type: String,
    pub error_template: String,
    /// The [`SEVERITY`] weight used in `impact`.
    pub severity: f64,
    /// Failing calls in the cluster.
    pub count: u32,
    /// Distinct sessions affected (calls without a session count as one).
    pub sessions: u32,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// See the module documentation; rounded to 4 decimals.
    pub impact: f64,
    /// The status of the last failure (`failed`, `timeout`, `denied`, ...).
    pub last_status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_git_head: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_git_head: Option<String>,
    /// The last failing command in full (redacted, not templated).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_command: Option<String>,
    /// The working directory of the last failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_cwd: Option<String>,
    /// Up to `max_samples` redacted occurrences, oldest first.
    pub samples: Vec<Sample>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub working_alternative: Option<Alternative>,
    /// The commit after which the friction resolved: the `git_head` of the first success of
    /// the same tool and command template after the last failure at a commit other than the
    /// last failure's. Callers that know better (the analyzer's state) may set it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed_at: Option<String>,
    /// When that success was observed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<DateTime<Utc>>,
    /// The semantic layer merged these clusters (their IDs, sorted) into this one; the ID
    /// stays one of theirs (`docs/semantic.md`). Empty for a deterministic cluster.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_from: Vec<String>,
    /// A model-written summary (the semantic layer), shown as such wherever it appears.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<crate::semantic::summary::ModelSummary>,
}

/// Redacts a captured text before it goes anywhere. The one call site of the redactor for
/// this module, the exporter and the guidance block.
pub fn redacted(text: &str) -> String {
    codex_contract::redact::redact(text).into_owned()
}

/// The error text of a call: stderr when captured separately and non-empty, else output.
pub fn error_text(c: &Call) -> &str {
    match &c.stderr {
        Some(e) if !e.text.trim().is_empty() => &e.text,
        _ => c.output.as_ref().map_or("", |e| e.text.as_str()),
    }
}

/// Whether a tool call is an apply_patch-style edit, whose "command" is a patch body.
pub fn is_patch(tool: &str, input: &str) -> bool {
    tool == "apply_patch" || input.trim_start().starts_with("*** Begin Patch")
}

/// A redacted text as a template: the first two non-empty lines through the canonical
/// [`signature::template_line`] (ANSI escapes, timestamps and runner prefixes cleaned; URLs,
/// dates, IPs, hashes, hosts, durations, paths, quoted values and numbers masked), joined like
/// a command signature's, cut to [`TEMPLATE_MAX`] bytes.
fn template(text: &str) -> String {
    let t = text
        .lines()
        .filter(|l| !signature::clean_line(l).is_empty())
        .take(2)
        .map(signature::template_line)
        .collect::<Vec<_>>()
        .join(" ⏎ ");
    shorten_plain(&t, TEMPLATE_MAX)
}

/// Cuts a one-line text to `max` bytes on a char boundary, marking the cut with `…`.
fn shorten_plain(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// The command template of a call: what "the same command" means for clusters and retry
/// loops. Patches normalize to `apply_patch` (their bodies always differ); other inputs are
/// redacted, then templated exactly like a command signature (`signature::command_signature`
/// gives the same template for the same input).
pub fn normalize_command(tool: &str, input: &str) -> String {
    if is_patch(tool, input) {
        return "apply_patch".to_string();
    }
    template(&redacted(input))
}

/// The error template of a failure's output: the first line that looks like an error (or the
/// last non-empty line), redacted and templated by `signature.rs`. Command output is not a CI
/// log, so the line is picked with the wider [`ERROR_WORDS`] list; the masking is the same.
pub fn normalize_error(text: &str) -> String {
    template(&redacted(error_line(text)))
}

/// Words that mark a line as the error worth keying on.
const ERROR_WORDS: &[&str] = &[
    "error",
    "fail",
    "fatal",
    "panic",
    "exception",
    "cannot",
    "can't",
    "could not",
    "not found",
    "no such",
    "denied",
    "refused",
    "timed out",
    "rejected",
    "blocked",
    "invalid",
    "unable",
    "missing",
];

/// The first error-looking line (first errors are usually causes, later ones consequences),
/// else the last non-empty line.
fn error_line(text: &str) -> &str {
    let mut last = "";
    for line in text.lines() {
        let l = line.trim();
        if l.is_empty() {
            continue;
        }
        let lower = l.to_ascii_lowercase();
        if ERROR_WORDS.iter().any(|w| lower.contains(w)) {
            return l;
        }
        last = l;
    }
    last
}

/// The cluster ID of a key.
pub fn cluster_id(tool: &str, command: &str, error_type: &str, error: &str) -> String {
    let mut h = Sha256::new();
    h.update(format!("{CLUSTER_ALGORITHM}\n{tool}\n{command}\n{error_type}\n{error}").as_bytes());
    let digest = h.finalize();
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("{ID_PREFIX}{hex}")
}

fn tool_of(c: &Call) -> &str {
    c.tool.as_deref().unwrap_or("unknown")
}

type Key = (String, String, String, String);

/// The deterministic order of calls: start time, session, call ID.
fn order(c: &Call) -> (DateTime<Utc>, Option<&str>, &str) {
    (c.first_ts, c.session_id.as_deref(), c.call_id.as_str())
}

/// The cluster key of a failing call: `(tool, command template, error type, error template)`.
fn key_of(c: &Call) -> Key {
    let tool = tool_of(c).to_string();
    let command = normalize_command(&tool, c.input.as_deref().unwrap_or(""));
    let error_type = c.error_type.clone().unwrap_or_else(|| "unknown".into());
    let error = normalize_error(error_text(c));
    (tool, command, error_type, error)
}

/// The ID of the cluster a failing call belongs to (what [`cluster`] files it under).
pub fn cluster_id_of(c: &Call) -> String {
    let (tool, command, error_type, error) = key_of(c);
    cluster_id(&tool, &command, &error_type, &error)
}

/// Groups the failing calls among `calls` into ranked clusters. `calls` is every call in the
/// window (successes are needed for the working alternative and the fix detection).
pub fn cluster(calls: &[Call], opts: &ClusterOptions) -> Vec<Cluster> {
    let mut sorted: Vec<&Call> = calls.iter().collect();
    sorted.sort_by(|a, b| order(a).cmp(&order(b)));

    let mut groups: BTreeMap<Key, Vec<&Call>> = BTreeMap::new();
    for c in sorted.iter().filter(|c| c.status.is_failure()) {
        groups.entry(key_of(c)).or_default().push(c);
    }

    let index = Index::new(&sorted);
    let mut out: Vec<Cluster> = groups
        .into_iter()
        .map(|(key, occ)| build(key, &occ, &index, opts))
        .collect();
    rank(&mut out);
    out
}

/// Lookups that keep clustering linear in the log: per-session call lists and the
/// successful calls by command template, each template computed once per distinct input.
struct Index<'a> {
    /// Calls per session, in [`order`].
    sessions: HashMap<Option<&'a str>, Vec<&'a Call>>,
    /// The command template of each successful call's `(tool, input)`, for tools that failed.
    templates: HashMap<(&'a str, &'a str), String>,
    /// Successful calls at a known commit by `(tool, command template)`, in [`order`].
    successes: HashMap<(&'a str, String), Vec<&'a Call>>,
}

impl<'a> Index<'a> {
    fn new(sorted: &[&'a Call]) -> Index<'a> {
        let failing_tools: HashSet<&str> = sorted
            .iter()
            .filter(|c| c.status.is_failure())
            .map(|c| tool_of(c))
            .collect();
        let mut ix = Index {
            sessions: HashMap::new(),
            templates: HashMap::new(),
            successes: HashMap::new(),
        };
        for &c in sorted {
            ix.sessions
                .entry(c.session_id.as_deref())
                .or_default()
                .push(c);
            let tool = tool_of(c);
            let (Status::Ok, Some(input)) = (c.status, c.input.as_deref()) else {
                continue;
            };
            if !failing_tools.contains(tool) {
                continue;
            }
            let template = ix
                .templates
                .entry((tool, input))
                .or_insert_with(|| normalize_command(tool, input));
            if c.git_head.is_some() {
                ix.successes
                    .entry((tool, template.clone()))
                    .or_default()
                    .push(c);
            }
        }
        ix
    }

    /// The calls of `c`'s session after `c`.
    fn after_in_session(&self, c: &'a Call) -> &[&'a Call] {
        let list = self
            .sessions
            .get(&c.session_id.as_deref())
            .map_or(&[][..], Vec::as_slice);
        &list[list.partition_point(|x| order(x) <= order(c))..]
    }
}

/// Sorts clusters by impact, then count, then ID.
pub fn rank(clusters: &mut [Cluster]) {
    clusters.sort_by(|a, b| {
        b.impact
            .total_cmp(&a.impact)
            .then(b.count.cmp(&a.count))
            .then(a.id.cmp(&b.id))
    });
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// The impact formula (see the module documentation).
pub fn impact(
    count: u32,
    severity: f64,
    sessions: u32,
    last_seen: DateTime<Utc>,
    opts: &ClusterOptions,
) -> f64 {
    let age_hours = ((opts.now - last_seen).num_milliseconds().max(0) as f64) / 3_600_000.0;
    let decay = if opts.half_life_hours > 0.0 {
        0.5f64.powf(age_hours / opts.half_life_hours)
    } else {
        1.0
    };
    round4(f64::from(count) * severity * f64::from(sessions.max(1)) * decay)
}

fn build<'a>(key: Key, occ: &[&'a Call], index: &Index<'a>, opts: &ClusterOptions) -> Cluster {
    let (tool, command_template, error_type, error_template) = key;
    let id = cluster_id(&tool, &command_template, &error_type, &error_template);
    let first = occ[0];
    let last = occ[occ.len() - 1];
    let sessions: BTreeSet<Option<&str>> = occ.iter().map(|c| c.session_id.as_deref()).collect();
    let count = occ.len() as u32;
    let sessions = sessions.len() as u32;
    let sev = severity(&error_type);
    let impact = impact(count, sev, sessions, last.first_ts, opts);
    let (fixed_at, resolved_at) = fix_after(last, &tool, &command_template, index);
    Cluster {
        id,
        algorithm: CLUSTER_ALGORITHM.to_string(),
        working_alternative: alternative(occ, &tool, &command_template, index),
        samples: samples(occ, opts.max_samples),
        tool,
        command_template,
        error_type,
        error_template,
        severity: sev,
        count,
        sessions,
        first_seen: first.first_ts,
        last_seen: last.first_ts,
        impact,
        last_status: last.status,
        first_git_head: first.git_head.clone(),
        last_git_head: last.git_head.clone(),
        last_command: last.input.as_deref().map(redacted),
        last_cwd: last.cwd.clone(),
        fixed_at,
        resolved_at,
        merged_from: Vec::new(),
        summary: None,
    }
}

/// Up to `max` samples, newest first, skipping occurrences whose command and error repeat
/// one already picked (three copies of one error teach nothing); returned oldest first.
fn samples(occ: &[&Call], max: usize) -> Vec<Sample> {
    let mut picked: Vec<usize> = Vec::new();
    let mut seen: BTreeSet<(Option<&str>, &str)> = BTreeSet::new();
    for (i, c) in occ.iter().enumerate().rev() {
        if picked.len() == max {
            break;
        }
        if seen.insert((c.input.as_deref(), error_text(c))) {
            picked.push(i);
        }
    }
    picked.sort_unstable();
    picked
        .into_iter()
        .map(|i| {
            let c = occ[i];
            Sample {
                session_id: c.session_id.clone(),
                call_id: c.call_id.clone(),
                ts: c.first_ts,
                command: c
                    .input
                    .as_deref()
                    .map(|s| shorten(&redacted(s), SAMPLE_COMMAND_MAX)),
                error: shorten(&redacted(error_text(c)), SAMPLE_ERROR_MAX),
                exit_code: c.exit_code,
                git_head: c.git_head.clone(),
            }
        })
        .collect()
}

/// The next successful call of the same tool in the same session after the cluster's last
/// failure there, trying the sessions from the most recently affected one back. The same
/// command succeeding later is a resolution (see `fix_after`), not an alternative, so calls
/// with the cluster's own command template are passed over.
fn alternative<'a>(
    occ: &[&'a Call],
    tool: &str,
    command_template: &str,
    index: &Index<'a>,
) -> Option<Alternative> {
    // The last occurrence per session, newest session first.
    let mut last_per_session: BTreeMap<Option<&str>, &'a Call> = BTreeMap::new();
    for c in occ {
        last_per_session.insert(c.session_id.as_deref(), c);
    }
    let mut lasts: Vec<&'a Call> = last_per_session.into_values().collect();
    lasts.sort_by(|a, b| order(b).cmp(&order(a)));
    lasts.into_iter().find_map(|failure| {
        index.after_in_session(failure).iter().find_map(|c| {
            if c.status != Status::Ok || tool_of(c) != tool {
                return None;
            }
            let cmd = c.input.as_deref()?;
            if index.templates.get(&(tool, cmd)).map(String::as_str) == Some(command_template) {
                return None;
            }
            Some(Alternative {
                tool: tool.to_string(),
                command: shorten(&redacted(cmd), SAMPLE_COMMAND_MAX),
                session_id: c.session_id.clone(),
                ts: c.first_ts,
            })
        })
    })
}

/// The commit after which the friction resolved (see [`Cluster::fixed_at`]).
fn fix_after(
    last: &Call,
    tool: &str,
    command_template: &str,
    index: &Index,
) -> (Option<String>, Option<DateTime<Utc>>) {
    let Some(failed_at) = last.git_head.as_deref() else {
        return (None, None);
    };
    let Some(list) = index.successes.get(&(tool, command_template.to_string())) else {
        return (None, None);
    };
    // A success at the failure's own commit means an uncommitted fix; the first success at
    // another commit is the first one the history can show.
    list[list.partition_point(|c| order(c) <= order(last))..]
        .iter()
        .find(|c| c.git_head.as_deref() != Some(failed_at))
        .map_or((None, None), |c| (c.git_head.clone(), Some(c.first_ts)))
}

/// The run-log section: the top `top` clusters as a markdown table.
pub fn render_markdown(clusters: &[Cluster], top: usize) -> String {
    use crate::guidance::code_span;
    let mut s = String::from("## Top friction clusters\n\n");
    if clusters.is_empty() {
        s.push_str("No failing tool calls in the window.\n");
        return s;
    }
    s.push_str(&format!(
        "{} clusters; impact = count × severity × sessions × 0.5^(age h / {} h).\n\n",
        clusters.len(),
        DEFAULT_HALF_LIFE_HOURS
    ));
    s.push_str(
        "| # | cluster | tool | command | error | count | sessions | last seen | impact |\n",
    );
    s.push_str("|---|---|---|---|---|---:|---:|---|---:|\n");
    for (i, c) in clusters.iter().take(top).enumerate() {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {:.2} |\n",
            i + 1,
            code_span(&c.id),
            code_span(&c.tool),
            table_cell(&code_span(&shorten_plain(&c.command_template, 80))),
            table_cell(&c.error_type),
            c.count,
            c.sessions,
            c.last_seen.format("%Y-%m-%d %H:%M"),
            c.impact
        ));
    }
    if clusters.len() > top {
        s.push_str(&format!("\n… and {} more.\n", clusters.len() - top));
    }
    s
}

/// Escapes the characters that break a markdown table cell.
pub(crate) fn table_cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_hide_what_varies() {
        assert_eq!(
            normalize_error("thread 'main' panicked at src/main.rs:12:5: index 3 out of range"),
            "thread 'main' panicked at <path>:<num>:<num>: index <num> out of range"
        );
        assert_eq!(
            normalize_error(
                "ok\nerror: cannot open /tmp/.tmpAb12x/file: deadbeef1234 missing\nmore"
            ),
            "error: cannot open <path>: <hex> missing"
        );
        assert_eq!(
            normalize_command("Bash", "  cargo   test\n  --  --test-threads 4 "),
            "cargo test ⏎ -- --test-threads <num>"
        );
        assert_eq!(
            normalize_command("apply_patch", "*** Begin Patch\n*** Update File: a.rs"),
            "apply_patch"
        );
        assert_eq!(normalize_error(""), "");
        assert_eq!(normalize_error("\nfirst\nlast line\n"), "last line");
    }

    #[test]
    fn one_normalizer_for_clusters_and_signatures() {
        for input in [
            "cat /tmp/build-0a7/out.txt",
            "/opt/tools-1/bin/cargo-nextest run --workspace",
            "cargo test -p demo test_12\n  --nocapture",
            "curl https://api.example.com/v1/items?id=42 -H 'x: 1'",
        ] {
            assert_eq!(
                normalize_command("Bash", input),
                signature::command_signature("Bash", input).template,
                "{input}"
            );
        }
        let line = "2026-03-01T10:00:01Z error: /home/runner/work/r/r/src/a.rs:3 took 12ms";
        assert_eq!(normalize_error(line), signature::template_line(line));
    }

    #[test]
    fn long_templates_are_cut_on_char_boundaries() {
        let t = normalize_command("Bash", &"é".repeat(500));
        assert!(t.len() <= TEMPLATE_MAX && t.ends_with('…'));
    }

    #[test]
    fn impact_decays_by_half_life() {
        let now = DateTime::parse_from_rfc3339("2026-01-02T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let opts = ClusterOptions::at(now);
        let fresh = impact(4, 2.0, 2, now, &opts);
        let day_old = impact(4, 2.0, 2, now - chrono::Duration::hours(24), &opts);
        assert_eq!(fresh, 16.0);
        assert_eq!(day_old, 8.0);
        // A last occurrence after `now` does not inflate the score.
        assert_eq!(
            impact(4, 2.0, 2, now + chrono::Duration::hours(5), &opts),
            16.0
        );
    }
}
