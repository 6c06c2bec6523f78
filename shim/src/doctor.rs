//! `codex-shim doctor`: checks, one by one, everything capture depends on and says how to fix
//! each failure — because a broken capture is silent by design (the hook never fails a tool
//! call, and Codex skips untrusted hooks without a word), so "no records" is all a user would
//! otherwise see.
//!
//! Checks, in the order a call travels: the shim itself (on PATH, its version), the hooks
//! (in the repository's and the user's `hooks.json`, covering every event, pointing at a
//! binary that exists), the Codex CLI (`codex --version`, and `codex features list` for the
//! `hooks` feature), trust (project trust and stored hook trust in `$CODEX_HOME/config.toml`),
//! the log (which path, whether it can be written), and the newest record and its age.
//!
//! A check is `ok`, `warn` (capture works but something deserves a look) or `FAIL` (capture
//! would not work); any `FAIL` makes the exit code 1. Nothing here is on a hot path, and
//! nothing is written: the log's writability is probed with `access(2)`, not by writing.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::install::{self, Target, EVENTS};

/// The events without which a call's outcome is lost: the call itself and the end-of-turn
/// reconciliation from the rollout.
const ESSENTIAL_EVENTS: [&str; 3] = ["PreToolUse", "PostToolUse", "Stop"];

/// How long `codex --version` / `codex features list` may take before doctor gives up on them.
const CODEX_TIMEOUT: Duration = Duration::from_secs(20);

pub struct DoctorOptions {
    /// The repository to check (default: the git top level of the current directory).
    pub repo: Option<PathBuf>,
    /// The log to check instead of the default.
    pub log: Option<PathBuf>,
    /// The Codex CLI to ask (default: `codex` on PATH).
    pub codex: Option<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Level {
    Ok,
    Warn,
    Fail,
}

/// One finding: what was checked, what was found, and the fix when it is not `Ok`.
#[derive(Debug)]
pub struct Check {
    pub level: Level,
    pub what: String,
    pub fix: Option<String>,
}

impl Check {
    fn ok(what: impl Into<String>) -> Check {
        Check {
            level: Level::Ok,
            what: what.into(),
            fix: None,
        }
    }
    fn warn(what: impl Into<String>, fix: impl Into<String>) -> Check {
        Check {
            level: Level::Warn,
            what: what.into(),
            fix: Some(fix.into()),
        }
    }
    fn fail(what: impl Into<String>, fix: impl Into<String>) -> Check {
        Check {
            level: Level::Fail,
            what: what.into(),
            fix: Some(fix.into()),
        }
    }
}

/// Runs `codex-shim doctor`; returns the exit code (1 when capture would not work).
pub fn run(opts: &DoctorOptions) -> i32 {
    let checks = diagnose(opts);
    print!("{}", render(&checks));
    i32::from(checks.iter().any(|c| c.level == Level::Fail))
}

/// All checks, in order.
pub fn diagnose(opts: &DoctorOptions) -> Vec<Check> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let repo_arg = opts.repo.as_ref().map(|r| absolute(&cwd, r));
    let top = codex_contract::paths::git_top_level(repo_arg.as_deref().unwrap_or(&cwd));
    let mut checks = Vec::new();

    let me = std::env::current_exe()
        .ok()
        .and_then(|p| p.canonicalize().ok());
    let on_path = which("codex-shim");
    checks.push(check_shim_on_path(on_path.as_deref(), me.as_deref()));
    checks.extend(check_linkage(on_path.as_deref().or(me.as_deref())));

    let mut hook_files = Vec::new();
    match (&top, &repo_arg) {
        (Some(top), _) => hook_files.push((
            Scope::Project(top.clone()),
            install::hooks_path(&Target::Repo(top.clone())),
        )),
        (None, Some(dir)) => checks.push(Check::fail(
            format!("{} is not inside a git repository", dir.display()),
            "pass --repo with a directory of the repository whose capture you want to check",
        )),
        (None, None) => checks.push(Check::warn(
            format!(
                "{} is not inside a git repository: only user hooks apply here",
                cwd.display()
            ),
            "run doctor from the repository the agent works in (or pass --repo DIR)",
        )),
    }
    hook_files.push((Scope::User, install::hooks_path(&Target::User)));
    let hooks = check_hooks(&hook_files, me.as_deref(), &mut checks);

    let codex = opts.codex.clone().unwrap_or_else(|| PathBuf::from("codex"));
    check_codex(&codex, &mut checks);
    check_trust(&hooks, &mut checks);

    let log = codex_contract::paths::log_path(
        opts.log.as_deref(),
        top.as_deref().or(repo_arg.as_deref()).unwrap_or(&cwd),
    );
    let log = absolute(&cwd, &log);
    check_log(&log, &mut checks);
    checks
}

/// The report: one line per check, its fix indented under it, and a verdict.
pub fn render(checks: &[Check]) -> String {
    let mut s = String::new();
    for c in checks {
        let tag = match c.level {
            Level::Ok => "ok  ",
            Level::Warn => "warn",
            Level::Fail => "FAIL",
        };
        let _ = writeln!(s, "{tag}  {}", c.what);
        if let Some(fix) = &c.fix {
            let _ = writeln!(s, "      fix: {fix}");
        }
    }
    let fails = checks.iter().filter(|c| c.level == Level::Fail).count();
    let warns = checks.iter().filter(|c| c.level == Level::Warn).count();
    if fails > 0 {
        let _ = writeln!(
            s,
            "\nCapture would not work: {} (see the fixes above).",
            plural(fails, "problem")
        );
    } else if warns > 0 {
        let _ = writeln!(
            s,
            "\nCapture should work; {} to look at.",
            plural(warns, "warning")
        );
    } else {
        s.push_str("\nCapture should work.\n");
    }
    s
}

fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn absolute(cwd: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        cwd.join(p)
    }
}

/// `program` as the shell would find it: a path as given, a bare name on `$PATH`.
fn which(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        let p = PathBuf::from(program);
        return p.is_file().then_some(p);
    }
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|d| d.join(program))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(p.as_os_str().as_bytes()) else {
        return false;
    };
    p.is_file()
        // SAFETY: a valid NUL-terminated path; access(2) only reads it.
        && unsafe { libc::access(c.as_ptr(), libc::X_OK) } == 0
}

fn same_file(a: &Path, b: Option<&Path>) -> bool {
    b.is_some_and(|b| a.canonicalize().is_ok_and(|a| a == b))
}

/// `on_path`: the `codex-shim` the shell finds, if any.
fn check_shim_on_path(on_path: Option<&Path>, me: Option<&Path>) -> Check {
    let version = env!("CARGO_PKG_VERSION");
    let here = me.map_or_else(|| "?".to_string(), |p| p.display().to_string());
    match on_path {
        Some(found) if same_file(found, me) => Check::ok(format!(
            "codex-shim {version} at {} is on PATH",
            found.display()
        )),
        Some(found) => Check::warn(
            format!(
                "`codex-shim` on PATH is {} ({}), not this binary ({here}, {version})",
                found.display(),
                other_version(found)
            ),
            "install this build over it (scripts/install), or point the hooks at the one you \
             mean: codex-shim install --command \"/absolute/path/to/codex-shim hook\"",
        ),
        None => Check::warn(
            format!("codex-shim {version} ({here}) is not on PATH"),
            "put it on PATH (scripts/install puts it in ~/.cargo/bin), or install the hooks \
             with an absolute command: codex-shim install --command \"/absolute/path/to/codex-shim hook\"",
        ),
    }
}

/// Whether the shim that the hooks will start is linked statically. A dynamically linked
/// one (plain `cargo install --path shim`) starts the dynamic loader on every tool call: it
/// maps libc and libgcc_s and binds ~120 symbols before `main` (benches/overhead.sh puts the
/// difference side by side). Nothing to say for a binary that is not ELF (macOS, Windows).
fn check_linkage(bin: Option<&Path>) -> Option<Check> {
    let bin = bin?;
    // The program headers follow the ELF header: the first page holds them.
    let mut head = Vec::with_capacity(4096);
    std::io::Read::read_to_end(
        &mut std::io::Read::take(std::fs::File::open(bin).ok()?, 4096),
        &mut head,
    )
    .ok()?;
    let dynamic = elf_is_dynamic(&head)?;
    Some(if dynamic {
        Check::warn(
            format!(
                "codex-shim at {} is dynamically linked: the dynamic loader runs on every \
                 tool call it records (a few tenths of a millisecond each)",
                bin.display()
            ),
            "reinstall it static-PIE from a clone of this repository: scripts/install-shim \
             (scripts/install does both binaries)",
        )
    } else {
        Check::ok(format!(
            "codex-shim at {} is statically linked (no dynamic loader at each start)",
            bin.display()
        ))
    })
}

/// Whether an ELF64 little-endian executable has a `PT_INTERP` program header (asks for a
/// dynamic loader); `None` when `elf` is not one.
fn elf_is_dynamic(elf: &[u8]) -> Option<bool> {
    const PT_INTERP: u32 = 3;
    if elf.get(..6)? != b"\x7fELF\x02\x01" {
        return None;
    }
    let u16_at = |o: usize| Some(u16::from_le_bytes(elf.get(o..o + 2)?.try_into().ok()?));
    let phoff = usize::try_from(u64::from_le_bytes(elf.get(0x20..0x28)?.try_into().ok()?)).ok()?;
    let (entsize, count) = (usize::from(u16_at(0x36)?), usize::from(u16_at(0x38)?));
    (0..count)
        .map(|i| {
            let at = phoff.checked_add(i.checked_mul(entsize)?)?;
            Some(u32::from_le_bytes(elf.get(at..at + 4)?.try_into().ok()?))
        })
        .try_fold(false, |found, ty| Some(found || ty? == PT_INTERP))
}

/// The `--version` line of another shim binary.
fn other_version(bin: &Path) -> String {
    run_capture(bin, &["--version"])
        .ok()
        .and_then(|o| o.lines().next().map(str::to_string))
        .unwrap_or_else(|| "version unknown".to_string())
}

#[derive(Clone, Debug)]
enum Scope {
    /// `<top>/.codex/hooks.json`.
    Project(PathBuf),
    /// `$CODEX_HOME/hooks.json`.
    User,
}

/// Hook files that hold our entries, for the trust check.
struct InstalledHooks {
    project: Option<PathBuf>,
    user: bool,
    commands: Vec<String>,
}

fn check_hooks(
    files: &[(Scope, Result<PathBuf, String>)],
    me: Option<&Path>,
    checks: &mut Vec<Check>,
) -> InstalledHooks {
    let mut installed = InstalledHooks {
        project: None,
        user: false,
        commands: Vec::new(),
    };
    for (scope, path) in files {
        let path = match path {
            Ok(p) => p,
            Err(e) => {
                checks.push(Check::warn(
                    format!("user hooks: {e}"),
                    "set CODEX_HOME (or HOME) as Codex sees it",
                ));
                continue;
            }
        };
        let doc: Value = match std::fs::read(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                checks.push(Check::fail(
                    format!("cannot read {}: {e}", path.display()),
                    "make it readable by the user Codex runs as",
                ));
                continue;
            }
            Ok(bytes) => match serde_json::from_slice(&bytes) {
                Ok(v) => v,
                Err(e) => {
                    checks.push(Check::fail(
                        format!(
                            "{} is not valid JSON ({e}): Codex loads none of its hooks",
                            path.display()
                        ),
                        "fix or move the file, then run `codex-shim install` again",
                    ));
                    continue;
                }
            },
        };
        let ours = our_entries(&doc);
        if ours.is_empty() {
            continue;
        }
        match scope {
            Scope::Project(top) => installed.project = Some(top.clone()),
            Scope::User => installed.user = true,
        }
        let reinstall = match scope {
            Scope::Project(_) => "codex-shim install",
            Scope::User => "codex-shim install --user",
        };
        let mut events: Vec<&str> = ours.iter().map(|(e, _)| e.as_str()).collect();
        events.sort_unstable();
        events.dedup();
        let missing: Vec<&str> = EVENTS
            .iter()
            .copied()
            .filter(|e| !events.contains(e))
            .collect();
        let essential_missing = ESSENTIAL_EVENTS.iter().any(|e| missing.contains(e));
        let mut commands: Vec<&str> = ours.iter().map(|(_, c)| c.as_str()).collect();
        commands.sort_unstable();
        commands.dedup();
        let summary = format!(
            "hooks in {}: {} of {} events, command {}",
            path.display(),
            events.len(),
            EVENTS.len(),
            commands
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        if essential_missing {
            checks.push(Check::fail(
                format!("{summary}; missing {}", missing.join(", ")),
                format!("run `{reinstall}` to add every event"),
            ));
        } else if !missing.is_empty() {
            checks.push(Check::warn(
                format!("{summary}; missing {}", missing.join(", ")),
                format!("run `{reinstall}` to add every event"),
            ));
        } else {
            checks.push(Check::ok(summary));
        }
        for command in commands {
            checks.push(check_hook_command(command, me));
            installed.commands.push(command.to_string());
        }
    }
    if installed.project.is_none() && !installed.user {
        let where_ = files
            .iter()
            .filter_map(|(_, p)| p.as_ref().ok())
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(" or ");
        checks.push(Check::fail(
            format!("no codex-shim hooks in {where_}: Codex records nothing"),
            "run `codex-shim install` in the repository (or `codex-shim install --user` for every repository)",
        ));
    }
    installed
}

/// `(event, command)` of every handler in a hooks document that runs `codex-shim hook`.
fn our_entries(doc: &Value) -> Vec<(String, String)> {
    let Some(hooks) = doc.get("hooks").and_then(Value::as_object) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (event, groups) in hooks {
        for group in groups.as_array().into_iter().flatten() {
            for h in group
                .get("hooks")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(c) = h.get("command").and_then(Value::as_str) {
                    if install::is_ours(c) {
                        out.push((event.clone(), c.trim().to_string()));
                    }
                }
            }
        }
    }
    out
}

/// The program a hook command starts (first word, quotes removed).
fn program_of(command: &str) -> String {
    let c = command.trim_start();
    for q in ['\'', '"'] {
        if let Some(rest) = c.strip_prefix(q) {
            return rest.split(q).next().unwrap_or("").to_string();
        }
    }
    c.split_whitespace().next().unwrap_or("").to_string()
}

fn check_hook_command(command: &str, me: Option<&Path>) -> Check {
    let program = program_of(command);
    match which(&program) {
        Some(p) if same_file(&p, me) => Check::ok(format!(
            "hook command `{command}` runs this codex-shim ({})",
            p.display()
        )),
        Some(p) => Check::warn(
            format!(
                "hook command `{command}` runs {} ({}), not this binary",
                p.display(),
                other_version(&p)
            ),
            "fine if that is the shim you mean; otherwise reinstall with \
             --command \"/absolute/path/to/codex-shim hook\"",
        ),
        None => Check::fail(
            format!("hook command `{command}`: `{program}` is not found, so every hook fails"),
            "put codex-shim on PATH (scripts/install), or reinstall with \
             --command \"/absolute/path/to/codex-shim hook\". Hooks run in a login shell \
             ($SHELL -lc), so PATH is the one your shell profile sets",
        ),
    }
}

/// Runs a program with a deadline; its stdout on success.
fn run_capture(bin: &Path, args: &[&str]) -> Result<String, String> {
    let mut child = Command::new(bin)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let start = std::time::Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if start.elapsed() > CODEX_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("no answer within {}s", CODEX_TIMEOUT.as_secs()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(e.to_string()),
        }
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        return Err(format!("exited with {} {last}", out.status));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn check_codex(codex: &Path, checks: &mut Vec<Check>) {
    let Some(bin) = which(&codex.to_string_lossy()) else {
        checks.push(Check::fail(
            format!("the Codex CLI (`{}`) is not found", codex.display()),
            "install it (npm install -g @openai/codex), or pass --codex /path/to/codex",
        ));
        return;
    };
    let version = match run_capture(&bin, &["--version"]) {
        Ok(v) => v.trim().to_string(),
        Err(e) => {
            checks.push(Check::fail(
                format!("`{} --version` failed: {e}", bin.display()),
                "reinstall the Codex CLI (npm install -g @openai/codex)",
            ));
            return;
        }
    };
    // `codex features list`: one row per feature, `<name> <stage> <enabled>`.
    let features = run_capture(&bin, &["features", "list"]);
    let hooks_row = features.as_ref().ok().and_then(|f| {
        f.lines().find_map(|l| {
            let mut cols = l.split_whitespace();
            (cols.next() == Some("hooks")).then(|| cols.last().unwrap_or("").to_string())
        })
    });
    match (features, hooks_row) {
        (Ok(_), Some(on)) if on == "true" => checks.push(Check::ok(format!(
            "{version} ({}) supports hooks, and they are enabled",
            bin.display()
        ))),
        (Ok(_), Some(_)) => checks.push(Check::fail(
            format!("{version} ({}): the `hooks` feature is disabled", bin.display()),
            "run `codex features enable hooks` (or set `hooks = true` under [features] in $CODEX_HOME/config.toml)",
        )),
        (Ok(_), None) => checks.push(Check::fail(
            format!("{version} ({}) has no `hooks` feature: it cannot run hooks", bin.display()),
            "update Codex (npm install -g @openai/codex@latest; 0.169.0 is tested), or capture with `codex exec --json | codex-shim import --exec-json` and `codex-shim import ~/.codex/sessions`",
        )),
        (Err(e), _) => checks.push(Check::warn(
            format!("{version} ({}); `codex features list` failed ({e}), so hook support is unknown", bin.display()),
            "update Codex (0.169.0 is tested)",
        )),
    }
}

/// `$CODEX_HOME`, as Codex resolves it.
fn codex_home() -> Option<PathBuf> {
    std::env::var_os("CODEX_HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".codex")))
}

/// What `config.toml` says about trust, read line by line (a full TOML parser would be the
/// shim's largest dependency, for two table headers).
#[derive(Default, Debug, PartialEq, Eq)]
struct TrustConfig {
    /// `[projects."<path>"]` tables with `trust_level = "trusted"`.
    trusted_projects: Vec<String>,
    /// `[hooks.state."<key>"]` tables with a `trusted_hash`.
    trusted_hooks: usize,
}

fn parse_trust(text: &str) -> TrustConfig {
    let mut out = TrustConfig::default();
    let mut table: Option<String> = None;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            table = line
                .trim_start_matches('[')
                .trim_end_matches(']')
                .trim()
                .to_string()
                .into();
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        let Some(t) = table.as_deref() else { continue };
        if let Some(project) = t.strip_prefix("projects.") {
            if key == "trust_level" && value.trim_matches(['"', '\'']) == "trusted" {
                out.trusted_projects
                    .push(project.trim_matches(['"', '\'']).to_string());
            }
        } else if t.starts_with("hooks.state.") && key == "trusted_hash" {
            out.trusted_hooks += 1;
        }
    }
    out
}

fn check_trust(hooks: &InstalledHooks, checks: &mut Vec<Check>) {
    if hooks.project.is_none() && !hooks.user {
        return;
    }
    let home = codex_home();
    let config_path = home.as_ref().map(|h| h.join("config.toml"));
    let config = config_path
        .as_ref()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .map(|t| parse_trust(&t))
        .unwrap_or_default();
    let config_name = config_path.as_ref().map_or_else(
        || "$CODEX_HOME/config.toml".to_string(),
        |p| p.display().to_string(),
    );
    if let Some(top) = &hooks.project {
        let key = top.display().to_string();
        let canon = top.canonicalize().map(|p| p.display().to_string()).ok();
        let trusted = config
            .trusted_projects
            .iter()
            .any(|p| *p == key || Some(p) == canon.as_ref());
        if trusted {
            checks.push(Check::ok(format!(
                "project {key} is trusted in {config_name}, so its .codex/hooks.json loads"
            )));
        } else {
            let level = if hooks.user { Level::Warn } else { Level::Fail };
            checks.push(Check {
                level,
                what: format!(
                    "project {key} is not trusted in {config_name}: Codex ignores its .codex/hooks.json \
                     (\"Untrusted project-local configuration is disabled\")"
                ),
                fix: Some(format!(
                    "accept Codex's trust prompt in {key}, run `codex exec --trust` there once, or add \
                     [projects.{key:?}] trust_level = \"trusted\" to {config_name}"
                )),
            });
        }
    }
    if config.trusted_hooks == 0 {
        checks.push(Check::warn(
            format!(
                "no hook has been trusted in {config_name}: Codex skips untrusted hooks silently"
            ),
            "interactive: start `codex`, type /hooks and trust the codex-shim entries; \
             `codex exec` (CI): pass --dangerously-bypass-hook-trust",
        ));
    } else {
        checks.push(Check::ok(format!(
            "{} in {config_name} (trust is lost when a hook's command changes: review /hooks after reinstalling)",
            plural(config.trusted_hooks, "trusted hook")
        )));
    }
}

fn check_log(log: &Path, checks: &mut Vec<Check>) {
    let source = if std::env::var_os(codex_contract::paths::LOG_ENV).is_some_and(|v| !v.is_empty())
    {
        format!(" (from ${})", codex_contract::paths::LOG_ENV)
    } else {
        String::new()
    };
    match writable(log) {
        Ok(()) => checks.push(Check::ok(format!(
            "log {}{source} can be written",
            log.display()
        ))),
        Err(why) => {
            checks.push(Check::fail(
                format!("log {}{source} cannot be written: {why}", log.display()),
                "fix the permissions, or choose another log with $CODEX_TOOLCALLS_LOG (or --log)",
            ));
            return;
        }
    }
    checks.push(newest_record(log));
}

/// Whether the log (or the nearest existing folder it would be created in) is writable.
fn writable(log: &Path) -> Result<(), String> {
    let mut probe = log.to_path_buf();
    if !probe.exists() {
        // The appender creates missing folders: the nearest existing ancestor decides.
        loop {
            if !probe.pop() {
                return Err("no existing parent folder".to_string());
            }
            if probe.exists() {
                break;
            }
        }
        if !probe.is_dir() {
            return Err(format!("{} is not a folder", probe.display()));
        }
    } else if probe.is_dir() {
        return Err("it is a folder".to_string());
    }
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(probe.as_os_str().as_bytes()).map_err(|e| e.to_string())?;
    // SAFETY: a valid NUL-terminated path; access(2) only reads it.
    if unsafe { libc::access(c.as_ptr(), libc::W_OK) } == 0 {
        Ok(())
    } else {
        Err(format!(
            "{}: {}",
            probe.display(),
            std::io::Error::last_os_error()
        ))
    }
}

fn newest_record(log: &Path) -> Check {
    let reader = match codex_contract::read::open(log) {
        Ok(r) => r,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Check::warn(
                "no records yet (the log does not exist)",
                "run one command through Codex, then `codex-shim calls`; if nothing appears, \
                 fix the warnings above",
            )
        }
        Err(e) => {
            return Check::fail(
                format!("cannot read {}: {e}", log.display()),
                "fix the permissions",
            )
        }
    };
    let mut count = 0u64;
    let mut newest: Option<DateTime<Utc>> = None;
    for r in reader {
        count += 1;
        if let Some(t) = r.time() {
            newest = newest.max(Some(t));
        }
    }
    match newest {
        None => Check::warn(
            "no records yet",
            "run one command through Codex, then `codex-shim calls`",
        ),
        Some(t) => {
            let age = Utc::now().signed_duration_since(t);
            let what = format!(
                "{}; the newest at {} ({} ago)",
                plural(count as usize, "record"),
                codex_contract::record::format_ts(t),
                human_age(age)
            );
            if age > chrono::Duration::days(7) {
                Check::warn(
                    what,
                    "nothing recorded for a week: if Codex has been used since, check the hooks and trust above",
                )
            } else {
                Check::ok(what)
            }
        }
    }
}

/// "42 s", "5 min", "3 h", "12 days".
fn human_age(d: chrono::Duration) -> String {
    let s = d.num_seconds().max(0);
    match s {
        0..120 => format!("{s} s"),
        120..7200 => format!("{} min", s / 60),
        7200..172_800 => format!("{} h", s / 3600),
        _ => plural((s / 86_400) as usize, "day"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_trust_from_config_toml() {
        let t = parse_trust(
            "model = \"x\"\n[projects.\"/work/repo\"]\ntrust_level = \"trusted\"\n\
             [projects.'/other']\ntrust_level = \"untrusted\"\n\
             [hooks.state.\"abc:PreToolUse:0\"]\ntrusted_hash = \"sha256:1\"\n\
             [hooks.state.\"abc:Stop:0\"]\ntrusted_hash = \"sha256:2\"\n",
        );
        assert_eq!(t.trusted_projects, vec!["/work/repo".to_string()]);
        assert_eq!(t.trusted_hooks, 2);
    }

    #[test]
    fn finds_our_entries_and_programs() {
        let doc = serde_json::json!({"hooks": {
            "Stop": [{"hooks": [{"command": "'/my dir/codex-shim' hook"}, {"command": "sh x.sh"}]}],
            "PreToolUse": [{"matcher": "*", "hooks": [{"command": "codex-shim hook --log /l"}]}],
        }});
        let mut got = our_entries(&doc);
        got.sort();
        assert_eq!(
            got,
            vec![
                ("PreToolUse".into(), "codex-shim hook --log /l".into()),
                ("Stop".into(), "'/my dir/codex-shim' hook".into()),
            ]
        );
        assert_eq!(
            program_of("'/my dir/codex-shim' hook"),
            "/my dir/codex-shim"
        );
        assert_eq!(program_of("codex-shim hook --log /l"), "codex-shim");
    }

    /// A minimal ELF64 header with one program header of type `ty`.
    fn elf_with(ty: u32) -> Vec<u8> {
        let mut e = vec![0u8; 64 + 56];
        e[..6].copy_from_slice(b"\x7fELF\x02\x01");
        e[0x20..0x28].copy_from_slice(&64u64.to_le_bytes());
        e[0x36..0x38].copy_from_slice(&56u16.to_le_bytes());
        e[0x38..0x3a].copy_from_slice(&1u16.to_le_bytes());
        e[64..68].copy_from_slice(&ty.to_le_bytes());
        e
    }

    #[test]
    fn tells_dynamic_from_static_executables() {
        assert_eq!(elf_is_dynamic(&elf_with(3)), Some(true), "PT_INTERP");
        assert_eq!(elf_is_dynamic(&elf_with(1)), Some(false), "PT_LOAD only");
        assert_eq!(elf_is_dynamic(b"#!/bin/sh\n"), None, "not ELF");
        let mut cut = elf_with(3);
        cut.truncate(66);
        assert_eq!(elf_is_dynamic(&cut), None, "program headers cut short");
    }

    #[test]
    fn ages_read_naturally() {
        assert_eq!(human_age(chrono::Duration::seconds(5)), "5 s");
        assert_eq!(human_age(chrono::Duration::minutes(5)), "5 min");
        assert_eq!(human_age(chrono::Duration::hours(5)), "5 h");
        assert_eq!(human_age(chrono::Duration::days(1)), "24 h");
        assert_eq!(human_age(chrono::Duration::days(12)), "12 days");
    }
}
