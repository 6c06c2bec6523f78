//! The analyzer's library: everything `codex-analyzer` does, callable from its thin `main.rs`
//! and from tests.

pub mod cluster;
pub mod guidance;
pub mod harbor;
pub mod publish;
pub mod signals;
