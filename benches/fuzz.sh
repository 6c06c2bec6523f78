#!/usr/bin/env bash
# Runs the contract's fuzz targets for a bounded time and reports executions and coverage.
#
#   benches/fuzz.sh                      # every target, 60 s each
#   benches/fuzz.sh --seconds 300 redact # one target, 5 minutes
#
# Targets (contract/fuzz/fuzz_targets/, properties in contract/fuzz/checks.rs):
#   reader        the tolerant log reader on any bytes
#   redact        every redaction entry point on any bytes
#   rollout_line  the rollout parser; a read resumed from its saved state equals a whole read
#   hook_payload  hook payloads under every event name
#
# Builds with the stable toolchain and libFuzzer's coverage instrumentation (what cargo-fuzz
# does without a sanitizer: safe Rust needs none), seeds each corpus from the repository's
# own fixtures, and runs each target with -max_total_time. A crash is minimized into
# contract/fuzz/regressions/<target>/, which `shim/tests/fuzz_regressions.rs` replays in
# `./scripts/test`: commit the file, fix the bug, and the test keeps it fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=60
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --seconds=*) seconds="${1#*=}"; shift ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(reader redact rollout_line hook_payload)

out=target/fuzz
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
# An explicit --target keeps RUSTFLAGS off build scripts and proc-macros (which cannot link
# the coverage callbacks), as cargo-fuzz does.
host=$(rustc -vV | sed -n 's/^host: //p')
echo "fuzz.sh: building the targets (release, instrumented, $host) into $out" >&2
cargo build --quiet --release --manifest-path contract/fuzz/Cargo.toml --target-dir "$out" --target "$host" --bins

# Seeds: the repository's own logs, rollouts, hook payloads and redaction corpus.
seed() {
  local t=$1 dir=$out/seeds/$t
  rm -rf "$dir"; mkdir -p "$dir"
  case "$t" in
    reader) cp .codex/toolcalls.ndjson "$dir/dogfood.ndjson" 2>/dev/null || true ;;
    redact) find contract/tests -name '*.txt' -o -name '*.json' | head -50 | while read -r f; do cp "$f" "$dir/"; done
            printf 'git clone https://x-access-token:ghp_%s@github.com/a/b.git' "$(printf 'A%.0s' {1..36})" > "$dir/url" ;;
    rollout_line) find shim/tests/fixtures -name '*.jsonl' ! -name 'hook-payloads.jsonl' | while read -r f; do
                    { printf '\x05'; cat "$f"; } > "$dir/$(echo "$f" | tr '/' '_')"; done ;;
    hook_payload) find shim/tests/fixtures -name 'hook-payloads.jsonl' | while read -r f; do
                    split -l 1 -a 4 "$f" "$dir/$(echo "$f" | tr '/' '_')."; done ;;
  esac
}

printf '| target | seconds | executions | exec/s | coverage (edges) | features | corpus | crashes |\n'
printf '|---|---|---|---|---|---|---|---|\n'
status=0
for t in "${targets[@]}"; do
  bin=$out/$host/release/$t
  [ -x "$bin" ] || { echo "fuzz.sh: no target $t" >&2; exit 2; }
  seed "$t"
  corpus=$out/corpus/$t; artifacts=$out/artifacts/$t/
  mkdir -p "$corpus" "$artifacts"
  log=$out/$t.log
  "$bin" "$corpus" "$out/seeds/$t" -max_total_time="$seconds" -print_final_stats=1 \
    -max_len=65536 -timeout=10 -rss_limit_mb=4096 -artifact_prefix="$artifacts" >"$log" 2>&1 || true
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
  crashes=0
  for c in "$artifacts"crash-* "$artifacts"timeout-* "$artifacts"oom-*; do
    [ -e "$c" ] || continue
    crashes=$((crashes + 1)); status=1
    name=$(basename "$c")
    "$bin" -minimize_crash=1 -runs=20000 -exact_artifact_path="contract/fuzz/regressions/$t/$name" "$c" \
      >"$out/$t.minimize.log" 2>&1 || cp "$c" "contract/fuzz/regressions/$t/$name"
    echo "fuzz.sh: $t crashed; minimized input: contract/fuzz/regressions/$t/$name (log: $log)" >&2
  done
  printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$t" "$seconds" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$crashes"
done
exit $status
