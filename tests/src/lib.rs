//! Test harness shared by the end-to-end tests.

pub mod codex;
pub mod model_server;
