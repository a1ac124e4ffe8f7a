#!/usr/bin/env python3
"""Pair our orders with flumine's, order by order, and show where they part.

Usage: pair_orders.py OURS.db FLUMINE.jsonl [--strategy NAME] [--all] [--limit N]

OURS.db is a SQLite run saved by `clever backtest --save --db sqlite://OURS.db`
(one run), FLUMINE.jsonl what `scripts/flumine/run.py --orders` wrote for the
same file; `ORDERS=DIR scripts/compare-flumine` makes both for every file.
Both strategies decide from market data alone (never from their fills), so
the two systems place the same orders at the same times: orders pair up by
strategy, runner, side, price and placing time. For each pair whose matched
stake differs, prints both sides' fills (time in ms after placing, price,
stake). Ends with how many pairs agree, and the matched stake each side has.
"""

import argparse
import json
import sqlite3
from collections import defaultdict


def ours(db):
    c = sqlite3.connect(db)
    names = dict(c.execute(
        "SELECT v.id, s.name FROM strategy_versions v JOIN strategies s ON s.id = v.strategy"))
    fills = defaultdict(list)
    for oid, at, kind, price, size in c.execute(
            "SELECT order_id, at, kind, price, amount_pennies / 100.0 FROM order_events"
            " ORDER BY order_id, seq"):
        if kind == "matched":
            fills[oid].append((at, price, size))
    out = []
    for (oid, version, sel, side, price, size, placed, matched, cancelled, lapsed, voided,
         profit) in c.execute(
            "SELECT id, strategy_version, selection_id, side, price, size_pennies / 100.0,"
            " placed_at, size_matched_pennies / 100.0, size_cancelled_pennies / 100.0,"
            " size_lapsed_pennies / 100.0, size_voided_pennies / 100.0,"
            " profit_pennies / 100.0 FROM orders ORDER BY id"):
        out.append(dict(strategy=names[version], selection_id=sel, side=side, price=price,
                        size=size, placed_ms=placed, size_matched=matched,
                        size_cancelled=cancelled, size_lapsed=lapsed, size_voided=voided,
                        profit=profit, fills=fills[oid]))
    return out


def flumine(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def key(o):
    return (o["strategy"], o["selection_id"], o["side"], round(float(o["price"]) * 100),
            o["placed_ms"])


def show_fills(o):
    return " ".join(f"+{t - o['placed_ms']}ms {s:g}@{p:g}" for t, p, s in o["fills"]) or "-"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ours_db")
    ap.add_argument("flumine_jsonl")
    ap.add_argument("--strategy")
    ap.add_argument("--all", action="store_true", help="print agreeing pairs too")
    ap.add_argument("--limit", type=int, default=40)
    args = ap.parse_args()

    a = defaultdict(list)
    for o in ours(args.ours_db):
        a[key(o)].append(o)
    b = defaultdict(list)
    for o in flumine(args.flumine_jsonl):
        b[key(o)].append(o)
    keys = sorted(set(a) | set(b), key=lambda k: (k[0], k[4], k[1]))
    shown = agree = pairs = 0
    totals = defaultdict(lambda: [0.0, 0.0])
    for k in keys:
        if args.strategy and k[0] != args.strategy:
            continue
        for i in range(max(len(a[k]), len(b[k]))):
            oa = a[k][i] if i < len(a[k]) else None
            ob = b[k][i] if i < len(b[k]) else None
            if oa is None or ob is None:
                print(f"UNPAIRED {'ours' if oa else 'flumine'}: {k}")
                continue
            pairs += 1
            totals[k[0]][0] += oa["size_matched"]
            totals[k[0]][1] += ob["size_matched"]
            same = abs(oa["size_matched"] - ob["size_matched"]) < 0.005
            agree += same
            if (not same or args.all) and shown < args.limit:
                shown += 1
                print(f"{k[0]} sel {k[1]} {k[2]} {k[3] / 100:g} x{oa['size']:g} placed {k[4]}")
                print(f"   ours    matched {oa['size_matched']:5.2f}  {show_fills(oa)}")
                print(f"   flumine matched {ob['size_matched']:5.2f}  {show_fills(ob)}")
    print(f"\n{pairs} pairs, {agree} with the same matched stake")
    for name, (x, y) in sorted(totals.items()):
        print(f"{name}: matched ours {x:.2f}, flumine {y:.2f}")


if __name__ == "__main__":
    main()
