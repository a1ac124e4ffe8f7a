#!/usr/bin/env python3
"""Interleaved wall-clock medians of whole commands (used by scripts/bench-flumine).

Usage: bench.py RUNS NAME=COMMAND [NAME=COMMAND ...]

Each COMMAND is split as a shell splits words (no shell runs it), its output
thrown away. One warm-up run of each, then RUNS rounds, each round running
every command once in the order given, so that a drift of the machine's
speed touches all of them alike. Prints one JSON object: per name the
median, min and max in milliseconds, and the samples.

WARM=1 times each run right after an untimed run of the same command.
It was the default while `clever` ran erratically when it came after a
different load: after a 1.1 s CPU-bound Python loop it took 64 to 111 ms
instead of 63. The cause was transparent huge pages, which mimalloc asks
for and the kernel zeroed in the page fault; `clever` now turns them off
for itself (host/src/main.rs), and both ways give the same figures.
"""

import json
import os
import shlex
import statistics
import subprocess
import sys
import time


def main() -> None:
    runs = int(sys.argv[1])
    warm = os.environ.get("WARM", "0") == "1"
    commands = []
    for spec in sys.argv[2:]:
        name, _, command = spec.partition("=")
        commands.append((name, shlex.split(command)))
    samples = {name: [] for name, _ in commands}
    for round_ in range(runs + 1):
        for name, argv in commands:
            if warm:
                subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            start = time.perf_counter()
            subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            ms = (time.perf_counter() - start) * 1000
            if round_ > 0:  # the first round warms up
                samples[name].append(ms)
    out = {
        name: {
            "median_ms": statistics.median(s),
            "min_ms": min(s),
            "max_ms": max(s),
            "samples_ms": [round(x, 1) for x in s],
        }
        for name, s in samples.items()
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
