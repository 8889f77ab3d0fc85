"""The public edge (docs/security.md), tried from outside as an attacker would: no token stops
the process, no user id reaches another user's events, a stranger cannot grow /metrics or the
session table, handshakes and refused CONNECTs are bounded and answered clearly, a slow Redis
does not turn into refusals, books and learned symbols are bounded, and a premium tier ends
with its token. Every test also checks that an honest client is still served."""
import json
import signal
import socket
import subprocess
import threading
import time

import pytest
import requests
import websocket

from auth_helpers import Conn, refusal, token
from conftest import configured_gateway, wait_until
from scrape import metric
from sio_raw import RawSocket


def serve(tmp_path_factory, yaml, env=None):
    return configured_gateway(tmp_path_factory, yaml, env={"FEED_SOURCE": "none", **(env or {})})


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    """Per-address throttles off, so the tests of this fixture do not meet them by accident."""
    srv = serve(tmp_path_factory, "limits:\n  handshakesPerSecondPerIp: 0\n  failedConnectsPerIpPerMinute: 0\n")
    yield srv
    assert srv.alive(), "the gateway must survive every attack"
    srv.stop()


def honest_prices_client(server):
    """An honest /prices client gets an acked ping answered."""
    conn = Conn(server, "/prices")
    assert conn.connected
    assert conn.call("ping", {})["ok"] is True
    conn.close()


def publish(server, user, event, data):
    headers = {"Authorization": f"Bearer {token('producer', role='service')}"}
    return requests.post(f"{server.base}/api/v1/users/{requests.utils.quote(user, safe='')}/events",
                         json={"event": event, "data": data}, headers=headers, timeout=5)


def raw_http(server, request_bytes):
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw:
        raw.sendall(request_bytes)
        chunks = b""
        try:
            while True:
                chunk = raw.recv(65536)
                if not chunk:
                    break
                chunks += chunk
        except (ConnectionResetError, socket.timeout):
            pass
        return chunks


# 1. Tokens whose exp would overflow a timer.

def test_a_far_future_exp_is_refused_with_a_reason_and_the_process_lives(gateway):
    message, code = refusal(gateway, "/user", auth={"token": token("u-exp", ttl=10**16)})
    assert code == "UNAUTHORIZED" and "exp is out of range" in message
    assert gateway.alive()
    honest_prices_client(gateway)


def test_a_token_valid_for_a_century_connects_and_refreshes(gateway):
    conn = Conn(gateway, "/user", auth={"token": token("u-century", ttl=100 * 365 * 86400)})
    assert conn.connected
    reply = conn.call("auth.refresh", {"token": token("u-century", ttl=200 * 365 * 86400)})
    assert reply["ok"] is True and reply["expiresAt"] > time.time() * 1000 + 150 * 365 * 86400 * 1000
    conn.close()
    assert gateway.alive()


# 2. User ids that spell other users' rooms.

SPELLERS = ["alice#offsets", "alice:x", "orders:alice", "#offsets:alice", "alice|user:bob", "*", "{alice}"]


def test_no_user_id_receives_another_users_events(gateway):
    alice = RawSocket(gateway, "/user", {"token": token("alice"), "recovery": True})
    alice_plain = RawSocket(gateway, "/user", {"token": token("alice")})
    spies = [RawSocket(gateway, "/user", {"token": token(sub), "recovery": recovery}) for sub in SPELLERS for recovery in (True, False)]
    assert publish(gateway, "alice", "order.filled", {"orderId": "o-1"}).status_code == 202
    assert alice.events(1)[0][0] == "order.filled"
    assert alice_plain.events(1)[0][0] == "order.filled"
    for spy in spies:
        assert spy.quiet(0.3), "another user's order reached a socket that is not alice's"
    # Each of those ids is a user of its own: its events reach it and no one else.
    assert publish(gateway, "alice#offsets", "wallet.update", {"balance": "1"}).status_code == 202
    assert spies[0].events(1)[0][0] == "wallet.update"
    assert alice.quiet(0.3) and alice_plain.quiet(0.3)
    for sock in [alice, alice_plain, *spies]:
        sock.close()


@pytest.mark.parametrize("sub", ["", " ", "alice bob", "a\u200bb", "a\u202eb", "x" * 1024, "e\u0301"])
def test_user_ids_outside_the_rule_are_refused_with_unauthorized(gateway, sub):
    _, code = refusal(gateway, "/user", auth={"token": token(sub)})
    assert code == "UNAUTHORIZED"


def test_producers_cannot_post_to_an_id_no_one_can_hold(gateway):
    r = publish(gateway, "x" * 200, "order.filled", {})
    assert r.status_code == 400 and "user id" in r.json()["error"]["message"]


# 3. Unknown namespaces do not grow /metrics.

def series(server, prefix):
    return [line for line in requests.get(f"{server.base}/metrics", timeout=5).text.splitlines() if line.startswith(prefix)]


def test_unknown_namespace_connects_do_not_grow_metrics(gateway):
    before = len(series(gateway, "gateway_connect_errors_total{"))
    for i in range(40):
        ws = websocket.create_connection(f"{gateway.ws_base}/socket.io/?EIO=4&transport=websocket", timeout=5)
        ws.recv()
        for j in range(3):
            ws.send(f"40/x{i}-{j},")
        ws.close()
    after = series(gateway, "gateway_connect_errors_total{")
    assert len(after) <= before + 1, "at most one 'other' series, whatever namespaces strangers name"
    assert not any("/x" in line for line in after)
    assert any('namespace="other",code="INVALID_NAMESPACE"' in line for line in after)
    honest_prices_client(gateway)


# 4. Engine.IO sessions and request heads.

def polling_handshake(server, headers=None):
    return requests.get(f"{server.base}/socket.io/", params={"EIO": "4", "transport": "polling"}, headers=headers or {}, timeout=5)


def test_sessions_per_address_are_capped_with_429_and_retry_after(tmp_path_factory):
    srv = serve(tmp_path_factory, "limits:\n  maxSessionsPerIp: 20\n  handshakesPerSecondPerIp: 0\n")
    try:
        for _ in range(20):
            assert polling_handshake(srv).status_code == 200
        over = polling_handshake(srv)
        assert over.status_code == 429 and int(over.headers["Retry-After"]) >= 1
        assert over.json()["code"] == 7
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            websocket.create_connection(f"{srv.ws_base}/socket.io/?EIO=4&transport=websocket", timeout=5)
        assert refused.value.status_code == 429
        assert metric(srv, "gateway_engine_connections", '{transport="polling"}') == 20
        assert metric(srv, "gateway_bound_refusals_total", '{bound="sessions_per_address"}') >= 2
        assert srv.alive()
    finally:
        srv.stop()


def test_sessions_per_instance_are_capped_with_503_and_retry_after(tmp_path_factory):
    srv = serve(tmp_path_factory, "limits:\n  maxSessions: 5\n  handshakesPerSecondPerIp: 0\n")
    try:
        held = [websocket.create_connection(f"{srv.ws_base}/socket.io/?EIO=4&transport=websocket", timeout=5) for _ in range(5)]
        over = polling_handshake(srv)
        assert over.status_code == 503 and int(over.headers["Retry-After"]) >= 1
        for ws in held:
            ws.close()
        wait_until(lambda: polling_handshake(srv).status_code == 200, timeout=5, message="a freed slot is not reusable")
    finally:
        srv.stop()


def test_handshake_rate_per_address_is_429_with_retry_after(tmp_path_factory):
    srv = serve(tmp_path_factory, "limits:\n  handshakesPerSecondPerIp: 5\n")
    try:
        started = time.time()
        answers = [polling_handshake(srv) for _ in range(40)]
        elapsed = time.time() - started
        refused = [a for a in answers if a.status_code == 429]
        accepted = sum(a.status_code == 200 for a in answers)
        # A burst of 5, then 5 a second: however slow this machine, no more than that got in.
        assert 5 <= accepted <= 5 + 5 * elapsed + 1 and len(refused) == 40 - accepted
        assert all(int(a.headers["Retry-After"]) >= 1 for a in refused)
        time.sleep(1.1)
        assert polling_handshake(srv).status_code == 200, "the rate refills"
    finally:
        srv.stop()


def test_oversized_headers_and_targets_are_refused_and_nothing_is_kept(gateway):
    sessions_before = metric(gateway, "gateway_engine_connections", '{transport="polling"}')
    big = polling_handshake(gateway, headers={"X-Padding": "a" * 60_000})
    assert big.status_code == 431
    long_target = requests.get(f"{gateway.base}/socket.io/", params={"EIO": "4", "transport": "polling", "pad": "b" * 5000}, timeout=5)
    assert long_target.status_code == 414
    assert metric(gateway, "gateway_engine_connections", '{transport="polling"}') == sessions_before
    # A header just under the bound is fine.
    assert polling_handshake(gateway, headers={"X-Padding": "a" * 8000}).status_code == 200
    honest_prices_client(gateway)


def test_http_connections_per_address_are_given_back(gateway):
    """The per-address cap on HTTP connections counts connections open at once, not ever made:
    1,100 requests one after the other from one address (over the cap of 1,000) are all served."""
    for _ in range(1100):
        with socket.create_connection(("127.0.0.1", gateway.port), timeout=5) as raw:
            raw.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert raw.recv(64).startswith(b"HTTP/1.1 200")


def test_http_connections_are_capped_per_address(tmp_path_factory):
    """HTTP connections (polling, the API) are tasks the listener owns, at most
    `limits.maxHttpConnectionsPerIp` per address at once: the next is closed unanswered, and a
    freed slot serves again."""
    srv = serve(tmp_path_factory, "limits:\n  maxHttpConnectionsPerIp: 5\n  handshakesPerSecondPerIp: 0\n")
    try:
        held = []
        for _ in range(5):
            raw = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
            raw.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")  # kept alive
            assert raw.recv(64).startswith(b"HTTP/1.1 200")
            held.append(raw)
        with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as extra:
            extra.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            try:
                answer = extra.recv(64)
            except ConnectionResetError:
                answer = b""
            assert answer == b"", "the sixth connection is closed unanswered"
        held.pop().close()

        def served():
            try:
                return requests.get(f"{srv.base}/health", timeout=5).status_code == 200
            except requests.ConnectionError:
                return False
        wait_until(served, timeout=5, message="a freed slot does not serve again")
        for raw in held:
            raw.close()
        # The gateway notices those closes on its own time: scrape once a slot is free.
        wait_until(served, timeout=5, message="slots are not given back")
        assert metric(srv, "gateway_bound_refusals_total", '{bound="http_connections_per_address"}') >= 1
    finally:
        srv.stop()


# 5. Refused CONNECTs: per connection, per address, and what the honest client sees.

def junk_es256_token():
    return "eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ4IiwiZXhwIjo5OTk5OTk5OTk5fQ." + "A" * 86


def test_a_connection_is_closed_after_three_refused_connects(gateway):
    ws = websocket.create_connection(f"{gateway.ws_base}/socket.io/?EIO=4&transport=websocket", timeout=5)
    ws.recv()
    refusals = 0
    try:
        for _ in range(10):
            ws.send("40/user," + json.dumps({"token": junk_es256_token()}))
        while True:
            frame = ws.recv()
            if frame.startswith("44/user,"):
                refusals += 1
            if not frame:
                break
    except (websocket.WebSocketConnectionClosedException, ConnectionError, OSError):
        pass
    assert refusals == 3, "three honest refusals, then the connection is closed"
    assert metric(gateway, "gateway_bound_refusals_total", '{bound="failed_connects_per_connection"}') >= 1


def test_a_polling_post_full_of_bad_connects_is_cut_short(gateway):
    sid = polling_handshake(gateway).text
    sid = json.loads(sid[1:])["sid"]
    packet = "40/user," + json.dumps({"token": junk_es256_token()})
    body = "\x1e".join([packet] * 2000)
    answer = requests.post(f"{gateway.base}/socket.io/", params={"EIO": "4", "transport": "polling", "sid": sid}, data=body, timeout=10)
    assert answer.status_code in (200, 400)
    follow = requests.get(f"{gateway.base}/socket.io/", params={"EIO": "4", "transport": "polling", "sid": sid}, timeout=5)
    assert follow.status_code == 400 or follow.text.count("44/user,") <= 3
    honest_prices_client(gateway)


def test_refused_connects_are_throttled_per_address_before_any_token_check(tmp_path_factory):
    srv = serve(tmp_path_factory, "limits:\n  failedConnectsPerIpPerMinute: 5\n  handshakesPerSecondPerIp: 0\n")
    try:
        honest = Conn(srv, "/user", auth={"token": token("honest")})
        assert honest.connected
        for _ in range(5):
            _, code = refusal(srv, "/user", auth={"token": junk_es256_token()})
            assert code == "UNAUTHORIZED"
        # The bucket is empty: even a valid token is refused, without a look at it.
        message, code = refusal(srv, "/user", auth={"token": token("late")})
        assert code == "RATE_LIMIT" and "try again" in message
        assert metric(srv, "gateway_bound_refusals_total", '{bound="failed_connects_per_address"}') >= 1
        # The connected client is served throughout.
        for _ in range(20):
            assert honest.call("ping", {})["ok"] is True
        honest.close()
    finally:
        srv.stop()


def test_shutdown_does_not_wait_for_polling_sessions_nobody_polls(tmp_path_factory):
    srv = serve(tmp_path_factory, "server:\n  drainSeconds: 10\nlimits:\n  handshakesPerSecondPerIp: 0\n  failedConnectsPerIpPerMinute: 0\n")
    for _ in range(20):
        sid = json.loads(polling_handshake(srv).text[1:])["sid"]
        # One refused CONNECT each: an error packet queued for a client that never polls again.
        requests.post(f"{srv.base}/socket.io/", params={"EIO": "4", "transport": "polling", "sid": sid},
                      data="40/user," + json.dumps({"token": "junk"}), timeout=5)
    started = time.time()
    srv.process.send_signal(signal.SIGTERM)
    srv.process.wait(timeout=15)
    assert srv.process.returncode == 0
    assert time.time() - started < 5, "shutdown waited for data nobody can receive"


# 6. A paused Redis.

def test_a_paused_redis_does_not_refuse_or_hold_legitimate_events(tmp_path_factory, redis_server):
    srv = serve(tmp_path_factory, "", env={"REDIS_URL": redis_server.url})
    try:
        conn = Conn(srv, "/user", auth={"token": token("paused-redis")})
        assert conn.connected
        assert conn.call("ping", {})["ok"] is True
        redis_server.cli("CLIENT", "PAUSE", "3000", "ALL")
        started = time.time()
        answers, slowest = [], 0.0
        while time.time() - started < 2.5:
            sent = time.time()
            answers.append(conn.call("ping", {}, timeout=5))
            slowest = max(slowest, time.time() - sent)
            time.sleep(0.03)
        assert all(a["ok"] is True for a in answers), [a for a in answers if not a["ok"]][:3]
        assert slowest < 1.5, f"an event waited {slowest:.2f} s for a paused Redis"
        assert metric(srv, "gateway_rate_limit_local_total", '{reason="slow"}') >= 1
        conn.close()
    finally:
        srv.stop()


# 7. Books and learned symbols.

def post_market(server, messages):
    headers = {"Authorization": f"Bearer {token('feeder', role='service')}"}
    return requests.post(f"{server.base}/api/v1/market", json=messages, headers=headers, timeout=10)


def test_book_levels_are_bounded_per_side(tmp_path_factory):
    srv = serve(tmp_path_factory, "feed:\n  maxBookLevels: 50\n  throttleMs: { depth: 0 }\n")
    try:
        bids = [[f"{100 - i * 0.01:.2f}", "1"] for i in range(200)]
        asks = [[f"{101 + i * 0.01:.2f}", "1"] for i in range(200)]
        snapshot = {"type": "depth", "symbol": "BTC/USDT", "kind": "snapshot", "seq": 1, "bids": bids, "asks": asks, "ts": 1}
        assert post_market(srv, [snapshot]).status_code == 202
        seq = 1
        for batch in range(5):
            deltas = []
            for _ in range(100):
                seq += 1
                deep = [[f"{50 - seq * 0.001:.3f}", "2"] for _ in range(1)]
                deltas.append({"type": "depth", "symbol": "BTC/USDT", "kind": "delta", "seq": seq, "bids": deep, "asks": [], "ts": seq})
            assert post_market(srv, deltas).status_code == 202
        market = Conn(srv, "/market")
        reply = market.call("subscribe", {"channels": ["depth"], "symbols": ["BTC/USDT"], "cadence": "raw"})
        assert reply["ok"] is True
        book = reply["snapshots"][0]
        assert len(book["bids"]) == 50 and len(book["asks"]) == 50
        assert book["bids"][0] == ["100.00", "1"], "the best levels are the ones kept"
        assert metric(srv, "gateway_bound_refusals_total", '{bound="book_levels"}') >= 650
        market.close()
    finally:
        srv.stop()


def test_idle_learned_symbols_are_forgotten_unless_subscribed(tmp_path_factory):
    srv = serve(tmp_path_factory, 'feed:\n  symbols: "*"\n  maxSymbols: 3\n  learnedSymbolIdleSeconds: 1\n')
    try:
        def tick(symbol):
            return {"type": "tick", "symbol": symbol, "price": "1", "bid": "1", "ask": "1", "volume": "1", "ts": 1}
        assert post_market(srv, [tick("AAA/USD"), tick("BBB/USD"), tick("CCC/USD")]).status_code == 202
        assert post_market(srv, [tick("DDD/USD")]).status_code == 400, "at feed.maxSymbols"
        watcher = Conn(srv, "/prices")
        assert watcher.call("subscribe", {"symbols": ["AAA/USD"]})["ok"] is True
        wait_until(lambda: post_market(srv, [tick("DDD/USD")]).status_code == 202, timeout=5,
                   message="idle symbols were never forgotten")
        known = requests.get(f"{srv.base}/api/v1/limits", timeout=5).json()["symbols"]
        assert "AAA/USD" in known, "a subscribed symbol is kept"
        watcher.close()
    finally:
        srv.stop()


# 8. A premium tier ends with its token.

def test_premium_channels_end_when_the_token_expires(tmp_path_factory):
    srv = configured_gateway(tmp_path_factory, "tiers:\n  premiumChannels: [depth]\njwt:\n  expiryWarningSeconds: 1\n")
    try:
        market = Conn(srv, "/market", auth={"token": token("trader", tier="premium", ttl=3)})
        assert market.call("subscribe", {"channels": ["depth", "trades"], "symbols": ["BTC/USDT"]})["ok"] is True
        error = market.wait_for("error", timeout=8)
        assert error["code"] == "TOKEN_EXPIRED" and "depth" in error["message"]
        again = market.call("subscribe", {"channels": ["depth"], "symbols": ["BTC/USDT"]})
        assert again["ok"] is False and again["error"]["code"] == "FORBIDDEN"
        assert market.connected, "the socket stays, without the premium tier"
        refreshed = market.call("auth.refresh", {"token": token("trader", tier="premium", ttl=3600)})
        assert refreshed["ok"] is True
        assert market.call("subscribe", {"channels": ["depth"], "symbols": ["BTC/USDT"]})["ok"] is True
        market.close()
    finally:
        srv.stop()
