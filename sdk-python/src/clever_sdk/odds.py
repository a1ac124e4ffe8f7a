"""Odds arithmetic: implied probability, book percentage, profit and
liability of back and lay bets, and the Kelly fraction."""

from __future__ import annotations

import math
from collections.abc import Iterable


def implied_probability(price: float) -> float:
    """`1 / price` (infinite at 0, as in the Rust SDK)."""
    return 1.0 / price if price else math.inf


def book_percentage(prices: Iterable[float]) -> float:
    """The sum of implied probabilities, in percent (above 100 favours layers)."""
    return sum(implied_probability(p) for p in prices) * 100.0


def back_profit(stake: float, price: float) -> float:
    """What a back of `stake` at `price` wins if the runner wins."""
    return stake * (price - 1.0)


def back_liability(stake: float) -> float:
    """What a back can lose: its stake."""
    return stake


def lay_profit(stake: float) -> float:
    """What a lay of `stake` (the backer's stake) wins if the runner loses."""
    return stake


def lay_liability(stake: float, price: float) -> float:
    """What a lay loses if the runner wins: `stake × (price − 1)`."""
    return stake * (price - 1.0)


def kelly_fraction(probability: float, price: float) -> float:
    """The Kelly fraction of the bank to back at `price`: zero without an edge."""
    b = price - 1.0
    if b <= 0.0 or not math.isfinite(probability):
        return 0.0
    return min(max((probability * price - 1.0) / b, 0.0), 1.0)
