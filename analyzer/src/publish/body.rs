//! What goes into a body sent to GitHub: hidden markers to find items again, redaction and
//! the final secret check, and the size cap.

use std::borrow::Cow;

/// GitHub refuses issue, PR and comment bodies over 65,536 characters.
pub const GITHUB_BODY_LIMIT: usize = 65_536;

/// The cap the publisher applies, with room to spare under [`GITHUB_BODY_LIMIT`] (Renovate
/// caps its dashboard at 58,000 for the same reason).
pub const DEFAULT_BODY_CAP: usize = 60_000;

/// The note appended when a body was cut.
pub const TRUNCATION_NOTE: &str = "\n\n> **Truncated:** this body was cut to stay under GitHub's \
65,536-character limit. The full text is in `.codex/improvement-log.md` and the run's HTML report.\n";

const MARKER_OPEN: &str = "<!-- codex-improvement:";
const MARKER_CLOSE: &str = " -->";

/// The hidden marker that identifies the rolling issue.
pub const ROLLING_MARKER: &str = "<!-- codex-improvement:rolling -->";

/// `<!-- codex-improvement:KEY=VALUE -->`.
pub fn marker(key: &str, value: &str) -> String {
    format!("{MARKER_OPEN}{key}={value}{MARKER_CLOSE}")
}

/// The marker that identifies a ticket: `<!-- codex-improvement:fingerprint=FP -->`.
pub fn fingerprint_marker(fingerprint: &str) -> String {
    marker("fingerprint", fingerprint)
}

/// The values of every `KEY=...` marker in `body`, in order.
pub fn marker_values<'a>(body: &'a str, key: &str) -> Vec<&'a str> {
    let needle = format!("{MARKER_OPEN}{key}=");
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(i) = rest.find(&needle) {
        let after = &rest[i + needle.len()..];
        match after.find(MARKER_CLOSE) {
            Some(end) => {
                out.push(after[..end].trim());
                rest = &after[end..];
            }
            None => break,
        }
    }
    out
}

/// The last value of marker `key` in `body`.
pub fn marker_value<'a>(body: &'a str, key: &str) -> Option<&'a str> {
    marker_values(body, key).pop()
}

/// Fingerprints are embedded in markers and search queries: a short run of
/// `[A-Za-z0-9._:-]` keeps both unambiguous.
pub fn valid_fingerprint(fp: &str) -> bool {
    !fp.is_empty()
        && fp.len() <= 128
        && fp
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._:-".contains(c))
}

/// A body that still looked like it held a secret after redaction.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("refusing to send {what}: it still looks like it holds a secret after redaction")]
pub struct SecretRefused {
    pub what: String,
}

/// Redacts `text` and makes sure nothing secret-looking is left; `what` names the text in
/// the refusal.
pub fn sanitize(text: &str, what: &str) -> Result<String, SecretRefused> {
    sanitize_with(
        text,
        what,
        codex_contract::redact::redact,
        codex_contract::redact::contains_secret,
    )
}

/// [`sanitize`] with the redactor and the checker passed in (unit tests use stand-ins).
pub fn sanitize_with(
    text: &str,
    what: &str,
    redact: impl Fn(&str) -> Cow<'_, str>,
    still_secret: impl Fn(&str) -> bool,
) -> Result<String, SecretRefused> {
    let clean = redact(text).into_owned();
    if still_secret(&clean) {
        return Err(SecretRefused {
            what: what.to_string(),
        });
    }
    Ok(clean)
}

/// Caps `main` so that `main` + note + `tail` stays within `cap` characters. The `tail`
/// (hidden markers) is always kept whole; the cut falls on a line break when one is near.
pub fn cap_body(main: &str, tail: &str, cap: usize) -> String {
    let total = main.chars().count() + tail.chars().count();
    if total <= cap {
        return format!("{main}{tail}");
    }
    let room = cap.saturating_sub(tail.chars().count() + TRUNCATION_NOTE.chars().count());
    let byte_end = main.char_indices().nth(room).map_or(main.len(), |(i, _)| i);
    let mut cut = &main[..byte_end];
    if let Some(nl) = cut.rfind('\n') {
        // Prefer a whole line unless that throws away more than a tenth of the room.
        if cut.len() - nl < room / 10 + 1 {
            cut = &cut[..nl];
        }
    }
    format!("{cut}{TRUNCATION_NOTE}{tail}")
}

/// Renders a number for a marker and a comment: integers without a fraction.
pub fn fmt_level(level: f64) -> String {
    if level.fract() == 0.0 && level.abs() < 1e15 {
        format!("{}", level as i64)
    } else {
        format!("{level}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_round_trip_exactly() {
        let body = format!(
            "text\n{}\n{}\n{}",
            fingerprint_marker("abc"),
            marker("level", "12.5"),
            fingerprint_marker("abcd")
        );
        assert_eq!(marker_values(&body, "fingerprint"), vec!["abc", "abcd"]);
        assert_eq!(marker_value(&body, "level"), Some("12.5"));
        assert_eq!(marker_value(&body, "run"), None);
        assert_eq!(
            marker_value("<!-- codex-improvement:level=3", "level"),
            None
        );
    }

    #[test]
    fn fingerprints_are_restricted() {
        assert!(valid_fingerprint("ci:v1:3f2a9c"));
        assert!(!valid_fingerprint(""));
        assert!(!valid_fingerprint("a -->"));
        assert!(!valid_fingerprint("a\"b"));
        assert!(!valid_fingerprint(&"a".repeat(129)));
    }

    #[test]
    fn cap_keeps_the_tail_and_adds_a_note() {
        let main = "line\n".repeat(30_000);
        let tail = "\n<!-- codex-improvement:rolling -->\n";
        let out = cap_body(&main, tail, DEFAULT_BODY_CAP);
        assert!(
            out.chars().count() <= DEFAULT_BODY_CAP,
            "{}",
            out.chars().count()
        );
        assert!(out.ends_with(tail));
        assert!(out.contains("Truncated"));
        // Cut on a line boundary: the text before the note ends with a whole "line".
        let before = out.split(TRUNCATION_NOTE).next().unwrap();
        assert!(
            before.ends_with("line"),
            "{:?}",
            &before[before.len() - 10..]
        );
        // Short bodies are untouched.
        assert_eq!(
            cap_body("short", tail, DEFAULT_BODY_CAP),
            format!("short{tail}")
        );
    }

    #[test]
    fn cap_counts_characters_not_bytes() {
        let main = "é".repeat(70_000);
        let out = cap_body(&main, "", DEFAULT_BODY_CAP);
        assert!(out.chars().count() <= DEFAULT_BODY_CAP);
        assert!(out.chars().count() > DEFAULT_BODY_CAP - 500);
    }

    #[test]
    fn sanitize_refuses_what_still_trips_the_check() {
        fn redact(t: &str) -> Cow<'_, str> {
            Cow::Owned(t.replace("hunter2", "[REDACTED:password]"))
        }
        let trips = |t: &str| t.contains("AKIA");
        assert_eq!(
            sanitize_with("pw hunter2", "body", redact, trips).unwrap(),
            "pw [REDACTED:password]"
        );
        let err = sanitize_with("key AKIAXXXX", "ticket body", redact, trips).unwrap_err();
        assert_eq!(err.what, "ticket body");
    }

    #[test]
    fn levels_render_compactly() {
        assert_eq!(fmt_level(12.0), "12");
        assert_eq!(fmt_level(0.25), "0.25");
        assert_eq!(fmt_level("7".parse::<f64>().unwrap()), "7");
    }
}
