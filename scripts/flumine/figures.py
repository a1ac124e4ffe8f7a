#!/usr/bin/env python3
"""Print the per-strategy figures of a `clever backtest --json` or `run.py`
report read from stdin, one line each, after LABEL (argv[1])."""

import json
import sys

label = sys.argv[1] if len(sys.argv) > 1 else ""
report = json.load(sys.stdin)
for s in report["strategies"]:
    print(f"  {label:8} {s['name']:16} orders {s['orders']:5}  matched {s['matched']:9.2f}"
          f"  gross {s['gross_profit']:9.2f}  net {s['profit']:9.2f}")
