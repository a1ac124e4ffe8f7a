from clever_sdk import Market, PriceSize, Runner, Side
from clever_sdk.harness import Harness

from app import LowestLayer


def market(in_play, runners):
    m = Market("1.9")
    m.in_play = in_play
    for selection, ltp, lay in runners:
        r = m.add_runner(Runner(selection))
        r.last_traded = ltp
        r.lay = [] if lay is None else [PriceSize(lay, 50.0)]
    return m


def test_lays_the_lowest_priced_runner_in_play():
    h = Harness(LowestLayer, {"stake": 5.0})
    h.market(market(True, [(1, 4.0, 4.1), (2, 2.5, 2.52), (3, None, 1.5)]))
    assert [(o.request.selection_id, o.request.side, o.request.price, o.request.size) for o in h.orders] == [
        (2, Side.LAY, 2.52, 5.0)
    ], "runner 3 has not traded: it is not the lowest, whatever its lay price"


def test_nothing_above_three_before_the_off_or_without_a_lay_price():
    h = Harness(LowestLayer)
    h.market(market(True, [(1, 3.2, 3.25)]))
    h.market(market(False, [(1, 2.0, 2.02)]))
    h.market(market(True, [(1, 2.0, None)]))
    assert h.orders == []


def test_an_unmatched_order_is_killed_after_two_seconds():
    h = Harness(LowestLayer)
    h.market(market(True, [(1, 2.0, 2.02)]))
    order = h.orders[0]
    h.advance(2_000)
    assert not order.is_open() and order.size_cancelled == 2.0
