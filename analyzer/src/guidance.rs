//! Proposed guidance: one marked block in `AGENTS.md` (which Codex reads at the start of a
//! session) listing the top recurring frictions, their evidence and what worked instead.
//!
//! The contract with the file's owners: **nothing outside the block ever changes.** The block
//! runs from [`BEGIN`] to [`END`] inclusive; [`update_agents_md`] replaces exactly those bytes
//! (or appends a block when there is none) and leaves every other byte as it was. Running it
//! twice with the same clusters gives the same text (no clocks in the block).
//!
//! A friction is *recurring* when its cluster has at least [`MIN_COUNT`] failures. Every
//! captured text in the block has been redacted; an entry that still looks like a secret
//! after redaction is left out rather than published.

use std::fmt;

use codex_contract::redact::contains_secret;

use crate::cluster::{redacted, Cluster};

/// The first line of the block.
pub const BEGIN: &str = "<!-- codex-improvement:begin -->";
/// The last line of the block.
pub const END: &str = "<!-- codex-improvement:end -->";
/// The fewest failures for a cluster to be listed.
pub const MIN_COUNT: u32 = 2;
/// Commands and errors are cut to this many characters in the block.
const SHOW_MAX: usize = 160;

/// How to write the block.
#[derive(Clone, Debug)]
pub struct GuidanceOptions {
    /// At most this many frictions are listed.
    pub top: usize,
}

impl Default for GuidanceOptions {
    fn default() -> Self {
        GuidanceOptions { top: 5 }
    }
}

/// Why the block could not be updated: the markers in the file are damaged, and guessing
/// where the block ends could delete someone's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuidanceError {
    /// A begin marker with no end marker after it.
    UnclosedBlock,
    /// An end marker before any begin marker.
    StrayEnd,
    /// More than one block.
    SeveralBlocks,
}

impl fmt::Display for GuidanceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self {
            GuidanceError::UnclosedBlock => format!("`{BEGIN}` has no `{END}` after it"),
            GuidanceError::StrayEnd => format!("`{END}` comes before any `{BEGIN}`"),
            GuidanceError::SeveralBlocks => "there is more than one guidance block".to_string(),
        };
        write!(
            f,
            "AGENTS.md: {what}; fix the markers by hand (keep exactly one begin/end pair) and rerun"
        )
    }
}

impl std::error::Error for GuidanceError {}

/// Returns `existing` with the guidance block added or replaced. Without recurring friction
/// and without an existing block, `existing` comes back unchanged.
pub fn update_agents_md(
    existing: &str,
    clusters: &[Cluster],
    opts: &GuidanceOptions,
) -> Result<String, GuidanceError> {
    let span = find_block(existing)?;
    let entries = entries(clusters, opts.top);
    match span {
        Some((start, end)) => {
            let mut out = String::with_capacity(existing.len() + 512);
            out.push_str(&existing[..start]);
            out.push_str(&render_block(&entries));
            out.push_str(&existing[end..]);
            Ok(out)
        }
        None if entries.is_empty() => Ok(existing.to_string()),
        None => {
            let mut out = existing.to_string();
            if !out.is_empty() {
                if !out.ends_with('\n') {
                    out.push('\n');
                }
                out.push('\n');
            }
            out.push_str(&render_block(&entries));
            out.push('\n');
            Ok(out)
        }
    }
}

/// The byte range of the block, markers included.
fn find_block(text: &str) -> Result<Option<(usize, usize)>, GuidanceError> {
    let begins: Vec<usize> = text.match_indices(BEGIN).map(|(i, _)| i).collect();
    let ends: Vec<usize> = text.match_indices(END).map(|(i, _)| i).collect();
    match (begins.as_slice(), ends.as_slice()) {
        ([], []) => Ok(None),
        ([b], [e]) if e > b => Ok(Some((*b, e + END.len()))),
        ([_], []) => Err(GuidanceError::UnclosedBlock),
        ([], [_, ..]) => Err(GuidanceError::StrayEnd),
        ([b], [e]) if e < b => Err(GuidanceError::StrayEnd),
        _ => Err(GuidanceError::SeveralBlocks),
    }
}

struct Entry {
    command: String,
    error_type: String,
    count: u32,
    sessions: u32,
    last_seen: String,
    evidence: String,
    alternative: Option<String>,
}

fn entries(clusters: &[Cluster], top: usize) -> Vec<Entry> {
    let mut ranked: Vec<&Cluster> = clusters.iter().filter(|c| c.count >= MIN_COUNT).collect();
    // Callers pass ranked clusters; re-rank so the block never depends on their order.
    ranked.sort_by(|a, b| {
        b.impact
            .total_cmp(&a.impact)
            .then(b.count.cmp(&a.count))
            .then(a.id.cmp(&b.id))
    });
    ranked
        .into_iter()
        .filter_map(|c| {
            let command = one_line(&redacted(
                c.last_command.as_deref().unwrap_or(&c.command_template),
            ));
            let evidence = one_line(&redacted(&c.error_template));
            let alternative = c
                .working_alternative
                .as_ref()
                .map(|a| one_line(&redacted(&a.command)));
            let texts = [Some(&command), Some(&evidence), alternative.as_ref()];
            if texts.into_iter().flatten().any(|t| contains_secret(t)) {
                return None;
            }
            Some(Entry {
                command,
                error_type: c.error_type.clone(),
                count: c.count,
                sessions: c.sessions,
                last_seen: c.last_seen.format("%Y-%m-%d").to_string(),
                evidence,
                alternative,
            })
        })
        .take(top)
        .collect()
}

fn render_block(entries: &[Entry]) -> String {
    let mut s = String::new();
    s.push_str(BEGIN);
    s.push('\n');
    s.push_str("## Recurring friction for coding agents\n\n");
    s.push_str(
        "_Maintained by `codex-analyzer` from this repository's tool-call log. \
         Everything between the `codex-improvement` markers is rewritten on each run; \
         edit outside them._\n\n",
    );
    if entries.is_empty() {
        s.push_str("No recurring friction in the latest analysis window.\n");
    }
    for (i, e) in entries.iter().enumerate() {
        s.push_str(&format!(
            "{}. {} failed with `{}` {} in {} (last {}).\n",
            i + 1,
            code_span(&e.command),
            e.error_type,
            crate::args::plural(e.count, "time"),
            crate::args::plural(e.sessions, "session"),
            e.last_seen
        ));
        if !e.evidence.is_empty() {
            s.push_str(&format!("   - Error: {}\n", code_span(&e.evidence)));
        }
        match &e.alternative {
            Some(a) => s.push_str(&format!("   - What worked instead: {}\n", code_span(a))),
            None => s.push_str("   - No working alternative observed yet.\n"),
        }
    }
    s.push_str(END);
    s
}

/// The first line of a text, cut to [`SHOW_MAX`] characters, `…` marking any cut.
fn one_line(text: &str) -> String {
    let mut lines = text.trim().lines();
    let first = lines.next().unwrap_or("").trim_end();
    let more = lines.next().is_some();
    let mut out: String = first.chars().take(SHOW_MAX).collect();
    if more || first.chars().count() > SHOW_MAX {
        out.push('…');
    }
    out
}

/// A markdown code span that survives backticks in `text` (CommonMark: a fence longer than
/// any backtick run inside, padded when the text starts or ends with a backtick).
pub fn code_span(text: &str) -> String {
    let text = text.replace(['\n', '\r'], " ");
    let ticks = "`".repeat(longest_backtick_run(&text) + 1);
    if text.starts_with('`') || text.ends_with('`') {
        format!("{ticks} {text} {ticks}")
    } else {
        format!("{ticks}{text}{ticks}")
    }
}

/// A fenced code block that survives fences in `text`.
pub fn code_block(text: &str, lang: &str) -> String {
    let fence = "`".repeat((longest_backtick_run(text) + 1).max(3));
    let body = text.strip_suffix('\n').unwrap_or(text);
    format!("{fence}{lang}\n{body}\n{fence}\n")
}

fn longest_backtick_run(text: &str) -> usize {
    let mut best = 0;
    let mut run = 0;
    for c in text.chars() {
        if c == '`' {
            run += 1;
            best = best.max(run);
        } else {
            run = 0;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_and_blocks_survive_backticks() {
        assert_eq!(code_span("ls"), "`ls`");
        assert_eq!(code_span("echo `date`"), "`` echo `date` ``");
        assert_eq!(code_block("a\n```\nb\n", ""), "````\na\n```\nb\n````\n");
    }

    #[test]
    fn damaged_markers_are_refused() {
        let o = GuidanceOptions::default();
        for (text, err) in [
            (format!("x\n{BEGIN}\ny\n"), GuidanceError::UnclosedBlock),
            (format!("{END}\n{BEGIN}\n"), GuidanceError::StrayEnd),
            (
                format!("{BEGIN}\n{END}\n{BEGIN}\n{END}\n"),
                GuidanceError::SeveralBlocks,
            ),
        ] {
            assert_eq!(update_agents_md(&text, &[], &o), Err(err));
        }
    }
}
