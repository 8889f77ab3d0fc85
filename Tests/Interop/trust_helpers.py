"""Helpers for test_market_trust.py (docs/market-data.md): an ordered python-socketio client,
an HTTP producer, a ticking producer thread, an order book that checks depth-N checksums, and
a reader for a raw socket's trade stream."""
import bisect
import json
import threading
import time
import zlib

import requests
import socketio

from auth_helpers import token


def now_ms():
    return int(time.time() * 1000)


# --- clients -----------------------------------------------------------------------------------

class Client:
    """A python-socketio client on one namespace that records (event, payload, local time) in
    arrival order. python-engineio hands every message to a new thread by default, which can
    reorder events; this client dispatches them on the read thread, so order is the wire's."""

    def __init__(self, server, namespace, auth=None):
        self.namespace = namespace
        self.client = socketio.Client(reconnection=False)
        trigger = self.client.eio._trigger_event

        def ordered(event, *args, **kwargs):
            if event == "message":
                kwargs["run_async"] = False
            return trigger(event, *args, **kwargs)

        self.client.eio._trigger_event = ordered
        self.events = []
        self.bytes = 0
        self.cond = threading.Condition()
        self.client.on("*", self._on_any, namespace=namespace)
        self.client.connect(server.base, namespaces=[namespace], auth=auth, transports=["websocket"], wait_timeout=5)

    def _on_any(self, event, *args):
        data = args[0] if args else None
        with self.cond:
            self.bytes += len(json.dumps(data, separators=(",", ":"))) + len(event)
            self.events.append((event, data, time.time()))
            self.cond.notify_all()

    def call(self, event, data=None, timeout=5):
        return self.client.call(event, data, namespace=self.namespace, timeout=timeout)

    def mark(self):
        """An index into `events`: what arrives from now on is at or after it."""
        with self.cond:
            return len(self.events)

    def of(self, name, symbol=None, since=0):
        """Payloads of `name` (for `symbol`) from index `since` on."""
        with self.cond:
            return [d for e, d, _ in self.events[since:] if e == name and (symbol is None or (d or {}).get("symbol") == symbol)]

    def timed(self, name, symbol=None, since=0):
        """(index, payload, local arrival time) of `name` (for `symbol`) from `since` on."""
        with self.cond:
            return [(i, d, t) for i, (e, d, t) in enumerate(self.events) if i >= since and e == name
                    and (symbol is None or (d or {}).get("symbol") == symbol)]

    def wait_count(self, name, count, symbol=None, since=0, timeout=5):
        """The first `count` payloads of `name` from `since` on, waiting for them."""
        deadline = time.time() + timeout
        with self.cond:
            while True:
                found = [d for e, d, _ in self.events[since:] if e == name and (symbol is None or (d or {}).get("symbol") == symbol)]
                if len(found) >= count:
                    return found[:count]
                remaining = deadline - time.time()
                if remaining <= 0:
                    raise AssertionError(f"{len(found)} of {count} '{name}' ({symbol}) within {timeout}s; last events: {self.events[-8:]}")
                self.cond.wait(remaining)

    def wait_first(self, name, symbol=None, since=0, timeout=5, where=None):
        """(index, payload, arrival time) of the first `name` (matching `where`) from `since` on."""
        deadline = time.time() + timeout
        with self.cond:
            while True:
                for i in range(since, len(self.events)):
                    e, d, t = self.events[i]
                    if e == name and (symbol is None or (d or {}).get("symbol") == symbol) and (where is None or where(d)):
                        return i, d, t
                remaining = deadline - time.time()
                if remaining <= 0:
                    raise AssertionError(f"no '{name}' ({symbol}) within {timeout}s; last events: {self.events[-8:]}")
                self.cond.wait(remaining)

    def close(self):
        try:
            self.client.disconnect()
        except Exception:
            pass


def close_all(clients):
    for client in clients:
        client.close()


# --- producers ---------------------------------------------------------------------------------

class Producer:
    """POST /api/v1/market with a service token; waits and retries on 429 OVERLOADED."""

    def __init__(self, server):
        self.url = f"{server.base}/api/v1/market"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token('producer', role='service')}"

    def post(self, messages):
        body = json.dumps(messages, separators=(",", ":"))
        for _ in range(200):
            r = self.session.post(self.url, data=body, headers={"Content-Type": "application/json"}, timeout=10)
            if r.status_code != 429:
                break
            time.sleep(0.05)
        assert r.status_code == 202, f"{r.status_code} {r.text[:300]}"
        return r


def tick(symbol, price="100.5", ts=None):
    return {"type": "tick", "symbol": symbol, "price": price, "bid": "100.4", "ask": "100.6", "volume": "10", "ts": ts or now_ms()}


def trade(symbol, trade_id, price="100.5", ts=None):
    return {"type": "trade", "symbol": symbol, "tradeId": trade_id, "price": price, "qty": "0.25", "side": "buy", "ts": ts or now_ms()}


def depth(symbol, kind, seq, bids, asks, ts=None):
    return {"type": "depth", "symbol": symbol, "kind": kind, "seq": seq, "bids": bids, "asks": asks, "ts": ts or now_ms()}


class TickLoop(threading.Thread):
    """Posts one tick per symbol every `interval` seconds; `silence(symbol)` stops one symbol and
    returns the ts of its last tick."""

    def __init__(self, server, symbols, interval=0.1):
        super().__init__(daemon=True)
        self.producer = Producer(server)
        self.symbols = list(symbols)
        self.interval = interval
        self.last_ts = {}
        self.lock = threading.Lock()
        self.stopped = threading.Event()

    def run(self):
        while not self.stopped.is_set():
            with self.lock:
                ts = now_ms()
                messages = [tick(symbol, ts=ts) for symbol in self.symbols]
                if messages:
                    self.producer.post(messages)
                    for symbol in self.symbols:
                        self.last_ts[symbol] = ts
            self.stopped.wait(self.interval)

    def silence(self, symbol):
        with self.lock:
            self.symbols.remove(symbol)
            return self.last_ts[symbol]

    def resume(self, symbol):
        with self.lock:
            self.symbols.append(symbol)

    def stop(self):
        self.stopped.set()
        self.join(timeout=5)


# --- order books -------------------------------------------------------------------------------

def crc_of_levels(bids, asks, count):
    """SPEC §5 checksum over the best `count` levels: bidPrice:bidQty:askPrice:askQty: level by level."""
    parts = []
    for i in range(count):
        if i < len(bids):
            parts.append(f"{bids[i][0]}:{bids[i][1]}:")
        if i < len(asks):
            parts.append(f"{asks[i][0]}:{asks[i][1]}:")
    return zlib.crc32("".join(parts).encode())


class Side:
    """One side of a book: price text -> qty text, kept sorted best first."""

    def __init__(self, descending):
        self.sign = -1.0 if descending else 1.0
        self.qty = {}
        self.keys = []      # sorted sort keys
        self.price_of = {}  # sort key -> price text

    def set(self, price, qty):
        key = self.sign * float(price)
        if float(qty) == 0:
            if price in self.qty:
                del self.qty[price]
                i = bisect.bisect_left(self.keys, key)
                del self.keys[i]
                del self.price_of[key]
            return
        if price not in self.qty:
            bisect.insort(self.keys, key)
            self.price_of[key] = price
        self.qty[price] = qty

    def top(self, n):
        return [(self.price_of[k], self.qty[self.price_of[k]]) for k in self.keys[:n]]

    def __len__(self):
        return len(self.keys)


class DepthBook:
    """A subscriber's book: the snapshot, then deltas that must chain (`prevSeq` == last `seq`),
    every message's checksum checked over the levels held (`depth` N) or the top 10 (full)."""

    def __init__(self, depth=None):
        self.depth = depth
        self.seq = None
        self.bids = Side(descending=True)
        self.asks = Side(descending=False)
        self.messages = 0

    def apply(self, message):
        where = f"depth={self.depth} seq={message.get('seq')}"
        if self.depth is not None:
            assert message.get("depth") == self.depth, f"{where}: payload 'depth' is {message.get('depth')!r}"
        if message["type"] == "snapshot":
            self.bids = Side(descending=True)
            self.asks = Side(descending=False)
        else:
            assert message["prevSeq"] == self.seq, f"{where}: prevSeq {message['prevSeq']} does not chain onto {self.seq}"
        for side, levels in ((self.bids, message["bids"]), (self.asks, message["asks"])):
            for price, qty in levels:
                side.set(price, qty)
        self.seq = message["seq"]
        self.messages += 1
        if self.depth is not None:
            assert len(self.bids) <= self.depth and len(self.asks) <= self.depth, \
                f"{where}: holds {len(self.bids)} bids / {len(self.asks)} asks"
        count = self.depth or 10
        expected = crc_of_levels(self.bids.top(count), self.asks.top(count), count)
        assert expected == message["checksum"], f"{where}: checksum {message['checksum']} != {expected} of the book held"

    def top(self, n):
        return self.bids.top(n), self.asks.top(n)


# --- a raw socket's trade stream ---------------------------------------------------------------

def read_trade_stream(raw, event, symbol, last_seq, timeout=20):
    """Reads `raw` (a sio_raw.RawSocket) until trade `last_seq` of `symbol` is accounted for.
    Returns [("trade", seq) | ("gap", payload)] in arrival order."""
    items = []
    covered = 0
    deadline = time.time() + timeout
    while covered < last_seq:
        remaining = deadline - time.time()
        assert remaining > 0, f"trade {last_seq} not accounted for in {timeout}s (up to {covered}); tail {items[-5:]}"
        name, args = raw.events(1, timeout=remaining)[0]
        payload = args[0] if args else {}
        if payload.get("symbol") != symbol:
            continue
        if name == event:
            for item in payload.get("trades", [payload]):
                items.append(("trade", item["seq"]))
                covered = max(covered, item["seq"])
        elif name == "market.gap":
            items.append(("gap", payload))
            covered = max(covered, payload["toSeq"])
    return items
