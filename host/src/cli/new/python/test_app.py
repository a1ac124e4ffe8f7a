from clever_sdk.harness import Harness, market_with_backs

from app import Favourite


def test_backs_the_favourite_once_per_market():
    h = Harness(Favourite)
    m = market_with_backs("1.1", [(1, 5.0), (2, 3.5), (3, 8.0)])
    h.market(m)
    h.market(m)
    assert len(h.orders) == 1
    o = h.orders[0].request
    assert (o.selection_id, o.price, o.size) == (2, 3.5, 2.0)


def test_leaves_a_long_favourite_alone():
    h = Harness(Favourite, {"max_price": 3.0})
    h.market(market_with_backs("1.1", [(1, 3.5), (2, 6.0)]))
    assert h.orders == []
