//! One parser per kind of command-line argument, shared by every subcommand, so the same bad
//! input gets the same message and the same exit code everywhere.
//!
//! Exit codes (all subcommands): **2** = usage error (a flag's value does not parse; clap
//! reports it, naming the flag and an example), **1** = runtime error (a file cannot be read,
//! git fails, the network fails, a config value is wrong), **0** = success. Values are checked
//! by clap through the `value_parser`s below, before anything runs.

use std::path::{Path, PathBuf};

use anyhow::bail;
use chrono::{DateTime, Utc};

/// Exit code of a usage error (what clap uses).
pub const EXIT_USAGE: u8 = 2;
/// Exit code of a runtime error.
pub const EXIT_RUNTIME: u8 = 1;

/// `--now`: an RFC 3339 time.
pub fn now(s: &str) -> Result<DateTime<Utc>, String> {
    codex_contract::record::parse_ts(s.trim())
        .ok_or_else(|| format!("{s:?} is not an RFC 3339 time; use e.g. 2026-03-02T13:10:00Z"))
}

/// `--window`, `--rollup`: a duration such as `12h`, `30m`, `7d`, `1h30m`. Checked here and
/// passed on as text (the config holds durations as text too, parsed by the same function).
pub fn duration(s: &str) -> Result<String, String> {
    crate::config::parse_duration(s)
        .map(|_| s.trim().to_string())
        .map_err(|e| format!("{e:#}"))
}

/// `--repo`: the git top level of the directory given (or of the current one), so the log,
/// the state and the run log are found in the same place whichever subdirectory is passed.
/// A directory outside any git repository is used as it is (the git rules are then skipped
/// with a warning); a path that is not a directory is an error that says so.
pub fn repo(arg: Option<&Path>) -> anyhow::Result<PathBuf> {
    let cwd = std::env::current_dir()
        .map_err(|e| anyhow::anyhow!("cannot read the current directory: {e}"))?;
    let dir = match arg {
        Some(r) if r.is_absolute() => r.to_path_buf(),
        Some(r) => cwd.join(r),
        None => cwd,
    };
    if !dir.is_dir() {
        let what = if dir.exists() {
            "is not a directory"
        } else {
            "does not exist"
        };
        bail!(
            "--repo {} {what}; pass a directory inside the git repository to analyze",
            dir.display()
        );
    }
    Ok(codex_contract::paths::git_top_level(&dir).unwrap_or(dir))
}

/// A path as the user can paste it: relative to the current directory when inside it,
/// absolute otherwise.
pub fn pasteable(p: &Path) -> String {
    let cwd = std::env::current_dir().ok();
    match cwd.as_deref().and_then(|c| p.strip_prefix(c).ok()) {
        Some(rel) if rel.as_os_str().is_empty() => ".".to_string(),
        Some(rel) => rel.display().to_string(),
        None => p.display().to_string(),
    }
}

/// "1 session", "3 sessions".
pub fn plural(n: impl Into<u64>, noun: &str) -> String {
    let n = n.into();
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_message_per_kind() {
        assert!(now("2026-11-22T13:10:00Z").is_ok());
        let e = now("garbage").unwrap_err();
        assert!(
            e.contains("RFC 3339") && e.contains("2026-03-02T13:10:00Z"),
            "{e}"
        );
        assert_eq!(duration(" 12h ").unwrap(), "12h");
        let e = duration("12x").unwrap_err();
        assert!(e.contains("12x") && e.contains("e.g. 12h"), "{e}");
    }

    #[test]
    fn repo_resolves_a_subdirectory_to_the_top_level() {
        let top = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(top.path().join(".git")).unwrap();
        std::fs::create_dir_all(top.path().join("a/b")).unwrap();
        assert_eq!(repo(Some(&top.path().join("a/b"))).unwrap(), top.path());
        let e = repo(Some(Path::new("/nonexistent/repo"))).unwrap_err();
        assert!(e.to_string().contains("does not exist"), "{e}");
    }

    #[test]
    fn plurals() {
        assert_eq!(plural(1u64, "session"), "1 session");
        assert_eq!(plural(0u64, "session"), "0 sessions");
        assert_eq!(plural(2u32, "time"), "2 times");
    }
}
