"""Producers' HTTP API: market messages (one or a batch, refused whole with the bad index),
depth gaps resynced by snapshot, and per-user events delivered only to that user's sockets."""
import os
import re
import time

import pytest
import requests

from auth_helpers import SECRET, Conn, token
from conftest import Server


@pytest.fixture(scope="module")
def gateway():
    srv = Server("gateway", ["serve"], env={"JWT_SECRET": SECRET, "LOG_LEVEL": "warning", "FEED_SOURCE": "none"})
    yield srv
    assert srv.alive()
    srv.stop()


def post(server, path, body, role="service"):
    headers = {"Authorization": f"Bearer {token('producer', role=role)}"} if role else {}
    return requests.post(f"{server.base}{path}", json=body, headers=headers, timeout=5)


def tick(symbol="BTC/USDT", price="64000.10", ts=1718000000123.456):
    return {"type": "tick", "symbol": symbol, "price": price, "bid": 63999.5, "ask": "64000.50", "volume": "12.5", "ts": ts}


def test_a_tick_reaches_subscribers_unchanged(gateway):
    conn = Conn(gateway, "/prices")
    conn.call("subscribe", {"symbols": ["BTC/USDT"]})
    r = post(gateway, "/api/v1/market", tick())
    assert r.status_code == 202 and r.json() == {"accepted": 1}
    update = conn.wait_for("price.update")
    # The producer's fields as it wrote them, plus the gateway's tick sequence (docs/market-data.md).
    assert isinstance(update.get("seq"), int) and update["seq"] >= 1
    assert {k: v for k, v in update.items() if k != "seq"} == {
        "symbol": "BTC/USDT", "price": "64000.10", "bid": 63999.5, "ask": "64000.50", "volume": "12.5", "ts": 1718000000123.456}
    later = Conn(gateway, "/prices")
    assert later.call("subscribe", {"symbols": ["BTC/USDT"]})["latest"] == [update]
    time.sleep(0.3)
    assert not any(e == "price.update" for e, _ in later.events), "with an ack the state comes only in the ack"
    silent = Conn(gateway, "/prices")
    silent.emit("subscribe", {"symbols": ["BTC/USDT"]})
    assert silent.wait_for("price.update") == update, "without an ack the state follows as an event"
    conn.close()
    later.close()
    silent.close()


def test_a_batch_with_one_bad_item_is_refused_whole(gateway):
    conn = Conn(gateway, "/prices")
    conn.call("subscribe", {"symbols": ["ETH/USDT"]})
    r = post(gateway, "/api/v1/market", [tick("ETH/USDT"), tick("NOPE/USDT"), tick("ETH/USDT")])
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["index"] == 1 and error["code"] == "UNKNOWN_SYMBOL" and "NOPE/USDT" in error["message"]
    time.sleep(0.5)
    assert not any(e == "price.update" for e, _ in conn.events), "nothing of a refused batch is applied"
    assert post(gateway, "/api/v1/market", [tick("ETH/USDT"), tick("ETH/USDT", price="3001")]).json() == {"accepted": 2}
    conn.wait_for("price.update")
    text = requests.get(f"{gateway.base}/metrics", timeout=5).text
    assert re.search(r'gateway_feed_rejected_total\{source="http",reason="unknown_symbol"\} [1-9]', text)
    assert re.search(r'gateway_feed_messages_total\{source="http",type="tick"\} [3-9]', text)
    conn.close()


@pytest.mark.parametrize("role,status", [(None, 401), ("user", 403)])
def test_only_service_and_admin_tokens_publish(gateway, role, status):
    assert post(gateway, "/api/v1/market", tick(), role=role).status_code == status
    assert post(gateway, "/api/v1/users/u1/events", {"event": "order.new", "data": {}}, role=role).status_code == status


def depth(kind, seq, bids, asks):
    return {"type": "depth", "symbol": "SOL/USDT", "kind": kind, "seq": seq, "bids": bids, "asks": asks, "ts": 1}


def test_a_feed_gap_resyncs_subscribers_with_a_snapshot(gateway):
    assert post(gateway, "/api/v1/market", depth("snapshot", 1, [["150.0", "2"]], [["150.5", "1"]])).status_code == 202
    conn = Conn(gateway, "/market", auth={"token": token("u-gap", tier="premium")})
    reply = conn.call("subscribe", {"channels": ["depth"], "symbols": ["SOL/USDT"]})
    assert reply["snapshots"][0]["seq"] == 1
    post(gateway, "/api/v1/market", depth("delta", 2, [["149.9", "3"]], []))
    delta = conn.wait_for("market.depth")
    assert delta["type"] == "delta" and delta["prevSeq"] == 1 and delta["seq"] == 2
    post(gateway, "/api/v1/market", depth("delta", 4, [["149.8", "1"]], []))       # seq 3 is missing
    post(gateway, "/api/v1/market", depth("delta", 5, [["149.7", "1"]], []))       # still stale
    time.sleep(0.5)
    assert [d["seq"] for e, d in conn.events if e == "market.depth"] == [2], "no delta that does not chain"
    post(gateway, "/api/v1/market", depth("snapshot", 10, [["151.0", "1"]], [["151.5", "1"]]))
    deadline = time.time() + 3
    while time.time() < deadline and len([1 for e, _ in conn.events if e == "market.depth"]) < 2:
        time.sleep(0.05)
    resync = [d for e, d in conn.events if e == "market.depth"][-1]
    assert resync["type"] == "snapshot" and resync["seq"] == 10 and resync["bids"] == [["151.0", "1"]]
    text = requests.get(f"{gateway.base}/metrics", timeout=5).text
    assert re.search(r'gateway_feed_gaps_total\{symbol="SOL/USDT"\} [1-9]', text)
    conn.close()


def test_user_events_reach_only_that_user_in_order(gateway):
    alice = Conn(gateway, "/user", auth={"token": token("alice")})
    bob = Conn(gateway, "/user", auth={"token": token("bob")})
    for n in range(20):
        r = post(gateway, "/api/v1/users/alice/events", {"event": "order.update", "data": {"orderId": "o1", "n": n, "price": "1.10"}})
        assert r.status_code == 202
    deadline = time.time() + 3
    while time.time() < deadline and len([1 for e, _ in alice.events if e == "order.update"]) < 20:
        time.sleep(0.05)
    received = [d for e, d in alice.events if e == "order.update"]
    assert [d["n"] for d in received] == list(range(20)), "in order, none lost"
    assert received[0] == {"orderId": "o1", "n": 0, "price": "1.10"}, "the producer's object, unchanged"
    assert not any(e == "order.update" for e, _ in bob.events), "never leaked to another user"
    alice.close()
    bob.close()


def test_user_events_follow_the_channels_a_socket_keeps(gateway):
    carol = Conn(gateway, "/user", auth={"token": token("carol")})
    carol.call("unsubscribe", {"channels": ["wallet"]})
    post(gateway, "/api/v1/users/carol/events", {"event": "wallet.update", "data": {"asset": "USDT"}})
    post(gateway, "/api/v1/users/carol/events", {"event": "margin.call", "data": {"level": 0.8}})
    assert carol.wait_for("margin.call") == {"level": 0.8}
    assert not any(e == "wallet.update" for e, _ in carol.events)
    r = post(gateway, "/api/v1/users/carol/events", {"event": "wallet.hacked", "data": {}})
    assert r.status_code == 400 and r.json()["error"]["code"] == "INVALID_PAYLOAD"
    carol.close()


def _responses(sock, count, timeout=5.0):
    """Reads `count` HTTP responses (status, body) from a raw socket, in the order they came."""
    sock.settimeout(timeout)
    data, out = b"", []
    while len(out) < count:
        head_end = data.find(b"\r\n\r\n")
        if head_end >= 0:
            head = data[:head_end].decode()
            length = int(re.search(r"(?im)^content-length:\s*(\d+)", head).group(1))
            if len(data) >= head_end + 4 + length:
                out.append((int(head.split()[1]), data[head_end + 4:head_end + 4 + length], head))
                data = data[head_end + 4 + length:]
                continue
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return out


def test_pipelined_requests_are_answered_in_order(gateway):
    """A producer pipelining POSTs on one keep-alive connection (answered on the event loop) gets
    its answers in request order, also around requests the router answers (GET /health, a 404)."""
    import socket
    conn = Conn(gateway, "/prices")
    conn.call("subscribe", {"symbols": ["SOL/USDT"]})
    auth = f"Authorization: Bearer {token('producer', role='service')}\r\n"

    def market(n, authorised=True):
        body = ('{"type":"tick","symbol":"SOL/USDT","price":"%d","bid":"1","ask":"1","volume":"1","ts":1}' % (7000 + int(n))).encode()
        return (f"POST /api/v1/market HTTP/1.1\r\nHost: x\r\n{auth if authorised else ''}"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body

    requests_ = [market("1"), b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n", market("2"), market("3", authorised=False),
                 b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", market("4")] + [market(str(5 + i)) for i in range(16)]
    with socket.create_connection(("127.0.0.1", gateway.port)) as sock:
        sock.sendall(b"".join(requests_))
        answers = _responses(sock, len(requests_))
    assert [status for status, _, _ in answers] == [202, 200, 202, 401, 404] + [202] * 17
    assert b"UNAUTHORIZED" in answers[3][1]
    prices = []
    deadline = time.time() + 5
    while len(prices) < 19 and time.time() < deadline:
        prices = [int(p["price"]) - 7000 for e, p in list(conn.events) if e == "price.update" and 7000 < int(p["price"]) < 8000]
        time.sleep(0.05)
    assert prices == [1, 2, 4] + list(range(5, 21)), "every accepted tick, in the order posted"
    conn.close()


def test_after_a_router_answer_the_connection_is_answered_inline_again(gateway):
    """Once the router has answered what it held, the next market POST on the connection is the
    event loop's again: an oversized one is refused from its head, without its body."""
    import socket
    with socket.create_connection(("127.0.0.1", gateway.port)) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert [status for status, _, _ in _responses(sock, 1)] == [200]
        sock.sendall((f"POST /api/v1/market HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token('producer', role='service')}\r\n"
                      f"Content-Length: {5 * 1024 * 1024}\r\n\r\n").encode())
        [(status, body, _)] = _responses(sock, 1)
        assert status == 413 and b"PAYLOAD_TOO_LARGE" in body


def test_an_oversized_market_body_is_refused_before_it_is_read(gateway):
    """A body over 4 MiB is answered 413 from its Content-Length, and the connection closes
    (nothing of it is buffered)."""
    import socket
    with socket.create_connection(("127.0.0.1", gateway.port)) as sock:
        sock.sendall((f"POST /api/v1/market HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token('producer', role='service')}\r\n"
                      f"Content-Length: {8 * 1024 * 1024}\r\n\r\n").encode() + b"[" * 1024)
        [(status, body, head)] = _responses(sock, 1)
        assert status == 413 and b"PAYLOAD_TOO_LARGE" in body and re.search(r"(?im)^connection:\s*close", head)
        sock.settimeout(5)
        rest = b""
        try:
            while chunk := sock.recv(65536):
                rest += chunk
        except ConnectionResetError:
            pass  # the unread body makes the close a reset
        assert rest == b"", "the connection closes after the answer"
    r = post(gateway, "/api/v1/market", tick("SOL/USDT"))
    assert r.status_code == 202, "the gateway still takes ticks"


def test_the_internal_port_serves_producers_and_probes_but_no_sockets():
    """`server.internalPort`: producers POST there and subscribers on the main port get the tick;
    /health and /metrics answer there; Socket.IO is not served there; a clash with the main port
    stops start-up with the key named."""
    import subprocess
    from conftest import BIN_DIR, free_port
    internal = free_port()
    srv = Server("gateway", ["serve"], env={"JWT_SECRET": SECRET, "LOG_LEVEL": "warning", "FEED_SOURCE": "none",
                                             "INTERNAL_PORT": str(internal)})
    try:
        base = f"http://127.0.0.1:{internal}"
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                requests.get(f"{base}/health", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        conn = Conn(srv, "/prices")
        conn.call("subscribe", {"symbols": ["XRP/USDT"]})
        r = requests.post(f"{base}/api/v1/market", json=tick("XRP/USDT", price="0.61"),
                          headers={"Authorization": f"Bearer {token('producer', role='service')}"}, timeout=5)
        assert r.status_code == 202 and r.json() == {"accepted": 1}
        assert conn.wait_for("price.update")["price"] == "0.61"
        assert requests.post(f"{base}/api/v1/market", json=tick("XRP/USDT"), timeout=5).status_code == 401
        assert requests.get(f"{base}/health", timeout=5).json()["status"] == "ok"
        assert "gateway_connections" in requests.get(f"{base}/metrics", timeout=5).text
        assert requests.get(f"{base}/socket.io/?EIO=4&transport=polling", timeout=5).status_code == 404
        conn.close()
    finally:
        srv.stop()
    clash = subprocess.run([f"{BIN_DIR}/gateway", "serve", "--port", str(internal)], capture_output=True, text=True, timeout=30,
                           env={**os.environ, "JWT_SECRET": SECRET, "INTERNAL_PORT": str(internal)})
    assert clash.returncode == 2 and "server.internalPort" in clash.stderr
