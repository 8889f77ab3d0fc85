"""The browser dashboard at /dashboard, in a real browser (headless Chromium via Selenium):
prices move, the book renders and its checksum holds, the admin view shows live stats and its
broadcast reaches a python-socketio client. It runs against the copy built into the binary."""
import os
import re
import time
import uuid

import pytest
import requests
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from auth_helpers import Conn, token
from book_helpers import ClientBook
from browser_helpers import browser, dataset, text
from conftest import configured_gateway, wait_until

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


def test_book_renders_and_its_checksum_holds(page):
    until(page, lambda: dataset(page, "#book").get("checksumOk") == "true", message="the book never checked out")
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
