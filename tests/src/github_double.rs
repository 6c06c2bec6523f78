//! A local, stateful double of the GitHub REST API, for driving the analyzer's publisher and
//! collectors without the network.
//!
//! Why a double and not recorded fixtures: the properties worth testing are about *state over
//! several runs* — a rerun makes zero writes, two racing runs make no duplicates, a fault in
//! the middle then a rerun loses nothing. Those need a server that remembers what was created
//! and answers the next query accordingly, with GitHub's status codes and shapes.
//!
//! Faithfulness: request and response bodies use GitHub's documented field names (the objects
//! deserialize into octocrab's typed models, which a test checks), status codes follow the
//! documentation (201 on create, 200 on update, 204 on empty success, 404, 410 for expired
//! artifacts, 422 `Validation Failed` with an `errors` array), list endpoints paginate with
//! `per_page`/`page` and a `Link` header, the pulls list ignores a `head` filter without the
//! `owner:` prefix (as GitHub does), search requires `is:issue` or `is:pull-request`, and
//! labels named on an issue that do not exist yet are created with colour `ededed` (as the
//! real API does). Job logs and artifact downloads answer `302` to a URL on the same server,
//! like GitHub's pre-signed blob URLs.
//!
//! Simplifications, on purpose: one repository; SHAs are 40 hex digits of a SHA-256 over the
//! object's content (unique and content-addressed, but not git's SHA-1); trees are flat maps
//! of paths; search matches terms as case-insensitive substrings.
//!
//! Fault injection ([`GithubDouble::inject`] and its shorthands) returns 5xx, primary and
//! secondary rate limits (403 with `x-ratelimit-remaining: 0` / `retry-after`), 429, delays
//! (for client timeouts), and "applied then failed" writes (the change happens but the client
//! sees a 5xx — the case that makes naive retries create duplicates).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{Cursor, Write};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::listener::Listener;

/// The login the double reports for authenticated (token-bearing) requests.
pub const BOT_LOGIN: &str = "codex-bot[bot]";
/// The login of seeded "human" activity.
pub const HUMAN_LOGIN: &str = "octocat";
const DOCS: &str = "https://docs.github.com/rest";

/// What an injected fault does to a matching request.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// Answer with this status (e.g. 500, 502, 503) without touching state.
    Status(u16),
    /// Apply the request, then answer with this status: the write happened but the client
    /// cannot know it.
    AfterApply(u16),
    /// A primary rate limit: 403 with `x-ratelimit-remaining: 0` and `x-ratelimit-reset`
    /// this many seconds from now.
    PrimaryRateLimit { reset_in_secs: u64 },
    /// A secondary rate limit: 403 with `retry-after`.
    SecondaryRateLimit { retry_after_secs: u64 },
    /// 429 Too Many Requests with `retry-after`.
    TooManyRequests { retry_after_secs: u64 },
    /// Sleep this long before answering normally (drives client timeouts).
    Delay(Duration),
    /// Hold matching requests until they arrive in groups of `parties`, then answer them
    /// normally: makes a check-then-create race happen for sure, whatever the scheduling.
    Rendezvous(Rendezvous),
}

/// A meeting point for [`Fault::Rendezvous`]: the k-th arrival waits until the group it
/// belongs to (arrivals `parties * floor(k / parties)` onwards) is complete, at most 10 s.
#[derive(Clone, Debug)]
pub struct Rendezvous {
    parties: usize,
    arrived: Arc<(Mutex<usize>, std::sync::Condvar)>,
}

/// Two rendezvous are equal when they are the same meeting point.
impl PartialEq for Rendezvous {
    fn eq(&self, other: &Rendezvous) -> bool {
        Arc::ptr_eq(&self.arrived, &other.arrived)
    }
}

impl Rendezvous {
    pub fn new(parties: usize) -> Rendezvous {
        Rendezvous {
            parties: parties.max(1),
            arrived: Arc::new((Mutex::new(0), std::sync::Condvar::new())),
        }
    }

    fn wait(&self) {
        let (lock, cvar) = &*self.arrived;
        let mut n = lock.lock().unwrap_or_else(|e| e.into_inner());
        let target = (*n / self.parties + 1) * self.parties;
        *n += 1;
        cvar.notify_all();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while *n < target {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break;
            }
            n = cvar
                .wait_timeout(n, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

/// One injected fault rule: matches requests by method and path prefix.
#[derive(Clone, Debug)]
struct FaultRule {
    /// An HTTP method, `*` for any, or `WRITE` for any method but GET/HEAD.
    method: String,
    path_prefix: String,
    /// Matching requests to let through before the fault applies.
    skip: usize,
    /// How many matching requests get the fault.
    remaining: usize,
    fault: Fault,
}

/// One request as the double saw it.
#[derive(Clone, Debug)]
pub struct LoggedRequest {
    pub method: String,
    pub path: String,
    pub query: String,
    pub status: u16,
    pub body: String,
    /// Whether an `Authorization` header was present.
    pub authorized: bool,
}

impl LoggedRequest {
    /// Whether this request asked to change state (anything but GET/HEAD).
    pub fn is_write(&self) -> bool {
        self.method != "GET" && self.method != "HEAD"
    }
}

/// An issue (or the issue side of a pull request) as a test sees it.
#[derive(Clone, Debug)]
pub struct IssueView {
    pub number: u64,
    pub title: String,
    pub body: Option<String>,
    pub state: String,
    pub state_reason: Option<String>,
    pub labels: Vec<String>,
    pub comments: Vec<String>,
    pub user: String,
    pub is_pull: bool,
}

/// A pull request as a test sees it.
#[derive(Clone, Debug)]
pub struct PullView {
    pub number: u64,
    pub title: String,
    pub body: Option<String>,
    pub state: String,
    pub draft: bool,
    pub head_ref: String,
    pub head_sha: String,
    pub base_ref: String,
    pub labels: Vec<String>,
    pub merged: bool,
    pub user: String,
}

/// A pull request to seed (activity written by humans, for the PR-activity collector).
#[derive(Clone, Debug)]
pub struct SeedPull {
    pub title: String,
    pub head: String,
    pub author: String,
    pub labels: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub merged_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub draft: bool,
}

/// A workflow run to seed.
#[derive(Clone, Debug)]
pub struct SeedRun {
    pub workflow: String,
    pub status: String,
    pub conclusion: Option<String>,
    pub created_at: DateTime<Utc>,
    pub head_branch: String,
    pub event: String,
}

#[derive(Clone, Debug)]
struct Issue {
    number: u64,
    id: u64,
    title: String,
    body: Option<String>,
    state: String,
    state_reason: Option<String>,
    labels: Vec<String>,
    user: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    closed_at: Option<DateTime<Utc>>,
    closed_by: Option<String>,
    comments: u32,
    pull: Option<Pull>,
}

#[derive(Clone, Debug)]
struct Pull {
    id: u64,
    head_ref: String,
    head_sha: String,
    base_ref: String,
    base_sha: String,
    draft: bool,
    merged_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug)]
struct Comment {
    id: u64,
    issue: u64,
    body: String,
    user: String,
    created_at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
struct Label {
    id: u64,
    name: String,
    color: String,
    description: Option<String>,
}

#[derive(Clone, Debug)]
struct GitCommit {
    tree: String,
    parents: Vec<String>,
    message: String,
    date: DateTime<Utc>,
}

#[derive(Clone, Debug)]
struct Review {
    id: u64,
    pull: u64,
    user: String,
    state: String,
    submitted_at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
struct Run {
    id: u64,
    workflow: String,
    workflow_id: u64,
    run_number: u64,
    status: String,
    conclusion: Option<String>,
    created_at: DateTime<Utc>,
    head_branch: String,
    head_sha: String,
    event: String,
}

#[derive(Clone, Debug)]
struct Job {
    id: u64,
    run_id: u64,
    name: String,
    conclusion: Option<String>,
    log: Option<String>,
}

#[derive(Clone, Debug)]
struct Artifact {
    id: u64,
    run_id: u64,
    name: String,
    zip: Vec<u8>,
    created_at: DateTime<Utc>,
    expired: bool,
}

struct State {
    base: String,
    owner: String,
    repo: String,
    repo_id: u64,
    default_branch: String,
    next_number: u64,
    next_id: u64,
    issues: BTreeMap<u64, Issue>,
    comments: Vec<Comment>,
    labels: BTreeMap<String, Label>,
    blobs: HashMap<String, Vec<u8>>,
    trees: HashMap<String, BTreeMap<String, String>>,
    commits: HashMap<String, GitCommit>,
    refs: BTreeMap<String, String>,
    protected: BTreeSet<String>,
    reviews: Vec<Review>,
    runs: Vec<Run>,
    jobs: Vec<Job>,
    artifacts: Vec<Artifact>,
    faults: Vec<FaultRule>,
    log: Vec<LoggedRequest>,
    search_visible_up_to: Option<u64>,
}

/// The running double. Dropping it stops the server.
pub struct GithubDouble {
    url: String,
    state: Arc<Mutex<State>>,
    /// Dropped with the double, which stops it.
    _listener: Listener,
}

impl GithubDouble {
    /// Starts the double on a random port of 127.0.0.1, serving repository
    /// `octo-org/widgets` whose default branch `main` holds one commit with a README.
    pub fn start() -> GithubDouble {
        let listener = Listener::bind("GitHub");
        let url = format!("http://127.0.0.1:{}", listener.port());
        let mut state = State {
            base: url.clone(),
            owner: "octo-org".into(),
            repo: "widgets".into(),
            repo_id: 4242,
            default_branch: "main".into(),
            next_number: 1,
            next_id: 1000,
            issues: BTreeMap::new(),
            comments: Vec::new(),
            labels: BTreeMap::new(),
            blobs: HashMap::new(),
            trees: HashMap::new(),
            commits: HashMap::new(),
            refs: BTreeMap::new(),
            protected: BTreeSet::new(),
            reviews: Vec::new(),
            runs: Vec::new(),
            jobs: Vec::new(),
            artifacts: Vec::new(),
            faults: Vec::new(),
            log: Vec::new(),
            search_visible_up_to: None,
        };
        let mut files = BTreeMap::new();
        files.insert("README.md".to_string(), b"# widgets\n".to_vec());
        let root = state.commit_files(&files, &[], "Initial commit");
        state.refs.insert("heads/main".into(), root);
        let state = Arc::new(Mutex::new(state));
        let served = Arc::clone(&state);
        GithubDouble {
            url,
            state,
            _listener: listener.serve(move |request| serve(&served, request)),
        }
    }

    /// The API base URL (`http://127.0.0.1:PORT`), what `GITHUB_API_URL` would hold.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// `owner/name` of the double's repository.
    pub fn repo_full_name(&self) -> String {
        let s = self.lock();
        format!("{}/{}", s.owner, s.repo)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    // ---- fault injection -------------------------------------------------------------

    /// Injects `fault` into the next `times` requests matching `method` (`*` = any,
    /// `WRITE` = any but GET/HEAD) and `path_prefix`, after letting `skip` of them through.
    pub fn inject(&self, method: &str, path_prefix: &str, fault: Fault, skip: usize, times: usize) {
        self.lock().faults.push(FaultRule {
            method: method.to_string(),
            path_prefix: path_prefix.to_string(),
            skip,
            remaining: times,
            fault,
        });
    }

    /// The next `n` requests matching `method` and `path_prefix` fail with `status`.
    pub fn fail_next(&self, method: &str, path_prefix: &str, status: u16, n: usize) {
        self.inject(method, path_prefix, Fault::Status(status), 0, n);
    }

    /// The `nth` write from now (1-based) gets `fault`.
    pub fn fault_nth_write(&self, nth: usize, fault: Fault) {
        self.inject("WRITE", "/", fault, nth.saturating_sub(1), 1);
    }

    /// Drops every fault rule not yet used up.
    pub fn clear_faults(&self) {
        self.lock().faults.clear();
    }

    // ---- configuration and seeding ---------------------------------------------------

    /// Makes `name` the default branch, creating it at the current default's commit if needed.
    pub fn set_default_branch(&self, name: &str) {
        let mut s = self.lock();
        let head = s.refs[&format!("heads/{}", s.default_branch)].clone();
        s.refs.entry(format!("heads/{name}")).or_insert(head);
        s.default_branch = name.to_string();
    }

    /// Turns on branch protection for `branch`: updating it (and creating it) is refused with
    /// 422, as GitHub refuses protected-branch updates and restricted creations.
    pub fn protect_branch(&self, branch: &str) {
        self.lock().protected.insert(branch.to_string());
    }

    /// Makes search see only the issues that exist now (GitHub's search index lags writes).
    pub fn freeze_search_index(&self) {
        let mut s = self.lock();
        s.search_visible_up_to = Some(s.next_number - 1);
    }

    /// Creates an issue as a human.
    pub fn seed_issue(&self, title: &str, body: &str, labels: &[&str]) -> u64 {
        let mut s = self.lock();
        let labels: Vec<String> = labels.iter().map(|l| l.to_string()).collect();
        s.ensure_labels(&labels);
        s.new_issue(title, Some(body.to_string()), labels, HUMAN_LOGIN, None)
    }

    /// Closes issue `n` as a human, with `reason` (`completed`, `not_planned`).
    pub fn close_issue(&self, n: u64, reason: &str) {
        let mut s = self.lock();
        let now = Utc::now();
        if let Some(i) = s.issues.get_mut(&n) {
            i.state = "closed".into();
            i.state_reason = Some(reason.to_string());
            i.closed_at = Some(now);
            i.closed_by = Some(HUMAN_LOGIN.into());
            i.updated_at = now;
        }
    }

    /// Rewrites issue `n`'s body as a human would.
    pub fn edit_issue_body(&self, n: u64, body: &str) {
        if let Some(i) = self.lock().issues.get_mut(&n) {
            i.body = Some(body.to_string());
        }
    }

    /// Seeds a pull request (and its head branch, one commit ahead of the default branch).
    pub fn seed_pull(&self, p: SeedPull) -> u64 {
        let mut s = self.lock();
        let base_ref = s.default_branch.clone();
        let base_sha = s.refs[&format!("heads/{base_ref}")].clone();
        let mut files = s.files_of_commit(&base_sha);
        files.insert(format!("src/{}.rs", p.head), p.title.clone().into_bytes());
        let head_sha = s.commit_files(&files, std::slice::from_ref(&base_sha), &p.title);
        s.refs.insert(format!("heads/{}", p.head), head_sha.clone());
        s.ensure_labels(&p.labels);
        let id = s.id();
        let n = s.new_issue(
            &p.title,
            Some(String::new()),
            p.labels.clone(),
            &p.author,
            Some(Pull {
                id,
                head_ref: p.head.clone(),
                head_sha,
                base_ref,
                base_sha,
                draft: p.draft,
                merged_at: p.merged_at,
            }),
        );
        let i = s.issues.get_mut(&n).expect("just created");
        i.created_at = p.created_at;
        i.updated_at = [Some(p.created_at), p.merged_at, p.closed_at]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(p.created_at);
        if let Some(closed) = p.closed_at.or(p.merged_at) {
            i.state = "closed".into();
            i.closed_at = Some(closed);
        }
        n
    }

    /// Seeds a review on pull request `pull`.
    pub fn seed_review(&self, pull: u64, user: &str, state: &str, at: DateTime<Utc>) {
        let mut s = self.lock();
        let id = s.id();
        s.reviews.push(Review {
            id,
            pull,
            user: user.to_string(),
            state: state.to_string(),
            submitted_at: at,
        });
        if let Some(i) = s.issues.get_mut(&pull) {
            i.updated_at = i.updated_at.max(at);
        }
    }

    /// Seeds a workflow run; returns its id.
    pub fn seed_run(&self, r: SeedRun) -> u64 {
        let mut s = self.lock();
        let id = s.id();
        let workflow_id = 7000 + (r.workflow.len() as u64);
        let run_number = s.runs.len() as u64 + 1;
        let head_sha = sha_of(&["run", &id.to_string()]);
        s.runs.push(Run {
            id,
            workflow: r.workflow,
            workflow_id,
            run_number,
            status: r.status,
            conclusion: r.conclusion,
            created_at: r.created_at,
            head_branch: r.head_branch,
            head_sha,
            event: r.event,
        });
        id
    }

    /// Seeds a job of run `run_id` with its log (`None`: the log has expired); returns its id.
    pub fn seed_job(&self, run_id: u64, name: &str, conclusion: &str, log: Option<&str>) -> u64 {
        let mut s = self.lock();
        let id = s.id();
        s.jobs.push(Job {
            id,
            run_id,
            name: name.to_string(),
            conclusion: Some(conclusion.to_string()),
            log: log.map(str::to_string),
        });
        id
    }

    /// Seeds an artifact of run `run_id` holding `zip`; returns its id.
    pub fn seed_artifact(
        &self,
        run_id: u64,
        name: &str,
        zip: Vec<u8>,
        created_at: DateTime<Utc>,
        expired: bool,
    ) -> u64 {
        let mut s = self.lock();
        let id = s.id();
        s.artifacts.push(Artifact {
            id,
            run_id,
            name: name.to_string(),
            zip,
            created_at,
            expired,
        });
        id
    }

    // ---- inspection ------------------------------------------------------------------

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.lock().log.clone()
    }

    /// Every request so far that asked to change state.
    pub fn write_requests(&self) -> Vec<LoggedRequest> {
        self.lock()
            .log
            .iter()
            .filter(|r| r.is_write())
            .cloned()
            .collect()
    }

    /// Forgets the request log (state stays).
    pub fn clear_log(&self) {
        self.lock().log.clear();
    }

    /// All issues that are not pull requests, by number.
    pub fn issues(&self) -> Vec<IssueView> {
        let s = self.lock();
        s.issues
            .values()
            .filter(|i| i.pull.is_none())
            .map(|i| s.issue_view(i))
            .collect()
    }

    /// Issue or pull request `n`.
    pub fn issue(&self, n: u64) -> Option<IssueView> {
        let s = self.lock();
        s.issues.get(&n).map(|i| s.issue_view(i))
    }

    /// All pull requests, by number.
    pub fn pulls(&self) -> Vec<PullView> {
        let s = self.lock();
        s.issues
            .values()
            .filter_map(|i| {
                let p = i.pull.as_ref()?;
                Some(PullView {
                    number: i.number,
                    title: i.title.clone(),
                    body: i.body.clone(),
                    state: i.state.clone(),
                    draft: p.draft,
                    head_ref: p.head_ref.clone(),
                    head_sha: p.head_sha.clone(),
                    base_ref: p.base_ref.clone(),
                    labels: i.labels.clone(),
                    merged: p.merged_at.is_some(),
                    user: i.user.clone(),
                })
            })
            .collect()
    }

    /// The repository's label names.
    pub fn labels(&self) -> Vec<String> {
        self.lock()
            .labels
            .values()
            .map(|l| l.name.clone())
            .collect()
    }

    /// Branch names (without `refs/heads/`).
    pub fn branches(&self) -> Vec<String> {
        self.lock()
            .refs
            .keys()
            .filter_map(|r| r.strip_prefix("heads/").map(str::to_string))
            .collect()
    }

    /// The commit a branch points at.
    pub fn branch_sha(&self, branch: &str) -> Option<String> {
        self.lock().refs.get(&format!("heads/{branch}")).cloned()
    }

    /// The files (path → UTF-8 text) of a branch's head commit.
    pub fn branch_files(&self, branch: &str) -> Option<BTreeMap<String, String>> {
        let s = self.lock();
        let sha = s.refs.get(&format!("heads/{branch}"))?;
        Some(
            s.files_of_commit(sha)
                .into_iter()
                .map(|(p, b)| (p, String::from_utf8_lossy(&b).into_owned()))
                .collect(),
        )
    }

    /// The parents of commit `sha`.
    pub fn commit_parents(&self, sha: &str) -> Vec<String> {
        self.lock()
            .commits
            .get(sha)
            .map(|c| c.parents.clone())
            .unwrap_or_default()
    }

    /// The paths commit `sha` adds, changes or deletes relative to its first parent.
    pub fn changed_paths(&self, sha: &str) -> Vec<String> {
        let s = self.lock();
        let Some(c) = s.commits.get(sha) else {
            return Vec::new();
        };
        let now = s.trees.get(&c.tree).cloned().unwrap_or_default();
        let before = c
            .parents
            .first()
            .and_then(|p| s.commits.get(p))
            .and_then(|p| s.trees.get(&p.tree))
            .cloned()
            .unwrap_or_default();
        let paths: BTreeSet<&String> = now.keys().chain(before.keys()).collect();
        paths
            .into_iter()
            .filter(|p| now.get(*p) != before.get(*p))
            .cloned()
            .collect()
    }
}

/// Builds a zip archive (deflated) holding `entries`, like an uploaded workflow artifact.
pub fn make_zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        out.start_file(*name, options).expect("start a zip entry");
        out.write_all(bytes).expect("write a zip entry");
    }
    out.finish().expect("finish the zip").into_inner()
}

// ---- the server ----------------------------------------------------------------------

struct Req {
    method: String,
    path: String,
    query: Vec<(String, String)>,
    raw_query: String,
    body: String,
    authorized: bool,
}

impl Req {
    fn q(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
    fn json(&self) -> Result<Value, Resp> {
        if self.body.trim().is_empty() {
            return Ok(json!({}));
        }
        serde_json::from_str(&self.body).map_err(|_| error(400, "Problems parsing JSON", vec![]))
    }
}

struct Resp {
    status: u16,
    body: Vec<u8>,
    content_type: &'static str,
    headers: Vec<(String, String)>,
}

fn respond_json(status: u16, v: Value) -> Resp {
    Resp {
        status,
        body: serde_json::to_vec(&v).expect("serialize JSON"),
        content_type: "application/json; charset=utf-8",
        headers: Vec::new(),
    }
}

fn error(status: u16, message: &str, errors: Vec<Value>) -> Resp {
    let mut v = json!({
        "message": message,
        "documentation_url": DOCS,
        "status": status.to_string(),
    });
    if !errors.is_empty() {
        v["errors"] = Value::Array(errors);
    }
    respond_json(status, v)
}

fn not_found() -> Resp {
    error(404, "Not Found", vec![])
}

fn validation(errors: Vec<Value>) -> Resp {
    error(422, "Validation Failed", errors)
}

fn redirect(location: String) -> Resp {
    Resp {
        status: 302,
        body: Vec::new(),
        content_type: "text/plain",
        headers: vec![("Location".into(), location)],
    }
}

fn serve(state: &Mutex<State>, mut request: tiny_http::Request) {
    let method = request.method().as_str().to_ascii_uppercase();
    let url = request.url().to_string();
    let (path, raw_query) = match url.split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (url.clone(), String::new()),
    };
    let mut body = Vec::new();
    let _ = request.as_reader().read_to_end(&mut body);
    let authorized = request
        .headers()
        .iter()
        .any(|h| h.field.equiv("Authorization") && !h.value.as_str().trim().is_empty());
    let req = Req {
        method,
        path: percent_decode(&path, false),
        query: parse_query(&raw_query),
        raw_query,
        body: String::from_utf8_lossy(&body).into_owned(),
        authorized,
    };

    let fault = lock(state).take_fault(&req);
    let resp = match fault {
        Some(Fault::Delay(d)) => {
            std::thread::sleep(d);
            lock(state).handle(&req)
        }
        Some(Fault::Rendezvous(r)) => {
            r.wait();
            lock(state).handle(&req)
        }
        Some(Fault::Status(code)) => error(code, "Server Error", vec![]),
        Some(Fault::AfterApply(code)) => {
            let _ = lock(state).handle(&req);
            error(code, "Server Error", vec![])
        }
        Some(Fault::PrimaryRateLimit { reset_in_secs }) => {
            let mut r = error(
                403,
                "API rate limit exceeded for installation ID 1.",
                vec![],
            );
            let reset = Utc::now().timestamp() + reset_in_secs as i64;
            r.headers.extend([
                ("x-ratelimit-limit".into(), "5000".into()),
                ("x-ratelimit-remaining".into(), "0".into()),
                ("x-ratelimit-used".into(), "5000".into()),
                ("x-ratelimit-reset".into(), reset.to_string()),
                ("x-ratelimit-resource".into(), "core".into()),
            ]);
            r
        }
        Some(Fault::SecondaryRateLimit { retry_after_secs }) => {
            let mut r = error(
                403,
                "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
                vec![],
            );
            r.headers
                .push(("retry-after".into(), retry_after_secs.to_string()));
            r
        }
        Some(Fault::TooManyRequests { retry_after_secs }) => {
            let mut r = error(429, "Too Many Requests", vec![]);
            r.headers
                .push(("retry-after".into(), retry_after_secs.to_string()));
            r
        }
        None => lock(state).handle(&req),
    };

    lock(state).log.push(LoggedRequest {
        method: req.method.clone(),
        path: req.path.clone(),
        query: req.raw_query.clone(),
        status: resp.status,
        body: req.body.clone(),
        authorized: req.authorized,
    });

    let len = resp.body.len();
    let mut response = tiny_http::Response::new(
        tiny_http::StatusCode(resp.status),
        Vec::new(),
        Cursor::new(resp.body),
        Some(len),
        None,
    );
    let mut headers = resp.headers;
    headers.push(("Content-Type".into(), resp.content_type.into()));
    headers.push(("X-GitHub-Api-Version-Selected".into(), "2022-11-28".into()));
    for (k, v) in headers {
        if let Ok(h) = tiny_http::Header::from_bytes(k.as_bytes(), v.as_bytes()) {
            response.add_header(h);
        }
    }
    let _ = request.respond(response);
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn sha_of(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    let digest = h.finalize();
    digest[..20].iter().map(|b| format!("{b:02x}")).collect()
}

fn percent_decode(s: &str, plus_is_space: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                    }
                    Err(_) => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k, true), percent_decode(v, true))
        })
        .collect()
}

fn encode_query_value(v: &str) -> String {
    let mut out = String::new();
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Splits `items` into the requested page and builds the `Link` header GitHub sends.
fn paginate(base: &str, req: &Req, items: Vec<Value>) -> (Vec<Value>, Option<String>) {
    let per_page = req
        .q("per_page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(30)
        .clamp(1, 100);
    let page = req
        .q("page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let last = items.len().div_ceil(per_page).max(1);
    let slice: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    let link_to = |p: usize| {
        let mut parts: Vec<String> = req
            .query
            .iter()
            .filter(|(k, _)| k != "page")
            .map(|(k, v)| format!("{}={}", encode_query_value(k), encode_query_value(v)))
            .collect();
        parts.push(format!("page={p}"));
        format!("{base}{}?{}", req.path, parts.join("&"))
    };
    let mut links = Vec::new();
    if page > 1 {
        links.push(format!("<{}>; rel=\"prev\"", link_to(page - 1)));
    }
    if page < last {
        links.push(format!("<{}>; rel=\"next\"", link_to(page + 1)));
        links.push(format!("<{}>; rel=\"last\"", link_to(last)));
    }
    if page > 1 {
        links.push(format!("<{}>; rel=\"first\"", link_to(1)));
    }
    let link = (!links.is_empty()).then(|| links.join(", "));
    (slice, link)
}

fn with_link(mut r: Resp, link: Option<String>) -> Resp {
    if let Some(l) = link {
        r.headers.push(("Link".into(), l));
    }
    r
}

/// Matches GitHub's `created` filter syntax: `>=T`, `<=T`, `>T`, `<T`, `A..B`, or a date.
fn created_matches(filter: &str, t: DateTime<Utc>) -> bool {
    fn parse(s: &str, end_of_day: bool) -> Option<DateTime<Utc>> {
        if let Ok(d) = DateTime::parse_from_rfc3339(s) {
            return Some(d.with_timezone(&Utc));
        }
        let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
        let time = if end_of_day {
            d.and_hms_opt(23, 59, 59)?
        } else {
            d.and_hms_opt(0, 0, 0)?
        };
        Some(time.and_utc())
    }
    if let Some(v) = filter.strip_prefix(">=") {
        parse(v, false).is_some_and(|x| t >= x)
    } else if let Some(v) = filter.strip_prefix("<=") {
        parse(v, true).is_some_and(|x| t <= x)
    } else if let Some(v) = filter.strip_prefix('>') {
        parse(v, true).is_some_and(|x| t > x)
    } else if let Some(v) = filter.strip_prefix('<') {
        parse(v, false).is_some_and(|x| t < x)
    } else if let Some((a, b)) = filter.split_once("..") {
        let lo = if a == "*" { None } else { parse(a, false) };
        let hi = if b == "*" { None } else { parse(b, true) };
        lo.is_none_or(|x| t >= x) && hi.is_none_or(|x| t <= x)
    } else {
        match (parse(filter, false), parse(filter, true)) {
            (Some(lo), Some(hi)) => t >= lo && t <= hi,
            _ => false,
        }
    }
}

/// Splits a search query into terms, keeping `"quoted phrases"` (and `key:"quoted"`) whole.
fn search_terms(q: &str) -> Vec<String> {
    let mut terms = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in q.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    terms.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        terms.push(cur);
    }
    terms
}

const CONCLUSIONS: &[&str] = &[
    "success",
    "failure",
    "neutral",
    "cancelled",
    "skipped",
    "timed_out",
    "action_required",
    "stale",
];

impl State {
    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn repo_path(&self) -> String {
        format!("/repos/{}/{}", self.owner, self.repo)
    }

    fn take_fault(&mut self, req: &Req) -> Option<Fault> {
        let idx = self.faults.iter().position(|f| {
            let method_ok = match f.method.as_str() {
                "*" => true,
                "WRITE" => req.method != "GET" && req.method != "HEAD",
                m => m.eq_ignore_ascii_case(&req.method),
            };
            method_ok && req.path.starts_with(&f.path_prefix)
        })?;
        let rule = &mut self.faults[idx];
        if rule.skip > 0 {
            rule.skip -= 1;
            return None;
        }
        let fault = rule.fault.clone();
        rule.remaining -= 1;
        if rule.remaining == 0 {
            self.faults.remove(idx);
        }
        Some(fault)
    }

    // ---- git objects ----

    fn put_blob(&mut self, bytes: Vec<u8>) -> String {
        let sha = sha_of(&["blob", &String::from_utf8_lossy(&bytes)]);
        self.blobs.insert(sha.clone(), bytes);
        sha
    }

    fn put_tree(&mut self, entries: BTreeMap<String, String>) -> String {
        let flat: Vec<String> = entries.iter().map(|(p, s)| format!("{p}={s}")).collect();
        let sha = sha_of(&["tree", &flat.join("\n")]);
        self.trees.insert(sha.clone(), entries);
        sha
    }

    fn put_commit(&mut self, tree: &str, parents: &[String], message: &str) -> String {
        let date = Utc::now();
        let sha = sha_of(&[
            "commit",
            tree,
            &parents.join(","),
            message,
            &self.next_id.to_string(),
        ]);
        self.next_id += 1;
        self.commits.insert(
            sha.clone(),
            GitCommit {
                tree: tree.to_string(),
                parents: parents.to_vec(),
                message: message.to_string(),
                date,
            },
        );
        sha
    }

    fn commit_files(
        &mut self,
        files: &BTreeMap<String, Vec<u8>>,
        parents: &[String],
        message: &str,
    ) -> String {
        let mut entries = BTreeMap::new();
        for (p, b) in files {
            let sha = self.put_blob(b.clone());
            entries.insert(p.clone(), sha);
        }
        let tree = self.put_tree(entries);
        self.put_commit(&tree, parents, message)
    }

    fn files_of_commit(&self, sha: &str) -> BTreeMap<String, Vec<u8>> {
        let Some(c) = self.commits.get(sha) else {
            return BTreeMap::new();
        };
        self.trees
            .get(&c.tree)
            .map(|t| {
                t.iter()
                    .map(|(p, b)| (p.clone(), self.blobs.get(b).cloned().unwrap_or_default()))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn is_ancestor(&self, ancestor: &str, of: &str) -> bool {
        let mut stack = vec![of.to_string()];
        let mut seen = BTreeSet::new();
        while let Some(c) = stack.pop() {
            if c == ancestor {
                return true;
            }
            if seen.insert(c.clone()) {
                if let Some(commit) = self.commits.get(&c) {
                    stack.extend(commit.parents.iter().cloned());
                }
            }
        }
        false
    }

    // ---- issues and labels ----

    fn ensure_labels(&mut self, names: &[String]) {
        for n in names {
            let key = n.to_lowercase();
            if !self.labels.contains_key(&key) {
                let id = self.id();
                self.labels.insert(
                    key,
                    Label {
                        id,
                        name: n.clone(),
                        color: "ededed".into(),
                        description: None,
                    },
                );
            }
        }
    }

    fn canonical_labels(&self, names: &[String]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for n in names {
            let name = self
                .labels
                .get(&n.to_lowercase())
                .map(|l| l.name.clone())
                .unwrap_or_else(|| n.clone());
            if !out.iter().any(|o| o.eq_ignore_ascii_case(&name)) {
                out.push(name);
            }
        }
        out
    }

    fn new_issue(
        &mut self,
        title: &str,
        body: Option<String>,
        labels: Vec<String>,
        user: &str,
        pull: Option<Pull>,
    ) -> u64 {
        let number = self.next_number;
        self.next_number += 1;
        let id = self.id();
        let now = Utc::now();
        let labels = self.canonical_labels(&labels);
        self.issues.insert(
            number,
            Issue {
                number,
                id,
                title: title.to_string(),
                body,
                state: "open".into(),
                state_reason: None,
                labels,
                user: user.to_string(),
                created_at: now,
                updated_at: now,
                closed_at: None,
                closed_by: None,
                comments: 0,
                pull,
            },
        );
        number
    }

    fn issue_view(&self, i: &Issue) -> IssueView {
        IssueView {
            number: i.number,
            title: i.title.clone(),
            body: i.body.clone(),
            state: i.state.clone(),
            state_reason: i.state_reason.clone(),
            labels: i.labels.clone(),
            comments: self
                .comments
                .iter()
                .filter(|c| c.issue == i.number)
                .map(|c| c.body.clone())
                .collect(),
            user: i.user.clone(),
            is_pull: i.pull.is_some(),
        }
    }

    // ---- JSON shapes ----

    fn user_json(&self, login: &str) -> Value {
        let api = format!("{}/users/{login}", self.base);
        let is_bot = login.ends_with("[bot]");
        json!({
            "login": login,
            "id": 1 + login.bytes().map(u64::from).sum::<u64>(),
            "node_id": format!("U_{login}"),
            "avatar_url": format!("https://avatars.githubusercontent.com/u/{}", login.len()),
            "gravatar_id": "",
            "url": api,
            "html_url": format!("https://github.com/{login}"),
            "followers_url": format!("{api}/followers"),
            "following_url": format!("{api}/following{{/other_user}}"),
            "gists_url": format!("{api}/gists{{/gist_id}}"),
            "starred_url": format!("{api}/starred{{/owner}}{{/repo}}"),
            "subscriptions_url": format!("{api}/subscriptions"),
            "organizations_url": format!("{api}/orgs"),
            "repos_url": format!("{api}/repos"),
            "events_url": format!("{api}/events{{/privacy}}"),
            "received_events_url": format!("{api}/received_events"),
            "type": if is_bot { "Bot" } else { "User" },
            "user_view_type": "public",
            "site_admin": false,
        })
    }

    fn label_json(&self, l: &Label) -> Value {
        json!({
            "id": l.id,
            "node_id": format!("LA_{}", l.id),
            "url": format!("{}{}/labels/{}", self.base, self.repo_path(), encode_query_value(&l.name)),
            "name": l.name,
            "color": l.color,
            "default": false,
            "description": l.description,
        })
    }

    fn repo_json(&self) -> Value {
        let api = format!("{}{}", self.base, self.repo_path());
        json!({
            "id": self.repo_id,
            "node_id": format!("R_{}", self.repo_id),
            "name": self.repo,
            "full_name": format!("{}/{}", self.owner, self.repo),
            "owner": self.user_json(&self.owner),
            "private": false,
            "html_url": format!("https://github.com/{}/{}", self.owner, self.repo),
            "description": "A repository served by the GitHub double",
            "fork": false,
            "url": api,
            "issues_url": format!("{api}/issues{{/number}}"),
            "pulls_url": format!("{api}/pulls{{/number}}"),
            "git_refs_url": format!("{api}/git/refs{{/sha}}"),
            "default_branch": self.default_branch,
            "visibility": "public",
            "archived": false,
            "disabled": false,
            "has_issues": true,
            "created_at": "2024-01-01T00:00:00Z",
            "updated_at": "2024-01-01T00:00:00Z",
            "pushed_at": "2024-01-01T00:00:00Z",
        })
    }

    fn issue_json(&self, i: &Issue) -> Value {
        let api = format!("{}{}/issues/{}", self.base, self.repo_path(), i.number);
        let labels: Vec<Value> = i
            .labels
            .iter()
            .filter_map(|n| self.labels.get(&n.to_lowercase()))
            .map(|l| self.label_json(l))
            .collect();
        let kind = if i.pull.is_some() { "pull" } else { "issues" };
        let mut v = json!({
            "id": i.id,
            "node_id": format!("I_{}", i.id),
            "url": api,
            "repository_url": format!("{}{}", self.base, self.repo_path()),
            "labels_url": format!("{api}/labels{{/name}}"),
            "comments_url": format!("{api}/comments"),
            "events_url": format!("{api}/events"),
            "html_url": format!("https://github.com/{}/{}/{kind}/{}", self.owner, self.repo, i.number),
            "number": i.number,
            "state": i.state,
            "state_reason": i.state_reason,
            "title": i.title,
            "body": i.body,
            "user": self.user_json(&i.user),
            "labels": labels,
            "assignee": null,
            "assignees": [],
            "milestone": null,
            "locked": false,
            "active_lock_reason": null,
            "comments": i.comments,
            "closed_at": i.closed_at.map(ts),
            "closed_by": i.closed_by.as_deref().map(|u| self.user_json(u)),
            "created_at": ts(i.created_at),
            "updated_at": ts(i.updated_at),
            "author_association": if i.user == HUMAN_LOGIN { "OWNER" } else { "NONE" },
        });
        if let Some(p) = &i.pull {
            let pr = format!("{}{}/pulls/{}", self.base, self.repo_path(), i.number);
            let html = format!(
                "https://github.com/{}/{}/pull/{}",
                self.owner, self.repo, i.number
            );
            v["pull_request"] = json!({
                "url": pr,
                "html_url": html,
                "diff_url": format!("{html}.diff"),
                "patch_url": format!("{html}.patch"),
                "merged_at": p.merged_at.map(ts),
            });
            v["draft"] = json!(p.draft);
        }
        v
    }

    fn pull_json(&self, i: &Issue) -> Value {
        let p = i.pull.as_ref().expect("a pull request");
        let api = format!("{}{}/pulls/{}", self.base, self.repo_path(), i.number);
        let issue_api = format!("{}{}/issues/{}", self.base, self.repo_path(), i.number);
        let html = format!(
            "https://github.com/{}/{}/pull/{}",
            self.owner, self.repo, i.number
        );
        let labels: Vec<Value> = i
            .labels
            .iter()
            .filter_map(|n| self.labels.get(&n.to_lowercase()))
            .map(|l| self.label_json(l))
            .collect();
        let side = |r: &str, sha: &str| {
            json!({
                "label": format!("{}:{r}", self.owner),
                "ref": r,
                "sha": sha,
                "user": self.user_json(&self.owner),
                "repo": self.repo_json(),
            })
        };
        json!({
            "url": api,
            "id": p.id,
            "node_id": format!("PR_{}", p.id),
            "html_url": html,
            "diff_url": format!("{html}.diff"),
            "patch_url": format!("{html}.patch"),
            "issue_url": issue_api,
            "commits_url": format!("{api}/commits"),
            "review_comments_url": format!("{api}/comments"),
            "review_comment_url": format!("{}{}/pulls/comments{{/number}}", self.base, self.repo_path()),
            "comments_url": format!("{issue_api}/comments"),
            "statuses_url": format!("{}{}/statuses/{}", self.base, self.repo_path(), p.head_sha),
            "number": i.number,
            "state": i.state,
            "locked": false,
            "title": i.title,
            "user": self.user_json(&i.user),
            "body": i.body,
            "labels": labels,
            "milestone": null,
            "active_lock_reason": null,
            "created_at": ts(i.created_at),
            "updated_at": ts(i.updated_at),
            "closed_at": i.closed_at.map(ts),
            "merged_at": p.merged_at.map(ts),
            "merge_commit_sha": null,
            "assignee": null,
            "assignees": [],
            "requested_reviewers": [],
            "requested_teams": [],
            "head": side(&p.head_ref, &p.head_sha),
            "base": side(&p.base_ref, &p.base_sha),
            "author_association": if i.user == HUMAN_LOGIN { "OWNER" } else { "NONE" },
            "auto_merge": null,
            "draft": p.draft,
            "merged": p.merged_at.is_some(),
            "mergeable": null,
            "mergeable_state": "unknown",
            "maintainer_can_modify": false,
        })
    }

    fn comment_json(&self, c: &Comment) -> Value {
        let repo = format!("{}{}", self.base, self.repo_path());
        json!({
            "id": c.id,
            "node_id": format!("IC_{}", c.id),
            "url": format!("{repo}/issues/comments/{}", c.id),
            "html_url": format!("https://github.com/{}/{}/issues/{}#issuecomment-{}", self.owner, self.repo, c.issue, c.id),
            "issue_url": format!("{repo}/issues/{}", c.issue),
            "body": c.body,
            "user": self.user_json(&c.user),
            "created_at": ts(c.created_at),
            "updated_at": ts(c.created_at),
            "author_association": "NONE",
        })
    }

    fn ref_json(&self, name: &str, sha: &str) -> Value {
        let repo = format!("{}{}", self.base, self.repo_path());
        json!({
            "ref": format!("refs/{name}"),
            "node_id": format!("REF_{}", sha_of(&[name])),
            "url": format!("{repo}/git/refs/{name}"),
            "object": {"type": "commit", "sha": sha, "url": format!("{repo}/git/commits/{sha}")},
        })
    }

    fn commit_json(&self, sha: &str, c: &GitCommit) -> Value {
        let repo = format!("{}{}", self.base, self.repo_path());
        let who =
            json!({"name": BOT_LOGIN, "email": "bot@users.noreply.github.com", "date": ts(c.date)});
        json!({
            "sha": sha,
            "node_id": format!("C_{sha}"),
            "url": format!("{repo}/git/commits/{sha}"),
            "html_url": format!("https://github.com/{}/{}/commit/{sha}", self.owner, self.repo),
            "author": who,
            "committer": who,
            "message": c.message,
            "tree": {"sha": c.tree, "url": format!("{repo}/git/trees/{}", c.tree)},
            "parents": c.parents.iter().map(|p| json!({
                "sha": p,
                "url": format!("{repo}/git/commits/{p}"),
                "html_url": format!("https://github.com/{}/{}/commit/{p}", self.owner, self.repo),
            })).collect::<Vec<_>>(),
            "verification": {"verified": false, "reason": "unsigned", "signature": null, "payload": null, "verified_at": null},
        })
    }

    fn tree_json(&self, sha: &str) -> Value {
        let repo = format!("{}{}", self.base, self.repo_path());
        let entries: Vec<Value> = self.trees[sha]
            .iter()
            .map(|(p, b)| {
                json!({
                    "path": p,
                    "mode": "100644",
                    "type": "blob",
                    "sha": b,
                    "size": self.blobs.get(b).map_or(0, Vec::len),
                    "url": format!("{repo}/git/blobs/{b}"),
                })
            })
            .collect();
        json!({"sha": sha, "url": format!("{repo}/git/trees/{sha}"), "tree": entries, "truncated": false})
    }

    fn run_json(&self, r: &Run) -> Value {
        let repo = format!("{}{}", self.base, self.repo_path());
        let api = format!("{repo}/actions/runs/{}", r.id);
        json!({
            "id": r.id,
            "name": r.workflow,
            "node_id": format!("WFR_{}", r.id),
            "head_branch": r.head_branch,
            "head_sha": r.head_sha,
            "path": format!(".github/workflows/{}.yml", r.workflow.to_lowercase().replace(' ', "-")),
            "display_title": r.workflow,
            "run_number": r.run_number,
            "event": r.event,
            "status": r.status,
            "conclusion": r.conclusion,
            "workflow_id": r.workflow_id,
            "url": api,
            "html_url": format!("https://github.com/{}/{}/actions/runs/{}", self.owner, self.repo, r.id),
            "pull_requests": [],
            "created_at": ts(r.created_at),
            "updated_at": ts(r.created_at),
            "run_attempt": 1,
            "run_started_at": ts(r.created_at),
            "jobs_url": format!("{api}/jobs"),
            "logs_url": format!("{api}/logs"),
            "check_suite_url": format!("{repo}/check-suites/{}", r.id),
            "artifacts_url": format!("{api}/artifacts"),
            "cancel_url": format!("{api}/cancel"),
            "rerun_url": format!("{api}/rerun"),
            "workflow_url": format!("{repo}/actions/workflows/{}", r.workflow_id),
            "head_commit": {
                "id": r.head_sha,
                "tree_id": sha_of(&["tree-of", &r.head_sha]),
                "message": "CI",
                "timestamp": ts(r.created_at),
                "author": {"name": HUMAN_LOGIN, "email": "octocat@example.com"},
                "committer": {"name": HUMAN_LOGIN, "email": "octocat@example.com"},
            },
            "repository": self.repo_json(),
            "head_repository": self.repo_json(),
        })
    }

    fn job_json(&self, j: &Job) -> Value {
        let repo = format!("{}{}", self.base, self.repo_path());
        let run = self.runs.iter().find(|r| r.id == j.run_id);
        let created = run.map_or_else(Utc::now, |r| r.created_at);
        json!({
            "id": j.id,
            "run_id": j.run_id,
            "run_url": format!("{repo}/actions/runs/{}", j.run_id),
            "run_attempt": 1,
            "node_id": format!("CR_{}", j.id),
            "head_sha": run.map(|r| r.head_sha.clone()).unwrap_or_default(),
            "url": format!("{repo}/actions/jobs/{}", j.id),
            "html_url": format!("https://github.com/{}/{}/actions/runs/{}/job/{}", self.owner, self.repo, j.run_id, j.id),
            "status": "completed",
            "conclusion": j.conclusion,
            "created_at": ts(created),
            "started_at": ts(created),
            "completed_at": ts(created + chrono::Duration::minutes(3)),
            "name": j.name,
            "steps": [
                {"name": "Set up job", "status": "completed", "conclusion": "success", "number": 1,
                 "started_at": ts(created), "completed_at": ts(created)},
                {"name": "Run tests", "status": "completed", "conclusion": j.conclusion, "number": 2,
                 "started_at": ts(created), "completed_at": ts(created)},
            ],
            "check_run_url": format!("{repo}/check-runs/{}", j.id),
            "labels": ["ubuntu-latest"],
            "runner_id": 1,
            "runner_name": "GitHub Actions 1",
            "runner_group_id": 1,
            "runner_group_name": "GitHub Actions",
            "workflow_name": run.map(|r| r.workflow.clone()).unwrap_or_default(),
            "head_branch": run.map(|r| r.head_branch.clone()).unwrap_or_default(),
        })
    }

    fn artifact_json(&self, a: &Artifact) -> Value {
        let repo = format!("{}{}", self.base, self.repo_path());
        let run = self.runs.iter().find(|r| r.id == a.run_id);
        json!({
            "id": a.id,
            "node_id": format!("MDg6QXJ0aWZhY3Q{}", a.id),
            "name": a.name,
            "size_in_bytes": a.zip.len(),
            "url": format!("{repo}/actions/artifacts/{}", a.id),
            "archive_download_url": format!("{repo}/actions/artifacts/{}/zip", a.id),
            "expired": a.expired,
            "created_at": ts(a.created_at),
            "updated_at": ts(a.created_at),
            "expires_at": ts(a.created_at + chrono::Duration::days(90)),
            "digest": format!("sha256:{}", sha_of(&["zip", &a.id.to_string()])),
            "workflow_run": {
                "id": a.run_id,
                "repository_id": self.repo_id,
                "head_repository_id": self.repo_id,
                "head_branch": run.map(|r| r.head_branch.clone()).unwrap_or_else(|| "main".into()),
                "head_sha": run.map(|r| r.head_sha.clone()).unwrap_or_default(),
            },
        })
    }

    // ---- routing ----

    fn handle(&mut self, req: &Req) -> Resp {
        let write = req.method != "GET" && req.method != "HEAD";
        if write && !req.authorized {
            return error(401, "Requires authentication", vec![]);
        }
        let path = req.path.trim_end_matches('/').to_string();
        if let Some(rest) = path.strip_prefix("/_blobs/") {
            return self.blob_route(rest);
        }
        if path == "/search/issues" && req.method == "GET" {
            return self.search(req);
        }
        let prefix = self.repo_path();
        let Some(rest) = path.strip_prefix(&prefix) else {
            return not_found();
        };
        let segs: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
        let m = req.method.as_str();
        match (m, segs.as_slice()) {
            ("GET", []) => respond_json(200, self.repo_json()),
            ("GET", ["issues"]) => self.list_issues(req),
            ("POST", ["issues"]) => self.create_issue(req),
            ("GET", ["issues", n]) => self.with_issue(n, |s, i| respond_json(200, s.issue_json(i))),
            ("PATCH", ["issues", n]) => self.update_issue(req, n),
            ("GET", ["issues", n, "comments"]) => self.list_comments(req, n),
            ("POST", ["issues", n, "comments"]) => self.create_comment(req, n),
            ("GET", ["issues", n, "labels"]) => self.with_issue(n, |s, i| {
                let v: Vec<Value> = i
                    .labels
                    .iter()
                    .filter_map(|n| s.labels.get(&n.to_lowercase()))
                    .map(|l| s.label_json(l))
                    .collect();
                respond_json(200, Value::Array(v))
            }),
            ("POST", ["issues", n, "labels"]) => self.add_issue_labels(req, n),
            ("GET", ["labels"]) => {
                let all: Vec<Value> = self.labels.values().map(|l| self.label_json(l)).collect();
                let (page, link) = paginate(&self.base, req, all);
                with_link(respond_json(200, Value::Array(page)), link)
            }
            ("POST", ["labels"]) => self.create_label(req),
            ("GET", ["git", "ref", r @ ..]) => {
                let name = r.join("/");
                match self.refs.get(&name) {
                    Some(sha) => respond_json(200, self.ref_json(&name, sha)),
                    None => not_found(),
                }
            }
            ("POST", ["git", "refs"]) => self.create_ref(req),
            ("PATCH", ["git", "refs", r @ ..]) => self.update_ref(req, &r.join("/")),
            ("GET", ["git", "commits", sha]) => match self.commits.get(*sha) {
                Some(c) => respond_json(200, self.commit_json(sha, c)),
                None => not_found(),
            },
            ("POST", ["git", "commits"]) => self.create_commit(req),
            ("GET", ["git", "trees", sha]) => {
                if self.trees.contains_key(*sha) {
                    respond_json(200, self.tree_json(sha))
                } else {
                    not_found()
                }
            }
            ("POST", ["git", "trees"]) => self.create_tree(req),
            ("GET", ["pulls"]) => self.list_pulls(req),
            ("POST", ["pulls"]) => self.create_pull(req),
            ("GET", ["pulls", n]) => {
                match n.parse::<u64>().ok().and_then(|n| self.issues.get(&n)) {
                    Some(i) if i.pull.is_some() => respond_json(200, self.pull_json(i)),
                    _ => not_found(),
                }
            }
            ("GET", ["pulls", n, "reviews"]) => self.list_reviews(req, n),
            ("GET", ["actions", "runs"]) => self.list_runs(req),
            ("GET", ["actions", "runs", id, "jobs"]) => self.list_jobs(req, id),
            ("GET", ["actions", "runs", id, "artifacts"]) => self.list_artifacts(req, Some(id)),
            ("GET", ["actions", "jobs", id, "logs"]) => {
                match self.jobs.iter().find(|j| j.id.to_string() == *id) {
                    Some(j) if j.log.is_some() => {
                        redirect(format!("{}/_blobs/job-logs/{}?sig=double", self.base, j.id))
                    }
                    Some(_) => error(410, "Gone", vec![]),
                    None => not_found(),
                }
            }
            ("GET", ["actions", "artifacts"]) => self.list_artifacts(req, None),
            ("GET", ["actions", "artifacts", id, "zip"]) => {
                match self.artifacts.iter().find(|a| a.id.to_string() == *id) {
                    Some(a) if a.expired => error(410, "Artifact has expired", vec![]),
                    Some(a) => redirect(format!(
                        "{}/_blobs/artifacts/{}?sig=double",
                        self.base, a.id
                    )),
                    None => not_found(),
                }
            }
            _ => not_found(),
        }
    }

    fn blob_route(&self, rest: &str) -> Resp {
        let parts: Vec<&str> = rest.split('/').collect();
        match parts.as_slice() {
            ["job-logs", id] => match self.jobs.iter().find(|j| j.id.to_string() == *id) {
                Some(Job { log: Some(log), .. }) => Resp {
                    status: 200,
                    body: log.clone().into_bytes(),
                    content_type: "text/plain; charset=utf-8",
                    headers: Vec::new(),
                },
                _ => not_found(),
            },
            ["artifacts", id] => match self.artifacts.iter().find(|a| a.id.to_string() == *id) {
                Some(a) => Resp {
                    status: 200,
                    body: a.zip.clone(),
                    content_type: "application/zip",
                    headers: Vec::new(),
                },
                None => not_found(),
            },
            _ => not_found(),
        }
    }

    fn with_issue(&self, n: &str, f: impl FnOnce(&State, &Issue) -> Resp) -> Resp {
        match n.parse::<u64>().ok().and_then(|n| self.issues.get(&n)) {
            Some(i) => f(self, i),
            None => not_found(),
        }
    }

    fn list_issues(&self, req: &Req) -> Resp {
        let state = req.q("state").unwrap_or("open");
        let wanted: Vec<String> = req
            .q("labels")
            .map(|l| {
                l.split(',')
                    .map(|s| s.trim().to_lowercase())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let mut items: Vec<&Issue> = self
            .issues
            .values()
            .filter(|i| state == "all" || i.state == state)
            .filter(|i| {
                wanted
                    .iter()
                    .all(|w| i.labels.iter().any(|l| l.to_lowercase() == *w))
            })
            .filter(|i| req.q("creator").is_none_or(|c| c == i.user))
            .collect();
        let by_updated = req.q("sort") == Some("updated");
        items.sort_by_key(|i| {
            if by_updated {
                i.updated_at
            } else {
                i.created_at
            }
        });
        // Ties (same second) keep number order.
        if req.q("direction") != Some("asc") {
            items.sort_by(|a, b| {
                let (ka, kb) = if by_updated {
                    (a.updated_at, b.updated_at)
                } else {
                    (a.created_at, b.created_at)
                };
                kb.cmp(&ka).then(b.number.cmp(&a.number))
            });
        }
        let all: Vec<Value> = items.into_iter().map(|i| self.issue_json(i)).collect();
        let (page, link) = paginate(&self.base, req, all);
        with_link(respond_json(200, Value::Array(page)), link)
    }

    fn string_list(v: &Value) -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| {
                        x.as_str()
                            .map(str::to_string)
                            .or_else(|| x.get("name").and_then(Value::as_str).map(str::to_string))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    fn create_issue(&mut self, req: &Req) -> Resp {
        let body = match req.json() {
            Ok(b) => b,
            Err(r) => return r,
        };
        let Some(title) = body
            .get("title")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
        else {
            return validation(vec![
                json!({"resource": "Issue", "code": "missing_field", "field": "title"}),
            ]);
        };
        if body
            .get("body")
            .and_then(Value::as_str)
            .map_or(0, |b| b.chars().count())
            > 65_536
        {
            return validation(vec![
                json!({"resource": "Issue", "code": "custom", "field": "body",
                "message": "body is too long (maximum is 65536 characters)"}),
            ]);
        }
        let labels = body
            .get("labels")
            .map(Self::string_list)
            .unwrap_or_default();
        self.ensure_labels(&labels);
        let n = self.new_issue(
            title,
            body.get("body").and_then(Value::as_str).map(str::to_string),
            labels,
            BOT_LOGIN,
            None,
        );
        respond_json(201, self.issue_json(&self.issues[&n]))
    }

    fn update_issue(&mut self, req: &Req, n: &str) -> Resp {
        let body = match req.json() {
            Ok(b) => b,
            Err(r) => return r,
        };
        let Some(n) = n
            .parse::<u64>()
            .ok()
            .filter(|n| self.issues.contains_key(n))
        else {
            return not_found();
        };
        if body
            .get("body")
            .and_then(Value::as_str)
            .map_or(0, |b| b.chars().count())
            > 65_536
        {
            return validation(vec![
                json!({"resource": "Issue", "code": "custom", "field": "body",
                "message": "body is too long (maximum is 65536 characters)"}),
            ]);
        }
        if let Some(r) = body.get("state_reason").filter(|v| !v.is_null()) {
            let ok = r.as_str().is_some_and(|r| {
                ["completed", "not_planned", "duplicate", "reopened"].contains(&r)
            });
            if !ok {
                return validation(vec![
                    json!({"resource": "Issue", "code": "invalid", "field": "state_reason"}),
                ]);
            }
        }
        if let Some(s) = body.get("state") {
            if !matches!(s.as_str(), Some("open") | Some("closed")) {
                return validation(vec![
                    json!({"resource": "Issue", "code": "invalid", "field": "state"}),
                ]);
            }
        }
        let labels = body.get("labels").map(Self::string_list);
        if let Some(l) = &labels {
            self.ensure_labels(l);
        }
        let labels = labels.map(|l| self.canonical_labels(&l));
        let now = Utc::now();
        let i = self.issues.get_mut(&n).expect("checked above");
        if let Some(t) = body.get("title").and_then(Value::as_str) {
            i.title = t.to_string();
        }
        if let Some(b) = body.get("body") {
            i.body = b.as_str().map(str::to_string);
        }
        if let Some(l) = labels {
            i.labels = l;
        }
        match body.get("state").and_then(Value::as_str) {
            Some("closed") if i.state != "closed" => {
                i.state = "closed".into();
                i.closed_at = Some(now);
                i.closed_by = Some(BOT_LOGIN.into());
                i.state_reason = Some(
                    body.get("state_reason")
                        .and_then(Value::as_str)
                        .unwrap_or("completed")
                        .to_string(),
                );
            }
            Some("open") if i.state != "open" => {
                i.state = "open".into();
                i.closed_at = None;
                i.closed_by = None;
                i.state_reason = Some("reopened".into());
            }
            _ => {}
        }
        i.updated_at = now;
        respond_json(200, self.issue_json(&self.issues[&n]))
    }

    fn list_comments(&self, req: &Req, n: &str) -> Resp {
        let Some(n) = n
            .parse::<u64>()
            .ok()
            .filter(|n| self.issues.contains_key(n))
        else {
            return not_found();
        };
        let all: Vec<Value> = self
            .comments
            .iter()
            .filter(|c| c.issue == n)
            .map(|c| self.comment_json(c))
            .collect();
        let (page, link) = paginate(&self.base, req, all);
        with_link(respond_json(200, Value::Array(page)), link)
    }

    fn create_comment(&mut self, req: &Req, n: &str) -> Resp {
        let body = match req.json() {
            Ok(b) => b,
            Err(r) => return r,
        };
        let Some(n) = n
            .parse::<u64>()
            .ok()
            .filter(|n| self.issues.contains_key(n))
        else {
            return not_found();
        };
        let Some(text) = body.get("body").and_then(Value::as_str) else {
            return validation(vec![
                json!({"resource": "IssueComment", "code": "missing_field", "field": "body"}),
            ]);
        };
        if text.chars().count() > 65_536 {
            return validation(vec![json!({"resource": "IssueComment", "code": "custom",
                "field": "body", "message": "body is too long (maximum is 65536 characters)"})]);
        }
        let id = self.id();
        let c = Comment {
            id,
            issue: n,
            body: text.to_string(),
            user: BOT_LOGIN.into(),
            created_at: Utc::now(),
        };
        let v = self.comment_json(&c);
        self.comments.push(c);
        if let Some(i) = self.issues.get_mut(&n) {
            i.comments += 1;
            i.updated_at = Utc::now();
        }
        respond_json(201, v)
    }

    fn add_issue_labels(&mut self, req: &Req, n: &str) -> Resp {
        let body = match req.json() {
            Ok(b) => b,
            Err(r) => return r,
        };
        let Some(n) = n
            .parse::<u64>()
            .ok()
            .filter(|n| self.issues.contains_key(n))
        else {
            return not_found();
        };
        let names = body
            .get("labels")
            .map(Self::string_list)
            .unwrap_or_default();
        if names.is_empty() {
            return validation(vec![
                json!({"resource": "Label", "code": "missing_field", "field": "labels"}),
            ]);
        }
        self.ensure_labels(&names);
        let mut current = self.issues[&n].labels.clone();
        current.extend(names);
        let current = self.canonical_labels(&current);
        let i = self.issues.get_mut(&n).expect("checked above");
        i.labels = current.clone();
        let v: Vec<Value> = current
            .iter()
            .filter_map(|n| self.labels.get(&n.to_lowercase()))
            .map(|l| self.label_json(l))
            .collect();
        respond_json(200, Value::Array(v))
    }

    fn create_label(&mut self, req: &Req) -> Resp {
        let body = match req.json() {
            Ok(b) => b,
            Err(r) => return r,
        };
        let Some(name) = body
            .get("name")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
        else {
            return validation(vec![
                json!({"resource": "Label", "code": "missing_field", "field": "name"}),
            ]);
        };
        let color = body
            .get("color")
            .and_then(Value::as_str)
            .unwrap_or("ededed")
            .trim_start_matches('#')
            .to_string();
        if color.len() != 6 || !color.chars().all(|c| c.is_ascii_hexdigit()) {
            return validation(vec![
                json!({"resource": "Label", "code": "invalid", "field": "color"}),
            ]);
        }
        if self.labels.contains_key(&name.to_lowercase()) {
            return validation(vec![
                json!({"resource": "Label", "code": "already_exists", "field": "name"}),
            ]);
        }
        let id = self.id();
        let l = Label {
            id,
            name: name.to_string(),
            color,
            description: body
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_string),
        };
        let v = self.label_json(&l);
        self.labels.insert(name.to_lowercase(), l);
        respond_json(201, v)
    }

    fn search(&self, req: &Req) -> Resp {
        let Some(q) = req.q("q").filter(|q| !q.trim().is_empty()) else {
            return validation(vec![
                json!({"resource": "Search", "field": "q", "code": "missing"}),
            ]);
        };
        let terms = search_terms(q);
        let mut want_pull: Option<bool> = None;
        let mut want_state: Option<&str> = None;
        let mut labels: Vec<String> = Vec::new();
        let mut fields: Vec<&str> = Vec::new();
        let mut words: Vec<String> = Vec::new();
        let mut repo_ok = true;
        for t in &terms {
            match t.split_once(':') {
                Some(("repo", r)) => {
                    repo_ok &= r.eq_ignore_ascii_case(&format!("{}/{}", self.owner, self.repo))
                }
                Some(("is" | "type", "issue")) => want_pull = Some(false),
                Some(("is" | "type", "pr" | "pull-request")) => want_pull = Some(true),
                Some(("is" | "state", "open")) => want_state = Some("open"),
                Some(("is" | "state", "closed")) => want_state = Some("closed"),
                Some(("label", l)) => labels.push(l.to_lowercase()),
                Some(("in", f)) => fields.extend(f.split(',').filter_map(|f| match f {
                    "title" => Some("title"),
                    "body" => Some("body"),
                    "comments" => Some("comments"),
                    _ => None,
                })),
                _ => words.push(t.to_lowercase()),
            }
        }
        if want_pull.is_none() {
            // GitHub now requires issue searches to say which kind they want.
            return error(
                422,
                "Query must include 'is:issue' or 'is:pull-request'",
                vec![json!({"resource": "Search", "field": "q", "code": "invalid"})],
            );
        }
        if fields.is_empty() {
            fields = vec!["title", "body"];
        }
        let items: Vec<Value> = self
            .issues
            .values()
            .filter(|_| repo_ok)
            .filter(|i| self.search_visible_up_to.is_none_or(|max| i.number <= max))
            .filter(|i| want_pull.is_none_or(|p| p == i.pull.is_some()))
            .filter(|i| want_state.is_none_or(|s| s == i.state))
            .filter(|i| {
                labels
                    .iter()
                    .all(|w| i.labels.iter().any(|l| l.to_lowercase() == *w))
            })
            .filter(|i| {
                words.iter().all(|w| {
                    fields.iter().any(|f| match *f {
                        "title" => i.title.to_lowercase().contains(w),
                        "body" => i
                            .body
                            .as_deref()
                            .is_some_and(|b| b.to_lowercase().contains(w)),
                        _ => self
                            .comments
                            .iter()
                            .any(|c| c.issue == i.number && c.body.to_lowercase().contains(w)),
                    })
                })
            })
            .rev()
            .map(|i| {
                let mut v = self.issue_json(i);
                v["score"] = json!(1.0);
                v
            })
            .collect();
        let total = items.len();
        let (page, link) = paginate(&self.base, req, items);
        with_link(
            respond_json(
                200,
                json!({"total_count": total, "incomplete_results": false, "items": page}),
            ),
            link,
        )
    }

    fn create_ref(&mut self, req: &Req) -> Resp {
        let body = match req.json() {
            Ok(b) => b,
            Err(r) => return r,
        };
        let (Some(r), Some(sha)) = (
            body.get("ref").and_then(Value::as_str),
            body.get("sha").and_then(Value::as_str),
        ) else {
            return validation(vec![
                json!({"resource": "Reference", "code": "missing_field"}),
            ]);
        };
        let Some(name) = r.strip_prefix("refs/").filter(|n| n.contains('/')) else {
            return error(422, "Reference name is not valid", vec![]);
        };
        if let Some(branch) = name.strip_prefix("heads/") {
            if self.protected.contains(branch) {
                return error(
                    422,
                    "Repository rule violations found\n\nCannot create ref due to creations being restricted.\n\n",
                    vec![],
                );
            }
        }
        if self.refs.contains_key(name) {
            return error(422, "Reference already exists", vec![]);
        }
        if !self.commits.contains_key(sha) {
            return error(422, "Object does not exist", vec![]);
        }
        self.refs.insert(name.to_string(), sha.to_string());
        respond_json(201, self.ref_json(name, sha))
    }

    fn update_ref(&mut self, req: &Req, name: &str) -> Resp {
        let body = match req.json() {
            Ok(b) => b,
            Err(r) => return r,
        };
        let Some(sha) = body.get("sha").and_then(Value::as_str) else {
            return validation(vec![
                json!({"resource": "Reference", "code": "missing_field", "field": "sha"}),
            ]);
        };
        let Some(old) = self.refs.get(name).cloned() else {
            return error(422, "Reference does not exist", vec![]);
        };
        if let Some(branch) = name.strip_prefix("heads/") {
            if self.protected.contains(branch) {
                return error(
                    422,
                    &format!("Protected branch update failed for refs/{name}."),
                    vec![],
                );
            }
        }
        if !self.commits.contains_key(sha) {
            return error(422, "Object does not exist", vec![]);
        }
        let force = body.get("force").and_then(Value::as_bool).unwrap_or(false);
        if !force && !self.is_ancestor(&old, sha) {
            return error(422, "Update is not a fast forward", vec![]);
        }
        self.refs.insert(name.to_string(), sha.to_string());
        respond_json(200, self.ref_json(name, sha))
    }

    fn create_tree(&mut self, req: &Req) -> Resp {
        let body = match req.json() {
            Ok(b) => b,
            Err(r) => return r,
        };
        let mut entries = match body.get("base_tree").and_then(Value::as_str) {
            Some(base) => match self.trees.get(base) {
                Some(t) => t.clone(),
                None => return error(422, "base_tree is not a valid tree oid", vec![]),
            },
            None => BTreeMap::new(),
        };
        let Some(list) = body.get("tree").and_then(Value::as_array) else {
            return validation(vec![
                json!({"resource": "Tree", "code": "missing_field", "field": "tree"}),
            ]);
        };
        for e in list {
            let path = e.get("path").and_then(Value::as_str).unwrap_or("");
            let mode = e.get("mode").and_then(Value::as_str).unwrap_or("");
            let kind = e.get("type").and_then(Value::as_str).unwrap_or("");
            if path.is_empty() || path.starts_with('/') || path.split('/').any(|p| p == "..") {
                return error(422, "tree.path contains a malformed path component", vec![]);
            }
            if !["100644", "100755", "040000", "160000", "120000"].contains(&mode) {
                return error(422, "tree.mode is not a valid mode", vec![]);
            }
            if kind != "blob" {
                return error(422, "tree.type is not supported by the double", vec![]);
            }
            match (e.get("content"), e.get("sha")) {
                (Some(Value::String(c)), _) => {
                    let sha = self.put_blob(c.clone().into_bytes());
                    entries.insert(path.to_string(), sha);
                }
                (_, Some(Value::Null)) => {
                    entries.remove(path);
                }
                (_, Some(Value::String(s))) if self.blobs.contains_key(s) => {
                    entries.insert(path.to_string(), s.clone());
                }
                _ => return error(422, "tree.sha is not a valid blob", vec![]),
            }
        }
        let sha = self.put_tree(entries);
        respond_json(201, self.tree_json(&sha))
    }

    fn create_commit(&mut self, req: &Req) -> Resp {
        let body = match req.json() {
            Ok(b) => b,
            Err(r) => return r,
        };
        let (Some(message), Some(tree)) = (
            body.get("message").and_then(Value::as_str),
            body.get("tree").and_then(Value::as_str),
        ) else {
            return validation(vec![json!({"resource": "Commit", "code": "missing_field"})]);
        };
        if !self.trees.contains_key(tree) {
            return error(422, "Tree SHA does not exist", vec![]);
        }
        let parents = Self::string_list(body.get("parents").unwrap_or(&Value::Null));
        if parents.iter().any(|p| !self.commits.contains_key(p)) {
            return error(
                422,
                "Parent SHA does not exist or is not a commit object",
                vec![],
            );
        }
        let sha = self.put_commit(tree, &parents, message);
        respond_json(201, self.commit_json(&sha, &self.commits[&sha]))
    }

    fn list_pulls(&self, req: &Req) -> Resp {
        let state = req.q("state").unwrap_or("open");
        // GitHub filters by head only in the `owner:branch` form; a bare branch is ignored.
        let head = req.q("head").and_then(|h| h.split_once(':'));
        let base = req.q("base");
        let mut items: Vec<&Issue> = self
            .issues
            .values()
            .filter(|i| i.pull.is_some())
            .filter(|i| state == "all" || i.state == state)
            .filter(|i| {
                let p = i.pull.as_ref().expect("filtered");
                head.is_none_or(|(o, b)| o.eq_ignore_ascii_case(&self.owner) && p.head_ref == b)
                    && base.is_none_or(|b| p.base_ref == b)
            })
            .collect();
        let key = |i: &Issue| match req.q("sort") {
            Some("updated") => i.updated_at,
            _ => i.created_at,
        };
        items.sort_by(|a, b| key(a).cmp(&key(b)).then(a.number.cmp(&b.number)));
        if req.q("direction") != Some("asc") {
            items.reverse();
        }
        let all: Vec<Value> = items.into_iter().map(|i| self.pull_json(i)).collect();
        let (page, link) = paginate(&self.base, req, all);
        with_link(respond_json(200, Value::Array(page)), link)
    }

    fn create_pull(&mut self, req: &Req) -> Resp {
        let body = match req.json() {
            Ok(b) => b,
            Err(r) => return r,
        };
        let (Some(title), Some(head), Some(base)) = (
            body.get("title").and_then(Value::as_str),
            body.get("head").and_then(Value::as_str),
            body.get("base").and_then(Value::as_str),
        ) else {
            return validation(vec![
                json!({"resource": "PullRequest", "code": "missing_field"}),
            ]);
        };
        let head_branch = match head.split_once(':') {
            Some((o, b)) if o.eq_ignore_ascii_case(&self.owner) => b,
            Some(_) => {
                return validation(vec![
                    json!({"resource": "PullRequest", "field": "head", "code": "invalid"}),
                ])
            }
            None => head,
        };
        let Some(base_sha) = self.refs.get(&format!("heads/{base}")).cloned() else {
            return validation(vec![
                json!({"resource": "PullRequest", "field": "base", "code": "invalid"}),
            ]);
        };
        let Some(head_sha) = self.refs.get(&format!("heads/{head_branch}")).cloned() else {
            return validation(vec![
                json!({"resource": "PullRequest", "field": "head", "code": "invalid"}),
            ]);
        };
        let exists = self.issues.values().any(|i| {
            i.state == "open"
                && i.pull
                    .as_ref()
                    .is_some_and(|p| p.head_ref == head_branch && p.base_ref == base)
        });
        if exists {
            return validation(vec![json!({"resource": "PullRequest", "code": "custom",
                "message": format!("A pull request already exists for {}:{head_branch}.", self.owner)})]);
        }
        if head_sha == base_sha || self.is_ancestor(&head_sha, &base_sha) {
            return validation(vec![json!({"resource": "PullRequest", "code": "custom",
                "message": format!("No commits between {base} and {head_branch}")})]);
        }
        let id = self.id();
        let n = self.new_issue(
            title,
            body.get("body").and_then(Value::as_str).map(str::to_string),
            Vec::new(),
            BOT_LOGIN,
            Some(Pull {
                id,
                head_ref: head_branch.to_string(),
                head_sha,
                base_ref: base.to_string(),
                base_sha,
                draft: body.get("draft").and_then(Value::as_bool).unwrap_or(false),
                merged_at: None,
            }),
        );
        respond_json(201, self.pull_json(&self.issues[&n]))
    }

    fn list_reviews(&self, req: &Req, n: &str) -> Resp {
        let Some(n) = n
            .parse::<u64>()
            .ok()
            .filter(|n| self.issues.get(n).is_some_and(|i| i.pull.is_some()))
        else {
            return not_found();
        };
        let repo = format!("{}{}", self.base, self.repo_path());
        let all: Vec<Value> = self
            .reviews
            .iter()
            .filter(|r| r.pull == n)
            .map(|r| {
                json!({
                    "id": r.id,
                    "node_id": format!("PRR_{}", r.id),
                    "user": self.user_json(&r.user),
                    "body": "",
                    "state": r.state,
                    "html_url": format!("https://github.com/{}/{}/pull/{n}#pullrequestreview-{}", self.owner, self.repo, r.id),
                    "pull_request_url": format!("{repo}/pulls/{n}"),
                    "submitted_at": ts(r.submitted_at),
                    "commit_id": self.issues[&n].pull.as_ref().map(|p| p.head_sha.clone()),
                    "author_association": "MEMBER",
                })
            })
            .collect();
        let (page, link) = paginate(&self.base, req, all);
        with_link(respond_json(200, Value::Array(page)), link)
    }

    fn list_runs(&self, req: &Req) -> Resp {
        let mut runs: Vec<&Run> = self
            .runs
            .iter()
            .filter(|r| {
                req.q("status").is_none_or(|s| {
                    if CONCLUSIONS.contains(&s) {
                        r.conclusion.as_deref() == Some(s)
                    } else {
                        r.status == s
                    }
                })
            })
            .filter(|r| {
                req.q("created")
                    .is_none_or(|c| created_matches(c, r.created_at))
            })
            .filter(|r| req.q("branch").is_none_or(|b| r.head_branch == b))
            .filter(|r| req.q("event").is_none_or(|e| r.event == e))
            .collect();
        runs.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        let total = runs.len();
        let all: Vec<Value> = runs.into_iter().map(|r| self.run_json(r)).collect();
        let (page, link) = paginate(&self.base, req, all);
        with_link(
            respond_json(200, json!({"total_count": total, "workflow_runs": page})),
            link,
        )
    }

    fn list_jobs(&self, req: &Req, id: &str) -> Resp {
        if !self.runs.iter().any(|r| r.id.to_string() == id) {
            return not_found();
        }
        let all: Vec<Value> = self
            .jobs
            .iter()
            .filter(|j| j.run_id.to_string() == id)
            .map(|j| self.job_json(j))
            .collect();
        let total = all.len();
        let (page, link) = paginate(&self.base, req, all);
        with_link(
            respond_json(200, json!({"total_count": total, "jobs": page})),
            link,
        )
    }

    fn list_artifacts(&self, req: &Req, run: Option<&str>) -> Resp {
        if let Some(id) = run {
            if !self.runs.iter().any(|r| r.id.to_string() == id) {
                return not_found();
            }
        }
        let mut arts: Vec<&Artifact> = self
            .artifacts
            .iter()
            .filter(|a| run.is_none_or(|r| a.run_id.to_string() == r))
            .filter(|a| req.q("name").is_none_or(|n| a.name == n))
            .collect();
        arts.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        let total = arts.len();
        let all: Vec<Value> = arts.into_iter().map(|a| self.artifact_json(a)).collect();
        let (page, link) = paginate(&self.base, req, all);
        with_link(
            respond_json(200, json!({"total_count": total, "artifacts": page})),
            link,
        )
    }
}
