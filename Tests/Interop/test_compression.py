"""Fewer bytes on the wire: permessage-deflate (RFC 7692) negotiated when a client offers it,
each broadcast compressed once and the same bytes sent to every deflate socket, compressed
client messages inflated with a bound (zip bombs close with 1009), and gzip polling responses.
Real clients: a raw socket that shows RSV1 and close codes, python-socketio over aiohttp with
deflate offered, and requests for polling."""
import asyncio
import gzip
import json
import time

import pytest
import requests
import socketio

import eio
from book_helpers import ClientBook
from conftest import configured_gateway, wait_until
from deflate_ws import BROWSER_OFFER, DeflateSocket, deflate
from scrape import metric

AGREED = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
SUBSCRIBE_DEPTH = '42/market,1["subscribe",{"channels":["depth"],"symbols":["BTC/USDT"],"cadence":"raw"}]'


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    # A 200-byte threshold (default 1024) so that depth deltas, a broadcast, go compressed too.
    srv = configured_gateway(tmp_path_factory, "server:\n  maxPayload: 65536\n  compression:\n    threshold: 200\n"
                             "feed:\n  simulator:\n    ticksPerSecond: 50\n    seed: 11\n")
    yield srv
    assert srv.alive()
    srv.stop()


def market_socket(gateway, offer=BROWSER_OFFER):
    ws = DeflateSocket(gateway, offer=offer)
    assert ws.message().text.startswith("0{")
    ws.send("40/market,")
    assert ws.message_starting("40/market,")
    return ws


def depth_snapshot(ws):
    """The subscribe ack, which carries the snapshot (50 levels a side here, about 2.4 kB of JSON)."""
    ws.send(SUBSCRIBE_DEPTH)
    message = ws.message_starting("43/market,1")
    ack = json.loads(message.text[len("43/market,1"):])[0]
    return message, ack["snapshots"][0]


def test_an_offer_is_accepted_and_large_messages_arrive_compressed_small_ones_plain(gateway):
    deflating_before = metric(gateway, "gateway_websocket_deflate_connections")
    ws = market_socket(gateway)
    try:
        assert ws.status == 101
        assert ws.extensions == AGREED
        assert metric(gateway, "gateway_websocket_deflate_connections") == deflating_before + 1
        message, book = depth_snapshot(ws)
        assert message.compressed, "a snapshot is over the threshold"
        assert len(message.payload) >= 2000
        assert message.wire_bytes < len(message.payload) / 2, (message.wire_bytes, len(message.payload))
        assert book["symbol"] == "BTC/USDT" and len(book["bids"]) >= 20
        ClientBook(book)  # the checksum matches what was inflated
        # Small packets stay plain: compressing them costs more than it saves.
        ws.send('42/market,2["unsubscribe",{"channels":["depth"],"symbols":["BTC/USDT"]}]')
        ack = ws.message_starting("43/market,2")
        assert len(ack.payload) < 200 and not ack.compressed
    finally:
        ws.close()
    wait_until(lambda: metric(gateway, "gateway_websocket_deflate_connections") == deflating_before, timeout=5)


def test_without_an_offer_or_with_one_the_gateway_cannot_honour_frames_are_plain(gateway):
    for offer in [None, "permessage-deflate; server_max_window_bits=10", "x-webkit-deflate-frame"]:
        ws = market_socket(gateway, offer=offer)
        try:
            assert ws.status == 101
            assert ws.extensions is None, offer
            message, _ = depth_snapshot(ws)
            assert not message.compressed, offer
        finally:
            ws.close()


def test_websocket_client_which_offers_nothing_reads_the_same_stream_uncompressed(gateway):
    """websocket-client (python-socketio's default transport) has no permessage-deflate."""
    ws = eio.ws_connect(gateway.ws_base, "/socket.io/")
    try:
        assert "sec-websocket-extensions" not in {k.lower() for k in ws.getheaders()}
        assert eio.recv_skipping_pings(ws).startswith("0{")
        ws.send("40/market,")
        assert eio.recv_skipping_pings(ws).startswith("40/market,")
        ws.send(SUBSCRIBE_DEPTH)
        while True:
            frame = eio.recv_skipping_pings(ws)
            if frame.startswith("43/market,1"):
                break
        ClientBook(json.loads(frame[len("43/market,1"):])[0]["snapshots"][0])
    finally:
        ws.close()


def test_one_broadcast_reaches_deflate_and_plain_sockets_alike(gateway):
    deflating, plain = market_socket(gateway), market_socket(gateway, offer=None)
    try:
        for ws in (deflating, plain):
            depth_snapshot(ws)
        # The next deltas are the same broadcasts: the same text after inflating, fewer bytes.
        def deltas(ws, count=10):
            found = {}
            while len(found) < count:
                message = ws.message_starting("42/market,")
                event, payload = json.loads(message.text[len("42/market,"):])
                if event == "market.depth" and payload.get("type") == "delta":
                    found[payload["seq"]] = message
            return found
        compressed, uncompressed = deltas(deflating), deltas(plain)
        common = set(compressed) & set(uncompressed)
        assert common, "both sockets see the same stream"
        for seq in common:
            assert compressed[seq].payload == uncompressed[seq].payload
            assert compressed[seq].compressed == (len(uncompressed[seq].payload) >= 200)
            assert not uncompressed[seq].compressed
        assert any(message.compressed for message in compressed.values())
    finally:
        deflating.close()
        plain.close()


def test_compressed_and_fragmented_client_messages_are_read(gateway):
    ws = DeflateSocket(gateway)
    try:
        assert ws.message().text.startswith("0{")
        ws.send("40/market,", compress=True)
        assert ws.message_starting("40/market,")
        # A compressed subscribe split over three frames: RSV1 on the first only.
        body = deflate(SUBSCRIBE_DEPTH.encode())
        ws.send_frame(body[:3], rsv1=True, fin=False)
        ws.send_frame(body[3:6], opcode=0x0, fin=False)
        ws.send_frame(body[6:], opcode=0x0)
        ack = ws.message_starting("43/market,1")
        assert json.loads(ack.text[len("43/market,1"):])[0]["symbols"] == ["BTC/USDT"]
    finally:
        ws.close()


def test_a_zip_bomb_closes_with_1009_and_hurts_no_one_else(gateway):
    watcher = market_socket(gateway)
    depth_snapshot(watcher)
    bomber = DeflateSocket(gateway)
    try:
        assert bomber.message().text.startswith("0{")
        bomb = deflate(b"4" + b" " * (64 * 1024 * 1024), level=9)
        assert len(bomb) < 128 * 1024
        memory_before = metric(gateway, "process_resident_memory_bytes")
        bomber.send_frame(bomb, rsv1=True)
        assert bomber.close_code() == 1009
        # 64 MB was never held: inflating stops at maxPayload (64 KiB here).
        assert metric(gateway, "process_resident_memory_bytes") < memory_before + 32 * 1024 * 1024
        assert watcher.message_starting("42/market,")  # still served
        assert gateway.alive()
    finally:
        bomber.close()
        watcher.close()


def test_compressed_bytes_that_do_not_inflate_close_with_1007(gateway):
    ws = DeflateSocket(gateway)
    try:
        assert ws.message().text.startswith("0{")
        ws.send_frame(b"\xff\xff\xff\xff\xff\xff", rsv1=True)
        assert ws.close_code() == 1007
    finally:
        ws.close()


def test_rsv1_on_a_continuation_frame_closes_with_1002(gateway):
    ws = DeflateSocket(gateway)
    try:
        assert ws.message().text.startswith("0{")
        body = deflate(b"40/market,")
        ws.send_frame(body[:2], rsv1=True, fin=False)
        ws.send_frame(body[2:], opcode=0x0, rsv1=True)
        assert ws.close_code() == 1002
    finally:
        ws.close()


def test_rsv1_without_the_extension_is_a_protocol_error(gateway):
    ws = DeflateSocket(gateway, offer=None)
    try:
        assert ws.message().text.startswith("0{")
        ws.send("40/market,", compress=True)
        assert ws.close_code() == 1002
    finally:
        ws.close()


def test_python_socketio_over_aiohttp_with_deflate_gets_a_verified_book(gateway):
    """A stock client that offers permessage-deflate (aiohttp's compress=15) and inflates on its own."""
    async def run():
        client = socketio.AsyncClient(reconnection=False, websocket_extra_options={"compress": 15})
        books = []
        client.on("market.depth", lambda data: books.append(data), namespace="/market")
        await client.connect(gateway.base, namespaces=["/market"], transports=["websocket"])
        try:
            ack = await client.call("subscribe", {"channels": ["depth"], "symbols": ["BTC/USDT"], "cadence": "raw"}, namespace="/market", timeout=5)
            assert ack["symbols"] == ["BTC/USDT"]
            book = ClientBook(ack["snapshots"][0])
            assert len(book.bids) >= 20
            deadline = time.time() + 5
            while len(books) < 5 and time.time() < deadline:
                await asyncio.sleep(0.05)
            assert len(books) >= 5, "deltas arrive"
            for delta in books:
                book.apply(delta)  # chains, and every checksum matches
            response_extensions = client.eio.ws._response.headers.get("Sec-WebSocket-Extensions")
            assert response_extensions == AGREED
        finally:
            await client.disconnect()
    asyncio.run(run())


def test_msgpack_and_deflate_together_a_snapshot_arrives_as_compressed_msgpack(gateway):
    """The msgpack path with permessage-deflate: binary frames, compressed once per broadcast too."""
    import msgpack
    ws = DeflateSocket(gateway, path="/socket.io-msgpack/")
    try:
        assert ws.extensions == AGREED
        assert ws.message().text.startswith("0{")
        ws.send_frame(msgpack.packb({"type": 0, "data": None, "nsp": "/market"}), opcode=0x2)
        connected = msgpack.unpackb(ws.message().payload)
        assert connected["type"] == 0 and connected["nsp"] == "/market" and "sid" in connected["data"]
        ws.send_frame(msgpack.packb({"type": 2, "nsp": "/market", "id": 1,
                                     "data": ["subscribe", {"channels": ["depth"], "symbols": ["BTC/USDT"], "cadence": "raw"}]}), opcode=0x2)
        while True:
            message = ws.message()
            packet = msgpack.unpackb(message.payload)
            if packet["type"] == 3:
                break
        assert message.opcode == 0x2 and message.compressed
        assert packet["id"] == 1 and packet["data"][0]["ok"] is True
        ClientBook(packet["data"][0]["snapshots"][0])
        # Deltas, a broadcast, arrive compressed msgpack as well (threshold 200 here).
        for _ in range(50):
            message = ws.message()
            packet = msgpack.unpackb(message.payload)
            if packet["type"] == 2 and packet["data"][0] == "market.depth" and len(message.payload) >= 200:
                assert message.compressed
                break
        else:
            pytest.fail("no depth delta over the threshold")
    finally:
        ws.close()


def test_polling_responses_are_gzipped_by_accept_encoding_from_the_threshold(gateway):
    handshake = eio.handshake(gateway.base, "/socket.io/")
    sid = handshake["sid"]
    assert eio.post(gateway.base, "/socket.io/", sid, "40/market,").text == "ok"
    small = eio.get(gateway.base, "/socket.io/", sid)
    assert small.text.startswith("40/market,")
    assert "Content-Encoding" not in small.headers, "under the threshold: plain"
    assert "Accept-Encoding" in small.headers.get("Vary", "")
    assert eio.post(gateway.base, "/socket.io/", sid, SUBSCRIBE_DEPTH).text == "ok"
    deadline = time.time() + 5
    while time.time() < deadline:
        response = requests.get(f"{gateway.base}/socket.io/", params={"EIO": "4", "transport": "polling", "sid": sid},
                                headers={"Accept-Encoding": "gzip"}, timeout=5, stream=True)
        raw = response.raw.read(decode_content=False)
        if response.headers.get("Content-Encoding") == "gzip":
            text = gzip.decompress(raw).decode()
            assert len(text) >= 200 and "market" in text
            assert len(raw) < len(text) / 2
            return
        assert len(raw) < 200, "a body over the threshold asked for gzip must come gzipped"
    pytest.fail("no gzip-encoded poll response arrived")


def test_compression_can_be_switched_off(tmp_path_factory):
    srv = configured_gateway(tmp_path_factory, "server:\n  compression:\n    webSocket: false\n    polling: false\n")
    try:
        ws = market_socket(srv)
        assert ws.extensions is None
        message, _ = depth_snapshot(ws)
        assert not message.compressed
        ws.close()
        sid = eio.handshake(srv.base, "/socket.io/")["sid"]
        eio.post(srv.base, "/socket.io/", sid, "40/market,")
        eio.get(srv.base, "/socket.io/", sid)
        eio.post(srv.base, "/socket.io/", sid, SUBSCRIBE_DEPTH)
        response = requests.get(f"{srv.base}/socket.io/", params={"EIO": "4", "transport": "polling", "sid": sid},
                                headers={"Accept-Encoding": "gzip"}, timeout=5)
        assert "Content-Encoding" not in response.headers
        assert "Accept-Encoding" not in response.headers.get("Vary", "")
    finally:
        srv.stop()
