//! `codex-shim install`: merges into an existing hooks.json without touching other hooks,
//! writes the same bytes when run twice, uninstalls only its own entries, never clobbers a
//! file it cannot parse, and tells the user how to trust the hooks.

mod common;

use std::path::Path;

use common::*;
use serde_json::{json, Value};

fn install(args: &[&str], env: &[(&str, &str)]) -> (String, String, i32) {
    let mut all = vec!["install"];
    all.extend_from_slice(args);
    let out = run(&all, b"", env);
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

fn read_json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

#[test]
fn installs_all_events_and_explains_trust() {
    let repo = tempfile::tempdir().unwrap();
    let (out, err, code) = install(&["--repo", repo.path().to_str().unwrap()], &[]);
    assert_eq!(code, 0, "{err}");
    let hooks = read_json(&repo.path().join(".codex/hooks.json"));
    let events = hooks["hooks"].as_object().unwrap();
    assert_eq!(events.len(), 12);
    for (event, groups) in events {
        let group = &groups[0];
        assert_eq!(group["matcher"], "*");
        let h = &group["hooks"][0];
        assert_eq!(h["type"], "command");
        assert_eq!(h["command"], "codex-shim hook");
        let timeout = h["timeout"].as_u64().unwrap();
        assert!(timeout <= 5, "{event}");
        if event == "SessionEnd" || event == "Interrupt" {
            assert_eq!(timeout, 3);
        }
        assert_eq!(
            h.get("async") == Some(&json!(true)),
            event == "PostToolUse",
            "{event}"
        );
    }
    for must in [
        "/hooks",
        "--dangerously-bypass-hook-trust",
        "trust_level = \"trusted\"",
        "codex exec --trust",
    ] {
        assert!(out.contains(must), "missing {must:?} in:\n{out}");
    }
}

#[test]
fn merge_keeps_other_hooks_is_idempotent_and_uninstalls_cleanly() {
    let repo = tempfile::tempdir().unwrap();
    let path = repo.path().join(".codex/hooks.json");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let user = json!({
        "description": "team hooks",
        "hooks": {
            "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "sh .codex/guard.sh", "timeout": 10}]}],
            "Stop": [{"hooks": [{"type": "command", "command": "notify-send done"}]}]
        }
    });
    std::fs::write(&path, serde_json::to_string_pretty(&user).unwrap()).unwrap();
    let dir = repo.path().to_str().unwrap();
    let cmd = "/opt/tools/codex-shim hook";
    install(&["--repo", dir, "--command", cmd], &[]);
    let once = std::fs::read(&path).unwrap();
    let (_, err, code) = install(&["--repo", dir, "--command", cmd], &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        once,
        "installing twice changed the file"
    );
    let merged = read_json(&path);
    assert_eq!(merged["description"], "team hooks");
    assert_eq!(
        merged["hooks"]["PreToolUse"][0],
        user["hooks"]["PreToolUse"][0]
    );
    assert_eq!(merged["hooks"]["PreToolUse"][1]["hooks"][0]["command"], cmd);
    assert_eq!(merged["hooks"]["Stop"][0], user["hooks"]["Stop"][0]);
    // A new command replaces ours instead of adding a second copy.
    install(&["--repo", dir], &[]);
    let replaced = read_json(&path);
    assert_eq!(replaced["hooks"]["PreToolUse"].as_array().unwrap().len(), 2);
    assert_eq!(
        replaced["hooks"]["PreToolUse"][1]["hooks"][0]["command"],
        "codex-shim hook"
    );
    let (out, _, code) = install(&["--repo", dir, "--uninstall"], &[]);
    assert_eq!(code, 0);
    assert!(out.contains("Removed"), "{out}");
    assert_eq!(read_json(&path), user);
}

#[test]
fn invalid_json_is_never_clobbered() {
    let repo = tempfile::tempdir().unwrap();
    let path = repo.path().join(".codex/hooks.json");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let broken = b"{\"hooks\": {\"Stop\": [ }\n";
    std::fs::write(&path, broken).unwrap();
    let (out, err, code) = install(&["--repo", repo.path().to_str().unwrap()], &[]);
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert!(
        err.contains("is not valid JSON") && err.contains("nothing was changed"),
        "{err}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), broken);
    // Valid JSON of the wrong shape is refused too.
    std::fs::write(&path, b"{\"hooks\": [1]}").unwrap();
    let (_, err, code) = install(&["--repo", repo.path().to_str().unwrap()], &[]);
    assert_eq!(code, 1);
    assert!(
        err.contains("does not look like a Codex hooks file"),
        "{err}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), b"{\"hooks\": [1]}");
}

#[test]
fn user_install_goes_to_codex_home() {
    let home = tempfile::tempdir().unwrap();
    let (out, err, code) = install(
        &["--user"],
        &[("CODEX_HOME", home.path().to_str().unwrap())],
    );
    assert_eq!(code, 0, "{err}");
    assert!(home.path().join("hooks.json").is_file());
    assert!(
        !out.contains("trust_level"),
        "user hooks need no project trust: {out}"
    );
}

#[test]
fn commands_that_are_not_the_shim_are_refused() {
    let repo = tempfile::tempdir().unwrap();
    let (_, err, code) = install(
        &[
            "--repo",
            repo.path().to_str().unwrap(),
            "--command",
            "python3 hook.py",
        ],
        &[],
    );
    assert_eq!(code, 1);
    assert!(err.contains("must run `codex-shim hook`"), "{err}");
    assert!(!repo.path().join(".codex").exists());
}

#[test]
fn the_repository_dogfood_hooks_file_is_what_install_writes() {
    // `.codex/hooks.json` of this repository is the output of `codex-shim install` (default
    // command); reinstalling over it must not change a byte.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let committed = std::fs::read(root.join(".codex/hooks.json")).unwrap();
    let scratch = tempfile::tempdir().unwrap();
    std::fs::create_dir(scratch.path().join(".codex")).unwrap();
    std::fs::write(scratch.path().join(".codex/hooks.json"), &committed).unwrap();
    let (_, err, code) = install(&["--repo", scratch.path().to_str().unwrap()], &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        std::fs::read(scratch.path().join(".codex/hooks.json")).unwrap(),
        committed
    );
}
