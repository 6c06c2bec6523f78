//! The semantic layer end to end: the real `codex-analyzer run` against the local
//! OpenAI-compatible double (`e2e::openai_double`), with a real git repository and a
//! tool-call log holding two wordings of one failure, a repeated failed approach, a user
//! correction and a planted secret.
//!
//! What must hold: off by default (nothing sent); on, sessions get confusion/frustration
//! judgements, the two wordings merge under a stable ID (one of the deterministic IDs), the
//! top clusters get model-written summaries; a rerun sends nothing (cache); an invalid answer
//! is retried once then dropped; the budget stops requests and says what it skipped; 429 and
//! 500 are retried; an endpoint that is down or too slow leaves the deterministic results and
//! one warning; the planted secret never reaches the server; `export-harbor` exports a merged
//! failure as one task under the same ID.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, Utc};
use codex_contract::record::{events, parse_ts, Excerpt, Feedback, Phase, Record, Source, Status};
use e2e::openai_double::{OpenAiDouble, Scripted};
use serde_json::Value;

const NOW: &str = "2026-03-10T13:10:00Z";
const KEY: &str = "sk-test-double-key";
/// A GitHub token planted in a command and its output: it must never reach the model.
const SECRET: &str = "ghp_Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0LzXcVb";

fn before(hours: f64) -> DateTime<Utc> {
    parse_ts(NOW).unwrap() - Duration::milliseconds((hours * 3_600_000.0) as i64)
}

#[allow(clippy::too_many_arguments)]
fn call(
    v: &mut Vec<Record>,
    ts: DateTime<Utc>,
    session: &str,
    id: &str,
    input: &str,
    status: Status,
    exit: i32,
    error_type: Option<&str>,
    output: &str,
) {
    let mut pre = Record::at(ts, Source::CodexHook, Phase::Pre);
    pre.session_id = Some(session.into());
    pre.call_id = Some(id.into());
    pre.tool = Some("Bash".into());
    pre.input = Some(input.into());
    v.push(pre);
    let mut o = Record::at(
        ts + Duration::milliseconds(300),
        Source::Rollout,
        Phase::Outcome,
    );
    o.session_id = Some(session.into());
    o.call_id = Some(id.into());
    o.status = Some(status);
    o.exit_code = Some(exit);
    o.error_type = error_type.map(str::to_string);
    o.output = Some(Excerpt::new(output, 4000));
    v.push(o);
}

fn prompt(v: &mut Vec<Record>, ts: DateTime<Utc>, session: &str, feedback: Option<Feedback>) {
    let mut r = Record::at(ts, Source::CodexHook, Phase::Session);
    r.session_id = Some(session.into());
    r.event = Some(events::USER_PROMPT.into());
    r.feedback = feedback;
    v.push(r);
}

/// s1 runs `cargo build` twice into "bash: line 1: cargo: not found" (a repeated failed
/// approach), then the user corrects it, then `npm run lint` fails twice. s2 (later) gets
/// "cargo: command not found" twice, leaks a token in a failing deploy, then `make build`
/// works. s3 has no friction.
fn log() -> String {
    let mut v = Vec::new();
    let nf = Some("command_not_found");
    prompt(&mut v, before(10.0), "s1", None);
    for (i, h) in [9.9, 9.8].into_iter().enumerate() {
        let id = format!("s1-cargo-{i}");
        call(
            &mut v,
            before(h),
            "s1",
            &id,
            "cargo build",
            Status::Failed,
            127,
            nf,
            "bash: line 1: cargo: not found\n",
        );
    }
    prompt(&mut v, before(9.7), "s1", Some(Feedback::Negative));
    for (i, h) in [9.6, 9.5].into_iter().enumerate() {
        let id = format!("s1-npm-{i}");
        call(
            &mut v,
            before(h),
            "s1",
            &id,
            "npm run lint",
            Status::Failed,
            1,
            Some("nonzero_exit"),
            "npm ERR! Missing script: \"lint\"\n",
        );
    }
    prompt(&mut v, before(5.0), "s2", None);
    for (i, h) in [4.9, 4.8].into_iter().enumerate() {
        let id = format!("s2-cargo-{i}");
        call(
            &mut v,
            before(h),
            "s2",
            &id,
            "cargo build",
            Status::Failed,
            127,
            nf,
            "cargo: command not found\n",
        );
    }
    call(
        &mut v,
        before(4.7),
        "s2",
        "s2-deploy",
        &format!("GITHUB_TOKEN={SECRET} ./deploy.sh"),
        Status::Failed,
        1,
        Some("nonzero_exit"),
        &format!("error: token {SECRET} was rejected\n"),
    );
    call(
        &mut v,
        before(4.6),
        "s2",
        "s2-make",
        "make build",
        Status::Ok,
        0,
        None,
        "ok\n",
    );
    prompt(&mut v, before(3.0), "s3", None);
    call(
        &mut v,
        before(2.9),
        "s3",
        "s3-ls",
        "ls",
        Status::Ok,
        0,
        None,
        "src\n",
    );
    v.iter()
        .map(|r| serde_json::to_string(r).unwrap() + "\n")
        .collect()
}

/// A git repository with the log, and `[semantic]` set to `semantic` (TOML lines).
fn repo(semantic: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    e2e::bins::git_at(r, &["init", "-q"], None, "alice");
    std::fs::write(r.join("README.md"), "# demo\n").unwrap();
    e2e::bins::git_at(r, &["add", "README.md"], Some(before(20.0)), "alice");
    e2e::bins::git_at(r, &["commit", "-qm", "init"], Some(before(20.0)), "alice");
    std::fs::create_dir_all(r.join(".codex")).unwrap();
    std::fs::write(r.join(".codex/toolcalls.ndjson"), log()).unwrap();
    set_config(r, semantic);
    dir
}

fn set_config(r: &Path, semantic: &str) {
    std::fs::write(
        r.join(".codex/improvement.toml"),
        format!("[semantic]\n{semantic}\n"),
    )
    .unwrap();
}

fn enabled(d: &OpenAiDouble, extra: &str) -> String {
    format!(
        "enabled = true\nbase_url = \"{}\"\ntimeout_secs = 5\n{extra}",
        d.url()
    )
}

/// `codex-analyzer <sub> --repo <repo> --now NOW`, with the key and nothing else from the
/// environment.
fn analyzer_cmd(repo: &Path, sub: &str) -> Command {
    let mut cmd = Command::new(e2e::bins::analyzer());
    cmd.current_dir(repo)
        .env_remove("CODEX_TOOLCALLS_LOG")
        .env_remove("GITHUB_TOKEN")
        .env_remove("GITHUB_REPOSITORY")
        .env_remove("OPENAI_BASE_URL")
        .env("OPENAI_API_KEY", KEY)
        .env("NO_COLOR", "1")
        .args([sub, "--repo", repo.to_str().unwrap(), "--now", NOW]);
    cmd
}

fn analyzer(repo: &Path, extra: &[&str]) -> Output {
    let mut cmd = analyzer_cmd(repo, "run");
    cmd.args(["--format", "json"]).args(extra);
    cmd.output().expect("the analyzer runs")
}

fn run(repo: &Path, extra: &[&str]) -> Value {
    let out = analyzer(repo, extra);
    assert!(
        out.status.success(),
        "run failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    e2e::bins::assert_output_schema(&doc);
    doc
}

fn clusters(doc: &Value) -> Vec<(String, u64)> {
    doc["clusters"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                c["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn warnings(doc: &Value) -> Vec<String> {
    doc["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_string())
        .filter(|w| w.contains("semantic"))
        .collect()
}

/// The deterministic cluster IDs of the log's two cargo wordings, oldest first.
fn cargo_ids(deterministic: &Value) -> Vec<String> {
    let items = deterministic["clusters"]["items"].as_array().unwrap();
    let mut cargo: Vec<&Value> = items
        .iter()
        .filter(|c| c["command_template"] == "cargo build")
        .collect();
    cargo.sort_by_key(|c| c["first_seen"].as_str().unwrap().to_string());
    cargo
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

fn assert_no_secret(d: &OpenAiDouble) {
    for r in d.received() {
        assert!(
            !r.body.contains(SECRET),
            "the secret reached the server: {}",
            r.body
        );
        assert!(
            !r.body.contains("Zx9Qw8Er7Ty6"),
            "part of the secret reached the server"
        );
    }
}

#[test]
fn judges_sessions_merges_rewordings_summarizes_and_a_rerun_sends_nothing() {
    let d = OpenAiDouble::start();
    let dir = repo("enabled = false");
    let r = dir.path();

    // Off by default: deterministic results, nothing sent.
    let det = run(r, &[]);
    assert!(det.get("semantic").is_none());
    assert!(d.received().is_empty());
    let ids = cargo_ids(&det);
    assert_eq!(
        ids.len(),
        2,
        "two deterministic cargo clusters: {:#?}",
        clusters(&det)
    );

    set_config(r, &enabled(&d, ""));
    let out = run(r, &["--apply"]);
    let sem = &out["semantic"];
    assert_eq!(warnings(&out), Vec::<String>::new(), "{out:#}");

    // Confusion and frustration per session with friction (s3 has none: not asked).
    let sessions = sem["sessions"].as_array().unwrap();
    let judged: Vec<&str> = sessions
        .iter()
        .map(|s| s["session_id"].as_str().unwrap())
        .collect();
    assert_eq!(judged, ["s1", "s2"]);
    let s1 = &sessions[0];
    assert_eq!(s1["confused"], true);
    assert_eq!(
        s1["confusion_kinds"],
        serde_json::json!(["repeated_failed_approach"])
    );
    assert_eq!(s1["user_frustrated"], true, "the correction counts");
    assert!(s1["cause"].as_str().unwrap().contains("cargo build"));
    let evidence: Vec<&str> = s1["evidence_call_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        evidence,
        ["s1-cargo-0", "s1-cargo-1", "s1-npm-0", "s1-npm-1"],
        "labels map back to call IDs"
    );

    // The two wordings merge under the older deterministic ID.
    let merged: Vec<&Value> = out["clusters"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["command_template"] == "cargo build")
        .collect();
    assert_eq!(merged.len(), 1, "{:#?}", clusters(&out));
    let m = merged[0];
    assert_eq!(m["id"], ids[0].as_str());
    let mut members = ids.clone();
    members.sort();
    assert_eq!(m["merged_from"], serde_json::json!(members));
    assert_eq!(m["count"], 4);
    assert_eq!(m["sessions"], 2);
    assert_eq!(
        out["clusters"]["total"].as_u64().unwrap() + 1,
        det["clusters"]["total"].as_u64().unwrap()
    );
    // npm lint stays apart.
    assert!(out["clusters"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["command_template"] == "npm run lint" && c.get("merged_from").is_none()));

    // Summaries, marked as model-written in the run log.
    assert_eq!(m["summary"]["model"], "gpt-4o-mini");
    assert!(m["summary"]["suggested_fix"].as_str().unwrap().len() > 10);
    let log = std::fs::read_to_string(r.join(".codex/improvement-log.md")).unwrap();
    assert!(
        log.contains("**Model-written summaries** (by `gpt-4o-mini`"),
        "{log}"
    );
    assert!(log.contains(&format!("`{}` merges", ids[0])), "{log}");
    assert!(
        log.contains("| `s1` | repeated_failed_approach | yes |"),
        "{log}"
    );

    // What was sent: with the key, redacted, never the secret.
    let received = d.received();
    assert!(received
        .iter()
        .all(|r| r.authorization.as_deref() == Some(&format!("Bearer {KEY}") as &str)));
    assert!(
        received.iter().any(|r| r.body.contains("[REDACTED:")),
        "the secret call was sent redacted"
    );
    assert_no_secret(&d);
    assert_eq!(
        d.chats_for("cluster_summary").len(),
        2,
        "merged cargo and npm lint (the deploy failed once)"
    );
    assert_eq!(d.chats_for("session_friction").len(), 2);
    let sent = received.len();
    assert_eq!(sem["budget"]["requests"], sent as u64);
    assert!(out["written"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w["path"] == ".codex/semantic-cache.json"));

    // A rerun over the same data sends nothing new and gives the same results.
    let again = run(r, &["--apply", "--force"]);
    assert_eq!(d.received().len(), sent, "the cache answered everything");
    assert_eq!(again["semantic"]["cache_misses"], 0);
    assert_eq!(clusters(&again), clusters(&out));
    assert_eq!(again["semantic"]["sessions"], out["semantic"]["sessions"]);
    assert_eq!(
        again["clusters"]["items"][0]["summary"],
        out["clusters"]["items"][0]["summary"]
    );
}

#[test]
fn an_invalid_answer_is_retried_once_with_the_reason_then_dropped() {
    let d = OpenAiDouble::start();
    let dir = repo(&enabled(&d, ""));
    // The first chat request is the top cluster's summary: two bad answers.
    d.script_chat([
        Scripted::Content("Sure! Here is the summary: the cargo tool is missing.".into()),
        Scripted::Content(r#"{"what_goes_wrong":"cargo missing"}"#.into()),
    ]);
    let out = run(dir.path(), &[]);
    let sem = &out["semantic"];
    let dropped = sem["dropped"].as_array().unwrap();
    assert_eq!(dropped.len(), 1, "{sem:#}");
    assert_eq!(dropped[0]["kind"], "summary");
    let first = out["clusters"]["items"][0].clone();
    assert_eq!(dropped[0]["subject"], first["id"]);
    assert!(first.get("summary").is_none(), "never guessed");
    let summaries = d.chats_for("cluster_summary");
    assert_eq!(summaries.len(), 3, "2 for the dropped one, 1 for npm lint");
    let retry = summaries[1]["messages"].as_array().unwrap();
    assert_eq!(retry.len(), 4, "system, user, the bad answer, the reason");
    assert!(retry[3]["content"]
        .as_str()
        .unwrap()
        .contains("That answer is invalid"));
    let w = warnings(&out);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].contains("dropped the model's answer for summary"),
        "{w:?}"
    );
    // The other results still came.
    assert_eq!(sem["summarized"].as_array().unwrap().len(), 1);
    assert_eq!(sem["sessions"].as_array().unwrap().len(), 2);
    // A dry run writes no cache.
    assert!(!dir.path().join(".codex/semantic-cache.json").exists());
}

#[test]
fn the_budget_stops_requests_and_the_run_says_what_it_skipped() {
    let d = OpenAiDouble::start();
    let dir = repo(&enabled(&d, "max_requests = 2\n"));
    let out = run(dir.path(), &[]);
    assert_eq!(d.received().len(), 2, "embeddings and one summary");
    let sem = &out["semantic"];
    assert_eq!(sem["budget"]["requests"], 2);
    let skipped = sem["skipped"].as_array().unwrap();
    let kinds: Vec<&str> = skipped
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["summary", "confusion", "confusion"], "{sem:#}");
    assert!(skipped
        .iter()
        .all(|s| s["reason"].as_str().unwrap().contains("request budget")));
    let w = warnings(&out);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].contains("budget reached") && w[0].contains("2 confusion, 1 summary"),
        "{w:?}"
    );

    // A token budget too small for any request sends nothing at all.
    let d2 = OpenAiDouble::start();
    set_config(dir.path(), &enabled(&d2, "max_tokens = 10\n"));
    let out = run(dir.path(), &[]);
    assert!(d2.received().is_empty());
    assert!(out["semantic"]["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["reason"].as_str().unwrap().contains("token budget")));
}

#[test]
fn rate_limits_and_server_errors_are_retried_with_backoff() {
    let d = OpenAiDouble::start();
    let dir = repo(&enabled(&d, ""));
    d.script_embeddings([
        Scripted::Status {
            code: 429,
            retry_after: Some(1),
        },
        Scripted::Status {
            code: 500,
            retry_after: None,
        },
    ]);
    let t = Instant::now();
    let out = run(dir.path(), &[]);
    assert!(
        t.elapsed() >= StdDuration::from_secs(1),
        "retry-after was honoured"
    );
    assert_eq!(d.embedding_requests().len(), 3);
    let sem = &out["semantic"];
    assert_eq!(sem["retries"], 2);
    assert_eq!(
        sem["merges"].as_array().unwrap().len(),
        1,
        "the third attempt worked"
    );
    assert_eq!(warnings(&out), Vec::<String>::new());
}

#[test]
fn an_endpoint_down_or_too_slow_leaves_deterministic_results_and_one_warning() {
    let dir = repo("enabled = false");
    let det = run(dir.path(), &[]);

    // Down: a port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    set_config(
        dir.path(),
        &format!("enabled = true\nbase_url = \"http://127.0.0.1:{port}/v1\"\n"),
    );
    let out = run(dir.path(), &[]);
    assert_eq!(clusters(&out), clusters(&det));
    assert_eq!(out["findings"], det["findings"]);
    let w = warnings(&out);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].contains("semantic layer stopped") && w[0].contains("cannot reach"),
        "{w:?}"
    );
    assert!(out["semantic"]["unavailable"].is_string());

    // Too slow: the first request times out, nothing more is tried.
    let d = OpenAiDouble::start();
    set_config(
        dir.path(),
        &format!(
            "enabled = true\nbase_url = \"{}\"\ntimeout_secs = 1\nmax_retries = 0\n",
            d.url()
        ),
    );
    d.script_embeddings([Scripted::Delay(StdDuration::from_secs(3))]);
    let t = Instant::now();
    let out = run(dir.path(), &[]);
    assert!(t.elapsed() < StdDuration::from_secs(10));
    assert_eq!(d.received().len(), 1, "given up after the timeout");
    assert_eq!(clusters(&out), clusters(&det));
    let w = warnings(&out);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains("no answer"), "{w:?}");

    // --semantic turns it on for one run when the config does not.
    let d = OpenAiDouble::start();
    set_config(dir.path(), &format!("base_url = \"{}\"\n", d.url()));
    let out = run(dir.path(), &["--semantic"]);
    assert!(out["semantic"].is_object());
    assert!(!d.received().is_empty());
    assert_no_secret(&d);
}

/// Records every call at the repository's HEAD, as the shim does, so its failures can be
/// exported as tasks.
fn at_head(r: &Path) {
    let head = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(r)
        .output()
        .unwrap();
    let head = String::from_utf8(head.stdout).unwrap().trim().to_string();
    let path = r.join(".codex/toolcalls.ndjson");
    let text: String = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(|l| {
            let mut rec: Record = serde_json::from_str(l).unwrap();
            rec.git_head = Some(head.clone());
            serde_json::to_string(&rec).unwrap() + "\n"
        })
        .collect();
    std::fs::write(path, text).unwrap();
}

/// `export-harbor` into `out`: (stderr, each task's `[metadata]`, sorted by cluster ID).
fn export_harbor(r: &Path, out: &Path, extra: &[&str]) -> (String, Vec<toml::Value>) {
    let o = analyzer_cmd(r, "export-harbor")
        .args(["--out", out.to_str().unwrap(), "--top", "5"])
        .args(extra)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(
        o.status.success(),
        "{}\n{stderr}",
        String::from_utf8_lossy(&o.stdout)
    );
    let mut tasks: Vec<toml::Value> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path().join("task.toml"))
        .filter(|p| p.is_file())
        .map(|p| toml::from_str::<toml::Value>(&std::fs::read_to_string(p).unwrap()).unwrap())
        .map(|t| t["metadata"].clone())
        .collect();
    tasks.sort_by_key(|m| m["cluster_id"].as_str().unwrap().to_string());
    (stderr, tasks)
}

fn cargo_tasks(tasks: &[toml::Value]) -> Vec<&toml::Value> {
    tasks
        .iter()
        .filter(|m| m["command_template"].as_str() == Some("cargo build"))
        .collect()
}

fn cache_keys(r: &Path) -> std::collections::BTreeSet<String> {
    let doc: Value =
        serde_json::from_slice(&std::fs::read(r.join(".codex/semantic-cache.json")).unwrap())
            .unwrap();
    doc["entries"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

/// export-harbor merges as the run does: one task for the two wordings, under the run's
/// merged ID and naming both members, from the vectors the run cached (nothing sent); a new
/// failure is embedded and added to the cache without evicting the run's results; a
/// member's ID finds the merged task; with the layer off, one task per wording.
#[test]
fn export_harbor_writes_one_task_per_merged_failure_under_the_runs_id() {
    let d = OpenAiDouble::start();
    let dir = repo("enabled = false");
    let r = dir.path();
    at_head(r);
    let ids = cargo_ids(&run(r, &[]));
    let mut members = ids.clone();
    members.sort();

    // Off: the deterministic clusters, one task each, nothing sent.
    let off = tempfile::tempdir().unwrap();
    let (_, tasks) = export_harbor(r, off.path(), &[]);
    assert_eq!(cargo_tasks(&tasks).len(), 2, "{tasks:#?}");
    assert!(d.received().is_empty());

    set_config(r, &enabled(&d, ""));
    let out = run(r, &["--apply"]);
    assert_eq!(out["semantic"]["merges"][0]["id"], ids[0].as_str());
    let sent = d.received().len();
    let cached = cache_keys(r);

    let on = tempfile::tempdir().unwrap();
    let (stderr, tasks) = export_harbor(r, on.path(), &[]);
    assert_eq!(d.received().len(), sent, "the run's vectors answered");
    assert!(
        stderr.contains(&format!("merged 2 near-duplicate clusters into {}", ids[0])),
        "{stderr}"
    );
    let cargo = cargo_tasks(&tasks);
    assert_eq!(cargo.len(), 1, "{tasks:#?}");
    assert_eq!(cargo[0]["cluster_id"].as_str(), Some(ids[0].as_str()));
    let merged_from: Vec<&str> = cargo[0]["merged_from"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(merged_from, members);
    assert_eq!(cargo[0]["occurrences"].as_integer(), Some(4));
    assert_eq!(cargo[0]["sessions"].as_integer(), Some(2));
    assert_eq!(
        tasks.len(),
        2,
        "merged cargo and npm lint (the deploy held a secret): {tasks:#?}"
    );
    assert_eq!(cache_keys(r), cached, "nothing new, nothing rewritten");

    // A failure the run has not seen: one vector asked for, added beside the run's results.
    let mut log = std::fs::read_to_string(r.join(".codex/toolcalls.ndjson")).unwrap();
    let mut v = Vec::new();
    for (i, h) in [2.0, 1.9].into_iter().enumerate() {
        call(
            &mut v,
            before(h),
            "s4",
            &format!("s4-pytest-{i}"),
            "pytest -q tests/test_api.py",
            Status::Failed,
            1,
            Some("test_failure"),
            "FAILED tests/test_api.py::test_login - AssertionError\n",
        );
    }
    log.extend(v.iter().map(|r| serde_json::to_string(r).unwrap() + "\n"));
    std::fs::write(r.join(".codex/toolcalls.ndjson"), log).unwrap();
    at_head(r);
    let again = tempfile::tempdir().unwrap();
    let (_, tasks) = export_harbor(r, again.path(), &[]);
    let new: Vec<Value> = d.received()[sent..]
        .iter()
        .map(|q| {
            assert!(q.path.ends_with("/embeddings"), "{}", q.path);
            serde_json::from_str(&q.body).unwrap()
        })
        .collect();
    assert_eq!(new.len(), 1, "one request for the new cluster");
    assert_eq!(new[0]["input"].as_array().unwrap().len(), 1, "{:#}", new[0]);
    let after = cache_keys(r);
    assert!(after.is_superset(&cached), "the run's results are kept");
    assert_eq!(after.len(), cached.len() + 1);
    assert_eq!(cargo_tasks(&tasks).len(), 1);
    assert_eq!(tasks.len(), 3, "{tasks:#?}");

    // A member's ID (a fingerprint from a run without the layer) finds the merged task.
    let one = tempfile::tempdir().unwrap();
    let (_, tasks) = export_harbor(r, one.path(), &["--fingerprint", &ids[1]]);
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0]["cluster_id"].as_str(), Some(ids[0].as_str()));
    assert_eq!(tasks[0]["fingerprint"].as_str(), Some(ids[1].as_str()));
    assert_no_secret(&d);
}
