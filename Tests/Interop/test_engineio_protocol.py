"""The cases of socketio/engine.io-protocol test-suite/test-suite.js, re-implemented against the
live server (pingInterval 300 ms, pingTimeout 200 ms, maxPayload 1e6). Each Engine.IO case runs on
the plain echo app (/engine.io/) and, where the socket.io suite repeats it, on /socket.io/."""
import threading
import time

import pytest
import requests
import websocket

from eio import SEP, get, handshake, is_closed, post, recv_skipping_pings, ws_connect, ws_open

PATHS = ["/engine.io/", "/socket.io/"]


@pytest.mark.parametrize("path", PATHS)
def test_polling_handshake_has_exactly_the_five_keys(server, path):
    r = requests.get(f"{server.base}{path}", params={"EIO": "4", "transport": "polling"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    body = __import__("json").loads(r.text[1:])
    assert set(body) == {"sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"}
    assert body["upgrades"] == ["websocket"]
    assert (body["pingInterval"], body["pingTimeout"], body["maxPayload"]) == (300, 200, 1000000)
    assert isinstance(body["sid"], str) and len(body["sid"]) == 20


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("params", [{"transport": "polling"}, {"EIO": "abc", "transport": "polling"}, {"EIO": "3", "transport": "polling"}])
def test_handshake_with_missing_or_invalid_eio_is_refused(server, path, params):
    r = requests.get(f"{server.base}{path}", params=params)
    assert r.status_code == 400
    assert r.json() == {"code": 5, "message": "Unsupported protocol version"}


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("params", [{"EIO": "4"}, {"EIO": "4", "transport": "abc"}])
def test_handshake_with_missing_or_invalid_transport_is_refused(server, path, params):
    r = requests.get(f"{server.base}{path}", params=params)
    assert r.status_code == 400
    assert r.json() == {"code": 0, "message": "Transport unknown"}


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_handshake_with_another_method_is_refused(server, path, method):
    r = requests.request(method, f"{server.base}{path}", params={"EIO": "4", "transport": "polling"})
    assert r.status_code == 400
    assert r.json() == {"code": 2, "message": "Bad handshake method"}


@pytest.mark.parametrize("path", PATHS)
def test_websocket_handshake_sends_open_with_no_upgrades(server, path):
    ws, body = ws_open(server.ws_base, path)
    assert set(body) == {"sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"}
    assert body["upgrades"] == []
    ws.close()


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("query", ["transport=websocket", "EIO=abc&transport=websocket", "EIO=4", "EIO=4&transport=abc"])
def test_websocket_with_invalid_eio_or_transport_is_refused(server, path, query):
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(f"{server.ws_base}{path}?{query}", timeout=3)
    assert refused.value.status_code == 400


def test_polling_message_is_echoed(server):
    sid = handshake(server.base)["sid"]
    r = post(server.base, "/engine.io/", sid, "4hello")
    assert (r.status_code, r.text) == (200, "ok")
    assert get(server.base, "/engine.io/", sid).text == "4hello"


def test_polling_payload_of_three_packets_is_echoed_as_one_payload(server):
    sid = handshake(server.base)["sid"]
    assert post(server.base, "/engine.io/", sid, f"4test1{SEP}4test2{SEP}4test3").text == "ok"
    assert get(server.base, "/engine.io/", sid).text == f"4test1{SEP}4test2{SEP}4test3"


def test_polling_binary_is_echoed_as_base64(server):
    sid = handshake(server.base)["sid"]
    assert post(server.base, "/engine.io/", sid, f"4hello{SEP}bAQIDBA==").text == "ok"
    assert get(server.base, "/engine.io/", sid).text == f"4hello{SEP}bAQIDBA=="


@pytest.mark.parametrize("path", PATHS)
def test_polling_invalid_packet_closes_the_session(server, path):
    sid = handshake(server.base, path)["sid"]
    assert post(server.base, path, sid, "abc").status_code == 400
    assert get(server.base, path, sid).status_code == 400


@pytest.mark.parametrize("path", PATHS)
def test_overlapping_gets_close_the_session(server, path):
    sid = handshake(server.base, path)["sid"]
    results = {}

    def first():
        results["first"] = get(server.base, path, sid)

    t = threading.Thread(target=first)
    t.start()
    time.sleep(0.05)
    second = get(server.base, path, sid)
    t.join()
    assert second.status_code in (400, 500)
    assert (results["first"].status_code, results["first"].text) == (200, "1")
    assert get(server.base, path, sid).status_code == 400


def test_websocket_text_is_echoed(server):
    ws, _ = ws_open(server.ws_base)
    ws.send("4hello")
    assert recv_skipping_pings(ws) == "4hello"
    ws.close()


def test_websocket_binary_is_echoed_as_binary_frame(server):
    ws, _ = ws_open(server.ws_base)
    ws.send_binary(bytes([1, 2, 3, 4]))
    while True:
        op, data = ws.recv_data()
        if op == websocket.ABNF.OPCODE_TEXT and data == b"2":
            ws.send("3")
            continue
        break
    assert op == websocket.ABNF.OPCODE_BINARY
    assert data == bytes([1, 2, 3, 4])
    ws.close()


@pytest.mark.parametrize("path", PATHS)
def test_websocket_invalid_packet_closes_the_socket(server, path):
    ws, _ = ws_open(server.ws_base, path)
    ws.send("abc")
    assert is_closed(ws)


@pytest.mark.parametrize("path", PATHS)
def test_polling_heartbeat_three_rounds(server, path):
    sid = handshake(server.base, path)["sid"]
    for _ in range(3):
        assert get(server.base, path, sid).text == "2"
        assert post(server.base, path, sid, "3").status_code == 200


@pytest.mark.parametrize("path", PATHS)
def test_polling_session_without_pong_times_out(server, path):
    sid = handshake(server.base, path)["sid"]
    time.sleep(0.7)
    assert get(server.base, path, sid).status_code == 400


@pytest.mark.parametrize("path", PATHS)
def test_websocket_heartbeat_three_rounds(server, path):
    ws, _ = ws_open(server.ws_base, path)
    for _ in range(3):
        assert ws.recv() == "2"
        ws.send("3")
    ws.close()


@pytest.mark.parametrize("path", PATHS)
def test_websocket_without_pong_is_closed(server, path):
    ws, _ = ws_open(server.ws_base, path)
    assert ws.recv() == "2"
    assert is_closed(ws, wait=1.5)


@pytest.mark.parametrize("path", PATHS)
def test_polling_close_packet_releases_pending_get_with_noop(server, path):
    sid = handshake(server.base, path)["sid"]
    results = {}

    def pending():
        results["get"] = get(server.base, path, sid)

    t = threading.Thread(target=pending)
    t.start()
    time.sleep(0.05)
    assert post(server.base, path, sid, "1").status_code == 200
    t.join()
    assert results["get"].text == "6"
    assert get(server.base, path, sid).status_code == 400


@pytest.mark.parametrize("path", PATHS)
def test_websocket_close_packet_ends_the_session(server, path):
    ws, _ = ws_open(server.ws_base, path)
    ws.send("1")
    assert is_closed(ws)


def test_upgrade_probe_noop_then_messages_on_websocket(server):
    sid = handshake(server.base)["sid"]
    ws = ws_connect(server.ws_base, sid=sid)
    ws.send("2probe")
    assert ws.recv() == "3probe"
    r = get(server.base, "/engine.io/", sid)
    assert r.text == "6"
    ws.send("5")
    ws.send("4hello")
    assert recv_skipping_pings(ws) == "4hello"
    ws.close()


def test_data_still_flows_on_polling_while_a_probe_is_left_open(server):
    """A client whose upgrade failed after `3probe` but left the probe open (python-engineio
    does, then carries on polling) gets its data on the next GET, as from the reference
    server, instead of noops until the upgrade deadline."""
    sid = handshake(server.base)["sid"]
    ws = ws_connect(server.ws_base, sid=sid)
    ws.send("2probe")
    assert ws.recv() == "3probe"
    assert post(server.base, "/engine.io/", sid, "4hello").status_code == 200
    started = time.time()
    r = get(server.base, "/engine.io/", sid)
    assert r.text == "4hello" and time.time() - started < 1
    ws.close()


def upgraded(server, path):
    """A polling session upgraded with `2probe` and `5` sent back to back (suite cases 23/24)."""
    sid = handshake(server.base, path)["sid"]
    ws = ws_connect(server.ws_base, path, sid=sid)
    ws.send("2probe")
    ws.send("5")
    assert ws.recv() == "3probe"
    time.sleep(0.05)
    return sid, ws


@pytest.mark.parametrize("path", PATHS)
def test_polling_after_upgrade_is_refused(server, path):
    sid, ws = upgraded(server, path)
    r = get(server.base, path, sid)
    assert r.status_code == 400
    if path == "/engine.io/":
        ws.send("4hello")
        assert recv_skipping_pings(ws) == "4hello"
    ws.close()


@pytest.mark.parametrize("path", PATHS)
def test_second_websocket_after_upgrade_is_closed(server, path):
    sid, ws = upgraded(server, path)
    second = ws_connect(server.ws_base, path, sid=sid)
    assert is_closed(second, wait=1.0)
    if path == "/engine.io/":
        ws.send("4hello")
        assert recv_skipping_pings(ws) == "4hello"
    ws.close()


def test_probe_that_does_not_start_with_2probe_is_closed_and_polling_continues(server):
    sid = handshake(server.base)["sid"]
    ws = ws_connect(server.ws_base, sid=sid)
    ws.send("4hello")
    assert is_closed(ws, wait=1.0)
    assert post(server.base, "/engine.io/", sid, "4still-polling").text == "ok"
    assert get(server.base, "/engine.io/", sid).text == "4still-polling"


def test_unknown_sid_is_refused(server):
    r = get(server.base, "/engine.io/", "nosuchsessionxxxxxxx")
    assert r.status_code == 400
    assert r.json() == {"code": 1, "message": "Session ID unknown"}
    r = post(server.base, "/engine.io/", "nosuchsessionxxxxxxx", "4x")
    assert r.json() == {"code": 1, "message": "Session ID unknown"}


def kept_alive_request(sock, target):
    """One GET on an open keep-alive socket; returns (status, body)."""
    sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    reader = sock.makefile("rb")
    status = int(reader.readline().split()[1])
    length = 0
    while (line := reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        if name.lower() == "content-length":
            length = int(value)
    return status, reader.read(length).decode()


def test_upgrade_on_a_kept_alive_connection_that_served_polling(server):
    """Pooling clients (aiohttp, hence python-socketio's AsyncClient) send the probe upgrade on
    a connection their polling requests already used; it upgrades like a fresh one."""
    import socket
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    status, body = kept_alive_request(sock, "/engine.io/?EIO=4&transport=polling")
    assert status == 200 and body.startswith("0")
    sid = __import__("json").loads(body[1:])["sid"]
    ws = websocket.create_connection(f"{server.ws_base}/engine.io/?EIO=4&transport=websocket&sid={sid}", socket=sock, timeout=3)
    ws.send("2probe")
    assert ws.recv() == "3probe"
    ws.send("5")
    ws.send("4over the same connection")
    assert recv_skipping_pings(ws) == "4over the same connection"
    ws.close()


@pytest.mark.parametrize("path", PATHS)
def test_websocket_session_on_a_kept_alive_connection_and_a_refused_one(server, path):
    import socket
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    assert kept_alive_request(sock, "/health")[0] == 200
    ws = websocket.create_connection(f"{server.ws_base}{path}?EIO=4&transport=websocket", socket=sock, timeout=3)
    assert ws.recv().startswith("0{")
    ws.close()
    # Engine.IO 3 is refused as on a first request, and that connection closes.
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    assert kept_alive_request(sock, "/health")[0] == 200
    sock.sendall(f"GET {path}?EIO=3&transport=websocket HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                 "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n".encode())
    reply = b""
    while chunk := sock.recv(4096):
        reply += chunk
    assert reply.startswith(b"HTTP/1.1 400") and b"connection: close" in reply.lower()
    assert reply.endswith(b'{"code":5,"message":"Unsupported protocol version"}')


def test_an_upgrade_pipelined_behind_a_request_closes_that_connection_only(server):
    """GET and an upgrade in one write: the upgrade cannot overtake the GET's answer, so the
    connection closes; the server lives on (this crashed an earlier build)."""
    import socket
    upgrade = ("GET /engine.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
               "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
    for first in ("GET /health HTTP/1.1\r\nHost: x\r\n\r\n", "GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n"):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        sock.sendall((first + upgrade).encode())
        reply = b""
        while chunk := sock.recv(4096):
            reply += chunk
        assert b"101 Switching" not in reply
        sock.close()
    ws, _ = ws_open(server.ws_base)
    ws.close()


def test_upgrade_header_without_connection_upgrade_is_not_an_upgrade(server):
    """`Upgrade: websocket` without `Connection: upgrade` is not an upgrade (RFC 6455). As a
    connection's first request it is refused (the connection closes); later on a kept-alive
    connection it is answered as HTTP, and so is the request after it. An earlier build
    upgraded it and then read the next request as WebSocket frames, and crashed."""
    import socket
    odd = "GET /engine.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    closing_health = "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    for first, answers in (("", 0), ("GET /health HTTP/1.1\r\nHost: x\r\n\r\n", 3)):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        sock.sendall((first + odd + closing_health).encode())
        reply = b""
        while chunk := sock.recv(4096):
            reply += chunk
        assert b"101 Switching" not in reply and reply.count(b"HTTP/1.1 ") == answers, reply
        sock.close()
    ws, _ = ws_open(server.ws_base)
    ws.close()
