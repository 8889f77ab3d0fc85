"""Interop with the stock python-socketio client from PyPI: default transports (polling, then
the WebSocket upgrade), WebSocket-only and polling-only; namespaces, acks both ways, room
broadcasts, binary both ways, CONNECT_ERROR and disconnects."""
import threading
import time

import pytest
import socketio

TRANSPORTS = {
    "default": None,
    "websocket-only": ["websocket"],
    "polling-only": ["polling"],
}


def connect(server, transports, namespaces=("/",), auth=None, **handlers):
    client = socketio.Client(reconnection=False)
    events = {}
    cond = threading.Condition()

    def recorder(name, namespace):
        def record(*args):
            with cond:
                events.setdefault((namespace, name), []).append(args)
                cond.notify_all()
        return record

    for namespace in namespaces:
        for name in ("auth", "message-back", "news", "file"):
            client.on(name, recorder(name, namespace), namespace=namespace)
    client.connect(server.base, transports=transports, namespaces=list(namespaces), auth=auth, wait_timeout=5)

    def wait_for(name, namespace="/", count=1, timeout=5):
        deadline = time.time() + timeout
        with cond:
            while len(events.get((namespace, name), [])) < count:
                remaining = deadline - time.time()
                if remaining <= 0:
                    raise AssertionError(f"no {name} on {namespace}: {events}")
                cond.wait(remaining)
            return events[(namespace, name)]

    client.wait_for = wait_for
    return client


@pytest.mark.parametrize("mode", TRANSPORTS)
def test_connect_emit_with_ack_and_disconnect(slow_server, mode):
    client = connect(slow_server, TRANSPORTS[mode], auth={"token": "abc"})
    if mode == "default":
        time.sleep(0.3)
        assert client.transport() == "websocket", "the default client upgrades to WebSocket"
    assert client.wait_for("auth")[0] == ({"token": "abc"},)
    assert client.call("message-with-ack", {"a": [1, 2.5, True, None]}, timeout=5) == {"a": [1, 2.5, True, None]}
    client.emit("message", "hello")
    assert client.wait_for("message-back")[0] == ("hello",)
    client.disconnect()
    assert not client.connected


@pytest.mark.parametrize("mode", TRANSPORTS)
def test_binary_both_ways(slow_server, mode):
    client = connect(slow_server, TRANSPORTS[mode])
    payload = bytes(range(256)) * 4
    client.emit("message", {"name": "blob", "data": payload})
    echoed = client.wait_for("message-back")[0][0]
    assert echoed == {"name": "blob", "data": payload}
    assert client.call("message-with-ack", payload, timeout=5) == payload
    client.disconnect()


@pytest.mark.parametrize("mode", TRANSPORTS)
def test_room_broadcast_reaches_members_only(slow_server, mode):
    member = connect(slow_server, TRANSPORTS[mode], namespaces=("/custom",))
    outsider = connect(slow_server, ["websocket"], namespaces=("/custom",))
    sender = connect(slow_server, ["websocket"], namespaces=("/custom",))
    assert member.call("join", "room-1", namespace="/custom", timeout=5) is True
    assert sender.call("broadcast", ("room-1", "news", {"headline": "up"}), namespace="/custom", timeout=5) is True
    assert member.wait_for("news", "/custom")[0] == ({"headline": "up"},)
    time.sleep(0.3)
    assert member.wait_for("news", "/custom") == [({"headline": "up"},)]
    with pytest.raises(AssertionError):
        outsider.wait_for("news", "/custom", timeout=0.3)
    for client in (member, outsider, sender):
        client.disconnect()


def test_several_namespaces_on_one_connection(slow_server):
    client = connect(slow_server, None, namespaces=("/", "/custom"), auth={"k": "v"})
    assert client.wait_for("auth", "/")[0] == ({"k": "v"},)
    assert client.wait_for("auth", "/custom")[0] == ({"k": "v"},)
    assert client.call("message-with-ack", "main", namespace="/", timeout=5) == "main"
    assert client.call("message-with-ack", "custom", namespace="/custom", timeout=5) == "custom"
    client.disconnect()


def test_unknown_namespace_is_refused(slow_server):
    client = socketio.Client(reconnection=False)
    errors = []
    client.on("connect_error", lambda data: errors.append(data), namespace="/nowhere")
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(slow_server.base, namespaces=["/nowhere"], transports=["websocket"], wait_timeout=3)
    assert errors == [{"message": "Invalid namespace"}]


def test_server_side_namespace_disconnect(slow_server):
    client = connect(slow_server, ["websocket"])
    gone = threading.Event()
    client.on("disconnect", lambda *args: gone.set())
    client.emit("disconnect-me")
    assert gone.wait(5)
    client.disconnect()


@pytest.mark.parametrize("mode", TRANSPORTS)
def test_the_asyncio_client_connects_upgrades_and_calls(slow_server, mode):
    """python-socketio's AsyncClient (aiohttp, which sends the upgrade on a pooled polling
    connection) in each transport mode."""
    import asyncio

    async def scenario():
        client = socketio.AsyncClient(reconnection=False)
        await client.connect(slow_server.base, transports=TRANSPORTS[mode], auth={"token": "async"}, wait_timeout=5)
        if mode == "default":
            for _ in range(250):
                if client.transport() == "websocket":
                    break
                await asyncio.sleep(0.02)
            assert client.transport() == "websocket", "the default AsyncClient upgrades to WebSocket"
        reply = await client.call("message-with-ack", {"n": 1}, timeout=5)
        await client.disconnect()
        return reply

    assert asyncio.run(scenario()) == {"n": 1}
