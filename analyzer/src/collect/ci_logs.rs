//! The CI-log collector: failed CI jobs turned into failure signatures.
//!
//! Two feeds share one shape, [`CiLog`]: a local folder (`ci_logs_dir`, default
//! `.codex/ci-logs/`, for agents and CI systems without GitHub access) and GitHub Actions job
//! logs (fetched by the publisher). Every log goes through the one normalization algorithm in
//! [`crate::signature`]. JUnit XML files are read test case by test case.
//!
//! Local folder layout: `<dir>/<job>/<any>.log|.txt|.xml`, or `<dir>/<job-name>.log` (the
//! job is then the file name with dates and numbers masked). A log's time is its first
//! line-leading RFC 3339 timestamp (GitHub's log format), a JUnit suite's `timestamp`
//! attribute, or else the file's modification time.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDateTime, Utc};
use codex_contract::record::{format_ts, parse_ts};
use quick_xml::events::Event;
use serde::{Deserialize, Serialize};

use super::Window;
use crate::finding::sample;
use crate::signature::{self, Category, Signature};

/// Where a CI log came from.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum CiSource {
    Local,
    Github,
}

/// One failed (or possibly failed) CI job's log.
#[derive(Clone, Debug, PartialEq)]
pub struct CiLog {
    pub source: CiSource,
    /// The job name (`build`, `test (ubuntu-latest)`).
    pub job: String,
    /// Where the log is: a repo-relative file, or a GitHub job URL.
    pub name: String,
    pub text: String,
    /// When the job ran; `None` counts as inside every window.
    pub when: Option<DateTime<Utc>>,
    /// The source already knows the failure is infrastructure (a GitHub `cancelled`
    /// conclusion); categories can also make it transient.
    pub transient: bool,
}

/// One failure, counted under its signature.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct CiFailure {
    pub source: CiSource,
    pub job: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    pub signature: Signature,
    pub transient: bool,
    /// The failure's first error lines, cleaned and redacted.
    pub sample: String,
}

impl CiFailure {
    fn time(&self) -> Option<DateTime<Utc>> {
        self.when.as_deref().and_then(parse_ts)
    }
}

/// Turns a log into a failure; `None` when it shows no failure.
pub fn failure_from_log(log: &CiLog) -> Option<CiFailure> {
    let a = signature::ci_log_signature(&log.job, &log.text)?;
    let transient = log.transient || a.signature.category.is_transient();
    Some(CiFailure {
        source: log.source,
        job: log.job.clone(),
        name: log.name.clone(),
        when: log.when.map(format_ts),
        transient,
        sample: sample(&a.sample_lines.join(" | "), 400),
        signature: a.signature,
    })
}

/// The failed test cases of a JUnit XML report (`<failure>` and `<error>` children of
/// `<testcase>`; one failure per test case). `fallback_when` is used when the suite carries
/// no `timestamp`.
pub fn junit_failures(
    xml: &str,
    job: &str,
    name: &str,
    fallback_when: Option<DateTime<Utc>>,
) -> Result<Vec<CiFailure>, String> {
    /// Failure text kept per test case (only the first line is used).
    const MAX_MESSAGE: usize = 4096;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut out = Vec::new();
    let mut suite_when: Option<DateTime<Utc>> = None;
    // The open test case's ID and whether it already produced a failure.
    let mut case: Option<(String, bool)> = None;
    // The failure being read: its message attribute, body text so far, and type.
    let mut pending: Option<(String, String, String)> = None;
    let mut record = |id: &str, msg: &str, suite_when: Option<DateTime<Utc>>| {
        let sig = signature::test_case_signature(job, id, msg);
        let first = msg
            .lines()
            .map(signature::clean_line)
            .find(|l| !l.is_empty())
            .unwrap_or_default();
        out.push(CiFailure {
            source: CiSource::Local,
            job: job.to_string(),
            name: name.to_string(),
            when: suite_when.or(fallback_when).map(format_ts),
            transient: sig.category.is_transient(),
            sample: sample(&format!("{id}: {first}"), 400),
            signature: sig,
        });
    };
    loop {
        let ev = reader
            .read_event()
            .map_err(|e| format!("invalid XML near byte {}: {e}", reader.buffer_position()))?;
        match &ev {
            Event::Start(e) | Event::Empty(e) => {
                let empty = matches!(ev, Event::Empty(_));
                let attrs = attributes(e);
                match e.local_name().as_ref() {
                    b"testsuite" => {
                        if let Some(t) = attrs.get("timestamp").and_then(|t| parse_junit_ts(t)) {
                            suite_when = Some(t);
                        }
                    }
                    b"testcase" if !empty => {
                        let test = attrs.get("name").cloned().unwrap_or_default();
                        let id = match attrs.get("classname").filter(|c| !c.is_empty()) {
                            Some(c) => format!("{c}::{test}"),
                            None => test,
                        };
                        case = Some((id, false));
                    }
                    b"failure" | b"error" => {
                        if let Some((id, failed)) = case.as_mut().filter(|(_, f)| !f) {
                            let message = attrs.get("message").cloned().unwrap_or_default();
                            let kind = attrs.get("type").cloned().unwrap_or_default();
                            if empty {
                                record(id, &failure_text(&message, "", &kind), suite_when);
                                *failed = true;
                            } else {
                                pending = Some((message, String::new(), kind));
                            }
                        }
                    }
                    _ => {}
                }
            }
            Event::Text(t) => {
                if let (Some((_, body, _)), Ok(s)) = (pending.as_mut(), t.xml_content()) {
                    push_bounded(body, &s, MAX_MESSAGE);
                }
            }
            Event::CData(t) => {
                if let Some((_, body, _)) = pending.as_mut() {
                    push_bounded(body, &String::from_utf8_lossy(t), MAX_MESSAGE);
                }
            }
            Event::GeneralRef(r) => {
                if let Some((_, body, _)) = pending.as_mut() {
                    let resolved = match r.resolve_char_ref() {
                        Ok(Some(c)) => c.to_string(),
                        _ => r
                            .decode()
                            .ok()
                            .and_then(|n| quick_xml::escape::resolve_predefined_entity(&n))
                            .unwrap_or("")
                            .to_string(),
                    };
                    push_bounded(body, &resolved, MAX_MESSAGE);
                }
            }
            Event::End(e) => match e.local_name().as_ref() {
                b"testcase" => {
                    case = None;
                    pending = None;
                }
                b"failure" | b"error" => {
                    if let (Some((message, body, kind)), Some((id, failed))) =
                        (pending.take(), case.as_mut())
                    {
                        record(id, &failure_text(&message, &body, &kind), suite_when);
                        *failed = true;
                    }
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}

/// A failure's text: the `message` attribute, else the body, else the `type`.
fn failure_text(message: &str, body: &str, kind: &str) -> String {
    [message, body, kind]
        .into_iter()
        .find(|s| !s.trim().is_empty())
        .unwrap_or("")
        .to_string()
}

fn push_bounded(s: &mut String, more: &str, max: usize) {
    for ch in more.chars() {
        if s.len() + ch.len_utf8() > max {
            return;
        }
        s.push(ch);
    }
}

fn attributes(e: &quick_xml::events::BytesStart<'_>) -> BTreeMap<String, String> {
    e.attributes()
        .flatten()
        .filter_map(|a| {
            let key = String::from_utf8_lossy(a.key.local_name().as_ref()).into_owned();
            a.unescape_value().ok().map(|v| (key, v.into_owned()))
        })
        .collect()
}

/// JUnit timestamps are ISO 8601, usually without a zone (taken as UTC).
fn parse_junit_ts(s: &str) -> Option<DateTime<Utc>> {
    parse_ts(s).or_else(|| {
        NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M:%S%.f")
            .ok()
            .map(|n| n.and_utc())
    })
}

/// The first line-leading RFC 3339 timestamp in the first lines of a log.
pub fn first_timestamp(text: &str) -> Option<DateTime<Utc>> {
    text.lines().take(200).find_map(|l| {
        let l = l.trim_start().trim_start_matches('[');
        let end = l.find([' ', ']', '\t']).unwrap_or(l.len());
        let candidate = &l[..end];
        (candidate.len() >= 20 && candidate.as_bytes()[4] == b'-')
            .then(|| parse_ts(candidate))
            .flatten()
    })
}

/// What the local folder held.
#[derive(Serialize, Clone, Debug, Default, PartialEq)]
pub struct CiInput {
    /// The folder (repo-relative when inside the repository).
    pub dir: String,
    pub exists: bool,
    /// Files read (logs and JUnit reports).
    pub files: u64,
    /// Files that showed no failure.
    pub clean_files: u64,
    /// Files that could not be read or parsed, with the reason.
    pub problems: Vec<String>,
    /// Failures found (in any window; the metrics filter by window).
    #[serde(skip)]
    pub failures: Vec<CiFailure>,
}

/// Largest log read per file: the tail is kept (errors are at the end of a CI log).
const MAX_LOG_BYTES: u64 = 16 << 20;

/// Reads the local CI-log folder. A missing folder is empty, not an error.
pub fn read_dir(dir: &Path, display: String) -> CiInput {
    let mut input = CiInput {
        dir: display,
        ..CiInput::default()
    };
    if !dir.is_dir() {
        return input;
    }
    input.exists = true;
    let mut files = Vec::new();
    walk(dir, 0, &mut files, &mut input.problems);
    files.sort();
    for path in files {
        let rel = path.strip_prefix(dir).unwrap_or(&path);
        let rel_name = rel.to_string_lossy().replace('\\', "/");
        let job = match rel.components().count() {
            0 | 1 => stem_job(&path),
            _ => rel
                .components()
                .next()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .unwrap_or_default(),
        };
        let name = format!("{}/{}", input.dir.trim_end_matches('/'), rel_name);
        let text = match read_tail(&path) {
            Ok(t) => t,
            Err(e) => {
                input.problems.push(format!("{name}: {e}"));
                continue;
            }
        };
        input.files += 1;
        let mtime = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .ok()
            .map(DateTime::<Utc>::from);
        let is_xml = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("xml"));
        if is_xml {
            match junit_failures(&text, &job, &name, mtime) {
                Ok(f) if f.is_empty() => input.clean_files += 1,
                Ok(f) => input.failures.extend(f),
                Err(e) => input.problems.push(format!("{name}: {e}")),
            }
        } else {
            let log = CiLog {
                source: CiSource::Local,
                job,
                name,
                when: first_timestamp(&text).or(mtime),
                text,
                transient: false,
            };
            match failure_from_log(&log) {
                Some(f) => input.failures.push(f),
                None => input.clean_files += 1,
            }
        }
    }
    input
}

fn stem_job(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    signature::normalize_job(&stem)
}

fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>, problems: &mut Vec<String>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            problems.push(format!("{}: {e}", dir.display()));
            return;
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() && depth < 3 {
            walk(&path, depth + 1, out, problems);
        } else if kind.is_file() {
            let ext = path
                .extension()
                .map(|e| e.to_string_lossy().to_ascii_lowercase())
                .unwrap_or_default();
            if matches!(ext.as_str(), "log" | "txt" | "xml") {
                out.push(path);
            }
        }
    }
}

fn read_tail(path: &Path) -> std::io::Result<String> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(path)?;
    let len = f.metadata()?.len();
    if len > MAX_LOG_BYTES {
        f.seek(SeekFrom::Start(len - MAX_LOG_BYTES))?;
    }
    let mut buf = Vec::new();
    f.take(MAX_LOG_BYTES).read_to_end(&mut buf)?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// One signature's failures in a window.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct SignatureStats {
    pub id: String,
    pub version: u32,
    pub category: Category,
    pub job: String,
    /// The normalized template, redacted.
    pub template: String,
    pub transient: bool,
    pub count: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<String>,
    /// Where the failures were seen (file names, job URLs), sorted.
    pub logs: Vec<String>,
    pub samples: Vec<String>,
}

/// CI failures of one window.
#[derive(Serialize, Clone, Debug, Default, PartialEq)]
pub struct CiMetrics {
    pub window: Option<super::WindowInfo>,
    pub failures: u64,
    pub transient_failures: u64,
    pub per_category: BTreeMap<String, u64>,
    /// Signatures, most frequent first.
    pub signatures: Vec<SignatureStats>,
}

/// Counts the failures inside `window` per signature.
pub fn measure(failures: &[CiFailure], window: Window, samples: usize) -> CiMetrics {
    let mut m = CiMetrics {
        window: Some(window.info()),
        ..CiMetrics::default()
    };
    // Sorted input first, so samples do not depend on the order failures arrived in.
    let mut inside: Vec<&CiFailure> = failures
        .iter()
        .filter(|f| f.time().is_none_or(|t| window.contains(t)))
        .collect();
    inside.sort_by(|a, b| {
        (&a.when, &a.name, &a.sample, &a.signature.id).cmp(&(
            &b.when,
            &b.name,
            &b.sample,
            &b.signature.id,
        ))
    });
    let mut by_sig: BTreeMap<String, SignatureStats> = BTreeMap::new();
    let mut logs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in inside {
        m.failures += 1;
        if f.transient {
            m.transient_failures += 1;
        }
        *m.per_category
            .entry(f.signature.category.as_str().to_string())
            .or_default() += 1;
        let s = by_sig
            .entry(f.signature.id.clone())
            .or_insert_with(|| SignatureStats {
                id: f.signature.id.clone(),
                version: f.signature.version,
                category: f.signature.category,
                job: sample(&f.signature.job, 200),
                template: sample(&f.signature.template, 400),
                transient: false,
                count: 0,
                first_seen: f.when.clone(),
                last_seen: f.when.clone(),
                logs: Vec::new(),
                samples: Vec::new(),
            });
        s.count += 1;
        s.transient |= f.transient;
        if f.when.is_some() {
            s.first_seen = s.first_seen.clone().min(f.when.clone()).or(f.when.clone());
            s.last_seen = s.last_seen.clone().max(f.when.clone());
        }
        logs.entry(f.signature.id.clone())
            .or_default()
            .insert(f.name.clone());
        if s.samples.len() < samples && !s.samples.contains(&f.sample) {
            s.samples.push(f.sample.clone());
        }
    }
    let mut sigs: Vec<SignatureStats> = by_sig
        .into_iter()
        .map(|(id, mut s)| {
            s.logs = logs.remove(&id).unwrap_or_default().into_iter().collect();
            s
        })
        .collect();
    sigs.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.id.cmp(&b.id)));
    m.signatures = sigs;
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    const JUNIT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites>
  <testsuite name="unit" tests="4" failures="2" timestamp="2026-03-02T01:00:00">
    <testcase classname="pkg.A" name="passes" time="0.1"/>
    <testcase classname="pkg.A" name="fails" time="0.2">
      <failure message="expected 3 but was 4" type="AssertionError">trace &lt;here&gt;</failure>
      <error message="second problem"/>
    </testcase>
    <testcase classname="pkg.B" name="slow"><error type="Timeout"><![CDATA[Timed out after 30s]]></error></testcase>
    <testcase classname="pkg.B" name="skipped"><skipped/></testcase>
  </testsuite>
</testsuites>"#;

    #[test]
    fn junit_failed_cases_become_signatures() {
        let f = junit_failures(JUNIT, "unit", "ci/unit.xml", None).unwrap();
        assert_eq!(f.len(), 2, "{f:?}");
        assert_eq!(f[0].signature.template, "test: pkg.A::fails");
        assert_eq!(f[0].signature.category, Category::TestFailure);
        assert_eq!(f[0].sample, "pkg.A::fails: expected 3 but was 4");
        assert_eq!(f[0].when.as_deref(), Some("2026-03-02T01:00:00.000Z"));
        assert_eq!(f[1].signature.category, Category::Timeout);
        assert_eq!(f[1].sample, "pkg.B::slow: Timed out after 30s");
    }

    #[test]
    fn invalid_xml_is_a_problem_not_a_panic() {
        assert!(
            junit_failures("<testsuite><testcase name='a'></testsuite>", "j", "n", None).is_err()
        );
    }

    #[test]
    fn folder_of_logs_counts_signatures_in_window() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("test")).unwrap();
        let fail = |day: &str| {
            format!(
                "{day}T10:00:00.0000000Z running
{day}T10:00:01.0000000Z thread 'x::y' panicked at src/a.rs:{day}:1:
{day}T10:00:01.0000000Z ---- x::y stdout ----
"
            )
        };
        std::fs::write(d.join("test/run1.log"), fail("2026-03-02")).unwrap();
        std::fs::write(
            d.join("test/run2.log"),
            fail("2026-03-02").replace("T10", "T11"),
        )
        .unwrap();
        std::fs::write(d.join("test/old.log"), fail("2026-02-01")).unwrap();
        std::fs::write(
            d.join("build-2026-03-02.log"),
            "2026-03-02T09:00:00Z ok
all fine
",
        )
        .unwrap();
        std::fs::write(d.join("unit.xml"), JUNIT).unwrap();
        std::fs::write(d.join("broken.xml"), "<testsuite><testcase></testsuite>").unwrap();
        std::fs::write(d.join("notes.md"), "error: ignored").unwrap();
        let input = read_dir(d, ".codex/ci-logs".into());
        assert!(input.exists);
        assert_eq!(input.files, 6);
        assert_eq!(input.clean_files, 1);
        assert_eq!(input.problems.len(), 1, "{:?}", input.problems);
        assert!(input.problems[0].starts_with(".codex/ci-logs/broken.xml: "));
        let now = parse_ts("2026-03-02T13:10:00Z").unwrap();
        let m = measure(
            &input.failures,
            Window::ending_at(now, chrono::Duration::hours(24)),
            3,
        );
        assert_eq!(m.failures, 4);
        let top = &m.signatures[0];
        assert_eq!(top.count, 2);
        assert_eq!(top.job, "test");
        assert_eq!(top.template, "tests: x::y");
        assert_eq!(
            top.logs,
            [
                ".codex/ci-logs/test/run1.log",
                ".codex/ci-logs/test/run2.log"
            ]
        );
        assert_eq!(top.first_seen.as_deref(), Some("2026-03-02T10:00:00.000Z"));
        assert_eq!(top.last_seen.as_deref(), Some("2026-03-02T11:00:00.000Z"));
    }

    #[test]
    fn github_cancelled_hint_is_transient() {
        let log = CiLog {
            source: CiSource::Github,
            job: "build".into(),
            name: "https://github.com/o/r/actions/runs/1/job/2".into(),
            text: "##[error]Process completed with exit code 1.".into(),
            when: None,
            transient: true,
        };
        assert!(failure_from_log(&log).unwrap().transient);
    }

    #[test]
    fn first_timestamp_reads_github_prefix() {
        let t = first_timestamp("\n2026-03-02T10:00:00.1234567Z hello").unwrap();
        assert_eq!(format_ts(t), "2026-03-02T10:00:00.123Z");
        assert!(first_timestamp("no time here").is_none());
    }
}
