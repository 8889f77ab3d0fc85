"""Posts a busy order book to a gateway's HTTP ingest (POST /api/v1/market): a snapshot of
--levels per side, then --rate deltas per second, each changing, removing or adding one level
per side, its depth drawn from an exponential distribution with a mean of --mean-depth levels
(activity thins out away from the top, as on an exchange's book: with the default 100, about
one delta in ten touches the top 10), stamped with the time it is sent. Bounded: stops after --seconds. Batches every
10 ms. Deterministic for a --seed."""
import argparse
import json
import random
import time

import jwt
import requests

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--rate", type=int, default=500, help="deltas per second")
parser.add_argument("--seconds", type=float, default=10)
parser.add_argument("--levels", type=int, default=1000)
parser.add_argument("--symbol", default="BOOK/USDT")
parser.add_argument("--seed", type=int, default=7)
parser.add_argument("--mean-depth", type=float, default=100, help="mean depth of the level a delta changes")
parser.add_argument("--secret", default="bench-secret-0123456789abcdef")
args = parser.parse_args()

rng = random.Random(args.seed)
now = int(time.time())
token = jwt.encode({"sub": "bench-feeder", "role": "service", "iat": now, "exp": now + 3600}, args.secret, algorithm="HS256")
session = requests.Session()
session.headers.update({"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
url = f"http://127.0.0.1:{args.port}/api/v1/market"
tick = 0.01
mid = 10000.0


def price(offset):
    return f"{mid + offset * tick:.2f}"


def qty():
    return f"{rng.randint(1, 9999) / 1000:.3f}"


seq = 1
snapshot = {"type": "depth", "symbol": args.symbol, "kind": "snapshot", "seq": seq, "ts": int(time.time() * 1000),
            "bids": [[price(-level), qty()] for level in range(1, args.levels + 1)],
            "asks": [[price(level), qty()] for level in range(1, args.levels + 1)]}
session.post(url, data=json.dumps(snapshot), timeout=5)
start = time.time()
sent = 0
while time.time() - start < args.seconds:
    due = int((time.time() - start) * args.rate)
    batch = []
    while sent < due:
        seq += 1
        # Same depth range either way: a removal pulls the next level up, an addition fills a hole.
        level = min(args.levels, 1 + int(rng.expovariate(1 / args.mean_depth)))
        bid = [price(-level), "0" if rng.random() < 0.2 else qty()]
        ask = [price(level), "0" if rng.random() < 0.2 else qty()]
        batch.append({"type": "depth", "symbol": args.symbol, "kind": "delta", "seq": seq, "bids": [bid], "asks": [ask],
                      "ts": int(time.time() * 1000)})
        sent += 1
    if batch:
        session.post(url, data=json.dumps(batch), timeout=5)
    time.sleep(0.01)
print(f"posted {sent} deltas")
