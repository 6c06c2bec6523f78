//! Rework: lines that a commit in the window rewrote or deleted after an earlier commit in
//! the window wrote them.
//!
//! Why rework and not "commits that touched the file": a file touched in many commits is
//! usually a file that *grows* (a feature landed as a stack of pull requests, a registry that
//! gains one entry per change, a test file). Nobody can act on that. Lines written today and
//! rewritten today are different: the first change was wrong or incomplete, or two people
//! keep changing the same code. That is what a hotspot ticket should be about.
//!
//! How: each text file's lines carry an owner, the window commit that last wrote them
//! (`None` for lines older than the window). Commits are applied oldest first, using the
//! hunks of the diffs the collector already computes. A removed line whose owner is an
//! earlier window commit is rework — unless the same hunk adds it back with only whitespace
//! changed (re-indentation), or the whole file change is a *formatting* change (the same
//! text once whitespace, quote style and trailing commas are set aside: a rustfmt or black
//! pass), or the line moves: the same commit adds it elsewhere (code moved to another file
//! or another place). Formatting and whitespace-only rewrites pass ownership on instead of
//! taking it, so work done before a formatting pass is still recognized when it is
//! rewritten after.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::ops::Range;

use gix_imara_diff::{Algorithm, Diff, InternedInput};

/// The hash of a line that holds only whitespace: never rework on its own.
const BLANK: u64 = 0;

/// One hunk: lines `before` of the old version replaced by lines `after` of the new one,
/// with the whitespace-insensitive hash of each line.
#[derive(Debug, Clone)]
pub struct EditHunk {
    pub before: Range<u32>,
    pub after: Range<u32>,
    removed: Vec<u64>,
    added: Vec<u64>,
}

impl LineEdit {
    /// The whitespace-insensitive hashes of the lines this edit adds (blank lines left out).
    pub fn added_hashes(&self) -> impl Iterator<Item = u64> + '_ {
        self.hunks
            .iter()
            .flat_map(|h| h.added.iter().copied())
            .filter(|&h| h != BLANK)
    }
}

/// What one commit did to one text file, enough to follow line ownership.
#[derive(Debug, Clone)]
pub struct LineEdit {
    pub old_lines: u32,
    pub new_lines: u32,
    pub hunks: Vec<EditHunk>,
    /// Old and new are the same text once formatting is set aside.
    pub formatting_only: bool,
}

/// The diff of `old` to `new` (lines keep their terminators, as git counts them): added and
/// removed line counts and the [`LineEdit`].
pub fn diff_lines(old: &[u8], new: &[u8]) -> (u64, u64, LineEdit) {
    let input = InternedInput::new(old, new);
    let diff = Diff::compute(Algorithm::Myers, &input);
    let hash_of = |token| line_hash(input.interner[token]);
    let hunks = diff
        .hunks()
        .map(|h| EditHunk {
            removed: input.before[h.before.start as usize..h.before.end as usize]
                .iter()
                .map(|&t| hash_of(t))
                .collect(),
            added: input.after[h.after.start as usize..h.after.end as usize]
                .iter()
                .map(|&t| hash_of(t))
                .collect(),
            before: h.before,
            after: h.after,
        })
        .collect();
    let edit = LineEdit {
        old_lines: input.before.len() as u32,
        new_lines: input.after.len() as u32,
        hunks,
        formatting_only: !old.is_empty() && formatting_key(old).eq(formatting_key(new)),
    };
    (
        u64::from(diff.count_additions()),
        u64::from(diff.count_removals()),
        edit,
    )
}

/// The whitespace-insensitive hash of a line; [`BLANK`] for a blank line.
fn line_hash(line: &[u8]) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    let mut any = false;
    for &b in line.iter().filter(|b| !b.is_ascii_whitespace()) {
        b.hash(&mut hasher);
        any = true;
    }
    if !any {
        return BLANK;
    }
    hasher.finish().max(1)
}

/// The bytes of a file with formatting set aside: whitespace dropped, `'` read as `"`, and a
/// comma right before a closing bracket dropped (formatters add and remove trailing commas
/// when they re-wrap).
fn formatting_key(text: &[u8]) -> impl Iterator<Item = u8> + '_ {
    let significant = text.iter().copied().filter(|b| !b.is_ascii_whitespace());
    let mut peek = significant.clone().skip(1);
    significant.filter_map(move |b| {
        let next = peek.next();
        match b {
            b',' if matches!(next, Some(b')' | b']' | b'}')) => None,
            b'\'' => Some(b'"'),
            other => Some(other),
        }
    })
}

/// What applying one commit's edit of a file found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// Lines written by an earlier window commit that this commit rewrote or deleted.
    pub rework_lines: u64,
    /// Those earlier commits (indexes as passed to [`Ownership::apply`]), sorted.
    pub reworked: Vec<u32>,
}

/// The owner of every line of one file's current version.
#[derive(Debug, Default)]
pub struct Ownership {
    owners: Vec<Option<u32>>,
}

impl Ownership {
    /// Applies commit `commit`'s edit (commits are applied oldest first, with increasing
    /// indexes). `counts` is false for a change that must not count as rework whatever it
    /// contains (a bulk commit): its lines pass ownership on like a formatting change.
    /// `moved`: hashes of the lines the commit adds anywhere; a removed line among them moved
    /// rather than being rewritten.
    pub fn apply(
        &mut self,
        commit: u32,
        edit: &LineEdit,
        counts: bool,
        moved: &HashSet<u64>,
    ) -> Applied {
        if self.owners.len() != edit.old_lines as usize {
            // The file changed outside the commits we follow (a skipped bot commit): what
            // was known about its lines no longer lines up, so start over.
            self.owners = vec![None; edit.old_lines as usize];
        }
        let transfer_only = edit.formatting_only || !counts;
        let mut applied = Applied::default();
        let mut next = Vec::with_capacity(edit.new_lines as usize);
        let mut pos = 0usize;
        for hunk in &edit.hunks {
            let (start, end) = (hunk.before.start as usize, hunk.before.end as usize);
            next.extend_from_slice(&self.owners[pos..start]);
            pos = end;
            let old_owners = &self.owners[start..end];
            // Lines the hunk adds back with only whitespace changed keep their owner.
            let mut same: HashMap<u64, Vec<Option<u32>>> = HashMap::new();
            for (&hash, &owner) in hunk.removed.iter().zip(old_owners).rev() {
                same.entry(hash).or_default().push(owner);
            }
            let latest = old_owners.iter().flatten().max().copied();
            for &hash in &hunk.added {
                let owner = match same.get_mut(&hash).and_then(Vec::pop) {
                    Some(owner) => owner,
                    None if transfer_only => latest,
                    None => Some(commit),
                };
                next.push(owner);
            }
            if transfer_only {
                continue;
            }
            for (hash, owners) in same {
                if hash == BLANK || moved.contains(&hash) {
                    continue;
                }
                for earlier in owners.into_iter().flatten() {
                    if earlier != commit {
                        applied.rework_lines += 1;
                        applied.reworked.push(earlier);
                    }
                }
            }
        }
        next.extend_from_slice(&self.owners[pos.min(self.owners.len())..]);
        self.owners = next;
        applied.reworked.sort_unstable();
        applied.reworked.dedup();
        applied
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none() -> HashSet<u64> {
        HashSet::new()
    }

    #[test]
    fn moved_lines_are_not_rework() {
        let mut o = Ownership::default();
        o.apply(0, &edit("", "fn a() {}\nfn b() {}\n"), true, &none());
        // Commit 1 moves `fn b` to another file: it adds the same line there.
        let elsewhere = edit("", "fn b() {}\n");
        let moved: HashSet<u64> = elsewhere.added_hashes().collect();
        let applied = o.apply(
            1,
            &edit("fn a() {}\nfn b() {}\n", "fn a() {}\n"),
            true,
            &moved,
        );
        assert_eq!(applied.rework_lines, 0);
    }

    fn edit(old: &str, new: &str) -> LineEdit {
        diff_lines(old.as_bytes(), new.as_bytes()).2
    }

    #[test]
    fn rewriting_earlier_window_lines_is_rework() {
        let mut o = Ownership::default();
        let base = "a\nb\nc\n";
        let v1 = "a\nb1\nb2\nc\n";
        let v2 = "a\nB1\nb2\nc\nd\n";
        assert_eq!(o.apply(0, &edit(base, v1), true, &none()).rework_lines, 0);
        let applied = o.apply(1, &edit(v1, v2), true, &none());
        assert_eq!(applied.rework_lines, 1, "b1 was written by commit 0");
        assert_eq!(applied.reworked, [0]);
        // Deleting lines older than the window is not rework.
        assert_eq!(
            o.apply(2, &edit(v2, "B1\nb2\nc\nd\n"), true, &none())
                .rework_lines,
            0
        );
    }

    #[test]
    fn growing_a_file_is_not_rework() {
        let mut o = Ownership::default();
        let mut text = String::new();
        for k in 0..6u32 {
            let next = format!("{text}entry {k}\n");
            assert_eq!(
                o.apply(k, &edit(&text, &next), true, &none()).rework_lines,
                0
            );
            text = next;
        }
    }

    #[test]
    fn whitespace_and_formatting_keep_owners() {
        let mut o = Ownership::default();
        let v1 = "fn f() {\ncall(a, b)\n}\n";
        o.apply(0, &edit("", v1), true, &none());
        // Re-indentation only.
        let v2 = "fn f() {\n    call(a, b)\n}\n";
        assert_eq!(o.apply(1, &edit(v1, v2), true, &none()).rework_lines, 0);
        // A formatter re-wraps with a trailing comma and other quotes: formatting only.
        let v3 = "fn f() {\n    call(\n        a,\n        b,\n    )\n}\n";
        let e = edit(v2, v3);
        assert!(e.formatting_only);
        assert_eq!(o.apply(2, &e, true, &none()).rework_lines, 0);
        // Rewriting after the formatting pass still finds commit 0's work.
        let v4 = "fn f() {\n    other()\n}\n";
        let applied = o.apply(3, &edit(v3, v4), true, &none());
        assert!(applied.rework_lines >= 3, "{applied:?}");
        assert_eq!(applied.reworked, [0]);
    }

    #[test]
    fn quote_style_is_formatting() {
        assert!(edit("x = 'a'\n", "x = \"a\"\n").formatting_only);
        assert!(!edit("x = 'a'\n", "x = 'b'\n").formatting_only);
        assert!(
            !edit("", "x\n").formatting_only,
            "a new file is not formatting"
        );
    }

    #[test]
    fn bulk_changes_pass_ownership_on() {
        let mut o = Ownership::default();
        o.apply(0, &edit("", "a\nb\n"), true, &none());
        assert_eq!(
            o.apply(1, &edit("a\nb\n", "x\nb\n"), false, &none())
                .rework_lines,
            0
        );
        let applied = o.apply(2, &edit("x\nb\n", "y\nb\n"), true, &none());
        assert_eq!(applied.reworked, [0], "x inherited commit 0's ownership");
    }
}
