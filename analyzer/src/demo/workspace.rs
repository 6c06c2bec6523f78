//! The demo's throwaway repository: a small Python service with a git history over the
//! days before the clock, the script whose cold run is the planted friction, and CI logs.
//!
//! Git runs as the `git` binary with a fixed identity and no user or system configuration,
//! and every commit's dates come from the demo clock, so the same seed and `--now` give
//! the same commit hashes.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::rng::Rng;

/// What the history holds, for the ground truth.
#[derive(Serialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct History {
    pub commits: u32,
    pub reverts: u32,
    /// The commit the sessions before the fix worked on.
    pub head_before: String,
    /// The fix commit (set by [`commit_fix`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// Every commit with its time, oldest first.
    #[serde(skip)]
    pub timeline: Vec<(DateTime<Utc>, String)>,
}

impl History {
    /// The commit checked out at `t`: the newest one made at or before it.
    pub fn head_at(&self, t: DateTime<Utc>) -> &str {
        self.timeline
            .iter()
            .rev()
            .find(|(at, _)| *at <= t)
            .or(self.timeline.first())
            .map_or("", |(_, h)| h.as_str())
    }
}

/// CI logs written, for the ground truth.
#[derive(Serialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct CiLogs {
    pub files: u32,
    pub failing: u32,
    pub clean: u32,
}

const AUTHORS: &[(&str, &str)] = &[
    ("Ana Lima", "ana@inventory.example"),
    ("Ben Okafor", "ben@inventory.example"),
    ("codex-bot", "codex-bot@inventory.example"),
];

/// Runs git in `dir` at time `at` as `author`.
pub fn git(dir: &Path, args: &[&str], at: DateTime<Utc>, author: (&str, &str)) -> Result<String> {
    let date = at.format("%Y-%m-%dT%H:%M:%S+0000").to_string();
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", author.0)
        .env("GIT_AUTHOR_EMAIL", author.1)
        .env("GIT_COMMITTER_NAME", author.0)
        .env("GIT_COMMITTER_EMAIL", author.1)
        .env("GIT_AUTHOR_DATE", &date)
        .env("GIT_COMMITTER_DATE", &date)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .output()
        .context("cannot run git; the demo needs git on PATH")?;
    if !out.status.success() {
        bail!(
            "git {} failed in {}: {}",
            args.join(" "),
            dir.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn write(repo: &Path, rel: &str, text: &str, executable: bool) -> Result<()> {
    let path = repo.join(rel);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    #[cfg(unix)]
    if executable {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
    }
    #[cfg(not(unix))]
    let _ = executable;
    Ok(())
}

fn commit(repo: &Path, msg: &str, at: DateTime<Utc>, author: (&str, &str)) -> Result<String> {
    git(repo, &["add", "-A"], at, author)?;
    git(
        repo,
        &["commit", "-q", "--no-gpg-sign", "--no-verify", "-m", msg],
        at,
        author,
    )?;
    git(repo, &["rev-parse", "HEAD"], at, author)
}

/// The AGENTS.md the repository starts with.
pub const AGENTS_MD: &str = "# Notes for coding agents\n\n\
- The service lives in `src/inventory/`; tests in `tests/`.\n\
- Run the unit tests with `python -m pytest tests/test_models.py -q`.\n";

/// Creates the repository in `repo` with a history over the nine days before `until`.
pub fn build_repo(repo: &Path, until: DateTime<Utc>, rng: &mut Rng) -> Result<History> {
    std::fs::create_dir_all(repo)?;
    let start = until - Duration::days(9);
    git(repo, &["init", "-q", "-b", "main"], start, AUTHORS[0])?;
    let files: &[(&str, &str, bool)] = &[
        ("README.md", "# inventory-api\n\nA small inventory service.\n\n`make check` sets up and runs the checks.\n", false),
        ("AGENTS.md", AGENTS_MD, false),
        (".gitignore", "build/\n__pycache__/\n.codex/toolcalls.ndjson\n.codex/*.lock\n.codex/*.offsets.json\n", false),
        ("Makefile", "check:\n\t./scripts/setup.sh\n\t./scripts/check.sh\n", false),
        ("pyproject.toml", "[project]\nname = \"inventory\"\nversion = \"0.3.0\"\nrequires-python = \">=3.11\"\n", false),
        ("scripts/setup.sh", "#!/bin/sh\n# Writes the local configuration the checks read.\nset -e\nmkdir -p build\necho 'DATABASE_URL=sqlite:///inventory.db' > build/config.env\necho 'wrote build/config.env'\n", true),
        ("scripts/check.sh", "#!/bin/sh\n# Lints and tests; needs build/config.env from ./scripts/setup.sh (`make check` runs both).\nif [ ! -f build/config.env ]; then\n  echo 'error: build/config.env is missing; run ./scripts/setup.sh first' >&2\n  exit 1\nfi\necho 'check: ok'\n", true),
        ("src/inventory/__init__.py", "", false),
        ("src/inventory/api.py", "from flask import Blueprint, jsonify, request\n\nfrom inventory.models import Item\n\nbp = Blueprint(\"items\", __name__)\n", false),
        ("src/inventory/models.py", "class Item:\n    def __init__(self, name, price):\n        if price < 0:\n            raise ValueError(\"price\")\n        self.name = name\n        self.price = price\n", false),
        ("src/inventory/db.py", "import sqlite3\n\n\ndef connect(url):\n    return sqlite3.connect(url.removeprefix(\"sqlite:///\"))\n", false),
        ("tests/conftest.py", "import pytest\n\nfrom inventory.db import connect\n", false),
        ("tests/test_models.py", "from inventory.models import Item\n\n\ndef test_item():\n    assert Item(\"a\", 1).price == 1\n", false),
        ("tests/test_api.py", "def test_create_item_rejects_empty_name():\n    pass\n", false),
        (".github/workflows/ci.yml", "name: ci\non: [push, pull_request]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: make check\n", false),
    ];
    for (rel, text, exec) in files {
        write(repo, rel, text, *exec)?;
    }
    let mut history = History::default();
    let head = commit(repo, "Initial import of inventory-api", start, AUTHORS[0])?;
    history.commits += 1;
    history.timeline.push((start, head));

    let changes: &[(&str, &str)] = &[
        ("src/inventory/api.py", "api: pagination for GET /items"),
        ("src/inventory/models.py", "models: validate prices"),
        ("tests/test_api.py", "tests: cover POST /items"),
        (
            "src/inventory/db.py",
            "db: reuse one connection per request",
        ),
        ("src/inventory/api.py", "api: 422 for an empty name"),
        ("README.md", "README: document the API"),
        ("src/inventory/api.py", "api: /health endpoint"),
        ("tests/test_models.py", "tests: price edge cases"),
        ("src/inventory/models.py", "models: created_at on Item"),
        ("src/inventory/api.py", "api: expose created_at"),
    ];
    let n = 22;
    let step = (until - Duration::hours(3) - start) / n;
    for i in 1..=n {
        let at = start + step * i + Duration::minutes(rng.range(0, 50) as i64);
        let author = AUTHORS[rng.below(AUTHORS.len() as u64) as usize];
        let (file, msg) = changes[rng.below(changes.len() as u64) as usize];
        let path = repo.join(file);
        let mut text = std::fs::read_to_string(&path).unwrap_or_default();
        text.push_str(&format!("# {msg} ({i})\n"));
        write(repo, file, &text, false)?;
        let head = commit(repo, msg, at, author)?;
        history.commits += 1;
        history.timeline.push((at, head));
        if i == n / 2 {
            // A change that broke the API and was taken back the same afternoon.
            let at = at + Duration::hours(2);
            git(repo, &["revert", "--no-edit", "HEAD"], at, AUTHORS[1])?;
            let head = git(repo, &["rev-parse", "HEAD"], at, AUTHORS[1])?;
            history.commits += 1;
            history.timeline.push((at, head));
            history.reverts += 1;
        }
    }
    history.head_before = git(repo, &["rev-parse", "HEAD"], until, AUTHORS[0])?;
    Ok(history)
}

/// Commits the simulated fix: the new AGENTS.md, at `at`.
pub fn commit_fix(
    repo: &Path,
    agents_md: &str,
    at: DateTime<Utc>,
    history: &mut History,
) -> Result<String> {
    write(repo, "AGENTS.md", agents_md, false)?;
    git(repo, &["add", "AGENTS.md"], at, AUTHORS[0])?;
    git(
        repo,
        &[
            "commit",
            "-q",
            "--no-gpg-sign",
            "--no-verify",
            // With very few sessions no friction recurs and the guidance is unchanged.
            "--allow-empty",
            "-m",
            "AGENTS.md: run `make check`, not ./scripts/check.sh cold",
        ],
        at,
        AUTHORS[0],
    )?;
    let head = git(repo, &["rev-parse", "HEAD"], at, AUTHORS[0])?;
    history.commits += 1;
    history.fix = Some(head.clone());
    history.timeline.push((at, head.clone()));
    Ok(head)
}

/// A CI log in GitHub's format (every line prefixed with its time).
fn gh_log(start: DateTime<Utc>, lines: &[&str]) -> String {
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let t = start + Duration::milliseconds(i as i64 * 211);
            format!(
                "{}.{:07}Z {l}\n",
                t.format("%Y-%m-%dT%H:%M:%S"),
                t.timestamp_subsec_nanos() / 100
            )
        })
        .collect()
}

/// Writes CI logs for the day ending at `until` into `dir` (`.codex/ci-logs/`): a test
/// that fails on two runs, a lint error, and a passing run.
pub fn write_ci_logs(
    dir: &Path,
    until: DateTime<Utc>,
    tag: &str,
    rng: &mut Rng,
    counts: &mut CiLogs,
) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    let mut put = |rel: String, text: String, failing: bool| -> Result<()> {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap_or(dir))?;
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path);
        counts.files += 1;
        if failing {
            counts.failing += 1;
        } else {
            counts.clean += 1;
        }
        Ok(())
    };
    for i in 0..2 {
        let at = until - Duration::hours(rng.range(2, 20) as i64);
        let secs = format!("{}.{:02}s", rng.range(1, 9), rng.range(0, 99));
        let result = format!("1 failed, 41 passed in {secs}");
        put(
            format!("test/{tag}-{i}.log"),
            gh_log(
                at,
                &[
                    "##[group]Run make check",
                    "./scripts/setup.sh",
                    "python -m pytest -q",
                    "FAILED tests/test_api.py::test_create_item_rejects_empty_name - assert 500 == 422",
                    &result,
                    "##[error]Process completed with exit code 1.",
                ],
            ),
            true,
        )?;
    }
    let at = until - Duration::hours(rng.range(2, 20) as i64);
    put(
        format!("lint/{tag}.log"),
        gh_log(
            at,
            &[
                "##[group]Run npm run lint",
                "> inventory-web@0.3.0 lint",
                "> eslint web/",
                "/home/runner/work/inventory/inventory/web/app.js",
                "  12:5  error  'items' is assigned a value but never used  no-unused-vars",
                "✖ 1 problem (1 error, 0 warnings)",
                "##[error]Process completed with exit code 1.",
            ],
        ),
        true,
    )?;
    let at = until - Duration::hours(rng.range(1, 22) as i64);
    put(
        format!("test/{tag}-ok.log"),
        gh_log(
            at,
            &[
                "##[group]Run make check",
                "python -m pytest -q",
                "42 passed in 3.10s",
            ],
        ),
        false,
    )?;
    Ok(written)
}
