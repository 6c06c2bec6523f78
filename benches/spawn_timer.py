#!/usr/bin/env python3
"""Times commands started with a file on stdin, interleaved, like `hyperfine -N --input FILE`.

Measures what `hyperfine -N` measures — the wall time from spawning the process
(posix_spawn, no shell) to reaping it — but round-robin: iteration i runs every command
once (in a shuffled order) before iteration i+1. hyperfine runs all runs of one command, then all of the next, so
on a shared machine a load change between the batches skews the ratios between commands;
interleaved, every command sees the same conditions. (hyperfine < 1.16 also has no
`--input` at all.) Writes hyperfine's JSON shape (`{"results": [{"command", "median", "mean",
"min", "max", "times"}]}`, seconds) so benches/overhead.sh reads either.

Usage: spawn_timer.py --runs N --warmup W --input FILE --export-json OUT NAME CMD [NAME CMD ...]
"""
import argparse
import json
import os
import random
import shlex
import shutil
import statistics
import sys
import time


def spawn(program, argv, stdin_path, devnull):
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
    return elapsed


def measure(commands, stdin_path, runs, warmup):
    """{name: [seconds]} for every (name, argv), interleaved."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    programs = [(name, shutil.which(argv[0]) or argv[0], argv) for name, argv in commands]
    times = {name: [] for name, _ in commands}
    # A fresh order every iteration (seeded, so reruns are comparable): no command always
    # follows the same one (the Python baseline thrashes caches for whatever runs next).
    rng = random.Random(0)
    for i in range(warmup + runs):
        order = programs[:]
        rng.shuffle(order)
        for name, program, argv in order:
            t = spawn(program, argv, stdin_path, devnull)
            if i >= warmup:
                times[name].append(t)
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
    commands = [(name, shlex.split(cmd)) for name, cmd in zip(a.pairs[::2], a.pairs[1::2])]
    times = measure(commands, a.input, a.runs, a.warmup)
    results = []
    for name, _ in commands:
        t = times[name]
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
            f"  {name:<18} median {statistics.median(t) * 1000:7.3f} ms   "
            f"mean {statistics.mean(t) * 1000:7.3f} ms   min {min(t) * 1000:7.3f} ms"
        )
    with open(a.export_json, "w") as f:
        json.dump({"results": results}, f)


if __name__ == "__main__":
    main()
