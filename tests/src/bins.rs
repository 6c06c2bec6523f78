//! Locating the workspace's binaries from an integration test of another package.
//!
//! `cargo test --workspace` builds every binary before running any test; a test of this
//! package alone (`cargo test -p e2e`) may find them missing, so they are built on demand.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Once;

/// The workspace root (this crate lives in `<root>/tests`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// `target/<profile>` of the running test.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    // target/<profile>/deps/<test>-<hash>
    exe.parent()
        .and_then(Path::parent)
        .expect("test binary lives in target/<profile>/deps")
        .to_path_buf()
}

/// The newest modification time of the sources binary `name` is built from.
fn newest_source(name: &str) -> std::time::SystemTime {
    fn walk(dir: &Path, newest: &mut std::time::SystemTime) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, newest);
            } else if let Ok(m) = e.metadata().and_then(|m| m.modified()) {
                *newest = (*newest).max(m);
            }
        }
    }
    let mut newest = std::time::SystemTime::UNIX_EPOCH;
    let own = if name == "codex-shim" {
        "shim"
    } else {
        "analyzer"
    };
    let stores: &[&str] = if own == "analyzer" {
        &["store", "otlp"]
    } else {
        &[]
    };
    for krate in ["contract", own].iter().chain(stores) {
        walk(&workspace_root().join(krate).join("src"), &mut newest);
    }
    newest
}

/// The path of a workspace binary, building the binaries once if missing or older than
/// their sources (`cargo test -p e2e` does not rebuild another package's binaries).
pub fn bin(name: &str) -> PathBuf {
    static BUILD: Once = Once::new();
    let path = profile_dir().join(name);
    let stale = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .map_or(true, |built| built < newest_source(name));
    if stale {
        BUILD.call_once(|| {
            let release = profile_dir().ends_with("release");
            let mut cmd = Command::new(env!("CARGO"));
            cmd.current_dir(workspace_root()).args([
                "build",
                "-p",
                "codex-shim",
                "-p",
                "codex-analyzer",
            ]);
            if release {
                cmd.arg("--release");
            }
            let status = cmd.status().expect("run cargo build");
            assert!(status.success(), "cargo build of the binaries failed");
        });
    }
    assert!(path.exists(), "{} not found after building", path.display());
    path
}

/// `codex-shim`.
pub fn shim() -> PathBuf {
    bin("codex-shim")
}

/// `codex-analyzer`.
pub fn analyzer() -> PathBuf {
    bin("codex-analyzer")
}

pub use crate::codex::git_repo;

/// Reads every record of a log with the contract's reader, asserting no line was skipped.
pub fn read_log(path: &Path) -> Vec<codex_contract::Record> {
    let mut r = codex_contract::read::open(path).expect("open log");
    let records: Vec<_> = r.by_ref().collect();
    assert_eq!(r.stats().skipped, 0, "bad lines: {:?}", r.stats().problems);
    records
}

/// Runs `cmd` with `stdin` fed from a thread (so large inputs cannot deadlock against a full
/// stdout pipe) and stdout/stderr captured.
pub fn run_piped(cmd: &mut Command, stdin: &[u8]) -> std::process::Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut sin = child.stdin.take().expect("stdin");
    let data = stdin.to_vec();
    // The child may exit without reading everything: a broken pipe here is not an error.
    let writer = std::thread::spawn(move || {
        let _ = sin.write_all(&data);
    });
    let out = child.wait_with_output().expect("wait");
    writer.join().expect("stdin writer");
    out
}

/// Runs git in `dir` hermetically (no user or system config, fixed locale), as `author`
/// (`<author>@example.com`), with author and committer dates at `when` when given, so tests
/// can plant commits at chosen times. Panics with git's stderr when git fails.
pub fn git_at(
    dir: &Path,
    args: &[&str],
    when: Option<chrono::DateTime<chrono::Utc>>,
    author: &str,
) {
    let email = format!("{author}@example.com");
    let mut cmd = Command::new("git");
    cmd.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("LC_ALL", "C")
        .env("GIT_AUTHOR_NAME", author)
        .env("GIT_AUTHOR_EMAIL", &email)
        .env("GIT_COMMITTER_NAME", author)
        .env("GIT_COMMITTER_EMAIL", &email)
        .args([
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args);
    if let Some(t) = when {
        let d = t.to_rfc3339();
        cmd.env("GIT_AUTHOR_DATE", &d).env("GIT_COMMITTER_DATE", &d);
    }
    let out = cmd.output().expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Writes `content` to `repo/rel`, creating its folders.
pub fn write_file(repo: &Path, rel: &str, content: &str) {
    let p = repo.join(rel);
    std::fs::create_dir_all(p.parent().expect("a file inside the repository")).unwrap();
    std::fs::write(p, content).unwrap();
}

/// Runs the real analyzer in `repo` with no tool-call log and only the GitHub variables in
/// `env` (none of the caller's own), and without colour.
pub fn run_analyzer(repo: &Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new(analyzer());
    cmd.current_dir(repo)
        .env_remove("CODEX_TOOLCALLS_LOG")
        .env_remove("GITHUB_TOKEN")
        .env_remove("GITHUB_REPOSITORY")
        .env_remove("GITHUB_API_URL")
        .env_remove("GITHUB_SERVER_URL")
        .env("NO_COLOR", "1")
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the analyzer runs")
}

/// The stdout of `out`, after asserting that `what` succeeded (its output in the message).
pub fn stdout_ok(out: std::process::Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Asserts that `doc` (the analyzer's `--format json` output) matches
/// docs/analyzer-output.schema.json, listing every violation.
pub fn assert_output_schema(doc: &serde_json::Value) {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../docs/analyzer-output.schema.json")).unwrap();
    let v = jsonschema::validator_for(&schema).expect("the schema itself is valid");
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}
