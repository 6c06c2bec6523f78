//! The git collector's cost must follow the window, not the history: collecting the last 24h
//! of a 50,000-commit repository should cost about what it costs on a 5,000-commit one, since
//! both hold the same ~50 commits in that window.
//!
//! Both repositories are generated once per run with `git fast-import` (seconds, not
//! minutes): commits spread evenly over two years, plus 50 commits in the last 24 hours, each
//! touching 1-3 small files out of a pool of 300.
//!
//! `git fast-import` stores each new blob version as a delta on the previous one, up to depth
//! 50: the newest objects sit at the end of the longest chains, a worst case for reading the
//! recent window (`git gc` prefers recent objects as bases). In the 5,000-commit repository a
//! file has ~33 versions, so its chains are shorter than the 50,000-commit repository's
//! (capped at 50): that, not the walk, is the small difference between the two numbers. With a
//! pool of 30 files (chains at the cap in both) the two measured the same.

use std::fmt::Write as _;
use std::hint::black_box;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use chrono::{TimeZone, Utc};
use codex_analyzer::collect::git::{collect, GitOptions, GitWindow};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

/// The fixed "now" of the generated histories: 2025-06-01T00:00:00Z.
const NOW: i64 = 1_748_736_000;
const DAY: i64 = 86_400;
const RECENT: usize = 50;
const FILES: usize = 300;

fn git(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .args(["-c", "init.defaultBranch=main"]);
    cmd
}

/// A repository of `total` commits whose last `RECENT` fall in the last 24 hours.
fn generate(dir: &Path, total: usize) {
    let status = git(dir).args(["init", "-q"]).status().expect("git runs");
    assert!(status.success(), "git init failed");

    let old = total - RECENT;
    let old_span = 2 * 365 * DAY - DAY;
    let mut stream = String::with_capacity(total * 400);
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut rand = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    // Each file is 8 lines; a commit rewrites one line of 1-3 files.
    let mut files: Vec<[u32; 8]> = vec![[0; 8]; FILES];
    for i in 0..total {
        let t = if i < old {
            NOW - 2 * 365 * DAY + (i as i64 * old_span) / old as i64
        } else {
            NOW - DAY + 1 + ((i - old) as i64 * (DAY - 2)) / RECENT as i64
        };
        let msg = format!("change {i}\n");
        writeln!(stream, "commit refs/heads/main\nmark :{}", i + 1).unwrap();
        writeln!(
            stream,
            "author Dev {n} <dev{n}@example.com> {t} +0000",
            n = i % 7
        )
        .unwrap();
        writeln!(
            stream,
            "committer Dev {n} <dev{n}@example.com> {t} +0000",
            n = i % 7
        )
        .unwrap();
        write!(stream, "data {}\n{msg}", msg.len()).unwrap();
        if i > 0 {
            writeln!(stream, "from :{i}").unwrap();
        }
        for _ in 0..1 + rand() % 3 {
            let f = (rand() % FILES as u64) as usize;
            let line = (rand() % 8) as usize;
            files[f][line] = i as u32;
            let mut content = String::new();
            for (k, v) in files[f].iter().enumerate() {
                writeln!(content, "fn item_{k}() -> u32 {{ {v} }}").unwrap();
            }
            writeln!(stream, "M 100644 inline src/m{}/f{f}.rs", f % 10).unwrap();
            write!(stream, "data {}\n{content}", content.len()).unwrap();
        }
        stream.push('\n');
    }
    let mut child = git(dir)
        .args(["fast-import", "--quiet"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("git fast-import runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stream.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success(), "git fast-import failed");
}

fn bench(c: &mut Criterion) {
    let window = GitWindow::new(
        Utc.timestamp_opt(NOW - DAY, 0).unwrap(),
        Utc.timestamp_opt(NOW, 0).unwrap(),
    );
    let opts = GitOptions::new(window);
    let mut repos = Vec::new();
    for total in [5_000, 50_000] {
        let dir = tempfile::tempdir().unwrap();
        let started = Instant::now();
        generate(dir.path(), total);
        let activity = collect(dir.path(), &opts).unwrap();
        eprintln!(
            "git_window: {total} commits generated in {:.1?}; 24h window: {} commits, {} visited",
            started.elapsed(),
            activity.commits.len(),
            activity.visited
        );
        assert_eq!(activity.commits.len(), RECENT);
        assert!(
            activity.visited <= RECENT + 1,
            "the walk went past the window"
        );
        repos.push((total, dir));
    }

    let mut group = c.benchmark_group("git_window_24h");
    for (total, dir) in &repos {
        group.bench_with_input(
            BenchmarkId::new("collect", format!("{total}_commits")),
            dir.path(),
            |b, path| b.iter(|| black_box(collect(path, &opts).unwrap())),
        );
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
