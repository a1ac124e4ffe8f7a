"""The contract's types in Python: ids, enums, orders, refusals, filters.

They mirror `clever_sdk::types` in the Rust SDK and the records of
`wit/strategy.wit`. Money and prices are floats at this boundary, as in the
WIT; stakes have at most two decimals (the host refuses more).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum
from typing import NewType

Timestamp = NewType("Timestamp", int)
"""Milliseconds since the Unix epoch (UTC) on the host's clock."""
MarketId = NewType("MarketId", str)
"""The venue's market id, e.g. Betfair's `1.206064380`."""
SelectionId = NewType("SelectionId", int)
"""The venue's runner id within a market."""
OrderId = NewType("OrderId", int)
"""An order id the host assigned."""


class Side(Enum):
    """Back wins if the runner wins; lay wins if it loses."""

    BACK = 0
    LAY = 1


class MarketStatus(Enum):
    INACTIVE = 0
    OPEN = 1
    SUSPENDED = 2
    CLOSED = 3


class RunnerStatus(Enum):
    ACTIVE = 0
    WINNER = 1
    LOSER = 2
    PLACED = 3
    REMOVED = 4
    HIDDEN = 5


class OrderType(Enum):
    LIMIT = 0
    LIMIT_ON_CLOSE = 1
    MARKET_ON_CLOSE = 2


class Persistence(Enum):
    """What happens to the unmatched part at the off."""

    LAPSE = 0
    PERSIST = 1
    MARKET_ON_CLOSE = 2


class OrderStatus(Enum):
    PENDING = 0
    EXECUTABLE = 1
    EXECUTION_COMPLETE = 2
    REJECTED = 3


class RiskLimit(Enum):
    """A limit of the host's risk checks; `code` is its stable name."""

    MAX_STAKE = "max-stake"
    MAX_SELECTION_LIABILITY = "max-selection-liability"
    MAX_MARKET_LIABILITY = "max-market-liability"
    MAX_OPEN_ORDERS = "max-open-orders"
    MAX_ORDERS_PER_HOUR = "max-orders-per-hour"
    DAILY_LOSS = "daily-loss"
    KILL_SWITCH = "kill-switch"

    @property
    def code(self) -> str:
        return self.value


class RejectKind(Enum):
    """Why the host refused an order, a cancel or a replace."""

    RISK_LIMIT = "risk-limit"
    INVALID_PRICE = "invalid-price"
    INVALID_SIZE = "invalid-size"
    MARKET_NOT_OPEN = "market-not-open"
    UNKNOWN_MARKET = "unknown-market"
    UNKNOWN_SELECTION = "unknown-selection"
    UNKNOWN_ORDER = "unknown-order"
    RATE_LIMITED = "rate-limited"
    VENUE_ERROR = "venue-error"


@dataclass(frozen=True, slots=True)
class RejectReason:
    """A typed refusal: `kind`, with the limit for `RISK_LIMIT` and the
    venue's code for `VENUE_ERROR`."""

    kind: RejectKind
    limit: RiskLimit | None = None
    venue_code: str | None = None

    @property
    def code(self) -> str:
        """A short stable name, e.g. `invalid-price` or `risk-limit:max-stake`
        (the same text as the Rust SDK's `RejectReason::code`)."""
        if self.kind is RejectKind.RISK_LIMIT and self.limit is not None:
            return f"risk-limit:{self.limit.code}"
        if self.kind is RejectKind.VENUE_ERROR:
            return f"venue-error:{self.venue_code or ''}"
        return self.kind.value

    def __str__(self) -> str:
        return self.code


class OrderRefused(Exception):
    """Raised by `Refused.unwrap()`: the host refused, for `reason`."""

    def __init__(self, reason: RejectReason):
        super().__init__(reason.code)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Placed:
    """The host accepted: `order_id` is the new order. Truthy."""

    order_id: OrderId

    ok = True

    def __bool__(self) -> bool:
        return True

    def unwrap(self) -> OrderId:
        return self.order_id


@dataclass(frozen=True, slots=True)
class Refused:
    """The host refused, for `reason`. Falsy, so `if ctx.back(...):` reads
    as "if it was placed"."""

    reason: RejectReason

    ok = False

    def __bool__(self) -> bool:
        return False

    def unwrap(self) -> OrderId:
        raise OrderRefused(self.reason)


Outcome = Placed | Refused
"""What placing or replacing returns."""


@dataclass(frozen=True, slots=True)
class Done:
    """A cancel the host accepted. Truthy."""

    ok = True

    def __bool__(self) -> bool:
        return True


@dataclass(slots=True)
class OrderRequest:
    """What a strategy asks the host to place."""

    market_id: MarketId
    selection_id: SelectionId
    side: Side
    price: float
    size: float
    order_type: OrderType = OrderType.LIMIT
    persistence: Persistence = Persistence.LAPSE
    customer_ref: str | None = None

    @staticmethod
    def limit(market_id: str, selection_id: int, side: Side, price: float, size: float) -> OrderRequest:
        """A limit order that lapses at the off."""
        return OrderRequest(MarketId(market_id), SelectionId(selection_id), side, price, size)

    def with_persistence(self, persistence: Persistence) -> OrderRequest:
        return replace(self, persistence=persistence)

    def with_customer_ref(self, reference: str) -> OrderRequest:
        return replace(self, customer_ref=reference)


@dataclass(slots=True)
class Order:
    """One of the strategy's orders, as the host knows it now."""

    id: OrderId
    request: OrderRequest
    status: OrderStatus
    size_matched: float = 0.0
    average_price_matched: float | None = None
    size_cancelled: float = 0.0
    size_lapsed: float = 0.0
    placed_at: Timestamp = Timestamp(0)
    rejection: RejectReason | None = None

    def size_remaining(self) -> float:
        """Stake neither matched, cancelled nor lapsed (none once rejected)."""
        if self.status is OrderStatus.REJECTED:
            return 0.0
        left = self.request.size - self.size_matched - self.size_cancelled - self.size_lapsed
        return max(left, 0.0)

    def is_open(self) -> bool:
        """Pending or executable with something left."""
        return self.status in (OrderStatus.PENDING, OrderStatus.EXECUTABLE)


@dataclass(slots=True)
class RunnerPosition:
    """Matched exposure on one runner: what the market pays if it wins or loses."""

    selection_id: SelectionId
    back_matched: float = 0.0
    lay_matched: float = 0.0
    if_win: float = 0.0
    if_lose: float = 0.0


class MarketInterest(Enum):
    """How much more of one market a strategy wants (WIT 1.2,
    `Context.set_interest`). Every market starts at `EVERY_UPDATE`."""

    EVERY_UPDATE = 0
    """Every update its filter lets through."""
    IN_PLAY = 1
    """Nothing until the market is in play; then every update, the first a
    full image of the market."""
    NOTHING_MORE = 2
    """No more updates; order changes and `on_market_closed` still come."""


class LogLevel(Enum):
    TRACE = 0
    DEBUG = 1
    INFO = 2
    WARN = 3
    ERROR = 4


@dataclass(slots=True)
class Signal:
    """An alert or metric for the host to store and forward."""

    name: str
    value: float
    market_id: MarketId | None = None
    selection_id: SelectionId | None = None


@dataclass(frozen=True, slots=True)
class Window:
    """Seconds relative to the scheduled off; negative is before it."""

    opens: int
    closes: int


@dataclass(slots=True)
class MarketFilter:
    """Which markets a strategy wants; an empty list means any:
    `MarketFilter(market_types=["WIN"], countries=["GB"]).pre_off_only()`."""

    venues: list[str] = field(default_factory=list)
    event_types: list[str] = field(default_factory=list)
    market_types: list[str] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)
    window: Window | None = None
    in_play: bool = True

    def between(self, opens: int, closes: int) -> MarketFilter:
        """Updates from `opens` to `closes` seconds around the off."""
        self.window = Window(int(opens), int(closes))
        return self

    def pre_off_only(self) -> MarketFilter:
        """No in-play updates."""
        self.in_play = False
        return self

    def wants(self, market, now: int) -> bool:
        """Whether an update of `market` at `now` is routed to the strategy:
        the host's rule (`MarketFilter::wants` in the Rust SDK)."""

        def listed(values: list[str], value: str) -> bool:
            return not values or value in values

        in_window = True
        if self.window is not None:
            from_off = now - market.start_time
            in_window = self.window.opens * 1000 <= from_off <= self.window.closes * 1000
        return (
            listed(self.venues, market.venue)
            and listed(self.event_types, market.event_type)
            and listed(self.market_types, market.market_type)
            and listed(self.countries, market.country or "")
            and in_window
            and (self.in_play or not market.in_play)
        )
