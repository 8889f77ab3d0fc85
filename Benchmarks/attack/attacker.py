"""One attacking client for `Benchmarks/run-attacks.sh` (issue 21): runs one attack from the public
edge at full speed from its own loopback address (`--source 127.0.0.2`, so the gateway's
per-address bounds meet the attacker, not the honest clients on 127.0.0.1), for `--seconds`, and
prints one JSON line: what it sent and what came back. Loopback only; bounded in time.

Attacks (docs/security.md has the bound each one meets):
  exp         CONNECT /user with a correctly signed token whose exp is 10^16
  ids         /user sockets as ids that spell other users' rooms (alice#offsets, alice:x, …)
  namespaces  CONNECTs to ever new unknown namespaces (a label each, once)
  sessions    polling handshakes that never join a namespace, each with 12 kB of headers
  headers     requests with 60 kB of headers and 5 kB targets
  connects    polling POSTs of 2,000 CONNECTs with a bad signature each
  book        a producer adding deep levels to a book (service token), 500 levels a message
"""
import argparse
import json
import socket
import threading
import time

import jwt

parser = argparse.ArgumentParser()
parser.add_argument("--attack", required=True)
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--seconds", type=float, default=6)
parser.add_argument("--source", default="127.0.0.2")
parser.add_argument("--threads", type=int, default=4)
parser.add_argument("--secret", default="bench-secret-0123456789abcdef")
args = parser.parse_args()

counts = {}
lock = threading.Lock()


def count(key, n=1):
    with lock:
        counts[key] = counts.get(key, 0) + n


def token(sub, exp=None, role="user"):
    now = int(time.time())
    return jwt.encode({"sub": sub, "role": role, "iat": now, "exp": exp or now + 3600}, args.secret, algorithm="HS256")


def connect():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(3)
    sock.bind((args.source, 0))
    sock.connect(("127.0.0.1", args.port))
    return sock


def http(request):
    """Sends one request on a new connection; returns the status code (0: no answer)."""
    try:
        with connect() as sock:
            sock.sendall(request)
            head = sock.recv(65536)
            return int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/1.1 ") else 0
    except OSError:
        return 0


def ws_frame(text):
    """A masked client text frame."""
    payload = text.encode()
    mask = b"\x01\x02\x03\x04"
    header = bytearray([0x81])
    if len(payload) < 126:
        header.append(0x80 | len(payload))
    elif len(payload) < 65536:
        header += bytes([0x80 | 126]) + len(payload).to_bytes(2, "big")
    else:
        header += bytes([0x80 | 127]) + len(payload).to_bytes(8, "big")
    return bytes(header) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


UPGRADE = (b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
           b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")


def websocket_with(frames):
    """Opens a WebSocket session, sends `frames`, reads until the server closes or 1 s passes."""
    try:
        with connect() as sock:
            sock.sendall(UPGRADE)
            head = sock.recv(4096)
            if not head.startswith(b"HTTP/1.1 101"):
                count("handshake_" + (head[9:12].decode() if head.startswith(b"HTTP/1.1 ") else "none"))
                return
            sock.sendall(b"".join(ws_frame(f) for f in frames))
            count("frames_sent", len(frames))
            sock.settimeout(1)
            received = b""
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                received += chunk
            count("connect_errors", received.count(b"44/"))
            count("closed_by_server")
    except socket.timeout:
        count("left_open")
    except OSError:
        count("reset")


def polling_session(headers=b""):
    try:
        with connect() as sock:
            sock.sendall(b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n")
            head = sock.recv(65536)
            status = head[9:12].decode() if head.startswith(b"HTTP/1.1 ") else "none"
            count("handshake_" + status)
            if status != "200":
                return None
            body = head.split(b"\r\n\r\n", 1)[1]
            return json.loads(body[1:])["sid"]
    except (OSError, ValueError, KeyError):
        count("failed")
        return None


def run_attack(stop_at):
    i = 0
    while time.time() < stop_at:
        i += 1
        if args.attack == "exp":
            frame = "40/user," + json.dumps({"token": token(f"far-{i % 50}", exp=10**16)})
            websocket_with([frame] * 3)
        elif args.attack == "ids":
            sub = ["alice#offsets", "alice:x", "orders:alice", "#offsets:alice", "a|user:b", "*", "{alice}"][i % 7]
            websocket_with(["40/user," + json.dumps({"token": token(sub), "recovery": True})])
        elif args.attack == "namespaces":
            websocket_with([f"40/x{threading.get_ident()}-{i}-{j}," for j in range(3)])
        elif args.attack == "sessions":
            polling_session(b"X-Padding: " + b"a" * 12_000 + b"\r\n")
        elif args.attack == "headers":
            if i % 2:
                request = b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * 60_000 + b"\r\n\r\n"
            else:
                request = b"GET /socket.io/?EIO=4&transport=polling&pad=" + b"b" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
            count(f"status_{http(request)}")
        elif args.attack == "connects":
            sid = polling_session()
            if sid:
                bad = token("x")[:-4] + "AAAA"
                body = "\x1e".join(["40/user," + json.dumps({"token": bad})] * 2000).encode()
                request = (f"POST /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: x\r\n"
                           f"Content-Type: text/plain\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
                count(f"post_{http(request)}")
        elif args.attack == "book":
            base = 10_000 - (i % 1_000_000) * 0.000001
            levels = [[f"{base - k * 0.0001:.6f}", "1"] for k in range(500)]
            # After a refused POST the book would wait for a snapshot: send one, and chain again.
            kind = "snapshot" if i == 1 or counts.get("last_refused") else "delta"
            message = {"type": "depth", "symbol": "ADA/USDT", "kind": kind, "seq": i,
                       "bids": levels, "asks": [], "ts": time.time() * 1000}
            body = json.dumps([message]).encode()
            request = (f"POST /api/v1/market HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token('feeder', role='service')}\r\n"
                       f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body
            status = http(request)
            count(f"post_{status}")
            counts["last_refused"] = 0 if status == 202 else 1
        else:
            raise SystemExit(f"unknown attack {args.attack}")
        count("attempts")


stop_at = time.time() + args.seconds
threads = [threading.Thread(target=run_attack, args=(stop_at,)) for _ in range(1 if args.attack == "book" else args.threads)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
counts.pop("last_refused", None)
print(json.dumps({"attack": args.attack, "seconds": args.seconds, **counts}))
