//! Error-type classification: from a call's status, exit code, signal and output text to one
//! stable error type (the taxonomy in `docs/record-schema.md`).
//!
//! The rules are data ([`RULES`]): an ordered list where the first rule with any matching
//! condition wins. To add a type, add a rule; put specific rules before general ones. Output
//! patterns are case-insensitive substrings matched by one Aho-Corasick automaton, so the cost
//! does not grow with the number of patterns.

use std::sync::OnceLock;

use aho_corasick::AhoCorasick;

use crate::record::Status;

/// What the classifier looks at.
#[derive(Debug, Clone, Copy)]
pub struct Evidence<'a> {
    pub status: Status,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub output: &'a str,
    pub stderr: &'a str,
}

/// One classification rule: it matches when any of its conditions does.
#[derive(Debug)]
pub struct Rule {
    pub error_type: &'static str,
    pub statuses: &'static [Status],
    pub exit_codes: &'static [i32],
    pub signals: &'static [i32],
    /// Case-insensitive substrings of the output or stderr.
    pub patterns: &'static [&'static str],
}

/// The fallback for a failure no rule recognises.
pub const NONZERO_EXIT: &str = "nonzero_exit";

const NONE_S: &[Status] = &[];
const NONE_I: &[i32] = &[];

/// The ordered rule table. First match wins.
pub const RULES: &[Rule] = &[
    Rule {
        error_type: "approval_denied",
        statuses: &[Status::Denied],
        exit_codes: NONE_I,
        signals: NONE_I,
        patterns: &["rejected by user", "approval denied", "user denied"],
    },
    Rule {
        error_type: "hook_blocked",
        statuses: &[Status::Blocked],
        exit_codes: NONE_I,
        signals: NONE_I,
        patterns: &["blocked by pretooluse hook", "blocked by hook"],
    },
    Rule {
        error_type: "context_window_exceeded",
        statuses: NONE_S,
        exit_codes: NONE_I,
        signals: NONE_I,
        patterns: &[
            "context_window_exceeded",
            "context window exceeded",
            "maximum context length",
            "exceeds the context window",
        ],
    },
    Rule {
        error_type: "timeout",
        statuses: &[Status::Timeout],
        exit_codes: &[124],
        signals: NONE_I,
        patterns: &["timed out", "deadline exceeded", "command timeout"],
    },
    Rule {
        error_type: "aborted",
        statuses: &[Status::Aborted],
        exit_codes: NONE_I,
        signals: NONE_I,
        patterns: NONE_STR,
    },
    Rule {
        error_type: "sandbox_denied",
        statuses: NONE_S,
        exit_codes: NONE_I,
        signals: NONE_I,
        patterns: &[
            "sandbox denied",
            "denied by sandbox",
            "blocked by sandbox",
            "sandbox(denied",
            "sandboxerr",
            "seatbelt",
            "landlock",
        ],
    },
    Rule {
        error_type: "patch_failed",
        statuses: NONE_S,
        exit_codes: NONE_I,
        signals: NONE_I,
        patterns: &[
            "apply_patch verification failed",
            "failed to find expected lines",
            "failed to apply patch",
            "patch failed",
            "hunk failed",
            "does not apply",
        ],
    },
    Rule {
        // The agent used a tool wrongly and the tool refused before anything ran: writing to
        // a session without a terminal, a missing or unparsable argument.
        error_type: "tool_error",
        statuses: NONE_S,
        exit_codes: NONE_I,
        signals: NONE_I,
        patterns: &[
            "stdin is closed for this session",
            "missing required parameter",
            "failed to parse function arguments",
            "unknown process id",
        ],
    },
    Rule {
        error_type: "git_conflict",
        statuses: NONE_S,
        exit_codes: NONE_I,
        signals: NONE_I,
        patterns: &[
            "conflict (",
            "merge conflict",
            "automatic merge failed",
            "needs merge",
            "would be overwritten by merge",
            "fix conflicts and then commit",
        ],
    },
    Rule {
        error_type: "command_not_found",
        statuses: NONE_S,
        exit_codes: &[127],
        signals: NONE_I,
        patterns: &[
            "command not found",
            ": not found",
            "is not recognized as an internal",
        ],
    },
    Rule {
        error_type: "killed",
        statuses: NONE_S,
        exit_codes: &[137, 143],
        signals: &[9, 15, 6, 11],
        patterns: NONE_STR,
    },
    Rule {
        error_type: "permission_denied",
        statuses: NONE_S,
        exit_codes: &[126],
        signals: NONE_I,
        patterns: &[
            "permission denied",
            "eacces",
            "operation not permitted",
            "eperm",
        ],
    },
    Rule {
        error_type: "network_error",
        statuses: NONE_S,
        exit_codes: NONE_I,
        signals: NONE_I,
        patterns: &[
            "could not resolve host",
            "connection refused",
            "network is unreachable",
            "econnrefused",
            // Node's DNS failure; a bare "enotfound" is inside "ModuleNotFoundError".
            "getaddrinfo enotfound",
            "econnreset",
            "temporary failure in name resolution",
            "failed to connect",
            "connection reset by peer",
            "tls handshake",
            "name or service not known",
        ],
    },
    Rule {
        error_type: "compile_error",
        statuses: NONE_S,
        exit_codes: NONE_I,
        signals: NONE_I,
        patterns: &[
            "error[e",
            "could not compile",
            "compilation failed",
            "syntaxerror",
            "cannot find symbol",
            "undefined reference",
            "error ts",
            "build failed",
        ],
    },
    Rule {
        error_type: "test_failure",
        statuses: NONE_S,
        exit_codes: NONE_I,
        signals: NONE_I,
        patterns: &[
            "test result: failed",
            "tests failed",
            "assertionerror",
            "assertion failed",
            "failures:",
            "--- fail:",
            "npm err! test failed",
            " failed, ",
            "panicked at",
        ],
    },
    Rule {
        error_type: "file_not_found",
        statuses: NONE_S,
        exit_codes: NONE_I,
        signals: NONE_I,
        patterns: &[
            "no such file or directory",
            "enoent",
            "cannot find the path",
            "does not exist",
            "not a directory",
        ],
    },
];

const NONE_STR: &[&str] = &[];

struct Matcher {
    automaton: AhoCorasick,
    /// For each pattern of the automaton, the index of its rule.
    rule_of: Vec<usize>,
}

fn matcher() -> &'static Matcher {
    static M: OnceLock<Matcher> = OnceLock::new();
    M.get_or_init(|| {
        let mut patterns = Vec::new();
        let mut rule_of = Vec::new();
        for (i, rule) in RULES.iter().enumerate() {
            for p in rule.patterns {
                patterns.push(*p);
                rule_of.push(i);
            }
        }
        let automaton = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(&patterns)
            .expect("classifier patterns are valid");
        Matcher { automaton, rule_of }
    })
}

/// Classifies a call. Meant for failing calls; a call that did not fail gets
/// [`NONZERO_EXIT`] only if its exit code is non-zero, so callers normally check first.
pub fn classify(e: &Evidence<'_>) -> &'static str {
    let m = matcher();
    let mut best = usize::MAX;
    for text in [e.output, e.stderr] {
        for hit in m.automaton.find_overlapping_iter(text) {
            best = best.min(m.rule_of[hit.pattern().as_usize()]);
        }
    }
    for (i, rule) in RULES.iter().enumerate().take(best) {
        let by_status = rule.statuses.contains(&e.status);
        let by_exit = e.exit_code.is_some_and(|c| rule.exit_codes.contains(&c));
        let by_signal = e.signal.is_some_and(|s| rule.signals.contains(&s));
        if by_status || by_exit || by_signal {
            best = i;
            break;
        }
    }
    RULES.get(best).map_or(NONZERO_EXIT, |r| r.error_type)
}

/// Every error type the classifier can return, in rule order, then the fallback.
pub fn taxonomy() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = RULES.iter().map(|r| r.error_type).collect();
    v.push(NONZERO_EXIT);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev<'a>(status: Status, code: Option<i32>, out: &'a str) -> Evidence<'a> {
        Evidence {
            status,
            exit_code: code,
            signal: None,
            output: out,
            stderr: "",
        }
    }

    #[test]
    fn table() {
        let f = Status::Failed;
        let cases: &[(Evidence, &str)] = &[
            (
                ev(f, Some(127), "bash: cargo-foo: command not found"),
                "command_not_found",
            ),
            (ev(f, Some(127), ""), "command_not_found"),
            (
                ev(f, Some(126), "bash: ./x: Permission denied"),
                "permission_denied",
            ),
            (
                ev(f, Some(1), "Sandbox(Denied { output: .. })"),
                "sandbox_denied",
            ),
            (ev(Status::Denied, None, ""), "approval_denied"),
            (
                ev(f, None, "exec command rejected by user"),
                "approval_denied",
            ),
            (
                ev(
                    Status::Blocked,
                    None,
                    "Command blocked by PreToolUse hook: no",
                ),
                "hook_blocked",
            ),
            (ev(Status::Timeout, None, ""), "timeout"),
            (ev(f, Some(124), ""), "timeout"),
            (
                ev(
                    f,
                    Some(2),
                    "ls: cannot access '/nope': No such file or directory",
                ),
                "file_not_found",
            ),
            (
                ev(
                    f,
                    Some(1),
                    "apply_patch verification failed: Failed to find expected lines",
                ),
                "patch_failed",
            ),
            (
                ev(
                    f,
                    Some(101),
                    "error[E0425]: cannot find value `x`\nerror: could not compile `foo`",
                ),
                "compile_error",
            ),
            (
                ev(f, Some(101), "test result: FAILED. 3 passed; 1 failed"),
                "test_failure",
            ),
            (
                ev(
                    f,
                    Some(6),
                    "curl: (6) Could not resolve host: example.invalid",
                ),
                "network_error",
            ),
            (
                ev(
                    f,
                    Some(1),
                    "npm ERR! request to https://registry.npmjs.org/x failed, reason: getaddrinfo ENOTFOUND registry.npmjs.org",
                ),
                "network_error",
            ),
            (
                ev(
                    f,
                    Some(4),
                    "E   ModuleNotFoundError: No module named 'inventory'",
                ),
                "nonzero_exit",
            ),
            (
                ev(f, None, "error: context_window_exceeded"),
                "context_window_exceeded",
            ),
            (
                ev(f, Some(1), "CONFLICT (content): Merge conflict in a.rs"),
                "git_conflict",
            ),
            (ev(f, Some(3), "something odd"), "nonzero_exit"),
            (ev(Status::Aborted, None, ""), "aborted"),
        ];
        for (e, want) in cases {
            assert_eq!(classify(e), *want, "{e:?}");
        }
        let killed = Evidence {
            signal: Some(9),
            ..ev(f, None, "")
        };
        assert_eq!(classify(&killed), "killed");
    }

    #[test]
    fn a_tool_refusing_its_arguments_is_a_tool_error() {
        let e = ev(
            Status::Failed,
            None,
            "write_stdin failed: stdin is closed for this session; rerun exec_command with tty=true",
        );
        assert_eq!(classify(&e), "tool_error");
    }

    #[test]
    fn earlier_rule_wins_over_later_pattern() {
        // exit 127 (command_not_found) beats a later rule's text (file_not_found).
        let e = ev(
            Status::Failed,
            Some(127),
            "sh: ./run.sh: No such file or directory",
        );
        assert_eq!(classify(&e), "command_not_found");
    }

    #[test]
    fn taxonomy_has_required_types() {
        let t = taxonomy();
        for want in [
            "command_not_found",
            "permission_denied",
            "sandbox_denied",
            "approval_denied",
            "hook_blocked",
            "timeout",
            "killed",
            "file_not_found",
            "patch_failed",
            "compile_error",
            "test_failure",
            "network_error",
            "context_window_exceeded",
            "git_conflict",
            "tool_error",
            "nonzero_exit",
        ] {
            assert!(t.contains(&want), "{want}");
        }
    }
}
