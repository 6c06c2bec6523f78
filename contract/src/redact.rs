//! Secret redaction. Runs before any byte reaches disk or the network.
//!
//! Every secret found is replaced by `[REDACTED:<family>]`, where `<family>` is one of
//! [`families()`] (`[REDACTED:github-token]`, `[REDACTED:url-credentials]`, ...). For
//! credentials with context (`scheme://user:password@host`, `curl -u user:password`,
//! `API_KEY=value`) only the secret part is replaced, so the output still says what happened.
//!
//! # How it works
//! A keyword prefilter (two SIMD aho-corasick searchers, built once per process in ~0.1 ms)
//! finds the places where a secret could be. Each keyword triggers only the patterns that
//! can contain it, and only when a cheap shape check around it holds (`token` followed by an
//! assignment of a non-placeholder value, `Bearer` followed by a token, ...). A triggered
//! pattern's regex is compiled on first use (once per process) and run on the line around
//! the keyword. So text without secrets costs one scan (≥ 1 GB/s) and allocates nothing,
//! and a shim process compiles only the few regexes its input needs. See `engine.rs` for
//! the details and `families.rs` for the table of families, keywords and patterns.
//!
//! # Decisions
//! - **Exactly the secret**: the user, host and path of a URL, the flag, the key, the quotes
//!   and the query keys around a secret survive (`x-access-token:[REDACTED:github-token]@
//!   github.com/acme/api.git`); `tests/redaction_exact.rs` holds every family to it. A shell
//!   command continued with a trailing `\` is one line for the patterns (`curl \` then
//!   `-u user:pw`). Coverage and measured rates: `docs/redaction.md`.
//! - **Placeholders stay**: `$TOKEN`, `${TOKEN}`, `${{ secrets.X }}`, `<token>`, `***`,
//!   `%TOKEN%`, `{{ token }}`, `{password}`, masked tokens (`ghp_xxxx...`,
//!   `AKIAXXXXXXXXXXXXXXXX`) and an earlier `[REDACTED:...]` are not secrets.
//! - **Idempotent**: `redact(redact(x)) == redact(x)`. Candidates that touch an existing
//!   label are dropped, and the output is the fixpoint of the single pass (a second pass
//!   only runs when the first replaced something, and rarely finds more; see
//!   [`redact_bytes`]). The fuzz target `contract/fuzz` checks this on arbitrary bytes.
//! - **AWS example keys stay**: `AKIAIOSFODNN7EXAMPLE` and the matching example secret are
//!   documentation (gitleaks allowlists them too).
//! - **Generic `key = value` needs a secret-looking value** (see `checks::generic_secret`):
//!   this rule sees source code and prose, so code (`password = None`,
//!   `token = get_token()`), paths, plain words (`password: string`) and low-entropy tokens
//!   stay. Passwords need 6+ chars and a digit, symbol or mixed case (`password: hunter2` is
//!   redacted); tokens and keys need 8+ chars and at least 3.0 bits of entropy per char.
//!   Explicit forms (`DB_PASSWORD=x`, `--password x`, `mysql -px`, JSON secret keys) redact
//!   any non-placeholder value.
//! - **Environment assignments** are upper-case names whose last part is a secret noun:
//!   `*_PASSWORD`, `*PASSWD`, `*_PASS`, `*_PWD` (not `PWD`/`OLDPWD`), `*TOKEN`, `*SECRET`,
//!   `*_AUTH`, `*_CREDENTIALS`, `*API_KEY`, `*ACCESS_KEY`, `*PRIVATE_KEY`, ... so
//!   `TOKEN_LIMIT=4096` and `GPG_KEY=<fingerprint>` stay. `PGPASSWORD=` is one of these.
//! - **Password flags**: `--password x`, `--db-password=x`, `--pass x`, `-pass pass:x`
//!   (openssl), `--token/--api-key/--secret x` (token-looking values only), `sshpass -p x`,
//!   and `-p` only where it means a password: attached in `mysql`/`mariadb` commands
//!   (`-pSECRET`; `-p name` names a database) and after `docker|podman|helm ... login`.
//!   `mkdir -p`, `cargo test -p`, `ssh -p 22` stay.
//! - **JSON**: values under keys whose last word is a secret noun are replaced whole (see
//!   `json.rs`); `password_reset_token` as a *key* is such a key (a reset token is a
//!   credential), as an identifier in text it is left alone.
//! - **Twilio keys** (`SK` + 32 hex) are only looked for when the input mentions `twilio`.
//! - **Truncated PEM blocks** (no footer) are redacted from the header through the base64
//!   body (see `pem.rs`).
//!
//! Hard negatives that survive: git SHAs, UUIDs, `checksum = "<hex>"`, `sha512-...`
//! integrity strings, `sha256:` digests, `Original token count: 1234`, identifiers like
//! `password_reset_token` or `get_token()`, `TOKEN_LIMIT=4096`, URLs without credentials.

mod checks;
mod engine;
mod families;
mod json;
mod keywords;
mod pem;
mod stream;

use std::borrow::Cow;
use std::io::{self, Read, Write};

pub use stream::StreamStats;

/// Redacts every secret in `text`, replacing each with `[REDACTED:<family>]`.
///
/// Returns the input borrowed when nothing was found (the common case allocates nothing).
pub fn redact(text: &str) -> Cow<'_, str> {
    let mut spans = Vec::new();
    if !engine::find_spans(text.as_bytes(), &mut spans, false) {
        return Cow::Borrowed(text);
    }
    let mut labels = Vec::new();
    let mut out = apply_str(text, &mut spans, &mut labels);
    for _ in 1..MAX_PASSES {
        let dirty = engine::dirty_ranges(out.as_bytes(), &labels);
        if !engine::find_spans_near(out.as_bytes(), &mut spans, false, Some(&dirty)) {
            break;
        }
        labels.clear();
        out = apply_str(&out, &mut spans, &mut labels);
    }
    Cow::Owned(out)
}

/// Upper bound on redaction passes, see [`redact_bytes`].
const MAX_PASSES: usize = 8;

fn apply_str(text: &str, spans: &mut [engine::Span], labels: &mut Vec<(usize, usize)>) -> String {
    // Matches are ASCII-delimited, but a value class such as `[^\s"']+` may end inside a
    // multi-byte character: widen every span to char boundaries (apply skips overlaps).
    for s in spans.iter_mut() {
        while !text.is_char_boundary(s.start) {
            s.start -= 1;
        }
        while !text.is_char_boundary(s.end) {
            s.end += 1;
        }
    }
    let mut out = Vec::with_capacity(text.len());
    engine::apply(text.as_bytes(), spans, &mut out, labels);
    String::from_utf8(out).expect("spans lie on char boundaries")
}

/// Byte-level redaction: bytes that are not UTF-8 pass through unchanged apart from the
/// redacted spans.
///
/// The result is a fixpoint: when a pass replaced something, the output is scanned again
/// (rarely finding more, e.g. `curl -u a:| -u b:c`, where the first password held the `|`
/// that hid `curl` from the second `-u`), so `redact_bytes(redact_bytes(x)) ==
/// redact_bytes(x)`. Every pass replaces text that is not already a label, so this ends;
/// a cap of eight passes only bounds the work.
pub fn redact_bytes(bytes: &[u8]) -> Cow<'_, [u8]> {
    match redact_passes(bytes) {
        Some(out) => Cow::Owned(out),
        None => Cow::Borrowed(bytes),
    }
}

/// All passes over `bytes`; `None` when the first found nothing.
fn redact_passes(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut spans = Vec::new();
    if !engine::find_spans(bytes, &mut spans, false) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut labels = Vec::new();
    engine::apply(bytes, &spans, &mut out, &mut labels);
    Some(settle(out, &labels, &mut spans).0)
}

/// Passes 2 to [`MAX_PASSES`] over the output of a first pass that wrote `labels`, each
/// looking only where the previous pass wrote labels. Returns the result and the number of
/// spans these passes replaced.
pub(crate) fn settle(
    mut out: Vec<u8>,
    labels: &[(usize, usize)],
    spans: &mut Vec<engine::Span>,
) -> (Vec<u8>, usize) {
    let mut replaced = 0;
    let mut labels = labels.to_vec();
    for _ in 1..MAX_PASSES {
        let dirty = engine::dirty_ranges(&out, &labels);
        if !engine::find_spans_near(&out, spans, false, Some(&dirty)) {
            break;
        }
        replaced += spans.len();
        let mut next = Vec::with_capacity(out.len());
        labels.clear();
        engine::apply(&out, spans, &mut next, &mut labels);
        out = next;
    }
    (out, replaced)
}

/// Redacts string values in a JSON document in place, including whole values under
/// secret-looking keys (`password`, `api_key`, `token`, ...): such values become
/// `[REDACTED:json-secret-key]`. Keys are never changed. See `json.rs` for the key rule.
pub fn redact_json(value: &mut serde_json::Value) {
    json::redact_value(value, false);
}

/// True when `text` still holds something that looks like a secret: the final check
/// before anything is published. Agrees with [`redact`]: true exactly when `redact` would
/// change `text`.
pub fn contains_secret(text: &str) -> bool {
    let mut spans = Vec::new();
    engine::find_spans(text.as_bytes(), &mut spans, true)
}

/// Copies `r` to `w`, redacting on the way, in constant memory (about 1 MiB) whatever the
/// input size. Binary-safe like [`redact_bytes`], and secrets are found across read
/// boundaries and inside lines of any length. Flushes `w` at the end.
pub fn redact_stream<R: Read, W: Write>(r: R, w: W) -> io::Result<StreamStats> {
    stream::redact_stream(r, w)
}

/// Every family ID that can appear in `[REDACTED:<id>]`, most specific first.
pub fn families() -> &'static [&'static str] {
    &families::FAMILY_IDS
}
