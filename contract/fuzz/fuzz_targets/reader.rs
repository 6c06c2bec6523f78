//! The tolerant reader on arbitrary bytes: it must never panic, must account for every
//! line (records + skipped + blank = lines), and must fold whatever it returns.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut reader = codex_contract::read::RecordReader::new(std::io::Cursor::new(data));
    let records: Vec<_> = reader.by_ref().collect();
    let stats = reader.stats();
    assert_eq!(stats.records as usize, records.len());
    assert!(stats.records + stats.skipped <= stats.lines);
    let lines = data.split(|&b| b == b'\n').count() as u64;
    assert!(stats.lines <= lines);
    let _ = codex_contract::fold(records);
});
