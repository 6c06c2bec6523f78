//! `codex-shim redact`: the contract's redactor as a streaming filter from stdin to stdout.
//!
//! Useful on its own (scrub a CI log before uploading it, an env dump before pasting it) and
//! as proof that the redaction the shim applies to every record is the same one users can
//! run. Memory stays constant whatever the input size; bytes that are not UTF-8 pass through.

use std::io::{self, Write};

/// Runs the filter; returns the exit code (0, or 1 when reading or writing failed).
pub fn run(stats: bool) -> i32 {
    let stdin = io::stdin().lock();
    let mut stdout = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let result = codex_contract::redact::redact_stream(stdin, &mut stdout)
        .and_then(|s| stdout.flush().map(|()| s));
    match result {
        Ok(s) => {
            if stats {
                eprintln!(
                    "codex-shim redact: {} bytes in, {} bytes out, {} secrets redacted",
                    s.bytes_in, s.bytes_out, s.redactions
                );
            }
            0
        }
        // A closed pipe downstream (`| head`) is the reader's choice, not an error.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            eprintln!("codex-shim redact: {e}");
            1
        }
    }
}
