//! The bench log generator, shared by the analysis bench and `examples/gen_log.rs` (which
//! the process-level store benches, `benches/stores.sh`, run): a realistic mix of hook
//! `pre`/`post` records plus an authoritative outcome per call, several tools, ~5% failures
//! with error outputs, a session event every 400 calls, spread over the 7 days before `end`.

use std::io::{BufWriter, Write};
use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use codex_contract::record::{Excerpt, Phase, Record, Source, Status};

/// A small deterministic generator (no RNG dependency).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const TOOLS: &[(&str, u64)] = &[
    ("Bash", 50),
    ("apply_patch", 20),
    ("Read", 12),
    ("exec_command", 10),
    ("mcp__github__search", 5),
    ("WebFetch", 3),
];

const FAILURES: &[(&str, i32, &str)] = &[
    (
        "cargo-nextest run",
        127,
        "bash: cargo-nextest: command not found",
    ),
    (
        "cat /tmp/build/out.txt",
        1,
        "cat: /tmp/build/out.txt: No such file or directory",
    ),
    (
        "cargo test -p demo",
        101,
        "test result: FAILED. 41 passed; 1 failed",
    ),
    (
        "cargo build",
        101,
        "error[E0425]: cannot find value `x` in this scope",
    ),
    (
        "curl https://example.com",
        6,
        "curl: (6) Could not resolve host: example.com",
    ),
];

fn pick_tool(rng: &mut Lcg) -> &'static str {
    let mut r = rng.below(100);
    for (t, w) in TOOLS {
        if r < *w {
            return t;
        }
        r -= w;
    }
    "Bash"
}

/// Writes `n` records spread over the 7 days before `end`; returns the byte size.
pub fn generate(path: &Path, n: usize, end: DateTime<Utc>) -> u64 {
    let mut rng = Lcg(42);
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    let span_ms = Duration::days(7).num_milliseconds();
    let start = end - Duration::days(7);
    let mut written = 0usize;
    let mut call = 0u64;
    while written < n {
        call += 1;
        // Calls arrive in time order, as appends do.
        let t = start + Duration::milliseconds(span_ms * written as i64 / n as i64);
        let session = format!("sess-{:05}", call / 40);
        let call_id = format!("call_{call:08}");
        let tool = pick_tool(&mut rng);
        let failed = rng.below(100) < 5;
        let (input, exit, out) = if failed {
            let f = FAILURES[rng.below(FAILURES.len() as u64) as usize];
            (f.0.to_string(), f.1, f.2.to_string())
        } else {
            (
                format!(
                    "cargo test -p crate{} -- tests::case_{}",
                    rng.below(20),
                    rng.below(500)
                ),
                0,
                "running 12 tests\ntest result: ok. 12 passed; 0 failed; finished in 0.41s"
                    .to_string(),
            )
        };
        let mut pre = Record::at(t, Source::CodexHook, Phase::Pre);
        pre.session_id = Some(session.clone());
        pre.call_id = Some(call_id.clone());
        pre.turn_id = Some(format!("turn-{}", call / 5));
        pre.tool = Some(tool.to_string());
        pre.input = Some(input);
        pre.cwd = Some("/home/dev/work/demo".into());
        let mut post = Record::at(
            t + Duration::milliseconds(400),
            Source::CodexHook,
            Phase::Post,
        );
        post.session_id = Some(session.clone());
        post.call_id = Some(call_id.clone());
        post.tool = Some(tool.to_string());
        post.status = Some(Status::Unknown);
        post.output = Some(Excerpt::new(&out, 2000));
        let mut outcome = Record::at(
            t + Duration::milliseconds(450),
            if rng.below(2) == 0 {
                Source::Rollout
            } else {
                Source::Exec
            },
            Phase::Outcome,
        );
        outcome.session_id = Some(session.clone());
        outcome.call_id = Some(call_id);
        outcome.exit_code = Some(exit);
        outcome.status = Some(if failed { Status::Failed } else { Status::Ok });
        outcome.duration_ms = Some(400 + rng.below(5000));
        for r in [&pre, &post, &outcome] {
            serde_json::to_writer(&mut w, r).unwrap();
            w.write_all(b"\n").unwrap();
        }
        written += 3;
        if call.is_multiple_of(400) {
            let mut ev = Record::at(t, Source::CodexHook, Phase::Session);
            ev.session_id = Some(session);
            ev.event = Some("session_start".into());
            serde_json::to_writer(&mut w, &ev).unwrap();
            w.write_all(b"\n").unwrap();
            written += 1;
        }
    }
    w.flush().unwrap();
    std::fs::metadata(path).unwrap().len()
}
