//! The git CLI calls the exporter needs: check a commit, write a tree's files, list and diff
//! the changes between two commits.
//!
//! Files are written with `read-tree` into a private index file and `checkout-index
//! --prefix`, so the user's index and working tree are never touched, modes and symlinks are
//! kept, and no archive tool is needed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use anyhow::{bail, Context, Result};

fn git(repo: &Path) -> Command {
    let mut c = Command::new("git");
    c.arg("-C")
        .arg(repo)
        .args(["-c", "core.autocrlf=false", "-c", "core.quotepath=false"])
        // Variables a surrounding git hook may set would point git at another repository.
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE");
    c
}

fn run(mut cmd: Command, what: &str) -> Result<Output> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("{what}: could not run git; is it installed and on PATH?"))?;
    if !out.status.success() {
        bail!(
            "{what}: git failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(out)
}

/// The repository's top level, absolute.
pub fn top_level(dir: &Path) -> Result<PathBuf> {
    let mut c = git(dir);
    c.args(["rev-parse", "--show-toplevel"]);
    let out = run(
        c,
        &format!("{} is not inside a git repository", dir.display()),
    )?;
    Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// The full ID of a commit the repository has, or `None`.
pub fn resolve_commit(repo: &Path, rev: &str) -> Option<String> {
    if rev.starts_with('-') {
        return None;
    }
    let mut c = git(repo);
    c.args(["rev-parse", "--verify", "--quiet"])
        .arg(format!("{rev}^{{commit}}"));
    let out = c.stdin(Stdio::null()).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Writes the files of `commit` (all, or only `paths`) under `dest`, using `index` as a
/// scratch index file (removed afterwards).
pub fn write_tree(
    repo: &Path,
    commit: &str,
    dest: &Path,
    paths: Option<&[String]>,
    index: &Path,
) -> Result<()> {
    std::fs::create_dir_all(dest).with_context(|| format!("cannot create {}", dest.display()))?;
    let result = (|| {
        let mut c = git(repo);
        c.env("GIT_INDEX_FILE", index).args(["read-tree", commit]);
        run(c, &format!("reading the tree of {commit}"))?;
        let mut prefix = dest.as_os_str().to_os_string();
        prefix.push("/");
        let mut c = git(repo);
        c.env("GIT_INDEX_FILE", index)
            .args(["checkout-index", "--force"])
            .arg({
                let mut p = std::ffi::OsString::from("--prefix=");
                p.push(&prefix);
                p
            });
        match paths {
            None => {
                c.arg("--all");
                run(c, &format!("writing the files of {commit}"))?;
            }
            Some(paths) => {
                c.args(["-z", "--stdin"])
                    .stdin(Stdio::piped())
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped());
                let mut child = c.spawn().context("could not run git checkout-index")?;
                {
                    let mut stdin = child.stdin.take().expect("piped stdin");
                    for p in paths {
                        stdin.write_all(p.as_bytes())?;
                        stdin.write_all(b"\0")?;
                    }
                }
                let out = child.wait_with_output()?;
                if !out.status.success() {
                    bail!(
                        "writing changed files of {commit}: git failed: {}",
                        String::from_utf8_lossy(&out.stderr).trim()
                    );
                }
            }
        }
        Ok(())
    })();
    let _ = std::fs::remove_file(index);
    result
}

/// One path changed between two commits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Added, modified or changed type: take the new version.
    Write(String),
    /// Deleted.
    Delete(String),
}

/// The changes from `from` to `to`, renames split into delete + add, sorted by path.
pub fn changes(repo: &Path, from: &str, to: &str) -> Result<Vec<Change>> {
    let mut c = git(repo);
    c.args(["diff", "--name-status", "--no-renames", "-z", from, to]);
    let out = run(c, &format!("listing the changes {from}..{to}"))?;
    let text = String::from_utf8(out.stdout)
        .context("git reported a path that is not UTF-8; such paths cannot be exported")?;
    let mut fields = text.split('\0').filter(|f| !f.is_empty());
    let mut v = Vec::new();
    while let (Some(status), Some(path)) = (fields.next(), fields.next()) {
        let path = path.to_string();
        v.push(match status.chars().next() {
            Some('D') => Change::Delete(path),
            _ => Change::Write(path),
        });
    }
    v.sort_by(|a, b| path_of(a).cmp(path_of(b)));
    Ok(v)
}

fn path_of(c: &Change) -> &str {
    match c {
        Change::Write(p) | Change::Delete(p) => p,
    }
}

/// `git diff --binary` from `from` to `to`: a patch `git apply` can use.
pub fn binary_diff(repo: &Path, from: &str, to: &str) -> Result<Vec<u8>> {
    let mut c = git(repo);
    c.args([
        "diff",
        "--binary",
        "--full-index",
        "--no-renames",
        "--no-color",
        "--no-ext-diff",
        from,
        to,
    ]);
    Ok(run(c, &format!("diffing {from}..{to}"))?.stdout)
}
