"""Producers that retry (issue 24, part 2; docs/integration.md): an Idempotency-Key makes a
retried `POST /api/v1/users/{id}/events` answer as the first did and deliver nothing again; an
`eventId` does the same per event, in HTTP batches and in the Redis stream; a trade id sent again
by an HTTP producer is dropped. With Redis, a retry that reaches another instance is caught too."""
import json
import time
import uuid

import pytest
import requests

from auth_helpers import Conn, token
from conftest import configured_gateway, wait_until
from scrape import metric


def post(gateway, path, body, key=None, sub="producer"):
    headers = {"Authorization": f"Bearer {token(sub, role='service')}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return requests.post(f"{gateway.base}{path}", data=json.dumps(body), headers={**headers, "Content-Type": "application/json"}, timeout=5)


def events_of(conn, name="order.filled", settle=0.4):
    time.sleep(settle)  # a duplicate would arrive within this
    return [data for event, data in conn.events if event == name]


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    srv = configured_gateway(tmp_path_factory, "feed:\n  source: none\n  symbols: [BTC/USDT]\n")
    yield srv
    assert srv.alive()
    srv.stop()


def test_a_retried_request_is_answered_as_the_first_and_delivered_once(gateway):
    user = "retried-" + uuid.uuid4().hex[:8]
    trader = Conn(gateway, "/user", auth={"token": token(user)})
    body = {"event": "order.filled", "data": {"orderId": "o-1", "qty": "1"}}
    key = "fill-o-1-" + uuid.uuid4().hex
    first = post(gateway, f"/api/v1/users/{user}/events", body, key=key)
    again = post(gateway, f"/api/v1/users/{user}/events", body, key=key)
    assert first.status_code == again.status_code == 202 and first.json() == again.json() == {"accepted": True}
    assert "Idempotent-Replayed" not in first.headers and again.headers.get("Idempotent-Replayed") == "true"
    wait_until(lambda: events_of(trader, settle=0), message="the event never arrived")
    assert events_of(trader) == [{"orderId": "o-1", "qty": "1"}], "delivered once"
    assert metric(gateway, "gateway_idempotent_repeats_total", '{kind="request"}') >= 1
    # Another producer's key of the same text is its own.
    assert post(gateway, f"/api/v1/users/{user}/events", body, key=key, sub="other-producer").headers.get("Idempotent-Replayed") is None
    trader.close()


def test_a_key_reused_with_another_body_is_refused_and_applies_nothing(gateway):
    user = "reused-" + uuid.uuid4().hex[:8]
    trader = Conn(gateway, "/user", auth={"token": token(user)})
    key = uuid.uuid4().hex
    assert post(gateway, f"/api/v1/users/{user}/events", {"event": "order.new", "data": {"n": 1}}, key=key).status_code == 202
    reused = post(gateway, f"/api/v1/users/{user}/events", {"event": "order.new", "data": {"n": 2}}, key=key)
    assert reused.status_code == 422 and reused.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED", reused.text
    assert events_of(trader, "order.new") == [{"n": 1}]
    trader.close()


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "naïve"])
def test_a_malformed_key_is_refused(gateway, key):
    reply = post(gateway, "/api/v1/users/someone/events", {"event": "order.new", "data": {}}, key=key)
    assert reply.status_code == 400 and "Idempotency-Key" in reply.json()["error"]["message"], reply.text


def test_event_ids_in_batches_deliver_each_event_once_in_order(gateway):
    user = "batched-" + uuid.uuid4().hex[:8]
    trader = Conn(gateway, "/user", auth={"token": token(user)})
    batch = [{"event": "order.update", "data": {"n": n}, "eventId": f"e-{n}"} for n in range(1, 6)]
    assert post(gateway, f"/api/v1/users/{user}/events", batch).json() == {"accepted": 5}
    # The producer timed out and sends an overlapping batch: only e-6 and e-7 are new.
    retry = [{"event": "order.update", "data": {"n": n}, "eventId": f"e-{n}"} for n in range(4, 8)]
    assert post(gateway, f"/api/v1/users/{user}/events", retry).json() == {"accepted": 4}
    wait_until(lambda: len(events_of(trader, "order.update", settle=0)) >= 7, message=lambda: trader.events)
    assert [d["n"] for d in events_of(trader, "order.update")] == [1, 2, 3, 4, 5, 6, 7]
    # The same event id of another user is that user's own.
    other = "batched-other-" + uuid.uuid4().hex[:8]
    other_conn = Conn(gateway, "/user", auth={"token": token(other)})
    post(gateway, f"/api/v1/users/{other}/events", [{"event": "order.update", "data": {"n": 1}, "eventId": "e-1"}])
    wait_until(lambda: events_of(other_conn, "order.update", settle=0), message="another user's e-1 is not a repeat")
    bad = post(gateway, f"/api/v1/users/{user}/events", [{"event": "order.update", "data": {}, "eventId": 7}])
    assert bad.status_code == 400 and "eventId" in bad.json()["error"]["message"]
    trader.close()
    other_conn.close()


def test_a_trade_sent_again_is_dropped(gateway):
    prices = Conn(gateway, "/prices")
    prices.call("subscribe", {"symbols": ["BTC/USDT"]})
    trade = {"type": "trade", "symbol": "BTC/USDT", "tradeId": "t-" + uuid.uuid4().hex, "price": "1", "qty": "1", "side": "buy", "ts": 1}
    before = metric(gateway, "gateway_idempotent_repeats_total", '{kind="trade"}') or 0
    assert post(gateway, "/api/v1/market", [trade, trade]).status_code == 202
    assert post(gateway, "/api/v1/market", trade).status_code == 202
    wait_until(lambda: events_of(prices, "price.trade", settle=0), message="the trade never arrived")
    assert len(events_of(prices, "price.trade")) == 1
    assert metric(gateway, "gateway_idempotent_repeats_total", '{kind="trade"}') == before + 2
    prices.close()


def test_a_stream_entry_added_again_with_its_event_id_is_delivered_once(tmp_path_factory, redis_server):
    srv = configured_gateway(tmp_path_factory, "", env={"FEED_SOURCE": "none", "REDIS_URL": redis_server.url, "REDIS_PREFIX": "idem1:"})
    try:
        wait_until(lambda: requests.get(f"{srv.base}/health/redis", timeout=5).status_code == 200)
        user = "streamed-" + uuid.uuid4().hex[:8]
        trader = Conn(srv, "/user", auth={"token": token(user)})
        for n in (1, 1, 2, 3, 2):  # a producer that retried two of its XADDs
            redis_server.cli("XADD", "idem1:user-events", "*", "userId", user, "event", "order.update", "data", json.dumps({"n": n}), "eventId", f"x-{n}")
        redis_server.cli("XADD", "idem1:user-events", "*", "userId", user, "event", "order.update", "data", json.dumps({"n": 4}))
        wait_until(lambda: len(events_of(trader, "order.update", settle=0)) >= 4, message=lambda: trader.events)
        assert [d["n"] for d in events_of(trader, "order.update")] == [1, 2, 3, 4], "once each, in stream order"
        trader.close()
    finally:
        srv.stop()


def test_a_retry_that_reaches_another_instance_is_caught(tmp_path_factory, redis_server):
    env = {"FEED_SOURCE": "none", "REDIS_URL": redis_server.url, "REDIS_PREFIX": "idem2:"}
    a = configured_gateway(tmp_path_factory, "", env=env)
    b = configured_gateway(tmp_path_factory, "", env=env)
    try:
        for gateway in (a, b):
            wait_until(lambda: requests.get(f"{gateway.base}/health/redis", timeout=5).status_code == 200)
        wait_until(lambda: redis_server.cli("PUBSUB", "NUMSUB", "idem2:bus:all").split()[-1] == "2")
        user = "cluster-retry-" + uuid.uuid4().hex[:8]
        on_a, on_b = Conn(a, "/user", auth={"token": token(user)}), Conn(b, "/user", auth={"token": token(user)})
        time.sleep(0.5)  # both instances follow the user's channel
        body = {"event": "order.filled", "data": {"orderId": "o-9"}}
        key = uuid.uuid4().hex
        assert post(a, f"/api/v1/users/{user}/events", body, key=key).status_code == 202
        again = post(b, f"/api/v1/users/{user}/events", body, key=key)
        assert again.status_code == 202 and again.headers.get("Idempotent-Replayed") == "true"
        batch = [{"event": "order.update", "data": {"n": 1}, "eventId": "c-1"}]
        post(a, f"/api/v1/users/{user}/events", batch)
        post(b, f"/api/v1/users/{user}/events", batch)
        for conn in (on_a, on_b):
            wait_until(lambda: events_of(conn, settle=0) and events_of(conn, "order.update", settle=0), message=lambda: conn.events)
            assert events_of(conn) == [{"orderId": "o-9"}] and events_of(conn, "order.update") == [{"n": 1}]
        on_a.close()
        on_b.close()
    finally:
        a.stop()
        b.stop()
