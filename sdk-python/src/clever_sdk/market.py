"""The typed market view a strategy reads: markets, runners, price levels.

The SDK keeps one `Market` per market the host routes to the strategy and
updates it in place from each packed update (see `wire`), as the Rust SDK
does. Treat it as read-only: the next update overwrites it.
"""

from __future__ import annotations

import math

from .types import MarketId, MarketStatus, RunnerStatus, SelectionId, Timestamp

# Enum members as module constants: reading `RunnerStatus.ACTIVE` goes
# through the enum's class machinery on every call.
_ACTIVE = RunnerStatus.ACTIVE
_OPEN = MarketStatus.OPEN

MAX_DEPTH = 10
"""Most levels a side the host sends (the fast path carries ten in all)."""


class PriceSize:
    """One ladder level: decimal odds and the stake available there."""

    __slots__ = ("price", "size")

    def __init__(self, price: float, size: float):
        self.price = price
        self.size = size

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PriceSize) and (self.price, self.size) == (other.price, other.size)

    def __repr__(self) -> str:
        return f"PriceSize({self.price!r}, {self.size!r})"


class Runner:
    """One runner as the host last saw it; `back` and `lay` are best first.

    The levels of an update are kept as the host sent them and turned into
    `PriceSize` lists the first time `back` or `lay` is read: most updates
    change runners a strategy never looks at, and building ten objects per
    update was most of the SDK's cost inside the sandbox.
    """

    # The plain fields (levels aside), which `Market.copy` copies as they are.
    FIELDS = (
        "selection_id",
        "status",
        "adjustment_factor",
        "last_traded",
        "traded_volume",
        "sp_near",
        "sp_far",
        "bsp",
    )
    __slots__ = FIELDS + (
        "_back",
        "_lay",
        "_raw",
        "_n_back",
    )

    def __init__(self, selection_id: int):
        self.selection_id: SelectionId = selection_id
        self.status = RunnerStatus.ACTIVE
        self.adjustment_factor = 0.0
        self.last_traded: float | None = None
        self.traded_volume = 0.0
        self.sp_near: float | None = None
        self.sp_far: float | None = None
        self.bsp: float | None = None
        self._back: list[PriceSize] | None = []
        self._lay: list[PriceSize] | None = []
        # Undecoded levels: fast-path words (ints) or flat price, size floats.
        self._raw: tuple | list | None = None
        self._n_back = 0

    def _set_raw(self, raw: tuple | list, n_back: int) -> None:
        """Levels as the wire carries them, decoded when first read."""
        self._raw, self._n_back = raw, n_back
        self._back = self._lay = None

    def _decode(self) -> None:
        raw, n = self._raw, self._n_back
        self._raw = None
        if not raw:
            levels = []
        elif type(raw[0]) is int:  # fast path: price hundredths << 32 | size pennies
            levels = [PriceSize((v >> 32) / 100.0, (v & 0xFFFF_FFFF) / 100.0) for v in raw]
        else:  # packed update: price, size, price, size, ...
            levels = [PriceSize(raw[i], raw[i + 1]) for i in range(0, len(raw), 2)]
        self._back, self._lay = levels[:n], levels[n:]

    @property
    def back(self) -> list[PriceSize]:
        """Prices available to back, best (highest) first."""
        if self._back is None:
            self._decode()
        return self._back

    @back.setter
    def back(self, levels: list[PriceSize]) -> None:
        if self._back is None:
            self._decode()
        self._back = levels

    @property
    def lay(self) -> list[PriceSize]:
        """Prices available to lay, best (lowest) first."""
        if self._lay is None:
            self._decode()
        return self._lay

    @lay.setter
    def lay(self, levels: list[PriceSize]) -> None:
        if self._lay is None:
            self._decode()
        self._lay = levels

    def best_back(self) -> PriceSize | None:
        """The best (highest) price to back at, if any."""
        back = self.back
        return back[0] if back else None

    def best_lay(self) -> PriceSize | None:
        """The best (lowest) price to lay at, if any."""
        lay = self.lay
        return lay[0] if lay else None

    def is_active(self) -> bool:
        return self.status is _ACTIVE

    def as_dict(self) -> dict:
        return {
            "selection_id": self.selection_id,
            "status": self.status.name,
            "adjustment_factor": self.adjustment_factor,
            "last_traded": self.last_traded,
            "traded_volume": self.traded_volume,
            "back": [(level.price, level.size) for level in self.back],
            "lay": [(level.price, level.size) for level in self.lay],
            "sp_near": self.sp_near,
            "sp_far": self.sp_far,
            "bsp": self.bsp,
        }

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Runner) and _same(self.as_dict(), other.as_dict())

    def __repr__(self) -> str:
        return f"Runner({self.as_dict()!r})"


class Market:
    """A whole market: definition, state and runners in the venue's order."""

    __slots__ = (
        "id",
        "venue",
        "event_type",
        "market_type",
        "country",
        "start_time",
        "status",
        "in_play",
        "bet_delay",
        "number_of_winners",
        "total_matched",
        "publish_time",
        "runners",
        "_by_id",
    )

    def __init__(self, id: str):
        self.id: MarketId = id
        self.venue = "betfair"
        self.event_type = "7"
        self.market_type = "WIN"
        self.country: str | None = None
        self.start_time: Timestamp = 0
        self.status = MarketStatus.OPEN
        self.in_play = False
        self.bet_delay = 0
        self.number_of_winners = 1
        self.total_matched = 0.0
        self.publish_time: Timestamp = 0
        self.runners: list[Runner] = []
        self._by_id: dict[int, int] = {}

    def runner(self, selection_id: int) -> Runner | None:
        """A runner by its selection id."""
        # An index remembered per id, checked before use: `runners` is a
        # plain list a test may change.
        i = self._by_id.get(selection_id)
        runners = self.runners
        if i is not None and i < len(runners) and runners[i].selection_id == selection_id:
            return runners[i]
        for i, r in enumerate(runners):
            if r.selection_id == selection_id:
                self._by_id[selection_id] = i
                return r
        return None

    def add_runner(self, runner: Runner) -> Runner:
        """Append a runner (test helpers and the decoder use this)."""
        self._by_id[runner.selection_id] = len(self.runners)
        self.runners.append(runner)
        return runner

    def active_runners(self):
        """Runners still running, in the venue's order."""
        return [r for r in self.runners if r.status is _ACTIVE]

    def is_open(self) -> bool:
        """Open for orders."""
        return self.status is _OPEN

    def back_book_percentage(self) -> float:
        """The book percentage of the best back prices of active runners."""
        return sum(1.0 / r.back[0].price for r in self.active_runners() if r.back) * 100.0

    def as_dict(self) -> dict:
        """Every field as plain data (tests compare with the Rust SDK's view)."""
        return {
            "id": self.id,
            "venue": self.venue,
            "event_type": self.event_type,
            "market_type": self.market_type,
            "country": self.country,
            "start_time": self.start_time,
            "status": self.status.name,
            "in_play": self.in_play,
            "bet_delay": self.bet_delay,
            "number_of_winners": self.number_of_winners,
            "total_matched": self.total_matched,
            "publish_time": self.publish_time,
            "runners": [r.as_dict() for r in self.runners],
        }

    def copy(self) -> Market:
        """A deep copy (the harness keeps the state an order was checked against)."""
        out = Market(self.id)
        for name in Market.__slots__:
            if name not in ("runners", "_by_id"):
                setattr(out, name, getattr(self, name))
        for r in self.runners:
            c = out.add_runner(Runner(r.selection_id))
            for name in Runner.FIELDS:
                setattr(c, name, getattr(r, name))
            c.back = [PriceSize(level.price, level.size) for level in r.back]
            c.lay = [PriceSize(level.price, level.size) for level in r.lay]
        return out

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Market) and _same(self.as_dict(), other.as_dict())

    def __repr__(self) -> str:
        return f"Market({self.id!r}, {len(self.runners)} runners)"


def _same(a, b) -> bool:
    """Structural equality where NaN equals NaN."""
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b
