//! Test harness shared by the end-to-end tests: where the built binaries are, scratch git
//! repositories, and the local doubles (scripted model server, GitHub REST API) that let the
//! real Codex CLI and the real publisher run with no network.

pub mod bins;
pub mod codex;
pub mod github_double;
pub mod listener;
pub mod model_server;
pub mod openai_double;
pub mod stores;
