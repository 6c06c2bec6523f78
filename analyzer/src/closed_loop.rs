//! The closed loop inside `codex-analyzer run`: friction and delight per session
//! ([`crate::signals`]) and impact-ranked friction clusters ([`crate::cluster`]), computed
//! from the rollup's folded calls and session records, put into the JSON output (`sessions`,
//! `clusters`) and the run log (Tool Call Analysis, Failure Clusters, Next 12h Focus).
//!
//! Both are pure functions of the log and `--now`, so the section stays "same inputs, same
//! bytes". The GitHub stage reads the clusters back from `RunOutput::clusters` for tickets,
//! the rolling issue and the `AGENTS.md` guidance block.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::cluster::{self, Cluster, ClusterOptions};
use crate::collect::WindowInfo;
use crate::guidance::code_span;
use crate::run::{Extension, LogExtra, LogSection, RunContext, RunOutput, Signals};
use crate::signals::{self, SessionSignals};

/// `[closed_loop]` in `.codex/improvement.toml`.
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ClosedLoopConfig {
    pub enabled: bool,
    /// Rows per table in the run log, and focus items.
    pub top: usize,
    /// Clusters kept in the JSON output (highest impact first).
    pub max_clusters: usize,
    /// The recency half-life of the impact score, in hours.
    pub half_life_hours: f64,
}

impl Default for ClosedLoopConfig {
    fn default() -> Self {
        ClosedLoopConfig {
            enabled: true,
            top: 5,
            max_clusters: 20,
            half_life_hours: cluster::DEFAULT_HALF_LIFE_HOURS,
        }
    }
}

/// The JSON `sessions` section: the signals of the rollup window.
#[derive(Serialize, Clone, Debug)]
pub struct SessionsSection {
    pub window: WindowInfo,
    #[serde(flatten)]
    pub signals: SessionSignals,
}

/// The JSON `clusters` section.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct ClustersSection {
    /// [`cluster::CLUSTER_ALGORITHM`].
    pub algorithm: String,
    pub window: ClusterWindow,
    pub half_life_hours: f64,
    /// Clusters found in the window.
    pub total: usize,
    /// The first [`ClosedLoopConfig::max_clusters`], highest impact first.
    pub items: Vec<Cluster>,
}

/// The window the clusters were computed over (mirrors [`WindowInfo`], which only
/// serializes).
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct ClusterWindow {
    pub start: String,
    pub end: String,
    pub length: String,
}

impl ClustersSection {
    /// The clusters a run put into its output (`None` when the stage did not run).
    pub fn from_output(out: &RunOutput) -> Option<ClustersSection> {
        out.clusters
            .as_ref()
            .and_then(|v| serde_json::from_value(v.clone()).ok())
    }
}

/// The closed-loop stage.
#[derive(Default)]
pub struct ClosedLoop;

impl Extension for ClosedLoop {
    fn name(&self) -> &str {
        "closed-loop"
    }

    fn analyze(
        &mut self,
        ctx: &RunContext,
        signals: &Signals,
        out: &mut RunOutput,
    ) -> anyhow::Result<()> {
        let cfg: ClosedLoopConfig = ctx.config.section("closed_loop")?.unwrap_or_default();
        if !cfg.enabled {
            return Ok(());
        }
        let calls = &signals.tool_calls.calls;
        let sessions = signals::analyze(calls, &signals.tool_calls.session_events);
        let opts = ClusterOptions {
            half_life_hours: cfg.half_life_hours,
            ..ClusterOptions::at(ctx.now)
        };
        let clusters = cluster::cluster(calls, &opts);
        let window = ctx.rollup.info();

        out.log_extras.push(LogExtra {
            section: LogSection::ToolCallAnalysis,
            markdown: format!(
                "Sessions over the last {} (friction and delight, `docs/closed-loop.md`):\n\n{}",
                window.length,
                demote(&signals::render_markdown(&sessions, cfg.top), 2)
            ),
        });
        out.log_extras.push(LogExtra {
            section: LogSection::FailureClusters,
            markdown: format!(
                "Friction clusters over the last {}, ranked by impact:\n\n{}",
                window.length,
                demote(&render_clusters(&clusters, cfg.top, cfg.half_life_hours), 2)
            ),
        });
        if let Some(focus) = focus(&clusters, cfg.top) {
            out.log_extras.push(LogExtra {
                section: LogSection::Next12hFocus,
                markdown: focus,
            });
        }

        out.sessions = Some(serde_json::to_value(SessionsSection {
            window: window.clone(),
            signals: sessions,
        })?);
        let total = clusters.len();
        out.clusters = Some(serde_json::to_value(ClustersSection {
            algorithm: cluster::CLUSTER_ALGORITHM.to_string(),
            window: ClusterWindow {
                start: window.start,
                end: window.end,
                length: window.length,
            },
            half_life_hours: cfg.half_life_hours,
            total,
            items: clusters.into_iter().take(cfg.max_clusters).collect(),
        })?);
        Ok(())
    }
}

/// [`cluster::render_markdown`] with the half-life actually used.
fn render_clusters(clusters: &[Cluster], top: usize, half_life: f64) -> String {
    let s = cluster::render_markdown(clusters, top);
    if (half_life - cluster::DEFAULT_HALF_LIFE_HOURS).abs() < f64::EPSILON {
        s
    } else {
        s.replace(
            &format!("/ {} h)", cluster::DEFAULT_HALF_LIFE_HOURS),
            &format!("/ {half_life} h)"),
        )
    }
}

/// The Next 12h Focus items: the highest-impact clusters, each with what worked instead.
fn focus(clusters: &[Cluster], top: usize) -> Option<String> {
    let worth: Vec<&Cluster> = clusters.iter().filter(|c| c.count >= 2).take(top).collect();
    if worth.is_empty() {
        return None;
    }
    let mut s = String::from("Friction to remove first (highest impact):\n\n");
    for c in worth {
        let cmd = c.last_command.as_deref().unwrap_or(&c.command_template);
        let _ = write!(
            s,
            "- {} ({}) failed with `{}` {} in {} — impact {:.2}",
            code_span(&crate::finding::sample(cmd, 120)),
            c.tool,
            c.error_type,
            crate::args::plural(c.count, "time"),
            crate::args::plural(c.sessions, "session"),
            c.impact
        );
        match &c.working_alternative {
            Some(a) => {
                let _ = writeln!(
                    s,
                    "; what worked instead: {}.",
                    code_span(&crate::finding::sample(&a.command, 120))
                );
            }
            None => s.push_str("; no working alternative seen yet.\n"),
        }
    }
    Some(s)
}

/// Pushes every Markdown heading `levels` deeper, so a stage's `## Title` nests under the
/// run log's `### Heading` instead of breaking the section apart (`## Run <id>` lines are
/// how the state recognises applied runs).
pub fn demote(markdown: &str, levels: usize) -> String {
    let extra = "#".repeat(levels);
    let mut out = String::with_capacity(markdown.len() + 16);
    let mut fenced = false;
    for line in markdown.split_inclusive('\n') {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        }
        if !fenced && line.starts_with('#') {
            out.push_str(&extra);
        }
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_nest_under_the_run_log_headings() {
        let md = "## Friction\n\ntext # not a heading\n### By tool\n```\n# code\n```\n";
        assert_eq!(
            demote(md, 2),
            "#### Friction\n\ntext # not a heading\n##### By tool\n```\n# code\n```\n"
        );
    }

    #[test]
    fn config_defaults_and_typos() {
        let c = crate::config::Config::parse("[closed_loop]\ntop = 3\n").unwrap();
        let cl: ClosedLoopConfig = c.section("closed_loop").unwrap().unwrap();
        assert_eq!(cl.top, 3);
        assert_eq!(cl.max_clusters, 20);
        let c = crate::config::Config::parse("[closed_loop]\ntpo = 3\n").unwrap();
        assert!(c.section::<ClosedLoopConfig>("closed_loop").is_err());
    }
}
