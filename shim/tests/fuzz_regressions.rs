//! The fuzz targets' properties (`contract/fuzz/checks.rs`), checked on every input a fuzz run
//! minimized into `contract/fuzz/regressions/<target>/` (see `benches/fuzz.sh`) and on the
//! repository's own fixtures — a rollout resumed after each of its lines must read exactly
//! like the whole file, which is what keeps the hook's incremental reads and `import` agreeing.

#[path = "../../contract/fuzz/checks.rs"]
mod checks;

use std::path::{Path, PathBuf};

fn files_under(dir: &Path, keep: &dyn Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p, keep));
        } else if keep(&p) {
            out.push(p);
        }
    }
    out.sort();
    out
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn saved_fuzz_inputs_still_pass() {
    let dir = root().join("contract/fuzz/regressions");
    type Check = fn(&[u8]);
    let targets: [(&str, Check); 4] = [
        ("reader", checks::reader),
        ("redact", checks::redaction),
        ("rollout_line", checks::rollout_lines),
        ("hook_payload", checks::hook_payload),
    ];
    for (name, check) in targets {
        let target_dir = dir.join(name);
        assert!(target_dir.is_dir(), "{} is missing", target_dir.display());
        for f in files_under(&target_dir, &|p| {
            !p.file_name().unwrap().to_string_lossy().starts_with('.')
        }) {
            eprintln!("replaying {}", f.display());
            check(&std::fs::read(&f).unwrap());
        }
    }
}

#[test]
fn every_rollout_fixture_reads_the_same_resumed_after_any_line() {
    let fixtures = files_under(&root().join("shim/tests/fixtures"), &|p| {
        p.extension().is_some_and(|e| e == "jsonl") && !p.ends_with("hook-payloads.jsonl")
    });
    assert!(fixtures.len() >= 10, "{fixtures:?}");
    for f in fixtures {
        let text = std::fs::read(&f).unwrap();
        let lines = text.split(|&b| b == b'\n').count();
        for k in 0..=lines.min(255) {
            let mut input = vec![k as u8];
            input.extend_from_slice(&text);
            checks::rollout_lines(&input);
        }
    }
}

#[test]
fn every_captured_hook_payload_is_written_whole() {
    let payloads = files_under(&root().join("shim/tests/fixtures"), &|p| {
        p.ends_with("hook-payloads.jsonl")
    });
    assert!(!payloads.is_empty());
    let mut n = 0;
    for f in payloads {
        for line in std::fs::read_to_string(&f).unwrap().lines() {
            checks::hook_payload(line.as_bytes());
            n += 1;
        }
    }
    assert!(n > 20, "{n} payloads");
}

#[test]
fn the_dogfood_log_passes_the_reader_and_redaction_checks() {
    let log = std::fs::read(root().join(".codex/toolcalls.ndjson")).unwrap();
    checks::reader(&log);
    checks::redaction(&log);
}
