"""Decoding the packed market updates the host sends to `on-market`, and
the scalar `on-runner` fast path, into the cached `Market` views.

The layout is documented on `hooks.on-market` in `wit/strategy.wit`; the
Rust SDK's `clever_sdk::wire` is the other implementation, and a test feeds
both the same bytes and compares what they decode.
"""

from __future__ import annotations

import math
import struct

from .market import MAX_DEPTH, Market, Runner
from .types import MarketId, MarketStatus, RunnerStatus, Timestamp

FORMAT = 1
"""The format version in the first byte."""
FLAG_FULL = 1
FLAG_IN_PLAY = 2
FLAG_DEFINITION = 4
FAST_LEVELS = 10

_HEADER = struct.Struct("<BBBBIIHHqd")  # 32 bytes
_RUNNER = struct.Struct("<QBBBBdddddd")  # 60 bytes
_LEVEL = struct.Struct("<dd")
_U16 = struct.Struct("<H")
_TAIL = struct.Struct("<qI")  # start time, number of winners

_MARKET_STATUS = {s.value: s for s in MarketStatus}
_RUNNER_STATUS = {s.value: s for s in RunnerStatus}
# Indexed by the fast path's bit fields (unknown codes as the Rust SDK reads them).
_MARKET_STATUS_BY_CODE = [_MARKET_STATUS.get(code, MarketStatus.INACTIVE) for code in range(4)]
_RUNNER_STATUS_BY_CODE = [_RUNNER_STATUS.get(code, RunnerStatus.ACTIVE) for code in range(8)]


class WireError(ValueError):
    """An update the SDK cannot decode (the host never sends one; this
    guards against a mismatched host)."""


class MarketCache:
    """The markets the strategy has seen, keyed by the host's handle."""

    __slots__ = ("markets",)

    def __init__(self) -> None:
        self.markets: dict[int, Market] = {}

    def apply(self, data: bytes) -> Market:
        """Apply one packed update; return the market it changed."""
        if len(data) < _HEADER.size:
            raise WireError("market update truncated")
        fmt, flags, status, _depth, handle, bet_delay, count, _r, publish, matched = _HEADER.unpack_from(data, 0)
        if fmt != FORMAT:
            raise WireError(f"unknown market update format {fmt}")
        if flags & FLAG_FULL:
            market = self.markets.get(handle)
            if market is None:
                market = self.markets[handle] = Market("")
            market.runners = []
            market._by_id = {}
        else:
            market = self.markets.get(handle)
            if market is None:
                raise WireError(f"delta for unknown market handle {handle}")
        at = _HEADER.size
        try:
            if flags & FLAG_DEFINITION:
                texts = []
                for _ in range(5):
                    (n,) = _U16.unpack_from(data, at)
                    at += 2
                    if at + n > len(data):
                        raise WireError("market update truncated")
                    texts.append(bytes(data[at : at + n]).decode("utf-8"))
                    at += n
                market.id = MarketId(texts[0])
                market.venue, market.event_type, market.market_type = texts[1], texts[2], texts[3]
                market.country = texts[4] or None
                start, winners = _TAIL.unpack_from(data, at)
                at += _TAIL.size
                market.start_time = start
                market.number_of_winners = winners
            market.status = _MARKET_STATUS.get(status, MarketStatus.INACTIVE)
            market.in_play = bool(flags & FLAG_IN_PLAY)
            market.bet_delay = bet_delay
            market.publish_time = publish
            market.total_matched = matched
            for _ in range(count):
                at = _read_runner(data, at, market)
        except struct.error:
            raise WireError("market update truncated") from None
        except UnicodeDecodeError:
            raise WireError("market update string is not UTF-8") from None
        return market

    def apply_runner(
        self,
        head: int,
        selection: int,
        publish_time: int,
        last_traded: float,
        traded_volume: float,
        total_matched: float,
        levels: tuple[int, ...],
    ) -> Market:
        """Apply a fast-path one-runner update; return the market it changed."""
        market = self.markets.get(head & 0xFFFF_FFFF)
        if market is None:
            raise WireError(f"delta for unknown market handle {head & 0xFFFF_FFFF}")
        market.status = _MARKET_STATUS_BY_CODE[(head >> 32) & 3]
        market.in_play = (head >> 34) & 1 == 1
        market.publish_time = publish_time
        market.total_matched = total_matched
        # The hottest path of a Python strategy: Market.runner and
        # Runner._set_raw inlined (a call costs more than its body here).
        runners = market.runners
        i = market._by_id.get(selection)
        if i is not None and i < len(runners) and runners[i].selection_id == selection:
            runner = runners[i]
        else:
            runner = market.runner(selection) or market.add_runner(Runner(selection))
        runner.status = _RUNNER_STATUS_BY_CODE[(head >> 35) & 7]
        runner.last_traded = None if last_traded != last_traded else last_traded
        runner.traded_volume = traded_volume
        n_back = (head >> 38) & 15
        # Decoded when the strategy first reads the runner's levels.
        runner._raw = levels[: min(n_back + ((head >> 42) & 15), FAST_LEVELS)]
        runner._n_back = n_back
        runner._back = runner._lay = None
        return market

    def get(self, handle: int) -> Market | None:
        return self.markets.get(handle)

    def remove_by_id(self, market_id: str) -> None:
        """Forget a closed market, so memory stays bounded."""
        for handle in [h for h, m in self.markets.items() if m.id == market_id]:
            del self.markets[handle]

    def __len__(self) -> int:
        return len(self.markets)


def _read_runner(data: bytes, at: int, market: Market) -> int:
    selection, status, n_back, n_lay, _r, adj, ltp, volume, near, far, bsp = _RUNNER.unpack_from(data, at)
    at += _RUNNER.size
    end = at + (n_back + n_lay) * _LEVEL.size
    if end > len(data):
        raise WireError("market update truncated")
    runner = market.runner(selection)
    if runner is None:
        runner = market.add_runner(Runner(selection))
    runner.status = _RUNNER_STATUS.get(status, RunnerStatus.ACTIVE)
    runner.adjustment_factor = adj
    # NaN is "none" (NaN != NaN); inline, as a call per field costs here.
    runner.last_traded = None if ltp != ltp else ltp
    runner.traded_volume = volume
    runner.sp_near = None if near != near else near
    runner.sp_far = None if far != far else far
    runner.bsp = None if bsp != bsp else bsp
    # Prices and sizes as one flat tuple, paired up when first read.
    flat = _levels(n_back + n_lay).unpack_from(data, at)
    if n_back > MAX_DEPTH or n_lay > MAX_DEPTH:  # as the Rust SDK: at most ten a side
        flat = flat[: 2 * min(n_back, MAX_DEPTH)] + flat[2 * n_back : 2 * (n_back + min(n_lay, MAX_DEPTH))]
    runner._set_raw(flat, min(n_back, MAX_DEPTH))
    return end


_LEVEL_STRUCTS: dict[int, struct.Struct] = {}


def _levels(count: int) -> struct.Struct:
    """The layout of `count` (price, size) levels."""
    found = _LEVEL_STRUCTS.get(count)
    if found is None:
        found = _LEVEL_STRUCTS[count] = struct.Struct(f"<{2 * count}d")
    return found


def encode(handle: int, market: Market, depth: int = MAX_DEPTH, changed: list[int] | None = None) -> bytes:
    """Pack `market` as the host would (a full image, or a delta of the
    runners at the indexes in `changed`): the harness and tests use it."""
    full = changed is None
    picked = market.runners if full else [market.runners[i] for i in changed]
    flags = (FLAG_FULL | FLAG_DEFINITION if full else 0) | (FLAG_IN_PLAY if market.in_play else 0)
    out = bytearray(
        _HEADER.pack(
            FORMAT,
            flags,
            market.status.value,
            depth,
            handle,
            market.bet_delay,
            len(picked),
            0,
            market.publish_time,
            market.total_matched,
        )
    )
    if full:
        for text in (market.id, market.venue, market.event_type, market.market_type, market.country or ""):
            raw = text.encode("utf-8")
            out += _U16.pack(len(raw)) + raw
        out += _TAIL.pack(market.start_time, market.number_of_winners)
    nan = math.nan
    for r in picked:
        back, lay = r.back[:depth], r.lay[:depth]
        out += _RUNNER.pack(
            r.selection_id,
            r.status.value,
            len(back),
            len(lay),
            0,
            r.adjustment_factor,
            nan if r.last_traded is None else r.last_traded,
            r.traded_volume,
            nan if r.sp_near is None else r.sp_near,
            nan if r.sp_far is None else r.sp_far,
            nan if r.bsp is None else r.bsp,
        )
        for level in back + lay:
            out += _LEVEL.pack(level.price, level.size)
    return bytes(out)
