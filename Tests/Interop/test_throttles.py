"""Per-channel throttles (SPEC §5 feed.throttleMs): at most one message per symbol per interval,
the newest value last, the interval's state in the subscribe ack, and the default depth cadence
taken from the configuration."""
import time

import pytest
import requests

from auth_helpers import SECRET, Conn, token
from conftest import configured_gateway


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    srv = configured_gateway(tmp_path_factory, "feed:\n  source: none\n  throttleMs: { prices: 500, depth: 0 }\n")
    yield srv
    assert srv.alive()
    srv.stop()


def post(server, body):
    headers = {"Authorization": f"Bearer {token('producer', role='service')}"}
    r = requests.post(f"{server.base}/api/v1/market", json=body, headers=headers, timeout=5)
    assert r.status_code == 202, r.text


def tick(price, symbol="BTC/USDT"):
    return {"type": "tick", "symbol": symbol, "price": price, "bid": "1", "ask": "2", "volume": "3", "ts": 1718000000000}


def test_limits_report_the_throttles(gateway):
    limits = requests.get(f"{gateway.base}/api/v1/limits", timeout=5).json()
    assert limits["throttleMs"] == {"prices": 500, "depth": 0, "stats": 1000, "ticker": 1000}


def test_prices_are_throttled_per_symbol_with_the_newest_value_last(gateway):
    conn = Conn(gateway, "/prices")
    conn.call("subscribe", {"symbols": ["BTC/USDT", "ETH/USDT"]})
    for n in range(10):
        post(gateway, [tick(f"{100 + n}"), tick(f"{200 + n}", symbol="ETH/USDT")])
    time.sleep(1.2)
    btc = [d["price"] for e, d in conn.events if e == "price.update" and d["symbol"] == "BTC/USDT"]
    eth = [d["price"] for e, d in conn.events if e == "price.update" and d["symbol"] == "ETH/USDT"]
    assert btc[0] == "100" and btc[-1] == "109" and len(btc) <= 3, btc
    assert eth[0] == "200" and eth[-1] == "209" and len(eth) <= 3, eth
    later = Conn(gateway, "/prices")
    assert later.call("subscribe", {"symbols": ["BTC/USDT"]})["latest"][0]["price"] == "109"
    conn.close()
    later.close()


def test_the_default_depth_cadence_comes_from_the_configuration(gateway):
    conn = Conn(gateway, "/market")
    post(gateway, {"type": "depth", "symbol": "SOL/USDT", "kind": "snapshot", "seq": 1, "bids": [["10", "1"]], "asks": [["11", "1"]], "ts": 1})
    reply = conn.call("subscribe", {"channels": ["depth"], "symbols": ["SOL/USDT"]})
    assert reply["snapshots"][0]["seq"] == 1
    for seq in range(2, 7):
        post(gateway, {"type": "depth", "symbol": "SOL/USDT", "kind": "delta", "seq": seq, "bids": [["10", str(seq)]], "asks": [], "ts": seq})
    time.sleep(0.5)
    deltas = [d for e, d in conn.events if e == "market.depth"]
    assert [d["prevSeq"] for d in deltas] == [1, 2, 3, 4, 5], "depth.throttleMs 0: every delta as it comes (raw)"
    conn.close()
