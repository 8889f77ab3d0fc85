"""The msgpack parser on its own path (`/socket.io-msgpack/`), wire-compatible with
socket.io-msgpack-parser: python-socketio's `serializer='msgpack'` client on every namespace,
side by side with JSON clients of the same gateway, getting the same events, acks, errors,
binary values and recovery offsets."""
import threading
import time

import pytest
import requests
import socketio

from auth_helpers import token
from conftest import configured_gateway
from scrape import metric

MSGPACK_PATH = "socket.io-msgpack"


class Client:
    """A stock python-socketio client on one namespace, JSON or msgpack, recording events."""

    def __init__(self, server, namespace, serializer="default", auth=None, transports=("websocket",)):
        self.namespace = namespace
        self.client = socketio.Client(reconnection=False, serializer=serializer)
        self.events = []
        self.cond = threading.Condition()
        self.connect_error = None

        def on_any(event, *args):
            with self.cond:
                self.events.append((event, args))
                self.cond.notify_all()

        self.client.on("*", on_any, namespace=namespace)
        self.client.on("connect_error", lambda data: setattr(self, "connect_error", data), namespace=namespace)
        path = MSGPACK_PATH if serializer == "msgpack" else "socket.io"
        try:
            self.client.connect(server.base, namespaces=[namespace], auth=auth, transports=list(transports),
                                socketio_path=path, wait_timeout=5)
        except socketio.exceptions.ConnectionError:
            pass

    @property
    def connected(self):
        return self.namespace in self.client.namespaces

    def call(self, event, data=None, timeout=5):
        return self.client.call(event, data, namespace=self.namespace, timeout=timeout)

    def all(self, name):
        with self.cond:
            return [args for event, args in self.events if event == name]

    def wait_for(self, name, count=1, timeout=5, where=lambda args: True):
        deadline = time.time() + timeout
        with self.cond:
            while True:
                found = [args for event, args in self.events if event == name and where(args)]
                if len(found) >= count:
                    return found
                remaining = deadline - time.time()
                if remaining <= 0:
                    raise AssertionError(f"no {count} '{name}' within {timeout}s; got {[e for e, _ in self.events]}")
                self.cond.wait(remaining)

    def close(self):
        self.client.disconnect()


def pair(server, namespace, **kwargs):
    return Client(server, namespace, **kwargs), Client(server, namespace, serializer="msgpack", **kwargs)


# --- the conformance server: acks, binary, rooms, every transport -------------------------------

@pytest.mark.parametrize("transports", [("websocket",), ("polling",), ("polling", "websocket")])
def test_msgpack_client_connects_acks_and_sends_binary_both_ways(slow_server, transports):
    client = Client(slow_server, "/", serializer="msgpack", auth={"token": "abc"}, transports=transports)
    assert client.connected, client.connect_error
    assert client.wait_for("auth")[0] == ({"token": "abc"},)
    assert client.call("message-with-ack", {"a": [1, 2.5, True, None, -7, 2**40]}) == {"a": [1, 2.5, True, None, -7, 2**40]}
    payload = bytes(range(256)) * 4
    client.client.emit("message", {"name": "blob", "data": payload}, namespace="/")
    assert client.wait_for("message-back")[0] == ({"name": "blob", "data": payload},)
    assert client.call("message-with-ack", payload) == payload
    client.close()


def test_a_room_broadcast_reaches_json_and_msgpack_members_alike(slow_server):
    json_member, msgpack_member = pair(slow_server, "/custom")
    sender = Client(slow_server, "/custom")
    for member in (json_member, msgpack_member):
        assert member.call("join", "mixed-room") is True
    news = {"headline": "up", "n": 3, "ratio": 0.5, "tags": ["a", "b"], "none": None}
    assert sender.call("broadcast", ("mixed-room", "news", news)) is True
    assert json_member.wait_for("news")[0] == (news,)
    assert msgpack_member.wait_for("news")[0] == (news,)
    for client in (json_member, msgpack_member, sender):
        client.close()


def test_an_unknown_namespace_is_refused_alike(slow_server):
    json_client, msgpack_client = pair(slow_server, "/nowhere")
    assert not json_client.connected and not msgpack_client.connected
    assert msgpack_client.connect_error == json_client.connect_error == {"message": "Invalid namespace"}


# --- the gateway: every namespace, side by side ---------------------------------------------------

@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    srv = configured_gateway(tmp_path_factory, "feed:\n  simulator:\n    ticksPerSecond: 50\n    seed: 5\n")
    yield srv
    assert srv.alive()
    srv.stop()


def test_prices_and_market_arrive_the_same_over_both_parsers(gateway):
    json_prices, msgpack_prices = pair(gateway, "/prices")
    for client in (json_prices, msgpack_prices):
        assert client.call("subscribe", {"symbols": ["BTC/USDT"]})["ok"] is True
    for client in (json_prices, msgpack_prices):
        client.wait_for("price.update", count=5)
    # The same broadcasts: every update both saw is equal, field for field.
    by_ts = lambda client: {args[0]["ts"]: args[0] for args in client.all("price.update")}
    json_seen, msgpack_seen = by_ts(json_prices), by_ts(msgpack_prices)
    common = set(json_seen) & set(msgpack_seen)
    assert len(common) >= 3
    for ts in common:
        assert json_seen[ts] == msgpack_seen[ts]

    json_market, msgpack_market = pair(gateway, "/market")
    acks = [client.call("subscribe", {"channels": ["depth", "trades"], "symbols": ["ETH/USDT"], "cadence": "raw"})
            for client in (json_market, msgpack_market)]
    assert [ack["ok"] for ack in acks] == [True, True]
    assert acks[0].keys() == acks[1].keys()
    for client in (json_market, msgpack_market):
        client.wait_for("market.depth", count=5)
    by_seq = lambda client: {args[0]["seq"]: args[0] for args in client.all("market.depth")}
    json_depth, msgpack_depth = by_seq(json_market), by_seq(msgpack_market)
    common = set(json_depth) & set(msgpack_depth)
    assert common
    for seq in common:
        assert json_depth[seq] == msgpack_depth[seq]
    # Errors are the same objects too.
    bad = [client.call("subscribe", {"channels": ["depth"], "symbols": ["NOPE/NOPE"]}) for client in (json_market, msgpack_market)]
    assert bad[0] == bad[1] and bad[0]["ok"] is False
    for client in (json_prices, msgpack_prices, json_market, msgpack_market):
        client.close()


def test_user_events_with_their_offsets_and_admin_commands_over_both_parsers(gateway):
    user = token("mp-user")
    json_user, msgpack_user = pair(gateway, "/user", auth={"token": user})
    assert json_user.connected and msgpack_user.connected
    headers = {"Authorization": f"Bearer {token('producer', role='service')}"}
    for n in range(3):
        r = requests.post(f"{gateway.base}/api/v1/users/mp-user/events", json={"event": "order.update", "data": {"n": n, "px": "1.5"}},
                          headers=headers, timeout=5)
        assert r.status_code == 202, r.text
    json_events = json_user.wait_for("order.update", count=3)
    msgpack_events = msgpack_user.wait_for("order.update", count=3)
    # The whole argument list, the recovery offset after the payload included.
    assert json_events == msgpack_events
    assert [args[0]["n"] for args in msgpack_events] == [0, 1, 2]

    json_refused, msgpack_refused = pair(gateway, "/user", auth={"token": "not-a-token"})
    assert not json_refused.connected and not msgpack_refused.connected
    assert msgpack_refused.connect_error == json_refused.connect_error
    assert msgpack_refused.connect_error["data"]["code"] == "UNAUTHORIZED"

    admin = token("ops", role="admin")
    json_admin, msgpack_admin = pair(gateway, "/admin", auth={"token": admin})
    stats = [client.call("admin.command", {"command": "stats"}) for client in (json_admin, msgpack_admin)]
    assert stats[0].keys() == stats[1].keys() and stats[1]["ok"] is True
    for client in (json_user, msgpack_user, json_admin, msgpack_admin):
        client.close()


def test_malformed_msgpack_closes_only_that_connection(gateway):
    import websocket
    watcher = Client(gateway, "/prices", serializer="msgpack")
    watcher.call("subscribe", {"symbols": ["BTC/USDT"]})
    malformed_before = metric(gateway, "gateway_malformed_packets_total")
    ws = websocket.create_connection(f"ws://127.0.0.1:{gateway.port}/{MSGPACK_PATH}/?EIO=4&transport=websocket", timeout=5)
    assert ws.recv().startswith("0{")
    ws.send_binary(b"\xdd\xff\xff\xff\xff")  # an array that claims 4 billion elements
    with pytest.raises((websocket.WebSocketConnectionClosedException, ConnectionError)):
        for _ in range(10):
            ws.recv()
    assert metric(gateway, "gateway_malformed_packets_total") == malformed_before + 1
    count = len(watcher.all("price.update"))
    watcher.wait_for("price.update", count=count + 3)
    watcher.close()


class MsgpackSocket:
    """A raw msgpack-parser Socket.IO client over websocket-client: what python-socketio does not
    expose (the CONNECT reply's `pid`, event offsets, an abrupt drop)."""

    def __init__(self, server, namespace, auth):
        import msgpack
        import websocket
        self.msgpack = msgpack
        self.namespace = namespace
        self.ws = websocket.create_connection(f"ws://127.0.0.1:{server.port}/{MSGPACK_PATH}/?EIO=4&transport=websocket", timeout=5)
        assert self.ws.recv().startswith("0{")
        self.ws.send_binary(msgpack.packb({"type": 0, "data": auth, "nsp": namespace}))
        reply = self.packet()
        assert reply["type"] == 0 and reply["nsp"] == namespace, reply
        self.connect_data = reply["data"]

    def packet(self, timeout=5):
        """The next Socket.IO packet (a MessagePack map), answering Engine.IO pings on the way."""
        self.ws.settimeout(timeout)
        while True:
            frame = self.ws.recv()
            if frame == "2":
                self.ws.send("3")
                continue
            assert isinstance(frame, bytes), f"a msgpack socket got text: {frame!r}"
            return self.msgpack.unpackb(frame)

    def events(self, count, timeout=5):
        found = []
        while len(found) < count:
            packet = self.packet(timeout)
            if packet["type"] == 2:
                found.append((packet["data"][0], packet["data"][1:]))
        return found

    def drop(self):
        import socket
        self.ws.sock.shutdown(socket.SHUT_RDWR)
        self.ws.sock.close()

    def close(self):
        try:
            self.ws.close()
        except Exception:
            pass


def test_recovery_over_msgpack_replays_every_missed_event_with_its_offset(gateway):
    """The same connection state recovery as on the JSON path (test_recovery.py): pid in the
    CONNECT reply, the offset as the last argument, every missed event replayed in order."""
    from conftest import wait_until
    user = "mp-recovering"
    headers = {"Authorization": f"Bearer {token('producer', role='service')}"}

    def publish(n):
        r = requests.post(f"{gateway.base}/api/v1/users/{user}/events", json={"event": "order.update", "data": {"n": n}},
                          headers=headers, timeout=5)
        assert r.status_code == 202, r.text

    first = MsgpackSocket(gateway, "/user", {"token": token(user), "recovery": True})
    pid, sid = first.connect_data["pid"], first.connect_data["sid"]
    assert first.connect_data["recovered"] is False and pid
    publish(0)
    [(name, args)] = first.events(1)
    assert name == "order.update" and args[0] == {"n": 0} and isinstance(args[1], str)
    offset = args[1]
    connected = metric(gateway, "gateway_connections", '{namespace="/user"}')
    first.drop()
    wait_until(lambda: metric(gateway, "gateway_connections", '{namespace="/user"}') < connected, timeout=10)
    for n in range(1, 4):
        publish(n)
    again = MsgpackSocket(gateway, "/user", {"token": token(user), "pid": pid, "offset": offset})
    assert again.connect_data == {"sid": sid, "pid": pid, "recovered": True}
    missed = again.events(3)
    assert [args[0] for _, args in missed] == [{"n": 1}, {"n": 2}, {"n": 3}]
    offsets = [int(args[1]) for _, args in missed]
    assert offsets == sorted(offsets) and offsets[0] > int(offset)
    again.close()
