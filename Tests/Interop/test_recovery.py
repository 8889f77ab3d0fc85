"""Connection state recovery on /user (SPEC §1): opt-in per socket, pid in the CONNECT reply,
offsets on events, every missed event replayed in order after an abrupt drop, subscriptions
restored, and a clean session outside the window."""
import time

import pytest
import requests

from auth_helpers import SECRET, Conn, token
from conftest import configured_gateway
from scrape import metric
from sio_raw import RawSocket

WINDOW_MS = 2500


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    srv = configured_gateway(tmp_path_factory, f"recovery:\n  maxDisconnectionMs: {WINDOW_MS}\n  maxEventsPerUser: 50\n", env={"FEED_SOURCE": "none"})
    yield srv
    assert srv.alive()
    srv.stop()


def publish(server, user, event, data):
    headers = {"Authorization": f"Bearer {token('producer', role='service')}"}
    r = requests.post(f"{server.base}/api/v1/users/{user}/events", json={"event": event, "data": data}, headers=headers, timeout=5)
    assert r.status_code == 202, r.text


def leave(server, how):
    """Runs `how` (a way of leaving) and waits until the gateway has noticed: its /user count falls."""
    before = metric(server, "gateway_connections", '{namespace="/user"}')
    how()
    deadline = time.time() + 10
    while time.time() < deadline and metric(server, "gateway_connections", '{namespace="/user"}') >= before:
        time.sleep(0.05)
    assert metric(server, "gateway_connections", '{namespace="/user"}') < before, "the gateway never noticed the socket leave"


def drop(server, sock):
    """Drops `sock` abruptly, as a lost network would, once the gateway has noticed."""
    leave(server, sock.drop)


def test_sockets_that_do_not_opt_in_get_no_pid_and_no_offsets(gateway):
    plain = RawSocket(gateway, "/user", {"token": token("plain-user")})
    assert set(plain.connect_data) == {"sid"}
    publish(gateway, "plain-user", "order.new", {"orderId": "1"})
    assert plain.events(1) == [("order.new", [{"orderId": "1"}])], "no offset argument for a socket that did not opt in"
    plain.close()


def test_a_dropped_socket_gets_every_missed_event_in_order(gateway):
    user = "recovering-user"
    before = metric(gateway, "gateway_recovery_total", '{outcome="recovered"}')
    first = RawSocket(gateway, "/user", {"token": token(user), "recovery": True})
    pid, sid = first.connect_data["pid"], first.connect_data["sid"]
    assert first.connect_data["recovered"] is False and pid
    publish(gateway, user, "order.new", {"orderId": "A", "n": 0})
    [(name, args)] = first.events(1)
    assert name == "order.new" and args[0] == {"orderId": "A", "n": 0}
    offset = args[1]
    assert isinstance(offset, str), "the offset is the last argument, a string"

    drop(gateway, first)
    for n in range(1, 6):
        publish(gateway, user, "order.update", {"orderId": "A", "n": n})
    publish(gateway, user, "wallet.update", {"asset": "USDT", "free": "10.5"})

    again = RawSocket(gateway, "/user", {"token": token(user), "pid": pid, "offset": offset})
    assert again.connect_data == {"sid": sid, "pid": pid, "recovered": True}
    missed = again.events(6)
    assert [args[0] for _, args in missed] == [{"orderId": "A", "n": n} for n in range(1, 6)] + [{"asset": "USDT", "free": "10.5"}]
    offsets = [int(args[1]) for _, args in missed]
    assert offsets == sorted(offsets) and len(set(offsets)) == 6 and offsets[0] > int(offset)
    assert again.quiet(), "nothing is replayed twice"
    publish(gateway, user, "order.filled", {"orderId": "A"})
    assert again.events(1)[0][0] == "order.filled", "the live stream continues after the replay"
    assert metric(gateway, "gateway_recovery_total", '{outcome="recovered"}') == before + 1
    again.close()


def test_a_drop_with_nothing_missed_recovers_and_replays_nothing(gateway):
    user = "quiet-account"
    first = RawSocket(gateway, "/user", {"token": token(user), "recovery": True})
    first.ws.send('42/user,1["unsubscribe",{"channels":["wallet"]}]')
    assert first.ack(1)[0]["channels"] == ["orders", "positions"]
    pid, sid = first.connect_data["pid"], first.connect_data["sid"]
    publish(gateway, user, "order.new", {"orderId": "Q"})
    [(_, args)] = first.events(1)
    offset = args[1]
    drop(gateway, first)                               # a network blip on a quiet account
    again = RawSocket(gateway, "/user", {"token": token(user), "pid": pid, "offset": offset})
    assert again.connect_data == {"sid": sid, "pid": pid, "recovered": True}
    assert again.quiet(), "nothing was missed, so nothing is replayed"
    publish(gateway, user, "wallet.update", {"asset": "USDT"})
    publish(gateway, user, "order.update", {"orderId": "Q"})
    [(name, args)] = again.events(1)
    assert name == "order.update" and int(args[1]) > int(offset), "narrowed subscriptions are restored"
    again.close()


def test_recovery_restores_narrowed_subscriptions(gateway):
    user = "narrow-user"
    first = RawSocket(gateway, "/user", {"token": token(user), "recovery": True})
    first.ws.send('42/user,1["unsubscribe",{"channels":["orders"]}]')
    assert first.ack(1)[0]["channels"] == ["positions", "wallet"]
    pid = first.connect_data["pid"]
    drop(gateway, first)
    publish(gateway, user, "order.new", {"orderId": "hidden"})
    publish(gateway, user, "position.update", {"symbol": "BTC/USDT"})
    again = RawSocket(gateway, "/user", {"token": token(user), "pid": pid})
    assert again.connect_data["recovered"] is True
    assert [name for name, _ in again.events(1)] == ["position.update"]
    publish(gateway, user, "order.new", {"orderId": "still-hidden"})
    assert again.quiet(), "the unsubscribed channel stays unsubscribed after recovery"
    again.close()


def test_outside_the_window_the_socket_starts_clean(gateway):
    user = "late-user"
    before = metric(gateway, "gateway_recovery_total", '{outcome="unknown_session"}')
    first = RawSocket(gateway, "/user", {"token": token(user), "recovery": True})
    pid, sid = first.connect_data["pid"], first.connect_data["sid"]
    drop(gateway, first)
    publish(gateway, user, "order.new", {"orderId": "gone"})
    time.sleep(WINDOW_MS / 1000 + 0.5)
    again = RawSocket(gateway, "/user", {"token": token(user), "pid": pid, "offset": "0"})
    assert again.connect_data["recovered"] is False
    assert again.connect_data["pid"] != pid and again.connect_data["sid"] != sid
    assert again.quiet(), "a clean session gets no old events"
    assert metric(gateway, "gateway_recovery_total", '{outcome="unknown_session"}') == before + 1
    again.close()


def test_a_pid_cannot_be_taken_over_by_another_user(gateway):
    first = RawSocket(gateway, "/user", {"token": token("victim"), "recovery": True})
    pid = first.connect_data["pid"]
    drop(gateway, first)
    publish(gateway, "victim", "wallet.update", {"secret": True})
    thief = RawSocket(gateway, "/user", {"token": token("thief"), "pid": pid, "offset": "0"})
    assert thief.connect_data["recovered"] is False
    assert thief.quiet(), "another user's events are never replayed"
    thief.close()
    owner = RawSocket(gateway, "/user", {"token": token("victim"), "pid": pid})
    assert owner.connect_data["recovered"] is True, "the owner can still recover"
    assert owner.events(1)[0][1][0] == {"secret": True}
    owner.close()


def test_more_missed_than_kept_means_no_recovery(gateway):
    user = "flooded-user"
    first = RawSocket(gateway, "/user", {"token": token(user), "recovery": True})
    pid = first.connect_data["pid"]
    drop(gateway, first)
    for n in range(60):  # maxEventsPerUser is 50
        publish(gateway, user, "order.update", {"n": n})
    again = RawSocket(gateway, "/user", {"token": token(user), "pid": pid})
    assert again.connect_data["recovered"] is False, "a replay with a hole is refused rather than given"
    again.close()


def test_a_clean_disconnect_is_not_recoverable(gateway):
    user = "leaving-user"
    first = RawSocket(gateway, "/user", {"token": token(user), "recovery": True})
    pid = first.connect_data["pid"]
    leave(gateway, lambda: first.ws.send("41/user,"))
    first.close()
    again = RawSocket(gateway, "/user", {"token": token(user), "pid": pid})
    assert again.connect_data["recovered"] is False
    again.close()


BLOB = 256 * 1024
SLOW_CONSUMER_BYTES = 512 * 1024


@pytest.fixture(scope="module")
def tight_gateway(tmp_path_factory):
    """A small slow-consumer limit and kernel send buffer, so a stalled socket is cut off soon."""
    srv = configured_gateway(tmp_path_factory, (
        f"limits:\n  slowConsumerBytes: {SLOW_CONSUMER_BYTES}\n"
        "server:\n  socketSendBuffer: 65536\n"
    ), env={"FEED_SOURCE": "none"})
    yield srv
    assert srv.alive()
    srv.stop()


def test_a_backlog_many_times_the_slow_consumer_limit_is_recovered_whole(tight_gateway):
    gateway = tight_gateway
    user = "whale"
    count = 40                                          # 10 MiB: 20x limits.slowConsumerBytes
    first = RawSocket(gateway, "/user", {"token": token(user), "recovery": True}, receive_buffer=65536)
    pid, sid = first.connect_data["pid"], first.connect_data["sid"]
    publish(gateway, user, "order.new", {"n": -1})
    [(_, args)] = first.events(1)
    offset = args[1]
    slow_before = metric(gateway, "gateway_slow_consumer_disconnects_total")
    # The first socket stops reading while its user's events pile up: cut off as a slow consumer.
    for n in range(count):
        publish(gateway, user, "order.update", {"n": n, "blob": "x" * BLOB})
    deadline = time.time() + 10
    while time.time() < deadline and metric(gateway, "gateway_slow_consumer_disconnects_total") == slow_before:
        time.sleep(0.05)
    assert metric(gateway, "gateway_slow_consumer_disconnects_total") == slow_before + 1
    first.close()

    again = RawSocket(gateway, "/user", {"token": token(user), "pid": pid, "offset": offset})
    assert again.connect_data == {"sid": sid, "pid": pid, "recovered": True}
    missed = again.events(count, timeout=20)
    assert [args[0]["n"] for _, args in missed] == list(range(count)), "every event, in order"
    assert all(len(args[0]["blob"]) == BLOB for _, args in missed)
    assert metric(gateway, "gateway_slow_consumer_disconnects_total") == slow_before + 1, \
        "a replay is not a slow consumer"
    publish(gateway, user, "order.filled", {"n": count})
    assert again.events(1)[0][1][0] == {"n": count}, "the live stream follows the replay"
    again.close()
