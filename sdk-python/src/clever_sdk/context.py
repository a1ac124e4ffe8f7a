"""What a strategy's hooks receive: the host's services, typed.

In a component the host is reached through the WIT imports (`guest`); in
`pytest` through the harness's recording host. A strategy sees only this.
"""

from __future__ import annotations

from typing import Protocol

from .types import (
    Done,
    LogLevel,
    MarketId,
    MarketInterest,
    Order,
    OrderId,
    OrderRequest,
    Outcome,
    Persistence,
    Refused,
    RunnerPosition,
    SelectionId,
    Side,
    Signal,
    Timestamp,
)


class HostApi(Protocol):
    """The host as the SDK needs it; `guest` and `harness` implement it."""

    def place_order(self, request: OrderRequest) -> Outcome: ...
    def cancel_order(self, order_id: OrderId) -> Done | Refused: ...
    def replace_order(self, order_id: OrderId, price: float) -> Outcome: ...
    def open_orders(self, market_id: MarketId) -> list[Order]: ...
    def position(self, market_id: MarketId) -> list[RunnerPosition]: ...
    def now(self) -> Timestamp: ...
    def log(self, level: LogLevel, message: str) -> None: ...
    def signal(self, signal: Signal) -> None: ...
    def prediction(self, model: str, market_id: MarketId, selection_id: SelectionId) -> float | None: ...
    def set_timer(self, after_ms: int, token: int) -> None: ...
    def cancel_timer(self, token: int) -> None: ...
    def state_get(self, key: str) -> bytes | None: ...
    def state_set(self, key: str, value: bytes) -> bool: ...
    def state_delete(self, key: str) -> None: ...
    def set_interest(self, market_id: MarketId, interest: MarketInterest) -> bool: ...


class Context:
    """Orders, clock, logs, signals, predictions, timers and state.

    Placing returns `Placed(order_id)` or `Refused(reason)` (falsy): a
    refusal is a value to act on, not an exception that would fault the
    strategy. `.unwrap()` turns a refusal into `OrderRefused` when wanted.
    """

    __slots__ = ("_host",)

    def __init__(self, host: HostApi):
        self._host = host

    def place(self, request: OrderRequest) -> Outcome:
        """Place any order, checked by the host's risk limits first."""
        return self._host.place_order(request)

    def back(
        self,
        market_id: str,
        selection_id: int,
        price: float,
        size: float,
        persistence: Persistence = Persistence.LAPSE,
    ) -> Outcome:
        """Back `selection_id` at `price` (on the ladder) for `size` (2 decimals)."""
        return self._limit(market_id, selection_id, Side.BACK, price, size, persistence)

    def lay(
        self,
        market_id: str,
        selection_id: int,
        price: float,
        size: float,
        persistence: Persistence = Persistence.LAPSE,
    ) -> Outcome:
        """Lay `selection_id` at `price` for the backer's stake `size`."""
        return self._limit(market_id, selection_id, Side.LAY, price, size, persistence)

    def _limit(self, market_id, selection_id, side, price, size, persistence) -> Outcome:
        request = OrderRequest(MarketId(market_id), SelectionId(selection_id), side, price, size)
        request.persistence = persistence
        return self._host.place_order(request)

    def cancel(self, order_id: int) -> Done | Refused:
        """Cancel an order's unmatched remainder."""
        return self._host.cancel_order(OrderId(order_id))

    def replace(self, order_id: int, price: float) -> Outcome:
        """Move an order's remainder to `price`; the result is a new order."""
        return self._host.replace_order(OrderId(order_id), price)

    def open_orders(self, market_id: str) -> list[Order]:
        """This strategy's orders in a market that are not complete."""
        return self._host.open_orders(MarketId(market_id))

    def position(self, market_id: str) -> list[RunnerPosition]:
        """This strategy's matched position in a market, per runner."""
        return self._host.position(MarketId(market_id))

    def now(self) -> Timestamp:
        """The host's clock (simulated in a backtest), in epoch milliseconds."""
        return self._host.now()

    def log(self, level: LogLevel, message: str) -> None:
        self._host.log(level, message)

    def info(self, message: str) -> None:
        self._host.log(LogLevel.INFO, message)

    def warn(self, message: str) -> None:
        self._host.log(LogLevel.WARN, message)

    def signal(self, signal: Signal) -> None:
        """Emit an alert or metric."""
        self._host.signal(signal)

    def prediction(self, model: str, market_id: str, selection_id: int) -> float | None:
        """A model's probability published at or before now, if any."""
        return self._host.prediction(model, MarketId(market_id), SelectionId(selection_id))

    def set_timer(self, after_ms: int, token: int) -> None:
        """Call `on_timer(token)` `after_ms` from now (setting it again moves
        it). Both are whole numbers of 0 or more (the WIT's u64): a float is
        truncated and a negative number counts as 0."""
        self._host.set_timer(max(int(after_ms), 0), max(int(token), 0))

    def cancel_timer(self, token: int) -> None:
        self._host.cancel_timer(max(int(token), 0))

    def state_get(self, key: str) -> bytes | None:
        """A value of the strategy's key-value state, kept by the host."""
        return self._host.state_get(key)

    def state_set(self, key: str, value: bytes) -> bool:
        """Store a value; False if the state's byte budget would be exceeded."""
        return self._host.state_set(key, value)

    def state_delete(self, key: str) -> None:
        self._host.state_delete(key)

    def set_interest(self, market_id: str, interest: MarketInterest) -> bool:
        """How much more of a market this strategy wants (WIT 1.2). The host
        then skips calls the strategy would ignore; False if it knows no
        open market `market_id` (nothing changes)."""
        return self._host.set_interest(MarketId(market_id), interest)

    def skip_until_in_play(self, market_id: str) -> bool:
        """No updates of this market until it is in play."""
        return self.set_interest(market_id, MarketInterest.IN_PLAY)

    def done_with(self, market_id: str) -> bool:
        """No more updates of this market (orders and its close still come)."""
        return self.set_interest(market_id, MarketInterest.NOTHING_MORE)
