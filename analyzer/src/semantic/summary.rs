//! Model-written cluster summaries for tickets and the rolling issue: what goes wrong, the
//! evidence, the suggested fix. The model sees only the cluster's redacted templates,
//! samples and working alternative; its answer is validated, redacted again, and always
//! shown under a "model-written" mark with the model's name, never as the analyzer's own
//! finding.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::cluster::{redacted, Cluster};

/// A cluster summary written by a model.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ModelSummary {
    /// The model that wrote it.
    pub model: String,
    pub what_goes_wrong: String,
    pub evidence: String,
    pub suggested_fix: String,
}

pub const SCHEMA_NAME: &str = "cluster_summary";

const FIELDS: [&str; 3] = ["what_goes_wrong", "evidence", "suggested_fix"];
const MAX_CHARS: usize = 400;

pub fn schema() -> Value {
    let field =
        json!({"type": "string", "description": "one or two sentences, at most 400 characters"});
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": FIELDS,
        "properties": {
            "what_goes_wrong": field,
            "evidence": field,
            "suggested_fix": field,
        }
    })
}

pub const SYSTEM_PROMPT: &str = "You summarize one recurring failure of coding agents in a \
repository for the maintainers' issue tracker. From the failure cluster given, say what goes \
wrong, the evidence (cite the error), and the most likely fix to the repository or its agent \
instructions (AGENTS.md). Be concrete and brief; do not invent facts not in the cluster. \
Answer with JSON only.";

/// The user message for a cluster: only stable, redacted facts (no counts, so the same
/// failure asks the same question on every run and the cache answers it).
pub fn prompt(c: &Cluster) -> String {
    let mut s = format!(
        "tool: {}\ncommand template: {}\nerror type: {}\nerror template: {}\n",
        c.tool, c.command_template, c.error_type, c.error_template
    );
    for (i, sm) in c.samples.iter().enumerate() {
        let _ = writeln!(
            s,
            "sample {}: command: {} | error: {}",
            i + 1,
            crate::finding::sample(sm.command.as_deref().unwrap_or(""), 200),
            crate::finding::sample(&sm.error, 300)
        );
    }
    if let Some(a) = &c.working_alternative {
        let _ = writeln!(
            s,
            "what worked instead in the same session: {}",
            crate::finding::sample(&a.command, 200)
        );
    }
    redacted(&s)
}

/// Checks an answer; the summary or why not.
pub fn validate(model: &str, content: &str) -> Result<ModelSummary, String> {
    let v: Value =
        serde_json::from_str(content).map_err(|e| format!("the answer is not JSON: {e}"))?;
    let obj = v.as_object().ok_or("the answer is not a JSON object")?;
    if let Some(k) = obj.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(format!("unexpected field `{k}`"));
    }
    let mut vals = Vec::new();
    for f in FIELDS {
        let t = obj
            .get(f)
            .and_then(Value::as_str)
            .ok_or(format!("`{f}` must be a string"))?
            .trim();
        if t.is_empty() {
            return Err(format!("`{f}` is empty"));
        }
        if t.chars().count() > MAX_CHARS {
            return Err(format!("`{f}` is longer than {MAX_CHARS} characters"));
        }
        vals.push(redacted(&t.replace(['\r', '\n'], " ")));
    }
    Ok(ModelSummary {
        model: model.to_string(),
        what_goes_wrong: vals[0].clone(),
        evidence: vals[1].clone(),
        suggested_fix: vals[2].clone(),
    })
}

/// Markdown for the summaries and merges of `clusters` (empty when they have none): what a
/// ticket, the rolling issue and the bot PR print under their cluster table.
pub fn render_notes(clusters: &[&Cluster]) -> String {
    let mut s = String::new();
    for c in clusters {
        if c.merged_from.len() > 1 {
            let ids: Vec<String> = c.merged_from.iter().map(|i| format!("`{i}`")).collect();
            let _ = writeln!(
                s,
                "- `{}` merges {} (same cause, different wording; embedding similarity).",
                c.id,
                ids.join(", ")
            );
        }
    }
    let with: Vec<(&Cluster, &ModelSummary)> = clusters
        .iter()
        .filter_map(|c| c.summary.as_ref().map(|m| (*c, m)))
        .collect();
    if !with.is_empty() {
        if !s.is_empty() {
            s.push('\n');
        }
        let models: std::collections::BTreeSet<&str> =
            with.iter().map(|(_, m)| m.model.as_str()).collect();
        let models: Vec<&str> = models.into_iter().collect();
        let _ = writeln!(
            s,
            "**Model-written summaries** (by `{}`, from redacted evidence; not checked by a person):\n",
            models.join("`, `")
        );
        for (c, m) in with {
            let _ = writeln!(
                s,
                "- `{}` — *What goes wrong:* {} *Evidence:* {} *Suggested fix:* {}",
                c.id,
                md_line(&m.what_goes_wrong),
                md_line(&m.evidence),
                md_line(&m.suggested_fix)
            );
        }
    }
    s
}

/// Model text as inline Markdown that cannot open blocks, mention people or break tables.
fn md_line(s: &str) -> String {
    s.replace('|', "\\|")
        .replace('@', "@\u{200b}")
        .replace('<', "&lt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation() {
        let ok = r#"{"what_goes_wrong":"cargo missing","evidence":"exit 127","suggested_fix":"install rust"}"#;
        assert_eq!(validate("m", ok).unwrap().suggested_fix, "install rust");
        assert!(validate(
            "m",
            r#"{"what_goes_wrong":"","evidence":"x","suggested_fix":"y"}"#
        )
        .is_err());
        assert!(validate("m", r#"{"what_goes_wrong":"a","evidence":"x"}"#).is_err());
        assert!(validate("m", "```json").is_err());
    }
}
