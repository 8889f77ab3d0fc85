"""Cluster mode (SPEC §8), first part: two gateway processes on one real redis-server behave as
one for what producers and admins send to either of them. A system broadcast, an HTTP user
event and HTTP-ingested market data accepted by one instance reach the matching sockets on both,
exactly once and in order; an instance follows a user's channel only while it has a socket of
that user; during a Redis outage each instance keeps serving its own sockets, and the bus comes
back by itself."""
import threading
import time

import pytest
import requests

from auth_helpers import Conn, token
from conftest import configured_gateway, wait_until
from scrape import metric

PREFIX = "cl:"


def gateway_on(tmp_path_factory, redis_server):
    return configured_gateway(tmp_path_factory, "", env={
        "FEED_SOURCE": "none", "REDIS_URL": redis_server.url, "REDIS_PREFIX": PREFIX,
    })


@pytest.fixture(scope="module")
def pair(tmp_path_factory, redis_server):
    a, b = gateway_on(tmp_path_factory, redis_server), gateway_on(tmp_path_factory, redis_server)
    for gateway in (a, b):
        wait_until(lambda: requests.get(f"{gateway.base}/health/redis", timeout=5).status_code == 200)
    # Both instances listen on the bus, and for answers to their requests, before anything is published.
    wait_until(lambda: redis_server.cli("PUBSUB", "NUMSUB", PREFIX + "bus:all").split()[-1] == "2")
    wait_until(lambda: len(redis_server.cli("PUBSUB", "CHANNELS", PREFIX + "bus:instance:*").split()) == 2)
    yield a, b
    for gateway in (a, b):
        assert gateway.alive()
        gateway.stop()


def post(gateway, path, body, role="service", sub="producer"):
    headers = {"Authorization": f"Bearer {token(sub, role=role)}"}
    return requests.post(f"{gateway.base}{path}", json=body, headers=headers, timeout=5)


def received(conn, name, count, timeout=5):
    """Waits for `count` events called `name`, then a little longer, and returns all of them."""
    wait_until(lambda: sum(1 for e, _ in conn.events if e == name) >= count, timeout=timeout,
               message=lambda: f"expected {count} '{name}', got {[e for e, _ in conn.events]}")
    time.sleep(0.3)  # a duplicate would arrive within this
    return [data for e, data in conn.events if e == name]


def test_a_broadcast_accepted_by_either_instance_reaches_sockets_on_both_once(pair):
    a, b = pair
    on_a, on_b = Conn(a, "/prices"), Conn(b, "/prices")
    assert post(a, "/api/v1/broadcast", {"message": "from A over HTTP", "namespaces": ["/prices"]}, role="admin", sub="ops").status_code == 202
    admin_on_b = Conn(b, "/admin", auth={"token": token("ops", role="admin")})
    assert admin_on_b.call("admin.broadcast", {"message": "from B's /admin", "namespaces": ["/prices"]})["ok"] is True
    for conn in (on_a, on_b):
        messages = [d["message"] for d in received(conn, "system.broadcast", 2)]
        assert messages == ["from A over HTTP", "from B's /admin"], messages
    for conn in (on_a, on_b, admin_on_b):
        conn.close()


def test_user_events_over_http_reach_the_users_sockets_on_every_instance_once_and_in_order(pair):
    a, b = pair
    user = "cluster-trader"
    on_a = Conn(a, "/user", auth={"token": token(user)})
    on_b = Conn(b, "/user", auth={"token": token(user)})
    other = Conn(b, "/user", auth={"token": token("someone-else")})
    for n in range(10):
        for via, source in ((a, "a"), (b, "b")):
            body = {"event": "order.update", "data": {"n": n, "via": source}}
            assert post(via, f"/api/v1/users/{user}/events", body).status_code == 202
    for conn in (on_a, on_b):
        events = received(conn, "order.update", 20)
        assert len(events) == 20, "each once"
        for source in ("a", "b"):
            assert [d["n"] for d in events if d["via"] == source] == list(range(10)), "in the order each instance accepted them"
    assert not any(e == "order.update" for e, _ in other.events), "never another user's"
    for conn in (on_a, on_b, other):
        conn.close()


def test_http_market_data_reaches_subscribers_on_every_instance(pair):
    a, b = pair
    on_a, on_b = Conn(a, "/prices"), Conn(b, "/prices")
    for conn in (on_a, on_b):
        assert conn.call("subscribe", {"symbols": ["ETH/USDT"]})["ok"] is True
    tick = {"type": "tick", "symbol": "ETH/USDT", "price": "3001.25", "bid": "3001.2", "ask": "3001.3", "volume": "9", "ts": 1718000000000}
    assert post(a, "/api/v1/market", tick).json() == {"accepted": 1}
    for conn in (on_a, on_b):
        assert [d["price"] for d in received(conn, "price.update", 1)] == ["3001.25"]
    # State on subscribe on the other instance knows it too.
    late = Conn(b, "/prices")
    assert late.call("subscribe", {"symbols": ["ETH/USDT"]})["latest"][0]["price"] == "3001.25"
    for conn in (on_a, on_b, late):
        conn.close()


def test_an_instance_follows_a_symbols_market_channel_only_while_it_has_subscribers(pair, redis_server):
    """Interest per symbol: ticks of a symbol nobody on B watches never reach B; the first
    subscriber on B makes B follow the symbol and brings the latest price from A."""
    a, b = pair

    def listeners(symbol):
        return int(redis_server.cli("PUBSUB", "NUMSUB", PREFIX + "bus:market:" + symbol).split()[-1])

    def tick(symbol, price, ts):
        return {"type": "tick", "symbol": symbol, "price": price, "bid": price, "ask": price, "volume": "1", "ts": ts}

    assert listeners("SOL/USDT") == 0
    assert post(a, "/api/v1/market", tick("SOL/USDT", "150.5", 1718000000000)).json() == {"accepted": 1}
    watcher = Conn(b, "/prices")
    assert watcher.call("subscribe", {"symbols": ["SOL/USDT"]})["ok"] is True
    wait_until(lambda: listeners("SOL/USDT") == 1)
    assert [d["price"] for d in received(watcher, "price.update", 1)] == ["150.5"], "the latest price, from A"
    assert post(a, "/api/v1/market", tick("SOL/USDT", "151", 1718000001000)).json() == {"accepted": 1}
    assert [d["price"] for d in received(watcher, "price.update", 2)] == ["150.5", "151"]

    # market.occupancy notices cross the bus to every instance's admins too, the last of them a
    # second after the previous test's subscribers left: let those pass before counting.
    time.sleep(1.5)
    heard = metric(b, "gateway_bus_messages_total", '{direction="received"}')
    for n in range(20):
        assert post(a, "/api/v1/market", tick("XRP/USDT", f"0.5{n}", 1718000002000 + n)).json() == {"accepted": 1}
    time.sleep(0.3)
    assert listeners("XRP/USDT") == 0
    assert metric(b, "gateway_bus_messages_total", '{direction="received"}') == heard, "B never hears XRP ticks"
    watcher.close()
    wait_until(lambda: listeners("SOL/USDT") == 0, message="the last subscriber gone, the channel is dropped")


def test_an_instance_follows_a_users_channel_only_while_the_user_has_a_socket_there(pair, redis_server):
    a, b = pair
    channel = PREFIX + "bus:user:interest-user"

    def listeners():
        return int(redis_server.cli("PUBSUB", "NUMSUB", channel).split()[-1])

    assert listeners() == 0, "no instance follows a user with no socket"
    first = Conn(b, "/user", auth={"token": token("interest-user")})
    wait_until(lambda: listeners() == 1)
    second = Conn(b, "/user", auth={"token": token("interest-user")})
    elsewhere = Conn(a, "/user", auth={"token": token("interest-user")})
    wait_until(lambda: listeners() == 2, message="one subscription per instance, not per socket")
    first.close()
    time.sleep(0.3)
    assert listeners() == 2, "B still has a socket of the user"
    second.close()
    elsewhere.close()
    wait_until(lambda: listeners() == 0, message="the last socket gone, the channel is dropped")


def test_during_a_redis_outage_each_instance_serves_its_own_and_the_bus_resumes(pair, redis_server):
    a, b = pair
    on_a, on_b = Conn(a, "/prices"), Conn(b, "/prices")
    user = {"token": token("outage-trader")}
    trader_a, trader_b = Conn(a, "/user", auth=user), Conn(b, "/user", auth=user)
    # Traffic all along: BTC ticks POSTed to A every 20 ms, watched on B through the bus.
    assert on_b.call("subscribe", {"symbols": ["BTC/USDT"]})["ok"] is True
    wait_until(lambda: redis_server.cli("PUBSUB", "NUMSUB", PREFIX + "bus:market:BTC/USDT").split()[-1] == "1")
    feeding, answers = threading.Event(), []

    def feed():
        n = 0
        while not feeding.is_set():
            n += 1
            tick = {"type": "tick", "symbol": "BTC/USDT", "price": str(60000 + n), "bid": "1", "ask": "2", "volume": "1",
                    "ts": int(time.time() * 1000)}
            answers.append(post(a, "/api/v1/market", tick).status_code)
            time.sleep(0.02)

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    wait_until(lambda: any(e == "price.update" for e, _ in on_b.events), message="ticks cross the bus before the outage")
    redis_server.stop()
    try:
        for gateway in (a, b):
            wait_until(lambda: requests.get(f"{gateway.base}/health/redis", timeout=5).status_code == 503)
        local_before = metric(a, "gateway_bus_messages_total", '{direction="local_only"}')
        assert post(a, "/api/v1/broadcast", {"message": "during the outage", "namespaces": ["/prices"]}, role="admin", sub="ops").status_code == 202
        assert [d["message"] for d in received(on_a, "system.broadcast", 1)] == ["during the outage"], "local delivery goes on"
        assert not any(e == "system.broadcast" for e, _ in on_b.events), "documented: the other instance misses it"
        assert post(a, "/api/v1/users/outage-trader/events", {"event": "order.new", "data": {"n": 1}}).status_code == 202
        assert received(trader_a, "order.new", 1) == [{"n": 1}], "a user event reaches the user's sockets on the accepting instance"
        assert not any(e == "order.new" for e, _ in trader_b.events), "documented: not the other instance's"
        # The broadcast, the user event and the ticks meanwhile (one each) reached A's sockets only.
        assert metric(a, "gateway_bus_messages_total", '{direction="local_only"}') >= local_before + 2
    except BaseException:
        feeding.set()
        raise
    finally:
        redis_server.start()
    for gateway in (a, b):
        wait_until(lambda: requests.get(f"{gateway.base}/health/redis", timeout=5).status_code == 200)
    wait_until(lambda: redis_server.cli("PUBSUB", "NUMSUB", PREFIX + "bus:all").split()[-1] == "2")
    assert post(a, "/api/v1/broadcast", {"message": "after the outage", "namespaces": ["/prices"]}, role="admin", sub="ops").status_code == 202
    assert [d["message"] for d in received(on_b, "system.broadcast", 1)] == ["after the outage"]
    # The symbol's channel is followed again: ticks POSTed to A after the restart reach B.
    restarted = len(answers)
    wait_until(lambda: any(e == "price.update" and int(d["price"]) > 60000 + restarted for e, d in list(on_b.events)),
               message="B hears A's ticks again without anyone resubscribing")
    feeding.set()
    feeder.join()
    assert set(answers) == {202}, "HTTP ingest kept accepting through the outage"
    # The user's channel is followed again on both instances: events reach both sockets, once.
    wait_until(lambda: redis_server.cli("PUBSUB", "NUMSUB", PREFIX + "bus:user:outage-trader").split()[-1] == "2")
    assert post(b, "/api/v1/users/outage-trader/events", {"event": "order.new", "data": {"n": 2}}).status_code == 202
    assert received(trader_a, "order.new", 2) == [{"n": 1}, {"n": 2}]
    assert received(trader_b, "order.new", 1) == [{"n": 2}]
    for conn in (on_a, on_b, trader_a, trader_b):
        conn.close()


def test_admin_commands_reach_every_instance(pair):
    a, b = pair
    admin = Conn(a, "/admin", auth={"token": token("ops", role="admin")})
    on_a = Conn(a, "/user", auth={"token": token("kick-me")})
    on_b = Conn(b, "/user", auth={"token": token("kick-me")})
    stays = Conn(b, "/prices")

    stats = admin.call("admin.command", {"command": "stats"})["stats"]
    assert stats["instances"] == 2, "both instances answered"
    assert stats["connections"]["/user"] >= 2 and stats["connections"]["/prices"] >= 1, "counts add up across instances"

    assert admin.call("admin.command", {"command": "kick", "userId": "kick-me"}) == {"ok": True, "kicked": 2}
    for conn in (on_a, on_b):
        assert conn.disconnected.wait(5), "the user's socket on every instance is closed"
    assert stays.call("ping")["ok"] is True

    admin_b = Conn(b, "/admin", auth={"token": token("ops", role="admin")})
    assert admin_b.call("admin.command", {"command": "maintenance", "enabled": True, "message": "Back soon"})["maintenance"] is True
    try:
        def refused_on_a():
            probe = Conn(a, "/prices")
            refused = not probe.connected and (probe.connect_error or {}).get("data", {}).get("code") == "MAINTENANCE"
            probe.close()
            return refused
        wait_until(refused_on_a, timeout=5, message="maintenance switched on by B applies on A")
        assert [d["message"] for d in received(stays, "system.broadcast", 1)] == ["Back soon"]
    finally:
        admin_b.call("admin.command", {"command": "maintenance", "enabled": False})
    def accepted_on_a():
        probe = Conn(a, "/prices")
        accepted = probe.connected
        probe.close()
        return accepted
    wait_until(accepted_on_a, timeout=5, message="and off again on A")
    for conn in (admin, admin_b, stays):
        conn.close()


@pytest.fixture(scope="module")
def limited_pair(tmp_path_factory, redis_server):
    """Two instances with a small shared bucket: 5 events a minute, then blocked for 2 s."""
    env = {"FEED_SOURCE": "none", "REDIS_URL": redis_server.url, "REDIS_PREFIX": "rl-" + PREFIX,
           "WS_RATE_LIMIT_POINTS": "5", "WS_RATE_LIMIT_DURATION": "60", "WS_RATE_LIMIT_BLOCK": "2"}
    a, b = configured_gateway(tmp_path_factory, "", env=env), configured_gateway(tmp_path_factory, "", env=env)
    for gateway in (a, b):
        wait_until(lambda: requests.get(f"{gateway.base}/health/redis", timeout=5).status_code == 200)
    yield a, b
    for gateway in (a, b):
        assert gateway.alive()
        gateway.stop()


def test_a_users_token_bucket_is_shared_by_every_instance(limited_pair):
    a, b = limited_pair
    on_a = Conn(a, "/prices", auth={"token": token("busy-user")})
    on_b = Conn(b, "/prices", auth={"token": token("busy-user")})
    replies = [conn.call("ping") for conn in (on_a, on_b, on_a, on_b, on_a)]
    assert all(reply["ok"] for reply in replies), "five events, wherever they land"
    refused = on_b.call("ping")
    assert refused["ok"] is False and refused["error"]["code"] == "RATE_LIMIT", "the sixth is refused, on the other instance too"
    assert 1 <= refused["error"]["retryAfterMs"] <= 2000
    assert on_a.call("ping")["error"]["code"] == "RATE_LIMIT", "blocked everywhere"
    anonymous = Conn(b, "/prices")
    assert all(anonymous.call("ping")["ok"] for _ in range(5)), "anonymous buckets are per connection"
    time.sleep(2.2)
    assert on_a.call("ping")["ok"] is True, "after the block the bucket is full again"
    for conn in (on_a, on_b, anonymous):
        conn.close()


def test_scripts_flushed_from_redis_are_loaded_again_and_buckets_stay_shared(limited_pair, redis_server):
    """A Redis restart or SCRIPT FLUSH leaves the instances' script SHAs dangling: the NOSCRIPT
    answer makes each link reconnect and load its scripts again, and the shared bucket goes on."""
    a, b = limited_pair
    redis_server.cli("SCRIPT", "FLUSH")
    on_a = Conn(a, "/prices", auth={"token": token("flushed-user")})
    on_b = Conn(b, "/prices", auth={"token": token("flushed-user")})
    # The first event on each instance meets NOSCRIPT and is decided locally (nothing is
    # written to Redis); once the link has loaded the scripts again, the bucket is Redis's.
    key = "rl-" + PREFIX + "rl:/prices|user:flushed-user"

    def bucket_in_redis(conn):
        assert conn.call("ping")["ok"] in (True, False)
        return redis_server.cli("EXISTS", key) == "1"

    wait_until(lambda: bucket_in_redis(on_a), timeout=10, message="the bucket script never ran again after SCRIPT FLUSH")
    redis_server.cli("DEL", key)
    wait_until(lambda: bucket_in_redis(on_b), timeout=10, message="the other instance never loaded its script again")
    for conn in (on_a, on_b):
        conn.close()


def test_the_per_user_connection_cap_is_cluster_wide_and_a_crashed_instance_frees_its_slots(tmp_path_factory, redis_server):
    env = {"FEED_SOURCE": "none", "REDIS_URL": redis_server.url, "REDIS_PREFIX": "cap-" + PREFIX,
           "WS_MAX_CONNECTIONS_PER_USER": "2"}
    yaml = "redis:\n  connectionLeaseMs: 1500\n"
    a, b = configured_gateway(tmp_path_factory, yaml, env=env), configured_gateway(tmp_path_factory, yaml, env=env)
    try:
        for gateway in (a, b):
            wait_until(lambda: requests.get(f"{gateway.base}/health/redis", timeout=5).status_code == 200)
        user = {"token": token("capped-user")}
        on_a, on_b = Conn(a, "/user", auth=user), Conn(b, "/user", auth=user)
        assert on_a.connected and on_b.connected
        third = Conn(a, "/user", auth=user)
        assert not third.connected and third.connect_error["data"]["code"] == "CONNECTION_LIMIT", "two in all, not per instance"
        time.sleep(2)  # longer than the lease: live sockets keep theirs renewed
        fourth = Conn(b, "/user", auth=user)
        assert not fourth.connected, "renewed leases still count"
        b.process.kill()                               # B dies with a socket of the user
        b.process.wait(timeout=10)
        wait_until(lambda: Conn(a, "/user", auth=user).connected, timeout=6,
                   message="B's lease expires by itself and A takes a new socket")
        on_a.close()
    finally:
        a.stop()
        if b.alive():
            b.stop()


def test_events_accepted_elsewhere_while_a_user_is_away_are_recovered(pair, redis_server):
    """A dropped recovery-enabled socket's session is kept in Redis, so its instance stops
    following the user's channel; what another instance accepted meanwhile is in the user's
    stream and replayed when the client comes back."""
    from sio_raw import RawSocket
    a, b = pair
    user = "away-user"
    first = RawSocket(b, "/user", {"token": token(user), "recovery": True})
    pid = first.connect_data["pid"]
    assert post(a, f"/api/v1/users/{user}/events", {"event": "order.new", "data": {"n": 0}}).status_code == 202
    [(_, args)] = first.events(1)
    offset = args[1]
    before = metric(b, "gateway_connections", '{namespace="/user"}')
    first.drop()
    wait_until(lambda: metric(b, "gateway_connections", '{namespace="/user"}') < before)
    wait_until(lambda: int(redis_server.cli("PUBSUB", "NUMSUB", PREFIX + "bus:user:" + user).split()[-1]) == 0,
               message="with the session stored in Redis, B no longer follows an absent user")
    assert redis_server.cli("EXISTS", PREFIX + "recovery:" + pid) == "1"
    assert post(a, f"/api/v1/users/{user}/events", {"event": "order.filled", "data": {"n": 1}}).status_code == 202
    time.sleep(0.3)
    again = RawSocket(b, "/user", {"token": token(user), "pid": pid, "offset": offset})
    assert again.connect_data["recovered"] is True
    [(name, args)] = again.events(1)
    assert name == "order.filled" and args[0] == {"n": 1}
    again.close()


def test_a_user_recovers_on_another_instance_with_every_missed_event_once_and_in_order(pair, redis_server):
    """Recovery across instances: a socket dropped on A reconnects to B with its pid and offset
    and gets what was accepted meanwhile by either instance and from the Redis stream, in the
    order of the user's stream, nothing twice; the session can then not be used again."""
    from sio_raw import RawSocket
    a, b = pair
    user = "roaming-user"
    first = RawSocket(a, "/user", {"token": token(user), "recovery": True})
    sid, pid = first.connect_data["sid"], first.connect_data["pid"]
    watcher = RawSocket(b, "/user", {"token": token(user), "recovery": True})
    assert post(b, f"/api/v1/users/{user}/events", {"event": "order.new", "data": {"n": 0}}).status_code == 202
    [(_, seen_on_a)] = first.events(1)
    [(_, seen_on_b)] = watcher.events(1)
    assert seen_on_a == seen_on_b, "an event has one offset on every instance"
    offset = seen_on_a[1]
    watcher.close()

    before = metric(a, "gateway_connections", '{namespace="/user"}')
    first.drop()
    wait_until(lambda: metric(a, "gateway_connections", '{namespace="/user"}') < before)
    for n, gateway in ((1, a), (2, b)):
        assert post(gateway, f"/api/v1/users/{user}/events", {"event": "order.filled", "data": {"n": n}}).status_code == 202
    redis_server.cli("XADD", PREFIX + "user-events", "*", "userId", user, "event", "wallet.update", "data", '{"n":3}')
    time.sleep(0.5)  # both instances read the stream; one of them adds the entry to the user's stream

    recovered_before = metric(b, "gateway_recovery_total", '{outcome="recovered"}')
    again = RawSocket(b, "/user", {"token": token(user), "pid": pid, "offset": offset})
    assert again.connect_data == {"sid": sid, "pid": pid, "recovered": True}
    replayed = again.events(3)
    assert [(name, args[0]) for name, args in replayed] == [
        ("order.filled", {"n": 1}), ("order.filled", {"n": 2}), ("wallet.update", {"n": 3})]
    offsets = [int(args[1]) for _, args in replayed]
    assert offsets == sorted(offsets) and int(offset) < offsets[0]
    assert again.quiet(), "nothing twice"
    assert metric(b, "gateway_recovery_total", '{outcome="recovered"}') == recovered_before + 1

    assert post(a, f"/api/v1/users/{user}/events", {"event": "order.new", "data": {"n": 4}}).status_code == 202
    [(name, args)] = again.events(1)
    assert (name, args[0]) == ("order.new", {"n": 4}) and int(args[1]) > offsets[-1]
    assert again.quiet(), "live events after the replay arrive once"

    reuse = RawSocket(a, "/user", {"token": token(user), "pid": pid, "offset": offset})
    assert reuse.connect_data["recovered"] is False, "a session is recovered once, wherever"
    reuse.close()
    again.close()


def test_recovery_on_another_instance_under_a_steady_stream_loses_and_repeats_nothing(pair):
    """The seam between the replay read from Redis and the live stream, under traffic: events
    published to A without pause; the client drops from A mid-stream and recovers on B. What it
    saw before and after is every event exactly once, in order."""
    from sio_raw import RawSocket
    a, b = pair
    user = "streaming-user"
    total = 150
    first = RawSocket(a, "/user", {"token": token(user), "recovery": True})
    pid = first.connect_data["pid"]
    done = threading.Event()

    def produce():
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token('producer', role='service')}"
        for n in range(total):
            session.post(f"{b.base}/api/v1/users/{user}/events", json={"event": "order.new", "data": {"n": n}}, timeout=5)
            time.sleep(0.003)
        done.set()

    producer = threading.Thread(target=produce, daemon=True)
    producer.start()
    before = first.events(40, timeout=10)
    offset = before[-1][1][1]
    gauge = metric(a, "gateway_connections", '{namespace="/user"}')
    first.drop()
    wait_until(lambda: metric(a, "gateway_connections", '{namespace="/user"}') < gauge)
    again = RawSocket(b, "/user", {"token": token(user), "pid": pid, "offset": offset})
    assert again.connect_data["recovered"] is True
    assert done.wait(20)
    seen = [args[0]["n"] for _, args in before]
    after = again.events(total - len(seen), timeout=15)
    seen += [args[0]["n"] for _, args in after]
    assert seen == list(range(total)), [n for n in seen if seen.count(n) > 1] or sorted(set(range(total)) - set(seen))
    assert again.quiet(), "nothing twice"
    offsets = [int(args[1]) for _, args in before + after]
    assert offsets == sorted(offsets) and len(set(offsets)) == total
    again.close()


def test_shared_limits_fall_back_to_local_ones_while_redis_is_away(tmp_path_factory):
    """Redis gone: users' buckets and the connection cap are decided per instance, so clients
    are still served; Redis back: the shared cap applies again, counting the sockets that
    connected during the outage."""
    from conftest import RedisServer
    redis = RedisServer()
    env = {"FEED_SOURCE": "none", "REDIS_URL": redis.url, "REDIS_PREFIX": "fb:", "WS_MAX_CONNECTIONS_PER_USER": "2",
           "WS_RATE_LIMIT_POINTS": "3", "WS_RATE_LIMIT_DURATION": "60", "WS_RATE_LIMIT_BLOCK": "2"}
    a, b = configured_gateway(tmp_path_factory, "", env=env), configured_gateway(tmp_path_factory, "", env=env)
    try:
        for gateway in (a, b):
            wait_until(lambda: requests.get(f"{gateway.base}/health/redis", timeout=5).status_code == 200)
        redis.stop()
        for gateway in (a, b):
            wait_until(lambda: requests.get(f"{gateway.base}/health/redis", timeout=5).status_code == 503)
        user = {"token": token("outage-user")}
        on_a, on_b = Conn(a, "/user", auth=user), Conn(b, "/user", auth=user)
        assert on_a.connected and on_b.connected, "connections are still accepted"
        assert all(on_a.call("ping")["ok"] for _ in range(3)) and all(on_b.call("ping")["ok"] for _ in range(3)), \
            "each instance has its own bucket meanwhile"
        assert on_a.call("ping")["error"]["code"] == "RATE_LIMIT", "but the local one still limits"

        redis.start()
        for gateway in (a, b):
            wait_until(lambda: requests.get(f"{gateway.base}/health/redis", timeout=5).status_code == 200)
        # The two sockets from the outage get their leases: the cap of 2 is full, cluster-wide.
        wait_until(lambda: int(redis.cli("ZCARD", "fb:conn:outage-user")) == 2, timeout=5,
                   message="leases are put back for sockets that connected while Redis was away")
        third = Conn(a, "/user", auth=user)
        assert not third.connected and third.connect_error["data"]["code"] == "CONNECTION_LIMIT"
        for conn in (on_a, on_b):
            conn.close()
    finally:
        for gateway in (a, b):
            gateway.stop()
        redis.stop()
