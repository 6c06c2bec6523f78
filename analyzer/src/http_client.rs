//! The analyzer's one blocking HTTP client, for its own requests: the OpenAI-compatible
//! endpoint of the semantic layer, OTLP collectors and Chroma. It is the hyper and rustls
//! stack octocrab already brings, on a current-thread runtime, so none of them adds an HTTP
//! crate of its own; each caller keeps its own policy (retries, budgets) on top.

use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use http::header::{HeaderName, HeaderValue};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::{connect::HttpConnector, Client as Hyper};
use hyper_util::rt::TokioExecutor;

/// An answer: status, headers and body.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
}

impl Response {
    /// 2xx.
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// 429 or 5xx: worth trying again later.
    pub fn retryable(&self) -> bool {
        self.status == 429 || self.status >= 500
    }

    /// The wait the server asks for: `retry-after-ms` (OpenAI's) or `retry-after` in
    /// seconds (fractions allowed).
    pub fn retry_after(&self) -> Option<Duration> {
        let get = |n: &str| {
            self.headers
                .get(n)?
                .to_str()
                .ok()?
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
        };
        if let Some(ms) = get("retry-after-ms") {
            return Some(Duration::from_secs_f64(ms.max(0.0) / 1000.0));
        }
        get("retry-after").map(|s| Duration::from_secs_f64(s.max(0.0)))
    }

    /// The body as text, shortened for messages.
    pub fn text(&self) -> String {
        codex_contract::record::shorten(&String::from_utf8_lossy(&self.body), 500)
    }
}

/// Why a request got no HTTP answer.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The request could not be built (a bad URL, a header value a header cannot carry).
    #[error("{0}")]
    Invalid(String),
    /// Nothing answered in time.
    #[error("{method} {url}: no answer within {timeout:?}")]
    Timeout {
        method: String,
        url: String,
        timeout: Duration,
    },
    /// No connection, or it broke (refused, reset, DNS, TLS).
    #[error("{method} {url}: {cause}")]
    Transport {
        method: String,
        url: String,
        cause: String,
    },
}

/// Headers whose values are credentials: marked sensitive, so hyper never shows them.
const SENSITIVE: [&str; 4] = [
    "authorization",
    "api-key",
    "x-api-key",
    "proxy-authorization",
];

/// A blocking client with a per-request timeout.
pub struct Client {
    rt: tokio::runtime::Runtime,
    inner: Hyper<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
    timeout: Duration,
}

impl Client {
    pub fn new(timeout: Duration) -> Result<Client> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the HTTP runtime")?;
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(rustls::crypto::ring::default_provider())
            .context("cannot load the system's TLS root certificates")?
            .https_or_http()
            .enable_http1()
            .build();
        let inner = Hyper::builder(TokioExecutor::new()).build(https);
        Ok(Client { rt, inner, timeout })
    }

    /// Sends one request. No answer (refused, reset, timed out) is an `Err`; any HTTP
    /// answer is an `Ok`, to be judged by the caller.
    pub fn send(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<Response, SendError> {
        let mut req = http::Request::builder().method(method).uri(url);
        for (k, v) in headers {
            let name = HeaderName::try_from(*k)
                .map_err(|_| SendError::Invalid(format!("`{k}` is not a header name")))?;
            let mut value = HeaderValue::from_str(v).map_err(|_| {
                SendError::Invalid(format!(
                    "the `{k}` header has characters a header cannot carry"
                ))
            })?;
            value.set_sensitive(SENSITIVE.contains(&name.as_str()));
            req = req.header(name, value);
        }
        let req = req
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| SendError::Invalid(format!("invalid request to {url}: {e}")))?;
        let fut = async {
            let resp = self.inner.request(req).await.map_err(|e| {
                // The Debug form names the cause (connection refused, DNS, TLS).
                format!("{e:?}").chars().take(300).collect::<String>()
            })?;
            let (parts, body) = resp.into_parts();
            let body = body.collect().await.map_err(|e| e.to_string())?;
            Ok::<_, String>(Response {
                status: parts.status.as_u16(),
                headers: parts.headers,
                body: body.to_bytes().to_vec(),
            })
        };
        match self
            .rt
            .block_on(async { tokio::time::timeout(self.timeout, fut).await })
        {
            Err(_) => Err(SendError::Timeout {
                method: method.into(),
                url: url.into(),
                timeout: self.timeout,
            }),
            Ok(Err(cause)) => Err(SendError::Transport {
                method: method.into(),
                url: url.into(),
                cause,
            }),
            Ok(Ok(r)) => Ok(r),
        }
    }

    /// Sends JSON and parses a 2xx JSON answer; anything else is an error with the body.
    pub fn json(
        &self,
        method: &str,
        url: &str,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value> {
        let r = self.send(
            method,
            url,
            &[("content-type", "application/json")],
            serde_json::to_vec(body)?,
        )?;
        if !r.ok() {
            return Err(anyhow!("{method} {url}: HTTP {}: {}", r.status, r.text()));
        }
        if r.body.is_empty() {
            return Ok(serde_json::Value::Null);
        }
        serde_json::from_slice(&r.body)
            .with_context(|| format!("{method} {url}: the answer is not JSON: {}", r.text()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(headers: &[(&'static str, &'static str)]) -> Response {
        let mut h = http::HeaderMap::new();
        for (k, v) in headers {
            h.insert(*k, HeaderValue::from_static(v));
        }
        Response {
            status: 429,
            headers: h,
            body: Vec::new(),
        }
    }

    #[test]
    fn retry_after_prefers_milliseconds_and_takes_fractions() {
        assert_eq!(answer(&[]).retry_after(), None);
        assert_eq!(
            answer(&[("retry-after", "2")]).retry_after(),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            answer(&[("retry-after", "0.5")]).retry_after(),
            Some(Duration::from_millis(500))
        );
        assert_eq!(
            answer(&[("retry-after", "2"), ("retry-after-ms", "250")]).retry_after(),
            Some(Duration::from_millis(250))
        );
        assert_eq!(answer(&[("retry-after", "soon")]).retry_after(), None);
    }

    #[test]
    fn no_answer_is_an_error_that_names_the_request() {
        // A port nothing listens on: refused at once.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let c = Client::new(Duration::from_secs(5)).unwrap();
        let url = format!("http://127.0.0.1:{port}/x");
        let e = c.send("POST", &url, &[], Vec::new()).unwrap_err();
        assert!(matches!(e, SendError::Transport { .. }), "{e:?}");
        assert!(e.to_string().starts_with(&format!("POST {url}: ")), "{e}");
        let e = c
            .send("GET", &url, &[("authorization", "Bearer a\nb")], Vec::new())
            .unwrap_err();
        assert!(matches!(e, SendError::Invalid(_)), "{e:?}");
    }
}
