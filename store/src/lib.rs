//! The SQLite view of the tool-call log and the analyzer's state.
//!
//! The NDJSON log stays the contract and the source of truth; this database is derived from
//! it and can always be rebuilt. It exists so people can ask ad-hoc questions in SQL
//! (`docs/store.md` has examples) without learning the log's format.
//!
//! An update is incremental and atomic: it reads the log from where the last update stopped
//! (a byte cursor in `meta`, checked against a hash of the log's head so a rotated or
//! rewritten log triggers a rebuild), re-folds only the sessions that got new records, and
//! writes everything in one transaction. A killed or failed update leaves the database as
//! it was. Rebuilding from scratch gives the same rows as any sequence of updates.
//!
//! What the analyzer computes (signals per session, friction clusters) comes in through
//! [`Derive`], so this crate depends on the contract only.

mod schema;
mod update;

use std::path::Path;

use rusqlite::Connection;

pub use schema::{SCHEMA, SCHEMA_VERSION};
pub use update::{load_calls, ClusterRow, Derive, SessionRow, UpdateOptions, UpdateReport};

/// What can go wrong with the database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "{path} has schema version {found}, newer than this codex-analyzer understands \
         ({supported}); upgrade codex-analyzer, or build a fresh database from the log with \
         `codex-analyzer db --out OTHER.sqlite` (the database is derived, nothing is lost)"
    )]
    Newer {
        path: String,
        found: i64,
        supported: i64,
    },
    #[error(
        "{path} is an SQLite database this tool did not create (it has tables but no schema \
         version); choose another --out path"
    )]
    Foreign { path: String },
    #[error("cannot read the log {path}: {source}")]
    Log {
        path: String,
        source: std::io::Error,
    },
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("injected failure after {0} records (test hook)")]
    Injected(u64),
}

/// An open database.
pub struct Store {
    conn: Connection,
    path: String,
}

impl Store {
    /// Opens (or creates) the database at `path`, creating the schema in a new file and
    /// refusing a newer schema.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let conn = Connection::open(path)?;
        // A second writer (another scheduled run) waits instead of failing at once.
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        let display = path.display().to_string();
        schema::prepare(&conn, &display)?;
        Ok(Store {
            conn,
            path: display,
        })
    }

    /// The connection, for queries.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// The path the store was opened at.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// A `meta` value (`log_offset`, `log_path`, ...).
    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        update::meta(&self.conn, key)
    }
}
