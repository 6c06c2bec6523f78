//! `push-chroma` and `similar` against a real Chroma server (`chroma run` from PyPI,
//! started on 127.0.0.1 and stopped by the test): clusters land with their metadata, a
//! second push changes nothing, another repository's same friction is kept apart, and the
//! nearest cluster to an error text is the right one. With `embeddings = "model"` the vectors
//! come from the `[semantic]` embedding model (the OpenAI double).

use std::path::Path;
use std::process::Command;

use e2e::bins::analyzer;
use e2e::openai_double::{self, OpenAiDouble};
use e2e::stores::chroma;
use serde_json::json;

fn failing(session: &str, call: &str, ts: &str, input: &str, exit: i32, out: &str) -> String {
    [
        json!({"v":1,"ts":ts,"source":"codex-hook","phase":"pre","session_id":session,"call_id":call,"tool":"Bash","input":input}),
        json!({"v":1,"ts":ts,"source":"rollout","phase":"outcome","session_id":session,"call_id":call,"exit_code":exit,"status":"failed","output":{"text":out,"len":out.len()}}),
    ]
    .iter()
    .map(|v| format!("{v}\n"))
    .collect()
}

fn repo_with_log(name: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join(name);
    std::fs::create_dir_all(repo.join(".codex")).unwrap();
    let mut log = String::new();
    for (i, s) in ["s1", "s2", "s3"].iter().enumerate() {
        log += &failing(
            s,
            "c1",
            &format!("2026-03-01T1{i}:00:00.000Z"),
            "cargo nextest run",
            127,
            "bash: cargo-nextest: command not found",
        );
        log += &failing(
            s,
            "c2",
            &format!("2026-03-01T1{i}:00:05.000Z"),
            "curl https://example.com",
            6,
            "curl: (6) Could not resolve host: example.com",
        );
    }
    log += &failing(
        "s3",
        "c3",
        "2026-03-01T12:10:00.000Z",
        "cargo build",
        101,
        "error[E0425]: cannot find value `x` in this scope",
    );
    std::fs::write(repo.join(".codex/toolcalls.ndjson"), log).unwrap();
    (dir, repo)
}

fn analyzer_at(args: &[&str], repo: &Path, url: &str) -> std::process::Output {
    Command::new(analyzer())
        .args(args)
        .arg("--repo")
        .arg(repo)
        .args(["--chroma", url])
        .env_remove("GITHUB_REPOSITORY")
        .env_remove("OPENAI_BASE_URL")
        .env("OPENAI_API_KEY", "sk-test-key-for-the-double")
        .output()
        .unwrap()
}

fn run(args: &[&str], repo: &Path, url: &str) -> String {
    let out = analyzer_at(args, repo, url);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn clusters_are_upserted_once_per_repository_and_found_by_text() {
    let server = chroma();
    let url = server.url();
    let (_a, alpha) = repo_with_log("alpha");
    let out = run(&["push-chroma"], &alpha, &url);
    assert_eq!(
        out,
        "3 friction clusters of alpha upserted; the collection holds 3 entries\n"
    );
    // Again: idempotent by cluster ID.
    let out = run(&["push-chroma"], &alpha, &url);
    assert!(out.ends_with("the collection holds 3 entries\n"), "{out}");
    // The same frictions in another repository are kept apart.
    let (_b, beta) = repo_with_log("beta");
    let out = run(&["push-chroma"], &beta, &url);
    assert!(out.ends_with("the collection holds 6 entries\n"), "{out}");

    let out = run(
        &["similar", "sh: cargo-nextest: command not found", "-n", "2"],
        &alpha,
        &url,
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    // The two nearest are the nextest cluster of both repositories, with their metadata.
    for l in [lines[0], lines[2]] {
        assert!(
            l.contains("(3x in 3 sessions, 2026-03-01T10:00:00.000Z .. 2026-03-01T12:00:00.000Z)"),
            "{out}"
        );
        assert!(l.contains(" cl2-"), "{out}");
    }
    assert!(
        lines[0].contains("  alpha  ") || lines[0].contains("  beta  "),
        "{out}"
    );
    assert!(lines[1].contains("command_not_found"), "{out}");
    let d: f64 = lines[0].split_whitespace().next().unwrap().parse().unwrap();
    assert!(d < 0.5, "{out}");

    let out = run(
        &["similar", "error: cannot find value in this scope"],
        &beta,
        &url,
    );
    assert!(
        out.lines().nth(1).unwrap().contains("compile_error"),
        "{out}"
    );

    // The metadata as Chroma holds it.
    let col: serde_json::Value = http_json(
        &format!("{url}/api/v2/tenants/default_tenant/databases/default_database/collections/codex-frictions"),
        None,
    );
    let id = col["id"].as_str().unwrap();
    let got = http_json(
        &format!(
            "{url}/api/v2/tenants/default_tenant/databases/default_database/collections/{id}/get"
        ),
        Some(json!({"where": {"repository": "alpha"}, "include": ["metadatas", "documents"]})),
    );
    let metas = got["metadatas"].as_array().unwrap();
    assert_eq!(metas.len(), 3);
    let nextest = metas
        .iter()
        .find(|m| m["error_type"] == "command_not_found")
        .unwrap();
    assert_eq!(nextest["count"], 3);
    assert_eq!(nextest["sessions"], 3);
    assert_eq!(nextest["tool"], "Bash");
    assert!(nextest["cluster_id"].as_str().unwrap().starts_with("cl2-"));
    let ids: Vec<&str> = got["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(ids.iter().all(|i| i.starts_with("alpha/cl2-")), "{ids:?}");
}

/// `embeddings = "model"`: the vectors are the `[semantic]` embedding model's, one request
/// per push and one per query; the collection records the model and refuses local vectors.
#[test]
fn model_embeddings_come_from_the_semantic_endpoint() {
    let server = chroma();
    let url = server.url();
    let model = OpenAiDouble::start();
    let (_a, alpha) = repo_with_log("alpha");
    std::fs::write(
        alpha.join(".codex/improvement.toml"),
        format!(
            "[semantic]\nbase_url = \"{}\"\nembedding_model = \"text-embedding-3-small\"\n\n\
             [chroma]\ncollection = \"model-frictions\"\nembeddings = \"model\"\n",
            model.url()
        ),
    )
    .unwrap();
    let out = run(&["push-chroma"], &alpha, &url);
    assert_eq!(
        out,
        "3 friction clusters of alpha upserted; the collection holds 3 entries\n"
    );
    let asked = model.embedding_requests();
    assert_eq!(asked.len(), 1, "{asked:#?}");
    assert_eq!(asked[0]["model"], "text-embedding-3-small");
    let inputs: Vec<&str> = asked[0]["input"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(inputs.len(), 3);

    // Chroma holds the model's vectors for exactly those documents.
    let base = format!("{url}/api/v2/tenants/default_tenant/databases/default_database");
    let col = http_json(&format!("{base}/collections/model-frictions"), None);
    assert_eq!(col["metadata"]["embedding"], "model:text-embedding-3-small");
    let got = http_json(
        &format!("{base}/collections/{}/get", col["id"].as_str().unwrap()),
        Some(json!({"include": ["documents", "embeddings"]})),
    );
    let docs = got["documents"].as_array().unwrap();
    assert_eq!(docs.len(), 3);
    for (doc, v) in docs.iter().zip(got["embeddings"].as_array().unwrap()) {
        let doc = doc.as_str().unwrap();
        assert!(inputs.contains(&doc), "{doc} was not sent to the model");
        let want = openai_double::embed(doc);
        let v: Vec<f64> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        assert_eq!(v.len(), want.len());
        assert!(
            v.iter()
                .zip(&want)
                .all(|(a, b)| (a - f64::from(*b)).abs() < 1e-5),
            "{doc}: stored vector is not the model's"
        );
    }

    // The query is embedded by the model too, and finds the nextest cluster.
    let out = run(
        &["similar", "cargo-nextest: command not found", "-n", "1"],
        &alpha,
        &url,
    );
    assert!(
        out.lines().nth(1).unwrap().contains("command_not_found"),
        "{out}"
    );
    assert_eq!(model.embedding_requests().len(), 2);

    // Local vectors cannot join a collection of the model's: a clear error, nothing written.
    let out = analyzer_at(&["push-chroma", "--embeddings", "local"], &alpha, &url);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("holds vectors of `model:text-embedding-3-small`, not `hashed-ngrams-384`"),
        "{err}"
    );
}

/// A plain HTTP/1.0 JSON request (GET without a body, POST with one).
fn http_json(url: &str, body: Option<serde_json::Value>) -> serde_json::Value {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut s = std::net::TcpStream::connect(host).unwrap();
    let req = match body {
        None => format!("GET /{path} HTTP/1.0\r\nHost: {host}\r\n\r\n"),
        Some(b) => {
            let b = b.to_string();
            format!(
                "POST /{path} HTTP/1.0\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{b}",
                b.len()
            )
        }
    };
    s.write_all(req.as_bytes()).unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let (head, body) = resp.split_once("\r\n\r\n").unwrap();
    assert!(head.contains(" 200 "), "{head}\n{body}");
    serde_json::from_str(body).unwrap()
}
