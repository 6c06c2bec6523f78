//! PEM private-key blocks (`-----BEGIN [RSA|EC|OPENSSH|ENCRYPTED|PGP ...] PRIVATE KEY[ BLOCK]-----`
//! ... `-----END ... -----`), found by hand rather than by regex: a bounded multi-line regex
//! would be large to compile and slow to run, and the block has to be handled even when the
//! footer is missing (an output excerpt cut in the middle of a key).
//!
//! - With a footer within [`MAX_BLOCK`] bytes of the header: header to footer is one span,
//!   whatever sits between (newlines, JSON `\n` escapes, spaces).
//! - Without one (truncated): header plus the base64 body that follows it. The body is read
//!   as tokens of base64 separated by whitespace or `\n` escapes; PEM lines all have the
//!   width of the first one except the last, so a shorter token ends the body. Over-redacting
//!   a little text after a truncated key is preferred to leaking key material.

use memchr::memmem;

/// Longest block searched for a footer (an RSA-16384 key is ~12 KiB).
pub(crate) const MAX_BLOCK: usize = 64 * 1024;

/// Pushes `(start, end)` of every private-key block in `hay`; stops after the first when
/// `first_only`.
pub(crate) fn find_blocks(hay: &[u8], out: &mut Vec<(usize, usize)>, first_only: bool) {
    let finder = memmem::Finder::new(b"PRIVATE KEY");
    let mut at = 0;
    while let Some(i) = finder.find(&hay[at..]).map(|i| i + at) {
        at = i + 1;
        let Some((begin, header_end)) = header_around(hay, i) else {
            continue;
        };
        let limit = hay.len().min(header_end + MAX_BLOCK);
        let end = match next_marker(hay, header_end, limit) {
            Some(j) => match footer_at(hay, j) {
                Some(footer_end) => footer_end,
                None => body_end(hay, header_end, j),
            },
            None => body_end(hay, header_end, limit),
        };
        out.push((begin, end));
        if first_only {
            return;
        }
        at = at.max(end);
    }
}

fn is_label_byte(b: u8) -> bool {
    b.is_ascii_uppercase() || b.is_ascii_digit() || b == b' ' || b == b'_' || b == b'-'
}

/// Given `PRIVATE KEY` at `i`, the header `-----BEGIN <label>PRIVATE KEY[ BLOCK]-----` around
/// it as (start, end).
fn header_around(hay: &[u8], i: usize) -> Option<(usize, usize)> {
    let lb = i.saturating_sub(64);
    let begin = lb + memmem::rfind(&hay[lb..i], b"-----BEGIN")?;
    if !hay[begin + 10..i].iter().all(|&b| is_label_byte(b)) {
        return None;
    }
    let end = label_tail(hay, i + b"PRIVATE KEY".len())?;
    Some((begin, end))
}

/// After `PRIVATE KEY`: optional ` BLOCK`, then `-----`; returns the end.
fn label_tail(hay: &[u8], mut pos: usize) -> Option<usize> {
    if hay[pos..].starts_with(b" BLOCK") {
        pos += 6;
    }
    hay[pos..].starts_with(b"-----").then_some(pos + 5)
}

/// The next `-----` (start of a footer, or of another block's header) in `hay[from..limit]`.
fn next_marker(hay: &[u8], from: usize, limit: usize) -> Option<usize> {
    memmem::find(&hay[from..limit], b"-----").map(|j| j + from)
}

/// `-----END <label>PRIVATE KEY[ BLOCK]-----` at `j`: its end.
fn footer_at(hay: &[u8], j: usize) -> Option<usize> {
    let rest = &hay[j..];
    if !rest.starts_with(b"-----END") {
        return None;
    }
    let search = &rest[..rest.len().min(8 + 64)];
    let k = memmem::find(&search[8..], b"PRIVATE KEY")? + 8;
    if !search[8..k].iter().all(|&b| is_label_byte(b)) {
        return None;
    }
    label_tail(hay, j + k + b"PRIVATE KEY".len())
}

fn is_b64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'='
}

/// Length of the separator at `pos`: ASCII whitespace, or a `\n` / `\r` escape as found in
/// JSON strings. 0 when there is none.
fn separator_len(hay: &[u8], pos: usize, limit: usize) -> usize {
    match hay.get(pos) {
        Some(b' ' | b'\t' | b'\r' | b'\n') if pos < limit => 1,
        Some(b'\\') if pos + 1 < limit && matches!(hay[pos + 1], b'n' | b'r') => 2,
        _ => 0,
    }
}

/// End of the base64 body of a block whose footer is missing, see the module docs.
fn body_end(hay: &[u8], start: usize, limit: usize) -> usize {
    let mut pos = start;
    let mut end = start;
    let mut width: Option<usize> = None;
    loop {
        // Separators.
        loop {
            let n = separator_len(hay, pos, limit);
            if n == 0 {
                break;
            }
            pos += n;
        }
        if pos >= limit {
            return end;
        }
        // Armor headers (`Proc-Type: 4,ENCRYPTED`, `DEK-Info: ...`, `Comment: ...`) come
        // before the body; skip such lines whole.
        if width.is_none() && is_armor_header(&hay[pos..limit]) {
            let line_end = memchr::memchr(b'\n', &hay[pos..limit]).map_or(limit, |k| pos + k);
            pos = line_end;
            end = line_end;
            continue;
        }
        let tok_end = pos + hay[pos..limit].iter().take_while(|&&b| is_b64(b)).count();
        if tok_end == pos {
            return end;
        }
        let len = tok_end - pos;
        end = tok_end;
        pos = tok_end;
        // A token glued to something else (a closing quote) ends the block.
        if pos < limit && separator_len(hay, pos, limit) == 0 {
            return end;
        }
        match width {
            None => width = Some(len),
            Some(w) if len < w => return end,
            Some(_) => {}
        }
    }
}

/// `Name-Part: value` at the start of `s`.
fn is_armor_header(s: &[u8]) -> bool {
    let name_len = s
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-')
        .count();
    name_len > 0 && s.get(name_len) == Some(&b':')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(s: &str) -> Vec<(usize, usize)> {
        let mut v = Vec::new();
        find_blocks(s.as_bytes(), &mut v, false);
        v
    }

    const BODY: &str = "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n\
                        VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n\
                        LxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW/VDL5AaWTg0nLVkjRo\n\
                        9z+tvvWXWcFN7dw=";

    #[test]
    fn full_block() {
        let s =
            format!("x\n-----BEGIN RSA PRIVATE KEY-----\n{BODY}\n-----END RSA PRIVATE KEY-----\ny");
        let v = spans(&s);
        assert_eq!(v.len(), 1);
        assert_eq!(&s[v[0].0..v[0].1], &s[2..s.len() - 2]);
    }

    #[test]
    fn truncated_block_takes_the_body() {
        let s = format!("-----BEGIN OPENSSH PRIVATE KEY-----\n{}", &BODY[..100]);
        let v = spans(&s);
        assert_eq!(v, vec![(0, s.len())]);
    }

    #[test]
    fn truncated_block_stops_after_short_line() {
        let s = format!("-----BEGIN PRIVATE KEY-----\n{BODY}\nnext line of output\n");
        let v = spans(&s);
        assert_eq!(&s[v[0].0..v[0].1], &s[..s.find("\nnext").unwrap()]);
    }

    #[test]
    fn json_escaped_block() {
        let body = BODY.replace('\n', "\\n");
        let s = format!(
            r#"{{"private_key": "-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n", "x": 1}}"#
        );
        let v = spans(&s);
        assert_eq!(v.len(), 1);
        assert!(s[v[0].1..].starts_with("\\n\", \"x\""));
    }

    #[test]
    fn public_keys_and_certificates_are_not_blocks() {
        assert!(spans("-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----").is_empty());
        assert!(spans("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----").is_empty());
        assert!(spans("keep your PRIVATE KEY safe").is_empty());
    }
}
