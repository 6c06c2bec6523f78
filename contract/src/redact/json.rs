//! JSON-aware redaction: string values are redacted like text, and values under
//! secret-looking keys are replaced whole, whatever they look like.
//!
//! A key is secret-looking when its last word is a secret noun. Words are split at `_`, `-`,
//! `.`, spaces and camelCase boundaries, and compared lower-case:
//! - `password`, `passwd`, `passphrase`, `secret`, `token`, `apikey`, `credential(s)`,
//!   `authorization`, `auth`, `privatekey`, `accesskey`, `secretkey`, `clientsecret`;
//! - `key` when the word before it is `api`, `access`, `secret`, `private`, `signing`,
//!   `encryption`, `account`, `master`, `client`, `auth` or `session` (`x-api-key`,
//!   `AccountKey`), not `key` alone (`"key": "Linux-cargo-..."` is a cache key).
//!
//! So `client_secret`, `accessToken`, `GITHUB_TOKEN`, `x-api-key` and also
//! `password_reset_token` (a reset token grants a password reset) are secret-looking, while
//! `token_count`, `max_tokens`, `token_type`, `secretName`, `private_key_id`, `tokenizer` and
//! `pwd` (usually the working directory) are not.
//!
//! Under such a key, a non-empty string or a number becomes `[REDACTED:json-secret-key]`;
//! placeholders (`${{ secrets.X }}`, `$TOKEN`, `***`, an earlier `[REDACTED:...]`), empty
//! strings, booleans and null stay. Objects under such a key are walked normally (their own
//! keys decide), arrays inherit the key. Keys themselves are never changed.

use serde_json::Value;

use super::checks::is_placeholder;
use super::families::JSON_SECRET_KEY;

const REPLACEMENT: &str = "[REDACTED:json-secret-key]";

pub(crate) fn redact_value(value: &mut Value, under_secret_key: bool) {
    debug_assert_eq!(REPLACEMENT, format!("[REDACTED:{JSON_SECRET_KEY}]"));
    match value {
        Value::String(s) => {
            if under_secret_key && !is_placeholder(s.as_bytes()) {
                *s = REPLACEMENT.to_owned();
            } else if let std::borrow::Cow::Owned(r) = super::redact(s) {
                *s = r;
            }
        }
        Value::Number(_) if under_secret_key => *value = Value::String(REPLACEMENT.to_owned()),
        Value::Array(items) => {
            for item in items {
                redact_value(item, under_secret_key);
            }
        }
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                redact_value(v, is_secret_key(k));
            }
        }
        _ => {}
    }
}

/// Splits a key into lower-case words at separators and camelCase boundaries
/// (`APIKey` → `api`, `key`; `accessToken` → `access`, `token`).
fn words(key: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = key.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if matches!(c, '_' | '-' | '.' | ' ' | ':' | '/') {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if c.is_uppercase() && !cur.is_empty() {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if prev.is_lowercase() || prev.is_ascii_digit() || (prev.is_uppercase() && next_lower) {
                out.push(std::mem::take(&mut cur));
            }
        }
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// See the module docs for the rule.
pub(crate) fn is_secret_key(key: &str) -> bool {
    const NOUNS: &[&str] = &[
        "password",
        "passwd",
        "passphrase",
        "secret",
        "token",
        "apikey",
        "credential",
        "credentials",
        "authorization",
        "auth",
        "privatekey",
        "accesskey",
        "secretkey",
        "clientsecret",
    ];
    const KEY_QUALIFIERS: &[&str] = &[
        "api",
        "access",
        "secret",
        "private",
        "signing",
        "encryption",
        "account",
        "master",
        "client",
        "auth",
        "session",
    ];
    let w = words(key);
    match w.as_slice() {
        [] => false,
        [.., last] if NOUNS.contains(&last.as_str()) => true,
        [.., qualifier, last] if last == "key" => KEY_QUALIFIERS.contains(&qualifier.as_str()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_words() {
        assert_eq!(words("APIKey"), ["api", "key"]);
        assert_eq!(words("accessToken"), ["access", "token"]);
        assert_eq!(words("x-api-key"), ["x", "api", "key"]);
        assert_eq!(words("GITHUB_TOKEN"), ["github", "token"]);
        assert_eq!(words("oauth2Token"), ["oauth2", "token"]);
    }

    #[test]
    fn secret_keys() {
        for k in [
            "password",
            "db_password",
            "client_secret",
            "accessToken",
            "GITHUB_TOKEN",
            "x-api-key",
            "apiKey",
            "api_key",
            "AccountKey",
            "private_key",
            "password_reset_token",
            "Authorization",
            "auth",
            "credentials",
        ] {
            assert!(is_secret_key(k), "{k}");
        }
        for k in [
            "token_count",
            "max_tokens",
            "tokens",
            "token_type",
            "secretName",
            "private_key_id",
            "tokenizer",
            "pwd",
            "key",
            "cache_key",
            "author",
            "session_id",
        ] {
            assert!(!is_secret_key(k), "{k}");
        }
    }
}
