//! Warnings about the shim itself. Principle: the shim never hurts the agent, so a failure to
//! record is one line on stderr plus a line in a small error log — never a failed tool call.

use std::io::Write;
use std::path::PathBuf;

/// The error log grows to this size, then starts over (it is for diagnosis, not history).
const ERROR_LOG_MAX: u64 = 256 * 1024;

/// Where the error log lives: `$XDG_STATE_HOME/codex-shim/errors.log`, else
/// `~/.local/state/codex-shim/errors.log`.
pub fn error_log_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_STATE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))?;
    Some(base.join("codex-shim/errors.log"))
}

/// Prints `codex-shim: warning: <msg>` to stderr (unless `quiet`) and appends it to the
/// error log. Never fails.
pub fn warn(msg: &str, quiet: bool) {
    if !quiet {
        let _ = writeln!(std::io::stderr(), "codex-shim: warning: {msg}");
    }
    if let Some(path) = error_log_path() {
        let _ = (|| -> std::io::Result<()> {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let mut opts = std::fs::OpenOptions::new();
            opts.create(true);
            if std::fs::metadata(&path).is_ok_and(|m| m.len() > ERROR_LOG_MAX) {
                opts.write(true).truncate(true);
            } else {
                opts.append(true);
            }
            let mut f = opts.open(&path)?;
            let ts = codex_contract::record::now_ts();
            writeln!(f, "{ts} {msg}")
        })();
    }
}
