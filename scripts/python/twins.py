"""Compares the orders of Rust strategies and their Python twins in one
saved backtest (a SQLite file): every order, in the order placed, with its
price, size, times, status and settlement, and the refusals by reason.
Usage: twins.py DB RUST_NAME=PYTHON_NAME [...]. Exits 1 on any difference.
"""

import json
import sqlite3
import sys

ORDER = """
SELECT m.market_id, o.selection_id, o.side, o.order_type, o.persistence, o.price,
       o.size_pennies, o.placed_at, o.status, o.average_price_matched, o.size_matched_pennies,
       o.size_cancelled_pennies, o.size_lapsed_pennies, o.profit_pennies, o.commission_pennies
FROM orders o
JOIN strategy_versions v ON v.id = o.strategy_version
JOIN strategies s ON s.id = v.strategy
JOIN markets m ON m.id = o.market
WHERE s.name = ?
ORDER BY o.placed_at, o.id
"""


def main(db, pairs):
    con = sqlite3.connect(db)
    results = {row[0]: row[1:] for row in con.execute("SELECT s.name, r.orders, r.rejected, r.profit_pennies FROM backtest_results r JOIN strategy_versions v ON v.id = r.strategy_version JOIN strategies s ON s.id = v.strategy")}
    failed = False
    print(f"{'rust':<18} {'python':<22} {'orders':>7} {'refused':>8} {'profit':>10}  same")
    for pair in pairs:
        rust, python = pair.split("=")
        a, b = con.execute(ORDER, (rust,)).fetchall(), con.execute(ORDER, (python,)).fetchall()
        ra, rb = results[rust], results[python]
        same = a == b and json.loads(ra[1] or "{}") == json.loads(rb[1] or "{}") and ra[2] == rb[2]
        refused = sum(json.loads(ra[1] or "{}").values())
        print(f"{rust:<18} {python:<22} {len(a):>7} {refused:>8} {ra[2] / 100:>10.2f}  {'yes' if same else 'NO'}")
        if not a:
            print(f"  {rust} placed no orders: nothing was compared", file=sys.stderr)
            failed = True
        if not same:
            failed = True
            for n, (x, y) in enumerate(zip(a, b)):
                if x != y:
                    print(f"  first difference at order {n + 1}:\n    {rust}: {x}\n    {python}: {y}", file=sys.stderr)
                    break
            else:
                print(f"  {rust}: {len(a)} orders, {python}: {len(b)}; refusals {ra[1]} vs {rb[1]}", file=sys.stderr)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
