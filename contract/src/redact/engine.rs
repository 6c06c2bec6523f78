//! The matching engine: a keyword prefilter (its tables computed at compile time, see
//! `keywords`), then each family's regexes compiled lazily (the first time one of its
//! keywords is seen) and run only on the line around each keyword hit.
//!
//! Why this shape: the shim starts on every tool call, and compiling one regex costs ~0.2 ms,
//! so compiling all families up front would dominate its start-up. Clean text (the common
//! case) must also be fast: it costs one SIMD keyword scan and nothing else.
//!
//! The prefilter is two packed (Teddy) searchers from aho-corasick:
//! - keywords of 4+ bytes, matched case-insensitively by lower-casing the input in 4 KiB
//!   stack chunks (aho-corasick's own case-insensitive mode turns its SIMD prefilter off,
//!   which measured 3x slower);
//! - a handful of exact 3-byte keywords (`xox`, `sk-`, `hf_`, `SG.`, `://`) on the raw bytes,
//!   kept apart because one short pattern among many slows the SIMD scan for all of them.
//!
//! Every keyword start position is reported (the scan restarts one byte after each hit), so
//! overlapping keywords (`sshpass` / `pass=`) are all seen.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use aho_corasick::{packed, AhoCorasick, Input, MatchKind};
use regex::bytes::{CaptureLocations, Regex, RegexBuilder};

use super::checks::{self, Caps};
use super::families::{Matcher, Near, Scope, FAMILIES};
use super::keywords::{fold, Entry, Group, Keyword, Table, LONG_GROUPS, MAX_PATTERNS, TABLE};
use super::pem;

/// A byte range to replace with `[REDACTED:<family id>]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Span {
    pub start: usize,
    pub end: usize,
    pub family: u16,
}

impl Span {
    pub(crate) fn id(&self) -> &'static str {
        FAMILIES[self.family as usize].id
    }

    /// Appends this span's `[REDACTED:<id>]` to `out`, and where it was written to `labels`.
    pub(crate) fn write_label(&self, out: &mut Vec<u8>, labels: &mut Vec<(usize, usize)>) {
        let at = out.len();
        out.extend_from_slice(b"[REDACTED:");
        out.extend_from_slice(self.id().as_bytes());
        out.push(b']');
        labels.push((at, out.len()));
    }
}

/// Bytes of left context a line window keeps before a keyword when the line is longer.
const WINDOW_LEFT: usize = 1024;
/// Bytes of right context a line window keeps after a keyword when the line is longer.
const WINDOW_RIGHT: usize = 16 * 1024;
/// A later hit inside a clipped window is only "covered" if the window still extends this far
/// around it; otherwise the family runs again on a window around the new hit.
const MARGIN_LEFT: usize = 256;
const MARGIN_RIGHT: usize = 4 * 1024;
/// The longest stretch a match can need beyond a keyword: the stream redactor keeps at least
/// this much look-ahead and context around the bytes it emits.
pub(crate) const MAX_REACH: usize = WINDOW_RIGHT + pem::MAX_BLOCK + 1024;

/// Lower-casing chunk for the case-insensitive scan.
const CHUNK: usize = 4096;
/// Finds the keywords of one group, leftmost first. No keyword is a prefix of another (a
/// test holds the tables to it), so at most one matches at any position.
///
/// Two ways, with the same answers (tested): a direct scan, with the candidates indexed by
/// first byte, and a SIMD searcher built on first need. Building the searcher costs about as
/// much as scanning 16 KiB directly (~80 µs), while it then scans ~10x faster; and the shim's
/// commonest text is one short command line in a process that lives about a millisecond.
/// [`Prefilter::direct`] picks, per text.
struct Finder {
    group: &'static Group,
    fast: OnceLock<Fast>,
}

enum Fast {
    Teddy(packed::Searcher),
    Ac(AhoCorasick),
}

/// Texts up to this length may be scanned directly (see [`Prefilter::direct`]).
const DIRECT_SCAN_MAX: usize = 1024;
/// Bytes a process scans directly before it builds the SIMD searchers: about what one build
/// costs. Measured with 103 long keywords (release build, a timing loop on clean build output,
/// 2-core VM): a clean KiB takes 10-16 µs directly and ~0.8 µs with the searchers, whose build
/// costs 80-90 µs, paid once per process. (With 31 families it was 5.3 µs, 0.56 µs and a
/// 16 KiB budget.)
const DIRECT_SCAN_BUDGET: usize = 8 * 1024;

impl Finder {
    const fn new(group: &'static Group) -> Finder {
        Finder {
            group,
            fast: OnceLock::new(),
        }
    }

    fn patterns(&self) -> &'static [Keyword] {
        TABLE.keywords(self.group)
    }

    fn fast(&self) -> &Fast {
        self.fast.get_or_init(|| {
            let patterns = self.patterns().iter().map(Keyword::as_bytes);
            if let Some(s) = packed::Config::new()
                .builder()
                .extend(patterns.clone())
                .build()
            {
                return Fast::Teddy(s);
            }
            // No SIMD Teddy on this CPU: a leftmost-first automaton gives the same answers.
            let ac = AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostFirst)
                .build(patterns)
                .expect("redaction keywords are plain literals");
            Fast::Ac(ac)
        })
    }

    /// First keyword match starting at or after `at`: (start, pattern index).
    #[inline]
    fn find(&self, hay: &[u8], at: usize, direct: bool) -> Option<(usize, usize)> {
        if direct {
            return self.find_direct(hay, at);
        }
        self.find_fast(hay, at)
    }

    fn find_direct(&self, hay: &[u8], at: usize) -> Option<(usize, usize)> {
        let patterns = self.patterns();
        (at..hay.len()).find_map(|i| {
            let rest = &hay[i..];
            TABLE
                .candidates(self.group, rest[0])
                .iter()
                .map(|&p| p as usize)
                .find(|&p| {
                    // Keywords have 3+ bytes: the second byte rules out most candidates
                    // without a call to memcmp.
                    let k = patterns[p].as_bytes();
                    rest.len() >= k.len() && rest[1] == k[1] && rest.starts_with(k)
                })
                .map(|p| (i, p))
        })
    }

    fn find_fast(&self, hay: &[u8], at: usize) -> Option<(usize, usize)> {
        match self.fast() {
            Fast::Teddy(s) => s
                .find_in(
                    hay,
                    aho_corasick::Span {
                        start: at,
                        end: hay.len(),
                    },
                )
                .map(|m| (m.start(), m.pattern().as_usize())),
            Fast::Ac(ac) => ac
                .find(Input::new(hay).span(at..hay.len()))
                .map(|m| (m.start(), m.pattern().as_usize())),
        }
    }
}

/// The run-time half of the prefilter: what is built on first need.
struct Prefilter {
    /// The folded keywords, in groups of at most 64 (Teddy's limit): each group is one more
    /// SIMD pass over the folded chunk, so keywords are added sparingly. Only the first
    /// `TABLE.long_groups().len()` are used.
    long: [Finder; LONG_GROUPS],
    short: Finder,
    /// Each pattern's regex, compiled on first use.
    regexes: [OnceLock<Regex>; MAX_PATTERNS],
    /// What is left of [`DIRECT_SCAN_BUDGET`].
    direct_left: AtomicUsize,
}

impl Prefilter {
    const fn new(table: &'static Table) -> Prefilter {
        const _: () = assert!(LONG_GROUPS == 2, "one finder per long group");
        Prefilter {
            long: [
                Finder::new(table.long_group(0)),
                Finder::new(table.long_group(1)),
            ],
            short: Finder::new(table.short_group()),
            regexes: [const { OnceLock::new() }; MAX_PATTERNS],
            direct_left: AtomicUsize::new(DIRECT_SCAN_BUDGET),
        }
    }

    /// The long-keyword finders in use.
    fn long(&self) -> &[Finder] {
        &self.long[..TABLE.long_groups().len()]
    }

    /// Pattern `pi`'s regex (`src`), compiled on first use.
    fn regex(&self, pi: usize, src: &str) -> &Regex {
        self.regexes[pi].get_or_init(|| {
            RegexBuilder::new(src)
                .unicode(false)
                .multi_line(true)
                .build()
                .unwrap_or_else(|e| {
                    let (_, family) = TABLE.pattern(pi);
                    panic!(
                        "a redaction pattern of {} does not compile: {e}",
                        FAMILIES[family as usize].id
                    )
                })
        })
    }

    /// Whether to scan a text of `len` bytes directly: while it is short and the process has
    /// scanned less than [`DIRECT_SCAN_BUDGET`] that way. The rent-or-buy rule: a process
    /// that redacts one command line never pays for the searchers, and one that redacts many
    /// short texts pays at most about twice what building them at once would have cost.
    fn direct(&self, len: usize) -> bool {
        if len > DIRECT_SCAN_MAX {
            return false;
        }
        let taken = self
            .direct_left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                left.checked_sub(len)
            });
        if taken.is_err() {
            // Spent: the searchers are about to be built, so every later text uses them.
            self.direct_left.store(0, Ordering::Relaxed);
        }
        taken.is_ok()
    }
}

/// Authorization schemes: after one of these the header value is not itself the secret.
const HEADER_SCHEMES: [&[u8]; 6] = [
    b"bearer",
    b"basic",
    b"token",
    b"bot",
    b"digest",
    b"negotiate",
];

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// Whether the shape `near` holds around the keyword at `pos..pos + len` (see [`Near`]).
/// Looks at most a few hundred bytes around the hit.
fn near_holds(near: Near, hay: &[u8], pos: usize, len: usize) -> bool {
    // From the keyword's start: a keyword may end in a non-identifier byte (`ass=`).
    let ident_end = || {
        let lim = hay.len().min(pos + len + 256);
        pos + hay[pos..lim].iter().take_while(|&&b| is_ident(b)).count()
    };
    let ident_start = || {
        let lim = pos.saturating_sub(256);
        pos - hay[lim..pos]
            .iter()
            .rev()
            .take_while(|&&b| is_ident(b))
            .count()
    };
    let blanks = |mut i: usize| {
        while i < hay.len() && matches!(hay[i], b' ' | b'\t') {
            i += 1;
        }
        i
    };
    match near {
        Near::Any => true,
        Near::Assignment | Near::AssignedValue | Near::Header(_) | Near::RawHeader => {
            let mut i = ident_end();
            if matches!(hay.get(i), Some(b'"' | b'\'')) {
                i += 1;
            }
            i = blanks(i);
            if !matches!(hay.get(i), Some(b'=' | b':')) {
                return false;
            }
            if let Near::Assignment = near {
                return true;
            }
            // The value: after `=>`/`:=`, blanks and an opening quote.
            i = blanks(i + 1 + usize::from(matches!(hay.get(i + 1), Some(b'>' | b'='))));
            if matches!(hay.get(i), Some(b'"' | b'\'')) {
                i += 1;
            }
            match hay.get(i) {
                None => return false,
                Some(b) if b.is_ascii_whitespace() => return false,
                Some(_) if checks::starts_like_placeholder(&hay[i..]) => return false,
                Some(_) => {}
            }
            let word_len = hay[i..]
                .iter()
                .take_while(|b| b.is_ascii_alphabetic())
                .count();
            let word = &hay[i..i + word_len];
            let is_scheme = |w: &[u8]| HEADER_SCHEMES.iter().any(|s| w.eq_ignore_ascii_case(s));
            match near {
                Near::Header(schemes) => {
                    schemes
                        .iter()
                        .any(|s| word.eq_ignore_ascii_case(s.as_bytes()))
                        && near_holds(Near::BlankThenValue, hay, i, word_len)
                }
                Near::RawHeader => !is_scheme(word),
                _ => true,
            }
        }
        Near::Flag => {
            let end = ident_end();
            hay[ident_start()] == b'-' && matches!(hay.get(end), Some(b'=' | b' ' | b'\t'))
        }
        Near::BlankThenValue => {
            let i = blanks(pos + len);
            i > pos + len && hay.get(i).is_some_and(|b| b.is_ascii_alphanumeric())
        }
        Near::LaterOnLine(needle) => {
            let from = pos + len;
            let lim = hay.len().min(from + WINDOW_RIGHT);
            let end = line_end(hay, from, lim).unwrap_or(lim);
            memchr::memmem::find(&hay[from..end], needle.as_bytes()).is_some()
        }
        Near::IdentifierHas(part) => {
            let ident = &hay[ident_start()..ident_end()];
            ident.len() >= part.len()
                && ident
                    .windows(part.len())
                    .any(|w| w.eq_ignore_ascii_case(part.as_bytes()))
        }
        Near::UrlUserinfo => {
            // URLs are common in clean logs: only an authority with `user:password@` counts.
            let rest = &hay[pos + len..hay.len().min(pos + len + 512)];
            let mut colon = false;
            for &b in rest {
                match b {
                    b':' => colon = true,
                    b'@' => return colon,
                    b'/' | b'?' | b'#' | b'"' | b'\'' | b'<' | b'>' => return false,
                    b if b.is_ascii_whitespace() => return false,
                    _ => {}
                }
            }
            false
        }
    }
}

fn prefilter() -> &'static Prefilter {
    static PREFILTER: Prefilter = Prefilter::new(&TABLE);
    &PREFILTER
}

/// Calls `on_hit(position, entry)` for every keyword occurrence; stops when it returns false.
fn scan_keywords(pf: &Prefilter, hay: &[u8], mut on_hit: impl FnMut(usize, &Entry) -> bool) {
    let mut buf = [0u8; CHUNK + 64];
    let long_overlap = TABLE.long_overlap;
    debug_assert!(long_overlap <= 64);
    let direct = pf.direct(hay.len());
    let mut s = 0;
    while s < hay.len() {
        let e = hay.len().min(s + CHUNK + long_overlap);
        let report_end = if e == hay.len() { e } else { s + CHUNK };
        for (d, &b) in buf.iter_mut().zip(&hay[s..e]) {
            *d = fold(b);
        }
        let w = &buf[..e - s];
        // Hits of different groups arrive out of order; `find_spans_near` does not need
        // them in order (every hit is either covered by a window already run or gets its
        // own, and spans are sorted at the end).
        for f in pf.long() {
            let mut at = 0;
            while let Some((st, pid)) = f.find(w, at, direct) {
                if s + st >= report_end {
                    break;
                }
                if !on_hit(s + st, TABLE.entry(f.group, pid)) {
                    return;
                }
                at = st + 1;
            }
        }
        s += CHUNK;
    }
    let mut at = 0;
    while let Some((st, pid)) = pf.short.find(hay, at, direct) {
        if !on_hit(st, TABLE.entry(pf.short.group, pid)) {
            return;
        }
        at = st + 1;
    }
}

/// Whether the line break at `nl` continues a shell command: the line ends in a backslash
/// (`curl -X POST \\` then `-u user:pw` on the next line is one command).
pub(crate) fn continues(hay: &[u8], nl: usize) -> bool {
    let line = &hay[..nl];
    line.ends_with(b"\\") || line.ends_with(b"\\\r")
}

/// The start of the logical line holding `pos` (after the last line break before it that
/// does not continue a command), looking back no further than `lo`; `None` when there is no
/// such break in `lo..pos`.
fn line_start(hay: &[u8], lo: usize, pos: usize) -> Option<usize> {
    let mut to = pos;
    loop {
        let nl = lo + memchr::memrchr(b'\n', &hay[lo..to])?;
        if !continues(hay, nl) {
            return Some(nl + 1);
        }
        to = nl;
    }
}

/// The end of the logical line from `from` (the first line break in `from..lim` that does
/// not continue a command), or `None`.
fn line_end(hay: &[u8], from: usize, lim: usize) -> Option<usize> {
    let mut at = from;
    loop {
        let nl = at + memchr::memchr(b'\n', &hay[at..lim])?;
        if !continues(hay, nl) {
            return Some(nl);
        }
        at = nl + 1;
    }
}

/// A window a line-scoped pattern has already been run on.
#[derive(Clone, Copy)]
struct Window {
    start: usize,
    end: usize,
    start_is_line: bool,
    end_is_line: bool,
}

impl Window {
    const NONE: Window = Window {
        start: 1,
        end: 0,
        start_is_line: true,
        end_is_line: true,
    };

    fn around(hay: &[u8], pos: usize, len: usize) -> Window {
        let lo = pos.saturating_sub(WINDOW_LEFT);
        let (start, start_is_line) = match line_start(hay, lo, pos) {
            Some(i) => (i, true),
            None => (lo, lo == 0),
        };
        let from = pos + len;
        let hi = hay.len().min(from + WINDOW_RIGHT);
        let (end, end_is_line) = match line_end(hay, from, hi) {
            Some(i) => (i, true),
            None => (hi, hi == hay.len()),
        };
        Window {
            start,
            end,
            start_is_line,
            end_is_line,
        }
    }

    /// Whether a keyword at `pos..pos+len` has all the context it could need inside.
    fn covers(&self, pos: usize, len: usize) -> bool {
        let left = if self.start_is_line { 0 } else { MARGIN_LEFT };
        let right = if self.end_is_line { 0 } else { MARGIN_RIGHT };
        pos >= self.start + left && pos + len + right <= self.end
    }
}

/// The `[REDACTED:<id>]` labels already in the input, found on first need.
///
/// A candidate whose secret overlaps or touches one, or whose match (context included)
/// overlaps one, is never a new secret: it is an earlier redaction seen with new context
/// (`-u [REDACTED:stripe-key]:` looks like `curl -u user:password`; the `]` of a label is a
/// word boundary before `_TOKEN=`), or a value cut short by a label (`token =abc[REDACTED:..`
/// would be judged on `abc` alone, where the first pass judged the whole value). Dropping
/// such candidates is what makes `redact(redact(x)) == redact(x)`. A secret merely *next to*
/// a label (`[REDACTED:x] DB_PASSWORD=y`) is still found.
struct Labels(Option<Vec<(usize, usize)>>);

impl Labels {
    /// Whether a label intersects `start..end`; with `touching`, also one that ends at
    /// `start` or begins at `end`.
    fn hit(&mut self, hay: &[u8], (start, end): (usize, usize), touching: bool) -> bool {
        let labels = self.0.get_or_insert_with(|| {
            memchr::memmem::find_iter(hay, b"[REDACTED:")
                .filter_map(|i| {
                    let tail = &hay[i + 10..hay.len().min(i + 10 + 40)];
                    let k = memchr::memchr(b']', tail)?;
                    Some((i, i + 10 + k + 1))
                })
                .collect()
        });
        // Labels are disjoint and sorted, so their ends are sorted too.
        let t = usize::from(touching);
        let i = labels.partition_point(|&(_, e)| e + t <= start);
        labels.get(i).is_some_and(|&(s, _)| s < end + t)
    }
}

/// Per-call state of `find_spans`.
struct Search<'a> {
    hay: &'a [u8],
    spans: &'a mut Vec<Span>,
    first_only: bool,
    labels: Labels,
    locs: [Option<CaptureLocations>; MAX_PATTERNS],
}

impl Search<'_> {
    /// Runs pattern `pi` on `hay[start..end]` (look-around sees the whole `hay`), pushing
    /// accepted spans. Returns true when something was found.
    fn run(&mut self, pf: &Prefilter, pi: usize, (start, end): (usize, usize)) -> bool {
        let hay = self.hay;
        let (def, family) = TABLE.pattern(pi);
        let before = self.spans.len();
        match def.matcher {
            Matcher::PrivateKey => {
                let mut found = Vec::new();
                pem::find_blocks(&hay[..end], &mut found, false);
                for (s, e) in found {
                    if s >= start && !self.labels.hit(hay, (s, e), true) {
                        self.spans.push(Span {
                            start: s,
                            end: e,
                            family,
                        });
                        if self.first_only {
                            return true;
                        }
                    }
                }
            }
            Matcher::Regex(src) => {
                let re = pf.regex(pi, src);
                let locs = self.locs[pi].get_or_insert_with(|| re.capture_locations());
                let limited = &hay[..end];
                let mut at = start;
                while at <= end {
                    let Some(m) = re.captures_read_at(locs, limited, at) else {
                        break;
                    };
                    let caps = Caps { hay, locs };
                    let accepted = match (def.check)(&caps) {
                        Some((s, e))
                            if e > s
                                && !self.labels.hit(hay, (s, e), true)
                                && !self.labels.hit(hay, (m.start(), m.end()), false) =>
                        {
                            self.spans.push(Span {
                                start: s,
                                end: e,
                                family,
                            });
                            if self.first_only {
                                return true;
                            }
                            Some(e)
                        }
                        _ => None,
                    };
                    // Continue after the replaced bytes, not after the whole match: trailing
                    // context (the `@host` of a URL) may hold the start of the next candidate.
                    // After a rejected candidate, look again from just after its start: it
                    // must not hide a shorter candidate inside it. Either way, what is found
                    // does not depend on text before it, which keeps redaction idempotent.
                    at = accepted.map_or(m.start() + 1, |e| e.max(m.start() + 1));
                }
            }
        }
        self.spans.len() > before
    }
}

/// Finds every secret in `hay` and leaves `spans` sorted, disjoint and merged (overlapping
/// matches become one span named after the highest-priority family). With `first_only`,
/// stops at the first secret. Returns whether anything was found.
pub(crate) fn find_spans(hay: &[u8], spans: &mut Vec<Span>, first_only: bool) -> bool {
    find_spans_near(hay, spans, first_only, None)
}

/// [`find_spans`], but with `near`, only for keyword hits inside those (sorted, disjoint)
/// ranges: a later redaction pass only needs to look where the previous one changed text
/// (see [`dirty_ranges`]).
pub(crate) fn find_spans_near(
    hay: &[u8],
    spans: &mut Vec<Span>,
    first_only: bool,
    near: Option<&[(usize, usize)]>,
) -> bool {
    spans.clear();
    let pf = prefilter();
    let mut windows = [Window::NONE; MAX_PATTERNS];
    let mut document = [false; MAX_PATTERNS];
    let mut search = Search {
        hay,
        spans,
        first_only,
        labels: Labels(None),
        locs: std::array::from_fn(|_| None),
    };
    let mut done = false;
    scan_keywords(pf, hay, |pos, entry| {
        if let Some(ranges) = near {
            let i = ranges.partition_point(|&(_, e)| e <= pos);
            if ranges.get(i).is_none_or(|&(s, _)| s > pos) {
                return true;
            }
        }
        for t in TABLE.targets(entry) {
            if let Some(ex) = TABLE.exact(t) {
                if &hay[pos..pos + ex.len()] != ex {
                    continue;
                }
            }
            let pi = t.pattern as usize;
            let (def, family) = TABLE.pattern(pi);
            if !near_holds(def.near, hay, pos, entry.len) {
                continue;
            }
            match FAMILIES[family as usize].scope {
                Scope::Document => document[pi] = true,
                Scope::Line => {
                    if windows[pi].covers(pos, entry.len) {
                        continue;
                    }
                    let w = Window::around(hay, pos, entry.len);
                    windows[pi] = w;
                    if search.run(pf, pi, (w.start, w.end)) && first_only {
                        done = true;
                        return false;
                    }
                }
            }
        }
        true
    });
    if !done {
        let wanted = document[..TABLE.n_patterns()].iter().enumerate();
        for (pi, _) in wanted.filter(|(_, &d)| d) {
            if search.run(pf, pi, (0, hay.len())) && first_only {
                break;
            }
        }
    }
    normalize(search.spans);
    !search.spans.is_empty()
}

/// Sorts and merges overlapping spans; the merged span keeps the lowest family index (the
/// most specific family, see `families.rs`).
fn normalize(spans: &mut Vec<Span>) {
    if spans.len() < 2 {
        return;
    }
    spans.sort_unstable_by_key(|s| (s.start, s.family));
    let mut out = 0;
    for i in 1..spans.len() {
        let cur = spans[i];
        let last = &mut spans[out];
        if cur.start < last.end {
            last.end = last.end.max(cur.end);
            last.family = last.family.min(cur.family);
        } else {
            out += 1;
            spans[out] = cur;
        }
    }
    spans.truncate(out + 1);
}

/// Appends `hay` to `out` with every span replaced by its label, and pushes where each label
/// was written (offsets in `out`) to `labels`. Spans are sorted; a span starting inside the
/// previous one (possible after widening to char boundaries) continues it.
pub(crate) fn apply(
    hay: &[u8],
    spans: &[Span],
    out: &mut Vec<u8>,
    labels: &mut Vec<(usize, usize)>,
) {
    let mut last = 0;
    for s in spans {
        if s.end <= last {
            continue;
        }
        if s.start >= last {
            out.extend_from_slice(&hay[last..s.start]);
            s.write_label(out, labels);
        }
        last = s.end;
    }
    out.extend_from_slice(&hay[last..]);
}

/// The ranges of keyword positions in `text` whose line windows contain one of `labels`
/// (sorted, as `apply` pushes them): the only places where a new label can change what a
/// pattern finds. Sorted and merged, for [`find_spans_near`].
pub(crate) fn dirty_ranges(text: &[u8], labels: &[(usize, usize)]) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::with_capacity(labels.len());
    for &(s, e) in labels {
        // A hit at `p` sees `p - WINDOW_LEFT .. p + WINDOW_RIGHT` of its line.
        let lo = s.saturating_sub(WINDOW_RIGHT + 64);
        let start = line_start(text, lo, s).unwrap_or(lo);
        let hi = text.len().min(e + WINDOW_LEFT);
        let end = line_end(text, e, hi).unwrap_or(hi);
        match out.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => out.push((start, end)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::keywords::{GROUP_MAX, LONG_KEYWORD};
    use super::*;

    #[test]
    fn every_pattern_compiles() {
        for pi in 0..TABLE.n_patterns() {
            if let Matcher::Regex(src) = TABLE.pattern(pi).0.matcher {
                prefilter().regex(pi, src);
            }
        }
    }

    #[test]
    fn keyword_rules_hold() {
        let mut long = Vec::new();
        let mut short = Vec::new();
        for fam in &FAMILIES {
            for kw in fam.patterns.iter().flat_map(|p| p.keywords) {
                assert!(kw.len() >= 3, "{}: keyword {kw:?} too short", fam.id);
                if kw.len() < LONG_KEYWORD {
                    assert!(
                        fam.exact_keywords,
                        "{}: short keyword {kw:?} must be exact",
                        fam.id
                    );
                    short.push(kw.as_bytes().to_vec());
                } else {
                    long.push(kw.bytes().map(fold).collect::<Vec<u8>>());
                }
            }
            assert!(
                fam.patterns.iter().all(|p| !p.keywords.is_empty()),
                "{}: a pattern without keywords would never run",
                fam.id
            );
        }
        for set in [&long, &short] {
            for a in set.iter() {
                for b in set.iter() {
                    assert!(
                        a == b || !b.starts_with(a),
                        "keyword {a:?} is a prefix of {b:?}"
                    );
                }
            }
        }
        // The SIMD searcher refuses more than 64 patterns: the long keywords are split into
        // groups, each one more pass over clean text, so keep their number down.
        long.sort();
        long.dedup();
        assert!(long.len() <= 2 * GROUP_MAX, "{} long keywords", long.len());
        assert!(long.iter().all(|k| k.len() <= 64));
    }

    /// Every hit of `find`, one at a time, as `scan_keywords` walks them.
    fn all_hits(
        hay: &[u8],
        find: impl Fn(&[u8], usize) -> Option<(usize, usize)>,
    ) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut at = 0;
        while let Some((st, p)) = find(hay, at) {
            out.push((st, p));
            at = st + 1;
        }
        out
    }

    #[test]
    fn direct_scan_agrees_with_the_simd_searcher() {
        let pf = prefilter();
        // Text made of keyword pieces, so that near-misses and overlaps are everywhere.
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut rand = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for finder in pf.long().iter().chain([&pf.short]) {
            let mut total = 0;
            for _ in 0..300 {
                let mut hay = Vec::new();
                let len = (rand() % 900) as usize + 1;
                while hay.len() < len {
                    let patterns = finder.patterns();
                    let p = patterns[(rand() as usize) % patterns.len()].as_bytes();
                    let cut = (rand() as usize) % (p.len() + 1);
                    hay.extend_from_slice(&p[..cut.max(1)]);
                    if rand() % 3 == 0 {
                        hay.push(b" =:_-\n\"'"[(rand() % 7) as usize]);
                    }
                }
                let direct = all_hits(&hay, |h, a| finder.find_direct(h, a));
                let fast = all_hits(&hay, |h, a| finder.find_fast(h, a));
                assert_eq!(direct, fast, "{:?}", String::from_utf8_lossy(&hay));
                total += direct.len();
            }
            assert!(total > 1000, "the generated text has hits ({total})");
        }
    }

    #[test]
    fn short_texts_are_scanned_directly_until_the_budget_is_spent() {
        let pf = Prefilter::new(&TABLE);
        assert!(
            !pf.direct(DIRECT_SCAN_MAX + 1),
            "long texts use the searcher"
        );
        let mut direct = 0;
        while pf.direct(1000) {
            direct += 1;
        }
        assert_eq!(direct, DIRECT_SCAN_BUDGET / 1000);
        assert!(!pf.direct(1), "then the searcher, for good");
        assert!(
            pf.long.iter().all(|f| f.fast.get().is_none()),
            "deciding builds nothing"
        );
    }

    #[test]
    fn keywords_split_across_chunks_are_found() {
        for offset in [CHUNK - 4, CHUNK - 3, CHUNK - 1, CHUNK, 2 * CHUNK - 2] {
            let mut hay = vec![b'.'; offset];
            hay.extend_from_slice(b"TWILIO");
            hay.extend_from_slice(&[b'.'; 100]);
            let mut hits = Vec::new();
            scan_keywords(prefilter(), &hay, |p, e| {
                hits.push((p, e.len));
                true
            });
            assert_eq!(hits, vec![(offset, 6)], "offset {offset}");
        }
    }

    #[test]
    fn overlapping_keywords_are_all_reported() {
        // `sshp` and `ass=` overlap in `SSHPASS=`.
        let mut hits = Vec::new();
        scan_keywords(prefilter(), b"SSHPASS=x", |p, _| {
            hits.push(p);
            true
        });
        assert_eq!(hits, vec![0, 4]);
    }

    #[test]
    fn shapes_around_keywords() {
        let holds = |near: Near, text: &str, kw: &str| {
            let pos = text.to_ascii_lowercase().find(kw).expect("keyword in text");
            near_holds(near, text.as_bytes(), pos, kw.len())
        };
        assert!(holds(Near::Assignment, "db_password = x", "assw"));
        assert!(holds(Near::Assignment, "\"api_key\": 1", "_key"));
        assert!(holds(Near::Assignment, "SMTP_PASS=x", "ass="));
        assert!(!holds(Near::Assignment, "Original token count: 5", "token"));
        assert!(holds(Near::AssignedValue, "token: abc", "token"));
        assert!(!holds(
            Near::AssignedValue,
            "GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}",
            "token"
        ));
        assert!(!holds(Near::AssignedValue, "token = \"<token>\"", "token"));
        assert!(holds(Near::AssignedValue, "token => 'abc'", "token"));
        let bearer = Near::Header(&["bearer"]);
        assert!(holds(bearer, "Authorization: Bearer abc", "authoriz"));
        assert!(holds(
            bearer,
            "-H \"authorization: bearer abc\"",
            "authoriz"
        ));
        assert!(!holds(bearer, "Authorization: Bearer $TOKEN", "authoriz"));
        assert!(!holds(bearer, "Authorization: Basic abc", "authoriz"));
        assert!(holds(Near::RawHeader, "Authorization: abc123", "authoriz"));
        assert!(!holds(
            Near::RawHeader,
            "Authorization: Bearer abc",
            "authoriz"
        ));
        assert!(holds(Near::Flag, "run --api-token=x", "token"));
        assert!(holds(Near::Flag, "run --token x", "token"));
        assert!(!holds(Near::Flag, "token x", "token"));
        assert!(holds(Near::BlankThenValue, "Bearer abc", "bearer"));
        assert!(!holds(Near::BlankThenValue, "Bearer $X", "bearer"));
        assert!(holds(Near::LaterOnLine("-u"), "curl -s -u a:b", "curl"));
        assert!(!holds(Near::LaterOnLine("-u"), "curl -s x\n-u a:b", "curl"));
        assert!(holds(
            Near::IdentifierHas("access"),
            "aws_secret_access_key x",
            "secret"
        ));
        assert!(holds(Near::UrlUserinfo, "https://u:p@h/", "://"));
        assert!(!holds(Near::UrlUserinfo, "https://h/u:p@x", "://"));
    }

    #[test]
    fn normalize_merges_and_prefers_specific() {
        let mut v = vec![
            Span {
                start: 10,
                end: 20,
                family: 5,
            },
            Span {
                start: 0,
                end: 4,
                family: 3,
            },
            Span {
                start: 12,
                end: 30,
                family: 2,
            },
            Span {
                start: 30,
                end: 31,
                family: 1,
            },
        ];
        normalize(&mut v);
        assert_eq!(
            v,
            vec![
                Span {
                    start: 0,
                    end: 4,
                    family: 3
                },
                Span {
                    start: 10,
                    end: 30,
                    family: 2
                },
                Span {
                    start: 30,
                    end: 31,
                    family: 1
                },
            ]
        );
    }
}
