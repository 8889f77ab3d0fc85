"""Redis feed ingest throughput: PUBLISHes arrays of feed messages (price ticks and book deltas
that chain, --depth-share of them deltas) to {prefix}feed for --seconds, as fast as the gateway
takes them: no more than --window messages may be published and not yet accepted
(gateway_feed_messages_total{source="redis"}), so Redis never buffers without bound for a slow
subscriber. Prints messages accepted per second and per gateway CPU-second, and what was lost
(published, not accepted) or refused. Bounded in time; loopback only; raw RESP, no client library."""
import argparse
import json
import os
import socket
import time

import requests

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True, help="the gateway's HTTP port (for /metrics)")
parser.add_argument("--pid", type=int, required=True)
parser.add_argument("--redis-port", type=int, required=True)
parser.add_argument("--prefix", default="ws:")
parser.add_argument("--seconds", type=float, default=5)
parser.add_argument("--batch", type=int, default=1000)
parser.add_argument("--depth-share", type=float, default=0.5)
parser.add_argument("--window", type=int, default=30000)
parser.add_argument("--label", default="redis ingest")
args = parser.parse_args()

symbols = ["BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT", "DOGE/USDT"]
channel = (args.prefix + "feed").encode()
now_ms = int(time.time() * 1000)
# Sequences start from the clock (µs), so a second run against the same gateway still chains:
# its snapshots are newer than the books the first run left, and deltas never catch up with it.
first_seq = time.time_ns() // 1000
seqs = {symbol: first_seq for symbol in symbols}


def resp(*parts):
    out = [b"*%d\r\n" % len(parts)]
    for part in parts:
        out.append(b"$%d\r\n%s\r\n" % (len(part), part))
    return b"".join(out)


def snapshot(symbol):
    levels = [[f"{100 - n / 100:.2f}", "1"] for n in range(1, 21)], [[f"{100 + n / 100:.2f}", "1"] for n in range(1, 21)]
    return {"type": "depth", "symbol": symbol, "kind": "snapshot", "seq": first_seq, "bids": levels[0], "asks": levels[1], "ts": now_ms}


# One batch as fixed byte pieces with a slot for each delta's seq: the text is made once, only the
# sequence numbers change, so the producer spends little of the 2 cores the gateway needs.
pieces, slots = [], []
depth_every = int(1 / args.depth_share) if args.depth_share > 0 else 0
text = "["
for n in range(args.batch):
    symbol = symbols[n % len(symbols)]
    price = f"{100 + n % 97 / 100:.2f}"
    if n > 0:
        text += ","
    if depth_every and n % depth_every == 0:
        qty = f"{1 + n % 7}.{n % 10}"
        delta = {"type": "depth", "symbol": symbol, "kind": "delta", "seq": 0, "bids": [[f"{100 - (1 + n % 20) / 100:.2f}", qty]],
                 "asks": [[f"{100 + (1 + n % 20) / 100:.2f}", qty]], "ts": now_ms}
        head, tail = json.dumps(delta, separators=(",", ":")).split('"seq":0', 1)
        pieces.append((text + head + '"seq":').encode())
        slots.append(symbol)
        text = tail
    else:
        text += json.dumps({"type": "tick", "symbol": symbol, "price": price, "bid": price, "ask": price, "volume": "1", "ts": now_ms},
                           separators=(",", ":"))
pieces.append((text + "]").encode())


def next_batch():
    out = []
    for piece, symbol in zip(pieces, slots):
        seqs[symbol] += 1
        out.append(piece)
        out.append(b"%d" % seqs[symbol])
    out.append(pieces[-1])
    return resp(b"PUBLISH", channel, b"".join(out))


def metric_sum(text, prefix):
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(prefix))


def counters():
    text = requests.get(f"http://127.0.0.1:{args.port}/metrics", timeout=5).text
    return (metric_sum(text, 'gateway_feed_messages_total{source="redis"'),
            metric_sum(text, 'gateway_feed_rejected_total{source="redis"'),
            metric_sum(text, 'gateway_feed_rejected_total{source="book"'),
            metric_sum(text, "gateway_feed_gaps_total"))


def cpu_seconds():
    fields = open(f"/proc/{args.pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


redis = socket.create_connection(("127.0.0.1", args.redis_port))
replies = redis.makefile("rb")


def publish(payload):
    """PUBLISH and wait for the answer: the number of subscribers that got it."""
    redis.sendall(payload)
    line = replies.readline()
    if not line.startswith(b":"):
        raise SystemExit(f"PUBLISH failed: {line!r}")
    return int(line[1:])


# Every book starts from a snapshot; the deltas then chain from it. The gateway subscribes to
# Redis on its own after its HTTP port opens: wait (up to 10 s) until it receives.
baseline = counters()
base = baseline[0]
subscribed_by = time.time() + 10
while publish(resp(b"PUBLISH", channel, json.dumps(snapshot(symbols[0])).encode())) == 0:
    if time.time() > subscribed_by:
        raise SystemExit("the gateway is not subscribed to the feed channel")
    time.sleep(0.1)
for symbol in symbols[1:]:
    publish(resp(b"PUBLISH", channel, json.dumps(snapshot(symbol)).encode()))
published = len(symbols)
deadline = time.time() + 10
while counters()[0] - base < published and time.time() < deadline:
    time.sleep(0.05)


def run(seconds):
    """Publishes for `seconds`, keeping at most --window messages not yet accepted."""
    global published
    end = time.time() + seconds
    accepted = counters()[0] - base
    while time.time() < end:
        if published - accepted + args.batch > args.window:
            time.sleep(0.01)
            accepted = counters()[0] - base
            continue
        publish(next_batch())
        published += args.batch


run(1)  # warm up
start, cpu0, t0 = counters(), cpu_seconds(), time.time()
run(args.seconds)
end, cpu1, t1 = counters(), cpu_seconds(), time.time()
# Let what is in flight land, then count what never did.
deadline = time.time() + 5
while counters()[0] - base < published and time.time() < deadline:
    time.sleep(0.05)
final = counters()
rate = (end[0] - start[0]) / (t1 - t0)
per_cpu = (end[0] - start[0]) / max(cpu1 - cpu0, 1e-9)
print(f"{args.label} accepted={rate:.0f} msg/s gateway_cpu={(cpu1 - cpu0) / (t1 - t0):.2f} cores per_cpu_second={per_cpu:.0f} msg "
      f"published={published} lost={published - (final[0] - base):.0f} refused={final[1] - baseline[1]:.0f} "
      f"book_refused={final[2] - baseline[2]:.0f} gaps={final[3] - baseline[3]:.0f}")
