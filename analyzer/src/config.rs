//! `.codex/improvement.toml`: windows, paths and rule thresholds. Every key is optional; the
//! defaults are the spec's (`docs/analyzer.md`, "Configuration"). Typos inside known
//! sections are errors (a misspelt threshold silently ignored would change what gets
//! ticketed); unknown top-level sections are kept in [`Config::extra`] for the stages that
//! own them (`[github]`, `[signals]`, ...), which read them with [`Config::section`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use chrono::Duration;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The config file's path relative to the repository root.
pub const CONFIG_REL: &str = ".codex/improvement.toml";

#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, Default)]
#[serde(default)]
pub struct Config {
    pub analysis: AnalysisConfig,
    pub rules: RulesConfig,
    pub git: GitConfig,
    /// Sections owned by other stages (`[github]`, `[signals]`, ...), verbatim.
    #[serde(flatten)]
    pub extra: BTreeMap<String, toml::Value>,
}

#[derive(Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AnalysisConfig {
    /// The primary window (`12h`): activity, tool-call analysis and impact deltas.
    pub window: String,
    /// The rollup window (`24h`): what the detection rules count over.
    pub rollup: String,
    /// The local CI-log folder, relative to the repository.
    pub ci_logs_dir: String,
    /// The run log, relative to the repository.
    pub run_log: String,
    /// The state file, relative to the repository.
    pub state: String,
    /// How many failing command signatures are listed.
    pub top_commands: usize,
    /// How many redacted samples are kept per finding, error type or signature.
    pub samples: usize,
    /// The ticket budget: at most this many new tickets per run, highest impact first;
    /// refreshing an existing ticket costs nothing, the rest is held back on the watch list
    /// (`triage`).
    pub max_new_tickets: usize,
}

impl Default for AnalysisConfig {
    fn default() -> Self {
        AnalysisConfig {
            window: "12h".into(),
            rollup: "24h".into(),
            ci_logs_dir: ".codex/ci-logs".into(),
            run_log: ".codex/improvement-log.md".into(),
            state: ".codex/improvement-state.json".into(),
            top_commands: 10,
            samples: 3,
            max_new_tickets: crate::triage::DEFAULT_MAX_NEW_TICKETS,
        }
    }
}

#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct RulesConfig {
    pub error_type_repeat: ErrorTypeRepeat,
    pub ci_signature_repeat: CiSignatureRepeat,
    pub tool_failure_rate: ToolFailureRate,
    pub file_hotspot: FileHotspot,
    pub config_churn: ConfigChurn,
    pub revert: Revert,
}

/// An error type seen `min_count`+ times in the rollup.
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ErrorTypeRepeat {
    pub enabled: bool,
    pub min_count: u64,
    /// Error types never reported (e.g. `approval_denied` when denials are expected).
    pub ignore: Vec<String>,
}

impl Default for ErrorTypeRepeat {
    fn default() -> Self {
        ErrorTypeRepeat {
            enabled: true,
            min_count: 2,
            ignore: Vec::new(),
        }
    }
}

/// A CI failure signature seen `min_count`+ times in the rollup.
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct CiSignatureRepeat {
    pub enabled: bool,
    pub min_count: u64,
    /// Report transient infrastructure failures too (default: they stay in the run log).
    pub include_transient: bool,
}

impl Default for CiSignatureRepeat {
    fn default() -> Self {
        CiSignatureRepeat {
            enabled: true,
            min_count: 2,
            include_transient: false,
        }
    }
}

/// A tool failing more than `max_rate` of its definite calls, with at least `min_samples`.
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ToolFailureRate {
    pub enabled: bool,
    pub max_rate: f64,
    pub min_samples: u64,
}

impl Default for ToolFailureRate {
    fn default() -> Self {
        ToolFailureRate {
            enabled: true,
            max_rate: 0.10,
            min_samples: 10,
        }
    }
}

/// A file reworked in the rollup: lines written in the window rewritten or deleted again
/// (`collect::rework`). All thresholds must hold. The seed's literal rule (a file in 4+
/// commits) is `min_commits = 4`, `min_rework_lines = 0`, `min_reworking_commits = 0`,
/// `min_authors = 1` (with `min_rework_lines = 0`, `min_authors` counts the file's authors).
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct FileHotspot {
    pub enabled: bool,
    /// Commits that changed the file (formatting-only and bulk changes not counted).
    pub min_commits: u64,
    /// Lines written in the window and rewritten or deleted by a later window commit.
    pub min_rework_lines: u64,
    /// Commits that reworked an earlier window commit's lines.
    pub min_reworking_commits: u64,
    /// Distinct authors involved in the rework: those of the reworking commits and of the
    /// commits whose lines they rewrote. 2 by default: one person iterating on their own new
    /// code in a day is ordinary development; people rewriting each other's fresh code is
    /// not.
    pub min_authors: u64,
    /// Paths that are never hotspots (replaces the built-in list of lockfiles, changelogs,
    /// release notes and vendored directories).
    pub exclude: Vec<String>,
    /// Globs added to `exclude` (the usual way to extend it).
    pub extra_exclude: Vec<String>,
    /// Leave out files `.gitattributes` marks `linguist-generated`, `linguist-vendored` or
    /// `-diff`/`binary`, as GitHub does.
    pub gitattributes: bool,
    /// Leave out files with `@generated` or `DO NOT EDIT` in their first lines.
    pub generated_markers: bool,
}

impl Default for FileHotspot {
    fn default() -> Self {
        FileHotspot {
            enabled: true,
            min_commits: 3,
            min_rework_lines: 20,
            min_reworking_commits: 2,
            min_authors: 2,
            exclude: crate::collect::linguist::DEFAULT_HOTSPOT_EXCLUDE
                .iter()
                .map(|s| s.to_string())
                .collect(),
            extra_exclude: Vec::new(),
            gitattributes: true,
            generated_markers: true,
        }
    }
}

impl FileHotspot {
    /// What the git collector must know to tell which files can be hotspots.
    pub fn apply_to(&self, opts: &mut crate::collect::git::GitOptions) {
        opts.hotspot_exclude = self.exclude.clone();
        opts.hotspot_exclude
            .extend(self.extra_exclude.iter().cloned());
        opts.gitattributes = self.gitattributes;
        opts.generated_markers = self.generated_markers;
    }
}

/// A revert in the rollup: one finding per reverted change.
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Revert {
    pub enabled: bool,
}

impl Default for Revert {
    fn default() -> Self {
        Revert { enabled: true }
    }
}

/// Unstable configuration in the rollup (`crate::config_churn`): at the default `key`
/// level, a setting that flips back to an earlier value, is changed `min_changes`+ times, or
/// is changed by a revert; at the `file` level (the first releases' meaning), a config file
/// changed `min_changes`+ times, or changed and reverted.
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ConfigChurn {
    pub enabled: bool,
    /// `key`: settings compared key by key; `file`: any change of the file counts.
    pub level: ChurnLevel,
    /// Changes of one setting (key level) or file (file level) that make it churn.
    pub min_changes: u64,
    /// A revert that changed a setting (or file) is churn even when it is the only change.
    pub on_revert: bool,
    /// Key level: a setting that returns to an earlier value (A → B → A, removed then
    /// restored) is churn.
    pub on_flip: bool,
    /// Key level: count version values that only move forward (`1.80` → `1.81`) towards
    /// `min_changes`. Off: a release that bumps versions is not churn.
    pub count_version_bumps: bool,
    /// Lockfiles change because their manifest did: never churn of their own.
    pub lockfiles: Vec<String>,
}

/// The level config churn is judged at.
#[derive(Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ChurnLevel {
    Key,
    File,
}

impl Default for ConfigChurn {
    fn default() -> Self {
        ConfigChurn {
            enabled: true,
            level: ChurnLevel::Key,
            min_changes: 3,
            on_revert: true,
            on_flip: true,
            count_version_bumps: false,
            lockfiles: crate::collect::git::DEFAULT_LOCKFILE_GLOBS
                .iter()
                .map(|s| s.to_string())
                .collect(),
        }
    }
}

/// What the git collector counts (`collect::git::GitOptions`).
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct GitConfig {
    /// Commits touching more files are bulk commits, left out of hotspots.
    pub bulk_commit_files: usize,
    /// Configuration/metadata globs (replaces the built-in list; `!glob` excludes).
    pub config_globs: Vec<String>,
    /// Globs added to the built-in list (the usual way to extend it).
    pub extra_config_globs: Vec<String>,
    /// Paths that are no signal at all (the run log and state are always ignored).
    pub ignored_paths: Vec<String>,
    /// The analyzer's bot identities: their commits are skipped (loop prevention).
    pub bot_identities: Vec<String>,
}

impl Default for GitConfig {
    fn default() -> Self {
        use crate::collect::git;
        GitConfig {
            bulk_commit_files: git::DEFAULT_BULK_COMMIT_FILES,
            config_globs: git::DEFAULT_CONFIG_GLOBS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            extra_config_globs: Vec::new(),
            ignored_paths: Vec::new(),
            bot_identities: git::DEFAULT_BOT_IDENTITIES
                .iter()
                .map(|s| s.to_string())
                .collect(),
        }
    }
}

impl GitConfig {
    /// The collector's options for `window`. The local CI-log folder is data, not config,
    /// so it is excluded from the config globs.
    pub fn options(
        &self,
        window: crate::collect::git::GitWindow,
        ci_logs_dir: &str,
    ) -> crate::collect::git::GitOptions {
        let mut o = crate::collect::git::GitOptions::new(window);
        o.bulk_commit_files = self.bulk_commit_files;
        o.config_globs = self.config_globs.clone();
        o.config_globs
            .extend(self.extra_config_globs.iter().cloned());
        let dir = ci_logs_dir.trim_matches('/');
        if !dir.is_empty() && !dir.starts_with("..") {
            o.config_globs.push(format!("!{dir}/**"));
        }
        o.ignored_paths.extend(self.ignored_paths.iter().cloned());
        o.bot_identities = self.bot_identities.clone();
        o
    }
}

impl Config {
    /// Loads the config: `explicit` must exist; otherwise `<repo>/.codex/improvement.toml`
    /// is used when present, and the defaults when not. Returns the file used, if any.
    pub fn load(explicit: Option<&Path>, repo: &Path) -> anyhow::Result<(Config, Option<PathBuf>)> {
        let path = match explicit {
            Some(p) => {
                if !p.is_file() {
                    bail!(
                        "config file {} does not exist; pass an existing file to --config or omit it to use {}",
                        p.display(),
                        CONFIG_REL
                    );
                }
                p.to_path_buf()
            }
            None => {
                let p = repo.join(CONFIG_REL);
                if !p.is_file() {
                    return Ok((Config::default(), None));
                }
                p
            }
        };
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read config {}", path.display()))?;
        let config =
            Config::parse(&text).with_context(|| format!("invalid config {}", path.display()))?;
        Ok((config, Some(path)))
    }

    /// Parses and validates config text.
    pub fn parse(text: &str) -> anyhow::Result<Config> {
        let config: Config = toml::from_str(text)?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> anyhow::Result<()> {
        let w = parse_duration(&self.analysis.window).context("[analysis] window")?;
        let r = parse_duration(&self.analysis.rollup).context("[analysis] rollup")?;
        if r < w {
            bail!(
                "[analysis] rollup ({}) must be at least the window ({})",
                self.analysis.rollup,
                self.analysis.window
            );
        }
        let rate = self.rules.tool_failure_rate.max_rate;
        if !(0.0..1.0).contains(&rate) {
            bail!("[rules.tool_failure_rate] max_rate must be a fraction in [0, 1), e.g. 0.10 for 10%; got {rate}");
        }
        for (name, v) in [
            (
                "error_type_repeat.min_count",
                self.rules.error_type_repeat.min_count,
            ),
            (
                "ci_signature_repeat.min_count",
                self.rules.ci_signature_repeat.min_count,
            ),
            (
                "file_hotspot.min_commits",
                self.rules.file_hotspot.min_commits,
            ),
            (
                "config_churn.min_changes",
                self.rules.config_churn.min_changes,
            ),
        ] {
            if v == 0 {
                bail!("[rules.{name}] must be at least 1");
            }
        }
        Ok(())
    }

    /// Reads a section owned by another stage (`[github]`, `[signals]`); `None` when absent.
    pub fn section<T: DeserializeOwned>(&self, name: &str) -> anyhow::Result<Option<T>> {
        match self.extra.get(name) {
            None => Ok(None),
            Some(v) => Ok(Some(
                v.clone()
                    .try_into()
                    .with_context(|| format!("invalid [{name}] section"))?,
            )),
        }
    }
}

/// Parses a duration: one or more `<integer><unit>` with units `s`, `m`, `h`, `d`, `w`
/// (`12h`, `30m`, `2d`, `1h30m`).
pub fn parse_duration(s: &str) -> anyhow::Result<Duration> {
    let t = s.trim();
    if t.is_empty() {
        bail!("empty duration; use e.g. 12h, 30m or 2d");
    }
    let mut total: i64 = 0;
    let mut num = String::new();
    for ch in t.chars() {
        if ch.is_ascii_digit() {
            num.push(ch);
            continue;
        }
        let unit: i64 = match ch {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 604_800,
            _ => bail!("invalid duration {s:?}: unexpected {ch:?}; use e.g. 12h, 30m or 2d"),
        };
        if num.is_empty() {
            bail!("invalid duration {s:?}: a unit needs a number before it; use e.g. 12h");
        }
        let n: i64 = num
            .parse()
            .map_err(|_| anyhow::anyhow!("invalid duration {s:?}: number too large"))?;
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| anyhow::anyhow!("invalid duration {s:?}: too large"))?;
        num.clear();
    }
    if !num.is_empty() {
        bail!("invalid duration {s:?}: missing unit after {num}; use e.g. {num}h");
    }
    if total <= 0 {
        bail!("invalid duration {s:?}: must be positive");
    }
    if total > 3650 * 86_400 {
        bail!("invalid duration {s:?}: longer than ten years");
    }
    Ok(Duration::seconds(total))
}

/// Formats a duration in the largest whole unit among `h`, `m`, `s` (`24h`, `90m`).
pub fn format_duration(d: Duration) -> String {
    let s = d.num_seconds();
    if s % 3600 == 0 {
        format!("{}h", s / 3600)
    } else if s % 60 == 0 {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("12h").unwrap(), Duration::hours(12));
        assert_eq!(parse_duration("30m").unwrap(), Duration::minutes(30));
        assert_eq!(parse_duration("2d").unwrap(), Duration::days(2));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::minutes(90));
        assert_eq!(parse_duration(" 1w ").unwrap(), Duration::days(7));
        for bad in ["", "12", "h", "12x", "-1h", "0h", "99999999999999999999h"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(format_duration(Duration::hours(24)), "24h");
        assert_eq!(format_duration(Duration::minutes(90)), "90m");
        assert_eq!(format_duration(Duration::seconds(61)), "61s");
    }

    #[test]
    fn defaults_and_overrides() {
        let c = Config::parse("").unwrap();
        assert_eq!(c, Config::default());
        assert_eq!(c.rules.tool_failure_rate.max_rate, 0.10);
        let c =
            Config::parse("[rules.file_hotspot]\nmin_commits = 6\n[github]\nlabels = [\"a\"]\n")
                .unwrap();
        assert_eq!(c.rules.file_hotspot.min_commits, 6);
        assert!(c.rules.file_hotspot.enabled);
        #[derive(Deserialize)]
        struct Gh {
            labels: Vec<String>,
        }
        let gh: Gh = c.section("github").unwrap().unwrap();
        assert_eq!(gh.labels, ["a"]);
        assert!(c.section::<Gh>("nothing").unwrap().is_none());
    }

    #[test]
    fn typos_and_bad_values_are_errors() {
        assert!(Config::parse("[rules.file_hotspot]\nmin_comits = 6\n").is_err());
        assert!(Config::parse("[rules.tool_failure_rate]\nmax_rate = 10\n").is_err());
        assert!(Config::parse("[analysis]\nwindow = \"48h\"\n").is_err());
        assert!(Config::parse("[rules.error_type_repeat]\nmin_count = 0\n").is_err());
    }

    #[test]
    fn shipped_config_parses_to_defaults() {
        let text = include_str!("../../.codex/improvement.toml");
        let c = Config::parse(text).unwrap();
        assert_eq!(c.analysis, AnalysisConfig::default());
        assert_eq!(c.rules, RulesConfig::default());
        assert_eq!(c.git, GitConfig::default());
    }
}
