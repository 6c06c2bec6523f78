//! `codex-shim calls`: the folded calls of a log, one per line — what the agent ran and what
//! failed. `--json` prints one `codex_contract::Call` per line for other tools.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;

use codex_contract::{fold::Folder, Call};

pub struct CallsOptions {
    pub log: Option<PathBuf>,
    pub json: bool,
    /// Only calls of sessions whose ID starts with this.
    pub session: Option<String>,
    /// Only failing calls (failed, denied, blocked, aborted, timeout).
    pub failed: bool,
}

/// Runs `codex-shim calls`; returns the exit code.
pub fn run(opts: &CallsOptions) -> i32 {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let log = codex_contract::paths::log_path(opts.log.as_deref(), &cwd);
    let mut reader = match codex_contract::read::open(&log) {
        Ok(r) => r,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            eprintln!(
                "codex-shim calls: no log at {} — nothing recorded yet. Install the hooks with \
                 `codex-shim install`, import sessions with `codex-shim import ~/.codex/sessions`, \
                 or point at a log with --log PATH.",
                log.display()
            );
            return 1;
        }
        Err(e) => {
            eprintln!("codex-shim calls: cannot read {}: {e}", log.display());
            return 1;
        }
    };
    let mut folder = Folder::new();
    for r in reader.by_ref() {
        folder.push(r);
    }
    if let Some(e) = &reader.error {
        eprintln!(
            "codex-shim calls: reading {} stopped early: {e}",
            log.display()
        );
    }
    let stats = reader.into_stats();
    if stats.skipped > 0 {
        let first = stats
            .problems
            .first()
            .map(|p| format!(" (first: line {}: {})", p.line, p.detail))
            .unwrap_or_default();
        eprintln!(
            "codex-shim calls: note: skipped {} unreadable line(s) of {}{first}",
            stats.skipped,
            log.display()
        );
    }
    let calls: Vec<Call> = folder
        .finish()
        .into_iter()
        .filter(|c| {
            opts.session
                .as_deref()
                .is_none_or(|s| c.session_id.as_deref().is_some_and(|id| id.starts_with(s)))
        })
        .filter(|c| !opts.failed || c.status.is_failure())
        .collect();
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let width = terminal_width();
    for c in &calls {
        let line = if opts.json {
            serde_json::to_string(c).unwrap_or_default()
        } else {
            format_line(c, width)
        };
        if writeln!(out, "{line}").is_err() {
            // A closed pipe (`| head`) is not an error.
            return 0;
        }
    }
    let _ = out.flush();
    0
}

/// The width to fit human lines in: the terminal's, else 120.
fn terminal_width() -> usize {
    if io::stdout().is_terminal() {
        // SAFETY: TIOCGWINSZ fills a winsize struct we own.
        unsafe {
            let mut ws: libc::winsize = std::mem::zeroed();
            if libc::ioctl(1, libc::TIOCGWINSZ, &mut ws) == 0 && ws.ws_col > 20 {
                return ws.ws_col as usize;
            }
        }
    }
    120
}

/// `2026-11-22 00:09:58  01a20096  Bash         failed   2  file_not_found   12ms  ls /nope`
pub fn format_line(c: &Call, width: usize) -> String {
    let time = c.first_ts.format("%Y-%m-%d %H:%M:%S").to_string();
    let session: String = c
        .session_id
        .as_deref()
        .unwrap_or("-")
        .chars()
        .take(8)
        .collect();
    let tool = c.tool.as_deref().unwrap_or("?");
    let exit = c
        .exit_code
        .map_or_else(|| "-".to_string(), |e| e.to_string());
    let error = c.error_type.as_deref().unwrap_or("-");
    let duration = c.duration_ms.map_or_else(|| "-".to_string(), human_ms);
    let head = format!(
        "{time}  {session:<8}  {tool:<12} {status:<8} {exit:>4}  {error:<16} {duration:>7}  ",
        status = c.status.as_str()
    );
    let command: String = c
        .input
        .as_deref()
        .unwrap_or("")
        .split('\n')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ⏎ ");
    let room = width.saturating_sub(head.chars().count()).max(20);
    let command = if command.chars().count() > room {
        let mut s: String = command.chars().take(room - 1).collect();
        s.push('…');
        s
    } else {
        command
    };
    format!("{head}{command}")
}

fn human_ms(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{:.1}s", ms as f64 / 1000.0)
    } else {
        format!("{}m{:02}s", ms / 60_000, (ms / 1000) % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use codex_contract::record::{parse_ts, Phase, Record, Source, Status};

    #[test]
    fn human_line_fits_width() {
        let mut r = Record::at(
            parse_ts("2026-11-22T00:09:58Z").unwrap(),
            Source::Rollout,
            Phase::Outcome,
        );
        r.session_id = Some("01a20096-93be-7fb2".into());
        r.call_id = Some("call_1".into());
        r.tool = Some("Bash".into());
        r.input = Some(format!("ls /nope\n{}", "x".repeat(500)));
        r.status = Some(Status::Failed);
        r.exit_code = Some(2);
        r.duration_ms = Some(1530);
        let calls = codex_contract::fold(vec![r]);
        let line = format_line(&calls[0], 120);
        assert!(line.chars().count() <= 120, "{line}");
        assert!(
            line.starts_with("2026-11-22 00:09:58  01a20096  Bash"),
            "{line}"
        );
        assert!(line.contains(" failed ") && line.contains(" 2  ") && line.contains("1.5s"));
        assert!(line.contains("ls /nope ⏎ xxx") && line.ends_with('…'));
    }
}
