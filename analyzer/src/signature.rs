//! Failure signatures: the ONE versioned normalization algorithm for CI failure logs
//! (local files and GitHub job logs) and for failing commands.
//!
//! Two failures that differ only in paths, numbers, hashes, durations, hosts or timestamps
//! must get the same signature, and two different failures must not. The layered approach
//! (see `docs/analyzer.md`, "Signatures"):
//!
//! 1. **Structure first**: the job name, the failing test IDs when the log names them.
//! 2. **Clean** each line ([`clean_line`]): ANSI escapes, leading timestamps, `##[error]` /
//!    `::error ...::` prefixes and runner work-directory prefixes are removed.
//! 3. **Pick the error lines** ([`error_lines`]) — the first lines that look like errors.
//! 4. **Parameterize** them ([`normalize`]): one ordered list of masks (URLs, emails, UUIDs,
//!    dates, IPs, hashes, hosts, durations, paths, quoted values after `=`, numbers).
//! 5. **Categorize** with a small catalog ([`categorize`]) — `rust-compile`, `test-failure`,
//!    `timeout`, `oom`, `network`, `runner-lost`, `cancelled`, `lint`, `other`.
//! 6. **Hash**: signature ID = sha256(kind, [`ALGORITHM_VERSION`], category, job, template).
//!
//! The version is hashed in: changing any step above must bump it, so old signatures are
//! not silently re-split. Raw samples are kept beside the signature (redacted) so people can
//! see what was grouped.

use std::sync::OnceLock;

use regex::{Captures, Regex};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The normalization algorithm version, hashed into every signature ID.
pub const ALGORITHM_VERSION: u32 = 1;

/// How many error lines make up a template.
const TEMPLATE_LINES: usize = 3;
/// Longest template line kept (after normalization), in bytes.
const TEMPLATE_LINE_MAX: usize = 200;
/// How many test IDs a test-failure template names.
const TEMPLATE_TESTS: usize = 10;

/// The failure category catalog. Order matters: the first category whose pattern matches
/// the error lines wins, so infrastructure causes (cancelled, runner lost, OOM, timeout,
/// network) win over the symptoms they produce (a failed test, a failed compile).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    Cancelled,
    RunnerLost,
    Oom,
    Timeout,
    Network,
    Lint,
    RustCompile,
    TestFailure,
    Other,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Cancelled => "cancelled",
            Category::RunnerLost => "runner-lost",
            Category::Oom => "oom",
            Category::Timeout => "timeout",
            Category::Network => "network",
            Category::Lint => "lint",
            Category::RustCompile => "rust-compile",
            Category::TestFailure => "test-failure",
            Category::Other => "other",
        }
    }

    /// Infrastructure failures that say nothing about the code: they stay in the run log and
    /// out of tickets (prior art: issue spam for transient failures).
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            Category::Cancelled | Category::RunnerLost | Category::Network
        )
    }
}

/// The catalog: lower-case substrings per category, tried in [`Category`] order.
const CATALOG: &[(Category, &[&str])] = &[
    (
        Category::Cancelled,
        &[
            "the operation was canceled",
            "the operation was cancelled",
            "the run was canceled",
            "job was cancelled",
            "cancelled by user",
        ],
    ),
    (
        Category::RunnerLost,
        &[
            "runner has received a shutdown signal",
            "lost communication with the server",
            "the runner has been lost",
            "runner lost",
            "no space left on device",
        ],
    ),
    (
        Category::Oom,
        &[
            "out of memory",
            "memory allocation of",
            "cannot allocate memory",
            "killed signal terminated program",
            "oomkilled",
            "exit code 137",
            "signal: 9, sigkill",
            "javascript heap out of memory",
        ],
    ),
    (
        Category::Timeout,
        &[
            "timed out",
            "has exceeded the maximum execution time",
            "deadline exceeded",
            "timeout expired",
            "took too long",
        ],
    ),
    (
        Category::Network,
        &[
            "could not resolve host",
            "temporary failure in name resolution",
            "connection refused",
            "connection reset",
            "network is unreachable",
            "failed to download",
            "econnreset",
            "etimedout",
            "econnrefused",
            "tls handshake",
            "502 bad gateway",
            "503 service unavailable",
            "failed to fetch",
        ],
    ),
    (
        Category::Lint,
        &[
            "clippy::",
            "-d warnings",
            "diff in ",
            "rustfmt",
            "eslint",
            "prettier",
            "lint failed",
            "would reformat",
        ],
    ),
    (
        Category::RustCompile,
        &["error[e", "could not compile", "aborting due to"],
    ),
    (
        Category::TestFailure,
        &[
            "test result: failed",
            "panicked at",
            "assertion",
            "--- fail:",
            "tests failed",
            "test failed",
            " failed, ",
            "failures:",
            "failed tests",
            "failed ",
        ],
    ),
];

/// Categorizes error text (already cleaned). Case-insensitive.
pub fn categorize(text: &str) -> Category {
    let lower = text.to_lowercase();
    CATALOG
        .iter()
        .find(|(_, pats)| pats.iter().any(|p| lower.contains(p)))
        .map_or(Category::Other, |(c, _)| *c)
}

/// A failure signature: the stable ID plus what it was computed from.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Signature {
    /// sha256 of (kind, version, category, job, template), 16 hex digits.
    pub id: String,
    /// [`ALGORITHM_VERSION`] at the time it was computed.
    pub version: u32,
    pub category: Category,
    /// The CI job, or the tool for a command signature.
    pub job: String,
    /// The normalized template (paths, numbers, hashes... masked).
    pub template: String,
}

fn hash_id(kind: &str, category: Category, job: &str, template: &str) -> String {
    let mut h = Sha256::new();
    for part in [
        kind,
        &ALGORITHM_VERSION.to_string(),
        category.as_str(),
        job,
        template,
    ] {
        h.update(part.as_bytes());
        h.update(b"\0");
    }
    h.finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

struct Masks {
    ansi: Regex,
    leading_ts: Regex,
    gh_command: Regex,
    runner_path: Regex,
    steps: Vec<(Regex, &'static str)>,
    hex: Regex,
    path: Regex,
    spaces: Regex,
}

// No `(?i)`: the workspace builds `regex` without `unicode-case`, so case-insensitive
// patterns spell both cases out (a test build can unify more features and hide this).
fn masks() -> &'static Masks {
    static M: OnceLock<Masks> = OnceLock::new();
    M.get_or_init(|| {
        let re = |s: &str| Regex::new(s).expect("signature regexes are valid");
        Masks {
            ansi: re(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]"),
            leading_ts: re(
                r"^\s*\[?(?:\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?|\d{2}:\d{2}:\d{2}(?:[.,]\d+)?)\]?\s?",
            ),
            gh_command: re(r"^\s*(?:##\[(?:error|warning|notice|debug|group|endgroup|section|command)\]|::(?:error|warning|notice|debug)[^:]*::)"),
            runner_path: re(
                r"(?:/home/runner/work|/Users/runner/work|/__w|[A-Za-z]:\\a|/github/workspace/?)(?:[/\\][^/\\\s]+){0,2}[/\\]",
            ),
            steps: vec![
                (re(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\x22<>()\]]+"), "<url>"),
                (re(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"), "<email>"),
                (
                    re(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"),
                    "<uuid>",
                ),
                (
                    re(r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\b|\b\d{2}:\d{2}:\d{2}(?:[.,]\d+)?\b"),
                    "<date>",
                ),
                (re(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?\b"), "<ip>"),
                (re(r"\b0[xX][0-9a-fA-F]+\b"), "<hex>"),
                (
                    re(r"\b(?:[a-zA-Z0-9-]+\.)+(?:com|net|org|io|dev|cloud|internal|local|COM|NET|ORG|IO)\b(?::\d{1,5})?"),
                    "<host>",
                ),
                (re(r"\b(?:\d+(?:\.\d+)?(?:ns|µs|us|ms|s|m|h|d))+\b"), "<duration>"),
            ],
            hex: re(r"\b[0-9a-fA-F]{7,}\b"),
            path: re(r"(?:[A-Za-z]:)?(?:[\w.@~+-]*[/\\])+[\w.@~+-]*"),
            spaces: re(r"\s+"),
        }
    })
}

/// Cleans one raw log line: ANSI escapes, a leading timestamp, GitHub `##[error]` and
/// `::error ...::` prefixes and runner work-directory prefixes are removed; the result is
/// trimmed. Nothing is masked yet.
pub fn clean_line(line: &str) -> String {
    let m = masks();
    let s = m.ansi.replace_all(line, "");
    let s = m.leading_ts.replace(&s, "");
    let s = m.gh_command.replace(&s, "");
    let s = m.runner_path.replace_all(&s, "");
    s.trim().to_string()
}

/// Parameterizes one cleaned line: every variable part becomes a `<mask>`, in this order:
/// URLs, emails, UUIDs, dates and times, IPs, `0x` hex, hosts, durations, hashes (7+ hex
/// digits with at least one digit), paths (anything with a `/` or `\`, unless it is only
/// numbers like `3/4`), quoted values after `=`, numbers (including versions). Whitespace is
/// collapsed.
pub fn normalize(line: &str) -> String {
    let m = masks();
    let mut s = line.to_string();
    for (re, mask) in &m.steps {
        if re.is_match(&s) {
            s = re.replace_all(&s, *mask).into_owned();
        }
    }
    s = m
        .hex
        .replace_all(&s, |c: &Captures| {
            let t = &c[0];
            if t.bytes().any(|b| b.is_ascii_digit()) {
                "<hex>".to_string()
            } else {
                t.to_string()
            }
        })
        .into_owned();
    s = m
        .path
        .replace_all(&s, |c: &Captures| {
            let t = &c[0];
            let meaningful = t.chars().any(|ch| ch.is_alphabetic());
            if meaningful {
                "<path>".to_string()
            } else {
                t.to_string()
            }
        })
        .into_owned();
    s = quoted_after_eq(&s);
    s = numbers(&s);
    let s = m.spaces.replace_all(s.trim(), " ");
    s.into_owned()
}

fn quoted_after_eq(s: &str) -> String {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| Regex::new(r#"=\s*(?:"[^"]*"|'[^']*')"#).expect("valid"));
    re.replace_all(s, "=<str>").into_owned()
}

fn numbers(s: &str) -> String {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| Regex::new(r"\bv?\d+(?:\.\d+)*\b").expect("valid"));
    re.replace_all(s, "<num>").into_owned()
}

/// One raw line as a template line: [`clean_line`], then [`normalize`], bounded to
/// [`TEMPLATE_LINE_MAX`] bytes. Every template the analyzer makes — CI error lines, command
/// signatures, friction clusters (`cluster::normalize_command` / `normalize_error`) — is
/// built from this one step, so "the same failure" means the same thing everywhere.
pub fn template_line(raw: &str) -> String {
    bound(&normalize(&clean_line(raw)), TEMPLATE_LINE_MAX)
}

/// Bounds a template line on a char boundary.
fn bound(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// Whether a cleaned line reports an error. Case matters for some markers (`FAILED`,
/// `Error:`) to keep prose like "no tests failed" out.
fn is_error_line(raw: &str, clean: &str) -> bool {
    // GitHub prefixes every line with its time: the command comes after it.
    let t = masks().leading_ts.replace(raw.trim_start(), "");
    let t = t.trim_start();
    if t.starts_with("##[error]") || t.starts_with("::error") {
        return true;
    }
    let lower = clean.to_lowercase();
    lower.starts_with("error")
        || lower.starts_with("fatal")
        || clean.contains("FAILED")
        || clean.contains("FAIL:")
        || clean.contains("panicked at")
        || clean.contains("Error:")
        || clean.contains("Exception")
        || clean.contains("npm ERR!")
        || lower.contains("timed out")
        || lower.contains("out of memory")
        || lower.contains("operation was canceled")
        || lower.contains("lost communication with the server")
        || lower.contains("exceeded the maximum execution time")
        || lower.contains("could not resolve host")
        || lower.starts_with("killed")
}

/// Generic lines that say a step failed without saying why: used only when nothing better
/// was found, so they do not merge unrelated failures.
fn is_generic(clean: &str) -> bool {
    let lower = clean.to_lowercase();
    lower.starts_with("process completed with exit code")
        || lower.starts_with("error: process didn't exit successfully")
        || lower.starts_with("error: test failed, to rerun pass")
        || lower.starts_with("error: could not compile")
        || lower.starts_with("error: aborting due to")
        || lower.starts_with("error: recipe for target")
        || lower.starts_with("make: ***")
        || lower == "error"
        || lower == "failures:"
}

/// The first error lines of a log, cleaned (not normalized), specific lines before generic
/// ones. At most `max` lines.
pub fn error_lines(text: &str, max: usize) -> Vec<String> {
    let mut specific = Vec::new();
    let mut generic = Vec::new();
    for raw in text.lines() {
        let clean = clean_line(raw);
        if clean.is_empty() || !is_error_line(raw, &clean) {
            continue;
        }
        if is_generic(&clean) {
            if generic.len() < max {
                generic.push(clean);
            }
        } else if !specific.contains(&clean) {
            specific.push(clean);
            if specific.len() >= max {
                break;
            }
        }
    }
    if specific.is_empty() {
        generic
    } else {
        specific
    }
}

/// Test IDs named in a log: cargo (`---- name stdout ----`, `test name ... FAILED`), Go
/// (`--- FAIL: Name`), pytest (`FAILED path::test`). Sorted, unique.
pub fn failed_tests(text: &str) -> Vec<String> {
    static RE: OnceLock<Vec<Regex>> = OnceLock::new();
    let res = RE.get_or_init(|| {
        [
            r"^---- (\S+) stdout ----$",
            r"^test (\S+) \.\.\. FAILED$",
            r"^--- FAIL: (\S+)",
            r"^FAILED (\S+::\S+)",
        ]
        .iter()
        .map(|s| Regex::new(s).expect("valid"))
        .collect()
    });
    let mut out: Vec<String> = Vec::new();
    for raw in text.lines() {
        let clean = clean_line(raw);
        for re in res {
            if let Some(c) = re.captures(&clean) {
                let id = normalize_test_id(&c[1]);
                if !out.contains(&id) {
                    out.push(id);
                }
            }
        }
    }
    out.sort();
    out
}

/// Test IDs keep their names (they are the identity) but lose path prefixes.
fn normalize_test_id(id: &str) -> String {
    let id = id.replace('\\', "/");
    let id = if let Some((file, rest)) = id.split_once("::") {
        // pytest: tests/unit/test_x.py::test_y -> test_x.py::test_y
        let base = file.rsplit('/').next().unwrap_or(file);
        format!("{base}::{rest}")
    } else {
        id
    };
    bound(&id, TEMPLATE_LINE_MAX)
}

/// The result of analyzing one failed CI log.
#[derive(Clone, Debug, PartialEq)]
pub struct LogAnalysis {
    pub signature: Signature,
    /// The chosen error lines, cleaned but not normalized (redact before showing).
    pub sample_lines: Vec<String>,
}

/// Normalizes a job name: runner paths and variable parts masked, except plain numbers
/// (matrix entries like `test (1.89)` keep their identity only through the template).
pub fn normalize_job(job: &str) -> String {
    let n = normalize(&clean_line(job));
    if n.is_empty() {
        "unknown".to_string()
    } else {
        n
    }
}

/// Analyzes one CI job log. `None` when the log shows no failure (no error lines and no
/// failed tests).
pub fn ci_log_signature(job: &str, text: &str) -> Option<LogAnalysis> {
    let lines = error_lines(text, TEMPLATE_LINES);
    let tests = failed_tests(text);
    if lines.is_empty() && tests.is_empty() {
        return None;
    }
    let mut category = categorize(&lines.join("\n"));
    if !tests.is_empty() && matches!(category, Category::Other | Category::RustCompile) {
        category = Category::TestFailure;
    }
    let template = if !tests.is_empty() && category == Category::TestFailure {
        let mut t: Vec<&str> = tests.iter().map(String::as_str).collect();
        let more = t.len().saturating_sub(TEMPLATE_TESTS);
        t.truncate(TEMPLATE_TESTS);
        let mut s = format!("tests: {}", t.join(", "));
        if more > 0 {
            s.push_str(&format!(" (+{more} more)"));
        }
        s
    } else {
        lines
            .iter()
            .map(|l| bound(&normalize(l), TEMPLATE_LINE_MAX))
            .collect::<Vec<_>>()
            .join(" | ")
    };
    let job = normalize_job(job);
    let id = hash_id("ci", category, &job, &template);
    Some(LogAnalysis {
        signature: Signature {
            id,
            version: ALGORITHM_VERSION,
            category,
            job,
            template,
        },
        sample_lines: if lines.is_empty() { tests } else { lines },
    })
}

/// The signature of one failed test case (JUnit XML): the test ID is the identity; the
/// category comes from the failure message (a test that timed out is a timeout).
pub fn test_case_signature(job: &str, test_id: &str, message: &str) -> Signature {
    let first = message
        .lines()
        .map(clean_line)
        .find(|l| !l.is_empty())
        .unwrap_or_default();
    let category = match categorize(&first) {
        Category::Other | Category::RustCompile | Category::Lint => Category::TestFailure,
        c => c,
    };
    let template = format!("test: {}", normalize_test_id(test_id));
    let job = normalize_job(job);
    Signature {
        id: hash_id("ci", category, &job, &template),
        version: ALGORITHM_VERSION,
        category,
        job,
        template,
    }
}

/// The signature of a failing command: the tool plus the first two non-empty lines of its
/// input, normalized (so `cat /tmp/a1/x` and `cat /tmp/b2/y` group together). The category
/// is not used for commands (their error type is); it is `other`.
pub fn command_signature(tool: &str, input: &str) -> Signature {
    let template = input
        .lines()
        .filter(|l| !clean_line(l).is_empty())
        .take(2)
        .map(template_line)
        .collect::<Vec<_>>()
        .join(" ⏎ ");
    let tool = tool.trim().to_string();
    Signature {
        id: hash_id("command", Category::Other, &tool, &template),
        version: ALGORITHM_VERSION,
        category: Category::Other,
        job: tool,
        template,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_strips_ansi_timestamps_prefixes_and_runner_paths() {
        let raw = "2026-03-01T10:00:01.1234567Z ##[error]\x1b[31merror\x1b[0m: /home/runner/work/repo/repo/src/lib.rs:3:1 failed";
        assert_eq!(clean_line(raw), "error: src/lib.rs:3:1 failed");
        assert_eq!(clean_line("::error file=a.rs,line=3::boom"), "boom");
        assert_eq!(clean_line("D:\\a\\repo\\repo\\src\\x.rs"), "src\\x.rs");
        assert_eq!(clean_line("[12:00:01] hello"), "hello");
    }

    #[test]
    fn a_timestamped_github_error_line_is_a_failure() {
        let log = "2026-12-02T10:10:00.0000000Z > eslint web/\n\
                   2026-12-02T10:10:00.8440000Z   12:5  problem  'items' is unused\n\
                   2026-12-02T10:10:01.2660000Z ##[error]Process completed with exit code 1.\n";
        assert_eq!(
            error_lines(log, 3),
            vec!["Process completed with exit code 1.".to_string()]
        );
        assert!(ci_log_signature("lint", log).is_some());
        let clean =
            "2026-12-02T10:10:00.0000000Z > eslint web/\n2026-12-02T10:10:01.0000000Z done\n";
        assert!(ci_log_signature("lint", clean).is_none());
    }

    #[test]
    fn normalize_masks_variable_parts() {
        let cases = [
            ("cat /tmp/abc123/file.txt", "cat <path>"),
            ("src/main.rs:12:5", "<path>:<num>:<num>"),
            ("commit 3f2a9c1d4e5b6a7 failed", "commit <hex> failed"),
            ("id 123e4567-e89b-12d3-a456-426614174000", "id <uuid>"),
            ("took 12.5s and 300ms", "took <duration> and <duration>"),
            ("mail bob@example.com now", "mail <email> now"),
            ("GET https://api.github.com/x?y=1 503", "GET <url> <num>"),
            ("connect 10.0.0.12:8080 refused", "connect <ip> refused"),
            ("key=\"secret value\" other='x'", "key=<str> other=<str>"),
            (
                "at 2026-01-02T03:04:05Z and 12:00:01",
                "at <date> and <date>",
            ),
            ("crate v1.2.3 and 42 items", "crate <num> and <num> items"),
            (
                "error[E0425]: cannot find value",
                "error[E0425]: cannot find value",
            ),
            ("3/4 tests passed", "<num>/<num> tests passed"),
            ("ptr 0xdeadBEEF", "ptr <hex>"),
            ("word deadbeef stays", "word deadbeef stays"),
            ("resolve index.crates.io failed", "resolve <host> failed"),
            ("  a \t  b ", "a b"),
        ];
        for (input, want) in cases {
            assert_eq!(normalize(input), want, "input: {input}");
        }
    }

    #[test]
    fn categorize_catalog_order() {
        assert_eq!(
            categorize("error[E0425]: cannot find value `x`"),
            Category::RustCompile
        );
        assert_eq!(
            categorize("thread 'a' panicked at src/lib.rs:1:1"),
            Category::TestFailure
        );
        assert_eq!(
            categorize("The operation was canceled."),
            Category::Cancelled
        );
        assert_eq!(
            categorize("error: could not compile due to clippy::needless_return"),
            Category::Lint
        );
        assert_eq!(
            categorize("test foo has been running for over 60 seconds... timed out"),
            Category::Timeout
        );
        assert_eq!(
            categorize("fatal: Could not resolve host: github.com"),
            Category::Network
        );
        assert_eq!(categorize("something odd"), Category::Other);
        assert!(Category::Network.is_transient());
        assert!(!Category::TestFailure.is_transient());
    }

    const CARGO_TEST_LOG: &str = "\
2026-03-01T10:00:00.0000000Z running 3 tests
2026-03-01T10:00:01.0000000Z test tests::ok ... ok
2026-03-01T10:00:01.0000000Z test tests::broken ... FAILED
2026-03-01T10:00:01.0000000Z ---- tests::broken stdout ----
2026-03-01T10:00:01.0000000Z thread 'tests::broken' panicked at /home/runner/work/r/r/src/lib.rs:10:5:
2026-03-01T10:00:01.0000000Z assertion `left == right` failed
2026-03-01T10:00:02.0000000Z test result: FAILED. 2 passed; 1 failed; 0 ignored; finished in 0.52s
2026-03-01T10:00:02.0000000Z error: test failed, to rerun pass `--lib`
2026-03-01T10:00:02.0000000Z ##[error]Process completed with exit code 101.
";

    #[test]
    fn cargo_test_log_gets_test_ids() {
        let a = ci_log_signature("test", CARGO_TEST_LOG).unwrap();
        assert_eq!(a.signature.category, Category::TestFailure);
        assert_eq!(a.signature.template, "tests: tests::broken");
        assert_eq!(a.signature.job, "test");
        assert!(a.sample_lines[0].contains("FAILED"), "{:?}", a.sample_lines);
    }

    #[test]
    fn same_failure_different_noise_same_signature() {
        let other = CARGO_TEST_LOG
            .replace("2026-03-01T10", "2026-03-02T17")
            .replace("0.52s", "3.10s")
            .replace("/home/runner/work/r/r/", "/home/runner/work/x/x/");
        let a = ci_log_signature("test", CARGO_TEST_LOG).unwrap();
        let b = ci_log_signature("test", &other).unwrap();
        assert_eq!(a.signature, b.signature);
        // A different failing test or job is a different signature.
        let c = ci_log_signature("test", &CARGO_TEST_LOG.replace("broken", "other")).unwrap();
        assert_ne!(a.signature.id, c.signature.id);
        let d = ci_log_signature("test-macos", CARGO_TEST_LOG).unwrap();
        assert_ne!(a.signature.id, d.signature.id);
    }

    #[test]
    fn compile_log_template_masks_paths_and_numbers() {
        let log = "   Compiling foo v0.1.0 (/home/runner/work/foo/foo)\n\
error[E0425]: cannot find value `y` in this scope\n --> src/lib.rs:4:13\n\
error: could not compile `foo` (lib) due to 1 previous error\n\
##[error]Process completed with exit code 101.\n";
        let a = ci_log_signature("build", log).unwrap();
        assert_eq!(a.signature.category, Category::RustCompile);
        assert_eq!(
            a.signature.template,
            "error[E0425]: cannot find value `y` in this scope"
        );
    }

    #[test]
    fn generic_lines_only_when_nothing_else() {
        let a = ci_log_signature(
            "job",
            "step 1\n##[error]Process completed with exit code 2.\n",
        )
        .unwrap();
        assert_eq!(
            a.signature.template,
            "Process completed with exit code <num>."
        );
    }

    #[test]
    fn clean_log_has_no_signature() {
        assert!(ci_log_signature("job", "all good\ntest result: ok. 3 passed\n").is_none());
    }

    #[test]
    fn command_signatures_group_by_shape() {
        let a = command_signature("Bash", "cat /tmp/run-123/out.txt");
        let b = command_signature("Bash", "cat /var/tmp/other/out2.txt");
        assert_eq!(a.id, b.id);
        assert_eq!(a.template, "cat <path>");
        assert_ne!(a.id, command_signature("exec", "cat /tmp/x/y").id);
        assert_ne!(a.id, command_signature("Bash", "ls /tmp/x/y").id);
    }

    #[test]
    fn test_case_signature_uses_message_category() {
        let s = test_case_signature("unit", "pkg.Suite::test_x", "Timed out after 30s");
        assert_eq!(s.category, Category::Timeout);
        let t = test_case_signature("unit", "pkg.Suite::test_x", "expected 3 got 4");
        assert_eq!(t.category, Category::TestFailure);
        assert_eq!(t.template, "test: pkg.Suite::test_x");
    }
}
