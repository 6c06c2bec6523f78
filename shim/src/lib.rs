//! `codex-shim`: the capture side. Every subcommand appends redacted records through the
//! contract crate; none of them may change the behaviour of the agent or command it observes.
//!
//! - [`exec`]: run a command and record it (`codex-shim exec -- CMD`);
//! - [`hook`]: one Codex / Claude Code hook payload → records (`codex-shim hook`);
//! - [`rollout`]: the authoritative outcomes from Codex session rollouts, read incrementally
//!   by the hook at the end of each turn and whole by [`import`];
//! - [`exec_json`]: a `codex exec --json` stream passed through and recorded;
//! - [`redact`]: the redactor as a streaming stdin-to-stdout filter (`codex-shim redact`);
//! - [`calls`]: the folded calls of a log, for people and tools;
//! - [`install`]: the shim's entries in a Codex `hooks.json`;
//! - [`doctor`]: whether capture would work here, and the fix for what would not.

pub mod calls;
pub mod dedupe;
pub mod doctor;
pub mod exec;
pub mod exec_json;
pub mod hook;
pub mod import;
pub mod install;
mod progress;
pub mod redact;
pub mod rollout;
pub mod text;
pub mod warn;
