"""The Python decoder equals the Rust SDK's on the same bytes.

The Rust example `wire_fixtures` packs seeded markets, deltas and fast-path
updates with the host's encoder and prints what the Rust SDK decodes after
each; this test applies the same updates in order and compares every
field. `CLEVER_WIRE_FIXTURES` names a file of its output; without it the
test runs the example with cargo.
"""

import json
import math
import os
import subprocess
from pathlib import Path

import pytest

from clever_sdk.wire import MarketCache, WireError, encode

ROOT = Path(__file__).resolve().parents[2]


def fixture_lines():
    path = os.environ.get("CLEVER_WIRE_FIXTURES")
    if path:
        return Path(path).read_text().splitlines()
    out = subprocess.run(
        ["cargo", "run", "-q", "--locked", "-p", "clever-sdk", "--example", "wire_fixtures"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.splitlines()


def as_json(view):
    # Tuples become lists and floats keep their exact value, as in the Rust JSON.
    return json.loads(json.dumps(view))


def floatify(v):
    return math.nan if v == "NaN" else v


def test_decoder_equals_the_rust_sdk_on_every_fixture():
    lines = fixture_lines()
    assert len(lines) > 1000, "the fixture should exercise many updates"
    cache = MarketCache()
    kinds = {"packed": 0, "runner": 0}
    for n, line in enumerate(lines, 1):
        case = json.loads(line)
        update = case["update"]
        if "packed" in update:
            market = cache.apply(bytes.fromhex(update["packed"]))
            kinds["packed"] += 1
        else:
            args = [floatify(v) for v in update["runner"]]
            market = cache.apply_runner(*args[:6], tuple(args[6:]))
            kinds["runner"] += 1
        assert as_json(market.as_dict()) == case["view"], f"fixture line {n}"
    assert kinds["packed"] > 100 and kinds["runner"] > 100, kinds


def test_the_python_encoder_writes_what_the_rust_encoder_wrote():
    # Re-encoding a decoded full image gives the host's bytes back.
    line = fixture_lines()[0]
    packed = bytes.fromhex(json.loads(line)["update"]["packed"])
    market = MarketCache().apply(packed)
    assert encode(packed[4] | packed[5] << 8, market, depth=packed[3]) == packed


def test_bad_input_is_an_error_naming_what_is_wrong():
    cache = MarketCache()
    with pytest.raises(WireError, match="truncated"):
        cache.apply(b"\x01\x00")
    from clever_sdk import Market, Runner

    m = Market("1.2")
    m.add_runner(Runner(5))
    delta = encode(9, m, changed=[0])
    with pytest.raises(WireError, match="unknown market handle 9"):
        cache.apply(delta)
    with pytest.raises(WireError, match="format 99"):
        cache.apply(b"\x63" + delta[1:])
    full = encode(9, m)
    with pytest.raises(WireError, match="truncated"):
        cache.apply(full[:-3])


def test_at_most_ten_levels_a_side_are_kept_as_the_rust_sdk_keeps():
    from clever_sdk import Market, PriceSize, Runner

    m = Market("1.3")
    r = m.add_runner(Runner(1))
    r.back = [PriceSize(2.0 + i / 100, 1.0) for i in range(12)]
    r.lay = [PriceSize(3.0 + i / 20, 2.0) for i in range(11)]
    seen = MarketCache().apply(encode(4, m, depth=12)).runners[0]
    assert seen.back == r.back[:10] and seen.lay == r.lay[:10]
