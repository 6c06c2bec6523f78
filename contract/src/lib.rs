//! The tool-call contract: the one place that owns every format the shim and the analyzer
//! share. Records (schema v1), the fold that merges several observations of one call, the
//! locked append writer, the tolerant reader, redaction, error-type classification, run IDs,
//! log paths and the analyzer's state file.

pub mod redact;
