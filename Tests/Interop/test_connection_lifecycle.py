"""Connections end when their client goes, and everything they held is given back: a WebSocket
whose client exits (FIN, no close frame) or half-closes, a long-poll whose client leaves mid-wait,
an oversized polling POST, and HTTP connections that never finish a request (slowloris). Gauges
(connections, engine connections, subscriptions) fall back, and quotas are released, whatever
ended the socket."""
import json
import socket
import threading
import time

import pytest
import requests

from auth_helpers import Conn, token
from conftest import configured_gateway, wait_until
from scrape import metric
from sio_raw import RawSocket
import eio

PATH = "/socket.io/"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    srv = configured_gateway(tmp_path_factory, (
        "server:\n  maxPayload: 20000\n  requestHeaderTimeout: 1000\n  idleTimeout: 1500\n"
        "limits:\n  maxChannelsPerUser: 3\n"
    ), env={"FEED_SOURCE": "none"})
    yield srv
    assert srv.alive()
    srv.stop()


def gauge(server, name, label, value):
    return metric(server, name, '{%s="%s"}' % (label, value))


def connections(server, namespace):
    return gauge(server, "gateway_connections", "namespace", namespace)


def subscriptions(server, namespace):
    return gauge(server, "gateway_subscriptions", "namespace", namespace)


def websockets(server):
    return gauge(server, "gateway_engine_connections", "transport", "websocket")


def polling(server):
    return gauge(server, "gateway_engine_connections", "transport", "polling")


def raw_http(server, text):
    """A TCP connection that has sent `text` (maybe an unfinished request) and nothing more."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    if text:
        sock.sendall(text.encode())
    return sock


def closed_by_server(sock, timeout):
    """True when the server closes `sock` within `timeout` seconds."""
    sock.settimeout(timeout)
    try:
        while True:
            data = sock.recv(4096)
            if not data:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


# -- item 0: clients that go away ---------------------------------------------------------------

def test_websocket_clients_that_exit_are_disconnected_at_once(gateway):
    base_prices, base_ws = connections(gateway, "/prices"), websockets(gateway)
    clients = [RawSocket(gateway, "/prices", {}) for _ in range(30)]
    wait_until(lambda: connections(gateway, "/prices") == base_prices + 30)
    for client in clients:
        assert client.events(1)[0][0] == "connection.authenticated"   # nothing left unread…
        client.ws.sock.close()                         # …so the exit is a plain FIN, no close frame
    # pingInterval is 25 s here: only noticing the FIN can bring the gauges back this soon.
    wait_until(lambda: connections(gateway, "/prices") == base_prices, timeout=3,
               message=lambda: f"{connections(gateway, '/prices') - base_prices} sockets still counted as connected")
    assert websockets(gateway) == base_ws


def test_a_half_closed_websocket_is_closed_not_pinged(gateway):
    ws, _ = eio.ws_open(gateway.ws_base, PATH)
    ws.sock.shutdown(socket.SHUT_WR)                   # the client will send nothing more
    ws.sock.settimeout(3)
    received = b""
    try:
        while True:
            chunk = ws.sock.recv(4096)
            if not chunk:
                break
            received += chunk
    except socket.timeout:
        pytest.fail(f"the server kept a half-closed WebSocket open (got {received!r})")
    ws.sock.close()


def test_an_upgrade_request_and_its_first_frames_in_one_write_are_served(gateway):
    """Bytes after the upgrade request arrive with it: they are WebSocket frames, not HTTP."""
    key = "dGhlIHNhbXBsZSBub25jZQ=="
    request = (f"GET {PATH}?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
    payload = b"40/prices,"
    frame = bytes([0x81, 0x80 | len(payload)]) + b"\0\0\0\0" + payload   # masked with a zero key
    sock = raw_http(gateway, "")
    sock.sendall(request.encode() + frame)
    sock.settimeout(5)
    received = b""
    while b"40/prices," not in received:
        chunk = sock.recv(65536)
        assert chunk, f"closed after {received!r}"
        received += chunk
    assert received.startswith(b"HTTP/1.1 101")
    sock.close()
    assert gateway.alive()


def test_a_polling_client_that_leaves_during_a_wait_ends_its_session(gateway):
    before = polling(gateway)
    sid = eio.handshake(gateway.base, PATH)["sid"]
    assert polling(gateway) == before + 1
    waiting = raw_http(gateway, f"GET {PATH}?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.3)                                    # the GET is now held by the server
    waiting.close()
    wait_until(lambda: polling(gateway) == before, timeout=3, message="the session outlived its client")
    answer = eio.get(gateway.base, PATH, sid)
    assert answer.status_code == 400 and answer.json()["code"] == 1, "the sid is forgotten (unknown session)"


# -- item 3: gauges and quotas on every way out ---------------------------------------------------

def subscribed_prices_socket(gateway, user, symbols):
    sock = RawSocket(gateway, "/prices", {"token": token(user)})
    sock.ws.send('42/prices,1["subscribe",%s]' % json.dumps({"symbols": symbols}))
    assert sock.ack(1)[0]["ok"] is True
    return sock


@pytest.mark.parametrize("way_out", ["client close", "abrupt drop", "namespace disconnect", "admin kick"])
def test_subscriptions_are_released_however_a_socket_ends(gateway, way_out):
    user = "gauge-" + way_out.replace(" ", "-")
    base_subs, base_conns = subscriptions(gateway, "/prices"), connections(gateway, "/prices")
    sock = subscribed_prices_socket(gateway, user, ["BTC/USDT", "ETH/USDT", "SOL/USDT"])
    assert subscriptions(gateway, "/prices") == base_subs + 3
    if way_out == "client close":
        sock.close()
    elif way_out == "abrupt drop":
        sock.drop()
    elif way_out == "namespace disconnect":
        sock.ws.send("41/prices,")
    else:
        admin = Conn(gateway, "/admin", auth={"token": token("gauge-admin", role="admin")})
        assert admin.call("admin.command", {"command": "kick", "userId": user})["kicked"] == 1
        admin.close()
    wait_until(lambda: subscriptions(gateway, "/prices") == base_subs, timeout=3,
               message=lambda: f"gateway_subscriptions stayed {subscriptions(gateway, '/prices') - base_subs} above its level after {way_out}")
    wait_until(lambda: connections(gateway, "/prices") == base_conns, timeout=3)
    # The user's channel quota (3 here) was given back too: the same three subscribe again.
    again = subscribed_prices_socket(gateway, user, ["BTC/USDT", "ETH/USDT", "SOL/USDT"])
    again.close()
    sock.close()


def test_market_subscriptions_are_released_on_disconnect(gateway):
    base = subscriptions(gateway, "/market")
    conn = Conn(gateway, "/market")
    reply = conn.call("subscribe", {"channels": ["trades", "ticker"], "symbols": ["BTC/USDT", "ETH/USDT"]})
    assert reply["ok"] is True
    assert subscriptions(gateway, "/market") == base + 4
    conn.close()
    wait_until(lambda: subscriptions(gateway, "/market") == base, timeout=3)


# -- item 4: oversized polling POST -----------------------------------------------------------

def test_an_oversized_polling_post_closes_the_session(gateway):
    before = polling(gateway)
    sid = eio.handshake(gateway.base, PATH)["sid"]
    answer = eio.post(gateway.base, PATH, sid, "4" + "x" * 30_000)
    assert answer.status_code == 413
    wait_until(lambda: polling(gateway) == before, timeout=3)
    after = eio.get(gateway.base, PATH, sid)
    assert after.status_code == 400 and after.json()["code"] == 1, "the session is closed, its sid unknown"


def test_a_polling_post_within_max_payload_still_works(gateway):
    sid = eio.handshake(gateway.base, PATH)["sid"]
    assert eio.post(gateway.base, PATH, sid, "40/prices,").status_code == 200
    assert eio.get(gateway.base, PATH, sid).text.startswith("40/prices,")
    assert eio.post(gateway.base, PATH, sid, '42/prices,["x","' + "y" * 15_000 + '"]').status_code == 200
    assert eio.post(gateway.base, PATH, sid, "1").status_code == 200


# -- item 5: unfinished requests --------------------------------------------------------------

def test_connections_that_never_finish_their_headers_are_closed(gateway):
    before = gauge(gateway, "gateway_http_timeouts_total", "phase", "header")
    trickling = [raw_http(gateway, f"GET {PATH}?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n") for _ in range(100)]
    silent = [raw_http(gateway, "") for _ in range(20)]
    # requestHeaderTimeout is 1 s here; one more header line half-way does not buy more time.
    time.sleep(0.5)
    for sock in trickling:
        sock.sendall(b"X-Slow: 1\r\n")
    assert all(closed_by_server(sock, 3) for sock in trickling + silent)
    assert gauge(gateway, "gateway_http_timeouts_total", "phase", "header") >= before + 120
    for sock in trickling + silent:
        sock.close()
    assert requests.get(f"{gateway.base}/health", timeout=5).status_code == 200, "the listener still serves"


def test_an_idle_kept_alive_connection_is_closed_after_the_idle_timeout(gateway):
    before = gauge(gateway, "gateway_http_timeouts_total", "phase", "idle")
    sock = raw_http(gateway, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    sock.settimeout(3)
    assert b"200" in sock.recv(4096).split(b"\r\n")[0]
    started = time.time()
    assert closed_by_server(sock, 4), "an idle keep-alive connection is not kept forever"
    assert time.time() - started >= 1.2, "but it is given the idle timeout (1.5 s here)"
    assert gauge(gateway, "gateway_http_timeouts_total", "phase", "idle") >= before + 1
    sock.close()


def test_a_long_poll_outlives_both_timeouts(gateway):
    sid = eio.handshake(gateway.base, PATH)["sid"]
    result = {}

    def long_poll():
        started = time.time()
        result["answer"] = eio.get(gateway.base, PATH, sid, timeout=10)
        result["waited"] = time.time() - started

    poller = threading.Thread(target=long_poll)
    poller.start()
    time.sleep(2.5)                                    # longer than requestHeaderTimeout and idleTimeout
    assert eio.post(gateway.base, PATH, sid, "40/prices,").status_code == 200
    poller.join(10)
    assert result["answer"].status_code == 200 and result["answer"].text.startswith("40/prices,")
    assert result["waited"] >= 2.4
    assert eio.post(gateway.base, PATH, sid, "1").status_code == 200
