//! Many processes appending at once: every line parses, none is lost, none interleaves.
//!
//! The workers are this test binary itself, re-executed with `APPEND_WORKER` set, so each
//! one is a real process opening, locking and appending like a one-shot hook would.

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;

use codex_contract::append::{Appender, MAX_RECORD_BYTES};
use codex_contract::record::{Excerpt, Phase, Record, Source, Status};

const WORKERS: usize = 8;
const PER_WORKER: usize = 1000;

fn worker_record(worker: usize, n: usize) -> Record {
    let mut r = Record::new(Source::Exec, Phase::Outcome);
    r.session_id = Some(format!("w{worker}"));
    r.call_id = Some(format!("w{worker}-{n}"));
    r.status = Some(Status::Ok);
    // Every 25th record is far over the bound and must be shortened; every 25th + 1 is
    // just under it as written.
    let size = match n % 25 {
        0 => 300_000,
        1 => MAX_RECORD_BYTES - 600,
        _ => 200 + n % 300,
    };
    let text: String = (0..size)
        .map(|i| char::from(b'a' + ((i + worker) % 26) as u8))
        .collect();
    r.output = Some(Excerpt::new(&text, size));
    r
}

/// The worker body: runs only in re-executed children.
#[test]
fn append_worker() {
    let Ok(spec) = std::env::var("APPEND_WORKER") else {
        return;
    };
    let (worker, path) = spec.split_once(':').unwrap();
    let worker: usize = worker.parse().unwrap();
    for n in 0..PER_WORKER {
        // Reopen per record: what a one-shot hook process does.
        Appender::open(Path::new(path))
            .unwrap()
            .append(&[worker_record(worker, n)])
            .unwrap();
    }
}

#[test]
fn eight_processes_append_without_loss_or_interleaving() {
    if std::env::var("APPEND_WORKER").is_ok() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".codex/toolcalls.ndjson");
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..WORKERS)
        .map(|w| {
            Command::new(&exe)
                .args(["--exact", "append_worker", "--test-threads", "1"])
                .env("APPEND_WORKER", format!("{w}:{}", path.display()))
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }

    let data = std::fs::read(&path).unwrap();
    assert_eq!(*data.last().unwrap(), b'\n');
    let mut seen = HashSet::new();
    let mut near_bound = 0;
    for (i, line) in data
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        assert!(
            line.len() < MAX_RECORD_BYTES,
            "line {} is {} bytes",
            i + 1,
            line.len()
        );
        let r: Record = serde_json::from_slice(line)
            .unwrap_or_else(|e| panic!("line {} does not parse ({e}): interleaved?", i + 1));
        if line.len() > MAX_RECORD_BYTES / 2 {
            near_bound += 1;
        }
        assert!(seen.insert(r.call_id.unwrap()), "duplicate line {}", i + 1);
    }
    assert_eq!(seen.len(), WORKERS * PER_WORKER, "records lost");
    assert!(
        near_bound >= WORKERS * PER_WORKER / 25,
        "near-bound records: {near_bound}"
    );
    // The reader agrees.
    let mut reader = codex_contract::read::open(&path).unwrap();
    assert_eq!(reader.by_ref().count(), WORKERS * PER_WORKER);
    assert_eq!(reader.stats().skipped, 0);
}
