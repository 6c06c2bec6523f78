#!/usr/bin/env python3
"""Times commands started with a file on stdin, like `hyperfine -N --input FILE`.

hyperfine gained `--input` in 1.16; older ones (Debian 12 ships 1.15) cannot feed a hook its
payload. This does what `hyperfine -N` measures — the wall time from spawning the process
(posix_spawn, no shell) to reaping it — for each command in turn, and writes the same JSON
shape (`{"results": [{"command", "median", "mean", "min", "max", "times"}]}`, seconds) so
benches/overhead.sh reads either.

Usage: spawn_timer.py --runs N --warmup W --input FILE --export-json OUT NAME CMD [NAME CMD ...]
"""
import argparse
import json
import os
import shlex
import shutil
import statistics
import sys
import time


def measure(argv, stdin_path, runs, warmup):
    program = shutil.which(argv[0]) or argv[0]
    devnull = os.open(os.devnull, os.O_WRONLY)
    times = []
    for i in range(warmup + runs):
        fd = os.open(stdin_path, os.O_RDONLY)
        start = time.perf_counter()
        pid = os.posix_spawn(
            program,
            argv,
            os.environ,
            file_actions=[
                (os.POSIX_SPAWN_DUP2, fd, 0),
                (os.POSIX_SPAWN_DUP2, devnull, 1),
                (os.POSIX_SPAWN_DUP2, devnull, 2),
            ],
        )
        _, status = os.waitpid(pid, 0)
        elapsed = time.perf_counter() - start
        os.close(fd)
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"spawn_timer: {' '.join(argv)} exited with status {status}")
        if i >= warmup:
            times.append(elapsed)
    os.close(devnull)
    return times


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--input", required=True)
    ap.add_argument("--export-json", required=True)
    ap.add_argument("pairs", nargs="+", help="NAME CMD pairs")
    a = ap.parse_args()
    if len(a.pairs) % 2:
        sys.exit("spawn_timer: give NAME CMD pairs")
    results = []
    for name, cmd in zip(a.pairs[::2], a.pairs[1::2]):
        t = measure(shlex.split(cmd), a.input, a.runs, a.warmup)
        results.append(
            {
                "command": name,
                "median": statistics.median(t),
                "mean": statistics.mean(t),
                "stddev": statistics.pstdev(t),
                "min": min(t),
                "max": max(t),
                "times": t,
            }
        )
        print(
            f"  {name:<12} median {statistics.median(t) * 1000:7.3f} ms   "
            f"mean {statistics.mean(t) * 1000:7.3f} ms   min {min(t) * 1000:7.3f} ms"
        )
    with open(a.export_json, "w") as f:
        json.dump({"results": results}, f)


if __name__ == "__main__":
    main()
