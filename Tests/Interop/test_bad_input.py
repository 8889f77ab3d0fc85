"""Bad input never hurts the process or another client: garbage bytes, malformed packets,
oversized payloads, wrong transports and methods, and a client that stops reading."""
import socket
import time

import pytest
import requests
import websocket

from eio import SEP, get, handshake, is_closed, post, recv_skipping_pings, ws_connect, ws_open


def healthy(server):
    """Another client still gets full service."""
    ws, _ = ws_open(server.ws_base)
    ws.send("4still-fine")
    assert recv_skipping_pings(ws) == "4still-fine"
    ws.close()


@pytest.mark.parametrize("garbage", [b"\x00\xff\xfe garbage\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n", b"\x16\x03\x01\x02\x00" * 100])
def test_garbage_bytes_on_the_port(server, garbage):
    with socket.create_connection(("127.0.0.1", server.port), timeout=3) as raw:
        raw.sendall(garbage)
        raw.settimeout(3)
        try:
            answer = raw.recv(4096)
        except (ConnectionResetError, socket.timeout):
            answer = b""
        assert answer == b"" or answer.startswith(b"HTTP/1.1 4")
    healthy(server)


def test_invalid_json_in_a_socketio_packet_closes_only_that_client(server):
    bystander, _ = ws_open(server.ws_base, "/socket.io/")
    bystander.send("40")
    assert recv_skipping_pings(bystander).startswith("40")
    recv_skipping_pings(bystander)
    ws, _ = ws_open(server.ws_base, "/socket.io/")
    ws.send("40")
    recv_skipping_pings(ws)
    ws.send('42["message",{"unterminated": ]')
    assert is_closed(ws)
    bystander.send('42["message","still here"]')
    assert recv_skipping_pings(bystander) == '42["message-back","still here"]'
    bystander.close()


@pytest.mark.parametrize("frame", ["", "9", "4", "40/nsp\x01,", '451-["x",{"_placeholder":true,"num":5}]', '42["disconnect"]'])
def test_malformed_socketio_packets_close_the_connection(server, frame):
    ws, _ = ws_open(server.ws_base, "/socket.io/")
    ws.send("40")
    recv_skipping_pings(ws)
    recv_skipping_pings(ws)
    ws.send(frame)
    if frame.startswith("451-"):
        ws.send_binary(b"\x01")
    if frame == "4":
        # An empty Socket.IO packet is malformed too.
        pass
    assert is_closed(ws)
    healthy(server)


def test_binary_frame_without_a_binary_header_closes(server):
    ws, _ = ws_open(server.ws_base, "/socket.io/")
    ws.send("40")
    recv_skipping_pings(ws)
    ws.send_binary(b"\x01\x02")
    assert is_closed(ws)


def test_event_for_a_namespace_not_joined_closes(server):
    ws, _ = ws_open(server.ws_base, "/socket.io/")
    ws.send('42/custom,["message","x"]')
    assert is_closed(ws)


def test_duplicate_connect_closes(server):
    ws, _ = ws_open(server.ws_base, "/socket.io/")
    ws.send("40")
    recv_skipping_pings(ws)
    ws.send("40")
    assert is_closed(ws)


def test_client_ping_is_a_protocol_error(server):
    ws, _ = ws_open(server.ws_base)
    ws.send("2")
    assert is_closed(ws)


def test_other_method_with_a_sid_is_refused(server):
    sid = handshake(server.base)["sid"]
    r = requests.put(f"{server.base}/engine.io/", params={"EIO": "4", "transport": "polling", "sid": sid})
    assert r.status_code == 400


def test_websocket_transport_without_upgrade_is_a_bad_request(server):
    r = requests.get(f"{server.base}/engine.io/", params={"EIO": "4", "transport": "websocket"})
    assert r.status_code == 400
    assert r.json() == {"code": 3, "message": "Bad request"}


def test_oversized_post_is_refused_with_413(slow_server):
    sid = handshake(slow_server.base, "/socket.io/")["sid"]
    r = post(slow_server.base, "/socket.io/", sid, "4" + "x" * 200_000)
    assert r.status_code == 413
    healthy(slow_server)


def test_oversized_websocket_message_closes_with_1009(slow_server):
    ws, body = ws_open(slow_server.ws_base)
    assert body["maxPayload"] == 100000
    ws.send("4" + "x" * 150_000)
    # Read the raw close frame: websocket-client would answer it on a socket already reset.
    ws.sock.settimeout(3)
    data = b""
    while len(data) < 4:
        chunk = ws.sock.recv(64)
        if not chunk:
            break
        data += chunk
    assert data[0] == 0x88, data
    code = int.from_bytes(data[2:4], "big")
    assert code == 1009
    healthy(slow_server)


def test_fragmented_websocket_message_is_reassembled(slow_server):
    ws, _ = ws_open(slow_server.ws_base)
    ws.send_frame(websocket.ABNF(fin=0, opcode=websocket.ABNF.OPCODE_TEXT, data="4hel"))
    ws.send_frame(websocket.ABNF(fin=1, opcode=websocket.ABNF.OPCODE_CONT, data="lo"))
    assert recv_skipping_pings(ws) == "4hello"
    ws.close()


def test_client_that_stops_reading_is_closed_as_slow_consumer(slow_server):
    """A member of a room stops reading while the room is flooded: it is disconnected once its
    backlog passes slowConsumerBytes (256 KiB here), while a reading member gets everything."""
    def member(rcvbuf=None):
        options = {"sockopt": ((socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf),)} if rcvbuf else {}
        ws = websocket.create_connection(f"{slow_server.ws_base}/socket.io/?EIO=4&transport=websocket", timeout=10, **options)
        ws.recv()
        ws.send("40/custom,")
        recv_skipping_pings(ws)
        recv_skipping_pings(ws)
        ws.send('42/custom,1["join","flood"]')
        assert recv_skipping_pings(ws) == "43/custom,1[true]"
        return ws

    stalled = member(rcvbuf=4096)
    reader = member()
    sender, _ = ws_open(slow_server.ws_base, "/socket.io/")
    sender.send("40/custom,")
    recv_skipping_pings(sender)
    recv_skipping_pings(sender)
    chunk = "y" * 60_000
    total = 300  # ~18 MB, far beyond socket buffers + watermark + the 256 KiB backlog limit
    received = 0
    for i in range(total):
        sender.send(f'42/custom,["broadcast","flood","tick",{{"i":{i},"pad":"{chunk}"}}]')
        # the reading member keeps up
        while True:
            frame = recv_skipping_pings(reader)
            if frame.startswith('42/custom,["tick"'):
                received += 1
                break
    assert received == total

    # The stalled client was cut off: draining what reached it ends in a closed connection
    # well before all messages.
    stalled.settimeout(5)
    got = 0
    closed = False
    try:
        while True:
            op, data = stalled.recv_data(control_frame=True)
            if op == websocket.ABNF.OPCODE_CLOSE:
                closed = True
                break
            if data.startswith(b'42/custom,["tick"'):
                got += 1
    except (websocket.WebSocketConnectionClosedException, ConnectionError):
        closed = True
    assert closed
    assert got < total
    sender.close()
    reader.close()
    healthy(slow_server)


def test_a_flood_of_bad_packets_is_logged_at_a_bounded_rate(tmp_path):
    """Bad input logs at notice, at most 20 lines a second for the process; the next line that
    gets through says how many were left out, and the metric still counts every one."""
    from conftest import Server
    from scrape import metric
    # The per-address handshake rate would stop this flood at the door (test_public_edge.py);
    # here every bad packet must reach the parser, so it is lifted.
    config = tmp_path / "gateway.yaml"
    config.write_text("limits:\n  handshakesPerSecondPerIp: 0\n")
    gateway = Server("gateway", ["serve", "--config", str(config)],
                     env={"JWT_SECRET": "interop-test-secret-0123456789", "LOG_LEVEL": "info", "FEED_SOURCE": "none"})
    try:
        def malformed_client():
            ws = websocket.create_connection(f"{gateway.ws_base}/socket.io/?EIO=4&transport=websocket", timeout=5)
            ws.recv()
            ws.send("42{not a packet")
            is_closed(ws)
            ws.close()

        before = metric(gateway, "gateway_malformed_packets_total")
        started = time.time()
        for _ in range(150):
            malformed_client()
        elapsed = time.time() - started
        time.sleep(1.1)
        malformed_client()  # in a later second: its line reports what was left out
        assert metric(gateway, "gateway_malformed_packets_total") == before + 151, "every bad packet is counted"
        lines = [line for line in gateway.output().splitlines() if "Malformed Socket.IO packet" in line]
        # The flood touches at most int(elapsed) + 2 wall-clock seconds of 20 lines each; the
        # last packet, a second later, adds its own line.
        assert len(lines) <= 20 * (int(elapsed) + 2) + 1, f"{len(lines)} log lines for 151 bad packets in {elapsed:.1f}s"
        assert len(lines) < 151, "not every bad packet gets a line"
        assert any("log.suppressed=" in line for line in lines), "the count of lines left out is logged"
        assert requests.get(f"{gateway.base}/health", timeout=5).json()["status"] == "ok", "the gateway is unharmed"
    finally:
        gateway.stop()


def test_a_malformed_http_request_gets_400_and_the_server_carries_on(server):
    """Broken chunked encoding on a polling POST: the request is answered 400 (not a server
    error) and the connection closed; other clients are not affected."""
    sid = handshake(server.base, "/socket.io/")["sid"]
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw:
        raw.sendall((f"POST /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: x\r\n"
                     "Transfer-Encoding: chunked\r\n\r\nzz-not-a-chunk-size\r\n").encode())
        reply = b""
        while True:
            part = raw.recv(4096)
            if not part:
                break
            reply += part
    assert reply.startswith(b"HTTP/1.1 400"), reply[:200]
    healthy(server)


def test_http_answers_carry_a_date(server):
    answer = requests.get(f"{server.base}/health", timeout=5)
    assert answer.status_code == 200
    from email.utils import parsedate_to_datetime
    assert abs(parsedate_to_datetime(answer.headers["Date"]).timestamp() - time.time()) < 5
