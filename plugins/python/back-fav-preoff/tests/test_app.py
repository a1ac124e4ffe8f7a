from clever_sdk.harness import Harness, market_with_backs
from clever_sdk import Side

from app import BackFavPreOff


def test_backs_the_favourite_once_per_market():
    h = Harness(BackFavPreOff)
    m = market_with_backs("1.100", [(1, 5.0), (2, 3.5), (3, 8.0)])
    assert h.market(m)
    assert not h.market(m), "done with the market: the host sends no more of it"
    assert len(h.orders) == 1
    o = h.orders[0].request
    assert (o.selection_id, o.side, o.price, o.size) == (2, Side.BACK, 3.5, 2.0)


def test_leaves_markets_without_a_short_favourite_and_in_play_alone():
    h = Harness(BackFavPreOff)
    h.market(market_with_backs("1.100", [(1, 4.0), (2, 6.0)]))
    in_play = market_with_backs("1.100", [(1, 2.0)])
    in_play.in_play = True
    assert not h.market(in_play), "the filter keeps in-play updates away"
    assert h.orders == []


def test_backs_again_after_the_market_closes_and_reopens():
    h = Harness(BackFavPreOff)
    m = market_with_backs("1.100", [(1, 3.0)])
    h.market(m)
    h.close(m)
    h.market(m)
    assert len(h.orders) == 2
