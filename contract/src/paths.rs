//! Where the log lives: `--log PATH` > env `CODEX_TOOLCALLS_LOG` > `<git top level>/.codex/toolcalls.ndjson`.
//!
//! The git top level is found by walking up from the directory looking for `.git` (a folder,
//! or a file for worktrees and submodules) rather than by running `git`: the shim starts on
//! every tool call, and a `git` process costs more than the whole shim.

use std::path::{Path, PathBuf};

/// The environment variable that overrides the log path.
pub const LOG_ENV: &str = "CODEX_TOOLCALLS_LOG";
/// The log's path relative to the repository root.
pub const LOG_REL: &str = ".codex/toolcalls.ndjson";

/// The nearest directory at or above `dir` that holds `.git`.
pub fn git_top_level(dir: &Path) -> Option<PathBuf> {
    let mut cur = Some(dir);
    while let Some(d) = cur {
        if d.join(".git").exists() {
            return Some(d.to_path_buf());
        }
        cur = d.parent();
    }
    None
}

/// Resolves the log path. Outside any git repository the log goes to `<dir>/.codex/`.
pub fn log_path(explicit: Option<&Path>, dir: &Path) -> PathBuf {
    if let Some(p) = explicit {
        return p.to_path_buf();
    }
    if let Some(p) = std::env::var_os(LOG_ENV).filter(|v| !v.is_empty()) {
        return PathBuf::from(p);
    }
    git_top_level(dir)
        .unwrap_or_else(|| dir.to_path_buf())
        .join(LOG_REL)
}

/// The current HEAD commit of the repository at `top`, read from `.git` files without
/// running git (loose ref or packed-refs). `None` when unborn or unreadable.
pub fn git_head(top: &Path) -> Option<String> {
    let mut git_dir = top.join(".git");
    if git_dir.is_file() {
        // Worktree / submodule: "gitdir: <path>".
        let text = std::fs::read_to_string(&git_dir).ok()?;
        let rel = text.strip_prefix("gitdir:")?.trim();
        git_dir = top.join(rel);
    }
    let head = std::fs::read_to_string(git_dir.join("HEAD")).ok()?;
    let head = head.trim();
    let Some(refname) = head.strip_prefix("ref:").map(str::trim) else {
        return is_sha(head).then(|| head.to_string());
    };
    // Worktrees keep refs in the common dir.
    let common = std::fs::read_to_string(git_dir.join("commondir"))
        .ok()
        .map(|c| git_dir.join(c.trim()))
        .unwrap_or_else(|| git_dir.clone());
    for base in [&git_dir, &common] {
        if let Ok(s) = std::fs::read_to_string(base.join(refname)) {
            let s = s.trim();
            if is_sha(s) {
                return Some(s.to_string());
            }
        }
    }
    let packed = std::fs::read_to_string(common.join("packed-refs")).ok()?;
    packed.lines().find_map(|l| {
        let (sha, name) = l.split_once(' ')?;
        (name == refname && is_sha(sha)).then(|| sha.to_string())
    })
}

fn is_sha(s: &str) -> bool {
    (s.len() == 40 || s.len() == 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_wins_then_repo_root() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("a/b");
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::create_dir(dir.path().join(".git")).unwrap();
        assert_eq!(
            log_path(Some(Path::new("/x/y.ndjson")), &sub),
            PathBuf::from("/x/y.ndjson")
        );
        if std::env::var_os(LOG_ENV).is_none() {
            assert_eq!(log_path(None, &sub), dir.path().join(LOG_REL));
        }
    }

    #[test]
    fn head_from_loose_and_packed_refs() {
        let dir = tempfile::tempdir().unwrap();
        let g = dir.path().join(".git");
        std::fs::create_dir_all(g.join("refs/heads")).unwrap();
        std::fs::write(g.join("HEAD"), "ref: refs/heads/main\n").unwrap();
        assert_eq!(git_head(dir.path()), None);
        let sha = "0123456789abcdef0123456789abcdef01234567";
        std::fs::write(
            g.join("packed-refs"),
            format!("# pack-refs\n{sha} refs/heads/main\n"),
        )
        .unwrap();
        assert_eq!(git_head(dir.path()).as_deref(), Some(sha));
        let sha2 = "fedcba9876543210fedcba9876543210fedcba98";
        std::fs::write(g.join("refs/heads/main"), format!("{sha2}\n")).unwrap();
        assert_eq!(git_head(dir.path()).as_deref(), Some(sha2));
    }
}
