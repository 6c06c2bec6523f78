//! A small blocking HTTP client for the stores (OTLP collectors, Chroma): the hyper and
//! rustls stack octocrab already brings, on a current-thread runtime, so the stores add no
//! HTTP crate of their own.

use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::{connect::HttpConnector, Client as Hyper};
use hyper_util::rt::TokioExecutor;

/// An answer: status, `retry-after` (seconds, when given) and body.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub retry_after: Option<Duration>,
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

    /// The body as text, shortened for messages.
    pub fn text(&self) -> String {
        codex_contract::record::shorten(&String::from_utf8_lossy(&self.body), 500)
    }
}

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
            .with_native_roots()
            .context("cannot load the system's TLS root certificates")?
            .https_or_http()
            .enable_http1()
            .build();
        let inner = Hyper::builder(TokioExecutor::new()).build(https);
        Ok(Client { rt, inner, timeout })
    }

    /// Sends one request. A transport error (refused, reset, timed out) is an `Err`; any HTTP
    /// answer is an `Ok`, to be judged by the caller.
    pub fn send(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<Response> {
        let mut req = http::Request::builder().method(method).uri(url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req
            .body(Full::new(Bytes::from(body)))
            .with_context(|| format!("invalid request to {url}"))?;
        let fut = async {
            let resp = self.inner.request(req).await?;
            let status = resp.status().as_u16();
            let retry_after = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let body = resp.into_body().collect().await?.to_bytes().to_vec();
            Ok::<_, anyhow::Error>(Response {
                status,
                retry_after,
                body,
            })
        };
        self.rt
            .block_on(async { tokio::time::timeout(self.timeout, fut).await })
            .map_err(|_| anyhow!("{method} {url}: no answer within {:?}", self.timeout))?
            .with_context(|| format!("{method} {url}"))
    }

    /// POSTs JSON and parses a 2xx JSON answer; anything else is an error with the body.
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
