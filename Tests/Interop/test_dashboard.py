"""The browser dashboard at /dashboard, in a real browser (headless Chromium via Selenium):
prices move, the book renders and its checksum holds (at every depth), a silent symbol is greyed
and comes back, declared gaps show, the admin view shows live stats and its broadcast reaches a
python-socketio client. It runs against the copy built into the binary."""
import os
import random
import re
import threading
import time
import uuid
import zlib

import pytest
import requests
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from auth_helpers import Conn, token
from book_helpers import ClientBook
from browser_helpers import browser, dataset, text
from conftest import configured_gateway, wait_until
from scrape import metric

SOURCES = os.path.join(os.path.dirname(__file__), "..", "..", "Sources", "App", "Dashboard")
# "" = the copy SwiftPM builds next to the binary, which is what ships.
DASHBOARD_DIR = ""
SYMBOLS = ["BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT", "DOGE/USDT"]


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    yaml = "feed:\n  source: simulator\n  simulator:\n    ticksPerSecond: 50\n"
    srv = configured_gateway(tmp_path_factory, yaml, env={"DASHBOARD_DIR": DASHBOARD_DIR})
    yield srv
    assert srv.alive()
    srv.stop()


@pytest.fixture(scope="module")
def page(gateway):
    driver = browser()
    try:
        driver.get(gateway.base + "/dashboard")
        yield driver
    finally:
        driver.quit()


def until(driver, condition, timeout=10, message="condition not met in time"):
    """Polls `condition` in the page for at most `timeout` s; `message` may be a callable (what
    the page showed), so a failure says why."""
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.1).until(lambda d: condition())
    except TimeoutException:
        raise AssertionError(message() if callable(message) else message) from None


def served_files():
    return sorted(name for name in os.listdir(SOURCES) if not name.startswith("."))


def test_root_redirects_and_both_paths_serve_the_page(gateway):
    root = requests.get(gateway.base + "/", allow_redirects=False, timeout=5)
    assert root.status_code == 302 and root.headers["Location"] == "/dashboard/"
    bare = requests.get(gateway.base + "/dashboard", timeout=5)
    slash = requests.get(gateway.base + "/dashboard/", timeout=5)
    assert bare.status_code == slash.status_code == 200 and bare.text == slash.text
    assert "text/html" in slash.headers["Content-Type"]


def test_the_binary_serves_the_files_in_sources(gateway):
    for name in served_files():
        response = requests.get(f"{gateway.base}/dashboard/{name}", timeout=5)
        assert response.status_code == 200, name
        with open(os.path.join(SOURCES, name), "rb") as f:
            assert response.content == f.read(), f"/dashboard/{name} differs from Sources/App/Dashboard/{name}: rebuild the gateway"
        if name.endswith(".js"):
            assert "javascript" in response.headers["Content-Type"], name  # ES modules need it


def test_no_external_urls(gateway, page):
    absolute = re.compile(r"\b(?:https?|wss?|ftp)://|(?:src|href)=[\"']?//", re.I)
    stylesheet = re.compile(r"@import|\burl\((?!\s*['\"]?data:)")
    for name in served_files():
        body = requests.get(f"{gateway.base}/dashboard/{name}", timeout=5).text
        found = absolute.findall(body) + (stylesheet.findall(body) if name.endswith(".css") else [])
        assert not found, f"{name} refers to something outside the gateway: {found}"
    until(page, lambda: dataset(page, "#conn-prices")["state"] == "connected")
    loaded = page.execute_script("return performance.getEntries().map(e => e.name).filter(n => n.includes('://'))")
    assert loaded and all(url.startswith(gateway.base) for url in loaded), loaded


def test_page_shows_every_symbol_and_connection_state(page):
    until(page, lambda: page.execute_script("return [...document.querySelectorAll('#prices-body tr')].map(r => r.dataset.symbol)") == SYMBOLS,
          message="the prices table does not list the configured symbols")
    for pill in ("#conn-prices", "#conn-market"):
        until(page, lambda: dataset(page, pill)["state"] == "connected", message=f"{pill} not connected")
        assert text(page, pill + " .state") == "connected"
    assert dataset(page, "#conn-admin")["state"] == "off"
    severe = [entry for entry in page.get_log("browser") if entry["level"] == "SEVERE"]
    assert not severe, severe


def test_prices_move(page):
    def prices():
        return page.execute_script(
            "return [...document.querySelectorAll('#prices-body td[data-field=price]')].map(c => c.textContent)")
    until(page, lambda: all(re.fullmatch(r"[0-9.]+", p) for p in prices()), message="no prices shown")
    first = prices()
    until(page, lambda: prices() != first, timeout=5, message="no price changed within 5 s")
    until(page, lambda: page.execute_script("return !!document.querySelector('#prices-body td[data-direction]')"), timeout=5)


def watch_book(page, seconds):
    """Polls the page's book state for `seconds`; returns every state seen."""
    seen = []
    deadline = time.time() + seconds
    while time.time() < deadline:
        seen.append(dataset(page, "#book"))
        time.sleep(0.1)
    return seen


def test_book_renders_and_its_checksum_holds(gateway, page):
    until(page, lambda: dataset(page, "#book").get("checksumOk") == "true", message="the book never checked out")
    # Chromium offers permessage-deflate: the page's books and snapshots arrive compressed.
    assert metric(gateway, "gateway_websocket_deflate_connections") >= 1
    start = int(dataset(page, "#book")["verified"])
    seen = watch_book(page, 4)
    assert all(state["checksumOk"] == "true" for state in seen), [s for s in seen if s["checksumOk"] != "true"][:3]
    assert int(seen[-1]["verified"]) >= start + 20, "fewer depth updates than a 100 ms cadence gives"
    assert seen[-1]["resyncs"] == "0"
    ladder = page.execute_script(
        "return [...document.querySelectorAll('#ladder-body tr')].map(r => [...r.cells].map(c => c.textContent))")
    assert len(ladder) == 10 and all(all(cell for cell in row) for row in ladder), ladder
    bids = [float(row[1]) for row in ladder]
    asks = [float(row[2]) for row in ladder]
    assert bids == sorted(bids, reverse=True) and asks == sorted(asks) and bids[0] < asks[0]
    assert "checksum ok" in text(page, "#book-checksum")
    until(page, lambda: page.execute_script("return document.querySelectorAll('#tape-body tr').length") > 0,
          timeout=8, message="no trades on the tape")


def test_chosen_symbol_matches_a_python_client_book(gateway, page):
    conn = Conn(gateway, "/market")
    try:
        reply = conn.call("subscribe", {"channels": ["depth"], "symbols": ["ETH/USDT"], "cadence": "100ms"})
        book = ClientBook(reply["snapshots"][0])
        history = {book.seq: top(book)}
        page.find_element(By.CSS_SELECTOR, '#prices-body tr[data-symbol="ETH/USDT"] button').click()
        until(page, lambda: dataset(page, "#book").get("symbol") == "ETH/USDT" and dataset(page, "#book").get("checksumOk") == "true")
        assert Select(page.find_element(By.ID, "market-picker")).first_selected_option.text == "ETH/USDT"
        applied = 0
        matched = 0
        deadline = time.time() + 8
        while matched < 5 and time.time() < deadline:
            with conn.cond:
                pending = [d for e, d in conn.events if e == "market.depth"]
            for message in pending[applied:]:
                book.apply(message)  # asserts chaining and the checksum
                history[book.seq] = top(book)
            applied = len(pending)
            state = dataset(page, "#book")
            if int(state["seq"]) in history:
                assert (state["bestBid"], state["bestAsk"]) == history[int(state["seq"])], f"top of book differs at seq {state['seq']}"
                assert state["checksumOk"] == "true"
                matched += 1
            time.sleep(0.15)
        assert matched >= 5, "the page and the python client never held the same seq"
    finally:
        conn.close()
        Select(page.find_element(By.ID, "market-picker")).select_by_value("BTC/USDT")


BOOK_SCENARIO = """
const done = arguments[arguments.length - 1];
Promise.all([import("/dashboard/book.js"), import("/dashboard/crc32.js"), import("/dashboard/socketio-client.js")])
  .then(([{ OrderBook }, { crc32 }, { decodePacket }]) => {
    const [snapshot, delta, gap, stale, wrong] = arguments[0];
    const book = new OrderBook("T/USD");
    const outcomes = [snapshot, delta, stale, gap].map((m) => book.apply(m));
    const after = new OrderBook("T/USD");
    after.apply(snapshot);
    outcomes.push(after.apply(wrong));
    done({ outcomes, crcs: arguments[1].map(crc32), seq: book.seq, levels: book.sorted(),
           packet: decodePacket('2/market,12["market.depth",{"seq":1}]') });
  }, (error) => done({ error: String(error) }));
"""


def test_book_module_follows_the_spec(page):
    """The page's own book, CRC32 and packet decoder, run in the browser on hand-made messages and
    checked against Python's zlib and book_helpers."""
    import zlib
    from book_helpers import checksum
    bids = [["99.5", "1.0"], ["99.4", "2.5"]]
    asks = [[f"{100 + i / 10:.1f}", "1"] for i in range(12)]  # 12 asks: only 10 count; bids run out
    snapshot = {"symbol": "T/USD", "type": "snapshot", "seq": 10, "prevSeq": None, "bids": bids, "asks": asks, "checksum": checksum(bids, asks)}
    bids2 = [["99.5", "1.0"], ["99.45", "0.7"]]  # 99.4 removed, 99.45 added
    delta = {"symbol": "T/USD", "type": "delta", "seq": 11, "prevSeq": 10, "bids": [["99.4", "0"], ["99.45", "0.7"]], "asks": [],
             "checksum": checksum(bids2, asks)}
    gap = {**delta, "seq": 13, "prevSeq": 12}
    stale = {**delta, "seq": 9, "prevSeq": 8}
    wrong = {**delta, "checksum": delta["checksum"] ^ 1}
    texts = ["", "a", "99.5:1.0:100.0:1:", "ünïcödé €"]
    result = page.execute_async_script(BOOK_SCENARIO, [snapshot, delta, gap, stale, wrong], texts)
    assert "error" not in result, result
    assert result["outcomes"] == ["ok", "ok", "stale", "gap", "mismatch"]
    assert result["crcs"] == [zlib.crc32(t.encode()) for t in texts]
    assert result["seq"] == 11 and result["levels"]["bids"] == bids2 and len(result["levels"]["asks"]) == 12
    assert result["packet"] == {"type": 2, "namespace": "/market", "id": 12, "data": ["market.depth", {"seq": 1}]}


def test_depth_choice_keeps_the_checksum(page):
    """The depth selector resubscribes with "depth": N; the page then holds N levels per side and
    its checksum (over every level held) matches the gateway's at every message."""
    picker = Select(page.find_element(By.ID, "book-depth"))
    assert [o.text for o in picker.options] == ["full", "10", "50", "200", "1000"]
    assert picker.first_selected_option.text == "full"

    def levels(state):
        return int(state.get("bidLevels") or 0), int(state.get("askLevels") or 0)
    try:
        # The simulator's book is 50 levels a side, but a side thins for a while when the mid
        # runs through it: each side holds at most N, and the fuller side N (10) or more than 10 (50).
        for depth, held in ((10, lambda state: max(levels(state)) == 10), (50, lambda state: max(levels(state)) > 10)):
            picker.select_by_value(str(depth))

            def fits(n, depth=depth):
                return 0 < n <= depth

            def ready():
                state = dataset(page, "#book")
                return (state.get("depth") == str(depth) and state.get("bookState") == "live"
                        and state.get("checksumOk") == "true" and all(fits(n) for n in levels(state)) and held(state))
            until(page, ready, message=lambda: f"depth {depth}: {dataset(page, '#book')}")
            start = int(dataset(page, "#book")["verified"])
            seen = watch_book(page, 3)
            assert all(state["checksumOk"] == "true" for state in seen), [s for s in seen if s["checksumOk"] != "true"][:3]
            assert all(fits(n) for state in seen for n in levels(state)), f"depth {depth}: {sorted({levels(s) for s in seen})}"
            assert all(held(state) for state in seen), f"depth {depth}: {sorted({levels(s) for s in seen})}"
            assert seen[-1]["resyncs"] == "0" and seen[-1]["depth"] == str(depth)
            assert int(seen[-1]["verified"]) >= start + 10, f"depth {depth}: too few verified updates"
            assert "checksum ok" in text(page, "#book-checksum")
            ladder = page.execute_script(
                "return [...document.querySelectorAll('#ladder-body tr')].map(r => [...r.cells].map(c => c.textContent))")
            assert all(all(cell for cell in row) for row in ladder), ladder
        assert page.execute_script("return localStorage.getItem('dashboard.depth')") == "50"
    finally:
        picker.select_by_value("")
    until(page, lambda: dataset(page, "#book").get("depth") == "" and dataset(page, "#book").get("checksumOk") == "true"
          and levels(dataset(page, "#book"))[0] > 10, message=lambda: f"back to the full book: {dataset(page, '#book')}")
    assert page.execute_script("return localStorage.getItem('dashboard.depth')") is None


def spec_checksum(bids, asks, levels=None):
    """docs/market-data.md: CRC32 of "bidPrice:bidQty:askPrice:askQty:" level by level, best
    first, over `levels` per side (None: every level given)."""
    bids = sorted(bids, key=lambda level: float(level[0]), reverse=True)[:levels]
    asks = sorted(asks, key=lambda level: float(level[0]))[:levels]
    text = ""
    for i in range(max(len(bids), len(asks))):
        if i < len(bids):
            text += f"{bids[i][0]}:{bids[i][1]}:"
        if i < len(asks):
            text += f"{asks[i][0]}:{asks[i][1]}:"
    return zlib.crc32(text.encode())


DEPTH_SCENARIO = """
const done = arguments[arguments.length - 1];
import("/dashboard/book.js").then(({ OrderBook, checksumOf, DEPTHS }) => {
  const results = arguments[0].map(({ depth, snapshot, delta, top10 }) => {
    const book = new OrderBook("T/USD", depth);
    const outcomes = [book.apply(snapshot), book.apply(delta)];
    const topOnly = new OrderBook("T/USD", depth);
    const full = new OrderBook("T/USD");
    return { outcomes, checksum: book.checksum(), levels: [book.bids.size, book.asks.size],
             sortedDirect: checksumOf(book.sorted().bids, book.sorted().asks),
             withTop10: topOnly.apply({ ...snapshot, checksum: top10 }),
             fullBook: full.apply({ ...snapshot, checksum: top10 }) };
  });
  done({ depths: DEPTHS, results });
}, (error) => done({ error: String(error) }));
"""


def test_book_module_checksums_every_level_held_at_a_depth(page):
    """At depth N the page's checksum covers every level it holds (N per side, or fewer), at
    depth 10 and for the whole book the top 10: each against a Python computation."""
    rng = random.Random(11)
    cases = []
    for depth in (10, 50, 200, 1000):
        bids = [[f"{5000 - i * 0.25:.2f}", f"{rng.randint(1, 900) / 100}"] for i in range(depth)]
        asks = [[f"{5001 + i * 0.5:.1f}", str(rng.randint(1, 40))] for i in range(depth - 3)]  # asks run out first
        shuffled = [list(side) for side in (bids, asks)]
        for side in shuffled:
            rng.shuffle(side)
        held = {"bids": dict(map(tuple, bids)), "asks": dict(map(tuple, asks))}
        # One level leaves the top N (quantity 0), another enters it, one changes its quantity.
        gone, entered, changed = bids[depth // 2][0], [f"{5000 - depth * 0.25:.2f}", "3.5"], [asks[0][0], "7"]
        del held["bids"][gone]
        held["bids"][entered[0]] = entered[1]
        held["asks"][changed[0]] = changed[1]
        snapshot = {"symbol": "T/USD", "type": "snapshot", "seq": 100, "prevSeq": None, "depth": depth,
                    "bids": shuffled[0], "asks": shuffled[1], "checksum": spec_checksum(bids, asks)}
        delta = {"symbol": "T/USD", "type": "delta", "seq": 104, "prevSeq": 100, "depth": depth,
                 "bids": [[gone, "0"], entered], "asks": [changed],
                 "checksum": spec_checksum(list(held["bids"].items()), list(held["asks"].items()))}
        cases.append({"depth": depth, "snapshot": snapshot, "delta": delta, "top10": spec_checksum(bids, asks, 10)})
    result = page.execute_async_script(DEPTH_SCENARIO, cases)
    assert "error" not in result, result
    assert result["depths"] == [10, 50, 200, 1000]
    for case, got in zip(cases, result["results"]):
        depth = case["depth"]
        assert got["outcomes"] == ["ok", "ok"], (depth, got)
        assert got["checksum"] == case["delta"]["checksum"] and got["levels"] == [depth, depth - 3], (depth, got)
        assert got["sortedDirect"] == case["delta"]["checksum"], "checksumOf on the held levels, best first"
        assert got["fullBook"] == "ok", "without a depth the checksum stays the top 10"
        # At depth 10 the two checksums are the same number; deeper, the top 10 alone is a mismatch.
        assert got["withTop10"] == ("ok" if depth == 10 else "mismatch"), (depth, got["withTop10"])


def top(book):
    bids = sorted(book.bids, key=float, reverse=True)
    asks = sorted(book.asks, key=float)
    return bids[0], asks[0]


def test_theme_switch(page):
    def background():
        return page.execute_script("return getComputedStyle(document.body).backgroundColor")
    try:
        page.find_element(By.CSS_SELECTOR, '[data-theme-choice="light"]').click()
        light = background()
        assert page.execute_script("return localStorage.getItem('dashboard.theme')") == "light"
        page.find_element(By.CSS_SELECTOR, '[data-theme-choice="dark"]').click()
        dark = background()
        assert light == "rgb(238, 241, 245)" and dark == "rgb(11, 14, 19)"
        assert page.find_element(By.CSS_SELECTOR, '[data-theme-choice="dark"]').get_attribute("aria-pressed") == "true"
    finally:
        page.find_element(By.CSS_SELECTOR, '[data-theme-choice="auto"]').click()
    assert page.execute_script("return localStorage.getItem('dashboard.theme')") is None


def admin_login(page, value):
    field = page.find_element(By.ID, "admin-token")
    field.clear()
    field.send_keys(value)
    page.find_element(By.ID, "admin-connect").click()


def test_bad_admin_token_shows_a_clear_error(page):
    admin_login(page, "not-a-jwt")
    until(page, lambda: "UNAUTHORIZED" in text(page, "#admin-status"), message=lambda: text(page, "#admin-status"))
    assert dataset(page, "#conn-admin")["state"] == "failed"
    assert dataset(page, "#admin-status")["state"] == "error"
    admin_login(page, token("desk-user", role="user"))
    until(page, lambda: "FORBIDDEN" in text(page, "#admin-status"), message=lambda: text(page, "#admin-status"))
    assert not page.find_element(By.ID, "broadcast-send").is_displayed()


def test_admin_token_shows_live_stats(gateway, page):
    secret = token("desk-admin", role="admin")
    admin_login(page, secret)
    until(page, lambda: dataset(page, "#conn-admin")["state"] == "connected", message=lambda: text(page, "#admin-status"))

    def count(namespace):
        cell = text(page, f'[data-stat="connections.{namespace}"]')
        return int(cell.replace(",", "")) if cell else None
    until(page, lambda: count("/admin") is not None)
    assert count("/prices") >= 1 and count("/market") >= 1 and count("/admin") >= 1
    assert text(page, '[data-stat="redis"]') == "disabled"
    until(page, lambda: int(dataset(page, "#admin").get("statsPushes", 0)) >= 1, timeout=8, message="no admin.stats push in 8 s")
    # The token lives in this tab's sessionStorage only.
    assert page.execute_script("return sessionStorage.getItem('dashboard.adminToken')") == secret
    assert secret not in page.current_url
    assert secret not in page.execute_script("return JSON.stringify(localStorage)")
    page.refresh()
    until(page, lambda: dataset(page, "#conn-admin")["state"] == "connected", message="the admin view did not come back after a reload")


def test_broadcast_from_the_page_reaches_a_python_client(gateway, page):
    listener = Conn(gateway, "/prices")
    try:
        send = page.find_element(By.ID, "broadcast-send")
        until(page, lambda: send.is_displayed() and send.is_enabled())
        message = f"desk check {uuid.uuid4().hex[:8]}"
        page.find_element(By.ID, "broadcast-message").send_keys(message)
        Select(page.find_element(By.ID, "broadcast-level")).select_by_value("warning")
        for box in page.find_elements(By.CSS_SELECTOR, "#broadcast-namespaces input"):
            if (box.get_attribute("value") == "/prices") != box.is_selected():
                box.click()
        page.find_element(By.ID, "broadcast-send").click()
        got = listener.wait_for("system.broadcast", timeout=5)
        assert got["message"] == message and got["level"] == "warning"
        until(page, lambda: "Sent (warning) to /prices" in text(page, "#broadcast-result"), message=lambda: text(page, "#broadcast-result"))
        until(page, lambda: message in text(page, "#notices"), message="the page's own /prices socket did not show it")
        page.find_element(By.ID, "broadcast-message").clear()
        page.find_element(By.ID, "broadcast-send").click()
        until(page, lambda: "Write a message" in text(page, "#broadcast-result"))
    finally:
        listener.close()


def test_kick_and_maintenance_from_the_page(gateway, page):
    victim = Conn(gateway, "/user", auth={"token": token("desk-victim")})
    try:
        assert victim.connected
        page.find_element(By.ID, "kick-target").send_keys("desk-victim")
        page.find_element(By.ID, "kick-send").click()
        until(page, lambda: "Kicked 1 connection" in text(page, "#kick-result"), message=lambda: text(page, "#kick-result"))
        assert victim.disconnected.wait(3)
    finally:
        victim.close()
    switch = page.find_element(By.ID, "maintenance-switch")
    try:
        switch.click()
        until(page, lambda: switch.get_attribute("aria-checked") == "true", message=lambda: text(page, "#maintenance-result"))
        until(page, lambda: text(page, '[data-stat="maintenance"]') == "on", timeout=3)
        refused = Conn(gateway, "/prices")
        assert refused.connect_error["data"]["code"] == "MAINTENANCE"
        refused.close()
    finally:
        if switch.get_attribute("aria-checked") == "true":
            switch.click()
    until(page, lambda: switch.get_attribute("aria-checked") == "false" and "Maintenance off" in text(page, "#maintenance-result"))
    welcome = Conn(gateway, "/prices")
    assert welcome.connected
    welcome.close()
    wait_until(lambda: dataset(page, "#conn-prices")["state"] == "connected", timeout=5)


# Freshness and continuity (docs/market-data.md) against a gateway fed only over HTTP: the test
# is the producer, so it decides when a symbol goes silent and when its book breaks.

QUIET_SYMBOLS = ["BTC/USDT", "ETH/USDT", "SOL/USDT"]


class Producer(threading.Thread):
    """Posts a tick for every symbol in `active` every 100 ms (service token, as a feed would)."""

    def __init__(self, server):
        super().__init__(daemon=True)
        self.server = server
        self.active = set(QUIET_SYMBOLS)
        self.stopped = threading.Event()
        self.headers = {"Authorization": f"Bearer {token('dashboard-producer', role='service')}"}
        self.prices = {symbol: 100.0 + 10 * n for n, symbol in enumerate(QUIET_SYMBOLS)}
        self.errors = []

    def post(self, body):
        response = requests.post(f"{self.server.base}/api/v1/market", json=body, headers=self.headers, timeout=5)
        assert response.status_code == 202, response.text
        return response

    def run(self):
        rng = random.Random(5)
        while not self.stopped.wait(0.1):
            batch = []
            for symbol in sorted(self.active):
                self.prices[symbol] += rng.choice((-0.05, 0.05))
                price = self.prices[symbol]
                batch.append({"type": "tick", "symbol": symbol, "price": f"{price:.2f}", "bid": f"{price - 0.01:.2f}",
                              "ask": f"{price + 0.01:.2f}", "volume": "10.0", "ts": int(time.time() * 1000)})
            try:
                if batch:
                    self.post(batch)
            except Exception as error:  # the test reads these
                self.errors.append(repr(error))


@pytest.fixture(scope="module")
def quiet_gateway(tmp_path_factory):
    yaml = ("feed:\n  source: none\n  symbols: [" + ", ".join(f'"{s}"' for s in QUIET_SYMBOLS) + "]\n"
            "  staleAfterMs: 1000\n")
    srv = configured_gateway(tmp_path_factory, yaml, env={"DASHBOARD_DIR": DASHBOARD_DIR})
    yield srv
    assert srv.alive()
    srv.stop()


@pytest.fixture(scope="module")
def producer(quiet_gateway):
    feed = Producer(quiet_gateway)
    feed.start()
    yield feed
    feed.stopped.set()
    feed.join(5)
    assert not feed.errors, feed.errors[:3]


@pytest.fixture(scope="module")
def quiet_page(quiet_gateway, producer):
    time.sleep(0.3)  # every symbol has had a tick: none starts stale
    driver = browser()
    try:
        driver.get(quiet_gateway.base + "/dashboard/")
        yield driver
    finally:
        driver.quit()


def row_state(page, symbol):
    return page.execute_script(
        "const r = document.querySelector(`#prices-body tr[data-symbol='${arguments[0]}']`);"
        "return r && {stale: r.classList.contains('stale'), age: r.querySelector('[data-field=age]').textContent,"
        " heard: Number(r.querySelector('[data-field=age]').dataset.heard || 0),"
        " price: r.querySelector('[data-field=price]').textContent}", symbol)


def test_a_silent_symbol_is_greyed_until_it_is_live_again(quiet_gateway, producer, quiet_page):
    page = quiet_page
    until(page, lambda: all(re.fullmatch(r"[0-9.]+", row_state(page, s)["price"]) for s in QUIET_SYMBOLS),
          message=lambda: [row_state(page, s) for s in QUIET_SYMBOLS])
    until(page, lambda: dataset(page, "#book").get("symbol") == "BTC/USDT")
    assert not any(row_state(page, s)["stale"] for s in QUIET_SYMBOLS)
    listener = Conn(quiet_gateway, "/prices")
    try:
        assert listener.call("subscribe", {"symbols": ["BTC/USDT"], "heartbeatMs": 1000})["ok"]
        stopped = time.time()
        producer.active.discard("BTC/USDT")

        until(page, lambda: row_state(page, "BTC/USDT")["stale"], timeout=5,
              message=lambda: f"BTC/USDT not greyed 5 s after its feed stopped (staleAfterMs 1000): {row_state(page, 'BTC/USDT')}")
        notice = listener.wait_for("market.stale", timeout=1)
        assert notice["symbol"] == "BTC/USDT" and notice["reason"] == "silent" and notice["silentMs"] >= 1000, notice
        first = row_state(page, "BTC/USDT")
        assert re.fullmatch(r"stale \d+\.\d s", first["age"]), first
        assert not row_state(page, "ETH/USDT")["stale"] and not row_state(page, "SOL/USDT")["stale"]
        # The chosen market symbol is the same one: its view says so too.
        until(page, lambda: dataset(page, "#book").get("feedStale") == "true", timeout=3, message="the market view did not show it stale")
        assert text(page, "#market-stale").startswith("feed stale ")
        time.sleep(1.5)
        later = row_state(page, "BTC/USDT")
        assert later["stale"] and float(later["age"].split()[1]) >= float(first["age"].split()[1]) + 1, (first, later)
        # Heartbeats keep saying the link is alive while the feed is silent ("last heard").
        until(page, lambda: row_state(page, "BTC/USDT")["heard"] > (stopped + 1.5) * 1000, timeout=4,
              message=lambda: f"no market.heartbeat reached the page for the silent symbol: {row_state(page, 'BTC/USDT')}")
        assert text(page, "#prices-heard").startswith("last heard ")
    finally:
        producer.active.add("BTC/USDT")
    try:
        until(page, lambda: not row_state(page, "BTC/USDT")["stale"], timeout=3,
              message=lambda: f"BTC/USDT still greyed after its feed came back: {row_state(page, 'BTC/USDT')}")
        assert "stale" not in row_state(page, "BTC/USDT")["age"]
        until(page, lambda: dataset(page, "#book").get("feedStale") == "" and not page.find_element(By.ID, "market-stale").is_displayed(),
              timeout=3, message="the market view still says stale")
        live = listener.wait_for("market.live", timeout=1)
        assert live["symbol"] == "BTC/USDT"
        with listener.cond:
            names = [e for e, d in listener.events if d and d.get("symbol") == "BTC/USDT"]
        stale_at = names.index("market.stale")
        assert names.index("market.live", stale_at) < names.index("price.update", stale_at), "market.live comes before the next tick"
    finally:
        listener.close()
    severe = [entry for entry in page.get_log("browser") if entry["level"] == "SEVERE"]
    assert not severe, severe


def sol_depth(kind, seq, bids, asks):
    return {"type": "depth", "symbol": "SOL/USDT", "kind": kind, "seq": seq, "bids": bids, "asks": asks, "ts": int(time.time() * 1000)}


def test_a_feed_gap_shows_as_a_declared_gap_and_a_stale_book(quiet_gateway, producer, quiet_page):
    page = quiet_page
    producer.post(sol_depth("snapshot", 1, [["150.0", "2"], ["149.9", "1"]], [["150.5", "1"], ["150.6", "4"]]))
    Select(page.find_element(By.ID, "market-picker")).select_by_value("SOL/USDT")
    until(page, lambda: dataset(page, "#book").get("symbol") == "SOL/USDT" and dataset(page, "#book").get("seq") == "1"
          and dataset(page, "#book").get("checksumOk") == "true", message=lambda: dataset(page, "#book"))
    producer.post(sol_depth("delta", 2, [["149.8", "3"]], []))
    until(page, lambda: dataset(page, "#book").get("seq") == "2" and dataset(page, "#book").get("checksumOk") == "true")
    assert dataset(page, "#book")["gaps"] == "0"

    producer.post(sol_depth("delta", 4, [["149.7", "1"]], []))  # seq 3 never arrives
    until(page, lambda: dataset(page, "#book").get("bookState") == "stale", timeout=3,
          message=lambda: f"the book did not go stale on a feed gap: {dataset(page, '#book')}")
    until(page, lambda: "book stale (feed gap)" in text(page, "#book-checksum"), timeout=2, message=lambda: text(page, "#book-checksum"))
    until(page, lambda: dataset(page, "#book").get("gaps") == "1", timeout=2, message=lambda: dataset(page, "#book"))
    entry = page.execute_script("const li = document.querySelector('#gap-list li'); return li && {...li.dataset, text: li.textContent}")
    assert entry["symbol"] == "SOL/USDT" and entry["channel"] == "depth" and entry["reason"] == "feed-gap", entry
    assert "3–" in entry["text"], entry
    assert "depth 1" in text(page, "#gap-summary")

    producer.post(sol_depth("snapshot", 10, [["151.0", "1"]], [["151.5", "1"]]))
    until(page, lambda: dataset(page, "#book").get("bookState") == "live" and dataset(page, "#book").get("seq") == "10"
          and dataset(page, "#book").get("checksumOk") == "true", timeout=3,
          message=lambda: f"the snapshot did not heal the book: {dataset(page, '#book')}")
    until(page, lambda: "checksum ok" in text(page, "#book-checksum"), timeout=2, message=lambda: text(page, "#book-checksum"))
    assert dataset(page, "#book")["resyncs"] == "0"
    assert (dataset(page, "#book")["bestBid"], dataset(page, "#book")["bestAsk"]) == ("151.0", "151.5")

    # The same at depth 10: the book heals at the next snapshot too, its checksum holding.
    Select(page.find_element(By.ID, "book-depth")).select_by_value("10")
    until(page, lambda: dataset(page, "#book").get("depth") == "10" and dataset(page, "#book").get("bookState") == "live"
          and dataset(page, "#book").get("seq") == "10" and dataset(page, "#book").get("checksumOk") == "true",
          message=lambda: dataset(page, "#book"))
    producer.post(sol_depth("delta", 12, [["150.9", "2"]], []))  # seq 11 never arrives
    until(page, lambda: dataset(page, "#book").get("bookState") == "stale" and dataset(page, "#book").get("gaps") == "2", timeout=3,
          message=lambda: f"no feed gap at depth 10: {dataset(page, '#book')}")
    producer.post(sol_depth("snapshot", 20, [["152.0", "1"], ["151.9", "1"]], [["152.5", "1"]]))
    until(page, lambda: dataset(page, "#book").get("bookState") == "live" and dataset(page, "#book").get("seq") == "20"
          and dataset(page, "#book").get("checksumOk") == "true", timeout=3,
          message=lambda: f"the snapshot did not heal the depth-10 book: {dataset(page, '#book')}")
    assert (dataset(page, "#book")["bidLevels"], dataset(page, "#book")["bestBid"]) == ("2", "152.0")
    assert dataset(page, "#book")["resyncs"] == "0"
