//! Signal collectors: each turns one source (git history, tool-call log, CI logs) into plain
//! data for the detection rules.

pub mod git;
