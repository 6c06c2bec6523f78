//! The analyzer as a library: the binary is a thin CLI over these modules.

pub mod publish;
