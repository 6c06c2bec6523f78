#!/usr/bin/env bash
# Throughput of the stores on the 1,000,000-record bench log (benches/benches/loggen):
#   - `codex-analyzer db`: a fresh build, then an update with nothing new;
#   - `codex-analyzer export-otlp`: everything, to a local receiver that accepts without
#     decoding (tests/py/otlp_receiver.py --sink, from the tests' venv), then a rerun.
# Reports wall time, records/s and peak memory (/usr/bin/time -v). Release build; PROFILE=dev
# measures the debug build instead (much slower: only for a quick look).
#   BENCH_RECORDS=N overrides the record count.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${BENCH_RECORDS:-1000000}
PY=tests/.venv/bin/python
[ -x "$PY" ] || { echo "stores.sh: run ./scripts/test once (it installs tests/.venv)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "stores.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
# Two builds: with `--example` given, cargo builds only that target, not the analyzer.
if [ "${PROFILE:-release}" = dev ]; then
  cargo build -q -p codex-analyzer --bin codex-analyzer
  cargo build -q -p benches --example gen_log
  T=target/debug
else
  cargo build --release -q -p codex-analyzer --bin codex-analyzer
  cargo build --release -q -p benches --example gen_log
  T=target/release
fi
A=$T/codex-analyzer
dir=$(mktemp -d)
rx=
cleanup() { [ -n "$rx" ] && kill "$rx" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
mkdir -p "$dir/repo/.codex"
log="$dir/repo/.codex/toolcalls.ndjson"
$T/examples/gen_log "$log" "$N"
bytes=$(stat -c %s "$log")

measure() { # name, command...
  local name=$1; shift
  /usr/bin/time -v "$@" >"$dir/out.txt" 2>"$dir/time.txt" || { cat "$dir/out.txt" "$dir/time.txt" >&2; exit 1; }
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$dir/time.txt")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$dir/time.txt")
  awk -v n="$N" -v w="$wall" -v r="$rss" -v name="$name" \
    'BEGIN { printf "%-28s %8.2f s  %10.0f records/s  peak RSS %6.1f MiB\n", name, w, (w > 0 ? n / w : 0), r / 1024 }'
  sed 's/^/    /' "$dir/out.txt"
}

echo "log: $N records, $bytes bytes ($(awk -v b="$bytes" -v n="$N" 'BEGIN{printf "%.0f", b/n}') bytes/record)"
measure "db (fresh)" "$A" db --repo "$dir/repo" --out "$dir/db.sqlite"
echo "    database: $(stat -c %s "$dir/db.sqlite") bytes"
measure "db (nothing new)" "$A" db --repo "$dir/repo" --out "$dir/db.sqlite"

"$PY" tests/py/otlp_receiver.py --sink --port-file "$dir/port" --out "$dir/rx.jsonl" &
rx=$!
for _ in $(seq 100); do [ -s "$dir/port" ] && break; sleep 0.1; done
url="http://127.0.0.1:$(cat "$dir/port")"
measure "export-otlp (all)" "$A" export-otlp --repo "$dir/repo" --endpoint "$url"
echo "    sent: $(wc -l < "$dir/rx.jsonl") requests, $(awk -F'"bytes": ' '{sub(/}/,"",$2); s+=$2} END {print s}' "$dir/rx.jsonl") bytes of protobuf"
measure "export-otlp (nothing new)" "$A" export-otlp --repo "$dir/repo" --endpoint "$url"
