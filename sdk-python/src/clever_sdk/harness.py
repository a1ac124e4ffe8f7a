"""A native test harness: run a strategy in plain `pytest`, no Wasm.

Feed it markets, move its clock, fill its orders, then assert on the orders,
logs, signals and timers it recorded. It applies the host's order rules
(`rules`) and routes by the strategy's `markets()` filter, as the Rust SDK's
`clever_sdk::harness::Harness` does.

    h = Harness(BackFavourite)
    h.market(market_with_backs("1.1", [(1, 3.5), (2, 5.0)]))
    assert h.orders[0].request.price == 3.5
"""

from __future__ import annotations

import json
import math
from dataclasses import replace

from .context import Context
from .market import Market, PriceSize, Runner
from .params import Params
from .rules import market_position, validate_order, validate_price_and_size
from .wire import MarketCache, encode
from .types import (
    Done,
    LogLevel,
    MarketId,
    MarketInterest,
    MarketStatus,
    Order,
    OrderId,
    OrderRequest,
    OrderStatus,
    Placed,
    RejectKind,
    RejectReason,
    Refused,
    RunnerPosition,
    SelectionId,
    Signal,
    Timestamp,
)


def market_with_backs(market_id: str, backs: list[tuple[int, float]]) -> Market:
    """Market `market_id` whose runners (selection, price) each offer that
    price to back, 50 available: where most strategy tests start."""
    m = Market(market_id)
    for selection, price in backs:
        r = m.add_runner(Runner(selection))
        r.back = [PriceSize(price, 50.0)]
    return m


class RecordingHost:
    """The harness's host: records everything, checks orders by the rules."""

    def __init__(self) -> None:
        self.clock: Timestamp = Timestamp(0)
        self.orders: list[Order] = []
        self.rejections: list[tuple[OrderRequest, RejectReason]] = []
        self.logs: list[tuple[LogLevel, str]] = []
        self.signals: list[Signal] = []
        self.timers: dict[int, Timestamp] = {}
        self.state: dict[str, bytes] = {}
        self.predictions: dict[tuple[str, str, int], float] = {}
        self.markets: dict[str, Market] = {}
        self.interest: dict[str, MarketInterest] = {}

    def _open_order(self, order_id: int) -> Order | Refused:
        for o in self.orders:
            if o.id == order_id and o.is_open():
                return o
        return Refused(RejectReason(RejectKind.UNKNOWN_ORDER))

    def place_order(self, request: OrderRequest) -> Placed | Refused:
        market = self.markets.get(request.market_id)
        reason = validate_order(market, request) if market else RejectReason(RejectKind.UNKNOWN_MARKET)
        if reason is not None:
            self.rejections.append((request, reason))
            return Refused(reason)
        order_id = OrderId(len(self.orders) + 1)
        self.orders.append(Order(order_id, request, OrderStatus.EXECUTABLE, placed_at=self.clock))
        return Placed(order_id)

    def cancel_order(self, order_id: OrderId) -> Done | Refused:
        order = self._open_order(order_id)
        if isinstance(order, Refused):
            return order
        order.size_cancelled += order.size_remaining()
        order.status = OrderStatus.EXECUTION_COMPLETE
        return Done()

    def replace_order(self, order_id: OrderId, price: float) -> Placed | Refused:
        order = self._open_order(order_id)
        if isinstance(order, Refused):
            return order
        # The remainder in pennies, halves up (as the host rounds).
        size = math.floor(order.size_remaining() * 100.0 + 0.5) / 100.0
        request = replace(order.request, price=price, size=size)
        reason = validate_price_and_size(request)
        if reason is not None:
            return Refused(reason)
        self.cancel_order(order_id)
        return self.place_order(request)

    def open_orders(self, market_id: MarketId) -> list[Order]:
        return [o for o in self.orders if o.request.market_id == market_id and o.is_open()]

    def position(self, market_id: MarketId) -> list[RunnerPosition]:
        market = self.markets.get(market_id)
        return market_position(market, self.orders) if market else []

    def now(self) -> Timestamp:
        return self.clock

    def log(self, level: LogLevel, message: str) -> None:
        self.logs.append((level, message))

    def signal(self, signal: Signal) -> None:
        self.signals.append(signal)

    def prediction(self, model: str, market_id: MarketId, selection_id: SelectionId) -> float | None:
        return self.predictions.get((model, market_id, selection_id))

    def set_timer(self, after_ms: int, token: int) -> None:
        self.timers[token] = Timestamp(self.clock + after_ms)

    def cancel_timer(self, token: int) -> None:
        self.timers.pop(token, None)

    def state_get(self, key: str) -> bytes | None:
        return self.state.get(key)

    def state_set(self, key: str, value: bytes) -> bool:
        self.state[key] = bytes(value)
        return True

    def state_delete(self, key: str) -> None:
        self.state.pop(key, None)

    def set_interest(self, market_id: MarketId, interest: MarketInterest) -> bool:
        market = self.markets.get(market_id)
        if market is None or market.status == MarketStatus.CLOSED:
            return False
        self.interest[market_id] = interest
        return True

    def wants(self, market: Market) -> bool:
        """Whether the strategy still wants `market`'s updates, as the host
        decides from what it asked with `set_interest`."""
        interest = self.interest.get(market.id, MarketInterest.EVERY_UPDATE)
        if interest == MarketInterest.IN_PLAY:
            if market.in_play:
                # In play once: every update again, whatever the flag says later.
                del self.interest[market.id]
            return market.in_play
        return interest == MarketInterest.EVERY_UPDATE

    def take_due_timer(self, by: int) -> tuple[int, Timestamp] | None:
        """The earliest timer due at or before `by` (ties: lowest token)."""
        due = [(at, token) for token, at in self.timers.items() if at <= by]
        if not due:
            return None
        at, token = min(due)
        del self.timers[token]
        return token, at


class Harness:
    """Runs one strategy class natively with a recording host."""

    def __init__(self, strategy: type, params: str | dict = "{}"):
        self.host = RecordingHost()
        self.ctx = Context(self.host)
        text = params if isinstance(params, str) else json.dumps(params)
        parsed = Params.parse(text)
        declared = strategy.parameters()
        if declared is not None:
            # The host checks a declaring strategy's parameters so before a run.
            parsed.check(declared)
        self.strategy = strategy()
        self.strategy.init(self.ctx, parsed)
        self._cache = MarketCache()
        self._handles: dict[str, int] = {}

    @property
    def orders(self) -> list[Order]:
        """Every order placed, in order."""
        return self.host.orders

    @property
    def rejections(self) -> list[tuple[OrderRequest, RejectReason]]:
        return self.host.rejections

    @property
    def logs(self) -> list[tuple[LogLevel, str]]:
        return self.host.logs

    @property
    def signals(self) -> list[Signal]:
        return self.host.signals

    @property
    def timers(self) -> dict[int, Timestamp]:
        return self.host.timers

    def now(self) -> Timestamp:
        return self.host.clock

    def set_prediction(self, model: str, market_id: str, selection_id: int, p: float) -> None:
        self.host.predictions[(model, market_id, selection_id)] = p

    def market(self, market: Market) -> bool:
        """Deliver an update at its publish time (due timers fire first), if
        the strategy's filter and its `set_interest` want it. Returns whether
        it was delivered."""
        if market.publish_time > self.host.clock:
            self.advance_to(market.publish_time)
        self.host.markets[market.id] = market.copy()
        if not type(self.strategy).markets().wants(market, self.host.clock):
            return False
        if not self.host.wants(market):
            return False
        # Through the wire, as in the component: the strategy gets the
        # SDK's cached view of the market, one object updated in place.
        handle = self._handles.setdefault(market.id, len(self._handles) + 1)
        view = self._cache.apply(encode(handle, market))
        self.strategy.on_market(self.ctx, view)
        return True

    def advance(self, ms: int) -> None:
        """Move the clock forward by `ms`, firing due timers in time order."""
        self.advance_to(self.host.clock + ms)

    def advance_to(self, to: int) -> None:
        while (due := self.host.take_due_timer(to)) is not None:
            token, at = due
            self.host.clock = Timestamp(max(self.host.clock, at))
            self.strategy.on_timer(self.ctx, token)
        self.host.clock = Timestamp(max(self.host.clock, to))

    def fill(self, order_id: int, size: float, price: float) -> None:
        """Match `size` of an open order at `price` and tell the strategy."""
        order = self.host._open_order(order_id)
        if isinstance(order, Refused):
            raise KeyError(f"no open order {order_id}")
        size = min(size, order.size_remaining())
        if size <= 0.0:
            return
        before = order.size_matched * (order.average_price_matched or 0.0)
        order.size_matched += size
        order.average_price_matched = (before + size * price) / order.size_matched
        if order.size_remaining() <= 1e-9:
            order.status = OrderStatus.EXECUTION_COMPLETE
        self.strategy.on_order(self.ctx, order)

    def close(self, market: Market) -> None:
        """Close a market with its runner statuses and tell the strategy."""
        closed = market.copy()
        closed.status = MarketStatus.CLOSED
        self.host.markets[closed.id] = closed
        self.strategy.on_market_closed(self.ctx, closed)
        self._cache.remove_by_id(closed.id)
        self.host.interest.pop(closed.id, None)

    def snapshot(self) -> bytes:
        return self.strategy.snapshot()

    def restore(self, state: bytes) -> None:
        """Hand a snapshot over, as a hot swap would (the new version starts
        wanting every update, as on the host)."""
        self.host.interest.clear()
        self.strategy.restore(self.ctx, state)
