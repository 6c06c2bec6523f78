//! Which files can be hotspots: the files a maintainer edits by hand.
//!
//! A hotspot ticket about `Cargo.lock`, `CHANGELOG.md` or a generated CLI reference is noise:
//! those files change *because* other files changed, and nobody can act on their churn. This
//! module decides, per path, whether the hotspot rule may look at a file, the way GitHub
//! decides what to collapse in a diff and leave out of language statistics (linguist):
//!
//! - **`.gitattributes` at HEAD** (the root file): `linguist-generated`, `linguist-vendored`,
//!   and `-diff` / `binary` (git will not show a text diff, so neither do we). Later lines
//!   win, `-attr` and `attr=false` unset, `!attr` returns to unspecified, as in git.
//!   Patterns follow gitattributes' gitignore-like rules: a pattern without `/` matches the
//!   file name at any depth, one with `/` is anchored at the root, and a pattern ending in `/`
//!   matches nothing (git does not apply attributes to directories).
//! - **Default exclusions** ([`DEFAULT_HOTSPOT_EXCLUDE`], configurable): lockfiles,
//!   changelogs and release notes, vendored directories.
//! - **Generated markers**: `@generated` or `DO NOT EDIT` (Go's `Code generated ... DO NOT
//!   EDIT.`) in the first lines of the file, the conventions code generators follow.
//!
//! A small parser instead of gix's attribute stack: it needs only the root file's three
//! attributes, and the full stack (with its worktree and index sources) would add several
//! crates to the analyzer's build.

use anyhow::Result;
use globset::{GlobBuilder, GlobMatcher, GlobSet};
use serde::Serialize;

use super::git::build_globset;

/// Paths left out of hotspots by default: files that change as a consequence of other
/// changes (lockfiles), that grow by an entry per change (changelogs, release notes), or that
/// are someone else's code (vendored directories). Case-sensitive globset globs, `*` does not
/// cross `/`. Lower-case changelog names are listed with their extensions only, so
/// `src/history.rs` or `news.py` stay eligible.
pub const DEFAULT_HOTSPOT_EXCLUDE: &[&str] = &[
    // Lockfiles
    "**/Cargo.lock",
    "**/package-lock.json",
    "**/npm-shrinkwrap.json",
    "**/yarn.lock",
    "**/pnpm-lock.yaml",
    "**/bun.lockb",
    "**/poetry.lock",
    "**/uv.lock",
    "**/pdm.lock",
    "**/Pipfile.lock",
    "**/Gemfile.lock",
    "**/composer.lock",
    "**/go.sum",
    "**/flake.lock",
    "**/Package.resolved",
    "**/mix.lock",
    "**/pubspec.lock",
    "**/gradle.lockfile",
    // Changelogs and release notes
    "**/CHANGELOG*",
    "**/ChangeLog*",
    "**/Changelog*",
    "**/changelog.{md,rst,txt,adoc}",
    "**/CHANGES*",
    "**/Changes.{md,rst,txt}",
    "**/changes.{md,rst,txt}",
    "**/HISTORY*",
    "**/History.{md,rst,txt}",
    "**/history.{md,rst,txt}",
    "**/NEWS*",
    "**/news.{md,rst,txt}",
    "**/RELEASES*",
    "**/RELEASE-NOTES*",
    "**/RELEASE_NOTES*",
    "**/release-notes*",
    "**/release_notes*",
    "**/changelog.d/**",
    "**/changelog/**",
    // Vendored code
    "**/vendor/**",
    "**/vendored/**",
    "**/third_party/**",
    "**/third-party/**",
    "**/node_modules/**",
];

/// How many leading lines are searched for a generated-file marker.
pub const GENERATED_MARKER_LINES: usize = 5;

/// Why a file cannot be a hotspot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Exclusion {
    /// Matches a `hotspot_exclude` glob (lockfile, changelog, vendored directory, ...).
    Glob,
    /// `linguist-generated` in `.gitattributes`.
    LinguistGenerated,
    /// `linguist-vendored` in `.gitattributes`.
    LinguistVendored,
    /// `-diff` or `binary` in `.gitattributes`.
    NoDiff,
    /// An `@generated` / `DO NOT EDIT` marker in the first lines.
    GeneratedMarker,
}

impl Exclusion {
    pub fn as_str(self) -> &'static str {
        match self {
            Exclusion::Glob => "glob",
            Exclusion::LinguistGenerated => "linguist_generated",
            Exclusion::LinguistVendored => "linguist_vendored",
            Exclusion::NoDiff => "no_diff",
            Exclusion::GeneratedMarker => "generated_marker",
        }
    }
}

/// An attribute's state on one `.gitattributes` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Set,
    Unset,
    Unspecified,
}

/// The three attributes the hotspot rule reads, as set by one line.
#[derive(Debug, Clone, Copy, Default)]
struct LineAttrs {
    generated: Option<State>,
    vendored: Option<State>,
    /// `Set` means "no diff" (`-diff`, `binary`).
    no_diff: Option<State>,
}

/// The root `.gitattributes`, reduced to what the hotspot rule reads.
#[derive(Debug, Default)]
pub struct Attributes {
    lines: Vec<(GlobMatcher, LineAttrs)>,
}

impl Attributes {
    /// Parses `.gitattributes` text; lines it cannot use (macros, bad globs) are skipped, as
    /// git skips what it does not understand.
    pub fn parse(text: &str) -> Attributes {
        let mut lines = Vec::new();
        for raw in text.lines() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.split_ascii_whitespace();
            let Some(pattern) = parts.next() else {
                continue;
            };
            let mut attrs = LineAttrs::default();
            for attr in parts {
                let (state, name) = if let Some(n) = attr.strip_prefix('-') {
                    (State::Unset, n)
                } else if let Some(n) = attr.strip_prefix('!') {
                    (State::Unspecified, n)
                } else if let Some((n, v)) = attr.split_once('=') {
                    let state = if v == "false" {
                        State::Unset
                    } else {
                        State::Set
                    };
                    // `diff=<driver>` is a text diff with a driver: diff stays on.
                    if n == "diff" {
                        attrs.no_diff = Some(State::Unset);
                        continue;
                    }
                    (state, n)
                } else {
                    (State::Set, attr)
                };
                match name {
                    "linguist-generated" => attrs.generated = Some(state),
                    "linguist-vendored" => attrs.vendored = Some(state),
                    // `binary` is the macro `-diff -merge -text`.
                    "binary" if state == State::Set => attrs.no_diff = Some(State::Set),
                    "diff" => {
                        attrs.no_diff = Some(match state {
                            State::Set => State::Unset,
                            State::Unset => State::Set,
                            State::Unspecified => State::Unspecified,
                        })
                    }
                    _ => {}
                }
            }
            if attrs.generated.is_none() && attrs.vendored.is_none() && attrs.no_diff.is_none() {
                continue;
            }
            if let Some(glob) = attribute_glob(pattern) {
                lines.push((glob, attrs));
            }
        }
        Attributes { lines }
    }

    /// The exclusion `.gitattributes` gives `path`, if any (the last line that sets or unsets
    /// an attribute wins for that attribute).
    pub fn exclusion(&self, path: &str) -> Option<Exclusion> {
        let (mut generated, mut vendored, mut no_diff) = (None, None, None);
        for (glob, attrs) in &self.lines {
            if !glob.is_match(path) {
                continue;
            }
            generated = attrs.generated.or(generated);
            vendored = attrs.vendored.or(vendored);
            no_diff = attrs.no_diff.or(no_diff);
        }
        if generated == Some(State::Set) {
            Some(Exclusion::LinguistGenerated)
        } else if vendored == Some(State::Set) {
            Some(Exclusion::LinguistVendored)
        } else if no_diff == Some(State::Set) {
            Some(Exclusion::NoDiff)
        } else {
            None
        }
    }
}

/// A gitattributes pattern as a glob over repository-relative paths, or `None` when it can
/// match no file (a directory pattern, a negation, a bad glob).
fn attribute_glob(pattern: &str) -> Option<GlobMatcher> {
    if pattern.starts_with('!') || pattern.ends_with('/') {
        return None;
    }
    let anchored = pattern.trim_start_matches('/');
    let glob = if pattern.contains('/') {
        anchored.to_string()
    } else {
        format!("**/{anchored}")
    };
    GlobBuilder::new(&glob)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .ok()
        .map(|g| g.compile_matcher())
}

/// What decides whether a path may be a hotspot.
#[derive(Debug)]
pub struct HotspotFilter {
    exclude: GlobSet,
    attributes: Attributes,
    markers: bool,
}

impl HotspotFilter {
    /// `exclude`: globs (see [`DEFAULT_HOTSPOT_EXCLUDE`]); `gitattributes`: the root
    /// `.gitattributes` text at HEAD, when it is to be respected; `markers`: look for
    /// generated-file markers.
    pub fn new(exclude: &[String], gitattributes: Option<&str>, markers: bool) -> Result<Self> {
        Ok(HotspotFilter {
            exclude: build_globset(exclude.iter().map(String::as_str), "hotspot exclude glob")?,
            attributes: gitattributes.map(Attributes::parse).unwrap_or_default(),
            markers,
        })
    }

    /// Why `path` cannot be a hotspot, from its name alone.
    pub fn by_path(&self, path: &str) -> Option<Exclusion> {
        if self.exclude.is_match(path) {
            return Some(Exclusion::Glob);
        }
        self.attributes.exclusion(path)
    }

    /// Whether `content` (a version of the file) carries a generated-file marker.
    pub fn is_generated(&self, content: &[u8]) -> bool {
        self.markers && has_generated_marker(content)
    }
}

/// `@generated` or `DO NOT EDIT` in the first [`GENERATED_MARKER_LINES`] lines.
pub fn has_generated_marker(content: &[u8]) -> bool {
    content
        .split(|&b| b == b'\n')
        .take(GENERATED_MARKER_LINES)
        .any(|line| {
            let line = &line[..line.len().min(400)];
            contains(line, b"@generated") || contains(line, b"DO NOT EDIT")
        })
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> HotspotFilter {
        let exclude: Vec<String> = DEFAULT_HOTSPOT_EXCLUDE
            .iter()
            .map(|s| s.to_string())
            .collect();
        HotspotFilter::new(&exclude, None, true).unwrap()
    }

    #[test]
    fn default_exclusions_spare_source_files() {
        let f = defaults();
        for excluded in [
            "Cargo.lock",
            "crates/x/Cargo.lock",
            "CHANGELOG.md",
            "crates/cli/CHANGELOG.md",
            "docs/en/docs/release-notes.md",
            "HISTORY.rst",
            "NEWS",
            "changelog.d/123.feature",
            "vendor/lib/a.c",
            "uv.lock",
        ] {
            assert_eq!(f.by_path(excluded), Some(Exclusion::Glob), "{excluded}");
        }
        for kept in [
            "src/history.rs",
            "pkg/news.py",
            "src/changes.rs",
            "src/vendor.rs",
            "README.md",
        ] {
            assert_eq!(f.by_path(kept), None, "{kept}");
        }
    }

    #[test]
    fn gitattributes_as_linguist_reads_them() {
        let attrs = Attributes::parse(
            "# comment\n\
             *.pb.go linguist-generated\n\
             docs/cli.md linguist-generated=true\n\
             /third/** linguist-vendored\n\
             *.svg -diff\n\
             *.bin binary\n\
             keep.pb.go -linguist-generated\n\
             dir/ linguist-generated\n\
             *.txt diff=plain\n",
        );
        let x = |p| attrs.exclusion(p);
        assert_eq!(x("api/a.pb.go"), Some(Exclusion::LinguistGenerated));
        assert_eq!(x("docs/cli.md"), Some(Exclusion::LinguistGenerated));
        assert_eq!(x("sub/docs/cli.md"), None, "a pattern with / is anchored");
        assert_eq!(x("third/x/y.c"), Some(Exclusion::LinguistVendored));
        assert_eq!(x("img/logo.svg"), Some(Exclusion::NoDiff));
        assert_eq!(x("a.bin"), Some(Exclusion::NoDiff));
        assert_eq!(x("keep.pb.go"), None, "a later -attr unsets");
        assert_eq!(x("dir/a.rs"), None, "directory patterns match no file");
        assert_eq!(x("a.txt"), None);
        assert_eq!(x("src/main.rs"), None);
    }

    #[test]
    fn generated_markers_in_the_first_lines_only() {
        assert!(has_generated_marker(
            b"// Code generated by protoc-gen-go. DO NOT EDIT.\npackage x\n"
        ));
        assert!(has_generated_marker(b"# x\n# @generated by tool\n"));
        assert!(!has_generated_marker(b"1\n2\n3\n4\n5\n6 DO NOT EDIT\n"));
        assert!(!has_generated_marker(b"fn main() {}\n"));
        let off = HotspotFilter::new(&[], None, false).unwrap();
        assert!(!off.is_generated(b"@generated\n"));
    }
}
