//! Stores beyond the NDJSON log: the SQLite view (`db`), OpenTelemetry export (`otlp`) and
//! the Chroma collection of friction clusters (`chroma`). Each is derived from the log (and
//! the state) and can be rebuilt; the log stays the source of truth.
//!
//! The heavy parts live in their own crates (`codex-store` for SQLite, `codex-otlp` for the
//! OTLP messages); these modules resolve paths and config, wire the analyzer's signals and
//! clusters in, and speak HTTP (through `crate::http_client`).

pub mod chroma;
pub mod db;
pub mod embed;
pub mod otlp;
pub mod stage;

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;

use crate::config::Config;
use crate::state::StateFiles;

/// Where the repository, its log and its config are (shared by the store subcommands).
#[derive(Args, Debug, Clone, Default)]
pub struct RepoArgs {
    /// The repository [default: the git top level of the current directory].
    #[arg(long, value_name = "DIR")]
    pub repo: Option<PathBuf>,
    /// The tool-call log [default: env CODEX_TOOLCALLS_LOG, else <repo>/.codex/toolcalls.ndjson].
    #[arg(long, value_name = "PATH")]
    pub log: Option<PathBuf>,
    /// The config file [default: <repo>/.codex/improvement.toml when present].
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
}

/// The resolved paths.
#[derive(Clone, Debug)]
pub struct Target {
    pub repo: PathBuf,
    pub config: Config,
    pub log: PathBuf,
    pub state_files: StateFiles,
    pub run_log: PathBuf,
}

impl Target {
    pub fn resolve(args: &RepoArgs) -> Result<Target> {
        let cwd = std::env::current_dir().context("cannot read the current directory")?;
        let abs = |p: &PathBuf| {
            if p.is_relative() {
                cwd.join(p)
            } else {
                p.clone()
            }
        };
        let repo = match &args.repo {
            Some(r) => {
                let r = abs(r);
                anyhow::ensure!(
                    r.is_dir(),
                    "--repo {} is not a directory; pass the repository's top level",
                    r.display()
                );
                r
            }
            None => codex_contract::paths::git_top_level(&cwd).unwrap_or(cwd.clone()),
        };
        let (config, _) = Config::load(args.config.as_deref(), &repo)?;
        let log = match &args.log {
            Some(p) => abs(p),
            None => codex_contract::paths::log_path(None, &repo),
        };
        Ok(Target {
            state_files: StateFiles::new(repo.join(&config.analysis.state)),
            run_log: repo.join(&config.analysis.run_log),
            repo,
            config,
            log,
        })
    }

    /// A path inside `.codex/` of the repository.
    pub fn codex_path(&self, name: &str) -> PathBuf {
        self.repo.join(".codex").join(name)
    }
}
