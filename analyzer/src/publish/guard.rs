//! The hard guards: which refs the publisher may write and which files a PR may carry.
//!
//! These are checks in code, not conventions: every ref write goes through
//! [`guard_bot_ref`] immediately before the request, and a PR plan is validated by
//! [`check_pr_plan`] before the first request of the run.

use super::PrPlan;

/// Every branch the publisher writes starts with this.
pub const BOT_BRANCH_PREFIX: &str = "codex-improvement/";

/// The only files a bot PR may add or change.
pub const ALLOWED_PR_FILES: &[&str] = &[
    ".codex/improvement-log.md",
    ".codex/improvement-state.json",
    "AGENTS.md",
];

/// Why a ref or a PR plan was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuardError {
    #[error("refusing to write ref `{0}`: it is a protected branch name (main/master)")]
    MainBranch(String),
    #[error("refusing to write ref `{0}`: it is the repository's default branch")]
    DefaultBranch(String),
    #[error("refusing to write ref `{0}`: bot branches must start with `{BOT_BRANCH_PREFIX}`")]
    OutsidePrefix(String),
    #[error("refusing to write ref `{0}`: not a valid branch name")]
    InvalidName(String),
    #[error("refusing PR branch `{branch}`: the branch for run `{run_id}` is `{expected}`")]
    WrongRunBranch {
        branch: String,
        run_id: String,
        expected: String,
    },
    #[error("refusing PR plan: `{0}` is not a run ID (YYYY-MM-DD-AM|PM)")]
    BadRunId(String),
    #[error("refusing PR file `{0}`: only {ALLOWED_PR_FILES:?} may be changed by the bot")]
    FileNotAllowed(String),
    #[error("refusing PR plan: it changes no files")]
    NoFiles,
}

/// The bot branch of a run ID.
pub fn branch_for_run(run_id: &str) -> String {
    format!("{BOT_BRANCH_PREFIX}{run_id}")
}

/// Refuses any ref that is `main`, `master`, the default branch (when known), outside
/// [`BOT_BRANCH_PREFIX`], or not a valid branch name. Accepts `refs/heads/X`, `heads/X`
/// or `X`.
pub fn guard_bot_ref(reference: &str, default_branch: Option<&str>) -> Result<(), GuardError> {
    let name = reference
        .strip_prefix("refs/heads/")
        .or_else(|| reference.strip_prefix("heads/"))
        .unwrap_or(reference);
    let refused = |f: fn(String) -> GuardError| Err(f(reference.to_string()));
    let lower = name.to_ascii_lowercase();
    if lower == "main" || lower == "master" {
        return refused(GuardError::MainBranch);
    }
    if default_branch.is_some_and(|d| {
        let d = d.strip_prefix("refs/heads/").unwrap_or(d);
        d.eq_ignore_ascii_case(name)
    }) {
        return refused(GuardError::DefaultBranch);
    }
    if !name.starts_with(BOT_BRANCH_PREFIX) {
        return refused(GuardError::OutsidePrefix);
    }
    let rest = &name[BOT_BRANCH_PREFIX.len()..];
    let bad_char = |c: char| c.is_control() || c.is_whitespace() || "~^:?*[\\".contains(c);
    if rest.is_empty()
        || name.contains("..")
        || name.contains("//")
        || name.contains("@{")
        || name.ends_with('/')
        || name.ends_with('.')
        || name.ends_with(".lock")
        || name.split('/').any(|c| c.starts_with('.'))
        || name.chars().any(bad_char)
    {
        return refused(GuardError::InvalidName);
    }
    Ok(())
}

/// Validates a PR plan before any request: a run ID, the run's bot branch (which passes
/// [`guard_bot_ref`]), and only allow-listed files.
pub fn check_pr_plan(run_id: &str, pr: &PrPlan) -> Result<(), GuardError> {
    guard_bot_ref(&pr.branch, None)?;
    if !codex_contract::runid::is_run_id(run_id) {
        return Err(GuardError::BadRunId(run_id.to_string()));
    }
    let expected = branch_for_run(run_id);
    if pr.branch != expected {
        return Err(GuardError::WrongRunBranch {
            branch: pr.branch.clone(),
            run_id: run_id.to_string(),
            expected,
        });
    }
    if pr.files.is_empty() {
        return Err(GuardError::NoFiles);
    }
    for f in &pr.files {
        if !ALLOWED_PR_FILES.contains(&f.path.as_str()) {
            return Err(GuardError::FileNotAllowed(f.path.clone()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::PrFile;

    #[test]
    fn main_master_and_default_are_refused() {
        for r in ["main", "master", "refs/heads/main", "heads/master", "MAIN"] {
            assert!(
                matches!(guard_bot_ref(r, None), Err(GuardError::MainBranch(_))),
                "{r}"
            );
        }
        assert!(matches!(
            guard_bot_ref("trunk", Some("trunk")),
            Err(GuardError::DefaultBranch(_))
        ));
        // Even a default branch inside the bot prefix is refused.
        assert!(matches!(
            guard_bot_ref(
                "codex-improvement/2026-01-01-AM",
                Some("codex-improvement/2026-01-01-AM")
            ),
            Err(GuardError::DefaultBranch(_))
        ));
        assert!(matches!(
            guard_bot_ref(
                "refs/heads/codex-improvement/x",
                Some("refs/heads/codex-improvement/x")
            ),
            Err(GuardError::DefaultBranch(_))
        ));
    }

    #[test]
    fn only_the_bot_prefix_is_allowed() {
        assert_eq!(
            guard_bot_ref("codex-improvement/2026-01-01-AM", Some("main")),
            Ok(())
        );
        assert_eq!(
            guard_bot_ref("refs/heads/codex-improvement/2026-01-01-PM", None),
            Ok(())
        );
        for r in [
            "feature/x",
            "codex-improvement",
            "Codex-Improvement/x",
            "release",
            "refs/tags/v1",
        ] {
            assert!(
                matches!(guard_bot_ref(r, None), Err(GuardError::OutsidePrefix(_))),
                "{r}"
            );
        }
    }

    #[test]
    fn malformed_names_are_refused() {
        for r in [
            "codex-improvement/",
            "codex-improvement/../main",
            "codex-improvement/a b",
            "codex-improvement/a..b",
            "codex-improvement/x.lock",
            "codex-improvement//x",
            "codex-improvement/.hidden",
            "codex-improvement/a:b",
            "codex-improvement/a\nb",
        ] {
            assert!(
                matches!(guard_bot_ref(r, None), Err(GuardError::InvalidName(_))),
                "{r:?}"
            );
        }
    }

    fn plan(branch: &str, files: &[&str]) -> PrPlan {
        PrPlan {
            branch: branch.to_string(),
            title: "t".into(),
            body: "b".into(),
            files: files
                .iter()
                .map(|p| PrFile {
                    path: p.to_string(),
                    content: "x".into(),
                })
                .collect(),
        }
    }

    #[test]
    fn pr_plans_are_checked() {
        let run = "2026-03-10-AM";
        assert_eq!(
            check_pr_plan(
                run,
                &plan(
                    "codex-improvement/2026-03-10-AM",
                    &[".codex/improvement-log.md", "AGENTS.md"]
                )
            ),
            Ok(())
        );
        assert!(matches!(
            check_pr_plan(run, &plan("main", &["AGENTS.md"])),
            Err(GuardError::MainBranch(_))
        ));
        assert!(matches!(
            check_pr_plan(
                run,
                &plan("codex-improvement/2026-03-10-PM", &["AGENTS.md"])
            ),
            Err(GuardError::WrongRunBranch { .. })
        ));
        assert!(matches!(
            check_pr_plan("latest", &plan("codex-improvement/latest", &["AGENTS.md"])),
            Err(GuardError::BadRunId(_))
        ));
        assert!(matches!(
            check_pr_plan(
                run,
                &plan("codex-improvement/2026-03-10-AM", &["src/main.rs"])
            ),
            Err(GuardError::FileNotAllowed(_))
        ));
        assert!(matches!(
            check_pr_plan(
                run,
                &plan("codex-improvement/2026-03-10-AM", &["./AGENTS.md"])
            ),
            Err(GuardError::FileNotAllowed(_))
        ));
        assert!(matches!(
            check_pr_plan(run, &plan("codex-improvement/2026-03-10-AM", &[])),
            Err(GuardError::NoFiles)
        ));
    }
}
