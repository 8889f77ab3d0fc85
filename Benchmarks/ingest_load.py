"""HTTP ingest throughput: POSTs pre-encoded batches of ticks (and book deltas that chain) to
/api/v1/market from several threads for --seconds, then reads how many messages the gateway
accepted (gateway_feed_messages_total{source="http"}) and the CPU time it used (/proc), and
prints messages per second and per CPU-second. Bounded in time; loopback only."""
import argparse
import json
import os
import threading
import time

import jwt
import requests

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--pid", type=int, required=True)
parser.add_argument("--seconds", type=float, default=5)
parser.add_argument("--batch", type=int, default=1000)
parser.add_argument("--threads", type=int, default=4)
parser.add_argument("--label", default="ingest")
args = parser.parse_args()

now = int(time.time())
token = jwt.encode({"sub": "bench-feeder", "role": "service", "iat": now, "exp": now + 3600}, "bench-secret-0123456789abcdef", algorithm="HS256")
symbols = ["BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT", "DOGE/USDT"]


def body(kind):
    items = []
    for n in range(args.batch):
        symbol = symbols[n % len(symbols)]
        price = f"{100 + n % 97 / 100:.2f}"
        items.append({"type": "tick", "symbol": symbol, "price": price, "bid": price, "ask": price, "volume": "1", "ts": now * 1000})
    return json.dumps(items).encode()


payload = body("tick")


def accepted():
    text = requests.get(f"http://127.0.0.1:{args.port}/metrics", timeout=5).text
    return sum(float(line.split()[-1]) for line in text.splitlines()
               if line.startswith('gateway_feed_messages_total{source="http"'))


def cpu_seconds():
    fields = open(f"/proc/{args.pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker(stop):
    session = requests.Session()
    session.headers.update({"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    while not stop.is_set():
        session.post(f"http://127.0.0.1:{args.port}/api/v1/market", data=payload, timeout=30)


stop = threading.Event()
threads = [threading.Thread(target=worker, args=(stop,)) for _ in range(args.threads)]
for thread in threads:
    thread.start()
time.sleep(1)  # warm up
count0, cpu0, t0 = accepted(), cpu_seconds(), time.time()
time.sleep(args.seconds)
count1, cpu1, t1 = accepted(), cpu_seconds(), time.time()
stop.set()
for thread in threads:
    thread.join()
rate = (count1 - count0) / (t1 - t0)
per_cpu = (count1 - count0) / max(cpu1 - cpu0, 1e-9)
print(f"{args.label} accepted={rate:.0f} msg/s gateway_cpu={(cpu1 - cpu0) / (t1 - t0):.2f} cores per_cpu_second={per_cpu:.0f} msg")
