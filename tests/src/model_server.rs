//! A scripted stand-in for the model API, so the real Codex CLI can run offline.
//!
//! Codex POSTs the whole conversation to `<base_url>/responses` every turn and expects a
//! Server-Sent-Events stream back. The server answers with step N of a fixed script, where N
//! is the number of tool outputs (`function_call_output` / `custom_tool_call_output`) the
//! conversation has carried: each tool call the model makes adds exactly one output, so the
//! count says how far the session has got, whatever Codex did in between (hook blocks, failed
//! patches and rejections all still produce an output item). The count is kept across
//! requests (distinct call ids seen so far) because a compaction replaces the history with a
//! summary and the outputs vanish from later requests.
//!
//! Compaction requests (Codex asks the model for a "CONTEXT CHECKPOINT COMPACTION" summary
//! when the reported token usage passes `model_auto_compact_token_limit`) are answered with
//! a fixed summary message and do not advance the script.
//!
//! Sessions with subagents get one script per conversation ([`ModelServer::start_threads`]),
//! told apart by the thread id Codex puts in each request's `client_metadata`.
//!
//! Every request is recorded so tests can assert what the model was shown (e.g. the text a
//! blocked call returned). The server binds 127.0.0.1 on a random port, serves from one
//! background thread, and stops when dropped or after [`MAX_REQUESTS`] requests, so a
//! confused Codex cannot loop forever against it.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::{json, Value};

/// Upper bound on requests served per server; a session script is a handful of steps.
pub const MAX_REQUESTS: usize = 200;

/// The `yield_time_ms` of [`Step::Shell`] calls.
pub const SHELL_YIELD_MS: u64 = 10_000;

/// The summary the server returns for a compaction request.
pub const COMPACTION_SUMMARY: &str = "Summary: a scripted test session; continue the script.";

/// How Codex 0.169.0 words the request for a compaction summary (the last input message).
const COMPACTION_PROMPT_MARKER: &str = "CONTEXT CHECKPOINT COMPACTION";

/// One model turn of the script.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Call the shell tool (`exec_command`) with this command line.
    Shell(String),
    /// Call the freeform `apply_patch` tool with this patch text (`*** Begin Patch` ...).
    Patch(String),
    /// Call any function tool with these JSON arguments (e.g. `exec_command` asking for
    /// sandbox escalation, which is what makes Codex request approval).
    Call { name: String, arguments: Value },
    /// Call a function tool declared inside a tool namespace (e.g. `spawn_agent` in
    /// `collaboration`, with the `multi_agent_v2` feature).
    NamespacedCall {
        namespace: String,
        name: String,
        arguments: Value,
    },
    /// Answer with a final assistant message, ending the turn.
    Final(String),
}

impl Step {
    pub fn shell(cmd: impl Into<String>) -> Step {
        Step::Shell(cmd.into())
    }

    pub fn patch(patch: impl Into<String>) -> Step {
        Step::Patch(patch.into())
    }

    pub fn final_message(text: impl Into<String>) -> Step {
        Step::Final(text.into())
    }

    /// The Responses-API output item for step `n` of conversation `thread`; ids and call ids
    /// are unique per (thread, step).
    fn item(&self, thread: usize, n: usize) -> Value {
        let suffix = id_suffix(thread, n);
        let call_id = thread_call_id(thread, n);
        match self {
            Step::Shell(cmd) => json!({
                "type": "function_call",
                "id": format!("fc_{suffix}"),
                "status": "completed",
                "name": "exec_command",
                // Codex waits up to yield_time_ms for the command to exit before reporting
                // it as still running; generous, since it returns as soon as it exits.
                "arguments": json!({"cmd": cmd, "yield_time_ms": SHELL_YIELD_MS}).to_string(),
                "call_id": call_id,
            }),
            Step::Call { name, arguments } => json!({
                "type": "function_call",
                "id": format!("fc_{suffix}"),
                "status": "completed",
                "name": name,
                "arguments": arguments.to_string(),
                "call_id": call_id,
            }),
            Step::NamespacedCall {
                namespace,
                name,
                arguments,
            } => json!({
                "type": "function_call",
                "id": format!("fc_{suffix}"),
                "status": "completed",
                "namespace": namespace,
                "name": name,
                "arguments": arguments.to_string(),
                "call_id": call_id,
            }),
            Step::Patch(patch) => json!({
                "type": "custom_tool_call",
                "id": format!("ctc_{suffix}"),
                "status": "completed",
                "name": "apply_patch",
                "input": patch,
                "call_id": call_id,
            }),
            Step::Final(text) => json!({
                "type": "message",
                "id": format!("msg_{suffix}"),
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": text, "annotations": []}],
            }),
        }
    }
}

/// The call id the server gives the tool call of script step `n` of the first conversation
/// (Codex echoes it back as `call_id` in outputs, rollout items and hook `tool_use_id`).
pub fn call_id(n: usize) -> String {
    thread_call_id(0, n)
}

/// The call id of step `n` of conversation `thread` (see [`ModelServer::start_threads`]):
/// `call_N` for the first conversation, `call_tT_N` for the others.
pub fn thread_call_id(thread: usize, n: usize) -> String {
    format!("call_{}", id_suffix(thread, n))
}

fn id_suffix(thread: usize, n: usize) -> String {
    if thread == 0 {
        n.to_string()
    } else {
        format!("t{thread}_{n}")
    }
}

/// One HTTP request Codex made to the server.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    pub url: String,
    /// The parsed JSON body (`Value::Null` when the body was not JSON).
    pub body: Value,
    /// The conversation (index into the scripts, by order of first request) of a
    /// `/responses` request.
    pub thread: Option<usize>,
    /// The script step answered, if this was a `/responses` request for the next step.
    pub step: Option<usize>,
    /// Whether this was a compaction request (answered with [`COMPACTION_SUMMARY`]).
    pub compaction: bool,
}

impl RecordedRequest {
    /// The tool outputs the model was shown in this request, as `(call_id, output text)`.
    pub fn tool_outputs(&self) -> Vec<(String, String)> {
        input_items(&self.body)
            .filter(|item| is_tool_output(item))
            .map(|item| {
                let id = item["call_id"].as_str().unwrap_or_default().to_string();
                (id, output_text(&item["output"]))
            })
            .collect()
    }
}

/// A running scripted model server. Dropping it stops the server thread.
pub struct ModelServer {
    port: u16,
    requests: Arc<Mutex<Vec<RecordedRequest>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl ModelServer {
    /// Start serving `script` on 127.0.0.1 at a random free port.
    pub fn start(script: Vec<Step>) -> ModelServer {
        ModelServer::start_threads(vec![script])
    }

    /// Serve one script per conversation: Codex names each thread in the request's
    /// `client_metadata.thread_id` (else `prompt_cache_key`), and the N-th thread to make a request (the session first, then
    /// e.g. a spawned subagent) follows `scripts[N]`, with its own step count. Threads
    /// beyond the scripts get a final message.
    pub fn start_threads(scripts: Vec<Vec<Step>>) -> ModelServer {
        let server = tiny_http::Server::http("127.0.0.1:0")
            .unwrap_or_else(|e| panic!("scripted model server: cannot bind 127.0.0.1: {e}"));
        let port = server
            .server_addr()
            .to_ip()
            .expect("scripted model server listens on TCP")
            .port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let requests = Arc::clone(&requests);
            let stop = Arc::clone(&stop);
            std::thread::Builder::new()
                .name("scripted-model".into())
                .spawn(move || serve(server, scripts, requests, stop))
                .expect("spawn scripted model server thread")
        };
        ModelServer {
            port,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The `base_url` to configure in Codex's model provider.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }

    /// All requests received so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.requests.lock().expect("request log lock").clone()
    }

    /// Every tool output the model was shown during the session, as `(call_id, output)` in
    /// the order the model first saw them (collected over all requests, since a compaction
    /// drops earlier outputs from later requests).
    pub fn tool_outputs(&self) -> Vec<(String, String)> {
        let mut seen = HashSet::new();
        self.requests()
            .iter()
            .filter(|r| r.step.is_some())
            .flat_map(RecordedRequest::tool_outputs)
            .filter(|(id, _)| seen.insert(id.clone()))
            .collect()
    }
}

impl Drop for ModelServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(
    server: tiny_http::Server,
    scripts: Vec<Vec<Step>>,
    requests: Arc<Mutex<Vec<RecordedRequest>>>,
    stop: Arc<AtomicBool>,
) {
    let mut served = 0;
    // Per conversation, in order of first request: its key and the call ids whose outputs
    // it has carried.
    let mut threads: Vec<(String, HashSet<String>)> = Vec::new();
    while !stop.load(Ordering::SeqCst) && served < MAX_REQUESTS {
        let mut request = match server.recv_timeout(Duration::from_millis(50)) {
            Ok(Some(request)) => request,
            Ok(None) => continue,
            Err(_) => break,
        };
        served += 1;
        // tiny_http's reader honours Content-Length (and chunked bodies), so this reads the
        // whole ~40 KB body, not just the first packet.
        let mut raw = Vec::new();
        let _ = request.as_reader().read_to_end(&mut raw);
        let body: Value = serde_json::from_slice(&raw).unwrap_or(Value::Null);
        let method = request.method().to_string();
        let url = request.url().to_string();

        let is_responses = method == "POST" && url.trim_end_matches('/').ends_with("/responses");
        let mut recorded = RecordedRequest {
            method,
            url,
            body,
            thread: None,
            step: None,
            compaction: false,
        };
        let response = if is_responses {
            // Subagents share the session's prompt_cache_key; client_metadata names the
            // thread itself.
            let body = &recorded.body;
            let key = body["client_metadata"]["thread_id"]
                .as_str()
                .or_else(|| body["prompt_cache_key"].as_str())
                .unwrap_or_default()
                .to_string();
            let thread = match threads.iter().position(|(k, _)| *k == key) {
                Some(t) => t,
                None => {
                    threads.push((key, HashSet::new()));
                    threads.len() - 1
                }
            };
            // Outputs shown only in a compaction request count too: afterwards the history
            // is a summary and they are gone.
            let seen = &mut threads[thread].1;
            seen.extend(
                input_items(&recorded.body)
                    .filter(|i| is_tool_output(i))
                    .filter_map(|i| i["call_id"].as_str().map(str::to_string)),
            );
            recorded.thread = Some(thread);
            if is_compaction_request(&recorded.body) {
                recorded.compaction = true;
                // Ids clear of the script's (`msg_N`, `resp_N` for step N).
                let n = 1000 + served;
                sse_response(
                    thread,
                    n,
                    Step::final_message(COMPACTION_SUMMARY).item(thread, n),
                )
            } else {
                let n = seen.len();
                recorded.step = Some(n);
                // Past the end of the script, end the turn rather than repeat a tool call.
                let item = match scripts.get(thread).and_then(|s| s.get(n)) {
                    Some(step) => step.item(thread, n),
                    None => Step::final_message("script exhausted").item(thread, n),
                };
                sse_response(thread, n, item)
            }
        } else {
            tiny_http::Response::from_string("not found").with_status_code(404)
        };
        requests.lock().expect("request log lock").push(recorded);
        let _ = request.respond(response);
    }
}

/// The four SSE events Codex needs for one output item: created, item added, item done,
/// completed (with usage, which Codex requires to close the turn's accounting).
fn sse_response(
    thread: usize,
    n: usize,
    item: Value,
) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    let id = format!("resp_{}", id_suffix(thread, n));
    let events = [
        json!({"type": "response.created", "response": {"id": id, "status": "in_progress"}}),
        json!({"type": "response.output_item.added", "output_index": 0, "item": item}),
        json!({"type": "response.output_item.done", "output_index": 0, "item": item}),
        json!({"type": "response.completed", "response": {
            "id": id, "status": "completed", "output": [item],
            "usage": {
                "input_tokens": 10, "input_tokens_details": {"cached_tokens": 0},
                "output_tokens": 5, "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": 15
            }
        }}),
    ];
    let mut body = String::new();
    for event in &events {
        body.push_str(&format!(
            "event: {}\ndata: {event}\n\n",
            event["type"].as_str().unwrap()
        ));
    }
    let content_type =
        tiny_http::Header::from_bytes(&b"Content-Type"[..], &b"text/event-stream"[..])
            .expect("static header is valid");
    tiny_http::Response::from_string(body).with_header(content_type)
}

/// A compaction request ends with a user message asking for the checkpoint summary.
fn is_compaction_request(body: &Value) -> bool {
    input_items(body).last().is_some_and(|item| {
        item["type"] == "message"
            && item["role"] == "user"
            && item["content"].as_array().into_iter().flatten().any(|c| {
                c["text"]
                    .as_str()
                    .is_some_and(|t| t.contains(COMPACTION_PROMPT_MARKER))
            })
    })
}

fn input_items(body: &Value) -> impl Iterator<Item = &Value> {
    body["input"].as_array().into_iter().flatten()
}

fn is_tool_output(item: &Value) -> bool {
    matches!(
        item["type"].as_str(),
        Some("function_call_output" | "custom_tool_call_output")
    )
}

/// Tool output text: a plain string, or content parts whose `text` fields are joined.
fn output_text(output: &Value) -> String {
    match output {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p["text"].as_str())
            .collect::<Vec<_>>()
            .join(""),
        Value::Object(o) => o
            .get("content")
            .map(output_text)
            .unwrap_or_else(|| output.to_string()),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    /// POST `body` to the server's `/v1/responses` over plain HTTP/1.1 and return the reply.
    fn post(server: &ModelServer, path: &str, body: &Value) -> String {
        let body = body.to_string();
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", server.port())).unwrap();
        write!(
            stream,
            "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut reply = String::new();
        stream.read_to_string(&mut reply).unwrap();
        reply
    }

    fn output(call_id: &str) -> Value {
        json!({"type": "function_call_output", "call_id": call_id, "output": "ok"})
    }

    #[test]
    fn steps_follow_outputs_and_survive_compaction() {
        let server = ModelServer::start(vec![
            Step::shell("echo hi"),
            Step::patch("*** Begin Patch\n*** End Patch\n"),
            Step::final_message("bye"),
        ]);
        let first = post(&server, "/v1/responses", &json!({"input": []}));
        assert!(first.contains("Content-Type: text/event-stream"), "{first}");
        let events: Vec<&str> = first
            .lines()
            .filter_map(|l| l.strip_prefix("event: "))
            .collect();
        assert_eq!(
            events,
            [
                "response.created",
                "response.output_item.added",
                "response.output_item.done",
                "response.completed"
            ]
        );
        assert!(first.contains(r#""name":"exec_command""#) && first.contains("call_0"));
        assert!(first.contains(r#"\"cmd\":\"echo hi\""#), "{first}");

        let second = post(
            &server,
            "/v1/responses",
            &json!({"input": [output("call_0")]}),
        );
        assert!(second.contains(r#""type":"custom_tool_call""#) && second.contains("call_1"));

        // A compaction request gets the summary and does not advance the script...
        let compaction = json!({"input": [output("call_0"), output("call_1"), {
            "type": "message", "role": "user",
            "content": [{"type": "input_text", "text": "You are performing a CONTEXT CHECKPOINT COMPACTION."}]
        }]});
        let summary = post(&server, "/v1/responses", &compaction);
        assert!(summary.contains(COMPACTION_SUMMARY));
        // ...and after it the outputs are gone from the history, yet the count holds.
        let after = post(&server, "/v1/responses", &json!({"input": []}));
        assert!(after.contains(r#""text":"bye""#), "{after}");
        let past_end = post(
            &server,
            "/v1/responses",
            &json!({"input": [output("call_9")]}),
        );
        assert!(past_end.contains("script exhausted"));

        let other = post(&server, "/v1/models", &json!({}));
        assert!(other.starts_with("HTTP/1.1 404"), "{other}");

        let requests = server.requests();
        let steps: Vec<Option<usize>> = requests.iter().map(|r| r.step).collect();
        assert_eq!(steps, [Some(0), Some(1), None, Some(2), Some(3), None]);
        assert!(requests[2].compaction);
        assert_eq!(
            server.tool_outputs(),
            [
                ("call_0".to_string(), "ok".to_string()),
                ("call_9".to_string(), "ok".to_string())
            ]
        );
    }

    #[test]
    fn each_thread_follows_its_own_script() {
        let server = ModelServer::start_threads(vec![
            vec![Step::shell("parent"), Step::final_message("parent done")],
            vec![Step::shell("child"), Step::final_message("child done")],
        ]);
        let request = |thread: &str, input: Value| json!({"client_metadata": {"thread_id": thread}, "prompt_cache_key": "session", "input": input});
        assert!(post(&server, "/v1/responses", &request("a", json!([]))).contains("parent"));
        let child = post(&server, "/v1/responses", &request("b", json!([])));
        assert!(
            child.contains("child") && child.contains("call_t1_0"),
            "{child}"
        );
        let parent = post(
            &server,
            "/v1/responses",
            &request("a", json!([output("call_0")])),
        );
        assert!(parent.contains("parent done"));
        let threads: Vec<Option<usize>> = server.requests().iter().map(|r| r.thread).collect();
        assert_eq!(threads, [Some(0), Some(1), Some(0)]);
    }
}
