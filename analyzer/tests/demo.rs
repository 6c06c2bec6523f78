//! `codex-analyzer demo`, driven as a user runs it: the real binary, a real git repository,
//! the shim's real rollout reader. The numbers are checked against the generator's ground
//! truth (`ground-truth.json`, counted on the plan) by running the analyzer binary again on
//! the workspace the demo left, not against a snapshot of the demo's output.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use codex_analyzer::harbor;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_codex-analyzer");
const NOW: &str = "2026-12-03T13:10:00Z";

fn demo(out: &Path, args: &[&str]) -> Output {
    let o = Command::new(BIN)
        .arg("demo")
        .arg("--out")
        .arg(out)
        .args(args)
        .env_remove("CODEX_TOOLCALLS_LOG")
        .env_remove("GITHUB_TOKEN")
        .env_remove("GITHUB_REPOSITORY")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "demo failed: {}\n{}",
        String::from_utf8_lossy(&o.stderr),
        String::from_utf8_lossy(&o.stdout)
    );
    o
}

fn json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// `codex-analyzer run` on the demo's repository at `now`, as JSON (a forced dry run: the
/// demo already applied these run IDs).
fn analyze(root: &Path, now: &str) -> Value {
    let o = Command::new(BIN)
        .args(["run", "--format", "json", "--force", "--now", now, "--repo"])
        .arg(root.join("repo"))
        .env_remove("CODEX_TOOLCALLS_LOG")
        .env_remove("GITHUB_TOKEN")
        .env_remove("GITHUB_REPOSITORY")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// Every planted count equals what the analyzer found.
fn assert_signals_match(found: &Value, planted: &Value, what: &str) {
    for key in ["sessions", "turns", "calls", "failures", "prompts"] {
        assert_eq!(found[key], planted[key], "{what}: {key}");
    }
    let friction = planted["friction"].as_object().unwrap();
    assert_eq!(friction.len(), 12, "{what}: every friction row is planted");
    for (k, v) in friction {
        assert_eq!(&found["friction"][k], v, "{what}: friction.{k}");
    }
    for (k, v) in planted["delight"].as_object().unwrap() {
        assert_eq!(&found["delight"][k], v, "{what}: delight.{k}");
    }
}

fn fixed_cluster<'a>(run: &'a Value, command: &str) -> Option<&'a Value> {
    run["clusters"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["last_command"] == command)
}

#[test]
fn stages_match_the_planted_ground_truth_and_the_fix_is_measured() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("ws");
    let o = demo(&root, &["--sessions", "50", "--now", NOW]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    let truth = json(&root.join("ground-truth.json"));
    assert_eq!(truth["sessions"], 50);
    let (before, after) = (&truth["before"], &truth["after"]);
    assert_eq!(before["sessions"], 25);
    assert_eq!(after["sessions"], 25);

    // The mix really is mixed: every kind of friction the brief names was planted.
    let sum =
        |k: &str| before["friction"][k].as_u64().unwrap() + after["friction"][k].as_u64().unwrap();
    for k in [
        "command_failures",
        "denials",
        "hook_blocks",
        "patch_failures",
        "truncations",
        "negative_feedback",
    ] {
        assert!(sum(k) > 0, "no {k} planted in 50 sessions");
    }
    assert!(before["delight"]["positive_feedback"].as_u64().unwrap() > 0);

    // The analyzer, run again on the workspace, finds exactly what was planted.
    let run1 = analyze(&root, truth["run_before"].as_str().unwrap());
    let run2 = analyze(&root, truth["run_after"].as_str().unwrap());
    assert_signals_match(&run1["sessions"], before, "before the fix");
    assert_signals_match(&run2["sessions"], after, "after the fix");

    // CI logs and git are inputs of the same runs.
    let ci = &run2["inputs"]["ci_logs"];
    assert_eq!(ci["files"], truth["ci_logs"]["files"]);
    assert_eq!(ci["clean_files"], truth["ci_logs"]["clean"]);
    assert_eq!(run2["inputs"]["git"]["head"], truth["history"]["fix"]);

    // The fixed friction: its cluster counts what was planted, and it went down.
    let fixed = truth["fixed_command"].as_str().unwrap();
    let c1 = fixed_cluster(&run1, fixed).expect("the fixed friction is a cluster before the fix");
    assert_eq!(c1["count"], before["fixed_friction"]);
    assert_eq!(c1["sessions"], before["fixed_friction_sessions"]);
    assert_eq!(
        c1["working_alternative"]["command"],
        truth["working_alternative"]
    );
    let after_count = fixed_cluster(&run2, fixed).map_or(0, |c| c["count"].as_u64().unwrap());
    assert_eq!(after_count, after["fixed_friction"].as_u64().unwrap());
    assert!(
        after_count < c1["count"].as_u64().unwrap(),
        "the fix did not reduce {fixed}: {after_count} vs {}",
        c1["count"]
    );

    // The demo reports the same numbers it was checked against.
    let summary = json(&root.join("demo-summary.json"));
    for (k, v) in before.as_object().unwrap() {
        assert_eq!(&summary["found_before"][k], v, "summary before: {k}");
    }
    for (k, v) in after.as_object().unwrap() {
        assert_eq!(&summary["found_after"][k], v, "summary after: {k}");
    }
    assert_eq!(
        summary["fixed_cluster"]["before_count"],
        before["fixed_friction"]
    );
    assert_eq!(
        summary["fixed_cluster"]["after_count"],
        after["fixed_friction"]
    );
    assert!(stdout.contains("✓") && !stdout.contains("✗"), "{stdout}");
    for stage in 1..=7 {
        assert!(
            stdout.contains(&format!("[{stage}/7]")),
            "stage {stage} missing"
        );
    }
    assert!(stdout.contains(&root.join("report.html").display().to_string()));
    assert!(stdout.contains(&format!("fixed friction `{fixed}`")));

    // The guidance was committed as the fix, and the applied runs wrote their files.
    let agents = std::fs::read_to_string(root.join("repo/AGENTS.md")).unwrap();
    assert!(agents.contains("<!-- codex-improvement:begin -->"));
    assert!(
        agents.contains(fixed) && agents.contains("make check"),
        "{agents}"
    );
    assert!(root.join("repo/.codex/improvement-log.md").is_file());
    let report = std::fs::read_to_string(root.join("report.html")).unwrap();
    assert!(report.contains("<svg"), "the report has charts");

    // Harbor tasks: valid against Harbor's schema, and the fixed friction's verifier
    // reproduces the failure (reward 0) on the snapshot.
    let tasks: Vec<PathBuf> = summary["harbor_tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| root.join(t.as_str().unwrap()))
        .collect();
    assert!(!tasks.is_empty());
    let schema: Value = serde_json::from_str(harbor::TASK_SCHEMA).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let mut reproduced = false;
    for task in &tasks {
        let text = std::fs::read_to_string(task.join("task.toml")).unwrap();
        let doc: Value = toml::from_str(&text).unwrap();
        let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{}: {errors:?}", task.display());
        assert!(task.join("instruction.md").is_file());
        if doc["metadata"]["cluster_id"] == c1["id"] {
            let app = tmp.path().join("app");
            let copied = Command::new("cp")
                .arg("-a")
                .arg(task.join("environment/repo"))
                .arg(&app)
                .status()
                .unwrap();
            assert!(copied.success());
            let reward = tmp.path().join("reward");
            let ran = Command::new("bash")
                .arg(task.join("tests/test.sh"))
                .current_dir(&app)
                .env("REWARD_DIR", &reward)
                .output()
                .unwrap();
            assert!(
                ran.status.success(),
                "{}",
                String::from_utf8_lossy(&ran.stderr)
            );
            let r = std::fs::read_to_string(reward.join("reward.txt")).unwrap();
            assert_eq!(r.trim(), "0", "the verifier reproduces the friction");
            reproduced = true;
        }
    }
    assert!(reproduced, "the fixed friction was exported as a task");
}

/// Reads every file under `root` (but `.git`), with the root path masked.
fn tree(root: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    let mask = root.display().to_string();
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            let name = p.strip_prefix(root).unwrap().display().to_string();
            if p.is_dir() {
                if !name.ends_with(".git") {
                    stack.push(p);
                }
            } else if !name.ends_with(".rollout-offsets.json") {
                // (The offsets store notes when the importer last wrote each entry.)
                let text =
                    String::from_utf8_lossy(&std::fs::read(&p).unwrap()).replace(&mask, "ROOT");
                out.push((name, text));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn same_seed_same_workspace_other_seed_other_numbers() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        tmp.path().join("a"),
        tmp.path().join("b"),
        tmp.path().join("c"),
    );
    demo(&a, &["--sessions", "16", "--seed", "7", "--now", NOW]);
    demo(&b, &["--sessions", "16", "--seed", "7", "--now", NOW]);
    let (ta, tb) = (tree(&a), tree(&b));
    assert!(ta.len() > 30, "{} files", ta.len());
    assert_eq!(
        ta.iter().map(|(n, _)| n).collect::<Vec<_>>(),
        tb.iter().map(|(n, _)| n).collect::<Vec<_>>()
    );
    for ((name, x), (_, y)) in ta.iter().zip(&tb) {
        assert!(x == y, "{name} differs between two runs with the same seed");
    }

    demo(&c, &["--sessions", "16", "--seed", "8", "--now", NOW]);
    let (ga, gc) = (
        json(&a.join("ground-truth.json")),
        json(&c.join("ground-truth.json")),
    );
    assert_ne!(ga["before"], gc["before"], "another seed, other sessions");
    assert_ne!(
        std::fs::read(a.join("repo/.codex/toolcalls.ndjson")).unwrap(),
        std::fs::read(c.join("repo/.codex/toolcalls.ndjson")).unwrap()
    );

    // A rerun into a demo's folder replaces it; a foreign non-empty folder is refused.
    demo(&c, &["--sessions", "4", "--seed", "8", "--now", NOW]);
    assert_eq!(json(&c.join("ground-truth.json"))["sessions"], 4);
    let foreign = tmp.path().join("mine");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(foreign.join("notes.txt"), "keep me").unwrap();
    let o = Command::new(BIN)
        .args(["demo", "--sessions", "4", "--out"])
        .arg(&foreign)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not empty"));
    assert_eq!(
        std::fs::read_to_string(foreign.join("notes.txt")).unwrap(),
        "keep me"
    );
}

#[test]
fn interactive_waits_for_enter_between_stages() {
    use std::io::Write;
    let tmp = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args([
            "demo",
            "--interactive",
            "--sessions",
            "4",
            "--now",
            NOW,
            "--out",
        ])
        .arg(tmp.path().join("ws"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"\n\n\n\n\n\n")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success());
    let s = String::from_utf8_lossy(&o.stdout);
    assert_eq!(s.matches("[press Enter for stage").count(), 6, "{s}");
    assert!(s.contains("[7/7]"));
}
