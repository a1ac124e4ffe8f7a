#!/usr/bin/env python3
"""Print the median of each criterion benchmark under target/criterion/<group>.

Usage: python3 scripts/bench-medians.py GROUP
"""
import json
import pathlib
import sys

group = sys.argv[1] if len(sys.argv) > 1 else "update"
root = pathlib.Path(__file__).resolve().parent.parent / "target" / "criterion" / group
if not root.is_dir():
    sys.exit(f"no criterion results in {root}: run the bench first")
for bench in sorted(p for p in root.iterdir() if (p / "new" / "estimates.json").exists()):
    est = json.loads((bench / "new" / "estimates.json").read_text())
    median = est["median"]["point_estimate"]
    lo = est["median"]["confidence_interval"]["lower_bound"]
    hi = est["median"]["confidence_interval"]["upper_bound"]
    print(f"{bench.name:<20} median {median:9.1f} ns   (95% CI {lo:.1f} .. {hi:.1f})")
