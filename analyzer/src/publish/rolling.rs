//! The rolling issue: exactly one `Codex Continuous Improvement (Rolling)` issue whose body is
//! the latest run's summary.
//!
//! Found by its hidden marker or its exact title (labelled listing plus a title search);
//! among open candidates the lowest number with the marker wins and the other open ones are
//! closed as duplicates. The body is compared with what would be sent: equal bytes mean no
//! write. Created issues get the same write-time duplicate check as tickets.
//!
//! A maintainer closing the rolling issue mutes it: it is not reopened (a dashboard that
//! reopens itself is the most common complaint about Renovate's) and no new one is created;
//! its body is still kept current, so reopening it by hand shows the latest state.

use http::Method;
use serde_json::{json, Value};

use super::body::{cap_body, ROLLING_MARKER};
use super::client::GithubError;
use super::tickets::{
    close_duplicate, create_checked, list_labelled, merge, search, Created, Found,
};
use super::{Action, ItemKey, PendingItem, Session};

/// The body sent for `summary` (already redacted): capped, then the marker.
pub(crate) fn render(summary: &str, cap: usize) -> String {
    cap_body(summary.trim_end(), &format!("\n\n{ROLLING_MARKER}\n"), cap)
}

fn is_candidate(f: &Found, title: &str) -> bool {
    f.body.contains(ROLLING_MARKER) || f.title == title
}

/// Orders candidates: open before closed, marker before title-only, then lowest number.
fn pick(mut c: Vec<Found>) -> Vec<Found> {
    c.sort_by_key(|f| (!f.is_open(), !f.body.contains(ROLLING_MARKER), f.number));
    c
}

pub(crate) async fn publish_rolling(s: &mut Session<'_>, run_id: &str, summary: &str) {
    let item = PendingItem::Rolling {
        run_id: run_id.to_string(),
        body: summary.to_string(),
    };
    let Some(item) = s.check_stopped(item) else {
        return;
    };
    if let Err(e) = publish(s, summary).await {
        s.fail(item, &e);
    }
}

async fn publish(s: &mut Session<'_>, summary: &str) -> Result<(), GithubError> {
    let title = s.settings.rolling_title.clone();
    let labelled = list_labelled(s.client, s.settings).await?;
    let searched = search(s.client, &format!("in:title \"{title}\"")).await?;
    let candidates = pick(
        merge(vec![labelled, searched])
            .into_iter()
            .filter(|f| is_candidate(f, &title))
            .collect(),
    );
    let body = render(summary, s.settings.body_cap);
    let key = ItemKey::Rolling;

    let Some(keep) = candidates.first().cloned() else {
        return create(s, &title, &body).await;
    };
    s.out.rolling_issue = Some(keep.number);
    if keep.is_open() {
        for dup in candidates[1..].iter().filter(|f| f.is_open()) {
            close_duplicate(s, &key, dup.number, keep.number).await;
        }
    }
    if keep.body == body {
        s.out.record(
            key,
            Action::Unchanged,
            Some(keep.number),
            "body unchanged: no write",
        );
        return Ok(());
    }
    s.client
        .write_json(
            Method::PATCH,
            &s.client.repo_path(&format!("/issues/{}", keep.number)),
            &json!({"body": body}),
        )
        .await?;
    let detail = if keep.is_open() {
        "body updated"
    } else {
        "body updated; closed by a maintainer, so left closed"
    };
    s.out
        .record(key, Action::Updated, Some(keep.number), detail);
    Ok(())
}

async fn create(s: &mut Session<'_>, title: &str, body: &str) -> Result<(), GithubError> {
    let key = ItemKey::Rolling;
    let payload = json!({"title": title, "body": body, "labels": s.settings.labels});
    let kept = create_checked(s, &key, &payload, |f| f.body.contains(ROLLING_MARKER)).await?;
    s.out.rolling_issue = Some(kept.number());
    if let Created::Twin(keep) = kept {
        // The survivor gets this run's body (unless the racer already wrote the same).
        let path = s.client.repo_path(&format!("/issues/{keep}"));
        let current = s.client.get_json(&path).await?;
        if current.get("body").and_then(Value::as_str) != Some(body) {
            s.client
                .write_json(Method::PATCH, &path, &json!({"body": body}))
                .await?;
            s.out
                .record(key, Action::Updated, Some(keep), "body updated");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(number: u64, title: &str, body: &str, state: &str) -> Found {
        Found {
            number,
            title: title.into(),
            body: body.into(),
            state: state.into(),
        }
    }

    #[test]
    fn the_open_marked_lowest_wins() {
        let t = "Codex Continuous Improvement (Rolling)";
        let c = pick(vec![
            found(9, t, ROLLING_MARKER, "open"),
            found(3, t, ROLLING_MARKER, "closed"),
            found(5, t, "no marker", "open"),
            found(7, t, ROLLING_MARKER, "open"),
        ]);
        let order: Vec<u64> = c.iter().map(|f| f.number).collect();
        assert_eq!(order, vec![7, 9, 5, 3]);
    }

    #[test]
    fn rendered_body_is_capped_and_marked() {
        let b = render(&"row\n".repeat(40_000), 60_000);
        assert!(b.chars().count() <= 60_000);
        assert!(b.contains(ROLLING_MARKER));
        assert!(b.contains("Truncated"));
        assert_eq!(render("same", 60_000), render("same", 60_000));
    }
}
