//! Scenario tests for the git collector: real repositories built with the `git` CLI, commits
//! planted at chosen times, and git itself as the oracle for line counts.

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{DateTime, TimeZone, Utc};
use codex_analyzer::collect::git::{collect, ChangeKind, GitActivity, GitOptions, GitWindow};
use codex_analyzer::config::Config;
use codex_analyzer::finding::{Finding, RuleId, Severity};
use common::git_findings;
use tempfile::TempDir;

/// 2024-01-01T00:00:00Z: every planted time is an offset from here.
const T0: i64 = 1_704_067_200;
const HOUR: i64 = 3600;

fn utc(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).single().unwrap()
}

/// Run git with a clean, deterministic environment (no user/system config).
fn git_cmd(dir: &Path, home: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("LC_ALL", "C")
        .args([
            "-c",
            "core.autocrlf=false",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "core.quotepath=off",
            "-c",
            "init.defaultBranch=main",
            "-c",
            "advice.detachedHead=false",
        ]);
    cmd
}

fn run(mut cmd: Command) -> String {
    let out = cmd.output().expect("git runs");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout).expect("utf-8 git output")
}

struct Repo {
    dir: TempDir,
    home: TempDir,
    name: String,
    email: String,
    committer: Option<(String, String)>,
}

impl Repo {
    fn new() -> Self {
        let repo = Repo {
            dir: tempfile::tempdir().unwrap(),
            home: tempfile::tempdir().unwrap(),
            name: "Alice Example".into(),
            email: "alice@example.com".into(),
            committer: None,
        };
        repo.git(&["init", "-q"]);
        repo
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = git_cmd(self.path(), self.home.path());
        cmd.args(args);
        cmd
    }

    fn git(&self, args: &[&str]) -> String {
        run(self.cmd(args))
    }

    /// Run a committing git command with author/committer identity and dates set to `t`.
    fn git_at(&self, t: i64, args: &[&str]) -> String {
        let mut cmd = self.cmd(args);
        let date = format!("@{t} +0000");
        let (cname, cemail) = self
            .committer
            .clone()
            .unwrap_or((self.name.clone(), self.email.clone()));
        cmd.env("GIT_AUTHOR_NAME", &self.name)
            .env("GIT_AUTHOR_EMAIL", &self.email)
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_NAME", cname)
            .env("GIT_COMMITTER_EMAIL", cemail)
            .env("GIT_COMMITTER_DATE", &date);
        run(cmd)
    }

    fn write(&self, rel: &str, content: impl AsRef<[u8]>) {
        let path = self.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }

    fn remove(&self, rel: &str) {
        let path = self.path().join(rel);
        if path.is_dir() && !path.is_symlink() {
            std::fs::remove_dir_all(path).unwrap();
        } else {
            std::fs::remove_file(path).unwrap();
        }
    }

    fn exists(&self, rel: &str) -> bool {
        self.path().join(rel).symlink_metadata().is_ok()
    }

    /// Stage everything and commit at `t`; returns the new commit's sha.
    fn commit(&self, t: i64, msg: &str) -> String {
        self.git(&["add", "-A"]);
        self.git_at(t, &["commit", "-q", "--allow-empty", "-m", msg]);
        self.head()
    }

    fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"]).trim().to_string()
    }
}

fn all_time() -> GitWindow {
    GitWindow::new(utc(0), utc(4_102_444_800)) // 1970 .. 2100
}

fn collect_all(path: &Path) -> GitActivity {
    collect(path, &GitOptions::new(all_time())).expect("collect succeeds")
}

type Numstat = BTreeMap<String, BTreeMap<String, Option<(u64, u64)>>>;

/// `git log --first-parent --numstat --no-renames --diff-merges=first-parent` for every
/// commit on HEAD's first-parent chain (the default branch's own history, which is what the
/// collector walks), parsed from its `-z` form: sha -> path -> (added, removed) or None for
/// `-`.
fn git_numstat(dir: &Path, home: &Path) -> Numstat {
    let mut cmd = git_cmd(dir, home);
    cmd.args([
        "log",
        "-z",
        "--first-parent",
        "--numstat",
        "--no-renames",
        "--diff-merges=first-parent",
        "--format=@@%H",
        "HEAD",
    ]);
    let out = run(cmd);
    let mut result = Numstat::new();
    let mut current: Option<String> = None;
    for token in out.split('\0') {
        let token = token.trim_start_matches('\n');
        if token.is_empty() {
            continue;
        }
        if let Some(sha) = token.strip_prefix("@@") {
            result.insert(sha.to_string(), BTreeMap::new());
            current = Some(sha.to_string());
            continue;
        }
        let mut parts = token.splitn(3, '\t');
        let (added, removed, path) = (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
        );
        let counts = if added == "-" {
            assert_eq!(removed, "-");
            None
        } else {
            Some((added.parse().unwrap(), removed.parse().unwrap()))
        };
        let sha = current.as_ref().expect("a file line follows a commit line");
        result
            .get_mut(sha)
            .unwrap()
            .insert(path.to_string(), counts);
    }
    result
}

fn collector_numstat(activity: &GitActivity) -> Numstat {
    activity
        .commits
        .iter()
        .map(|c| {
            let files = c
                .files
                .iter()
                .map(|f| {
                    assert_eq!(f.added.is_none(), f.removed.is_none());
                    (f.path.clone(), f.added.zip(f.removed))
                })
                .collect();
            (c.sha.clone(), files)
        })
        .collect()
}

/// Compare every commit's per-file counts with git's; returns the number of commits compared.
fn assert_numstat_matches(dir: &Path, home: &Path) -> usize {
    let expected = git_numstat(dir, home);
    let activity = collect(dir, &GitOptions::new(all_time())).expect("collect succeeds");
    let actual = collector_numstat(&activity);
    let missing: Vec<_> = expected
        .keys()
        .filter(|k| !actual.contains_key(*k))
        .collect();
    let extra: Vec<_> = actual
        .keys()
        .filter(|k| !expected.contains_key(*k))
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "commit sets differ: missing {missing:?}, extra {extra:?}"
    );
    let mut mismatches = Vec::new();
    for (sha, files) in &expected {
        if actual[sha] != *files {
            mismatches.push(format!(
                "{sha}:\n  git:       {files:?}\n  collector: {:?}",
                actual[sha]
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} commits differ from git log --numstat:\n{}",
        mismatches.len(),
        expected.len(),
        mismatches.join("\n")
    );
    expected.len()
}

/// A small deterministic PRNG so the generated history is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Text with repeated lines (braces, blank lines) so Myers has ambiguous choices to make.
fn random_lines(rng: &mut Rng, n: usize) -> Vec<String> {
    const COMMON: &[&str] = &["}", "", "    }", "return x;", "// note", "{"];
    (0..n)
        .map(|_| {
            if rng.below(3) == 0 {
                COMMON[rng.below(COMMON.len())].to_string()
            } else {
                format!("line {} {}", rng.below(50), rng.below(5))
            }
        })
        .collect()
}

fn edit_lines(rng: &mut Rng, lines: &mut Vec<String>) {
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(lines.len() + 1);
        match rng.below(3) {
            0 => {
                let n = 1 + rng.below(6);
                let new = random_lines(rng, n);
                lines.splice(at..at, new);
            }
            1 if !lines.is_empty() => {
                let end = (at + 1 + rng.below(5)).min(lines.len());
                let start = at.min(end.saturating_sub(1));
                lines.drain(start..end);
            }
            _ => {
                if at < lines.len() {
                    lines[at] = format!("changed {}", rng.below(1000));
                }
            }
        }
    }
}

fn render(lines: &[String], crlf: bool, final_newline: bool) -> String {
    let sep = if crlf { "\r\n" } else { "\n" };
    let mut s = lines.join(sep);
    if final_newline && !lines.is_empty() {
        s.push_str(sep);
    }
    s
}

/// A text file the generator tracks, with its line-ending style.
struct TextFile {
    lines: Vec<String>,
    crlf: bool,
    final_newline: bool,
}

/// Build a varied history: edits, additions, deletions, renames, binaries, mode changes,
/// symlinks, type changes, CRLF, missing final newlines, a submodule entry, a file/directory
/// swap, and two merges (one with an extra change in the merge itself).
fn build_varied_history(repo: &Repo) -> usize {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut texts: BTreeMap<String, TextFile> = BTreeMap::new();
    let mut t = T0;
    let mut commits = 0;
    let mut next_name = 0;

    let write_text = |repo: &Repo, path: &str, f: &TextFile| {
        repo.write(path, render(&f.lines, f.crlf, f.final_newline));
    };

    for i in 0..56 {
        t += 600;
        for _ in 0..1 + rng.below(3) {
            let op = if texts.len() < 4 { 0 } else { rng.below(12) };
            match op {
                0 | 1 => {
                    next_name += 1;
                    let dir = ["src", "docs", "nested/deep", "."][rng.below(4)];
                    let path = format!("{dir}/file{next_name}.txt").replace("./", "");
                    let n = 1 + rng.below(40);
                    let f = TextFile {
                        lines: random_lines(&mut rng, n),
                        crlf: rng.below(5) == 0,
                        final_newline: rng.below(4) != 0,
                    };
                    write_text(repo, &path, &f);
                    texts.insert(path, f);
                }
                2..=5 => {
                    let key = texts.keys().nth(rng.below(texts.len())).unwrap().clone();
                    let f = texts.get_mut(&key).unwrap();
                    edit_lines(&mut rng, &mut f.lines);
                    write_text(repo, &key, f);
                }
                6 => {
                    let key = texts.keys().nth(rng.below(texts.len())).unwrap().clone();
                    let f = texts.remove(&key).unwrap();
                    repo.remove(&key);
                    drop(f);
                }
                7 => {
                    // Rename, sometimes with an edit: --no-renames shows delete + add.
                    let key = texts.keys().nth(rng.below(texts.len())).unwrap().clone();
                    let mut f = texts.remove(&key).unwrap();
                    next_name += 1;
                    let new = format!("renamed/r{next_name}.txt");
                    repo.remove(&key);
                    if rng.below(2) == 0 {
                        edit_lines(&mut rng, &mut f.lines);
                    }
                    write_text(repo, &new, &f);
                    texts.insert(new, f);
                }
                8 => {
                    let key = texts.keys().nth(rng.below(texts.len())).unwrap().clone();
                    let f = texts.get_mut(&key).unwrap();
                    f.final_newline = !f.final_newline;
                    write_text(repo, &key, f);
                }
                9 => {
                    let key = texts.keys().nth(rng.below(texts.len())).unwrap().clone();
                    let f = texts.get_mut(&key).unwrap();
                    f.crlf = !f.crlf;
                    if rng.below(2) == 0 {
                        edit_lines(&mut rng, &mut f.lines);
                    }
                    write_text(repo, &key, f);
                }
                10 => {
                    let key = texts.keys().nth(rng.below(texts.len())).unwrap().clone();
                    let path = repo.path().join(&key);
                    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
                    let toggled = if mode & 0o100 != 0 { 0o644 } else { 0o755 };
                    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(toggled))
                        .unwrap();
                }
                _ => {
                    let mut bytes: Vec<u8> = (0..200 + rng.below(3000))
                        .map(|_| rng.next() as u8)
                        .collect();
                    bytes[rng.below(100)] = 0;
                    repo.write(&format!("assets/blob{}.bin", rng.below(3)), bytes);
                }
            }
        }
        // A file over a tiny alphabet, heavily edited: many equally short edit scripts
        // exist, so only a diff that makes git's choices gets git's counts.
        if i % 3 == 0 {
            let lines: Vec<String> = (0..60 + rng.below(200))
                .map(|_| ["a", "b", "c", "}", ""][rng.below(5)].to_string())
                .collect();
            repo.write("alphabet.txt", render(&lines, false, true));
        }
        // Planted cases at fixed points of the history.
        match i {
            5 => {
                symlink("src/target-a", repo.path().join("link")).unwrap();
                repo.write("empty.txt", "");
            }
            10 => {
                repo.remove("link");
                symlink("docs/target-b", repo.path().join("link")).unwrap();
                repo.write("empty.txt", "now has a line\n");
            }
            15 => {
                // Type change: symlink -> regular file.
                repo.remove("link");
                repo.write("link", "a regular file now\nwith two lines\n");
            }
            20 => {
                // A NUL after the first 8000 bytes: git still treats it as text.
                let mut late = "x\n".repeat(4100).into_bytes();
                late.extend_from_slice(b"\0tail\n");
                repo.write("late-nul.dat", late);
                // A binary file that will only change mode later.
                repo.write("tool.bin", b"\x7fELF\0\0\x01binary");
            }
            25 => {
                std::fs::set_permissions(
                    repo.path().join("tool.bin"),
                    std::fs::Permissions::from_mode(0o755),
                )
                .unwrap();
                let mut late = "x\n".repeat(4000).into_bytes();
                late.extend_from_slice(b"y\n\0tail\n");
                repo.write("late-nul.dat", late);
            }
            30 => {
                // File -> directory swap.
                repo.write("swap", "i am a file\n");
            }
            31 => {
                repo.remove("swap");
                repo.write("swap/inner.txt", "i am in a directory\n");
            }
            35 => {
                // Binary -> text and text -> binary.
                repo.write("flip.dat", b"text at first\n");
            }
            36 => {
                repo.write("flip.dat", b"binary\0now\n");
            }
            37 => {
                repo.write("flip.dat", b"text again\nand more\n");
            }
            _ => {}
        }
        repo.commit(t, &format!("change {i}"));
        commits += 1;
        if i == 40 {
            // A submodule entry (gitlink) added, then changed: git diffs the synthesized
            // `Subproject commit <sha>` line.
            let a = repo.head();
            repo.git(&[
                "update-index",
                "--add",
                "--cacheinfo",
                &format!("160000,{a},vendor/sub"),
            ]);
            t += 60;
            repo.git_at(t, &["commit", "-q", "-m", "add submodule entry"]);
            let b = repo.head();
            repo.git(&[
                "update-index",
                "--cacheinfo",
                &format!("160000,{b},vendor/sub"),
            ]);
            t += 60;
            repo.git_at(t, &["commit", "-q", "-m", "bump submodule entry"]);
            repo.git(&["rm", "-q", "--cached", "vendor/sub"]);
            t += 60;
            repo.git_at(t, &["commit", "-q", "-m", "drop submodule entry"]);
            commits += 3;
        }
    }

    // A side branch merged with --no-ff: the merge's first-parent diff holds the branch's work.
    let base = repo.head();
    repo.git(&["checkout", "-q", "-b", "side"]);
    for k in 0..3 {
        t += 300;
        repo.write(
            &format!("side/s{k}.txt"),
            format!("side work {k}\nmore\n").repeat(k + 1),
        );
        repo.write("side/shared.txt", format!("version {k}\n").repeat(3));
        repo.commit(t, &format!("side {k}"));
        commits += 1;
    }
    repo.git(&["checkout", "-q", "main"]);
    t += 300;
    repo.write("main-only.txt", "main keeps moving\n");
    repo.commit(t, "main moves");
    commits += 1;
    t += 300;
    repo.git_at(
        t,
        &["merge", "-q", "--no-ff", "-m", "Merge branch side", "side"],
    );
    commits += 1;

    // An "evil" merge: the merge commit itself carries an extra change.
    repo.git(&["checkout", "-q", "-b", "side2", &base]);
    t += 300;
    repo.write("side2.txt", "second branch\n");
    repo.commit(t, "side2 work");
    commits += 1;
    repo.git(&["checkout", "-q", "main"]);
    t += 300;
    repo.git_at(t, &["merge", "-q", "--no-ff", "--no-commit", "side2"]);
    repo.write("evil.txt", "changed during the merge\n");
    repo.git(&["add", "-A"]);
    repo.git_at(t, &["commit", "-q", "-m", "Merge branch side2 with a fix"]);
    commits += 1;
    assert!(repo.exists("evil.txt"));
    commits
}

#[test]
fn numstat_equals_git_log_for_a_varied_history() {
    let repo = Repo::new();
    let planted = build_varied_history(&repo);
    assert!(planted >= 60, "history has {planted} commits");
    let compared = assert_numstat_matches(repo.path(), repo.home.path());
    // Everything but the four side-branch commits, which arrive through their merges.
    assert_eq!(compared, planted - 4);

    // The collector's own view of the special cases, beyond agreeing with git.
    let activity = collect_all(repo.path());
    let merges: Vec<_> = activity.commits.iter().filter(|c| c.is_merge).collect();
    assert_eq!(merges.len(), 2);
    assert!(merges.iter().all(|m| m.parents == 2));
    let evil = merges
        .iter()
        .find(|m| m.subject == "Merge branch side2 with a fix")
        .unwrap();
    let evil_paths: Vec<_> = evil.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(evil_paths, ["evil.txt", "side2.txt"]);
    let binary_mode_change = activity
        .commits
        .iter()
        .flat_map(|c| &c.files)
        .find(|f| f.path == "tool.bin" && f.kind == ChangeKind::Modified)
        .expect("the binary mode change is listed");
    assert_eq!(
        binary_mode_change.added, None,
        "binary stays `-` even unchanged"
    );
    let root = activity.commits.last().unwrap();
    assert_eq!(root.parents, 0);
    assert!(root.files.iter().all(|f| f.kind == ChangeKind::Added));
}

#[test]
fn numstat_equals_git_log_for_this_repository() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf();
    let home = tempfile::tempdir().unwrap();
    let probe = git_cmd(&root, home.path())
        .args(["rev-parse", "--verify", "-q", "HEAD"])
        .output()
        .unwrap();
    if !probe.status.success() {
        eprintln!(
            "not a git checkout with commits ({}): nothing to compare",
            root.display()
        );
        return;
    }
    let compared = assert_numstat_matches(&root, home.path());
    assert!(compared >= 1);
}

#[test]
fn window_returns_only_its_commits_and_the_walk_stops_at_its_start() {
    let repo = Repo::new();
    let mut shas = Vec::new();
    for i in 0..200 {
        repo.write("counter.txt", format!("{i}\n"));
        shas.push(repo.commit(T0 + i * HOUR, &format!("tick {i}")));
    }

    // The last 10 hours, ending after HEAD: 10 commits, and the walk produced no more.
    let window = GitWindow::new(utc(T0 + 190 * HOUR), utc(T0 + 200 * HOUR));
    let activity = collect(repo.path(), &GitOptions::new(window)).unwrap();
    let got: Vec<_> = activity.commits.iter().map(|c| c.sha.clone()).collect();
    let want: Vec<_> = shas[190..].iter().rev().cloned().collect();
    assert_eq!(got, want, "newest first, exactly the window");
    assert_eq!(activity.visited, 10, "the walk stopped at the window start");
    assert_eq!(activity.head.as_deref(), Some(shas[199].as_str()));

    // Half-open: a commit exactly at `since` is in, one exactly at `until` is out.
    let window = GitWindow::new(utc(T0 + 50 * HOUR), utc(T0 + 60 * HOUR));
    let activity = collect(repo.path(), &GitOptions::new(window)).unwrap();
    let got: Vec<_> = activity.commits.iter().map(|c| c.sha.clone()).collect();
    let want: Vec<_> = shas[50..60].iter().rev().cloned().collect();
    assert_eq!(got, want);
    // Walked from HEAD down to the window start, never below it.
    assert_eq!(activity.visited, 150);
    assert_eq!(activity.totals.commits, 10);

    // A window before the first commit and one after HEAD are both empty.
    let before = GitWindow::new(utc(T0 - 10 * HOUR), utc(T0));
    assert!(collect(repo.path(), &GitOptions::new(before))
        .unwrap()
        .commits
        .is_empty());
    let after = GitWindow::new(utc(T0 + 300 * HOUR), utc(T0 + 310 * HOUR));
    let activity = collect(repo.path(), &GitOptions::new(after)).unwrap();
    assert!(activity.commits.is_empty());
    assert_eq!(activity.visited, 0);
}

#[test]
fn reverts_are_detected_linked_and_chained() {
    let repo = Repo::new();
    repo.write("src/flag.rs", "pub const FLAG: bool = false;\n");
    repo.write("README.md", "readme\n");
    let old = repo.commit(T0, "old change outside the window");
    repo.write("src/flag.rs", "pub const FLAG: bool = true;\n");
    let feature = repo.commit(T0 + 10 * HOUR, "enable the flag");
    repo.git_at(T0 + 11 * HOUR, &["revert", "--no-edit", &feature]);
    let revert = repo.head();
    repo.git_at(T0 + 12 * HOUR, &["revert", "--no-edit", &revert]);
    let reapply = repo.head();
    // A hand-written revert of a revert in the classic subject form, no body.
    repo.write("src/flag.rs", "pub const FLAG: bool = false;\n");
    let manual = repo.commit(T0 + 13 * HOUR, "Revert \"Revert \"enable the flag\"\"");
    // Reverting a commit from before the window.
    repo.git_at(T0 + 14 * HOUR, &["revert", "--no-edit", &old]);
    let revert_old = repo.head();
    // Not reverts.
    repo.write("README.md", "reverting to plain words is not a revert\n");
    repo.commit(T0 + 15 * HOUR, "Reverting the wording of the readme");

    let window = GitWindow::new(utc(T0 + 5 * HOUR), utc(T0 + 20 * HOUR));
    let activity = collect(repo.path(), &GitOptions::new(window)).unwrap();
    let by_sha = |sha: &str| {
        activity
            .reverts
            .iter()
            .find(|r| r.sha == sha)
            .unwrap_or_else(|| panic!("{sha} is listed as a revert"))
    };
    assert_eq!(activity.reverts.len(), 4, "{:#?}", activity.reverts);
    assert_eq!(activity.totals.reverts, 4);

    let r = by_sha(&revert);
    assert_eq!(r.subject, "Revert \"enable the flag\"");
    assert_eq!(r.reverted_sha.as_deref(), Some(feature.as_str()));
    assert_eq!(r.reverted_subject.as_deref(), Some("enable the flag"));
    assert!(r.reverted_in_window);
    assert_eq!((r.depth, r.revert_of_revert), (1, false));
    assert_eq!(r.files, ["src/flag.rs"]);

    let r = by_sha(&reapply);
    assert_eq!(r.subject, "Reapply \"enable the flag\"");
    assert_eq!(r.reverted_sha.as_deref(), Some(revert.as_str()));
    assert!(r.reverted_in_window);
    assert_eq!((r.depth, r.revert_of_revert), (2, true));

    let r = by_sha(&manual);
    assert_eq!(r.reverted_sha, None);
    assert_eq!(r.reverted_subject.as_deref(), Some("enable the flag"));
    assert_eq!((r.depth, r.revert_of_revert), (2, true));

    let r = by_sha(&revert_old);
    assert_eq!(r.reverted_sha.as_deref(), Some(old.as_str()));
    assert!(!r.reverted_in_window);
    assert_eq!(
        r.reverted_subject.as_deref(),
        Some("old change outside the window")
    );
    assert_eq!(r.depth, 1);
    let mut files = r.files.clone();
    files.sort();
    assert_eq!(files, ["README.md", "src/flag.rs"]);

    // Newest first, like `commits`.
    let order: Vec<_> = activity.reverts.iter().map(|r| r.sha.as_str()).collect();
    assert_eq!(
        order,
        [&revert_old, &manual, &reapply, &revert].map(|s| s.as_str())
    );
}

#[test]
fn config_churn_counts_flags_reverts_and_ignores_run_log_and_bot() {
    let mut repo = Repo::new();
    repo.write(
        "Cargo.toml",
        "[package]\nname = \"x\"\nversion = \"0.1.0\"\n",
    );
    repo.write(".github/workflows/ci.yml", "on: push\njobs: {}\n");
    repo.write("package.json", "{\"name\": \"x\"}\n");
    repo.write("src/lib.rs", "pub fn a() {}\n");
    repo.commit(T0, "initial, before the window");

    let mut t = T0 + 10 * HOUR;
    let mut tick = || {
        t += 600;
        t
    };
    // Cargo.toml changed twice (different content each time): counted, not reverted.
    repo.write(
        "Cargo.toml",
        "[package]\nname = \"x\"\nversion = \"0.2.0\"\n",
    );
    let c1 = repo.commit(tick(), "bump to 0.2");
    repo.write(
        "Cargo.toml",
        "[package]\nname = \"x\"\nversion = \"0.3.0\"\n",
    );
    let c2 = repo.commit(tick(), "bump to 0.3");
    // The CI workflow changed and changed back by hand: content returned to its earlier state.
    repo.write(
        ".github/workflows/ci.yml",
        "on: [push, pull_request]\njobs: {}\n",
    );
    repo.commit(tick(), "run CI on PRs");
    repo.write(".github/workflows/ci.yml", "on: push\njobs: {}\n");
    repo.commit(tick(), "only on push again");
    // package.json changed, then reverted with git revert.
    repo.write("package.json", "{\"name\": \"x\", \"private\": true}\n");
    let pj = repo.commit(tick(), "mark private");
    repo.git_at(tick(), &["revert", "--no-edit", &pj]);
    let pj_revert = repo.head();
    // The analyzer's own run log and state, changed three times: never a signal.
    for k in 0..3 {
        repo.write(".codex/improvement-log.md", format!("# log\nrun {k}\n"));
        repo.write(
            ".codex/improvement-state.json",
            format!("{{\"runs\": {k}}}\n"),
        );
        repo.commit(tick(), &format!("analyzer run {k}"));
    }
    // A real .codex config file is config.
    repo.write(".codex/improvement.toml", "[rules]\n");
    repo.commit(tick(), "configure the analyzer");
    // Bot commits: one authored by the bot, one only committed by it. Both touch Cargo.toml.
    let human = (repo.name.clone(), repo.email.clone());
    repo.name = "codex-improvement[bot]".into();
    repo.email = "41898282+codex-improvement[bot]@users.noreply.github.com".into();
    repo.write(
        "Cargo.toml",
        "[package]\nname = \"x\"\nversion = \"9.9.9\"\n",
    );
    repo.write("src/lib.rs", "pub fn a() { /* bot */ }\n");
    let bot1 = repo.commit(tick(), "bot: tune");
    repo.name = human.0.clone();
    repo.email = human.1.clone();
    repo.committer = Some((
        "codex-improvement[bot]".into(),
        "bot@example.invalid".into(),
    ));
    repo.write(
        "Cargo.toml",
        "[package]\nname = \"x\"\nversion = \"0.3.0\"\n",
    );
    let bot2 = repo.commit(tick(), "bot applies a suggestion");
    repo.committer = None;

    let window = GitWindow::new(utc(T0 + 5 * HOUR), utc(T0 + 48 * HOUR));
    let mut opts = GitOptions::new(window);
    opts.bot_identities = vec!["codex-improvement[bot]".into()];
    let activity = collect(repo.path(), &opts).unwrap();

    // Bots: skipped entirely.
    assert_eq!(activity.totals.bot_commits_skipped, 2);
    assert!(activity
        .commits
        .iter()
        .all(|c| c.sha != bot1 && c.sha != bot2));
    assert_eq!(activity.totals.commits, 10);

    let config: BTreeMap<_, _> = activity
        .config_changes
        .iter()
        .map(|c| (c.path.as_str(), c))
        .collect();
    let paths: Vec<_> = config.keys().copied().collect();
    assert_eq!(
        paths,
        [
            ".codex/improvement.toml",
            ".github/workflows/ci.yml",
            "Cargo.toml",
            "package.json"
        ]
    );

    let cargo = config["Cargo.toml"];
    assert_eq!(cargo.commits, 2, "bot changes are not counted");
    assert_eq!(cargo.shas, [c2.clone(), c1.clone()]);
    assert!(!cargo.changed_and_reverted);
    assert_eq!((cargo.lines_added, cargo.lines_removed), (2, 2));

    let ci = config[".github/workflows/ci.yml"];
    assert_eq!(ci.commits, 2);
    assert!(ci.returned_to_earlier_state);
    assert!(ci.reverted_by.is_empty());
    assert!(ci.changed_and_reverted);

    let pkg = config["package.json"];
    assert_eq!(pkg.commits, 2);
    assert_eq!(pkg.reverted_by, [pj_revert]);
    assert!(pkg.changed_and_reverted);

    let codex = config[".codex/improvement.toml"];
    assert_eq!(codex.commits, 1);
    assert!(!codex.changed_and_reverted);

    // The run log and state never appear as a signal, only flagged in the raw file lists.
    let is_run_file = |p: &str| p.starts_with(".codex/improvement-");
    assert!(!activity.hotspots.iter().any(|h| is_run_file(&h.path)));
    assert!(!activity
        .reverts
        .iter()
        .any(|r| r.files.iter().any(|p| is_run_file(p))));
    let run_files: Vec<_> = activity
        .commits
        .iter()
        .flat_map(|c| &c.files)
        .filter(|f| is_run_file(&f.path))
        .collect();
    assert_eq!(run_files.len(), 6);
    assert!(run_files.iter().all(|f| f.ignored && !f.is_config));
    // Cargo.toml x2, ci.yml x2, package.json x2, improvement.toml: nothing else.
    assert_eq!(activity.totals.files_changed, 4);
    assert_eq!(activity.totals.config_files_changed, 4);

    // Without the bot identity configured, the bot's commits are ordinary commits.
    let activity = collect(repo.path(), &GitOptions::new(window)).unwrap();
    assert_eq!(activity.totals.bot_commits_skipped, 0);
    assert_eq!(activity.totals.commits, 12);
    let cargo = activity
        .config_changes
        .iter()
        .find(|c| c.path == "Cargo.toml")
        .unwrap();
    assert_eq!(cargo.commits, 4);
    // 0.1 -> 0.2 -> 0.3 -> 9.9.9 -> 0.3: the end state differs from the start.
    assert!(!cargo.returned_to_earlier_state);
}

#[test]
fn hotspots_count_a_merge_once_and_exclude_bulk_commits() {
    let repo = Repo::new();
    repo.write("src/hot.rs", "fn hot() {}\n");
    repo.write("src/warm.rs", "fn warm() {}\n");
    repo.commit(T0, "before the window");
    let mut t = T0 + 10 * HOUR;
    for k in 0..4 {
        t += 600;
        repo.write(
            "src/hot.rs",
            format!("fn hot() {{ {k} }}\nfn more() {{}}\n"),
        );
        repo.commit(t, &format!("hot {k}"));
    }
    // Exactly 30 files: not bulk.
    t += 600;
    for k in 0..29 {
        repo.write(&format!("gen/a{k}.txt"), "a\n");
    }
    repo.write("src/warm.rs", "fn warm() { 1 }\n");
    let thirty = repo.commit(t, "thirty files");
    // 31 files: bulk, counted nowhere in hotspots.
    t += 600;
    for k in 0..30 {
        repo.write(&format!("fmt/b{k}.txt"), "b\n");
    }
    repo.write("src/hot.rs", "fn hot() { formatted }\n");
    let bulk = repo.commit(t, "reformat everything");
    // A branch touching src/side.rs, merged with --no-ff: the branch commit is not on the
    // first-parent chain; the merge is the one change that brought it.
    repo.git(&["checkout", "-q", "-b", "side"]);
    t += 600;
    repo.write("src/side.rs", "fn side() {}\n");
    repo.commit(t, "side work");
    repo.git(&["checkout", "-q", "main"]);
    t += 600;
    repo.write("src/main-line.rs", "fn m() {}\n");
    repo.commit(t, "main line");
    t += 600;
    repo.git_at(t, &["merge", "-q", "--no-ff", "-m", "Merge side", "side"]);
    let merge = repo.head();

    let window = GitWindow::new(utc(T0 + 5 * HOUR), utc(T0 + 48 * HOUR));
    let activity = collect(repo.path(), &GitOptions::new(window)).unwrap();
    let commit = |sha: &str| activity.commits.iter().find(|c| c.sha == sha).unwrap();
    assert!(!commit(&thirty).is_bulk);
    assert!(commit(&bulk).is_bulk);
    assert!(commit(&merge).is_merge);
    assert_eq!(
        commit(&merge).files.len(),
        1,
        "first-parent diff: src/side.rs"
    );

    let hot: BTreeMap<_, _> = activity
        .hotspots
        .iter()
        .map(|h| (h.path.as_str(), h))
        .collect();
    assert_eq!(hot["src/hot.rs"].commits, 4, "bulk commit not counted");
    assert_eq!(hot["src/side.rs"].commits, 1, "the merge, once");
    assert_eq!(hot["src/side.rs"].shas, [merge.as_str()]);
    assert!(!activity.commits.iter().any(|c| c.subject == "side work"));
    assert_eq!(hot["src/warm.rs"].commits, 1);
    assert_eq!(hot["gen/a0.txt"].commits, 1);
    assert!(!hot.keys().any(|p| p.starts_with("fmt/")));
    assert_eq!(hot["src/hot.rs"].authors, ["Alice Example"]);
    assert_eq!(hot["src/hot.rs"].shas.len(), 4);
    // Deterministic order: most commits first, then most lines, then path.
    assert_eq!(activity.hotspots[0].path, "src/hot.rs");
    for pair in activity.hotspots.windows(2) {
        let key = |h: &codex_analyzer::collect::git::FileChurn| {
            (
                std::cmp::Reverse(h.commits),
                std::cmp::Reverse(h.lines_added + h.lines_removed),
                h.path.clone(),
            )
        };
        assert!(key(&pair[0]) < key(&pair[1]));
    }
    assert_eq!(activity.totals.merges, 1);
    assert_eq!(activity.totals.bulk_commits, 1);

    // A lower cap makes the 30-file commit bulk too.
    let mut opts = GitOptions::new(window);
    opts.bulk_commit_files = 10;
    let activity = collect(repo.path(), &opts).unwrap();
    assert!(!activity.hotspots.iter().any(|h| h.path.starts_with("gen/")));
    assert_eq!(activity.totals.bulk_commits, 2);

    // Same input, same bytes.
    let a = serde_json::to_string(&collect(repo.path(), &opts).unwrap()).unwrap();
    let b = serde_json::to_string(&collect(repo.path(), &opts).unwrap()).unwrap();
    assert_eq!(a, b);
}

#[test]
fn unborn_head_is_an_empty_result() {
    let repo = Repo::new();
    let activity = collect_all(repo.path());
    assert_eq!(activity.head, None);
    assert!(activity.commits.is_empty());
    assert_eq!(activity.visited, 0);
    assert_eq!(activity.totals.commits, 0);
}

#[test]
fn a_path_that_is_not_a_repository_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain");
    std::fs::create_dir(&plain).unwrap();
    let err = collect(&plain, &GitOptions::new(all_time())).unwrap_err();
    let msg = format!("{err:#}");
    assert!(msg.contains(&plain.display().to_string()), "{msg}");
    assert!(msg.contains("not a git repository"), "{msg}");

    let missing = dir.path().join("missing");
    let msg = format!(
        "{:#}",
        collect(&missing, &GitOptions::new(all_time())).unwrap_err()
    );
    assert!(msg.contains(&missing.display().to_string()), "{msg}");
    assert!(msg.contains("does not exist"), "{msg}");
}

#[test]
fn an_invalid_glob_is_a_clear_error() {
    let repo = Repo::new();
    let mut opts = GitOptions::new(all_time());
    opts.config_globs.push("src/[oops".into());
    let msg = format!("{:#}", collect(repo.path(), &opts).unwrap_err());
    assert!(msg.contains("src/[oops"), "{msg}");
}

#[test]
fn shallow_clone_stops_at_its_boundary() {
    let repo = Repo::new();
    for i in 0..10 {
        repo.write("f.txt", format!("{i}\n").repeat(i as usize + 1));
        repo.write(&format!("g{i}.txt"), "g\n");
        repo.commit(T0 + i * HOUR, &format!("c{i}"));
    }
    let clones = tempfile::tempdir().unwrap();
    let shallow = clones.path().join("shallow");
    let mut cmd = git_cmd(clones.path(), repo.home.path());
    cmd.args(["clone", "-q", "--depth", "3"])
        .arg(format!("file://{}", repo.path().display()))
        .arg(&shallow);
    run(cmd);

    let activity = collect_all(&shallow);
    assert!(activity.shallow);
    assert_eq!(activity.commits.len(), 3);
    let boundary = activity.commits.last().unwrap();
    assert_eq!(boundary.subject, "c7");
    assert_eq!(
        boundary.parents, 0,
        "git sees the boundary as a root commit"
    );
    // git agrees on every count, including the boundary's root diff.
    assert_eq!(assert_numstat_matches(&shallow, repo.home.path()), 3);
}

// --- Precision: hotspots that mean rework, reverts, first-parent history, bots -----------

/// The collector's options as `codex-analyzer run` builds them from the default config.
fn default_run_options(window: GitWindow) -> GitOptions {
    let config = Config::default();
    let mut opts = config.git.options(window, ".codex/ci-logs");
    config.rules.file_hotspot.apply_to(&mut opts);
    opts
}

fn findings_of(findings: &[Finding], rule: RuleId) -> Vec<&Finding> {
    findings.iter().filter(|f| f.rule == rule).collect()
}

/// Twelve lines of a function body, distinct per `tag`: rewriting it with another tag
/// rewrites every line.
fn body(tag: &str) -> String {
    let mut s = String::from("fn run() {\n");
    for k in 0..12 {
        s.push_str(&format!("    let v{k} = compute_{tag}({k});\n"));
    }
    s.push_str("}\n");
    s
}

impl Repo {
    /// `git merge --no-ff <branch>` at `t`, with the message `Merge <branch>`.
    fn merge_no_ff(&self, t: i64, branch: &str) {
        let msg = format!("Merge {branch}");
        self.git_at(t, &["merge", "-q", "--no-ff", "-m", &msg, branch]);
    }

    fn as_author(&mut self, name: &str) {
        self.name = name.to_string();
        self.email = format!(
            "{}@example.com",
            name.to_lowercase().replace(['[', ']'], "")
        );
    }

    /// Four commits, alternating two authors, each rewriting all of `path`'s lines; the
    /// first at `t`. Returns the time after the last one.
    fn rewrite_four_times(&mut self, path: &str, t: i64) -> i64 {
        let mut t = t;
        for (k, who) in [
            "Alice Example",
            "Bob Builder",
            "Alice Example",
            "Bob Builder",
        ]
        .into_iter()
        .enumerate()
        {
            self.as_author(who);
            let mut text = String::new();
            if path.ends_with(".md") {
                text.push_str("# notes\n");
            }
            if path.contains("generated") {
                text.push_str("// @generated by tools/gen. DO NOT EDIT.\n");
            }
            text.push_str(&body(&format!("{}_{k}", path.len())));
            self.write(path, text);
            self.commit(t, &format!("rework {path} #{k}"));
            t += 1800;
        }
        t
    }
}

#[test]
fn two_authors_rewriting_the_same_lines_is_a_hotspot() {
    let mut repo = Repo::new();
    repo.write("src/engine.rs", body("base"));
    repo.write("src/quiet.rs", "fn quiet() {}\n");
    repo.commit(T0, "before the window");
    repo.rewrite_four_times("src/engine.rs", T0 + 10 * HOUR);

    let window = GitWindow::new(utc(T0 + 5 * HOUR), utc(T0 + 29 * HOUR));
    let activity = collect(repo.path(), &default_run_options(window)).unwrap();
    let hot = &activity.hotspots[0];
    assert_eq!(hot.path, "src/engine.rs");
    assert_eq!(hot.commits, 4);
    // The first commit rewrote lines older than the window (not rework); each later one
    // rewrote all 12 lines of the one before.
    assert_eq!(hot.rework_lines, 36);
    assert_eq!(hot.rework_shas.len(), 3);
    assert_eq!(hot.rework_authors, ["Alice Example", "Bob Builder"]);
    assert!(!hot.created_in_window);

    let findings = git_findings(&activity, &Config::default());
    let hotspots = findings_of(&findings, RuleId::FileHotspot);
    assert_eq!(hotspots.len(), 1, "{findings:#?}");
    let f = hotspots[0];
    assert_eq!(f.subject, "src/engine.rs");
    assert_eq!(f.evidence.count, 36);
    assert!(
        f.title.contains("36 lines rewritten by 3 later commits"),
        "{}",
        f.title
    );
    assert!(
        f.severity >= Severity::Medium,
        "two authors rewrote each other"
    );
    assert!(f.suggested_action.contains("Alice Example, Bob Builder"));

    // One author rewriting their own code falls under the default min_authors = 2, but the
    // seed's literal rule (a file in 4+ commits) stays expressible.
    let mut seed = Config::default();
    seed.rules.file_hotspot.min_commits = 4;
    seed.rules.file_hotspot.min_rework_lines = 0;
    seed.rules.file_hotspot.min_reworking_commits = 0;
    seed.rules.file_hotspot.min_authors = 1;
    let literal = git_findings(&activity, &seed);
    let literal = findings_of(&literal, RuleId::FileHotspot);
    assert_eq!(literal.len(), 1);
    assert_eq!(literal[0].evidence.count, 4, "commits are the measure");
}

#[test]
fn growth_changelogs_generated_and_formatting_are_not_hotspots() {
    let mut repo = Repo::new();
    repo.write(
        ".gitattributes",
        "docs/cli.md linguist-generated\n*.snap -diff\n",
    );
    repo.write("src/registry.rs", "pub const ENTRIES: &[&str] = &[\n];\n");
    for path in ["CHANGELOG.md", "docs/cli.md", "src/generated/api.rs"] {
        repo.write(path, body("base"));
    }
    for k in 0..100 {
        repo.write(
            &format!("src/m{k}.rs"),
            format!("fn f{k}(x: u32) -> u32 {{ x + {k} }}\n"),
        );
    }
    repo.commit(T0, "before the window");
    let mut t = T0 + 6 * HOUR;
    // Rewritten by two authors exactly like the planted hotspot, but not hand-edited code.
    for path in ["CHANGELOG.md", "docs/cli.md", "src/generated/api.rs"] {
        t = repo.rewrite_four_times(path, t);
    }
    // A feature landed as a stack: each commit adds a file and one registry entry.
    let mut registry = String::from("pub const ENTRIES: &[&str] = &[\n");
    for k in 0..6 {
        repo.as_author(if k % 2 == 0 {
            "Alice Example"
        } else {
            "Bob Builder"
        });
        registry.push_str(&format!("    \"entry{k}\",\n"));
        repo.write("src/registry.rs", format!("{registry}];\n"));
        repo.write(
            &format!("src/feature/part{k}.rs"),
            body(&format!("part{k}")),
        );
        repo.commit(t, &format!("feature part {k}"));
        t += 600;
    }
    // Two authors grow five files, then a formatter re-wraps all 100 files.
    for k in 0..4 {
        repo.as_author(if k % 2 == 0 {
            "Alice Example"
        } else {
            "Bob Builder"
        });
        for m in 0..5 {
            let path = format!("src/m{m}.rs");
            let old = std::fs::read_to_string(repo.path().join(&path)).unwrap();
            repo.write(
                &path,
                format!("{old}fn g{k}(y: u32) -> u32 {{ f{m}(y) * {k} }}\n"),
            );
        }
        repo.commit(t, &format!("grow modules {k}"));
        t += 600;
    }
    for k in 0..100 {
        let path = format!("src/m{k}.rs");
        let old = std::fs::read_to_string(repo.path().join(&path)).unwrap();
        let formatted = old
            .replace(" { ", " {\n    ")
            .replace(" }\n", ",\n}\n")
            .replace("(x: u32)", "(\n    x: u32,\n)");
        repo.write(&path, formatted);
    }
    let fmt = repo.commit(t, "cargo fmt");

    let window = GitWindow::new(utc(T0 + 5 * HOUR), utc(T0 + 29 * HOUR));
    let mut opts = default_run_options(window);
    let activity = collect(repo.path(), &opts).unwrap();
    let findings = git_findings(&activity, &Config::default());
    assert!(
        findings_of(&findings, RuleId::FileHotspot).is_empty(),
        "{findings:#?}"
    );
    let format_commit = activity.commits.iter().find(|c| c.sha == fmt).unwrap();
    assert!(format_commit.is_formatting && format_commit.is_bulk);
    assert_eq!(activity.totals.formatting_commits, 1);

    // Left out, each for its reason, and counted.
    let listed: Vec<&str> = activity.hotspots.iter().map(|h| h.path.as_str()).collect();
    for excluded in ["CHANGELOG.md", "docs/cli.md", "src/generated/api.rs"] {
        assert!(!listed.contains(&excluded), "{excluded}: {listed:?}");
    }
    let reasons: BTreeMap<String, usize> =
        serde_json::from_value(serde_json::to_value(&activity.totals.hotspot_excluded).unwrap())
            .unwrap();
    assert_eq!(reasons["glob"], 1);
    assert_eq!(reasons["linguist_generated"], 1);
    assert_eq!(reasons["generated_marker"], 1);
    // Growth is not rework.
    let h = |p: &str| activity.hotspots.iter().find(|h| h.path == p).unwrap();
    assert_eq!(h("src/registry.rs").commits, 6);
    assert_eq!(h("src/registry.rs").rework_lines, 0);
    assert!(h("src/feature/part0.rs").created_in_window);

    // Not only because the formatting commit is bulk: with no bulk cap, the re-wrap of the
    // lines both authors wrote is still no rework and no change of the file.
    opts.bulk_commit_files = 1000;
    let activity = collect(repo.path(), &opts).unwrap();
    let m0 = activity
        .hotspots
        .iter()
        .find(|h| h.path == "src/m0.rs")
        .unwrap();
    assert_eq!((m0.commits, m0.rework_lines), (4, 0));
    assert!(findings_of(
        &git_findings(&activity, &Config::default()),
        RuleId::FileHotspot
    )
    .is_empty());

    // With the exclusions switched off, the same history does fire: the tests above are
    // not passing for want of rework.
    opts.hotspot_exclude.clear();
    opts.gitattributes = false;
    opts.generated_markers = false;
    let activity = collect(repo.path(), &opts).unwrap();
    let fired: Vec<String> = findings_of(
        &git_findings(&activity, &Config::default()),
        RuleId::FileHotspot,
    )
    .iter()
    .map(|f| f.subject.clone())
    .collect();
    assert_eq!(
        fired,
        ["CHANGELOG.md", "docs/cli.md", "src/generated/api.rs"],
        "{fired:?}"
    );
}

#[test]
fn a_maintenance_branch_merged_forward_is_one_change() {
    let mut repo = Repo::new();
    repo.write("src/compat.rs", body("base"));
    repo.commit(T0, "before the window");
    repo.git(&["branch", "release-1.x"]);
    repo.write("src/main.rs", "fn main() {}\n");
    repo.commit(T0 + 6 * HOUR, "main work");
    // Rework on the maintenance branch, inside the window...
    repo.git(&["checkout", "-q", "release-1.x"]);
    let t = repo.rewrite_four_times("src/compat.rs", T0 + 7 * HOUR);
    let branch_head = repo.head();
    // ...merged forward into main.
    repo.git(&["checkout", "-q", "main"]);
    repo.as_author("Alice Example");
    repo.merge_no_ff(t + 600, "release-1.x");
    let merge = repo.head();

    let window = GitWindow::new(utc(T0 + 5 * HOUR), utc(T0 + 29 * HOUR));
    let activity = collect(repo.path(), &default_run_options(window)).unwrap();
    let shas: Vec<&str> = activity.commits.iter().map(|c| c.sha.as_str()).collect();
    assert_eq!(shas.len(), 2, "the merge and `main work`: {shas:?}");
    assert_eq!(shas[0], merge);
    assert!(!shas.contains(&branch_head.as_str()));
    let compat = activity
        .hotspots
        .iter()
        .find(|h| h.path == "src/compat.rs")
        .unwrap();
    assert_eq!((compat.commits, compat.rework_lines), (1, 0));
    assert_eq!(compat.shas, [merge.as_str()]);
    assert_eq!(activity.totals.merges, 1);
    assert!(findings_of(
        &git_findings(&activity, &Config::default()),
        RuleId::FileHotspot
    )
    .is_empty());
    // git agrees: `git log --first-parent` lists the same commits.
    let log = repo.git(&[
        "log",
        "--first-parent",
        "--format=%H",
        "--since=@1704085200",
    ]);
    let expected: Vec<&str> = log.lines().collect();
    assert_eq!(shas, expected);
}

#[test]
fn bot_commits_are_counted_apart() {
    let mut repo = Repo::new();
    repo.write("src/deps.rs", body("base"));
    repo.write("src/app.rs", "fn app() {}\n");
    repo.commit(T0, "before the window");
    repo.as_author("dependabot[bot]");
    // GitHub's noreply form of the bot's address.
    repo.email = "49699333+dependabot[bot]@users.noreply.github.com".into();
    let t = repo.rewrite_four_times_as_is("src/deps.rs", T0 + 6 * HOUR);
    // A maintainer merging a renovate branch: the merge is the bot's change.
    repo.git(&["checkout", "-q", "-b", "renovate/serde"]);
    repo.as_author("renovate[bot]");
    repo.write("src/deps.rs", body("renovate"));
    repo.commit(t, "chore(deps): update serde");
    repo.git(&["checkout", "-q", "main"]);
    repo.as_author("Alice Example");
    repo.merge_no_ff(t + 600, "renovate/serde");
    repo.write("src/app.rs", "fn app() { 1 }\n");
    repo.commit(t + 1200, "human change");

    let window = GitWindow::new(utc(T0 + 5 * HOUR), utc(T0 + 29 * HOUR));
    let activity = collect(repo.path(), &default_run_options(window)).unwrap();
    assert_eq!(activity.totals.commits, 1, "only the human change");
    assert_eq!(activity.totals.bot_commits_skipped, 5);
    assert_eq!(activity.totals.bot_commits["dependabot[bot]"], 4);
    assert_eq!(activity.totals.bot_commits["renovate[bot]"], 1);
    assert!(!activity.hotspots.iter().any(|h| h.path == "src/deps.rs"));
    assert!(git_findings(&activity, &Config::default()).is_empty());
}

impl Repo {
    /// [`Repo::rewrite_four_times`] keeping the current identity.
    fn rewrite_four_times_as_is(&mut self, path: &str, t: i64) -> i64 {
        for k in 0..4 {
            self.write(path, body(&format!("bump{k}")));
            self.commit(t + k * 1800, &format!("chore(deps): bump #{k}"));
        }
        t + 4 * 1800
    }
}

#[test]
fn a_revert_is_one_finding_naming_the_change() {
    let mut repo = Repo::new();
    repo.write("src/retry.rs", "pub fn retries() -> u32 { 1 }\n");
    repo.commit(T0, "before the window");
    repo.write("src/retry.rs", "pub fn retries() -> u32 { 5 }\n");
    repo.write("src/backoff.rs", "pub fn backoff() {}\n");
    let change = repo.commit(T0 + 7 * HOUR, "Retry five times with backoff");
    repo.as_author("Bob Builder");
    repo.git_at(T0 + 9 * HOUR, &["revert", "--no-edit", "HEAD"]);
    let revert = repo.head();

    let window = GitWindow::new(utc(T0 + 5 * HOUR), utc(T0 + 29 * HOUR));
    let activity = collect(repo.path(), &default_run_options(window)).unwrap();
    let findings = git_findings(&activity, &Config::default());
    let reverts = findings_of(&findings, RuleId::Revert);
    assert_eq!(reverts.len(), 1, "{findings:#?}");
    let f = reverts[0];
    assert_eq!(f.subject, change, "keyed by the reverted commit");
    assert_eq!(f.severity, Severity::High);
    assert!(
        f.title.contains("Retry five times with backoff") && f.title.contains(&change[..12]),
        "{}",
        f.title
    );
    assert!(f
        .evidence
        .refs
        .contains(&format!("revert {}", &revert[..12])));
    let files = f.evidence.samples.last().unwrap();
    assert!(
        files.contains("src/backoff.rs") && files.contains("src/retry.rs"),
        "{files}"
    );
    assert!(f.suggested_action.contains("had to be undone"));

    // The change comes back (a revert of the revert): still one finding, same subject, now
    // saying so.
    repo.git_at(T0 + 11 * HOUR, &["revert", "--no-edit", "HEAD"]);
    let activity = collect(repo.path(), &default_run_options(window)).unwrap();
    let findings = git_findings(&activity, &Config::default());
    let reverts = findings_of(&findings, RuleId::Revert);
    assert_eq!(reverts.len(), 1, "{findings:#?}");
    assert_eq!(reverts[0].subject, change);
    assert_eq!(reverts[0].evidence.count, 2);
    assert!(
        reverts[0].title.contains("re-applied"),
        "{}",
        reverts[0].title
    );
    assert_eq!(
        activity.reverts[0].original_sha.as_deref(),
        Some(change.as_str())
    );
}
