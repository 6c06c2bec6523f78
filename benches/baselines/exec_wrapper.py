#!/usr/bin/env python3
"""A typical Python exec wrapper: the baseline codex-shim exec is measured against.

It does what the shim does, the way a Python user would write it: run the command with
subprocess (capturing output), redact a handful of token shapes with re, take a lock with
fcntl and append one JSON line.
"""
import fcntl, json, os, re, subprocess, sys, time
from datetime import datetime, timezone

PATTERNS = [
    (re.compile(r"gh[pousr]_[A-Za-z0-9]{36}"), "github-token"),
    (re.compile(r"github_pat_[A-Za-z0-9_]{82}"), "github-fine-grained"),
    (re.compile(r"(?:AKIA|ASIA)[A-Z2-7]{16}"), "aws-access-key"),
    (re.compile(r"xox[baprs]-[A-Za-z0-9-]{10,}"), "slack-token"),
    (re.compile(r"sk-[A-Za-z0-9_-]{20,}"), "openai-key"),
    (re.compile(r"(?i)bearer\s+[A-Za-z0-9._~+/-]+=*"), "bearer-auth"),
    (re.compile(r"eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"), "jwt"),
]

def redact(text):
    for rx, fam in PATTERNS:
        text = rx.sub(f"[REDACTED:{fam}]", text)
    return text

def main():
    args = sys.argv[1:]
    log = ".codex/toolcalls.ndjson"
    if args[:1] == ["--log"]:
        log, args = args[1], args[2:]
    if args[:1] == ["--"]:
        args = args[1:]
    start = time.monotonic()
    try:
        p = subprocess.run(args, capture_output=True)
        code, out, err = p.returncode, p.stdout, p.stderr
    except FileNotFoundError:
        code, out, err = 127, b"", b"command not found\n"
    sys.stdout.buffer.write(out)
    sys.stderr.buffer.write(err)
    rec = {
        "v": 1,
        "ts": datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "source": "exec", "phase": "outcome", "tool": "exec",
        "input": redact(" ".join(args)),
        "output": {"text": redact(out[-12288:].decode("utf-8", "replace")), "len": len(out)},
        "exit_code": code, "status": "ok" if code == 0 else "failed",
        "duration_ms": int((time.monotonic() - start) * 1000),
        "cwd": os.getcwd(),
    }
    os.makedirs(os.path.dirname(log) or ".", exist_ok=True)
    with open(log, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        f.write(json.dumps(rec) + "\n")
        fcntl.flock(f, fcntl.LOCK_UN)
    sys.exit(code)

main()
