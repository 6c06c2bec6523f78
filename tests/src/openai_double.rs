//! A local, stateful double of an OpenAI-compatible API (`/v1/chat/completions`,
//! `/v1/embeddings`), for driving the analyzer's semantic layer without the network.
//!
//! Faithfulness: request checks and answer shapes follow OpenAI's documented API — a chat
//! request needs `model` and `messages`, a `response_format` of type `json_schema` carries
//! `json_schema.name` and `json_schema.schema`; the answer is a `chat.completion` whose
//! `choices[0].message.content` is the JSON text, with `usage`; embeddings answer
//! `{"object":"list","data":[{"object":"embedding","index":i,"embedding":[..]}],"usage":..}`;
//! errors are `{"error":{"message","type","code"}}` with 400/429/5xx and `retry-after`.
//!
//! The "model" is scripted, not smart: a session whose trajectory fails the same command
//! twice or more is *confused* (`repeated_failed_approach`, citing those calls); a session
//! with a correction or an interrupt has a *frustrated* user; a cluster summary restates the
//! templates. Embeddings are bags of words hashed into 64 dimensions (shell noise such as
//! `bash`, `line`, numbers dropped), so rewordings of one error are close and different
//! errors are far — enough to test merging without a real model.
//!
//! Faults: [`OpenAiDouble::script_chat`] / [`OpenAiDouble::script_embeddings`] queue answers
//! for the next requests of that kind (a fixed content, a status with `retry-after`, a
//! delay); every request is recorded with its body for assertions.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::{json, Value};

use crate::listener::Listener;

/// A scripted answer for the next matching request.
#[derive(Clone, Debug)]
pub enum Scripted {
    /// Answer 200 with this text as `choices[0].message.content` (chat only).
    Content(String),
    /// Answer this status with an OpenAI error body and, when given, `retry-after`.
    Status { code: u16, retry_after: Option<u64> },
    /// Sleep, then answer normally.
    Delay(Duration),
}

/// One request as received.
#[derive(Clone, Debug)]
pub struct Received {
    pub path: String,
    pub authorization: Option<String>,
    pub body: String,
}

#[derive(Default)]
struct State {
    received: Vec<Received>,
    chat: VecDeque<Scripted>,
    embeddings: VecDeque<Scripted>,
}

pub struct OpenAiDouble {
    url: String,
    state: Arc<Mutex<State>>,
    /// Dropped with the double, which stops it.
    _listener: Listener,
}

impl OpenAiDouble {
    pub fn start() -> OpenAiDouble {
        let listener = Listener::bind("OpenAI");
        let state = Arc::new(Mutex::new(State::default()));
        let url = format!("http://127.0.0.1:{}/v1", listener.port());
        let served = Arc::clone(&state);
        OpenAiDouble {
            url,
            state,
            _listener: listener.serve(move |request| serve(&served, request)),
        }
    }

    /// The API base, what `OPENAI_BASE_URL` would hold (ends in `/v1`).
    pub fn url(&self) -> &str {
        &self.url
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn script_chat(&self, answers: impl IntoIterator<Item = Scripted>) {
        self.lock().chat.extend(answers);
    }

    pub fn script_embeddings(&self, answers: impl IntoIterator<Item = Scripted>) {
        self.lock().embeddings.extend(answers);
    }

    /// Every request so far, in arrival order.
    pub fn received(&self) -> Vec<Received> {
        self.lock().received.clone()
    }

    /// The bodies of the embeddings requests, in arrival order.
    pub fn embedding_requests(&self) -> Vec<Value> {
        self.received()
            .iter()
            .filter(|r| r.path.ends_with("/embeddings"))
            .map(|r| serde_json::from_str(&r.body).expect("an embeddings request is JSON"))
            .collect()
    }

    /// Chat requests whose `response_format` schema is `name`.
    pub fn chats_for(&self, name: &str) -> Vec<Value> {
        self.received()
            .iter()
            .filter(|r| r.path.ends_with("/chat/completions"))
            .filter_map(|r| serde_json::from_str::<Value>(&r.body).ok())
            .filter(|v| v.pointer("/response_format/json_schema/name") == Some(&json!(name)))
            .collect()
    }
}

fn error(code: u16, message: &str) -> (u16, Value, Option<u64>) {
    let kind = match code {
        429 => "rate_limit_exceeded",
        400 => "invalid_request_error",
        _ => "server_error",
    };
    (
        code,
        json!({"error": {"message": message, "type": kind, "param": null, "code": kind}}),
        None,
    )
}

fn serve(state: &Mutex<State>, mut request: tiny_http::Request) {
    let path = request.url().split('?').next().unwrap_or("").to_string();
    let mut body = String::new();
    let _ = request.as_reader().read_to_string(&mut body);
    let authorization = request
        .headers()
        .iter()
        .find(|h| h.field.equiv("Authorization"))
        .map(|h| h.value.as_str().to_string());
    let chat = path == "/v1/chat/completions";
    let scripted = {
        let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
        s.received.push(Received {
            path: path.clone(),
            authorization,
            body: body.clone(),
        });
        if chat {
            s.chat.pop_front()
        } else {
            s.embeddings.pop_front()
        }
    };
    let (status, answer, retry_after) = match scripted {
        Some(Scripted::Status { code, retry_after }) => {
            let (c, b, _) = error(code, "scripted failure");
            (c, b, retry_after)
        }
        Some(Scripted::Delay(d)) => {
            std::thread::sleep(d);
            answer(&path, &body, None)
        }
        Some(Scripted::Content(c)) => answer(&path, &body, Some(c)),
        None => answer(&path, &body, None),
    };
    let mut response =
        tiny_http::Response::from_string(answer.to_string()).with_status_code(status);
    response.add_header(
        tiny_http::Header::from_bytes("content-type", "application/json").expect("header"),
    );
    if let Some(s) = retry_after {
        response.add_header(
            tiny_http::Header::from_bytes("retry-after", s.to_string()).expect("header"),
        );
    }
    let _ = request.respond(response);
}

fn answer(path: &str, body: &str, content: Option<String>) -> (u16, Value, Option<u64>) {
    let Ok(req) = serde_json::from_str::<Value>(body) else {
        return error(400, "We could not parse the JSON body of your request.");
    };
    let Some(model) = req.get("model").and_then(Value::as_str) else {
        return error(400, "you must provide a model parameter");
    };
    match path {
        "/v1/chat/completions" => {
            let Some(messages) = req.get("messages").and_then(Value::as_array) else {
                return error(400, "Missing required parameter: 'messages'.");
            };
            let rf = req.get("response_format");
            if rf.and_then(|r| r.get("type")) != Some(&json!("json_schema"))
                || rf.and_then(|r| r.pointer("/json_schema/schema")).is_none()
            {
                return error(400, "response_format must be a json_schema with a schema");
            }
            let name = rf
                .and_then(|r| r.pointer("/json_schema/name"))
                .and_then(Value::as_str)
                .unwrap_or("");
            let user = messages
                .iter()
                .filter(|m| m.get("role") == Some(&json!("user")))
                .filter_map(|m| m.get("content").and_then(Value::as_str))
                .next()
                .unwrap_or("");
            let text = content.unwrap_or_else(|| match name {
                "session_friction" => judge(user).to_string(),
                "cluster_summary" => summarize(user).to_string(),
                _ => "{}".into(),
            });
            let prompt_tokens = body.len() / 4;
            let completion_tokens = text.len() / 4 + 1;
            (
                200,
                json!({
                    "id": "chatcmpl-double",
                    "object": "chat.completion",
                    "created": 1_767_225_600,
                    "model": model,
                    "choices": [{
                        "index": 0,
                        "message": {"role": "assistant", "content": text, "refusal": null},
                        "finish_reason": "stop"
                    }],
                    "usage": {
                        "prompt_tokens": prompt_tokens,
                        "completion_tokens": completion_tokens,
                        "total_tokens": prompt_tokens + completion_tokens
                    }
                }),
                None,
            )
        }
        "/v1/embeddings" => {
            let inputs: Vec<String> = match req.get("input") {
                Some(Value::String(s)) => vec![s.clone()],
                Some(Value::Array(a)) if a.iter().all(Value::is_string) => a
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect(),
                _ => return error(400, "'input' must be a string or an array of strings"),
            };
            let data: Vec<Value> = inputs
                .iter()
                .enumerate()
                .map(|(i, t)| json!({"object": "embedding", "index": i, "embedding": embed(t)}))
                .collect();
            let tokens: usize = inputs.iter().map(|t| t.len() / 4 + 1).sum();
            (
                200,
                json!({
                    "object": "list",
                    "data": data,
                    "model": model,
                    "usage": {"prompt_tokens": tokens, "total_tokens": tokens}
                }),
                None,
            )
        }
        _ => error(404, "Invalid URL"),
    }
}

/// Words that say nothing about a failure's cause (shell framing, masks).
const NOISE: [&str; 10] = [
    "bash", "sh", "line", "n", "tool", "command", "error", "type", "exec", "zsh",
];

/// A bag of words hashed into 64 dimensions, normalized.
pub fn embed(text: &str) -> Vec<f32> {
    let mut v = vec![0f32; 64];
    for w in text
        .to_lowercase()
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty() && !NOISE.contains(w) && !w.chars().all(|c| c.is_ascii_digit()))
    {
        let h = w.bytes().fold(1469598103934665603u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(1099511628211)
        });
        v[(h % 64) as usize] += 1.0;
    }
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n > 0.0 {
        v.iter_mut().for_each(|x| *x /= n);
    }
    v
}

/// The scripted confusion judgement of a trajectory (module docs).
fn judge(user: &str) -> Value {
    let mut failed: Vec<(String, String)> = Vec::new();
    let mut frustrated = false;
    for line in user.lines() {
        if line.starts_with("-- ") && (line.contains("correction") || line.contains("interrupted"))
        {
            frustrated = true;
        }
        let Some((head, cmd)) = line.split_once(": ") else {
            continue;
        };
        let mut parts = head.split_whitespace();
        let (Some(label), _, Some(status)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        if label.starts_with('c') && status != "ok" {
            failed.push((label.to_string(), cmd.to_string()));
        }
    }
    let mut repeated: Vec<String> = Vec::new();
    let mut cause = String::new();
    for (label, cmd) in &failed {
        if failed.iter().filter(|(_, c)| c == cmd).count() >= 2 {
            repeated.push(label.clone());
            if cause.is_empty() {
                cause = format!("the agent kept running `{cmd}` after it failed");
            }
        }
    }
    let confused = !repeated.is_empty();
    if !confused && frustrated {
        cause = "the user had to correct or stop the agent".into();
    }
    json!({
        "confused": confused,
        "confusion_kinds": if confused { vec!["repeated_failed_approach"] } else { vec![] },
        "user_frustrated": frustrated,
        "cause": cause,
        "evidence": repeated,
    })
}

fn summarize(user: &str) -> Value {
    let field = |name: &str| {
        user.lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or("")
            .trim()
            .to_string()
    };
    json!({
        "what_goes_wrong": format!("`{}` fails with {}", field("command template:"), field("error type:")),
        "evidence": format!("The error reads `{}`.", field("error template:")),
        "suggested_fix": "Install the missing tool in the agent environment or document the working alternative in AGENTS.md.",
    })
}
