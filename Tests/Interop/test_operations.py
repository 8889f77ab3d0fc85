"""Operations end to end: admin broadcast, kick, maintenance, stats and metrics over /admin with
python-socketio; the health, limits and broadcast HTTP endpoints with their JSON errors."""
import time

import pytest
import requests

from auth_helpers import SECRET, Conn, refusal, token
from conftest import Server
from scrape import metric


@pytest.fixture(scope="module")
def gateway():
    srv = Server("gateway", ["serve"], env={"JWT_SECRET": SECRET, "LOG_LEVEL": "warning"})
    yield srv
    assert srv.alive()
    srv.stop()


def admin(server):
    conn = Conn(server, "/admin", auth={"token": token("ops", role="admin")})
    assert conn.connected
    return conn


def everyone(server, uid="u-ops"):
    return {
        "/": Conn(server, "/"),
        "/prices": Conn(server, "/prices"),
        "/market": Conn(server, "/market"),
        "/user": Conn(server, "/user", auth={"token": token(uid)}),
    }


def close_all(conns):
    for conn in conns:
        conn.close()


def test_admin_broadcast_reaches_every_namespace(gateway):
    ops = admin(gateway)
    clients = everyone(gateway)
    reply = ops.call("admin.broadcast", {"message": "Trading resumes at 10:00", "level": "warning"})
    assert reply["ok"] is True
    for namespace, conn in clients.items():
        got = conn.wait_for("system.broadcast")
        assert got["message"] == "Trading resumes at 10:00" and got["level"] == "warning" and got["ts"] > 0, namespace
    close_all([ops, *clients.values()])


def test_admin_broadcast_to_chosen_namespaces_only(gateway):
    ops = admin(gateway)
    clients = everyone(gateway, "u-ops2")
    assert ops.call("admin.broadcast", {"message": "prices only", "namespaces": ["/prices"]})["ok"] is True
    assert clients["/prices"].wait_for("system.broadcast")["message"] == "prices only"
    time.sleep(0.3)
    for namespace in ("/", "/market", "/user"):
        assert all(e != "system.broadcast" for e, _ in clients[namespace].events), namespace
    bad = ops.call("admin.broadcast", {"message": "x", "namespaces": ["/nowhere"]})
    assert bad["ok"] is False and bad["error"]["code"] == "INVALID_PAYLOAD"
    assert ops.call("admin.broadcast", {"level": "info"})["error"]["code"] == "INVALID_PAYLOAD"
    close_all([ops, *clients.values()])


def test_kick_by_user_id_and_by_sid(gateway):
    ops = admin(gateway)
    a1 = Conn(gateway, "/user", auth={"token": token("u-kick")})
    a2 = Conn(gateway, "/prices", auth={"token": token("u-kick")})
    bystander = Conn(gateway, "/user", auth={"token": token("u-stays")})
    reply = ops.call("admin.command", {"command": "kick", "userId": "u-kick"})
    assert reply == {"ok": True, "kicked": 2}
    assert a1.disconnected.wait(3) and a2.disconnected.wait(3)
    assert bystander.call("ping", {})["ok"] is True
    victim = Conn(gateway, "/prices")
    sid = victim.wait_for("connection.authenticated")["sid"]
    assert ops.call("admin.command", {"command": "kick", "sid": sid}) == {"ok": True, "kicked": 1}
    assert victim.disconnected.wait(3)
    assert ops.call("admin.command", {"command": "kick", "userId": "nobody"}) == {"ok": True, "kicked": 0}
    assert ops.call("admin.command", {"command": "kick"})["error"]["code"] == "INVALID_PAYLOAD"
    close_all([ops, a1, a2, bystander, victim])


def test_maintenance_refuses_then_restores(gateway):
    ops = admin(gateway)
    market = Conn(gateway, "/market")
    assert ops.call("admin.command", {"command": "maintenance", "enabled": True, "message": "Back at 10:00"}) == {
        "ok": True, "maintenance": True}
    assert market.wait_for("system.broadcast")["message"] == "Back at 10:00"
    status = market.wait_for("market.status")
    assert status["status"] == "maintenance" and status["symbol"]
    message, code = refusal(gateway, "/prices")
    assert code == "MAINTENANCE" and message == "Back at 10:00"
    assert refusal(gateway, "/user", auth={"token": token("u-m")})[1] == "MAINTENANCE"
    other_admin = admin(gateway)                        # /admin stays open
    assert requests.get(f"{gateway.base}/health", timeout=5).json()["status"] == "degraded"
    assert ops.call("admin.command", {"command": "maintenance", "enabled": False})["maintenance"] is False
    fresh = Conn(gateway, "/prices")
    assert fresh.connected
    deadline = time.time() + 3
    while time.time() < deadline and not any(e == "market.status" and d["status"] == "trading" for e, d in market.events):
        time.sleep(0.05)
    assert any(e == "market.status" and d["status"] == "trading" for e, d in market.events)
    close_all([ops, market, other_admin, fresh])


def test_stats_and_metrics_commands(gateway):
    ops = admin(gateway)
    user = Conn(gateway, "/user", auth={"token": token("u-stats")})
    stats = ops.call("admin.command", {"command": "stats"})["stats"]
    assert stats["connections"]["/user"] >= 1 and stats["connections"]["/admin"] >= 1
    assert stats["uniqueUsers"] >= 1 and stats["redis"] == "disabled" and stats["engineConnections"] >= 2
    assert ops.call("admin.metrics", {})["metrics"]["messagesIn"] >= 1
    assert ops.call("admin.command", {"command": "reboot"})["error"]["code"] == "INVALID_PAYLOAD"
    close_all([ops, user])


def test_admin_stats_arrive_every_five_seconds(gateway):
    ops = admin(gateway)
    first = ops.wait_for("admin.stats", timeout=7)
    assert "connections" in first and "messagesOutPerSecond" in first
    ops.close()


def test_health_endpoints(gateway):
    conn = Conn(gateway, "/user", auth={"token": token("u-health")})
    ws = requests.get(f"{gateway.base}/health/websocket", timeout=5).json()
    assert ws["status"] == "ok" and ws["activeConnections"] >= 1 and ws["uniqueUsers"] >= 1 and ws["uptime"] >= 0
    assert requests.get(f"{gateway.base}/health/redis", timeout=5).json() == {"status": "disabled"}
    assert metric(gateway, "gateway_redis_configured") == 0 and metric(gateway, "gateway_redis_up") == 0
    conn.close()


def test_limits_endpoint(gateway):
    limits = requests.get(f"{gateway.base}/api/v1/limits", timeout=5).json()
    assert limits["maxPayload"] == 1000000
    assert limits["rateLimits"]["/user"] == {"points": 50, "durationSeconds": 1, "blockSeconds": 60}
    assert limits["subscriptions"]["maxSymbolsPerConnection"] == 100
    assert "BTC/USDT" in limits["symbols"] and limits["depthCadences"] == ["raw", "100ms", "1000ms"]


def test_http_broadcast_auth_rules(gateway):
    url = f"{gateway.base}/api/v1/broadcast"
    body = {"message": "via http", "namespaces": ["/"]}
    r = requests.post(url, json=body, timeout=5)
    assert r.status_code == 401 and r.json()["error"]["code"] == "UNAUTHORIZED"
    r = requests.post(url, json=body, headers={"Authorization": f"Bearer {token('u1')}"}, timeout=5)
    assert r.status_code == 403 and r.json()["error"]["code"] == "FORBIDDEN"
    r = requests.post(url, json=body, headers={"Authorization": "Bearer garbage"}, timeout=5)
    assert r.status_code == 401
    listener = Conn(gateway, "/")
    r = requests.post(url, json=body, headers={"Authorization": f"Bearer {token('ops', role='admin')}"}, timeout=5)
    assert r.status_code == 202 and r.json()["accepted"] is True
    assert listener.wait_for("system.broadcast")["message"] == "via http"
    r = requests.post(url, data="{not json", headers={"Authorization": f"Bearer {token('ops', role='admin')}"}, timeout=5)
    assert r.status_code == 400 and r.json()["error"]["code"] == "INVALID_PAYLOAD"
    listener.close()


def test_unknown_routes_answer_json_404(gateway):
    r = requests.get(f"{gateway.base}/api/v1/nothing-here", timeout=5)
    assert r.status_code == 404 and r.json()["error"]["code"] == "NOT_FOUND"
