"""Presence the backend can act on (issue 24, part 4): the gateway POSTs `user.online` when a
user's first `/user` socket connects anywhere in the cluster and `user.offline` when the last one
has been gone for `presence.graceMs` with none coming back anywhere; a reconnect within the grace
sends nothing. Each notice is signed (HMAC-SHA256 over "<timestamp>.<body>") and carries a
version that grows per user. Delivery is in order and at least once: a failing or unreachable
receiver is retried with backoff, head of line; a 4xx other than 408/429 is not retried.

A real receiver (presence_helpers.Receiver, a Python HTTP server) records what arrives;
python-socketio clients connect with PyJWT tokens; cluster mode runs on a real redis-server."""
import os
import subprocess
import time
import uuid

import pytest
import requests

from auth_helpers import Conn, SECRET, token
from conftest import BIN_DIR, configured_gateway, free_port, wait_until
from presence_helpers import Receiver, WEBHOOK_SECRET, check_notice, presence_env
from scrape import metric

GRACE_MS = 1200
GRACE = GRACE_MS / 1000


def uid(name):
    return f"{name}-{uuid.uuid4().hex[:8]}"


def user_socket(gateway, user):
    conn = Conn(gateway, "/user", auth={"token": token(user)})
    assert conn.connected, f"{user} could not connect to /user on {gateway.base}: {conn.connect_error}"
    return conn


def quiet(receiver, user, seconds):
    """Waits `seconds`; returns every request about `user` that arrived meanwhile."""
    before = len(receiver.all(user))
    time.sleep(seconds)
    return receiver.all(user)[before:]


def notices_metric(gateway, result):
    return metric(gateway, "gateway_presence_notices_total", f'{{result="{result}"}}')


@pytest.fixture
def receiver():
    rec = Receiver()
    yield rec
    rec.stop()


@pytest.fixture
def gateway(tmp_path_factory, receiver):
    srv = configured_gateway(tmp_path_factory, "", env=presence_env(receiver, GRACE_MS))
    yield srv
    assert srv.alive(), "the gateway must survive the test"
    srv.stop()


def test_online_once_then_offline_only_after_the_grace(gateway, receiver):
    alice = uid("alice")
    # Sockets on other namespaces, even authenticated ones, are not presence.
    prices = Conn(gateway, "/prices", auth={"token": token(alice)})
    assert prices.connected
    assert quiet(receiver, alice, 0.5) == [], "a /prices socket is not a /user socket"

    first = user_socket(gateway, alice)
    [online] = receiver.wait_delivered(1, alice, timeout=5)
    online_body = check_notice(online, "user.online", alice)

    second = user_socket(gateway, alice)
    assert quiet(receiver, alice, 0.5) == [], "a second socket of an online user sends nothing"
    first.close()
    assert quiet(receiver, alice, GRACE + 0.8) == [], "one socket of two closed: still online, nothing sent, even past the grace"

    closed_at = time.time()
    second.close()
    wait_until(lambda: len(receiver.all(alice)) >= 2, timeout=GRACE + 5,
               message=lambda: f"no user.offline after the last socket closed: {receiver.all(alice)}")
    offline = receiver.all(alice)[1]
    offline_body = check_notice(offline, "user.offline", alice)
    waited = offline.at - closed_at
    assert waited >= GRACE - 0.1, f"user.offline {waited:.2f}s after the last socket closed, before the {GRACE}s grace"
    assert waited < GRACE + 3, f"user.offline only {waited:.2f}s after the last socket closed"
    assert offline_body["version"] > online_body["version"], (online_body, offline_body)
    assert offline_body["id"] != online_body["id"]
    assert quiet(receiver, alice, 0.5) == [], "nothing more"
    assert [a.body["type"] for a in receiver.all(alice)] == ["user.online", "user.offline"], "each notice exactly once"
    assert notices_metric(gateway, "queued") >= 2 and notices_metric(gateway, "delivered") >= 2
    prices.close()


def test_a_reconnect_within_the_grace_sends_nothing(gateway, receiver):
    bob = uid("bob")
    conn = user_socket(gateway, bob)
    [online] = receiver.wait_delivered(1, bob, timeout=5)
    online_body = check_notice(online, "user.online", bob)

    # A blip: gone for a third of the grace, then back.
    conn.close()
    time.sleep(GRACE / 3)
    conn = user_socket(gateway, bob)
    assert quiet(receiver, bob, GRACE + 1.0) == [], "a blip within the grace: no offline, no second online"

    # Another blip, and this time the returning socket leaves again soon after (before the first
    # departure's grace is over): offline comes one grace after the *last* departure, once.
    conn.close()
    time.sleep(GRACE / 4)
    conn = user_socket(gateway, bob)
    time.sleep(GRACE / 3)
    closed_at = time.time()
    conn.close()
    wait_until(lambda: len(receiver.all(bob)) >= 2, timeout=GRACE + 5,
               message=lambda: f"no user.offline after the last socket closed: {receiver.all(bob)}")
    offline = receiver.all(bob)[1]
    offline_body = check_notice(offline, "user.offline", bob)
    assert offline.at - closed_at >= GRACE - 0.1, \
        f"user.offline {offline.at - closed_at:.2f}s after the last departure, before the {GRACE}s grace"
    assert offline_body["version"] > online_body["version"]
    assert quiet(receiver, bob, 0.5) == []
    assert [a.body["type"] for a in receiver.all(bob)] == ["user.online", "user.offline"]


# Cluster mode.

@pytest.fixture
def cluster(tmp_path_factory, redis_server, receiver):
    prefix = f"pres-{uuid.uuid4().hex[:6]}:"
    env = presence_env(receiver, GRACE_MS, REDIS_URL=redis_server.url, REDIS_PREFIX=prefix)
    a = configured_gateway(tmp_path_factory, "", env=env)
    b = configured_gateway(tmp_path_factory, "", env=env)
    try:
        for gw in (a, b):
            wait_until(lambda: requests.get(f"{gw.base}/health/redis", timeout=5).status_code == 200)
        yield a, b
        for gw in (a, b):
            assert gw.alive(), "the gateway must survive the test"
    finally:
        a.stop()
        b.stop()


def test_presence_is_decided_once_across_the_cluster(cluster, receiver):
    a, b = cluster
    alice = uid("alice")
    on_a = user_socket(a, alice)
    [online] = receiver.wait_delivered(1, alice, timeout=5)
    assert check_notice(online, "user.online", alice)["version"] == 1, "the first version of a user in Redis"
    on_b = user_socket(b, alice)
    assert quiet(receiver, alice, 0.7) == [], "a socket on the other instance of a user online: nothing"

    on_a.close()
    assert quiet(receiver, alice, GRACE + 1.5) == [], "the user still has a socket on B: nothing, even past the grace (and the sweeps)"

    closed_at = time.time()
    on_b.close()
    wait_until(lambda: len(receiver.all(alice)) >= 2, timeout=GRACE + 5,
               message=lambda: f"no user.offline after the last socket (on B) closed: {receiver.all(alice)}")
    offline = receiver.all(alice)[1]
    assert check_notice(offline, "user.offline", alice)["version"] == 2
    assert offline.at - closed_at >= GRACE - 0.1, f"user.offline {offline.at - closed_at:.2f}s after the last socket closed"
    assert quiet(receiver, alice, 1.2) == [], "announced by one instance only"
    assert [(x.body["type"], x.body["version"]) for x in receiver.all(alice)] == [("user.online", 1), ("user.offline", 2)]

    # A user moving from A to B within the grace.
    carol = uid("carol")
    on_a = user_socket(a, carol)
    [online] = receiver.wait_delivered(1, carol, timeout=5)
    assert check_notice(online, "user.online", carol)["version"] == 1
    on_a.close()
    time.sleep(GRACE / 3)
    on_b = user_socket(b, carol)
    assert quiet(receiver, carol, GRACE + 1.5) == [], "moved from A to B within the grace: nothing"
    closed_at = time.time()
    on_b.close()
    wait_until(lambda: len(receiver.all(carol)) >= 2, timeout=GRACE + 5,
               message=lambda: f"no user.offline after carol left B: {receiver.all(carol)}")
    offline = receiver.all(carol)[1]
    assert check_notice(offline, "user.offline", carol)["version"] == 2
    assert offline.at - closed_at >= GRACE - 0.1
    assert quiet(receiver, carol, 1.2) == []
    assert [x.body["type"] for x in receiver.all(carol)] == ["user.online", "user.offline"]


# Delivery.

def test_a_receiver_that_is_down_gets_every_notice_in_order_once_it_is_back(gateway, receiver):
    """The receiver answers 503, then is stopped (connections refused), then comes back on the
    same port ~12 s after the first failure: every notice arrives, in order per user."""
    receiver.status = 503
    retried_before = notices_metric(gateway, "retried")
    users = {name: uid(name) for name in ("dora", "eli", "fay", "gus")}
    expected = {
        users["dora"]: ["user.online", "user.offline", "user.online"],
        users["eli"]: ["user.online"],
        users["fay"]: ["user.online", "user.offline"],
        users["gus"]: ["user.online", "user.offline", "user.online", "user.offline"],
    }
    started = time.time()
    conns = {user: user_socket(gateway, user) for user in users.values()}
    wait_until(lambda: receiver.all(), timeout=5, message="the first notice was never attempted")
    first_failure = receiver.all()[0].at
    time.sleep(0.3)
    for user in (users["dora"], users["fay"], users["gus"]):
        conns[user].close()
    time.sleep(GRACE + 0.8)  # offline decided for dora, fay, gus
    conns[users["dora"]] = user_socket(gateway, users["dora"])
    conns[users["gus"]] = user_socket(gateway, users["gus"])
    time.sleep(0.3)
    conns[users["gus"]].close()
    time.sleep(GRACE + 0.8)  # gus offline again

    receiver.stop()  # from 503 to down
    assert not any(a.accepted for a in receiver.all()), "nothing was accepted while the receiver answered 503"
    total = sum(len(kinds) for kinds in expected.values())
    assert notices_metric(gateway, "queued") == total, "every change was decided and queued meanwhile"
    time.sleep(max(0.0, first_failure + 12 - time.time()))
    receiver.status = 200
    receiver.start()

    wait_until(lambda: len(receiver.delivered()) >= total, timeout=35,
               message=lambda: f"after the receiver came back, expected {total} notices, got {receiver.delivered()}")
    time.sleep(0.5)
    delivered = receiver.delivered()
    for user, kinds in expected.items():
        got = [check_notice(x, x.body["type"], user) for x in delivered if x.body["userId"] == user]
        assert [n["type"] for n in got] == kinds, f"{user}: expected {kinds}, got {got}"
        versions = [n["version"] for n in got]
        assert versions == sorted(versions) and len(set(versions)) == len(versions), f"{user}: versions {versions}"
    # Order of arrival across the queue is the order of decision (head of line).
    decided = [x.body["ts"] for x in delivered]
    assert decided == sorted(decided), "notices arrive in the order they were decided"
    ids = {x.body["id"] for x in receiver.all()}
    assert ids == {x.body["id"] for x in delivered}, "every id that was attempted was eventually delivered"
    assert notices_metric(gateway, "retried") > retried_before
    assert notices_metric(gateway, "delivered") == total
    assert notices_metric(gateway, "dropped") == 0
    assert time.time() - started < 45
    for conn in conns.values():
        conn.close()


def test_a_notice_the_receiver_refuses_with_400_is_not_retried(gateway, receiver):
    receiver.status = 400
    henry = uid("henry")
    conn = user_socket(gateway, henry)
    wait_until(lambda: receiver.all(henry), timeout=5, message="the online notice was never attempted")
    conn.close()
    wait_until(lambda: len(receiver.all(henry)) >= 2, timeout=GRACE + 5, message=lambda: receiver.all(henry))
    time.sleep(2.5)  # a retry would come after 1 s
    attempts = receiver.all(henry)
    assert [a.body["type"] for a in attempts] == ["user.online", "user.offline"], f"one attempt per notice: {attempts}"
    check_notice(attempts[0], "user.online", henry)
    check_notice(attempts[1], "user.offline", henry)
    assert notices_metric(gateway, "refused") == 2
    assert notices_metric(gateway, "retried") == 0
    assert notices_metric(gateway, "delivered") == 0

    # 429 (and 408) mean "later": retried, the same id again.
    answers = iter([429, 408])
    receiver.status = lambda body: next(answers, 200)
    ida = uid("ida")
    conn = user_socket(gateway, ida)
    [online] = receiver.wait_delivered(1, ida, timeout=8)
    attempts = receiver.all(ida)
    assert [a.status for a in attempts] == [429, 408, 200], attempts
    assert len({a.body["id"] for a in attempts}) == 1, "a retry is the same notice"
    assert notices_metric(gateway, "retried") == 2
    conn.close()


def test_a_full_queue_drops_the_oldest_notices(tmp_path_factory, receiver):
    """maxPendingNotices 2, the receiver down, four users come online: the notice being sent
    (q0, retried against the dead receiver) stays, the oldest waiting ones (q1, q2) are dropped
    and counted, and once the receiver is back q0 and q3 arrive; nothing is counted twice."""
    receiver.stop()
    srv = configured_gateway(tmp_path_factory, "presence:\n  maxPendingNotices: 2\n", env=presence_env(receiver, GRACE_MS))
    try:
        users = [uid(f"q{n}") for n in range(4)]
        conns = []
        wait_first_attempt = time.time() + 0.5
        for user in users:
            conns.append(user_socket(srv, user))
            time.sleep(max(0.05, wait_first_attempt - time.time()) if user == users[0] else 0.05)
        wait_until(lambda: notices_metric(srv, "queued") == 4, timeout=5)
        assert notices_metric(srv, "dropped") == 2
        receiver.start()
        receiver.wait_delivered(2, timeout=15)
        time.sleep(1.0)
        arrived = [x.body["userId"] for x in receiver.delivered()]
        assert arrived == [users[0], users[3]], f"the notice in flight and the newest arrive, in order: {arrived}"
        counts = {r: notices_metric(srv, r) for r in ("queued", "delivered", "dropped")}
        assert counts["delivered"] + counts["dropped"] == counts["queued"], f"each notice delivered or dropped, once: {counts}"
        for conn in conns:
            conn.close()
    finally:
        srv.stop()


# Configuration.

@pytest.mark.parametrize("env, key", [
    ({"PRESENCE_WEBHOOK_URL": "http://127.0.0.1:9/hook"}, "presence.webhookSecret"),
    ({"PRESENCE_WEBHOOK_URL": "http://127.0.0.1:9/hook", "PRESENCE_WEBHOOK_SECRET": "too-short"}, "presence.webhookSecret"),
    ({"PRESENCE_WEBHOOK_URL": "ftp://127.0.0.1/hook", "PRESENCE_WEBHOOK_SECRET": WEBHOOK_SECRET}, "presence.webhookUrl"),
])
def test_a_webhook_without_a_usable_secret_or_url_stops_the_start(tmp_path, env, key):
    config = tmp_path / "gateway.yaml"
    config.write_text("")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PRESENCE_")}
    try:
        result = subprocess.run([os.path.join(BIN_DIR, "gateway"), "serve", "--config", str(config), "--port", str(free_port())],
                                env={**clean, "JWT_SECRET": SECRET, "FEED_SOURCE": "none", **env},
                                capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the gateway started with {env}")
    assert result.returncode != 0
    assert key in result.stdout + result.stderr, (result.stdout, result.stderr)
