#!/usr/bin/env python3
"""Run both example strategies in `clever backtest` and in flumine over each
market file and print orders, matched stake and profit side by side.

Usage (scripts/compare-flumine calls it):
  compare.py --clever BIN --plugin LAY.wasm --plugin BACK.wasm --python VENV_PY
             [--risk TOML] [--clever-arg ARG ...] [--flumine-arg ARG ...]
             [--orders DIR] [--timeout S] [--json] PATH [PATH ...]

PATH is a file or a directory (its files, by name; .md and .json files and
subdirectories are skipped, as `clever backtest --data DIR` does). Each file
runs alone in each system, so a market present in two files (BASIC and
BASIC.gz) is counted once per file. A file is compared only if both read a
market from it; the others are listed with the reason.

With --orders DIR, each file's orders are kept: flumine's as JSON lines
(DIR/NAME.flumine.jsonl) and ours in a SQLite run (DIR/NAME.db, through
`--save`), for scripts/flumine/pair_orders.py.
"""

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SKIP_SUFFIXES = (".md", ".json", ".txt", ".csv")
FIGURES = ("orders", "matched", "gross_profit", "profit")


def files_in(paths):
    for p in paths:
        if os.path.isdir(p):
            for name in sorted(os.listdir(p)):
                full = os.path.join(p, name)
                if os.path.isfile(full) and not name.endswith(SKIP_SUFFIXES):
                    yield full
        else:
            yield p


def run_ours(args, path):
    cmd = [args.clever, "backtest"]
    for p in args.plugin:
        cmd += ["--plugin", p]
    cmd += ["--data", path, "--json"]
    if args.risk:
        cmd += ["--risk", args.risk]
    if args.orders:
        db = os.path.join(args.orders, os.path.basename(path) + ".db")
        if os.path.exists(db):
            os.remove(db)
        cmd += ["--save", "--db", "sqlite://" + os.path.abspath(db)]
    cmd += args.clever_arg
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        return None, last_line(r.stderr) or f"exit {r.returncode}"
    try:
        report = json.loads(r.stdout)
    except ValueError:
        return None, "no JSON on stdout"
    if report.get("markets", 0) == 0:
        return None, "no market read"
    return report, None


def run_flumine(args, path):
    cmd = [args.python, os.path.join(HERE, "run.py"), path]
    if args.orders:
        cmd += ["--orders", os.path.join(args.orders, os.path.basename(path) + ".flumine.jsonl")]
    cmd += args.flumine_arg
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout or None)
    except subprocess.TimeoutExpired:
        return None, f"did not finish in {args.timeout:g} s"
    if r.returncode != 0:
        return None, last_line(r.stderr) or f"exit {r.returncode}"
    report = json.loads(r.stdout)
    if report.get("markets", 0) == 0:
        return None, "no market read"
    return report, None


def last_line(text):
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:100] if lines else ""


def by_name(report):
    return {s["name"]: s for s in report["strategies"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--clever", required=True)
    ap.add_argument("--plugin", action="append", required=True)
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--risk")
    ap.add_argument("--clever-arg", action="append", default=[])
    ap.add_argument("--flumine-arg", action="append", default=[])
    ap.add_argument("--orders")
    ap.add_argument("--timeout", type=float, default=0,
                    help="give up on a file flumine has not finished in this many seconds")
    ap.add_argument("--json", action="store_true", help="print the rows as JSON instead")
    args = ap.parse_args()
    if args.orders:
        os.makedirs(args.orders, exist_ok=True)

    rows, skipped, times = [], [], []
    for path in files_in(args.paths):
        name = os.path.basename(path)
        start = time.perf_counter()
        ours, why_ours = run_ours(args, path)
        middle = time.perf_counter()
        theirs, why_theirs = run_flumine(args, path)
        times.append((name, middle - start, time.perf_counter() - middle))
        print(f"{name}: ours {times[-1][1]:.1f} s, flumine {times[-1][2]:.1f} s", file=sys.stderr)
        if ours is None or theirs is None:
            skipped.append((name, f"ours: {why_ours or 'ok'}; flumine: {why_theirs or 'ok'}"))
            continue
        a, b = by_name(ours), by_name(theirs)
        for strategy in sorted(set(a) | set(b)):
            sa, sb = a.get(strategy, {}), b.get(strategy, {})
            rows.append(dict(file=name, strategy=strategy,
                             ours={k: sa.get(k) for k in FIGURES},
                             flumine={k: sb.get(k) for k in FIGURES}))
    if args.json:
        print(json.dumps(dict(rows=rows, skipped=skipped, seconds=times)))
        return
    print_table(rows, skipped)


def fmt(x, money=True):
    if x is None:
        return "-"
    return f"{x:,.2f}" if money else f"{x:,}"


def print_table(rows, skipped):
    head = ("file", "strategy", "orders ours", "flumine", "matched ours", "flumine",
            "ratio", "gross ours", "flumine", "net ours", "flumine")
    table = [head]
    totals = {}
    for r in rows:
        o, f = r["ours"], r["flumine"]
        ratio = (f"{o['matched'] / f['matched']:.2f}"
                 if o["matched"] is not None and f["matched"] else "-")
        table.append((r["file"], r["strategy"], fmt(o["orders"], False), fmt(f["orders"], False),
                      fmt(o["matched"]), fmt(f["matched"]), ratio, fmt(o["gross_profit"]),
                      fmt(f["gross_profit"]), fmt(o["profit"]), fmt(f["profit"])))
        t = totals.setdefault(r["strategy"], {"ours": dict.fromkeys(FIGURES, 0),
                                              "flumine": dict.fromkeys(FIGURES, 0)})
        for side in ("ours", "flumine"):
            for k in FIGURES:
                t[side][k] += r[side][k] or 0
    for strategy, t in sorted(totals.items()):
        o, f = t["ours"], t["flumine"]
        ratio = f"{o['matched'] / f['matched']:.2f}" if f["matched"] else "-"
        table.append(("TOTAL", strategy, fmt(o["orders"], False), fmt(f["orders"], False),
                      fmt(o["matched"]), fmt(f["matched"]), ratio, fmt(o["gross_profit"]),
                      fmt(f["gross_profit"]), fmt(o["profit"]), fmt(f["profit"])))
    widths = [max(len(str(row[i])) for row in table) for i in range(len(head))]
    for i, row in enumerate(table):
        cells = [str(c).ljust(w) if j < 2 else str(c).rjust(w)
                 for j, (c, w) in enumerate(zip(row, widths))]
        print("  ".join(cells).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))
    print("\ngross: before commission; net: after commission at each market's base rate")
    print("(flumine's net is computed by scripts/flumine/run.py the way ours is; flumine")
    print("itself reports gross profit only)")
    if skipped:
        print("\nnot compared (not read by both):")
        for name, why in skipped:
            print(f"  {name}: {why}")


if __name__ == "__main__":
    main()
