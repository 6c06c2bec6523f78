#!/usr/bin/env bash
# Signal quality: how many tickets would the analyzer open on real repositories' busiest days?
#
# For each repository (a work tree or a bare clone; read only), it finds the busiest scheduled
# runs of the last year before its newest commit: of the twice-daily runs (06:10 and 15:10
# America/Phoenix, the shipped schedule), the --top N (default 12) whose 24h rollup holds the
# most first-parent commits, at most one per day. It runs the analyzer *dry* at each
# (`--now` pinned to the run, `--format json`, no tool-call log, no CI logs, no GitHub, the
# repository's own state ignored) and prints, per repository and by rule, new tickets per run
# and findings per run (median, max) as a Markdown table.
#
# Usage: benches/signal.sh [--top N] [--bin PATH] REPO[@RFC3339]...
#   REPO@2026-11-22T13:10:00Z  runs once at that time instead of the busiest runs (e.g. the
#                              README's main command on this repository: `.@2026-11-22T13:10:00Z`).
#   --bin PATH                 the codex-analyzer binary (default: `cargo build --release`).
#   --json DIR                 also keep every run's JSON output in DIR.
# Needs git and python3. Quick to rerun: nothing is cached, each run is one process.
set -euo pipefail
cd "$(dirname "$0")/.."
top=12
bin=""
keep=""
repos=()
while [ $# -gt 0 ]; do
  case "$1" in
    --top) top=$2; shift 2 ;;
    --bin) bin=$2; shift 2 ;;
    --json) keep=$2; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "signal.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) repos+=("$1"); shift ;;
  esac
done
if [ ${#repos[@]} -eq 0 ]; then
  echo "signal.sh: name at least one repository (see --help)" >&2
  exit 2
fi
if [ -z "$bin" ]; then
  cargo build --release -p codex-analyzer --quiet
  bin=$PWD/target/release/codex-analyzer
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# No tool-call log, no CI logs, no GitHub, no state or config of the measured repository:
# git signals only, every run as if it were the first.
printf '[analysis]\nstate = "%s/state.json"\nrun_log = "%s/log.md"\n' "$work" "$work" >"$work/config.toml"
mkdir -p "$work/ci-logs"
[ -n "$keep" ] && mkdir -p "$keep"

for spec in "${repos[@]}"; do
  repo=${spec%@*}
  at=""
  [ "$spec" != "$repo" ] && at=${spec##*@}
  if ! git -C "$repo" rev-parse --git-dir >/dev/null 2>&1; then
    echo "signal.sh: $repo is not a git repository" >&2
    exit 2
  fi
  name=$(basename "$(cd "$repo" && pwd)")
  [ "$name" = repo ] && name=$(basename "$(dirname "$(cd "$repo" && pwd)")")
  if [ -n "$at" ]; then
    runs=$at
  else
    # First-parent commit times of the year before the newest commit; the runs whose 24h
    # rollup holds the most of them.
    runs=$(git -C "$repo" log --first-parent --format=%ct HEAD | python3 -c '
import sys, datetime as dt
top = int(sys.argv[1])
times = sorted(int(x) for x in sys.stdin.read().split())
if not times:
    sys.exit(0)
newest = times[-1]
year = newest - 365 * 86400
times = [t for t in times if t > year - 86400]
# Phoenix is UTC-7 all year: the 06:10 and 15:10 runs are 13:10 and 22:10 UTC.
day0 = dt.datetime.fromtimestamp(year, dt.timezone.utc).replace(hour=0, minute=0, second=0)
runs = []
d = day0
end = dt.datetime.fromtimestamp(newest, dt.timezone.utc) + dt.timedelta(days=1)
while d <= end:
    for h in (13, 22):
        t = d.replace(hour=h, minute=10)
        if year <= t.timestamp() <= newest + 86400:
            runs.append(t)
    d += dt.timedelta(days=1)
import bisect
def count(t):
    s = t.timestamp()
    return bisect.bisect_right(times, s) - bisect.bisect_right(times, s - 86400)
ranked = sorted(runs, key=lambda t: (-count(t), -t.timestamp()))
chosen, days = [], set()
for t in ranked:
    day = (t - dt.timedelta(hours=7)).date()
    if count(t) == 0 or day in days:
        continue
    days.add(day)
    chosen.append(t)
    if len(chosen) == top:
        break
for t in sorted(chosen):
    print(t.strftime("%Y-%m-%dT%H:%M:%SZ"))
' "$top")
  fi
  for now in $runs; do
    out="$work/$name@$now.json"
    env -u GITHUB_TOKEN -u GITHUB_REPOSITORY "$bin" run --repo "$repo" --now "$now" \
      --format json --config "$work/config.toml" --log "$work/none.ndjson" \
      --ci-logs "$work/ci-logs" >"$out"
    [ -n "$keep" ] && cp "$out" "$keep/"
  done
  echo "$name" >>"$work/names"
done

python3 - "$work" <<'EOF'
import json, os, statistics, sys
work = sys.argv[1]
names = open(os.path.join(work, "names")).read().split()
def med(v):
    return statistics.median(v) if v else 0
def fmt(x):
    return str(int(x)) if float(x).is_integer() else f"{x:.1f}"
print("| Repository | Runs | Rule | New tickets / run (median, max) | Findings / run (median, max) |")
print("|---|---:|---|---:|---:|")
for name in names:
    docs = []
    for f in sorted(os.listdir(work)):
        if f.startswith(name + "@") and f.endswith(".json"):
            docs.append(json.load(open(os.path.join(work, f))))
    rules = sorted({f["rule"] for d in docs for f in d["findings"]})
    def row(rule):
        sel = lambda d: [f for f in d["findings"] if rule is None or f["rule"] == rule]
        new = [sum(1 for f in sel(d) if f.get("ticketing") == "new") for d in docs]
        found = [len(sel(d)) for d in docs]
        label = rule or "**all rules**"
        print(f"| {name} | {len(docs)} | {label} | {fmt(med(new))}, {max(new, default=0)} "
              f"| {fmt(med(found))}, {max(found, default=0)} |")
    row(None)
    for r in rules:
        row(r)
print()
for name in names:
    runs = sorted(f[len(name) + 1:-5] for f in os.listdir(work)
                  if f.startswith(name + "@") and f.endswith(".json"))
    print(f"- {name}: runs at {', '.join(runs)}")
EOF
