//! The tool-call collector: streams `.codex/toolcalls.ndjson` through the contract's
//! tolerant reader, keeps only the records of the rollup window, folds them into calls
//! (contract `fold`) and measures both windows.
//!
//! Memory follows the window, not the file: records outside the rollup are dropped as they
//! are read (a cheap timestamp-prefix comparison first, a full parse only at the edges), and
//! only the window's calls are held. Reader problems (malformed, truncated, non-UTF-8 lines)
//! are counted and reported, never fatal.
//!
//! Window membership: a record belongs to the rollup when its `ts` does; a folded call
//! belongs to the primary window when its first in-rollup observation does.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use chrono::{DateTime, Utc};
use codex_contract::read::{Problem, RecordReader};
use codex_contract::record::{format_ts, Phase, Record};
use codex_contract::{Call, Folder};
use serde::Serialize;

use super::Window;
use crate::finding::sample;
use crate::signature;

/// Tuning of the collector (from `[toolcalls]` and `[rules.tool_failure_rate]`).
#[derive(Clone, Debug)]
pub struct ToolCallOptions {
    /// A tool's failure rate is only judged with at least this many definite calls.
    pub min_samples: u64,
    /// How many failing command signatures are listed.
    pub top_commands: usize,
    /// How many redacted samples are kept per error type or command signature.
    pub samples: usize,
}

impl Default for ToolCallOptions {
    fn default() -> Self {
        ToolCallOptions {
            min_samples: 10,
            top_commands: 10,
            samples: 3,
        }
    }
}

/// What was read, and what could not be.
#[derive(Serialize, Clone, Debug, Default, PartialEq)]
pub struct LogInput {
    /// The log path as given (repo-relative when inside the repository).
    pub path: String,
    pub exists: bool,
    #[serde(flatten)]
    pub counts: SourceCounts,
    /// Further record sources merged into the analysis (e.g. `toolcalls.ndjson` files that
    /// CI agents uploaded as workflow artifacts); the fields above describe the local log.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extra_sources: Vec<SourceInput>,
}

/// What one extra record source held.
#[derive(Serialize, Clone, Debug, Default, PartialEq)]
pub struct SourceInput {
    /// Where the records came from (e.g. `artifact 17 (toolcalls-linux)/toolcalls.ndjson`).
    pub name: String,
    #[serde(flatten)]
    pub counts: SourceCounts,
}

/// What the reader made of one source (the local log or an extra one).
#[derive(Serialize, Clone, Debug, Default, PartialEq)]
pub struct SourceCounts {
    /// Lines seen, records parsed, lines skipped by the reader.
    pub lines: u64,
    pub records: u64,
    pub skipped: u64,
    /// Records whose `ts` does not parse (ignored).
    pub bad_timestamps: u64,
    /// Records inside the rollup window.
    pub in_window: u64,
    /// The first reader problems, with line numbers.
    pub problems: Vec<Problem>,
    /// An IO error that ended reading early (the records before it are used).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_error: Option<String>,
    /// The newest record's `ts`, inside the window or not: what an empty window is told
    /// about ("the newest record is from …; pass --now …").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub newest: Option<String>,
}

/// A source of records beside the local log: anything that reads as the contract's NDJSON
/// (a downloaded artifact, another agent's log). Records from every source are windowed and
/// folded together, so a call seen by two sources is still one call.
pub struct RecordSource {
    pub name: String,
    pub reader: Box<dyn Read>,
}

impl RecordSource {
    /// A source over bytes already in memory.
    pub fn from_bytes(name: impl Into<String>, bytes: Vec<u8>) -> RecordSource {
        RecordSource {
            name: name.into(),
            reader: Box::new(std::io::Cursor::new(bytes)),
        }
    }
}

/// Counts for one tool.
#[derive(Serialize, Clone, Debug, Default, PartialEq)]
pub struct ToolStats {
    pub calls: u64,
    pub definite: u64,
    pub failed: u64,
    pub unknown: u64,
    /// `failed / definite`; absent with no definite call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_rate: Option<f64>,
    /// Fewer definite calls than the sample floor: the rate is shown, not judged.
    pub below_floor: bool,
}

/// Occurrences of one error type.
#[derive(Serialize, Clone, Debug, Default, PartialEq)]
pub struct ErrorTypeStats {
    /// Failing calls plus session-level error events.
    pub count: u64,
    pub calls: u64,
    pub session_events: u64,
    pub first_seen: String,
    pub last_seen: String,
    /// Failing calls per tool.
    pub tools: BTreeMap<String, u64>,
    /// Redacted samples, earliest first.
    pub samples: Vec<String>,
}

/// One failing command shape.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct CommandStats {
    /// The command signature ID (see `signature`).
    pub signature: String,
    pub tool: String,
    /// The normalized command (paths, numbers, hashes masked), redacted.
    pub template: String,
    pub count: u64,
    pub error_types: BTreeMap<String, u64>,
    pub first_seen: String,
    pub last_seen: String,
    pub samples: Vec<String>,
}

/// Metrics of one window.
#[derive(Serialize, Clone, Debug, Default, PartialEq)]
pub struct ToolMetrics {
    pub window: Option<super::WindowInfo>,
    pub calls: u64,
    pub definite: u64,
    pub ok: u64,
    pub failed: u64,
    pub unknown: u64,
    pub sessions: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_rate: Option<f64>,
    /// Whether the overall rate has enough definite calls to be judged.
    pub below_floor: bool,
    pub statuses: BTreeMap<String, u64>,
    pub per_tool: BTreeMap<String, ToolStats>,
    pub error_types: BTreeMap<String, ErrorTypeStats>,
    pub top_failing_commands: Vec<CommandStats>,
}

/// Everything the collector produced.
#[derive(Serialize, Clone, Debug, Default)]
pub struct ToolCallActivity {
    pub input: LogInput,
    pub primary: ToolMetrics,
    pub rollup: ToolMetrics,
    /// The folded calls of the rollup window, for later stages (closed-loop signals).
    #[serde(skip)]
    pub calls: Vec<Call>,
    /// Session-level records (no `call_id`) of the rollup window.
    #[serde(skip)]
    pub session_events: Vec<Record>,
}

/// Label for calls whose tool is not named.
pub const UNKNOWN_TOOL: &str = "(unknown)";

/// Rounds a rate to 6 decimals so outputs do not carry float noise.
pub fn rate(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| ((num as f64 / den as f64) * 1e6).round() / 1e6)
}

/// Reads the log at `path` (missing = empty) and measures both windows. `progress` is
/// told how many bytes were read (a progress bar on a TTY, a no-op otherwise).
pub fn collect(
    path: &Path,
    display_path: String,
    primary: Window,
    rollup: Window,
    opts: &ToolCallOptions,
    progress: &dyn Fn(u64),
) -> ToolCallActivity {
    collect_with_sources(
        path,
        display_path,
        Vec::new(),
        primary,
        rollup,
        opts,
        progress,
    )
}

/// Records of the rollup window, as the reader loops gather them.
struct Gathered {
    filter: TsFilter,
    folder: Folder,
    session_events: Vec<Record>,
}

impl Gathered {
    /// Streams one source through the tolerant reader, keeping the rollup's records.
    fn read<R: Read>(&mut self, reader: R) -> SourceCounts {
        let mut counts = SourceCounts::default();
        let mut reader = RecordReader::new(BufReader::with_capacity(1 << 16, reader));
        let mut newest = Newest::default();
        for r in reader.by_ref() {
            newest.see(&r.ts);
            match self.filter.check(&r.ts) {
                TsCheck::Outside => continue,
                TsCheck::Inside => {}
                TsCheck::Unparsable => {
                    counts.bad_timestamps += 1;
                    continue;
                }
            }
            counts.in_window += 1;
            if r.call_id.is_some() {
                self.folder.push(r);
            } else if r.phase == Some(Phase::Session) || r.event.is_some() || r.error_type.is_some()
            {
                self.session_events.push(r);
            }
        }
        if let Some(e) = reader.error.take() {
            counts.read_error = Some(e.to_string());
        }
        let stats = reader.into_stats();
        counts.newest = newest.into_ts();
        counts.lines = stats.lines;
        counts.records = stats.records;
        counts.skipped = stats.skipped;
        counts.problems = stats.problems;
        counts
    }
}

/// [`collect`] plus `extra` record sources (see [`RecordSource`]): every source's records
/// of the rollup are folded together and measured as one log. `inputs` describes the local
/// log; each extra source is listed in [`LogInput::extra_sources`].
pub fn collect_with_sources(
    path: &Path,
    display_path: String,
    extra: Vec<RecordSource>,
    primary: Window,
    rollup: Window,
    opts: &ToolCallOptions,
    progress: &dyn Fn(u64),
) -> ToolCallActivity {
    let mut activity = ToolCallActivity {
        input: LogInput {
            path: display_path,
            ..LogInput::default()
        },
        ..ToolCallActivity::default()
    };
    let mut g = Gathered {
        filter: TsFilter::new(rollup),
        folder: Folder::new(),
        session_events: Vec::new(),
    };
    match File::open(path) {
        Ok(file) => {
            activity.input.exists = true;
            let counting = Counting {
                inner: file,
                read: 0,
                report: progress,
            };
            activity.input.counts = g.read(counting);
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => activity.input.counts.read_error = Some(format!("cannot open: {e}")),
    }
    for source in extra {
        let counts = g.read(source.reader);
        activity.input.extra_sources.push(SourceInput {
            name: source.name,
            counts,
        });
    }
    let Gathered {
        folder,
        mut session_events,
        ..
    } = g;
    session_events
        .sort_by(|a, b| (&a.ts, &a.session_id, &a.event).cmp(&(&b.ts, &b.session_id, &b.event)));
    let calls = folder.finish();
    let primary_calls: Vec<Call> = calls
        .iter()
        .filter(|c| primary.contains(c.first_ts))
        .cloned()
        .collect();
    let primary_events: Vec<Record> = session_events
        .iter()
        .filter(|r| r.time().is_some_and(|t| primary.contains(t)))
        .cloned()
        .collect();
    activity.primary = measure(&primary_calls, &primary_events, primary, opts);
    activity.rollup = measure(&calls, &session_events, rollup, opts);
    activity.calls = calls;
    activity.session_events = session_events;
    activity
}

/// A reader that reports how many bytes went through it.
struct Counting<'a, R> {
    inner: R,
    read: u64,
    report: &'a dyn Fn(u64),
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        (self.report)(self.read);
        Ok(n)
    }
}

enum TsCheck {
    Inside,
    Outside,
    Unparsable,
}

/// Window check on the raw `ts` string. The contract writes UTC with a `Z`; for such strings
/// the first 19 bytes (`YYYY-MM-DDTHH:MM:SS`) compare like the instants they name, so most
/// records are decided without parsing a date. Records at the window's edge seconds and
/// records with offsets get a full RFC 3339 parse.
struct TsFilter {
    window: Window,
    start19: String,
    end19: String,
}

impl TsFilter {
    fn new(window: Window) -> TsFilter {
        let start19 = format_ts(window.start)[..19].to_string();
        let end19 = format_ts(window.end)[..19].to_string();
        TsFilter {
            window,
            start19,
            end19,
        }
    }

    fn check(&self, ts: &str) -> TsCheck {
        let b = ts.as_bytes();
        if b.len() >= 20 && b[10] == b'T' && b[b.len() - 1] == b'Z' && ts.is_char_boundary(19) {
            let head = &ts[..19];
            if head < self.start19.as_str() || head > self.end19.as_str() {
                // Still make sure it is a date at all, cheaply: digits where digits go.
                if has_ts_shape(b) {
                    return TsCheck::Outside;
                }
            } else if head > self.start19.as_str() && head < self.end19.as_str() {
                // Strictly inside the window's seconds: inside if it parses.
                return match codex_contract::record::parse_ts(ts) {
                    Some(_) => TsCheck::Inside,
                    None => TsCheck::Unparsable,
                };
            }
        }
        match codex_contract::record::parse_ts(ts) {
            Some(t) if self.window.contains(t) => TsCheck::Inside,
            Some(_) => TsCheck::Outside,
            None => TsCheck::Unparsable,
        }
    }
}

/// The newest timestamp of a stream. Contract timestamps (`…Z`, milliseconds) order as
/// strings, so the common case is a string comparison; anything else is parsed.
#[derive(Default)]
struct Newest {
    /// The newest contract-format timestamp seen.
    text: Option<String>,
    /// The newest of the others, parsed.
    parsed: Option<DateTime<Utc>>,
}

impl Newest {
    fn see(&mut self, ts: &str) {
        let b = ts.as_bytes();
        if b.len() == 24 && b[19] == b'.' && b[23] == b'Z' && has_ts_shape(b) {
            if self.text.as_deref().is_none_or(|t| ts > t) {
                self.text = Some(ts.to_string());
            }
        } else if let Some(t) = codex_contract::record::parse_ts(ts) {
            self.parsed = self.parsed.max(Some(t));
        }
    }

    fn into_ts(self) -> Option<String> {
        let text = self
            .text
            .as_deref()
            .and_then(codex_contract::record::parse_ts);
        text.max(self.parsed).map(format_ts)
    }
}

/// `YYYY-MM-DDTHH:MM:SS` in the first 19 bytes.
fn has_ts_shape(b: &[u8]) -> bool {
    b.len() >= 19
        && b[..19].iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            _ => c.is_ascii_digit(),
        })
}

/// The line of a call's output that best says what went wrong: the first error-looking line
/// of stderr, then of the output, else the last non-empty line.
fn error_excerpt(call: &Call) -> Option<String> {
    let texts: Vec<&str> = [call.stderr.as_ref(), call.output.as_ref()]
        .into_iter()
        .flatten()
        .map(|e| e.text.as_str())
        .collect();
    let lines = signature::error_lines(&texts.join("\n"), 1);
    if let Some(l) = lines.into_iter().next() {
        return Some(l);
    }
    for t in &texts {
        if let Some(l) = t
            .lines()
            .map(signature::clean_line)
            .rfind(|l| !l.is_empty())
        {
            return Some(l);
        }
    }
    None
}

/// A call as one redacted evidence line.
fn call_sample(call: &Call) -> String {
    let tool = call.tool.as_deref().unwrap_or(UNKNOWN_TOOL);
    let input = call
        .input
        .as_deref()
        .and_then(|i| i.lines().find(|l| !l.trim().is_empty()))
        .unwrap_or("")
        .trim();
    let mut s = format!("{tool}: {}", sample(input, 160));
    if let Some(code) = call.exit_code {
        s.push_str(&format!(" (exit {code})"));
    }
    if let Some(e) = error_excerpt(call) {
        s.push_str(" → ");
        s.push_str(&sample(&e, 200));
    }
    sample(&s, 400)
}

fn tool_name(call: &Call) -> &str {
    call.tool.as_deref().unwrap_or(UNKNOWN_TOOL)
}

/// Measures one window's calls and session events.
pub fn measure(
    calls: &[Call],
    session_events: &[Record],
    window: Window,
    opts: &ToolCallOptions,
) -> ToolMetrics {
    let mut m = ToolMetrics {
        window: Some(window.info()),
        ..ToolMetrics::default()
    };
    let mut sessions = BTreeSet::new();
    let mut commands: BTreeMap<String, CommandStats> = BTreeMap::new();
    for c in calls {
        m.calls += 1;
        *m.statuses.entry(c.status.as_str().to_string()).or_default() += 1;
        if let Some(s) = &c.session_id {
            sessions.insert(s.as_str());
        }
        let tool = m.per_tool.entry(tool_name(c).to_string()).or_default();
        tool.calls += 1;
        if c.status.is_definite() {
            m.definite += 1;
            tool.definite += 1;
        } else {
            m.unknown += 1;
            tool.unknown += 1;
        }
        if c.status.is_failure() {
            m.failed += 1;
            tool.failed += 1;
        } else if c.status == codex_contract::Status::Ok {
            m.ok += 1;
        }
        let counted_error = c.status != codex_contract::Status::Ok;
        if let (true, Some(et)) = (counted_error, c.error_type.as_deref()) {
            let ts = format_ts(c.first_ts);
            let e = m
                .error_types
                .entry(et.to_string())
                .or_insert_with(|| ErrorTypeStats {
                    first_seen: ts.clone(),
                    last_seen: ts.clone(),
                    ..ErrorTypeStats::default()
                });
            e.count += 1;
            e.calls += 1;
            e.first_seen = e.first_seen.clone().min(ts.clone());
            e.last_seen = e.last_seen.clone().max(format_ts(c.last_ts));
            *e.tools.entry(tool_name(c).to_string()).or_default() += 1;
            if e.samples.len() < opts.samples {
                e.samples.push(call_sample(c));
            }
        }
        if c.status.is_failure() {
            let input = c.input.as_deref().unwrap_or("");
            let sig = signature::command_signature(tool_name(c), input);
            let ts = format_ts(c.first_ts);
            let cmd = commands
                .entry(sig.id.clone())
                .or_insert_with(|| CommandStats {
                    signature: sig.id.clone(),
                    tool: sig.job.clone(),
                    template: sample(&sig.template, 240),
                    count: 0,
                    error_types: BTreeMap::new(),
                    first_seen: ts.clone(),
                    last_seen: ts.clone(),
                    samples: Vec::new(),
                });
            cmd.count += 1;
            cmd.first_seen = cmd.first_seen.clone().min(ts);
            cmd.last_seen = cmd.last_seen.clone().max(format_ts(c.last_ts));
            let et = c.error_type.as_deref().unwrap_or("unclassified");
            *cmd.error_types.entry(et.to_string()).or_default() += 1;
            if cmd.samples.len() < opts.samples {
                cmd.samples.push(call_sample(c));
            }
        }
    }
    for r in session_events {
        let Some(et) = r.error_type.as_deref() else {
            continue;
        };
        let ts = r.time().map(format_ts).unwrap_or_else(|| r.ts.clone());
        let e = m
            .error_types
            .entry(et.to_string())
            .or_insert_with(|| ErrorTypeStats {
                first_seen: ts.clone(),
                last_seen: ts.clone(),
                ..ErrorTypeStats::default()
            });
        e.count += 1;
        e.session_events += 1;
        e.first_seen = e.first_seen.clone().min(ts.clone());
        e.last_seen = e.last_seen.clone().max(ts);
        if e.samples.len() < opts.samples {
            let what = r.event.as_deref().unwrap_or("session event");
            let why = r.reason.as_deref().unwrap_or("");
            e.samples.push(sample(&format!("{what}: {why}"), 400));
        }
    }
    m.sessions = sessions.len() as u64;
    m.failure_rate = rate(m.failed, m.definite);
    m.below_floor = m.definite < opts.min_samples;
    for t in m.per_tool.values_mut() {
        t.failure_rate = rate(t.failed, t.definite);
        t.below_floor = t.definite < opts.min_samples;
    }
    let mut top: Vec<CommandStats> = commands.into_values().collect();
    top.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.tool.cmp(&b.tool))
            .then_with(|| a.template.cmp(&b.template))
            .then_with(|| a.signature.cmp(&b.signature))
    });
    top.truncate(opts.top_commands);
    m.top_failing_commands = top;
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};
    use codex_contract::record::{parse_ts, Excerpt, Source, Status};
    use std::io::Write;

    fn t(s: &str) -> DateTime<Utc> {
        parse_ts(s).unwrap()
    }

    fn outcome(ts: &str, call: &str, tool: &str, status: Status, input: &str, out: &str) -> Record {
        let mut r = Record::at(t(ts), Source::Exec, Phase::Outcome);
        r.session_id = Some("s1".into());
        r.call_id = Some(call.into());
        r.tool = Some(tool.into());
        r.input = Some(input.into());
        r.status = Some(status);
        r.exit_code = Some(if status == Status::Ok { 0 } else { 1 });
        r.output = Some(Excerpt::new(out, 1000));
        r
    }

    fn write_log(records: &[Record], extra: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        for r in records {
            writeln!(f, "{}", serde_json::to_string(r).unwrap()).unwrap();
        }
        f.write_all(extra.as_bytes()).unwrap();
        f
    }

    fn windows() -> (Window, Window) {
        let now = t("2026-03-02T13:10:00Z");
        (
            Window::ending_at(now, chrono::Duration::hours(12)),
            Window::ending_at(now, chrono::Duration::hours(24)),
        )
    }

    #[test]
    fn windows_rates_error_types_and_commands() {
        let recs = vec![
            // Outside the rollup: ignored.
            outcome(
                "2026-03-01T12:00:00Z",
                "old",
                "Bash",
                Status::Failed,
                "ls /a",
                "No such file or directory",
            ),
            // Rollup only (before the primary window).
            outcome(
                "2026-03-01T20:00:00Z",
                "r1",
                "Bash",
                Status::Failed,
                "cat /tmp/a1/x.txt",
                "cat: /tmp/a1/x.txt: No such file or directory",
            ),
            // Primary.
            outcome(
                "2026-03-02T02:00:00Z",
                "p1",
                "Bash",
                Status::Failed,
                "cat /tmp/b2/y.txt",
                "cat: /tmp/b2/y.txt: No such file or directory",
            ),
            outcome(
                "2026-03-02T03:00:00Z",
                "p2",
                "Bash",
                Status::Ok,
                "ls",
                "a b",
            ),
            outcome(
                "2026-03-02T04:00:00Z",
                "p3",
                "apply_patch",
                Status::Ok,
                "*** Begin Patch",
                "",
            ),
            // Future relative to --now: ignored.
            outcome(
                "2026-03-02T14:00:00Z",
                "future",
                "Bash",
                Status::Failed,
                "x",
                "boom",
            ),
        ];
        let f = write_log(&recs, "{broken\n");
        let (p, r) = windows();
        let a = collect(
            f.path(),
            "log".into(),
            p,
            r,
            &ToolCallOptions::default(),
            &|_| {},
        );
        assert_eq!(a.input.counts.records, 6);
        assert_eq!(a.input.counts.skipped, 1);
        assert_eq!(a.input.counts.in_window, 4);
        assert_eq!(a.rollup.calls, 4);
        assert_eq!(a.primary.calls, 3);
        assert_eq!(a.primary.failed, 1);
        assert_eq!(a.primary.failure_rate, Some(0.333333));
        assert_eq!(a.rollup.error_types["file_not_found"].count, 2);
        assert_eq!(a.primary.error_types["file_not_found"].count, 1);
        let cmd = &a.rollup.top_failing_commands[0];
        assert_eq!(cmd.template, "cat <path>");
        assert_eq!(cmd.count, 2);
        assert!(a.rollup.below_floor);
        assert_eq!(a.rollup.per_tool["Bash"].failed, 2);
        assert_eq!(a.rollup.per_tool["apply_patch"].failure_rate, Some(0.0));
        let s = &a.rollup.error_types["file_not_found"].samples[0];
        assert!(s.starts_with("Bash: cat /tmp/a1/x.txt (exit 1) → "), "{s}");
    }

    #[test]
    fn missing_log_is_empty_not_an_error() {
        let (p, r) = windows();
        let a = collect(
            Path::new("/nonexistent/x.ndjson"),
            "x".into(),
            p,
            r,
            &ToolCallOptions::default(),
            &|_| {},
        );
        assert!(!a.input.exists);
        assert_eq!(a.rollup.calls, 0);
        assert_eq!(a.rollup.failure_rate, None);
    }

    #[test]
    fn ts_filter_agrees_with_full_parse() {
        let (_, r) = windows();
        let f = TsFilter::new(r);
        let cases = [
            ("2026-03-01T13:10:00.000Z", true),
            ("2026-03-01T13:09:59.999Z", false),
            ("2026-03-01T13:10:00Z", true),
            ("2026-03-02T13:09:59.999Z", true),
            ("2026-03-02T13:10:00.000Z", false),
            ("2026-03-02T06:10:00-07:00", false),
            ("2026-03-02T05:10:00-07:00", true),
            ("2026-03-02T05:10:00.5+00:00", true),
            ("2025-01-01T00:00:00Z", false),
            ("2027-01-01T00:00:00Z", false),
        ];
        for (ts, inside) in cases {
            let got = matches!(f.check(ts), TsCheck::Inside);
            assert_eq!(got, inside, "{ts}");
            assert_eq!(r.contains(parse_ts(ts).unwrap()), inside, "{ts}");
        }
        assert!(matches!(f.check("yesterday"), TsCheck::Unparsable));
        assert!(matches!(
            f.check("2026-03-02TXX:00:00.000Z"),
            TsCheck::Unparsable
        ));
    }

    #[test]
    fn session_error_events_count_as_error_types() {
        let mut ev = Record::at(t("2026-03-02T05:00:00Z"), Source::Rollout, Phase::Session);
        ev.session_id = Some("s1".into());
        ev.event = Some("context_window_exceeded".into());
        ev.error_type = Some("context_window_exceeded".into());
        let f = write_log(&[ev.clone(), ev], "");
        let (p, r) = windows();
        let a = collect(
            f.path(),
            "log".into(),
            p,
            r,
            &ToolCallOptions::default(),
            &|_| {},
        );
        let e = &a.rollup.error_types["context_window_exceeded"];
        assert_eq!((e.count, e.session_events, e.calls), (2, 2, 0));
        assert_eq!(a.session_events.len(), 2);
    }
}
