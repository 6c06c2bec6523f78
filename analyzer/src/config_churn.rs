//! The `config_churn` rule: configuration that is *unstable*, not configuration that changed.
//!
//! Measured on real repositories, a file-level rule ("this manifest changed twice") reported
//! every release, every dependency added and every regenerated lockfile, and buried the real
//! flip-flops among them. So, at the default `key` level, the rule reads the collector's key
//! histories (`collect::config_keys`) and reports a setting only when it
//! - **flips back** to an earlier value in the window (`1.80 → 1.81 → 1.80`; a key or a
//!   workflow step removed then restored) — `on_flip`. A key added and dropped again is
//!   not a flip (absence is no value to return to; a revert of it still counts);
//! - is **changed again and again**: `min_changes`+ changes, version values that only move
//!   forward not counted (a release is not churn) — `count_version_bumps`;
//! - is changed by a **revert** commit — `on_revert`.
//!
//! Adding or removing a key once, bumping a version, reformatting and reordering are not
//! churn, and lockfiles are never compared (they follow their manifest).
//!
//! **One cause, one finding.** Unstable keys are grouped by the commits that changed them:
//! an `edition` flipped in 80 crate manifests by one commit and flipped back by a revert is
//! one finding naming the key, the values, the two commits and the files (the first
//! [`FILES_SHOWN`] and a count). Its subject is built from the files and keys only (no
//! counts, no shas), so the ticket keeps its fingerprint while the same flip stays in the
//! rollup.
//!
//! The `file` level keeps the first releases' meaning: a file changed `min_changes`+ times,
//! or changed and reverted (set `lockfiles = []` and `min_changes = 2` for exactly that).

use std::collections::{BTreeMap, BTreeSet};

use crate::collect::config_keys::KeyHistory;
use crate::collect::git::{ConfigChange, GitActivity};
use crate::config::{ChurnLevel, ConfigChurn};
use crate::finding::{sample, Evidence, Finding, RuleId, Severity, Topic};
use crate::rules::{commit_lines, short, ts};

/// Files named in a finding's refs; the rest are counted.
pub const FILES_SHOWN: usize = 10;
/// Keys whose values a finding spells out; the rest are counted.
const KEYS_SHOWN: usize = 5;

/// The rule's findings over `git`'s config changes (`window`: the rollup's length, `24h`).
pub fn findings(git: &GitActivity, r: &ConfigChurn, window: &str, samples: usize) -> Vec<Finding> {
    match r.level {
        ChurnLevel::Key => key_level(git, r, window, samples),
        ChurnLevel::File => file_level(git, r, window, samples),
    }
}

/// Why a key is unstable.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Why {
    flip: bool,
    revert: bool,
    /// Changes counted towards `min_changes`.
    counted: usize,
    repeat: bool,
}

/// Whether and why one key's history is instability.
fn classify(h: &KeyHistory, r: &ConfigChurn) -> Option<Why> {
    let mut seen = BTreeSet::from([0u32]);
    let mut prev = 0;
    let mut why = Why::default();
    for c in &h.changes {
        // A return to an earlier value: not the value the previous change left (two
        // branches making the same change are not a flip), and a value, not absence (a key
        // tried and dropped again is ordinary development; a revert of it still counts).
        if c.state != prev && seen.contains(&c.state) && c.value.is_some() {
            why.flip = true;
        }
        seen.insert(c.state);
        prev = c.state;
        why.revert |= c.revert;
        if r.count_version_bumps || !c.version_bump {
            why.counted += 1;
        }
    }
    why.flip &= r.on_flip;
    why.revert &= r.on_revert;
    why.repeat = why.counted as u64 >= r.min_changes;
    (why.flip || why.revert || why.repeat).then_some(why)
}

/// One unstable key of one file.
struct Unstable<'a> {
    path: &'a str,
    history: &'a KeyHistory,
    why: Why,
}

fn key_level(git: &GitActivity, r: &ConfigChurn, window: &str, samples: usize) -> Vec<Finding> {
    // Group by cause: the commits that changed the key, in order.
    let mut groups: BTreeMap<Vec<&str>, Vec<Unstable<'_>>> = BTreeMap::new();
    for ch in git.config_changes.iter().filter(|c| !c.lockfile) {
        for h in &ch.keys {
            if let Some(why) = classify(h, r) {
                let cause = h.changes.iter().map(|c| c.sha.as_str()).collect();
                groups.entry(cause).or_default().push(Unstable {
                    path: &ch.path,
                    history: h,
                    why,
                });
            }
        }
    }
    groups
        .into_iter()
        .map(|(cause, keys)| group_finding(git, r, window, samples, &cause, &keys))
        .collect()
}

fn group_finding(
    git: &GitActivity,
    r: &ConfigChurn,
    window: &str,
    samples: usize,
    cause: &[&str],
    keys: &[Unstable<'_>],
) -> Finding {
    let files: BTreeSet<&str> = keys.iter().map(|u| u.path).collect();
    let names: BTreeSet<&str> = keys.iter().map(|u| u.history.key.as_str()).collect();
    let first = &keys[0];
    let why = keys.iter().fold(Why::default(), |a, u| Why {
        flip: a.flip || u.why.flip,
        revert: a.revert || u.why.revert,
        counted: a.counted.max(u.why.counted),
        repeat: a.repeat || u.why.repeat,
    });

    let files_part = files_label(&files);
    let keys_part = keys_label(&names);
    let subject = format!("{files_part}: {keys_part}");
    let n = cause.len() as u64;
    let values = value_path(first.history);
    let verb = if why.flip {
        format!("flipped {values}")
    } else if why.revert {
        format!("changed and reverted ({values})")
    } else {
        format!("changed {n} times ({values})")
    };
    let where_ = if files.len() == 1 {
        format!("`{}`", first.path)
    } else {
        format!("{} files (`{}`, …)", files.len(), first.path)
    };
    let commits = cause
        .iter()
        .map(|sha| commit_label(git, sha))
        .collect::<Vec<_>>()
        .join(", ");
    let title = format!("Config {where_} `{keys_part}` {verb} in {window} ({commits})");

    let mut severity = Severity::from_ratio(why.counted as f64, r.min_changes as f64);
    if why.flip || why.revert {
        severity = severity.max(Severity::Medium);
    }
    let mut f = Finding::new(RuleId::ConfigChurn, &subject, title, severity);
    f.topics = files.iter().map(|p| Topic::File(p.to_string())).collect();
    f.topics.extend(
        cause
            .iter()
            .filter(|sha| git.reverts.iter().any(|rv| rv.sha == **sha))
            .map(|sha| Topic::Revert(sha.to_string())),
    );

    // Samples: each key's values (bounded), then the commits.
    let mut shown: Vec<String> = Vec::new();
    let mut seen_keys = BTreeSet::new();
    for u in keys {
        if seen_keys.len() == KEYS_SHOWN {
            break;
        }
        if seen_keys.insert(u.history.key.as_str()) {
            shown.push(sample(
                &format!("{}: {}", u.history.key, value_path(u.history)),
                200,
            ));
        }
    }
    if names.len() > KEYS_SHOWN {
        shown.push(format!("… and {} more keys", names.len() - KEYS_SHOWN));
    }
    let owned: Vec<String> = cause.iter().map(|s| s.to_string()).collect();
    shown.extend(commit_lines(git, &owned, samples.max(cause.len().min(5))));

    let mut refs: Vec<String> = files
        .iter()
        .take(FILES_SHOWN)
        .map(|p| p.to_string())
        .collect();
    if files.len() > FILES_SHOWN {
        refs.push(format!("… and {} more files", files.len() - FILES_SHOWN));
    }
    for sha in cause {
        let is_revert = git.reverts.iter().any(|rv| rv.sha == *sha);
        let label = if is_revert { "revert " } else { "" };
        refs.push(format!("{label}{}", short(sha)));
    }
    let times: Vec<_> = git
        .commits
        .iter()
        .filter(|c| cause.contains(&c.sha.as_str()))
        .map(|c| c.time)
        .collect();
    f.evidence = Evidence {
        count: n,
        threshold: r.min_changes as f64,
        window: window.to_string(),
        first_seen: times.iter().min().map(|t| ts(*t)),
        last_seen: times.iter().max().map(|t| ts(*t)),
        samples: shown,
        refs,
        ..Evidence::default()
    };
    f.suggested_action = format!(
        "`{keys_part}` in {where_} is unstable: agree on the intended value, write down why \
         (a comment next to it or AGENTS.md), and add a CI check that pins it so it is not \
         flipped again."
    );
    f.risk = "Medium: configuration changes affect every build and agent session; land the \
              settled value in one reviewed change."
        .to_string();
    f.qa_notes = format!(
        "Next runs: no further changes of `{keys_part}` in {files_part}; builds pass with the \
         settled value."
    );
    f
}

/// `a → b → a`, with `(absent)` for a missing key.
fn value_path(h: &KeyHistory) -> String {
    let show = |v: Option<&str>| match v {
        None => "(absent)".to_string(),
        Some("") => "(present)".to_string(),
        Some(v) => v.to_string(),
    };
    std::iter::once(show(h.before.as_deref()))
        .chain(h.changes.iter().map(|c| show(c.value.as_deref())))
        .collect::<Vec<_>>()
        .join(" → ")
}

/// `abc123def456 'subject'`, the subject bounded.
fn commit_label(git: &GitActivity, sha: &str) -> String {
    match git.commits.iter().find(|c| c.sha == sha) {
        Some(c) => format!("{} '{}'", short(sha), sample(&c.subject, 60)),
        None => short(sha).to_string(),
    }
}

/// One file's path; several files with one name `**/<name>`; otherwise the first path and
/// `+ others`. No counts, so the subject does not change while the cause stays the same.
fn files_label(files: &BTreeSet<&str>) -> String {
    let first = files.iter().next().copied().unwrap_or_default();
    if files.len() == 1 {
        return first.to_string();
    }
    let name = |p: &str| p.rsplit('/').next().unwrap_or(p).to_string();
    let base = name(first);
    if files.iter().all(|p| name(p) == base) {
        format!("**/{base}")
    } else {
        format!("{first} + others")
    }
}

/// One key; several keys their common prefix (`jobs.test.steps[Lint]`); else the first key
/// and `+ others`.
fn keys_label(names: &BTreeSet<&str>) -> String {
    let first = names.iter().next().copied().unwrap_or_default();
    if names.len() == 1 {
        return first.to_string();
    }
    let last = names.iter().next_back().copied().unwrap_or_default();
    let common: usize = first
        .char_indices()
        .zip(last.chars())
        .take_while(|((_, a), b)| a == b)
        .map(|((i, a), _)| i + a.len_utf8())
        .last()
        .unwrap_or(0);
    // Cut back to a whole path segment: the common prefix must end before `.` or `[`, or at
    // the end of a `[...]`.
    let prefix = &first[..common];
    let cut = if first[common..].starts_with(['.', '[']) || prefix.ends_with(']') {
        prefix
    } else {
        prefix
            .rfind(['.', '['])
            .map(|i| &prefix[..i])
            .unwrap_or_default()
    };
    let cut = cut.trim_end_matches('.');
    if cut.is_empty() {
        format!("{first} + others")
    } else {
        cut.to_string()
    }
}

/// The first releases' rule: a config file changed `min_changes`+ times, or (`on_revert`)
/// changed and reverted or back to its earlier content. Lockfiles are left out unless
/// `lockfiles` is emptied.
fn file_level(git: &GitActivity, r: &ConfigChurn, window: &str, samples: usize) -> Vec<Finding> {
    let mut out = Vec::new();
    for ch in git.config_changes.iter().filter(|c| !c.lockfile) {
        if let Some(f) = file_finding(git, r, window, samples, ch) {
            out.push(f);
        }
    }
    out
}

fn file_finding(
    git: &GitActivity,
    r: &ConfigChurn,
    window: &str,
    samples: usize,
    ch: &ConfigChange,
) -> Option<Finding> {
    let n = ch.commits as u64;
    let reverted = r.on_revert && ch.changed_and_reverted;
    if n < r.min_changes && !reverted {
        return None;
    }
    let mut severity = Severity::from_ratio(n as f64, r.min_changes as f64);
    if reverted {
        severity = severity.max(Severity::Medium);
    }
    let how = if ch.changed_and_reverted {
        if ch.reverted_by.is_empty() {
            ", and returned to its earlier content"
        } else {
            ", and reverted"
        }
    } else {
        ""
    };
    let mut f = Finding::new(
        RuleId::ConfigChurn,
        &ch.path,
        format!("Config `{}` changed {n} times in {window}{how}", ch.path),
        severity,
    );
    f.topics = std::iter::once(Topic::File(ch.path.clone()))
        .chain(ch.reverted_by.iter().map(|s| Topic::Revert(s.clone())))
        .collect();
    let mut refs: Vec<String> = ch.shas.iter().map(|s| short(s).to_string()).collect();
    refs.extend(
        ch.reverted_by
            .iter()
            .map(|s| format!("revert {}", short(s))),
    );
    f.evidence = Evidence {
        count: n,
        threshold: r.min_changes as f64,
        window: window.to_string(),
        first_seen: Some(ts(ch.first_changed)),
        last_seen: Some(ts(ch.last_changed)),
        samples: commit_lines(git, &ch.shas, samples),
        refs,
        ..Evidence::default()
    };
    f.suggested_action = format!(
        "`{}` is unstable: agree on the intended setting, write down why (a comment in the \
         file or AGENTS.md), and check that CI validates it so it is not flipped back and forth.",
        ch.path
    );
    f.risk = "Medium: configuration changes affect every build and agent session; land \
              the settled value in one reviewed change."
        .to_string();
    f.qa_notes = format!(
        "Next runs: no further changes or reverts of `{}` in Metadata Changes; builds pass \
         with the settled value.",
        ch.path
    );
    Some(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::config_keys::KeyChange;

    fn history(
        key: &str,
        before: Option<&str>,
        changes: &[(Option<&str>, u32, bool, bool)],
    ) -> KeyHistory {
        KeyHistory {
            key: key.into(),
            before: before.map(Into::into),
            changes: changes
                .iter()
                .enumerate()
                .map(|(i, (v, state, bump, revert))| KeyChange {
                    sha: format!("{i:040}"),
                    value: v.map(Into::into),
                    state: *state,
                    version_bump: *bump,
                    revert: *revert,
                })
                .collect(),
        }
    }

    #[test]
    fn instability_is_flips_repeats_and_reverts() {
        let r = ConfigChurn::default();
        // 1.80 -> 1.81 -> 1.80
        let flip = history(
            "c",
            Some("1.80"),
            &[
                (Some("1.81"), 1, true, false),
                (Some("1.80"), 0, false, false),
            ],
        );
        assert!(classify(&flip, &r).unwrap().flip);
        // Removed then restored.
        let restored = history(
            "s",
            Some("x"),
            &[(None, 1, false, false), (Some("x"), 0, false, false)],
        );
        assert!(classify(&restored, &r).unwrap().flip);
        // Added then dropped again: no flip (absence is not a value to flip back to).
        let tried = history(
            "t",
            None,
            &[(Some("x"), 1, false, false), (None, 0, false, false)],
        );
        assert!(classify(&tried, &r).is_none());
        // The same change on two branches (each from the old value): not a flip.
        let twice = history(
            "w",
            None,
            &[
                (Some("true"), 1, false, false),
                (Some("true"), 1, false, false),
            ],
        );
        assert!(classify(&twice, &r).is_none());
        // Added once, a version bumped once or three times: not churn.
        assert!(classify(&history("d", None, &[(Some("1"), 1, false, false)]), &r).is_none());
        let bumps = history(
            "v",
            Some("1.0.0"),
            &[
                (Some("1.0.1"), 1, true, false),
                (Some("1.0.2"), 2, true, false),
                (Some("1.1.0"), 3, true, false),
            ],
        );
        assert!(classify(&bumps, &r).is_none());
        let counted = ConfigChurn {
            count_version_bumps: true,
            ..r.clone()
        };
        assert!(classify(&bumps, &counted).unwrap().repeat);
        // Three different values, not versions: repeat.
        let repeat = history(
            "m",
            Some("a"),
            &[
                (Some("b"), 1, false, false),
                (Some("c"), 2, false, false),
                (Some("d"), 3, false, false),
            ],
        );
        assert!(classify(&repeat, &r).unwrap().repeat);
        // A revert changed it once.
        let reverted = history("x", Some("a"), &[(Some("b"), 1, false, true)]);
        assert!(classify(&reverted, &r).unwrap().revert);
        let off = ConfigChurn {
            on_revert: false,
            on_flip: false,
            ..r.clone()
        };
        assert!(classify(&reverted, &off).is_none());
        assert!(classify(&flip, &off).is_none());
        assert_eq!(value_path(&restored), "x → (absent) → x");
    }

    #[test]
    fn labels_are_stable_and_readable() {
        let one = BTreeSet::from(["rust-toolchain.toml"]);
        assert_eq!(files_label(&one), "rust-toolchain.toml");
        let crates = BTreeSet::from(["Cargo.toml", "crates/a/Cargo.toml", "crates/b/Cargo.toml"]);
        assert_eq!(files_label(&crates), "**/Cargo.toml");
        let mixed = BTreeSet::from(["Cargo.toml", "package.json"]);
        assert_eq!(files_label(&mixed), "Cargo.toml + others");

        assert_eq!(
            keys_label(&BTreeSet::from(["package.edition"])),
            "package.edition"
        );
        let step = BTreeSet::from(["jobs.t.steps[Lint].name", "jobs.t.steps[Lint].run"]);
        assert_eq!(keys_label(&step), "jobs.t.steps[Lint]");
        let siblings = BTreeSet::from(["package.edition", "package.rust-version"]);
        assert_eq!(keys_label(&siblings), "package");
        let near = BTreeSet::from(["dependencies.serde", "dependencies.serde_json"]);
        assert_eq!(keys_label(&near), "dependencies");
        let apart = BTreeSet::from(["a", "b"]);
        assert_eq!(keys_label(&apart), "a + others");
    }
}
