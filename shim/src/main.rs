//! `codex-shim`: records coding-agent tool calls into `.codex/toolcalls.ndjson`.
//!
//! `no_main`: the shim starts on every tool call, so it skips std's runtime start-up, whose
//! main-thread stack guard alone parses `/proc/self/maps` (~45 µs of a run that must add under
//! a millisecond to the command it wraps). What that start-up did that the shim relies on is
//! done in [`main`]; arguments still come from `std::env::args_os` (glibc hands them to std
//! before `main`), and every path ends in `std::process::exit`, which flushes stdout.
#![no_main]

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "codex-shim",
    version,
    about = "Capture coding-agent tool calls, redacted, into .codex/toolcalls.ndjson",
    long_about = "Capture coding-agent tool calls, redacted, into .codex/toolcalls.ndjson.\n\n\
        The log path is --log PATH, else $CODEX_TOOLCALLS_LOG, else \
        <git top level>/.codex/toolcalls.ndjson. Recording never changes what the agent or \
        the wrapped command sees: failures to record are one warning line on stderr."
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run a command transparently and record it (exit code, duration, error type, output tails).
    #[command(
        after_help = "Examples:\n  codex-shim exec -- cargo test\n  codex-shim exec --log /tmp/calls.ndjson -- make lint\n\n\
        stdin/stdout/stderr pass through unchanged; the exit code is the command's \
        (128+N if it dies of signal N, 127 if not found)."
    )]
    Exec {
        /// Append to this log, e.g. /tmp/calls.ndjson
        /// [default: $CODEX_TOOLCALLS_LOG, else <git top level>/.codex/toolcalls.ndjson].
        #[arg(long, value_name = "PATH")]
        log: Option<PathBuf>,
        /// Do not print a warning when the call cannot be recorded.
        #[arg(long, short)]
        quiet: bool,
        /// The command and its arguments (after `--`).
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            required = true,
            value_name = "CMD"
        )]
        cmd: Vec<OsString>,
    },
    /// Record one Codex or Claude Code hook payload from stdin (run by the agent; prints
    /// nothing, always exits 0). Install with `codex-shim install`.
    #[command(
        after_help = "Examples:\n  codex-shim install          # writes the hooks that run `codex-shim hook`\n  \
        echo '{\"hook_event_name\":\"Stop\",\"session_id\":\"s\",\"cwd\":\".\"}' | codex-shim hook\n\n\
        Environment:\n  \
        CODEX_TOOLCALLS_LOG           the log path (below --log)\n  \
        CODEX_SHIM_PROMPT_EXCERPT=N   also keep a redacted excerpt of at most N bytes (max 4096)\n  \
        \x20                             of each user prompt [default: none; prompts are never stored]\n  \
        CODEX_SHIM_HOOK_DEADLINE_MS   the hard deadline [default: 2500]\n  \
        CODEX_SHIM_LOCK_TIMEOUT_MS    how long to wait for the log's lock [default: 2000]"
    )]
    Hook {
        /// Append to this log [default: $CODEX_TOOLCALLS_LOG, else <git top level of the
        /// payload's cwd>/.codex/toolcalls.ndjson].
        #[arg(long, value_name = "PATH")]
        log: Option<PathBuf>,
    },
    /// Backfill the log from Codex session rollouts, or record a `codex exec --json` stream.
    #[command(
        after_help = "Examples:\n  codex-shim import ~/.codex/sessions\n  codex-shim import rollout-2026-11-22T00-09-57-….jsonl\n  \
        codex exec --json \"fix the build\" | codex-shim import --exec-json | jq .\n\n\
        Idempotent: records the log already holds are skipped, so importing twice adds nothing."
    )]
    Import {
        /// Rollout files, or folders searched recursively for rollout-*.jsonl.
        #[arg(value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Append to this log, e.g. /tmp/calls.ndjson
        /// [default: $CODEX_TOOLCALLS_LOG, else <git top level>/.codex/toolcalls.ndjson].
        #[arg(long, value_name = "PATH")]
        log: Option<PathBuf>,
        /// Read a `codex exec --json` stream on stdin, pass it to stdout unchanged, and record
        /// its calls.
        #[arg(long)]
        exec_json: bool,
    },
    /// Print the recorded calls, one per line (folded from all their records).
    Calls {
        /// Read this log, e.g. ci/toolcalls.ndjson
        /// [default: $CODEX_TOOLCALLS_LOG, else <git top level>/.codex/toolcalls.ndjson].
        #[arg(long, value_name = "PATH")]
        log: Option<PathBuf>,
        /// One JSON object per line (the folded `Call`), for other tools.
        #[arg(long)]
        json: bool,
        /// Only calls of the session whose ID starts with this, e.g. 019a2b [default: all sessions].
        #[arg(long, value_name = "ID")]
        session: Option<String>,
        /// Only failing calls (failed, denied, blocked, aborted, timeout).
        #[arg(long)]
        failed: bool,
    },
    /// Redact secrets from stdin to stdout: a streaming, binary-safe filter for any text.
    #[command(
        after_help = "Examples:\n  codex-shim redact < build.log > build.redacted.log\n  env | codex-shim redact\n  \
        codex-shim redact --stats < huge.log > /dev/null\n\n\
        Each secret becomes [REDACTED:<family>]; everything else passes unchanged, bytes that are \
        not UTF-8 included. Constant memory, so gigabyte inputs are fine."
    )]
    Redact {
        /// Print how many bytes were read and secrets replaced to stderr at the end.
        #[arg(long)]
        stats: bool,
    },
    /// Add the shim's hooks to a Codex hooks.json (the repository's, or the user's).
    #[command(
        after_help = "Examples:\n  codex-shim install                  # <git top level>/.codex/hooks.json\n  \
        codex-shim install --user           # $CODEX_HOME/hooks.json (~/.codex)\n  \
        codex-shim install --command \"$HOME/.cargo/bin/codex-shim hook\"\n  \
        codex-shim install --gitignore      # also keep .codex/ lock and temp files out of git\n  \
        codex-shim install --uninstall\n\n\
        Other hooks in the file are kept; installing twice writes the same file. Outside a git \
        repository, install refuses unless --repo DIR or --user says where."
    )]
    Install {
        /// The repository whose .codex/hooks.json to edit [default: the git top level of the
        /// current directory].
        #[arg(long, value_name = "DIR", conflicts_with = "user")]
        repo: Option<PathBuf>,
        /// Edit $CODEX_HOME/hooks.json (~/.codex/hooks.json when CODEX_HOME is unset) instead.
        #[arg(long)]
        user: bool,
        /// Remove the shim's entries (and nothing else).
        #[arg(long)]
        uninstall: bool,
        /// The hook command; it must run `codex-shim hook`, e.g. "/usr/local/bin/codex-shim hook".
        #[arg(long, value_name = "CMD", default_value = codex_shim::install::DEFAULT_COMMAND)]
        command: String,
        /// Also append the lines that keep the .codex/ lock and temp files out of git to the
        /// repository's .gitignore (without it they are only printed).
        #[arg(long, conflicts_with = "user")]
        gitignore: bool,
    },
    /// Check that capture works here, and say how to fix what does not (exit 1 if it would not).
    #[command(
        after_help = "Examples:\n  codex-shim doctor\n  codex-shim doctor --repo ~/src/app --codex ~/.npm-global/bin/codex\n\n\
        Checks the shim on PATH, the hooks in <repo>/.codex/hooks.json and $CODEX_HOME/hooks.json, \
        the Codex CLI and its hooks feature, project and hook trust, the log and its newest record. \
        Writes nothing."
    )]
    Doctor {
        /// The repository to check [default: the git top level of the current directory].
        #[arg(long, value_name = "DIR")]
        repo: Option<PathBuf>,
        /// Check this log, e.g. /tmp/calls.ndjson
        /// [default: $CODEX_TOOLCALLS_LOG, else <git top level>/.codex/toolcalls.ndjson].
        #[arg(long, value_name = "PATH")]
        log: Option<PathBuf>,
        /// The Codex CLI to ask [default: `codex` on PATH].
        #[arg(long, value_name = "PATH")]
        codex: Option<PathBuf>,
    },
}

/// The C entry point (see the crate docs for why not Rust's `fn main`).
#[unsafe(no_mangle)]
extern "C" fn main(_argc: libc::c_int, _argv: *const *const libc::c_char) -> libc::c_int {
    // As std's start-up would: a write to a closed pipe fails with EPIPE instead of killing
    // the shim (exec then stops copying and still records; children get SIGPIPE back, as
    // std's spawn resets it to the default for them).
    // SAFETY: setting a signal disposition before any other thread exists.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    run()
}

fn run() -> ! {
    let args: Vec<OsString> = std::env::args_os().collect();
    match args.get(1).and_then(|a| a.to_str()) {
        // The hook runs on every tool call and must never exit non-zero (exit 2 from an
        // argument error would block a tool call): it bypasses clap and parses its flags itself.
        // Only `--help` goes to clap, which prints it and exits 0.
        Some("hook") if !args[2..].iter().any(|a| a == "--help" || a == "-h") => {
            std::process::exit(codex_shim::hook::main(args[2..].iter().cloned()))
        }
        // The exec wrapper adds its start-up to every wrapped command: the common shapes skip
        // clap (see `exec::parse_args`); anything else falls through to clap below.
        Some("exec") => {
            if let Some((cmd, opts)) = codex_shim::exec::parse_args(&args[2..]) {
                std::process::exit(codex_shim::exec::run(cmd, &opts));
            }
        }
        _ => {}
    }
    let cli = Cli::parse();
    let code = match cli.command {
        Cmd::Exec { log, quiet, cmd } => {
            codex_shim::exec::run(&cmd, &codex_shim::exec::ExecOptions { log, quiet })
        }
        Cmd::Hook { log } => {
            let args = log.map(|l| vec![OsString::from("--log"), l.into_os_string()]);
            codex_shim::hook::main(args.unwrap_or_default())
        }
        Cmd::Import {
            paths,
            log,
            exec_json,
        } => codex_shim::import::run(&codex_shim::import::ImportOptions {
            paths,
            log,
            exec_json,
        }),
        Cmd::Calls {
            log,
            json,
            session,
            failed,
        } => codex_shim::calls::run(&codex_shim::calls::CallsOptions {
            log,
            json,
            session,
            failed,
        }),
        Cmd::Redact { stats } => codex_shim::redact::run(stats),
        Cmd::Install {
            repo,
            user,
            uninstall,
            command,
            gitignore,
        } => codex_shim::install::run(&codex_shim::install::InstallOptions {
            target: if user {
                codex_shim::install::Target::User
            } else {
                repo.map_or(
                    codex_shim::install::Target::Here,
                    codex_shim::install::Target::Repo,
                )
            },
            uninstall,
            command,
            gitignore,
        }),
        Cmd::Doctor { repo, log, codex } => {
            codex_shim::doctor::run(&codex_shim::doctor::DoctorOptions { repo, log, codex })
        }
    };
    std::process::exit(code);
}
