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
use std::io::{self, IsTerminal, Write};
use std::mem::ManuallyDrop;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
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

/// Parses `[--log PATH | --log=PATH] [-q | --quiet] [--] CMD [ARGS...]` by hand.
///
/// Why not clap: building clap's command tree is a measurable share of a run that must add
/// under a millisecond to every wrapped command. Only these exact shapes are taken here;
/// anything else (`--help`, an unknown flag, no command) returns `None`, and `main` hands it to
/// clap, which owns the help text and the error messages.
pub fn parse_args(args: &[OsString]) -> Option<(&[OsString], ExecOptions)> {
    use std::os::unix::ffi::OsStrExt;
    let mut opts = ExecOptions {
        log: None,
        quiet: false,
    };
    let mut i = 0;
    while let Some(a) = args.get(i) {
        let b = a.as_bytes();
        match b {
            b"--" => {
                i += 1;
                break;
            }
            b"-q" | b"--quiet" => opts.quiet = true,
            b"--log" => {
                i += 1;
                opts.log = Some(PathBuf::from(args.get(i)?));
            }
            _ if b.starts_with(b"--log=") => {
                let p = std::ffi::OsStr::from_bytes(&b[6..]);
                opts.log = Some(PathBuf::from(p));
            }
            _ if b.starts_with(b"-") => return None,
            _ => break,
        }
        i += 1;
    }
    let cmd = &args[i.min(args.len())..];
    (!cmd.is_empty()).then_some((cmd, opts))
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
    // What the record needs that does not depend on the outcome is gathered while the child
    // runs, on the other core, rather than added to the wall time after it exits. HEAD is
    // therefore the commit the command started from.
    let mut r = base_record(cmd, started_at);

    let mut streams = Vec::with_capacity(2);
    if let Some(out) = child.stdout.take() {
        streams.push(Stream::new(out.into(), 1));
    }
    if let Some(err) = child.stderr.take() {
        streams.push(Stream::new(err.into(), 2));
    }
    let pidfd = open_pidfd(child.id());
    let (status, exited_at) = pump(&mut child, &mut streams, pidfd);
    let duration = exited_at.duration_since(start);
    CHILD.store(0, Ordering::SeqCst);
    let mut out_cap = None;
    let mut err_cap = None;
    for s in streams {
        if s.to == 1 {
            out_cap = Some(s.cap);
        } else {
            err_cap = Some(s.cap);
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
    // Outside a git repository the default log is `<cwd>/.codex/`: say so the first time
    // (when that folder would be created), rather than leave a `.codex/` behind silently.
    if opts.log.is_none()
        && std::env::var_os(paths::LOG_ENV).is_none_or(|v| v.is_empty())
        && path.parent().is_some_and(|d| !d.exists())
        && paths::git_top_level(&cwd).is_none()
    {
        crate::warn::warn(
            &format!(
                "{} is not inside a git repository: recording to {} (set ${} or pass --log to record elsewhere)",
                cwd.display(),
                path.display(),
                paths::LOG_ENV
            ),
            opts.quiet,
        );
    }
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

/// One of the child's output pipes, copied to our fd `to` (1 or 2).
struct Stream {
    /// `None` once the pipe reached end of file or our side was closed.
    from: Option<OwnedFd>,
    to: i32,
    cap: Capture,
}

impl Stream {
    fn new(from: OwnedFd, to: i32) -> Stream {
        Stream {
            from: Some(from),
            to,
            cap: Capture::new(),
        }
    }

    /// Reads what is ready and writes it on. When our side is closed (EPIPE), copying stops
    /// and the pipe is closed, so the child gets SIGPIPE exactly as it would writing to a
    /// closed pipe bare.
    ///
    /// `buf` is used only for its capacity: reading into uninitialised memory spares zeroing
    /// (and faulting in) 64 KiB on every run, though most commands print far less.
    fn copy_ready(&mut self, buf: &mut Vec<u8>) {
        let Some(fd) = &self.from else { return };
        buf.clear();
        let n = loop {
            // SAFETY: read(2) writes at most `capacity` bytes into the vector's spare
            // capacity, and the length is then set to what it wrote.
            let r = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.capacity()) };
            if r >= 0 {
                break r as usize;
            }
            if io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
                break 0;
            }
        };
        if n == 0 {
            self.from = None;
            return;
        }
        // SAFETY: the first `n` bytes were written by read(2) above.
        unsafe { buf.set_len(n) };
        self.cap.push(buf);
        // SAFETY: fd 1 or 2 is open for the life of the process; ManuallyDrop keeps it open
        // when this File goes away.
        let mut dst = ManuallyDrop::new(unsafe { File::from_raw_fd(self.to) });
        if dst.write_all(buf).is_err() {
            self.from = None;
        }
    }
}

/// Copies the child's piped output to ours as it arrives and waits for the child, on this
/// one thread: `poll` on the pipes and on a pidfd that becomes readable when the child exits.
/// After the exit, copying goes on until the pipes close or for `DRAIN_GRACE`, whichever is
/// first (a grandchild started with `cmd &` may hold them open for ever).
///
/// Without a pidfd (`None`: not Linux, or a kernel before 5.3), it looks at the child every
/// 10 ms instead. Returns the exit status (`None` if it cannot be had) and when the exit was
/// seen.
///
/// Why not a thread per pipe: in a process that lives about a millisecond, two thread starts
/// (stacks, a malloc arena each) were a measurable share of the shim's overhead.
fn pump(
    child: &mut Child,
    streams: &mut [Stream],
    pidfd: Option<OwnedFd>,
) -> (Option<ExitStatus>, Instant) {
    let mut buf = Vec::with_capacity(64 * 1024);
    let mut status: Option<(ExitStatus, Instant)> = None;
    let mut drain_until: Option<Instant> = None;
    let mut fds: Vec<libc::pollfd> = Vec::with_capacity(3);
    while streams.iter().any(|s| s.from.is_some()) {
        let timeout_ms = match drain_until {
            Some(t) => match t.checked_duration_since(Instant::now()) {
                Some(left) => left.as_millis().max(1) as libc::c_int,
                None => break,
            },
            None if pidfd.is_none() => 10,
            None => -1,
        };
        fds.clear();
        for s in streams.iter() {
            if let Some(fd) = &s.from {
                fds.push(pollfd(fd.as_raw_fd()));
            }
        }
        let watch_exit = status.is_none() && pidfd.is_some();
        if let (true, Some(p)) = (watch_exit, &pidfd) {
            fds.push(pollfd(p.as_raw_fd()));
        }
        // SAFETY: `fds` is a valid array of `fds.len()` pollfd structs.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
        if n < 0 {
            if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                continue;
            }
            break;
        }
        let mut ready = fds.iter().map(|p| p.revents != 0);
        for s in streams.iter_mut().filter(|s| s.from.is_some()) {
            if ready.next() == Some(true) {
                s.copy_ready(&mut buf);
            }
        }
        let exited = ready.next() == Some(true);
        if status.is_none() && (pidfd.is_none() || exited) {
            if let Ok(Some(s)) = child.try_wait() {
                let now = Instant::now();
                status = Some((s, now));
                drain_until = Some(now + DRAIN_GRACE);
            }
        }
    }
    if let Some((s, at)) = status {
        return (Some(s), at);
    }
    loop {
        match child.wait() {
            Ok(s) => return (Some(s), Instant::now()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return (None, Instant::now()),
        }
    }
}

fn pollfd(fd: libc::c_int) -> libc::pollfd {
    libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    }
}

/// A pidfd for our child: readable once it exits (Linux 5.3+). `None` elsewhere.
fn open_pidfd(pid: u32) -> Option<OwnedFd> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: pidfd_open(2) with flags 0 returns a new fd or -1; the child is unreaped,
        // so `pid` cannot have been reused.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
        if fd >= 0 {
            // SAFETY: the fd was just returned to us and nothing else owns it.
            return Some(unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) });
        }
    }
    let _ = pid;
    None
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

    fn os(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn parse_args_takes_the_common_shapes() {
        let a = os(&["--log", "/tmp/l", "-q", "--", "ls", "-la"]);
        let (cmd, o) = parse_args(&a).unwrap();
        assert_eq!(cmd, &os(&["ls", "-la"])[..]);
        assert_eq!(o.log.as_deref(), Some(std::path::Path::new("/tmp/l")));
        assert!(o.quiet);

        let a = os(&["--log=/x y", "make", "--log", "z"]);
        let (cmd, o) = parse_args(&a).unwrap();
        assert_eq!(
            cmd,
            &os(&["make", "--log", "z"])[..],
            "flags after CMD are its own"
        );
        assert_eq!(o.log.as_deref(), Some(std::path::Path::new("/x y")));
        assert!(!o.quiet);

        let a = os(&["--", "--weird-name"]);
        assert_eq!(parse_args(&a).unwrap().0, &os(&["--weird-name"])[..]);
    }

    #[test]
    fn parse_args_leaves_the_rest_to_clap() {
        for a in [
            &[][..],
            &["--"][..],
            &["--help"][..],
            &["-h", "ls"][..],
            &["--log"][..],
            &["--log", "x"][..],
            &["--verbose", "ls"][..],
        ] {
            assert!(parse_args(&os(a)).is_none(), "{a:?}");
        }
    }

    /// The pump as `run` drives it, copying to /dev/null instead of the shim's fds 1 and 2.
    fn pump_script(script: &str, with_pidfd: bool) -> (Option<ExitStatus>, Vec<Capture>) {
        let null = File::create("/dev/null").unwrap();
        let mut child = Command::new("sh")
            .args(["-c", script])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut streams = vec![
            Stream::new(child.stdout.take().unwrap().into(), null.as_raw_fd()),
            Stream::new(child.stderr.take().unwrap().into(), null.as_raw_fd()),
        ];
        let pidfd = if with_pidfd {
            open_pidfd(child.id())
        } else {
            None
        };
        let (status, _) = pump(&mut child, &mut streams, pidfd);
        (status, streams.into_iter().map(|s| s.cap).collect())
    }

    #[test]
    fn pump_copies_and_reaps_with_and_without_a_pidfd() {
        for with_pidfd in [true, false] {
            let script = "echo out; sleep 0.05; echo err >&2; exit 3";
            let (status, caps) = pump_script(script, with_pidfd);
            assert_eq!(status.and_then(|s| s.code()), Some(3), "pidfd {with_pidfd}");
            assert_eq!(caps[0].head, b"out\n");
            assert_eq!(caps[1].head, b"err\n");
            // A grandchild holding the pipes: the pump returns after the grace period.
            let start = Instant::now();
            let (status, caps) = pump_script("sleep 5 & echo bg; exit 0", with_pidfd);
            assert_eq!(status.and_then(|s| s.code()), Some(0));
            assert_eq!(caps[0].head, b"bg\n");
            assert!(
                start.elapsed() < Duration::from_secs(3),
                "pidfd {with_pidfd}"
            );
        }
        #[cfg(target_os = "linux")]
        assert!(open_pidfd(std::process::id()).is_some(), "pidfds work here");
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
