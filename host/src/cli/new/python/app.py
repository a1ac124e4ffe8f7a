"""{{name}}: backs the favourite once per market before the off, when its
price is under `max_price`, for `stake`. A starting point: change
`on_market`, keep the tests honest, then `clever build .`.

Import everything at the top of the module: the component holds only what
the module imports when it is loaded (`clever build` checks).
"""

from clever_sdk import MarketFilter, Parameter, Strategy, export_strategy

# The parameters `init` reads, declared so the host refuses a misspelt one.
STAKE = Parameter.number("stake", 2.0, "stake of each back")
MAX_PRICE = Parameter.number("max_price", 4.0, "back the favourite only below this price")


@export_strategy
class Favourite(Strategy):
    @classmethod
    def markets(cls):
        return MarketFilter(market_types=["WIN"]).pre_off_only()

    @classmethod
    def parameters(cls):
        return [STAKE, MAX_PRICE]

    def init(self, ctx, params):
        self.stake = params.number(STAKE)
        self.max_price = params.number(MAX_PRICE)
        self.backed = set()

    def on_market(self, ctx, market):
        if not market.is_open() or market.id in self.backed:
            return
        prices = [(r.back[0].price, r.selection_id) for r in market.active_runners() if r.back]
        if not prices:
            return
        price, selection = min(prices, key=lambda p: p[0])
        if price >= self.max_price:
            return
        placed = ctx.back(market.id, selection, price, self.stake)
        if placed:
            self.backed.add(market.id)
        else:
            ctx.warn(f"back {selection} at {price} refused: {placed.reason}")

    def on_market_closed(self, ctx, market):
        self.backed.discard(market.id)
