//! The tool-call collection phase of `codex-analyzer run` on a generated log of 1,000,000
//! records: read (the contract's tolerant reader), window filter, fold, metrics.
//!
//! The log is a realistic mix spread over 7 days, so the 24h rollup holds about a seventh of
//! it: hook `pre`/`post` records plus an authoritative rollout or exec `outcome` per call,
//! several tools, ~5% failures with error outputs, a few session events. Target: under 3 s
//! for the whole file on the project's 2-core machine.
//!
//! `BENCH_RECORDS` overrides the record count (e.g. for a quick local check).

mod loggen;

use chrono::Duration;
use codex_analyzer::collect::toolcalls::{collect, ToolCallOptions};
use codex_analyzer::collect::Window;
use codex_contract::record::parse_ts;
use criterion::{criterion_group, criterion_main, Criterion};
use loggen::generate;

fn bench(c: &mut Criterion) {
    let n: usize = std::env::var("BENCH_RECORDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let end = parse_ts("2026-03-02T13:10:00Z").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("toolcalls.ndjson");
    let bytes = generate(&path, n, end);
    let primary = Window::ending_at(end, Duration::hours(12));
    let rollup = Window::ending_at(end, Duration::hours(24));
    let opts = ToolCallOptions::default();

    // One run outside the measurement, to report what the bench measures.
    let t = std::time::Instant::now();
    let a = collect(&path, "log".into(), primary, rollup, &opts, &|_| {});
    eprintln!(
        "generated {} records ({:.1} MB); rollup holds {} records, {} calls ({} failed); one pass {:.2?}",
        a.input.counts.records,
        bytes as f64 / 1e6,
        a.input.counts.in_window,
        a.rollup.calls,
        a.rollup.failed,
        t.elapsed()
    );
    assert_eq!(a.input.counts.skipped, 0);
    assert!(a.rollup.calls > 0 && a.rollup.failed > 0);

    let mut g = c.benchmark_group("toolcalls");
    g.sample_size(10);
    g.measurement_time(std::time::Duration::from_secs(15));
    g.bench_function(format!("collect_{n}_records_7d_24h_window"), |b| {
        b.iter(|| collect(&path, "log".into(), primary, rollup, &opts, &|_| {}))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
