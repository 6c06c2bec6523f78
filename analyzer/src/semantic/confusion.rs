//! Semantic friction per session: did the agent misread the task, repeat a failed approach
//! or contradict itself; was the user frustrated or correcting it without a listed phrase;
//! and the cause in one line.
//!
//! What the model sees is a *trajectory*, not a conversation: prompts are never stored
//! (the shim keeps only the feedback verdict), so each session becomes a numbered list of
//! its calls (tool, status, exit code, the command's first line, the error's first line)
//! and its user-side events (a prompt's feedback verdict, aborted turns, interrupts), every
//! text through the contract's redactor and cut short. Sessions with friction (a failing
//! call, an abort, negative feedback) are asked about, most friction first.
//!
//! The answer must follow [`schema`]; [`validate`] then checks what a schema cannot: the
//! cause is one short line, confusion names at least one kind and cites calls that exist in
//! the transcript. An answer that fails is retried once with the reason, then dropped.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use codex_contract::fold::Call;
use codex_contract::record::{Feedback, Record};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::cluster::{error_text, redacted};

/// The confusion kinds the model may name.
pub const KINDS: [&str; 3] = [
    "misread_task",
    "repeated_failed_approach",
    "contradicted_itself",
];

/// Transcript bounds: the last lines and bytes of a session are what the model sees.
const MAX_LINES: usize = 60;
const MAX_BYTES: usize = 6000;
const FIELD_CHARS: usize = 160;

/// One session as the model sees it.
#[derive(Clone, Debug)]
pub struct Transcript {
    pub session_id: String,
    /// Failing calls, aborts and negative feedback: the order sessions are asked in.
    pub friction: u32,
    /// `c<n>` → call ID, for mapping the model's evidence back.
    pub calls: BTreeMap<String, String>,
    pub text: String,
}

/// What the model said about a session, after validation.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct SessionJudgement {
    pub session_id: String,
    pub confused: bool,
    /// From [`KINDS`].
    pub confusion_kinds: Vec<String>,
    pub user_frustrated: bool,
    /// One line, model-written; empty when neither confused nor frustrated.
    pub cause: String,
    /// The call IDs the model cited.
    pub evidence_call_ids: Vec<String>,
}

impl SessionJudgement {
    /// A semantic friction signal (confusion or frustration) was found.
    pub fn is_friction(&self) -> bool {
        self.confused || self.user_frustrated
    }
}

fn cut(text: &str) -> String {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    crate::finding::sample(&redacted(line), FIELD_CHARS)
}

/// The transcripts of the sessions with friction, most friction first (then by ID).
pub fn transcripts(calls: &[Call], events: &[Record]) -> Vec<Transcript> {
    enum Item<'a> {
        Call(&'a Call),
        Event(&'a Record),
    }
    let mut by_session: BTreeMap<&str, Vec<(String, Item)>> = BTreeMap::new();
    for c in calls {
        if let Some(s) = c.session_id.as_deref() {
            let ts = codex_contract::record::format_ts(c.first_ts);
            by_session.entry(s).or_default().push((ts, Item::Call(c)));
        }
    }
    for e in events {
        if let Some(s) = e.session_id.as_deref() {
            by_session
                .entry(s)
                .or_default()
                .push((e.ts.clone(), Item::Event(e)));
        }
    }
    let mut out = Vec::new();
    for (session, mut items) in by_session {
        items.sort_by(|a, b| a.0.cmp(&b.0));
        let mut friction = 0u32;
        let mut lines = Vec::new();
        let mut ids = BTreeMap::new();
        let mut n = 0;
        for (_, item) in &items {
            match item {
                Item::Call(c) => {
                    n += 1;
                    let id = format!("c{n}");
                    ids.insert(id.clone(), c.call_id.clone());
                    let mut l = format!(
                        "{id} {} {}",
                        c.tool.as_deref().unwrap_or("tool"),
                        c.status.as_str()
                    );
                    if let Some(code) = c.exit_code {
                        let _ = write!(l, " exit={code}");
                    }
                    let _ = write!(l, ": {}", cut(c.input.as_deref().unwrap_or("")));
                    if c.status.is_failure() {
                        friction += 1;
                        let _ = write!(l, "\n   error: {}", cut(error_text(c)));
                    }
                    lines.push(l);
                }
                Item::Event(e) => {
                    let event = e.event.as_deref().unwrap_or("");
                    let line = match (event, e.feedback) {
                        ("user_prompt", Some(Feedback::Negative)) => {
                            friction += 1;
                            "user prompt (the user's words matched a correction phrase)"
                        }
                        ("user_prompt", Some(Feedback::Positive)) => {
                            "user prompt (the user's words matched a praise phrase)"
                        }
                        ("user_prompt", None) => "user prompt",
                        ("turn_aborted" | "interrupt", _) => {
                            friction += 1;
                            "the user interrupted the turn"
                        }
                        _ => continue,
                    };
                    lines.push(format!("-- {line}"));
                }
            }
        }
        if friction == 0 {
            continue;
        }
        let skip = lines.len().saturating_sub(MAX_LINES);
        let mut text = String::new();
        if skip > 0 {
            let _ = writeln!(text, "({skip} earlier lines left out)");
        }
        let mut kept: Vec<&String> = Vec::new();
        let mut bytes = 0;
        for l in lines[skip..].iter().rev() {
            bytes += l.len() + 1;
            if bytes > MAX_BYTES {
                break;
            }
            kept.push(l);
        }
        for l in kept.into_iter().rev() {
            text.push_str(l);
            text.push('\n');
        }
        out.push(Transcript {
            session_id: session.to_string(),
            friction,
            calls: ids,
            text,
        });
    }
    out.sort_by(|a, b| {
        b.friction
            .cmp(&a.friction)
            .then(a.session_id.cmp(&b.session_id))
    });
    out
}

pub const SCHEMA_NAME: &str = "session_friction";

/// The answer's JSON schema (strict structured output: every field required, nothing else).
pub fn schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["confused", "confusion_kinds", "user_frustrated", "cause", "evidence"],
        "properties": {
            "confused": {"type": "boolean"},
            "confusion_kinds": {"type": "array", "items": {"type": "string", "enum": KINDS}},
            "user_frustrated": {"type": "boolean"},
            "cause": {"type": "string", "description": "one line, at most 200 characters; empty when neither"},
            "evidence": {"type": "array", "items": {"type": "string", "description": "call labels such as c3"}}
        }
    })
}

pub const SYSTEM_PROMPT: &str = "You review one coding-agent session from its tool-call \
trajectory. Lines `cN` are tool calls (tool, status, exit code, command; failing calls show \
their error); lines `--` are user-side events. Prompts are not available. Decide: \
confused = the agent misread the task (misread_task), repeated an approach that had already \
failed (repeated_failed_approach) or contradicted itself (contradicted_itself); \
user_frustrated = the user corrected or interrupted the agent or showed frustration. Give \
the cause in one line (at most 200 characters) and cite the call labels that show it. \
Failures alone are not confusion: an agent that tries something else after a failure is \
working normally. Answer with JSON only.";

/// The user message for a transcript.
pub fn prompt(t: &Transcript) -> String {
    format!("Session trajectory:\n{}", t.text)
}

/// Checks an answer against the schema and the transcript; the judgement or why not.
pub fn validate(t: &Transcript, content: &str) -> Result<SessionJudgement, String> {
    let v: Value =
        serde_json::from_str(content).map_err(|e| format!("the answer is not JSON: {e}"))?;
    let obj = v.as_object().ok_or("the answer is not a JSON object")?;
    let allowed = [
        "confused",
        "confusion_kinds",
        "user_frustrated",
        "cause",
        "evidence",
    ];
    if let Some(k) = obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(format!("unexpected field `{k}`"));
    }
    let flag = |k: &str| {
        obj.get(k)
            .and_then(Value::as_bool)
            .ok_or(format!("`{k}` must be a boolean"))
    };
    let strings = |k: &str| -> Result<Vec<String>, String> {
        obj.get(k)
            .and_then(Value::as_array)
            .ok_or(format!("`{k}` must be an array"))?
            .iter()
            .map(|x| {
                x.as_str()
                    .map(str::to_string)
                    .ok_or(format!("`{k}` must hold strings"))
            })
            .collect()
    };
    let confused = flag("confused")?;
    let user_frustrated = flag("user_frustrated")?;
    let mut kinds = strings("confusion_kinds")?;
    let evidence = strings("evidence")?;
    let cause = obj
        .get("cause")
        .and_then(Value::as_str)
        .ok_or("`cause` must be a string")?
        .trim()
        .to_string();
    if let Some(k) = kinds.iter().find(|k| !KINDS.contains(&k.as_str())) {
        return Err(format!("unknown confusion kind `{k}`"));
    }
    kinds.sort();
    kinds.dedup();
    if confused && kinds.is_empty() {
        return Err("`confused` is true but `confusion_kinds` is empty".into());
    }
    if !confused && !kinds.is_empty() {
        return Err("`confusion_kinds` given while `confused` is false".into());
    }
    if (confused || user_frustrated) && cause.is_empty() {
        return Err("`cause` is empty".into());
    }
    if cause.contains('\n') || cause.chars().count() > 200 {
        return Err("`cause` must be one line of at most 200 characters".into());
    }
    let mut ids = Vec::new();
    for e in &evidence {
        match t.calls.get(e.trim()) {
            Some(id) => ids.push(id.clone()),
            None => return Err(format!("evidence `{e}` is not a call label of the session")),
        }
    }
    if confused && ids.is_empty() {
        return Err("`confused` is true but no call is cited as evidence".into());
    }
    ids.sort();
    ids.dedup();
    Ok(SessionJudgement {
        session_id: t.session_id.clone(),
        confused,
        confusion_kinds: kinds,
        user_frustrated,
        cause: redacted(&cause),
        evidence_call_ids: ids,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t() -> Transcript {
        Transcript {
            session_id: "s1".into(),
            friction: 2,
            calls: [("c1".to_string(), "call-1".to_string())].into(),
            text: String::new(),
        }
    }

    #[test]
    fn validation_rejects_what_the_schema_cannot() {
        let ok = r#"{"confused":true,"confusion_kinds":["repeated_failed_approach"],"user_frustrated":false,"cause":"retried cargo","evidence":["c1"]}"#;
        let j = validate(&t(), ok).unwrap();
        assert_eq!(j.evidence_call_ids, ["call-1"]);
        for bad in [
            "not json",
            r#"{"confused":true,"confusion_kinds":[],"user_frustrated":false,"cause":"x","evidence":["c1"]}"#,
            r#"{"confused":true,"confusion_kinds":["guessing"],"user_frustrated":false,"cause":"x","evidence":["c1"]}"#,
            r#"{"confused":true,"confusion_kinds":["misread_task"],"user_frustrated":false,"cause":"x","evidence":["c9"]}"#,
            r#"{"confused":false,"confusion_kinds":[],"user_frustrated":true,"cause":"","evidence":[]}"#,
            r#"{"confused":false,"confusion_kinds":[],"user_frustrated":false,"cause":"","evidence":[],"extra":1}"#,
        ] {
            assert!(validate(&t(), bad).is_err(), "{bad}");
        }
    }
}
