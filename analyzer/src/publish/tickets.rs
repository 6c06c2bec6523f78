//! Tickets: one issue per finding fingerprint.
//!
//! **Finding a ticket.** A ticket is the issue whose body holds
//! `<!-- codex-improvement:fingerprint=FP -->`. Candidates come from a listing of issues with
//! the configured labels (consistent: it sees an issue the moment it exists) and from one
//! search `in:body "codex-improvement:fingerprint"` (which also finds tickets whose labels a
//! human removed, but lags writes by seconds to minutes). Titles are never used to match.
//!
//! **Never duplicated, also when two runs race.** Checking before creating is not enough: two
//! runs can both see "no ticket" and both create. So the check is repeated *at write time*:
//! right after creating, the publisher lists again; if another open issue with the same
//! marker and a lower number exists, it closes its own as a duplicate and adopts the lower
//! one. Issue numbers are assigned in creation order, so of two racers the later creator
//! always sees the earlier issue and is the one that backs off; the survivor is always the
//! lowest number. Any later run also closes stray open duplicates (higher numbers) it finds.
//!
//! **Refreshing.** When the finding recurs in a new run, the publisher first posts a comment
//! with the new level (unless a comment for this run already exists), then updates the body.
//! Comment-before-body makes an interrupted refresh resumable: the body's run marker only
//! changes once the comment is in. Rerunning the same run ID writes nothing.
//!
//! **Closed tickets.** A ticket a human closed stays closed unless the finding *regressed past
//! its earlier level*: the body of every ticket records the level it was last refreshed with
//! (`<!-- codex-improvement:level=N -->`), the publisher never edits a closed ticket, so that
//! marker holds the level at the time of closing, and the ticket is reopened only when
//! `level > earlier × (1 + reopen_margin)` (margin 0 by default: strictly higher). A closed
//! ticket without a level marker is never reopened. While closed and not regressed, the
//! ticket is left untouched and no new ticket is opened for the fingerprint.

use std::collections::BTreeMap;

use http::Method;
use serde_json::{json, Value};

use super::body::{cap_body, fingerprint_marker, fmt_level, marker, marker_value, marker_values};
use super::client::{encode, Client, GithubError};
use super::{Action, ItemKey, PendingItem, PublishSettings, Session, TicketPlan};

/// An issue as the publisher needs it.
#[derive(Clone, Debug)]
pub(crate) struct Found {
    pub number: u64,
    pub title: String,
    pub body: String,
    pub state: String,
}

impl Found {
    fn from_json(v: &Value) -> Option<Found> {
        if v.get("pull_request").is_some() {
            return None;
        }
        Some(Found {
            number: v.get("number")?.as_u64()?,
            title: v.get("title")?.as_str()?.to_string(),
            body: v
                .get("body")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            state: v.get("state")?.as_str()?.to_string(),
        })
    }

    pub fn is_open(&self) -> bool {
        self.state == "open"
    }
}

/// Every issue (open and closed) carrying all the configured labels.
pub(crate) async fn list_labelled(
    client: &Client,
    settings: &PublishSettings,
) -> Result<Vec<Found>, GithubError> {
    let labels = settings.labels.join(",");
    let target = format!(
        "{}?state=all&labels={}&per_page=100",
        client.repo_path("/issues"),
        encode(&labels)
    );
    let items = client.list(&target, None, 10_000, |_| true).await?;
    Ok(items.iter().filter_map(Found::from_json).collect())
}

/// Issues matching a search query (`repo:` and `is:issue` are added).
pub(crate) async fn search(client: &Client, query: &str) -> Result<Vec<Found>, GithubError> {
    let q = format!("repo:{}/{} is:issue {query}", client.owner, client.repo);
    let target = format!("/search/issues?q={}&per_page=100", encode(&q));
    let items = client.list(&target, Some("items"), 1_000, |_| true).await?;
    Ok(items.iter().filter_map(Found::from_json).collect())
}

/// Merges candidate lists by number; earlier lists win (the listing is fresher than search).
pub(crate) fn merge(lists: Vec<Vec<Found>>) -> Vec<Found> {
    let mut by_number: BTreeMap<u64, Found> = BTreeMap::new();
    for list in lists {
        for f in list {
            by_number.entry(f.number).or_insert(f);
        }
    }
    by_number.into_values().collect()
}

/// Whether a closed ticket whose body recorded `earlier` should reopen at `level`: only when
/// the finding regressed past its earlier level, `level > earlier × (1 + margin)`. Without a
/// recorded level it never reopens.
pub fn should_reopen(level: f64, earlier: Option<f64>, margin: f64) -> bool {
    match earlier {
        Some(e) if e.is_finite() => level > e + e.abs() * margin.max(0.0),
        _ => false,
    }
}

/// The issue body of a ticket: the (redacted) text and a footer, capped, then the hidden
/// markers, which are never cut.
pub(crate) fn render(run_id: &str, t: &TicketPlan, cap: usize) -> String {
    let main = format!(
        "{}\n\n---\n<sub>Maintained by codex-analyzer · severity: {} · level: {} · run {run_id}. \
         Found again by the hidden marker below, not by title.</sub>",
        t.body_markdown.trim_end(),
        t.severity,
        fmt_level(t.level),
    );
    let tail = format!(
        "\n\n{}\n{}\n{}\n",
        fingerprint_marker(&t.fingerprint),
        marker("level", &fmt_level(t.level)),
        marker("run", run_id)
    );
    cap_body(&main, &tail, cap)
}

fn has_fingerprint(body: &str, fp: &str) -> bool {
    marker_values(body, "fingerprint").contains(&fp)
}

fn labels_for(settings: &PublishSettings, t: &TicketPlan) -> Vec<String> {
    let mut labels = settings.labels.clone();
    for l in &t.labels {
        if !labels.iter().any(|x| x.eq_ignore_ascii_case(l)) {
            labels.push(l.clone());
        }
    }
    labels
}

pub(crate) async fn publish_tickets(s: &mut Session<'_>, tickets: &[(String, TicketPlan)]) {
    if tickets.is_empty() {
        return;
    }
    let pending = |run_id: &str, t: &TicketPlan| PendingItem::Ticket {
        run_id: run_id.to_string(),
        ticket: t.clone(),
    };
    if s.stopped.is_some() {
        for (run_id, t) in tickets {
            s.check_stopped(pending(run_id, t));
        }
        return;
    }
    // One consistent listing plus one search for all tickets. If either fails, creating
    // could duplicate, so everything waits for the next run.
    let candidates = async {
        let labelled = list_labelled(s.client, s.settings).await?;
        let searched = search(s.client, "in:body \"codex-improvement:fingerprint\"").await?;
        Ok::<_, GithubError>(merge(vec![labelled, searched]))
    }
    .await;
    let candidates = match candidates {
        Ok(c) => c,
        Err(e) => {
            for (run_id, t) in tickets {
                s.fail(pending(run_id, t), &e);
            }
            return;
        }
    };
    let mut created = 0usize;
    for (run_id, t) in tickets {
        let Some(item) = s.check_stopped(pending(run_id, t)) else {
            continue;
        };
        let mine: Vec<&Found> = candidates
            .iter()
            .filter(|f| has_fingerprint(&f.body, &t.fingerprint))
            .collect();
        let result = if mine.is_empty() {
            if created >= s.settings.max_new_tickets {
                s.out.record(
                    item.key(),
                    Action::HeldBack,
                    None,
                    format!(
                        "held back: at most {} new tickets per run; on the rolling issue's watch list",
                        s.settings.max_new_tickets
                    ),
                );
                continue;
            }
            created += 1;
            create(s, run_id, t).await
        } else {
            refresh(s, run_id, t, &mine).await
        };
        if let Err(e) = result {
            s.fail(item, &e);
        }
    }
}

async fn create(s: &mut Session<'_>, run_id: &str, t: &TicketPlan) -> Result<(), GithubError> {
    let key = ItemKey::Ticket(t.fingerprint.clone());
    let payload = json!({
        "title": t.title,
        "body": render(run_id, t, s.settings.body_cap),
        "labels": labels_for(s.settings, t),
    });
    let kept = create_checked(s, &key, &payload, |f| {
        has_fingerprint(&f.body, &t.fingerprint)
    })
    .await?;
    s.out.tickets.insert(t.fingerprint.clone(), kept.number());
    Ok(())
}

/// What [`create_checked`] ended with.
pub(crate) enum Created {
    /// The new issue, the only one of its kind.
    New(u64),
    /// The new issue, whose duplicate check could not be made (recorded; the next run
    /// repeats it).
    Unverified(u64),
    /// An earlier twin, kept; the new issue was closed as its duplicate.
    Twin(u64),
}

impl Created {
    /// The issue that stands for the item now.
    pub(crate) fn number(&self) -> u64 {
        match *self {
            Created::New(n) | Created::Unverified(n) | Created::Twin(n) => n,
        }
    }
}

/// Creates an issue (`payload`) for `key`, then makes the write-time duplicate check (see the
/// module docs): when a concurrent or interrupted run created a twin first (an earlier open
/// issue for which `is_twin` holds), the new one is closed as its duplicate. Records what
/// happened for `key`, except an update of the twin, which is the caller's.
pub(crate) async fn create_checked(
    s: &mut Session<'_>,
    key: &ItemKey,
    payload: &Value,
    is_twin: impl Fn(&Found) -> bool,
) -> Result<Created, GithubError> {
    let number = create_issue(s, payload).await?;
    let earlier = match list_labelled(s.client, s.settings).await {
        Ok(all) => all
            .into_iter()
            .filter(|f| f.number < number && f.is_open() && is_twin(f))
            .map(|f| f.number)
            .min(),
        Err(e) => {
            record_unverified(s, key.clone(), number, &e);
            return Ok(Created::Unverified(number));
        }
    };
    Ok(match earlier {
        Some(keep) => {
            close_duplicate(s, key, number, keep).await;
            Created::Twin(keep)
        }
        None => {
            s.out
                .record(key.clone(), Action::Created, Some(number), "created");
            Created::New(number)
        }
    })
}

/// Creates an issue (`payload`: title, body, labels) and returns its number.
async fn create_issue(s: &mut Session<'_>, payload: &Value) -> Result<u64, GithubError> {
    let issue = s
        .client
        .write_json(Method::POST, &s.client.repo_path("/issues"), payload)
        .await?;
    issue
        .get("number")
        .and_then(Value::as_u64)
        .ok_or_else(|| GithubError::Decode {
            path: "/issues".into(),
            detail: "created issue has no number".into(),
        })
}

/// Records an issue created without its write-time duplicate check (the listing failed):
/// a later run repeats the check and closes any duplicate it finds.
fn record_unverified(s: &mut Session<'_>, key: ItemKey, number: u64, e: &GithubError) {
    s.out.record(
        key,
        Action::Created,
        Some(number),
        format!("created; duplicate check failed ({e}), the next run repeats it"),
    );
}

/// Closes `dup` as a duplicate of `keep` (close first, then say why).
pub(crate) async fn close_duplicate(s: &mut Session<'_>, key: &ItemKey, dup: u64, keep: u64) {
    let path = s.client.repo_path(&format!("/issues/{dup}"));
    let closed = s
        .client
        .write_json(
            Method::PATCH,
            &path,
            &json!({"state": "closed", "state_reason": "not_planned"}),
        )
        .await;
    match closed {
        Ok(_) => {
            let note = format!(
                "Duplicate of #{keep}: created by a concurrent or interrupted codex-analyzer run. \
                 Closed automatically; #{keep} is the one kept up to date."
            );
            let _ = s.client.comment(&path, &note).await;
            s.out.record(
                key.clone(),
                Action::ClosedDuplicate,
                Some(dup),
                format!("duplicate of #{keep}"),
            );
        }
        Err(e) => s.out.record(
            key.clone(),
            Action::Pending,
            Some(dup),
            format!("could not close duplicate #{dup} of #{keep} ({e}); the next run retries"),
        ),
    }
}

/// Whether any comment on issue `n` carries this run's marker.
pub(crate) async fn has_run_comment(
    client: &Client,
    n: u64,
    run_id: &str,
) -> Result<bool, GithubError> {
    let target = format!(
        "{}?per_page=100",
        client.repo_path(&format!("/issues/{n}/comments"))
    );
    let comments = client.list(&target, None, 10_000, |_| true).await?;
    let run_marker = marker("run", run_id);
    Ok(comments.iter().any(|c| {
        c.get("body")
            .and_then(Value::as_str)
            .is_some_and(|b| b.contains(&run_marker))
    }))
}

async fn refresh(
    s: &mut Session<'_>,
    run_id: &str,
    t: &TicketPlan,
    mine: &[&Found],
) -> Result<(), GithubError> {
    let key = ItemKey::Ticket(t.fingerprint.clone());
    // The lowest number is the ticket; open higher ones are leftovers of a race or fault.
    let ticket = mine[0];
    s.out.tickets.insert(t.fingerprint.clone(), ticket.number);
    for dup in mine[1..].iter().filter(|f| f.is_open()) {
        close_duplicate(s, &key, dup.number, ticket.number).await;
    }

    let body = render(run_id, t, s.settings.body_cap);
    let earlier: Option<f64> = marker_value(&ticket.body, "level").and_then(|v| v.parse().ok());
    let earlier_run = marker_value(&ticket.body, "run").map(str::to_string);
    let issue_path = s.client.repo_path(&format!("/issues/{}", ticket.number));

    if !ticket.is_open() {
        if !should_reopen(t.level, earlier, s.settings.reopen_margin) {
            s.out.record(
                key,
                Action::KeptClosed,
                Some(ticket.number),
                format!(
                    "closed by a maintainer; level {} has not passed the earlier {}",
                    fmt_level(t.level),
                    earlier.map_or_else(|| "(unrecorded)".into(), fmt_level)
                ),
            );
            return Ok(());
        }
        let earlier = earlier.unwrap_or_default();
        if !has_run_comment(s.client, ticket.number, run_id).await? {
            let note = format!(
                "Reopened by codex-analyzer: in run `{run_id}` the level is {}, past the {} \
                 recorded when this ticket was closed.\n\n{}",
                fmt_level(t.level),
                fmt_level(earlier),
                marker("run", run_id)
            );
            s.client.comment(&issue_path, &note).await?;
        }
        s.client
            .write_json(
                Method::PATCH,
                &issue_path,
                &json!({"state": "open", "state_reason": "reopened", "body": body}),
            )
            .await?;
        s.out.record(
            key,
            Action::Reopened,
            Some(ticket.number),
            format!("regressed: {} > {}", fmt_level(t.level), fmt_level(earlier)),
        );
        return Ok(());
    }

    let mut commented = false;
    if earlier_run.as_deref() != Some(run_id)
        && !has_run_comment(s.client, ticket.number, run_id).await?
    {
        let note = format!(
            "Seen again in run `{run_id}`: level {} (was {}{}).\n\n{}",
            fmt_level(t.level),
            earlier.map_or_else(|| "unrecorded".into(), fmt_level),
            earlier_run
                .as_deref()
                .map(|r| format!(" in run `{r}`"))
                .unwrap_or_default(),
            marker("run", run_id)
        );
        s.client.comment(&issue_path, &note).await?;
        commented = true;
    }
    if ticket.body != body {
        s.client
            .write_json(Method::PATCH, &issue_path, &json!({"body": body}))
            .await?;
        s.out
            .record(key, Action::Updated, Some(ticket.number), "body refreshed");
    } else if commented {
        s.out
            .record(key, Action::Updated, Some(ticket.number), "commented");
    } else {
        s.out.record(
            key,
            Action::Unchanged,
            Some(ticket.number),
            "already up to date",
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reopen_only_past_the_earlier_level() {
        assert!(should_reopen(11.0, Some(10.0), 0.0));
        assert!(!should_reopen(10.0, Some(10.0), 0.0));
        assert!(!should_reopen(9.0, Some(10.0), 0.0));
        assert!(!should_reopen(12.0, Some(10.0), 0.25));
        assert!(should_reopen(12.6, Some(10.0), 0.25));
        assert!(!should_reopen(1000.0, None, 0.0));
        assert!(should_reopen(0.5, Some(0.0), 0.0));
    }

    fn ticket(level: f64) -> TicketPlan {
        TicketPlan {
            fingerprint: "ci:v1:abc".into(),
            title: "t".into(),
            body_markdown: "evidence".into(),
            labels: vec![],
            severity: "high".into(),
            level,
            held_back: false,
        }
    }

    #[test]
    fn rendered_body_carries_markers() {
        let b = render("2026-01-01-AM", &ticket(7.0), 60_000);
        assert!(has_fingerprint(&b, "ci:v1:abc"));
        assert!(!has_fingerprint(&b, "ci:v1:ab"));
        assert_eq!(marker_value(&b, "level"), Some("7"));
        assert_eq!(marker_value(&b, "run"), Some("2026-01-01-AM"));
        // Same input, same bytes: what makes a rerun write nothing.
        assert_eq!(b, render("2026-01-01-AM", &ticket(7.0), 60_000));
    }

    #[test]
    fn long_bodies_keep_their_markers() {
        let mut t = ticket(3.0);
        t.body_markdown = "x".repeat(100_000);
        let b = render("2026-01-01-AM", &t, 60_000);
        assert!(b.chars().count() <= 60_000);
        assert!(has_fingerprint(&b, "ci:v1:abc"));
        assert_eq!(marker_value(&b, "level"), Some("3"));
    }
}
