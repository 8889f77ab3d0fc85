"""SPEC §3–§4 behaviour of the namespaces through python-socketio: subscribe contracts with and
without acks, limits at their edges (one under, at, one over) applied all-or-nothing, connection
caps, tier gating and token-bucket rate limits that unblock after the block duration."""
import re
import time

import pytest
import requests

from auth_helpers import SECRET, Conn, refusal, token
from conftest import configured_gateway


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    srv = configured_gateway(tmp_path_factory, "tiers:\n  premiumChannels: [depth]\nlimits:\n  maxRoomsPerNamespace: 4\n", env={
        "FEED_SOURCE": "none",  # no market state: exact acks
        "WS_MAX_SYMBOLS_PER_CONNECTION": "3", "WS_MAX_CHANNELS_PER_USER": "4", "WS_MAX_CONNECTIONS_PER_USER": "2",
        # 20 events per 60 s: refill is too slow to blur the edges however slow the machine is.
        "WS_RATE_LIMIT_POINTS": "20", "WS_RATE_LIMIT_DURATION": "60", "WS_RATE_LIMIT_BLOCK": "2",
    })
    yield srv
    assert srv.alive()
    srv.stop()


def gauge(server, name, namespace):
    text = requests.get(f"{server.base}/metrics", timeout=5).text
    match = re.search(rf'^{name}{{namespace="{re.escape(namespace)}"}} ([0-9.]+)$', text, re.M)
    return float(match.group(1)) if match else 0.0


def test_prices_subscribe_with_ack_carries_state(gateway):
    conn = Conn(gateway, "/prices")
    reply = conn.call("subscribe", {"symbols": ["BTC/USDT", "ETH/USDT"]})
    assert reply == {"ok": True, "symbols": ["BTC/USDT", "ETH/USDT"], "latest": []}
    assert conn.call("unsubscribe", {"symbols": ["ETH/USDT"]}) == {"ok": True, "symbols": ["ETH/USDT"]}
    conn.close()


def test_subscribe_without_ack_confirms_or_emits_error(gateway):
    conn = Conn(gateway, "/prices")
    conn.emit("subscribe", {"symbols": ["SOL/USDT"]})
    assert conn.wait_for("subscription.confirmed") == {"namespace": "/prices", "symbols": ["SOL/USDT"]}
    conn.emit("subscribe", {"symbols": ["NOPE/USDT"]})
    error = conn.wait_for("error")
    assert error["code"] == "UNKNOWN_SYMBOL" and error["event"] == "subscribe" and "NOPE/USDT" in error["message"]
    conn.close()


@pytest.mark.parametrize("payload,code", [
    (None, "INVALID_PAYLOAD"), ("BTC/USDT", "INVALID_PAYLOAD"), ({"symbols": []}, "INVALID_PAYLOAD"),
    ({"symbols": "BTC/USDT"}, "INVALID_PAYLOAD"), ({"symbols": [1]}, "INVALID_PAYLOAD"),
    ({"symbols": ["BTC/USDT", "NOPE"]}, "UNKNOWN_SYMBOL"),
])
def test_bad_subscribe_payloads(gateway, payload, code):
    conn = Conn(gateway, "/prices")
    reply = conn.call("subscribe", payload)
    assert reply["ok"] is False and reply["error"]["code"] == code and reply["error"]["message"]
    conn.close()


def test_unknown_event_everywhere(gateway):
    for namespace, auth in [("/", None), ("/prices", None), ("/market", None), ("/user", {"token": token("u-ev")}),
                            ("/admin", {"token": token("adm", role="admin")})]:
        conn = Conn(gateway, namespace, auth=auth)
        assert conn.call("ping", {})["ok"] is True
        reply = conn.call("no.such.event", {})
        assert reply["error"]["code"] == "UNKNOWN_EVENT", namespace
        conn.close()


def test_symbols_per_connection_limit_at_its_edges(gateway):
    conn = Conn(gateway, "/prices")
    before = gauge(gateway, "gateway_subscriptions", "/prices")
    assert conn.call("subscribe", {"symbols": ["BTC/USDT", "ETH/USDT"]})["ok"] is True       # 2 of 3: one under
    assert conn.call("subscribe", {"symbols": ["SOL/USDT"]})["ok"] is True                   # 3 of 3: at
    over = conn.call("subscribe", {"symbols": ["XRP/USDT", "BTC/USDT"]})                     # 4: one over
    assert over["ok"] is False and over["error"]["code"] == "SUBSCRIPTION_LIMIT"
    assert gauge(gateway, "gateway_subscriptions", "/prices") == before + 3                   # nothing applied
    assert conn.call("subscribe", {"symbols": ["BTC/USDT"]})["ok"] is True                   # re-subscribing is free
    conn.close()


def test_channels_per_user_quota_spans_sockets_and_is_all_or_nothing(gateway):
    uid = "u-quota"
    first = Conn(gateway, "/prices", auth={"token": token(uid)})
    second = Conn(gateway, "/market", auth={"token": token(uid)})
    assert first.call("subscribe", {"symbols": ["BTC/USDT", "ETH/USDT", "SOL/USDT"]})["ok"] is True   # 3 of 4
    over = second.call("subscribe", {"channels": ["trades", "ticker"], "symbols": ["BTC/USDT"]})       # 5 of 4
    assert over["error"]["code"] == "SUBSCRIPTION_LIMIT"
    assert second.call("subscribe", {"channels": ["trades"], "symbols": ["BTC/USDT"]})["ok"] is True  # 4 of 4
    assert second.call("subscribe", {"channels": ["ticker"], "symbols": ["BTC/USDT"]})["error"]["code"] == "SUBSCRIPTION_LIMIT"
    first.close()                                                                                     # frees 3
    time.sleep(0.3)
    assert second.call("subscribe", {"channels": ["ticker"], "symbols": ["BTC/USDT"]})["ok"] is True
    second.close()


def test_market_rooms_per_connection_and_channels(gateway):
    conn = Conn(gateway, "/market")
    reply = conn.call("subscribe", {"channels": ["trades", "ticker"], "symbols": ["BTC/USDT", "ETH/USDT"]})  # 4 of 4
    assert reply["ok"] is True and reply["latest"] == []
    assert conn.call("subscribe", {"channels": ["stats"], "symbols": ["BTC/USDT"]})["error"]["code"] == "SUBSCRIPTION_LIMIT"
    assert conn.call("subscribe", {"channels": ["candles"], "symbols": ["BTC/USDT"]})["error"]["code"] == "UNKNOWN_CHANNEL"
    assert conn.call("subscribe", {"channels": ["trades"], "symbols": ["BTC/USDT"], "cadence": "5ms"})["error"]["code"] == "INVALID_PAYLOAD"
    assert conn.call("unsubscribe", {"channels": ["ticker"], "symbols": ["ETH/USDT"]})["ok"] is True
    assert conn.call("subscribe", {"channels": ["stats"], "symbols": ["BTC/USDT"]})["ok"] is True
    conn.close()


def test_premium_channels_need_a_premium_token(gateway):
    free = Conn(gateway, "/market", auth={"token": token("u-free")})
    reply = free.call("subscribe", {"channels": ["depth"], "symbols": ["BTC/USDT"]})
    assert reply["error"]["code"] == "FORBIDDEN"
    anonymous = Conn(gateway, "/market")
    assert anonymous.call("subscribe", {"channels": ["depth"], "symbols": ["BTC/USDT"]})["error"]["code"] == "FORBIDDEN"
    premium = Conn(gateway, "/market", auth={"token": token("u-prem", tier="premium")})
    ok = premium.call("subscribe", {"channels": ["depth"], "symbols": ["BTC/USDT"], "cadence": "raw"})
    assert ok == {"ok": True, "channels": ["depth"], "symbols": ["BTC/USDT"], "snapshots": []}
    for conn in (free, anonymous, premium):
        conn.close()


def test_user_channels_narrow_and_restore(gateway):
    conn = Conn(gateway, "/user", auth={"token": token("u-chan")})
    assert conn.call("unsubscribe", {"channels": ["wallet", "positions"]}) == {"ok": True, "channels": ["orders"]}
    assert conn.call("subscribe", {"channels": ["wallet"]}) == {"ok": True, "channels": ["orders", "wallet"]}
    assert conn.call("subscribe", {"channels": ["candles"]})["error"]["code"] == "UNKNOWN_CHANNEL"
    # There is no way to name another user: extra fields are ignored, the rooms stay our own.
    assert conn.call("subscribe", {"channels": ["positions"], "userId": "someone-else"}) == {
        "ok": True, "channels": ["orders", "positions", "wallet"]}
    conn.close()


def test_connections_per_user_cap(gateway):
    first = Conn(gateway, "/user", auth={"token": token("u-cap")})
    second = Conn(gateway, "/user", auth={"token": token("u-cap")})
    assert first.connected and second.connected
    message, code = refusal(gateway, "/user", auth={"token": token("u-cap")})
    assert code == "CONNECTION_LIMIT" and "2" in message
    other = Conn(gateway, "/user", auth={"token": token("u-other")})
    assert other.connected
    first.close()
    time.sleep(0.3)
    third = Conn(gateway, "/user", auth={"token": token("u-cap")})
    assert third.connected
    for conn in (second, other, third):
        conn.close()


def test_rate_limit_blocks_then_unblocks(gateway):
    conn = Conn(gateway, "/prices")
    replies = [conn.call("ping", {}) for _ in range(20)]                 # 20 of 20 allowed
    assert all(r["ok"] for r in replies)
    refused = conn.call("ping", {})                                       # one over
    assert refused["ok"] is False and refused["error"]["code"] == "RATE_LIMIT"
    assert 1000 <= refused["error"]["retryAfterMs"] <= 2000
    blocked = conn.call("ping", {})                                        # blocked meanwhile
    assert blocked["error"]["code"] == "RATE_LIMIT"
    time.sleep(2.1)
    replies = [conn.call("ping", {}) for _ in range(20)]                  # unblocked, with a full bucket
    assert all(r["ok"] for r in replies)
    assert conn.call("ping", {})["error"]["code"] == "RATE_LIMIT"
    other = Conn(gateway, "/prices")                                        # another connection was never affected
    assert other.call("ping", {})["ok"] is True
    conn.close()
    other.close()


def test_rate_limit_key_is_the_user_across_sockets(gateway):
    a = Conn(gateway, "/prices", auth={"token": token("u-rl")})
    b = Conn(gateway, "/prices", auth={"token": token("u-rl")})
    for _ in range(10):
        assert a.call("ping", {})["ok"]
        assert b.call("ping", {})["ok"]
    assert a.call("ping", {})["error"]["code"] == "RATE_LIMIT"
    assert b.call("ping", {})["error"]["code"] == "RATE_LIMIT"
    a.close()
    b.close()


def test_rate_limited_events_without_ack_get_an_error_event(gateway):
    conn = Conn(gateway, "/prices")
    for _ in range(21):
        conn.emit("ping", {})
    error = conn.wait_for("error")
    assert error["code"] == "RATE_LIMIT" and error["retryAfterMs"] > 0 and error["event"] == "ping"
    text = requests.get(f"{gateway.base}/metrics", timeout=5).text
    assert re.search(r'gateway_rate_limited_total\{namespace="/prices"\} [1-9]', text)
    conn.close()
