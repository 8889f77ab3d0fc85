"""Market data a trading loop can act on (docs/market-data.md, SPEC §11): stale/live notices when a
symbol's feed goes silent, heartbeats while a market is quiet, per-symbol trade and price `seq`,
`market.gap` for every trade a lagging socket skips, depth-N books, and feed gaps / restarts
declared to depth subscribers. Producers post over HTTP (feed source `none`); subscribers are
python-socketio clients (and a raw WebSocket that stops reading) on 127.0.0.1."""
import json
import random
import time

import pytest

from auth_helpers import token
from conftest import configured_gateway, wait_until
from scrape import metric
from sio_raw import RawSocket
from trust_helpers import (Client, DepthBook, Producer, TickLoop, close_all, depth, now_ms, read_trade_stream, tick,
                           trade)

AAA, BBB, CCC = "AAA/USDT", "BBB/USDT", "CCC/USDT"
HB1, HB2 = "HB1/USDT", "HB2/USDT"
TR1, TR2 = "TR1/USDT", "TR2/USDT"
BOOK, GAP, RESTART, LAG, MAXSEQ = "BOOK/USDT", "GAP/USDT", "RST/USDT", "LAG/USDT", "MAX/USDT"
HEARTBEAT_FIELDS = {"symbol", "seq", "tradeSeq", "priceSeq", "depthSeq", "sourceTs", "gatewayTs"}


@pytest.fixture(scope="module")
def stale_gateway(tmp_path_factory):
    srv = configured_gateway(tmp_path_factory, f"feed:\n  source: none\n  symbols: [{AAA}, {BBB}, {CCC}]\n  staleAfterMs: 1000\n")
    yield srv
    assert srv.alive()
    srv.stop()


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    """Stale notices off, so only what each test provokes arrives."""
    symbols = ", ".join([HB1, HB2, TR1, TR2, BOOK, GAP, RESTART, MAXSEQ])
    srv = configured_gateway(tmp_path_factory, f"feed:\n  source: none\n  symbols: [{symbols}]\n  staleAfterMs: 0\n"
                                               "  maxBookLevels: 1000\n")
    yield srv
    assert srv.alive()
    srv.stop()


@pytest.fixture(scope="module")
def lag_gateway(tmp_path_factory):
    """A tiny kernel send buffer (the gateway's queue fills at once) and a slow-consumer bound far
    above what the test sends, so a socket that stops reading is conflated, never closed."""
    srv = configured_gateway(tmp_path_factory, "server:\n  socketSendBuffer: 4096\n"
                                               "limits:\n  slowConsumerBytes: 268435456\n"
                                               f"feed:\n  source: none\n  symbols: [{LAG}]\n  staleAfterMs: 0\n")
    yield srv
    assert srv.alive()
    srv.stop()


# --- 1. stale / live ---------------------------------------------------------------------------

def test_a_silent_symbol_goes_stale_and_its_next_tick_brings_it_live(stale_gateway):
    """AAA's feed stops while BBB keeps ticking: within ~staleAfterMs both namespaces flag AAA (never
    BBB) as stale, operators see it in /metrics and admin.stats, and AAA's next message is
    preceded by market.live."""
    gw = stale_gateway
    ops = Client(gw, "/admin", auth={"token": token("ops", role="admin")})
    prices = Client(gw, "/prices")
    market = Client(gw, "/market")
    assert prices.call("subscribe", {"symbols": [AAA, BBB], "heartbeatMs": 1000})["ok"] is True
    assert market.call("subscribe", {"channels": ["ticker", "trades"], "symbols": [AAA, BBB], "heartbeatMs": 1000})["ok"] is True
    loop = TickLoop(gw, [AAA, BBB], interval=0.1)
    loop.start()
    try:
        prices.wait_count("price.update", 1, symbol=AAA)
        prices.wait_count("price.update", 1, symbol=BBB)
        fed = {id(prices): prices.mark(), id(market): market.mark()}
        time.sleep(1.5)  # both fed for longer than staleAfterMs
        assert not prices.of("market.stale", since=fed[id(prices)]) and not market.of("market.stale", since=fed[id(market)]), \
            "a fed symbol is never stale"

        last_ts = loop.silence(AAA)
        silenced = time.time()
        since = prices.mark()
        _, stale, arrived = prices.wait_first("market.stale", symbol=AAA, since=since, timeout=3.5)
        delay = arrived - silenced
        print(f"market.stale {delay * 1000:.0f} ms after AAA's last tick: {stale}")
        assert set(stale) == {"symbol", "reason", "lastSourceTs", "silentMs"}, stale
        assert stale["reason"] == "silent" and stale["lastSourceTs"] == last_ts
        assert 1000 <= stale["silentMs"] < 2500, stale
        assert 0.9 <= delay <= 2.5, f"stale after {delay:.2f} s (staleAfterMs 1000 + one heartbeat + slack)"
        _, market_stale, _ = market.wait_first("market.stale", symbol=AAA, timeout=2)
        assert {k: market_stale[k] for k in ("symbol", "reason", "lastSourceTs")} == {"symbol": AAA, "reason": "silent", "lastSourceTs": last_ts}

        # Operators see it.
        wait_until(lambda: metric(gw, "gateway_feed_stale_symbols", f'{{symbol="{AAA}"}}') == 1, timeout=2,
                   message="gateway_feed_stale_symbols{symbol=AAA} is 1 while AAA is stale")
        assert metric(gw, "gateway_feed_stale_symbols", f'{{symbol="{BBB}"}}') == 0
        assert metric(gw, "gateway_feed_stale_total", f'{{symbol="{AAA}"}}') == 1
        stats = ops.call("admin.command", {"command": "stats"})["stats"]
        assert [s["symbol"] for s in stats["market"]["staleSymbols"]] == [AAA], stats.get("market")
        assert stats["market"]["staleCount"] == 1 and stats["market"]["staleSymbols"][0]["lastSourceTs"] == last_ts
        _, pushed, _ = ops.wait_first("admin.stats", timeout=6.5, where=lambda d: any(
            s["symbol"] == AAA for s in d.get("market", {}).get("staleSymbols", [])))
        assert pushed["market"]["staleSymbols"][0]["silentMs"] >= 1000

        # AAA's next message: market.live first, then the data, once per socket and namespace.
        p_mark, m_mark = prices.mark(), market.mark()
        Producer(gw).post([tick(AAA, price="101.5"), trade(AAA, "t-live")])
        loop.resume(AAA)  # fed again, so it stays live
        p_live, live, _ = prices.wait_first("market.live", symbol=AAA, since=p_mark, timeout=2)
        p_update, update, _ = prices.wait_first("price.update", symbol=AAA, since=p_mark, timeout=2)
        assert p_live < p_update and update["price"] == "101.5", "market.live comes before the price it announces"
        assert set(live) >= {"symbol", "silentMs"} and live["silentMs"] >= 1000, live
        m_live, _, _ = market.wait_first("market.live", symbol=AAA, since=m_mark, timeout=2)
        m_trades, _, _ = market.wait_first("market.trades", symbol=AAA, since=m_mark, timeout=2)
        assert m_live < m_trades, "market.live comes before the trade on /market too"
        wait_until(lambda: metric(gw, "gateway_feed_stale_symbols", f'{{symbol="{AAA}"}}') == 0, timeout=3,
                   message="the stale gauge goes back to 0")
        time.sleep(0.3)
        for client in (prices, market):
            since = fed[id(client)]
            assert len(client.of("market.stale", symbol=AAA, since=since)) == 1, "one market.stale per socket and namespace"
            assert len(client.of("market.live", symbol=AAA, since=since)) == 1, "one market.live per socket and namespace"
            assert not client.of("market.stale", symbol=BBB, since=since), "BBB never went quiet"
    finally:
        loop.stop()
        close_all([ops, prices, market])


def test_subscribing_to_a_stale_symbol_says_so_at_once(stale_gateway):
    """A symbol silent past staleAfterMs: a new subscriber learns it at once, as it learns any
    state on subscribe (SPEC §3): in the ack's `stale` when it asked with an ack, else as
    market.stale right after subscription.confirmed."""
    ts = now_ms()
    Producer(stale_gateway).post(tick(CCC, ts=ts))
    time.sleep(1.6)
    with_ack, without_ack = Client(stale_gateway, "/prices"), Client(stale_gateway, "/market")
    without_ack.client.emit("subscribe", {"channels": ["trades"], "symbols": [CCC]}, namespace="/market")
    confirmed_at, _, _ = without_ack.wait_first("subscription.confirmed", timeout=2)
    stale_at, stale, _ = without_ack.wait_first("market.stale", symbol=CCC, timeout=2)
    assert confirmed_at < stale_at and stale["reason"] == "silent" and stale["lastSourceTs"] == ts, stale
    ack = with_ack.call("subscribe", {"symbols": [CCC]})
    assert [(s["symbol"], s["reason"], s["lastSourceTs"]) for s in ack["stale"]] == [(CCC, "silent", ts)], ack
    assert ack["stale"][0]["silentMs"] >= 1000, ack
    close_all([with_ack, without_ack])


# --- 2. heartbeats -----------------------------------------------------------------------------

def test_a_quiet_symbol_sends_heartbeats_that_stop_while_data_flows(gateway):
    """With heartbeatMs 1000, a quiet symbol brings market.heartbeat about every second, carrying
    the last trade seq and a gateway clock close to ours; ticks every 200 ms silence them, and
    they resume when the ticks stop. Without heartbeatMs (or with 0) nothing comes."""
    producer = Producer(gateway)
    hb = Client(gateway, "/prices")
    plain = Client(gateway, "/prices")
    off = Client(gateway, "/prices")
    kept = Client(gateway, "/prices")
    assert hb.call("subscribe", {"symbols": [HB1], "heartbeatMs": 1000})["ok"] is True
    assert plain.call("subscribe", {"symbols": [HB1]})["ok"] is True
    assert off.call("subscribe", {"symbols": [HB1], "heartbeatMs": 0})["ok"] is True
    assert kept.call("subscribe", {"symbols": [HB1], "heartbeatMs": 1000})["ok"] is True
    assert kept.call("subscribe", {"symbols": [HB1]})["ok"] is True  # without heartbeatMs: left as it was

    last_trade_ts = now_ms()
    producer.post([trade(HB1, f"hb-{i}", ts=last_trade_ts - 2 + i) for i in range(3)])
    trades = hb.wait_count("price.trade", 3, symbol=HB1)
    last_trade_at = hb.timed("price.trade", symbol=HB1)[-1][2]
    quiet_from = hb.mark()
    hb.wait_count("market.heartbeat", 3, symbol=HB1, since=quiet_from, timeout=5)
    beats = hb.timed("market.heartbeat", symbol=HB1, since=quiet_from)[:3]
    arrivals = [last_trade_at] + [t for _, _, t in beats]
    intervals = [b - a for a, b in zip(arrivals, arrivals[1:])]
    print("heartbeat intervals (s):", [round(i, 3) for i in intervals])
    assert all(0.75 <= i <= 1.6 for i in intervals), intervals
    for _, beat, arrived in beats:
        assert set(beat) == HEARTBEAT_FIELDS, beat
        assert beat["tradeSeq"] == trades[-1]["seq"] == beat["seq"], (beat, trades[-1])
        assert beat["priceSeq"] == 0 and beat["depthSeq"] is None and beat["sourceTs"] == last_trade_ts
        assert abs(beat["gatewayTs"] - arrived * 1000) < 1000, "gatewayTs is the gateway's clock, close to ours"
    assert kept.of("market.heartbeat", symbol=HB1), "a later subscribe without heartbeatMs keeps the heartbeat"
    assert not plain.of("market.heartbeat") and not off.of("market.heartbeat"), "heartbeats are opt-in"

    # Ticks every 200 ms: the symbol is not quiet, so no heartbeat.
    flow_from = hb.mark()
    last_tick = None
    for i in range(12):
        last_tick = tick(HB1, price=f"100.{i}")
        producer.post([last_tick])
        time.sleep(0.2)
    _, _, first_update_at = hb.wait_first("price.update", symbol=HB1, since=flow_from)
    updates = hb.wait_count("price.update", 12, symbol=HB1, since=flow_from)
    flowing = [t for _, _, t in hb.timed("market.heartbeat", symbol=HB1, since=flow_from) if t > first_update_at + 0.3]
    assert not flowing, f"{len(flowing)} heartbeat(s) while ticks flowed every 200 ms"

    # Stopped: they resume, now with the tick's seq and ts.
    stop_from = hb.mark()
    last_update_at = hb.timed("price.update", symbol=HB1)[-1][2]
    _, beat, arrived = hb.wait_first("market.heartbeat", symbol=HB1, since=stop_from, timeout=2.5)
    assert 0.75 <= arrived - last_update_at <= 1.6, f"resumed {arrived - last_update_at:.2f} s after the last tick"
    assert beat["priceSeq"] == updates[-1]["seq"] and beat["sourceTs"] == last_tick["ts"] and beat["tradeSeq"] == trades[-1]["seq"]

    # 0 turns them off.
    assert hb.call("subscribe", {"symbols": [HB1], "heartbeatMs": 0})["ok"] is True
    off_from = hb.mark()
    time.sleep(1.6)
    assert not hb.of("market.heartbeat", since=off_from), "heartbeatMs 0 turns them off"
    close_all([hb, plain, off, kept])


def test_market_heartbeats_carry_the_book_seq(gateway):
    """On /market a symbol with a book heartbeats with the book's seq (depthSeq) as `seq`."""
    producer = Producer(gateway)
    ts = now_ms()
    producer.post([depth(HB2, "snapshot", 7, [["10.0", "1"]], [["10.5", "1"]], ts=ts - 1), trade(HB2, "m-1", ts=ts)])
    conn = Client(gateway, "/market")
    assert conn.call("subscribe", {"channels": ["trades"], "symbols": [HB2], "heartbeatMs": 1000})["ok"] is True
    _, beat, _ = conn.wait_first("market.heartbeat", symbol=HB2, timeout=2.5)
    assert set(beat) == HEARTBEAT_FIELDS, beat
    assert beat["seq"] == beat["depthSeq"] == 7 and beat["tradeSeq"] == 1 and beat["sourceTs"] == ts
    conn.close()


@pytest.mark.parametrize("namespace,request_body", [
    ("/prices", {"symbols": [HB1], "heartbeatMs": 1234}),
    ("/prices", {"symbols": [HB1], "heartbeatMs": "x"}),
    ("/prices", {"symbols": [HB1], "heartbeatMs": -1}),
    ("/market", {"channels": ["trades"], "symbols": [HB1], "heartbeatMs": 1234}),
    ("/market", {"channels": ["trades"], "symbols": [HB1], "heartbeatMs": "1000"}),
])
def test_a_heartbeat_interval_not_offered_is_refused(gateway, namespace, request_body):
    """Only 0, 1000, 2000, 5000, 10000, 30000, 60000 are heartbeat intervals."""
    conn = Client(gateway, namespace)
    reply = conn.call("subscribe", request_body)
    assert reply["ok"] is False and reply["error"]["code"] == "INVALID_PAYLOAD", reply
    conn.close()


# --- 3. trade and price seq --------------------------------------------------------------------

def test_trades_and_prices_carry_a_per_symbol_seq(gateway):
    """Every trade of a symbol has the next seq (the same on /prices and /market), every tick
    the next price seq, each symbol counting on its own from 1; acks of subscribes that opt in
    (heartbeatMs, 0 too) name the run's epoch, others stay as they always were."""
    prices = Client(gateway, "/prices")
    market = Client(gateway, "/market")
    plain = Client(gateway, "/prices")
    assert plain.call("subscribe", {"symbols": [TR1]}) == {"ok": True, "symbols": [TR1], "latest": []}
    plain.close()
    p_ack = prices.call("subscribe", {"symbols": [TR1, TR2], "heartbeatMs": 0})
    m_ack = market.call("subscribe", {"channels": ["trades"], "symbols": [TR1, TR2], "heartbeatMs": 0})
    assert isinstance(p_ack.get("epoch"), str) and p_ack["epoch"], p_ack
    assert m_ack.get("epoch") == p_ack["epoch"], "one run, one epoch"
    producer = Producer(gateway)
    batch = []
    for i in range(20):
        batch.append(trade(TR1, f"a{i}"))
        if i % 4 == 0:
            batch.append(trade(TR2, f"b{i}"))
    producer.post(batch)
    for i in range(5):
        producer.post(trade(TR1, f"c{i}"))
    producer.post([tick(TR1, price=f"50.{i}") for i in range(6)])

    p_trades = prices.wait_count("price.trade", 25, symbol=TR1)
    assert [t["seq"] for t in p_trades] == list(range(1, 26))
    assert [t["tradeId"] for t in p_trades] == [f"a{i}" for i in range(20)] + [f"c{i}" for i in range(5)]
    assert [t["seq"] for t in prices.wait_count("price.trade", 5, symbol=TR2)] == list(range(1, 6)), "each symbol counts on its own"
    updates = prices.wait_count("price.update", 6, symbol=TR1)
    assert [u["seq"] for u in updates] == list(range(1, 7))

    wait_until(lambda: sum(len(m["trades"]) for m in market.of("market.trades", symbol=TR1)) >= 25, timeout=5)
    flat = []
    for message in market.of("market.trades", symbol=TR1):
        seqs = [t["seq"] for t in message["trades"]]
        assert message["seq"] in seqs, message
        flat += seqs
    assert flat == list(range(1, 26)), "market.trades counts the same trades as price.trade"
    close_all([prices, market])


# --- 4. conflated trades are declared ----------------------------------------------------------

def test_a_lagging_socket_is_told_which_trades_it_skipped(lag_gateway):
    """A socket that stops reading while thousands of trades go by is not closed: when it reads
    again, the trades it got plus the market.gap ranges it was sent account for every trade
    exactly once, each gap in stream order."""
    # One symbol's trades fill the buffers: each carries a ~1 KB tradeId, so N trades are ~4 MB
    # per socket, far past the 4 KiB kernel buffers and the gateway's 512 KiB write buffer.
    n = 4000
    padding = "p" * 1000
    sockets = {}
    for namespace, event, request in (("/market", "market.trades", {"channels": ["trades"], "symbols": [LAG]}),
                                      ("/prices", "price.trade", {"symbols": [LAG]})):
        raw = RawSocket(lag_gateway, namespace, {}, receive_buffer=4096)
        raw.ws.send(f"42{namespace},1" + json.dumps(["subscribe", request]))
        assert raw.ack(1)[0]["ok"] is True
        sockets[namespace] = (raw, event)
    # ...and neither reads while the trades are published.
    producer = Producer(lag_gateway)
    before = metric(lag_gateway, "gateway_feed_messages_total", '{source="http",type="trade"}')
    for start in range(0, n, 500):
        producer.post([trade(LAG, f"{padding}-{i}") for i in range(start + 1, start + 501)])
    wait_until(lambda: metric(lag_gateway, "gateway_feed_messages_total", '{source="http",type="trade"}') >= before + n,
               timeout=10, message="the gateway took every trade")
    time.sleep(1.0)
    for namespace, (raw, event) in sockets.items():
        items = read_trade_stream(raw, event, LAG, n, timeout=25)
        gaps = [payload for kind, payload in items if kind == "gap"]
        print(f"{namespace}: {sum(1 for k, _ in items if k == 'trade')} trades received, {len(gaps)} gaps "
              f"covering {sum(g['toSeq'] - g['fromSeq'] + 1 for g in gaps)}")
        assert gaps, f"{namespace}: no market.gap although the socket skipped trades"
        expected = 1
        for kind, value in items:
            if kind == "trade":
                assert value == expected, f"{namespace}: trade {value} where {expected} was next (items {items[:3]}…)"
                expected += 1
            else:
                assert value["channel"] == "trades" and value["reason"] == "conflated", value
                assert value["fromSeq"] == expected, f"{namespace}: gap {value} where {expected} was next"
                assert value["toSeq"] >= value["fromSeq"], value
                expected = value["toSeq"] + 1
        assert expected == n + 1, f"{namespace}: accounted up to {expected - 1} of {n}"
        assert items[-1] == ("trade", n), f"{namespace}: the newest trade is kept"
        raw.close()
    assert metric(lag_gateway, "gateway_slow_consumer_disconnects_total") == 0


# --- 5. depth choice ---------------------------------------------------------------------------

MID = 100_000  # price ticks of 0.01
DELTAS = 10_000


def price_text(ticks):
    return f"{ticks // 100}.{ticks % 100:02d}"


class RandomBook:
    """A producer's 1,000-level book and random deltas: quantity changes, removals and inserts at
    random levels, about one in ten at the top; never more than 1,000 levels per side."""

    def __init__(self, rng, levels=1000):
        self.rng = rng
        self.bids = {MID - 20 - 4 * k: self.qty() for k in range(levels)}
        self.asks = {MID + 20 + 4 * k: self.qty() for k in range(levels)}
        self.seq = 1

    def qty(self):
        return f"{self.rng.randint(1, 99_999) / 1000:.3f}"

    def snapshot(self):
        return depth(BOOK, "snapshot", self.seq, [[price_text(p), q] for p, q in sorted(self.bids.items(), reverse=True)],
                     [[price_text(p), q] for p, q in sorted(self.asks.items())])

    def delta(self):
        self.seq += 1
        changes = {"bids": {}, "asks": {}}
        for _ in range(self.rng.randint(1, 3)):
            side_name = self.rng.choice(("bids", "asks"))
            self.change(side_name, changes[side_name])
        return depth(BOOK, "delta", self.seq, [[price_text(p), q] for p, q in changes["bids"].items()],
                     [[price_text(p), q] for p, q in changes["asks"].items()])

    def change(self, side_name, out):
        side = getattr(self, side_name)
        best_first = sorted(side, reverse=side_name == "bids")
        roll = self.rng.random()
        if roll < 0.7 and side:
            level = self.rng.choice(best_first[:12]) if self.rng.random() < 0.1 else self.rng.choice(best_first)
            if level in out:
                return
            if roll < 0.4:
                side[level] = out[level] = self.qty()
            else:
                del side[level]
                out[level] = "0"
            return
        if side_name == "bids":
            top_free = [p for p in range(best_first[0] + 1, MID) if p not in side] if side else []
            pool = (MID - 20 - 4 * 1100, MID - 1)
        else:
            top_free = [p for p in range(MID + 1, best_first[0]) if p not in side] if side else []
            pool = (MID + 1, MID + 20 + 4 * 1100)
        if top_free and self.rng.random() < 0.15:
            level = self.rng.choice(top_free)
        else:
            level = self.rng.randint(*pool)
        if level in side or level in out or len(side) >= 1000:
            return  # (never past maxBookLevels: what the gateway drops there is not this test's subject)
        side[level] = out[level] = self.qty()


def book_messages(client, ack):
    """(seq-ordered) depth messages of BOOK and the depth gap ranges a client got, ack first."""
    messages = [s for s in ack["snapshots"] if s["symbol"] == BOOK] + client.of("market.depth", symbol=BOOK)
    gaps = [(g["fromSeq"], g["toSeq"]) for g in client.of("market.gap", symbol=BOOK) if g.get("channel") == "depth"]
    return messages, gaps


def test_a_depth_n_subscriber_holds_exactly_the_top_n_of_the_book(gateway):
    """A 1,000-level book and 10,000 random deltas: subscribers at depth 10, 50 and 200 each rebuild
    a book whose checksum holds on every message and which equals the top N of a full-depth
    subscriber's book at every seq, for a fraction of the bytes."""
    rng = random.Random(20261207)
    book = RandomBook(rng)
    producer = Producer(gateway)
    producer.post(book.snapshot())
    clients, acks = {}, {}
    for n in (None, 10, 50, 200):
        clients[n] = Client(gateway, "/market")
        request = {"channels": ["depth"], "symbols": [BOOK], "cadence": "raw"} | ({"depth": n} if n else {})
        wait_until(lambda: (acks.__setitem__(n, clients[n].call("subscribe", request)) or acks[n]["snapshots"]),
                   timeout=5, message="the snapshot reaches the book")
        assert acks[n]["ok"] is True and acks[n]["snapshots"][0]["seq"] == 1, acks[n]
        snapshot = acks[n]["snapshots"][0]
        assert len(snapshot["bids"]) == len(snapshot["asks"]) == (n or 1000)
    started = time.time()
    for _ in range(DELTAS // 500):
        producer.post([book.delta() for _ in range(500)])
    book.seq += 1  # the best bid changes: every subscriber gets the last seq
    producer.post(depth(BOOK, "delta", book.seq, [[price_text(max(book.bids)), "7.777"]], []))
    for n, client in clients.items():
        wait_until(lambda: client.of("market.depth", symbol=BOOK) and client.of("market.depth", symbol=BOOK)[-1]["seq"] == book.seq,
                   timeout=30, message=lambda: f"depth={n} did not reach seq {book.seq}")
    print(f"{DELTAS + 1} deltas delivered to 4 subscribers in {time.time() - started:.1f} s")

    # Every client's stream chains and checks out; the depth-N books equal the full book's top N.
    full_messages, full_gaps = book_messages(clients[None], acks[None])
    full = DepthBook()
    streams = {n: book_messages(clients[n], acks[n]) for n in (10, 50, 200)}
    books = {n: DepthBook(n) for n in streams}
    cursor = dict.fromkeys(streams, 0)
    compared = dict.fromkeys(streams, 0)
    for message in full_messages:
        full.apply(message)
        seq = message["seq"]
        for n, (messages, gaps) in streams.items():
            while cursor[n] < len(messages) and messages[cursor[n]]["seq"] <= seq:
                books[n].apply(messages[cursor[n]])
                cursor[n] += 1
            if any(lo <= seq <= hi for lo, hi in gaps + full_gaps):
                continue  # a resync: the socket declared it skipped this seq
            assert books[n].top(n) == full.top(n), f"depth={n} differs from the full book's top {n} at seq {seq}"
            compared[n] += 1
    assert full.seq == book.seq
    for n in streams:
        assert cursor[n] == len(streams[n][0]), f"depth={n} got seqs the full book never had"
        assert compared[n] > DELTAS * 0.9, f"depth={n} compared at only {compared[n]} seqs"
    sizes = {n: c.bytes + len(json.dumps(acks[n], separators=(",", ":"))) for n, c in clients.items()}
    print("messages:", {n or "full": books[n].messages if n else full.messages for n in clients},
          "bytes:", {n or "full": b for n, b in sizes.items()}, f"depth-10/full ratio {sizes[10] / sizes[None]:.3f}")
    assert sizes[10] < sizes[None] / 3, "depth 10 costs a fraction of the full book"
    close_all(clients.values())


@pytest.mark.parametrize("request_body", [
    {"channels": ["depth"], "symbols": [BOOK], "depth": 7},
    {"channels": ["depth"], "symbols": [BOOK], "depth": "10"},
    {"channels": ["depth"], "symbols": [BOOK], "depth": 0},
    {"channels": ["trades"], "symbols": [BOOK], "depth": 10},
])
def test_a_depth_not_offered_is_refused(gateway, request_body):
    """depth is 10, 50, 200 or 1000, and only with the depth channel."""
    conn = Client(gateway, "/market")
    reply = conn.call("subscribe", request_body)
    assert reply["ok"] is False and reply["error"]["code"] == "INVALID_PAYLOAD", reply
    conn.close()


# --- 6. feed gaps and restarts -----------------------------------------------------------------

def test_a_feed_gap_is_declared_and_healed_by_the_next_snapshot(gateway):
    """A delta that skips a seq: depth subscribers (full and depth 10) get market.gap (feed-gap) and
    market.stale for the depth channel, no delta until a snapshot, then market.live before that
    snapshot; a trades subscriber of the symbol hears nothing of it."""
    producer = Producer(gateway)
    producer.post(depth(GAP, "snapshot", 1, [["150.0", "2"], ["149.5", "1"]], [["150.5", "1"]]))
    full, top = Client(gateway, "/market"), Client(gateway, "/market")
    trades_only = Client(gateway, "/market")
    for conn, extra in ((full, {}), (top, {"depth": 10})):
        wait_until(lambda: conn.call("subscribe", {"channels": ["depth"], "symbols": [GAP], "cadence": "raw"} | extra)["snapshots"],
                   timeout=5)
    assert trades_only.call("subscribe", {"channels": ["trades"], "symbols": [GAP]})["ok"] is True
    producer.post(depth(GAP, "delta", 2, [["149.9", "3"]], []))
    for conn in (full, top):
        _, delta, _ = conn.wait_first("market.depth", symbol=GAP, where=lambda d: d["type"] == "delta")
        assert delta["type"] == "delta" and (delta["prevSeq"], delta["seq"]) == (1, 2)

    marks = {id(conn): conn.mark() for conn in (full, top)}
    skipped = depth(GAP, "delta", 4, [["149.8", "1"]], [])  # seq 3 never comes
    producer.post(skipped)
    producer.post(depth(GAP, "delta", 5, [["149.7", "1"]], []))
    for conn in (full, top):
        _, gap, _ = conn.wait_first("market.gap", symbol=GAP, since=marks[id(conn)], timeout=2)
        assert gap == {"symbol": GAP, "channel": "depth", "fromSeq": 3, "toSeq": 3, "reason": "feed-gap"}, gap
        _, stale, _ = conn.wait_first("market.stale", symbol=GAP, since=marks[id(conn)], timeout=2)
        assert {k: stale.get(k) for k in ("channel", "reason", "silentMs")} == {"channel": "depth", "reason": "feed-gap", "silentMs": 0}, stale
        assert stale.get("lastSourceTs") is not None, stale
    time.sleep(0.4)
    for conn in (full, top):
        assert not conn.of("market.depth", since=marks[id(conn)]), "no delta reaches anyone while the book is broken"

    producer.post(depth(GAP, "snapshot", 10, [["151.0", "1"]], [["151.5", "1"]]))
    for conn, n in ((full, None), (top, 10)):
        live_at, live, _ = conn.wait_first("market.live", symbol=GAP, since=marks[id(conn)], timeout=2)
        snap_at, snapshot, _ = conn.wait_first("market.depth", symbol=GAP, since=marks[id(conn)], timeout=2)
        assert live.get("channel") == "depth" and live_at < snap_at, "market.live, then the snapshot that heals the book"
        assert snapshot["type"] == "snapshot", f"depth={n}: the book is healed by a snapshot, got {snapshot}"
        assert snapshot["seq"] == 10 and snapshot["bids"] == [["151.0", "1"]]
        if n:
            assert snapshot.get("depth") == n, snapshot
    assert not [e for e, _, _ in trades_only.events if e in ("market.gap", "market.stale", "market.live")], \
        "a broken book concerns depth subscribers only"
    close_all([full, top, trades_only])


def test_a_restarted_feed_sequence_is_declared_before_the_new_snapshot(gateway):
    """A snapshot with a lower seq than the book's: depth subscribers get market.gap (restart,
    fromSeq = old seq + 1, toSeq = the new seq), then that snapshot, and deltas chain onto it."""
    producer = Producer(gateway)
    producer.post(depth(RESTART, "snapshot", 10, [["151.0", "1"]], [["151.5", "1"]]))
    full, top = Client(gateway, "/market"), Client(gateway, "/market")
    for conn, extra in ((full, {}), (top, {"depth": 10})):
        wait_until(lambda: conn.call("subscribe", {"channels": ["depth"], "symbols": [RESTART], "cadence": "raw"} | extra)["snapshots"],
                   timeout=5)
    marks = {id(conn): conn.mark() for conn in (full, top)}
    producer.post(depth(RESTART, "snapshot", 3, [["152.0", "1"]], [["152.5", "1"]]))
    producer.post(depth(RESTART, "delta", 4, [["151.9", "2"]], []))
    for conn in (full, top):
        gap_at, gap, _ = conn.wait_first("market.gap", symbol=RESTART, since=marks[id(conn)], timeout=2)
        assert gap == {"symbol": RESTART, "channel": "depth", "fromSeq": 11, "toSeq": 3, "reason": "restart"}, gap
        messages = conn.wait_count("market.depth", 2, symbol=RESTART, since=marks[id(conn)])
        snap_at, _, _ = conn.wait_first("market.depth", symbol=RESTART, since=marks[id(conn)])
        assert gap_at < snap_at and messages[0]["type"] == "snapshot" and messages[0]["seq"] == 3
        assert messages[1]["type"] == "delta" and (messages[1]["prevSeq"], messages[1]["seq"]) == (3, 4)
    close_all([full, top])


def test_a_book_at_the_largest_seq_restarted_lower_keeps_the_gateway_up(gateway):
    """A producer's seq may be 2^64 - 1: a snapshot below it is a restart whose gap notice starts
    past the held seq without overflowing (a trap would stop every client of the instance)."""
    symbol = MAXSEQ
    producer = Producer(gateway)
    producer.post(depth(symbol, "snapshot", 18446744073709551615, [["151.0", "1"]], [["151.5", "1"]]))
    conn = Client(gateway, "/market")
    wait_until(lambda: conn.call("subscribe", {"channels": ["depth"], "symbols": [symbol], "cadence": "raw"})["snapshots"], timeout=5)
    mark = conn.mark()
    producer.post(depth(symbol, "snapshot", 1, [["152.0", "1"]], [["152.5", "1"]]))
    _, gap, _ = conn.wait_first("market.gap", symbol=symbol, since=mark, timeout=2)
    assert gap["reason"] == "restart" and gap["toSeq"] == 1 and gap["fromSeq"] == 18446744073709551615, gap
    assert gateway.alive()
    close_all([conn])
