//! Process-level and criterion benchmarks live here; see benches/ and overhead.sh.
