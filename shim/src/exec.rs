//! `codex-shim exec -- CMD ARGS...`: run a command transparently and record it.
//!
//! Transparency comes first. Standard input is inherited, untouched. Standard output and
//! error are inherited when they are terminals (a program that checks `isatty` must behave
//! exactly as it would bare; the record then has no excerpt of that stream), and otherwise
//! piped through the shim, copied byte for byte as they arrive, with a bounded head and tail
//! kept for the record. Signals sent to the shim (`kill`, a CI runner cancelling a step) are
//! forwarded to the child; signals the terminal sends to the whole process group (Ctrl-C)
//! already reach the child and are not sent twice. The exit code is the child's, `128+N` when
//! it dies of signal N, 127 when the command is not found and 126 when it cannot be executed,
//! as a shell would report them. A failure to record changes none of this.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::mem::ManuallyDrop;
use std::os::fd::FromRawFd;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use codex_contract::record::{shorten, Excerpt, Phase, Record, Source, Status};
use codex_contract::{classify, paths, redact};

/// Bytes of each stream's beginning kept for the record.
const HEAD_MAX: usize = 4 * 1024;
/// Bytes of each stream's end kept for the record (errors are at the end).
const TAIL_MAX: usize = 12 * 1024;
/// How long the shim keeps copying after the child exits, for grandchildren that inherited
/// the pipe (`cmd &`). Past this the shim exits with what it has.
const DRAIN_GRACE: Duration = Duration::from_millis(300);

pub struct ExecOptions {
    /// `--log PATH`.
    pub log: Option<PathBuf>,
    /// Do not print the warning line when recording fails (it still goes to the error log).
    pub quiet: bool,
}

/// Runs the command, records it, and returns the exit code the shim must exit with.
pub fn run(cmd: &[OsString], opts: &ExecOptions) -> i32 {
    let Some((program, args)) = cmd.split_first() else {
        eprintln!("codex-shim exec: no command given. Usage: codex-shim exec [--log PATH] -- CMD [ARGS...]");
        return 2;
    };
    install_forwarding();
    let started_at = codex_contract::chrono::Utc::now();
    let start = Instant::now();

    let mut command = Command::new(program);
    command.args(args).stdin(Stdio::inherit());
    let pipe_out = !io::stdout().is_terminal();
    let pipe_err = !io::stderr().is_terminal();
    command.stdout(if pipe_out {
        Stdio::piped()
    } else {
        Stdio::inherit()
    });
    command.stderr(if pipe_err {
        Stdio::piped()
    } else {
        Stdio::inherit()
    });

    let mut child = match command.spawn() {
        Ok(c) => c,
        Err(e) => {
            let (code, error_type, text) = match e.kind() {
                io::ErrorKind::NotFound => (127, "command_not_found", "command not found"),
                io::ErrorKind::PermissionDenied => (126, "permission_denied", "Permission denied"),
                _ => (126, "nonzero_exit", "cannot execute"),
            };
            let msg = format!("codex-shim: {}: {text}\n", program.to_string_lossy());
            let _ = io::stderr().write_all(msg.as_bytes());
            let mut r = base_record(cmd, started_at);
            r.exit_code = Some(code);
            r.status = Some(Status::Failed);
            r.error_type = Some(error_type.to_string());
            r.duration_ms = Some(start.elapsed().as_millis() as u64);
            r.stderr = Some(Excerpt::new(&redact::redact(msg.trim_end()), TAIL_MAX));
            record(r, opts);
            return code;
        }
    };
    CHILD.store(child.id() as i32, Ordering::SeqCst);
    let pending = PENDING.swap(0, Ordering::SeqCst);
    if pending != 0 {
        // SAFETY: kill(2) with a pid we own and a valid signal number.
        unsafe { libc::kill(child.id() as i32, pending) };
    }

    let (tx, rx) = mpsc::channel::<(u8, Capture)>();
    let mut copiers = 0;
    if let Some(out) = child.stdout.take() {
        copiers += 1;
        spawn_copier(out, 1, tx.clone());
    }
    if let Some(err) = child.stderr.take() {
        copiers += 1;
        spawn_copier(err, 2, tx.clone());
    }
    drop(tx);

    let status = loop {
        match child.wait() {
            Ok(s) => break Some(s),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => break None,
        }
    };
    let duration = start.elapsed();
    CHILD.store(0, Ordering::SeqCst);

    let mut out_cap = None;
    let mut err_cap = None;
    let deadline = Instant::now() + DRAIN_GRACE;
    for _ in 0..copiers {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok((1, c)) => out_cap = Some(c),
            Ok((_, c)) => err_cap = Some(c),
            Err(_) => break,
        }
    }

    let (code, signal) = match status {
        Some(s) => match (s.code(), s.signal()) {
            (Some(c), _) => (c, None),
            (None, Some(sig)) => (128 + sig, Some(sig)),
            (None, None) => (1, None),
        },
        None => (1, None),
    };

    let mut r = base_record(cmd, started_at);
    r.exit_code = Some(code);
    r.signal = signal;
    r.duration_ms = Some(duration.as_millis() as u64);
    r.output = out_cap.filter(|c| c.total > 0).map(Capture::excerpt);
    r.stderr = err_cap.filter(|c| c.total > 0).map(Capture::excerpt);
    let status = if code == 0 {
        Status::Ok
    } else {
        Status::Failed
    };
    r.status = Some(status);
    if status.is_failure() {
        let out = r.output.as_ref().map_or("", |e| e.text.as_str());
        let err = r.stderr.as_ref().map_or("", |e| e.text.as_str());
        r.error_type = Some(
            classify::classify(&classify::Evidence {
                status,
                exit_code: Some(code),
                signal,
                output: out,
                stderr: err,
            })
            .to_string(),
        );
    }
    record(r, opts);
    code
}

fn base_record(
    cmd: &[OsString],
    ts: codex_contract::chrono::DateTime<codex_contract::chrono::Utc>,
) -> Record {
    let mut r = Record::at(ts, Source::Exec, Phase::Outcome);
    r.call_id = Some(format!(
        "exec-{}-{}",
        std::process::id(),
        ts.timestamp_nanos_opt().unwrap_or_default()
    ));
    r.session_id = std::env::var("CODEX_SHIM_SESSION")
        .ok()
        .filter(|s| !s.is_empty());
    r.tool = Some("exec".to_string());
    let line = shell_join(cmd);
    r.input = Some(codex_contract::record::shorten(
        &redact::redact(&line),
        8 * 1024,
    ));
    if let Ok(cwd) = std::env::current_dir() {
        r.git_head = paths::git_top_level(&cwd).and_then(|top| paths::git_head(&top));
        r.cwd = Some(cwd.to_string_lossy().into_owned());
    }
    r
}

fn record(r: Record, opts: &ExecOptions) {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let path = paths::log_path(opts.log.as_deref(), &cwd);
    let result = codex_contract::append::Appender::open(&path).and_then(|a| {
        a.lock_timeout(lock_timeout())
            .append(std::slice::from_ref(&r))
    });
    if let Err(e) = result {
        crate::warn::warn(
            &format!("could not record the call ({e}); the command ran normally"),
            opts.quiet,
        );
    }
}

/// How long to wait for the log's lock: `CODEX_SHIM_LOCK_TIMEOUT_MS`, default 2 s.
pub fn lock_timeout() -> Duration {
    std::env::var("CODEX_SHIM_LOCK_TIMEOUT_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map(Duration::from_millis)
        .unwrap_or(codex_contract::append::DEFAULT_LOCK_TIMEOUT)
}

/// Joins arguments the way a user would type them, quoting where needed.
pub fn shell_join(cmd: &[OsString]) -> String {
    let mut out = String::new();
    for (i, a) in cmd.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let a = a.to_string_lossy();
        let plain = !a.is_empty()
            && a.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%^".contains(&b));
        if plain {
            out.push_str(&a);
        } else {
            out.push('\'');
            out.push_str(&a.replace('\'', r"'\''"));
            out.push('\'');
        }
    }
    out
}

/// The head and tail of one stream.
struct Capture {
    head: Vec<u8>,
    tail: Vec<u8>,
    /// Start of the oldest byte in the `tail` ring.
    tail_pos: usize,
    total: u64,
}

impl Capture {
    fn new() -> Capture {
        Capture {
            head: Vec::new(),
            tail: Vec::new(),
            tail_pos: 0,
            total: 0,
        }
    }

    fn push(&mut self, mut data: &[u8]) {
        self.total += data.len() as u64;
        if self.head.len() < HEAD_MAX {
            let n = (HEAD_MAX - self.head.len()).min(data.len());
            self.head.extend_from_slice(&data[..n]);
            data = &data[n..];
        }
        if data.len() >= TAIL_MAX {
            self.tail.clear();
            self.tail.extend_from_slice(&data[data.len() - TAIL_MAX..]);
            self.tail_pos = 0;
            return;
        }
        for &b in data {
            if self.tail.len() < TAIL_MAX {
                self.tail.push(b);
            } else {
                self.tail[self.tail_pos] = b;
                self.tail_pos = (self.tail_pos + 1) % TAIL_MAX;
            }
        }
    }

    /// The redacted excerpt. Head and tail are redacted separately and cut back to word
    /// boundaries where the stream was cut, so a secret split by the cut leaves no fragment.
    /// Bytes that are not UTF-8 become U+FFFD; the text stays within HEAD_MAX + TAIL_MAX.
    fn excerpt(self) -> Excerpt {
        let mut tail = self.tail[self.tail_pos..].to_vec();
        tail.extend_from_slice(&self.tail[..self.tail_pos]);
        let whole = (self.head.len() + tail.len()) as u64 == self.total;
        if whole {
            let mut all = self.head;
            all.extend_from_slice(&tail);
            let text = String::from_utf8_lossy(&all);
            return Excerpt {
                text: shorten(&redact::redact(&text), HEAD_MAX + TAIL_MAX),
                len: self.total,
            };
        }
        let head = String::from_utf8_lossy(&self.head);
        let head = redact::redact(&head);
        let head = floor_boundary(cut_after_last_space(&head), HEAD_MAX);
        let tail = String::from_utf8_lossy(&tail);
        let tail = redact::redact(&tail);
        let tail = ceil_boundary(cut_before_first_space(&tail), TAIL_MAX);
        let elided = self.total.saturating_sub((head.len() + tail.len()) as u64);
        Excerpt {
            text: format!("{head}\n…[{elided} bytes elided]…\n{tail}"),
            len: self.total,
        }
    }
}

/// The longest prefix of `s` of at most `max` bytes.
fn floor_boundary(s: &str, max: usize) -> &str {
    let mut i = max.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    &s[..i]
}

/// The longest suffix of `s` of at most `max` bytes.
fn ceil_boundary(s: &str, max: usize) -> &str {
    let mut i = s.len().saturating_sub(max);
    while !s.is_char_boundary(i) {
        i += 1;
    }
    &s[i..]
}

fn cut_after_last_space(s: &str) -> &str {
    match s.rfind(|c: char| c.is_whitespace()) {
        Some(i) => &s[..i],
        None => "",
    }
}

fn cut_before_first_space(s: &str) -> &str {
    match s.find(|c: char| c.is_whitespace()) {
        Some(i) => &s[i..],
        None => "",
    }
}

/// Copies a child's pipe to our fd `fd` as data arrives, capturing head and tail. When our
/// side is closed (EPIPE), copying stops and the pipe is closed, so the child gets SIGPIPE
/// exactly as it would writing to a closed pipe bare.
fn spawn_copier(mut src: impl Read + Send + 'static, fd: i32, tx: mpsc::Sender<(u8, Capture)>) {
    std::thread::spawn(move || {
        // SAFETY: fds 1 and 2 are open for the life of the process; ManuallyDrop keeps
        // them open when this File goes away.
        let mut dst = ManuallyDrop::new(unsafe { File::from_raw_fd(fd) });
        let mut cap = Capture::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match src.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            };
            cap.push(&buf[..n]);
            if dst.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        drop(src);
        let _ = tx.send((fd as u8, cap));
    });
}

static CHILD: AtomicI32 = AtomicI32::new(0);
static PENDING: AtomicI32 = AtomicI32::new(0);

extern "C" fn forward(sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    // Signals the kernel sends for the terminal (SI_KERNEL, e.g. Ctrl-C) reach the whole
    // foreground process group, the child included: forwarding them would deliver twice.
    // SAFETY: the kernel passes a valid siginfo with SA_SIGINFO.
    let code = unsafe { (*info).si_code };
    if code == libc::SI_KERNEL {
        return;
    }
    let pid = CHILD.load(Ordering::SeqCst);
    if pid > 0 {
        // SAFETY: kill(2) is async-signal-safe.
        unsafe { libc::kill(pid, sig) };
    } else {
        PENDING.store(sig, Ordering::SeqCst);
    }
}

fn install_forwarding() {
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT] {
        // SAFETY: a zeroed sigaction with a valid handler and SA_SIGINFO|SA_RESTART.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = forward as *const () as usize;
            sa.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_keeps_head_and_tail() {
        let mut c = Capture::new();
        let data: Vec<u8> = (0..100_000u32).map(|i| b'a' + (i % 26) as u8).collect();
        for chunk in data.chunks(777) {
            c.push(chunk);
        }
        assert_eq!(c.total, 100_000);
        let head = c.head.clone();
        assert_eq!(head, &data[..HEAD_MAX]);
        let mut tail = c.tail[c.tail_pos..].to_vec();
        tail.extend_from_slice(&c.tail[..c.tail_pos]);
        assert_eq!(tail, &data[data.len() - TAIL_MAX..]);
    }

    #[test]
    fn small_output_is_whole() {
        let mut c = Capture::new();
        c.push(b"hello\nworld\n");
        let e = c.excerpt();
        assert_eq!(e.text, "hello\nworld\n");
        assert_eq!(e.len, 12);
    }

    #[test]
    fn shell_join_quotes() {
        let v: Vec<OsString> = ["echo", "a b", "it's", "x=1"]
            .iter()
            .map(OsString::from)
            .collect();
        assert_eq!(shell_join(&v), r"echo 'a b' 'it'\''s' x=1");
    }
}
