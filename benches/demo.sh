#!/usr/bin/env bash
# Times `codex-analyzer demo` as a user runs it (release build, a fresh workspace), with
# /usr/bin/time: wall and CPU time and peak memory. The demo's target: 500 sessions in under
# 30 s on 2 cores. Usage: benches/demo.sh [SESSIONS] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
sessions=${1:-500}
runs=${2:-3}
cargo build --release -q -p codex-analyzer
bin=target/release/codex-analyzer
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "codex-analyzer demo --sessions $sessions ($runs runs, $(nproc) CPUs)"
for i in $(seq "$runs"); do
    /usr/bin/time -f "run $i: %e s wall, %U s user, %S s system, %M KiB peak" \
        "$bin" demo --sessions "$sessions" --out "$tmp/ws" > /dev/null
done
