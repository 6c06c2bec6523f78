//! Git collector: what happened in the repository during one analysis window.
//!
//! It answers four questions for the detection rules: which commits landed (with per-file
//! line counts), which files are reworked, which commits were reverts, and which
//! configuration files churned.
//!
//! Why it is built the way it is:
//! - **Cost follows the window.** The walk starts at HEAD, newest first, and stops at the
//!   first commit older than the window start, so a twice-daily run over a repository with
//!   years of history reads only the commits of the last hours. [`GitActivity::visited`]
//!   reports how many commits the walk produced, so tests and benches can check it.
//! - **Numbers a user can check.** Per-file added/removed lines equal
//!   `git log --first-parent --numstat --no-renames --diff-merges=first-parent`: blobs are
//!   diffed with Myers (`gix-imara-diff`) over lines that *keep* their line endings (so CRLF
//!   and missing-final-newline changes count like git counts them), and a side whose first
//!   8000 bytes hold a NUL is binary (`None`, git prints `-`). gix's own `line_counts()` strips
//!   newlines and under-counts exactly those cases, which is why it is not used.
//! - **The default branch's own history.** The walk follows HEAD's first parents only, as
//!   `git log --first-parent` does: a feature branch or a maintenance branch merged forward
//!   arrives as its merge commit, one change (its diff against the first parent), not as
//!   the branch's commits replayed as new churn.
//! - **Signals, not noise.** Bulk commits (formatting, vendoring: more than
//!   [`GitOptions::bulk_commit_files`] files, code-maat's changeset cap) are left out of
//!   hotspots. Hotspots rank by rework ([`super::rework`]) over the files a maintainer edits
//!   by hand ([`super::linguist`]). The analyzer's own run log and state are always ignored,
//!   and commits by bot identities (the analyzer's own, dependency and CI bots; a merge of a
//!   bot's branch too) are skipped entirely and counted apart, so the analyzer never reacts
//!   to itself or to routine bumps.
//! - **Deterministic.** Every list has a documented total order, so the same repository and
//!   window give the same bytes of JSON.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::sync::OnceLock;

use anyhow::{anyhow, bail, Context, Result};
use chrono::{DateTime, TimeZone, Utc};
use gix::bstr::{BStr, ByteSlice};
use gix::hash::ObjectId;
use gix::objs::tree::EntryMode;
use gix::objs::FindExt;
use gix_imara_diff::{Algorithm, Diff, InternedInput};
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use regex::Regex;
use serde::Serialize;

use super::config_keys::{self, FileEvent, KeyHistory, KeyMap};
use super::linguist::{self, Exclusion, HotspotFilter};
use super::rework::{self, LineEdit, Ownership};

/// Commits touching more files than this are "bulk" and left out of hotspot counts
/// (code-maat's default changeset cap).
pub const DEFAULT_BULK_COMMIT_FILES: usize = 30;

/// Bot identities whose commits are skipped by default: dependency and CI bots (their
/// commits are routine: a version bump is nobody's rework) and the analyzer's own bot (loop
/// prevention). Counted apart in [`GitTotals::bot_commits`].
pub const DEFAULT_BOT_IDENTITIES: &[&str] = &[
    "codex-improvement[bot]",
    "github-actions[bot]",
    "dependabot[bot]",
    "renovate[bot]",
    "pre-commit-ci[bot]",
];

/// Paths that are never a signal, whatever the configuration says: the analyzer writes them
/// itself on every applied run, so counting them would make the analyzer react to its own
/// output. The `.*` entry covers the state file's backup and temporary siblings.
pub const ALWAYS_IGNORED_PATHS: &[&str] = &[
    ".codex/improvement-log.md",
    ".codex/improvement-state.json",
    ".codex/improvement-state.json.*",
];

/// Default configuration/metadata globs. Syntax is globset's with gitignore-like separators
/// (`*` does not cross `/`, `**/` matches any number of directories including none), matched
/// against repository-relative paths. A leading `!` excludes paths an earlier glob matched:
/// `.codex/` holds configuration, but also the captured tool-call data, which is not config.
pub const DEFAULT_CONFIG_GLOBS: &[&str] = &[
    // Rust
    "**/Cargo.toml",
    "**/Cargo.lock",
    "rust-toolchain",
    "rust-toolchain.toml",
    ".cargo/config",
    ".cargo/config.toml",
    "rustfmt.toml",
    ".rustfmt.toml",
    "clippy.toml",
    "deny.toml",
    // JavaScript / TypeScript
    "**/package.json",
    "**/package-lock.json",
    "**/yarn.lock",
    "**/pnpm-lock.yaml",
    "pnpm-workspace.yaml",
    "**/tsconfig*.json",
    ".npmrc",
    ".nvmrc",
    ".node-version",
    // Go
    "**/go.mod",
    "**/go.sum",
    "go.work",
    // Python
    "**/pyproject.toml",
    "**/requirements*.txt",
    "**/poetry.lock",
    "**/uv.lock",
    "**/Pipfile",
    "**/Pipfile.lock",
    "**/setup.cfg",
    ".python-version",
    // Other ecosystems
    "**/Gemfile",
    "**/Gemfile.lock",
    ".ruby-version",
    "**/pom.xml",
    "**/build.gradle",
    "**/build.gradle.kts",
    "**/settings.gradle",
    "**/settings.gradle.kts",
    // Toolchains and environments
    ".tool-versions",
    ".editorconfig",
    ".gitattributes",
    ".gitmodules",
    "**/Dockerfile",
    "**/docker-compose*.yml",
    "**/docker-compose*.yaml",
    // CI
    ".github/workflows/**",
    ".github/actions/**",
    ".github/dependabot.yml",
    ".gitlab-ci.yml",
    ".circleci/**",
    ".buildkite/**",
    "azure-pipelines.yml",
    "Jenkinsfile",
    // Agent instructions and configuration
    "**/AGENTS.md",
    "**/CLAUDE.md",
    ".claude/settings*.json",
    ".codex/**",
    "!.codex/**/*.ndjson",
    "!.codex/**/*.ndjson.*",
];

/// Lockfiles: they change because their manifest changed, so they are no config-churn
/// signal of their own (the manifest's change is). Same glob syntax as the config globs.
pub const DEFAULT_LOCKFILE_GLOBS: &[&str] = &[
    "**/Cargo.lock",
    "**/package-lock.json",
    "**/npm-shrinkwrap.json",
    "**/yarn.lock",
    "**/pnpm-lock.yaml",
    "**/bun.lockb",
    "**/bun.lock",
    "**/poetry.lock",
    "**/uv.lock",
    "**/pdm.lock",
    "**/Pipfile.lock",
    "**/go.sum",
    "**/go.work.sum",
    "**/Gemfile.lock",
    "**/composer.lock",
    "**/flake.lock",
    "**/mix.lock",
    "**/pubspec.lock",
    "**/Package.resolved",
    "**/gradle.lockfile",
    "**/packages.lock.json",
    "**/conan.lock",
];

/// The analysis window: commits whose committer time `t` satisfies `since <= t < until`.
///
/// Half-open so that back-to-back windows (one run's `until` is the next run's `since`)
/// never count a commit twice. Committer time, because that is what the history walk is
/// ordered and cut off by (and what `git log --since` uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct GitWindow {
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

impl GitWindow {
    /// The window `[since, until)`.
    pub fn new(since: DateTime<Utc>, until: DateTime<Utc>) -> Self {
        GitWindow { since, until }
    }

    /// The window of length `length` that ends at `until`.
    pub fn ending_at(until: DateTime<Utc>, length: chrono::Duration) -> Self {
        GitWindow {
            since: until - length,
            until,
        }
    }

    /// Whether a commit at `time` belongs to the window.
    pub fn contains(&self, time: DateTime<Utc>) -> bool {
        self.since <= time && time < self.until
    }
}

/// What to collect and what to leave out.
#[derive(Debug, Clone)]
pub struct GitOptions {
    pub window: GitWindow,
    /// Commits touching more files than this are bulk commits: listed, but left out of
    /// hotspot counts.
    pub bulk_commit_files: usize,
    /// Globs of configuration/metadata files whose churn is reported (see
    /// [`DEFAULT_CONFIG_GLOBS`] for the syntax; `!glob` excludes).
    pub config_globs: Vec<String>,
    /// Globs of paths that are no signal at all: they are flagged `ignored` in commit file
    /// lists and never counted in hotspots, reverts, config churn or totals.
    /// [`ALWAYS_IGNORED_PATHS`] are added whatever this holds.
    pub ignored_paths: Vec<String>,
    /// Author/committer names or emails of the analyzer's bot (e.g. `codex-improvement[bot]`).
    /// Matching commits are skipped entirely (loop prevention). Case-insensitive; a GitHub
    /// noreply email `<id>+<name>@users.noreply.github.com` matches `<name>` too.
    pub bot_identities: Vec<String>,
    /// Globs of lockfiles among the config files: listed in `config_changes` (flagged
    /// `lockfile`) but not compared key by key (see [`DEFAULT_LOCKFILE_GLOBS`]).
    pub lockfile_globs: Vec<String>,
    /// Globs of paths that are never hotspots (see [`linguist::DEFAULT_HOTSPOT_EXCLUDE`]).
    pub hotspot_exclude: Vec<String>,
    /// Respect `linguist-generated`, `linguist-vendored` and `-diff` in `.gitattributes` at
    /// HEAD for hotspots.
    pub gitattributes: bool,
    /// Files with an `@generated` / `DO NOT EDIT` marker in their first lines are never
    /// hotspots.
    pub generated_markers: bool,
}

impl GitOptions {
    /// Default options for `window`: bulk cap 30, [`DEFAULT_CONFIG_GLOBS`],
    /// [`ALWAYS_IGNORED_PATHS`], no bot identity, the default hotspot exclusions,
    /// `.gitattributes` and generated markers respected.
    pub fn new(window: GitWindow) -> Self {
        GitOptions {
            window,
            bulk_commit_files: DEFAULT_BULK_COMMIT_FILES,
            config_globs: DEFAULT_CONFIG_GLOBS.iter().map(|s| s.to_string()).collect(),
            ignored_paths: ALWAYS_IGNORED_PATHS.iter().map(|s| s.to_string()).collect(),
            bot_identities: Vec::new(),
            lockfile_globs: DEFAULT_LOCKFILE_GLOBS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            hotspot_exclude: linguist::DEFAULT_HOTSPOT_EXCLUDE
                .iter()
                .map(|s| s.to_string())
                .collect(),
            gitattributes: true,
            generated_markers: true,
        }
    }
}

/// Everything the git collector found in the window.
#[derive(Debug, Clone, Serialize)]
pub struct GitActivity {
    pub window: GitWindow,
    /// The commit HEAD pointed to, or `None` for an empty repository (unborn HEAD).
    pub head: Option<String>,
    /// Whether the repository is a shallow clone (the walk then stops at the shallow
    /// boundary, which git treats as a root commit).
    pub shallow: bool,
    /// Commits the history walk produced, in and after the window, bot commits included.
    /// It follows the size of the window, not of the history.
    pub visited: usize,
    /// Commits in the window on HEAD's first-parent chain, bot commits excluded; newest
    /// first (committer time descending, then sha ascending).
    pub commits: Vec<CommitInfo>,
    /// Per-file churn and rework of the files that can be hotspots, over non-bulk commits;
    /// most rework first, then most authors, most commits, path.
    pub hotspots: Vec<FileChurn>,
    /// Revert commits in the window, in the order of `commits`.
    pub reverts: Vec<RevertInfo>,
    /// Configuration files changed by non-merge commits in the window; most commits first,
    /// then path.
    pub config_changes: Vec<ConfigChange>,
    pub totals: GitTotals,
}

/// One commit in the window.
#[derive(Debug, Clone, Serialize)]
pub struct CommitInfo {
    pub sha: String,
    pub author_name: String,
    pub author_email: String,
    /// Committer time: the time the window is applied to.
    pub time: DateTime<Utc>,
    pub author_time: DateTime<Utc>,
    /// First paragraph of the message, lines joined by spaces (git's `%s`).
    pub subject: String,
    /// Parents as git sees them: a shallow-boundary commit has none.
    pub parents: usize,
    pub is_merge: bool,
    /// More files than [`GitOptions::bulk_commit_files`].
    pub is_bulk: bool,
    /// Every text file it modified changed only in formatting (whitespace, quote style,
    /// trailing commas: a formatter pass), and it added or deleted none.
    pub is_formatting: bool,
    /// Files changed relative to the first parent (the empty tree for a root commit), sorted
    /// by path; the same set and counts as `git log --numstat --no-renames
    /// --diff-merges=first-parent`.
    pub files: Vec<FileChange>,
}

/// How a path changed in a commit (`--no-renames`: a rename is a deletion plus an addition).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Added,
    Deleted,
    Modified,
}

/// One file changed by one commit.
#[derive(Debug, Clone, Serialize)]
pub struct FileChange {
    pub path: String,
    pub kind: ChangeKind,
    /// Lines added, or `None` for a binary file (git's `-`).
    pub added: Option<u64>,
    /// Lines removed, or `None` for a binary file (git's `-`).
    pub removed: Option<u64>,
    /// Matches an ignored path: listed for completeness, counted nowhere.
    pub ignored: bool,
    /// Matches a configuration glob (and is not ignored).
    pub is_config: bool,
    /// Why the file cannot be a hotspot (lockfile, changelog, generated, vendored, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hotspot_excluded: Option<Exclusion>,
}

/// Churn and rework of one file over the window's non-bulk, non-bot commits (a merge on the
/// first-parent chain is one change). Formatting-only changes of the file are not counted.
#[derive(Debug, Clone, Serialize)]
pub struct FileChurn {
    pub path: String,
    pub commits: usize,
    pub lines_added: u64,
    pub lines_removed: u64,
    /// Lines that a commit rewrote or deleted after an earlier window commit wrote them
    /// (whitespace-only and formatting changes excluded; see [`super::rework`]).
    pub rework_lines: u64,
    /// Commits that reworked lines of an earlier window commit, newest first.
    pub rework_shas: Vec<String>,
    /// Authors of the reworking commits and of the commits whose lines they reworked, sorted.
    pub rework_authors: Vec<String>,
    /// The file did not exist before the window's first change of it.
    pub created_in_window: bool,
    /// Author names, sorted and deduplicated.
    pub authors: Vec<String>,
    /// The commits, newest first.
    pub shas: Vec<String>,
    pub first_changed: DateTime<Utc>,
    pub last_changed: DateTime<Utc>,
}

/// A revert commit in the window.
#[derive(Debug, Clone, Serialize)]
pub struct RevertInfo {
    pub sha: String,
    pub time: DateTime<Utc>,
    pub author_name: String,
    pub subject: String,
    /// The commit named by `This reverts commit <sha>.`, expanded to the full sha when it
    /// exists in the repository.
    pub reverted_sha: Option<String>,
    /// The reverted commit's subject, from the commit itself when found, else from the
    /// quoted subject (`Revert "<subject>"`).
    pub reverted_subject: Option<String>,
    /// The reverted commit is itself in the window.
    pub reverted_in_window: bool,
    /// 1 for a revert, 2 for a revert of a revert (`Revert "Revert "..."` or git's
    /// `Reapply "..."`), and so on.
    pub depth: u32,
    pub revert_of_revert: bool,
    /// Non-ignored files the revert touched, sorted.
    pub files: Vec<String>,
    /// The change at the start of the revert chain: the reverted commit, or for a revert of
    /// a revert, the commit that was reverted and has now come back. Reverts with the same
    /// original are one story.
    pub original_sha: Option<String>,
    /// That commit's subject (from the commit, else the innermost quoted subject).
    pub original_subject: Option<String>,
}

/// Churn of one configuration file in the window.
#[derive(Debug, Clone, Serialize)]
pub struct ConfigChange {
    pub path: String,
    /// Non-merge commits that changed it.
    pub commits: usize,
    /// Those commits, newest first.
    pub shas: Vec<String>,
    pub lines_added: u64,
    pub lines_removed: u64,
    /// Author names, sorted and deduplicated.
    pub authors: Vec<String>,
    pub first_changed: DateTime<Utc>,
    pub last_changed: DateTime<Utc>,
    /// Revert commits in the window that touched it, newest first.
    pub reverted_by: Vec<String>,
    /// The file's content (and mode, and existence) after the window's last change equals its
    /// content before the window's first change: the churn cancelled out.
    pub returned_to_earlier_state: bool,
    /// `reverted_by` is not empty or `returned_to_earlier_state`.
    pub changed_and_reverted: bool,
    /// Matches a lockfile glob: listed, never compared key by key.
    pub lockfile: bool,
    /// Every key the window's commits changed, with its values commit by commit (see
    /// `config_keys`); sorted by key. Empty for lockfiles.
    pub keys: Vec<KeyHistory>,
    /// Changes whose before or after side could not be read as this file's format (a broken
    /// or binary file): left out of `keys` rather than read as every key removed and added.
    pub unparsed: usize,
}

/// Window totals.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GitTotals {
    /// Commits in the window (bot commits excluded).
    pub commits: usize,
    pub merges: usize,
    pub bulk_commits: usize,
    /// Commits whose text changes are formatting only.
    pub formatting_commits: usize,
    pub reverts: usize,
    /// Commits in the window by a bot identity, skipped entirely.
    pub bot_commits_skipped: usize,
    /// Those commits per bot (the matching author or committer name, lower-cased).
    pub bot_commits: BTreeMap<String, usize>,
    /// Files changed in the window that cannot be hotspots, per reason.
    pub hotspot_excluded: BTreeMap<Exclusion, usize>,
    /// Distinct author emails (case-insensitive).
    pub authors: usize,
    /// Distinct non-ignored paths changed by the commits.
    pub files_changed: usize,
    /// Lines added over the commits' non-ignored text files.
    pub lines_added: u64,
    /// Lines removed over the commits' non-ignored text files.
    pub lines_removed: u64,
    pub config_files_changed: usize,
}

/// Collect the activity of `opts.window` in the repository at `repo`.
///
/// `repo` is the top level of a checkout (or a `.git` directory / bare repository); it is
/// opened as is, without searching parent directories, and without reading global or system
/// git configuration. An empty repository (unborn HEAD) gives an empty result; a shallow
/// clone is walked down to its boundary.
pub fn collect(repo: &Path, opts: &GitOptions) -> Result<GitActivity> {
    let rules = PathRules::new(opts)?;
    let repo_handle = open_repository(repo)?;
    Collector {
        repo: &repo_handle,
        opts,
        rules: &rules,
        path: repo,
    }
    .run()
}

fn open_repository(path: &Path) -> Result<gix::Repository> {
    if !path.exists() {
        bail!(
            "repository path `{}` does not exist; pass the top level of a git checkout",
            path.display()
        );
    }
    let mut repo = gix::open_opts(path, gix::open::Options::isolated()).map_err(|err| {
        anyhow!(
            "`{}` is not a git repository ({err}); pass the top level of a git checkout \
             (the directory holding `.git`)",
            path.display()
        )
    })?;
    // Each commit's tree is diffed against its parent's, which is the next commit's tree in
    // the walk: a small object cache saves decoding the same trees twice.
    repo.object_cache_size_if_unset(8 * 1024 * 1024);
    Ok(repo)
}

/// Compiled path globs: what is ignored and what is configuration.
struct PathRules {
    ignored: GlobSet,
    lockfiles: GlobSet,
    config_include: GlobSet,
    config_exclude: GlobSet,
    bots: Vec<String>,
}

impl PathRules {
    fn new(opts: &GitOptions) -> Result<Self> {
        let ignored_patterns = ALWAYS_IGNORED_PATHS
            .iter()
            .copied()
            .chain(opts.ignored_paths.iter().map(String::as_str));
        let ignored = build_globset(ignored_patterns, "ignored path")?;
        let (excludes, includes): (Vec<&str>, Vec<&str>) = opts
            .config_globs
            .iter()
            .map(String::as_str)
            .partition(|p| p.starts_with('!'));
        let config_include = build_globset(includes.into_iter(), "config glob")?;
        let config_exclude = build_globset(
            excludes.into_iter().map(|p| &p[1..]),
            "config glob exclusion",
        )?;
        let lockfiles = build_globset(
            opts.lockfile_globs.iter().map(String::as_str),
            "lockfile glob",
        )?;
        let bots = opts
            .bot_identities
            .iter()
            .map(|b| b.trim().to_lowercase())
            .filter(|b| !b.is_empty())
            .collect();
        Ok(PathRules {
            ignored,
            lockfiles,
            config_include,
            config_exclude,
            bots,
        })
    }

    fn is_ignored(&self, path: &str) -> bool {
        self.ignored.is_match(path)
    }

    fn is_config(&self, path: &str) -> bool {
        self.config_include.is_match(path) && !self.config_exclude.is_match(path)
    }

    /// Whether a name/email pair belongs to a configured bot identity.
    #[cfg(test)]
    fn is_bot(&self, name: &str, email: &str) -> bool {
        self.bot(name, email).is_some()
    }

    /// The configured bot identity a name/email pair belongs to.
    fn bot(&self, name: &str, email: &str) -> Option<&str> {
        if self.bots.is_empty() {
            return None;
        }
        let name = name.trim().to_lowercase();
        let email = email.trim().to_lowercase();
        let local = email.split('@').next().unwrap_or("");
        // GitHub noreply addresses: `<numeric id>+<login>@users.noreply.github.com`.
        let login = match local.split_once('+') {
            Some((id, login)) if id.bytes().all(|b| b.is_ascii_digit()) => login,
            _ => local,
        };
        self.bots
            .iter()
            .find(|bot| **bot == name || **bot == email || (!login.is_empty() && **bot == login))
            .map(String::as_str)
    }
}

/// Compiles repository-path globs (`*` does not cross `/`); `what` names them in errors.
pub(crate) fn build_globset<'a>(
    patterns: impl Iterator<Item = &'a str>,
    what: &str,
) -> Result<GlobSet> {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        let glob = GlobBuilder::new(pattern)
            .literal_separator(true)
            .backslash_escape(true)
            .build()
            .with_context(|| format!("invalid {what} `{pattern}`: fix the glob syntax"))?;
        builder.add(glob);
    }
    builder
        .build()
        .with_context(|| format!("could not compile the {what} globs"))
}

/// One commit as read from the object database, before window-level aggregation.
struct Scanned {
    info: CommitInfo,
    /// (old, new) entry of each file in `info.files`, same order; used to tell whether a
    /// config file returned to an earlier state.
    sides: Vec<(Option<Side>, Option<Side>)>,
    /// The line edit of each file in `info.files`, same order, for text files that can be
    /// hotspots.
    edits: Vec<Option<LineEdit>>,
    revert: Option<RevertMark>,
}

/// What reading one commit gave.
enum ScanOutcome {
    Commit(Box<Scanned>),
    /// A commit by (or, for a merge, merging the work of) this bot identity.
    Bot(String),
}

/// A tree entry: mode and object id.
type Side = (EntryMode, ObjectId);

struct Collector<'a> {
    repo: &'a gix::Repository,
    opts: &'a GitOptions,
    rules: &'a PathRules,
    path: &'a Path,
}

/// The root `.gitattributes` at `head`, if there is one and it is text.
fn gitattributes_at(differ: &mut Differ<'_>, head: &ObjectId) -> Result<Option<String>> {
    let tree = differ.commit_tree(head)?;
    let repo = differ.repo;
    let mut buf = Vec::new();
    let entries = repo.objects.find_tree_iter(&tree, &mut buf)?;
    for entry in entries {
        let entry = entry?;
        if entry.filename == ".gitattributes" && entry.mode.is_blob() {
            let mut blob = Vec::new();
            let data = repo.objects.find_blob(entry.oid, &mut blob)?.data;
            return Ok(Some(lossy(data.as_bstr())));
        }
    }
    Ok(None)
}

impl Collector<'_> {
    fn run(&self) -> Result<GitActivity> {
        let repo = self.repo;
        let window = self.opts.window;
        let shallow_commits: HashSet<ObjectId> = repo
            .shallow_commits()
            .with_context(|| format!("reading the shallow file of `{}`", self.path.display()))?
            .map(|commits| commits.iter().copied().collect())
            .unwrap_or_default();
        let head = repo
            .head()
            .with_context(|| format!("reading HEAD of `{}`", self.path.display()))?
            .try_into_peeled_id()
            .with_context(|| format!("resolving HEAD of `{}`", self.path.display()))?
            .map(|id| id.detach());
        let mut activity = GitActivity {
            window,
            head: head.map(|h| h.to_string()),
            shallow: !shallow_commits.is_empty(),
            visited: 0,
            commits: Vec::new(),
            hotspots: Vec::new(),
            reverts: Vec::new(),
            config_changes: Vec::new(),
            totals: GitTotals::default(),
        };
        let Some(head) = head else {
            return Ok(activity);
        };

        let mut differ = Differ::new(repo);
        let gitattributes = if self.opts.gitattributes {
            gitattributes_at(&mut differ, &head)
                .with_context(|| format!("reading .gitattributes of `{}`", self.path.display()))?
        } else {
            None
        };
        let filter = HotspotFilter::new(
            &self.opts.hotspot_exclude,
            gitattributes.as_deref(),
            self.opts.generated_markers,
        )?;
        let mut scanned = Vec::new();
        // The default branch's own history: HEAD's first parents, newest first, down to the
        // first commit older than the window (committer times along a first-parent chain
        // only grow). Commits merged in (feature branches, maintenance branches merged
        // forward) arrive as their merge commit, one change.
        let mut next = Some(head);
        while let Some(id) = next {
            let (commit_time, first_parent) = differ
                .commit_time_and_first_parent(&id)
                .with_context(|| format!("walking the history of `{}`", self.path.display()))?;
            if commit_time < window.since {
                break;
            }
            activity.visited += 1;
            next = first_parent.filter(|_| !shallow_commits.contains(&id));
            if !window.contains(commit_time) {
                continue;
            }
            match self.scan_commit(&mut differ, &filter, id, &shallow_commits)? {
                ScanOutcome::Commit(commit) => scanned.push(*commit),
                ScanOutcome::Bot(bot) => {
                    activity.totals.bot_commits_skipped += 1;
                    *activity.totals.bot_commits.entry(bot).or_default() += 1;
                }
            }
        }
        scanned.sort_by(|a, b| {
            b.info
                .time
                .cmp(&a.info.time)
                .then_with(|| a.info.sha.cmp(&b.info.sha))
        });

        self.aggregate(&mut activity, scanned, &mut differ)?;
        Ok(activity)
    }

    /// Read and diff one commit, unless it is a bot commit.
    fn scan_commit(
        &self,
        differ: &mut Differ<'_>,
        filter: &HotspotFilter,
        id: ObjectId,
        shallow_commits: &HashSet<ObjectId>,
    ) -> Result<ScanOutcome> {
        let repo = self.repo;
        let mut buf = Vec::new();
        let commit = repo
            .objects
            .find_commit(&id, &mut buf)
            .with_context(|| format!("reading commit {id}"))?;
        let author = commit.author().ok().map(|s| s.trim());
        let committer = commit.committer().ok().map(|s| s.trim());
        let (author_name, author_email, author_secs) = author
            .map(|s| (lossy(s.name), lossy(s.email), s.seconds()))
            .unwrap_or_default();
        let (committer_name, committer_email, committer_secs) = committer
            .map(|s| (lossy(s.name), lossy(s.email), s.seconds()))
            .unwrap_or_default();
        if let Some(bot) = self
            .rules
            .bot(&author_name, &author_email)
            .or_else(|| self.rules.bot(&committer_name, &committer_email))
        {
            return Ok(ScanOutcome::Bot(bot.to_string()));
        }
        // A shallow-boundary commit's parents are not in the repository: git treats it as a
        // root commit, and so do we.
        let parents: Vec<ObjectId> = if shallow_commits.contains(&id) {
            Vec::new()
        } else {
            commit.parents().collect()
        };
        // A maintainer's merge of a bot's pull request is the bot's change.
        if let Some(merged) = parents.get(1) {
            if let Some(bot) = differ
                .commit_author(merged)
                .and_then(|(name, email)| self.rules.bot(&name, &email).map(str::to_string))
            {
                return Ok(ScanOutcome::Bot(bot));
            }
        }
        let subject = lossy(commit.message().summary().as_ref());
        let message = lossy(commit.message);
        let tree = commit.tree();

        let parent_tree = match parents.first() {
            Some(parent) => Some(
                differ
                    .commit_tree(parent)
                    .with_context(|| format!("reading parent {parent} of commit {id}"))?,
            ),
            None => None,
        };
        let changes = differ
            .tree_changes(parent_tree, tree)
            .with_context(|| format!("diffing commit {id} against its first parent"))?;

        let mut files = Vec::with_capacity(changes.len());
        let mut sides = Vec::with_capacity(changes.len());
        let mut edits = Vec::with_capacity(changes.len());
        for change in changes {
            let ignored = self.rules.is_ignored(&change.path);
            let is_config = !ignored && self.rules.is_config(&change.path);
            let mut hotspot_excluded = filter.by_path(&change.path);
            let diff = differ
                .diff_lines(
                    change.old,
                    change.new,
                    !ignored && hotspot_excluded.is_none(),
                    filter,
                )
                .with_context(|| format!("counting lines of `{}` in commit {id}", change.path))?;
            let counts = diff.as_ref().map(|d| (d.added, d.removed));
            let (edit, generated) = diff.map(|d| (d.edit, d.generated)).unwrap_or_default();
            if generated {
                hotspot_excluded = Some(Exclusion::GeneratedMarker);
            }
            edits.push(edit.filter(|_| hotspot_excluded.is_none()));
            files.push(FileChange {
                kind: match (change.old, change.new) {
                    (None, _) => ChangeKind::Added,
                    (_, None) => ChangeKind::Deleted,
                    _ => ChangeKind::Modified,
                },
                path: change.path,
                added: counts.map(|c| c.0),
                removed: counts.map(|c| c.1),
                ignored,
                is_config,
                hotspot_excluded,
            });
            sides.push((change.old, change.new));
        }
        let is_merge = parents.len() > 1;
        let is_bulk = files.len() > self.opts.bulk_commit_files;
        let is_formatting = files.iter().zip(&edits).any(|(_, e)| e.is_some())
            && files.iter().zip(&edits).all(|(f, e)| match e {
                Some(e) => e.formatting_only,
                // Binary, ignored or excluded files do not make a commit more than
                // formatting, but adding or deleting a file does.
                None => f.kind == ChangeKind::Modified,
            });
        let revert = parse_revert(&subject, &message);
        Ok(ScanOutcome::Commit(Box::new(Scanned {
            info: CommitInfo {
                sha: id.to_string(),
                author_name,
                author_email,
                time: to_utc(committer_secs),
                author_time: to_utc(author_secs),
                subject,
                parents: parents.len(),
                is_merge,
                is_bulk,
                is_formatting,
                files,
            },
            sides,
            edits,
            revert,
        })))
    }

    /// Turn the scanned commits (newest first) into hotspots, reverts, config churn, totals.
    fn aggregate(
        &self,
        activity: &mut GitActivity,
        scanned: Vec<Scanned>,
        differ: &mut Differ<'_>,
    ) -> Result<()> {
        let in_window: HashMap<&str, usize> = scanned
            .iter()
            .enumerate()
            .map(|(i, s)| (s.info.sha.as_str(), i))
            .collect();

        // Reverts first: config churn needs to know which commits are reverts.
        let mut reverts = Vec::new();
        for s in &scanned {
            let Some(mark) = &s.revert else { continue };
            let resolved = mark
                .reverted_sha
                .as_deref()
                .and_then(|hex| differ.resolve_commit(hex));
            let reverted_in_window = resolved
                .map(|id| in_window.contains_key(id.to_string().as_str()))
                .unwrap_or(false);
            let mut depth = mark.depth;
            let mut reverted_subject = mark.reverted_subject.clone();
            let mut original = None;
            if let Some(id) = resolved {
                if let Some((subject, message)) = differ.commit_message(&id) {
                    // The reverted commit's own revert depth, followed through the chain.
                    let inner = revert_chain_depth(differ, &subject, &message, 1);
                    depth = depth.max(inner + 1);
                    reverted_subject = Some(subject);
                    original = revert_chain_start(differ, id);
                }
            }
            let (original_sha, original_subject) = match original {
                Some((id, subject)) => (Some(id.to_string()), Some(subject)),
                // Unresolvable: the innermost quoted subject still names the change.
                None => (
                    mark.reverted_sha.clone().filter(|_| depth == 1),
                    mark.reverted_subject.clone(),
                ),
            };
            reverts.push(RevertInfo {
                sha: s.info.sha.clone(),
                time: s.info.time,
                author_name: s.info.author_name.clone(),
                subject: s.info.subject.clone(),
                reverted_sha: resolved
                    .map(|id| id.to_string())
                    .or_else(|| mark.reverted_sha.clone()),
                reverted_subject,
                reverted_in_window,
                depth,
                revert_of_revert: depth >= 2,
                files: s
                    .info
                    .files
                    .iter()
                    .filter(|f| !f.ignored)
                    .map(|f| f.path.clone())
                    .collect(),
                original_sha,
                original_subject,
            });
        }

        let mut config: BTreeMap<&str, ConfigAcc> = BTreeMap::new();
        let mut excluded: BTreeMap<&str, Exclusion> = BTreeMap::new();
        let mut authors = BTreeSet::new();
        let mut files_changed = BTreeSet::new();
        let totals = &mut activity.totals;
        for s in &scanned {
            let c = &s.info;
            totals.commits += 1;
            authors.insert(c.author_email.to_lowercase());
            // A merge on the first-parent chain is one change: its diff against the first
            // parent is what the default branch received.
            if c.is_merge {
                totals.merges += 1;
            }
            if c.is_bulk {
                totals.bulk_commits += 1;
            }
            if c.is_formatting {
                totals.formatting_commits += 1;
            }
            for (file, sides) in c.files.iter().zip(&s.sides) {
                if file.ignored {
                    continue;
                }
                files_changed.insert(file.path.as_str());
                let (added, removed) = (file.added.unwrap_or(0), file.removed.unwrap_or(0));
                totals.lines_added += added;
                totals.lines_removed += removed;
                if let Some(why) = file.hotspot_excluded {
                    excluded.entry(file.path.as_str()).or_insert(why);
                }
                if file.is_config {
                    let acc = config.entry(file.path.as_str()).or_default();
                    // `scanned` is newest first: the first event seen is the newest change.
                    acc.events.push(ConfigEvent {
                        sha: c.sha.clone(),
                        time: c.time,
                        author: c.author_name.clone(),
                        added,
                        removed,
                        before: sides.0,
                        after: sides.1,
                        is_revert: s.revert.is_some(),
                    });
                }
            }
        }
        totals.authors = authors.len();
        totals.files_changed = files_changed.len();
        totals.reverts = reverts.len();
        totals.config_files_changed = config.len();
        for why in excluded.values() {
            *totals.hotspot_excluded.entry(*why).or_default() += 1;
        }
        let hotspots = hotspots(&scanned, &excluded);

        let mut config_changes: Vec<ConfigChange> = config
            .into_iter()
            .map(|(path, acc)| {
                let lockfile = self.rules.lockfiles.is_match(path);
                acc.finish(path, lockfile, differ)
            })
            .collect::<Result<_>>()?;
        config_changes.sort_by(|a, b| b.commits.cmp(&a.commits).then_with(|| a.path.cmp(&b.path)));

        activity.hotspots = hotspots;
        activity.config_changes = config_changes;
        activity.reverts = reverts;
        activity.commits = scanned.into_iter().map(|s| s.info).collect();
        Ok(())
    }
}

/// Churn and rework per file that can be a hotspot, following line ownership through the
/// commits oldest first. Bulk commits pass ownership on but count nowhere; a file's
/// formatting-only changes do not count for it.
fn hotspots(scanned: &[Scanned], excluded: &BTreeMap<&str, Exclusion>) -> Vec<FileChurn> {
    struct Acc {
        churn: FileChurn,
        ownership: Ownership,
        seen: bool,
    }
    let newest = scanned.len().saturating_sub(1);
    let mut files: BTreeMap<&str, Acc> = BTreeMap::new();
    // `scanned` is newest first; `k` counts oldest first.
    for (k, s) in scanned.iter().rev().enumerate() {
        let c = &s.info;
        // Lines this commit adds anywhere: removing one of them elsewhere is a move.
        let moved: HashSet<u64> = s
            .edits
            .iter()
            .flatten()
            .flat_map(LineEdit::added_hashes)
            .collect();
        for (file, edit) in c.files.iter().zip(&s.edits) {
            let Some(edit) = edit else { continue };
            if excluded.contains_key(file.path.as_str()) {
                continue;
            }
            let acc = files.entry(file.path.as_str()).or_insert_with(|| Acc {
                churn: FileChurn {
                    path: file.path.clone(),
                    commits: 0,
                    lines_added: 0,
                    lines_removed: 0,
                    rework_lines: 0,
                    rework_shas: Vec::new(),
                    rework_authors: Vec::new(),
                    created_in_window: false,
                    authors: Vec::new(),
                    shas: Vec::new(),
                    first_changed: c.time,
                    last_changed: c.time,
                },
                ownership: Ownership::default(),
                seen: false,
            });
            if !acc.seen {
                acc.seen = true;
                acc.churn.created_in_window = file.kind == ChangeKind::Added;
            }
            let applied = acc.ownership.apply(k as u32, edit, !c.is_bulk, &moved);
            if c.is_bulk || edit.formatting_only {
                continue;
            }
            let churn = &mut acc.churn;
            churn.commits += 1;
            churn.lines_added += file.added.unwrap_or(0);
            churn.lines_removed += file.removed.unwrap_or(0);
            churn.authors.push(c.author_name.clone());
            churn.shas.push(c.sha.clone());
            churn.first_changed = churn.first_changed.min(c.time);
            churn.last_changed = churn.last_changed.max(c.time);
            if applied.rework_lines > 0 {
                churn.rework_lines += applied.rework_lines;
                churn.rework_shas.push(c.sha.clone());
                churn.rework_authors.push(c.author_name.clone());
                churn.rework_authors.extend(
                    applied.reworked.iter().map(|&earlier| {
                        scanned[newest - earlier as usize].info.author_name.clone()
                    }),
                );
            }
        }
    }
    let mut hotspots: Vec<FileChurn> = files
        .into_values()
        .map(|acc| acc.churn)
        .filter(|h| h.commits > 0)
        .map(|mut h| {
            h.authors.sort();
            h.authors.dedup();
            h.rework_authors.sort();
            h.rework_authors.dedup();
            h.shas.reverse();
            h.rework_shas.reverse();
            h
        })
        .collect();
    hotspots.sort_by(|a, b| {
        b.rework_lines
            .cmp(&a.rework_lines)
            .then_with(|| b.rework_authors.len().cmp(&a.rework_authors.len()))
            .then_with(|| b.commits.cmp(&a.commits))
            .then_with(|| (b.lines_added + b.lines_removed).cmp(&(a.lines_added + a.lines_removed)))
            .then_with(|| a.path.cmp(&b.path))
    });
    hotspots
}

/// One change of a config file, for the churn aggregation.
struct ConfigEvent {
    sha: String,
    time: DateTime<Utc>,
    author: String,
    added: u64,
    removed: u64,
    before: Option<Side>,
    after: Option<Side>,
    is_revert: bool,
}

/// Changes of one config file, newest first.
#[derive(Default)]
struct ConfigAcc {
    events: Vec<ConfigEvent>,
}

impl ConfigAcc {
    fn finish(self, path: &str, lockfile: bool, differ: &mut Differ<'_>) -> Result<ConfigChange> {
        let events = self.events;
        // Newest first: the last element is the oldest change.
        let newest = events
            .first()
            .expect("a config entry has at least one change");
        let oldest = events
            .last()
            .expect("a config entry has at least one change");
        let returned_to_earlier_state = events.len() >= 2 && oldest.before == newest.after;
        let reverted_by: Vec<String> = events
            .iter()
            .filter(|e| e.is_revert)
            .map(|e| e.sha.clone())
            .collect();
        let mut authors: Vec<String> = events.iter().map(|e| e.author.clone()).collect();
        authors.sort();
        authors.dedup();
        let (keys, unparsed) = if lockfile {
            (Vec::new(), 0)
        } else {
            key_level(differ, path, &events)?
        };
        Ok(ConfigChange {
            path: path.to_string(),
            commits: events.len(),
            shas: events.iter().map(|e| e.sha.clone()).collect(),
            lines_added: events.iter().map(|e| e.added).sum(),
            lines_removed: events.iter().map(|e| e.removed).sum(),
            authors,
            first_changed: events.iter().map(|e| e.time).min().unwrap_or(oldest.time),
            last_changed: events.iter().map(|e| e.time).max().unwrap_or(newest.time),
            changed_and_reverted: returned_to_earlier_state || !reverted_by.is_empty(),
            reverted_by,
            returned_to_earlier_state,
            lockfile,
            keys,
            unparsed,
        })
    }
}

/// Each change of the file (`events`, newest first) compared key by key: both sides read
/// and flattened (each blob once), the key histories built oldest first.
fn key_level(
    differ: &mut Differ<'_>,
    path: &str,
    events: &[ConfigEvent],
) -> Result<(Vec<KeyHistory>, usize)> {
    let mut maps: HashMap<ObjectId, Option<KeyMap>> = HashMap::new();
    let empty = KeyMap::new();
    for side in events.iter().flat_map(|e| [e.before, e.after]).flatten() {
        if maps.contains_key(&side.1) {
            continue;
        }
        let mut buf = Vec::new();
        let data = side_content(differ.repo, side, &mut buf)
            .with_context(|| format!("reading `{path}` at blob {}", side.1))?;
        let map = match std::str::from_utf8(data) {
            Ok(text) if !is_binary(data) => config_keys::flatten(path, text).ok(),
            _ => None,
        };
        maps.insert(side.1, map);
    }
    let flat = |side: Option<Side>| match side {
        None => Some(&empty),
        Some(s) => maps.get(&s.1).and_then(Option::as_ref),
    };
    let mut unparsed = 0;
    let mut file_events = Vec::with_capacity(events.len());
    for e in events.iter().rev() {
        match (flat(e.before), flat(e.after)) {
            (Some(before), Some(after)) => file_events.push(FileEvent {
                sha: &e.sha,
                before,
                after,
                revert: e.is_revert,
            }),
            _ => unparsed += 1,
        }
    }
    Ok((config_keys::key_histories(&file_events), unparsed))
}

/// What a commit message says about being a revert.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RevertMark {
    /// 1 for `Revert "x"`, 2 for `Revert "Revert "x""` or `Reapply "x"`, ...
    depth: u32,
    /// The innermost quoted subject, when the subject has git's revert form.
    reverted_subject: Option<String>,
    /// The (possibly abbreviated) sha of `This reverts commit <sha>`.
    reverted_sha: Option<String>,
}

fn revert_subject_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    // git writes `Revert "<subject>"`, and since 2.43 `Reapply "<subject>"` for the revert of
    // a revert; GitHub's revert button adds ` (#<pr>)` when it squash-merges.
    RE.get_or_init(|| {
        Regex::new(r#"^(Revert|Reapply) "(.*)"(?: \(#[0-9]+\))?$"#).expect("valid regex")
    })
}

fn reverts_commit_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"This reverts commit ([0-9a-fA-F]{7,64})").expect("valid regex"))
}

/// Recognize a revert from its subject and full message.
fn parse_revert(subject: &str, message: &str) -> Option<RevertMark> {
    let mut depth = 0;
    let mut inner = subject.trim();
    while let Some(caps) = revert_subject_regex().captures(inner) {
        depth += if &caps[1] == "Reapply" { 2 } else { 1 };
        inner = caps.get(2).map_or("", |m| m.as_str());
    }
    let reverted_sha = reverts_commit_regex()
        .captures(message)
        .map(|c| c[1].to_ascii_lowercase());
    if depth == 0 && reverted_sha.is_none() {
        return None;
    }
    Some(RevertMark {
        depth: depth.max(1),
        reverted_subject: (depth > 0).then(|| inner.to_string()),
        reverted_sha,
    })
}

/// Revert depth of a commit message, following `This reverts commit` links (bounded, since a
/// chain of reverts is short and a crafted loop must not hang the run).
fn revert_chain_depth(differ: &mut Differ<'_>, subject: &str, message: &str, hops: u32) -> u32 {
    let Some(mark) = parse_revert(subject, message) else {
        return 0;
    };
    if hops >= 16 {
        return mark.depth;
    }
    let linked = mark
        .reverted_sha
        .as_deref()
        .and_then(|hex| differ.resolve_commit(hex))
        .and_then(|id| differ.commit_message(&id))
        .map(|(s, m)| revert_chain_depth(differ, &s, &m, hops + 1) + 1)
        .unwrap_or(0);
    mark.depth.max(linked)
}

/// The line diff of one file change.
struct TextDiff {
    added: u64,
    removed: u64,
    /// For files that can be hotspots: what rework tracking needs.
    edit: Option<LineEdit>,
    /// The file's latest version here carries a generated-file marker.
    generated: bool,
}

/// The commit at the start of a revert chain that `reverted` belongs to: `reverted` itself
/// unless it is a revert whose target exists, then that target's start (bounded, as for
/// [`revert_chain_depth`]). With its subject.
fn revert_chain_start(differ: &mut Differ<'_>, reverted: ObjectId) -> Option<(ObjectId, String)> {
    let mut id = reverted;
    for _ in 0..16 {
        let (subject, message) = differ.commit_message(&id)?;
        let next = parse_revert(&subject, &message)
            .and_then(|m| m.reverted_sha)
            .and_then(|hex| differ.resolve_commit(&hex));
        match next {
            Some(next) => id = next,
            None => return Some((id, subject)),
        }
    }
    let (subject, _) = differ.commit_message(&id)?;
    Some((id, subject))
}

/// One changed non-tree entry, with `--no-renames` semantics.
struct TreeChange {
    path: String,
    old: Option<Side>,
    new: Option<Side>,
}

/// Tree and blob diffing with reused buffers.
struct Differ<'r> {
    repo: &'r gix::Repository,
    state: gix::diff::tree::State,
    lhs: Vec<u8>,
    rhs: Vec<u8>,
    old_blob: Vec<u8>,
    new_blob: Vec<u8>,
    commit: Vec<u8>,
}

/// git treats files above `core.bigFileThreshold` (512 MiB by default) as binary.
const BIG_FILE_THRESHOLD: usize = 512 * 1024 * 1024;
/// git's `buffer_is_binary` looks for a NUL in this many leading bytes.
const BINARY_SNIFF_BYTES: usize = 8000;

impl<'r> Differ<'r> {
    fn new(repo: &'r gix::Repository) -> Self {
        Differ {
            repo,
            state: Default::default(),
            lhs: Vec::new(),
            rhs: Vec::new(),
            old_blob: Vec::new(),
            new_blob: Vec::new(),
            commit: Vec::new(),
        }
    }

    fn commit_tree(&mut self, id: &ObjectId) -> Result<ObjectId> {
        let mut iter = self.repo.objects.find_commit_iter(id, &mut self.commit)?;
        Ok(iter.tree_id()?)
    }

    /// The full id of an existing commit named by a full or abbreviated hex sha.
    fn resolve_commit(&mut self, hex: &str) -> Option<ObjectId> {
        let id = if hex.len() == self.repo.object_hash().len_in_hex() {
            ObjectId::from_hex(hex.as_bytes()).ok()?
        } else {
            let prefix = gix::hash::Prefix::from_hex(hex).ok()?;
            self.repo.objects.lookup_prefix(prefix, None).ok()??.ok()?
        };
        self.repo
            .objects
            .find_commit_iter(&id, &mut self.commit)
            .ok()
            .map(|_| id)
    }

    /// Subject and full message of an existing commit.
    fn commit_message(&mut self, id: &ObjectId) -> Option<(String, String)> {
        let commit = self.repo.objects.find_commit(id, &mut self.commit).ok()?;
        Some((
            lossy(commit.message().summary().as_ref()),
            lossy(commit.message),
        ))
    }

    /// Changed non-tree entries between two trees (`None`: the empty tree), sorted by path.
    fn tree_changes(&mut self, old: Option<ObjectId>, new: ObjectId) -> Result<Vec<TreeChange>> {
        let hash_kind = self.repo.object_hash();
        let lhs = match old {
            Some(id) => self.repo.objects.find_tree_iter(&id, &mut self.lhs)?,
            None => gix::objs::TreeRefIter::from_bytes(&[], hash_kind),
        };
        let rhs = self.repo.objects.find_tree_iter(&new, &mut self.rhs)?;
        let mut recorder = gix::diff::tree::Recorder::default();
        gix::diff::tree(lhs, rhs, &mut self.state, &self.repo.objects, &mut recorder)?;
        use gix::diff::tree::recorder::Change;
        let mut changes: Vec<TreeChange> = recorder
            .records
            .into_iter()
            .filter_map(|change| match change {
                Change::Addition {
                    entry_mode,
                    oid,
                    path,
                    ..
                } => (!entry_mode.is_tree()).then(|| TreeChange {
                    path: lossy(path.as_ref()),
                    old: None,
                    new: Some((entry_mode, oid)),
                }),
                Change::Deletion {
                    entry_mode,
                    oid,
                    path,
                    ..
                } => (!entry_mode.is_tree()).then(|| TreeChange {
                    path: lossy(path.as_ref()),
                    old: Some((entry_mode, oid)),
                    new: None,
                }),
                Change::Modification {
                    previous_entry_mode,
                    previous_oid,
                    entry_mode,
                    oid,
                    path,
                } => match (previous_entry_mode.is_tree(), entry_mode.is_tree()) {
                    (true, true) => None,
                    // The tree diff reports a tree<->non-tree swap as deletion plus addition;
                    // keep only the non-tree side should it ever come as a modification.
                    (true, false) => Some(TreeChange {
                        path: lossy(path.as_ref()),
                        old: None,
                        new: Some((entry_mode, oid)),
                    }),
                    (false, true) => Some(TreeChange {
                        path: lossy(path.as_ref()),
                        old: Some((previous_entry_mode, previous_oid)),
                        new: None,
                    }),
                    (false, false) => Some(TreeChange {
                        path: lossy(path.as_ref()),
                        old: Some((previous_entry_mode, previous_oid)),
                        new: Some((entry_mode, oid)),
                    }),
                },
            })
            .collect();
        changes.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(changes)
    }

    /// Committer time and first parent of a commit.
    fn commit_time_and_first_parent(
        &mut self,
        id: &ObjectId,
    ) -> Result<(DateTime<Utc>, Option<ObjectId>)> {
        let commit = self
            .repo
            .objects
            .find_commit(id, &mut self.commit)
            .with_context(|| format!("reading commit {id}"))?;
        let time = commit
            .committer()
            .map(|s| s.seconds())
            .with_context(|| format!("reading the committer of {id}"))?;
        let first_parent = commit.parents().next();
        Ok((to_utc(time), first_parent))
    }

    /// Author name and email of an existing commit.
    fn commit_author(&mut self, id: &ObjectId) -> Option<(String, String)> {
        let commit = self.repo.objects.find_commit(id, &mut self.commit).ok()?;
        let author = commit.author().ok()?.trim();
        Some((lossy(author.name), lossy(author.email)))
    }

    /// Added/removed lines as `git diff --numstat` counts them, or `None` for binary; with
    /// `track`, also the line edit for rework and whether the file carries a generated
    /// marker.
    fn diff_lines(
        &mut self,
        old: Option<Side>,
        new: Option<Side>,
        track: bool,
        filter: &HotspotFilter,
    ) -> Result<Option<TextDiff>> {
        let repo = self.repo;
        let old_data: &[u8] = match old {
            Some(side) => side_content(repo, side, &mut self.old_blob)?,
            None => &[],
        };
        let new_data: &[u8] = match new {
            Some(side) => side_content(repo, side, &mut self.new_blob)?,
            None => &[],
        };
        if is_binary(old_data) || is_binary(new_data) {
            return Ok(None);
        }
        let counts_only = |added, removed| TextDiff {
            added,
            removed,
            edit: None,
            generated: false,
        };
        if old.map(|s| s.1) == new.map(|s| s.1) {
            // Mode-only change: git prints `0 0`.
            return Ok(Some(counts_only(0, 0)));
        }
        if track {
            let (added, removed, edit) = rework::diff_lines(old_data, new_data);
            let latest = if new.is_some() { new_data } else { old_data };
            return Ok(Some(TextDiff {
                added,
                removed,
                edit: Some(edit),
                generated: filter.is_generated(latest),
            }));
        }
        if old_data.is_empty() || new_data.is_empty() {
            return Ok(Some(counts_only(
                count_lines(new_data),
                count_lines(old_data),
            )));
        }
        // Lines keep their terminators, so `a\r\n` -> `a\n` and `a` -> `a\n` are changes, as
        // they are for git.
        let input = InternedInput::new(old_data, new_data);
        let diff = Diff::compute(Algorithm::Myers, &input);
        Ok(Some(counts_only(
            u64::from(diff.count_additions()),
            u64::from(diff.count_removals()),
        )))
    }
}

/// The bytes git diffs for a tree entry: the blob, or for a submodule the line git
/// synthesizes (`Subproject commit <sha>`).
fn side_content<'b>(repo: &gix::Repository, side: Side, buf: &'b mut Vec<u8>) -> Result<&'b [u8]> {
    let (mode, oid) = side;
    if mode.is_commit() {
        buf.clear();
        buf.extend_from_slice(format!("Subproject commit {oid}\n").as_bytes());
        return Ok(buf.as_slice());
    }
    Ok(repo.objects.find_blob(&oid, buf)?.data)
}

fn is_binary(data: &[u8]) -> bool {
    data.len() > BIG_FILE_THRESHOLD || data[..data.len().min(BINARY_SNIFF_BYTES)].contains(&0)
}

/// Lines as git counts them: a final line without a newline still counts.
fn count_lines(data: &[u8]) -> u64 {
    let newlines = data.iter().filter(|&&b| b == b'\n').count() as u64;
    newlines + u64::from(data.last().is_some_and(|&b| b != b'\n'))
}

fn lossy(bytes: &BStr) -> String {
    bytes.to_str_lossy().into_owned()
}

fn to_utc(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(seconds, 0)
        .single()
        .unwrap_or(DateTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revert_subjects_and_bodies() {
        let plain = parse_revert(
            "Revert \"add x\"",
            "Revert \"add x\"\n\nThis reverts commit abcdef1234567.\n",
        )
        .unwrap();
        assert_eq!(plain.depth, 1);
        assert_eq!(plain.reverted_subject.as_deref(), Some("add x"));
        assert_eq!(plain.reverted_sha.as_deref(), Some("abcdef1234567"));

        let twice = parse_revert("Revert \"Revert \"add x\"\"", "").unwrap();
        assert_eq!(twice.depth, 2);
        assert_eq!(twice.reverted_subject.as_deref(), Some("add x"));

        let reapply = parse_revert("Reapply \"add x\" (#12)", "").unwrap();
        assert_eq!(reapply.depth, 2);

        let body_only = parse_revert(
            "undo the flag",
            "undo\n\nThis reverts commit 0123456789abcdef0123456789abcdef01234567.",
        )
        .unwrap();
        assert_eq!(body_only.depth, 1);
        assert_eq!(body_only.reverted_subject, None);

        assert_eq!(
            parse_revert("Reverting to old behaviour", "no marker"),
            None
        );
        assert_eq!(
            parse_revert("Revert the flag", "This reverts nothing"),
            None
        );
    }

    #[test]
    fn path_rules() {
        let mut opts = GitOptions::new(GitWindow::new(to_utc(0), to_utc(1)));
        opts.ignored_paths = vec!["vendor/**".into()];
        opts.bot_identities = vec!["codex-improvement[bot]".into()];
        let rules = PathRules::new(&opts).unwrap();
        assert!(
            rules.is_ignored(".codex/improvement-log.md"),
            "always ignored"
        );
        assert!(rules.is_ignored(".codex/improvement-state.json.bak"));
        assert!(rules.is_ignored("vendor/a/b.rs"));
        assert!(!rules.is_ignored("src/vendor.rs"));
        assert!(rules.is_config("Cargo.toml"));
        assert!(rules.is_config("crates/x/Cargo.toml"));
        assert!(rules.is_config(".github/workflows/ci.yml"));
        assert!(rules.is_config(".codex/improvement.toml"));
        assert!(
            !rules.is_config(".codex/toolcalls.ndjson"),
            "captured data is not config"
        );
        assert!(rules.is_config("requirements-dev.txt"));
        assert!(!rules.is_config("src/Cargo.toml.rs"));
        assert!(!rules.is_config("src/main.rs"));
        assert!(rules.is_bot("codex-improvement[bot]", "x@y"));
        assert!(rules.is_bot(
            "someone",
            "41898282+codex-improvement[bot]@users.noreply.github.com"
        ));
        assert!(!rules.is_bot("alice", "alice@example.com"));
    }

    #[test]
    fn line_counting_matches_git() {
        assert_eq!(count_lines(b""), 0);
        assert_eq!(count_lines(b"a"), 1);
        assert_eq!(count_lines(b"a\n"), 1);
        assert_eq!(count_lines(b"a\r\nb"), 2);
        assert!(is_binary(b"ab\0c"));
        assert!(!is_binary(b"abc"));
        let mut late_nul = vec![b'a'; BINARY_SNIFF_BYTES];
        late_nul.push(0);
        assert!(
            !is_binary(&late_nul),
            "git only sniffs the first 8000 bytes"
        );
    }
}
