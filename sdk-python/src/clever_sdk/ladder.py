"""The Betfair price ladder: 350 prices from 1.01 to 1000, in ten bands.

Prices are decimal odds as floats; the ladder works in whole hundredths, and
a float within noise of a tick counts as that tick (as in the Rust SDK's
`clever_sdk::ladder`).
"""

from __future__ import annotations

from bisect import bisect_left
from enum import Enum

# (upper bound of the band in hundredths, tick in hundredths)
_BANDS = (
    (200, 1),
    (300, 2),
    (400, 5),
    (600, 10),
    (1000, 20),
    (2000, 50),
    (3000, 100),
    (5000, 200),
    (10000, 500),
    (100000, 1000),
)

MIN_PRICE = 1.01
MAX_PRICE = 1000.0


def _build() -> tuple[int, ...]:
    out = []
    price = 101
    for band, (upper, tick) in enumerate(_BANDS):
        while price <= upper:
            out.append(price)
            price += tick
        price = upper + (_BANDS[band + 1][1] if band + 1 < len(_BANDS) else 0)
    return tuple(out)


LADDER = _build()
"""Every ladder price in hundredths, ascending."""
LADDER_LEN = len(LADDER)
_INDEX = {h: i for i, h in enumerate(LADDER)}


class Rounding(Enum):
    """Which way `round_to_ladder` snaps a price between two ticks."""

    NEAREST = 0
    UP = 1
    DOWN = 2


def _hundredths(price: float) -> int | None:
    scaled = price * 100.0
    if not (0.0 <= scaled <= 4294967295.0):  # also refuses NaN
        return None
    rounded = round(scaled)
    return int(rounded) if abs(scaled - rounded) < 1e-6 else None


def is_on_ladder(price: float) -> bool:
    """Whether `price` is one of the 350 prices."""
    h = _hundredths(price)
    return h is not None and h in _INDEX


def index_of(price: float) -> int | None:
    """The position of `price` on the ladder (0 for 1.01), if it is on it."""
    h = _hundredths(price)
    return None if h is None else _INDEX.get(h)


def price_at(index: int) -> float | None:
    """The price at `index` (0 is 1.01, 349 is 1000)."""
    return LADDER[index] / 100.0 if 0 <= index < LADDER_LEN else None


def ticks(price: float, n: int) -> float | None:
    """The price `n` ticks away (negative: down), if both are on the ladder."""
    i = index_of(price)
    return None if i is None else price_at(i + n)


def tick_up(price: float) -> float | None:
    return ticks(price, 1)


def tick_down(price: float) -> float | None:
    return ticks(price, -1)


def round_to_ladder(price: float, rounding: Rounding = Rounding.NEAREST) -> float | None:
    """Snap to the ladder; below 1.01 gives 1.01, above 1000 gives 1000;
    None only for NaN."""
    if price != price:
        return None
    scaled = min(max(price * 100.0, float(LADDER[0])), float(LADDER[-1]))
    near = round(scaled)
    target = float(near) if abs(scaled - near) < 1e-6 else scaled
    upper = bisect_left(LADDER, target)
    if upper < LADDER_LEN and LADDER[upper] == target:
        index = upper
    else:
        below, above = upper - 1, upper
        if rounding is Rounding.UP:
            index = above
        elif rounding is Rounding.DOWN:
            index = below
        else:
            index = below if target - LADDER[below] < LADDER[above] - target else above
    return price_at(index)


def ticks_between(start: float, end: float) -> int | None:
    """How many ticks from `start` up to `end` (negative if lower)."""
    a, b = index_of(start), index_of(end)
    return None if a is None or b is None else b - a


def tick_size(price: float) -> float | None:
    """The step to the next price up at `price` (0.01 below 2, ...)."""
    h = _hundredths(price)
    if h is None:
        return None
    for upper, tick in _BANDS:
        if h < upper:
            return tick / 100.0
    return None
