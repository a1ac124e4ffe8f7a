"""The official Hyperliquid Python SDK against our local Hyperliquid.

Run by scripts/check-hyperliquid-exchange with the exchange's base URL and
the test key of its one account. Every step is a call a Hyperliquid user
makes with the SDK, unchanged but for the base URL; each checks what the
exchange answered. Exits non-zero on the first surprise.
"""

import sys
import threading
import time

from eth_account import Account
from hyperliquid.exchange import Exchange
from hyperliquid.info import Info
from hyperliquid.utils.types import Cloid

BASE, KEY = sys.argv[1], sys.argv[2]
wallet = Account.from_key(KEY)
ADDRESS = wallet.address.lower()


def check(what, condition, got):
    if not condition:
        sys.exit(f"FAILED: {what}: got {got!r}")
    print(f"ok: {what}")


def status(reply):
    check("the request is accepted", reply.get("status") == "ok", reply)
    return reply["response"]["data"]["statuses"][0]


def valid_px(px, decimals=2):
    """Five significant figures and at most 6 - szDecimals decimals (ETH: 2)."""
    return round(float(f"{px:.5g}"), decimals)


# --- /info and the WebSocket ------------------------------------------------
info = Info(BASE, skip_ws=False)
names = [a["name"] for a in info.meta()["universe"]]
check("meta lists BTC and ETH", names[:2] == ["BTC", "ETH"], names)

seen = {"l2Book": threading.Event(), "userFills": threading.Event(), "orderUpdates": threading.Event()}
fills_heard = []


def on_book(msg):
    levels = msg["data"]["levels"]
    if levels[0] and levels[1] and float(levels[0][0]["px"]) < float(levels[1][0]["px"]):
        seen["l2Book"].set()


def on_fills(msg):
    if not msg["data"].get("isSnapshot"):
        fills_heard.extend(msg["data"]["fills"])
        seen["userFills"].set()


info.subscribe({"type": "l2Book", "coin": "ETH"}, on_book)
info.subscribe({"type": "userFills", "user": ADDRESS}, on_fills)
info.subscribe({"type": "orderUpdates", "user": ADDRESS}, lambda m: seen["orderUpdates"].set())
check("a WebSocket l2Book arrives, bids below asks", seen["l2Book"].wait(10), None)

book = info.l2_snapshot("ETH")
bid, ask = float(book["levels"][0][0]["px"]), float(book["levels"][1][0]["px"])
check("/info l2Book has a book", 0 < bid < ask, (bid, ask))
mid = float(info.all_mids()["ETH"])
check("allMids has ETH between bid and ask", bid <= mid <= ask, mid)

# --- signed actions -----------------------------------------------------------
exchange = Exchange(wallet, BASE)
low = valid_px(mid * 0.9)
resting = status(exchange.order("ETH", True, 0.01, low, {"limit": {"tif": "Gtc"}}))
check("a buy far below the market rests", "resting" in resting, resting)
oid = resting["resting"]["oid"]
open_oids = [o["oid"] for o in info.open_orders(ADDRESS)]
check("openOrders shows it", oid in open_oids, open_oids)
check("orderStatus says open", info.query_order_by_oid(ADDRESS, oid)["order"]["status"] == "open", oid)
check("orderUpdates were heard", seen["orderUpdates"].wait(5), None)

check("modify moves it", exchange.modify_order(oid, "ETH", True, 0.01, valid_px(mid * 0.85), {"limit": {"tif": "Gtc"}})["status"] == "ok", oid)
moved = info.open_orders(ADDRESS)
check("one order, at the new price", len(moved) == 1 and float(moved[0]["limitPx"]) == valid_px(mid * 0.85), moved)
check("cancel: success", status(exchange.cancel("ETH", moved[0]["oid"])) == "success", moved)
again = status(exchange.cancel("ETH", moved[0]["oid"]))
check("cancel again: never placed, already canceled, or filled", "already canceled" in again.get("error", ""), again)

cloid = Cloid.from_str("0x000000000000000000000000000000ab")
with_cloid = status(exchange.order("ETH", False, 0.01, valid_px(mid * 1.1), {"limit": {"tif": "Gtc"}}, cloid=cloid))
check("a sell with a cloid rests and echoes it", with_cloid.get("resting", {}).get("cloid") == cloid.to_raw(), with_cloid)
by_cloid = info.query_order_by_cloid(ADDRESS, cloid)
check("orderStatus by cloid", by_cloid["order"]["order"]["cloid"] == cloid.to_raw(), by_cloid)
duplicate = status(exchange.order("ETH", False, 0.01, valid_px(mid * 1.1), {"limit": {"tif": "Gtc"}}, cloid=cloid))
check("the same cloid again is refused", "Duplicate" in duplicate.get("error", ""), duplicate)
check("cancel by cloid", status(exchange.cancel_by_cloid("ETH", cloid)) == "success", cloid)

tick = status(exchange.order("ETH", True, 0.01, round(low, 2) + 0.001, {"limit": {"tif": "Gtc"}}))
check("a price off the tick is refused", "tick size" in tick.get("error", ""), tick)
small = status(exchange.order("ETH", True, 0.001, low, {"limit": {"tif": "Gtc"}}))
check("under $10 is refused", "minimum value of $10" in small.get("error", ""), small)
post = status(exchange.order("ETH", True, 0.01, valid_px(mid * 1.01), {"limit": {"tif": "Alo"}}))
check("a crossing post-only is refused", "Post only" in post.get("error", ""), post)
check("leverage 5 is set", exchange.update_leverage(5, "ETH")["status"] == "ok", None)
check("leverage 100 is refused", exchange.update_leverage(100, "ETH")["status"] == "err", None)
huge = status(exchange.order("ETH", True, 100, low, {"limit": {"tif": "Gtc"}}))
check("an order beyond the margin is refused", "Insufficient margin" in huge.get("error", ""), huge)
reduce = status(exchange.order("ETH", False, 0.01, low, {"limit": {"tif": "Ioc"}}, reduce_only=True))
check("reduce-only with no position is refused", "Reduce only" in reduce.get("error", ""), reduce)

bought = status(exchange.market_open("ETH", True, 0.05))
check("a market buy fills", float(bought.get("filled", {}).get("totalSz", 0)) == 0.05, bought)
state = info.user_state(ADDRESS)
position = state["assetPositions"][0]["position"]
check("the position is long 0.05 at 5x", float(position["szi"]) == 0.05 and position["leverage"]["value"] == 5, position)
check("userFills heard the fill", seen["userFills"].wait(5) and fills_heard[0]["dir"] == "Open Long", fills_heard)
closed = status(exchange.market_close("ETH"))
check("market_close fills", "filled" in closed, closed)
fills = info.user_fills(ADDRESS)
check("two fills, the last closing the long", len(fills) == 2 and fills[0]["dir"] == "Close Long", fills)
check("no position is left", info.user_state(ADDRESS)["assetPositions"] == [], info.user_state(ADDRESS))

stranger = Exchange(Account.from_key("0x" + "22" * 32), BASE)
refused = stranger.order("ETH", True, 0.01, low, {"limit": {"tif": "Gtc"}})
check("an unknown signer is refused, named", refused["status"] == "err" and "does not exist" in refused["response"], refused)

info.disconnect_websocket()
print("the official SDK works against the local Hyperliquid")
