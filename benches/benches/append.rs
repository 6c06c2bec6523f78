//! Append throughput: records/s through the locked writer, the way a long-lived writer
//! (import) and a one-shot writer (a hook process: open, lock, write, close) do it.

use std::hint::black_box;

use codex_contract::append::{encode, Appender};
use codex_contract::record::{Excerpt, Phase, Record, Source, Status};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn record(i: u64) -> Record {
    let mut r = Record::new(Source::CodexHook, Phase::Post);
    r.session_id = Some("019a6c1e-bench".into());
    r.call_id = Some(format!("call_{i}"));
    r.tool = Some("Bash".into());
    r.input = Some("cargo test -p codex-contract --test concurrent_append".into());
    r.output = Some(Excerpt::new(
        &"test fold::tests::pre_only_call_stays_unknown ... ok\n".repeat(6),
        4096,
    ));
    r.status = Some(Status::Ok);
    r
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("toolcalls.ndjson");
    let recs: Vec<Record> = (0..1000).map(record).collect();

    let mut g = c.benchmark_group("append");
    g.throughput(Throughput::Elements(1));
    g.bench_function("encode", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % recs.len();
            black_box(encode(&recs[i]))
        })
    });
    g.bench_function("held_open", |b| {
        let mut a = Appender::open(&path).unwrap();
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % recs.len();
            a.append(std::slice::from_ref(&recs[i])).unwrap()
        })
    });
    g.bench_function("one_shot_open_lock_write_close", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % recs.len();
            codex_contract::append::append(&path, &recs[i]).unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
