"""The component side: componentize-py's generated bindings (`wit_world`)
joined to the strategy. `clever build` writes an entry module that imports
the strategy's module, names and versions it, and exports `Hooks` from
here. Authors never import this module; it only imports inside a build.
"""

from __future__ import annotations

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports import parameters as wit_parameters
from wit_world.imports import book_types
from wit_world.imports import host as wit_host
from wit_world.imports import types as wit

from . import SDK_VERSION
from .context import Context
from .market import Market, PriceSize, Runner
from .params import Params
from .strategy import exported  # noqa: F401  (the entry module calls it)
from .types import (
    Done,
    MarketId,
    MarketStatus,
    Order,
    OrderId,
    OrderRequest,
    OrderStatus,
    OrderType,
    Persistence,
    Placed,
    RejectKind,
    RejectReason,
    Refused,
    RiskLimit,
    RunnerPosition,
    RunnerStatus,
    SelectionId,
    Side,
    Timestamp,
)
from .wire import MarketCache, WireError

NAME = ""
"""The strategy's name; the entry module `clever build` writes sets it."""
VERSION = ""
"""The strategy's version, from the project's metadata."""

_RISK = list(RiskLimit)
_SIMPLE = {
    wit.RejectReason_InvalidPrice: RejectKind.INVALID_PRICE,
    wit.RejectReason_InvalidSize: RejectKind.INVALID_SIZE,
    wit.RejectReason_MarketNotOpen: RejectKind.MARKET_NOT_OPEN,
    wit.RejectReason_UnknownMarket: RejectKind.UNKNOWN_MARKET,
    wit.RejectReason_UnknownSelection: RejectKind.UNKNOWN_SELECTION,
    wit.RejectReason_UnknownOrder: RejectKind.UNKNOWN_ORDER,
    wit.RejectReason_RateLimited: RejectKind.RATE_LIMITED,
}
_ORDER_TYPES = list(OrderType)
_PERSISTENCE = list(Persistence)
_SIDES = list(Side)
_ORDER_STATUS = list(OrderStatus)
_MARKET_STATUS = list(MarketStatus)
_RUNNER_STATUS = list(RunnerStatus)


def _reason(r) -> RejectReason:
    if isinstance(r, wit.RejectReason_RiskLimit):
        return RejectReason(RejectKind.RISK_LIMIT, limit=_RISK[r.value.value])
    if isinstance(r, wit.RejectReason_VenueError):
        return RejectReason(RejectKind.VENUE_ERROR, venue_code=r.value)
    return RejectReason(_SIMPLE[type(r)])


def _refused(e: Err) -> Refused:
    return Refused(_reason(e.value))


def _wit_request(r: OrderRequest) -> wit.OrderRequest:
    return wit.OrderRequest(
        market_id=r.market_id,
        selection_id=r.selection_id,
        side=wit.Side(r.side.value),
        order_type=wit.OrderType(r.order_type.value),
        price=float(r.price),
        size=float(r.size),
        persistence=wit.Persistence(r.persistence.value),
        customer_ref=r.customer_ref,
    )


def _order(o: wit.Order) -> Order:
    r = o.request
    request = OrderRequest(
        MarketId(r.market_id),
        SelectionId(r.selection_id),
        _SIDES[r.side.value],
        r.price,
        r.size,
        _ORDER_TYPES[r.order_type.value],
        _PERSISTENCE[r.persistence.value],
        r.customer_ref,
    )
    return Order(
        OrderId(o.id),
        request,
        _ORDER_STATUS[o.status.value],
        o.size_matched,
        o.average_price_matched,
        o.size_cancelled,
        o.size_lapsed,
        Timestamp(o.placed_at),
        None if o.rejection is None else _reason(o.rejection),
    )


def _market(m: wit.Market) -> Market:
    out = Market(m.id)
    out.venue, out.event_type, out.market_type, out.country = m.venue, m.event_type, m.market_type, m.country
    out.start_time = Timestamp(m.start_time)
    out.status = _MARKET_STATUS[m.status.value]
    out.in_play, out.bet_delay = m.in_play, m.bet_delay
    out.number_of_winners, out.total_matched = m.number_of_winners, m.total_matched
    for r in m.runners:
        runner = out.add_runner(Runner(r.selection_id))
        runner.status = _RUNNER_STATUS[r.status.value]
        runner.adjustment_factor, runner.last_traded = r.adjustment_factor, r.last_traded
        runner.traded_volume, runner.sp_near, runner.sp_far, runner.bsp = r.traded_volume, r.sp_near, r.sp_far, r.bsp
        runner.back = [PriceSize(level.price, level.size) for level in r.back]
        runner.lay = [PriceSize(level.price, level.size) for level in r.lay]
    return out


class WitHost:
    """The host reached through the WIT imports."""

    def place_order(self, request: OrderRequest):
        try:
            return Placed(OrderId(wit_host.place_order(_wit_request(request))))
        except Err as e:
            return _refused(e)

    def cancel_order(self, order_id: OrderId):
        try:
            wit_host.cancel_order(order_id)
            return Done()
        except Err as e:
            return _refused(e)

    def replace_order(self, order_id: OrderId, price: float):
        try:
            return Placed(OrderId(wit_host.replace_order(order_id, float(price))))
        except Err as e:
            return _refused(e)

    def open_orders(self, market_id: MarketId) -> list[Order]:
        return [_order(o) for o in wit_host.open_orders(market_id)]

    def position(self, market_id: MarketId) -> list[RunnerPosition]:
        return [
            RunnerPosition(SelectionId(p.selection_id), p.back_matched, p.lay_matched, p.if_win, p.if_lose)
            for p in wit_host.position(market_id)
        ]

    def now(self) -> Timestamp:
        return Timestamp(wit_host.now())

    def log(self, level, message: str) -> None:
        wit_host.log(wit.LogLevel(level.value), message)

    def signal(self, signal) -> None:
        wit_host.signal(wit.SignalEvent(signal.name, float(signal.value), signal.market_id, signal.selection_id))

    def prediction(self, model: str, market_id: MarketId, selection_id: SelectionId):
        return wit_host.prediction(model, market_id, selection_id)

    def set_timer(self, after_ms: int, token: int) -> None:
        wit_host.set_timer(after_ms, token)

    def cancel_timer(self, token: int) -> None:
        wit_host.cancel_timer(token)

    def state_get(self, key: str):
        return wit_host.state_get(key)

    def state_set(self, key: str, value: bytes) -> bool:
        return wit_host.state_set(key, bytes(value))

    def state_delete(self, key: str) -> None:
        wit_host.state_delete(key)

    def set_interest(self, market_id: MarketId, interest) -> bool:
        return wit_host.set_interest(market_id, wit.MarketInterest(interest.value))


_CTX = Context(WitHost())
_CACHE = MarketCache()
_STRATEGY = None


def _fail(e: BaseException) -> Err:
    return Err(f"{type(e).__name__}: {e}")


class Hooks(exports.Hooks):
    """The exported `hooks` interface."""

    def describe(self) -> wit.Descriptor:
        f = exported().markets()
        window = None if f.window is None else wit.Window(f.window.opens, f.window.closes)
        markets = wit.MarketFilter(
            list(f.venues), list(f.event_types), list(f.market_types), list(f.countries), window, f.in_play
        )
        return wit.Descriptor(NAME, VERSION, SDK_VERSION, markets)

    def init(self, params: str) -> None:
        global _STRATEGY
        try:
            parsed = Params.parse(params)
            strategy = exported()()
            strategy.init(_CTX, parsed)
        except Exception as e:
            raise _fail(e) from None
        _STRATEGY = strategy

    def on_market(self, update: bytes) -> None:
        try:
            market = _CACHE.apply(update)
        except WireError as e:
            wit_host.log(wit.LogLevel.ERROR, f"clever-sdk: {e}")
            return
        if _STRATEGY is not None:
            _STRATEGY.on_market(_CTX, market)

    def on_runner(self, head, selection, publish_time, last_traded, traded_volume, total_matched,
                  l0, l1, l2, l3, l4, l5, l6, l7, l8, l9) -> None:  # fmt: skip
        try:
            market = _CACHE.apply_runner(
                head, selection, publish_time, last_traded, traded_volume, total_matched,
                (l0, l1, l2, l3, l4, l5, l6, l7, l8, l9),
            )  # fmt: skip
        except WireError as e:
            wit_host.log(wit.LogLevel.ERROR, f"clever-sdk: {e}")
            return
        if _STRATEGY is not None:
            _STRATEGY.on_market(_CTX, market)

    def on_order(self, order: wit.Order) -> None:
        if _STRATEGY is not None:
            _STRATEGY.on_order(_CTX, _order(order))

    def on_timer(self, token: int) -> None:
        if _STRATEGY is not None:
            _STRATEGY.on_timer(_CTX, token)

    def on_market_closed(self, market: wit.Market) -> None:
        closed = _market(market)
        if _STRATEGY is not None:
            _STRATEGY.on_market_closed(_CTX, closed)
        _CACHE.remove_by_id(closed.id)

    def snapshot(self) -> bytes:
        return bytes(_STRATEGY.snapshot()) if _STRATEGY is not None else b""

    def restore(self, state: bytes) -> None:
        if _STRATEGY is None:
            raise Err("restore called before init")
        try:
            _STRATEGY.restore(_CTX, bytes(state))
        except Exception as e:
            raise _fail(e) from None


_KIND = {
    "number": wit_parameters.ParameterKind.NUMBER,
    "whole": wit_parameters.ParameterKind.WHOLE,
    "text": wit_parameters.ParameterKind.TEXT,
    "flag": wit_parameters.ParameterKind.FLAG,
}


class Parameters(exports.Parameters):
    """The exported `parameters` interface (WIT 1.3): what `init` reads, if
    the strategy says."""

    def parameters(self):
        declared = exported().parameters()
        if declared is None:
            return None
        return [wit_parameters.Parameter(p.name, _KIND[p.kind], p.default_json(), p.doc) for p in declared]


class BookHooks(exports.BookHooks):
    """The exported `book-hooks` interface: a Python strategy trades no
    order-book instrument yet, so it asks for none and hears of none."""

    def instruments(self):
        return book_types.InstrumentFilter([], [], [])

    def on_book(self, book) -> None:
        pass

    def on_trades(self, trades) -> None:
        pass

    def on_candle(self, candle) -> None:
        pass

    def on_instrument(self, state) -> None:
        pass

    def on_book_order(self, order) -> None:
        pass
