//! The incremental, atomic update: log → records → calls → sessions, signals, clusters; the
//! state → findings, runs, tickets. One transaction.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use codex_contract::fold::{Call, Folder};
use codex_contract::read::RecordReader;
use codex_contract::record::{format_ts, parse_ts, Excerpt, Phase, Record, Source, Status};
use codex_contract::resume::{complete_end, head_hash, invalidated};
use codex_contract::state::State;
use rusqlite::{params, Connection, OptionalExtension, Transaction};

use crate::{Store, StoreError};

/// A session's row and its signals, computed by the analyzer.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionRow {
    pub session_id: String,
    pub first_ts: Option<String>,
    pub last_ts: Option<String>,
    pub turns: u32,
    pub calls: u32,
    pub failures: u32,
    pub prompts: u32,
    pub ended: bool,
    pub failure_rate: f64,
    /// All friction events of the session.
    pub friction: u32,
    /// `(kind, signal, value)`: kind is `friction` or `delight`; zero values are left out.
    pub signals: Vec<(&'static str, String, i64)>,
}

/// One friction cluster, computed by the analyzer.
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterRow {
    pub cluster_id: String,
    pub tool: String,
    pub command_template: String,
    pub error_type: String,
    pub error_template: String,
    pub severity: f64,
    pub count: u32,
    pub sessions: u32,
    pub first_seen: String,
    pub last_seen: String,
    pub impact: f64,
    pub last_status: String,
    pub last_command: Option<String>,
    pub fixed_at: Option<String>,
}

/// What the analyzer derives from calls. Called inside the update's transaction.
pub trait Derive {
    /// Rows for the sessions of `calls` (all calls and session events of those sessions).
    fn sessions(&self, calls: &[Call], events: &[Record]) -> Vec<SessionRow>;
    /// Clusters over every call in the database.
    fn clusters(&self, calls: &[Call]) -> Vec<ClusterRow>;
}

/// How to update.
#[derive(Clone, Debug, Default)]
pub struct UpdateOptions {
    /// Drop every derived row and read the log from its start.
    pub rebuild: bool,
    /// Test hook: fail (and roll back) after this many new records.
    #[doc(hidden)]
    pub fail_after_records: Option<u64>,
}

/// What an update did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UpdateReport {
    /// Why the database was rebuilt from the start of the log, if it was.
    pub rebuilt: Option<String>,
    /// The log's byte range read.
    pub from_offset: u64,
    pub to_offset: u64,
    /// New records stored, and lines skipped as unreadable.
    pub records: u64,
    pub skipped: u64,
    /// Sessions (including the no-session bucket) re-folded.
    pub sessions_updated: usize,
    /// Rows after the update.
    pub calls: u64,
    pub sessions: u64,
    pub clusters: u64,
    pub findings: u64,
    pub runs: u64,
    pub tickets: u64,
}

pub(crate) fn meta(conn: &Connection, key: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()?)
}

fn set_meta(tx: &Transaction, key: &str, value: &str) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO meta(key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [key, value],
    )?;
    Ok(())
}

fn log_err(path: &Path) -> impl Fn(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Log {
        path: path.display().to_string(),
        source,
    }
}

/// The contract's string for an enum value (`"codex-hook"`, `"outcome"`, `"failed"`).
fn name<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

const DATA_TABLES: &[&str] = &[
    "meta", "records", "calls", "sessions", "signals", "clusters", "findings", "runs", "tickets",
];

impl Store {
    /// Brings the database up to date with the log at `log` and the analyzer's `state`.
    pub fn update(
        &mut self,
        log: &Path,
        state: Option<&State>,
        derive: &dyn Derive,
        opts: &UpdateOptions,
    ) -> Result<UpdateReport, StoreError> {
        let tx = self.conn.transaction()?;
        let mut report = UpdateReport::default();
        let mut file = File::open(log).map_err(log_err(log))?;
        let len = file.metadata().map_err(log_err(log))?.len();

        let mut offset: u64 = meta(&tx, "log_offset")?
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let stored_head = meta(&tx, "log_head_sha256")?;
        let rebuild = if opts.rebuild {
            Some("requested (--rebuild)".to_string())
        } else {
            invalidated(&mut file, offset, stored_head.as_deref()).map_err(log_err(log))?
        };
        if rebuild.is_some() {
            for t in DATA_TABLES {
                tx.execute(&format!("DELETE FROM {t}"), [])?;
            }
            offset = 0;
        }
        report.rebuilt = rebuild;
        report.from_offset = offset;
        let end = complete_end(&mut file, offset, len).map_err(log_err(log))?;
        report.to_offset = end;

        // Ingest: store each new record, fold them, note the sessions they touch.
        file.seek(SeekFrom::Start(offset)).map_err(log_err(log))?;
        let mut reader = RecordReader::new(BufReader::with_capacity(
            1 << 16,
            (&mut file).take(end - offset),
        ));
        let mut folder = Folder::new();
        let mut touched: BTreeSet<Option<String>> = BTreeSet::new();
        let mut events: Vec<Record> = Vec::new();
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO records(offset, ts, source, phase, session_id, call_id, event, json)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            while let Some(r) = reader.next() {
                if opts.fail_after_records == Some(report.records) {
                    return Err(StoreError::Injected(report.records));
                }
                let line = String::from_utf8_lossy(reader.last_line());
                insert.execute(params![
                    (offset + reader.last_offset()) as i64,
                    r.ts,
                    r.source.as_ref().map(name),
                    r.phase.as_ref().map(name),
                    r.session_id,
                    r.call_id,
                    r.event,
                    line,
                ])?;
                report.records += 1;
                if !touched.contains(&r.session_id) {
                    touched.insert(r.session_id.clone());
                }
                if r.phase == Some(Phase::Session) {
                    events.push(r);
                } else {
                    folder.push(r);
                }
            }
        }
        if let Some(e) = reader.error.take() {
            return Err(log_err(log)(e));
        }
        report.skipped = reader.stats().skipped;

        // Sessions that had records before this update are re-folded from all their records.
        let mut calls: Vec<Call> = Vec::new();
        let mut old: BTreeSet<Option<String>> = BTreeSet::new();
        {
            let mut exists = tx.prepare_cached(
                "SELECT EXISTS(SELECT 1 FROM records WHERE session_id IS ?1 AND offset < ?2)",
            )?;
            for s in &touched {
                if exists.query_row(params![s, offset as i64], |r| r.get::<_, bool>(0))? {
                    old.insert(s.clone());
                }
            }
        }
        calls.extend(
            folder
                .finish()
                .into_iter()
                .filter(|c| !old.contains(&c.session_id)),
        );
        events.retain(|e| !old.contains(&e.session_id));
        for s in &old {
            let (c, e) = refold(&tx, s.as_deref())?;
            calls.extend(c);
            events.extend(e);
        }
        report.sessions_updated = touched.len();

        if !touched.is_empty() || report.rebuilt.is_some() {
            write_sessions(&tx, &touched, &calls, &events, derive)?;
            drop(calls);
            let all = load_calls(&tx)?;
            write_clusters(&tx, &derive.clusters(&all))?;
        }
        write_state(&tx, state)?;

        set_meta(&tx, "log_path", &log.display().to_string())?;
        set_meta(&tx, "log_offset", &end.to_string())?;
        set_meta(
            &tx,
            "log_head_sha256",
            &head_hash(&mut file, end).map_err(log_err(log))?,
        )?;
        let skipped: u64 = meta(&tx, "log_skipped_lines")?
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        set_meta(
            &tx,
            "log_skipped_lines",
            &(skipped + report.skipped).to_string(),
        )?;
        let count = |t: &str| -> Result<u64, StoreError> {
            Ok(tx.query_row(&format!("SELECT count(*) FROM {t}"), [], |r| {
                r.get::<_, i64>(0)
            })? as u64)
        };
        report.calls = count("calls")?;
        report.sessions = count("sessions")?;
        report.clusters = count("clusters")?;
        report.findings = count("findings")?;
        report.runs = count("runs")?;
        report.tickets = count("tickets")?;
        tx.commit()?;
        Ok(report)
    }
}

/// Every call and session event of one session, folded from its stored records.
fn refold(tx: &Transaction, session: Option<&str>) -> Result<(Vec<Call>, Vec<Record>), StoreError> {
    let mut stmt =
        tx.prepare_cached("SELECT json FROM records WHERE session_id IS ?1 ORDER BY offset")?;
    let mut folder = Folder::new();
    let mut events = Vec::new();
    let mut rows = stmt.query([session])?;
    while let Some(row) = rows.next()? {
        let json: String = row.get(0)?;
        let Ok(r) = serde_json::from_str::<Record>(&json) else {
            continue;
        };
        if r.phase == Some(Phase::Session) {
            events.push(r);
        } else {
            folder.push(r);
        }
    }
    Ok((folder.finish(), events))
}

fn write_sessions(
    tx: &Transaction,
    touched: &BTreeSet<Option<String>>,
    calls: &[Call],
    events: &[Record],
    derive: &dyn Derive,
) -> Result<(), StoreError> {
    for s in touched {
        tx.execute("DELETE FROM calls WHERE session_id IS ?1", [s])?;
        tx.execute("DELETE FROM sessions WHERE session_id IS ?1", [s])?;
        tx.execute("DELETE FROM signals WHERE session_id IS ?1", [s])?;
    }
    let mut insert = tx.prepare_cached(
        "INSERT INTO calls(session_id, call_id, turn_id, tool, input, status, exit_code, signal,
            duration_ms, error_type, cwd, git_head, truncated, output, output_len, stderr,
            stderr_len, first_ts, last_ts, sources, records)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
            ?18, ?19, ?20, ?21)",
    )?;
    for c in calls {
        let sources: Vec<String> = c.sources.iter().map(name).collect();
        insert.execute(params![
            c.session_id,
            c.call_id,
            c.turn_id,
            c.tool,
            c.input,
            c.status.as_str(),
            c.exit_code,
            c.signal,
            c.duration_ms.map(|d| d as i64),
            c.error_type,
            c.cwd,
            c.git_head,
            c.truncated,
            c.output.as_ref().map(|e| &e.text),
            c.output.as_ref().map(|e| e.len as i64),
            c.stderr.as_ref().map(|e| &e.text),
            c.stderr.as_ref().map(|e| e.len as i64),
            format_ts(c.first_ts),
            format_ts(c.last_ts),
            sources.join(","),
            c.records,
        ])?;
    }
    let mut session = tx.prepare_cached(
        "INSERT INTO sessions(session_id, first_ts, last_ts, turns, calls, failures, prompts,
            ended, failure_rate, friction) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    let mut signal = tx.prepare_cached(
        "INSERT INTO signals(session_id, kind, signal, value) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for row in derive.sessions(calls, events) {
        session.execute(params![
            row.session_id,
            row.first_ts,
            row.last_ts,
            row.turns,
            row.calls,
            row.failures,
            row.prompts,
            row.ended,
            row.failure_rate,
            row.friction,
        ])?;
        for (kind, name, value) in &row.signals {
            signal.execute(params![row.session_id, kind, name, value])?;
        }
    }
    Ok(())
}

fn parse_enum<T: serde::de::DeserializeOwned>(s: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
}

fn excerpt(text: Option<String>, len: Option<i64>) -> Option<Excerpt> {
    text.map(|text| Excerpt {
        len: len.map_or(text.len() as u64, |l| l as u64),
        text,
    })
}

/// Every stored call, as the fold made it.
pub fn load_calls(conn: &Connection) -> Result<Vec<Call>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT session_id, call_id, turn_id, tool, input, status, exit_code, signal,
            duration_ms, error_type, cwd, git_head, truncated, output, output_len, stderr,
            stderr_len, first_ts, last_ts, sources, records
         FROM calls ORDER BY first_ts, session_id, call_id",
    )?;
    let epoch = chrono_epoch();
    let rows = stmt.query_map([], |r| {
        let status: String = r.get(5)?;
        let sources: String = r.get(19)?;
        let first: String = r.get(17)?;
        let last: String = r.get(18)?;
        Ok(Call {
            session_id: r.get(0)?,
            call_id: r.get(1)?,
            turn_id: r.get(2)?,
            tool: r.get(3)?,
            input: r.get(4)?,
            status: parse_enum(&status).unwrap_or(Status::Unknown),
            exit_code: r.get(6)?,
            signal: r.get(7)?,
            duration_ms: r.get::<_, Option<i64>>(8)?.map(|d| d as u64),
            error_type: r.get(9)?,
            cwd: r.get(10)?,
            git_head: r.get(11)?,
            truncated: r.get(12)?,
            output: excerpt(r.get(13)?, r.get(14)?),
            stderr: excerpt(r.get(15)?, r.get(16)?),
            first_ts: parse_ts(&first).unwrap_or(epoch),
            last_ts: parse_ts(&last).unwrap_or(epoch),
            sources: sources
                .split(',')
                .filter_map(parse_enum::<Source>)
                .collect(),
            records: r.get(20)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn chrono_epoch() -> codex_contract::chrono::DateTime<codex_contract::chrono::Utc> {
    codex_contract::chrono::DateTime::UNIX_EPOCH
}

fn write_clusters(tx: &Transaction, clusters: &[ClusterRow]) -> Result<(), StoreError> {
    tx.execute("DELETE FROM clusters", [])?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO clusters(cluster_id, tool, command_template, error_type, error_template,
            severity, count, sessions, first_seen, last_seen, impact, last_status, last_command,
            fixed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )?;
    for c in clusters {
        insert.execute(params![
            c.cluster_id,
            c.tool,
            c.command_template,
            c.error_type,
            c.error_template,
            c.severity,
            c.count,
            c.sessions,
            c.first_seen,
            c.last_seen,
            c.impact,
            c.last_status,
            c.last_command,
            c.fixed_at,
        ])?;
    }
    Ok(())
}

/// Findings, runs and tickets are small: replaced whole from the state on every update.
fn write_state(tx: &Transaction, state: Option<&State>) -> Result<(), StoreError> {
    for t in ["findings", "runs", "tickets"] {
        tx.execute(&format!("DELETE FROM {t}"), [])?;
    }
    let Some(state) = state else { return Ok(()) };
    let mut finding = tx.prepare_cached(
        "INSERT INTO findings(fingerprint, rule, subject, first_seen_run, last_seen_run,
            first_seen, last_seen, resolved_run, last_count, ticket)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    let mut ticket = tx.prepare_cached(
        "INSERT OR REPLACE INTO tickets(number, url, state, fingerprint, rule, baseline_run,
            baseline_count) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for (fp, f) in &state.findings {
        let last_count = f.counts.get(&f.last_seen_run).map(|n| *n as i64);
        finding.execute(params![
            fp,
            f.rule,
            f.subject,
            f.first_seen_run,
            f.last_seen_run,
            f.first_seen,
            f.last_seen,
            f.resolved_run,
            last_count,
            f.ticket.as_ref().map(|t| t.number as i64),
        ])?;
        if let Some(t) = &f.ticket {
            ticket.execute(params![
                t.number as i64,
                t.url,
                t.state,
                fp,
                f.rule,
                f.baseline.as_ref().map(|b| &b.run_id),
                f.baseline.as_ref().map(|b| b.count as i64),
            ])?;
        }
    }
    let mut run = tx.prepare_cached(
        "INSERT INTO runs(run_id, now, tool_calls, definite, failed, unknown, failure_rate,
            ci_failures, commits, findings) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    let mut runs: BTreeMap<&str, Option<&codex_contract::state::RunSummary>> = state
        .processed_runs
        .iter()
        .map(|id| (id.as_str(), None))
        .collect();
    for (id, r) in &state.runs {
        runs.insert(id, Some(r));
    }
    for (id, r) in runs {
        let m = r.map(|r| &r.metrics);
        run.execute(params![
            id,
            r.map(|r| &r.now),
            m.map(|m| m.tool_calls as i64),
            m.map(|m| m.definite as i64),
            m.map(|m| m.failed as i64),
            m.map(|m| m.unknown as i64),
            m.and_then(|m| m.failure_rate),
            m.map(|m| m.ci_failures as i64),
            m.map(|m| m.commits as i64),
            r.map(|r| r.findings.len() as i64),
        ])?;
    }
    Ok(())
}
