"""flumine's `LowestLayer` example (examples/strategies/lowestlayer.py in
flumine), ported to Clever Better. Its rules:

- the market is open (not closed or suspended) and in play;
- the runner with the lowest last traded price is laid at its best lay
  price, for the `stake` parameter, when that price is 3.0 or less;
- an order still unmatched after 2 seconds is cancelled.

How flumine's parts map (docs/PYTHON.md has the whole table):
`check_market_book` becomes the first lines of `on_market`;
`process_market_book` is `on_market`; `self.context["stake"]` is a
parameter; `Trade(...).create_order(...)` plus `market.place_order(order)`
is one `ctx.lay(...)`; `process_orders` polling `elapsed_seconds` becomes a
timer per order, so nothing runs between updates.

Two things the original leaves to chance are handled: a runner that has
not traded yet (flumine's sort would compare None with a float and raise)
is skipped, and so is a runner with nothing to lay at (flumine would place
an order at price None).
"""

from clever_sdk import MarketStatus, Strategy, export_strategy

KILL_AFTER_MS = 2_000


@export_strategy
class LowestLayer(Strategy):
    def init(self, ctx, params):
        self.stake = params.float_or("stake", 2.0)
        self.max_price = params.float_or("max_price", 3.0)

    def on_market(self, ctx, market):
        # check_market_book
        if market.status in (MarketStatus.CLOSED, MarketStatus.SUSPENDED) or not market.in_play:
            return
        # process_market_book: the lowest priced runner
        traded = [r for r in market.active_runners() if r.last_traded is not None]
        if not traded:
            return
        lowest = min(traded, key=lambda r: r.last_traded)
        if lowest.last_traded > self.max_price or not lowest.lay:
            return
        placed = ctx.lay(market.id, lowest.selection_id, lowest.lay[0].price, self.stake)
        if placed:
            # process_orders: kill it if still unmatched after 2 seconds
            ctx.set_timer(KILL_AFTER_MS, placed.order_id)

    def on_timer(self, ctx, token):
        ctx.cancel(token)
