"""The dashboard in headless Chromium, against a real `clever serve`.

Starts the host (a replay of generated markets, two strategies, saved runs
in its database), then through the pages: the strategies page shows the
running plugins and updates live; a change is refused before signing in;
sign-in with a wrong token fails and with the right one works, and the
cookie does not hold the token; a component published through the page and
a version activated through it take effect (the API shows the new
version); the kill switch is pulled and released through the page (the API
agrees); orders, markets (with a ladder), alerts and runs show their data;
every page fits a phone's width; and the page reconnects by itself to a
restarted host. Each page's screenshot goes to --screenshots. Fails on any
page error or console error (except the expected ones while the host is
down).
"""

import argparse
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

from playwright.sync_api import expect, sync_playwright

TOKEN = "dashboard-check-token"
# Console errors expected at this point of the check (a 401 page).
expected_errors = []
# Fast enough that orders settle within the check, slow enough that the
# replay outlasts it.
SPEED = "600"


class Host:
    def __init__(self, args):
        self.args = args
        self.proc = None
        self.url = None
        self.token_file = os.path.join(args.work, "token")
        with open(self.token_file, "w") as f:
            f.write(TOKEN + "\n")

    def start(self, listen="0.0.0.0:0"):
        a = self.args
        self.log = open(os.path.join(a.work, "serve.log"), "a")
        self.proc = subprocess.Popen(
            [a.clever, "serve", "--db", a.db, "--replay", a.data, "--speed", SPEED,
             "--listen", listen, "--token-file", self.token_file, "--alerts", a.alerts],
            stdout=subprocess.PIPE, stderr=self.log, text=True)
        # Read every line on a thread (the host never blocks on a full
        # pipe), and wait for the address no longer than a minute.
        lines = queue.Queue()
        threading.Thread(target=lambda: [lines.put(l) for l in self.proc.stdout],
                         daemon=True).start()
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.time()))
            except queue.Empty:
                break
            m = re.search(r"listening on http://\S+:(\d+)", line)
            if m:
                self.port = m.group(1)
                self.url = f"http://127.0.0.1:{self.port}"
                return self.url
        self.proc.kill()
        sys.exit(f"clever serve did not start within 60 s; see {a.work}/serve.log")

    def stop(self, within=30):
        """SIGTERM, as a service manager would; it must end within `within`
        seconds even with a page's live stream open."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=within)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            sys.exit(f"clever serve did not stop within {within} s of SIGTERM with a page open")

    def api(self, path, method="GET"):
        req = urllib.request.Request(self.url + path, method=method)
        req.add_header("Authorization", "Bearer " + TOKEN)
        with urllib.request.urlopen(req) as r:
            return json.load(r)


def cell(page, label, column):
    """The text of `column` (0-based) of strategy `label`'s row."""
    return page.locator(f'tbody[data-strategy="{label}"] tr.strategy td').nth(column)


def check_strategies(page, host, shots):
    page.goto(host.url + "/ui")
    expect(page.locator("#conn")).to_have_attribute("data-state", "live")
    expect(cell(page, "counter", 1)).to_have_text("1.0.0")
    expect(cell(page, "lay-low-inplay", 1)).to_have_text("1.0.0")
    # Live: the event count moves without a reload.
    before = int(cell(page, "counter", 3).inner_text())
    expect(cell(page, "counter", 3)).not_to_have_text(str(before), timeout=15_000)
    print(f"strategies page: counter and lay-low-inplay running, events {before} -> "
          f"{cell(page, 'counter', 3).inner_text()} live")


def check_sign_in(page, context, host):
    assert page.locator("#publish-form").count() == 0, "controls shown before signing in"
    refused = page.request.post(host.url + "/ui/actions/kill", headers={"HX-Request": "true"})
    assert refused.status == 401, f"kill before signing in: {refused.status}"
    no_header = page.request.post(host.url + "/ui/actions/kill")
    assert no_header.status == 403, f"kill without HX-Request: {no_header.status}"
    page.goto(host.url + "/ui/login")
    page.fill("#token", "wrong")
    expected_errors.append("status of 401")  # the wrong token's page is a 401
    page.click("form button[type=submit]")
    expect(page.locator(".flash.error")).to_contain_text("not this host's API token")
    expected_errors.pop()
    page.fill("#token", TOKEN)
    page.click("form button[type=submit]")
    expect(page.locator("#publish-form")).to_be_visible()
    for c in context.cookies():
        assert TOKEN not in c["value"], "the cookie holds the token"
        if c["name"] == "clever_session":
            assert c["httpOnly"] and c["sameSite"] == "Lax" and c["expires"] > time.time(), c
    headers = page.request.get(host.url + "/ui").headers
    assert headers.get("x-frame-options") == "DENY", headers
    assert "frame-ancestors 'none'" in headers.get("content-security-policy", ""), headers
    print("sign-in: refused without it (401, 403 without HX-Request), wrong token refused, "
          "cookie HttpOnly/Lax/expiring without the token; pages may not be framed")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args):
        return None


def lan_address():
    """This machine's address on its network (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("10.255.255.255", 1))
        return s.getsockname()[0]


def check_remote_reads(context, host):
    """From an address other than loopback, reading needs signing in too."""
    ip = lan_address()
    assert not ip.startswith("127."), f"no address but loopback here ({ip}) to read from"
    remote = f"http://{ip}:{host.port}"
    opener = urllib.request.build_opener(NoRedirect)

    def status(path, cookie=None):
        req = urllib.request.Request(remote + path)
        if cookie:
            req.add_header("Cookie", cookie)
        try:
            with opener.open(req, timeout=10) as r:
                return r.status, r.headers.get("Location")
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("Location")

    assert status("/ui") == (303, "/ui/login"), status("/ui")
    assert status("/ui/orders")[0] == 303
    assert status("/ui/events?page=strategies")[0] == 401
    assert status("/ui/login")[0] == 200
    session = [c for c in context.cookies() if c["name"] == "clever_session"][0]
    signed = f"clever_session={session['value']}"
    assert status("/ui", signed)[0] == 200, status("/ui", signed)
    print(f"reads from {ip} (not loopback): pages go to sign-in, the stream is 401; "
          "signed in, they are served")


def check_swap(page, host, component, dialogs):
    page.set_input_files("#component", component)
    page.click("#publish-form button")
    expect(page.locator("#flash")).to_contain_text("Published counter 1.1.0")
    assert any(d.startswith("Publish ") for d in dialogs), dialogs
    row = page.locator('#controls tr[data-name="counter"]')
    row.locator("select[name=version]").select_option("1.1.0")
    row.locator("form.activate button").click()
    expect(page.locator("#flash")).to_contain_text("swapped from 1.0.0")
    assert any("Activate the chosen version of counter" in d for d in dialogs), dialogs
    running = {s["label"]: s["version"] for s in host.api("/strategies")}
    assert running.get("counter") == "1.1.0", f"API after the swap: {running}"
    expect(cell(page, "counter", 1)).to_have_text("1.1.0")
    rows = page.locator('tbody[data-strategy="counter"] tr.version-row')
    expect(rows).to_have_count(2)
    print(f"swap through the page: published and activated counter 1.1.0; API: {running}")


def check_kill(page, host, dialogs):
    page.click("#kill")
    expect(page.locator(".killswitch")).to_have_attribute("data-killed", "true")
    assert host.api("/health")["killed"] is True
    assert any(d.startswith("Pull the kill switch") for d in dialogs), dialogs
    page.click("#release")
    expect(page.locator(".killswitch")).to_have_attribute("data-killed", "false")
    assert host.api("/health")["killed"] is False
    print("kill switch through the page: on, API killed=true; released, API killed=false")


def check_other_pages(page, host, shots):
    page.goto(host.url + "/ui/orders")
    expect(page.locator("#fills tbody tr").first).to_be_visible(timeout=60_000)
    # counter backs at 1000 and leaves it open until its market closes.
    expect(page.locator("#open-orders tbody tr").first).to_be_visible(timeout=60_000)
    opened = page.locator("#open-orders tbody tr").count()
    page.goto(host.url + "/ui/orders?strategy=lay-low-inplay&status=EXECUTION_COMPLETE")
    expect(page.locator("#fills tbody tr").first).to_be_visible()
    strategies = page.locator("#fills tbody tr td:nth-child(2)").all_inner_texts()
    assert all(s.startswith("lay-low-inplay") for s in strategies), strategies
    page.screenshot(path=f"{shots}/orders.png", full_page=True)
    print(f"orders page: {opened} open orders; {len(strategies)} journal rows of lay-low-inplay "
          "after filtering")

    page.goto(host.url + "/ui/markets")
    expect(page.locator("#markets-table tbody tr").first).to_be_visible()
    # A market at 600x closes within seconds of being chosen; one that
    # closed first says so, and the next open one is tried (five at most).
    for attempt in range(5):
        page.goto(host.url + "/ui/markets")
        open_rows = page.locator("#markets-table tbody tr", has_not_text="Closed")
        expect(open_rows.first).to_be_visible(timeout=30_000)
        # The last open market has the longest left before it closes.
        open_rows.last.locator("a").click()
        ladder = page.locator("#ladder-table tbody tr").first
        gone = page.get_by_text("is not open on this host")
        expect(ladder.or_(gone)).to_be_visible()
        if ladder.is_visible():
            break
    expect(page.locator("#ladder-table tbody tr").first).to_be_visible()
    page.screenshot(path=f"{shots}/markets.png", full_page=True)
    print(f"markets page: {page.locator('#markets-table tbody tr').count()} markets, "
          f"ladder of {page.locator('#ladder-table tbody tr').count()} runners")

    page.goto(host.url + "/ui/alerts")
    expect(page.locator("#alerts-table")).to_contain_text("kill-switch")
    page.screenshot(path=f"{shots}/alerts.png", full_page=True)

    page.goto(host.url + "/ui/runs")
    expect(page.locator("#runs-table tbody tr")).to_have_count(3)
    page.screenshot(path=f"{shots}/runs.png", full_page=True)
    page.locator("#runs-table tbody tr a").last.click()
    expect(page.locator("#report-table tbody tr")).to_have_count(1)
    page.screenshot(path=f"{shots}/run.png", full_page=True)
    print("alerts page: the kill switch's alert; runs page: 3 runs (1 backtest, a sweep of 2), "
          "a run's report")


def check_phone(browser, host, shots, watch):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    watch(page)
    for name, path in [("strategies", "/ui"), ("orders", "/ui/orders"),
                       ("markets", "/ui/markets"), ("alerts", "/ui/alerts"), ("runs", "/ui/runs")]:
        page.goto(host.url + path)
        expect(page.locator("#conn")).to_have_attribute("data-state", "live")
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= 391, f"{path} is {wide} px wide on a 390 px phone"
        page.screenshot(path=f"{shots}/{name}-phone.png", full_page=True)
    context.close()
    print("phone (390x844): no page is wider than the screen")


def check_restart(page, host, shots):
    page.goto(host.url + "/ui")
    expect(page.locator("#conn")).to_have_attribute("data-state", "live")
    expect(page.locator("#pnl-chart polyline").first).to_be_attached()
    page.screenshot(path=f"{shots}/strategies.png")
    started = page.locator("#host-started").get_attribute("data-started")
    took = time.time()
    host.stop()
    stopped = time.time() - took
    expect(page.locator("#conn")).to_have_attribute("data-state", "down")
    host.start(listen=f"0.0.0.0:{host.port}")
    expect(page.locator("#conn")).to_have_attribute("data-state", "live", timeout=30_000)
    expect(page.locator("#host-started")).not_to_have_attribute("data-started", started)
    expect(cell(page, "counter", 1)).to_have_text("1.1.0")
    print(f"restart: the host stopped {stopped:.1f} s after SIGTERM with the page open; "
          "the page reconnected to the new host by itself")


def main():
    ap = argparse.ArgumentParser()
    for name in ["clever", "db", "data", "alerts", "component", "work", "screenshots"]:
        ap.add_argument("--" + name, required=True)
    args = ap.parse_args()
    host = Host(args)
    host.start()
    shots = args.screenshots
    errors, host_down, dialogs = [], [False], []

    def console(m):
        expected = host_down[0] or any(e in m.text for e in expected_errors)
        if m.type == "error" and not expected:
            errors.append(m.text)

    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            page = context.new_page()

            def watch(page):
                page.on("console", console)
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.on("dialog", lambda d: (dialogs.append(d.message), d.accept()))

            watch(page)
            expect.set_options(timeout=20_000)
            check_strategies(page, host, shots)
            check_sign_in(page, context, host)
            check_remote_reads(context, host)
            check_swap(page, host, args.component, dialogs)
            check_kill(page, host, dialogs)
            check_other_pages(page, host, shots)
            check_phone(browser, host, shots, watch)
            host_down[0] = True
            check_restart(page, host, shots)
            host_down[0] = False
            page.click("header button.link")  # Sign out
            expect(page.locator("a.signin")).to_be_visible()
            assert page.locator("#publish-form").count() == 0
            print("sign-out: the controls are gone")
            browser.close()
    finally:
        if host.proc and host.proc.poll() is None:
            host.stop()
    if errors:
        sys.exit("console or page errors:\n  " + "\n  ".join(errors))
    print(f"no console errors; screenshots in {shots}")


if __name__ == "__main__":
    main()
