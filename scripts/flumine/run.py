#!/usr/bin/env python3
"""Backtest the flumine mirrors of our two example plugins over market files.

Usage: run.py [--per-market] [--orders FILE] [--patch NAME ...]
              [--place-latency S] [--cancel-latency S] FILE [FILE ...]

Runs flumine's own simulation (``FlumineSimulation`` with a
``SimulatedClient``: its simulated execution, latencies and matching),
events read from each file (plain or ``.bz2``/``.gz``, which flumine opens
itself), both strategies over every file, and prints one JSON object:

  {"flumine": VERSION, "files": N, "markets": M, "elapsed_ms": MS,
   "strategies": [{"name", "orders", "matched", "gross_profit",
                   "commission", "profit", "markets": [...]?}, ...]}

The figures are defined as ``clever backtest --json`` defines them, so the
two can be put side by side:

* ``orders``: orders the strategy placed (accepted by flumine's controls);
* ``matched``: stake matched on runners with a result (WINNER, LOSER,
  PLACED); void bets on non-runners and markets that never settle count 0;
* ``gross_profit``: flumine's own ``order.profit`` summed;
* ``commission``: charged per market on the strategy's net winnings at the
  market's ``marketBaseRate`` (5% where it has none), as our host does.
  flumine itself only reports a client-wide 5% figure (``market.cleared``),
  never deducted from ``profit``; ``profit`` here is gross - commission.

``--orders FILE`` writes one JSON line per order (fills included) for
analysis; ``--patch`` applies behaviour changes from ``patches.py`` (for
the fidelity analysis, see ``scripts/compare-flumine``).
"""

import argparse
import json
import logging
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import flumine  # noqa: E402
from flumine import FlumineSimulation, clients, config  # noqa: E402
from flumine.streams.betfairhistoricalstream import BetfairHistoricalStream  # noqa: E402

from strategies import BackFavPreOff, LayLowInPlay  # noqa: E402

SETTLED = {"WINNER", "LOSER", "PLACED"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="+")
    ap.add_argument("--per-market", action="store_true", help="add each market's figures")
    ap.add_argument("--orders", help="write every order as a JSON line to this file")
    ap.add_argument("--patch", action="append", default=[], help="a behaviour from patches.py")
    ap.add_argument("--place-latency", type=float, help="seconds (flumine default 0.120)")
    ap.add_argument("--cancel-latency", type=float, help="seconds (flumine default 0.170)")
    args = ap.parse_args()

    logging.disable(logging.WARNING)  # flumine logs every non-runner and order at WARNING
    if args.place_latency is not None:
        config.place_latency = args.place_latency
    if args.cancel_latency is not None:
        config.cancel_latency = args.cancel_latency
    if args.patch:
        import patches

        for name in args.patch:
            patches.apply(name)

    started = time.perf_counter()
    client = clients.SimulatedClient(transaction_limit=10**9)
    framework = FlumineSimulation(client=client)
    streams = [BetfairHistoricalStream(file_path=f) for f in args.files]
    strategies = [LayLowInPlay(streams=list(streams)), BackFavPreOff(streams=list(streams))]
    for s in strategies:
        framework.add_strategy(s)
    framework.run()
    elapsed_ms = (time.perf_counter() - started) * 1000

    out_orders = open(args.orders, "w") if args.orders else None
    report = {
        "flumine": flumine.__version__,
        "files": len(args.files),
        "markets": len(list(framework.markets)),
        "elapsed_ms": round(elapsed_ms),
        "strategies": [],
    }
    for strategy in strategies:
        total = dict(name=strategy.name, orders=0, matched=0.0, gross_profit=0.0,
                     commission=0.0, profit=0.0)
        per_market = []
        for market in framework.markets:
            orders = list(market.blotter.strategy_orders(strategy))
            book = market.market_book
            rate = book.market_definition.market_base_rate if book else None
            rate = 5.0 if rate is None else rate
            matched = gross = 0.0
            for o in orders:
                if o.runner_status in SETTLED:
                    matched += o.size_matched
                gross += o.profit
                if out_orders:
                    out_orders.write(json.dumps(order_line(strategy, market, o), default=str) + "\n")
            gross = round(gross, 2)
            commission = round(max(gross, 0.0) * rate / 100.0, 2)
            m = dict(market_id=market.market_id, closed=market.closed, orders=len(orders),
                     matched=round(matched, 2), gross_profit=gross, commission=commission,
                     profit=round(gross - commission, 2))
            per_market.append(m)
            for k in ("orders", "matched", "gross_profit", "commission", "profit"):
                total[k] += m[k]
        for k in ("matched", "gross_profit", "commission", "profit"):
            total[k] = round(total[k], 2)
        if args.per_market:
            total["markets"] = per_market
        report["strategies"].append(total)
    if out_orders:
        out_orders.close()
    print(json.dumps(report))


def order_line(strategy, market, o) -> dict:
    sim = o.simulated
    return dict(
        strategy=strategy.name,
        market_id=market.market_id,
        id=o.id,
        bet_id=o.bet_id,
        selection_id=o.selection_id,
        side=o.side,
        price=o.order_type.price,
        size=o.order_type.size,
        placed_ms=epoch_ms(getattr(o, "publish_time", None)),
        status=o.status.value if o.status else None,
        runner_status=o.runner_status,
        size_matched=sim.size_matched,
        average_price_matched=sim.average_price_matched,
        size_cancelled=sim.size_cancelled,
        size_lapsed=sim.size_lapsed,
        size_voided=sim.size_voided,
        fills=[[int(t), p, s] for t, p, s in sim.matched],
        profit=o.profit,
    )


def epoch_ms(t):
    """A datetime (flumine's, patched during a simulation) as epoch milliseconds."""
    return None if t is None else round(t.timestamp() * 1000)


if __name__ == "__main__":
    main()
