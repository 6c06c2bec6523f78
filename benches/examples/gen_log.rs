//! Writes the bench log: `gen_log OUT [RECORDS]` (default 1,000,000 records ending
//! 2026-03-02T13:10:00Z). Used by `benches/stores.sh`.

#[path = "../benches/loggen/mod.rs"]
mod loggen;

fn main() {
    let mut args = std::env::args().skip(1);
    let out = args.next().expect("usage: gen_log OUT [RECORDS]");
    let n: usize = args
        .next()
        .map_or(1_000_000, |s| s.parse().expect("RECORDS is a number"));
    let end = codex_contract::record::parse_ts("2026-03-02T13:10:00Z").unwrap();
    let bytes = loggen::generate(std::path::Path::new(&out), n, end);
    eprintln!("{out}: {n} records, {bytes} bytes");
}
