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
                  publishes tickets, the rolling issue and one draft PR per run. Run \
                  `codex-analyzer <command> --help` for each command's flags and examples.\n\n\
                  Exit codes: 0 success, 1 runtime error (unreadable input, git or network \
                  failure, bad config), 2 usage error (a flag or its value is wrong)."
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
    /// Write one Harbor eval task per friction cluster, highest impact first.
    ExportHarbor(crate::harbor::ExportArgs),
    /// Write a self-contained HTML report with charts; prints its path.
    Report(ReportArgs),
    /// Show the whole loop on synthetic Codex sessions in a throwaway workspace: capture,
    /// signals, issues ranked by impact, a Harbor task, a fix and its measured effect.
    Demo(DemoArgs),
    /// Build or update the SQLite store of the log and the state.
    Db(crate::stores::db::DbArgs),
    /// Send the log's tool calls to an OTLP/HTTP collector as spans, resuming where the
    /// last export stopped.
    ExportOtlp(crate::stores::otlp::ExportOtlpArgs),
    /// Upsert the log's friction clusters into a Chroma collection.
    PushChroma(crate::stores::chroma::ChromaArgs),
    /// Find the friction clusters nearest to TEXT in the Chroma collection.
    Similar(crate::stores::chroma::SimilarArgs),
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// The repository to analyze (any directory inside it) [default: the git top level of
    /// the current directory].
    #[arg(long, value_name = "DIR")]
    pub repo: Option<PathBuf>,
    /// The reference time, RFC 3339, e.g. 2026-11-22T13:10:00Z [default: now]. Fixes the run
    /// ID and the windows.
    #[arg(long, value_name = "RFC3339", value_parser = crate::args::now)]
    pub now: Option<DateTime<Utc>>,
    /// Write the run log and the state (without it: a dry run, nothing is written).
    #[arg(long)]
    pub apply: bool,
    /// Run even if the run ID was already processed.
    #[arg(long)]
    pub force: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// The primary window, e.g. 12h, 90m, 2d (units s, m, h, d, w) [default: the config's
    /// `window`, 12h].
    #[arg(long, value_name = "DURATION", value_parser = crate::args::duration)]
    pub window: Option<String>,
    /// The rollup window the rules count over, e.g. 24h, 7d [default: the config's `rollup`,
    /// 24h].
    #[arg(long, value_name = "DURATION", value_parser = crate::args::duration)]
    pub rollup: Option<String>,
    /// The tool-call log [default: $CODEX_TOOLCALLS_LOG, else <repo>/.codex/toolcalls.ndjson].
    #[arg(long, value_name = "PATH")]
    pub log: Option<PathBuf>,
    /// A folder of CI logs (.log/.txt and JUnit .xml) [default: the config's `ci_logs_dir`,
    /// .codex/ci-logs].
    #[arg(long = "ci-logs", value_name = "DIR")]
    pub ci_logs: Option<PathBuf>,
    /// The config file [default: <repo>/.codex/improvement.toml when present, else built-in
    /// defaults].
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// The GitHub repository to read signals from and publish to, e.g. octo/app [default:
    /// $GITHUB_REPOSITORY]. Publishing also needs --apply and $GITHUB_TOKEN.
    #[arg(long = "github-repo", value_name = "OWNER/NAME")]
    pub github_repo: Option<String>,
    /// Turn the semantic layer on for this run even when `[semantic] enabled` is false: an
    /// OpenAI-compatible model judges confusion per session, merges near-duplicate clusters
    /// and summarizes them ($OPENAI_API_KEY, $OPENAI_BASE_URL).
    #[arg(long)]
    pub semantic: bool,
}

#[derive(Args, Debug)]
pub struct RunIdArgs {
    /// The instant, RFC 3339, e.g. 2026-11-22T13:10:00Z [default: now].
    #[arg(long, value_name = "RFC3339", value_parser = crate::args::now)]
    pub now: Option<DateTime<Utc>>,
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// The repository (any directory inside it) [default: the git top level of the current
    /// directory].
    #[arg(long, value_name = "DIR")]
    pub repo: Option<PathBuf>,
    /// The HTML file to write, e.g. out/report.html [default: report.html in the current
    /// directory].
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
    /// The reference time, RFC 3339, e.g. 2026-11-22T13:10:00Z [default: now, shown in the
    /// report].
    #[arg(long, value_name = "RFC3339", value_parser = crate::args::now)]
    pub now: Option<DateTime<Utc>>,
    /// The tool-call log [default: $CODEX_TOOLCALLS_LOG, else <repo>/.codex/toolcalls.ndjson].
    #[arg(long, value_name = "PATH")]
    pub log: Option<PathBuf>,
    /// The window the report covers, e.g. 24h, 30d [default: the last 7 days, reaching back
    /// to the newest record when the last 7 days hold none].
    #[arg(long, value_name = "DURATION", value_parser = crate::args::duration)]
    pub window: Option<String>,
    /// The config file [default: <repo>/.codex/improvement.toml when present, else built-in
    /// defaults].
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
}

#[derive(Args, Debug)]
#[command(
    after_help = "Example: codex-analyzer demo --sessions 50 --out /tmp/codex-demo\n\n\
    The workspace keeps everything: repo/ (git history, .codex/ log, state, run log), \
    codex-home/sessions/ (the rollouts), runs/, harbor/, report.html, ground-truth.json \
    (what was planted) and demo-summary.json (what the pipeline found)."
)]
pub struct DemoArgs {
    /// The workspace folder, new or empty (or an earlier demo's, which is replaced)
    /// [default: a new folder under the system temp dir, kept and printed].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// How many sessions to generate: half before the simulated fix, half after.
    #[arg(long, value_name = "N", default_value_t = crate::demo::DEFAULT_SESSIONS,
          value_parser = clap::value_parser!(u32).range(2..))]
    pub sessions: u32,
    /// The random seed: the same seed (and --now) gives the same sessions and numbers.
    #[arg(long, value_name = "N", default_value_t = crate::demo::DEFAULT_SEED)]
    pub seed: u64,
    /// Pause before each stage until Enter is pressed (for presenting).
    #[arg(long)]
    pub interactive: bool,
    /// The clock, RFC 3339 [default: now]. The second analyzer run is at this time, the
    /// first 24 hours earlier; pin it to reproduce a workspace byte for byte.
    #[arg(long, value_name = "RFC3339", value_parser = crate::args::now)]
    pub now: Option<DateTime<Utc>>,
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
                Ok(w) => {
                    if let Some(n) = &w.notice {
                        eprintln!("codex-analyzer report: note: {n}");
                    }
                    print(&format!("{}\n", w.path.display()))
                }
                Err(e) => {
                    eprintln!("codex-analyzer: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Demo(a) => {
            let opts = crate::demo::DemoOptions {
                out: a.out,
                sessions: a.sessions,
                seed: a.seed,
                interactive: a.interactive,
                now: a.now,
            };
            let mut out = std::io::stdout().lock();
            match crate::demo::run(&opts, &mut out) {
                Ok(_) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("codex-analyzer demo: {e:#}");
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
            // rolling issue and AGENTS.md; the optional semantic layer between them merges
            // and summarizes those clusters.
            let mut closed_loop = ClosedLoop;
            let mut semantic = crate::semantic::SemanticStage::new(a.semantic);
            let mut github = GithubStage::new(GithubTarget::from_env(a.github_repo.as_deref()));
            // The stores (OpenTelemetry, Chroma) last: they export what the run wrote.
            let mut stores = crate::stores::stage::StoresStage;
            match run::run_with(
                &req,
                &mut [&mut closed_loop, &mut semantic, &mut github, &mut stores],
            ) {
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
