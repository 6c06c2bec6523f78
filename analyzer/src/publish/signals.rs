//! Reading GitHub's signals for the analysis: PR activity, CI failures with their raw logs,
//! and tool-call logs uploaded as workflow artifacts by CI agents.
//!
//! These return raw material; normalizing CI logs into failure signatures is the analyzer's
//! signature module's job. Everything text-like is redacted on the way in, so no secret a
//! log happened to print ever reaches the analyzer's outputs.

use std::io::{Cursor, Read};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::client::{encode, Client, GithubError};
use super::guard::BOT_BRANCH_PREFIX;
use super::PublishSettings;

/// A half-open time window `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Window {
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        t >= self.start && t < self.end
    }
}

fn time(v: &Value, key: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(v.get(key)?.as_str()?)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// One PR with something happening in the window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PrSummary {
    pub number: u64,
    /// Redacted.
    pub title: String,
    pub author: String,
    /// `open` or `closed`.
    pub state: String,
    pub draft: bool,
    pub labels: Vec<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub merged_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub opened_in_window: bool,
    pub merged_in_window: bool,
    /// Closed without merging in the window.
    pub closed_in_window: bool,
    /// Submitted reviews in the window.
    pub reviews_in_window: u32,
}

/// PR activity in a window, without automation PRs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PrActivity {
    pub opened: u32,
    pub merged: u32,
    /// Closed without merging.
    pub closed: u32,
    /// PRs with at least one review submitted in the window.
    pub reviewed: u32,
    /// PRs left out because they carry the automation label or live on a bot branch.
    pub excluded_automation: u32,
    pub prs: Vec<PrSummary>,
}

/// PR activity in `window`: opened, merged, closed (unmerged) and reviewed counts and the
/// PRs behind them. PRs labelled [`PublishSettings::exclude_label`] (or on a
/// `codex-improvement/` branch) are left out, so the bot's own PRs never feed its analysis.
pub(crate) async fn pr_activity(
    client: &Client,
    settings: &PublishSettings,
    window: &Window,
) -> Result<PrActivity, GithubError> {
    // Newest updates first; everything older than the window start cannot have activity in it.
    let target = format!(
        "{}?state=all&sort=updated&direction=desc&per_page=100",
        client.repo_path("/pulls")
    );
    let start = window.start;
    let prs = client
        .list(&target, None, settings.max_prs, |p| {
            time(p, "updated_at").is_none_or(|t| t >= start)
        })
        .await?;
    let mut act = PrActivity::default();
    for p in prs {
        let labels: Vec<String> = p
            .get("labels")
            .and_then(Value::as_array)
            .map(|a| a.iter().map(|l| text(l, "name")).collect())
            .unwrap_or_default();
        let head = p.get("head").map(|h| text(h, "ref")).unwrap_or_default();
        if labels
            .iter()
            .any(|l| l.eq_ignore_ascii_case(&settings.exclude_label))
            || head.starts_with(BOT_BRANCH_PREFIX)
        {
            act.excluded_automation += 1;
            continue;
        }
        let Some(number) = p.get("number").and_then(Value::as_u64) else {
            continue;
        };
        let created_at = time(&p, "created_at");
        let merged_at = time(&p, "merged_at");
        let closed_at = time(&p, "closed_at");
        let in_window = |t: Option<DateTime<Utc>>| t.is_some_and(|t| window.contains(t));
        let reviews_target = format!(
            "{}?per_page=100",
            client.repo_path(&format!("/pulls/{number}/reviews"))
        );
        let reviews = client.list(&reviews_target, None, 1_000, |_| true).await?;
        let reviews_in_window = reviews
            .iter()
            .filter(|r| text(r, "state") != "PENDING" && in_window(time(r, "submitted_at")))
            .count() as u32;
        let summary = PrSummary {
            number,
            title: codex_contract::redact::redact(&text(&p, "title")).into_owned(),
            author: p.get("user").map(|u| text(u, "login")).unwrap_or_default(),
            state: text(&p, "state"),
            draft: p.get("draft").and_then(Value::as_bool).unwrap_or(false),
            labels,
            created_at,
            merged_at,
            closed_at,
            opened_in_window: in_window(created_at),
            merged_in_window: in_window(merged_at),
            closed_in_window: merged_at.is_none() && in_window(closed_at),
            reviews_in_window,
        };
        let any = summary.opened_in_window
            || summary.merged_in_window
            || summary.closed_in_window
            || summary.reviews_in_window > 0;
        if !any {
            continue;
        }
        act.opened += u32::from(summary.opened_in_window);
        act.merged += u32::from(summary.merged_in_window);
        act.closed += u32::from(summary.closed_in_window);
        act.reviewed += u32::from(summary.reviews_in_window > 0);
        act.prs.push(summary);
    }
    Ok(act)
}

/// One failed job of a failed workflow run, with the tail of its raw log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CiFailure {
    pub run_id: u64,
    pub workflow: String,
    pub run_url: String,
    pub head_branch: String,
    pub created_at: Option<DateTime<Utc>>,
    pub job_id: u64,
    pub job: String,
    /// The job's conclusion: `failure`, `timed_out` or `cancelled`.
    pub conclusion: String,
    /// The last [`PublishSettings::max_log_bytes`] of the log, redacted. Empty when GitHub no
    /// longer has the log.
    pub log_text: String,
    pub log_truncated: bool,
    /// Infrastructure trouble (runner lost, network, cancelled): kept in the run log, never
    /// turned into tickets.
    pub transient: bool,
    /// Which transient pattern matched.
    pub transient_reason: Option<String>,
}

/// The failed jobs found, plus notes on what could not be read.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CiFailures {
    pub failures: Vec<CiFailure>,
    pub notes: Vec<String>,
}

/// Patterns of infrastructure failures, lower-case, with the reason reported.
const TRANSIENT_PATTERNS: &[(&str, &str)] = &[
    ("the runner has received a shutdown signal", "runner lost"),
    ("lost communication with the server", "runner lost"),
    ("the hosted runner encountered an error", "runner lost"),
    ("the hosted runner lost communication", "runner lost"),
    ("runner lost", "runner lost"),
    (
        "an error occurred while provisioning resources",
        "runner lost",
    ),
    ("the operation was canceled", "cancelled"),
    ("could not resolve host", "network"),
    ("temporary failure in name resolution", "network"),
    ("connection reset by peer", "network"),
    ("connection timed out", "network"),
    ("network is unreachable", "network"),
    ("tls handshake timeout", "network"),
    ("econnreset", "network"),
    ("etimedout", "network"),
    ("502 bad gateway", "network"),
    ("503 service unavailable", "network"),
    ("504 gateway time-out", "network"),
    ("failed to connect to", "network"),
];

/// Whether a failed job is infrastructure trouble rather than a real failure, and why.
pub fn classify_transient(conclusion: &str, log: &str) -> Option<&'static str> {
    if conclusion == "cancelled" {
        return Some("cancelled");
    }
    let lower = log.to_lowercase();
    TRANSIENT_PATTERNS
        .iter()
        .find(|(p, _)| lower.contains(p))
        .map(|(_, why)| *why)
}

/// The last `max` bytes of `log`, starting at a line boundary when one is near.
fn tail(log: &[u8], max: usize) -> (String, bool) {
    if log.len() <= max {
        return (String::from_utf8_lossy(log).into_owned(), false);
    }
    let mut start = log.len() - max;
    if let Some(nl) = log[start..].iter().position(|b| *b == b'\n') {
        if nl < max / 10 {
            start += nl + 1;
        }
    }
    let omitted = start;
    (
        format!(
            "[... {omitted} bytes omitted ...]\n{}",
            String::from_utf8_lossy(&log[start..])
        ),
        true,
    )
}

/// Failed runs created in `window` (conclusion `failure` or `timed_out`), their failed,
/// timed-out and cancelled jobs, and the tail of each job's log.
pub(crate) async fn ci_failures(
    client: &Client,
    settings: &PublishSettings,
    window: &Window,
) -> Result<CiFailures, GithubError> {
    let created = format!("{}..{}", iso(window.start), iso(window.end));
    let mut runs = Vec::new();
    for status in ["failure", "timed_out"] {
        let target = format!(
            "{}?status={status}&created={}&per_page=100",
            client.repo_path("/actions/runs"),
            encode(&created)
        );
        runs.extend(
            client
                .list(&target, Some("workflow_runs"), settings.max_ci_runs, |_| {
                    true
                })
                .await?,
        );
    }
    // The API's `created` range is inclusive at both ends; the window is half-open.
    runs.retain(|r| time(r, "created_at").is_some_and(|t| window.contains(t)));
    runs.sort_by_key(|r| std::cmp::Reverse(time(r, "created_at")));
    runs.truncate(settings.max_ci_runs);

    let mut out = CiFailures::default();
    'runs: for run in &runs {
        let Some(run_id) = run.get("id").and_then(Value::as_u64) else {
            continue;
        };
        let jobs_target = format!(
            "{}?filter=latest&per_page=100",
            client.repo_path(&format!("/actions/runs/{run_id}/jobs"))
        );
        let jobs = match client.list(&jobs_target, Some("jobs"), 500, |_| true).await {
            Ok(j) => j,
            Err(e) => {
                out.notes.push(format!("jobs of run {run_id}: {e}"));
                if e.stops_run() {
                    break;
                }
                continue;
            }
        };
        for job in jobs {
            let conclusion = text(&job, "conclusion");
            if !matches!(conclusion.as_str(), "failure" | "timed_out" | "cancelled") {
                continue;
            }
            let Some(job_id) = job.get("id").and_then(Value::as_u64) else {
                continue;
            };
            let logs_target = client.repo_path(&format!("/actions/jobs/{job_id}/logs"));
            let (log_text, log_truncated) = match client.get_bytes(&logs_target).await {
                Ok(bytes) => tail(&bytes, settings.max_log_bytes),
                Err(e) => {
                    out.notes.push(format!("log of job {job_id}: {e}"));
                    if e.stops_run() {
                        break 'runs;
                    }
                    (String::new(), false)
                }
            };
            let log_text = codex_contract::redact::redact(&log_text).into_owned();
            let transient_reason = classify_transient(&conclusion, &log_text);
            out.failures.push(CiFailure {
                run_id,
                workflow: text(run, "name"),
                run_url: text(run, "html_url"),
                head_branch: text(run, "head_branch"),
                created_at: time(run, "created_at"),
                job_id,
                job: text(&job, "name"),
                conclusion,
                log_text,
                log_truncated,
                transient: transient_reason.is_some(),
                transient_reason: transient_reason.map(str::to_string),
            });
        }
    }
    Ok(out)
}

/// One `*.ndjson` file from a tool-call artifact.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ArtifactToolcalls {
    pub artifact_id: u64,
    pub artifact_name: String,
    pub run_id: Option<u64>,
    pub created_at: Option<DateTime<Utc>>,
    /// The file's path inside the zip.
    pub entry: String,
    /// The file's bytes (redacted), ready for the contract's tolerant reader.
    #[serde(skip)]
    pub bytes: Vec<u8>,
}

/// The tool-call files found, plus notes on artifacts that could not be used.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ArtifactHarvest {
    pub files: Vec<ArtifactToolcalls>,
    pub skipped: Vec<String>,
}

/// Downloads the artifacts named `toolcalls*` created in `window` and returns their
/// `*.ndjson` files.
pub(crate) async fn artifact_toolcalls(
    client: &Client,
    settings: &PublishSettings,
    window: &Window,
) -> Result<ArtifactHarvest, GithubError> {
    let target = format!("{}?per_page=100", client.repo_path("/actions/artifacts"));
    let start = window.start;
    // Newest first: stop at the first artifact older than the window.
    let artifacts = client
        .list(&target, Some("artifacts"), 1_000, |a| {
            time(a, "created_at").is_none_or(|t| t >= start)
        })
        .await?;
    let mut out = ArtifactHarvest::default();
    for a in artifacts {
        let name = text(&a, "name");
        let created_at = time(&a, "created_at");
        if !name.starts_with(&settings.artifact_prefix)
            || !created_at.is_some_and(|t| window.contains(t))
        {
            continue;
        }
        let Some(id) = a.get("id").and_then(Value::as_u64) else {
            continue;
        };
        if a.get("expired").and_then(Value::as_bool) == Some(true) {
            out.skipped.push(format!("artifact {id} ({name}): expired"));
            continue;
        }
        let zip_target = client.repo_path(&format!("/actions/artifacts/{id}/zip"));
        let zip = match client.get_bytes(&zip_target).await {
            Ok(z) => z,
            Err(e) => {
                out.skipped.push(format!("artifact {id} ({name}): {e}"));
                if e.stops_run() {
                    break;
                }
                continue;
            }
        };
        let run_id = a
            .get("workflow_run")
            .and_then(|r| r.get("id"))
            .and_then(Value::as_u64);
        match unzip_ndjson(&zip, settings.max_artifact_bytes) {
            Ok(entries) => {
                if entries.is_empty() {
                    out.skipped
                        .push(format!("artifact {id} ({name}): no .ndjson file inside"));
                }
                for (entry, bytes) in entries {
                    out.files.push(ArtifactToolcalls {
                        artifact_id: id,
                        artifact_name: name.clone(),
                        run_id,
                        created_at,
                        entry,
                        bytes: codex_contract::redact::redact_bytes(&bytes).into_owned(),
                    });
                }
            }
            Err(why) => out.skipped.push(format!("artifact {id} ({name}): {why}")),
        }
    }
    Ok(out)
}

/// The `*.ndjson` files of a zip, at most `max_total` bytes unpacked in all.
fn unzip_ndjson(zip: &[u8], max_total: u64) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut archive =
        zip::ZipArchive::new(Cursor::new(zip)).map_err(|e| format!("not a zip file: {e}"))?;
    let mut out = Vec::new();
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let mut file = archive
            .by_index(i)
            .map_err(|e| format!("bad zip entry {i}: {e}"))?;
        let name = file
            .name()
            .map_err(|e| format!("bad zip entry name {i}: {e}"))?
            .into_owned();
        if !file.is_file() || !name.ends_with(".ndjson") {
            continue;
        }
        let room = max_total.saturating_sub(total);
        let mut bytes = Vec::new();
        (&mut file)
            .take(room + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| format!("could not unpack {name}: {e}"))?;
        total += bytes.len() as u64;
        if total > max_total {
            return Err(format!("unpacks to more than {max_total} bytes; skipped"));
        }
        out.push((name, bytes));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_failures_are_recognised() {
        assert_eq!(classify_transient("cancelled", ""), Some("cancelled"));
        assert_eq!(
            classify_transient(
                "failure",
                "##[error]The runner has received a shutdown signal. This can happen when..."
            ),
            Some("runner lost")
        );
        assert_eq!(
            classify_transient(
                "failure",
                "fatal: unable to access: Could not resolve host: github.com"
            ),
            Some("network")
        );
        assert_eq!(
            classify_transient("failure", "test result: FAILED. 1 passed; 1 failed"),
            None
        );
    }

    #[test]
    fn log_tail_is_bounded() {
        let log = "line\n".repeat(1000);
        let (t, cut) = tail(log.as_bytes(), 100);
        assert!(cut);
        assert!(t.starts_with("[... "));
        assert!(t.ends_with("line\n"));
        assert!(t.len() < 140);
        let (t, cut) = tail(b"short", 100);
        assert_eq!((t.as_str(), cut), ("short", false));
    }

    #[test]
    fn zip_bombs_are_refused() {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        w.start_file("toolcalls.ndjson", opts).unwrap();
        std::io::Write::write_all(&mut w, &vec![b'a'; 10_000]).unwrap();
        w.start_file("readme.txt", opts).unwrap();
        std::io::Write::write_all(&mut w, b"hi").unwrap();
        let zip = w.finish().unwrap().into_inner();
        let ok = unzip_ndjson(&zip, 20_000).unwrap();
        assert_eq!(ok.len(), 1);
        assert_eq!(ok[0].0, "toolcalls.ndjson");
        assert_eq!(ok[0].1.len(), 10_000);
        assert!(unzip_ndjson(&zip, 5_000).is_err());
        assert!(unzip_ndjson(b"not a zip", 5_000).is_err());
    }

    #[test]
    fn window_is_half_open() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let w = Window {
            start: t("2026-01-01T00:00:00Z"),
            end: t("2026-01-01T12:00:00Z"),
        };
        assert!(w.contains(t("2026-01-01T00:00:00Z")));
        assert!(!w.contains(t("2026-01-01T12:00:00Z")));
    }
}
