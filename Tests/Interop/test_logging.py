"""Logs as an operator reads them (LOG_FORMAT=json): one object per line with who it is about
(socket id, namespace, user id), admin actions with the admin's user id, refusals with their
code — and never a token or the secret."""
import json
import time

from auth_helpers import SECRET, Conn, token
from conftest import Server


def records(server):
    out = []
    for line in server.output().splitlines():
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


def test_json_logs_carry_structured_metadata_and_no_secrets():
    gateway = Server("gateway", ["serve"], env={"JWT_SECRET": SECRET, "LOG_LEVEL": "debug", "LOG_FORMAT": "json", "FEED_SOURCE": "none"})
    try:
        user_token = token("log-user")
        admin_token = token("log-admin", role="admin")
        user = Conn(gateway, "/user", auth={"token": user_token})
        admin = Conn(gateway, "/admin", auth={"token": admin_token})
        refused = Conn(gateway, "/user", auth={"token": "not-a-jwt"})
        assert user.connected and admin.connected and not refused.connected
        assert admin.call("admin.command", {"command": "kick", "userId": "log-user"})["kicked"] == 1
        time.sleep(0.5)
        logs = records(gateway)
        assert logs, "LOG_FORMAT=json writes one JSON object per line"

        connected = [r for r in logs if r["message"] == "Socket connected" and r.get("user.id") == "log-user"]
        assert connected and connected[0]["namespace"] == "/user" and connected[0]["socket.id"]
        gone = [r for r in logs if r["message"] == "Socket disconnected" and r.get("user.id") == "log-user"]
        assert gone and gone[0]["close.reason"] == "kicked"
        action = [r for r in logs if r["message"] == "Admin request"]
        assert action and action[0]["user.id"] == "log-admin" and action[0]["admin.command"] == "kick"
        refusal = [r for r in logs if r["message"] == "Connection refused"]
        assert refusal and refusal[0]["refusal.code"] == "UNAUTHORIZED" and refusal[0]["namespace"] == "/user"

        text = gateway.output()
        for secret in (SECRET, user_token, admin_token, "not-a-jwt"):
            assert secret not in text, "tokens and secrets are never logged"
        for conn in (user, admin, refused):
            conn.close()
    finally:
        gateway.stop()
