from clever_sdk import Market, PriceSize, Runner, Side
from clever_sdk.harness import Harness

from app import LayLowInPlay


def market(in_play, runners):
    m = Market("1.7")
    m.in_play = in_play
    for selection, ltp, lay in runners:
        r = m.add_runner(Runner(selection))
        r.last_traded = ltp
        if lay is not None:
            r.lay = [PriceSize(lay, 100.0)]
    return m


def test_lays_every_low_runner_in_play_on_every_update():
    h = Harness(LayLowInPlay)
    m = market(True, [(1, 1.8, 1.82), (2, 2.5, 2.6), (3, 1.5, None)])
    h.market(m)
    h.market(m)
    assert len(h.orders) == 2, "runner 1 on each update; 2 is not low, 3 has no lay price"
    for o in h.orders:
        assert (o.request.selection_id, o.request.side, o.request.price, o.request.size) == (1, Side.LAY, 1.82, 2.0)


def test_nothing_before_the_off_and_no_calls_until_it():
    h = Harness(LayLowInPlay)
    assert h.market(market(False, [(1, 1.5, 1.52)]))
    assert not h.market(market(False, [(1, 1.5, 1.52)])), "skipped until in play"
    assert h.orders == []
    assert h.market(market(True, [(1, 1.5, 1.52)]))
    assert len(h.orders) == 1


def test_cancels_what_is_unmatched_after_two_seconds():
    h = Harness(LayLowInPlay)
    h.market(market(True, [(1, 1.8, 1.82)]))
    order = h.orders[0]
    h.fill(order.id, 0.5, 1.82)
    h.advance(1_999)
    assert order.is_open(), "not yet"
    h.advance(1)
    assert not order.is_open()
    assert (order.size_matched, order.size_cancelled) == (0.5, 1.5)


def test_refuses_a_parameter_of_the_wrong_type():
    try:
        Harness(LayLowInPlay, {"stake": "two"})
    except ValueError as e:
        assert "stake" in str(e)
    else:
        raise AssertionError("a string stake was accepted")
