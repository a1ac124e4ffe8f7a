"""betfairlightweight, a Betfair client nobody here wrote, against `clever exchange`.

Logs in (interactive and certificate login), keeps the session alive,
subscribes to the replayed markets on the Stream API and follows them to
the end; then reads the same files with betfairlightweight's own historical
reader and asserts that both views of every market end the same: status,
every runner's full back and lay ladders, traded ladder, last traded price
and traded volume. Also checks the refusals a client gets for a wrong
password, a wrong session and a wrong app key.

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
from betfairlightweight.exceptions import ListenerError, LoginError

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


def main():
    https_port, stream_port, cert = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    files = sys.argv[4:]
    trading = client(https_port, cert)
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
    live, updates, closed = {}, 0, set()
    deadline = time.time() + 120
    while len(closed) < len(files):
        assert time.time() < deadline, f"markets still open after 120 s: {sorted(live)}"
        for b in q.get(timeout=30):
            updates += 1
            live[b.market_id] = book_state(b)
            if b.status == "CLOSED":
                closed.add(b.market_id)
    s.stop()
    t.join(5)
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
    refusals(https_port, stream_port, cert)
    trading.logout()
    print(f"betfairlightweight: {len(live)} markets followed to the close over the stream "
          f"({updates} market books) equal its reading of the files; refusals as Betfair's")


if __name__ == "__main__":
    main()
