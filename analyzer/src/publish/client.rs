//! The HTTP side of talking to GitHub: octocrab for transport, auth, base URI and redirects;
//! this module for the policy around each request.
//!
//! Why raw requests (`_get`/`_post`/...) rather than octocrab's typed chains: the publisher
//! must see status codes and headers (`retry-after`, `x-ratelimit-*`, `Link`) to degrade
//! gracefully, and it reads only a handful of fields, so small local structs keep it immune to
//! model drift. octocrab's own retry layer is switched off: its default retries a 429 at once
//! without honouring `retry-after`, and retries non-idempotent POSTs after a 5xx, which is how
//! duplicate issues are born. The policy here instead:
//!
//! - 5xx, transport errors and timeouts: retried (with a short backoff) only for requests that
//!   are safe to repeat (GET, PATCH, PUT). A failed POST is *not* retried; the item goes to the
//!   pending list, and the next run finds whatever the POST may have created by its marker.
//! - 429, and 403 with `x-ratelimit-remaining: 0` or `retry-after`: waited out when the wait
//!   fits under a small cap ([`Limits::rate_limit_wait_cap`]), otherwise reported as
//!   [`GithubError::RateLimited`], which stops the run's publishing (everything left is
//!   pending) rather than hammering the API.
//! - Every request has an overall deadline ([`Limits::request_timeout`]).

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use http::{HeaderMap, Method, StatusCode, Uri};
use http_body_util::BodyExt;
use octocrab::Octocrab;
use serde_json::Value;

/// Request policy knobs (see the module docs).
#[derive(Clone, Debug)]
pub struct Limits {
    /// Overall deadline for one request, including reading the body.
    pub request_timeout: Duration,
    /// Retries after a 5xx, transport error or timeout, for idempotent requests.
    pub max_retries: u32,
    /// The longest total wait for rate limits within one request before giving up on it.
    pub rate_limit_wait_cap: Duration,
    /// The first backoff after a 5xx (doubled per retry).
    pub backoff: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            request_timeout: Duration::from_secs(30),
            max_retries: 2,
            rate_limit_wait_cap: Duration::from_secs(60),
            backoff: Duration::from_millis(500),
        }
    }
}

/// Why a GitHub request did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum GithubError {
    /// GitHub answered with an error status (after any retries).
    #[error("GitHub answered {status} to {method} {path}: {message}")]
    Status {
        method: String,
        path: String,
        status: u16,
        message: String,
    },
    /// A rate limit whose wait is longer than the cap; retry after the given seconds.
    #[error("GitHub rate limit on {method} {path}; retry in {retry_after_secs} s (next run retries the pending items)")]
    RateLimited {
        method: String,
        path: String,
        retry_after_secs: u64,
    },
    /// No answer within the deadline.
    #[error("GitHub did not answer {method} {path} within {secs} s")]
    Timeout {
        method: String,
        path: String,
        secs: u64,
    },
    /// The connection failed.
    #[error("could not reach GitHub for {method} {path}: {detail}")]
    Transport {
        method: String,
        path: String,
        detail: String,
    },
    /// The answer did not have the expected shape.
    #[error("unexpected answer from GitHub for {path}: {detail}")]
    Decode { path: String, detail: String },
    /// No client: no token, no repository, or an unusable API URL.
    #[error("{reason}")]
    Unavailable { reason: String },
}

impl GithubError {
    /// The HTTP status GitHub answered with, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            GithubError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether the rest of the run should stop making requests (a rate limit: more requests
    /// only dig the hole deeper).
    pub fn stops_run(&self) -> bool {
        matches!(self, GithubError::RateLimited { .. })
    }

    /// The `message` of a GitHub error answer (e.g. "Reference already exists").
    pub fn message(&self) -> &str {
        match self {
            GithubError::Status { message, .. } => message,
            _ => "",
        }
    }
}

/// One answer: status, headers and the whole body.
pub(crate) struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self, path: &str) -> Result<Value, GithubError> {
        serde_json::from_slice(&self.body).map_err(|e| GithubError::Decode {
            path: path.to_string(),
            detail: e.to_string(),
        })
    }

    /// The `rel="next"` target of the `Link` header.
    fn next_link(&self) -> Option<String> {
        let link = self.headers.get("link")?.to_str().ok()?;
        link.split(',').find_map(|part| {
            let (url, rel) = part.split_once(';')?;
            rel.contains("rel=\"next\"").then(|| {
                url.trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_string()
            })
        })
    }
}

/// A repository-bound GitHub client with the retry and rate-limit policy.
pub(crate) struct Client {
    octo: Octocrab,
    base: Uri,
    pub owner: String,
    pub repo: String,
    limits: Limits,
    writes: AtomicU32,
}

impl Client {
    /// Builds a client for `owner/repo` at `api_url` with `token`.
    pub fn new(
        api_url: &str,
        token: &str,
        owner: &str,
        repo: &str,
        limits: Limits,
    ) -> Result<Client, String> {
        let base: Uri = api_url
            .parse()
            .map_err(|e| format!("GITHUB_API_URL `{api_url}` is not a URL: {e}"))?;
        let octo = Octocrab::builder()
            .add_retry_config(octocrab::service::middleware::retry::RetryConfig::None)
            .set_connect_timeout(Some(limits.request_timeout))
            // A backstop only: the overall deadline in `send` fires first and is reported
            // as a timeout.
            .set_read_timeout(Some(limits.request_timeout + Duration::from_secs(5)))
            .base_uri(base.clone())
            .map_err(|e| format!("GITHUB_API_URL `{api_url}` is not usable: {e:?}"))?
            .personal_token(token.to_string())
            .build()
            .map_err(|e| format!("could not set up the GitHub client: {e:?}"))?;
        Ok(Client {
            octo,
            base,
            owner: owner.to_string(),
            repo: repo.to_string(),
            limits,
            writes: AtomicU32::new(0),
        })
    }

    /// Write requests sent so far (every attempt counts).
    pub fn writes(&self) -> u32 {
        self.writes.load(Ordering::Relaxed)
    }

    /// `/repos/{owner}/{repo}` + `rest`.
    pub fn repo_path(&self, rest: &str) -> String {
        format!("/repos/{}/{}{rest}", self.owner, self.repo)
    }

    /// Turns a link GitHub gave us back into a request target: same host → path and query
    /// (so octocrab attaches the token, which it only does for relative targets and
    /// api.github.com); another host (a pre-signed blob URL) → the absolute URL.
    fn target(&self, link: &str) -> String {
        match link.parse::<Uri>() {
            Ok(u) if u.authority().is_some() && u.authority() == self.base.authority() => u
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| "/".into()),
            _ => link.to_string(),
        }
    }

    async fn once(
        &self,
        method: &Method,
        target: &str,
        body: Option<&Value>,
    ) -> Result<Answer, octocrab::Error> {
        if *method != Method::GET {
            self.writes.fetch_add(1, Ordering::Relaxed);
        }
        let resp = match *method {
            Method::GET => self.octo._get(target).await?,
            Method::POST => self.octo._post(target, body).await?,
            Method::PATCH => self.octo._patch(target, body).await?,
            Method::PUT => self.octo._put(target, body).await?,
            _ => self.octo._delete(target, body).await?,
        };
        let (parts, body) = resp.into_parts();
        let body = body.collect().await?.to_bytes().to_vec();
        Ok(Answer {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    }

    /// Sends one request under the policy; `Ok` for 2xx only.
    pub async fn send(
        &self,
        method: Method,
        target: &str,
        body: Option<&Value>,
    ) -> Result<Answer, GithubError> {
        let idempotent = matches!(method, Method::GET | Method::PATCH | Method::PUT);
        let path = target.split('?').next().unwrap_or(target).to_string();
        let mut attempt: u32 = 0;
        let mut waited = Duration::ZERO;
        loop {
            let result = tokio::time::timeout(
                self.limits.request_timeout,
                self.once(&method, target, body),
            )
            .await;
            let retry_left = idempotent && attempt < self.limits.max_retries;
            let failure = match result {
                Err(_) => GithubError::Timeout {
                    method: method.to_string(),
                    path: path.clone(),
                    secs: self.limits.request_timeout.as_secs(),
                },
                Ok(Err(e)) => GithubError::Transport {
                    method: method.to_string(),
                    path: path.clone(),
                    // octocrab's Display is just "GitHub"; the Debug form has the cause.
                    detail: format!("{e:?}").chars().take(400).collect(),
                },
                Ok(Ok(answer)) if answer.status.is_success() => return Ok(answer),
                Ok(Ok(answer)) => {
                    if let Some(wait) = rate_limit_wait(&answer) {
                        let can_wait = waited + wait <= self.limits.rate_limit_wait_cap
                            && attempt < self.limits.max_retries.max(1);
                        if can_wait {
                            tokio::time::sleep(wait).await;
                            waited += wait;
                            attempt += 1;
                            continue;
                        }
                        return Err(GithubError::RateLimited {
                            method: method.to_string(),
                            path,
                            retry_after_secs: wait.as_secs(),
                        });
                    }
                    let err = GithubError::Status {
                        method: method.to_string(),
                        path: path.clone(),
                        status: answer.status.as_u16(),
                        message: error_message(&answer),
                    };
                    if !answer.status.is_server_error() {
                        return Err(err);
                    }
                    err
                }
            };
            if !retry_left {
                return Err(failure);
            }
            tokio::time::sleep(self.limits.backoff * 2u32.pow(attempt)).await;
            attempt += 1;
        }
    }

    pub async fn get_json(&self, target: &str) -> Result<Value, GithubError> {
        let a = self.send(Method::GET, target, None).await?;
        a.json(target)
    }

    /// GET that maps 404 to `None`.
    pub async fn get_optional(&self, target: &str) -> Result<Option<Value>, GithubError> {
        match self.send(Method::GET, target, None).await {
            Ok(a) => a.json(target).map(Some),
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn write_json(
        &self,
        method: Method,
        target: &str,
        body: &Value,
    ) -> Result<Value, GithubError> {
        let a = self.send(method, target, Some(body)).await?;
        if a.body.is_empty() {
            return Ok(Value::Null);
        }
        a.json(target)
    }

    /// Adds a comment to the issue or PR at `issue_path` (`…/issues/N`, from [`repo_path`]):
    /// `POST …/issues/N/comments`.
    ///
    /// [`repo_path`]: Client::repo_path
    pub async fn comment(&self, issue_path: &str, body: &str) -> Result<Value, GithubError> {
        self.write_json(
            Method::POST,
            &format!("{issue_path}/comments"),
            &serde_json::json!({ "body": body }),
        )
        .await
    }

    /// Raw bytes of a GET (redirects followed), e.g. a job log or an artifact zip.
    pub async fn get_bytes(&self, target: &str) -> Result<Vec<u8>, GithubError> {
        Ok(self.send(Method::GET, target, None).await?.body)
    }

    /// Walks every page of a list endpoint (`key`: the array's field for wrapped lists such
    /// as `items` or `workflow_runs`; `None` for bare arrays). `keep_going` sees each item and
    /// may stop the walk early (time-ordered lists past the window); at most `max_items`.
    pub async fn list(
        &self,
        first: &str,
        key: Option<&str>,
        max_items: usize,
        mut keep_going: impl FnMut(&Value) -> bool,
    ) -> Result<Vec<Value>, GithubError> {
        let mut out = Vec::new();
        let mut next = Some(first.to_string());
        while let Some(target) = next.take() {
            let answer = self.send(Method::GET, &target, None).await?;
            let v = answer.json(&target)?;
            let items = match key {
                Some(k) => v.get(k).cloned(),
                None => Some(v),
            };
            let Some(Value::Array(items)) = items else {
                return Err(GithubError::Decode {
                    path: target,
                    detail: format!(
                        "expected a list{}",
                        key.map(|k| format!(" in `{k}`")).unwrap_or_default()
                    ),
                });
            };
            for item in items {
                if out.len() >= max_items || !keep_going(&item) {
                    return Ok(out);
                }
                out.push(item);
            }
            next = answer.next_link().map(|l| self.target(&l));
        }
        Ok(out)
    }
}

/// How long a rate-limit answer asks us to wait, or `None` when it is not a rate limit.
fn rate_limit_wait(a: &Answer) -> Option<Duration> {
    let header =
        |name: &str| -> Option<i64> { a.headers.get(name)?.to_str().ok()?.trim().parse().ok() };
    let status = a.status.as_u16();
    if status != 429 && status != 403 {
        return None;
    }
    if let Some(secs) = header("retry-after") {
        return Some(Duration::from_secs(secs.max(1) as u64));
    }
    if header("x-ratelimit-remaining") == Some(0) {
        let reset = header("x-ratelimit-reset").unwrap_or(0);
        let now = chrono::Utc::now().timestamp();
        return Some(Duration::from_secs((reset - now).max(1) as u64));
    }
    // A 429 without headers is still a rate limit; a bare 403 is a permission problem.
    (status == 429).then(|| Duration::from_secs(60))
}

fn error_message(a: &Answer) -> String {
    let v: Value = serde_json::from_slice(&a.body).unwrap_or(Value::Null);
    let mut msg = v
        .get("message")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| a.status.canonical_reason().unwrap_or("error").to_string());
    if let Some(errors) = v.get("errors").and_then(Value::as_array) {
        let details: Vec<String> = errors
            .iter()
            .map(|e| {
                e.get("message")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(|| {
                        let code = e.get("code").and_then(Value::as_str).unwrap_or("");
                        let field = e.get("field").and_then(Value::as_str).unwrap_or("");
                        format!("{field} {code}").trim().to_string()
                    })
            })
            .collect();
        if !details.is_empty() {
            msg = format!("{msg}: {}", details.join("; "));
        }
    }
    msg
}

/// Percent-encodes a query value.
pub(crate) fn encode(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, headers: &[(&str, &str)]) -> Answer {
        let mut h = HeaderMap::new();
        for (k, v) in headers {
            h.insert(
                http::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        Answer {
            status: StatusCode::from_u16(status).unwrap(),
            headers: h,
            body: Vec::new(),
        }
    }

    #[test]
    fn rate_limits_are_recognised() {
        assert_eq!(
            rate_limit_wait(&answer(429, &[("retry-after", "7")])),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            rate_limit_wait(&answer(403, &[("retry-after", "3")])),
            Some(Duration::from_secs(3))
        );
        let reset = (chrono::Utc::now().timestamp() + 120).to_string();
        let w = rate_limit_wait(&answer(
            403,
            &[
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", &reset),
            ],
        ))
        .unwrap();
        assert!(
            w >= Duration::from_secs(115) && w <= Duration::from_secs(121),
            "{w:?}"
        );
        // A plain 403 is a permission error, not a rate limit.
        assert_eq!(rate_limit_wait(&answer(403, &[])), None);
        assert_eq!(rate_limit_wait(&answer(500, &[("retry-after", "1")])), None);
    }

    #[test]
    fn next_link_is_parsed() {
        let a = answer(
            200,
            &[(
                "link",
                "<http://h/x?page=2>; rel=\"next\", <http://h/x?page=5>; rel=\"last\"",
            )],
        );
        assert_eq!(a.next_link().as_deref(), Some("http://h/x?page=2"));
        assert_eq!(answer(200, &[]).next_link(), None);
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(
            encode("repo:o/r is:issue \"a b\""),
            "repo%3Ao%2Fr%20is%3Aissue%20%22a%20b%22"
        );
    }
}
