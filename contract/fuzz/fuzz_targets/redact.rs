//! Feeds arbitrary bytes to every redaction entry point. Checks: no panic; redacting twice
//! changes nothing more than redacting once; the stream redactor agrees with the one-shot
//! byte redactor (inputs here are far below its buffer size); the text API agrees with the
//! byte API on UTF-8 input; `contains_secret` is true exactly when `redact` changes the text.
#![no_main]

use codex_contract::redact::{contains_secret, redact, redact_bytes, redact_json, redact_stream};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let once = redact_bytes(data).into_owned();
    let twice = redact_bytes(&once);
    assert_eq!(twice.as_ref(), once.as_slice(), "redact_bytes is not idempotent");

    let mut streamed = Vec::new();
    let stats = redact_stream(data, &mut streamed).expect("in-memory I/O cannot fail");
    assert_eq!(streamed, once, "stream and one-shot redaction disagree");
    assert_eq!(stats.bytes_in, data.len() as u64);
    assert_eq!(stats.bytes_out, streamed.len() as u64);

    if let Ok(text) = std::str::from_utf8(data) {
        let r = redact(text);
        assert_eq!(r.as_bytes(), once.as_slice(), "text and byte redaction disagree");
        assert_eq!(contains_secret(text), r != text, "contains_secret disagrees with redact");
        assert_eq!(redact(&r), r, "redact is not idempotent");

        if let Ok(mut value) = serde_json::from_str::<serde_json::Value>(text) {
            redact_json(&mut value);
            let first = value.clone();
            redact_json(&mut value);
            assert_eq!(value, first, "redact_json is not idempotent");
        }
    }
});
