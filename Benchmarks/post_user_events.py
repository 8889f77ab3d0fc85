"""Posts --count /user events for 50 users to a gateway over HTTP (POST
/api/v1/users/{id}/events), 8 requests in flight, and prints the rate. Bounded by --count."""
import argparse
import time
from concurrent.futures import ThreadPoolExecutor

import jwt
import requests

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--count", type=int, default=2000)
parser.add_argument("--secret", default="bench-secret-0123456789abcdef")
args = parser.parse_args()

now = int(time.time())
token = jwt.encode({"sub": "bench-producer", "role": "service", "iat": now, "exp": now + 3600}, args.secret, algorithm="HS256")


def post(start):
    session = requests.Session()
    session.headers.update({"Authorization": f"Bearer {token}"})
    for n in range(start, args.count, 8):
        session.post(f"http://127.0.0.1:{args.port}/api/v1/users/bench-user-{n % 50}/events",
                     json={"event": "order.new", "data": {"n": n}}, timeout=5)


began = time.time()
with ThreadPoolExecutor(8) as pool:
    list(pool.map(post, range(8)))
print(f"posted {args.count} user events in {time.time() - began:.2f}s")
