//! `codex-shim doctor` with the real shim and the pinned real Codex CLI, in a working set-up
//! and in each of the broken ones it must explain (and fail on).

use std::path::PathBuf;
use std::process::{Command, Output};

use e2e::bins::{git_repo, shim};
use e2e::codex::{codex_bin, CODEX_VERSION};

/// A user's world: a repository, a `HOME`/`CODEX_HOME`, and a `PATH` holding the shim (as
/// `codex-shim`, a link to the built binary) and the pinned Codex CLI.
struct World {
    repo: tempfile::TempDir,
    home: tempfile::TempDir,
    bin: tempfile::TempDir,
}

impl World {
    fn new() -> World {
        let bin = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(shim(), bin.path().join("codex-shim")).unwrap();
        std::os::unix::fs::symlink(codex_bin(), bin.path().join("codex")).unwrap();
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(home.path().join(".codex")).unwrap();
        World {
            repo: git_repo(),
            home,
            bin,
        }
    }

    fn codex_home(&self) -> PathBuf {
        self.home.path().join(".codex")
    }

    fn path_var(&self) -> String {
        // Node (for the Codex launcher) and git from the system.
        format!("{}:/usr/local/bin:/usr/bin:/bin", self.bin.path().display())
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(self.bin.path().join("codex-shim"));
        c.args(args)
            .current_dir(self.repo.path())
            .env_clear()
            .env("PATH", self.path_var())
            .env("HOME", self.home.path())
            .env("CODEX_HOME", self.codex_home());
        c
    }

    fn doctor(&self, extra: &[&str]) -> (i32, String) {
        let mut args = vec!["doctor"];
        args.extend_from_slice(extra);
        let o: Output = self.cmd(&args).output().unwrap();
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        (o.status.code().unwrap_or(-1), text)
    }

    fn install(&self, extra: &[&str]) {
        let mut args = vec!["install"];
        args.extend_from_slice(extra);
        let o = self.cmd(&args).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }

    fn top(&self) -> PathBuf {
        self.repo.path().canonicalize().unwrap()
    }

    /// Trusts the project and one hook, as Codex would record it.
    fn trust(&self, extra: &str) {
        std::fs::write(
            self.codex_home().join("config.toml"),
            format!(
                "[projects.{:?}]\ntrust_level = \"trusted\"\n\n\
                 [hooks.state.\"project:PreToolUse:0:0\"]\ntrusted_hash = \"sha256:0\"\n{extra}",
                self.top().display().to_string()
            ),
        )
        .unwrap();
    }
}

fn line_with<'a>(text: &'a str, needle: &str) -> &'a str {
    text.lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?} in:\n{text}"))
}

#[test]
fn a_working_setup_passes_every_check_and_reports_the_newest_record() {
    let w = World::new();
    w.install(&[]);
    w.trust("");
    // One recorded call, so the log has a newest record.
    let o = w.cmd(&["exec", "--", "true"]).output().unwrap();
    assert!(o.status.success());

    let (code, text) = w.doctor(&[]);
    assert_eq!(code, 0, "{text}");
    assert!(!text.contains("FAIL"), "{text}");
    assert!(
        line_with(&text, "is on PATH").starts_with("ok"),
        "the shim on PATH: {text}"
    );
    let hooks = line_with(&text, "hooks in ");
    assert!(
        hooks.starts_with("ok") && hooks.contains("12 of 12 events"),
        "{hooks}"
    );
    assert!(hooks.contains(&w.top().join(".codex/hooks.json").display().to_string()));
    assert!(line_with(&text, "runs this codex-shim").starts_with("ok"));
    let codex = line_with(&text, "supports hooks");
    assert!(
        codex.starts_with("ok") && codex.contains(CODEX_VERSION),
        "{codex}"
    );
    assert!(line_with(&text, "is trusted in").starts_with("ok"));
    assert!(line_with(&text, "1 trusted hook").starts_with("ok"));
    let log = w.top().join(".codex/toolcalls.ndjson");
    assert!(line_with(&text, &format!("log {} can be written", log.display())).starts_with("ok"));
    let newest = line_with(&text, "the newest at");
    assert!(
        newest.starts_with("ok") && newest.contains(" s ago"),
        "{newest}"
    );
    // The shim under test is a plain (dynamically linked) cargo build: doctor says so, with
    // the static install as the fix, and that is the one warning.
    let linkage = line_with(&text, "dynamically linked");
    assert!(linkage.starts_with("warn"), "{linkage}");
    assert!(text.contains("scripts/install-shim"), "{text}");
    assert!(
        text.trim_end()
            .ends_with("Capture should work; 1 warning to look at."),
        "{text}"
    );
}

#[test]
fn no_hooks_fails_with_the_install_command() {
    let w = World::new();
    w.trust("");
    let (code, text) = w.doctor(&[]);
    assert_eq!(code, 1, "{text}");
    let l = line_with(&text, "no codex-shim hooks in");
    assert!(l.starts_with("FAIL"), "{l}");
    assert!(text.contains("fix: run `codex-shim install`"), "{text}");
    assert!(
        text.contains("Capture would not work: 1 problem "),
        "{text}"
    );
}

#[test]
fn a_hook_command_that_is_not_found_fails() {
    let w = World::new();
    w.install(&["--command", "/nowhere/codex-shim hook"]);
    w.trust("");
    let (code, text) = w.doctor(&[]);
    assert_eq!(code, 1, "{text}");
    let l = line_with(&text, "`/nowhere/codex-shim` is not found");
    assert!(l.starts_with("FAIL"), "{l}");
}

#[test]
fn an_untrusted_project_and_untrusted_hooks_are_explained() {
    let w = World::new();
    w.install(&[]);
    let (code, text) = w.doctor(&[]);
    assert_eq!(
        code, 1,
        "project hooks of an untrusted project never load: {text}"
    );
    assert!(line_with(&text, "is not trusted in").starts_with("FAIL"));
    assert!(text.contains("codex exec --trust"), "{text}");
    let hooks = line_with(&text, "no hook has been trusted");
    assert!(hooks.starts_with("warn"), "{hooks}");
    assert!(text.contains("--dangerously-bypass-hook-trust"), "{text}");

    // User hooks load in any project: the untrusted project is then only a warning.
    w.install(&["--user"]);
    let (code, text) = w.doctor(&[]);
    assert_eq!(code, 0, "{text}");
    assert!(line_with(&text, "is not trusted in").starts_with("warn"));
}

#[test]
fn codex_with_hooks_disabled_fails_with_the_enable_command() {
    let w = World::new();
    w.install(&[]);
    w.trust("\n[features]\nhooks = false\n");
    let (code, text) = w.doctor(&[]);
    assert_eq!(code, 1, "{text}");
    let l = line_with(&text, "the `hooks` feature is disabled");
    assert!(l.starts_with("FAIL") && l.contains(CODEX_VERSION), "{l}");
    assert!(text.contains("codex features enable hooks"), "{text}");
}

#[test]
fn a_missing_codex_and_an_unwritable_log_fail() {
    let w = World::new();
    w.install(&[]);
    w.trust("");
    let (code, text) = w.doctor(&[
        "--codex",
        "/nowhere/codex",
        "--log",
        "/etc/passwd/calls.ndjson",
    ]);
    assert_eq!(code, 1, "{text}");
    assert!(line_with(&text, "`/nowhere/codex`) is not found").starts_with("FAIL"));
    let log = line_with(&text, "log /etc/passwd/calls.ndjson cannot be written");
    assert!(log.starts_with("FAIL"), "{log}");
    assert!(
        text.contains("Capture would not work: 2 problems"),
        "{text}"
    );
}

#[test]
fn a_shim_not_on_path_is_named_with_the_absolute_command_fix() {
    let w = World::new();
    w.install(&[]);
    w.trust("");
    std::fs::remove_file(w.bin.path().join("codex-shim")).unwrap();
    let o = Command::new(shim())
        .arg("doctor")
        .current_dir(w.repo.path())
        .env_clear()
        .env("PATH", w.path_var())
        .env("HOME", w.home.path())
        .env("CODEX_HOME", w.codex_home())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{text}");
    assert!(line_with(&text, "is not on PATH").starts_with("warn"));
    assert!(line_with(&text, "`codex-shim` is not found").starts_with("FAIL"));
    assert!(
        text.contains("--command \"/absolute/path/to/codex-shim hook\""),
        "{text}"
    );
}
