"""Round trip of `ping` with an ack on /prices, sequentially, for a client with a user token
(its token bucket is shared through Redis in cluster mode) and an anonymous one (its bucket is
always local): median and p99 in microseconds. Bounded: 2,000 pings each."""
import argparse
import statistics
import time

import jwt
import socketio

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--label", default="gateway")
parser.add_argument("--count", type=int, default=2000)
args = parser.parse_args()


def rtts(auth):
    client = socketio.Client()
    client.connect(f"http://127.0.0.1:{args.port}", namespaces=["/prices"], auth=auth, transports=["websocket"])
    for _ in range(100):
        client.call("ping", {}, namespace="/prices")
    samples = []
    for _ in range(args.count):
        start = time.perf_counter()
        client.call("ping", {}, namespace="/prices")
        samples.append((time.perf_counter() - start) * 1e6)
    client.disconnect()
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99)]


now = int(time.time())
token = jwt.encode({"sub": "bench-user", "role": "user", "iat": now, "exp": now + 3600}, "bench-secret-0123456789abcdef", algorithm="HS256")
user = rtts({"token": token})
anonymous = rtts(None)
print(f"{args.label} ping rtt: user bucket p50={user[0]:.0f}us p99={user[1]:.0f}us; "
      f"anonymous (local) bucket p50={anonymous[0]:.0f}us p99={anonymous[1]:.0f}us; ratio p50={user[0] / anonymous[0]:.2f}")
