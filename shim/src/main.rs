//! `codex-shim`: records coding-agent tool calls into `.codex/toolcalls.ndjson`.

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
        /// Append to this log instead of the default.
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
}

fn main() {
    let cli = Cli::parse();
    let code = match cli.command {
        Cmd::Exec { log, quiet, cmd } => {
            codex_shim::exec::run(&cmd, &codex_shim::exec::ExecOptions { log, quiet })
        }
    };
    std::process::exit(code);
}
