"""Posts price ticks to a gateway's HTTP ingest (POST /api/v1/market) at a steady rate, each
stamped with the time it is sent (ms since the epoch), so subscribers measure feed → socket
latency. Bounded: stops after --seconds. Batches every 10 ms."""
import argparse
import json
import time

import jwt
import requests

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--rate", type=int, default=200, help="ticks per second")
parser.add_argument("--seconds", type=float, default=10)
parser.add_argument("--secret", default="bench-secret-0123456789abcdef")
parser.add_argument("--symbols", default="BTC/USDT,ETH/USDT,SOL/USDT,XRP/USDT,DOGE/USDT")
parser.add_argument("--ca-file", help="POST over https://, trusting this CA (PEM)")
args = parser.parse_args()

now = int(time.time())
token = jwt.encode({"sub": "bench-feeder", "role": "service", "iat": now, "exp": now + 3600}, args.secret, algorithm="HS256")
session = requests.Session()
scheme = "https" if args.ca_file else "http"
if args.ca_file:
    session.verify = args.ca_file
    session.trust_env = False
session.headers.update({"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
symbols = args.symbols.split(",")
start = time.time()
sent = 0
n = 0
while time.time() - start < args.seconds:
    due = int((time.time() - start) * args.rate)
    batch = []
    while sent < due:
        symbol = symbols[sent % len(symbols)]
        n += 1
        price = f"{100 + (n % 1000) / 100:.2f}"
        batch.append({"type": "tick", "symbol": symbol, "price": price, "bid": price, "ask": price, "volume": "1",
                      "ts": int(time.time() * 1000)})
        sent += 1
    if batch:
        session.post(f"{scheme}://127.0.0.1:{args.port}/api/v1/market", data=json.dumps(batch), timeout=5)
    time.sleep(0.01)
print(f"posted {sent} ticks")
