//! Secret redaction. Runs before any byte reaches disk or the network.
//!
//! (Skeleton: the redaction engine is being written; the API below is fixed.)

use std::borrow::Cow;

/// Redacts every secret in `text`, replacing each with `[REDACTED:<family>]`.
pub fn redact(text: &str) -> Cow<'_, str> {
    Cow::Borrowed(text)
}

/// Byte-level redaction: bytes that are not UTF-8 pass through unchanged.
pub fn redact_bytes(bytes: &[u8]) -> Cow<'_, [u8]> {
    Cow::Borrowed(bytes)
}

/// Redacts string values in a JSON document in place, including whole values under
/// secret-looking keys (`password`, `api_key`, `token`, ...).
pub fn redact_json(_value: &mut serde_json::Value) {}

/// True when `text` still holds something that looks like a secret: the final check
/// before anything is published.
pub fn contains_secret(_text: &str) -> bool {
    false
}
