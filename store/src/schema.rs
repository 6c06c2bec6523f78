//! The database schema, its version, and the check that refuses a newer one.
//!
//! `PRAGMA user_version` holds [`SCHEMA_VERSION`]. A database written by a newer version of
//! this tool is refused rather than half-understood: it is a derived view, so the remedy is
//! to upgrade, or to rebuild it from the log into another file.

use rusqlite::Connection;

use crate::StoreError;

/// The schema version in `PRAGMA user_version`. Bump it when a table or column changes
/// meaning; add a migration from the previous version in [`prepare`].
pub const SCHEMA_VERSION: i64 = 1;

/// The tables and indexes of version 1. Times are RFC 3339 UTC text (sortable, and what
/// SQLite's date functions read); outcomes and error types are the contract's strings.
pub const SCHEMA: &str = r#"
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
-- Every record of the log, as written, keyed by the byte offset of its line.
CREATE TABLE records (
    offset     INTEGER PRIMARY KEY,
    ts         TEXT NOT NULL,
    source     TEXT,
    phase      TEXT,
    session_id TEXT,
    call_id    TEXT,
    event      TEXT,
    json       TEXT NOT NULL
);
CREATE INDEX records_session ON records(session_id, offset);
CREATE INDEX records_event ON records(event, ts) WHERE event IS NOT NULL;
-- One row per tool call, folded from its records (docs/record-schema.md, "The fold").
CREATE TABLE calls (
    session_id  TEXT,
    call_id     TEXT NOT NULL,
    turn_id     TEXT,
    tool        TEXT,
    input       TEXT,
    status      TEXT NOT NULL,
    exit_code   INTEGER,
    signal      INTEGER,
    duration_ms INTEGER,
    error_type  TEXT,
    cwd         TEXT,
    git_head    TEXT,
    truncated   INTEGER,
    output      TEXT,
    output_len  INTEGER,
    stderr      TEXT,
    stderr_len  INTEGER,
    first_ts    TEXT NOT NULL,
    last_ts     TEXT NOT NULL,
    sources     TEXT NOT NULL,
    records     INTEGER NOT NULL
);
CREATE UNIQUE INDEX calls_key ON calls(session_id, call_id);
CREATE INDEX calls_time ON calls(first_ts);
CREATE INDEX calls_failures ON calls(error_type, first_ts) WHERE error_type IS NOT NULL;
CREATE INDEX calls_tool ON calls(tool, status);
CREATE INDEX calls_head ON calls(git_head);
-- One row per session: the closed loop's per-session signals (docs/closed-loop.md).
CREATE TABLE sessions (
    session_id   TEXT PRIMARY KEY,
    first_ts     TEXT,
    last_ts      TEXT,
    turns        INTEGER NOT NULL,
    calls        INTEGER NOT NULL,
    failures     INTEGER NOT NULL,
    prompts      INTEGER NOT NULL,
    ended        INTEGER NOT NULL,
    failure_rate REAL NOT NULL,
    friction     INTEGER NOT NULL
);
CREATE INDEX sessions_time ON sessions(first_ts);
-- Friction and delight signals per session, one row per non-zero signal.
CREATE TABLE signals (
    session_id TEXT NOT NULL,
    kind       TEXT NOT NULL,
    signal     TEXT NOT NULL,
    value      INTEGER NOT NULL,
    PRIMARY KEY (session_id, signal)
);
CREATE INDEX signals_signal ON signals(signal, value);
-- Friction clusters over the whole log (docs/closed-loop.md).
CREATE TABLE clusters (
    cluster_id       TEXT PRIMARY KEY,
    tool             TEXT NOT NULL,
    command_template TEXT NOT NULL,
    error_type       TEXT NOT NULL,
    error_template   TEXT NOT NULL,
    severity         REAL NOT NULL,
    count            INTEGER NOT NULL,
    sessions         INTEGER NOT NULL,
    first_seen       TEXT NOT NULL,
    last_seen        TEXT NOT NULL,
    impact           REAL NOT NULL,
    last_status      TEXT NOT NULL,
    last_command     TEXT,
    fixed_at         TEXT
);
CREATE INDEX clusters_impact ON clusters(impact DESC);
-- From .codex/improvement-state.json: findings by fingerprint, runs, tickets.
CREATE TABLE findings (
    fingerprint    TEXT PRIMARY KEY,
    rule           TEXT NOT NULL,
    subject        TEXT NOT NULL,
    first_seen_run TEXT NOT NULL,
    last_seen_run  TEXT NOT NULL,
    first_seen     TEXT,
    last_seen      TEXT,
    resolved_run   TEXT,
    last_count     INTEGER,
    ticket         INTEGER
);
CREATE INDEX findings_rule ON findings(rule);
CREATE TABLE runs (
    run_id       TEXT PRIMARY KEY,
    now          TEXT,
    tool_calls   INTEGER,
    definite     INTEGER,
    failed       INTEGER,
    unknown      INTEGER,
    failure_rate REAL,
    ci_failures  INTEGER,
    commits      INTEGER,
    findings     INTEGER
);
CREATE TABLE tickets (
    number         INTEGER PRIMARY KEY,
    url            TEXT NOT NULL,
    state          TEXT,
    fingerprint    TEXT NOT NULL,
    rule           TEXT NOT NULL,
    baseline_run   TEXT,
    baseline_count INTEGER
);
"#;

/// Creates the schema in an empty database, accepts the current version, refuses a newer.
pub(crate) fn prepare(conn: &Connection, path: &str) -> Result<(), StoreError> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::Newer {
            path: path.to_string(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    if found == SCHEMA_VERSION {
        return Ok(());
    }
    let tables: i64 = conn.query_row(
        "SELECT count(*) FROM sqlite_schema WHERE type = 'table'",
        [],
        |r| r.get(0),
    )?;
    if tables > 0 {
        return Err(StoreError::Foreign {
            path: path.to_string(),
        });
    }
    conn.execute_batch(&format!(
        "BEGIN; {SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
    ))?;
    Ok(())
}
