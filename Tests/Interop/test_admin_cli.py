"""`gateway admin …` as an operator runs it: it talks to /admin like any Socket.IO client."""
import json
import os
import subprocess

import pytest

from auth_helpers import SECRET, Conn, token
from conftest import BIN_DIR, Server


@pytest.fixture(scope="module")
def gateway():
    srv = Server("gateway", ["serve"], env={"JWT_SECRET": SECRET, "LOG_LEVEL": "warning"})
    yield srv
    srv.stop()


def admin_cli(server, *args, role="admin"):
    result = subprocess.run([os.path.join(BIN_DIR, "gateway"), "admin", *args, "--url", server.base,
                             "--token", token("cli", role=role)], capture_output=True, text=True, timeout=30)
    return result.returncode, result.stdout, result.stderr


def test_stats(gateway):
    code, out, _ = admin_cli(gateway, "stats")
    assert code == 0
    stats = json.loads(out)["stats"]
    assert stats["connections"]["/admin"] == 1 and stats["redis"] == "disabled"


def test_broadcast_reaches_clients(gateway):
    listener = Conn(gateway, "/prices")
    code, out, _ = admin_cli(gateway, "broadcast", "from the cli", "--level", "critical", "--namespace", "/prices")
    assert code == 0 and json.loads(out) == {"ok": True, "namespaces": ["/prices"]}
    got = listener.wait_for("system.broadcast")
    assert got["message"] == "from the cli" and got["level"] == "critical"
    listener.close()


def test_kick_and_maintenance(gateway):
    victim = Conn(gateway, "/user", auth={"token": token("u-cli")})
    code, out, _ = admin_cli(gateway, "kick", "--user", "u-cli")
    assert code == 0 and json.loads(out) == {"ok": True, "kicked": 1}
    assert victim.disconnected.wait(3)
    assert admin_cli(gateway, "maintenance", "on", "--message", "brb")[0] == 0
    assert Conn(gateway, "/prices").connect_error["data"]["code"] == "MAINTENANCE"
    assert admin_cli(gateway, "maintenance", "off")[0] == 0
    assert Conn(gateway, "/prices").connected


def test_non_admin_token_is_refused_with_a_clear_error(gateway):
    code, out, err = admin_cli(gateway, "stats", role="user")
    assert code == 1 and out == "" and "FORBIDDEN" in err


def test_bad_arguments_fail_before_connecting(gateway):
    code, _, err = admin_cli(gateway, "kick")
    assert code != 0 and "exactly one of --user and --sid" in err
