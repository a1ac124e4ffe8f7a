"""flumine mirrors of the two example plugins, rule for rule.

* ``LayLowInPlay`` is ``plugins/lay-low-inplay/src/lib.rs``: in play, on
  every update of an open market, for each active runner whose last traded
  price is below ``below`` (2.0) and that has a best price available to lay,
  lay ``stake`` (2.00) at that best lay price (a LAPSE limit order); cancel
  whatever is still unmatched ``cancel_after_ms`` (2,000 ms) after placing.
* ``BackFavPreOff`` is ``plugins/back-fav-preoff/src/lib.rs``: before the
  off only (its filter is ``pre_off_only``), once per market, back for
  ``stake`` (2.00) the active runner with the lowest best back price, at that
  price, if it is below ``max_price`` (4.0). The market counts as done once
  the order is accepted (``market.place_order`` returns True).

Our plugins set a host timer for the cancel; flumine has no timers, so the
mirror checks, on every update of the market, which of its orders were placed
``cancel_after_ms`` or more before that update's publish time, which is when
our host fires the timer (at the first update at or after it is due). An
order still on its way to the book (PENDING in flumine) is cancelled as soon
as it is executable, as our host's cancel cannot overtake its order either.

Both strategies are given limits that never bind (``GENEROUS``); the same
limits on our side are ``scripts/flumine/risk.toml``.
"""

from flumine import BaseStrategy
from flumine.order.order import LimitOrder, OrderStatus
from flumine.order.trade import Trade

# Risk limits that never bind, as keyword arguments of BaseStrategy.
GENEROUS = dict(
    max_order_exposure=1e9,
    max_selection_exposure=1e9,
    max_market_exposure=None,
    max_trade_count=1e9,
    max_live_trade_count=1e9,
)


def _best(levels):
    """The best (first) level's price, or None (betfairlightweight lists best first)."""
    if levels:
        return levels[0]["price"]
    return None


def _limit_order(strategy, market_book, runner, side, price):
    """A LAPSE limit order for the strategy's stake on `runner` at `price`."""
    trade = Trade(
        market_id=market_book.market_id,
        selection_id=runner.selection_id,
        handicap=runner.handicap,
        strategy=strategy,
    )
    order_type = LimitOrder(price=price, size=strategy.stake, persistence_type="LAPSE")
    return trade.create_order(side=side, order_type=order_type)


class LayLowInPlay(BaseStrategy):
    """plugins/lay-low-inplay: lay low-priced runners in play, cancel after 2 s."""

    def __init__(self, *args, stake=2.0, below=2.0, cancel_after_ms=2000, **kwargs):
        super().__init__(*args, name="lay-low-inplay", **{**GENEROUS, **kwargs})
        self.stake = stake
        self.below = below
        self.cancel_after_ms = cancel_after_ms
        # market id -> [(publish time in ms of the update it was placed on, order)],
        # oldest first: the orders whose "timer" has not fired yet
        self.timers = {}

    def check_market_book(self, market, market_book):
        return True  # MarketFilter::default(): every market, pre-off and in play

    def process_market_book(self, market, market_book):
        self._fire_timers(market, market_book.publish_time_epoch)
        if not market_book.inplay or market_book.status != "OPEN":
            return
        for runner in market_book.runners:
            if runner.status != "ACTIVE":
                continue
            ltp = runner.last_price_traded
            low = ltp is not None and ltp < self.below
            best_lay = _best(runner.ex.available_to_lay)
            if best_lay is None or not low:
                continue
            order = _limit_order(self, market_book, runner, "LAY", best_lay)
            if market.place_order(order):
                self.timers.setdefault(market_book.market_id, []).append(
                    (market_book.publish_time_epoch, order)
                )

    def _fire_timers(self, market, now_ms):
        """Cancel the unmatched part of every order placed cancel_after_ms ago."""
        timers = self.timers.get(market.market_id)
        if not timers:
            return
        waiting = []
        for placed, order in timers:
            if now_ms - placed < self.cancel_after_ms:
                waiting.append((placed, order))
            elif order.status == OrderStatus.EXECUTABLE:
                if order.size_remaining > 0:
                    market.cancel_order(order)
            elif order.status == OrderStatus.PENDING:
                # still in its latency or bet delay: our host's cancel cannot
                # overtake its order either; ask again on the next update
                waiting.append((placed, order))
            # anything else (complete, violation, lapsed) has nothing to cancel
        self.timers[market.market_id] = waiting

    def process_closed_market(self, market, market_book):
        self.timers.pop(market_book.market_id, None)


class BackFavPreOff(BaseStrategy):
    """plugins/back-fav-preoff: back the favourite below 4.0 once per market pre-off."""

    def __init__(self, *args, stake=2.0, max_price=4.0, **kwargs):
        super().__init__(*args, name="back-fav-preoff", **{**GENEROUS, **kwargs})
        self.stake = stake
        self.max_price = max_price
        self.done = set()

    def check_market_book(self, market, market_book):
        return not market_book.inplay  # MarketFilter::default().pre_off_only()

    def process_market_book(self, market, market_book):
        if (
            market_book.inplay
            or market_book.status != "OPEN"
            or market_book.market_id in self.done
        ):
            return
        fav = None  # (price, runner): the first runner with the lowest best back
        for runner in market_book.runners:
            if runner.status != "ACTIVE":
                continue
            price = _best(runner.ex.available_to_back)
            if price is not None and (fav is None or price < fav[0]):
                fav = (price, runner)
        if fav is None:
            return
        price, runner = fav
        if price >= self.max_price:
            return
        order = _limit_order(self, market_book, runner, "BACK", price)
        if market.place_order(order):
            self.done.add(market_book.market_id)

    def process_closed_market(self, market, market_book):
        self.done.discard(market_book.market_id)
