//! Rollout lines (any bytes, split at newlines; the first byte picks where an incremental
//! read stops and resumes): no panic, records written whole, resumed reads agree with whole
//! reads.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::rollout_lines(data));
