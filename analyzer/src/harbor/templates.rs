//! The files of one exported task, as text. Pure functions of their inputs (no clock, no
//! file system), so an export is byte-for-byte reproducible.

use serde::Serialize;

use crate::cluster::Cluster;
use crate::guidance::{code_block, code_span};

/// Harbor's task.toml schema version the exporter writes.
pub const SCHEMA_VERSION: &str = "1.4";
/// The `[task] name` organisation of every exported task.
pub const TASK_ORG: &str = "codex-friction";
/// Default seconds the verifier may take (Harbor's default, written explicitly because
/// defaults changed between versions).
pub const VERIFIER_TIMEOUT_SEC: f64 = 600.0;
/// How long test.sh lets the command run, below the verifier's own limit.
pub const COMMAND_TIMEOUT_SEC: u32 = 540;
pub const AGENT_TIMEOUT_SEC: f64 = 1800.0;
pub const BUILD_TIMEOUT_SEC: f64 = 600.0;

/// task.toml.
#[derive(Serialize, Debug)]
pub struct TaskToml {
    pub schema_version: String,
    pub task: TaskSection,
    pub metadata: Metadata,
    pub verifier: Timeout,
    pub agent: Timeout,
    pub environment: Environment,
}

#[derive(Serialize, Debug)]
pub struct TaskSection {
    pub name: String,
    pub description: String,
    pub keywords: Vec<String>,
}

/// Provenance and the Terminal-Bench style keys, under `[metadata]`.
#[derive(Serialize, Debug)]
pub struct Metadata {
    pub difficulty: String,
    pub category: String,
    pub tags: Vec<String>,
    pub cluster_id: String,
    /// The deterministic clusters the semantic layer merged into this one (with
    /// `cluster_id` among them); empty when it stands alone.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub merged_from: Vec<String>,
    pub cluster_algorithm: String,
    /// The fingerprint the export was asked for (`--fingerprint`), else the cluster ID.
    pub fingerprint: String,
    pub tool: String,
    pub error_type: String,
    pub command_template: String,
    pub error_template: String,
    pub occurrences: u32,
    pub sessions: u32,
    pub first_seen: String,
    pub last_seen: String,
    pub impact: f64,
    /// The commit the environment is built from: where agents hit the friction.
    pub source_commit: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub working_alternative: Option<String>,
    /// The directory (relative to the repository root) the command ran in, when not the root.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workdir: Option<String>,
    pub exported_by: String,
    pub exported_at: String,
}

#[derive(Serialize, Debug)]
pub struct Timeout {
    pub timeout_sec: f64,
}

#[derive(Serialize, Debug)]
pub struct Environment {
    pub build_timeout_sec: f64,
    pub cpus: u32,
    pub memory_mb: u32,
    pub storage_mb: u32,
}

/// Everything the templates need about one task, already redacted.
pub struct TaskText<'a> {
    pub cluster: &'a Cluster,
    pub name: String,
    /// The failing command, redacted.
    pub command: String,
    pub workdir: Option<String>,
    pub source_commit: String,
    pub fixed_at: Option<String>,
    pub fingerprint: String,
    pub difficulty: &'static str,
    pub base_image: &'static str,
    pub exported_at: String,
    /// Evidence: (heading, command, error), redacted and bounded.
    pub evidence: Vec<(String, Option<String>, String)>,
    pub alternative: Option<String>,
}

pub fn task_toml(t: &TaskText) -> String {
    let c = t.cluster;
    let tags = vec![
        "codex-friction".to_string(),
        c.error_type.replace('_', "-"),
        slug_word(&c.tool),
    ];
    let doc = TaskToml {
        schema_version: SCHEMA_VERSION.into(),
        task: TaskSection {
            name: t.name.clone(),
            description: format!(
                "Make `{}` succeed: coding agents saw it fail ({}) {} in {}.",
                one_line(&t.command, 120),
                c.error_type,
                crate::args::plural(c.count, "time"),
                crate::args::plural(c.sessions, "session")
            ),
            keywords: tags.clone(),
        },
        metadata: Metadata {
            difficulty: t.difficulty.into(),
            category: "agent-friction".into(),
            tags,
            cluster_id: c.id.clone(),
            merged_from: c.merged_from.clone(),
            cluster_algorithm: c.algorithm.clone(),
            fingerprint: t.fingerprint.clone(),
            tool: c.tool.clone(),
            error_type: c.error_type.clone(),
            command_template: c.command_template.clone(),
            error_template: c.error_template.clone(),
            occurrences: c.count,
            sessions: c.sessions,
            first_seen: ts(&c.first_seen),
            last_seen: ts(&c.last_seen),
            impact: c.impact,
            source_commit: t.source_commit.clone(),
            fixed_at: t.fixed_at.clone(),
            working_alternative: t.alternative.clone(),
            workdir: t.workdir.clone(),
            exported_by: format!("codex-analyzer {}", env!("CARGO_PKG_VERSION")),
            exported_at: t.exported_at.clone(),
        },
        verifier: Timeout {
            timeout_sec: VERIFIER_TIMEOUT_SEC,
        },
        agent: Timeout {
            timeout_sec: AGENT_TIMEOUT_SEC,
        },
        environment: Environment {
            build_timeout_sec: BUILD_TIMEOUT_SEC,
            cpus: 1,
            memory_mb: 2048,
            storage_mb: 10240,
        },
    };
    let body = toml::to_string(&doc).expect("task.toml serializes");
    format!(
        "# Harbor task exported by codex-analyzer from a friction cluster of the tool-call log.\n\
         # Check with `harbor lint <this folder>`; run with `harbor run -p <this folder> -a oracle`.\n\n{body}"
    )
}

fn ts(t: &chrono::DateTime<chrono::Utc>) -> String {
    codex_contract::record::format_ts(*t)
}

/// Lower-case ASCII letters and digits joined by single dashes.
pub fn slug_word(text: &str) -> String {
    let mut s = String::new();
    for ch in text.chars() {
        if ch.is_ascii_alphanumeric() {
            s.push(ch.to_ascii_lowercase());
        } else if !s.ends_with('-') && !s.is_empty() {
            s.push('-');
        }
    }
    s.trim_end_matches('-').to_string()
}

fn one_line(text: &str, max: usize) -> String {
    let first = text.lines().next().unwrap_or("");
    let mut s: String = first.chars().take(max).collect();
    if first.chars().count() > max || text.lines().nth(1).is_some() {
        s.push('…');
    }
    s
}

pub fn instruction(t: &TaskText) -> String {
    let c = t.cluster;
    let place = match &t.workdir {
        Some(d) => format!("the {} directory of the repository", code_span(d)),
        None => "the repository root".to_string(),
    };
    let (first, last) = (
        c.first_seen.format("%Y-%m-%d").to_string(),
        c.last_seen.format("%Y-%m-%d").to_string(),
    );
    let when = if first == last {
        format!("on {first}")
    } else {
        format!("between {first} and {last}")
    };
    let mut s = format!(
        "# Make {} succeed\n\n\
         Coding agents working in this repository ran the command below and it failed \
         {} in {} {when} (error type: `{}`).\n\n{}\n",
        code_span(&one_line(&t.command, 80)),
        crate::args::plural(c.count, "time"),
        crate::args::plural(c.sessions, "session"),
        c.error_type,
        code_block(&t.command, "sh"),
    );
    s.push_str(&format!(
        "## Your task\n\n\
         Change the repository (it is checked out in the current directory) so that the \
         command above exits with status 0 when it is run from {place}. The check runs \
         exactly this command, so fix what it depends on rather than the command itself, and \
         do not weaken the check it performs.\n\n"
    ));
    s.push_str(
        "## How agents failed\n\nRedacted excerpts from the tool-call log, oldest first.\n\n",
    );
    for (heading, command, error) in &t.evidence {
        s.push_str(&format!("### {heading}\n\n"));
        let mut body = String::new();
        if let Some(cmd) = command {
            body.push_str("$ ");
            body.push_str(cmd);
            body.push('\n');
        }
        body.push_str(if error.is_empty() {
            "(no output captured)"
        } else {
            error
        });
        s.push_str(&code_block(&body, "console"));
        s.push('\n');
    }
    s
}

pub fn dockerfile(t: &TaskText) -> String {
    format!(
        "# The repository at {commit}, where coding agents hit this friction.\n\
         # Built only from the snapshot in repo/ (the commit's tracked files): no network is\n\
         # needed beyond pulling the base image.\n\
         FROM {base}\n\
         WORKDIR /app\n\
         COPY repo/ /app/\n",
        commit = t.source_commit,
        base = t.base_image
    )
}

/// Quotes a string for a POSIX shell: single quotes, with `'` as `'\''`.
pub fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

pub fn test_sh(t: &TaskText) -> String {
    let cd = match &t.workdir {
        Some(d) => format!("    cd -- {} || return 1\n", sh_quote(d)),
        None => String::new(),
    };
    format!(
        r#"#!/usr/bin/env bash
# Verifier for {name}, exported by codex-analyzer.
#
# Runs the command coding agents saw fail and writes exactly one reward file:
# 1 when the command now exits with status 0, else 0. Harbor reads
# /logs/verifier/reward.txt; set REWARD_DIR to write it elsewhere (the exporter's
# own tests do). The check runs inside `if` and never under `set -e`, so a failing
# command still writes its reward; Harbor ignores this script's exit status.
REWARD_DIR="${{REWARD_DIR:-/logs/verifier}}"
TIMEOUT_SEC="${{TIMEOUT_SEC:-{timeout}}}"
FRICTION_COMMAND={command}

check() {{
{cd}    if command -v timeout >/dev/null 2>&1; then
        timeout "$TIMEOUT_SEC" bash -c "$FRICTION_COMMAND" </dev/null
    else
        bash -c "$FRICTION_COMMAND" </dev/null
    fi
}}

mkdir -p "$REWARD_DIR"
rm -f "$REWARD_DIR/reward.json"
if (check); then
    echo 1 > "$REWARD_DIR/reward.txt"
else
    echo 0 > "$REWARD_DIR/reward.txt"
fi
"#,
        name = t.name,
        timeout = COMMAND_TIMEOUT_SEC,
        command = sh_quote(&t.command),
        cd = cd,
    )
}

/// solve.sh: deletes what the fix deleted, then copies the fix's versions of the changed
/// files from `files/` (only coreutils, so it works in any base image).
pub fn solve_sh(t: &TaskText, deleted: &[String], has_files: bool) -> String {
    let mut s = format!(
        r#"#!/usr/bin/env bash
# Oracle solution for {name}, exported by codex-analyzer.
# Applies the repository change from the commit where agents hit the friction
#   {from}
# to the commit after which the command succeeded
#   {to}
# Run it from the repository root (Harbor's WORKDIR, /app). fix.patch holds the
# same change as a `git apply`-able diff, for review.
set -eu
here="$(cd -- "$(dirname -- "${{BASH_SOURCE[0]}}")" && pwd)"
"#,
        name = t.name,
        from = t.source_commit,
        to = t.fixed_at.as_deref().unwrap_or("?"),
    );
    for p in deleted {
        s.push_str(&format!("rm -f -- {}\n", sh_quote(p)));
    }
    if has_files {
        s.push_str("cp -Rp -- \"$here/files/.\" .\n");
    }
    s
}
