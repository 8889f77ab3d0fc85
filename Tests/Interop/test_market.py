"""Live market data from the built-in simulator, as a trading UI sees it: prices within a second
of connecting, state on subscribe, and an order book rebuilt from the stream that always matches
the server's checksum (snapshot, then deltas whose prevSeq chains)."""
import time

import pytest

from auth_helpers import SECRET, Conn, token
from book_helpers import ClientBook
from conftest import configured_gateway


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    srv = configured_gateway(tmp_path_factory, "feed:\n  source: simulator\n  simulator:\n    ticksPerSecond: 200\n    seed: 42\n")
    yield srv
    assert srv.alive()
    srv.stop()


def test_live_prices_within_a_second(gateway):
    conn = Conn(gateway, "/prices")
    started = time.time()
    reply = conn.call("subscribe", {"symbols": ["BTC/USDT", "ETH/USDT"]})
    assert reply["ok"] is True
    update = conn.wait_for("price.update", timeout=1.5)
    assert time.time() - started < 1.5
    assert update["symbol"] in ("BTC/USDT", "ETH/USDT")
    assert isinstance(update["price"], str) and float(update["bid"]) < float(update["ask"])
    assert update["ts"] > 1.7e12
    conn.close()


def test_subscribe_ack_carries_the_latest_price(gateway):
    time.sleep(0.5)
    conn = Conn(gateway, "/prices")
    reply = conn.call("subscribe", {"symbols": ["SOL/USDT"]})
    assert len(reply["latest"]) == 1 and reply["latest"][0]["symbol"] == "SOL/USDT"
    conn.close()


def test_only_subscribed_symbols_arrive(gateway):
    conn = Conn(gateway, "/prices")
    conn.call("subscribe", {"symbols": ["XRP/USDT"]})
    time.sleep(1.0)
    symbols = {data["symbol"] for event, data in conn.events if event in ("price.update", "price.trade")}
    assert symbols == {"XRP/USDT"}
    conn.close()


def rebuild_for(conn, book, seconds, skip=0):
    """Applies every market.depth that arrives for `seconds`; returns how many."""
    deadline = time.time() + seconds
    applied = 0
    while time.time() < deadline:
        with conn.cond:
            pending = [d for e, d in conn.events if e == "market.depth"]
        for message in pending[applied + skip:]:
            book.apply(message)
            applied += 1
        time.sleep(0.1)
    return applied


# (cadence, least deltas in 3 s, most deltas in 3 s)
CADENCES = [("raw", 20, 10_000), ("100ms", 8, 33), ("1000ms", 2, 5)]


@pytest.mark.parametrize("cadence,least,most", CADENCES)
@pytest.mark.parametrize("with_ack", [True, False])
def test_depth_snapshot_then_chained_deltas_rebuild_the_book(gateway, with_ack, cadence, least, most):
    conn = Conn(gateway, "/market", auth={"token": token("u-depth", tier="premium")})
    request = {"channels": ["depth"], "symbols": ["BTC/USDT"], "cadence": cadence}
    if with_ack:
        reply = conn.call("subscribe", request)
        assert reply["ok"] is True and len(reply["snapshots"]) == 1
        book = ClientBook(reply["snapshots"][0])
    else:
        conn.emit("subscribe", request)
        assert conn.wait_for("subscription.confirmed")["channels"] == ["depth"]
        book = ClientBook(conn.wait_for("market.depth"))
    applied = rebuild_for(conn, book, 3, skip=0 if with_ack else 1)
    assert least <= applied <= most, f"{applied} depth messages in 3 s at cadence {cadence}"
    assert len(book.bids) > 10 and len(book.asks) > 10
    conn.close()


def test_a_new_cadence_replaces_the_old_one_and_still_chains(gateway):
    conn = Conn(gateway, "/market", auth={"token": token("u-cadence", tier="premium")})
    conn.call("subscribe", {"channels": ["depth"], "symbols": ["ETH/USDT"], "cadence": "raw"})
    time.sleep(0.5)
    reply = conn.call("subscribe", {"channels": ["depth"], "symbols": ["ETH/USDT"], "cadence": "1000ms"})
    with conn.cond:
        conn.events.clear()
    book = ClientBook(reply["snapshots"][0])
    applied = rebuild_for(conn, book, 2.5)
    assert 1 <= applied <= 4, f"only the 1000ms stream remains ({applied} in 2.5 s)"
    conn.call("unsubscribe", {"channels": ["depth"], "symbols": ["ETH/USDT"]})
    time.sleep(0.3)
    with conn.cond:
        conn.events.clear()
    time.sleep(1.5)
    assert not any(e == "market.depth" for e, _ in conn.events), "unsubscribe leaves every cadence"
    conn.close()


def test_trades_ticker_and_stats_channels(gateway):
    conn = Conn(gateway, "/market")
    reply = conn.call("subscribe", {"channels": ["trades", "ticker", "stats"], "symbols": ["ETH/USDT"]})
    assert reply["ok"] is True
    trades = conn.wait_for("market.trades", timeout=3)
    assert trades["symbol"] == "ETH/USDT" and trades["trades"][0]["side"] in ("buy", "sell")
    ticker = conn.wait_for("market.ticker", timeout=4)
    assert ticker["symbol"] == "ETH/USDT" and "last" in ticker and "change24h" in ticker
    stats = conn.wait_for("market.stats", timeout=4)
    assert {"open", "high", "low", "last", "volume", "quoteVolume", "change", "changePercent", "ts"} <= set(stats)
    # The simulator makes ~2 tickers/s per symbol at this rate; the gateway sends at most 1/s.
    before = sum(1 for e, _ in conn.events if e == "market.ticker")
    time.sleep(3.0)
    during = sum(1 for e, _ in conn.events if e == "market.ticker") - before
    assert 1 <= during <= 4, f"{during} tickers in 3 s"
    conn.close()
