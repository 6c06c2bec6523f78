#!/usr/bin/env python3
"""A typical Python Codex hook: the baseline codex-shim hook is measured against.

Reads the payload, redacts a handful of token shapes with re, and appends one JSON line
under an fcntl lock — what most hand-written observer hooks do.
"""
import fcntl, json, os, re, sys
from datetime import datetime, timezone

PATTERNS = [
    (re.compile(r"gh[pousr]_[A-Za-z0-9]{36}"), "github-token"),
    (re.compile(r"(?:AKIA|ASIA)[A-Z2-7]{16}"), "aws-access-key"),
    (re.compile(r"sk-[A-Za-z0-9_-]{20,}"), "openai-key"),
    (re.compile(r"(?i)bearer\s+[A-Za-z0-9._~+/-]+=*"), "bearer-auth"),
]

def redact(text):
    for rx, fam in PATTERNS:
        text = rx.sub(f"[REDACTED:{fam}]", text)
    return text

payload = json.load(sys.stdin)
rec = {
    "v": 1,
    "ts": datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    "source": "codex-hook",
    "phase": {"PreToolUse": "pre", "PostToolUse": "post"}.get(payload.get("hook_event_name"), "session"),
    "session_id": payload.get("session_id"),
    "call_id": payload.get("tool_use_id"),
    "tool": payload.get("tool_name"),
    "input": redact(json.dumps(payload.get("tool_input"))),
    "output": {"text": redact(str(payload.get("tool_response", ""))[-12288:]), "len": len(str(payload.get("tool_response", "")))},
}
log = os.environ.get("CODEX_TOOLCALLS_LOG", ".codex/toolcalls.ndjson")
os.makedirs(os.path.dirname(log) or ".", exist_ok=True)
with open(log, "a") as f:
    fcntl.flock(f, fcntl.LOCK_EX)
    f.write(json.dumps(rec) + "\n")
    fcntl.flock(f, fcntl.LOCK_UN)
