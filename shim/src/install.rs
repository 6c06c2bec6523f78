//! `codex-shim install`: add (or with `--uninstall`, remove) the shim's hook entries in a
//! Codex `hooks.json` — the project's `<repo>/.codex/hooks.json` or the user's
//! `$CODEX_HOME/hooks.json` — without touching anything else in it.
//!
//! Our entries are recognised by their command running `codex-shim hook`; everything else
//! (other hooks, other groups, `description`) is kept as it is. Installing removes our old
//! entries first and appends fresh ones, so installing twice writes the same bytes and a
//! changed `--command` replaces the old one. A file that is not valid JSON, or not shaped like
//! a hooks file, is never rewritten: the user gets the parse error and the file stays as it
//! was.
//!
//! Codex skips untrusted hooks silently, so after writing, the installer prints exactly how
//! to trust them.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

/// Every hook event Codex 0.169.0 has.
pub const EVENTS: [&str; 12] = [
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

/// The default hook command (the shim on the login shell's PATH).
pub const DEFAULT_COMMAND: &str = "codex-shim hook";
/// Timeout of our hooks: the shim ends itself well before (its own deadline is 2.5 s).
pub const TIMEOUT_SECS: u64 = 5;
/// Codex clamps `SessionEnd` and `Interrupt` hooks to 3 s and reports larger values as an
/// error item in `codex exec --json`; ask for exactly that.
pub const SHORT_TIMEOUT_SECS: u64 = 3;

pub enum Target {
    /// `<dir>/.codex/hooks.json`.
    Repo(PathBuf),
    /// The repository of the current directory (its git top level); an error outside one,
    /// rather than a `.codex/` created in whatever directory install was run from.
    Here,
    /// `$CODEX_HOME/hooks.json` (default `~/.codex`).
    User,
}

pub struct InstallOptions {
    pub target: Target,
    pub uninstall: bool,
    pub command: String,
    /// Append [`GITIGNORE_LINES`] missing from the repository's `.gitignore`.
    pub gitignore: bool,
}

/// What a repository's `.gitignore` needs so that only the log and the configuration are
/// committed: the locks, temp files and per-machine read offsets next to them.
pub const GITIGNORE_LINES: [&str; 3] = [
    ".codex/*.lock",
    ".codex/*.tmp*",
    ".codex/.rollout-offsets.json",
];

/// The [`GITIGNORE_LINES`] that `<top>/.gitignore` does not have yet.
pub fn missing_gitignore_lines(top: &Path) -> Vec<&'static str> {
    let have = std::fs::read_to_string(top.join(".gitignore")).unwrap_or_default();
    GITIGNORE_LINES
        .into_iter()
        .filter(|l| !have.lines().any(|h| h.trim() == *l))
        .collect()
}

/// Appends the missing lines to `<top>/.gitignore` (creating it); returns them.
fn add_gitignore_lines(top: &Path) -> Result<Vec<&'static str>, String> {
    let missing = missing_gitignore_lines(top);
    if missing.is_empty() {
        return Ok(missing);
    }
    let path = top.join(".gitignore");
    let mut text = std::fs::read_to_string(&path).unwrap_or_default();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str("# codex-shim / codex-analyzer: locks, temp files, per-machine read offsets\n");
    for l in &missing {
        text.push_str(l);
        text.push('\n');
    }
    std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(missing)
}

/// The target with [`Target::Here`] resolved to the current repository's top level.
fn resolve(target: &Target) -> Result<Target, String> {
    match target {
        Target::Here => {
            let cwd = std::env::current_dir()
                .map_err(|e| format!("cannot read the current directory: {e}"))?;
            codex_contract::paths::git_top_level(&cwd)
                .map(Target::Repo)
                .ok_or_else(|| {
                    format!(
                        "{} is not inside a git repository, and Codex loads project hooks from a \
                         repository's .codex/. Run install in the repository, pass --repo DIR, or \
                         use --user to install for every repository — nothing was changed",
                        cwd.display()
                    )
                })
        }
        Target::Repo(dir) => Ok(Target::Repo(dir.clone())),
        Target::User => Ok(Target::User),
    }
}

/// Whether a hook command is one of ours: it runs `codex-shim hook` (possibly through a path
/// or quotes: `/opt/bin/codex-shim hook`, `'/my dir/codex-shim' hook --log x`).
pub fn is_ours(command: &str) -> bool {
    command.match_indices("codex-shim").any(|(at, m)| {
        let rest = &command[at + m.len()..];
        let rest = rest.trim_start_matches(['\'', '"']);
        rest.strip_prefix(" hook")
            .is_some_and(|r| r.is_empty() || r.starts_with(char::is_whitespace))
    })
}

/// Our group for `event`.
fn our_group(event: &str, command: &str) -> Value {
    let timeout = if matches!(event, "SessionEnd" | "Interrupt") {
        SHORT_TIMEOUT_SECS
    } else {
        TIMEOUT_SECS
    };
    let mut handler = json!({"type": "command", "command": command, "timeout": timeout});
    if event == "PostToolUse" {
        // Off the tool's latency path: the outcome is read from the rollout anyway.
        handler["async"] = json!(true);
    }
    json!({"matcher": "*", "hooks": [handler]})
}

/// Merges our entries into (or removes them from) an existing hooks document.
pub fn merge(existing: Option<Value>, command: &str, uninstall: bool) -> Result<Value, String> {
    let mut doc = existing.unwrap_or_else(|| json!({}));
    let top = doc
        .as_object_mut()
        .ok_or("its top level is not a JSON object")?;
    let hooks = top.entry("hooks").or_insert_with(|| json!({}));
    let hooks = hooks
        .as_object_mut()
        .ok_or("its \"hooks\" is not a JSON object")?;
    for (event, groups) in hooks.iter_mut() {
        if !groups.is_array() {
            return Err(format!("its \"hooks\".{event:?} is not a JSON array"));
        }
    }
    // Remove ours everywhere.
    let mut emptied = Vec::new();
    for (event, groups) in hooks.iter_mut() {
        let groups = groups.as_array_mut().expect("checked above");
        let before = groups.len();
        let mut removed_any = false;
        groups.retain_mut(|g| {
            let Some(handlers) = g.get_mut("hooks").and_then(Value::as_array_mut) else {
                return true;
            };
            let n = handlers.len();
            handlers.retain(|h| {
                !h.get("command")
                    .and_then(Value::as_str)
                    .is_some_and(is_ours)
            });
            let removed = handlers.len() < n;
            removed_any |= removed;
            !(removed && handlers.is_empty())
        });
        if removed_any && groups.is_empty() && before > 0 {
            emptied.push(event.clone());
        }
    }
    for e in emptied {
        hooks.remove(&e);
    }
    if !uninstall {
        for event in EVENTS {
            hooks
                .entry(event.to_string())
                .or_insert_with(|| json!([]))
                .as_array_mut()
                .expect("checked above")
                .push(our_group(event, command));
        }
    }
    Ok(doc)
}

/// The hooks file of a target.
pub fn hooks_path(target: &Target) -> Result<PathBuf, String> {
    match target {
        Target::Here => hooks_path(&resolve(target)?),
        Target::Repo(dir) => {
            if !dir.is_dir() {
                return Err(format!("{} is not a directory", dir.display()));
            }
            let dir = dir.canonicalize().unwrap_or_else(|_| dir.clone());
            Ok(dir.join(".codex").join("hooks.json"))
        }
        Target::User => {
            let home = std::env::var_os("CODEX_HOME")
                .filter(|h| !h.is_empty())
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".codex")))
                .ok_or("neither CODEX_HOME nor HOME is set; use --repo DIR")?;
            Ok(home.join("hooks.json"))
        }
    }
}

/// Reads a hooks file: `None` when missing, an error (never a clobber) when unreadable.
fn read_existing(path: &Path) -> Result<Option<Value>, String> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(&bytes).map(Some).map_err(|e| {
        format!(
            "{} is not valid JSON ({e}); fix or move it, then run install again — nothing was changed",
            path.display()
        )
    })
}

/// Runs `codex-shim install`; returns the exit code.
pub fn run(opts: &InstallOptions) -> i32 {
    match install(opts) {
        Ok(msg) => {
            print!("{msg}");
            0
        }
        Err(e) => {
            eprintln!("codex-shim install: {e}");
            1
        }
    }
}

/// Installs or uninstalls; returns what to tell the user.
pub fn install(opts: &InstallOptions) -> Result<String, String> {
    let command = opts.command.trim();
    if !is_ours(command) {
        return Err(format!(
            "--command {command:?} must run `codex-shim hook` (e.g. \"/usr/local/bin/codex-shim hook\"): \
             that is how install and --uninstall recognise their own entries"
        ));
    }
    let target = resolve(&opts.target)?;
    let path = hooks_path(&target)?;
    let existing = read_existing(&path)?;
    if opts.uninstall && existing.is_none() {
        return Ok(format!("No {} — nothing to uninstall.\n", path.display()));
    }
    let doc = merge(existing, command, opts.uninstall).map_err(|e| {
        format!(
            "{} does not look like a Codex hooks file: {e}; nothing was changed",
            path.display()
        )
    })?;
    let mut text = serde_json::to_string_pretty(&doc).expect("JSON values serialize");
    text.push('\n');
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let tmp = path.with_extension(format!("json.tmp{}", std::process::id()));
    std::fs::write(&tmp, &text)
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            format!("cannot write {}: {e}", path.display())
        })?;
    if opts.uninstall {
        return Ok(format!(
            "Removed the codex-shim hook entries from {} (other hooks untouched).\n",
            path.display()
        ));
    }
    let mut msg = instructions(&path, &target, command);
    if let Target::Repo(dir) = &target {
        let top = dir.canonicalize().unwrap_or_else(|_| dir.clone());
        if opts.gitignore {
            let added = add_gitignore_lines(&top)?;
            if !added.is_empty() {
                msg.push_str(&format!(
                    "\nAdded to {}: {}\n",
                    top.join(".gitignore").display(),
                    added.join(" ")
                ));
            }
        } else {
            let missing = missing_gitignore_lines(&top);
            if !missing.is_empty() {
                msg.push_str(&format!(
                    "\nKeep the locks and temp files next to the log out of git: add to {}\n\
                     (or run install again with --gitignore):\n",
                    top.join(".gitignore").display()
                ));
                for l in missing {
                    msg.push_str(&format!("    {l}\n"));
                }
            }
        }
    }
    Ok(msg)
}

/// What to do after installing, since Codex skips untrusted hooks without a word.
fn instructions(path: &Path, target: &Target, command: &str) -> String {
    let mut s = format!(
        "Installed codex-shim hooks for {} events in {}\n  command: {command}\n\n",
        EVENTS.len(),
        path.display()
    );
    s.push_str(
        "Codex runs hooks only after you trust them, and skips untrusted hooks silently:\n\
         \x20 - interactive: start `codex`, type /hooks, review the codex-shim entries and trust\n\
         \x20   them (trust is tied to the command; review again after changing it);\n\
         \x20 - `codex exec` (CI): add --dangerously-bypass-hook-trust to run them for that run.\n",
    );
    if let Target::Repo(dir) = target {
        let dir = dir.canonicalize().unwrap_or_else(|_| dir.clone());
        s.push_str(&format!(
            "Project hooks also load only in a trusted project: accept Codex's trust prompt for\n\
             {dir}, run `codex exec --trust` there once, or add to $CODEX_HOME/config.toml:\n\
             \x20   [projects.{key:?}]\n\
             \x20   trust_level = \"trusted\"\n",
            dir = dir.display(),
            key = dir.display().to_string()
        ));
    }
    let program = command.split_whitespace().next().unwrap_or("");
    if !program.contains('/') && !on_path(program) {
        s.push_str(&format!(
            "\nNote: `{program}` is not on this shell's PATH. Hooks run in a login shell\n\
             (`$SHELL -lc`): put codex-shim on that PATH, or install with\n\
             --command \"/absolute/path/to/codex-shim hook\".\n"
        ));
    }
    s.push_str("\nCalls are recorded in <repo>/.codex/toolcalls.ndjson; see them with `codex-shim calls`.\n");
    s
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_our_commands() {
        assert!(is_ours("codex-shim hook"));
        assert!(is_ours("/opt/bin/codex-shim hook --log /x"));
        assert!(is_ours("'/my dir/codex-shim' hook"));
        assert!(!is_ours("codex-shim hooks"));
        assert!(!is_ours("python3 my_hook.py"));
        assert!(!is_ours("codex-shim exec -- hook"));
    }

    #[test]
    fn merge_keeps_others_and_is_idempotent() {
        let user = json!({
            "description": "mine",
            "hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "sh guard.sh"}]}]}
        });
        let once = merge(Some(user.clone()), "codex-shim hook", false).unwrap();
        let twice = merge(Some(once.clone()), "codex-shim hook", false).unwrap();
        assert_eq!(once, twice);
        assert_eq!(once["description"], "mine");
        let pre = once["hooks"]["PreToolUse"].as_array().unwrap();
        assert_eq!(pre.len(), 2);
        assert_eq!(pre[0]["hooks"][0]["command"], "sh guard.sh");
        assert_eq!(once["hooks"]["PostToolUse"][0]["hooks"][0]["async"], true);
        assert_eq!(once["hooks"]["SessionEnd"][0]["hooks"][0]["timeout"], 3);
        assert_eq!(once["hooks"].as_object().unwrap().len(), 12);
        let removed = merge(Some(twice), "codex-shim hook", true).unwrap();
        assert_eq!(removed, user);
    }

    #[test]
    fn merge_refuses_wrong_shapes() {
        assert!(merge(Some(json!([1])), "codex-shim hook", false).is_err());
        assert!(merge(Some(json!({"hooks": []})), "codex-shim hook", false).is_err());
        assert!(merge(
            Some(json!({"hooks": {"Stop": {}}})),
            "codex-shim hook",
            false
        )
        .is_err());
    }
}
