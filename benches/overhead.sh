#!/usr/bin/env bash
# Process-level overhead of codex-shim, measured with hyperfine against the baselines:
#   exec: `codex-shim exec -- true`  vs  bare `true`  vs  a typical Python wrapper
#   hook: `codex-shim hook < payload` vs  bare `/bin/true < payload`  vs  a typical Python hook
# Usage: benches/overhead.sh [--runs N]   (needs hyperfine and python3; builds the release shim)
# Prints hyperfine's tables and the ratios; writes JSON results to target/overhead/.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=300
[ "${1:-}" = "--runs" ] && runs=$2
command -v hyperfine >/dev/null || { echo "overhead.sh: hyperfine is missing (apt-get install hyperfine)" >&2; exit 2; }
cargo build --release -p codex-shim --quiet
shim=$PWD/target/release/codex-shim
out=$PWD/target/overhead
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export CODEX_TOOLCALLS_LOG=$work/toolcalls.ndjson
true_bin=$(command -v true)

echo "== exec wrapper overhead (${runs} runs each) =="
hyperfine -N --runs "$runs" --warmup 20 --export-json "$out/exec.json" \
  -n bare "$true_bin" \
  -n codex-shim "$shim exec --log $work/exec.ndjson -- $true_bin" \
  -n python "python3 benches/baselines/exec_wrapper.py --log $work/py-exec.ndjson -- $true_bin"

payload=$work/payload.json
cat > "$payload" <<'JSON'
{"session_id":"019a6c1e-bench","transcript_path":null,"cwd":"/tmp","hook_event_name":"PostToolUse","model":"gpt-5.5","permission_mode":"bypassPermissions","turn_id":"1","tool_name":"Bash","tool_input":{"command":"cargo test -p codex-contract 2>&1 | tail -n 20"},"tool_response":"running 25 tests\ntest fold::tests::pre_only_call_stays_unknown ... ok\ntest result: ok. 25 passed; 0 failed; 0 ignored","tool_use_id":"call_bench"}
JSON
# The hook section runs only when `codex-shim hook` records the payload (exit 0 alone proves
# nothing: the hook exits 0 whatever happens).
hook_ok=0
if "$shim" hook < "$payload" >/dev/null 2>&1 && [ -s "$CODEX_TOOLCALLS_LOG" ]; then hook_ok=1; fi
if [ "$hook_ok" = 1 ]; then
  echo "== hook overhead (${runs} runs each) =="
  if hyperfine --help | grep -q -- '--input'; then
    hyperfine -N --runs "$runs" --warmup 20 --input "$payload" --export-json "$out/hook.json" \
      -n bare "$true_bin" \
      -n codex-shim "$shim hook" \
      -n python "python3 benches/baselines/hook.py"
  else
    # hyperfine < 1.16 cannot feed stdin from a file: time the same spawn-to-exit wall time
    # with posix_spawn instead (same JSON shape).
    echo "($(hyperfine --version) has no --input; timing with benches/spawn_timer.py)"
    python3 benches/spawn_timer.py --runs "$runs" --warmup 20 --input "$payload" \
      --export-json "$out/hook.json" \
      bare "$true_bin" \
      codex-shim "$shim hook" \
      python "python3 benches/baselines/hook.py"
  fi
else
  echo "== hook overhead skipped: \`$shim hook < payload\` recorded nothing ==" >&2
fi

python3 - "$out" "$hook_ok" <<'PY'
import json, sys, os
out, hook_ok = sys.argv[1], sys.argv[2] == "1"
def load(name):
    r = {x["command"]: x for x in json.load(open(os.path.join(out, name)))["results"]}
    return {k: v["median"] * 1000 for k, v in r.items()}
print()
for name in ["exec"] + (["hook"] if hook_ok else []):
    m = load(name + ".json")
    b, s, p = m["bare"], m["codex-shim"], m["python"]
    print(f"{name}: median bare {b:.3f} ms, codex-shim {s:.3f} ms, python {p:.3f} ms")
    print(f"{name}: shim overhead over bare {s - b:+.3f} ms ({s / b:.2f}x bare); python is {p / s:.1f}x slower than the shim")
    if name == "hook":
        met = lambda ok: "met" if ok else "MISSED"
        print(f"hook targets: median < 2x bare: {met(s / b < 2)}; python >= 20x slower: {met(p / s >= 20)}")
PY
