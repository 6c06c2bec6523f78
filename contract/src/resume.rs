//! Resuming a read of the log where an earlier one stopped: what derived stores and
//! exporters keep between runs is a byte offset and a hash of the log's head, so that a log
//! that was rotated or rewritten is noticed and read again from its start.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

use sha2::{Digest, Sha256};

/// How many bytes of the log's head a resume point is checked against.
pub const HEAD_BYTES: u64 = 4096;

/// SHA-256 (hex) of the first `min(end, HEAD_BYTES)` bytes of `file`.
pub fn head_hash(file: &mut File, end: u64) -> io::Result<String> {
    let mut buf = vec![0u8; end.min(HEAD_BYTES) as usize];
    file.seek(SeekFrom::Start(0))?;
    file.read_exact(&mut buf)?;
    Ok(format!("{:x}", Sha256::digest(&buf)))
}

/// The end of the last complete line in `[from, len)`: a line still being written (no
/// newline yet) is left for the next read.
pub fn complete_end(file: &mut File, from: u64, len: u64) -> io::Result<u64> {
    let mut end = len;
    let mut buf = vec![0u8; 64 * 1024];
    while end > from {
        let start = end.saturating_sub(buf.len() as u64).max(from);
        let chunk = &mut buf[..(end - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(chunk)?;
        if let Some(i) = chunk.iter().rposition(|&b| b == b'\n') {
            return Ok(start + i as u64 + 1);
        }
        end = start;
    }
    Ok(from)
}

/// Why reading cannot resume at `offset` (recorded with `head`), or `None` when it can.
pub fn invalidated(file: &mut File, offset: u64, head: Option<&str>) -> io::Result<Option<String>> {
    let len = file.metadata()?.len();
    if offset > len {
        return Ok(Some(format!(
            "the log is shorter ({len} bytes) than the resume point ({offset}): rotated or rewritten"
        )));
    }
    if offset > 0 && head != Some(head_hash(file, offset)?.as_str()) {
        return Ok(Some(
            "the log's first bytes changed: rotated or rewritten".into(),
        ));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn complete_lines_and_rewrites() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log");
        std::fs::write(&p, "one\ntwo\nthr").unwrap();
        let mut f = File::open(&p).unwrap();
        assert_eq!(complete_end(&mut f, 0, 11).unwrap(), 8);
        assert_eq!(complete_end(&mut f, 8, 11).unwrap(), 8);
        let h = head_hash(&mut f, 8).unwrap();
        assert_eq!(invalidated(&mut f, 8, Some(&h)).unwrap(), None);
        std::fs::OpenOptions::new()
            .append(true)
            .open(&p)
            .unwrap()
            .write_all(b"ee\n")
            .unwrap();
        assert_eq!(invalidated(&mut f, 8, Some(&h)).unwrap(), None);
        std::fs::write(&p, "ONE\ntwo\n").unwrap();
        assert!(invalidated(&mut f, 8, Some(&h))
            .unwrap()
            .unwrap()
            .contains("first bytes"));
        std::fs::write(&p, "o\n").unwrap();
        assert!(invalidated(&mut f, 8, Some(&h))
            .unwrap()
            .unwrap()
            .contains("shorter"));
    }
}
