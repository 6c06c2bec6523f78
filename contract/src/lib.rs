//! The tool-call contract: the one place that owns every format the shim and the analyzer
//! share — records (schema v1), the fold that merges several observations of one call, the
//! locked append writer, the tolerant reader, redaction, error-type classification, run IDs
//! and log paths. Both binaries depend on this crate; it depends on neither.

pub mod append;
pub mod classify;
pub mod feedback;
pub mod fingerprint;
pub mod fold;
pub mod paths;
pub mod read;
pub mod record;
pub mod redact;
pub mod resume;
pub mod runid;
pub mod state;

pub use fold::{fold, Call, Folder};
pub use record::{Excerpt, Feedback, Phase, Record, Source, Status, SCHEMA_VERSION};

/// Re-exported so that users of the contract's timestamps need no chrono of their own.
pub use chrono;
