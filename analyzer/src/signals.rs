//! Friction and delight, per session and per turn, from folded calls and session events.
//!
//! Every signal is a plain count over the contract's facts, so each figure in the run log can
//! be traced back to records. The definitions (also in `docs/closed-loop.md`):
//!
//! **Friction**, counted per turn and per session:
//! * `command_failures` — calls with status `failed` not counted below.
//! * `denials` — calls the user rejected (status `denied` or error type `approval_denied`);
//!   `repeated_denials` — sessions with [`REPEATED_DENIALS_MIN`] or more of them.
//! * `hook_blocks` — status `blocked` or error type `hook_blocked`.
//! * `timeouts` — status `timeout` or error type `timeout`.
//! * `patch_failures` — failed calls with error type `patch_failed`.
//! * `truncations` — calls whose output the agent saw truncated (`truncated: true`).
//! * `compactions` — compaction events; hooks (`pre_compact`, `post_compact`) and the rollout
//!   (`compaction`) may all report the same compaction, so the count is the largest of the
//!   three counts, not their sum.
//! * `context_window_exceeded` — the larger of the `context_window_exceeded` events and the
//!   calls with that error type (again two views of one event).
//! * `retry_loops` — the same failing command (same tool and
//!   [`crate::cluster::normalize_command`]) failing [`RETRY_LOOP_MIN`] or more times in one
//!   session; counted once per command per session.
//! * `aborted_turns` — turns with a `turn_aborted` or `interrupt` event or an aborted call.
//! * `negative_feedback` — user prompts whose `feedback` is negative.
//!
//! **Delight**:
//! * `fast_completion` — a session that ended (it has a `stop`, `turn_complete` or
//!   `session_end` event), took 1 to [`FAST_COMPLETION_MAX_TURNS`] turns, and has no
//!   unresolved failure at the end: its last settled call did not fail and its last turn was
//!   not aborted.
//! * `zero_denials` — a session with at least one call and no denial.
//! * `first_attempt_success` — a turn with at least one call, every one of them `ok` (a call
//!   with no evidence, status `unknown`, does not count as a success).
//! * `positive_feedback` — user prompts whose `feedback` is positive. Feedback is about the
//!   turn *before* the prompt, so in the per-turn view it appears as that turn's
//!   `next_feedback`.
//!
//! **Turns.** A call or event belongs to the turn its `turn_id` names. Without one (Claude
//! Code hooks, older logs) it belongs to the turn opened by the latest `user_prompt` at or
//! before it (`#1`, `#2`, … when the prompt has no `turn_id` either; `#0` before any prompt).
//! Session-wide events (start, end, compaction, subagents) create no turn unless they carry a
//! `turn_id`.
//!
//! Calls without a `session_id` (for example the exec wrapper outside an agent) are kept in
//! one bucket with `session_id: null`: their calls count in the totals, per tool and per error
//! type, but the bucket is not a session, so it has no delight and is not in `sessions`.
//!
//! The output is deterministic: sessions, turns, tools and error types are sorted, and rates
//! are rounded to 4 decimals.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use codex_contract::record::events;
use codex_contract::{Call, Feedback, Phase, Record, Status};
use serde::{Deserialize, Serialize};

use crate::cluster::normalize_command;

/// The version of these definitions, written into the JSON output.
pub const SIGNALS_VERSION: u32 = 1;
/// Failures of the same command in one session that make a retry loop.
pub const RETRY_LOOP_MIN: u32 = 3;
/// Denials in one session that make repeated denials.
pub const REPEATED_DENIALS_MIN: u32 = 2;
/// The most turns a fast completion may take.
pub const FAST_COMPLETION_MAX_TURNS: u32 = 3;

/// Friction counts (see the module documentation for each definition).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default)]
pub struct Friction {
    pub command_failures: u32,
    pub denials: u32,
    pub repeated_denials: u32,
    pub hook_blocks: u32,
    pub timeouts: u32,
    pub patch_failures: u32,
    pub truncations: u32,
    pub compactions: u32,
    pub context_window_exceeded: u32,
    pub retry_loops: u32,
    pub aborted_turns: u32,
    pub negative_feedback: u32,
}

impl Friction {
    /// All friction events. Retry loops and repeated denials count on top of the failures
    /// they are made of: a loop costs more than its failures.
    pub fn total(&self) -> u32 {
        self.rows().iter().map(|(_, n)| n).sum()
    }

    /// `(name, count)` in a fixed order, for tables.
    pub fn rows(&self) -> [(&'static str, u32); 12] {
        [
            ("command_failures", self.command_failures),
            ("denials", self.denials),
            ("repeated_denials", self.repeated_denials),
            ("hook_blocks", self.hook_blocks),
            ("timeouts", self.timeouts),
            ("patch_failures", self.patch_failures),
            ("truncations", self.truncations),
            ("compactions", self.compactions),
            ("context_window_exceeded", self.context_window_exceeded),
            ("retry_loops", self.retry_loops),
            ("aborted_turns", self.aborted_turns),
            ("negative_feedback", self.negative_feedback),
        ]
    }

    fn add(&mut self, o: &Friction) {
        self.command_failures += o.command_failures;
        self.denials += o.denials;
        self.repeated_denials += o.repeated_denials;
        self.hook_blocks += o.hook_blocks;
        self.timeouts += o.timeouts;
        self.patch_failures += o.patch_failures;
        self.truncations += o.truncations;
        self.compactions += o.compactions;
        self.context_window_exceeded += o.context_window_exceeded;
        self.retry_loops += o.retry_loops;
        self.aborted_turns += o.aborted_turns;
        self.negative_feedback += o.negative_feedback;
    }
}

/// Delight in one session.
#[derive(Serialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct Delight {
    pub fast_completion: bool,
    pub zero_denials: bool,
    /// Turns whose calls all succeeded first time.
    pub first_attempt_turns: u32,
    pub positive_feedback: u32,
}

/// Delight over all sessions.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(default)]
pub struct DelightTotals {
    pub fast_completions: u32,
    pub zero_denial_sessions: u32,
    pub first_attempt_turns: u32,
    pub positive_feedback: u32,
}

/// One turn.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct TurnSignals {
    /// The `turn_id`, or `#N` for the N-th prompt of a session without turn IDs.
    pub turn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_ts: Option<DateTime<Utc>>,
    pub calls: u32,
    pub failures: u32,
    pub friction: Friction,
    pub first_attempt_success: bool,
    pub aborted: bool,
    /// The feedback in the user's next prompt, which is about this turn.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_feedback: Option<Feedback>,
}

/// A command that failed [`RETRY_LOOP_MIN`]+ times in a session.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct RetryLoop {
    pub tool: String,
    /// The normalized (redacted) command.
    pub command: String,
    pub failures: u32,
}

/// One session.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct SessionReport {
    /// `None` for the bucket of calls without a session.
    pub session_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_ts: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_ts: Option<DateTime<Utc>>,
    pub turns: u32,
    pub calls: u32,
    pub failures: u32,
    pub prompts: u32,
    /// The session has an end-of-turn or end-of-session event.
    pub ended: bool,
    pub failure_rate: f64,
    pub friction: Friction,
    pub delight: Delight,
    pub retry_loops: Vec<RetryLoop>,
    pub turn_signals: Vec<TurnSignals>,
}

/// Aggregate rates (0 when the denominator is 0).
#[derive(Serialize, Clone, Debug, Default, PartialEq)]
pub struct Rates {
    /// Failed calls / calls.
    pub failure_rate: f64,
    /// Friction events / sessions.
    pub friction_per_session: f64,
    /// Fast completions / sessions.
    pub fast_completion_rate: f64,
    /// Zero-denial sessions / sessions with calls.
    pub zero_denial_rate: f64,
    /// First-attempt turns / turns with calls.
    pub first_attempt_success_rate: f64,
    /// Positive prompts / prompts.
    pub positive_feedback_rate: f64,
    /// Negative prompts / prompts.
    pub negative_feedback_rate: f64,
}

/// Per-tool counts.
#[derive(Serialize, Clone, Debug, Default, PartialEq)]
pub struct ToolSignals {
    pub tool: String,
    pub calls: u32,
    pub failures: u32,
    pub failure_rate: f64,
    pub denials: u32,
    pub hook_blocks: u32,
    pub timeouts: u32,
    pub patch_failures: u32,
    pub truncations: u32,
    pub sessions: u32,
}

/// Per-error-type counts.
#[derive(Serialize, Clone, Debug, Default, PartialEq)]
pub struct ErrorTypeSignals {
    pub error_type: String,
    pub count: u32,
    /// Share of all failed calls.
    pub share: f64,
    pub sessions: u32,
    pub tools: Vec<String>,
}

/// Everything [`analyze`] finds.
#[derive(Serialize, Clone, Debug, Default, PartialEq)]
pub struct SessionSignals {
    pub version: u32,
    /// Sessions (calls without a session are not one).
    pub sessions: u32,
    pub turns: u32,
    pub calls: u32,
    pub failures: u32,
    pub prompts: u32,
    pub friction: Friction,
    pub delight: DelightTotals,
    pub rates: Rates,
    pub by_tool: Vec<ToolSignals>,
    pub by_error_type: Vec<ErrorTypeSignals>,
    pub per_session: Vec<SessionReport>,
}

fn rate(n: u32, d: u32) -> f64 {
    if d == 0 {
        0.0
    } else {
        (f64::from(n) / f64::from(d) * 10_000.0).round() / 10_000.0
    }
}

/// What a failing call counts as. One call is one kind.
fn friction_of_call(c: &Call, f: &mut Friction) {
    if c.truncated == Some(true) {
        f.truncations += 1;
    }
    let et = c.error_type.as_deref().unwrap_or("");
    match c.status {
        Status::Denied => f.denials += 1,
        Status::Blocked => f.hook_blocks += 1,
        Status::Timeout => f.timeouts += 1,
        Status::Failed => match et {
            "approval_denied" => f.denials += 1,
            "hook_blocked" => f.hook_blocks += 1,
            "timeout" => f.timeouts += 1,
            "patch_failed" => f.patch_failures += 1,
            // Counted with the events below (max of the two views).
            "context_window_exceeded" => {}
            _ => f.command_failures += 1,
        },
        // Aborted calls make aborted turns; ok/running/unknown are no friction.
        _ => {}
    }
}

fn is_denial(c: &Call) -> bool {
    c.status == Status::Denied
        || (c.status == Status::Failed && c.error_type.as_deref() == Some("approval_denied"))
}

fn is_turn_event(e: &str) -> bool {
    [
        events::USER_PROMPT,
        events::STOP,
        events::TURN_COMPLETE,
        events::TURN_ABORTED,
        events::INTERRUPT,
    ]
    .contains(&e)
}

/// A session event with its parsed time.
struct Event<'a> {
    ts: DateTime<Utc>,
    name: &'a str,
    turn: Option<String>,
    feedback: Option<Feedback>,
}

/// Per-turn accumulator.
#[derive(Default)]
struct TurnAcc<'a> {
    first_ts: Option<DateTime<Utc>>,
    calls: Vec<&'a Call>,
    events: Vec<&'a str>,
    /// Feedback of the prompt that opened this turn (it is about the turn before).
    prompt_feedback: Option<Feedback>,
    has_prompt: bool,
}

impl TurnAcc<'_> {
    fn seen(&mut self, ts: DateTime<Utc>) {
        self.first_ts = Some(self.first_ts.map_or(ts, |t| t.min(ts)));
    }
}

/// The turn key of a moment without a `turn_id`: the latest prompt at or before it.
fn implicit_turn(prompts: &[(DateTime<Utc>, String)], ts: DateTime<Utc>) -> String {
    prompts
        .iter()
        .rev()
        .find(|(t, _)| *t <= ts)
        .map_or_else(|| "#0".to_string(), |(_, k)| k.clone())
}

/// Computes every signal. `session_records` may hold any records; only `phase: session` ones
/// with a parsable timestamp are used.
pub fn analyze(calls: &[Call], session_records: &[Record]) -> SessionSignals {
    // Group by session.
    let mut by_session: BTreeMap<Option<&str>, (Vec<&Call>, Vec<Event>)> = BTreeMap::new();
    for c in calls {
        by_session
            .entry(c.session_id.as_deref())
            .or_default()
            .0
            .push(c);
    }
    for r in session_records {
        if r.phase != Some(Phase::Session) {
            continue;
        }
        let (Some(ts), Some(name)) = (r.time(), r.event.as_deref()) else {
            continue;
        };
        by_session
            .entry(r.session_id.as_deref())
            .or_default()
            .1
            .push(Event {
                ts,
                name,
                turn: r.turn_id.clone(),
                feedback: r.feedback,
            });
    }

    let mut per_session: Vec<SessionReport> = by_session
        .into_iter()
        .map(|(id, (calls, events))| session(id, calls, events))
        .collect();
    per_session.sort_by(|a, b| {
        (a.session_id.is_none(), a.first_ts, &a.session_id).cmp(&(
            b.session_id.is_none(),
            b.first_ts,
            &b.session_id,
        ))
    });

    let mut out = SessionSignals {
        version: SIGNALS_VERSION,
        ..SessionSignals::default()
    };
    let mut sessions_with_calls = 0;
    let mut turns_with_calls = 0;
    for s in &per_session {
        out.calls += s.calls;
        out.failures += s.failures;
        out.friction.add(&s.friction);
        if s.session_id.is_none() {
            continue;
        }
        out.sessions += 1;
        out.turns += s.turns;
        out.prompts += s.prompts;
        out.delight.fast_completions += u32::from(s.delight.fast_completion);
        out.delight.zero_denial_sessions += u32::from(s.delight.zero_denials);
        out.delight.first_attempt_turns += s.delight.first_attempt_turns;
        out.delight.positive_feedback += s.delight.positive_feedback;
        sessions_with_calls += u32::from(s.calls > 0);
        turns_with_calls += s.turn_signals.iter().filter(|t| t.calls > 0).count() as u32;
    }
    out.rates = Rates {
        failure_rate: rate(out.failures, out.calls),
        friction_per_session: rate(out.friction.total(), out.sessions),
        fast_completion_rate: rate(out.delight.fast_completions, out.sessions),
        zero_denial_rate: rate(out.delight.zero_denial_sessions, sessions_with_calls),
        first_attempt_success_rate: rate(out.delight.first_attempt_turns, turns_with_calls),
        positive_feedback_rate: rate(out.delight.positive_feedback, out.prompts),
        negative_feedback_rate: rate(out.friction.negative_feedback, out.prompts),
    };
    out.by_tool = by_tool(calls);
    out.by_error_type = by_error_type(calls, out.failures);
    out.per_session = per_session;
    out
}

fn by_tool(calls: &[Call]) -> Vec<ToolSignals> {
    let mut m: BTreeMap<&str, (ToolSignals, BTreeSet<Option<&str>>)> = BTreeMap::new();
    for c in calls {
        let tool = c.tool.as_deref().unwrap_or("unknown");
        let (t, sessions) = m.entry(tool).or_default();
        t.calls += 1;
        t.failures += u32::from(c.status.is_failure());
        let mut f = Friction::default();
        friction_of_call(c, &mut f);
        t.denials += f.denials;
        t.hook_blocks += f.hook_blocks;
        t.timeouts += f.timeouts;
        t.patch_failures += f.patch_failures;
        t.truncations += f.truncations;
        sessions.insert(c.session_id.as_deref());
    }
    m.into_iter()
        .map(|(tool, (mut t, sessions))| {
            t.tool = tool.to_string();
            t.failure_rate = rate(t.failures, t.calls);
            t.sessions = sessions.iter().filter(|s| s.is_some()).count() as u32;
            t
        })
        .collect()
}

fn by_error_type(calls: &[Call], failures: u32) -> Vec<ErrorTypeSignals> {
    type Acc<'a> = (u32, BTreeSet<&'a str>, BTreeSet<&'a str>);
    let mut m: BTreeMap<&str, Acc> = BTreeMap::new();
    for c in calls.iter().filter(|c| c.status.is_failure()) {
        let et = c.error_type.as_deref().unwrap_or("unknown");
        let e = m.entry(et).or_default();
        e.0 += 1;
        if let Some(s) = c.session_id.as_deref() {
            e.1.insert(s);
        }
        e.2.insert(c.tool.as_deref().unwrap_or("unknown"));
    }
    let mut v: Vec<ErrorTypeSignals> = m
        .into_iter()
        .map(|(et, (count, sessions, tools))| ErrorTypeSignals {
            error_type: et.to_string(),
            count,
            share: rate(count, failures),
            sessions: sessions.len() as u32,
            tools: tools.into_iter().map(str::to_string).collect(),
        })
        .collect();
    v.sort_by(|a, b| b.count.cmp(&a.count).then(a.error_type.cmp(&b.error_type)));
    v
}

fn call_order(c: &Call) -> (DateTime<Utc>, &str) {
    (c.first_ts, c.call_id.as_str())
}

fn session(id: Option<&str>, mut calls: Vec<&Call>, mut evs: Vec<Event>) -> SessionReport {
    calls.sort_by(|a, b| call_order(a).cmp(&call_order(b)));
    // Stable: events at the same instant keep their log order.
    evs.sort_by_key(|e| e.ts);

    // Prompts open turns, in time order.
    let mut prompts: Vec<(DateTime<Utc>, String)> = Vec::new();
    for e in evs.iter().filter(|e| e.name == events::USER_PROMPT) {
        let key = e
            .turn
            .clone()
            .unwrap_or_else(|| format!("#{}", prompts.len() + 1));
        prompts.push((e.ts, key));
    }

    let mut turns: BTreeMap<String, TurnAcc> = BTreeMap::new();
    for c in &calls {
        let key = c
            .turn_id
            .clone()
            .unwrap_or_else(|| implicit_turn(&prompts, c.first_ts));
        let t = turns.entry(key).or_default();
        t.seen(c.first_ts);
        t.calls.push(c);
    }
    let mut prompt_no = 0;
    let mut session_events: Vec<&str> = Vec::new();
    for e in &evs {
        session_events.push(e.name);
        let key = if e.name == events::USER_PROMPT {
            prompt_no += 1;
            Some(prompts[prompt_no - 1].1.clone())
        } else if let Some(t) = &e.turn {
            Some(t.clone())
        } else if is_turn_event(e.name) {
            Some(implicit_turn(&prompts, e.ts))
        } else {
            None
        };
        if let Some(key) = key {
            let t = turns.entry(key).or_default();
            t.seen(e.ts);
            t.events.push(e.name);
            if e.name == events::USER_PROMPT {
                t.has_prompt = true;
                t.prompt_feedback = t.prompt_feedback.or(e.feedback);
            }
        }
    }

    let mut ordered: Vec<(String, TurnAcc)> = turns.into_iter().collect();
    ordered.sort_by(|a, b| (a.1.first_ts, &a.0).cmp(&(b.1.first_ts, &b.0)));

    let mut friction = Friction::default();
    let mut delight = Delight::default();
    let mut turn_signals = Vec::with_capacity(ordered.len());
    for (i, (key, t)) in ordered.iter().enumerate() {
        let mut f = Friction::default();
        for c in &t.calls {
            friction_of_call(c, &mut f);
        }
        f.compactions = compactions(&t.events);
        f.context_window_exceeded = context_exhaustion(&t.events, &t.calls);
        let aborted = t
            .events
            .iter()
            .any(|e| *e == events::TURN_ABORTED || *e == events::INTERRUPT)
            || t.calls.iter().any(|c| c.status == Status::Aborted);
        f.aborted_turns = u32::from(aborted);
        let next_feedback = ordered.get(i + 1).and_then(|(_, n)| n.prompt_feedback);
        f.negative_feedback = u32::from(next_feedback == Some(Feedback::Negative));
        let first_attempt_success =
            !t.calls.is_empty() && t.calls.iter().all(|c| c.status == Status::Ok);
        delight.first_attempt_turns += u32::from(first_attempt_success);
        turn_signals.push(TurnSignals {
            turn: key.clone(),
            first_ts: t.first_ts,
            calls: t.calls.len() as u32,
            failures: t.calls.iter().filter(|c| c.status.is_failure()).count() as u32,
            friction: f,
            first_attempt_success,
            aborted,
            next_feedback,
        });
    }

    // Session-level friction: calls, then the events and loops only a session sees.
    for c in &calls {
        friction_of_call(c, &mut friction);
    }
    let all_calls: Vec<&Call> = calls.clone();
    friction.compactions = compactions(&session_events);
    friction.context_window_exceeded = context_exhaustion(&session_events, &all_calls);
    friction.aborted_turns = turn_signals.iter().filter(|t| t.aborted).count() as u32;
    let feedback: Vec<Feedback> = evs
        .iter()
        .filter(|e| e.name == events::USER_PROMPT)
        .filter_map(|e| e.feedback)
        .collect();
    friction.negative_feedback = feedback
        .iter()
        .filter(|f| **f == Feedback::Negative)
        .count() as u32;
    let retry_loops = retry_loops(&calls);
    friction.retry_loops = retry_loops.len() as u32;
    let denials = calls.iter().filter(|c| is_denial(c)).count() as u32;
    friction.repeated_denials = u32::from(id.is_some() && denials >= REPEATED_DENIALS_MIN);

    let ended = evs.iter().any(|e| {
        e.name == events::STOP || e.name == events::TURN_COMPLETE || e.name == events::SESSION_END
    });
    let n_turns = turn_signals.len() as u32;
    let last_settled_failed = calls
        .iter()
        .rev()
        .find(|c| c.status.is_definite())
        .is_some_and(|c| c.status.is_failure());
    let last_turn_aborted = turn_signals.last().is_some_and(|t| t.aborted);
    if id.is_some() {
        delight.fast_completion = ended
            && (1..=FAST_COMPLETION_MAX_TURNS).contains(&n_turns)
            && !last_settled_failed
            && !last_turn_aborted;
        delight.zero_denials = !calls.is_empty() && denials == 0;
        delight.positive_feedback = feedback
            .iter()
            .filter(|f| **f == Feedback::Positive)
            .count() as u32;
    } else {
        delight = Delight::default();
    }

    let failures = calls.iter().filter(|c| c.status.is_failure()).count() as u32;
    let first_ts = calls
        .iter()
        .map(|c| c.first_ts)
        .chain(evs.iter().map(|e| e.ts))
        .min();
    let last_ts = calls
        .iter()
        .map(|c| c.last_ts)
        .chain(evs.iter().map(|e| e.ts))
        .max();
    SessionReport {
        session_id: id.map(str::to_string),
        first_ts,
        last_ts,
        turns: n_turns,
        calls: calls.len() as u32,
        failures,
        prompts: prompts.len() as u32,
        ended,
        failure_rate: rate(failures, calls.len() as u32),
        friction,
        delight,
        retry_loops,
        turn_signals,
    }
}

fn compactions(evs: &[&str]) -> u32 {
    let n = |name: &str| evs.iter().filter(|e| **e == name).count() as u32;
    n(events::COMPACTION)
        .max(n(events::PRE_COMPACT))
        .max(n(events::POST_COMPACT))
}

fn context_exhaustion(evs: &[&str], calls: &[&Call]) -> u32 {
    let from_events = evs
        .iter()
        .filter(|e| **e == events::CONTEXT_WINDOW_EXCEEDED)
        .count() as u32;
    let from_calls = calls
        .iter()
        .filter(|c| {
            c.status.is_failure() && c.error_type.as_deref() == Some("context_window_exceeded")
        })
        .count() as u32;
    from_events.max(from_calls)
}

fn retry_loops(calls: &[&Call]) -> Vec<RetryLoop> {
    let mut m: BTreeMap<(String, String), u32> = BTreeMap::new();
    for c in calls.iter().filter(|c| c.status.is_failure()) {
        let Some(input) = c.input.as_deref() else {
            continue;
        };
        let tool = c.tool.as_deref().unwrap_or("unknown");
        *m.entry((tool.to_string(), normalize_command(tool, input)))
            .or_default() += 1;
    }
    m.into_iter()
        .filter(|(_, n)| *n >= RETRY_LOOP_MIN)
        .map(|((tool, command), failures)| RetryLoop {
            tool,
            command,
            failures,
        })
        .collect()
}

/// The run-log section: totals, friction and delight tables, the worst tools, error types
/// and sessions. Bounded: at most `top` rows per table.
pub fn render_markdown(s: &SessionSignals, top: usize) -> String {
    use crate::cluster::table_cell;
    use crate::guidance::code_span;
    use crate::numbers::pct;
    let mut o = String::from("## Friction and delight\n\n");
    o.push_str(&format!(
        "{}, {}, {} ({} failed, {}), {}.\n\n",
        crate::args::plural(s.sessions, "session"),
        crate::args::plural(s.turns, "turn"),
        crate::args::plural(s.calls, "tool call"),
        s.failures,
        pct(s.rates.failure_rate),
        crate::args::plural(s.prompts, "prompt")
    ));
    o.push_str("| friction | count |\n|---|---:|\n");
    for (name, n) in s.friction.rows() {
        o.push_str(&format!("| {name} | {n} |\n"));
    }
    o.push_str(&format!(
        "| **total** | **{}** ({:.2} per session) |\n\n",
        s.friction.total(),
        s.rates.friction_per_session
    ));
    o.push_str("| delight | count | rate |\n|---|---:|---:|\n");
    o.push_str(&format!(
        "| fast completion (≤{FAST_COMPLETION_MAX_TURNS} turns) | {} | {} of sessions |\n",
        s.delight.fast_completions,
        pct(s.rates.fast_completion_rate)
    ));
    o.push_str(&format!(
        "| zero denials | {} | {} of sessions with calls |\n",
        s.delight.zero_denial_sessions,
        pct(s.rates.zero_denial_rate)
    ));
    o.push_str(&format!(
        "| first-attempt success | {} | {} of turns with calls |\n",
        s.delight.first_attempt_turns,
        pct(s.rates.first_attempt_success_rate)
    ));
    o.push_str(&format!(
        "| positive feedback | {} | {} of prompts |\n\n",
        s.delight.positive_feedback,
        pct(s.rates.positive_feedback_rate)
    ));

    if !s.by_tool.is_empty() {
        let mut tools: Vec<&ToolSignals> = s.by_tool.iter().collect();
        tools.sort_by(|a, b| b.failures.cmp(&a.failures).then(a.tool.cmp(&b.tool)));
        o.push_str("### By tool\n\n| tool | calls | failures | failure rate | denials | blocks | timeouts | patch failures | truncated |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for t in tools.iter().take(top) {
            o.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                table_cell(&code_span(&t.tool)),
                t.calls,
                t.failures,
                pct(t.failure_rate),
                t.denials,
                t.hook_blocks,
                t.timeouts,
                t.patch_failures,
                t.truncations
            ));
        }
        o.push('\n');
    }
    if !s.by_error_type.is_empty() {
        o.push_str("### By error type\n\n| error type | count | share | sessions | tools |\n|---|---:|---:|---:|---|\n");
        for e in s.by_error_type.iter().take(top) {
            o.push_str(&format!(
                "| {} | {} | {} | {} | {} |\n",
                table_cell(&e.error_type),
                e.count,
                pct(e.share),
                e.sessions,
                table_cell(&e.tools.join(", "))
            ));
        }
        o.push('\n');
    }
    let mut worst: Vec<&SessionReport> = s
        .per_session
        .iter()
        .filter(|x| x.session_id.is_some() && x.friction.total() > 0)
        .collect();
    worst.sort_by(|a, b| {
        b.friction
            .total()
            .cmp(&a.friction.total())
            .then(a.session_id.cmp(&b.session_id))
    });
    if !worst.is_empty() {
        o.push_str("### Sessions with the most friction\n\n| session | turns | calls | failures | friction | retry loops | fast | positive feedback |\n|---|---:|---:|---:|---:|---:|---|---:|\n");
        for x in worst.iter().take(top) {
            o.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
                table_cell(&code_span(x.session_id.as_deref().unwrap_or(""))),
                x.turns,
                x.calls,
                x.failures,
                x.friction.total(),
                x.friction.retry_loops,
                if x.delight.fast_completion {
                    "yes"
                } else {
                    "no"
                },
                x.delight.positive_feedback
            ));
        }
        o.push('\n');
    }
    o
}
