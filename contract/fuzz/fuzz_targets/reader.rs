//! The tolerant reader on arbitrary bytes: it must never panic, must account for every
//! line (records + skipped + blank = lines), and must fold whatever it returns.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::reader(data));
