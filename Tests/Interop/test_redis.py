"""Redis as a producer (SPEC §6, §8) against a real redis-server: the market feed over
SUBSCRIBE {prefix}feed, user events over the stream {prefix}user-events, bad messages skipped
and counted, and an outage that flips health, metrics and admin alerts, then heals by itself."""
import json
import time

import pytest
import requests

from auth_helpers import SECRET, Conn, token
from conftest import configured_gateway, wait_until
from scrape import metric

PREFIX = "gw-test:"


@pytest.fixture(scope="module")
def gateway(redis_server, tmp_path_factory):
    srv = configured_gateway(tmp_path_factory, "feed:\n  stallAlertSeconds: 2\n", env={
        "FEED_SOURCE": "redis",
        "REDIS_URL": redis_server.url, "REDIS_PREFIX": PREFIX,
    })
    wait_until(lambda: requests.get(f"{srv.base}/health/redis", timeout=5).status_code == 200)
    yield srv
    assert srv.alive()
    srv.stop()


def tick(symbol="BTC/USDT", price="64000.10", ts=1718000000123.456):
    return {"type": "tick", "symbol": symbol, "price": price, "bid": "63999.5", "ask": 64000.5, "volume": "3", "ts": ts}


def test_health_and_metric_say_redis_is_up(gateway):
    assert requests.get(f"{gateway.base}/health/redis", timeout=5).json() == {"status": "up"}
    assert metric(gateway, "gateway_redis_up") == 1 and metric(gateway, "gateway_redis_configured") == 1


def test_feed_messages_published_to_redis_reach_subscribers_unchanged(gateway, redis_server):
    conn = Conn(gateway, "/prices")
    conn.call("subscribe", {"symbols": ["BTC/USDT"]})
    redis_server.cli("PUBLISH", PREFIX + "feed", json.dumps(tick()))
    update = conn.wait_for("price.update")
    # The producer's fields as it wrote them, plus the gateway's tick sequence (docs/market-data.md).
    assert isinstance(update.pop("seq"), int)
    assert update == {"symbol": "BTC/USDT", "price": "64000.10", "bid": "63999.5", "ask": 64000.5, "volume": "3", "ts": 1718000000123.456}
    assert metric(gateway, "gateway_feed_messages_total", '{source="redis",type="tick"}') >= 1
    conn.close()


def test_a_bad_redis_feed_message_is_skipped_and_counted(gateway, redis_server):
    conn = Conn(gateway, "/prices")
    conn.call("subscribe", {"symbols": ["ETH/USDT"]})
    before = metric(gateway, "gateway_feed_rejected_total", '{source="redis",reason="unknown_symbol"}')
    not_json = metric(gateway, "gateway_feed_rejected_total", '{source="redis",reason="invalid_json"}')
    redis_server.cli("PUBLISH", PREFIX + "feed", json.dumps(tick("NOPE/USDT")))
    redis_server.cli("PUBLISH", PREFIX + "feed", "{not json")
    redis_server.cli("PUBLISH", PREFIX + "feed", json.dumps(tick("ETH/USDT", price="3000")))
    assert conn.wait_for("price.update")["price"] == "3000", "the good message after bad ones still arrives"
    assert metric(gateway, "gateway_feed_rejected_total", '{source="redis",reason="unknown_symbol"}') == before + 1
    assert metric(gateway, "gateway_feed_rejected_total", '{source="redis",reason="invalid_json"}') == not_json + 1
    conn.close()


def test_user_events_from_the_stream_arrive_in_order_to_that_user_only(gateway, redis_server):
    owner = Conn(gateway, "/user", auth={"token": token("stream-user")})
    other = Conn(gateway, "/user", auth={"token": token("someone-else")})
    assert owner.connected and other.connected
    for n in range(40):
        redis_server.cli("XADD", PREFIX + "user-events", "*", "userId", "stream-user", "event", "order.update",
                         "data", json.dumps({"orderId": "o1", "n": n}))
    deadline = time.time() + 10
    while time.time() < deadline and sum(1 for e, _ in owner.events if e == "order.update") < 40:
        time.sleep(0.05)
    got = [data["n"] for event, data in owner.events if event == "order.update"]
    assert got == list(range(40)), "every stream entry once, in order"
    assert not any(e == "order.update" for e, _ in other.events), "never to another user"
    owner.close()
    other.close()


def test_a_bad_stream_entry_is_skipped_and_counted(gateway, redis_server):
    owner = Conn(gateway, "/user", auth={"token": token("stream-user-2")})
    before = metric(gateway, "gateway_feed_rejected_total", '{source="redis-user-events",reason="unknown_event"}')
    redis_server.cli("XADD", PREFIX + "user-events", "*", "userId", "stream-user-2", "event", "order.teleported", "data", "{}")
    redis_server.cli("XADD", PREFIX + "user-events", "*", "userId", "stream-user-2", "event", "wallet.update",
                     "data", json.dumps({"asset": "BTC"}))
    assert owner.wait_for("wallet.update") == {"asset": "BTC"}
    assert metric(gateway, "gateway_feed_rejected_total", '{source="redis-user-events",reason="unknown_event"}') == before + 1
    owner.close()


def test_feed_stall_and_resume_are_announced_to_admins(gateway, redis_server):
    admin = Conn(gateway, "/admin", auth={"token": token("ops", role="admin")})
    assert admin.connected
    # stallAlertSeconds is 2 and nothing is published; the check runs every second.
    wait_until(lambda: any(e == "admin.alert" and "Feed stalled" in d["message"] and d["level"] == "warning"
                           for e, d in admin.events), timeout=8)
    redis_server.cli("PUBLISH", PREFIX + "feed", json.dumps(tick()))
    wait_until(lambda: any(e == "admin.alert" and "Feed resumed" in d["message"] for e, d in admin.events))
    admin.close()


def test_an_outage_is_reported_and_heals_by_itself(gateway, redis_server):
    admin = Conn(gateway, "/admin", auth={"token": token("ops", role="admin")})
    prices = Conn(gateway, "/prices")
    prices.call("subscribe", {"symbols": ["SOL/USDT"]})
    redis_server.stop()
    wait_until(lambda: requests.get(f"{gateway.base}/health/redis", timeout=5).status_code == 503)
    assert requests.get(f"{gateway.base}/health/redis", timeout=5).json() == {"status": "down"}
    assert metric(gateway, "gateway_redis_up") == 0
    assert admin.call("admin.command", {"command": "stats"})["stats"]["redis"] == "down"
    wait_until(lambda: any(e == "admin.alert" and d["level"] == "critical" and "Redis lost" in d["message"] for e, d in admin.events))
    assert prices.call("ping")["ok"] is True, "local clients are still served"

    redis_server.start()
    wait_until(lambda: requests.get(f"{gateway.base}/health/redis", timeout=5).status_code == 200)
    assert metric(gateway, "gateway_redis_up") == 1
    wait_until(lambda: any(e == "admin.alert" and "reachable again" in d["message"] for e, d in admin.events))
    # The subscription is back too: a message published now arrives.
    wait_until(lambda: redis_server.cli("PUBSUB", "NUMSUB", PREFIX + "feed").split()[-1] == "1")
    redis_server.cli("PUBLISH", PREFIX + "feed", json.dumps(tick("SOL/USDT", price="150.25")))
    assert prices.wait_for("price.update")["price"] == "150.25"
    admin.close()
    prices.close()


def test_redis_missing_at_start_up_is_waited_for(tmp_path_factory):
    """The gateway starts without Redis (health says down, local clients are served) and picks
    it up when it appears, telling admins once."""
    from conftest import RedisServer, free_port
    port = free_port()
    gateway = configured_gateway(tmp_path_factory, "", env={"REDIS_URL": f"redis://127.0.0.1:{port}", "FEED_SOURCE": "none"})
    redis = None
    try:
        wait_until(lambda: requests.get(f"{gateway.base}/health/redis", timeout=5).status_code == 503)
        admin = Conn(gateway, "/admin", auth={"token": token("ops", role="admin")})
        assert admin.connected, "the gateway serves clients while Redis is missing"
        redis = RedisServer(port=port)
        wait_until(lambda: requests.get(f"{gateway.base}/health/redis", timeout=5).status_code == 200)
        wait_until(lambda: any(e == "admin.alert" and "reachable again" in d["message"] for e, d in admin.events))
        assert not any(e == "admin.alert" and "Redis lost" in d["message"] for e, d in admin.events), \
            "being down at start-up is not a loss"
        admin.close()
    finally:
        gateway.stop()
        if redis:
            redis.stop()
