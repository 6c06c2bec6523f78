//! The analyzer as a library: the binary is a thin CLI over these modules, and tests and
//! benches drive them directly.

pub mod collect;
