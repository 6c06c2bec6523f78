//! `codex-analyzer`: see `docs/analyzer.md`. Parsing and dispatch live in the library.

use clap::Parser;

fn main() -> std::process::ExitCode {
    codex_analyzer::cli::dispatch(codex_analyzer::cli::Cli::parse())
}
