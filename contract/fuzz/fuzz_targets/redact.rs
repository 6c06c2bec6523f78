//! Feeds arbitrary bytes to every redaction entry point. Checks: no panic; redacting twice
//! changes nothing more than redacting once; the stream redactor agrees with the one-shot
//! byte redactor (inputs here are far below its buffer size); the text API agrees with the
//! byte API on UTF-8 input; `contains_secret` is true exactly when `redact` changes the text.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::redaction(data));
