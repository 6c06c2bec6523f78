//! `codex-shim`: the capture side. Every subcommand appends redacted records through the
//! contract crate; none of them may change the behaviour of the agent or command it observes.

pub mod exec;
pub mod warn;
