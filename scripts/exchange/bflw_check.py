"""betfairlightweight, a Betfair client nobody here wrote, against `clever exchange`.

Logs in (interactive and certificate login), keeps the session alive,
subscribes to the replayed markets on the Stream API and follows them to
the end; then reads the same files with betfairlightweight's own historical
reader and asserts that both views of every market end the same: status,
every runner's full back and lay ladders, traded ladder, last traded price
and traded volume. While the first market is open it trades on the Betting
API: a bet that matches at once, one that rests and is cancelled, one that
is replaced, a repeated customerRef, a price off the ladder and a call
without a session; once the markets have closed, the cleared orders.
Also checks the refusals a client gets for a wrong password, a wrong
session and a wrong app key.

Usage: bflw_check.py HTTPS_PORT STREAM_PORT CERT_PEM FILE...
The account is $CLEVER_EXCHANGE_USERNAME / _PASSWORD / _APP_KEY.
"""

import os
import queue
import subprocess
import sys
import tempfile
import threading
import time

import betfairlightweight
import requests
from betfairlightweight import filters
from betfairlightweight.exceptions import APIError, ListenerError, LoginError

FIELDS = ["EX_ALL_OFFERS", "EX_TRADED", "EX_TRADED_VOL", "EX_LTP", "EX_MARKET_DEF",
          "SP_TRADED", "SP_PROJECTED"]


def client(https_port, cert, password=None, app_key=None):
    session = requests.Session()
    session.trust_env = False  # $REQUESTS_CA_BUNDLE would override verify
    session.verify = cert
    env = os.environ
    trading = betfairlightweight.APIClient(
        env["CLEVER_EXCHANGE_USERNAME"],
        password or env["CLEVER_EXCHANGE_PASSWORD"],
        app_key=app_key or env["CLEVER_EXCHANGE_APP_KEY"],
        session=session,
        cert_files=client_cert(),
    )
    base = f"https://127.0.0.1:{https_port}"
    trading.identity_uri = trading.identity_cert_uri = f"{base}/api/"
    trading.api_uri = f"{base}/exchange/"
    return trading


_pair = None


def client_cert():
    """Any valid key pair: betfairlightweight insists on files for login();
    the exchange does not ask for a client certificate."""
    global _pair
    if _pair is None:
        folder = tempfile.mkdtemp()
        crt, key = os.path.join(folder, "c.crt"), os.path.join(folder, "c.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=client",
                        "-days", "1", "-keyout", key, "-out", crt],
                       check=True, capture_output=True)
        _pair = (crt, key)
    return _pair


def stream(trading, stream_port, q):
    listener = betfairlightweight.StreamListener(output_queue=q, max_latency=None)
    s = trading.streaming.create_stream(listener=listener)
    s.host, s._BetfairStream__port = "127.0.0.1", stream_port
    return s, listener


def book_state(book):
    """What must agree: market status and each runner's data."""
    runners = {}
    for r in book.runners:
        ex = r.ex
        runners[r.selection_id] = (
            r.status,
            sorted((p.price, p.size) for p in ex.available_to_back),
            sorted((p.price, p.size) for p in ex.available_to_lay),
            sorted((p.price, p.size) for p in ex.traded_volume),
            r.last_price_traded,
            r.total_matched,
        )
    return book.status, book.inplay, runners


def historical(trading, path):
    listener = betfairlightweight.StreamListener(max_latency=None)
    s = trading.streaming.create_historical_generator_stream(file_path=path, listener=listener)
    last = {}
    for books in s.get_generator()():
        for b in books:
            last[b.market_id] = book_state(b)
    return last


def stream_refused(trading, stream_port, code):
    """Opening a stream with these credentials fails with Betfair's `code`."""
    s, _ = stream(trading, stream_port, queue.Queue())
    try:
        s.subscribe_to_markets(filters.streaming_market_filter(),
                               filters.streaming_market_data_filter(fields=FIELDS))
    except ListenerError as e:
        assert code in str(e), f"wanted {code}, got {e}"
        return
    raise AssertionError(f"a stream opened that should have failed with {code}")


def refusals(https_port, stream_port, cert):
    try:
        client(https_port, cert, password="wrong").login_interactive()
        raise AssertionError("a wrong password logged in")
    except LoginError as e:
        assert "INVALID_USERNAME_OR_PASSWORD" in str(e), e
    made_up = client(https_port, cert)
    made_up.set_session_token("not-a-session")
    stream_refused(made_up, stream_port, "INVALID_SESSION_INFORMATION")
    bad_key = client(https_port, cert, app_key="not-the-key")
    bad_key.login()
    stream_refused(bad_key, stream_port, "INVALID_APP_KEY")


def limit(selection, side, price, size, ref=None):
    return filters.place_instruction(
        order_type="LIMIT", selection_id=selection, side=side, customer_order_ref=ref,
        limit_order=filters.limit_order(size=size, price=price, persistence_type="LAPSE"))


def trade(trading, market, selection):
    """Orders on the open market; returns the bet ids that must clear."""
    betting = trading.betting
    matched = betting.place_orders(market, [limit(selection, "BACK", 1.01, 2.0, "at-once")],
                                   customer_ref="req-1", customer_strategy_ref="bflw")
    assert matched.status == "SUCCESS", matched._data
    at_once = matched.place_instruction_reports[0].bet_id
    resting = betting.place_orders(market, [limit(selection, "BACK", 1000, 2.0)],
                                   customer_strategy_ref="bflw")
    rest_id = resting.place_instruction_reports[0].bet_id
    current = betting.list_current_orders(bet_ids=[rest_id]).orders
    assert [o.bet_id for o in current] == [rest_id], current
    assert current[0].status == "EXECUTABLE" and current[0].customer_strategy_ref == "bflw"
    moved = betting.place_orders(market, [limit(selection, "BACK", 1000, 3.0)])
    moved_id = moved.place_instruction_reports[0].bet_id
    replaced = betting.replace_orders(market, [{"betId": moved_id, "newPrice": 990}])
    report = replaced.replace_instruction_reports[0]
    assert replaced.status == "SUCCESS", replaced._data
    new_id = report.place_instruction_reports.bet_id
    assert new_id != moved_id and report.cancel_instruction_reports.size_cancelled == 3.0
    cancelled = betting.cancel_orders(market)  # every open bet of the market
    assert cancelled.status == "SUCCESS", cancelled._data
    again = betting.place_orders(market, [limit(selection, "BACK", 1000, 2.0)], customer_ref="req-1")
    assert (again.status, again.error_code) == ("FAILURE", "DUPLICATE_TRANSACTION"), again._data
    off = betting.place_orders(market, [limit(selection, "BACK", 3.33, 2.0)])
    assert (off.error_code, off.place_instruction_reports[0].error_code) == \
        ("BET_ACTION_ERROR", "INVALID_ODDS"), off._data
    stranger = client(trading._https_port, trading._cert)
    stranger.set_session_token("not-a-session")
    try:
        stranger.betting.list_current_orders()
        raise AssertionError("a call without a session was answered")
    except APIError as e:
        code = e.response["error"]["data"]["APINGException"]["errorCode"]
        assert code == "INVALID_SESSION_INFORMATION", e.response
    return at_once, rest_id


def cleared(trading, at_once, rest_id):
    settled = trading.betting.list_cleared_orders(bet_status="SETTLED").orders
    won_or_lost = {o.bet_id: o for o in settled}
    assert at_once in won_or_lost, [o.bet_id for o in settled]
    bet = won_or_lost[at_once]
    assert bet.bet_outcome in ("WON", "LOST") and bet.size_settled == 2.0, bet._data
    gone = trading.betting.list_cleared_orders(bet_status="CANCELLED").orders
    assert rest_id in [o.bet_id for o in gone], [o.bet_id for o in gone]
    assert not trading.betting.list_current_orders().orders
    return bet


def main():
    https_port, stream_port, cert = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    files = sys.argv[4:]
    trading = client(https_port, cert)
    trading._https_port, trading._cert = https_port, cert
    trading.login_interactive()
    trading.login()  # certificate login, a second session
    trading.keep_alive()
    q = queue.Queue()
    s, listener = stream(trading, stream_port, q)
    s.subscribe_to_markets(
        market_filter=filters.streaming_market_filter(event_type_ids=["4339"]),
        market_data_filter=filters.streaming_market_data_filter(fields=FIELDS),
        conflate_ms=0, heartbeat_ms=1000,
    )
    t = threading.Thread(target=s.start, daemon=True)
    t.start()
    order_q = queue.Queue()
    o, _ = stream(trading, stream_port, order_q)
    o.subscribe_to_orders(order_filter=filters.streaming_order_filter(
        customer_strategy_refs=["bflw"]))
    ot = threading.Thread(target=o.start, daemon=True)
    ot.start()
    live, updates, closed, bets = {}, 0, set(), None
    deadline = time.time() + 120
    while len(closed) < len(files):
        assert time.time() < deadline, f"markets still open after 120 s: {sorted(live)}"
        for b in q.get(timeout=30):
            updates += 1
            live[b.market_id] = book_state(b)
            if b.status == "CLOSED":
                closed.add(b.market_id)
            active = [r.selection_id for r in b.runners if r.status == "ACTIVE"]
            if bets is None and b.status == "OPEN" and active:
                bets = trade(trading, b.market_id, active[0])
    s.stop()
    t.join(5)
    order_books = {}
    while not order_q.empty():
        for current in order_q.get():
            for order in current.orders:
                order_books[order.bet_id] = order
    o.stop()
    ot.join(5)
    expected = {}
    for path in files:
        expected.update(historical(trading, path))
    assert sorted(live) == sorted(expected), (sorted(live), sorted(expected))
    for market, state in expected.items():
        if live[market] != state:
            for sid, runner in state[2].items():
                got = live[market][2].get(sid)
                if got != runner:
                    print(f"{market} runner {sid}:\n  file:   {runner}\n  stream: {got}")
            raise AssertionError(f"{market}: the stream's book differs from the file's")
    assert bets is not None, "no open market to trade in"
    settled = cleared(trading, *bets)
    heard = order_books.get(bets[0])
    assert heard is not None, f"the order stream never sent bet {bets[0]}: {sorted(order_books)}"
    assert (heard.status, heard.size_matched) == ("EXECUTION_COMPLETE", 2.0), heard.__dict__
    assert order_books[bets[1]].size_cancelled == 2.0, order_books[bets[1]].__dict__
    refusals(https_port, stream_port, cert)
    trading.logout()
    print(f"betfairlightweight: {len(live)} markets followed to the close over the stream "
          f"({updates} market books) equal its reading of the files; placed, replaced, cancelled "
          f"and settled over the Betting API, each order heard on the order stream (the bet at 1.01: {settled.bet_outcome}, "
          f"profit {settled.profit}); refusals as Betfair's")


if __name__ == "__main__":
    main()
