//! The prefilter's keyword tables, computed from [`FAMILIES`] at compile time.
//!
//! Why at compile time: the shim redacts in a process that lives about a millisecond. Built
//! at start-up, these tables were ~120 small allocations (~70 KiB of fresh heap, so ~20 page
//! faults) and two thirds of the instructions `codex-shim hook` ran. As a `static` they are
//! read-only data in the binary: no allocation, no relocation, only the pages a scan reads.
//!
//! What is here: the keywords (long ones folded, see [`fold`]; short ones exact), deduplicated
//! in the order the families list them; for each keyword the patterns it triggers; and for
//! each SIMD group of keywords an index by first byte for the direct scan. The searchers
//! themselves and the compiled regexes are built at run time, on first need (`engine`).

use super::families::{Family, Pattern, FAMILIES, N_FAMILIES};

/// Keywords shorter than this go to the exact short-keyword scan.
pub(crate) const LONG_KEYWORD: usize = 4;
/// Most keywords one packed searcher takes (Teddy's limit).
pub(crate) const GROUP_MAX: usize = 64;
/// Groups of long keywords (each one more SIMD pass over clean text).
pub(crate) const LONG_GROUPS: usize = 2;
/// Upper bound on the number of patterns over all families (per-call state is on the stack).
pub(crate) const MAX_PATTERNS: usize = 96;
/// The longest keyword.
const KEYWORD_MAX: usize = 24;
const MAX_KEYWORDS: usize = (LONG_GROUPS + 1) * GROUP_MAX;
const MAX_TARGETS: usize = 2 * MAX_KEYWORDS;

/// The prefilter's spelling of a byte: ASCII lower case, `-` as `_`.
#[inline(always)]
pub(crate) const fn fold(b: u8) -> u8 {
    let b = b.to_ascii_lowercase();
    if b == b'-' {
        b'_'
    } else {
        b
    }
}

/// One keyword as the scan compares it (folded when long).
#[derive(Clone, Copy)]
pub(crate) struct Keyword {
    bytes: [u8; KEYWORD_MAX],
    len: u8,
}

impl Keyword {
    const EMPTY: Keyword = Keyword {
        bytes: [0; KEYWORD_MAX],
        len: 0,
    };

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }

    const fn new(kw: &str, folded: bool) -> Keyword {
        let src = kw.as_bytes();
        assert!(
            src.len() <= KEYWORD_MAX,
            "a redaction keyword is longer than KEYWORD_MAX"
        );
        let mut k = Keyword::EMPTY;
        let mut i = 0;
        while i < src.len() {
            k.bytes[i] = if folded { fold(src[i]) } else { src[i] };
            i += 1;
        }
        k.len = src.len() as u8;
        k
    }

    const fn same(&self, other: &Keyword) -> bool {
        if self.len != other.len {
            return false;
        }
        let mut i = 0;
        while i < self.len as usize {
            if self.bytes[i] != other.bytes[i] {
                return false;
            }
            i += 1;
        }
        true
    }
}

/// One pattern a keyword hit may run.
#[derive(Clone, Copy)]
pub(crate) struct Target {
    /// Index into the flat pattern list ([`Table::pattern`]).
    pub pattern: u16,
    /// Which of the pattern's keywords this is.
    keyword: u8,
    /// The family matches keywords exactly: compare the original bytes too.
    exact: bool,
}

impl Target {
    const EMPTY: Target = Target {
        pattern: 0,
        keyword: 0,
        exact: false,
    };
}

/// A keyword's entry: its length and the targets it triggers.
#[derive(Clone, Copy)]
pub(crate) struct Entry {
    pub len: usize,
    first_target: u16,
    n_targets: u16,
}

impl Entry {
    const EMPTY: Entry = Entry {
        len: 0,
        first_target: 0,
        n_targets: 0,
    };
}

/// Where a pattern is defined: `FAMILIES[family].patterns[index]`.
#[derive(Clone, Copy)]
struct PatternRef {
    family: u16,
    index: u16,
}

/// A slice of keywords that one searcher scans, with its first-byte index: the candidates
/// for first byte `b` are `order[first[b]..first[b + 1]]` (indexes into the group).
pub(crate) struct Group {
    start: usize,
    len: usize,
    first: [u16; 257],
}

pub(crate) struct Table {
    keywords: [Keyword; MAX_KEYWORDS],
    entries: [Entry; MAX_KEYWORDS],
    targets: [Target; MAX_TARGETS],
    patterns: [PatternRef; MAX_PATTERNS],
    n_patterns: usize,
    /// Keyword indexes of every group, each group's sorted by first byte.
    order: [u16; MAX_KEYWORDS],
    /// The long-keyword groups (`n_long_groups` of them), then the short one.
    groups: [Group; LONG_GROUPS + 1],
    n_long_groups: usize,
    /// The longest long keyword minus one: how far chunks of folded text must overlap.
    pub long_overlap: usize,
}

/// The tables for [`FAMILIES`].
pub(crate) static TABLE: Table = Table::build(&FAMILIES);

impl Table {
    /// The long-keyword groups in use.
    pub(crate) fn long_groups(&self) -> &[Group] {
        &self.groups[..self.n_long_groups]
    }

    /// Long-keyword group `i` (empty when `i` is not in use).
    pub(crate) const fn long_group(&self, i: usize) -> &Group {
        &self.groups[i]
    }

    pub(crate) const fn short_group(&self) -> &Group {
        &self.groups[LONG_GROUPS]
    }

    pub(crate) fn n_patterns(&self) -> usize {
        self.n_patterns
    }

    /// Pattern `pi` of the flat list, and the index of its family.
    pub(crate) fn pattern(&self, pi: usize) -> (&'static Pattern, u16) {
        let r = self.patterns[pi];
        (
            &FAMILIES[r.family as usize].patterns[r.index as usize],
            r.family,
        )
    }

    /// The keywords of `group`, in the order their pattern IDs count.
    pub(crate) fn keywords(&self, group: &Group) -> &[Keyword] {
        &self.keywords[group.start..group.start + group.len]
    }

    /// The entry of keyword `id` of `group`.
    pub(crate) fn entry(&self, group: &Group, id: usize) -> &Entry {
        &self.entries[group.start + id]
    }

    pub(crate) fn targets(&self, entry: &Entry) -> &[Target] {
        let s = entry.first_target as usize;
        &self.targets[s..s + entry.n_targets as usize]
    }

    /// The candidates of `group` (indexes into it) whose keyword starts with byte `b`.
    #[inline]
    pub(crate) fn candidates(&self, group: &Group, b: u8) -> &[u16] {
        let b = b as usize;
        &self.order[group.first[b] as usize..group.first[b + 1] as usize]
    }

    /// The bytes a hit of `target` must match exactly, if its family says so.
    pub(crate) fn exact(&self, target: &Target) -> Option<&'static [u8]> {
        if !target.exact {
            return None;
        }
        let (def, _) = self.pattern(target.pattern as usize);
        Some(def.keywords[target.keyword as usize].as_bytes())
    }

    const fn build(families: &[Family; N_FAMILIES]) -> Table {
        let mut t = Table {
            keywords: [Keyword::EMPTY; MAX_KEYWORDS],
            entries: [Entry::EMPTY; MAX_KEYWORDS],
            targets: [Target::EMPTY; MAX_TARGETS],
            patterns: [PatternRef {
                family: 0,
                index: 0,
            }; MAX_PATTERNS],
            n_patterns: 0,
            order: [0; MAX_KEYWORDS],
            groups: [const {
                Group {
                    start: 0,
                    len: 0,
                    first: [0; 257],
                }
            }; LONG_GROUPS + 1],
            n_long_groups: 0,
            long_overlap: 0,
        };
        // Long keywords take slots 0.., short ones slots SHORT.. (both deduplicated in first-
        // seen order); each keyword's targets are filled in a second pass, contiguously.
        const SHORT: usize = LONG_GROUPS * GROUP_MAX;
        let (mut n_long, mut n_short) = (0, 0);
        let mut f = 0;
        while f < N_FAMILIES {
            let fam = &families[f];
            let mut p = 0;
            while p < fam.patterns.len() {
                let def = &fam.patterns[p];
                assert!(
                    t.n_patterns < MAX_PATTERNS,
                    "raise MAX_PATTERNS: more redaction patterns"
                );
                t.patterns[t.n_patterns] = PatternRef {
                    family: f as u16,
                    index: p as u16,
                };
                t.n_patterns += 1;
                let mut k = 0;
                while k < def.keywords.len() {
                    let kw = def.keywords[k];
                    let long = kw.len() >= LONG_KEYWORD;
                    let key = Keyword::new(kw, long);
                    let (base, n) = if long {
                        (0, &mut n_long)
                    } else {
                        (SHORT, &mut n_short)
                    };
                    let mut i = 0;
                    while i < *n && !t.keywords[base + i].same(&key) {
                        i += 1;
                    }
                    if i == *n {
                        assert!(
                            *n < if long { SHORT } else { GROUP_MAX },
                            "too many redaction keywords for the SIMD groups"
                        );
                        t.keywords[base + i] = key;
                        t.entries[base + i].len = kw.len();
                        *n += 1;
                    }
                    t.entries[base + i].n_targets += 1;
                    k += 1;
                }
                p += 1;
            }
            f += 1;
        }
        // Groups: long keywords in chunks of GROUP_MAX, then the short ones, each in the order
        // Teddy's buckets want (see `arrange`) and indexed by first byte.
        let mut g = 0;
        while g * GROUP_MAX < n_long {
            let len = if n_long - g * GROUP_MAX < GROUP_MAX {
                n_long - g * GROUP_MAX
            } else {
                GROUP_MAX
            };
            arrange(&mut t.keywords, &mut t.entries, g * GROUP_MAX, len);
            t.groups[g] = Group::index(&t.keywords, &mut t.order, g * GROUP_MAX, len);
            g += 1;
        }
        t.n_long_groups = g;
        arrange(&mut t.keywords, &mut t.entries, SHORT, n_short);
        t.groups[LONG_GROUPS] = Group::index(&t.keywords, &mut t.order, SHORT, n_short);
        // Where each keyword's targets go.
        let mut next = 0;
        let mut i = 0;
        while i < MAX_KEYWORDS {
            t.entries[i].first_target = next as u16;
            next += t.entries[i].n_targets as usize;
            t.entries[i].n_targets = 0;
            i += 1;
        }
        assert!(next <= MAX_TARGETS, "raise MAX_TARGETS");
        let mut pi = 0;
        while pi < t.n_patterns {
            let r = t.patterns[pi];
            let fam = &families[r.family as usize];
            let def = &fam.patterns[r.index as usize];
            let mut k = 0;
            while k < def.keywords.len() {
                let kw = def.keywords[k];
                let long = kw.len() >= LONG_KEYWORD;
                let key = Keyword::new(kw, long);
                let (base, n) = if long { (0, n_long) } else { (SHORT, n_short) };
                let mut i = 0;
                while i < n && !t.keywords[base + i].same(&key) {
                    i += 1;
                }
                let e = &mut t.entries[base + i];
                t.targets[e.first_target as usize + e.n_targets as usize] = Target {
                    pattern: pi as u16,
                    keyword: k as u8,
                    exact: fam.exact_keywords && long,
                };
                e.n_targets += 1;
                k += 1;
            }
            pi += 1;
        }
        let mut i = 0;
        while i < n_long {
            let l = t.keywords[i].len as usize - 1;
            if l > t.long_overlap {
                t.long_overlap = l;
            }
            i += 1;
        }
        t
    }
}

/// Orders `keywords[start..start + len]` (with their entries) so that keywords alike in their
/// first bytes share a Teddy bucket.
///
/// Why: aho-corasick's Teddy puts pattern `i` in bucket `i % buckets` (16 for more than 32
/// patterns), and a bucket's fingerprint is the union of its patterns' first bytes (by
/// nybble). Four unrelated words in one bucket make a fingerprint that ordinary text matches
/// every few dozen bytes, each match a failed verification; four keywords that share their
/// first bytes keep it tight. So the keywords are sorted, and consecutive ones are dealt to
/// the same bucket: sorted keyword `k` goes to the `k`-th slot of the order 0, B, 2B, ...,
/// 1, B + 1, ... (slots past `len` skipped). Which keyword sits where changes no result: no
/// keyword is a prefix of another, so at most one matches at any position.
const fn arrange(
    keywords: &mut [Keyword; MAX_KEYWORDS],
    entries: &mut [Entry; MAX_KEYWORDS],
    start: usize,
    len: usize,
) {
    let buckets = if len > 32 { 16 } else { 8 };
    // Insertion sort by bytes (a few dozen keywords, at compile time).
    let mut i = 1;
    while i < len {
        let mut j = i;
        while j > 0 && less(&keywords[start + j], &keywords[start + j - 1]) {
            let (k, e) = (keywords[start + j], entries[start + j]);
            keywords[start + j] = keywords[start + j - 1];
            entries[start + j] = entries[start + j - 1];
            keywords[start + j - 1] = k;
            entries[start + j - 1] = e;
            j -= 1;
        }
        i += 1;
    }
    let (sorted_k, sorted_e) = (*keywords, *entries);
    let mut next = 0;
    let mut column = 0;
    while column < buckets {
        let mut slot = column;
        while slot < len {
            keywords[start + slot] = sorted_k[start + next];
            entries[start + slot] = sorted_e[start + next];
            next += 1;
            slot += buckets;
        }
        column += 1;
    }
}

/// Byte order of keywords (shorter first on a tie).
const fn less(a: &Keyword, b: &Keyword) -> bool {
    let mut i = 0;
    while i < a.len as usize && i < b.len as usize {
        if a.bytes[i] != b.bytes[i] {
            return a.bytes[i] < b.bytes[i];
        }
        i += 1;
    }
    a.len < b.len
}

impl Group {
    /// Indexes `keywords[start..start + len]` by first byte into `order[start..]` (a counting
    /// sort), with `first` holding absolute offsets into `order`.
    const fn index(
        keywords: &[Keyword; MAX_KEYWORDS],
        order: &mut [u16; MAX_KEYWORDS],
        start: usize,
        len: usize,
    ) -> Group {
        let mut first = [0u16; 257];
        let mut i = 0;
        while i < len {
            first[keywords[start + i].bytes[0] as usize + 1] += 1;
            i += 1;
        }
        first[0] = start as u16;
        let mut b = 1;
        while b < 257 {
            first[b] += first[b - 1];
            b += 1;
        }
        let mut fill = [0u16; 256];
        let mut i = 0;
        while i < len {
            let b = keywords[start + i].bytes[0] as usize;
            order[first[b] as usize + fill[b] as usize] = i as u16;
            fill[b] += 1;
            i += 1;
        }
        Group { start, len, first }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The compile-time tables say what a straightforward reading of `FAMILIES` says.
    #[test]
    fn every_keyword_leads_to_its_pattern() {
        let mut keywords = 0;
        for pi in 0..TABLE.n_patterns() {
            let (def, family) = TABLE.pattern(pi);
            for kw in def.keywords {
                let long = kw.len() >= LONG_KEYWORD;
                let key: Vec<u8> = if long {
                    kw.bytes().map(fold).collect()
                } else {
                    kw.as_bytes().to_vec()
                };
                let groups: Vec<&Group> = if long {
                    TABLE.long_groups().iter().collect()
                } else {
                    vec![TABLE.short_group()]
                };
                let found: Vec<(&Group, usize)> = groups
                    .into_iter()
                    .flat_map(|g| {
                        let key = &key;
                        TABLE
                            .keywords(g)
                            .iter()
                            .enumerate()
                            .filter(move |(_, k)| k.as_bytes() == key.as_slice())
                            .map(move |(i, _)| (g, i))
                    })
                    .collect();
                assert_eq!(found.len(), 1, "{kw:?} is in one group, once");
                let (g, i) = found[0];
                assert!(TABLE.candidates(g, key[0]).contains(&(i as u16)));
                let entry = TABLE.entry(g, i);
                assert_eq!(entry.len, kw.len());
                let t = TABLE
                    .targets(entry)
                    .iter()
                    .find(|t| t.pattern as usize == pi)
                    .unwrap_or_else(|| panic!("{kw:?} does not trigger its pattern"));
                let exact = FAMILIES[family as usize].exact_keywords && long;
                assert_eq!(TABLE.exact(t), exact.then_some(kw.as_bytes()), "{kw:?}");
                keywords += 1;
            }
        }
        let groups: Vec<&Group> = TABLE
            .long_groups()
            .iter()
            .chain([TABLE.short_group()])
            .collect();
        let targets: usize = groups
            .iter()
            .flat_map(|g| (0..g.len).map(|i| TABLE.targets(TABLE.entry(g, i)).len()))
            .sum();
        assert_eq!(targets, keywords, "one target per keyword of a pattern");
        for g in groups {
            let mut indexed: Vec<u16> = (0..=255u8)
                .flat_map(|b| TABLE.candidates(g, b).to_vec())
                .collect();
            indexed.sort_unstable();
            assert_eq!(indexed, (0..g.len as u16).collect::<Vec<_>>());
        }
        // Teddy's buckets (pattern i in bucket i % B) hold runs of the sorted keywords.
        for g in TABLE.long_groups().iter().chain([TABLE.short_group()]) {
            let kws = TABLE.keywords(g);
            let buckets = if kws.len() > 32 { 16 } else { 8 };
            let dealt: Vec<&[u8]> = (0..buckets)
                .flat_map(|c| (c..kws.len()).step_by(buckets))
                .map(|i| kws[i].as_bytes())
                .collect();
            assert_eq!(dealt.len(), kws.len());
            assert!(dealt.windows(2).all(|w| w[0] < w[1]), "{dealt:?}");
        }
        let longest = TABLE
            .long_groups()
            .iter()
            .flat_map(|g| TABLE.keywords(g).iter().map(|k| k.as_bytes().len()))
            .max();
        assert_eq!(Some(TABLE.long_overlap + 1), longest);
    }
}
