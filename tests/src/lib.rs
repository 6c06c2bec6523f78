//! Test harness shared by the end-to-end tests: where the built binaries are, scratch git
//! repositories, and the local doubles (scripted model server, GitHub REST API).

pub mod bins;
pub mod github_double;
