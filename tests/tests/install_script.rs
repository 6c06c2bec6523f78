//! `scripts/install-shim`, the documented way to install the shim, installs one that works,
//! and on Linux/glibc one that is static-PIE (no dynamic loader at every tool call, ASLR kept).

use std::process::Command;

use e2e::bins::{git_repo, read_log, workspace_root};

/// What the ELF program headers say: (PIE, has an interpreter, i.e. is dynamically linked).
fn elf_kind(bytes: &[u8]) -> (bool, bool) {
    assert_eq!(&bytes[..4], b"\x7fELF", "not an ELF file");
    assert_eq!(bytes[4], 2, "64-bit ELF expected");
    let u16_at = |o: usize| u16::from_le_bytes([bytes[o], bytes[o + 1]]) as usize;
    let u64_at = |o: usize| u64::from_le_bytes(bytes[o..o + 8].try_into().unwrap()) as usize;
    let pie = u16_at(0x10) == 3; // ET_DYN
    let (phoff, phentsize, phnum) = (u64_at(0x20), u16_at(0x36), u16_at(0x38));
    let interp = (0..phnum).any(|i| {
        let o = phoff + i * phentsize;
        u32::from_le_bytes(bytes[o..o + 4].try_into().unwrap()) == 3 // PT_INTERP
    });
    (pie, interp)
}

#[test]
fn install_script_installs_a_working_shim_static_pie_on_linux_gnu() {
    let root = tempfile::tempdir().unwrap();
    // --debug keeps the test's build short; the linking is what is under test.
    let out = Command::new(workspace_root().join("scripts/install-shim"))
        .args(["--debug", "--quiet", "--root"])
        .arg(root.path())
        .output()
        .expect("run scripts/install-shim");
    assert!(
        out.status.success(),
        "install-shim failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bin = root.path().join("bin/codex-shim");
    if cfg!(all(target_os = "linux", target_env = "gnu")) {
        let (pie, interp) = elf_kind(&std::fs::read(&bin).unwrap());
        assert!(pie, "the installed shim keeps ASLR (PIE)");
        assert!(!interp, "the installed shim is statically linked");
    }
    let repo = git_repo();
    let log = repo.path().join("log.ndjson");
    let run = Command::new(&bin)
        .args(["exec", "--log"])
        .arg(&log)
        .args(["--", "sh", "-c", "echo installed; exit 3"])
        .current_dir(repo.path())
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(3));
    assert_eq!(run.stdout, b"installed\n");
    let recs = read_log(&log);
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].output.as_ref().unwrap().text, "installed\n");
}

#[test]
fn elf_kind_tells_dynamic_from_static() {
    // The test binary itself is a dynamically linked PIE: the checker must say so, or the
    // assertion above would pass on anything.
    let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
    assert_eq!(elf_kind(&me), (true, true));
}

#[test]
fn install_script_installs_both_binaries_where_it_says() {
    let root = tempfile::tempdir().unwrap();
    let out = Command::new(workspace_root().join("scripts/install"))
        .args(["--debug", "--quiet", "--root"])
        .arg(root.path())
        .output()
        .expect("run scripts/install");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "install failed:\n{err}");
    let bin = root.path().join("bin");
    assert!(
        err.contains(&format!("are in {}", bin.display())),
        "says where: {err}"
    );
    assert!(
        err.contains("is not on PATH"),
        "a temp root is not on PATH: {err}"
    );
    for name in ["codex-shim", "codex-analyzer"] {
        let v = Command::new(bin.join(name))
            .arg("--version")
            .output()
            .unwrap();
        assert!(v.status.success(), "{name} --version");
        assert!(
            String::from_utf8_lossy(&v.stdout).starts_with(name),
            "{name} --version prints its name"
        );
    }
    let id = Command::new(bin.join("codex-analyzer"))
        .args(["run-id", "--now", "2026-11-22T13:10:00Z"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&id.stdout), "2026-11-22-AM\n");
}
