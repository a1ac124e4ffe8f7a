"""Behaviour switches for flumine's simulation, for the fidelity analysis.

Each one changes one rule of flumine 3.3.2's simulated matching in this
process only (monkey patching; the installed package is not touched), so
that a difference between flumine and ``clever backtest`` can be shown to
come from that rule: apply it with ``run.py --patch NAME`` and see how far
the gap closes. ``docs/SIMULATION.md`` (the flumine section) and the report
of issue 11 list what each one showed.

* ``count-fills``: change nothing; print to stderr how much stake each
  strategy matched on arrival (crossing the displayed book) and how much
  from traded volume afterwards.
* ``no-double-count``: on arrival an order takes displayed volume only once
  per strategy: what an earlier order of the strategy took at a price is
  gone until the size displayed there changes (our rule 5, ``UsedVolume``
  in ``exec/book.rs``). flumine matches every order against the whole
  displayed size.
* ``trades-at-price-only``: a resting order is filled only by volume traded
  at its own price (our rule 7). flumine also counts volume traded at
  prices better for the other side (for a lay at P, trades below P).
* ``through-clears-queue``: the rule proposed for us instead of rule 7's
  "only trades at P count": volume traded through P empties the queue ahead
  and fills the order; volume traded at P eats the queue first.
* ``arrival-book``: an order (or a cancel) reaching the book meets the
  first update published at or after its arrival, and that update's trades
  are not credited to it (ours, rule 2); flumine matches it against the
  last book published before that update, then credits it with the
  update's trades.
* ``lapse-at-off``: LAPSE orders placed before the off lapse when the
  market turns in play (ours, and Betfair's rule); flumine lapses them only
  on an update that shows the market SUSPENDED with a new version.
"""

import sys
from collections import defaultdict

from flumine.simulation import simulatedorder as so
from flumine.simulation.simulation import FlumineSimulation
from flumine.events import events
from flumine import utils

_applied = []


def apply(name: str) -> None:
    try:
        fn = PATCHES[name]
    except KeyError:
        sys.exit(f"unknown patch {name!r}; known: {', '.join(PATCHES)}")
    fn()
    _applied.append(name)


# -- count-fills -------------------------------------------------------------

_counts = defaultdict(lambda: defaultdict(float))


def _count_fills():
    import atexit

    orig_price = so.SimulatedOrder._process_price_matched
    orig_traded = so.SimulatedOrder._calculate_process_traded

    def price_matched(self, publish_time, price, size, available):
        before = self.size_matched
        orig_price(self, publish_time, price, size, available)
        _counts[self.order.trade.strategy.name]["on_arrival"] += self.size_matched - before

    def traded(self, publish_time, traded_size):
        before = self.size_matched
        out = orig_traded(self, publish_time, traded_size)
        _counts[self.order.trade.strategy.name]["from_trades"] += self.size_matched - before
        return out

    so.SimulatedOrder._process_price_matched = price_matched
    so.SimulatedOrder._calculate_process_traded = traded

    def report():
        for name, c in _counts.items():
            figures = ", ".join(f"{k} {v:.2f}" for k, v in sorted(c.items()))
            print(f"count-fills: {name}: {figures}", file=sys.stderr)

    atexit.register(report)


# -- no-double-count ---------------------------------------------------------

# (strategy, market, selection, side, price) -> [displayed size, used]
_used = {}


def _no_double_count():
    def price_matched(self, publish_time, price, size, available):
        order = self.order
        size_remaining = size
        for avail in available:
            if size_remaining == 0:
                break
            crosses = (self.side == "BACK" and price <= avail["price"]) or (
                self.side == "LAY" and price >= avail["price"]
            )
            if not crosses:
                break
            key = (order.trade.strategy.name, order.market_id, order.selection_id,
                   self.side, avail["price"])
            entry = _used.get(key)
            if entry is None or entry[0] != avail["size"]:
                entry = _used[key] = [avail["size"], 0.0]
            free = round(max(entry[0] - entry[1], 0.0), 2)
            take = round(min(free, size_remaining), 2)
            if take <= 0:
                continue
            entry[1] += take
            size_remaining = round(size_remaining - take, 2)
            self._update_matched([publish_time, avail["price"], take])

    so.SimulatedOrder._process_price_matched = price_matched


# -- trades-at-price-only ----------------------------------------------------


def _trades_at_price_only():
    def process_traded(self, publish_time, traded):
        price = self.order.order_type.price
        for traded_price, traded_size in traded.items():
            if traded_price == price:
                matched = self._calculate_process_traded(publish_time, traded_size)
                if matched:
                    traded[traded_price] = max(traded_size - matched, 0.0)

    so.SimulatedOrder._process_traded = process_traded


# -- through-clears-queue ---------------------------------------------------


def _through_clears_queue():
    """Volume traded through a resting order's price (for a lay at P, below
    P; for a back, above) can only trade once every order resting at P has
    been filled: it empties the queue ahead and fills the order; volume
    traded at P eats the queue first (half of each traded amount is
    credited, as flumine and we both assume)."""

    def process_traded(self, publish_time, traded):
        price = self.order.order_type.price
        if self.side == "BACK":
            through = [p for p in traded if p > price]
        else:
            through = [p for p in traded if p < price]
        credit = sum(traded[p] for p in through) / 2
        at = traded.get(price, 0.0) / 2
        if credit > 0:
            self._piq = 0.0
        eaten = min(at, self._piq)
        self._piq -= eaten
        credit += at - eaten
        size = round(min(self.size_remaining, credit), 2)
        if size > 0:
            self._update_matched([publish_time, price, size])
        # what this order used is gone for the strategy's later orders
        used = (eaten + size) * 2
        for p in through + ([price] if price in traded else []):
            take = min(traded[p], used)
            traded[p] -= take
            used -= take

    so.SimulatedOrder._process_traded = process_traded


# -- arrival-book ------------------------------------------------------------


def _arrival_book():
    """FlumineSimulation._process_market_books with pending orders and cancels
    handled after the market took the update and before the middleware
    credits its trades (as our exchange does), an order placed on this
    update being blind to the update's own trades."""

    orig_place = so.SimulatedOrder.place
    orig_call = so.SimulatedOrder.__call__

    def place(self, order_package, market_book, instruction, bet_id):
        self._arrived_pt = market_book.publish_time_epoch
        return orig_place(self, order_package, market_book, instruction, bet_id)

    def call(self, market_book, runner_traded):
        if getattr(self, "_arrived_pt", None) == market_book.publish_time_epoch:
            runner_traded = (runner_traded[0], {})
        return orig_call(self, market_book, runner_traded)

    def process(self, event):
        for market_book in event.event:
            market_id = market_book.market_id
            self.simulated_datetime(market_book.publish_time)
            if market_book.status == "CLOSED":
                if self.handler_queue:
                    self._check_pending_packages(market_id)
                self._process_close_market(event=events.CloseMarketEvent(market_book))
                continue
            market = self.markets.markets.get(market_id)
            market_is_new = market is None
            if market_is_new:
                market = self._add_market(market_id, market_book, event.venue)
                self.log_control(events.MarketEvent(market))
            elif market.closed:
                self.markets.add_market(market_id, market)
            market(market_book)
            if self.handler_queue:
                self._check_pending_packages(market_id)
            for middleware in self._market_middleware:
                utils.call_middleware_error_handling(middleware, market)
            if market.blotter.active:
                self._process_simulated_orders(market)
            for strategy in self.strategies:
                if market_book.streaming_unique_id in strategy.stream_ids:
                    if market_is_new:
                        utils.call_strategy_error_handling(
                            strategy.process_new_market, market, market_book
                        )
                    if utils.call_strategy_error_handling(
                        strategy.check_market_book, market, market_book
                    ):
                        utils.call_strategy_error_handling(
                            strategy.process_market_book, market, market_book
                        )

    so.SimulatedOrder.place = place
    so.SimulatedOrder.__call__ = call
    FlumineSimulation._process_market_books = process


# -- lapse-at-off ------------------------------------------------------------


def _lapse_at_off():
    orig_call = so.SimulatedOrder.__call__

    def call(self, market_book, runner_traded):
        if (
            market_book.inplay
            and not getattr(self, "_seen_in_play", False)
            and self.order.order_type.ORDER_TYPE == so.OrderTypes.LIMIT
        ):
            self._seen_in_play = True
            placed_pre_off = not getattr(self.order, "_placed_in_play", False)
            if placed_pre_off and self.order.order_type.persistence_type == "LAPSE":
                self.size_lapsed += self.size_remaining
                return
        orig_call(self, market_book, runner_traded)

    orig_place = so.SimulatedOrder.place

    def place(self, order_package, market_book, instruction, bet_id):
        self.order._placed_in_play = bool(market_book.inplay)
        self._seen_in_play = bool(market_book.inplay)
        return orig_place(self, order_package, market_book, instruction, bet_id)

    so.SimulatedOrder.__call__ = call
    so.SimulatedOrder.place = place


PATCHES = {
    "count-fills": _count_fills,
    "no-double-count": _no_double_count,
    "trades-at-price-only": _trades_at_price_only,
    "arrival-book": _arrival_book,
    "through-clears-queue": _through_clears_queue,
    "lapse-at-off": _lapse_at_off,
}
