//! Drives the real Codex CLI offline: a throwaway `CODEX_HOME` pointed at a
//! [`crate::model_server::ModelServer`], a scratch git repository, hook files, and a bounded
//! `codex exec --json` run.
//!
//! The binary is never taken from the machine's global install: tests use `CODEX_BIN`, or the
//! pinned copy `scripts/test` installs under `tests/.tools`, so every run exercises exactly
//! the version the fixtures and the shim were written against.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// The Codex CLI version the harness, fixtures and shim are pinned to.
pub const CODEX_VERSION: &str = "0.169.0";

/// The model name the scripted server answers as (a renamed catalog entry, see
/// [`CodexHome::new`]).
pub const MODEL: &str = "scripted-model";

/// How long one `codex exec` may take before the harness kills it and fails the test.
pub const EXEC_TIMEOUT: Duration = Duration::from_secs(60);

/// Every hook event Codex 0.169.0 knows.
pub const ALL_EVENTS: [&str; 12] = [
    "SessionStart",
    "UserPromptSubmit",
    "PreToolUse",
    "PermissionRequest",
    "PostToolUse",
    "Stop",
    "PreCompact",
    "PostCompact",
    "SubagentStart",
    "SubagentStop",
    "Interrupt",
    "SessionEnd",
];

/// The command that installs the pinned Codex CLI where [`codex_bin`] looks for it.
pub fn install_command() -> String {
    format!("npm install --prefix tests/.tools @openai/codex@{CODEX_VERSION}")
}

/// Path of the Codex binary to test: `$CODEX_BIN`, else
/// `<workspace>/tests/.tools/node_modules/.bin/codex`. Panics with the install command when
/// neither exists, because a test silently skipping Codex would prove nothing.
pub fn codex_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("CODEX_BIN").filter(|b| !b.is_empty()) {
        let bin = PathBuf::from(bin);
        assert!(
            bin.is_file(),
            "CODEX_BIN={} does not exist; unset it to use the pinned copy ({}) or point it at \
             a codex {CODEX_VERSION} binary",
            bin.display(),
            install_command()
        );
        return bin;
    }
    let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/node_modules/.bin/codex");
    assert!(
        bin.is_file(),
        "the Codex CLI is not installed at {}. Run `{}` from the workspace root (scripts/test \
         does this), or set CODEX_BIN to a codex {CODEX_VERSION} binary",
        bin.display(),
        install_command()
    );
    bin
}

/// The bundled model catalog entry Codex needs to declare the freeform `apply_patch` tool,
/// renamed to [`MODEL`]. Computed once per test process from `codex debug models --bundled`.
fn scripted_model_entry() -> &'static Value {
    static ENTRY: OnceLock<Value> = OnceLock::new();
    ENTRY.get_or_init(|| {
        let scratch = tempfile::tempdir().expect("create temp dir");
        let output = Command::new(codex_bin())
            .args(["debug", "models", "--bundled"])
            .env("CODEX_HOME", scratch.path())
            .stdin(Stdio::null())
            .output()
            .expect("run `codex debug models --bundled`");
        assert!(
            output.status.success(),
            "`codex debug models --bundled` failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let catalog: Value = serde_json::from_slice(&output.stdout)
            .expect("`codex debug models --bundled` prints JSON");
        // gpt-5.5 is the newest entry that is not `code_mode_only`: it declares exec_command
        // and apply_patch as ordinary tools, which is what the scripted model calls.
        let mut entry = catalog["models"]
            .as_array()
            .and_then(|models| models.iter().find(|m| m["slug"] == "gpt-5.5"))
            .cloned()
            .expect("bundled catalog has a gpt-5.5 entry");
        entry["slug"] = json!(MODEL);
        entry["prefer_websockets"] = json!(false);
        entry
    })
}

/// A throwaway `CODEX_HOME` configured for the scripted model server on `port`, plus an
/// empty `HOME` for the run.
///
/// Codex runs every command and hook in a login shell (`bash -lc`, `$SHELL -lc`), which
/// sources the user's profile. A developer profile can take seconds (here `pyenv init`
/// rehashes under a lock that concurrent shells wait 60 s for), and a command that outlives
/// the scripted `yield_time_ms` is reported as still running instead of with its exit code,
/// which changes which hooks fire. An empty `HOME` keeps runs fast and deterministic.
pub struct CodexHome {
    dir: tempfile::TempDir,
    user_home: tempfile::TempDir,
    port: u16,
}

impl CodexHome {
    /// Write `config.toml` (local provider, no retries, no network features) and
    /// `models.json` (the scripted model's catalog entry).
    pub fn new(port: u16) -> CodexHome {
        let dir = tempfile::Builder::new()
            .prefix("codex-home-")
            .tempdir()
            .expect("create CODEX_HOME temp dir");
        let models = dir.path().join("models.json");
        let config = format!(
            r#"model = "{MODEL}"
model_provider = "local"
approval_policy = "never"
sandbox_mode = "danger-full-access"
model_catalog_json = {models:?}
check_for_update_on_startup = false

[model_providers.local]
name = "Local scripted"
base_url = "http://127.0.0.1:{port}/v1"
wire_api = "responses"
env_key = "LOCAL_MODEL_API_KEY"
request_max_retries = 0
stream_max_retries = 0

[analytics]
enabled = false

[features]
plugins = false
"#,
            models = models.display().to_string(),
        );
        std::fs::write(dir.path().join("config.toml"), config).expect("write config.toml");
        let catalog = json!({"models": [scripted_model_entry()]});
        std::fs::write(&models, serde_json::to_vec_pretty(&catalog).unwrap())
            .expect("write models.json");
        let user_home = tempfile::Builder::new()
            .prefix("codex-user-home-")
            .tempdir()
            .expect("create HOME temp dir");
        CodexHome {
            dir,
            user_home,
            port,
        }
    }

    /// The `HOME` Codex runs with (empty, see [`CodexHome`]).
    pub fn user_home(&self) -> &Path {
        self.user_home.path()
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Mark `project` as trusted in `config.toml`, as `codex exec --trust` or the TUI's trust
    /// prompt would. Without this Codex ignores the project's `.codex/` folder, including its
    /// `hooks.json` (it only warns "Untrusted project-local configuration is disabled").
    pub fn trust_project(&self, project: &Path) {
        let project = project
            .canonicalize()
            .unwrap_or_else(|e| panic!("canonicalize {}: {e}", project.display()));
        let table = format!(
            "\n[projects.{:?}]\ntrust_level = \"trusted\"\n",
            project.display().to_string()
        );
        let config = self.path().join("config.toml");
        let mut text = std::fs::read_to_string(&config).expect("read config.toml");
        text.push_str(&table);
        std::fs::write(&config, text).expect("write config.toml");
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// All rollout files Codex wrote (`sessions/YYYY/MM/DD/rollout-*.jsonl`), sorted.
    pub fn rollouts(&self) -> Vec<PathBuf> {
        let mut found = Vec::new();
        collect_rollouts(&self.path().join("sessions"), &mut found);
        found.sort();
        found
    }

    /// The single rollout of a one-session run; panics if there is not exactly one.
    pub fn rollout(&self) -> PathBuf {
        let mut all = self.rollouts();
        assert_eq!(
            all.len(),
            1,
            "expected exactly one rollout under {}/sessions, found {all:?}",
            self.path().display()
        );
        all.pop().unwrap()
    }
}

fn collect_rollouts(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_rollouts(&path, found);
        } else if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("rollout-") && n.ends_with(".jsonl"))
        {
            found.push(path);
        }
    }
}

/// A `hooks.json` document built entry by entry (`{"hooks": {Event: [{matcher, hooks}]}}`).
#[derive(Debug, Clone, Default)]
pub struct Hooks {
    events: serde_json::Map<String, Value>,
}

impl Hooks {
    pub fn new() -> Hooks {
        Hooks::default()
    }

    /// Add a matcher group running `command` (via `$SHELL -lc`) for `event`.
    pub fn command(
        mut self,
        event: &str,
        matcher: &str,
        command: &str,
        timeout_secs: u64,
    ) -> Hooks {
        let group = json!({
            "matcher": matcher,
            "hooks": [{"type": "command", "command": command, "timeout": timeout_secs}],
        });
        self.events
            .entry(event.to_string())
            .or_insert_with(|| json!([]))
            .as_array_mut()
            .expect("event entry is an array")
            .push(group);
        self
    }

    /// Add a recorder for every event in [`ALL_EVENTS`] (matcher `*`), appending each
    /// payload as one line to `file`. `SessionEnd` and `Interrupt` get a 3 s timeout because
    /// Codex clamps theirs to 3 s and reports larger values as an `error` item in the
    /// `--json` stream; the rest get 10 s.
    pub fn record_all_events(mut self, file: &Path) -> Hooks {
        let record = recorder_command(file);
        for event in ALL_EVENTS {
            let timeout = if matches!(event, "SessionEnd" | "Interrupt") {
                3
            } else {
                10
            };
            self = self.command(event, "*", &record, timeout);
        }
        self
    }

    pub fn to_json(&self) -> Value {
        json!({"hooks": Value::Object(self.events.clone())})
    }

    /// Write as the project hooks file, `<repo>/.codex/hooks.json`.
    pub fn write_to_repo(&self, repo: &Path) -> PathBuf {
        let dir = repo.join(".codex");
        std::fs::create_dir_all(&dir).expect("create .codex");
        self.write(&dir.join("hooks.json"))
    }

    /// Write as the user hooks file, `<CODEX_HOME>/hooks.json`.
    pub fn write_to_home(&self, home: &CodexHome) -> PathBuf {
        self.write(&home.path().join("hooks.json"))
    }

    fn write(&self, path: &Path) -> PathBuf {
        std::fs::write(path, serde_json::to_vec_pretty(&self.to_json()).unwrap())
            .unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path.to_path_buf()
    }
}

/// A hook command that appends its stdin (one JSON payload, no trailing newline) and a
/// newline to `file`, so the file becomes JSONL with one payload per hook run.
///
/// The payload is read to a temp file first, then appended under `flock(1)` on the file:
/// hooks of a session and its subagents run concurrently, and unlocked appends interleave.
pub fn recorder_command(file: &Path) -> String {
    let file = shell_quote(&file.display().to_string());
    format!(
        r#"t=$(mktemp) && cat > "$t" && flock {file} sh -c 'cat "$1" >> "$2"; echo >> "$2"' _ "$t" {file}; rm -f "$t""#
    )
}

/// Quote `s` as one POSIX shell word.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Run `codex exec --json "do it"` in `repo_dir` against `home`, with approvals and sandbox
/// bypassed, hooks trusted for this run and stdin closed (otherwise Codex waits for more
/// prompt text). Killed and failed after [`EXEC_TIMEOUT`].
pub fn run_exec(home: &CodexHome, repo_dir: &Path, extra_env: &[(&str, &str)]) -> Output {
    run_bounded(exec_command(home, repo_dir, extra_env), EXEC_TIMEOUT)
}

/// The exact command [`run_exec`] runs, for tests that need to adjust it (a signal mid-run)
/// before running it with [`run_bounded`].
pub fn exec_command(home: &CodexHome, repo_dir: &Path, extra_env: &[(&str, &str)]) -> Command {
    exec_command_with_flags(
        home,
        repo_dir,
        extra_env,
        &["--dangerously-bypass-approvals-and-sandbox"],
    )
}

/// Like [`exec_command`], with `flags` in place of `--dangerously-bypass-approvals-and-sandbox`
/// (e.g. `--approve-for-me`, so the config's approval policy and sandbox apply and
/// `PermissionRequest` can fire).
pub fn exec_command_with_flags(
    home: &CodexHome,
    repo_dir: &Path,
    extra_env: &[(&str, &str)],
    flags: &[&str],
) -> Command {
    let mut cmd = Command::new(codex_bin());
    cmd.args(["exec", "--strict-config", "--skip-git-repo-check"])
        .args(flags)
        .args(["--dangerously-bypass-hook-trust", "--json", "do it"])
        .current_dir(repo_dir)
        .env("CODEX_HOME", home.path())
        .env("HOME", home.user_home())
        .env("LOCAL_MODEL_API_KEY", "dummy")
        // A real key or endpoint from the developer's shell must never reach a test run.
        .env_remove("OPENAI_API_KEY")
        .env_remove("OPENAI_BASE_URL")
        .env_remove("CODEX_API_KEY")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in extra_env {
        cmd.env(key, value);
    }
    cmd
}

/// Replace `from` with `to` in `config.toml` (for sessions that need e.g. another approval
/// policy); panics if `from` is not there, so a changed default cannot go unnoticed.
pub fn edit_config(home: &CodexHome, from: &str, to: &str) {
    let path = home.path().join("config.toml");
    let text = std::fs::read_to_string(&path).expect("read config.toml");
    assert!(text.contains(from), "config.toml has no {from:?}");
    std::fs::write(&path, text.replacen(from, to, 1)).expect("write config.toml");
}

/// Run `cmd` (stdout and stderr piped) to completion; kill it and panic with what it printed
/// if it outlives `timeout`. See [`RunningExec`].
pub fn run_bounded(cmd: Command, timeout: Duration) -> Output {
    RunningExec::spawn(cmd).wait(timeout)
}

/// A running `codex` process, for tests that act on it mid-run (e.g. interrupt it).
///
/// The child runs in its own process group and the whole group is killed on timeout or
/// drop: the npm `codex` launcher is a Node script that runs the native binary as a child,
/// and killing only the launcher would leave the native process running and holding the
/// output pipes open. Both pipes are read concurrently so a chatty child cannot block.
pub struct RunningExec {
    child: std::process::Child,
    stdout: Option<std::thread::JoinHandle<Vec<u8>>>,
    stderr: Option<std::thread::JoinHandle<Vec<u8>>>,
    finished: bool,
}

impl RunningExec {
    /// Spawn `cmd`, whose stdout and stderr must be piped.
    pub fn spawn(mut cmd: Command) -> RunningExec {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
        let mut child = cmd.spawn().expect("spawn codex");
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        RunningExec {
            child,
            stdout: Some(drain(stdout)),
            stderr: Some(drain(stderr)),
            finished: false,
        }
    }

    /// Send SIGINT (what Ctrl-C sends) to the launcher, which forwards it to Codex.
    pub fn interrupt(&self) {
        let pid = libc::pid_t::try_from(self.child.id()).expect("pid fits pid_t");
        // SAFETY: kill(2) only sends a signal; no memory is involved.
        unsafe {
            libc::kill(pid, libc::SIGINT);
        }
    }

    /// Wait for the process to exit and collect its output; after `timeout`, kill its process
    /// group and panic with what it printed.
    pub fn wait(mut self, timeout: Duration) -> Output {
        let deadline = Instant::now() + timeout;
        let status: ExitStatus = loop {
            if let Some(status) = self.child.try_wait().expect("wait for codex") {
                break status;
            }
            if Instant::now() >= deadline {
                kill_process_group(self.child.id());
                let _ = self.child.wait();
                self.finished = true;
                let (stdout, stderr) = self.collect();
                panic!(
                    "codex did not finish within {timeout:?}; killed.\n--- stdout ---\n{}\n--- stderr ---\n{}",
                    String::from_utf8_lossy(&stdout),
                    String::from_utf8_lossy(&stderr)
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        self.finished = true;
        let (stdout, stderr) = self.collect();
        Output {
            status,
            stdout,
            stderr,
        }
    }

    fn collect(&mut self) -> (Vec<u8>, Vec<u8>) {
        let join = |h: Option<std::thread::JoinHandle<Vec<u8>>>| {
            h.map(|h| h.join().unwrap_or_default()).unwrap_or_default()
        };
        (join(self.stdout.take()), join(self.stderr.take()))
    }
}

impl Drop for RunningExec {
    /// A test that panics mid-run must not leave Codex running.
    fn drop(&mut self) {
        if !self.finished {
            kill_process_group(self.child.id());
            let _ = self.child.wait();
        }
    }
}

fn drain(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = pipe.read_to_end(&mut buf);
        buf
    })
}

/// SIGKILL every process in the group led by `pid` (see [`run_bounded`]).
fn kill_process_group(pid: u32) {
    let pgid = libc::pid_t::try_from(pid).expect("pid fits pid_t");
    // SAFETY: kill(2) with a negative pid signals a process group; no memory is involved.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
}

/// Poll `path` until it contains `needle`, for at most `timeout`; whether it did. For
/// waiting on a recorder hook's file before acting on a running session.
pub fn wait_for_text(path: &Path, needle: &str, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if std::fs::read_to_string(path).is_ok_and(|text| text.contains(needle)) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// A scratch git repository with one commit (a README), for Codex to work in.
pub fn git_repo() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("codex-repo-")
        .tempdir()
        .expect("create repo temp dir");
    std::fs::write(dir.path().join("README.md"), "# scratch\n").expect("write README");
    git(dir.path(), &["init", "-q", "-b", "main"]);
    git(dir.path(), &["add", "README.md"]);
    git(
        dir.path(),
        &[
            "-c",
            "user.name=e2e",
            "-c",
            "user.email=e2e@example.invalid",
            "-c",
            "commit.gpgsign=false",
            "commit",
            "-q",
            "-m",
            "initial",
        ],
    );
    dir
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .status()
        .expect("run git (is git installed?)");
    assert!(status.success(), "git {args:?} failed in {}", dir.display());
}

/// Parse a JSONL file or stream into values; panics on a malformed line (Codex and the
/// recorder hooks write one JSON document per line).
pub fn parse_jsonl(text: &str) -> Vec<Value> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSONL line {l:?}: {e}")))
        .collect()
}

/// A fake GitHub token (right shape, not a real credential): the third call's argument and
/// output carry it, so tests can prove it is redacted everywhere it is stored.
pub const FAKE_TOKEN: &str = "ghp_0123456789abcdefghijABCDEFGHIJklmnop";

/// The file a PreToolUse hook protects in the scripted session; it must survive the run.
pub const BLOCK_MARKER: &str = "build-marker";

/// The scripted session the end-to-end tests use, one call per outcome Codex can report:
/// 0. a shell command that succeeds,
/// 1. a shell command that fails (exit 2),
/// 2. a shell command whose argument and output carry [`FAKE_TOKEN`],
/// 3. a patch that fails verification (updates a file that does not exist),
/// 4. a patch that applies (adds `added.txt`),
/// 5. `rm ./build-marker`, which a PreToolUse hook ([`block_marker_hook_script`]) blocks,
///
/// then a final message.
pub fn outcome_script() -> Vec<crate::model_server::Step> {
    use crate::model_server::Step;
    vec![
        Step::shell("echo hello"),
        Step::shell("ls /nope"),
        Step::shell(format!("echo {FAKE_TOKEN}")),
        Step::patch(
            "*** Begin Patch\n*** Update File: missing.txt\n@@\n-old line\n+new line\n*** End Patch\n",
        ),
        Step::patch("*** Begin Patch\n*** Add File: added.txt\n+added by the scripted model\n*** End Patch\n"),
        Step::shell(format!("rm ./{BLOCK_MARKER}")),
        Step::final_message("done"),
    ]
}

/// A POSIX shell script for a PreToolUse hook that blocks any call whose payload mentions
/// [`BLOCK_MARKER`] (exit 2 with a reason on stderr, which Codex shows the model) and allows
/// the rest. (`rm -rf` itself is no use as the trigger: Codex 0.169.0 rejects `rm -f` style
/// commands on its own before any hook sees them.)
pub fn block_marker_hook_script() -> String {
    format!(
        r#"#!/bin/sh
payload=$(cat)
case "$payload" in
  *"{BLOCK_MARKER}"*) echo "blocked by test policy: {BLOCK_MARKER} is protected" >&2; exit 2 ;;
esac
exit 0
"#
    )
}
