#!/usr/bin/env bash
# Process-level overhead of codex-shim against its baselines, as wall time from spawn to exit:
#   exec: `codex-shim exec -- true`  vs  bare `true`, the smallest possible wrapper (a static
#         C program that spawns with two pipes and waits, benches/baselines/spawn_floor.c),
#         and a typical Python wrapper (benches/baselines/exec_wrapper.py)
#   hook: `codex-shim hook < payload` vs  bare `true < payload`, the smallest possible hook
#         (a static C program that reads stdin and appends it to the log under a lock,
#         benches/baselines/hook_floor.c), and a typical Python hook (benches/baselines/hook.py)
# Both builds are timed: the installed one (scripts/install-shim: static-PIE on Linux/glibc)
# and the plain `cargo build --release` one. Each is timed as a copy, the way `cargo install`
# puts it in place (see "installed" below).
#
# Usage: benches/overhead.sh [--runs N] [--compare NAME=PATH]...
#   --compare adds another codex-shim binary to both rounds, side by side with these builds
#   (e.g. the same two builds of an older commit, for a before/after in one run).
# Needs python3; cc for the floor; hyperfine, if present, cross-checks the exec numbers.
# Writes JSON results to target/overhead/.
#
# How: benches/spawn_timer.py runs the commands round-robin in a shuffled order (hyperfine's
# one-command-at-a-time batches turn a load change between batches into a ratio change).
# The Python baselines run in a round of their own against a bare `true`: a 30-90 ms Python
# run evicts the caches of whatever runs next and adds ~0.1 ms to a sub-millisecond command.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
runs=300
compare=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --compare) [[ "$2" == *=* ]] || { echo "overhead.sh: --compare takes NAME=PATH, got '$2'" >&2; exit 2; }
               [ -x "${2#*=}" ] || { echo "overhead.sh: --compare ${2%%=*}: ${2#*=} is not an executable" >&2; exit 2; }
               compare+=("$2"); shift 2 ;;
    *) echo "usage: benches/overhead.sh [--runs N] [--compare NAME=PATH]..." >&2; exit 2 ;;
  esac
done
cargo build --release -p codex-shim --quiet
shim=$PWD/target/release/codex-shim
host=$(rustc -vV | sed -n 's/^host: //p')
static_shim=""
case "$host" in
  *-linux-gnu)
    # The same build scripts/install-shim installs.
    RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
      cargo build --profile shim -p codex-shim --target "$host" --quiet
    static_shim=$PWD/target/$host/shim/codex-shim ;;
esac
out=$PWD/target/overhead
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/bin"
# Every binary is timed as a copy, as installed: `cargo install` (so scripts/install-shim)
# copies the built file into place. The file a linker has just written starts slower than
# any copy of it, ~8 more page faults for the hook (73 against 65) and ~0.2 ms on the
# development VM; a copy made with cp or cat, or the same file dropped from the page cache
# and read back, all start alike. That is how the fresh output sits in the page cache, not
# a cost an installed shim pays, so timing target/ directly overstated the shim's cost.
installed() { cp "$1" "$work/bin/$2" && echo "$work/bin/$2"; }
shim=$(installed "$shim" codex-shim)
[ -z "$static_shim" ] || static_shim=$(installed "$static_shim" codex-shim-static)
for i in "${!compare[@]}"; do
  compare[i]="${compare[i]%%=*}=$(installed "${compare[i]#*=}" "compare-${compare[i]%%=*}")"
done
floor=""
hook_floor=""
if command -v cc >/dev/null; then
  cc -O2 -static benches/baselines/spawn_floor.c -o "$work/spawn_floor" 2>/dev/null \
    && floor=$(installed "$work/spawn_floor" spawn_floor)
  cc -O2 -static benches/baselines/hook_floor.c -o "$work/hook_floor" 2>/dev/null \
    && hook_floor=$(installed "$work/hook_floor" hook_floor)
fi
# A repository with a commit, so that the shim does its real work (HEAD lookup included).
repo=$work/repo
git init -q "$repo"
git -C "$repo" -c user.name=bench -c user.email=bench@example.com commit -q --allow-empty -m bench
cd "$repo"
export CODEX_TOOLCALLS_LOG=$work/toolcalls.ndjson
true_bin=$(command -v true)
timer() { python3 "$root/benches/spawn_timer.py" --runs "$runs" --warmup 30 "$@"; }
# NAME and command pairs for the --compare binaries: `extra exec ARGS` / `extra hook`.
extra() {
  local c
  for c in "${compare[@]}"; do
    if [ "$1" = exec ]; then
      printf '%s\n%s\n' "${c%%=*}" "${c#*=} exec --log $work/exec-${c%%=*}.ndjson -- $true_bin"
    else
      printf '%s\n%s\n' "${c%%=*}" "${c#*=} hook"
    fi
  done
}

mapfile -t extra_exec < <(extra exec)
mapfile -t extra_hook < <(extra hook)
echo "== exec wrapper (${runs} runs each, interleaved) =="
timer --input /dev/null --export-json "$out/exec.json" \
  bare "$true_bin" \
  ${floor:+floor "$floor $true_bin"} \
  codex-shim "$shim exec --log $work/exec.ndjson -- $true_bin" \
  ${static_shim:+codex-shim-static "$static_shim exec --log $work/exec-static.ndjson -- $true_bin"} \
  "${extra_exec[@]}"
echo "== exec: the Python wrapper, in a round of its own =="
timer --input /dev/null --export-json "$out/exec-python.json" \
  bare "$true_bin" \
  python "python3 $root/benches/baselines/exec_wrapper.py --log $work/py-exec.ndjson -- $true_bin"
if command -v hyperfine >/dev/null && [ -n "$static_shim" ]; then
  echo "== exec cross-check with hyperfine (batches, not interleaved) =="
  hyperfine -N --runs "$runs" --warmup 30 --export-json "$out/exec-hyperfine.json" \
    -n bare "$true_bin" \
    -n codex-shim-static "$static_shim exec --log $work/exec-hf.ndjson -- $true_bin" | grep -E "Time|Benchmark"
fi
# Timing a shim that records nothing would measure the wrong thing.
[ -s "$work/exec.ndjson" ] || { echo "overhead.sh: codex-shim exec recorded nothing" >&2; exit 1; }
[ -z "$static_shim" ] || [ -s "$work/exec-static.ndjson" ] \
  || { echo "overhead.sh: the static codex-shim exec recorded nothing" >&2; exit 1; }

payload=$work/payload.json
cat > "$payload" <<'JSON'
{"session_id":"019a6c1e-bench","transcript_path":null,"cwd":"/tmp","hook_event_name":"PostToolUse","model":"gpt-5.5","permission_mode":"bypassPermissions","turn_id":"1","tool_name":"Bash","tool_input":{"command":"cargo test -p codex-contract 2>&1 | tail -n 20"},"tool_response":"running 25 tests\ntest fold::tests::pre_only_call_stays_unknown ... ok\ntest result: ok. 25 passed; 0 failed; 0 ignored","tool_use_id":"call_bench"}
JSON
# The hook section runs only when `codex-shim hook` records the payload (exit 0 alone proves
# nothing: the hook exits 0 whatever happens).
hook_ok=0
"$shim" hook < "$payload" >/dev/null 2>&1 || true
[ -s "$CODEX_TOOLCALLS_LOG" ] && hook_ok=1
if [ "$hook_ok" = 1 ]; then
  echo "== hook (${runs} runs each, interleaved) =="
  timer --input "$payload" --export-json "$out/hook.json" \
    bare "$true_bin" \
    ${hook_floor:+floor "$hook_floor $work/hook-floor.ndjson"} \
    codex-shim "$shim hook" \
    ${static_shim:+codex-shim-static "$static_shim hook"} \
    "${extra_hook[@]}"
  echo "== hook: the Python hook, in a round of its own =="
  timer --input "$payload" --export-json "$out/hook-python.json" \
    bare "$true_bin" \
    python "python3 $root/benches/baselines/hook.py"
else
  echo "== hook skipped: \`$shim hook < payload\` recorded nothing ==" >&2
fi

python3 - "$out" "$hook_ok" "${compare[@]%%=*}" <<'PY'
# The summary, against the targets: exec adds at most 0.8 ms to bare `true` (the spawn floor
# is part of that, so its own share is printed too); the hook costs at most 1.1x a bare spawn;
# the Python baselines are at least 20x slower.
import json, os, sys
out, hook_ok, compared = sys.argv[1], sys.argv[2] == "1", sys.argv[3:]
def load(name):
    r = json.load(open(os.path.join(out, name)))["results"]
    return {x["command"]: x["median"] * 1000 for x in r}
met = lambda ok: "met" if ok else "MISSED"
builds = [("codex-shim-static", "installed build (static-PIE)"), ("codex-shim", "cargo build --release (dynamic)")]
builds += [(c, f"--compare {c}") for c in compared]
print()
m, py = load("exec.json"), load("exec-python.json")
b = m["bare"]
print(f"exec: median bare true {b:.3f} ms" + (f"; smallest possible wrapper {m['floor']:.3f} ms (+{m['floor'] - b:.3f})" if "floor" in m else ""))
for key, label in builds:
    if key in m:
        s = m[key]
        print(f"exec: {label}: {s:.3f} ms, overhead {s - b:+.3f} ms over bare ({s / b:.2f}x)"
              + (f", {s - m['floor']:+.3f} ms over the smallest wrapper" if "floor" in m else "")
              + f"; target <= 0.8 ms: {met(s - b <= 0.8)}"
              + f"; the Python wrapper ({py['python']:.1f} ms, own round) is {py['python'] / py['bare'] * b / s:.0f}x slower")
if hook_ok:
    m, py = load("hook.json"), load("hook-python.json")
    b = m["bare"]
    print(f"hook: median bare true {b:.3f} ms" + (f"; smallest possible hook {m['floor']:.3f} ms ({m['floor'] / b:.2f}x)" if "floor" in m else ""))
    for key, label in builds:
        if key in m:
            s = m[key]
            slower = py["python"] / py["bare"] * b / s
            print(f"hook: {label}: {s:.3f} ms ({s / b:.2f}x bare"
                  + (f", {s - m['floor']:+.3f} ms over the smallest hook" if "floor" in m else "")
                  + f"; target <= 1.1x: {met(s / b <= 1.1)}); "
                  f"the Python hook is {slower:.1f}x slower (target >= 20x: {met(slower >= 20)})")
PY
