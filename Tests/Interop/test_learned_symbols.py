"""`feed.symbols: "*"`: symbols are learned from the feed. A symbol the feed has never sent is
UNKNOWN_SYMBOL to a client; once a valid message names it, clients can subscribe and get its
data; a malformed symbol is refused, and past `feed.maxSymbols` new symbols are refused."""
import pytest
import requests

from auth_helpers import Conn, token
from conftest import configured_gateway


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    srv = configured_gateway(tmp_path_factory, 'feed:\n  symbols: "*"\n  maxSymbols: 3\n', env={"FEED_SOURCE": "none"})
    yield srv
    assert srv.alive()
    srv.stop()


def post(gateway, messages):
    headers = {"Authorization": f"Bearer {token('feeder', role='service')}"}
    return requests.post(f"{gateway.base}/api/v1/market", json=messages, headers=headers, timeout=5)


def tick(symbol, price="1.5"):
    return {"type": "tick", "symbol": symbol, "price": price, "bid": price, "ask": price, "volume": "1", "ts": 1718000000000}


def test_symbols_are_learned_from_the_feed(gateway):
    prices = Conn(gateway, "/prices")
    refused = prices.call("subscribe", {"symbols": ["NEW/COIN"]})
    assert refused["ok"] is False and refused["error"]["code"] == "UNKNOWN_SYMBOL", "never sent by the feed: unknown"
    assert post(gateway, [tick("NEW/COIN", "0.25")]).status_code == 202
    reply = prices.call("subscribe", {"symbols": ["NEW/COIN"]})
    assert reply["ok"] is True and reply["latest"][0]["price"] == "0.25", "learned, with its latest value"
    assert post(gateway, [tick("NEW/COIN", "0.26")]).status_code == 202
    assert prices.wait_for("price.update")["symbol"] == "NEW/COIN"
    limits = requests.get(f"{gateway.base}/api/v1/limits", timeout=5).json()
    assert limits["symbolsLearned"] is True and "NEW/COIN" in limits["symbols"]
    prices.close()


def test_malformed_and_excess_symbols_are_refused(gateway):
    bad = post(gateway, [tick("not a symbol")])
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "INVALID_FIELD"
    invalid_but_new = post(gateway, [{"type": "tick", "symbol": "HALF/DONE", "price": "1"}])
    assert invalid_but_new.status_code == 400
    assert "HALF/DONE" not in requests.get(f"{gateway.base}/api/v1/limits", timeout=5).json()["symbols"], \
        "an invalid message teaches nothing"
    refused_batch = post(gateway, [tick("GOOD/ONE"), {"type": "tick", "symbol": "GOOD/ONE"}])
    assert refused_batch.status_code == 400 and refused_batch.json()["error"]["index"] == 1
    assert "GOOD/ONE" not in requests.get(f"{gateway.base}/api/v1/limits", timeout=5).json()["symbols"], \
        "a batch refused whole teaches nothing"
    for symbol in ("TWO/COIN", "THREE/COIN"):
        assert post(gateway, [tick(symbol)]).status_code == 202
    over = post(gateway, [tick("FOUR/COIN")])
    assert over.status_code == 400 and over.json()["error"]["code"] == "UNKNOWN_SYMBOL", "feed.maxSymbols is 3"
    assert len(requests.get(f"{gateway.base}/api/v1/limits", timeout=5).json()["symbols"]) == 3
