//! Every subcommand's `--help`, read as a newcomer would: it exists, teaches each flag's
//! default or an example, uses one style for defaults, and points at nothing an installed
//! binary's user does not have. And the same bad input gets the same message and exit code
//! in every analyzer subcommand (2 = usage error, 1 = runtime error).

use std::path::Path;
use std::process::{Command, Output};

use e2e::bins::{analyzer, git_repo, shim};

fn run(bin: &Path, args: &[&str]) -> Output {
    Command::new(bin).args(args).output().unwrap()
}

/// The subcommands a `--help` lists under `Commands:` (without `help`).
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        // Wrapped descriptions are indented further than the command names.
        .filter(|l| !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_string)
        .collect()
}

/// Each option's help entry: its first line (`--flag <VALUE>`) and its description.
fn options(help: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut in_options = false;
    for l in help.lines() {
        if l.starts_with("Options:") {
            in_options = true;
            continue;
        }
        if !in_options {
            continue;
        }
        if !l.starts_with(' ') {
            if l.is_empty() {
                continue;
            }
            break;
        }
        let t = l.trim_start();
        if t.starts_with('-') && l.len() - t.len() <= 6 {
            let (head, rest) = t.split_once("  ").unwrap_or((t, ""));
            out.push((head.to_string(), rest.trim().to_string()));
        } else if let Some(last) = out.last_mut() {
            last.1.push(' ');
            last.1.push_str(t);
        }
    }
    out
}

fn check_help(bin: &Path, name: &str) -> usize {
    let top = run(bin, &["--help"]);
    assert!(top.status.success());
    let top = String::from_utf8(top.stdout).unwrap();
    let subs = subcommands(&top);
    assert!(subs.len() >= 3, "{name} lists its subcommands:\n{top}");
    for sub in &subs {
        let o = run(bin, &[sub, "--help"]);
        let help = String::from_utf8_lossy(&o.stdout);
        assert!(o.status.success(), "{name} {sub} --help exits 0");
        assert!(
            help.contains(&format!("Usage: {name} {sub}")),
            "{name} {sub} --help is clap's:\n{help}"
        );
        assert!(
            !help.contains("docs/"),
            "{name} {sub} --help points at docs/ an installed binary's user lacks:\n{help}"
        );
        assert!(
            !help.contains("(default"),
            "{name} {sub} --help: defaults are written [default: …]:\n{help}"
        );
        for (flag, text) in options(&help) {
            if !flag.contains('<') {
                continue; // a switch: its default is off
            }
            assert!(
                text.contains("[default:")
                    || text.contains("e.g.")
                    || text.contains("[possible values:"),
                "{name} {sub} {flag}: says neither its default nor an example: {text:?}"
            );
        }
        // Examples are indented as clap indents its own entries.
        if let Some(ex) = help.split("Examples:\n").nth(1) {
            for l in ex.lines().take_while(|l| !l.is_empty()) {
                assert!(
                    l.starts_with("  ") && !l.starts_with("   "),
                    "{name} {sub}: example line not indented by two: {l:?}"
                );
            }
        }
    }
    subs.len()
}

#[test]
fn every_subcommand_help_teaches_its_flags() {
    assert!(check_help(&shim(), "codex-shim") >= 7);
    assert!(check_help(&analyzer(), "codex-analyzer") >= 4);
}

#[test]
fn hook_help_is_clap_help_and_the_hook_still_never_fails() {
    let o = run(&shim(), &["hook", "--help"]);
    let help = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success());
    assert!(help.contains("Usage: codex-shim hook [OPTIONS]"), "{help}");
    assert!(help.contains("CODEX_SHIM_HOOK_DEADLINE_MS"), "{help}");
    // An unknown flag is still not an error for the hook (it must never block a call).
    let o = Command::new(shim())
        .args(["hook", "--bogus"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn the_same_bad_value_gets_the_same_message_and_exit_code_everywhere() {
    let repo = git_repo();
    let out = repo.path().join("out");
    let out = out.to_str().unwrap();
    let now_cmds: [&[&str]; 4] = [
        &["run"],
        &["report", "--out", out],
        &["run-id"],
        &["export-harbor", "--out", out],
    ];
    for cmd in now_cmds {
        let mut args = cmd.to_vec();
        args.extend(["--now", "garbage"]);
        let o = Command::new(analyzer())
            .args(&args)
            .current_dir(repo.path())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("invalid value 'garbage' for '--now <RFC3339>'")
                && err.contains("use e.g. 2026-03-02T13:10:00Z"),
            "{args:?}: {err}"
        );
    }
    let window_cmds: [&[&str]; 4] = [
        &["run", "--window"],
        &["run", "--rollup"],
        &["report", "--out", out, "--window"],
        &["export-harbor", "--out", out, "--window"],
    ];
    for cmd in window_cmds {
        let mut args = cmd.to_vec();
        args.push("12x");
        let o = Command::new(analyzer())
            .args(&args)
            .current_dir(repo.path())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("invalid duration \"12x\"") && err.contains("use e.g. 12h"),
            "{args:?}: {err}"
        );
    }
    assert!(
        !repo.path().join("out").exists(),
        "a usage error writes nothing"
    );
}

#[test]
fn a_missing_repo_is_named_not_passed_through_from_git() {
    for cmd in [
        vec!["run"],
        vec!["report", "--out", "/tmp/never.html"],
        vec!["export-harbor", "--out", "/tmp/never-tasks"],
    ] {
        let mut args = cmd.clone();
        args.extend(["--repo", "/nonexistent/repo"]);
        let o = run(&analyzer(), &args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains("--repo /nonexistent/repo does not exist; pass a directory inside the git repository"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("fatal:"), "raw git stderr: {err}");
    }
}
