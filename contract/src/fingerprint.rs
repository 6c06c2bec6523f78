//! Finding fingerprints: the one identity a finding keeps across runs, in the state file, in
//! ticket markers and in Harbor task provenance.
//!
//! A fingerprint is `sha256("codex-finding", version, rule, normalized subject)`, the first
//! [`FINGERPRINT_HEX_LEN`] hex digits. It depends on nothing else — not on counts, sample
//! order, run time or input order — so a recurring problem maps to the same ticket run after
//! run. The version is part of the hash: a change to how subjects are normalized bumps
//! [`FINGERPRINT_VERSION`] instead of silently re-splitting old findings.

use sha2::{Digest, Sha256};

/// The fingerprint algorithm version, hashed into every fingerprint.
pub const FINGERPRINT_VERSION: u32 = 1;

/// Hex digits kept (64 bits: collisions are negligible for the few thousand findings a
/// repository accumulates, and the value stays short enough to read in a table).
pub const FINGERPRINT_HEX_LEN: usize = 16;

/// Normalizes a finding subject: trimmed, inner whitespace collapsed to one space, path
/// separators unified to `/`. Case is kept: `Bash` and `bash` are different tools.
pub fn normalize_subject(subject: &str) -> String {
    let unified = subject.replace('\\', "/");
    unified.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The fingerprint of a finding of `rule` about `subject`.
pub fn fingerprint(rule: &str, subject: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"codex-finding\0");
    h.update(FINGERPRINT_VERSION.to_string().as_bytes());
    h.update(b"\0");
    h.update(rule.trim().as_bytes());
    h.update(b"\0");
    h.update(normalize_subject(subject).as_bytes());
    let digest = h.finalize();
    let mut out = String::with_capacity(FINGERPRINT_HEX_LEN);
    for b in digest.iter().take(FINGERPRINT_HEX_LEN / 2) {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// Whether `s` has the shape of a fingerprint (used to validate markers read back).
pub fn is_fingerprint(s: &str) -> bool {
    s.len() == FINGERPRINT_HEX_LEN && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_and_shaped() {
        let a = fingerprint("error_type_repeat", "file_not_found");
        assert!(is_fingerprint(&a), "{a}");
        assert_eq!(a, fingerprint("error_type_repeat", "  file_not_found "));
        // Pinned: a change here re-keys every ticket, so it must be a deliberate version bump.
        assert_eq!(a, "6983df2ed6fbc456");
        assert_ne!(a, fingerprint("error_type_repeat", "timeout"));
        assert_ne!(a, fingerprint("ci_signature_repeat", "file_not_found"));
    }

    #[test]
    fn subject_normalization() {
        assert_eq!(normalize_subject("src\\a.rs"), "src/a.rs");
        assert_eq!(normalize_subject(" a \t b\n"), "a b");
        assert_eq!(
            fingerprint("file_hotspot", "src\\lib.rs"),
            fingerprint("file_hotspot", "src/lib.rs")
        );
    }

    #[test]
    fn rule_and_subject_cannot_be_confused() {
        // The separator keeps ("ab", "c") and ("a", "bc") apart.
        assert_ne!(fingerprint("ab", "c"), fingerprint("a", "bc"));
    }
}
