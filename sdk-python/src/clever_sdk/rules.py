"""Betfair's order rules, as the host applies them (`clever_sdk::rules` in
the Rust SDK): the harness refuses what a backtest would refuse."""

from __future__ import annotations

from .ladder import is_on_ladder
from .market import Market
from .odds import back_profit, lay_liability
from .types import Order, OrderRequest, OrderType, RejectKind, RejectReason, RunnerPosition, Side

MIN_STAKE = 1.0
MIN_PAYOUT = 10.0
MIN_BSP_LIABILITY = 10.0
MAX_CUSTOMER_REF_BYTES = 32


def _two_decimals(value: float) -> bool:
    cents = value * 100.0
    return abs(cents - round(cents)) < 1e-6


def validate_order(market: Market, request: OrderRequest) -> RejectReason | None:
    """None if `request` may go to `market`, else why not."""
    runner = market.runner(request.selection_id)
    if runner is None or not runner.is_active():
        return RejectReason(RejectKind.UNKNOWN_SELECTION)
    if not market.is_open():
        return RejectReason(RejectKind.MARKET_NOT_OPEN)
    return validate_price_and_size(request)


def validate_price_and_size(request: OrderRequest) -> RejectReason | None:
    """The price and stake rules alone."""
    ref = request.customer_ref
    if ref is not None and len(ref.encode("utf-8")) > MAX_CUSTOMER_REF_BYTES:
        return RejectReason(RejectKind.VENUE_ERROR, venue_code="INVALID_CUSTOMER_ORDER_REF")
    size = request.size
    if not (size == size and 0.0 < size < float("inf")) or not _two_decimals(size):
        return RejectReason(RejectKind.INVALID_SIZE)
    if request.order_type is not OrderType.MARKET_ON_CLOSE and not is_on_ladder(request.price):
        return RejectReason(RejectKind.INVALID_PRICE)
    if request.order_type is OrderType.LIMIT:
        legal = size >= MIN_STAKE or request.price * size >= MIN_PAYOUT
    elif request.side is Side.BACK:
        legal = size >= MIN_STAKE
    elif request.order_type is OrderType.LIMIT_ON_CLOSE:
        legal = lay_liability(size, request.price) >= MIN_BSP_LIABILITY
    else:
        legal = size >= MIN_BSP_LIABILITY  # a market-on-close lay's size is its liability
    return None if legal else RejectReason(RejectKind.INVALID_SIZE)


def market_position(market: Market, orders: list[Order]) -> list[RunnerPosition]:
    """Per runner, the market's net profit if it wins and if it loses."""
    positions = [RunnerPosition(r.selection_id) for r in market.runners]
    for order in orders:
        if order.request.market_id != market.id or order.size_matched <= 0.0:
            continue
        matched = order.size_matched
        price = order.average_price_matched or order.request.price
        if order.request.side is Side.BACK:
            on_win, on_lose = back_profit(matched, price), -matched
        else:
            on_win, on_lose = -lay_liability(matched, price), matched
        for p in positions:
            if p.selection_id == order.request.selection_id:
                if order.request.side is Side.BACK:
                    p.back_matched += matched
                else:
                    p.lay_matched += matched
                p.if_win += on_win
                p.if_lose += on_lose
            else:
                p.if_win += on_lose
    wins = [p.if_win for p in positions]
    for i, p in enumerate(positions):
        others = [w for j, w in enumerate(wins) if j != i]
        p.if_lose = min(others) if others else 0.0
    return positions
