"""Sockets that stop reading while a fast feed runs (SPEC §5 delivery policy): market data
(prices, tickers, stats, books, and trades with declared gaps) keeps a lagging socket's queue
small, what cannot be conflated (/user events) past limits.slowConsumerBytes closes it as a slow
consumer, server memory stays bounded, and a healthy socket next to it keeps getting live prices."""
import json
import statistics
import threading
import time

import pytest
import requests

from auth_helpers import SECRET, Conn, token
from book_helpers import ClientBook
from conftest import configured_gateway
from scrape import metric
from sio_raw import RawSocket


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    srv = configured_gateway(tmp_path_factory, "server:\n  socketSendBuffer: 65536\n"
        "limits:\n  slowConsumerBytes: 262144\n"
        "feed:\n  simulator:\n    ticksPerSecond: 1000\n    seed: 7\n")
    yield srv
    assert srv.alive()
    srv.stop()


class LatencyWatch:
    """A python-socketio client on /prices that records how late each price.update arrives."""

    def __init__(self, server):
        self.lags = []
        self.arrivals = []
        self.conn = Conn(server, "/prices")
        self.conn.client.on("price.update", self.on_update, namespace="/prices")
        self.conn.call("subscribe", {"symbols": ["BTC/USDT", "ETH/USDT"]})

    def on_update(self, data):
        now = time.time() * 1000
        self.lags.append(now - data["ts"])
        self.arrivals.append(now)

    def window(self, since_ms):
        return [lag for lag, at in zip(self.lags, self.arrivals) if at >= since_ms]


def test_a_stalled_market_socket_stays_small_and_others_are_unharmed(gateway):
    """Every /market stream conflates (trades with a declared gap): a socket that stops reading
    is neither closed nor allowed to grow the server, and a healthy socket beside it keeps live."""
    watch = LatencyWatch(gateway)
    time.sleep(1.0)
    baseline = statistics.median(watch.window(time.time() * 1000 - 1000))
    memory_before = metric(gateway, "process_resident_memory_bytes")
    slow_before = metric(gateway, "gateway_slow_consumer_disconnects_total")
    conflated_before = metric(gateway, "gateway_conflated_total", '{namespace="/market"}')

    stalled = RawSocket(gateway, "/market", {}, receive_buffer=4096)
    stalled.ws.send('42/market,1["subscribe",{"channels":["trades","depth"],"symbols":["BTC/USDT","ETH/USDT","SOL/USDT","XRP/USDT","DOGE/USDT"],"cadence":"raw"}]')
    started = time.time() * 1000
    time.sleep(8)  # ...and it never reads.
    assert metric(gateway, "gateway_slow_consumer_disconnects_total") == slow_before, "conflated market data alone never makes a slow consumer"
    assert metric(gateway, "gateway_conflated_total", '{namespace="/market"}') > conflated_before, "its backlog was conflated"

    during = watch.window(started)
    assert len(during) > 50, "the healthy socket kept receiving"
    gaps = [b - a for a, b in zip(watch.arrivals, watch.arrivals[1:]) if a >= started]
    assert max(gaps) < 1000, f"the healthy socket never waited a second (longest gap {max(gaps):.0f} ms)"
    assert statistics.median(during) < max(250, 5 * baseline), f"median lag {statistics.median(during):.0f} ms (baseline {baseline:.0f} ms)"
    growth = metric(gateway, "process_resident_memory_bytes") - memory_before
    assert growth < 64 * 1024 * 1024, f"resident memory grew {growth / 1e6:.1f} MB"
    stalled.close()
    watch.conn.close()


def test_unconflatable_backlog_closes_the_socket(gateway):
    """/user events are never dropped: a /user socket that stops reading while its events pile up
    past limits.slowConsumerBytes is closed as a slow consumer (they stay recoverable)."""
    slow_before = metric(gateway, "gateway_slow_consumer_disconnects_total")
    user = "stalled-reader"
    stalled = RawSocket(gateway, "/user", {"token": token(user)}, receive_buffer=4096)
    service = {"Authorization": f"Bearer {token('backend', role='service')}"}
    body = {"event": "order.update", "data": {"orderId": "o", "note": "x" * 2000}}
    session = requests.Session()
    deadline = time.time() + 60
    while time.time() < deadline and metric(gateway, "gateway_slow_consumer_disconnects_total") == slow_before:
        for _ in range(50):
            assert session.post(f"{gateway.base}/api/v1/users/{user}/events", json=body, headers=service, timeout=5).status_code == 202
    assert metric(gateway, "gateway_slow_consumer_disconnects_total") == slow_before + 1, "the stalled socket is cut off"
    stalled.close()


def test_a_lagging_book_subscriber_is_resynced_not_disconnected(gateway):
    """Depth and tickers conflate: a socket that stops reading keeps a small queue, and when it
    reads again its book is still exactly the server's (a snapshot replaces what it skipped)."""
    before = metric(gateway, "gateway_conflated_total", '{namespace="/market"}')
    slow_before = metric(gateway, "gateway_slow_consumer_disconnects_total")
    lagging = RawSocket(gateway, "/market", {}, receive_buffer=4096)
    lagging.ws.send('42/market,1["subscribe",{"channels":["depth","ticker"],"symbols":["BTC/USDT","ETH/USDT","SOL/USDT","XRP/USDT","DOGE/USDT"],"cadence":"raw"}]')
    ack = lagging.ack(1)[0]
    books = {snapshot["symbol"]: ClientBook(snapshot) for snapshot in ack["snapshots"]}
    time.sleep(5)  # not reading: kernel buffers fill, then the gateway conflates
    assert metric(gateway, "gateway_slow_consumer_disconnects_total") == slow_before, "conflatable data alone never makes a slow consumer"
    # Reading again: every depth message applies cleanly, and the socket catches up to live data.
    applied = resyncs = 0
    caught_up = False
    deadline = time.time() + 20
    while time.time() < deadline and not (caught_up and applied > 200):
        for name, args in lagging.events(50, timeout=10):
            if name != "market.depth":
                continue
            message = args[0]
            if message["type"] == "snapshot" and message["symbol"] in books:
                resyncs += 1
            books.setdefault(message["symbol"], None)
            if books[message["symbol"]] is None:
                books[message["symbol"]] = ClientBook(message)
            else:
                books[message["symbol"]].apply(message)  # asserts prevSeq chaining and the checksum
            applied += 1
            caught_up = caught_up or time.time() * 1000 - message["ts"] < 1000
    assert caught_up, "after reading again the socket gets live depth"
    assert resyncs >= 1, "skipped deltas were replaced by a snapshot"
    assert metric(gateway, "gateway_conflated_total", '{namespace="/market"}') > before, "stale depth and tickers were skipped, not queued"
    lagging.close()
