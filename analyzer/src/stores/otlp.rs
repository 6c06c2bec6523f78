//! `codex-analyzer export-otlp`: sends the log's tool calls to an OTLP/HTTP collector as
//! spans (`codex-otlp` builds them), batched, retried, and resumable.
//!
//! **Nothing twice, nothing lost.** The log is read in chunks of `--batch` records. Each
//! chunk's calls are folded together with the records carried over from the last chunk; the
//! calls that are settled (a definite status, or no news for `--settle` of log time) go out
//! in one request, the others are carried to the next chunk. Only after the collector
//! accepted a request is the cursor (`.codex/otlp-cursor.json`: the log offset, a hash of
//! the log's head, the carried records) replaced, atomically. A 429 or 5xx is retried with
//! exponential backoff (honouring `retry-after`); when retries run out the command fails and
//! the next run resumes at the last accepted request. A crash between the collector's answer
//! and the cursor write can resend that one request (at-least-once, the OTLP norm).

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};

use codex_contract::resume::{complete_end, head_hash, invalidated};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use codex_contract::fold::{Call, Folder};
use codex_contract::read::RecordReader;
use codex_contract::record::{parse_ts, Phase, Record};
use serde::{Deserialize, Serialize};

use super::{RepoArgs, Target};
use crate::http_client::Client;

/// `[otlp]` in `.codex/improvement.toml`: export after each applied scheduled run.
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct OtlpConfig {
    /// The collector's base URL (`http://collector:4318`); empty: no export.
    pub endpoint: String,
    /// Records per request.
    pub batch: usize,
    /// Retries of a request answered 429/5xx or not answered.
    pub max_retries: u32,
    /// `service.name` of the exported spans.
    pub service_name: String,
}

impl Default for OtlpConfig {
    fn default() -> Self {
        OtlpConfig {
            endpoint: String::new(),
            batch: 4096,
            max_retries: 5,
            service_name: "codex".into(),
        }
    }
}

/// `codex-analyzer export-otlp`.
#[derive(Args, Debug, Clone)]
pub struct ExportOtlpArgs {
    #[command(flatten)]
    pub target: RepoArgs,
    /// The OTLP/HTTP endpoint: a base URL (`/v1/traces` is appended) or the full traces URL
    /// [default: config [otlp] endpoint, else env OTEL_EXPORTER_OTLP_ENDPOINT]. Headers
    /// (e.g. an API key) come from env OTEL_EXPORTER_OTLP_HEADERS (`k=v,k2=v2`), never
    /// from arguments or files.
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// The resume cursor [default: <repo>/.codex/otlp-cursor.json].
    #[arg(long, value_name = "PATH")]
    pub cursor: Option<PathBuf>,
    /// Records per request [default: config, 4096].
    #[arg(long, value_name = "N")]
    pub batch: Option<usize>,
    /// Retries of a request answered 429/5xx or not answered [default: config, 5].
    #[arg(long, value_name = "N")]
    pub max_retries: Option<u32>,
    /// First retry delay in milliseconds; doubles each retry (a `retry-after` wins).
    #[arg(long, value_name = "MS", default_value_t = 500)]
    pub backoff_ms: u64,
    /// Start again from the beginning of the log (ignores the cursor; sends everything again).
    #[arg(long)]
    pub from_start: bool,
}

/// The resume cursor.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct Cursor {
    pub version: u32,
    /// The log the cursor is about, for messages.
    pub log: String,
    /// Where the next chunk starts.
    pub offset: u64,
    /// SHA-256 of the log's first min(offset, 4096) bytes: a rotated log starts over.
    pub head_sha256: String,
    /// Records of calls not settled yet, as written in the log.
    #[serde(default)]
    pub carry: Vec<Record>,
    /// Requests, spans and calls accepted over the cursor's life.
    #[serde(default)]
    pub requests: u64,
    #[serde(default)]
    pub spans: u64,
    #[serde(default)]
    pub calls: u64,
}

/// What one export did.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ExportReport {
    pub endpoint: String,
    pub restarted: Option<String>,
    pub records: u64,
    pub requests: u64,
    pub spans: u64,
    pub calls: u64,
    pub retries: u64,
    pub carried: usize,
    pub offset: u64,
}

/// How long an unsettled call waits (log time) before it is sent as it is.
const SETTLE: chrono::Duration = chrono::Duration::hours(1);

/// `{base}/v1/traces` unless the URL already names the traces path.
pub fn traces_url(endpoint: &str) -> String {
    let e = endpoint.trim_end_matches('/');
    if e.ends_with("/v1/traces") {
        e.to_string()
    } else {
        format!("{e}/v1/traces")
    }
}

/// `OTEL_EXPORTER_OTLP_HEADERS`: `k=v,k2=v2`, values percent-decoded for `%20`-style escapes
/// is left to the collector; keys and values are trimmed.
fn env_headers() -> Vec<(String, String)> {
    std::env::var("OTEL_EXPORTER_OTLP_HEADERS")
        .unwrap_or_default()
        .split(',')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .filter(|(k, _)| !k.is_empty())
        .collect()
}

/// Atomic replace: write a sibling, then rename.
fn save_cursor(path: &Path, c: &Cursor) -> Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, serde_json::to_vec_pretty(c)?)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))
}

fn load_cursor(path: &Path) -> Result<Option<Cursor>> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(serde_json::from_slice(&b).with_context(|| {
            format!(
                "{} is not a cursor this version understands; move it aside to export from \
                 the start of the log (the collector may then get spans twice)",
                path.display()
            )
        })?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Settled calls go now; the records of the others are carried.
fn settle(
    records: Vec<Record>,
    newest: Option<chrono::DateTime<chrono::Utc>>,
) -> (Vec<Call>, Vec<Record>) {
    let mut folder = Folder::new();
    for r in &records {
        folder.push(r.clone());
    }
    let mut send = Vec::new();
    let mut waiting: BTreeSet<(Option<String>, String)> = BTreeSet::new();
    for c in folder.finish() {
        let stale = newest.is_some_and(|n| n - c.last_ts >= SETTLE);
        if c.status.is_definite() || stale {
            send.push(c);
        } else {
            waiting.insert((c.session_id.clone(), c.call_id.clone()));
        }
    }
    let carry = records
        .into_iter()
        .filter(|r| {
            r.call_id
                .as_ref()
                .is_some_and(|id| waiting.contains(&(r.session_id.clone(), id.clone())))
        })
        .collect();
    (send, carry)
}

/// The settings of one export.
pub struct Export<'a> {
    pub log: &'a Path,
    pub cursor_path: &'a Path,
    pub endpoint: &'a str,
    pub batch: usize,
    pub max_retries: u32,
    pub backoff: Duration,
    pub from_start: bool,
    pub origin: codex_otlp::Origin,
}

/// Sends one request, retrying 429/5xx and transport errors.
fn post(
    client: &Client,
    url: &str,
    headers: &[(String, String)],
    body: Vec<u8>,
    e: &Export,
    retries: &mut u64,
) -> Result<()> {
    let mut hs: Vec<(&str, &str)> = vec![("content-type", "application/x-protobuf")];
    hs.extend(headers.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let mut delay = e.backoff;
    for attempt in 0..=e.max_retries {
        let outcome = client.send("POST", url, &hs, body.clone());
        let wait = match &outcome {
            Ok(r) if r.ok() => return Ok(()),
            Ok(r) if r.retryable() => r.retry_after().unwrap_or(delay),
            Ok(r) => bail!(
                "the collector refused the request: HTTP {} {}; fix the endpoint or the \
                 headers (OTEL_EXPORTER_OTLP_HEADERS) and run again, nothing was lost",
                r.status,
                r.text()
            ),
            Err(_) => delay,
        };
        if attempt == e.max_retries {
            let why = match outcome {
                Ok(r) => format!("HTTP {} {}", r.status, r.text()),
                Err(err) => format!("{err:#}"),
            };
            bail!(
                "the collector at {url} did not accept the request after {} retries ({why}); \
                 the next run resumes from the last accepted request",
                e.max_retries
            );
        }
        *retries += 1;
        std::thread::sleep(wait.min(Duration::from_secs(60)));
        delay *= 2;
    }
    unreachable!("the loop returns or bails")
}

/// Exports everything after the cursor.
pub fn export(e: &Export) -> Result<ExportReport> {
    let url = traces_url(e.endpoint);
    let headers = env_headers();
    let client = Client::new(Duration::from_secs(30))?;
    let mut file = File::open(e.log).with_context(|| {
        format!(
            "cannot read the tool-call log {}; install the capture shim or pass --log",
            e.log.display()
        )
    })?;
    let len = file.metadata()?.len();
    let mut report = ExportReport {
        endpoint: url.clone(),
        ..ExportReport::default()
    };
    let mut cursor = load_cursor(e.cursor_path)?.unwrap_or_default();
    report.restarted = if e.from_start {
        Some("requested (--from-start)".into())
    } else {
        invalidated(&mut file, cursor.offset, Some(&cursor.head_sha256))?
    };
    if report.restarted.is_some() {
        cursor.offset = 0;
        cursor.carry.clear();
    }
    cursor.version = 1;
    cursor.log = e.log.display().to_string();

    let start = cursor.offset;
    let stop = complete_end(&mut file, start, len)?;
    // A handle of its own for the head hash: a clone would share the read offset, and
    // hashing between chunks would move the reader back to the log's start.
    let mut body = File::open(e.log)?;
    body.seek(SeekFrom::Start(start))?;
    let mut reader = RecordReader::new(BufReader::with_capacity(1 << 16, body.take(stop - start)));
    let batch = e.batch.max(1);
    loop {
        let mut chunk: Vec<Record> = std::mem::take(&mut cursor.carry);
        let mut fresh = 0usize;
        let mut end = cursor.offset;
        let mut newest = None;
        while let Some(r) = reader.next() {
            end = start + reader.consumed();
            fresh += 1;
            if let Some(t) = parse_ts(&r.ts) {
                newest = newest.max(Some(t));
            }
            if r.phase != Some(Phase::Session) && r.call_id.is_some() {
                chunk.push(r);
            }
            if fresh >= batch {
                break;
            }
        }
        if let Some(err) = reader.error.take() {
            return Err(anyhow!(err).context(format!("reading {}", e.log.display())));
        }
        if fresh == 0 {
            // Unreadable lines at the end are passed over, not read again.
            cursor.carry = chunk;
            cursor.offset = start + reader.consumed();
            break;
        }
        let (calls, carry) = settle(chunk, newest);
        report.records += fresh as u64;
        if !calls.is_empty() {
            let req = codex_otlp::request(&calls, &e.origin);
            let spans: usize = req
                .resource_spans
                .iter()
                .flat_map(|r| &r.scope_spans)
                .map(|s| s.spans.len())
                .sum();
            post(
                &client,
                &url,
                &headers,
                codex_otlp::encode(&req),
                e,
                &mut report.retries,
            )?;
            report.requests += 1;
            report.spans += spans as u64;
            report.calls += calls.len() as u64;
            cursor.requests += 1;
            cursor.spans += spans as u64;
            cursor.calls += calls.len() as u64;
        }
        cursor.carry = carry;
        cursor.offset = end;
        cursor.head_sha256 = head_hash(&mut file, end)?;
        save_cursor(e.cursor_path, &cursor)?;
    }
    cursor.head_sha256 = head_hash(&mut file, cursor.offset)?;
    save_cursor(e.cursor_path, &cursor)?;
    report.carried = cursor.carry.len();
    report.offset = cursor.offset;
    Ok(report)
}

/// The resolved settings of the subcommand or the scheduled job.
pub fn run(args: &ExportOtlpArgs) -> Result<ExportReport> {
    let t = Target::resolve(&args.target)?;
    let cfg: OtlpConfig = t.config.section("otlp")?.unwrap_or_default();
    let endpoint = args
        .endpoint
        .clone()
        .or_else(|| (!cfg.endpoint.is_empty()).then(|| cfg.endpoint.clone()))
        .or_else(|| std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT").ok())
        .ok_or_else(|| {
            anyhow!(
                "no OTLP endpoint: pass --endpoint http://collector:4318, set [otlp] endpoint \
                 in .codex/improvement.toml, or env OTEL_EXPORTER_OTLP_ENDPOINT"
            )
        })?;
    let cursor = args
        .cursor
        .clone()
        .unwrap_or_else(|| t.codex_path("otlp-cursor.json"));
    export(&Export {
        log: &t.log,
        cursor_path: &cursor,
        endpoint: &endpoint,
        batch: args.batch.unwrap_or(cfg.batch),
        max_retries: args.max_retries.unwrap_or(cfg.max_retries),
        backoff: Duration::from_millis(args.backoff_ms),
        from_start: args.from_start,
        origin: origin(&t, &cfg),
    })
}

/// The resource of the exported spans.
pub fn origin(t: &Target, cfg: &OtlpConfig) -> codex_otlp::Origin {
    codex_otlp::Origin {
        service_name: cfg.service_name.clone(),
        repository: std::env::var("GITHUB_REPOSITORY")
            .ok()
            .or_else(|| t.repo.file_name().map(|n| n.to_string_lossy().into_owned())),
        host: std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()),
    }
}

/// The summary `export-otlp` prints.
pub fn render(r: &ExportReport) -> String {
    let mut s = String::new();
    if let Some(why) = &r.restarted {
        s.push_str(&format!("started from the beginning of the log: {why}\n"));
    }
    s.push_str(&format!(
        "{}: {} records read, {} calls sent as {} spans in {} requests ({} retries); {} records of unsettled calls carried to the next run\n",
        r.endpoint, r.records, r.calls, r.spans, r.requests, r.retries, r.carried
    ));
    s
}
