"""clever-sdk for Python: write a Clever Better strategy in Python and run it
as a sandboxed WebAssembly component (`clever build` turns the project into
one with componentize-py).

    from clever_sdk import MarketFilter, Parameter, Strategy, export_strategy

    STAKE = Parameter.number("stake", 2.0, "stake of each back")

    @export_strategy
    class BackFavourite(Strategy):
        @classmethod
        def markets(cls):
            return MarketFilter(market_types=["WIN"]).pre_off_only()

        @classmethod
        def parameters(cls):
            return [STAKE]

        def init(self, ctx, params):
            self.stake = params.number(STAKE)
            self.done = set()

        def on_market(self, ctx, market):
            ...

The same class runs natively in `pytest` through `clever_sdk.harness`.
Pure Python: no module here imports anything outside the standard library.
"""

SDK_VERSION = "0.1.0"
WIT_VERSION = "1.3.0"

from . import ladder, odds  # noqa: E402
from .context import Context  # noqa: E402
from .market import MAX_DEPTH, Market, PriceSize, Runner  # noqa: E402
from .params import Parameter, ParamError, Params  # noqa: E402
from .strategy import Strategy, export_strategy  # noqa: E402
from .types import (  # noqa: E402
    Done,
    LogLevel,
    MarketFilter,
    MarketId,
    MarketInterest,
    MarketStatus,
    Order,
    OrderId,
    OrderRefused,
    OrderRequest,
    OrderStatus,
    OrderType,
    Outcome,
    Persistence,
    Placed,
    Refused,
    RejectKind,
    RejectReason,
    RiskLimit,
    RunnerPosition,
    RunnerStatus,
    SelectionId,
    Side,
    Signal,
    Timestamp,
    Window,
)

__all__ = [
    "SDK_VERSION", "WIT_VERSION", "ladder", "odds", "Context", "MAX_DEPTH", "Market", "PriceSize",
    "Runner", "Parameter", "ParamError", "Params", "Strategy", "export_strategy", "Done", "LogLevel",
    "MarketFilter", "MarketId", "MarketInterest", "MarketStatus", "Order", "OrderId", "OrderRefused", "OrderRequest",
    "OrderStatus", "OrderType", "Outcome", "Persistence", "Placed", "Refused", "RejectKind",
    "RejectReason", "RiskLimit", "RunnerPosition", "RunnerStatus", "SelectionId", "Side", "Signal",
    "Timestamp", "Window",
]  # fmt: skip
