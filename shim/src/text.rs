//! Turning what an agent shows us (commands, outputs, prompts, JSON arguments) into the
//! bounded, redacted strings a record may hold. Every capture path (hook, rollout, exec-json)
//! goes through here, so the same call yields the same `input` whichever path saw it — which
//! is what lets the fold merge them and `import` recognise what the hooks already wrote.

use std::borrow::Cow;

use codex_contract::record::{shorten, Excerpt};
use codex_contract::redact;
use serde_json::Value;

/// The most bytes of a call's input a record keeps (head and tail).
pub const INPUT_MAX: usize = 8 * 1024;
/// The most bytes of an output excerpt a record keeps (head and tail).
pub const OUTPUT_MAX: usize = 16 * 1024;
/// The most bytes of a free-form reason (error texts, justifications).
pub const REASON_MAX: usize = 1024;
/// The largest prompt excerpt `CODEX_SHIM_PROMPT_EXCERPT` may ask for.
pub const PROMPT_EXCERPT_MAX: usize = 4 * 1024;

/// Texts up to this size are redacted whole; larger ones are cut to a head and a tail window
/// first (at whitespace, so no secret is split into an unrecognisable fragment), because the
/// redactor's cost grows with the text and the hook runs on every tool call.
const REDACT_WHOLE_MAX: usize = 256 * 1024;

/// Redacts and bounds `text` to at most `max` bytes (head and tail kept).
pub fn bounded(text: &str, max: usize) -> String {
    if text.len() <= REDACT_WHOLE_MAX {
        return match redact::redact(text) {
            Cow::Borrowed(t) => shorten(t, max),
            Cow::Owned(t) => shorten(&t, max),
        };
    }
    let head = cut_after_last_space(floor(text, max));
    let tail = cut_before_first_space(ceil(text, max));
    let head = redact::redact(head);
    let tail = redact::redact(tail);
    let elided = text.len().saturating_sub(head.len() + tail.len());
    shorten(&format!("{head}\n…[{elided} bytes elided]…\n{tail}"), max)
}

/// A call's input: redacted, at most [`INPUT_MAX`] bytes.
pub fn input(text: &str) -> String {
    bounded(text, INPUT_MAX)
}

/// A call's input given as JSON arguments: redacted (string values and secret-looking keys),
/// compact, at most [`INPUT_MAX`] bytes.
pub fn json_input(value: &Value) -> String {
    let mut v = value.clone();
    redact::redact_json(&mut v);
    let text = serde_json::to_string(&v).unwrap_or_default();
    bounded(&text, INPUT_MAX)
}

/// An output excerpt: redacted, at most [`OUTPUT_MAX`] bytes, with the original length.
pub fn excerpt(text: &str) -> Excerpt {
    Excerpt {
        text: bounded(text, OUTPUT_MAX),
        len: text.len() as u64,
    }
}

/// A free-form reason (error text, justification): redacted, one bounded string.
pub fn reason(text: &str) -> String {
    bounded(text, REASON_MAX)
}

/// Whether the text the agent saw says it was truncated. Codex marks cut outputs with
/// `…N tokens truncated…` (or chars), older builds with a `Warning: truncated output` line.
pub fn shows_truncation(text: &str) -> bool {
    text.contains("tokens truncated")
        || text.contains("chars truncated")
        || text.contains("Warning: truncated output")
        || text.contains("[... truncated")
        || text.contains("output truncated")
}

/// `PostToolUseFailure` → `post_tool_use_failure`: the session event name of a hook event.
pub fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let mut prev_lower = false;
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            if prev_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower = false;
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
            prev_lower = true;
        } else {
            if !out.ends_with('_') && !out.is_empty() {
                out.push('_');
            }
            prev_lower = false;
        }
    }
    out.trim_end_matches('_').to_string()
}

/// The command the model asked for, from the argv Codex ran: `["/bin/bash", "-lc", "ls"]`
/// → `ls` (what hooks call `tool_input.command`); other argvs are joined with spaces.
pub fn command_from_argv(argv: &[Value]) -> String {
    let words: Vec<&str> = argv.iter().filter_map(Value::as_str).collect();
    if let [shell, flag, cmd] = words.as_slice() {
        if is_shell(shell) && matches!(*flag, "-lc" | "-c" | "-l -c") {
            return (*cmd).to_string();
        }
    }
    words.join(" ")
}

/// The command inside the wrapped string `codex exec --json` reports:
/// `/bin/bash -lc 'ls /nope'` → `ls /nope`. Anything else is returned unchanged.
pub fn unwrap_shell_string(cmd: &str) -> Cow<'_, str> {
    let Some((shell, rest)) = cmd.split_once(' ') else {
        return Cow::Borrowed(cmd);
    };
    if !is_shell(shell) {
        return Cow::Borrowed(cmd);
    }
    let Some(rest) = rest
        .strip_prefix("-lc ")
        .or_else(|| rest.strip_prefix("-c "))
    else {
        return Cow::Borrowed(cmd);
    };
    match unquote_single_word(rest) {
        Some(word) => Cow::Owned(word),
        None => Cow::Borrowed(cmd),
    }
}

fn is_shell(s: &str) -> bool {
    let name = s.rsplit('/').next().unwrap_or(s);
    matches!(name, "bash" | "sh" | "zsh" | "dash" | "fish")
}

/// POSIX-unquotes one shell word made of single-quoted parts, `\'` escapes and plain
/// characters; `None` when the text is not exactly one such word.
fn unquote_single_word(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => loop {
                match chars.next()? {
                    '\'' => break,
                    c => out.push(c),
                }
            },
            '\\' => out.push(chars.next()?),
            c if c.is_whitespace() || "\"$`;&|<>()".contains(c) => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

/// The longest prefix of `s` of at most `max` bytes, cut on a character boundary (prompt
/// excerpts: the start of a prompt says what it is about, and the bound is strict).
pub fn head(s: &str, max: usize) -> &str {
    floor(s, max)
}

fn floor(s: &str, max: usize) -> &str {
    let mut i = max.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    &s[..i]
}

fn ceil(s: &str, max: usize) -> &str {
    let mut i = s.len().saturating_sub(max);
    while !s.is_char_boundary(i) {
        i += 1;
    }
    &s[i..]
}

fn cut_after_last_space(s: &str) -> &str {
    s.rfind(char::is_whitespace).map_or("", |i| &s[..i])
}

fn cut_before_first_space(s: &str) -> &str {
    s.find(char::is_whitespace).map_or("", |i| &s[i..])
}

/// A string field of a JSON object.
pub fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// The text of a content list (`[{type: "text"|"input_text"|"output_text", text}]`, as in
/// rollouts and MCP results), a plain string, or any other value as JSON.
pub fn content_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| str_of(i, "text"))
            .collect::<Vec<_>>()
            .join("\n"),
        Some(Value::String(t)) => t.clone(),
        Some(v) if !v.is_null() => v.to_string(),
        _ => String::new(),
    }
}

/// An integer field of a JSON object, accepting `snake_case` and `camelCase` spellings.
pub fn int_of(v: &Value, keys: &[&str]) -> Option<i64> {
    keys.iter().find_map(|k| v.get(*k).and_then(Value::as_i64))
}

/// A duration in milliseconds from the shapes Codex uses: `{secs, nanos}`, a number of
/// milliseconds, or a string like `1.5s` / `250ms`.
pub fn duration_ms(v: &Value) -> Option<u64> {
    match v {
        Value::Object(_) => {
            let secs = v.get("secs").and_then(Value::as_u64)?;
            let nanos = v.get("nanos").and_then(Value::as_u64).unwrap_or(0);
            Some(secs * 1000 + nanos / 1_000_000)
        }
        Value::Number(n) => n.as_u64().or_else(|| n.as_f64().map(|f| f.max(0.0) as u64)),
        Value::String(s) => {
            let s = s.trim();
            if let Some(ms) = s.strip_suffix("ms") {
                ms.trim().parse::<f64>().ok().map(|f| f.max(0.0) as u64)
            } else if let Some(secs) = s.strip_suffix('s') {
                secs.trim()
                    .parse::<f64>()
                    .ok()
                    .map(|f| (f.max(0.0) * 1000.0) as u64)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// `Wall time: 0.0014 seconds` → 1 ms (the header Codex puts on tool outputs).
pub fn wall_time_ms(line: &str) -> Option<u64> {
    let rest = line.strip_prefix("Wall time:")?.trim();
    let num = rest.split_whitespace().next()?;
    let secs: f64 = num.parse().ok()?;
    Some((secs.max(0.0) * 1000.0).round() as u64)
}

/// A `file://` URL as a path (`CommandExecution.cwd`); other strings unchanged.
pub fn path_from_url(s: &str) -> String {
    match s.strip_prefix("file://") {
        Some(rest) => percent_decode(rest),
        None => s.to_string(),
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |b: u8| char::from(b).to_digit(16);
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn snake_case_of_event_names() {
        assert_eq!(snake_case("PostToolUseFailure"), "post_tool_use_failure");
        assert_eq!(snake_case("Notification"), "notification");
        assert_eq!(snake_case("SessionStart"), "session_start");
        assert_eq!(snake_case("weird-Name 2"), "weird_name_2");
    }

    #[test]
    fn shell_unwrapping() {
        assert_eq!(unwrap_shell_string("/bin/bash -lc 'ls /nope'"), "ls /nope");
        assert_eq!(
            unwrap_shell_string(r"/bin/bash -lc 'echo '\''hi'\'''"),
            "echo 'hi'"
        );
        assert_eq!(unwrap_shell_string("bash -lc ls"), "ls");
        assert_eq!(unwrap_shell_string("python3 x.py"), "python3 x.py");
        assert_eq!(
            unwrap_shell_string("/bin/bash -lc 'a' 'b'"),
            "/bin/bash -lc 'a' 'b'"
        );
        let argv = [json!("/bin/bash"), json!("-lc"), json!("echo hello")];
        assert_eq!(command_from_argv(&argv), "echo hello");
        assert_eq!(command_from_argv(&[json!("ls"), json!("-la")]), "ls -la");
    }

    #[test]
    fn durations() {
        assert_eq!(
            duration_ms(&json!({"secs": 1, "nanos": 500_000_000})),
            Some(1500)
        );
        assert_eq!(duration_ms(&json!(42)), Some(42));
        assert_eq!(duration_ms(&json!("1.5s")), Some(1500));
        assert_eq!(duration_ms(&json!("250ms")), Some(250));
        assert_eq!(wall_time_ms("Wall time: 0.3016 seconds"), Some(302));
        assert_eq!(wall_time_ms("Wall time: 0 seconds"), Some(0));
    }

    #[test]
    fn file_urls() {
        assert_eq!(path_from_url("file:///tmp/a%20b"), "/tmp/a b");
        assert_eq!(path_from_url("/tmp/x"), "/tmp/x");
    }

    #[test]
    fn bounded_keeps_short_text_and_cuts_long() {
        assert_eq!(bounded("hello", 100), "hello");
        let long = "word ".repeat(200_000);
        let b = bounded(&long, 1000);
        assert!(b.len() <= 1000, "{}", b.len());
        assert!(b.contains("bytes elided"));
        let e = excerpt(&long);
        assert_eq!(e.len, long.len() as u64);
    }

    #[test]
    fn truncation_markers() {
        assert!(shows_truncation("a\n…1234 tokens truncated…\nb"));
        assert!(!shows_truncation("all fine"));
    }
}
