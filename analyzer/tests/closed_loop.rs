//! Signals, clusters and the AGENTS.md guidance block on crafted calls and session events.

use chrono::{DateTime, Duration, Utc};
use codex_analyzer::cluster::{self, cluster, Cluster, ClusterOptions};
use codex_analyzer::guidance::{update_agents_md, GuidanceOptions, BEGIN, END};
use codex_analyzer::signals::{analyze, Friction, SessionSignals};
use codex_contract::record::events;
use codex_contract::{Call, Excerpt, Feedback, Phase, Record, Source, Status};
use sha2::{Digest, Sha256};

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-01T12:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn at(secs: i64) -> DateTime<Utc> {
    t0() + Duration::seconds(secs)
}

/// A call in session `s`, turn `turn`, at `secs` after t0.
fn call(s: &str, turn: &str, id: &str, secs: i64, input: &str, status: Status) -> Call {
    Call {
        session_id: Some(s.to_string()),
        call_id: id.to_string(),
        turn_id: (!turn.is_empty()).then(|| turn.to_string()),
        tool: Some("Bash".into()),
        input: Some(input.to_string()),
        output: None,
        stderr: None,
        exit_code: match status {
            Status::Ok => Some(0),
            Status::Failed => Some(1),
            _ => None,
        },
        signal: None,
        status,
        duration_ms: Some(10),
        error_type: status.is_failure().then(|| "nonzero_exit".to_string()),
        cwd: None,
        git_head: None,
        truncated: None,
        first_ts: at(secs),
        last_ts: at(secs),
        sources: vec![Source::Rollout],
        records: 2,
    }
}

fn with_error(mut c: Call, error_type: &str, output: &str) -> Call {
    c.error_type = Some(error_type.to_string());
    c.output = Some(Excerpt::new(output, 4096));
    c
}

fn ev(s: &str, secs: i64, name: &str, turn: &str) -> Record {
    let mut r = Record::at(at(secs), Source::CodexHook, Phase::Session);
    r.session_id = Some(s.to_string());
    r.event = Some(name.to_string());
    r.turn_id = (!turn.is_empty()).then(|| turn.to_string());
    r
}

fn prompt(s: &str, secs: i64, turn: &str, feedback: Option<Feedback>) -> Record {
    let mut r = ev(s, secs, events::USER_PROMPT, turn);
    r.prompt_len = Some(20);
    r.feedback = feedback;
    r
}

/// A clean two-turn session: prompt, two ok calls, stop; prompt, one ok call, stop.
fn baseline() -> (Vec<Call>, Vec<Record>) {
    let calls = vec![
        call("s1", "t1", "c1", 1, "ls", Status::Ok),
        call("s1", "t1", "c2", 2, "cargo build", Status::Ok),
        call("s1", "t2", "c3", 11, "cargo test", Status::Ok),
    ];
    let recs = vec![
        ev("s1", 0, events::SESSION_START, ""),
        prompt("s1", 0, "t1", None),
        ev("s1", 5, events::STOP, "t1"),
        prompt("s1", 10, "t2", None),
        ev("s1", 15, events::STOP, "t2"),
    ];
    (calls, recs)
}

fn session_friction(calls: &[Call], recs: &[Record]) -> Friction {
    let s = analyze(calls, recs);
    assert_eq!(s.per_session.len(), 1);
    s.per_session[0].friction.clone()
}

#[test]
fn baseline_has_no_friction_and_full_delight() {
    let (calls, recs) = baseline();
    let s = analyze(&calls, &recs);
    let x = &s.per_session[0];
    assert_eq!(x.friction, Friction::default());
    assert_eq!(x.turns, 2);
    assert!(x.ended);
    assert!(x.delight.fast_completion);
    assert!(x.delight.zero_denials);
    assert_eq!(x.delight.first_attempt_turns, 2);
    assert_eq!(x.delight.positive_feedback, 0);
    assert_eq!(s.sessions, 1);
    assert_eq!(s.rates.first_attempt_success_rate, 1.0);
}

#[test]
fn each_friction_signal_fires_exactly_when_planted() {
    type Plant = Box<dyn Fn(&mut Vec<Call>, &mut Vec<Record>)>;
    let cases: Vec<(&str, Plant, Friction)> = vec![
        (
            "command failure",
            Box::new(|c, _| c.push(call("s1", "t1", "f1", 3, "make", Status::Failed))),
            Friction {
                command_failures: 1,
                ..Friction::default()
            },
        ),
        (
            "one denial is not repeated",
            Box::new(|c, _| c.push(call("s1", "t1", "d1", 3, "rm -rf x", Status::Denied))),
            Friction {
                denials: 1,
                ..Friction::default()
            },
        ),
        (
            "two denials are repeated",
            Box::new(|c, _| {
                c.push(call("s1", "t1", "d1", 3, "rm -rf x", Status::Denied));
                c.push(call("s1", "t2", "d2", 12, "curl x", Status::Denied));
            }),
            Friction {
                denials: 2,
                repeated_denials: 1,
                ..Friction::default()
            },
        ),
        (
            "hook block",
            Box::new(|c, _| c.push(call("s1", "t1", "b1", 3, "git push", Status::Blocked))),
            Friction {
                hook_blocks: 1,
                ..Friction::default()
            },
        ),
        (
            "truncated output",
            Box::new(|c, _| {
                let mut x = call("s1", "t1", "tr", 3, "cat big.log", Status::Ok);
                x.truncated = Some(true);
                c.push(x);
            }),
            Friction {
                truncations: 1,
                ..Friction::default()
            },
        ),
        (
            "one compaction seen by three sources",
            Box::new(|_, r| {
                r.push(ev("s1", 6, events::PRE_COMPACT, ""));
                r.push(ev("s1", 7, events::COMPACTION, ""));
                r.push(ev("s1", 8, events::POST_COMPACT, ""));
            }),
            Friction {
                compactions: 1,
                ..Friction::default()
            },
        ),
        (
            "context window exhausted (event and call are one)",
            Box::new(|c, r| {
                r.push(ev("s1", 12, events::CONTEXT_WINDOW_EXCEEDED, "t2"));
                c.push(with_error(
                    call("s1", "t2", "cw", 12, "cat all", Status::Failed),
                    "context_window_exceeded",
                    "error: context_window_exceeded",
                ));
            }),
            Friction {
                context_window_exceeded: 1,
                ..Friction::default()
            },
        ),
        (
            "patch failure",
            Box::new(|c, _| {
                let mut x = with_error(
                    call("s1", "t1", "p1", 3, "*** Begin Patch", Status::Failed),
                    "patch_failed",
                    "apply_patch verification failed",
                );
                x.tool = Some("apply_patch".into());
                c.push(x);
            }),
            Friction {
                patch_failures: 1,
                ..Friction::default()
            },
        ),
        (
            "timeouts by status and by error type",
            Box::new(|c, _| {
                c.push(call("s1", "t1", "to1", 3, "sleep 999", Status::Timeout));
                c.push(with_error(
                    call("s1", "t1", "to2", 4, "sleep 998", Status::Failed),
                    "timeout",
                    "timed out",
                ));
            }),
            Friction {
                timeouts: 2,
                ..Friction::default()
            },
        ),
        (
            "two failures of one command are no retry loop",
            Box::new(|c, _| {
                c.push(call(
                    "s1",
                    "t1",
                    "r1",
                    3,
                    "cargo test -- --x 1",
                    Status::Failed,
                ));
                c.push(call(
                    "s1",
                    "t1",
                    "r2",
                    4,
                    "cargo test -- --x 2",
                    Status::Failed,
                ));
            }),
            Friction {
                command_failures: 2,
                ..Friction::default()
            },
        ),
        (
            "three failures of one normalized command are a retry loop",
            Box::new(|c, _| {
                c.push(call(
                    "s1",
                    "t1",
                    "r1",
                    3,
                    "cargo test -- --x 1",
                    Status::Failed,
                ));
                c.push(call(
                    "s1",
                    "t1",
                    "r2",
                    4,
                    "cargo  test -- --x 2",
                    Status::Failed,
                ));
                c.push(call(
                    "s1",
                    "t2",
                    "r3",
                    12,
                    "cargo test -- --x 3",
                    Status::Failed,
                ));
            }),
            Friction {
                command_failures: 3,
                retry_loops: 1,
                ..Friction::default()
            },
        ),
        (
            "aborted turn",
            Box::new(|_, r| {
                let mut a = ev("s1", 4, events::TURN_ABORTED, "t1");
                a.reason = Some("interrupted".into());
                r.push(a);
            }),
            Friction {
                aborted_turns: 1,
                ..Friction::default()
            },
        ),
        (
            "negative feedback",
            Box::new(|_, r| {
                r.retain(|x| {
                    !(x.event.as_deref() == Some(events::USER_PROMPT)
                        && x.turn_id.as_deref() == Some("t2"))
                });
                r.push(prompt("s1", 10, "t2", Some(Feedback::Negative)));
            }),
            Friction {
                negative_feedback: 1,
                ..Friction::default()
            },
        ),
    ];
    for (name, plant, want) in cases {
        let (mut calls, mut recs) = baseline();
        plant(&mut calls, &mut recs);
        assert_eq!(session_friction(&calls, &recs), want, "{name}");
    }
}

#[test]
fn friction_lands_in_the_right_turn() {
    let (mut calls, mut recs) = baseline();
    calls.push(call("s1", "t2", "f1", 12, "make", Status::Failed));
    recs.push(ev("s1", 13, events::TURN_ABORTED, "t2"));
    let s = analyze(&calls, &recs);
    let turns = &s.per_session[0].turn_signals;
    assert_eq!(turns.len(), 2);
    assert_eq!(turns[0].turn, "t1");
    assert_eq!(turns[0].friction, Friction::default());
    assert!(turns[0].first_attempt_success);
    assert_eq!(turns[1].friction.command_failures, 1);
    assert!(turns[1].aborted);
    assert!(!turns[1].first_attempt_success);
    assert_eq!(turns[1].failures, 1);
}

#[test]
fn fast_completion_needs_an_end_few_turns_and_no_unresolved_failure() {
    let fast = |calls: &[Call], recs: &[Record]| {
        analyze(calls, recs).per_session[0].delight.fast_completion
    };
    let (calls, recs) = baseline();
    assert!(fast(&calls, &recs));

    // Three turns still fast, four not.
    let (mut c3, mut r3) = baseline();
    r3.push(prompt("s1", 20, "t3", None));
    c3.push(call("s1", "t3", "c4", 21, "ls", Status::Ok));
    assert!(fast(&c3, &r3));
    r3.push(prompt("s1", 30, "t4", None));
    c3.push(call("s1", "t4", "c5", 31, "ls", Status::Ok));
    assert!(!fast(&c3, &r3));

    // No end event: still running, not a completion.
    let (calls, mut recs) = baseline();
    recs.retain(|r| r.event.as_deref() != Some(events::STOP));
    assert!(!fast(&calls, &recs));

    // The last settled call failed: unresolved.
    let (mut calls, recs) = baseline();
    calls.push(call("s1", "t2", "f9", 14, "cargo test", Status::Failed));
    assert!(!fast(&calls, &recs));
    // ...but a failure that a later success resolved is fine.
    let (mut calls, recs) = baseline();
    calls.push(call("s1", "t2", "f9", 10, "cargo test", Status::Failed));
    assert!(fast(&calls, &recs));

    // The last turn was aborted.
    let (calls, mut recs) = baseline();
    recs.push(ev("s1", 14, events::INTERRUPT, "t2"));
    assert!(!fast(&calls, &recs));
}

#[test]
fn zero_denials_and_first_attempt_success() {
    let (calls, recs) = baseline();
    assert!(analyze(&calls, &recs).per_session[0].delight.zero_denials);
    let (mut calls, recs) = baseline();
    calls.push(call("s1", "t1", "d", 3, "rm x", Status::Denied));
    let s = analyze(&calls, &recs);
    assert!(!s.per_session[0].delight.zero_denials);
    // t1 had a denial: only t2 succeeded first time.
    assert_eq!(s.per_session[0].delight.first_attempt_turns, 1);
    assert_eq!(s.rates.first_attempt_success_rate, 0.5);

    // A call without evidence is not a success.
    let (mut calls, recs) = baseline();
    calls[2].status = Status::Unknown;
    assert_eq!(
        analyze(&calls, &recs).per_session[0]
            .delight
            .first_attempt_turns,
        1
    );

    // A session with prompts but no calls has no denials to be proud of.
    let recs = vec![prompt("s2", 0, "t1", None), ev("s2", 1, events::STOP, "t1")];
    let s = analyze(&[], &recs);
    assert!(!s.per_session[0].delight.zero_denials);
    assert_eq!(s.per_session[0].delight.first_attempt_turns, 0);
}

#[test]
fn positive_feedback_is_credited_to_the_turn_before_the_prompt() {
    let (calls, mut recs) = baseline();
    recs.retain(|r| {
        r.turn_id.as_deref() != Some("t2") || r.event.as_deref() != Some(events::USER_PROMPT)
    });
    recs.push(prompt("s1", 10, "t2", Some(Feedback::Positive)));
    let s = analyze(&calls, &recs);
    let x = &s.per_session[0];
    assert_eq!(x.delight.positive_feedback, 1);
    assert_eq!(x.turn_signals[0].next_feedback, Some(Feedback::Positive));
    assert_eq!(x.turn_signals[1].next_feedback, None);
    assert_eq!(s.delight.positive_feedback, 1);
    assert_eq!(s.rates.positive_feedback_rate, 0.5);
    assert_eq!(x.friction.negative_feedback, 0);
}

#[test]
fn turns_without_ids_follow_the_prompts() {
    // Claude Code style: no turn IDs anywhere.
    let calls = vec![
        call("s9", "", "a", 1, "ls", Status::Ok),
        call("s9", "", "b", 2, "make", Status::Failed),
        call("s9", "", "c", 11, "make", Status::Ok),
    ];
    let recs = vec![
        prompt("s9", 0, "", None),
        ev("s9", 5, events::STOP, ""),
        prompt("s9", 10, "", Some(Feedback::Positive)),
        ev("s9", 12, events::STOP, ""),
    ];
    let s = analyze(&calls, &recs);
    let x = &s.per_session[0];
    let turns: Vec<(&str, u32, u32)> = x
        .turn_signals
        .iter()
        .map(|t| (t.turn.as_str(), t.calls, t.failures))
        .collect();
    assert_eq!(turns, vec![("#1", 2, 1), ("#2", 1, 0)]);
    assert_eq!(x.turn_signals[0].next_feedback, Some(Feedback::Positive));
    assert!(x.delight.fast_completion);
}

#[test]
fn totals_per_tool_and_error_type_and_the_sessionless_bucket() {
    let (mut calls, recs) = baseline();
    calls.push(with_error(
        call("s1", "t1", "f1", 3, "ls /nope", Status::Failed),
        "file_not_found",
        "No such file",
    ));
    let mut patch = with_error(
        call("s2", "t1", "p", 3, "*** Begin Patch", Status::Failed),
        "patch_failed",
        "apply_patch verification failed",
    );
    patch.tool = Some("apply_patch".into());
    calls.push(patch);
    let mut loose = with_error(
        call("x", "", "e1", 50, "ls /nope", Status::Failed),
        "file_not_found",
        "No such file",
    );
    loose.session_id = None;
    loose.tool = Some("exec".into());
    calls.push(loose);

    let s = analyze(&calls, &recs);
    assert_eq!(s.sessions, 2, "the sessionless bucket is not a session");
    assert_eq!(s.calls, 6);
    assert_eq!(s.failures, 3);
    assert_eq!(s.rates.failure_rate, 0.5);
    let tools: Vec<(&str, u32, u32, u32)> = s
        .by_tool
        .iter()
        .map(|t| (t.tool.as_str(), t.calls, t.failures, t.patch_failures))
        .collect();
    assert_eq!(
        tools,
        vec![
            ("Bash", 4, 1, 0),
            ("apply_patch", 1, 1, 1),
            ("exec", 1, 1, 0)
        ]
    );
    let types: Vec<(&str, u32, u32)> = s
        .by_error_type
        .iter()
        .map(|e| (e.error_type.as_str(), e.count, e.sessions))
        .collect();
    assert_eq!(
        types,
        vec![("file_not_found", 2, 1), ("patch_failed", 1, 1)]
    );
    let bucket = s.per_session.last().unwrap();
    assert_eq!(bucket.session_id, None);
    assert!(!bucket.delight.zero_denials && !bucket.delight.fast_completion);
    assert_eq!(s.friction.command_failures, 2);
    assert_eq!(s.friction.patch_failures, 1);
}

/// A deterministic permutation (LCG Fisher–Yates).
fn shuffle<T>(v: &mut [T], seed: u64) {
    let mut x = seed;
    for i in (1..v.len()).rev() {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let j = (x >> 33) as usize % (i + 1);
        v.swap(i, j);
    }
}

fn friction_mix() -> (Vec<Call>, Vec<Record>) {
    let mut calls = Vec::new();
    for s in 0..6 {
        let sid = format!("s{s}");
        for k in 0..4 {
            let secs = s * 1000 + k * 10;
            calls.push(with_error(
                call(&sid, "t1", &format!("ct{s}{k}"), secs, &format!("cargo test --test t{k}"), Status::Failed),
                "test_failure",
                &format!("running {k} tests\ntest result: FAILED. {k} passed; 1 failed; finished in 0.{k}s"),
            ));
        }
        calls.push(with_error(
            call(
                &sid,
                "t2",
                &format!("nf{s}"),
                s * 1000 + 100,
                "./run.sh",
                Status::Failed,
            ),
            "command_not_found",
            "sh: ./run.sh: not found",
        ));
        calls.push(call(
            &sid,
            "t2",
            &format!("ok{s}"),
            s * 1000 + 200,
            "cargo test -p core",
            Status::Ok,
        ));
    }
    let recs = (0..6)
        .flat_map(|s| {
            let sid = format!("s{s}");
            vec![
                prompt(&sid, s * 1000, "t1", None),
                ev(&sid, s * 1000 + 300, events::STOP, "t2"),
            ]
        })
        .collect();
    (calls, recs)
}

#[test]
fn signals_and_clusters_are_deterministic_under_shuffle() {
    let (calls, recs) = friction_mix();
    let opts = ClusterOptions::at(at(10_000));
    let want_signals: SessionSignals = analyze(&calls, &recs);
    let want_clusters = cluster(&calls, &opts);
    for seed in 1..6 {
        let (mut c, mut r) = (calls.clone(), recs.clone());
        shuffle(&mut c, seed);
        shuffle(&mut r, seed + 100);
        assert_eq!(analyze(&c, &r), want_signals, "seed {seed}");
        assert_eq!(cluster(&c, &opts), want_clusters, "seed {seed}");
    }
    assert_eq!(
        serde_json::to_string(&want_signals).unwrap(),
        serde_json::to_string(&analyze(&calls, &recs)).unwrap()
    );
}

#[test]
fn clusters_group_by_template_and_ids_follow_the_documented_hash() {
    let (calls, _) = friction_mix();
    let clusters = cluster(&calls, &ClusterOptions::at(at(10_000)));
    // cargo test --test t0..t3 template to `cargo test --test t<n>`? No: `t0` is one word,
    // numbers inside words stay, so each test target is its own command.
    let keys: Vec<(&str, &str, &str, u32, u32)> = clusters
        .iter()
        .map(|c| {
            (
                c.command_template.as_str(),
                c.error_type.as_str(),
                c.error_template.as_str(),
                c.count,
                c.sessions,
            )
        })
        .collect();
    assert!(keys.contains(&("<path>", "command_not_found", "sh: <path>: not found", 6, 6)));
    assert!(keys.contains(&(
        "cargo test --test t0",
        "test_failure",
        "test result: FAILED. <num> passed; <num> failed; finished in <duration>",
        6,
        6
    )));
    assert_eq!(clusters.len(), 5);

    for c in &clusters {
        let mut h = Sha256::new();
        h.update(
            format!(
                "cluster-v2\n{}\n{}\n{}\n{}",
                c.tool, c.command_template, c.error_type, c.error_template
            )
            .as_bytes(),
        );
        let hex: String = h.finalize()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(c.id, format!("cl2-{hex}"));
        assert_eq!(c.algorithm, cluster::CLUSTER_ALGORITHM);
    }

    // IDs do not depend on what else is in the log, nor on when it happened.
    let only_run: Vec<Call> = calls
        .iter()
        .filter(|c| c.input.as_deref() == Some("./run.sh"))
        .map(|c| {
            let mut c = c.clone();
            c.first_ts += Duration::days(3);
            c.last_ts += Duration::days(3);
            c
        })
        .collect();
    let alone = cluster(&only_run, &ClusterOptions::at(at(10_000)));
    assert_eq!(alone.len(), 1);
    assert!(clusters.iter().any(|c| c.id == alone[0].id));
}

#[test]
fn impact_ranks_by_frequency_severity_sessions_and_recency() {
    let now = at(100 * 3600);
    let mut calls = Vec::new();
    // A: 4 file_not_found failures in one session, an hour ago.
    for k in 0..4 {
        calls.push(with_error(
            call(
                "a",
                "t",
                &format!("a{k}"),
                99 * 3600 - k,
                "cat cfg.toml",
                Status::Failed,
            ),
            "file_not_found",
            "cat: cfg.toml: No such file or directory",
        ));
    }
    // B: 2 timeouts in two sessions, an hour ago (severity 2.5).
    for k in 0..2 {
        calls.push(with_error(
            call(
                &format!("b{k}"),
                "t",
                "b",
                99 * 3600,
                "cargo bench",
                Status::Failed,
            ),
            "timeout",
            "command timed out",
        ));
    }
    // C: like A in size but four days old.
    for k in 0..4 {
        calls.push(with_error(
            call(
                "c",
                "t",
                &format!("c{k}"),
                4 * 3600 - k,
                "make lint",
                Status::Failed,
            ),
            "file_not_found",
            "make: lint.sh: No such file or directory",
        ));
    }
    let clusters = cluster(&calls, &ClusterOptions::at(now));
    let order: Vec<&str> = clusters
        .iter()
        .map(|c| c.command_template.as_str())
        .collect();
    assert_eq!(order, vec!["cargo bench", "cat cfg.toml", "make lint"]);
    let half = 0.5f64.powf(1.0 / 24.0);
    let expect = |x: f64| (x * 10_000.0).round() / 10_000.0;
    assert_eq!(clusters[0].impact, expect(2.0 * 2.5 * 2.0 * half));
    assert_eq!(clusters[1].impact, expect(4.0 * 1.0 * 1.0 * half));
    assert_eq!(clusters[2].impact, expect(4.0 * 0.5f64.powf(96.0 / 24.0)));
    assert!(clusters[2].impact < clusters[1].impact);
}

#[test]
fn samples_alternatives_and_fixes() {
    let mut calls = Vec::new();
    for k in 0..5 {
        let mut c = with_error(
            call(
                "s1",
                "t",
                &format!("f{k}"),
                k * 10,
                &format!("./check.sh --run {k}"),
                Status::Failed,
            ),
            "nonzero_exit",
            &format!("line 1\nerror: config/ready.txt is missing ({k})"),
        );
        c.git_head = Some("a".repeat(40));
        calls.push(c);
    }
    // Two identical failures make one sample, not two.
    for k in 5..7 {
        let mut c = with_error(
            call(
                "s1",
                "t",
                &format!("f{k}"),
                k * 10,
                "./check.sh --run 4",
                Status::Failed,
            ),
            "nonzero_exit",
            "line 1\nerror: config/ready.txt is missing (4)",
        );
        c.git_head = Some("a".repeat(40));
        calls.push(c);
    }
    // The same command succeeding at the same commit is neither an alternative nor a fix.
    let mut same_cmd = call("s1", "t", "again", 65, "./check.sh --run 7", Status::Ok);
    same_cmd.git_head = Some("a".repeat(40));
    calls.push(same_cmd);
    // Same session, same tool, another command, after the last failure: the alternative.
    calls.push(call(
        "s1",
        "t",
        "other",
        70,
        "bash check.sh --skip",
        Status::Ok,
    ));
    // A different session's success is not an alternative for s1 — but it is the fix.
    let mut fixed = call("s2", "t", "g", 500, "./check.sh --run 9", Status::Ok);
    fixed.git_head = Some("b".repeat(40));
    calls.push(fixed);

    let c = &cluster(&calls, &ClusterOptions::at(at(1000)))[0];
    assert_eq!(c.count, 7);
    assert_eq!(c.samples.len(), 3);
    let sample_ids: Vec<&str> = c.samples.iter().map(|s| s.call_id.as_str()).collect();
    assert_eq!(sample_ids, vec!["f2", "f3", "f6"]);
    assert_eq!(c.last_command.as_deref(), Some("./check.sh --run 4"));
    assert_eq!(c.error_template, "error: <path> is missing (<num>)");
    let alt = c.working_alternative.as_ref().unwrap();
    assert_eq!(alt.command, "bash check.sh --skip");
    assert_eq!(c.fixed_at, Some("b".repeat(40)));
    assert_eq!(c.resolved_at, Some(at(500)));

    // A success at the same commit is no fix (the change was not committed).
    let mut same = calls.clone();
    same.last_mut().unwrap().git_head = Some("a".repeat(40));
    let c = &cluster(&same, &ClusterOptions::at(at(1000)))[0];
    assert_eq!(c.fixed_at, None);

    // Only repeats: one sample.
    let repeats: Vec<Call> = calls
        .iter()
        .filter(|c| c.input.as_deref() == Some("./check.sh --run 4") && c.status == Status::Failed)
        .cloned()
        .collect();
    assert_eq!(repeats.len(), 3);
    let c = &cluster(&repeats, &ClusterOptions::at(at(1000)))[0];
    assert_eq!(c.samples.len(), 1);
    assert_eq!(c.samples[0].call_id, "f6");
}

#[test]
fn render_markdown_is_bounded() {
    let (calls, recs) = friction_mix();
    let s = analyze(&calls, &recs);
    let md = codex_analyzer::signals::render_markdown(&s, 1);
    assert!(md.starts_with("## Friction and delight"));
    assert!(md.contains("| retry_loops | 0 |"));
    let by_type_rows = md
        .split("### By error type")
        .nth(1)
        .unwrap()
        .split("###")
        .next()
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| error type"))
        .count();
    assert_eq!(by_type_rows, 1);
    let clusters = cluster(&calls, &ClusterOptions::at(at(10_000)));
    let md = cluster::render_markdown(&clusters, 3);
    assert_eq!(
        md.lines()
            .filter(|l| l.starts_with("| ") && l.contains("cl2-"))
            .count(),
        3
    );
    assert!(md.contains("… and 2 more."));
}

// --- guidance -------------------------------------------------------------------------

fn ranked_clusters() -> Vec<Cluster> {
    let (calls, _) = friction_mix();
    cluster(&calls, &ClusterOptions::at(at(10_000)))
}

#[test]
fn guidance_block_is_appended_and_lists_alternatives() {
    let clusters = ranked_clusters();
    let existing = "# Agents\n\nUse `cargo xtask`.";
    let out = update_agents_md(existing, &clusters, &GuidanceOptions { top: 2 }).unwrap();
    assert!(out.starts_with(existing), "original bytes are a prefix");
    assert_eq!(&out[existing.len()..existing.len() + 2], "\n\n");
    assert!(out.ends_with(&format!("{END}\n")));
    assert_eq!(out.matches(BEGIN).count(), 1);
    let block = &out[out.find(BEGIN).unwrap()..];
    assert_eq!(
        block
            .lines()
            .filter(|l| l.starts_with(char::is_numeric))
            .count(),
        2
    );
    assert!(
        block.contains("What worked instead: `cargo test -p core`"),
        "{block}"
    );

    // An empty file gets just the block.
    let out = update_agents_md("", &clusters, &GuidanceOptions::default()).unwrap();
    assert!(out.starts_with(BEGIN));
}

#[test]
fn guidance_update_preserves_every_byte_outside_the_block_and_is_idempotent() {
    let clusters = ranked_clusters();
    let before = "# Rules\r\n\r\nKeep CRLF — and ünïcode.\r\n\r\n";
    let after = "\r\n## Later section\r\n  trailing spaces   \r\nno final newline";
    let stale = format!("{BEGIN}\nold content\n- stale item\n{END}");
    let existing = format!("{before}{stale}{after}");
    let opts = GuidanceOptions { top: 3 };
    let once = update_agents_md(&existing, &clusters, &opts).unwrap();
    assert!(once.starts_with(before));
    assert!(once.ends_with(after));
    assert!(!once.contains("stale item"));
    let block = &once[before.len()..once.len() - after.len()];
    assert!(block.starts_with(BEGIN) && block.ends_with(END));
    assert_eq!(update_agents_md(&once, &clusters, &opts).unwrap(), once);

    // Fewer clusters: only the block changes.
    let fewer = update_agents_md(&once, &clusters[..1], &opts).unwrap();
    assert!(fewer.starts_with(before) && fewer.ends_with(after));
    assert_ne!(fewer, once);
}

#[test]
fn guidance_leaves_files_alone_without_recurring_friction() {
    let mut clusters = ranked_clusters();
    for c in &mut clusters {
        c.count = 1;
    }
    let text = "# Agents\n";
    assert_eq!(
        update_agents_md(text, &clusters, &GuidanceOptions::default()).unwrap(),
        text
    );
    // An existing block is emptied, not removed.
    let with_block = format!("# Agents\n{BEGIN}\nold\n{END}\n");
    let out = update_agents_md(&with_block, &clusters, &GuidanceOptions::default()).unwrap();
    assert!(out.contains("No recurring friction"));
    assert!(out.starts_with("# Agents\n") && out.ends_with(&format!("{END}\n")));
}
