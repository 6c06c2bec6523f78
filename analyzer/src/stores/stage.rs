//! The stores in the scheduled job: after an applied run, export to OpenTelemetry when
//! `[otlp] endpoint` is set and push the clusters to Chroma when `[chroma] url` is set.
//!
//! A store being unreachable is a warning in the run's output, never a failed run: the
//! analysis and its tickets matter more, and the OTLP cursor keeps what was not sent.

use std::time::Duration;

use super::chroma::{self, ChromaConfig, Collection};
use super::otlp::{self, OtlpConfig};
use super::Target;
use crate::run::{Extension, RunContext, RunOutput};

/// The stores stage of `codex-analyzer run`.
#[derive(Default)]
pub struct StoresStage;

impl StoresStage {
    fn target(ctx: &RunContext) -> Target {
        Target {
            repo: ctx.repo.clone(),
            config: ctx.config.clone(),
            log: ctx.toolcalls_log.clone(),
            state_files: ctx.state_files.clone(),
            run_log: ctx.run_log.clone(),
        }
    }
}

impl Extension for StoresStage {
    fn name(&self) -> &str {
        "stores"
    }

    fn after_write(&mut self, ctx: &RunContext, out: &mut RunOutput) -> anyhow::Result<()> {
        if !ctx.apply {
            return Ok(());
        }
        let t = Self::target(ctx);
        let ocfg: OtlpConfig = ctx.config.section("otlp")?.unwrap_or_default();
        if !ocfg.endpoint.is_empty() {
            let cursor = t.codex_path("otlp-cursor.json");
            let r = otlp::export(&otlp::Export {
                log: &t.log,
                cursor_path: &cursor,
                endpoint: &ocfg.endpoint,
                batch: ocfg.batch,
                max_retries: ocfg.max_retries,
                backoff: Duration::from_millis(500),
                from_start: false,
                origin: otlp::origin(&t, &ocfg),
            });
            if let Err(e) = r {
                out.warnings.push(format!("OpenTelemetry export: {e:#}"));
            }
        }
        let ccfg: ChromaConfig = ctx.config.section("chroma")?.unwrap_or_default();
        if !ccfg.url.is_empty() {
            let r = ccfg
                .embeddings
                .embedder(&ctx.config)
                .and_then(|e| Collection::open(&ccfg.url, &ccfg, e))
                .and_then(|col| {
                    let clusters = chroma::clusters_of_log(&t)?;
                    col.upsert(&chroma::repository(&t), &clusters)
                });
            if let Err(e) = r {
                out.warnings.push(format!("Chroma push: {e:#}"));
            }
        }
        Ok(())
    }
}
