//! `codex-analyzer export-otlp` against a local receiver that decodes every request with the
//! official OpenTelemetry protobuf definitions (Python `opentelemetry-proto`): every span
//! field, the trace/turn/call nesting, a planted secret that never leaves, 429/500 answers
//! that lose and duplicate nothing, and a resume cursor that sends nothing twice.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::Command;

use e2e::bins::analyzer;
use e2e::stores::otlp_receiver;
use serde_json::Value;

const SECRET: &str = "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB";

fn line(v: Value) -> String {
    v.to_string()
}

/// Session s1: turn 1 has a failing curl (with a planted token) and a successful patch; turn
/// 2 has a call only announced so far. One call without a session.
fn first_half() -> Vec<String> {
    vec![
        line(
            serde_json::json!({"v":1,"ts":"2026-03-01T10:00:00.000Z","source":"codex-hook","phase":"session","session_id":"s1","event":"user_prompt","prompt_len":10}),
        ),
        line(
            serde_json::json!({"v":1,"ts":"2026-03-01T10:00:01.000Z","source":"codex-hook","phase":"pre","session_id":"s1","turn_id":"1","call_id":"c1","tool":"Bash","input":format!("curl -H 'Authorization: token {SECRET}' https://api.github.com"),"cwd":"/work/demo"}),
        ),
        line(
            serde_json::json!({"v":1,"ts":"2026-03-01T10:00:01.100Z","source":"rollout","phase":"outcome","session_id":"s1","call_id":"c1","exit_code":6,"status":"failed","duration_ms":2500,"output":{"text":format!("curl: (6) Could not resolve host; token was {SECRET}"),"len":80},"git_head":"9f1c2d"}),
        ),
        line(
            serde_json::json!({"v":1,"ts":"2026-03-01T10:00:05.000Z","source":"codex-hook","phase":"pre","session_id":"s1","turn_id":"1","call_id":"c2","tool":"apply_patch","input":"*** Begin Patch"}),
        ),
        line(
            serde_json::json!({"v":1,"ts":"2026-03-01T10:00:05.300Z","source":"exec-json","phase":"outcome","session_id":"s1","call_id":"c2","status":"ok","duration_ms":300}),
        ),
        line(
            serde_json::json!({"v":1,"ts":"2026-03-01T10:01:00.000Z","source":"codex-hook","phase":"pre","session_id":"s1","turn_id":"2","call_id":"c3","tool":"Bash","input":"cargo test"}),
        ),
        line(
            serde_json::json!({"v":1,"ts":"2026-03-01T10:02:00.000Z","source":"exec","phase":"outcome","call_id":"exec-1","tool":"exec","input":"make lint","exit_code":0,"status":"ok","duration_ms":900}),
        ),
    ]
}

fn second_half() -> Vec<String> {
    vec![
        line(
            serde_json::json!({"v":1,"ts":"2026-03-01T10:01:09.000Z","source":"rollout","phase":"outcome","session_id":"s1","call_id":"c3","exit_code":101,"status":"failed","duration_ms":9000,"output":{"text":"test result: FAILED. 3 passed; 1 failed","len":40}}),
        ),
        line(
            serde_json::json!({"v":1,"ts":"2026-03-01T10:03:00.000Z","source":"codex-hook","phase":"pre","session_id":"s2","turn_id":"1","call_id":"c1","tool":"Read","input":"{\"path\":\"src/lib.rs\"}"}),
        ),
        line(
            serde_json::json!({"v":1,"ts":"2026-03-01T10:03:00.050Z","source":"codex-hook","phase":"post","session_id":"s2","call_id":"c1","status":"ok"}),
        ),
    ]
}

fn append(path: &Path, lines: &[String]) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    for l in lines {
        writeln!(f, "{l}").unwrap();
    }
}

fn export(repo: &Path, url: &str, extra: &[&str]) -> std::process::Output {
    Command::new(analyzer())
        .arg("export-otlp")
        .arg("--repo")
        .arg(repo)
        .args(["--endpoint", url, "--backoff-ms", "20"])
        .args(extra)
        .env_remove("OTEL_EXPORTER_OTLP_HEADERS")
        .env_remove("GITHUB_REPOSITORY")
        .output()
        .unwrap()
}

fn ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "export-otlp failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn accepted_spans(requests: &[Value]) -> Vec<Value> {
    requests
        .iter()
        .filter(|r| r["status"] == 200)
        .flat_map(|r| r["spans"].as_array().unwrap().clone())
        .collect()
}

fn calls_by_id(spans: &[Value]) -> BTreeMap<String, Value> {
    let mut m = BTreeMap::new();
    for s in spans
        .iter()
        .filter(|s| s["attributes"]["gen_ai.tool.call.id"].is_string())
    {
        let key = format!(
            "{}/{}",
            s["attributes"]["gen_ai.conversation.id"]
                .as_str()
                .unwrap_or("-"),
            s["attributes"]["gen_ai.tool.call.id"].as_str().unwrap()
        );
        assert!(
            m.insert(key.clone(), s.clone()).is_none(),
            "{key} sent twice"
        );
    }
    m
}

#[test]
fn spans_arrive_decoded_complete_once_and_without_secrets() {
    let repo = tempfile::tempdir().unwrap();
    let log = repo.path().join(".codex/toolcalls.ndjson");
    std::fs::create_dir_all(log.parent().unwrap()).unwrap();
    append(&log, &first_half());

    // The collector is busy twice, then accepts.
    let rx = otlp_receiver(&[429, 500]);
    let out = ok(&export(repo.path(), &rx.url(), &[]));
    assert!(out.contains("3 calls sent"), "{out}");
    let reqs = rx.requests();
    let statuses: Vec<i64> = reqs.iter().map(|r| r["status"].as_i64().unwrap()).collect();
    assert_eq!(statuses, vec![429, 500, 200], "retried until accepted");
    assert!(reqs.iter().all(|r| r["path"] == "/v1/traces"
        && r["content_type"] == "application/x-protobuf"
        && r.get("error").is_none()));
    // The retries sent the same request.
    assert_eq!(reqs[0]["raw_b64"], reqs[2]["raw_b64"]);

    let spans = accepted_spans(&reqs);
    let calls = calls_by_id(&spans);
    assert_eq!(
        calls.keys().cloned().collect::<Vec<_>>(),
        vec!["-/exec-1", "s1/c1", "s1/c2"],
        "c3 has no outcome yet: carried, not sent"
    );

    // Every field of the failing call.
    let c1 = &calls["s1/c1"];
    assert_eq!(c1["name"], "execute_tool Bash");
    assert_eq!(c1["kind"], 1, "SPAN_KIND_INTERNAL");
    assert_eq!(c1["start"], 1_772_359_201_000_000_000u64);
    assert_eq!(
        c1["end"], 1_772_359_203_500_000_000u64,
        "start + duration_ms"
    );
    assert_eq!(c1["status"]["code"], 2, "STATUS_CODE_ERROR");
    assert_eq!(c1["status"]["message"], "network_error");
    assert_eq!(c1["resource"]["service.name"], "codex");
    assert_eq!(
        c1["resource"]["vcs.repository.name"],
        repo.path().file_name().unwrap().to_str().unwrap()
    );
    assert_eq!(c1["scope"]["name"], "codex-closed-loop");
    let a = &c1["attributes"];
    assert_eq!(a["gen_ai.operation.name"], "execute_tool");
    assert_eq!(a["gen_ai.tool.name"], "Bash");
    assert_eq!(a["gen_ai.tool.call.id"], "c1");
    assert_eq!(a["gen_ai.conversation.id"], "s1");
    assert_eq!(a["process.exit.code"], 6);
    assert_eq!(a["error.type"], "network_error");
    assert_eq!(a["codex.call.status"], "failed");
    assert_eq!(a["codex.call.turn_id"], "1");
    assert_eq!(a["codex.call.duration_ms"], 2500);
    assert_eq!(a["codex.call.cwd"], "/work/demo");
    assert_eq!(a["codex.call.git_head"], "9f1c2d");
    assert_eq!(a["codex.call.sources"], "codex-hook,rollout");
    assert_eq!(a["codex.call.records"], 2);
    assert_eq!(a["codex.call.output_len"], 80);
    let cmd = a["process.command_line"].as_str().unwrap();
    assert!(
        cmd.starts_with("curl -H 'Authorization: token [REDACTED:"),
        "{cmd}"
    );
    assert_eq!(a["codex.call.input"].as_str().unwrap(), cmd);
    assert!(a["codex.call.output"]
        .as_str()
        .unwrap()
        .contains("[REDACTED:"));
    // The patch is not a command line; the successful call has an OK status.
    let c2 = &calls["s1/c2"];
    assert!(c2["attributes"].get("process.command_line").is_none());
    assert_eq!(c2["status"]["code"], 1, "STATUS_CODE_OK");
    assert_eq!(
        c2["attributes"]["codex.call.sources"],
        "codex-hook,exec-json"
    );

    // Nesting: one trace per session; call -> turn -> session.
    let by_span: BTreeMap<&str, &Value> = spans
        .iter()
        .map(|s| (s["span_id"].as_str().unwrap(), s))
        .collect();
    let turn = by_span[c1["parent_span_id"].as_str().unwrap()];
    assert_eq!(turn["name"], "turn 1");
    assert_eq!(turn["attributes"]["codex.calls"], 2);
    assert_eq!(turn["attributes"]["codex.failures"], 1);
    assert_eq!(c2["parent_span_id"], c1["parent_span_id"]);
    let session = by_span[turn["parent_span_id"].as_str().unwrap()];
    assert_eq!(session["name"], "invoke_agent codex");
    assert_eq!(session["parent_span_id"], "");
    assert_eq!(session["start"], c1["start"]);
    for s in [c1, c2, turn, session] {
        assert_eq!(s["trace_id"], c1["trace_id"]);
        assert_eq!(s["trace_id"].as_str().unwrap().len(), 32);
    }
    assert_ne!(calls["-/exec-1"]["trace_id"], c1["trace_id"]);
    assert_eq!(
        calls["-/exec-1"]["attributes"]["process.command_line"],
        "make lint"
    );

    // Nothing new: nothing sent.
    let before = rx.requests().len();
    let out = ok(&export(repo.path(), &rx.url(), &[]));
    assert!(out.contains("0 records read"), "{out}");
    assert_eq!(rx.requests().len(), before);

    // c3's outcome and a new session arrive; only they go out, c3 in the same trace.
    append(&log, &second_half());
    let out = ok(&export(repo.path(), &rx.url(), &[]));
    assert!(out.contains("2 calls sent"), "{out}");
    let all = accepted_spans(&rx.requests());
    let calls = calls_by_id(&all);
    assert_eq!(
        calls.keys().cloned().collect::<Vec<_>>(),
        vec!["-/exec-1", "s1/c1", "s1/c2", "s1/c3", "s2/c1"]
    );
    assert_eq!(calls["s1/c3"]["trace_id"], calls["s1/c1"]["trace_id"]);
    assert_eq!(calls["s1/c3"]["attributes"]["error.type"], "test_failure");
    // Span IDs are unique across runs (segments of a session in two batches differ too).
    let mut ids: Vec<&str> = all.iter().map(|s| s["span_id"].as_str().unwrap()).collect();
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n, "a span ID was sent twice");

    // The planted secret is in the log, but in no request's bytes.
    assert!(std::fs::read_to_string(&log).unwrap().contains(SECRET));
    for r in rx.requests() {
        let raw = base64_decode(r["raw_b64"].as_str().unwrap());
        assert!(
            !contains(&raw, SECRET.as_bytes()),
            "the secret left in a request"
        );
        assert!(!contains(&raw, b"0123456789abcdefghij"));
    }
}

#[test]
fn a_collector_down_past_the_retries_loses_and_duplicates_nothing() {
    let repo = tempfile::tempdir().unwrap();
    let log = repo.path().join(".codex/toolcalls.ndjson");
    std::fs::create_dir_all(log.parent().unwrap()).unwrap();
    append(&log, &first_half());
    append(&log, &second_half());
    // Batches of 3 records: several requests. The third request fails past 1 retry.
    let rx = otlp_receiver(&[200, 200, 503, 503]);
    let out = export(
        repo.path(),
        &rx.url(),
        &["--batch", "3", "--max-retries", "1"],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("after 1 retries") && err.contains("resumes"),
        "{err}"
    );
    let sent_before = calls_by_id(&accepted_spans(&rx.requests())).len();
    assert!(sent_before > 0);
    // The collector is back: the rest goes, once.
    ok(&export(repo.path(), &rx.url(), &["--batch", "3"]));
    let calls = calls_by_id(&accepted_spans(&rx.requests()));
    assert_eq!(
        calls.keys().cloned().collect::<Vec<_>>(),
        vec!["-/exec-1", "s1/c1", "s1/c2", "s1/c3", "s2/c1"]
    );
    // A rotated log starts over (and says so).
    std::fs::write(&log, format!("{}\n", second_half().join("\n"))).unwrap();
    let out = ok(&export(repo.path(), &rx.url(), &[]));
    assert!(out.contains("started from the beginning"), "{out}");
}

#[test]
fn a_log_longer_than_the_read_buffer_is_sent_once() {
    // Several chunks of a log far bigger than the reader's 64 KiB buffer: a regression test
    // for a reader that shared its file offset with the cursor's head hash.
    let repo = tempfile::tempdir().unwrap();
    let log = repo.path().join(".codex/toolcalls.ndjson");
    std::fs::create_dir_all(log.parent().unwrap()).unwrap();
    let lines: Vec<String> = (0..3000)
        .map(|i| line(serde_json::json!({"v":1,"ts":format!("2026-03-01T10:{:02}:{:02}.000Z", i / 60 % 60, i % 60),"source":"exec","phase":"outcome","session_id":format!("s{}", i / 100),"call_id":format!("c{i}"),"tool":"exec","input":format!("make target-{i} {}", "x".repeat(200)),"exit_code":0,"status":"ok","duration_ms":5})))
        .collect();
    append(&log, &lines);
    assert!(std::fs::metadata(&log).unwrap().len() > 4 * 65536);
    let rx = otlp_receiver(&[]);
    let out = ok(&export(repo.path(), &rx.url(), &["--batch", "700"]));
    assert!(out.contains("3000 records read, 3000 calls sent"), "{out}");
    assert_eq!(calls_by_id(&accepted_spans(&rx.requests())).len(), 3000);
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn base64_decode(s: &str) -> Vec<u8> {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let mut buf = 0u32;
    let mut bits = 0;
    for c in s.bytes().filter(|&c| c != b'=') {
        buf = (buf << 6) | T.iter().position(|&t| t == c).unwrap() as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
            buf &= (1 << bits) - 1;
        }
    }
    out
}
