//! Streaming redaction in constant memory (`codex-shim redact`).
//!
//! The input is read into a fixed buffer. Each round searches the whole buffer but only emits
//! a middle part of it:
//!
//! ```text
//! [ context (already emitted) | emit ........................ | look-ahead ]
//!  ^ 0                         ^ emit_from                      ^ cut        ^ n
//! ```
//!
//! - the look-ahead (≥ [`MAX_REACH`]) guarantees that any match starting before `cut` ends
//!   inside the buffer, so it is found whole; a span that still crosses `cut` moves `cut` to
//!   its end;
//! - the context (the tail of what was emitted) gives matches that start after the previous
//!   cut their left context (`API_KEY=` before a value, `curl` before `-u`);
//! - the next round keeps `[cut - CONTEXT, n)` and reads more behind it.
//!
//! So secrets are found across read boundaries, inside very long lines (no newline needed),
//! and PEM blocks up to `pem::MAX_BLOCK` long, with memory bounded by [`BUFFER`].

use std::io::{self, Read, Write};

use super::engine::{self, Span, MAX_REACH};

/// Bytes held in memory at once.
const BUFFER: usize = 1 << 20;
/// Bytes kept before the emit region as left context.
const CONTEXT: usize = 8 * 1024;
/// Bytes kept after the emit region so matches near its end are seen whole.
const LOOK_AHEAD: usize = MAX_REACH;

const _: () = assert!(BUFFER > 4 * (CONTEXT + LOOK_AHEAD));

/// What [`redact_stream`](super::redact_stream) did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamStats {
    /// Bytes read from the input.
    pub bytes_in: u64,
    /// Bytes written to the output.
    pub bytes_out: u64,
    /// Secrets replaced.
    pub redactions: u64,
}

pub(crate) fn redact_stream<R: Read, W: Write>(mut r: R, mut w: W) -> io::Result<StreamStats> {
    let mut stats = StreamStats::default();
    // Allocated once at full size; `len` says how much of it holds input.
    let mut buf = vec![0u8; BUFFER];
    let mut len = 0usize;
    let mut out: Vec<u8> = Vec::new();
    let mut spans: Vec<Span> = Vec::new();
    let mut labels: Vec<(usize, usize)> = Vec::new();
    let mut emit_from = 0usize;
    let mut eof = false;
    loop {
        while len < BUFFER && !eof {
            match r.read(&mut buf[len..]) {
                Ok(0) => eof = true,
                Ok(k) => {
                    len += k;
                    stats.bytes_in += k as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        let hay = &buf[..len];
        let mut cut = if eof { len } else { len - LOOK_AHEAD };
        engine::find_spans(hay, &mut spans, false);
        for s in &spans {
            if s.start < cut && s.end > cut {
                cut = s.end;
            }
        }
        let emitted = emit_from..cut;
        if spans
            .iter()
            .all(|s| s.end <= emitted.start || s.start >= emitted.end)
        {
            // Nothing to replace in this round (the common case): no copy.
            w.write_all(&hay[emitted.clone()])?;
            stats.bytes_out += emitted.len() as u64;
        } else {
            out.clear();
            labels.clear();
            let mut last = emit_from;
            for s in &spans {
                if s.end <= emit_from || s.start >= cut {
                    continue;
                }
                let start = s.start.max(emit_from);
                out.extend_from_slice(&hay[last..start]);
                s.write_label(&mut out, &mut labels);
                last = s.end;
                stats.redactions += 1;
            }
            out.extend_from_slice(&hay[last..cut]);
            // Later passes, as `redact_bytes` does (see there), on what this round emits.
            let (settled, more) = super::settle(std::mem::take(&mut out), &labels, &mut spans);
            out = settled;
            stats.redactions += more as u64;
            w.write_all(&out)?;
            stats.bytes_out += out.len() as u64;
        }
        if eof {
            break;
        }
        let keep_from = cut.saturating_sub(CONTEXT);
        buf.copy_within(keep_from..len, 0);
        len -= keep_from;
        emit_from = cut - keep_from;
    }
    w.flush()?;
    Ok(stats)
}
