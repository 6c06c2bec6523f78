//! Command-line interface: argument parsing and dispatch to the library. Each subcommand is
//! a thin layer over one library entry point, so tests and other tools can call the same
//! code without a process.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};

use crate::closed_loop::ClosedLoop;
use crate::github::GithubStage;
use crate::output::{self, Format, Style};
use crate::publish::GithubTarget;
use crate::run::{self, RunRequest};

#[derive(Parser, Debug)]
#[command(
    name = "codex-analyzer",
    version,
    about = "Twice-daily analysis of agent tool calls, git, PRs and CI: findings, state, run log, GitHub tickets and PR, Harbor tasks.",
    long_about = "Twice-daily analysis of agent tool calls, git history, PRs and CI logs.\n\n\
                  `run` is a dry run unless --apply is given; with --apply and GITHUB_TOKEN it \
                  publishes tickets, the rolling issue and one draft PR per run. See \
                  docs/analyzer.md and docs/github.md."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Analyze the windows ending at --now; print findings (dry run unless --apply).
    Run(RunArgs),
    /// Print the run ID (YYYY-MM-DD-AM|PM in America/Phoenix) of --now.
    RunId(RunIdArgs),
    /// Write one Harbor eval task per friction cluster (see docs/closed-loop.md).
    ExportHarbor(crate::harbor::ExportArgs),
    /// Write a self-contained HTML report with charts (see docs/report.md); prints its path.
    Report(ReportArgs),
    /// Build or update the SQLite store of the log and the state (see docs/store.md).
    Db(crate::stores::db::DbArgs),
    /// Send the log's tool calls to an OTLP/HTTP collector as spans, resuming where the
    /// last export stopped (see docs/store.md).
    ExportOtlp(crate::stores::otlp::ExportOtlpArgs),
    /// Upsert the log's friction clusters into a Chroma collection (see docs/store.md).
    PushChroma(crate::stores::chroma::ChromaArgs),
    /// Find the friction clusters nearest to TEXT in the Chroma collection.
    Similar(crate::stores::chroma::SimilarArgs),
}

fn parse_now(s: &str) -> Result<DateTime<Utc>, String> {
    codex_contract::record::parse_ts(s)
        .ok_or_else(|| format!("{s:?} is not an RFC 3339 time; use e.g. 2026-03-02T13:10:00Z"))
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// The repository to analyze (default: the git top level of the current directory).
    #[arg(long, value_name = "DIR")]
    pub repo: Option<PathBuf>,
    /// The reference time, RFC 3339 (default: now). Fixes the run ID and the windows.
    #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
    pub now: Option<DateTime<Utc>>,
    /// Write the run log and the state (default: dry run, nothing is written).
    #[arg(long)]
    pub apply: bool,
    /// Run even if the run ID was already processed.
    #[arg(long)]
    pub force: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// The primary window (default from config: 12h). Units: s, m, h, d, w.
    #[arg(long, value_name = "DURATION")]
    pub window: Option<String>,
    /// The rollup window the rules count over (default from config: 24h).
    #[arg(long, value_name = "DURATION")]
    pub rollup: Option<String>,
    /// The tool-call log (default: $CODEX_TOOLCALLS_LOG, else <repo>/.codex/toolcalls.ndjson).
    #[arg(long, value_name = "PATH")]
    pub log: Option<PathBuf>,
    /// A folder of CI logs (.log/.txt and JUnit .xml) (default from config: .codex/ci-logs).
    #[arg(long = "ci-logs", value_name = "DIR")]
    pub ci_logs: Option<PathBuf>,
    /// The config file (default: <repo>/.codex/improvement.toml when present).
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// The GitHub repository to read signals from and publish to (default:
    /// $GITHUB_REPOSITORY). Publishing also needs --apply and $GITHUB_TOKEN.
    #[arg(long = "github-repo", value_name = "OWNER/NAME")]
    pub github_repo: Option<String>,
}

#[derive(Args, Debug)]
pub struct RunIdArgs {
    /// The instant, RFC 3339 (default: now).
    #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
    pub now: Option<DateTime<Utc>>,
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// The repository (default: the git top level of the current directory).
    #[arg(long, value_name = "DIR")]
    pub repo: Option<PathBuf>,
    /// The HTML file to write (default: report.html in the current directory).
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
    /// The reference time, RFC 3339 (default: now, shown in the report).
    #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
    pub now: Option<DateTime<Utc>>,
    /// The tool-call log (default: $CODEX_TOOLCALLS_LOG, else <repo>/.codex/toolcalls.ndjson).
    #[arg(long, value_name = "PATH")]
    pub log: Option<PathBuf>,
    /// The window the report covers (default from config: the 24h rollup).
    #[arg(long, value_name = "DURATION")]
    pub window: Option<String>,
    /// The config file (default: <repo>/.codex/improvement.toml when present).
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
}

fn print(text: &str) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        // A closed pipe (`| head`) is not an error worth a message.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("codex-analyzer: cannot write output: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Prints a subcommand's output, or its error chain.
fn finish(name: &str, r: anyhow::Result<String>) -> ExitCode {
    match r {
        Ok(text) => print(&text),
        Err(e) => {
            eprintln!("codex-analyzer {name}: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs a parsed command line.
pub fn dispatch(cli: Cli) -> ExitCode {
    match cli.command {
        Command::RunId(a) => print(&format!(
            "{}\n",
            codex_contract::runid::run_id(a.now.unwrap_or_else(Utc::now))
        )),
        Command::ExportHarbor(a) => match crate::harbor::run_export_cli(a) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("codex-analyzer export-harbor: {e:#}");
                ExitCode::FAILURE
            }
        },
        Command::Report(a) => {
            let req = crate::report::ReportRequest {
                repo: a.repo,
                out: a.out,
                now: a.now,
                log: a.log,
                window: a.window,
                config: a.config,
            };
            match crate::report::generate(&req) {
                Ok(w) => print(&format!("{}\n", w.path.display())),
                Err(e) => {
                    eprintln!("codex-analyzer: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Db(a) => finish(
            "db",
            crate::stores::db::run(&a).map(|(p, r)| crate::stores::db::render(&p, &r)),
        ),
        Command::ExportOtlp(a) => finish(
            "export-otlp",
            crate::stores::otlp::run(&a).map(|r| crate::stores::otlp::render(&r)),
        ),
        Command::PushChroma(a) => finish("push-chroma", crate::stores::chroma::push(&a)),
        Command::Similar(a) => finish("similar", crate::stores::chroma::similar(&a)),
        Command::Run(a) => {
            let req = RunRequest {
                repo: a.repo,
                now: a.now,
                apply: a.apply,
                force: a.force,
                window: a.window,
                rollup: a.rollup,
                log: a.log,
                ci_logs: a.ci_logs,
                config: a.config,
                progress: std::io::stderr().is_terminal(),
            };
            // The stages beyond the built-in rules, in order: the closed loop (signals,
            // clusters) first, so the GitHub stage can put its clusters in tickets, the
            // rolling issue and AGENTS.md.
            let mut closed_loop = ClosedLoop;
            let mut github = GithubStage::new(GithubTarget::from_env(a.github_repo.as_deref()));
            // The stores (OpenTelemetry, Chroma) last: they export what the run wrote.
            let mut stores = crate::stores::stage::StoresStage;
            match run::run_with(&req, &mut [&mut closed_loop, &mut github, &mut stores]) {
                Ok(out) => {
                    let style = Style {
                        colour: a.format == Format::Text && output::use_colour(),
                    };
                    print(&output::render(&out, a.format, style))
                }
                Err(e) => {
                    eprintln!("codex-analyzer: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
