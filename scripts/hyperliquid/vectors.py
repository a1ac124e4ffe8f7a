"""Sign a seeded variety of actions with the official Hyperliquid Python
SDK (its own wire helpers and sign_l1_action), then have ours sign the
same (the Rust example `sign`, fed JSON lines) and compare byte for byte:
the connection id and r, s, v. Also checks that the SDK recovers our
signer from our signatures. Exits non-zero on the first difference."""
import json
import os
import random
import subprocess
import sys

from eth_account import Account
from hyperliquid.utils.signing import (
    action_hash,
    float_to_wire,
    order_request_to_order_wire,
    order_wires_to_order_action,
    recover_agent_or_user_from_l1_action,
    sign_l1_action,
)
from hyperliquid.utils.types import Cloid

KEY = "0x" + "7c" * 31 + "01"  # a test key, used nowhere else
rng = random.Random(17)


def number(digits):
    """A price or size with up to `digits` decimals, as a float."""
    return round(rng.uniform(0.0001, 90000), rng.randint(0, digits))


def order_wire():
    tif = rng.choice(["Alo", "Ioc", "Gtc"])
    if rng.random() < 0.2:
        order_type = {"trigger": {"isMarket": rng.random() < 0.5, "triggerPx": number(4), "tpsl": rng.choice(["tp", "sl"])}}
    else:
        order_type = {"limit": {"tif": tif}}
    request = {
        "coin": "X",
        "is_buy": rng.random() < 0.5,
        "sz": number(5),
        "limit_px": number(6),
        "order_type": order_type,
        "reduce_only": rng.random() < 0.3,
    }
    if rng.random() < 0.5:
        request["cloid"] = Cloid.from_int(rng.getrandbits(128))
    return order_request_to_order_wire(request, rng.randint(0, 200))


def action():
    kind = rng.choice(["order", "cancel", "cancelByCloid", "batchModify", "updateLeverage"])
    if kind == "order":
        return order_wires_to_order_action([order_wire() for _ in range(rng.randint(1, 4))])
    if kind == "cancel":
        return {"type": "cancel", "cancels": [{"a": rng.randint(0, 200), "o": rng.getrandbits(40)} for _ in range(rng.randint(1, 3))]}
    if kind == "cancelByCloid":
        cancels = [{"asset": rng.randint(0, 200), "cloid": Cloid.from_int(rng.getrandbits(128)).to_raw()}]
        return {"type": "cancelByCloid", "cancels": cancels}
    if kind == "batchModify":
        oid = rng.getrandbits(40) if rng.random() < 0.5 else Cloid.from_int(rng.getrandbits(128)).to_raw()
        return {"type": "batchModify", "modifies": [{"oid": oid, "order": order_wire()}]}
    return {"type": "updateLeverage", "asset": rng.randint(0, 200), "isCross": rng.random() < 0.5, "leverage": rng.randint(1, 50)}


def main(signer):
    wallet = Account.from_key(KEY)
    asks, want = [], []
    for _ in range(300):
        a = action()
        nonce = rng.randint(0, 2**48)
        vault = "0x" + "%040x" % rng.getrandbits(160) if rng.random() < 0.3 else None
        expires = rng.randint(0, 2**48) if rng.random() < 0.3 else None
        mainnet = rng.random() < 0.5
        signature = sign_l1_action(wallet, a, vault, nonce, expires, mainnet)
        connection = "0x" + action_hash(a, vault, nonce, expires).hex()
        asks.append({"action": a, "nonce": nonce, "vault": vault, "expires_after": expires, "mainnet": mainnet})
        want.append({"connection_id": connection, "signature": signature})
    env = dict(os.environ, HYPERLIQUID_TEST_KEY=KEY)
    lines = "".join(json.dumps(ask) + "\n" for ask in asks)
    out = subprocess.run([signer], input=lines, capture_output=True, text=True, env=env, check=True).stdout
    got = [json.loads(line) for line in out.splitlines()]
    assert len(got) == len(want), f"{len(got)} answers for {len(want)} actions"
    for ask, ours, theirs in zip(asks, got, want):
        if ours != theirs:
            sys.exit(f"differs for {json.dumps(ask)}:\n  ours   {ours}\n  theirs {theirs}")
        recovered = recover_agent_or_user_from_l1_action(
            ask["action"], ours["signature"], ask["vault"], ask["nonce"], ask["expires_after"], ask["mainnet"])
        if recovered.lower() != wallet.address.lower():
            sys.exit(f"the SDK recovers {recovered} from our signature, not {wallet.address}")
    kinds = sorted({a["action"]["type"] for a in asks})
    print(f"hyperliquid signing: {len(asks)} actions ({', '.join(kinds)}; vaults, expiries, "
          f"mainnet and testnet) signed byte for byte as the official SDK signs them")


if __name__ == "__main__":
    main(sys.argv[1])
