"""Before the off, back the favourite (the shortest best back price) once
per market, when its price is under `max_price`. The Python twin of
`plugins/back-fav-preoff`: it places exactly the same orders."""

from clever_sdk import MarketFilter, Parameter, Strategy, export_strategy

STAKE = Parameter.number("stake", 2.0, "stake of the back")
MAX_PRICE = Parameter.number("max_price", 4.0, "back the favourite only below this price")


def favourite(market):
    """(selection, price) of the shortest best back price, first on ties."""
    best = None
    for runner in market.active_runners():
        if runner.back and (best is None or runner.back[0].price < best[1]):
            best = (runner.selection_id, runner.back[0].price)
    return best


@export_strategy
class BackFavPreOff(Strategy):
    @classmethod
    def markets(cls):
        return MarketFilter().pre_off_only()

    @classmethod
    def parameters(cls):
        return [STAKE, MAX_PRICE]

    def init(self, ctx, params):
        self.stake = params.number(STAKE)
        self.max_price = params.number(MAX_PRICE)

    def on_market(self, ctx, market):
        if market.in_play or not market.is_open():
            return
        fav = favourite(market)
        if fav is None or fav[1] >= self.max_price:
            return
        selection, price = fav
        placed = ctx.back(market.id, selection, price, self.stake)
        if placed:
            # Once per market: the host sends no more of it.
            ctx.done_with(market.id)
        else:
            ctx.warn(f"back {selection} @ {price} refused: {placed.reason}")
