//! Publishing to GitHub, and reading GitHub's signals back.
//!
//! The write side takes a [`PublishPlan`] (what the analysis wants to say) and makes GitHub
//! match it without ever making things worse:
//!
//! - **Tickets**: one issue per finding fingerprint, found again by a hidden marker
//!   `<!-- codex-improvement:fingerprint=FP -->` in its body (by a label listing, plus a search
//!   for issues whose labels a human removed), never by title. A recurring finding refreshes
//!   its ticket (a comment with the new numbers, then the body). See [`tickets`] for the
//!   race and closed-ticket rules.
//! - **Rolling issue**: exactly one `Codex Continuous Improvement (Rolling)` issue, found by
//!   title and marker; duplicates are closed; no write when the body is unchanged; the body is
//!   capped under GitHub's limit.
//! - **One PR per run ID**: branch `codex-improvement/<run-id>` from the default branch, one
//!   commit with only allow-listed files, draft, labelled `automation`; nothing new if the
//!   run's PR exists. [`guard::guard_bot_ref`] refuses any other ref.
//! - **Secrets**: every title, body, comment and file sent passes
//!   `codex_contract::redact::redact` and then `contains_secret`; an item that still trips the
//!   check is refused, never sent.
//! - **Degradation**: without a token nothing is sent and the outcome says why; an item that
//!   fails (5xx, rate limit, timeout) lands in [`PublishOutcome::pending`], which the caller
//!   stores in its state and passes back as [`PublishPlan::pending`] next run.
//!
//! The read side ([`signals`]) collects PR activity, CI failures with their logs, and
//! `toolcalls.ndjson` files uploaded as workflow artifacts.
//!
//! Everything is async (the network is); [`block_on`] runs a future to completion for
//! synchronous callers.

mod body;
mod client;
pub mod guard;
mod pull;
mod rolling;
pub mod signals;
pub mod tickets;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::future::Future;

use serde::{Deserialize, Serialize};

pub use body::{
    cap_body, fingerprint_marker, marker_value, sanitize, valid_fingerprint, SecretRefused,
    DEFAULT_BODY_CAP, GITHUB_BODY_LIMIT, ROLLING_MARKER, TRUNCATION_NOTE,
};
pub use client::{GithubError, Limits};
pub use guard::{
    branch_for_run, check_pr_plan, guard_bot_ref, GuardError, ALLOWED_PR_FILES, BOT_BRANCH_PREFIX,
};
pub use signals::{
    ArtifactHarvest, ArtifactToolcalls, CiFailure, CiFailures, PrActivity, PrSummary, Window,
};
pub use tickets::should_reopen;

use client::Client;

/// The default labels of tickets and the rolling issue.
pub const DEFAULT_LABELS: &[&str] = &["automation", "codex-improvement"];

/// The rolling issue's exact title.
pub const ROLLING_TITLE: &str = "Codex Continuous Improvement (Rolling)";

/// What the outcome says when there is no token.
pub const NO_TOKEN: &str = "not published: no GITHUB_TOKEN";

/// One ticket the analysis wants open.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TicketPlan {
    /// The finding's stable fingerprint (`[A-Za-z0-9._:-]`, at most 128 characters).
    pub fingerprint: String,
    pub title: String,
    /// The ticket body: evidence, risk, QA notes. Markers are added by the publisher.
    pub body_markdown: String,
    /// Extra labels on top of [`PublishSettings::labels`].
    #[serde(default)]
    pub labels: Vec<String>,
    pub severity: String,
    /// The metric that decides whether a finding "regressed past its earlier level" (higher is
    /// worse), e.g. the failure count in the window. See [`should_reopen`].
    pub level: f64,
    /// Held back by the run's ticket budget: an existing ticket (found by its marker) is
    /// refreshed as usual, but a new one is opened only if the tickets before it in the plan
    /// left room under [`PublishSettings::max_new_tickets`]; never kept pending.
    #[serde(default)]
    pub held_back: bool,
}

/// One file of a bot PR (text: every allow-listed file is text).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PrFile {
    pub path: String,
    pub content: String,
}

/// The run's PR.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PrPlan {
    /// Must be `codex-improvement/<run-id>` ([`branch_for_run`]).
    pub branch: String,
    pub title: String,
    /// Evidence, risk and QA notes.
    pub body: String,
    /// Only [`ALLOWED_PR_FILES`].
    pub files: Vec<PrFile>,
}

/// Everything one run wants published.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct PublishPlan {
    pub run_id: String,
    pub tickets: Vec<TicketPlan>,
    /// The rolling issue's body (the run's summary with deltas); `None` leaves it alone.
    pub rolling_body: Option<String>,
    pub pr: Option<PrPlan>,
    /// What earlier runs could not publish (from the caller's state).
    #[serde(default)]
    pub pending: Vec<PendingItem>,
}

/// An item that could not be published, kept by the caller and retried next run. Bodies in
/// here are already redacted (items that tripped the secret check are never pending), so the
/// state file never holds a secret.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PendingItem {
    Ticket { run_id: String, ticket: TicketPlan },
    Rolling { run_id: String, body: String },
    PullRequest { run_id: String, pr: PrPlan },
}

impl PendingItem {
    /// Which item this is.
    pub fn key(&self) -> ItemKey {
        match self {
            PendingItem::Ticket { ticket, .. } => ItemKey::Ticket(ticket.fingerprint.clone()),
            PendingItem::Rolling { .. } => ItemKey::Rolling,
            PendingItem::PullRequest { run_id, .. } => ItemKey::PullRequest(run_id.clone()),
        }
    }
}

/// Names one published item.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum ItemKey {
    Labels,
    Ticket(String),
    Rolling,
    PullRequest(String),
}

impl fmt::Display for ItemKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ItemKey::Labels => write!(f, "labels"),
            ItemKey::Ticket(fp) => write!(f, "ticket {fp}"),
            ItemKey::Rolling => write!(f, "rolling issue"),
            ItemKey::PullRequest(run) => write!(f, "PR for run {run}"),
        }
    }
}

/// What happened to one item.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Created,
    /// Body (and possibly a comment) refreshed.
    Updated,
    Reopened,
    /// Already as planned: no write.
    Unchanged,
    /// Closed by a human and not regressed: left alone.
    KeptClosed,
    /// The run's PR exists: nothing new created.
    AlreadyExists,
    /// A duplicate (from a race or an earlier fault) was closed.
    ClosedDuplicate,
    /// A pending PR of an earlier run, replaced by this run's PR.
    Superseded,
    /// Refused before sending (guard, secret check, bad fingerprint): not retried.
    Refused,
    /// Over the run's new-ticket budget: not created, not pending (the finding stays on the
    /// rolling issue's watch list and may get its ticket when it recurs).
    HeldBack,
    /// Not published now; in [`PublishOutcome::pending`].
    Pending,
}

/// One line of the outcome.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ItemResult {
    pub item: ItemKey,
    pub action: Action,
    pub number: Option<u64>,
    pub detail: String,
}

/// Overall result of a publish.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PublishStatus {
    /// Everything planned is on GitHub (refused items aside).
    Published,
    /// Some items are pending.
    Partial,
    /// Nothing was sent (no token, no repository).
    NotPublished,
}

/// What a publish did.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PublishOutcome {
    pub status: PublishStatus,
    /// Why nothing was published, e.g. [`NO_TOKEN`].
    pub reason: Option<String>,
    pub results: Vec<ItemResult>,
    /// The ticket number of every fingerprint handled this run.
    pub tickets: BTreeMap<String, u64>,
    pub rolling_issue: Option<u64>,
    pub pull_request: Option<u64>,
    /// Store these; pass them back as [`PublishPlan::pending`] next run.
    pub pending: Vec<PendingItem>,
    /// Write requests sent (attempted), for logs and the zero-writes-on-rerun property.
    pub writes: u32,
}

impl PublishOutcome {
    fn new() -> PublishOutcome {
        PublishOutcome {
            status: PublishStatus::Published,
            reason: None,
            results: Vec::new(),
            tickets: BTreeMap::new(),
            rolling_issue: None,
            pull_request: None,
            pending: Vec::new(),
            writes: 0,
        }
    }

    fn record(
        &mut self,
        item: ItemKey,
        action: Action,
        number: Option<u64>,
        detail: impl Into<String>,
    ) {
        self.results.push(ItemResult {
            item,
            action,
            number,
            detail: detail.into(),
        });
    }

    /// The results for one item.
    pub fn results_for(&self, item: &ItemKey) -> Vec<&ItemResult> {
        self.results.iter().filter(|r| &r.item == item).collect()
    }

    /// One line for the run log, e.g. "published: 2 created, 1 updated, 0 pending (5 writes)".
    pub fn summary(&self) -> String {
        if let Some(reason) = &self.reason {
            return format!(
                "{reason}; {} item(s) kept pending for the next run",
                self.pending.len()
            );
        }
        let count = |a: Action| self.results.iter().filter(|r| r.action == a).count();
        let head = match self.status {
            PublishStatus::Published => "published",
            PublishStatus::Partial => "partly published",
            PublishStatus::NotPublished => "not published",
        };
        format!(
            "{head}: {} created, {} updated, {} reopened, {} unchanged, {} duplicates closed, \
             {} refused, {} held back, {} pending ({} writes)",
            count(Action::Created),
            count(Action::Updated),
            count(Action::Reopened),
            count(Action::Unchanged) + count(Action::AlreadyExists) + count(Action::KeptClosed),
            count(Action::ClosedDuplicate),
            count(Action::Refused),
            count(Action::HeldBack),
            self.pending.len(),
            self.writes
        )
    }
}

/// Where to publish: API base, token, repository. The token lives only in memory.
#[derive(Clone)]
pub struct GithubTarget {
    /// `GITHUB_API_URL`, default `https://api.github.com`.
    pub api_url: String,
    /// `GITHUB_TOKEN`.
    pub token: Option<String>,
    /// `owner/name`: `--github-repo` or `GITHUB_REPOSITORY`.
    pub repository: Option<String>,
}

impl fmt::Debug for GithubTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GithubTarget")
            .field("api_url", &self.api_url)
            .field("token", &self.token.as_ref().map(|_| "<set>"))
            .field("repository", &self.repository)
            .finish()
    }
}

impl GithubTarget {
    /// Reads `GITHUB_API_URL`, `GITHUB_TOKEN` and `GITHUB_REPOSITORY`; `repo_flag`
    /// (`--github-repo`) wins over the environment. Empty values count as unset.
    pub fn from_env(repo_flag: Option<&str>) -> GithubTarget {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        GithubTarget {
            api_url: var("GITHUB_API_URL").unwrap_or_else(|| "https://api.github.com".into()),
            token: var("GITHUB_TOKEN"),
            repository: repo_flag
                .map(str::to_string)
                .filter(|r| !r.trim().is_empty())
                .or_else(|| var("GITHUB_REPOSITORY")),
        }
    }
}

/// Publishing and collection settings.
#[derive(Clone, Debug)]
pub struct PublishSettings {
    /// Labels of tickets and the rolling issue (default `automation`, `codex-improvement`).
    /// The listing that finds existing tickets filters on all of them.
    pub labels: Vec<String>,
    /// Labels of the bot PR (default `automation`).
    pub pr_labels: Vec<String>,
    pub rolling_title: String,
    /// Body cap in characters (default [`DEFAULT_BODY_CAP`]).
    pub body_cap: usize,
    /// At most this many new tickets per publish, in plan order; the rest are held back
    /// (not pending: a held-back finding gets its ticket when it recurs in a run with room).
    pub max_new_tickets: usize,
    /// At most this many pending items are kept.
    pub max_pending: usize,
    /// A closed ticket reopens when `level > earlier * (1 + reopen_margin)`.
    pub reopen_margin: f64,
    pub limits: Limits,
    /// PRs with this label are left out of PR activity (loop prevention).
    pub exclude_label: String,
    /// Artifacts whose name starts with this are collected as tool-call logs.
    pub artifact_prefix: String,
    /// The tail of each failed job's log kept, in bytes.
    pub max_log_bytes: usize,
    /// At most this many failed runs are examined.
    pub max_ci_runs: usize,
    /// At most this many PRs are examined.
    pub max_prs: usize,
    /// At most this many bytes are unpacked from one artifact (zip-bomb guard).
    pub max_artifact_bytes: u64,
}

impl Default for PublishSettings {
    fn default() -> PublishSettings {
        PublishSettings {
            labels: DEFAULT_LABELS.iter().map(|s| s.to_string()).collect(),
            pr_labels: vec!["automation".into()],
            rolling_title: ROLLING_TITLE.into(),
            body_cap: DEFAULT_BODY_CAP,
            max_new_tickets: crate::triage::DEFAULT_MAX_NEW_TICKETS,
            max_pending: 100,
            reopen_margin: 0.0,
            limits: Limits::default(),
            exclude_label: "automation".into(),
            artifact_prefix: "toolcalls".into(),
            max_log_bytes: 256 * 1024,
            max_ci_runs: 50,
            max_prs: 300,
            max_artifact_bytes: 64 * 1024 * 1024,
        }
    }
}

/// Runs `fut` to completion on a fresh single-threaded runtime (for synchronous callers).
pub fn block_on<F: Future>(fut: F) -> std::io::Result<F::Output> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    Ok(rt.block_on(fut))
}

/// Where to connect (kept instead of a client: octocrab's client lives on the tokio runtime
/// it was built in, so one is built at the start of each call, inside the caller's runtime).
struct Connection {
    api_url: String,
    token: String,
    owner: String,
    repo: String,
}

/// The GitHub side of the analyzer: publishes plans and collects signals.
pub struct Publisher {
    connection: Option<Connection>,
    /// Why nothing can be sent (no token, no repository, bad URL).
    unavailable: Option<String>,
    settings: PublishSettings,
}

impl Publisher {
    /// Sets up a publisher. Never fails: without a token or repository it records why, and
    /// [`Publisher::publish`] then sends nothing and says so.
    pub fn new(target: &GithubTarget, settings: PublishSettings) -> Publisher {
        let unavailable = |reason: String| Publisher {
            connection: None,
            unavailable: Some(reason),
            settings: settings.clone(),
        };
        let Some(token) = target.token.as_deref() else {
            return unavailable(NO_TOKEN.into());
        };
        let Some(repo) = target.repository.as_deref() else {
            return unavailable(
                "not published: no repository (set GITHUB_REPOSITORY or pass --github-repo OWNER/NAME)"
                    .into(),
            );
        };
        let Some((owner, name)) = repo
            .split_once('/')
            .filter(|(o, n)| !o.is_empty() && !n.is_empty() && !n.contains('/'))
        else {
            return unavailable(format!(
                "not published: repository `{repo}` is not OWNER/NAME"
            ));
        };
        if let Err(e) = target.api_url.parse::<http::Uri>() {
            return unavailable(format!(
                "not published: GITHUB_API_URL `{}` is not a URL ({e})",
                target.api_url
            ));
        }
        Publisher {
            connection: Some(Connection {
                api_url: target.api_url.clone(),
                token: token.to_string(),
                owner: owner.to_string(),
                repo: name.to_string(),
            }),
            unavailable: None,
            settings,
        }
    }

    /// Why nothing can be sent, if so.
    pub fn unavailable_reason(&self) -> Option<&str> {
        self.unavailable.as_deref()
    }

    pub fn settings(&self) -> &PublishSettings {
        &self.settings
    }

    /// A client for this call (must run inside a tokio runtime, as every async fn here does).
    fn connect(&self) -> Result<Client, GithubError> {
        let Some(c) = &self.connection else {
            return Err(GithubError::Unavailable {
                reason: self.unavailable.clone().unwrap_or_default(),
            });
        };
        Client::new(
            &c.api_url,
            &c.token,
            &c.owner,
            &c.repo,
            self.settings.limits.clone(),
        )
        .map_err(|e| GithubError::Unavailable {
            reason: format!("not published: {e}"),
        })
    }

    /// Makes GitHub match `plan` (see the module docs). Never panics on API trouble: failures
    /// become pending items.
    pub async fn publish(&self, plan: &PublishPlan) -> PublishOutcome {
        let mut out = PublishOutcome::new();
        let work = Work::gather(plan, &mut out);
        let client = match self.connect() {
            Ok(c) => c,
            Err(e) => {
                out.status = PublishStatus::NotPublished;
                out.reason = Some(e.to_string());
                for item in work.into_pending() {
                    if let PendingItem::Ticket { ticket, .. } = &item {
                        if ticket.held_back {
                            out.record(
                                item.key(),
                                Action::HeldBack,
                                None,
                                "held back by the ticket budget; not kept pending",
                            );
                            continue;
                        }
                    }
                    out.record(
                        item.key(),
                        Action::Pending,
                        None,
                        "not attempted: GitHub unavailable",
                    );
                    out.pending.push(item);
                }
                cap_pending(&mut out, self.settings.max_pending);
                return out;
            }
        };
        let mut session = Session {
            client: &client,
            settings: &self.settings,
            out,
            stopped: None,
        };
        session.ensure_labels(&work).await;
        tickets::publish_tickets(&mut session, &work.tickets).await;
        if let Some((run_id, body)) = &work.rolling {
            rolling::publish_rolling(&mut session, run_id, body).await;
        }
        for (run_id, pr) in &work.prs {
            pull::publish_pr(&mut session, run_id, pr).await;
        }
        let mut out = session.out;
        out.writes = client.writes();
        if !out.pending.is_empty() {
            out.status = PublishStatus::Partial;
        }
        cap_pending(&mut out, self.settings.max_pending);
        out
    }

    /// PR activity in `window` (see [`signals`]).
    pub async fn pr_activity(&self, window: &Window) -> Result<PrActivity, GithubError> {
        signals::pr_activity(&self.connect()?, &self.settings, window).await
    }

    /// Failed CI runs in `window`, their failed jobs and logs (see [`signals`]).
    pub async fn ci_failures(&self, window: &Window) -> Result<CiFailures, GithubError> {
        signals::ci_failures(&self.connect()?, &self.settings, window).await
    }

    /// `toolcalls.ndjson` files uploaded as artifacts in `window` (see [`signals`]).
    pub async fn artifact_toolcalls(
        &self,
        window: &Window,
    ) -> Result<ArtifactHarvest, GithubError> {
        signals::artifact_toolcalls(&self.connect()?, &self.settings, window).await
    }
}

/// Keeps the pending list bounded. The rolling issue and PRs are always kept (there are few);
/// tickets are kept in order (this run's first, then older pending ones) up to the cap.
fn cap_pending(out: &mut PublishOutcome, max: usize) {
    if out.pending.len() <= max {
        return;
    }
    let others = out
        .pending
        .iter()
        .filter(|p| !matches!(p, PendingItem::Ticket { .. }))
        .count();
    let mut ticket_room = max.saturating_sub(others);
    let mut dropped = Vec::new();
    out.pending.retain(|p| match p {
        PendingItem::Ticket { .. } if ticket_room == 0 => {
            dropped.push(p.key());
            false
        }
        PendingItem::Ticket { .. } => {
            ticket_room -= 1;
            true
        }
        _ => true,
    });
    for key in dropped {
        out.record(
            key,
            Action::Refused,
            None,
            format!("dropped: the pending list is capped at {max} items"),
        );
    }
}

/// The items of one publish, sanitized and deduplicated: this run's plan first, then what
/// earlier runs left pending.
pub(crate) struct Work {
    /// (run ID, ticket with redacted title and body).
    pub tickets: Vec<(String, TicketPlan)>,
    pub rolling: Option<(String, String)>,
    pub prs: Vec<(String, PrPlan)>,
}

impl Work {
    fn gather(plan: &PublishPlan, out: &mut PublishOutcome) -> Work {
        let mut work = Work {
            tickets: Vec::new(),
            rolling: None,
            prs: Vec::new(),
        };
        let mut seen: BTreeSet<ItemKey> = BTreeSet::new();
        let current = plan
            .tickets
            .iter()
            .map(|t| PendingItem::Ticket {
                run_id: plan.run_id.clone(),
                ticket: t.clone(),
            })
            .chain(plan.rolling_body.iter().map(|b| PendingItem::Rolling {
                run_id: plan.run_id.clone(),
                body: b.clone(),
            }))
            .chain(plan.pr.iter().map(|p| PendingItem::PullRequest {
                run_id: plan.run_id.clone(),
                pr: p.clone(),
            }));
        let has_pr = plan.pr.is_some();
        for (from_pending, item) in current
            .map(|i| (false, i))
            .chain(plan.pending.iter().cloned().map(|i| (true, i)))
        {
            let key = item.key();
            if !seen.insert(key.clone()) {
                continue; // this run's version of the item wins over an older pending one
            }
            match item {
                PendingItem::Ticket { run_id, ticket } => match sanitize_ticket(&ticket) {
                    Ok(t) => work.tickets.push((run_id, t)),
                    Err(why) => out.record(key, Action::Refused, None, why),
                },
                PendingItem::Rolling { run_id, body } => {
                    if work.rolling.is_some() {
                        continue;
                    }
                    match sanitize(&body, "the rolling issue body") {
                        Ok(b) => work.rolling = Some((run_id, b)),
                        Err(e) => out.record(key, Action::Refused, None, e.to_string()),
                    }
                }
                PendingItem::PullRequest { run_id, pr } => {
                    if from_pending && has_pr {
                        // The current run's PR carries the whole log and state files, which
                        // include what the earlier run wanted to propose: a second PR would
                        // only conflict with it.
                        out.record(
                            key,
                            Action::Superseded,
                            None,
                            format!("replaced by the PR of run {}", plan.run_id),
                        );
                        continue;
                    }
                    match sanitize_pr(&run_id, &pr) {
                        Ok(p) => work.prs.push((run_id, p)),
                        Err(why) => out.record(key, Action::Refused, None, why),
                    }
                }
            }
        }
        work
    }

    fn into_pending(self) -> Vec<PendingItem> {
        let mut v: Vec<PendingItem> = self
            .tickets
            .into_iter()
            .map(|(run_id, ticket)| PendingItem::Ticket { run_id, ticket })
            .collect();
        v.extend(
            self.rolling
                .map(|(run_id, body)| PendingItem::Rolling { run_id, body }),
        );
        v.extend(
            self.prs
                .into_iter()
                .map(|(run_id, pr)| PendingItem::PullRequest { run_id, pr }),
        );
        v
    }
}

fn sanitize_ticket(t: &TicketPlan) -> Result<TicketPlan, String> {
    if !valid_fingerprint(&t.fingerprint) {
        return Err(format!(
            "fingerprint {:?} must be 1-128 characters of [A-Za-z0-9._:-]",
            t.fingerprint
        ));
    }
    if !t.level.is_finite() {
        return Err(format!("level {} is not a finite number", t.level));
    }
    let what = format!("ticket {}", t.fingerprint);
    let clean = |s: &str| sanitize(s, &what).map_err(|e| e.to_string());
    Ok(TicketPlan {
        fingerprint: t.fingerprint.clone(),
        title: clean(&t.title)?,
        body_markdown: clean(&t.body_markdown)?,
        labels: t.labels.clone(),
        severity: clean(&t.severity)?,
        level: t.level,
        held_back: t.held_back,
    })
}

fn sanitize_pr(run_id: &str, pr: &PrPlan) -> Result<PrPlan, String> {
    check_pr_plan(run_id, pr).map_err(|e| e.to_string())?;
    let what = format!("the PR of run {run_id}");
    let clean = |s: &str| sanitize(s, &what).map_err(|e| e.to_string());
    let mut files = Vec::new();
    for f in &pr.files {
        files.push(PrFile {
            path: f.path.clone(),
            content: clean(&f.content)?,
        });
    }
    Ok(PrPlan {
        branch: pr.branch.clone(),
        title: clean(&pr.title)?,
        body: clean(&pr.body)?,
        files,
    })
}

/// One publish in progress: the client, the outcome being built, and whether a rate limit
/// has stopped further requests.
pub(crate) struct Session<'a> {
    pub client: &'a Client,
    pub settings: &'a PublishSettings,
    pub out: PublishOutcome,
    pub stopped: Option<String>,
}

impl Session<'_> {
    /// Puts `item` on the pending list with `why`.
    pub fn pend(&mut self, item: PendingItem, why: impl Into<String>) {
        self.out.record(item.key(), Action::Pending, None, why);
        self.out.pending.push(item);
    }

    /// Handles a failed request for `item`: pending, and a rate limit stops the run.
    pub fn fail(&mut self, item: PendingItem, err: &GithubError) {
        if err.stops_run() && self.stopped.is_none() {
            self.stopped = Some(err.to_string());
        }
        self.pend(item, err.to_string());
    }

    /// `Some(item)` back to the caller unless the run was stopped, in which case the item is
    /// made pending here.
    pub fn check_stopped(&mut self, item: PendingItem) -> Option<PendingItem> {
        match self.stopped.clone() {
            Some(why) => {
                self.pend(item, format!("not attempted: {why}"));
                None
            }
            None => Some(item),
        }
    }

    /// Creates the issue labels the run uses that the repository lacks (GitHub would create
    /// them on first use anyway, grey and undocumented; this gives them a colour and a
    /// meaning). PR labels are left to that first use, so a PR-only run writes nothing before
    /// its guard has checked the default branch.
    async fn ensure_labels(&mut self, work: &Work) {
        if work.tickets.is_empty() && work.rolling.is_none() {
            return;
        }
        let mut wanted: Vec<String> = self.settings.labels.clone();
        for (_, t) in &work.tickets {
            wanted.extend(t.labels.iter().cloned());
        }
        if wanted.is_empty() {
            return;
        }
        let target = format!("{}?per_page=100", self.client.repo_path("/labels"));
        let existing = match self.client.list(&target, None, 5_000, |_| true).await {
            Ok(v) => v,
            Err(e) => {
                if e.stops_run() {
                    self.stopped = Some(e.to_string());
                }
                self.out
                    .record(ItemKey::Labels, Action::Pending, None, e.to_string());
                return;
            }
        };
        let have: BTreeSet<String> = existing
            .iter()
            .filter_map(|l| l.get("name").and_then(|n| n.as_str()))
            .map(str::to_lowercase)
            .collect();
        let mut done: BTreeSet<String> = BTreeSet::new();
        for name in wanted {
            let lower = name.to_lowercase();
            if have.contains(&lower) || !done.insert(lower) {
                continue;
            }
            let (color, description) = label_style(&name);
            let body =
                serde_json::json!({"name": name, "color": color, "description": description});
            match self
                .client
                .write_json(http::Method::POST, &self.client.repo_path("/labels"), &body)
                .await
            {
                Ok(_) => self
                    .out
                    .record(ItemKey::Labels, Action::Created, None, name),
                // Created meanwhile by a concurrent run: fine.
                Err(e) if e.status() == Some(422) => {}
                Err(e) => {
                    if e.stops_run() {
                        self.stopped = Some(e.to_string());
                        return;
                    }
                    self.out
                        .record(ItemKey::Labels, Action::Pending, None, e.to_string());
                }
            }
        }
    }
}

fn label_style(name: &str) -> (&'static str, &'static str) {
    match name {
        "automation" => (
            "0e8a16",
            "Opened by automation; left out of the improvement analysis",
        ),
        "codex-improvement" => ("5319e7", "Found by codex-analyzer"),
        _ => ("ededed", "Used by codex-analyzer"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket(fp: &str) -> TicketPlan {
        TicketPlan {
            fingerprint: fp.into(),
            title: "t".into(),
            body_markdown: "b".into(),
            labels: vec![],
            severity: "low".into(),
            level: 1.0,
            held_back: false,
        }
    }

    fn pr(run: &str) -> PrPlan {
        PrPlan {
            branch: branch_for_run(run),
            title: "t".into(),
            body: "b".into(),
            files: vec![PrFile {
                path: "AGENTS.md".into(),
                content: "x".into(),
            }],
        }
    }

    #[test]
    fn this_runs_items_win_and_older_prs_are_superseded() {
        let plan = PublishPlan {
            run_id: "2026-03-10-PM".into(),
            tickets: vec![ticket("a"), ticket("bad fingerprint")],
            rolling_body: Some("new".into()),
            pr: Some(pr("2026-03-10-PM")),
            pending: vec![
                PendingItem::Ticket {
                    run_id: "2026-03-10-AM".into(),
                    ticket: TicketPlan {
                        level: 9.0,
                        ..ticket("a")
                    },
                },
                PendingItem::Ticket {
                    run_id: "2026-03-10-AM".into(),
                    ticket: ticket("b"),
                },
                PendingItem::Rolling {
                    run_id: "2026-03-10-AM".into(),
                    body: "old".into(),
                },
                PendingItem::PullRequest {
                    run_id: "2026-03-10-AM".into(),
                    pr: pr("2026-03-10-AM"),
                },
            ],
        };
        let mut out = PublishOutcome::new();
        let work = Work::gather(&plan, &mut out);
        let tickets: Vec<(&str, &str, f64)> = work
            .tickets
            .iter()
            .map(|(r, t)| (r.as_str(), t.fingerprint.as_str(), t.level))
            .collect();
        assert_eq!(
            tickets,
            vec![("2026-03-10-PM", "a", 1.0), ("2026-03-10-AM", "b", 1.0)]
        );
        assert_eq!(work.rolling.as_ref().unwrap().1, "new");
        assert_eq!(work.prs.len(), 1);
        assert_eq!(work.prs[0].0, "2026-03-10-PM");
        let actions: Vec<(ItemKey, Action)> = out
            .results
            .iter()
            .map(|r| (r.item.clone(), r.action))
            .collect();
        assert_eq!(
            actions,
            vec![
                (ItemKey::Ticket("bad fingerprint".into()), Action::Refused),
                (
                    ItemKey::PullRequest("2026-03-10-AM".into()),
                    Action::Superseded
                ),
            ]
        );
    }

    #[test]
    fn a_pending_pr_is_retried_when_this_run_has_none() {
        let plan = PublishPlan {
            run_id: "2026-03-10-PM".into(),
            pending: vec![PendingItem::PullRequest {
                run_id: "2026-03-10-AM".into(),
                pr: pr("2026-03-10-AM"),
            }],
            ..PublishPlan::default()
        };
        let mut out = PublishOutcome::new();
        let work = Work::gather(&plan, &mut out);
        assert_eq!(work.prs.len(), 1);
        assert!(out.results.is_empty());
    }

    #[test]
    fn the_pending_list_is_capped_keeping_prs_and_the_newest_tickets() {
        let mut out = PublishOutcome::new();
        for fp in ["t1", "t2", "t3"] {
            out.pending.push(PendingItem::Ticket {
                run_id: "2026-03-10-AM".into(),
                ticket: ticket(fp),
            });
        }
        out.pending.push(PendingItem::PullRequest {
            run_id: "2026-03-10-AM".into(),
            pr: pr("2026-03-10-AM"),
        });
        cap_pending(&mut out, 2);
        let keys: Vec<ItemKey> = out.pending.iter().map(PendingItem::key).collect();
        assert_eq!(
            keys,
            vec![
                ItemKey::Ticket("t1".into()),
                ItemKey::PullRequest("2026-03-10-AM".into())
            ]
        );
        assert_eq!(out.results.len(), 2);
        assert!(out.results.iter().all(|r| r.action == Action::Refused));
    }

    #[test]
    fn the_token_is_not_printed() {
        let t = GithubTarget {
            api_url: "https://api.github.com".into(),
            token: Some("ghs_secret".into()),
            repository: Some("o/r".into()),
        };
        assert!(!format!("{t:?}").contains("ghs_secret"));
        let p = Publisher::new(
            &GithubTarget {
                repository: Some("not-a-slug".into()),
                ..t.clone()
            },
            PublishSettings::default(),
        );
        assert!(p.unavailable_reason().unwrap().contains("OWNER/NAME"));
        let p = Publisher::new(
            &GithubTarget {
                repository: None,
                ..t
            },
            PublishSettings::default(),
        );
        assert!(p
            .unavailable_reason()
            .unwrap()
            .contains("GITHUB_REPOSITORY"));
    }
}
