//! The analyzer as a library: the binary is a thin CLI over these modules, and tests and
//! benches drive them directly.
//!
//! Pipeline (`run`): `collect` (tool calls, CI logs, git) → `rules` (findings, each with a
//! contract `fingerprint`) → `deltas` (against the previous run in the `state`) → `runlog`
//! (one Markdown section) → `output` (text, md, json). `signature` is the one normalization
//! algorithm for CI failures, failing commands and friction clusters. The closed loop
//! (`signals`, `cluster`, wired in by `closed_loop`; `guidance`, `harbor`) and GitHub
//! (`publish`, wired in by `github`) plug into the run as extensions.

pub mod args;
pub mod cli;
pub mod closed_loop;
pub mod cluster;
pub mod collect;
pub mod config;
pub mod config_churn;
pub mod deltas;
pub mod demo;
pub mod finding;
pub mod github;
pub mod guidance;
pub mod harbor;
pub mod http_client;
pub mod numbers;
pub mod output;
pub mod publish;
pub mod report;
pub mod rules;
pub mod run;
pub mod runlog;
pub mod semantic;
pub mod signals;
pub mod signature;
pub mod state;
pub mod stores;
pub mod triage;
