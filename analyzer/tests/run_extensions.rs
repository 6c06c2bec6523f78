//! The extension points later stages use (closed-loop signals, GitHub publishing): an
//! extension's findings go through deltas and the state like the built-in ones, its Markdown
//! lands under the chosen run-log heading, its JSON sections appear in the output, and a
//! ticket set in `publish` is stored with its baseline and shown in the log.

mod common;

use codex_analyzer::finding::{Finding, RuleId, Severity};
use codex_analyzer::run::{
    self, Extension, LogExtra, LogSection, PublishedItem, RunContext, RunOutput, RunRequest,
    Signals,
};
use codex_contract::state::{State, TicketRef};
use common::*;

struct Closedloop;

impl Extension for Closedloop {
    fn name(&self) -> &str {
        "closedloop"
    }
    fn analyze(
        &mut self,
        _ctx: &RunContext,
        signals: &Signals,
        out: &mut RunOutput,
    ) -> anyhow::Result<()> {
        // Uses the folded calls the collector kept.
        let sessions = signals
            .tool_calls
            .calls
            .iter()
            .filter_map(|c| c.session_id.clone())
            .collect::<std::collections::BTreeSet<_>>();
        out.sessions = Some(serde_json::json!({ "count": sessions.len() }));
        let mut f = Finding::new(
            RuleId::ErrorTypeRepeat,
            "retry_loop",
            "a planted extra finding".into(),
            Severity::High,
        );
        f.evidence.count = 3;
        out.findings.push(f);
        out.log_extras.push(LogExtra {
            section: LogSection::FailureClusters,
            markdown: "Friction clusters: EXTRA-MARKER".into(),
        });
        Ok(())
    }
    fn publish(
        &mut self,
        ctx: &RunContext,
        out: &mut RunOutput,
        state: &mut State,
    ) -> anyhow::Result<()> {
        let fp = out.findings[0].fingerprint.clone();
        state.findings.get_mut(&fp).unwrap().set_ticket(
            TicketRef {
                number: 42,
                url: "https://example.invalid/issues/42".into(),
                state: None,
            },
            &ctx.run_id,
        );
        out.tickets.push(PublishedItem {
            kind: "ticket".into(),
            action: "created".into(),
            fingerprint: Some(fp),
            number: Some(42),
            url: Some("https://example.invalid/issues/42".into()),
            title: "a planted extra finding".into(),
        });
        Ok(())
    }
}

#[test]
fn extensions_add_findings_sections_and_tickets() {
    let dir = tempfile::tempdir().unwrap();
    build_scenario(dir.path(), &toolcall_lines());
    let req = RunRequest {
        repo: Some(dir.path().to_path_buf()),
        now: Some(now()),
        apply: true,
        ..RunRequest::default()
    };
    let out = run::run_with(&req, &mut [&mut Closedloop]).unwrap();
    assert_eq!(out.findings.len(), FINDINGS + 1);
    assert_eq!(
        out.findings[0].subject, "retry_loop",
        "high severity sorts first"
    );
    assert_eq!(out.sessions, Some(serde_json::json!({ "count": 3 })));
    let deltas = out.deltas.as_ref().unwrap();
    assert!(deltas.findings.new.contains(&out.findings[0].fingerprint));

    let log = std::fs::read_to_string(dir.path().join(".codex/improvement-log.md")).unwrap();
    let clusters = log.find("### Failure Clusters").unwrap();
    let marker = log.find("Friction clusters: EXTRA-MARKER").unwrap();
    let next = log.find("### Tool Call Analysis").unwrap();
    assert!(
        clusters < marker && marker < next,
        "the extra lands under its heading"
    );
    assert!(
        log.contains("- created [#42](https://example.invalid/issues/42): a planted extra finding"),
        "{log}"
    );

    let state = State::from_bytes(
        &std::fs::read(dir.path().join(".codex/improvement-state.json")).unwrap(),
    )
    .unwrap();
    let h = &state.findings[&out.findings[0].fingerprint];
    assert_eq!(h.ticket.as_ref().unwrap().number, 42);
    assert_eq!(h.baseline.as_ref().unwrap().count, 3);

    // The next run shows the ticketed finding's baseline beside today's count.
    let req = RunRequest {
        now: Some(codex_contract::record::parse_ts(NEXT).unwrap()),
        ..req
    };
    let out = run::run(&req).unwrap();
    let tracked = &out.deltas.as_ref().unwrap().tracked;
    assert_eq!(tracked.len(), 1);
    assert_eq!((tracked[0].baseline.count, tracked[0].current), (3, 0));
    assert!(
        out.log_section
            .contains("- Ticket #42 (error_type_repeat `retry_loop`): 3 at ticket creation"),
        "{}",
        out.log_section
    );
}
