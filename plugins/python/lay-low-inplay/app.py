"""In play, lay every runner whose last traded price is below `below` at its
best lay price, for `stake`; cancel what is unmatched after
`cancel_after_ms`. The Python twin of `plugins/lay-low-inplay`: it places
exactly the same orders (a test of the host checks it)."""

from clever_sdk import Parameter, Strategy, export_strategy

STAKE = Parameter.number("stake", 2.0, "stake of each lay")
BELOW = Parameter.number("below", 2.0, "lay runners last traded below this price")
CANCEL_AFTER_MS = Parameter.whole("cancel_after_ms", 2_000, "cancel a lay still unmatched after this many ms")


@export_strategy
class LayLowInPlay(Strategy):
    @classmethod
    def parameters(cls):
        return [STAKE, BELOW, CANCEL_AFTER_MS]

    def init(self, ctx, params):
        self.stake = params.number(STAKE)
        if self.stake <= 0:
            raise ValueError(f"parameter `stake` must be more than 0, not {self.stake}")
        self.below = params.number(BELOW)
        self.cancel_after_ms = params.whole(CANCEL_AFTER_MS)

    def on_market(self, ctx, market):
        if not market.in_play:
            # Nothing to do before the off: the host skips those updates.
            ctx.skip_until_in_play(market.id)
            return
        if not market.is_open():
            return
        for runner in market.active_runners():
            low = runner.last_traded is not None and runner.last_traded < self.below
            if not low or not runner.lay:
                continue
            placed = ctx.lay(market.id, runner.selection_id, runner.lay[0].price, self.stake)
            if placed:
                ctx.set_timer(self.cancel_after_ms, placed.order_id)

    def on_timer(self, ctx, token):
        ctx.cancel(token)
