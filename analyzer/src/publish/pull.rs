//! One draft PR per run ID, on `codex-improvement/<run-id>`, never touching the default branch.
//!
//! Steps, each safe to repeat:
//! 1. Read the repository's default branch; guard the PR branch against it.
//! 2. If any PR (open, closed or merged) exists for `owner:codex-improvement/<run-id>`,
//!    nothing new is created (its labels are completed if an earlier attempt was cut short).
//! 3. If the branch does not exist: one commit on top of the default branch's head holding
//!    only the allow-listed files (Git Data API: a tree from `base_tree` plus the files, a
//!    commit, then the ref). The ref is created through [`guard_bot_ref`] again right before
//!    the request. A racer that created the ref first answers 422 "Reference already exists":
//!    fine, its branch is used. If the files equal the default branch's, there is nothing to
//!    propose and no commit is made.
//! 4. If the branch exists (an earlier attempt, or a racer), it is never rewritten: a human
//!    may have pushed to it.
//! 5. Open the PR as a draft; 422 "A pull request already exists" means a racer won: adopt it.
//! 6. Label it (`automation`), which also keeps it out of the PR-activity signal.

use http::Method;
use serde_json::{json, Value};

use super::client::{encode, GithubError};
use super::guard::guard_bot_ref;
use super::{Action, ItemKey, PendingItem, PrPlan, Session};

pub(crate) async fn publish_pr(s: &mut Session<'_>, run_id: &str, pr: &PrPlan) {
    let item = PendingItem::PullRequest {
        run_id: run_id.to_string(),
        pr: pr.clone(),
    };
    let Some(item) = s.check_stopped(item) else {
        return;
    };
    match publish(s, run_id, pr).await {
        Ok(()) => {}
        Err(Failure::Refused(why)) => s.out.record(
            ItemKey::PullRequest(run_id.to_string()),
            Action::Refused,
            None,
            why,
        ),
        Err(Failure::Api(e)) => s.fail(item, &e),
    }
}

enum Failure {
    Refused(String),
    Api(GithubError),
}

impl From<GithubError> for Failure {
    fn from(e: GithubError) -> Failure {
        Failure::Api(e)
    }
}

fn field<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, k| v.get(k))
}

fn sha_at(v: &Value, path: &[&str], what: &str) -> Result<String, GithubError> {
    field(v, path)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| GithubError::Decode {
            path: what.to_string(),
            detail: format!("missing {}", path.join(".")),
        })
}

async fn publish(s: &mut Session<'_>, run_id: &str, pr: &PrPlan) -> Result<(), Failure> {
    let key = ItemKey::PullRequest(run_id.to_string());
    let client = s.client;
    let repo = client.get_json(&client.repo_path("")).await?;
    let default_branch = sha_at(&repo, &["default_branch"], "repository")?;
    guard_bot_ref(&pr.branch, Some(&default_branch))
        .map_err(|e| Failure::Refused(e.to_string()))?;

    if let Some(existing) = find_pr(s, &pr.branch).await? {
        let number = existing.get("number").and_then(Value::as_u64);
        s.out.pull_request = number;
        if let Some(n) = number {
            ensure_pr_labels(s, n, &existing).await?;
        }
        s.out.record(
            key,
            Action::AlreadyExists,
            number,
            "the run's PR exists: nothing new created",
        );
        return Ok(());
    }

    let branch_ref = format!("heads/{}", pr.branch);
    let branch_exists = client
        .get_optional(&client.repo_path(&format!("/git/ref/{branch_ref}")))
        .await?
        .is_some();
    if !branch_exists {
        let base = client
            .get_json(&client.repo_path(&format!("/git/ref/heads/{default_branch}")))
            .await?;
        let base_sha = sha_at(&base, &["object", "sha"], "default branch ref")?;
        let base_commit = client
            .get_json(&client.repo_path(&format!("/git/commits/{base_sha}")))
            .await?;
        let base_tree = sha_at(&base_commit, &["tree", "sha"], "default branch commit")?;
        let entries: Vec<Value> = pr
            .files
            .iter()
            .map(
                |f| json!({"path": f.path, "mode": "100644", "type": "blob", "content": f.content}),
            )
            .collect();
        let tree = client
            .write_json(
                Method::POST,
                &client.repo_path("/git/trees"),
                &json!({"base_tree": base_tree, "tree": entries}),
            )
            .await?;
        let tree_sha = sha_at(&tree, &["sha"], "created tree")?;
        if tree_sha == base_tree {
            s.out.record(
                key,
                Action::Unchanged,
                None,
                "the files already match the default branch: no PR needed",
            );
            return Ok(());
        }
        let commit = client
            .write_json(
                Method::POST,
                &client.repo_path("/git/commits"),
                &json!({
                    "message": format!("codex-improvement: run {run_id}\n\nUpdates the improvement log and state (automation)."),
                    "tree": tree_sha,
                    "parents": [base_sha],
                }),
            )
            .await?;
        let commit_sha = sha_at(&commit, &["sha"], "created commit")?;
        // The hard guard, right before the only ref write.
        guard_bot_ref(&pr.branch, Some(&default_branch))
            .map_err(|e| Failure::Refused(e.to_string()))?;
        let created = client
            .write_json(
                Method::POST,
                &client.repo_path("/git/refs"),
                &json!({"ref": format!("refs/{branch_ref}"), "sha": commit_sha}),
            )
            .await;
        match created {
            Ok(_) => {}
            // A concurrent run created the branch first; use it.
            Err(e) if e.status() == Some(422) && e.message().contains("already exists") => {}
            Err(e) => return Err(e.into()),
        }
    }

    let opened = client
        .write_json(
            Method::POST,
            &client.repo_path("/pulls"),
            &json!({
                "title": pr.title,
                "head": pr.branch,
                "base": default_branch,
                "body": pr.body,
                "draft": true,
                "maintainer_can_modify": true,
            }),
        )
        .await;
    let (number, action) = match opened {
        Ok(v) => (v.get("number").and_then(Value::as_u64), Action::Created),
        Err(e) if e.status() == Some(422) && e.message().contains("already exists") => {
            let existing = find_pr(s, &pr.branch).await?;
            (
                existing.and_then(|p| p.get("number").and_then(Value::as_u64)),
                Action::AlreadyExists,
            )
        }
        Err(e) => return Err(e.into()),
    };
    let Some(number) = number else {
        return Err(GithubError::Decode {
            path: "/pulls".into(),
            detail: "no PR number in the answer".into(),
        }
        .into());
    };
    s.out.pull_request = Some(number);
    s.out.record(
        key,
        action,
        Some(number),
        format!("draft PR from {} into {default_branch}", pr.branch),
    );
    // If this fails the PR goes pending; the next run finds it and only adds the labels.
    ensure_pr_labels(s, number, &Value::Null).await?;
    Ok(())
}

/// The PR (any state) whose head is `owner:branch`. The `owner:` prefix matters: GitHub
/// ignores a bare branch name and returns every PR.
async fn find_pr(s: &Session<'_>, branch: &str) -> Result<Option<Value>, GithubError> {
    let head = format!("{}:{branch}", s.client.owner);
    let target = format!(
        "{}?state=all&head={}&per_page=100",
        s.client.repo_path("/pulls"),
        encode(&head)
    );
    let prs = s.client.list(&target, None, 100, |_| true).await?;
    // Belt and braces against a server that ignores the filter.
    Ok(prs
        .into_iter()
        .find(|p| field(p, &["head", "ref"]).and_then(Value::as_str) == Some(branch)))
}

/// Adds the missing PR labels (`existing`: the PR object if known, to skip a write).
async fn ensure_pr_labels(
    s: &mut Session<'_>,
    number: u64,
    existing: &Value,
) -> Result<(), GithubError> {
    let have: Vec<String> = existing
        .get("labels")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|l| l.get("name").and_then(Value::as_str))
                .map(str::to_lowercase)
                .collect()
        })
        .unwrap_or_default();
    let missing: Vec<&String> = s
        .settings
        .pr_labels
        .iter()
        .filter(|l| !have.contains(&l.to_lowercase()))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    s.client
        .write_json(
            Method::POST,
            &s.client.repo_path(&format!("/issues/{number}/labels")),
            &json!({"labels": missing}),
        )
        .await?;
    Ok(())
}
