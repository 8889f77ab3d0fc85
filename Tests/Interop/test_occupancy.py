"""Who watches what (issue 24, part 4): subscribers per symbol and channel added up over two
instances on one real redis-server, and `market.occupancy` to every /admin socket when a symbol
gains its first subscriber anywhere in the cluster or has had none anywhere for a second."""
import time

import pytest
import requests

from auth_helpers import Conn, token
from conftest import configured_gateway, wait_until

PREFIX = "occ:"


@pytest.fixture(scope="module")
def pair(tmp_path_factory, redis_server):
    gateways = [configured_gateway(tmp_path_factory, "", env={
        "FEED_SOURCE": "none", "REDIS_URL": redis_server.url, "REDIS_PREFIX": PREFIX,
    }) for _ in range(2)]
    for gateway in gateways:
        wait_until(lambda: requests.get(f"{gateway.base}/health/redis", timeout=5).status_code == 200)
    wait_until(lambda: redis_server.cli("PUBSUB", "NUMSUB", PREFIX + "bus:all").split()[-1] == "2")
    yield gateways
    for gateway in gateways:
        assert gateway.alive()
        gateway.stop()


def occupancy_events(conn, symbol):
    return [data for event, data in conn.events if event == "market.occupancy" and data["symbol"] == symbol]


def test_first_and_last_subscriber_across_instances_and_the_summed_table(pair):
    a, b = pair
    admin_a = Conn(a, "/admin", auth={"token": token("ops", role="admin")})
    admin_b = Conn(b, "/admin", auth={"token": token("ops", role="admin")})
    symbol = "SOL/USDT"

    watcher_a = Conn(a, "/prices")
    assert watcher_a.call("subscribe", {"symbols": [symbol]})["ok"] is True
    for admin in (admin_a, admin_b):
        wait_until(lambda: len(occupancy_events(admin, symbol)) == 1, message=lambda: f"no first-subscriber notice: {admin.events}")
        first = occupancy_events(admin, symbol)[0]
        assert first["watched"] is True and first["version"] >= 1

    # A second subscriber, on the other instance and another channel: no notice, both counted.
    watcher_b = Conn(b, "/market")
    assert watcher_b.call("subscribe", {"channels": ["depth", "trades"], "symbols": [symbol]})["ok"] is True
    reply = admin_b.call("admin.command", {"command": "occupancy", "symbol": symbol})
    assert reply == {"ok": True, "occupancy": {symbol: {"depth": 1, "prices": 1, "trades": 1}}, "instances": 2}
    stats = admin_a.call("admin.command", {"command": "stats"})["stats"]
    assert stats["occupancy"]["symbols"][symbol] == {"depth": 1, "prices": 1, "trades": 1}

    # The instance that had the first subscriber loses it: somebody still watches, nothing is said.
    watcher_a.close()
    time.sleep(2.0)
    assert len(occupancy_events(admin_a, symbol)) == 1 and len(occupancy_events(admin_b, symbol)) == 1
    assert admin_a.call("admin.command", {"command": "occupancy", "symbol": symbol})["occupancy"] == {symbol: {"depth": 1, "trades": 1}}

    # The last subscriber anywhere leaves: after a second with none, every admin hears it once.
    watcher_b.close()
    for admin in (admin_a, admin_b):
        wait_until(lambda: len(occupancy_events(admin, symbol)) == 2, timeout=8)
        last = occupancy_events(admin, symbol)[1]
        assert last["watched"] is False and last["version"] > first["version"]
    time.sleep(1.0)
    assert len(occupancy_events(admin_a, symbol)) == 2
    assert admin_b.call("admin.command", {"command": "occupancy", "symbol": symbol})["occupancy"] == {}


def test_a_resubscribe_within_the_second_says_nothing(pair):
    a, b = pair
    admin = Conn(b, "/admin", auth={"token": token("ops", role="admin")})
    symbol = "XRP/USDT"
    first = Conn(a, "/prices")
    assert first.call("subscribe", {"symbols": [symbol]})["ok"] is True
    wait_until(lambda: len(occupancy_events(admin, symbol)) == 1)
    assert first.call("unsubscribe", {"symbols": [symbol]})["ok"] is True
    assert first.call("subscribe", {"symbols": [symbol]})["ok"] is True
    time.sleep(2.5)
    assert [e["watched"] for e in occupancy_events(admin, symbol)] == [True]
    first.close()


def test_a_malformed_occupancy_request_is_refused(pair):
    admin = Conn(pair[0], "/admin", auth={"token": token("ops", role="admin")})
    reply = admin.call("admin.command", {"command": "occupancy", "symbol": 7})
    assert reply["ok"] is False and reply["error"]["code"] == "INVALID_PAYLOAD"
