//! Folded tool calls as OpenTelemetry spans, encoded as OTLP/HTTP protobuf requests.
//!
//! The records are history with their own timestamps, so this crate builds the OTLP messages
//! directly (`opentelemetry-proto`'s generated types, `prost` encoding) instead of running
//! a live SDK pipeline. Sending, batching, retries and the resume cursor are the caller's.
//!
//! Shape of one export batch:
//! - the **trace** is the session: its ID is derived from the session ID, so every batch of
//!   a session lands in the same trace, whichever machine exports it;
//! - a root **session span** and one **turn span** per turn cover the calls of the batch
//!   (a session or turn split over two batches gets one segment span in each, with IDs
//!   derived from their first call, so no ID is ever sent twice);
//! - one **tool-call span** per call, named `execute_tool {tool}` as the GenAI semantic
//!   conventions name tool executions, a child of its turn span.
//!
//! Attributes follow the OpenTelemetry GenAI (`gen_ai.*`), process (`process.*`) and error
//! (`error.type`) conventions where they apply; every contract field is also present under
//! `codex.*`. Texts are redacted again here (defence in depth: any tool may write the log).

use std::collections::BTreeMap;

use codex_contract::fold::Call;
use codex_contract::record::Status;
use codex_contract::redact::redact;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{span::SpanKind, status::StatusCode};
use opentelemetry_proto::tonic::trace::v1::{
    ResourceSpans, ScopeSpans, Span, Status as SpanStatus,
};
use prost::Message;
use sha2::{Digest, Sha256};

/// The instrumentation scope name on every batch.
pub const SCOPE: &str = "codex-closed-loop";
/// Output and stderr excerpts are cut to this many bytes in attributes.
pub const MAX_TEXT: usize = 2048;
/// Tools whose input is a command line (`process.command_line`).
const SHELL_TOOLS: &[&str] = &["Bash", "exec", "exec_command", "shell", "local_shell"];

/// Who exported: resource attributes of every batch.
#[derive(Clone, Debug, Default)]
pub struct Origin {
    /// `service.name` (default `codex`).
    pub service_name: String,
    /// The repository (`vcs.repository.name`), e.g. `owner/name` or a folder name.
    pub repository: Option<String>,
    /// `host.name`, when known.
    pub host: Option<String>,
}

fn id_bytes<const N: usize>(parts: &[&str]) -> [u8; N] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    let d = h.finalize();
    let mut out = [0u8; N];
    out.copy_from_slice(&d[..N]);
    if out.iter().all(|b| *b == 0) {
        out[N - 1] = 1; // all-zero IDs are invalid in OTLP
    }
    out
}

/// The trace ID of a session (calls without one share the trace of the empty session).
pub fn trace_id(session: Option<&str>) -> [u8; 16] {
    id_bytes(&["codex/trace", session.unwrap_or("")])
}

/// The span ID of one call.
pub fn call_span_id(session: Option<&str>, call: &str) -> [u8; 8] {
    id_bytes(&["codex/call", session.unwrap_or(""), call])
}

/// The span ID of a session segment that starts with `first_call`.
pub fn session_span_id(session: Option<&str>, first_call: &str) -> [u8; 8] {
    id_bytes(&["codex/session", session.unwrap_or(""), first_call])
}

/// The span ID of a turn segment that starts with `first_call`.
pub fn turn_span_id(session: Option<&str>, turn: &str, first_call: &str) -> [u8; 8] {
    id_bytes(&["codex/turn", session.unwrap_or(""), turn, first_call])
}

fn kv(key: &str, value: any_value::Value) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: Some(AnyValue { value: Some(value) }),
        ..KeyValue::default()
    }
}

fn s(key: &str, v: impl Into<String>) -> KeyValue {
    kv(key, any_value::Value::StringValue(v.into()))
}

fn i(key: &str, v: i64) -> KeyValue {
    kv(key, any_value::Value::IntValue(v))
}

fn nanos(t: codex_contract::chrono::DateTime<codex_contract::chrono::Utc>) -> u64 {
    t.timestamp_nanos_opt().unwrap_or(0).max(0) as u64
}

/// When a call ended: start + duration when known, else its last observation.
fn call_end(c: &Call) -> u64 {
    let start = nanos(c.first_ts);
    match c.duration_ms {
        Some(ms) => start + ms * 1_000_000,
        None => nanos(c.last_ts).max(start),
    }
}

fn text(t: &str) -> String {
    codex_contract::record::shorten(&redact(t), MAX_TEXT)
}

/// The span of one call.
pub fn call_span(c: &Call, parent: [u8; 8]) -> Span {
    let session = c.session_id.as_deref();
    let tool = c.tool.as_deref().unwrap_or("unknown");
    let mut a = vec![
        s("gen_ai.operation.name", "execute_tool"),
        s("gen_ai.tool.name", tool),
        s("gen_ai.tool.call.id", c.call_id.as_str()),
        s("codex.call.status", c.status.as_str()),
        s(
            "codex.call.sources",
            c.sources
                .iter()
                .map(|s| match serde_json::to_value(s) {
                    Ok(serde_json::Value::String(s)) => s,
                    _ => String::new(),
                })
                .collect::<Vec<_>>()
                .join(","),
        ),
        i("codex.call.records", i64::from(c.records)),
    ];
    if let Some(sid) = session {
        a.push(s("gen_ai.conversation.id", sid));
    }
    if let Some(t) = &c.turn_id {
        a.push(s("codex.call.turn_id", t.as_str()));
    }
    if let Some(input) = &c.input {
        let input = redact(input).into_owned();
        if SHELL_TOOLS.contains(&tool) {
            a.push(s("process.command_line", input.clone()));
        }
        a.push(s("codex.call.input", input));
    }
    if let Some(code) = c.exit_code {
        a.push(i("process.exit.code", i64::from(code)));
    }
    if let Some(sig) = c.signal {
        a.push(i("codex.call.signal", i64::from(sig)));
    }
    if let Some(et) = &c.error_type {
        a.push(s("error.type", et.as_str()));
    }
    if let Some(ms) = c.duration_ms {
        a.push(i("codex.call.duration_ms", ms as i64));
    }
    if let Some(cwd) = &c.cwd {
        a.push(s("codex.call.cwd", redact(cwd).into_owned()));
    }
    if let Some(h) = &c.git_head {
        a.push(s("codex.call.git_head", h.as_str()));
    }
    if let Some(t) = c.truncated {
        a.push(kv("codex.call.truncated", any_value::Value::BoolValue(t)));
    }
    if let Some(o) = &c.output {
        a.push(s("codex.call.output", text(&o.text)));
        a.push(i("codex.call.output_len", o.len as i64));
    }
    if let Some(e) = &c.stderr {
        a.push(s("codex.call.stderr", text(&e.text)));
        a.push(i("codex.call.stderr_len", e.len as i64));
    }
    let status = match c.status {
        Status::Ok => SpanStatus {
            code: StatusCode::Ok as i32,
            message: String::new(),
        },
        st if st.is_failure() => SpanStatus {
            code: StatusCode::Error as i32,
            message: c.error_type.clone().unwrap_or_else(|| st.as_str().into()),
        },
        _ => SpanStatus::default(),
    };
    Span {
        trace_id: trace_id(session).to_vec(),
        span_id: call_span_id(session, &c.call_id).to_vec(),
        parent_span_id: parent.to_vec(),
        name: format!("execute_tool {tool}"),
        kind: SpanKind::Internal as i32,
        start_time_unix_nano: nanos(c.first_ts),
        end_time_unix_nano: call_end(c),
        attributes: a,
        status: Some(status),
        ..Span::default()
    }
}

/// A segment span covering `calls` (all of one session, or one turn).
fn segment(
    name: String,
    trace: [u8; 16],
    id: [u8; 8],
    parent: Option<[u8; 8]>,
    calls: &[&Call],
    attributes: Vec<KeyValue>,
) -> Span {
    let start = calls.iter().map(|c| nanos(c.first_ts)).min().unwrap_or(0);
    let end = calls.iter().map(|c| call_end(c)).max().unwrap_or(start);
    let failed = calls.iter().filter(|c| c.status.is_failure()).count();
    let mut attributes = attributes;
    attributes.push(i("codex.calls", calls.len() as i64));
    attributes.push(i("codex.failures", failed as i64));
    Span {
        trace_id: trace.to_vec(),
        span_id: id.to_vec(),
        parent_span_id: parent.map(|p| p.to_vec()).unwrap_or_default(),
        name,
        kind: SpanKind::Internal as i32,
        start_time_unix_nano: start,
        end_time_unix_nano: end,
        attributes,
        ..Span::default()
    }
}

/// Every span of one batch: session and turn segments, and one span per call.
pub fn spans(calls: &[Call]) -> Vec<Span> {
    // Session -> turn -> calls, each in first-observation order.
    let mut sessions: BTreeMap<Option<&str>, Vec<&Call>> = BTreeMap::new();
    for c in calls {
        sessions.entry(c.session_id.as_deref()).or_default().push(c);
    }
    let mut out = Vec::with_capacity(calls.len() + 2 * sessions.len());
    for (session, mut list) in sessions {
        list.sort_by(|a, b| (a.first_ts, &a.call_id).cmp(&(b.first_ts, &b.call_id)));
        let trace = trace_id(session);
        let sid = session_span_id(session, &list[0].call_id);
        let mut attrs = vec![s("gen_ai.operation.name", "invoke_agent")];
        if let Some(id) = session {
            attrs.push(s("gen_ai.conversation.id", id));
        }
        out.push(segment(
            "invoke_agent codex".into(),
            trace,
            sid,
            None,
            &list,
            attrs,
        ));
        let mut turns: Vec<(&str, Vec<&Call>)> = Vec::new();
        for c in &list {
            let t = c.turn_id.as_deref().unwrap_or("");
            match turns.iter_mut().find(|(k, _)| *k == t) {
                Some((_, v)) => v.push(c),
                None => turns.push((t, vec![c])),
            }
        }
        for (turn, tcalls) in turns {
            let tid = turn_span_id(session, turn, &tcalls[0].call_id);
            let mut attrs = vec![s("codex.turn_id", turn)];
            if let Some(id) = session {
                attrs.push(s("gen_ai.conversation.id", id));
            }
            out.push(segment(
                format!("turn {turn}"),
                trace,
                tid,
                Some(sid),
                &tcalls,
                attrs,
            ));
            out.extend(tcalls.iter().map(|c| call_span(c, tid)));
        }
    }
    out
}

/// One OTLP request for `calls`.
pub fn request(calls: &[Call], origin: &Origin) -> ExportTraceServiceRequest {
    let mut attributes = vec![s(
        "service.name",
        if origin.service_name.is_empty() {
            "codex"
        } else {
            &origin.service_name
        },
    )];
    if let Some(r) = &origin.repository {
        attributes.push(s("vcs.repository.name", r.as_str()));
    }
    if let Some(h) = &origin.host {
        attributes.push(s("host.name", h.as_str()));
    }
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes,
                ..Resource::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: SCOPE.into(),
                    version: env!("CARGO_PKG_VERSION").into(),
                    ..InstrumentationScope::default()
                }),
                spans: spans(calls),
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

/// The protobuf bytes of a request (`Content-Type: application/x-protobuf`).
pub fn encode(req: &ExportTraceServiceRequest) -> Vec<u8> {
    req.encode_to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use codex_contract::record::{parse_ts, Excerpt, Source};

    fn call(session: &str, id: &str, turn: &str, ts: &str, status: Status) -> Call {
        let t = parse_ts(ts).unwrap();
        Call {
            session_id: Some(session.into()),
            call_id: id.into(),
            turn_id: Some(turn.into()),
            tool: Some("Bash".into()),
            input: Some(
                "curl -H 'Authorization: Bearer ghp_abcdefghijklmnopqrstuvwxyz0123456789' x".into(),
            ),
            output: Some(Excerpt::new("boom", 100)),
            stderr: None,
            exit_code: Some(if status == Status::Ok { 0 } else { 2 }),
            signal: None,
            status,
            duration_ms: Some(1500),
            error_type: (status != Status::Ok).then(|| "network_error".into()),
            cwd: Some("/w".into()),
            git_head: None,
            truncated: None,
            first_ts: t,
            last_ts: t,
            sources: vec![Source::CodexHook, Source::Rollout],
            records: 2,
        }
    }

    #[test]
    fn calls_nest_under_turn_and_session_with_stable_ids() {
        let calls = vec![
            call("s1", "c1", "1", "2026-03-01T10:00:00Z", Status::Ok),
            call("s1", "c2", "1", "2026-03-01T10:00:05Z", Status::Failed),
            call("s1", "c3", "2", "2026-03-01T10:01:00Z", Status::Ok),
        ];
        let sp = spans(&calls);
        assert_eq!(sp.len(), 1 + 2 + 3);
        let root = &sp[0];
        assert!(root.parent_span_id.is_empty());
        assert_eq!(root.trace_id, trace_id(Some("s1")).to_vec());
        let turn1 = &sp[1];
        assert_eq!(turn1.parent_span_id, root.span_id);
        assert_eq!(
            (sp[2].parent_span_id.clone(), sp[3].parent_span_id.clone()),
            (turn1.span_id.clone(), turn1.span_id.clone())
        );
        assert_eq!(sp[2].name, "execute_tool Bash");
        assert_eq!(
            sp[2].end_time_unix_nano - sp[2].start_time_unix_nano,
            1_500_000_000
        );
        assert_eq!(
            sp[3].status.as_ref().unwrap().code,
            StatusCode::Error as i32
        );
        assert_eq!(turn1.start_time_unix_nano, sp[2].start_time_unix_nano);
        assert_eq!(turn1.end_time_unix_nano, sp[3].end_time_unix_nano);
        // Deterministic: the same calls give the same bytes.
        let o = Origin::default();
        assert_eq!(encode(&request(&calls, &o)), encode(&request(&calls, &o)));
        // No secret in the bytes.
        let bytes = encode(&request(&calls, &o));
        assert!(!String::from_utf8_lossy(&bytes).contains("ghp_abcdefghij"));
    }
}
