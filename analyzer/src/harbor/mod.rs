//! Harbor export: one reproducible evaluation task per friction cluster.
//!
//! Each task folder (layout in `docs/closed-loop.md`, Harbor's rules in its docs) holds:
//!
//! * `task.toml` — Harbor's task config, schema 1.4, with the cluster's provenance under
//!   `[metadata]` (cluster ID, fingerprint, counts, first/last seen, source commit, fix).
//! * `instruction.md` — the goal (make the failing command succeed) and the redacted evidence
//!   of how agents failed.
//! * `environment/Dockerfile` + `environment/repo/` — the repository's tracked files at the
//!   commit where the friction happened, copied into a base image chosen from the project
//!   files; building needs no network beyond the base image.
//! * `tests/test.sh` — runs the failing command inside an `if` and writes exactly one reward
//!   file, `$REWARD_DIR/reward.txt` (`REWARD_DIR` defaults to `/logs/verifier`): 1 when the
//!   command now succeeds, else 0.
//! * `solution/solve.sh` (+ `solution/files/`, `solution/fix.patch`) — only when a fix is
//!   known: the change from the friction commit to the commit after which the command
//!   succeeded ([`Cluster::fixed_at`]).
//!
//! Only clusters a command can reproduce are exported: a shell tool, a `failed` or `timeout`
//! outcome (not a denial, a hook block, a sandbox refusal, an abort or a context overflow), a
//! known commit the repository has, and a command that redaction left intact.
//!
//! Every captured text written into a task goes through the redactor first, and each
//! generated file is checked with `contains_secret` before it is written; a task that fails
//! the check is skipped, never written. The snapshot and the fix are the repository's own
//! tracked files, copied as they are: they carry whatever the repository carries, so export
//! tasks from a private repository only to where that repository could go. Files in them
//! that look like secrets are reported as warnings.

mod git;
pub mod templates;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use chrono::{DateTime, Utc};
use codex_contract::record::{format_ts, shorten, Phase};
use codex_contract::redact::contains_secret;
use codex_contract::Status;
use serde::Serialize;

use crate::cluster::{self, redacted, Cluster, ClusterOptions};
use templates::TaskText;

/// The JSON Schema of task.toml generated from harbor 0.25.0's `TaskConfig`, kept here so
/// tests and users can validate exports without Harbor (which needs Python 3.12+).
pub const TASK_SCHEMA: &str = include_str!("harbor-task-schema.json");

/// Tools whose input is a shell command that a verifier can run again.
pub const SHELL_TOOLS: &[&str] = &[
    "bash",
    "sh",
    "shell",
    "exec",
    "exec_command",
    "local_shell",
    "shell_command",
    "unified_exec",
    "container.exec",
];

/// Error types a rerun of the command cannot reproduce: they came from the agent harness
/// (approval, hooks, sandbox, interrupts, context), not from the repository.
pub const NOT_REPRODUCIBLE: &[&str] = &[
    "approval_denied",
    "hook_blocked",
    "sandbox_denied",
    "aborted",
    "context_window_exceeded",
];

/// What to export.
#[derive(Clone, Debug)]
pub struct ExportOptions {
    /// The dataset folder; one task folder per cluster goes inside.
    pub out: PathBuf,
    /// At most this many tasks, highest impact first.
    pub top: usize,
    /// Export only the cluster with this ID (or unique ID prefix).
    pub fingerprint: Option<String>,
    /// Written as `exported_at` (so `--now` makes exports byte-for-byte reproducible).
    pub now: DateTime<Utc>,
}

/// One task written.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct ExportedTask {
    pub cluster_id: String,
    /// `codex-friction/<slug>`.
    pub name: String,
    pub dir: PathBuf,
    pub source_commit: String,
    pub fixed_at: Option<String>,
    /// Generated files, relative to `dir`, sorted (the snapshot and the fix's files are
    /// counted, not listed).
    pub files: Vec<String>,
    pub snapshot_files: usize,
    /// Repository files in the snapshot or the fix that look like secrets.
    pub warnings: Vec<String>,
}

/// A cluster that was not exported, and why.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Skipped {
    pub cluster_id: String,
    pub reason: String,
}

/// The outcome of an export.
#[derive(Serialize, Clone, Debug, Default, PartialEq)]
pub struct ExportReport {
    pub exported: Vec<ExportedTask>,
    /// Clusters considered (within `top`, or the fingerprint) but not exported.
    pub skipped: Vec<Skipped>,
}

/// Whether a tool runs shell commands.
pub fn is_shell_tool(tool: &str) -> bool {
    SHELL_TOOLS.contains(&tool.to_ascii_lowercase().as_str())
}

/// Why a cluster cannot become a task, or `None` when it can (commit checks aside).
pub fn not_exportable(c: &Cluster) -> Option<String> {
    if !is_shell_tool(&c.tool) {
        return Some(format!(
            "tool `{}` is not a shell; only shell commands can be rerun by a verifier",
            c.tool
        ));
    }
    if NOT_REPRODUCIBLE.contains(&c.error_type.as_str())
        || !matches!(c.last_status, Status::Failed | Status::Timeout)
    {
        return Some(format!(
            "error type `{}` (status {}) comes from the agent harness, not the repository",
            c.error_type,
            c.last_status.as_str()
        ));
    }
    match c.last_command.as_deref() {
        None | Some("") => return Some("no command was captured".into()),
        Some(cmd) if cmd.contains("[REDACTED") => {
            return Some(
                "the command held a secret; the redacted command cannot reproduce the failure"
                    .into(),
            )
        }
        _ => {}
    }
    if c.last_git_head.is_none() {
        return Some("no git commit was recorded with the failure".into());
    }
    None
}

/// The task folder name of a cluster: command words, error type, short ID.
pub fn slug(c: &Cluster) -> String {
    // The template's own words, without its masks (`<path>`, `<num>`, …); a template that is
    // nothing but masks (`./check.sh` templates to `<path>`) is named after the program the
    // last failure ran, so the folder says what it is about.
    let unmasked: Vec<&str> = c
        .command_template
        .split_whitespace()
        .filter(|w| !(w.starts_with('<') && w.ends_with('>')))
        .collect();
    let mut words = templates::slug_word(&unmasked.join(" "));
    if words.is_empty() {
        if let Some(program) = c
            .last_command
            .as_deref()
            .and_then(|cmd| cmd.split_whitespace().next())
        {
            words = templates::slug_word(program.rsplit('/').next().unwrap_or(program));
        }
    }
    if words.len() > 40 {
        words.truncate(40);
        words = words.trim_end_matches('-').to_string();
    }
    if words.is_empty() {
        words = "command".into();
    }
    let short = c.id.rsplit('-').next().unwrap_or(&c.id);
    let short = &short[..short.len().min(8)];
    format!("{words}-{}-{short}", templates::slug_word(&c.error_type))
}

/// Exports the top clusters of `clusters` (ranked, as [`cluster::cluster`] returns them) from
/// the repository at `repo` into `opts.out`.
pub fn export(repo: &Path, clusters: &[Cluster], opts: &ExportOptions) -> Result<ExportReport> {
    let repo = git::top_level(repo)?;
    let selected: Vec<&Cluster> = match &opts.fingerprint {
        Some(f) => vec![find_cluster(clusters, f)?],
        None => clusters.iter().collect(),
    };
    std::fs::create_dir_all(&opts.out)
        .with_context(|| format!("cannot create the output folder {}", opts.out.display()))?;
    let mut report = ExportReport::default();
    for c in selected {
        if report.exported.len() >= opts.top {
            break;
        }
        let reason = match not_exportable(c) {
            Some(r) => Some(r),
            None => match export_one(&repo, c, opts) {
                Ok(Ok(task)) => {
                    report.exported.push(task);
                    None
                }
                Ok(Err(reason)) => Some(reason),
                Err(e) => return Err(e.context(format!("exporting cluster {}", c.id))),
            },
        };
        if let Some(reason) = reason {
            report.skipped.push(Skipped {
                cluster_id: c.id.clone(),
                reason,
            });
        }
    }
    Ok(report)
}

fn find_cluster<'a>(clusters: &'a [Cluster], f: &str) -> Result<&'a Cluster> {
    // A merged cluster answers to its members' IDs too: the fingerprint may come from a run
    // without the semantic layer.
    let ids = |c: &'a Cluster| std::iter::once(&c.id).chain(&c.merged_from);
    if let Some(c) = clusters.iter().find(|c| ids(c).any(|id| id == f)) {
        return Ok(c);
    }
    let hits: Vec<&Cluster> = clusters
        .iter()
        .filter(|c| f.len() >= 6 && ids(c).any(|id| id.starts_with(f)))
        .collect();
    match hits.as_slice() {
        [one] => Ok(one),
        [] => bail!(
            "no friction cluster has fingerprint `{f}` in this window; list them with \
             `codex-analyzer run --format json` or widen --window"
        ),
        _ => bail!("fingerprint `{f}` matches several clusters; give more characters"),
    }
}

/// Writes one task. `Ok(Err(reason))` skips the cluster; `Err` is an I/O or git failure.
fn export_one(
    repo: &Path,
    c: &Cluster,
    opts: &ExportOptions,
) -> Result<std::result::Result<ExportedTask, String>> {
    let head = c.last_git_head.as_deref().unwrap_or_default();
    let Some(source_commit) = git::resolve_commit(repo, head) else {
        return Ok(Err(format!(
            "commit {head} is not in {}; fetch it (or export from the clone where the \
             friction happened)",
            repo.display()
        )));
    };
    let fixed_at = c
        .fixed_at
        .as_deref()
        .and_then(|f| git::resolve_commit(repo, f))
        .filter(|f| *f != source_commit);

    let slug = slug(c);
    let name = format!("{}/{slug}", templates::TASK_ORG);
    let final_dir = opts.out.join(&slug);
    let staging = opts.out.join(format!(".{slug}.partial"));
    if staging.exists() {
        std::fs::remove_dir_all(&staging)
            .with_context(|| format!("cannot remove {}", staging.display()))?;
    }
    std::fs::create_dir_all(&staging)?;
    let result = write_task(repo, c, opts, &staging, &name, &source_commit, fixed_at);
    let task = match result {
        Ok(Ok(t)) => t,
        other => {
            let _ = std::fs::remove_dir_all(&staging);
            return other;
        }
    };
    if final_dir.exists() {
        if !is_our_task(&final_dir) {
            let _ = std::fs::remove_dir_all(&staging);
            bail!(
                "{} exists and is not a task exported by codex-analyzer; move it away or \
                 choose another --out",
                final_dir.display()
            );
        }
        std::fs::remove_dir_all(&final_dir)
            .with_context(|| format!("cannot replace {}", final_dir.display()))?;
    }
    std::fs::rename(&staging, &final_dir)
        .with_context(|| format!("cannot move the task into {}", final_dir.display()))?;
    Ok(Ok(ExportedTask {
        dir: final_dir,
        ..task
    }))
}

fn is_our_task(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("task.toml"))
        .is_ok_and(|t| t.contains("exported_by = \"codex-analyzer"))
}

/// The directory the command ran in, relative to the repository root, when it is a
/// subdirectory that exists in the snapshot.
fn workdir(repo: &Path, cwd: Option<&str>, snapshot: &Path) -> Option<String> {
    let cwd = Path::new(cwd?);
    let canon = repo.canonicalize().ok();
    let rel = cwd
        .strip_prefix(repo)
        .ok()
        .or_else(|| cwd.strip_prefix(canon.as_deref()?).ok())?;
    let rel = rel.to_str()?.trim_matches('/');
    (!rel.is_empty() && snapshot.join(rel).is_dir()).then(|| rel.to_string())
}

fn base_image(snapshot: &Path) -> &'static str {
    let has = |f: &str| snapshot.join(f).exists();
    if has("Cargo.toml") {
        "rust:1-slim-bookworm"
    } else if has("go.mod") {
        "golang:1-bookworm"
    } else if has("package.json") {
        "node:22-bookworm-slim"
    } else if has("pyproject.toml") || has("requirements.txt") || has("setup.py") {
        "python:3.12-slim-bookworm"
    } else {
        "debian:bookworm-slim"
    }
}

/// More sessions stumbling (or a bigger fix) means a harder task.
fn difficulty(c: &Cluster, fix_files: Option<usize>) -> &'static str {
    match fix_files {
        Some(0..=1) => "easy",
        Some(2..=5) => "medium",
        Some(_) => "hard",
        None => match c.sessions {
            0..=1 => "easy",
            2..=3 => "medium",
            _ => "hard",
        },
    }
}

fn write_task(
    repo: &Path,
    c: &Cluster,
    opts: &ExportOptions,
    dir: &Path,
    name: &str,
    source_commit: &str,
    fixed_at: Option<String>,
) -> Result<std::result::Result<ExportedTask, String>> {
    let index = dir.join(".codex-export.index");
    let snapshot = dir.join("environment/repo");
    git::write_tree(repo, source_commit, &snapshot, None, &index)?;
    let mut warnings = Vec::new();
    let snapshot_files = scan_secrets(&snapshot, "environment/repo", &mut warnings)?;

    // The fix, when known and non-empty.
    let mut fix = None;
    if let Some(to) = &fixed_at {
        let changes = git::changes(repo, source_commit, to)?;
        if !changes.is_empty() {
            fix = Some((to.clone(), changes));
        }
    }
    let fixed_at = fix.as_ref().map(|(to, _)| to.clone());

    let command = c.last_command.clone().unwrap_or_default();
    let text = TaskText {
        cluster: c,
        name: name.to_string(),
        command: redacted(&command),
        workdir: workdir(repo, c.last_cwd.as_deref(), &snapshot),
        source_commit: source_commit.to_string(),
        fixed_at: fixed_at.clone(),
        fingerprint: opts.fingerprint.clone().unwrap_or_else(|| c.id.clone()),
        difficulty: difficulty(c, fix.as_ref().map(|(_, ch)| ch.len())),
        base_image: base_image(&snapshot),
        exported_at: format_ts(opts.now),
        evidence: c
            .samples
            .iter()
            .map(|s| {
                let heading = match s.exit_code {
                    Some(code) => format!("{} — exit code {code}", format_ts(s.ts)),
                    None => format_ts(s.ts),
                };
                (
                    heading,
                    s.command.as_deref().map(redacted),
                    shorten(&redacted(&s.error), cluster::SAMPLE_ERROR_MAX),
                )
            })
            .collect(),
        alternative: c.working_alternative.as_ref().map(|a| redacted(&a.command)),
    };

    let mut generated: Vec<(&str, String, bool)> = vec![
        ("task.toml", templates::task_toml(&text), false),
        ("instruction.md", templates::instruction(&text), false),
        (
            "environment/Dockerfile",
            templates::dockerfile(&text),
            false,
        ),
        ("tests/test.sh", templates::test_sh(&text), true),
    ];
    if let Some((to, changes)) = &fix {
        let written: Vec<String> = changes
            .iter()
            .filter_map(|ch| match ch {
                git::Change::Write(p) => Some(p.clone()),
                git::Change::Delete(_) => None,
            })
            .collect();
        let deleted: Vec<String> = changes
            .iter()
            .filter_map(|ch| match ch {
                git::Change::Delete(p) => Some(p.clone()),
                git::Change::Write(_) => None,
            })
            .collect();
        if !written.is_empty() {
            let files = dir.join("solution/files");
            git::write_tree(repo, to, &files, Some(&written), &index)?;
            scan_secrets(&files, "solution/files", &mut warnings)?;
        }
        let patch = git::binary_diff(repo, source_commit, to)?;
        if contains_secret(&String::from_utf8_lossy(&patch)) {
            warnings.push("solution/fix.patch".into());
        }
        write_file(&dir.join("solution/fix.patch"), &patch, false)?;
        generated.push((
            "solution/solve.sh",
            templates::solve_sh(&text, &deleted, !written.is_empty()),
            true,
        ));
    }

    // The last gate: nothing generated may still look like a secret.
    for (rel, body, _) in &generated {
        if contains_secret(body) {
            return Ok(Err(format!(
                "{rel} would still contain something that looks like a secret after redaction"
            )));
        }
    }
    let mut files: Vec<String> = Vec::new();
    for (rel, body, exec) in &generated {
        write_file(&dir.join(rel), body.as_bytes(), *exec)?;
        files.push(rel.to_string());
    }
    if fix.is_some() {
        files.push("solution/fix.patch".into());
    }
    files.sort();
    warnings.sort();
    warnings.dedup();
    Ok(Ok(ExportedTask {
        cluster_id: c.id.clone(),
        name: name.to_string(),
        dir: dir.to_path_buf(),
        source_commit: source_commit.to_string(),
        fixed_at,
        files,
        snapshot_files,
        warnings,
    }))
}

fn write_file(path: &Path, body: &[u8], executable: bool) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(path, body).with_context(|| format!("cannot write {}", path.display()))?;
    #[cfg(unix)]
    if executable {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))?;
    }
    #[cfg(not(unix))]
    let _ = executable;
    Ok(())
}

/// Counts the regular files under `root` and records (as `label/relative path`) the text
/// files that look like they hold a secret.
fn scan_secrets(root: &Path, label: &str, warnings: &mut Vec<String>) -> Result<usize> {
    let mut count = 0;
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let ft = entry.file_type()?;
            let path = entry.path();
            if ft.is_dir() {
                stack.push(path);
            } else if ft.is_file() {
                count += 1;
                if let Ok(text) = std::fs::read_to_string(&path) {
                    if contains_secret(&text) {
                        let rel = path.strip_prefix(root).unwrap_or(&path);
                        warnings.push(format!("{label}/{}", rel.display()));
                    }
                }
            }
        }
    }
    Ok(count)
}

/// `codex-analyzer export-harbor`: the arguments.
#[derive(clap::Args, Debug, Clone)]
pub struct ExportArgs {
    /// The repository whose log and history to export from [default: the git top level of
    /// the current directory].
    #[arg(long, value_name = "DIR")]
    pub repo: Option<PathBuf>,
    /// The dataset folder to write task folders into (created when missing), e.g. tasks/.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Export at most N tasks, highest impact first.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub top: usize,
    /// Export only the cluster with this fingerprint (its ID, or a unique prefix of 6+
    /// characters), e.g. 3f9a2c [default: the --top clusters].
    #[arg(long, value_name = "F")]
    pub fingerprint: Option<String>,
    /// The tool-call log [default: env CODEX_TOOLCALLS_LOG, else <repo>/.codex/toolcalls.ndjson].
    #[arg(long, value_name = "PATH")]
    pub log: Option<PathBuf>,
    /// The clock, for the window and recency, RFC 3339, e.g. 2026-11-22T13:10:00Z [default: now].
    #[arg(long, value_name = "RFC3339", value_parser = crate::args::now)]
    pub now: Option<chrono::DateTime<Utc>>,
    /// How far back to look, e.g. 7d, 24h, 2w (units s, m, h, d, w).
    #[arg(long, value_name = "DURATION", default_value = "7d", value_parser = crate::args::duration)]
    pub window: String,
    /// The config file, for `[closed_loop]` and `[semantic]` [default:
    /// <repo>/.codex/improvement.toml when present, else built-in defaults].
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Merge near-duplicate clusters with the semantic layer's embeddings first, as `run`
    /// does, even when `[semantic] enabled` is false, so one failure worded two ways is one
    /// task ($OPENAI_API_KEY, $OPENAI_BASE_URL; vectors the run cached cost nothing).
    #[arg(long)]
    pub semantic: bool,
}

/// Runs `export-harbor`: reads the log, folds, clusters the window's calls, exports, and
/// prints what was written (stdout) and skipped (stderr).
pub fn run_export_cli(args: ExportArgs) -> Result<()> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let repo_arg = crate::args::repo(args.repo.as_deref().or(Some(&cwd)))?;
    let repo = git::top_level(&repo_arg)?;
    let now = args.now.unwrap_or_else(Utc::now);
    let window = crate::config::parse_duration(&args.window)?;
    let since = now - window;

    let log = codex_contract::paths::log_path(args.log.as_deref(), &repo);
    let reader = codex_contract::read::open(&log).with_context(|| {
        format!(
            "cannot read the tool-call log {}; install the capture shim (`codex-shim install`) \
             or pass --log",
            log.display()
        )
    })?;
    let mut reader = reader;
    let mut folder = codex_contract::Folder::new();
    for r in reader.by_ref() {
        if r.phase != Some(Phase::Session) {
            folder.push(r);
        }
    }
    if let Some(e) = reader.error.take() {
        return Err(anyhow!(e).context(format!("reading {}", log.display())));
    }
    let stats = reader.into_stats();
    if stats.skipped > 0 {
        eprintln!(
            "note: skipped {} unreadable line(s) of {}",
            stats.skipped,
            log.display()
        );
    }
    let calls: Vec<_> = folder
        .finish()
        .into_iter()
        .filter(|c| c.first_ts >= since && c.first_ts <= now)
        .collect();
    let (config, _) = crate::config::Config::load(args.config.as_deref(), &repo)?;
    let closed_loop: crate::closed_loop::ClosedLoopConfig =
        config.section("closed_loop")?.unwrap_or_default();
    let cluster_opts = ClusterOptions {
        half_life_hours: closed_loop.half_life_hours,
        ..ClusterOptions::at(now)
    };
    let semantic = crate::semantic::merge_for_export(
        &repo,
        &config,
        args.semantic,
        cluster::cluster(&calls, &cluster_opts),
        closed_loop.max_clusters,
        &calls,
        &cluster_opts,
    )?;
    for w in &semantic.warnings {
        eprintln!("warning: {w}");
    }
    for m in &semantic.merges {
        eprintln!(
            "merged {} near-duplicate clusters into {} (similarity >= {}): {}",
            m.members.len(),
            m.id,
            m.min_similarity,
            m.members.join(", ")
        );
    }
    let clusters = semantic.clusters;
    let report = export(
        &repo,
        &clusters,
        &ExportOptions {
            out: args.out.clone(),
            top: args.top,
            fingerprint: args.fingerprint.clone(),
            now,
        },
    )?;

    for s in &report.skipped {
        eprintln!("skipped {}: {}", s.cluster_id, s.reason);
    }
    for t in &report.exported {
        println!(
            "exported {} ({}) -> {}{}",
            t.name,
            t.cluster_id,
            t.dir.display(),
            if t.fixed_at.is_some() {
                " [with solution]"
            } else {
                ""
            }
        );
        for w in &t.warnings {
            eprintln!(
                "warning: {}/{w} looks like it holds a secret (it is the repository's own file)",
                t.dir.display()
            );
        }
    }
    let unique: BTreeSet<&str> = report.exported.iter().map(|t| t.name.as_str()).collect();
    if report.exported.is_empty() {
        if clusters.is_empty() {
            println!(
                "no failing tool calls between {} and {}: nothing to export",
                format_ts(since),
                format_ts(now)
            );
        } else {
            println!(
                "no exportable friction among {} cluster(s) (reasons above)",
                clusters.len()
            );
        }
    } else {
        println!(
            "{} task(s) in {}. Check them with `harbor lint {}/*` and run one with \
             `harbor run -p <task folder> -a oracle` (Harbor needs Python 3.12+ and Docker).",
            unique.len(),
            args.out.display(),
            args.out.display()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workdir_is_the_subdirectory_the_command_ran_in() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = tmp.path().join("repo");
        let snapshot = tmp.path().join("snap");
        std::fs::create_dir_all(repo.join("crates/core")).unwrap();
        std::fs::create_dir_all(snapshot.join("crates/core")).unwrap();
        let cwd = |p: &Path| Some(p.to_str().unwrap().to_string());
        let sub = cwd(&repo.join("crates/core"));
        assert_eq!(
            workdir(&repo, sub.as_deref(), &snapshot).as_deref(),
            Some("crates/core")
        );
        assert_eq!(workdir(&repo, cwd(&repo).as_deref(), &snapshot), None);
        assert_eq!(workdir(&repo, Some("/somewhere/else"), &snapshot), None);
        assert_eq!(workdir(&repo, None, &snapshot), None);
        // A directory the snapshot lacks (untracked at that commit) falls back to the root.
        std::fs::create_dir_all(repo.join("target")).unwrap();
        let target = cwd(&repo.join("target"));
        assert_eq!(workdir(&repo, target.as_deref(), &snapshot), None);
    }

    #[test]
    fn shell_quoting_round_trips_through_bash() {
        let cmd = r#"echo 'it'"'"'s' "$HOME" `x` \ done"#;
        let q = templates::sh_quote(cmd);
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!("printf %s {q}"))
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), cmd);
    }
}
