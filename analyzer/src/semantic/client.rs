//! A small client for any OpenAI-compatible endpoint (OpenAI, Azure OpenAI's v1 API,
//! Ollama, vLLM, LM Studio): `POST {base}/chat/completions` with a JSON-schema
//! `response_format`, and `POST {base}/embeddings`.
//!
//! Why not `async-openai`: the layer needs two requests and reads four fields, and the
//! policy around each request (budget, secret check, 429/5xx handling, one "endpoint down"
//! switch) is the part that matters. The transport is the analyzer's one HTTP client
//! ([`crate::http_client`]), so the semantic layer adds no crates to the build.
//!
//! The policy:
//! - Every request body is checked with [`codex_contract::redact::contains_secret`] right
//!   before it is sent; a body that still looks secret is refused ([`ClientError::Secret`]).
//! - A per-run budget of requests and tokens ([`Budget`]): a request that would pass it is
//!   not sent ([`ClientError::Budget`]). Tokens are estimated before sending (4 bytes a
//!   token, plus the answer's `max_tokens`) and charged from the answer's `usage`.
//! - 429: waits `retry-after-ms` / `retry-after` (1 s when absent) while the total wait stays
//!   under [`Settings::wait_cap`]; 5xx and timeouts: retried with a doubling backoff. At most
//!   [`Settings::max_retries`] retries. Every attempt counts against the budget.
//! - A failure that says the endpoint is unusable (no connection, timeouts or 5xx after the
//!   retries, 401/403/404, a rate limit longer than the cap) marks the client *down*: every
//!   later call fails at once with the same reason, so a run with the endpoint down costs one
//!   timeout, not one per session.

use std::cell::{Cell, RefCell};
use std::time::Duration;

use serde::Serialize;
use serde_json::{json, Value};

use crate::http_client::SendError;

/// How the key is sent: `Authorization: Bearer` (OpenAI and most servers) or `api-key`
/// (Azure OpenAI keys).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Auth {
    Bearer,
    ApiKey,
}

/// Where and how to reach the endpoint.
#[derive(Clone)]
pub struct Settings {
    /// The API base, conventionally ending in `/v1` (`https://api.openai.com/v1`).
    pub base_url: String,
    /// `None` for local servers that need no key.
    pub api_key: Option<String>,
    pub auth: Auth,
    /// Overall deadline of one attempt, reading the body included.
    pub timeout: Duration,
    pub max_retries: u32,
    /// The longest total wait for 429s within one request.
    pub wait_cap: Duration,
    /// The first backoff after a 5xx or a timeout (doubled per retry).
    pub backoff: Duration,
}

impl std::fmt::Debug for Settings {
    // Hand-written so the key can never reach a log through `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<set>"))
            .field("auth", &self.auth)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// The per-run allowance and what was used of it.
#[derive(Serialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct Budget {
    pub max_requests: u32,
    pub max_tokens: u64,
    /// Attempts sent (retries included).
    pub requests: u32,
    /// Tokens charged: the answers' `usage.total_tokens`, else the estimate.
    pub tokens: u64,
}

impl Budget {
    pub fn new(max_requests: u32, max_tokens: u64) -> Budget {
        Budget {
            max_requests,
            max_tokens,
            ..Budget::default()
        }
    }

    /// Why a request estimated at `tokens` may not be sent, if it may not.
    fn refuses(&self, tokens: u64) -> Option<String> {
        if self.requests >= self.max_requests {
            Some(format!(
                "request budget spent ({} requests)",
                self.max_requests
            ))
        } else if self.tokens + tokens > self.max_tokens {
            Some(format!(
                "token budget spent ({} of {} tokens used, this request needs about {tokens})",
                self.tokens, self.max_tokens
            ))
        } else {
            None
        }
    }
}

/// Why a call did not produce an answer.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ClientError {
    /// Not sent: the budget would be exceeded.
    #[error("{0}")]
    Budget(String),
    /// Not sent: the body still looked like it held a secret after redaction.
    #[error("refused to send a request that still looks like it holds a secret")]
    Secret,
    /// The endpoint is unusable for the rest of the run.
    #[error("endpoint unavailable: {0}")]
    Down(String),
    /// The endpoint refused this one request (e.g. 400 for a too-long input).
    #[error("the endpoint answered {status}: {message}")]
    Rejected { status: u16, message: String },
    /// The answer did not have the documented shape.
    #[error("unexpected answer: {0}")]
    Decode(String),
}

/// A chat-completion answer.
#[derive(Clone, Debug)]
pub struct ChatAnswer {
    /// `choices[0].message.content`.
    pub content: String,
}

/// One message of a chat request.
#[derive(Serialize, Clone, Debug)]
pub struct Message {
    pub role: &'static str,
    pub content: String,
}

impl Message {
    pub fn system(content: impl Into<String>) -> Message {
        Message {
            role: "system",
            content: content.into(),
        }
    }
    pub fn user(content: impl Into<String>) -> Message {
        Message {
            role: "user",
            content: content.into(),
        }
    }
    pub fn assistant(content: impl Into<String>) -> Message {
        Message {
            role: "assistant",
            content: content.into(),
        }
    }
}

/// A blocking client with a budget. Not `Sync`: one run uses it from one thread.
pub struct Client {
    settings: Settings,
    chat_model: String,
    embedding_model: String,
    http: crate::http_client::Client,
    budget: RefCell<Budget>,
    down: RefCell<Option<String>>,
    retries: Cell<u32>,
}

impl Client {
    /// A client for `settings` using `chat_model` and `embedding_model`, with `budget`.
    pub fn new(
        settings: Settings,
        chat_model: &str,
        embedding_model: &str,
        budget: Budget,
    ) -> anyhow::Result<Client> {
        let url: http::Uri = settings
            .base_url
            .parse()
            .map_err(|e| anyhow::anyhow!("base URL `{}` is not a URL: {e}", settings.base_url))?;
        if !matches!(url.scheme_str(), Some("http" | "https")) || url.authority().is_none() {
            anyhow::bail!(
                "base URL `{}` must be an http(s) URL such as https://api.openai.com/v1 or http://localhost:11434/v1",
                settings.base_url
            );
        }
        let http = crate::http_client::Client::new(settings.timeout)?;
        Ok(Client {
            settings,
            chat_model: chat_model.to_string(),
            embedding_model: embedding_model.to_string(),
            http,
            budget: RefCell::new(budget),
            down: RefCell::new(None),
            retries: Cell::new(0),
        })
    }

    pub fn chat_model(&self) -> &str {
        &self.chat_model
    }

    pub fn embedding_model(&self) -> &str {
        &self.embedding_model
    }

    /// The budget as used so far.
    pub fn budget(&self) -> Budget {
        self.budget.borrow().clone()
    }

    /// Retries made so far (429, 5xx, timeouts).
    pub fn retries(&self) -> u32 {
        self.retries.get()
    }

    /// Why the endpoint was given up on, if it was.
    pub fn down_reason(&self) -> Option<String> {
        self.down.borrow().clone()
    }

    /// Embeds `texts` with the embedding model in one request, one vector per text in
    /// order. The texts must already be redacted: a body that still looks secret is refused.
    pub fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, ClientError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let body = json!({"model": self.embedding_model, "input": texts});
        let answer = self.post("embeddings", &body, 0)?;
        let data = answer
            .get("data")
            .and_then(Value::as_array)
            .ok_or_else(|| ClientError::Decode("embeddings answer without `data`".into()))?;
        let mut out: Vec<Option<Vec<f32>>> = vec![None; texts.len()];
        for (pos, item) in data.iter().enumerate() {
            let i = item
                .get("index")
                .and_then(Value::as_u64)
                .map_or(pos, |i| i as usize);
            let v = item
                .get("embedding")
                .and_then(Value::as_array)
                .ok_or_else(|| ClientError::Decode("an embedding is not an array".into()))?;
            let v: Option<Vec<f32>> = v.iter().map(|x| x.as_f64().map(|f| f as f32)).collect();
            let v = v.ok_or_else(|| ClientError::Decode("an embedding has a non-number".into()))?;
            match out.get_mut(i) {
                Some(slot) => *slot = Some(v),
                None => {
                    return Err(ClientError::Decode(format!(
                        "embedding index {i} out of range"
                    )))
                }
            }
        }
        out.into_iter()
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| ClientError::Decode("fewer embeddings than inputs".into()))
    }

    /// One chat completion whose answer must follow `schema` (strict JSON-schema structured
    /// output), at temperature 0 with at most `max_tokens` tokens of answer.
    pub fn chat_json(
        &self,
        messages: &[Message],
        schema_name: &str,
        schema: &Value,
        max_tokens: u32,
    ) -> Result<ChatAnswer, ClientError> {
        let body = json!({
            "model": self.chat_model,
            "messages": messages,
            "temperature": 0,
            "max_tokens": max_tokens,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": schema_name, "schema": schema, "strict": true}
            }
        });
        let answer = self.post("chat/completions", &body, u64::from(max_tokens))?;
        let content = answer
            .pointer("/choices/0/message/content")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                ClientError::Decode("chat answer without choices[0].message.content".into())
            })?;
        Ok(ChatAnswer {
            content: content.to_string(),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.settings.base_url.trim_end_matches('/'))
    }

    /// POSTs `body` under the policy (module docs); the parsed answer of a 2xx.
    fn post(&self, path: &str, body: &Value, answer_tokens: u64) -> Result<Value, ClientError> {
        if let Some(reason) = self.down.borrow().clone() {
            return Err(ClientError::Down(reason));
        }
        let bytes = serde_json::to_vec(body).map_err(|e| ClientError::Decode(e.to_string()))?;
        if codex_contract::redact::contains_secret(&String::from_utf8_lossy(&bytes)) {
            return Err(ClientError::Secret);
        }
        let estimate = (bytes.len() as u64).div_ceil(4) + answer_tokens;
        let headers = self.headers();
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let url = self.url(path);
        let mut attempt = 0u32;
        let mut waited = Duration::ZERO;
        loop {
            if let Some(why) = self.budget.borrow().refuses(estimate) {
                return Err(ClientError::Budget(why));
            }
            self.budget.borrow_mut().requests += 1;
            let result = self.http.send("POST", &url, &headers, bytes.clone());
            let retry_left = attempt < self.settings.max_retries;
            let (failure, wait) = match result {
                Err(SendError::Timeout { .. }) => (
                    format!("no answer from {url} within {:?}", self.settings.timeout),
                    self.settings.backoff * 2u32.pow(attempt),
                ),
                Err(SendError::Transport { cause, .. }) => {
                    // No connection: retrying will not help within one run.
                    return Err(self.give_up(format!("cannot reach {url}: {cause}")));
                }
                Err(SendError::Invalid(why)) => {
                    return Err(self.give_up(format!("cannot reach {url}: {why}")));
                }
                Ok(answer) => {
                    let status = answer.status;
                    if answer.ok() {
                        let v: Value = serde_json::from_slice(&answer.body).map_err(|e| {
                            ClientError::Decode(format!("{} answered non-JSON: {e}", path))
                        })?;
                        let used = v
                            .pointer("/usage/total_tokens")
                            .and_then(Value::as_u64)
                            .unwrap_or(estimate);
                        self.budget.borrow_mut().tokens += used;
                        return Ok(v);
                    }
                    let message = error_message(&answer.body);
                    if status == 429 {
                        let wait = answer.retry_after().unwrap_or(Duration::from_secs(1));
                        if !retry_left || waited + wait > self.settings.wait_cap {
                            return Err(self.give_up(format!(
                                "rate limited (429, retry after {:?}): {message}",
                                wait
                            )));
                        }
                        waited += wait;
                        (String::new(), wait)
                    } else if status >= 500 {
                        (
                            format!("{url} answered {}: {message}", reason(status)),
                            self.settings.backoff * 2u32.pow(attempt),
                        )
                    } else if matches!(status, 401 | 403 | 404) {
                        return Err(self.give_up(format!(
                            "{url} answered {}: {message} (check the key, the base URL and the model names)",
                            reason(status)
                        )));
                    } else {
                        return Err(ClientError::Rejected { status, message });
                    }
                }
            };
            if !retry_left {
                return Err(self.give_up(failure));
            }
            self.retries.set(self.retries.get() + 1);
            std::thread::sleep(wait);
            attempt += 1;
        }
    }

    fn give_up(&self, reason: String) -> ClientError {
        *self.down.borrow_mut() = Some(reason.clone());
        ClientError::Down(reason)
    }

    /// The request headers; the transport marks the key's header sensitive.
    fn headers(&self) -> Vec<(&'static str, String)> {
        let mut h = vec![
            ("content-type", "application/json".to_string()),
            (
                "user-agent",
                concat!("codex-analyzer/", env!("CARGO_PKG_VERSION")).to_string(),
            ),
        ];
        if let Some(key) = &self.settings.api_key {
            h.push(match self.settings.auth {
                Auth::Bearer => ("authorization", format!("Bearer {key}")),
                Auth::ApiKey => ("api-key", key.clone()),
            });
        }
        h
    }
}

/// A status as messages have always shown it (`503 Service Unavailable`).
fn reason(status: u16) -> String {
    http::StatusCode::from_u16(status).map_or_else(|_| status.to_string(), |s| s.to_string())
}

/// `error.message` of an OpenAI-style error body, else the body's start.
fn error_message(body: &[u8]) -> String {
    let v: Option<Value> = serde_json::from_slice(body).ok();
    let msg = v
        .as_ref()
        .and_then(|v| v.pointer("/error/message").and_then(Value::as_str))
        .map(str::to_string)
        .unwrap_or_else(|| String::from_utf8_lossy(body).chars().take(200).collect());
    codex_contract::redact::redact(&msg).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_refuses_past_either_limit() {
        let mut b = Budget::new(2, 100);
        assert!(b.refuses(100).is_none());
        assert!(b.refuses(101).unwrap().contains("token budget"));
        b.requests = 2;
        assert!(b.refuses(1).unwrap().contains("request budget"));
    }

    #[test]
    fn the_key_never_prints() {
        let s = Settings {
            base_url: "http://127.0.0.1:1/v1".into(),
            api_key: Some("sk-proj-abcdefghijklmnopqrstuvwx".into()),
            auth: Auth::Bearer,
            timeout: Duration::from_secs(1),
            max_retries: 0,
            wait_cap: Duration::ZERO,
            backoff: Duration::ZERO,
        };
        assert!(!format!("{s:?}").contains("abcdefgh"));
    }
}
