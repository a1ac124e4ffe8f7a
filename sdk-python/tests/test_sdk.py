"""The SDK's helpers: ladder, odds, parameters, filters, rules, harness."""

import pytest

from clever_sdk import (
    Market,
    MarketFilter,
    MarketStatus,
    OrderRefused,
    Parameter,
    Params,
    ParamError,
    PriceSize,
    RejectKind,
    RiskLimit,
    RejectReason,
    Runner,
    Strategy,
    ladder,
    odds,
)
from clever_sdk.harness import Harness, market_with_backs
from clever_sdk.ladder import Rounding


def test_ladder_has_350_prices_from_1_01_to_1000():
    assert ladder.LADDER_LEN == 350
    assert ladder.price_at(0) == 1.01 and ladder.price_at(349) == 1000.0
    assert ladder.is_on_ladder(2.02) and not ladder.is_on_ladder(2.01)
    assert ladder.is_on_ladder(0.1 + 0.2 + 2.7), "float noise still counts as the tick"
    assert ladder.tick_up(1.99) == 2.0 and ladder.tick_up(2.0) == 2.02
    assert ladder.tick_down(1.01) is None
    assert ladder.ticks_between(1.01, 2.0) == 99
    assert ladder.tick_size(5.0) == 0.1 and ladder.tick_size(1000.0) is None


def test_rounding_snaps_between_ticks():
    assert ladder.round_to_ladder(2.01, Rounding.UP) == 2.02
    assert ladder.round_to_ladder(2.01, Rounding.DOWN) == 2.0
    assert ladder.round_to_ladder(2.01) == 2.02, "a tie goes up"
    assert ladder.round_to_ladder(0.5) == 1.01 and ladder.round_to_ladder(5000.0) == 1000.0
    assert ladder.round_to_ladder(float("nan")) is None


def test_odds_follow_betfair_examples():
    assert odds.lay_liability(10.0, 8.6) == pytest.approx(76.0)
    assert odds.back_profit(10.0, 3.0) == 20.0
    assert odds.book_percentage([2.0, 2.0]) == 100.0
    assert odds.kelly_fraction(0.5, 3.0) == pytest.approx(0.25)
    assert odds.kelly_fraction(0.2, 3.0) == 0.0, "no edge, no bet"


def test_params_name_the_bad_key():
    p = Params.parse('{"stake": 2.5, "n": 3, "name": "x"}')
    assert (p.float_or("stake", 1.0), p.int_or("n", 0), p.str_or("name", "")) == (2.5, 3, "x")
    assert p.float_or("missing", 7.0) == 7.0
    with pytest.raises(ParamError, match="`stake` must be a whole number"):
        p.int_or("stake", 1)
    with pytest.raises(ParamError, match="not JSON"):
        Params.parse("{")
    with pytest.raises(ParamError, match="JSON object"):
        Params.parse("[1]")
    assert Params.parse("").values == {}


def test_declared_parameters_read_with_their_defaults_and_kinds():
    stake = Parameter.number("stake", 2, "stake of each back")
    lookback = Parameter.whole("lookback", 20, "candles")
    coin = Parameter.text("coin", "ETH", "the coin")
    hedge = Parameter.flag("hedge", False, "hedge or not")
    p = Params.parse('{"stake": 3.5, "lookback": 2000.0, "hedge": true}')
    assert (p.number(stake), p.whole(lookback), p.text(coin), p.flag(hedge)) == (3.5, 2000, "ETH", True)
    assert [x.default_json() for x in (stake, lookback, coin, hedge)] == ["2.0", "20", '"ETH"', "false"]
    with pytest.raises(ParamError, match="declared a number, read as a whole number"):
        p.whole(stake)
    with pytest.raises(ParamError, match="`lookback` must be a whole number"):
        Params.parse('{"lookback": 2.5}').whole(lookback)
    with pytest.raises(ParamError, match="`hedge` must be true or false"):
        Params.parse('{"hedge": 1}').flag(hedge)
    with pytest.raises(ValueError, match="its default -1 is not a whole number"):
        Parameter.whole("n", -1, "")
    with pytest.raises(ValueError, match="its default True is not a number"):
        Parameter.number("n", True, "")
    with pytest.raises(ValueError, match="its default nan is not a number"):
        Parameter.number("n", float("nan"), "")
    with pytest.raises(ValueError, match="is not a whole number"):
        Parameter.whole("n", 2**64, "")
    assert isinstance(Params().number(stake), float), "2 declared, 2.0 read, as in Rust"
    with pytest.raises(ParamError, match="declared a number, read as a whole number"):
        Params.parse('{"stake": 3.0}').whole(stake)
    with pytest.raises(ParamError, match="`lookback` must be a whole number"):
        Params.parse('{"lookback": 18446744073709551616}').whole(lookback)
    declared = [stake, lookback, coin, hedge]
    p.check(declared)
    with pytest.raises(ParamError, match="`stak` is not a parameter of this strategy"):
        Params.parse('{"stak": 2}').check(declared)
    with pytest.raises(ParamError, match="`coin` = 3: it is read as a string"):
        Params.parse('{"coin": 3}').check(declared)
    with pytest.raises(ParamError, match="it is read as a whole number"):
        Params.parse('{"lookback": 1e300}').check(declared)


def test_filters_route_by_lists_window_and_in_play():
    m = Market("1.1")
    m.country, m.start_time = "GB", 1_000_000
    f = MarketFilter(market_types=["WIN"], countries=["GB", "IE"]).between(-600, 0)
    assert f.wants(m, 1_000_000 - 600_000)
    assert not f.wants(m, 1_000_000 - 600_001), "before the window"
    m.in_play = True
    assert not MarketFilter().pre_off_only().wants(m, 0)
    m.market_type = "PLACE"
    assert not f.wants(m, 1_000_000)


def test_refusals_are_typed_values_with_the_rust_codes():
    reason = RejectReason(RejectKind.RISK_LIMIT, limit=RiskLimit.MAX_STAKE)
    assert reason.code == "risk-limit:max-stake"
    assert RejectReason(RejectKind.VENUE_ERROR, venue_code="INSUFFICIENT_FUNDS").code == (
        "venue-error:INSUFFICIENT_FUNDS"
    )

    class Once(Strategy):
        def on_market(self, ctx, market):
            self.bad = ctx.back(market.id, 1, 2.01, 2.0)  # 2.01 is off the ladder
            self.good = ctx.back(market.id, 1, 2.02, 2.0)

    h = Harness(Once)
    h.market(market_with_backs("1.1", [(1, 2.02)]))
    s = h.strategy
    assert not s.bad and s.bad.reason.kind is RejectKind.INVALID_PRICE
    assert s.good and s.good.order_id == h.orders[0].id
    with pytest.raises(OrderRefused, match="invalid-price"):
        s.bad.unwrap()
    assert h.rejections[0][1].code == "invalid-price"


def test_harness_checks_market_state_and_replaces_orders():
    class Replacer(Strategy):
        def on_market(self, ctx, market):
            if placed := ctx.back(market.id, 1, 3.0, 5.0):
                self.moved = ctx.replace(placed.order_id, 3.05)

    h = Harness(Replacer)
    m = market_with_backs("1.1", [(1, 3.0)])
    h.market(m)
    first, second = h.orders
    assert first.size_cancelled == 5.0 and second.request.price == 3.05
    assert h.strategy.moved.order_id == second.id
    m.status = MarketStatus.SUSPENDED
    h.market(m)
    assert h.rejections[-1][1].kind is RejectKind.MARKET_NOT_OPEN


def test_positions_net_across_runners():
    class Both(Strategy):
        def on_market(self, ctx, market):
            ctx.back(market.id, 1, 3.0, 10.0)
            ctx.lay(market.id, 2, 2.0, 10.0)

    h = Harness(Both)
    m = market_with_backs("1.1", [(1, 3.0), (2, 2.0), (3, 9.0)])
    h.market(m)
    for o in h.orders:
        h.fill(o.id, 10.0, o.request.price)
    p = {x.selection_id: x for x in h.host.position("1.1")}
    assert p[1].if_win == 20.0 + 10.0, "the back wins 20 and the lay keeps 10"
    assert p[2].if_win == -10.0 - 10.0
    assert p[3].if_win == -10.0 + 10.0


def test_snapshot_and_restore_round_trip():
    class Counter(Strategy):
        def init(self, ctx, params):
            self.n = 0

        def on_market(self, ctx, market):
            self.n += 1

        def snapshot(self):
            return str(self.n).encode()

        def restore(self, ctx, state):
            self.n = int(state.decode())

    a = Harness(Counter)
    a.market(market_with_backs("1.1", [(1, 3.0)]))
    b = Harness(Counter)
    b.restore(a.snapshot())
    assert b.strategy.n == 1


def test_market_copy_is_deep():
    m = Market("1.1")
    r = m.add_runner(Runner(4))
    r.back = [PriceSize(2.0, 5.0)]
    c = m.copy()
    r.back[0].size = 1.0
    assert c.runner(4).back[0].size == 5.0 and c == c.copy()


def test_params_refuse_null_and_nan_as_the_rust_sdk_does():
    with pytest.raises(ParamError, match="`stake` must be a number, got null"):
        Params.parse('{"stake": null}').float_or("stake", 2.0)
    with pytest.raises(ParamError, match="NaN is not a JSON number"):
        Params.parse('{"stake": NaN}')


def test_replace_keeps_the_order_type_and_rounds_the_remainder_half_up():
    from clever_sdk import OrderRequest, OrderType, Side

    class OnClose(Strategy):
        def on_market(self, ctx, market):
            request = OrderRequest(market.id, 1, Side.BACK, 3.0, 10.0, OrderType.LIMIT_ON_CLOSE)
            self.first = ctx.place(request)

    h = Harness(OnClose)
    h.market(market_with_backs("1.1", [(1, 3.0)]))
    h.fill(h.strategy.first.order_id, 8.875, 3.0)
    moved = h.ctx.replace(h.strategy.first.order_id, 3.5)
    second = h.orders[-1]
    assert moved and second.request.order_type is OrderType.LIMIT_ON_CLOSE
    assert second.request.size == 1.13


def test_a_rejected_order_has_nothing_remaining():
    from clever_sdk import Order, OrderRequest, OrderStatus, Side

    order = Order(1, OrderRequest("1.1", 1, Side.BACK, 2.0, 10.0), OrderStatus.REJECTED)
    assert order.size_remaining() == 0.0 and not order.is_open()


def test_runner_lookup_follows_changes_to_the_list():
    m = market_with_backs("1.1", [(1, 3.0), (2, 4.0)])
    assert m.runner(2).selection_id == 2
    m.runners.pop()
    assert m.runner(2) is None
    m.runners.insert(0, Runner(2))
    assert m.runner(2) is m.runners[0]


def test_the_harness_hands_the_strategy_one_view_updated_in_place():
    class Keeps(Strategy):
        def init(self, ctx, params):
            self.seen = []

        def on_market(self, ctx, market):
            self.seen.append(market)

    h = Harness(Keeps)
    m = market_with_backs("1.1", [(1, 3.0)])
    h.market(m)
    m.runners[0].back[0].price = 3.05
    h.market(m)
    first, second = h.strategy.seen
    assert first is second, "as in the component: the SDK's cached market, updated in place"
    assert second.runners[0].back[0].price == 3.05


def test_timers_take_whole_non_negative_numbers():
    class Timed(Strategy):
        def on_market(self, ctx, market):
            ctx.set_timer(1.5e3, 7)
            ctx.set_timer(-5, 8)

    h = Harness(Timed)
    h.market(market_with_backs("1.1", [(1, 3.0)]))
    assert h.timers == {7: 1500, 8: 0}
    assert all(isinstance(at, int) for at in h.timers.values())


class _Watcher(Strategy):
    """Asks for what its parameters say: nothing until the off (asked
    before it), or nothing more."""

    def init(self, ctx, params):
        self.ask = params.str_or("ask", "")
        self.seen = []

    def on_market(self, ctx, market):
        self.seen.append(market.in_play)
        if self.ask == "in-play" and not market.in_play:
            ctx.skip_until_in_play(market.id)
        elif self.ask == "done":
            ctx.done_with(market.id)


def test_set_interest_in_play_skips_updates_until_the_off():
    h = Harness(_Watcher, {"ask": "in-play"})
    m = market_with_backs("1.1", [(1, 3.0)])
    assert h.market(m) and not h.market(m)
    m.in_play = True
    assert h.market(m) and h.market(m), "in play: every update again"
    m.in_play = False
    assert h.market(m), "once in play, every update, whatever the flag says"
    assert h.strategy.seen == [False, True, True, False]


def test_done_with_stops_updates_until_the_market_is_closed():
    h = Harness(_Watcher, {"ask": "done"})
    m = market_with_backs("1.1", [(1, 3.0)])
    assert h.market(m) and not h.market(m)
    other = market_with_backs("1.2", [(1, 3.0)])
    assert h.market(other), "only the market it was done with"
    h.close(m)
    assert h.market(m), "a closed market's interest is forgotten"


def test_set_interest_in_an_unknown_market_changes_nothing():
    from clever_sdk import MarketInterest

    h = Harness(_Watcher)
    assert not h.ctx.set_interest("1.9", MarketInterest.NOTHING_MORE)
    assert h.market(market_with_backs("1.9", [(1, 3.0)]))
