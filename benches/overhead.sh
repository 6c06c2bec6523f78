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
hook_ok=1
"$shim" hook < "$payload" >/dev/null 2>&1 || hook_ok=0
if [ "$hook_ok" = 1 ]; then
  echo "== hook overhead (${runs} runs each) =="
  hyperfine -N --runs "$runs" --warmup 20 --input "$payload" --export-json "$out/hook.json" \
    -n bare "$true_bin" \
    -n codex-shim "$shim hook" \
    -n python "python3 benches/baselines/hook.py"
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
PY
