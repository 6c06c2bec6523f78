//! The optional semantic layer over any OpenAI-compatible endpoint (`docs/semantic.md`):
//! per-session confusion and frustration ([`confusion`]), embedding merges of
//! near-duplicate clusters ([`merge`]) and model-written cluster summaries ([`summary`]),
//! with every result cached by content hash ([`cache`]) and every request under one budget
//! and one secret check ([`client`]).
//!
//! It runs as a [`run::Extension`] after the closed loop (whose clusters it merges and
//! summarizes) and before GitHub publishing (which shows the summaries, marked as
//! model-written). Off unless `[semantic] enabled = true` or `--semantic`. The deterministic
//! results stay the reference: when the endpoint is down, the budget runs out or an answer
//! is invalid, the run completes with what the deterministic stages found and says what it
//! skipped.

pub mod cache;
pub mod client;
pub mod confusion;
pub mod merge;
pub mod summary;

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use client::{Budget, Client, ClientError};

use crate::closed_loop::ClustersSection;
use crate::cluster::{Cluster, ClusterOptions};
use crate::config::Config;
use crate::run::{self, LogExtra, LogSection, RunContext, RunOutput, Signals, WriteAction};
use cache::Cache;
use client::{Auth, Message, Settings};
use codex_contract::fold::Call;
use confusion::SessionJudgement;
use merge::Merge;

/// The default API base when neither the config nor `OPENAI_BASE_URL` names one.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// `[semantic]` in `.codex/improvement.toml`.
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SemanticConfig {
    pub enabled: bool,
    /// The API base (default: `$OPENAI_BASE_URL`, else [`DEFAULT_BASE_URL`]).
    pub base_url: Option<String>,
    pub chat_model: String,
    pub embedding_model: String,
    /// The environment variable holding the key (never the key itself).
    pub api_key_env: String,
    /// `bearer` (`Authorization: Bearer`) or `api-key` (Azure OpenAI keys).
    pub auth: String,
    /// Per-run budget: requests sent (retries included) and tokens.
    pub max_requests: u32,
    pub max_tokens: u64,
    /// Deadline of one request attempt, in seconds.
    pub timeout_secs: f64,
    /// Retries after a 429, a 5xx or a timeout.
    pub max_retries: u32,
    /// Sessions with friction judged per run (most friction first).
    pub max_sessions: usize,
    /// Clusters summarized per run (highest impact first, 2+ failures).
    pub summaries: usize,
    /// Cosine similarity at or above which clusters merge ([`merge::DEFAULT_THRESHOLD`]).
    pub merge_threshold: f64,
    /// The cache file, relative to the repository.
    pub cache: String,
}

impl Default for SemanticConfig {
    fn default() -> Self {
        SemanticConfig {
            enabled: false,
            base_url: None,
            chat_model: "gpt-4o-mini".into(),
            embedding_model: "text-embedding-3-small".into(),
            api_key_env: "OPENAI_API_KEY".into(),
            auth: "bearer".into(),
            max_requests: 40,
            max_tokens: 100_000,
            timeout_secs: 30.0,
            max_retries: 2,
            max_sessions: 20,
            summaries: 5,
            merge_threshold: merge::DEFAULT_THRESHOLD,
            cache: ".codex/semantic-cache.json".into(),
        }
    }
}

impl SemanticConfig {
    /// The effective API base: config, then `$OPENAI_BASE_URL`, then OpenAI.
    pub fn base_url(&self) -> String {
        self.base_url
            .clone()
            .filter(|s| !s.trim().is_empty())
            .or_else(|| {
                std::env::var("OPENAI_BASE_URL")
                    .ok()
                    .filter(|s| !s.trim().is_empty())
            })
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_string())
    }

    /// A client for this config, the key read from the environment. Also what other stages
    /// (the Chroma export) use to embed when the semantic layer is configured.
    pub fn client(&self) -> anyhow::Result<Client> {
        let auth = match self.auth.as_str() {
            "bearer" => Auth::Bearer,
            "api-key" => Auth::ApiKey,
            other => {
                anyhow::bail!("[semantic] auth must be \"bearer\" or \"api-key\", not {other:?}")
            }
        };
        if !(0.0..=1.0).contains(&self.merge_threshold) {
            anyhow::bail!(
                "[semantic] merge_threshold must be a cosine similarity in [0, 1], e.g. 0.9"
            );
        }
        if !(self.timeout_secs > 0.0 && self.timeout_secs <= 600.0) {
            anyhow::bail!("[semantic] timeout_secs must be between 0 and 600");
        }
        let base_url = self.base_url();
        let api_key = std::env::var(&self.api_key_env)
            .ok()
            .filter(|k| !k.trim().is_empty());
        if api_key.is_none() && base_url.contains("api.openai.com") {
            anyhow::bail!(
                "no API key: set ${} (the workflow passes the optional OPENAI_API_KEY secret), \
                 or point [semantic] base_url / $OPENAI_BASE_URL at a local server",
                self.api_key_env
            );
        }
        let settings = Settings {
            base_url,
            api_key,
            auth,
            timeout: Duration::from_secs_f64(self.timeout_secs),
            max_retries: self.max_retries,
            wait_cap: Duration::from_secs(30),
            backoff: Duration::from_millis(500),
        };
        Client::new(
            settings,
            &self.chat_model,
            &self.embedding_model,
            Budget::new(self.max_requests, self.max_tokens),
        )
    }
}

/// Something the layer did not do, and why.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Skip {
    /// `confusion`, `embedding` or `summary`.
    pub kind: String,
    /// The session or cluster ID.
    pub subject: String,
    pub reason: String,
}

/// The `semantic` section of the JSON output.
#[derive(Serialize, Clone, Debug, Default)]
pub struct SemanticReport {
    /// The API base the requests went to (credentials in it are redacted).
    pub endpoint: String,
    pub chat_model: String,
    pub embedding_model: String,
    /// The budget and what was used of it.
    pub budget: Budget,
    pub retries: u32,
    pub cache_path: String,
    pub cache_hits: u32,
    pub cache_misses: u32,
    /// Sessions with friction the model judged (all of them, friction or not).
    pub sessions: Vec<SessionJudgement>,
    /// Cluster merges made.
    pub merges: Vec<Merge>,
    /// Clusters given a model-written summary.
    pub summarized: Vec<String>,
    /// What was not asked (budget, secret check, endpoint down).
    pub skipped: Vec<Skip>,
    /// Answers that stayed invalid after one retry.
    pub dropped: Vec<Skip>,
    /// Why the layer stopped early, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<String>,
}

/// The stage.
pub struct SemanticStage {
    /// `--semantic`: on even when the config does not enable it.
    forced: bool,
    /// The cache to write after the run (apply only).
    cache: Option<Cache>,
}

impl SemanticStage {
    pub fn new(forced: bool) -> SemanticStage {
        SemanticStage {
            forced,
            cache: None,
        }
    }
}

/// What asking the model gave.
enum Asked<T> {
    Got(T),
    /// Invalid twice: why.
    Dropped(String),
    /// Not asked or no answer.
    NotSent(ClientError),
}

/// One structured question: from the cache (re-validated), else asked, validated, retried
/// once with the reason when invalid, then dropped. The cache keeps the answer's text.
fn ask<T>(
    client: &Client,
    cache: &mut Cache,
    system: &str,
    user: String,
    (schema_name, schema): (&str, &Value),
    max_tokens: u32,
    validate: impl Fn(&str) -> Result<T, String>,
) -> Asked<T> {
    let key = cache::key(
        schema_name,
        client.chat_model(),
        &format!("{system}\n{schema}\n{user}"),
    );
    if let Some(t) = cache
        .get(&key)
        .and_then(|v| v.as_str().map(str::to_string))
        .and_then(|s| validate(&s).ok())
    {
        return Asked::Got(t);
    }
    let mut messages = vec![Message::system(system), Message::user(user)];
    let mut last_why = String::new();
    for attempt in 0..2 {
        let why = match client.chat_json(&messages, schema_name, schema, max_tokens) {
            Ok(a) => match validate(&a.content) {
                Ok(t) => {
                    cache.put(key, Value::String(a.content));
                    return Asked::Got(t);
                }
                Err(why) => {
                    if attempt == 0 {
                        let echo = crate::finding::sample(&a.content, 2000);
                        messages.push(Message::assistant(crate::cluster::redacted(&echo)));
                    }
                    why
                }
            },
            Err(ClientError::Decode(why)) => why,
            Err(e) => return Asked::NotSent(e),
        };
        if attempt == 0 {
            messages.push(Message::user(format!(
                "That answer is invalid: {why}. Answer again with JSON that follows the schema exactly."
            )));
        }
        last_why = why;
    }
    Asked::Dropped(last_why)
}

impl<T> Asked<T> {
    /// Files a non-answer under `report`; the answer, if any.
    fn into_report(self, kind: &str, subject: &str, report: &mut SemanticReport) -> Option<T> {
        let skip = |reason: String| Skip {
            kind: kind.to_string(),
            subject: subject.to_string(),
            reason,
        };
        match self {
            Asked::Got(t) => return Some(t),
            Asked::Dropped(why) => report
                .dropped
                .push(skip(format!("invalid answer twice: {why}"))),
            Asked::NotSent(e) => report.skipped.push(skip(e.to_string())),
        }
        None
    }
}

impl run::Extension for SemanticStage {
    fn name(&self) -> &str {
        "semantic"
    }

    fn analyze(
        &mut self,
        ctx: &RunContext,
        signals: &Signals,
        out: &mut RunOutput,
    ) -> anyhow::Result<()> {
        let cfg: SemanticConfig = ctx.config.section("semantic")?.unwrap_or_default();
        if !(cfg.enabled || self.forced) {
            return Ok(());
        }
        let client = match cfg.client() {
            Ok(c) => c,
            Err(e) => {
                out.warnings.push(format!(
                    "semantic layer off for this run: {e:#}; the results are the deterministic ones"
                ));
                return Ok(());
            }
        };
        let (mut cache, damaged) = Cache::load(&ctx.repo.join(&cfg.cache));
        out.warnings.extend(damaged);
        let mut report = SemanticReport {
            endpoint: codex_contract::redact::redact(&cfg.base_url()).into_owned(),
            chat_model: cfg.chat_model.clone(),
            embedding_model: cfg.embedding_model.clone(),
            cache_path: ctx.display(cache.path()),
            ..SemanticReport::default()
        };

        // 1. Merge near-duplicate clusters, 2. summarize the top ones.
        if let Some(mut section) = ClustersSection::from_output(out) {
            let opts = ClusterOptions {
                half_life_hours: section.half_life_hours,
                ..ClusterOptions::at(ctx.now)
            };
            let before = section.items.len();
            section.items = merge_near_duplicates(
                &client,
                &mut cache,
                std::mem::take(&mut section.items),
                cfg.merge_threshold,
                &signals.tool_calls.calls,
                &opts,
                &mut report,
            );
            section.total -= before - section.items.len();
            let mut left = cfg.summaries;
            for c in section.items.iter_mut().filter(|c| c.count >= 2) {
                if left == 0 {
                    break;
                }
                left -= 1;
                let model = client.chat_model().to_string();
                let asked = ask(
                    &client,
                    &mut cache,
                    summary::SYSTEM_PROMPT,
                    summary::prompt(c),
                    (summary::SCHEMA_NAME, &summary::schema()),
                    400,
                    |s| summary::validate(&model, s),
                );
                if let Some(s) = asked.into_report("summary", &c.id, &mut report) {
                    c.summary = Some(s);
                    report.summarized.push(c.id.clone());
                }
            }
            let notes: Vec<&Cluster> = section.items.iter().collect();
            let notes = summary::render_notes(&notes);
            if !notes.is_empty() {
                out.log_extras.push(LogExtra {
                    section: LogSection::FailureClusters,
                    markdown: format!("Semantic layer (`docs/semantic.md`):\n\n{notes}"),
                });
            }
            out.clusters = Some(serde_json::to_value(&section)?);
        }

        // 3. Confusion and frustration per session with friction.
        let transcripts = confusion::transcripts(
            &signals.tool_calls.calls,
            &signals.tool_calls.session_events,
        );
        for (i, t) in transcripts.iter().enumerate() {
            if i >= cfg.max_sessions {
                report.skipped.push(Skip {
                    kind: "confusion".into(),
                    subject: t.session_id.clone(),
                    reason: format!("past max_sessions ({})", cfg.max_sessions),
                });
                continue;
            }
            let asked = ask(
                &client,
                &mut cache,
                confusion::SYSTEM_PROMPT,
                confusion::prompt(t),
                (confusion::SCHEMA_NAME, &confusion::schema()),
                300,
                |s| confusion::validate(t, s),
            );
            if let Some(j) = asked.into_report("confusion", &t.session_id, &mut report) {
                report.sessions.push(j);
            }
        }
        if let Some(md) = render_sessions(&report) {
            out.log_extras.push(LogExtra {
                section: LogSection::ToolCallAnalysis,
                markdown: md,
            });
        }

        report.budget = client.budget();
        report.retries = client.retries();
        report.unavailable = client.down_reason();
        report.cache_hits = cache.hits;
        report.cache_misses = cache.misses;
        warn(&report, out);
        out.semantic = Some(serde_json::to_value(&report)?);
        self.cache = Some(cache);
        Ok(())
    }

    fn after_write(&mut self, ctx: &RunContext, out: &mut RunOutput) -> anyhow::Result<()> {
        let Some(cache) = &self.cache else {
            return Ok(());
        };
        let existed = cache.path().exists();
        match cache.save() {
            Ok(bytes) => out.written.push(WriteAction {
                path: ctx.display(cache.path()),
                action: if existed { "replace" } else { "create" }.into(),
                bytes,
                note: Some(format!(
                    "semantic-layer cache, {} entries (this run's results)",
                    cache.len()
                )),
            }),
            Err(e) => out
                .warnings
                .push(format!("semantic cache not saved: {e:#}")),
        }
        Ok(())
    }
}

/// Merges near-duplicates among `items` (ranked) by their embeddings, cached ones first, and
/// notes the merges in `report`. The stage and [`merge_for_export`] share it, so a failure
/// the run log shows merged is exported under the same ID.
fn merge_near_duplicates(
    client: &Client,
    cache: &mut Cache,
    items: Vec<Cluster>,
    threshold: f64,
    calls: &[Call],
    opts: &ClusterOptions,
    report: &mut SemanticReport,
) -> Vec<Cluster> {
    let vectors = embed_cached(client, cache, &items, report);
    let (items, merges) = merge::merge(items, &vectors, threshold, calls, opts);
    report.merges = merges;
    items
}

/// What [`merge_for_export`] did.
#[derive(Debug, Default)]
pub struct ExportMerge {
    /// The clusters, near-duplicates merged, highest impact first.
    pub clusters: Vec<Cluster>,
    /// The merges made.
    pub merges: Vec<Merge>,
    /// Why the layer did not run or did not finish, in words for the terminal.
    pub warnings: Vec<String>,
}

/// The semantic merge outside a run, for `export-harbor`: when `[semantic]` is enabled or
/// `forced`, merges near-duplicates among the first `head` clusters, the ones a run merges
/// and publishes (`[closed_loop] max_clusters`), exactly as the run does. Embeddings come
/// from the run's cache first; new ones are added to it without evicting the rest. Off, or
/// no answer: the clusters as they are, with a warning, never an error.
pub fn merge_for_export(
    repo: &Path,
    config: &Config,
    forced: bool,
    mut clusters: Vec<Cluster>,
    head: usize,
    calls: &[Call],
    opts: &ClusterOptions,
) -> anyhow::Result<ExportMerge> {
    let cfg: SemanticConfig = config.section("semantic")?.unwrap_or_default();
    if !(cfg.enabled || forced) {
        return Ok(ExportMerge {
            clusters,
            ..ExportMerge::default()
        });
    }
    let client = match cfg.client() {
        Ok(c) => c,
        Err(e) => {
            let why = format!("semantic layer off for this export: {e:#}");
            return Ok(ExportMerge {
                clusters,
                warnings: vec![format!("{why}; exporting the deterministic clusters")],
                ..ExportMerge::default()
            });
        }
    };
    let (mut cache, damaged) = Cache::load(&repo.join(&cfg.cache));
    let mut warnings: Vec<String> = damaged.into_iter().collect();
    let mut report = SemanticReport::default();
    let tail = clusters.split_off(head.min(clusters.len()));
    // Merging only raises impact, so the tail still ranks below every merged cluster.
    let mut merged = merge_near_duplicates(
        &client,
        &mut cache,
        clusters,
        cfg.merge_threshold,
        calls,
        opts,
        &mut report,
    );
    merged.extend(tail);
    if let Some(why) = client.down_reason() {
        warnings.push(format!(
            "semantic layer stopped: {why}; clusters it could not embed are exported unmerged"
        ));
    } else if !report.skipped.is_empty() {
        warnings.push(format!(
            "semantic layer: {} cluster(s) not embedded ({}); they are exported unmerged",
            report.skipped.len(),
            report.skipped[0].reason
        ));
    }
    if cache.misses > 0 {
        cache.keep_unused();
        if let Err(e) = cache.save() {
            warnings.push(format!("semantic cache not saved: {e:#}"));
        }
    }
    Ok(ExportMerge {
        clusters: merged,
        merges: report.merges,
        warnings,
    })
}

/// Embeddings of `clusters` (one per cluster; `None` where none could be had): cached ones
/// from the cache, the rest in one request.
fn embed_cached(
    client: &Client,
    cache: &mut Cache,
    clusters: &[Cluster],
    report: &mut SemanticReport,
) -> Vec<Option<Vec<f32>>> {
    let texts: Vec<String> = clusters.iter().map(merge::text_of).collect();
    let keys: Vec<String> = texts
        .iter()
        .map(|t| cache::key("embedding", client.embedding_model(), t))
        .collect();
    let mut vectors: Vec<Option<Vec<f32>>> = keys
        .iter()
        .map(|k| cache.get(k).and_then(|v| serde_json::from_value(v).ok()))
        .collect();
    let missing: Vec<usize> = (0..texts.len()).filter(|&i| vectors[i].is_none()).collect();
    if missing.is_empty() || clusters.len() < 2 {
        return vectors;
    }
    let batch: Vec<String> = missing.iter().map(|&i| texts[i].clone()).collect();
    match client.embed(&batch) {
        Ok(got) => {
            for (&i, v) in missing.iter().zip(got) {
                cache.put(keys[i].clone(), serde_json::json!(v));
                vectors[i] = Some(v);
            }
        }
        Err(e) => {
            for &i in &missing {
                report.skipped.push(Skip {
                    kind: "embedding".into(),
                    subject: clusters[i].id.clone(),
                    reason: e.to_string(),
                });
            }
        }
    }
    vectors
}

/// The run-log table of sessions the model found friction in.
fn render_sessions(report: &SemanticReport) -> Option<String> {
    let hits: Vec<&SessionJudgement> = report.sessions.iter().filter(|j| j.is_friction()).collect();
    if report.sessions.is_empty() {
        return None;
    }
    let mut s = format!(
        "Semantic friction (model-judged by `{}` over {} session(s) with friction; model-written causes, `docs/semantic.md`):\n\n",
        report.chat_model,
        report.sessions.len()
    );
    if hits.is_empty() {
        s.push_str("No confusion or frustration found.\n");
        return Some(s);
    }
    s.push_str("| Session | Confusion | Frustrated | Cause (model-written) |\n|---|---|---|---|\n");
    for j in hits {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} |",
            crate::runlog::code(&j.session_id),
            if j.confusion_kinds.is_empty() {
                "—".to_string()
            } else {
                j.confusion_kinds.join(", ")
            },
            if j.user_frustrated { "yes" } else { "no" },
            j.cause.replace('|', "\\|")
        );
    }
    Some(s)
}

/// One warning per kind of shortfall, so a run with the endpoint down says it once.
fn warn(report: &SemanticReport, out: &mut RunOutput) {
    if let Some(why) = &report.unavailable {
        out.warnings.push(format!(
            "semantic layer stopped: {why}; the run's results are the deterministic ones ({} item(s) not analyzed)",
            report.skipped.len()
        ));
    }
    let budget: Vec<&Skip> = report
        .skipped
        .iter()
        .filter(|s| s.reason.contains("budget"))
        .collect();
    if !budget.is_empty() {
        out.warnings.push(format!(
            "semantic layer budget reached ({} requests, {} tokens used): skipped {}; raise [semantic] max_requests / max_tokens to cover more",
            report.budget.requests,
            report.budget.tokens,
            count_by_kind(&budget)
        ));
    }
    let secret = report
        .skipped
        .iter()
        .filter(|s| s.reason.contains("secret"))
        .count();
    if secret > 0 {
        out.warnings.push(format!(
            "semantic layer refused to send {secret} request(s) that still looked secret after redaction"
        ));
    }
    for d in &report.dropped {
        out.warnings.push(format!(
            "semantic layer dropped the model's answer for {} {} after one retry ({})",
            d.kind,
            d.subject,
            crate::finding::sample(&d.reason, 200)
        ));
    }
}

fn count_by_kind(skips: &[&Skip]) -> String {
    let mut by: std::collections::BTreeMap<&str, usize> = Default::default();
    for s in skips {
        *by.entry(s.kind.as_str()).or_default() += 1;
    }
    by.iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_defaults_and_typos() {
        let parse = |t: &str| {
            crate::config::Config::parse(t)
                .unwrap()
                .section::<SemanticConfig>("semantic")
        };
        let c = parse("[semantic]\nenabled = true\n").unwrap().unwrap();
        assert!(c.enabled);
        assert_eq!(c.chat_model, "gpt-4o-mini");
        assert_eq!(c.max_requests, 40);
        assert!(parse("[semantic]\nenabeld = true\n").is_err());
        let shipped = parse(include_str!("../../../.codex/improvement.toml"))
            .unwrap()
            .unwrap();
        assert_eq!(
            shipped,
            SemanticConfig::default(),
            "shipped off, with the defaults"
        );
    }
}
