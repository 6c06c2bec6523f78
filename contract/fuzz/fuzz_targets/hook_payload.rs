//! Hook payloads (any JSON object, under every event name): no panic, records written whole.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::hook_payload(data));
