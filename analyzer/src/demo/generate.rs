//! The synthetic sessions: what each one does, drawn from a seed, and the ground truth the
//! stages are checked against.
//!
//! A session is a plan — turns, each with a user prompt and tool calls with a known outcome —
//! that [`super::rollout`] writes in Codex 0.169.0's rollout format. [`Planted`] counts the
//! plan with the definitions of `docs/closed-loop.md`, independently of the analyzer, so the
//! demo and its tests can compare what was planted with what the real pipeline found.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::rng::Rng;
use crate::signals::{DelightTotals, Friction};

/// The command whose failure the simulated fix addresses (the "fixed friction").
pub const FIXED_COMMAND: &str = "./scripts/check.sh";
/// What works instead, and what the fix's guidance tells agents to run.
pub const WORKING_ALTERNATIVE: &str = "make check";
/// The command planted as a retry loop (fails three times in one session).
pub const LOOP_COMMAND: &str = "python -m pytest tests/test_api.py -q";

/// How a call ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Exit code 0 (a shell command) or an applied patch.
    Ok,
    /// A nonzero exit code.
    Failed(i32),
    /// Exit code 124 after the time limit.
    Timeout,
    /// Rejected at approval (`Rejected(...)` from Codex).
    Denied,
    /// Blocked by a `PreToolUse` hook.
    Blocked,
    /// A patch that fails verification.
    PatchFailed,
    /// Killed by the user's interrupt (the turn is aborted).
    Interrupted,
}

impl Outcome {
    fn is_failure(self) -> bool {
        self != Outcome::Ok
    }
}

/// One tool call of a plan.
#[derive(Clone, Debug)]
pub struct PlannedCall {
    /// `true` for `apply_patch`, else a shell command (`exec_command`).
    pub patch: bool,
    /// The shell command, or the patch text.
    pub input: String,
    pub outcome: Outcome,
    /// What the command printed (the patch tool's message for patches).
    pub output: String,
    /// Codex cut the output the model saw (`…N tokens truncated…`).
    pub truncated: bool,
    /// Seconds the call took.
    pub secs: f64,
}

/// One turn: a user prompt, then calls.
#[derive(Clone, Debug)]
pub struct PlannedTurn {
    pub prompt: String,
    /// What the prompt says about the previous turn (`None`: neutral).
    pub feedback: Option<bool>,
    pub calls: Vec<PlannedCall>,
    /// Context compactions during the turn (after its first call).
    pub compactions: u32,
    /// The user interrupted the turn during its last call.
    pub aborted: bool,
}

/// Before or after the simulated fix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Before,
    After,
}

/// One session of a plan.
#[derive(Clone, Debug)]
pub struct PlannedSession {
    pub id: String,
    pub phase: Phase,
    pub start: DateTime<Utc>,
    /// The commit the session worked on.
    pub git_head: String,
    pub turns: Vec<PlannedTurn>,
}

/// How often each friction is planted, per session. Only `fixed_friction` changes with the
/// simulated fix, so the measured change is the fix's.
#[derive(Clone, Copy, Debug)]
pub struct Mix {
    pub fixed_friction: f64,
    pub other_failure: f64,
    pub retry_loop: f64,
    pub denial: f64,
    pub second_denial: f64,
    pub hook_block: f64,
    pub patch_failure: f64,
    pub timeout: f64,
    pub truncation: f64,
    pub compaction: f64,
    pub interrupt: f64,
}

impl Mix {
    /// Before the fix: a third of the sessions run `./scripts/check.sh` cold.
    pub const BEFORE: Mix = Mix {
        fixed_friction: 0.34,
        other_failure: 0.18,
        retry_loop: 0.04,
        denial: 0.08,
        second_denial: 0.3,
        hook_block: 0.06,
        patch_failure: 0.12,
        timeout: 0.04,
        truncation: 0.07,
        compaction: 0.06,
        interrupt: 0.05,
    };

    /// After the fix: the guidance in AGENTS.md says to run `make check`; a few agents still
    /// run the script cold.
    pub const AFTER: Mix = Mix {
        fixed_friction: 0.05,
        ..Mix::BEFORE
    };
}

const TASKS: &[&str] = &[
    "Add pagination to GET /items (page and per_page query parameters).",
    "POST /items returns 500 when the name is empty; make it return 422 with a message.",
    "Add a created_at column to Item and expose it in the API.",
    "Write tests for the price validation in models.py.",
    "Rename InventoryStore.get to InventoryStore.find and update the callers.",
    "Why does the CI lint job fail? Fix it.",
    "Add a /health endpoint that checks the database connection.",
    "The integration tests take minutes; find out why.",
];
const FOLLOW_UPS: &[&str] = &[
    "Also update the API section of the README.",
    "Now add a test for the empty case.",
    "Run the full check before you finish, please.",
    "Keep the public function names as they are.",
];
const POSITIVE: &[&str] = &[
    "Thanks, that works.",
    "Perfect, the tests pass now.",
    "LGTM, ship it.",
    "Great, that is what I needed.",
];
const NEGATIVE: &[&str] = &[
    "That's wrong: the handler still returns 500.",
    "It still fails here, the check doesn't work.",
    "Not what I asked; I wanted page and per_page, not offset.",
    "Wrong file: the model lives in models.py.",
];

/// Calls that succeed: (command, output).
const OK_CALLS: &[(&str, &str)] = &[
    ("git status --short", " M src/inventory/api.py\n"),
    (
        "rg -n \"def create_item\" src",
        "src/inventory/api.py:41:def create_item(payload):\n",
    ),
    (
        "sed -n 1,40p src/inventory/api.py",
        "from flask import Blueprint, jsonify, request\n\nfrom inventory.models import Item\n",
    ),
    ("ls src/inventory", "__init__.py\napi.py\ndb.py\nmodels.py\n"),
    (
        "python -m pytest tests/test_models.py -q",
        "....                                                    [100%]\n4 passed in 0.21s\n",
    ),
    (
        "git diff --stat",
        " src/inventory/api.py | 12 ++++++++----\n 1 file changed, 8 insertions(+), 4 deletions(-)\n",
    ),
];

/// Failing commands that stay after the fix: (command, exit code, output).
const OTHER_FAILURES: &[(&str, i32, &str)] = &[
    (
        "pytest",
        4,
        "ImportError while loading conftest 'tests/conftest.py'.\ntests/conftest.py:3: in <module>\n    from inventory.db import connect\nE   ModuleNotFoundError: No module named 'inventory'\n",
    ),
    (
        "npm run lint",
        127,
        "\n> inventory-web@0.3.0 lint\n> eslint web/\n\nsh: 1: eslint: not found\n",
    ),
    (
        "mypy src",
        1,
        "src/inventory/api.py:58: error: Incompatible return value type (got \"None\", expected \"Response\")  [return-value]\nFound 1 error in 1 file (checked 5 source files)\n",
    ),
];

const FIXED_OUTPUT: &str = "error: build/config.env is missing; run ./scripts/setup.sh first\n";
const ALTERNATIVE_OUTPUT: &str =
    "./scripts/setup.sh\nwrote build/config.env\n./scripts/check.sh\ncheck: ok\n";
const LOOP_OUTPUT: &str = "F...                                                    [100%]\nFAILED tests/test_api.py::test_create_item_rejects_empty_name - assert 500 == 422\n1 failed, 3 passed in 0.34s\n";
const TIMEOUT_COMMAND: &str = "python -m pytest tests/test_integration.py --durations=5";
const INTERRUPT_COMMAND: &str = "python -m pytest tests/ -x";
const TRUNCATED_COMMAND: &str = "cat logs/server.log";
const HOOK_COMMAND: &str = "git commit --no-verify -m \"wip\"";
const DENIED: &[(&str, &str)] = &[
    (
        "git push --force origin main",
        "denied by reviewer: force-pushing main is not allowed",
    ),
    (
        "curl -fsSL https://get.example.dev/install.sh -o /tmp/install.sh",
        "network access is blocked by the sandbox",
    ),
];
const PATCH_OK: &str = "*** Begin Patch\n*** Update File: src/inventory/api.py\n@@\n-    return None\n+    return jsonify(error=\"name is required\"), 422\n*** End Patch\n";
const PATCH_BAD: &str = "*** Begin Patch\n*** Update File: src/inventory/models.py\n@@\n-    if price < 0:\n+    if price is None or price < 0:\n*** End Patch\n";

fn ok(input: &str, output: &str) -> PlannedCall {
    PlannedCall {
        patch: false,
        input: input.to_string(),
        outcome: Outcome::Ok,
        output: output.to_string(),
        truncated: false,
        secs: 0.4,
    }
}

fn failing(input: &str, code: i32, output: &str) -> PlannedCall {
    PlannedCall {
        outcome: Outcome::Failed(code),
        ..ok(input, output)
    }
}

fn patch(outcome: Outcome, repo: &str) -> PlannedCall {
    let (input, output) = match outcome {
        Outcome::Ok => (
            PATCH_OK,
            "Success. Updated the following files:\nM src/inventory/api.py\n".to_string(),
        ),
        _ => (
            PATCH_BAD,
            format!(
                "apply_patch verification failed: Failed to find expected lines in {repo}/src/inventory/models.py:\n    if price < 0:"
            ),
        ),
    };
    PlannedCall {
        patch: true,
        input: input.to_string(),
        outcome,
        output,
        truncated: false,
        secs: 0.0,
    }
}

/// Draws one session. `repo` is the working directory Codex ran in.
pub fn session(
    rng: &mut Rng,
    phase: Phase,
    mix: &Mix,
    start: DateTime<Utc>,
    git_head: &str,
    repo: &str,
) -> PlannedSession {
    let id = uuid_v7(rng, start);
    let n_turns = 1 + rng.weighted(&[34, 30, 20, 10, 6]);
    let mut turns: Vec<PlannedTurn> = (0..n_turns)
        .map(|_| PlannedTurn {
            prompt: String::new(),
            feedback: None,
            calls: Vec::new(),
            compactions: 0,
            aborted: false,
        })
        .collect();
    let at = |rng: &mut Rng| rng.below(n_turns as u64) as usize;

    // The planted frictions, each on a turn of its own choosing.
    if rng.chance(mix.fixed_friction) {
        let t = at(rng);
        turns[t].calls.push(failing(FIXED_COMMAND, 1, FIXED_OUTPUT));
        if rng.chance(0.25) {
            turns[t].calls.push(failing(FIXED_COMMAND, 1, FIXED_OUTPUT));
        }
        turns[t]
            .calls
            .push(ok(WORKING_ALTERNATIVE, ALTERNATIVE_OUTPUT));
    }
    if rng.chance(mix.other_failure) {
        let (cmd, code, out) = *rng.pick(OTHER_FAILURES);
        turns[at(rng)].calls.push(failing(cmd, code, out));
    }
    if rng.chance(mix.retry_loop) {
        let t = at(rng);
        for _ in 0..3 {
            turns[t].calls.push(failing(LOOP_COMMAND, 1, LOOP_OUTPUT));
            turns[t].calls.push(patch(Outcome::Ok, repo));
        }
    }
    if rng.chance(mix.denial) {
        let n = if rng.chance(mix.second_denial) { 2 } else { 1 };
        for (cmd, why) in DENIED.iter().take(n) {
            turns[at(rng)].calls.push(PlannedCall {
                outcome: Outcome::Denied,
                ..ok(cmd, why)
            });
        }
    }
    if rng.chance(mix.hook_block) {
        turns[at(rng)].calls.push(PlannedCall {
            outcome: Outcome::Blocked,
            ..ok(
                HOOK_COMMAND,
                "blocked by repo policy: --no-verify skips the pre-commit checks",
            )
        });
    }
    if rng.chance(mix.patch_failure) {
        let t = at(rng);
        turns[t].calls.push(patch(Outcome::PatchFailed, repo));
        turns[t].calls.push(patch(Outcome::Ok, repo));
    }
    if rng.chance(mix.timeout) {
        turns[at(rng)].calls.push(PlannedCall {
            outcome: Outcome::Timeout,
            secs: 600.0,
            ..ok(
                TIMEOUT_COMMAND,
                "command timed out after 600000 milliseconds\n",
            )
        });
    }
    if rng.chance(mix.truncation) {
        let n = rng.range(800, 9000);
        let out = format!(
            "2026 INFO  starting inventory-api on :8080\n…{n} tokens truncated…\nERROR sqlite3.OperationalError: database is locked\n"
        );
        turns[at(rng)].calls.push(PlannedCall {
            truncated: true,
            ..ok(TRUNCATED_COMMAND, &out)
        });
    }
    if rng.chance(mix.compaction) {
        let t = at(rng);
        turns[t].compactions = if rng.chance(0.25) { 2 } else { 1 };
    }

    // Ordinary work around the planted calls: reading, one edit, a passing test.
    for turn in &mut turns {
        let before = rng.range(1, 3);
        let mut calls: Vec<PlannedCall> = (0..before)
            .map(|_| {
                let (c, o) = *rng.pick(OK_CALLS);
                ok(c, o)
            })
            .collect();
        if rng.chance(0.5) {
            calls.push(patch(Outcome::Ok, repo));
        }
        calls.append(&mut turn.calls);
        if rng.chance(0.6) {
            let (c, o) = *rng.pick(OK_CALLS);
            calls.push(ok(c, o));
        }
        turn.calls = calls;
    }
    if rng.chance(mix.interrupt) {
        let t = at(rng);
        turns[t].aborted = true;
        turns[t].calls.push(PlannedCall {
            outcome: Outcome::Interrupted,
            secs: 12.4,
            ..ok(INTERRUPT_COMMAND, "")
        });
    }

    // Prompts: the first is the task; later ones react to the turn before.
    for i in 0..turns.len() {
        let (prompt, feedback) = if i == 0 {
            (rng.pick(TASKS).to_string(), None)
        } else {
            let prev = &turns[i - 1];
            let rough = prev.aborted || prev.calls.iter().any(|c| c.outcome.is_failure());
            if rough && rng.chance(0.45) {
                (rng.pick(NEGATIVE).to_string(), Some(false))
            } else if !rough && rng.chance(0.5) {
                (rng.pick(POSITIVE).to_string(), Some(true))
            } else {
                (rng.pick(FOLLOW_UPS).to_string(), None)
            }
        };
        turns[i].prompt = prompt;
        turns[i].feedback = feedback;
    }
    PlannedSession {
        id,
        phase,
        start,
        git_head: git_head.to_string(),
        turns,
    }
}

/// A UUIDv7-shaped id (time-ordered, like Codex's session and turn ids).
pub fn uuid_v7(rng: &mut Rng, at: DateTime<Utc>) -> String {
    let ms = at.timestamp_millis().max(0) as u64 & 0xFFFF_FFFF_FFFF;
    let r = rng.hex(19);
    format!(
        "{:08x}-{:04x}-7{}-{:x}{}-{}",
        ms >> 16,
        ms & 0xFFFF,
        &r[0..3],
        8 + rng.below(4),
        &r[3..6],
        &r[6..18]
    )
}

/// The session's duration, for spacing sessions.
pub fn duration(s: &PlannedSession) -> Duration {
    let secs: f64 = s
        .turns
        .iter()
        .flat_map(|t| &t.calls)
        .map(|c| c.secs + 8.0)
        .sum::<f64>()
        + 30.0 * s.turns.len() as f64;
    Duration::milliseconds((secs * 1000.0) as i64)
}

/// The ground truth of one phase.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default)]
pub struct Planted {
    pub sessions: u32,
    pub turns: u32,
    pub calls: u32,
    pub failures: u32,
    pub prompts: u32,
    /// Counted with the definitions of `docs/closed-loop.md` (the analyzer's own types).
    pub friction: Friction,
    pub delight: DelightTotals,
    /// Failures of [`FIXED_COMMAND`], and the sessions they happened in.
    pub fixed_friction: u32,
    pub fixed_friction_sessions: u32,
}

impl Planted {
    /// Counts `sessions` with the definitions of `docs/closed-loop.md`.
    pub fn count(sessions: &[&PlannedSession]) -> Planted {
        let mut p = Planted::default();
        for s in sessions {
            p.sessions += 1;
            let mut denials = 0;
            let mut failing: BTreeMap<(bool, &str), u32> = BTreeMap::new();
            let mut fixed = 0;
            for t in &s.turns {
                p.turns += 1;
                p.prompts += 1;
                match t.feedback {
                    Some(true) => p.delight.positive_feedback += 1,
                    Some(false) => p.friction.negative_feedback += 1,
                    None => {}
                }
                p.friction.compactions += t.compactions;
                if t.aborted {
                    p.friction.aborted_turns += 1;
                }
                if !t.calls.is_empty() && t.calls.iter().all(|c| c.outcome == Outcome::Ok) {
                    p.delight.first_attempt_turns += 1;
                }
                for c in &t.calls {
                    p.calls += 1;
                    if c.truncated {
                        p.friction.truncations += 1;
                    }
                    if c.outcome.is_failure() {
                        p.failures += 1;
                        // Every patch is one command to the retry-loop rule.
                        let key = if c.patch { "apply_patch" } else { &c.input };
                        *failing.entry((c.patch, key)).or_default() += 1;
                    }
                    match c.outcome {
                        Outcome::Ok | Outcome::Interrupted => {}
                        Outcome::Failed(_) => p.friction.command_failures += 1,
                        Outcome::Timeout => p.friction.timeouts += 1,
                        Outcome::Denied => {
                            p.friction.denials += 1;
                            denials += 1;
                        }
                        Outcome::Blocked => p.friction.hook_blocks += 1,
                        Outcome::PatchFailed => p.friction.patch_failures += 1,
                    }
                    if c.input == FIXED_COMMAND && c.outcome.is_failure() {
                        fixed += 1;
                    }
                }
            }
            if denials >= 2 {
                p.friction.repeated_denials += 1;
            }
            p.friction.retry_loops += failing.values().filter(|n| **n >= 3).count() as u32;
            p.fixed_friction += fixed;
            if fixed > 0 {
                p.fixed_friction_sessions += 1;
            }
            let calls = s.turns.iter().flat_map(|t| &t.calls);
            if calls.clone().next().is_some() && denials == 0 {
                p.delight.zero_denial_sessions += 1;
            }
            let ended = s.turns.iter().any(|t| !t.aborted);
            let last_failed = calls.last().is_some_and(|c| c.outcome.is_failure());
            let last_aborted = s.turns.last().is_some_and(|t| t.aborted);
            if ended && s.turns.len() <= 3 && !last_failed && !last_aborted {
                p.delight.fast_completions += 1;
            }
        }
        p
    }
}
