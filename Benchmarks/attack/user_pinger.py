"""The honest `/user` client of `Benchmarks/run-attacks.sh`: connects with a user token and sends
acked `ping`s back to back for `--seconds`, then prints one JSON line with the round trips
(p50, p99, max in ms) and how many pings failed or were refused. Loopback only; bounded in time."""
import argparse
import json
import time

import jwt
import socketio

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--seconds", type=float, default=6)
parser.add_argument("--interval", type=float, default=0.02, help="pause between pings (50 a second, /user's rate limit)")
parser.add_argument("--secret", default="bench-secret-0123456789abcdef")
args = parser.parse_args()

now = int(time.time())
token = jwt.encode({"sub": "honest-trader", "role": "user", "iat": now, "exp": now + 3600}, args.secret, algorithm="HS256")
client = socketio.Client(reconnection=False)
client.connect(f"http://127.0.0.1:{args.port}", namespaces=["/user"], auth={"token": token}, transports=["websocket"], wait_timeout=10)
samples, errors = [], 0
stop_at = time.time() + args.seconds
while time.time() < stop_at:
    started = time.perf_counter()
    try:
        reply = client.call("ping", {}, namespace="/user", timeout=5)
        if not reply.get("ok"):
            errors += 1
    except Exception:
        errors += 1
    samples.append((time.perf_counter() - started) * 1000)
    time.sleep(args.interval)
client.disconnect()
samples.sort()


def at(q):
    return round(samples[min(len(samples) - 1, int(len(samples) * q))], 2) if samples else None


print(json.dumps({"pings": len(samples), "errors": errors, "p50_ms": at(0.5), "p99_ms": at(0.99), "max_ms": at(1.0)}))
