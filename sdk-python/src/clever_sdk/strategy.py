"""The base class of a strategy: the same hooks as the Rust SDK's trait."""

from __future__ import annotations

from .context import Context
from .market import Market
from .params import Parameter, Params
from .types import MarketFilter, Order

_EXPORTED: list[type] = []


class Strategy:
    """Subclass it, override the hooks you need, and mark the class with
    `@export_strategy`. The host makes one instance, calls `init` once with
    the parameters, then one hook at a time in event-time order.

    An exception raised from a hook faults the strategy: the host records
    it with the whole traceback and rebuilds or quarantines the plugin.
    Raise from `init` to refuse bad parameters.
    """

    @classmethod
    def markets(cls) -> MarketFilter:
        """The markets wanted; every market, in play too, by default."""
        return MarketFilter()

    @classmethod
    def parameters(cls) -> list[Parameter] | None:
        """The parameters `init` reads (WIT 1.3), or None (the default) to
        not say: the host then passes any name through unchecked."""
        return None

    def init(self, ctx: Context, params: Params) -> None:
        """Start with the parameters; raise (e.g. `ValueError`) to refuse."""

    def on_market(self, ctx: Context, market: Market) -> None:
        """A market the filter routes here changed (the view is current)."""

    def on_order(self, ctx: Context, order: Order) -> None:
        """One of this strategy's orders changed."""

    def on_timer(self, ctx: Context, token: int) -> None:
        """A timer set with `ctx.set_timer` fired."""

    def on_market_closed(self, ctx: Context, market: Market) -> None:
        """A market closed; runner statuses and BSPs carry the results."""

    def snapshot(self) -> bytes:
        """State handed to the next version on a hot swap (default: none)."""
        return b""

    def restore(self, ctx: Context, state: bytes) -> None:
        """Take over the previous version's snapshot; raise to keep it running."""


def export_strategy(cls: type) -> type:
    """Mark `cls` as the strategy this module's component runs (one per
    component; `clever build` names and versions it from the project)."""
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        raise TypeError(f"export_strategy needs a subclass of clever_sdk.Strategy, got {cls!r}")
    _EXPORTED.append(cls)
    return cls


def exported() -> type:
    """The one class marked with `export_strategy`."""
    if len(_EXPORTED) != 1:
        names = ", ".join(c.__name__ for c in _EXPORTED) or "none"
        raise RuntimeError(
            f"a component exports exactly one strategy; @export_strategy marked {len(_EXPORTED)} ({names})"
        )
    return _EXPORTED[0]
