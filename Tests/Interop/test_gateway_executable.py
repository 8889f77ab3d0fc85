"""The `gateway` executable as a newcomer uses it: serve with the embedded defaults, connect a
stock python-socketio client to `/`, shut down cleanly on SIGTERM, and refuse bad configuration."""
import os
import signal
import subprocess
import threading
import time

import socket

import pytest
import requests
import socketio

from conftest import BIN_DIR, Server, free_port

GATEWAY = os.path.join(BIN_DIR, "gateway")
REPO = os.path.join(os.path.dirname(__file__), "..", "..")


@pytest.fixture()
def gateway():
    srv = Server("gateway", ["serve", "--config", os.path.join(REPO, "config", "gateway.yaml")])
    yield srv
    srv.stop()


def test_default_client_connects_to_root_and_pings(gateway):
    client = socketio.Client(reconnection=False)
    client.connect(gateway.base)
    time.sleep(0.3)
    assert client.transport() == "websocket"
    reply = client.call("ping", {}, timeout=5)
    assert reply["ok"] is True and abs(reply["ts"] - time.time() * 1000) < 60_000
    client.disconnect()


def test_unknown_event_without_ack_gets_an_error_event(gateway):
    client = socketio.Client(reconnection=False)
    errors = []
    got = threading.Event()
    client.on("error", lambda data: (errors.append(data), got.set()))
    client.connect(gateway.base, transports=["websocket"])
    client.emit("no.such.event", {})
    assert got.wait(5)
    assert errors[0]["code"] == "UNKNOWN_EVENT" and errors[0]["event"] == "no.such.event"
    client.call("ping", {}, timeout=5)
    with_ack = client.call("no.such.event", {}, timeout=5)
    assert with_ack["ok"] is False and with_ack["error"]["code"] == "UNKNOWN_EVENT"
    client.disconnect()


def test_metrics_and_health_answer(gateway):
    client = socketio.Client(reconnection=False)
    client.connect(gateway.base, transports=["websocket"])
    text = requests.get(f"{gateway.base}/metrics", timeout=5).text
    assert 'gateway_connections{namespace="/"} 1' in text
    assert 'gateway_engine_connections{transport="websocket"} 1' in text
    client.disconnect()
    health = requests.get(f"{gateway.base}/health", timeout=5).json()
    assert health["status"] == "ok" and health["uptime"] >= 0


def test_sigterm_tells_every_client_and_exits_zero(gateway):
    clients, notices = [], []
    lock = threading.Lock()
    for transports in (["websocket"], ["polling"], None):
        client = socketio.Client(reconnection=False)
        client.on("server.shutdown", lambda data: (lock.acquire(), notices.append(data), lock.release()))
        client.connect(gateway.base, transports=transports)
        clients.append(client)
    gateway.process.send_signal(signal.SIGTERM)
    assert gateway.process.wait(timeout=15) == 0
    deadline = time.time() + 5
    while len(notices) < 3 and time.time() < deadline:
        time.sleep(0.05)
    assert len(notices) == 3
    assert notices[0]["reconnectAfterMs"] > 0 and notices[0]["message"]
    for client in clients:
        client.disconnect()


def run_check(args, env=None):
    return subprocess.run([GATEWAY, "check-config", *args], capture_output=True, text=True, timeout=30,
                          env={**os.environ, **(env or {})})


def test_check_config_accepts_the_shipped_file():
    result = run_check(["--config", os.path.join(REPO, "config", "gateway.yaml")])
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_config_names_each_bad_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("server:\n  port: 99999\n  pingIntervall: 5\nlogging:\n  format: xml\n")
    result = run_check(["--config", str(bad)], env={"WS_MAX_PAYLOAD": "lots"})
    assert result.returncode != 0
    out = result.stdout + result.stderr
    assert "server.port = '99999'" in out
    assert "server.pingIntervall: unknown key" in out
    assert "logging.format = 'xml'" in out
    assert "server.maxPayload = 'lots' (from WS_MAX_PAYLOAD)" in out


def test_serve_refuses_to_start_half_configured():
    result = subprocess.run([GATEWAY, "serve"], capture_output=True, text=True, timeout=30,
                            env={**os.environ, "WS_PORT": "not-a-port"}, cwd=REPO)
    assert result.returncode != 0
    assert "server.port = 'not-a-port' (from WS_PORT)" in result.stderr


STARTUP_CROWD_REQUESTS = [
    b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
    b"Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n",
]


def test_a_crowd_connecting_the_instant_the_port_opens_does_no_harm():
    """Clients (health checkers, reconnecting crowds) that connect the moment the port opens,
    from many threads at once, get answers, and the gateway stays up. Guards the start-up
    warm-up (a Swift runtime race on first use of types crashed the gateway once)."""
    for _ in range(4):
        port = free_port()
        process = subprocess.Popen(
            [GATEWAY, "serve", "--config", os.path.join(REPO, "config", "gateway.yaml"), "--port", str(port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        answered = []

        def crowd(k):
            deadline = time.time() + 20
            sent = 0
            while time.time() < deadline and sent < 3:
                try:
                    conn = socket.create_connection(("127.0.0.1", port), timeout=2)
                except OSError:
                    time.sleep(0.002)
                    continue
                with conn:
                    conn.sendall(STARTUP_CROWD_REQUESTS[(k + sent) % 3])
                    answered.append(conn.recv(12).startswith(b"HTTP/1.1"))
                sent += 1

        try:
            threads = [threading.Thread(target=crowd, args=(k,)) for k in range(12)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert answered.count(True) == 36
            assert requests.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200
            assert process.poll() is None
        finally:
            process.terminate()
            process.wait(timeout=15)
