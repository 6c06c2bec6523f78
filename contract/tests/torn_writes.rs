//! Writers killed mid-record: no record written after a crash is lost.
//!
//! A writer that dies between two partial writes leaves a torn last line. Real processes
//! (this test binary re-executed) append concurrently while "crashers" take the lock, write
//! part of a record and are SIGKILLed there. Afterwards every complete writer's record must
//! read back, and each torn fragment must be exactly one skipped line.

#![cfg(unix)]

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use codex_contract::append::{encode, Appender};
use codex_contract::read::ProblemKind;
use codex_contract::record::{Excerpt, Phase, Record, Source};

const WRITERS: usize = 6;
const PER_WRITER: usize = 300;
const CRASHES: usize = 12;

fn record(id: String, size: usize) -> Record {
    let mut r = Record::new(Source::Exec, Phase::Outcome);
    r.call_id = Some(id);
    r.output = Some(Excerpt::new(&"o".repeat(size), size));
    r
}

fn spawn_self(test: &str, role: &str, log: &Path, stdout: Stdio) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--test-threads", "1", "--nocapture"])
        .env("TORN_ROLE", format!("{role}:{}", log.display()))
        .stdout(stdout)
        .spawn()
        .unwrap()
}

/// Starts a crasher, waits until it has written its fragment under the lock, kills it there.
fn crash_once(log: &Path, name: &str) {
    let mut crasher = spawn_self("torn_writer_role", name, log, Stdio::piped());
    let mut out = BufReader::new(crasher.stdout.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        assert_ne!(
            out.read_line(&mut line).unwrap(),
            0,
            "crasher {name} ended early"
        );
        if line.contains("TORN-FRAGMENT-WRITTEN") {
            break;
        }
    }
    crasher.kill().unwrap();
    crasher.wait().unwrap();
}

fn role() -> Option<(String, String)> {
    let spec = std::env::var("TORN_ROLE").ok()?;
    let (role, path) = spec.split_once(':')?;
    Some((role.to_string(), path.to_string()))
}

/// A complete writer: reopens per record, as a one-shot hook does.
#[test]
fn torn_writer_role() {
    let Some((role, path)) = role() else { return };
    if let Some(w) = role.strip_prefix("writer") {
        for n in 0..PER_WRITER {
            Appender::open(Path::new(&path))
                .unwrap()
                .append(&[record(format!("w{w}-{n}"), 100 + n % 700)])
                .unwrap();
        }
    } else if let Some(c) = role.strip_prefix("crasher") {
        // What a real writer has done when it dies between its partial writes: taken the
        // lock, started its line on a line of its own, written part of the record.
        use fs2::FileExt;
        let mut f = std::fs::OpenOptions::new()
            .read(true)
            .append(true)
            .open(&path)
            .unwrap();
        FileExt::lock_exclusive(&f).unwrap();
        let len = f.metadata().unwrap().len();
        let mut part = Vec::new();
        if len > 0 {
            let mut last = [0u8; 1];
            std::os::unix::fs::FileExt::read_exact_at(&f, &mut last, len - 1).unwrap();
            if last[0] != b'\n' {
                part.push(b'\n');
            }
        }
        let line = encode(&record(format!("crash-{c}"), 2000));
        part.extend_from_slice(&line[..line.len() / 2]);
        f.write_all(&part).unwrap();
        println!("TORN-FRAGMENT-WRITTEN");
        std::io::stdout().flush().unwrap();
        std::thread::sleep(std::time::Duration::from_secs(60));
    }
}

#[test]
fn records_after_sigkilled_writers_all_read_back() {
    if role().is_some() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("toolcalls.ndjson");
    std::fs::write(&log, b"").unwrap();
    let writers: Vec<Child> = (0..WRITERS)
        .map(|w| {
            spawn_self(
                "torn_writer_role",
                &format!("writer{w}"),
                &log,
                Stdio::null(),
            )
        })
        .collect();
    for c in 0..CRASHES {
        crash_once(&log, &format!("crasher{c}"));
    }
    for mut w in writers {
        assert!(w.wait().unwrap().success());
    }
    // One more crash at the very end, then one last record: the case of the issue.
    crash_once(&log, "crasherlast");
    Appender::open(&log)
        .unwrap()
        .append(&[record("after-last-crash".into(), 10)])
        .unwrap();

    let mut reader = codex_contract::read::open(&log).unwrap();
    let ids: HashSet<String> = reader.by_ref().filter_map(|r| r.call_id).collect();
    for w in 0..WRITERS {
        for n in 0..PER_WRITER {
            assert!(ids.contains(&format!("w{w}-{n}")), "lost w{w}-{n}");
        }
    }
    assert!(ids.contains("after-last-crash"));
    assert_eq!(
        ids.len(),
        WRITERS * PER_WRITER + 1,
        "no fragment may read as a record"
    );
    let stats = reader.stats();
    assert_eq!(stats.skipped as usize, CRASHES + 1, "{stats:?}");
    assert!(
        stats
            .problems
            .iter()
            .all(|p| p.kind == ProblemKind::Truncated),
        "{:?}",
        stats.problems
    );
}
