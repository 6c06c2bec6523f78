//! `codex-shim exec` is transparent: bytes, order, exit codes and signals are the command's,
//! and a failure to record changes none of them.

use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use codex_contract::Status;
use e2e::bins::{git_repo, read_log, run_piped, shim};

fn exec_in(dir: &Path, log: &Path, args: &[&str], stdin: &[u8]) -> Output {
    let mut cmd = Command::new(shim());
    cmd.arg("exec")
        .arg("--log")
        .arg(log)
        .arg("--")
        .args(args)
        .current_dir(dir);
    run_piped(&mut cmd, stdin)
}

fn bare(dir: &Path, args: &[&str], stdin: &[u8]) -> Output {
    let mut cmd = Command::new(args[0]);
    cmd.args(&args[1..]).current_dir(dir);
    run_piped(&mut cmd, stdin)
}

#[test]
fn exit_codes_match_the_command() {
    let repo = git_repo();
    let log = repo.path().join(".codex/toolcalls.ndjson");
    for code in [0, 1, 2, 255] {
        let script = format!("echo out-{code}; echo err-{code} >&2; exit {code}");
        let out = exec_in(repo.path(), &log, &["sh", "-c", &script], b"");
        let want = bare(repo.path(), &["sh", "-c", &script], b"");
        assert_eq!(out.status.code(), Some(code));
        assert_eq!(out.stdout, want.stdout);
        assert_eq!(out.stderr, want.stderr);
    }
    let out = exec_in(repo.path(), &log, &["definitely-not-a-command-xyz"], b"");
    assert_eq!(out.status.code(), Some(127));
    assert!(String::from_utf8_lossy(&out.stderr).contains("command not found"));

    let recs = read_log(&log);
    assert_eq!(recs.len(), 5);
    let codes: Vec<i32> = recs.iter().map(|r| r.exit_code.unwrap()).collect();
    assert_eq!(codes, vec![0, 1, 2, 255, 127]);
    assert_eq!(recs[0].status, Some(Status::Ok));
    assert_eq!(recs[1].status, Some(Status::Failed));
    assert_eq!(recs[4].error_type.as_deref(), Some("command_not_found"));
    assert_eq!(recs[1].output.as_ref().unwrap().text, "out-1\n");
    assert_eq!(recs[1].stderr.as_ref().unwrap().text, "err-1\n");
    for r in &recs {
        assert!(r.duration_ms.is_some());
        assert_eq!(r.tool.as_deref(), Some("exec"));
        // The scratch repo has a commit: the record names it.
        assert_eq!(r.git_head.as_ref().map(String::len), Some(40));
    }
}

#[test]
fn death_by_signal_is_128_plus_n() {
    let repo = git_repo();
    let log = repo.path().join("log.ndjson");
    let out = exec_in(repo.path(), &log, &["sh", "-c", "kill -KILL $$"], b"");
    assert_eq!(out.status.code(), Some(137));
    let recs = read_log(&log);
    assert_eq!(recs[0].signal, Some(9));
    assert_eq!(recs[0].error_type.as_deref(), Some("killed"));
}

#[test]
fn stdin_and_binary_stdout_pass_through_byte_for_byte() {
    let repo = git_repo();
    let log = repo.path().join("log.ndjson");
    // Every byte value, invalid UTF-8 included, 3 MiB.
    let data: Vec<u8> = (0..3 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let out = exec_in(repo.path(), &log, &["cat"], &data);
    assert!(out.status.success());
    assert_eq!(out.stdout.len(), data.len());
    assert!(out.stdout == data, "stdout differs from stdin");
    let recs = read_log(&log);
    let o = recs[0].output.as_ref().unwrap();
    assert_eq!(o.len, data.len() as u64);
    assert!(
        o.text.len() <= 16 * 1024 + 64,
        "excerpt is bounded: {}",
        o.text.len()
    );
}

#[test]
fn large_interleaved_output_keeps_order_within_each_stream() {
    let repo = git_repo();
    let log = repo.path().join("log.ndjson");
    let script = "i=0; while [ $i -lt 20000 ]; do echo \"out $i\"; echo \"err $i\" >&2; i=$((i+1)); done; echo last-line";
    let out = exec_in(repo.path(), &log, &["sh", "-c", script], b"");
    let want = bare(repo.path(), &["sh", "-c", script], b"");
    assert_eq!(out.stdout, want.stdout);
    assert_eq!(out.stderr, want.stderr);
    let recs = read_log(&log);
    let o = recs[0].output.as_ref().unwrap();
    assert_eq!(o.len, want.stdout.len() as u64);
    assert!(o.text.ends_with("last-line\n"), "tail kept");
    assert!(o.text.starts_with("out 0\n"), "head kept");
    assert!(o.text.contains("bytes elided]"));
}

#[test]
fn sigterm_to_the_shim_reaches_the_child() {
    let repo = git_repo();
    let log = repo.path().join("log.ndjson");
    let mut child = Command::new(shim())
        .args(["exec", "--log"])
        .arg(&log)
        .args([
            "--",
            "sh",
            "-c",
            "trap 'echo got-term; exit 42' TERM; echo ready; while :; do sleep 0.05; done",
        ])
        .current_dir(repo.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut buf = [0u8; 6];
    stdout.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"ready\n");
    let start = Instant::now();
    // SAFETY: signalling our own child.
    unsafe { libc_kill(child.id() as i32, 15) };
    let status = child.wait().unwrap();
    assert!(start.elapsed() < Duration::from_secs(5));
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "got-term\n");
    assert_eq!(
        status.code(),
        Some(42),
        "{status:?} signal={:?}",
        status.signal()
    );
    assert_eq!(read_log(&log)[0].exit_code, Some(42));
}

extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}

#[test]
fn logging_failures_do_not_change_the_command() {
    let repo = git_repo();
    let script = "echo hello; echo oops >&2; exit 7";
    let want = bare(repo.path(), &["sh", "-c", script], b"");
    // The log's folder cannot be created (its parent is a file), and a full disk.
    std::fs::write(repo.path().join("afile"), "x").unwrap();
    for log in [repo.path().join("afile/sub/log.ndjson"), "/dev/full".into()] {
        let out = exec_in(repo.path(), &log, &["sh", "-c", script], b"");
        assert_eq!(out.status.code(), Some(7));
        assert_eq!(out.stdout, want.stdout);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("oops\n"), "{err}");
        let warnings: Vec<&str> = err
            .lines()
            .filter(|l| l.starts_with("codex-shim: warning:"))
            .collect();
        assert_eq!(warnings.len(), 1, "{err}");
        assert!(warnings[0].contains("the command ran normally"));
    }
}

#[test]
fn a_lock_held_too_long_is_a_warning_not_a_hang() {
    use fs2::FileExt;
    let repo = git_repo();
    let log = repo.path().join("log.ndjson");
    let f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .unwrap();
    f.lock_exclusive().unwrap();
    let shim = shim();
    let start = Instant::now();
    let out = Command::new(shim)
        .args(["exec", "--log"])
        .arg(&log)
        .args(["--", "sh", "-c", "echo fine"])
        .env("CODEX_SHIM_LOCK_TIMEOUT_MS", "200")
        .current_dir(repo.path())
        .output()
        .unwrap();
    assert!(start.elapsed() < Duration::from_secs(3));
    assert!(out.status.success());
    assert_eq!(out.stdout, b"fine\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("held for more than"));
    FileExt::unlock(&f).unwrap();
}

#[test]
fn secrets_in_arguments_and_output_never_reach_the_log() {
    let repo = git_repo();
    let log = repo.path().join("log.ndjson");
    let token = format!("ghp_{}", "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8");
    let out = exec_in(
        repo.path(),
        &log,
        &["sh", "-c", &format!("echo token={token}")],
        b"",
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("token={token}\n")
    );
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!text.contains(&token), "{text}");
    assert!(text.contains("[REDACTED:github-token]"), "{text}");
}

#[test]
fn a_closed_stdout_gives_the_command_sigpipe_as_bare() {
    // `CMD | head -c 5`: when the reader goes away, the command dies of SIGPIPE on its next
    // write, exactly as without the shim, and the shim reports it as a shell would (141).
    let repo = git_repo();
    let log = repo.path().join("log.ndjson");
    let run = |wrapped: bool| {
        let mut cmd = if wrapped {
            let mut c = Command::new(shim());
            c.arg("exec").arg("--log").arg(&log).arg("--");
            c.arg("yes");
            c
        } else {
            Command::new("yes")
        };
        let mut child = cmd
            .current_dir(repo.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = child.stdout.take().unwrap();
        let mut buf = [0u8; 5];
        out.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"y\ny\ny");
        drop(out);
        let status = child.wait().unwrap();
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        (status, err)
    };
    let (bare, _) = run(false);
    assert_eq!(bare.signal(), Some(13), "{bare:?}");
    let (wrapped, err) = run(true);
    assert_eq!(wrapped.code(), Some(128 + 13), "{wrapped:?} {err}");
    assert_eq!(err, "", "no warning: the shim itself did not fail");
    let recs = read_log(&log);
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].signal, Some(13));
    assert_eq!(recs[0].exit_code, Some(141));
    assert!(recs[0].output.as_ref().unwrap().len >= 5);
}

#[test]
fn a_background_grandchild_holding_the_pipe_does_not_hold_the_shim() {
    // `sleep 30 &` inherits stdout: bare, the shell returns at once; the shim drains for a
    // moment after the command exits, then returns too, with the duration of the command.
    let repo = git_repo();
    let log = repo.path().join("log.ndjson");
    shim(); // builds the binaries if they are stale: not part of the time measured
    let start = Instant::now();
    let out = exec_in(
        repo.path(),
        &log,
        &["sh", "-c", "sleep 30 & echo started; exit 3"],
        b"",
    );
    let took = start.elapsed();
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(out.stdout, b"started\n");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    let recs = read_log(&log);
    assert_eq!(recs[0].exit_code, Some(3));
    assert!(
        recs[0].duration_ms.unwrap() < 250,
        "duration is the command's, not the drain's: {:?}",
        recs[0].duration_ms
    );
}

#[test]
fn arguments_parse_as_clap_documents_them() {
    let repo = git_repo();
    let log = repo.path().join("log.ndjson");
    // `--log=PATH`, `-q`, and a command without `--` (its own flags stay its own).
    let out = Command::new(shim())
        .arg("exec")
        .arg(format!("--log={}", log.display()))
        .args(["-q", "sh", "-c", "echo \"$0 $1\"", "--log", "x"])
        .current_dir(repo.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(out.stdout, b"--log x\n");
    assert_eq!(read_log(&log).len(), 1);
    // What the fast path does not take goes to clap: help, and usage errors (exit 2).
    let help = Command::new(shim())
        .args(["exec", "--help"])
        .output()
        .unwrap();
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).contains("Usage: codex-shim exec"));
    for (bad, says) in [
        (&["exec"][..], "required arguments were not provided"),
        (
            &["exec", "--log"][..],
            "a value is required for '--log <PATH>'",
        ),
    ] {
        let out = Command::new(shim()).args(bad).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(says),
            "{bad:?}"
        );
    }
}

#[test]
fn a_record_after_a_torn_last_line_is_not_lost() {
    // The log ends in half a record (a crash mid-write, a full disk): the next exec must
    // still be recorded, and `calls` must show it and count the fragment as one skipped line.
    let repo = git_repo();
    let log = repo.path().join("t.ndjson");
    let fragment = r#"{"v":1,"ts":"2026-01-01T00:00:00Z","source":"exec","phase":"outc"#;
    std::fs::write(&log, fragment).unwrap();
    let out = exec_in(repo.path(), &log, &["true"], b"");
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut reader = codex_contract::read::open(&log).unwrap();
    let recs: Vec<_> = reader.by_ref().collect();
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].input.as_deref(), Some("true"));
    assert_eq!(reader.stats().skipped, 1, "{:?}", reader.stats());
    let calls = Command::new(shim())
        .args(["calls", "--log"])
        .arg(&log)
        .current_dir(repo.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&calls.stdout);
    let stderr = String::from_utf8_lossy(&calls.stderr);
    assert!(stdout.contains("true"), "{stdout}");
    assert!(stderr.contains("skipped 1 unreadable line"), "{stderr}");
}
