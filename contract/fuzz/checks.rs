#![allow(dead_code)] // each target uses one of these checks
//! The properties every fuzz target checks, shared with the regression test that replays
//! saved crash inputs (`shim/tests/fuzz_regressions.rs`), so a minimized crash stays a
//! failing test until it is fixed. Each function panics when a property breaks.

use codex_contract::append::{encode, MAX_RECORD_BYTES};
use codex_contract::redact::{contains_secret, redact, redact_bytes, redact_json, redact_stream};
use codex_contract::Record;

/// The tolerant reader never panics, accounts for every line, and folds what it returns.
pub fn reader(data: &[u8]) {
    let mut reader = codex_contract::read::RecordReader::new(std::io::Cursor::new(data));
    let records: Vec<_> = reader.by_ref().collect();
    let stats = reader.stats();
    assert_eq!(stats.records as usize, records.len());
    assert!(stats.records + stats.skipped <= stats.lines);
    let lines = data.split(|&b| b == b'\n').count() as u64;
    assert!(stats.lines <= lines);
    let _ = codex_contract::fold(records);
}

/// Every redaction entry point: idempotent, the stream agrees with the one-shot redactor,
/// text agrees with bytes, `contains_secret` is true exactly when `redact` changes the text.
pub fn redaction(data: &[u8]) {
    let once = redact_bytes(data).into_owned();
    let twice = redact_bytes(&once);
    assert_eq!(
        twice.as_ref(),
        once.as_slice(),
        "redact_bytes is not idempotent"
    );

    let mut streamed = Vec::new();
    let stats = redact_stream(data, &mut streamed).expect("in-memory I/O cannot fail");
    assert_eq!(streamed, once, "stream and one-shot redaction disagree");
    assert_eq!(stats.bytes_in, data.len() as u64);
    assert_eq!(stats.bytes_out, streamed.len() as u64);

    if let Ok(text) = std::str::from_utf8(data) {
        let r = redact(text);
        assert_eq!(
            r.as_bytes(),
            once.as_slice(),
            "text and byte redaction disagree"
        );
        assert_eq!(
            contains_secret(text),
            r != text,
            "contains_secret disagrees with redact"
        );
        assert_eq!(redact(&r), r, "redact is not idempotent");

        if let Ok(mut value) = serde_json::from_str::<serde_json::Value>(text) {
            redact_json(&mut value);
            let first = value.clone();
            redact_json(&mut value);
            assert_eq!(value, first, "redact_json is not idempotent");
        }
    }
}

/// What reaches the log: a bounded line that reads back as the same record.
fn written(r: &Record) {
    let line = encode(r);
    assert!(
        line.len() <= MAX_RECORD_BYTES,
        "line of {} bytes",
        line.len()
    );
    let mut reader = codex_contract::read::RecordReader::new(std::io::Cursor::new(&line));
    let back: Vec<Record> = reader.by_ref().collect();
    assert_eq!(
        back.len(),
        1,
        "a written record does not read back: {:?}",
        reader.stats()
    );
}

/// Rollout lines: the parser never panics, its records are written whole, and a read that
/// stops after line `k` and resumes from the saved state (the hook's incremental reads)
/// gives exactly the records of one whole read (`import`).
pub fn rollout_lines(data: &[u8]) {
    use codex_shim::rollout::{Parser, State};
    let (split, body) = match data.split_first() {
        Some((k, rest)) => (*k as usize, rest),
        None => (0, data),
    };
    let lines: Vec<&[u8]> = body.split(|&b| b == b'\n').collect();
    let ts = "2026-01-01T00:00:00.000Z".to_string();

    let mut whole = Vec::new();
    let mut p = Parser::new(State::default(), Some("fuzz".into()), ts.clone());
    for l in &lines {
        p.line(l, &mut whole);
    }
    p.flush(&mut whole);
    for r in &whole {
        written(r);
    }

    let k = split.min(lines.len());
    let mut parts = Vec::new();
    let mut first = Parser::new(State::default(), Some("fuzz".into()), ts.clone());
    for l in &lines[..k] {
        first.line(l, &mut parts);
    }
    let saved = serde_json::to_string(&first.into_state()).expect("the state serializes");
    let state: State = serde_json::from_str(&saved).expect("the saved state reads back");
    let mut second = Parser::new(state, Some("fuzz".into()), ts);
    for l in &lines[k..] {
        second.line(l, &mut parts);
    }
    second.flush(&mut parts);
    let a: Vec<String> = whole
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    let b: Vec<String> = parts
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    assert_eq!(
        a, b,
        "a resumed read disagrees with a whole read (split after line {k})"
    );
}

/// Hook payloads: any JSON object, for every event name, gives records that are written
/// whole; nothing panics.
pub fn hook_payload(data: &[u8]) {
    use codex_shim::hook::{detect, records_for};
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    if !v.is_object() {
        return;
    }
    let dir = std::env::temp_dir();
    let log = dir.join("codex-fuzz-no-such-log.ndjson");
    let own = v.get("hook_event_name").and_then(|e| e.as_str());
    for event in own.into_iter().chain([
        "SessionStart",
        "UserPromptSubmit",
        "PreToolUse",
        "PostToolUse",
        "Stop",
        "SubagentStop",
        "SessionEnd",
    ]) {
        let agent = detect(&v, event);
        for r in records_for(&v, event, agent, &dir, &log) {
            written(&r);
        }
    }
}
