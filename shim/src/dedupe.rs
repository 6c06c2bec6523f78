//! Idempotent writes: recognising records the log already holds.
//!
//! Records read from a rollout or an exec-json stream are stamped with the time of the line
//! they came from, not with the time they were written, so reading the same line again —
//! `import` after the hooks reconciled a session, or the same file imported twice — yields a
//! record with the same content key. Writers that may repeat themselves filter their records
//! through a [`Seen`] set loaded from the log first.
//!
//! The key is the identity of an observation, not its full content: source, phase, session,
//! call, event, turn, agent, timestamp, status and exit code. Excerpt texts are deliberately
//! left out, so a changed redaction rule or bound does not make an old observation new.

use std::collections::HashSet;
use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io::{self, BufRead, BufReader};
use std::path::Path;

use codex_contract::record::{Record, Source};

/// The content key of a record.
pub fn key(r: &Record) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    r.source.hash(&mut h);
    r.phase.hash(&mut h);
    r.session_id.hash(&mut h);
    r.call_id.hash(&mut h);
    r.event.hash(&mut h);
    r.turn_id.hash(&mut h);
    r.agent_id.hash(&mut h);
    r.ts.hash(&mut h);
    r.status.hash(&mut h);
    r.exit_code.hash(&mut h);
    h.finish()
}

/// Whether records of this source are replayable (stamped from their input, so a repeat has
/// the same key). Hook records are stamped when the hook runs and never repeat.
pub fn replayable(source: Option<Source>) -> bool {
    matches!(source, Some(Source::Rollout | Source::ExecJson))
}

/// The keys of the replayable records a log holds.
#[derive(Default)]
pub struct Seen {
    keys: HashSet<u64>,
}

impl Seen {
    pub fn new() -> Seen {
        Seen::default()
    }

    /// Loads the keys of the log's replayable records; only those of `session` when given
    /// (a cheap substring test skips other sessions' lines before parsing). A missing log
    /// holds nothing.
    pub fn load(log: &Path, session: Option<&str>) -> io::Result<Seen> {
        let mut seen = Seen::new();
        let file = match File::open(log) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(seen),
            Err(e) => return Err(e),
        };
        let mut reader = BufReader::with_capacity(1 << 16, file);
        let mut buf = Vec::with_capacity(4096);
        let session_needle = session.map(|s| format!("\"session_id\":{}", json_string(s)));
        loop {
            buf.clear();
            if reader.read_until(b'\n', &mut buf)? == 0 {
                break;
            }
            let line = trim_newline(&buf);
            if !(contains(line, b"\"source\":\"rollout\"")
                || contains(line, b"\"source\":\"exec-json\""))
            {
                continue;
            }
            if let Some(needle) = &session_needle {
                if !contains(line, needle.as_bytes()) {
                    continue;
                }
            }
            if let Ok(r) = serde_json::from_slice::<Record>(line) {
                if replayable(r.source) {
                    seen.keys.insert(key(&r));
                }
            }
        }
        Ok(seen)
    }

    /// Records `r`; whether it was new.
    pub fn insert(&mut self, r: &Record) -> bool {
        self.keys.insert(key(r))
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

fn trim_newline(b: &[u8]) -> &[u8] {
    let b = b.strip_suffix(b"\n").unwrap_or(b);
    b.strip_suffix(b"\r").unwrap_or(b)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use codex_contract::record::{parse_ts, Excerpt, Phase};

    #[test]
    fn key_ignores_excerpt_text_but_not_identity() {
        let mut a = Record::at(
            parse_ts("2026-01-01T00:00:00Z").unwrap(),
            Source::Rollout,
            Phase::Outcome,
        );
        a.call_id = Some("c".into());
        let mut b = a.clone();
        b.output = Some(Excerpt::new("different text", 100));
        assert_eq!(key(&a), key(&b));
        b.call_id = Some("d".into());
        assert_ne!(key(&a), key(&b));
    }

    #[test]
    fn load_filters_by_source_and_session() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log.ndjson");
        let mut recs = Vec::new();
        for (source, session) in [
            (Source::Rollout, "s1"),
            (Source::Rollout, "s2"),
            (Source::CodexHook, "s1"),
        ] {
            let mut r = Record::at(
                parse_ts("2026-01-01T00:00:00Z").unwrap(),
                source,
                Phase::Outcome,
            );
            r.session_id = Some(session.into());
            r.call_id = Some("c".into());
            recs.push(r);
        }
        codex_contract::append::Appender::open(&log)
            .unwrap()
            .append(&recs)
            .unwrap();
        assert_eq!(Seen::load(&log, None).unwrap().len(), 2);
        let s1 = Seen::load(&log, Some("s1")).unwrap();
        assert_eq!(s1.len(), 1);
        let mut s1 = s1;
        assert!(!s1.insert(&recs[0]));
        assert!(s1.insert(&recs[1]));
        assert!(Seen::load(&dir.path().join("missing"), None)
            .unwrap()
            .is_empty());
    }
}
