"""Bytes on the wire per delivery, plain against permessage-deflate (RFC 7692), for what a
gateway sends most: (a) a `price.update` on /prices, (b) a 50-level `market.depth` snapshot (the
/market depth subscribe ack, cadence raw, which carries `snapshots`), (c) a 1,000-level snapshot
(posted first to /api/v1/market for --deep-symbol, then subscribed to the same way), and (d) a
typical depth delta (the next `market.depth` with `"type":"delta"` on --symbol).

Against a running gateway on 127.0.0.1:--port, started by the caller with the simulator feed
(the public namespaces need no token). (c) needs a producer token (--token, else
$PRODUCER_TOKEN, else one minted HS256 from --secret / $JWT_SECRET) and a gateway that takes
--deep-symbol: `feed.symbols: "*"` (learned from the feed: the simulator makes up only its
default five) or a list naming it; `feed.maxBookLevels` at least --levels (1,000 by default).
Without a token, or when the POST is refused, (c) is left out and said so.

Each case is read by a raw client that offers permessage-deflate as browsers do
(Tests/Interop/deflate_ws.py, which shows the RSV1 bit and the frame's own bytes), and by one that
does not offer it. Per case:
  payload       the Engine.IO packet (the WebSocket message's text) in bytes;
  plain         a plain frame's bytes: header + payload (as the non-offering socket got it);
  deflate       the frame as the offering socket got it, at the gateway's threshold (default
                1024: smaller messages arrive plain);
  ratio         deflate / plain;
  threshold 0   what the frame would be with `COMPRESSION_THRESHOLD=0`: the payload compressed
                the way the gateway does (zlib level --level, raw DEFLATE, no context takeover,
                sync flush, its 00 00 ff ff tail removed), sent plain when that does not shrink it;
  msgpack       a placeholder (the msgpack parser's encoding is not measured yet).
Several messages per case (--samples) where the feed sends more than one: the median of each
column. Prints a markdown table, then one JSON line. Bounded: --timeout seconds per case."""
import argparse
import base64
import hashlib
import hmac
import http.client
import importlib.util
import json
import os
import random
import statistics
import sys
import time
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("deflate_ws", HERE.parent / "Tests" / "Interop" / "deflate_ws.py")
deflate_ws = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(deflate_ws)


class Endpoint:
    def __init__(self, port):
        self.port = port


def frame_header_bytes(length):
    """A server frame's header: unmasked, 7-bit, 16-bit or 64-bit length."""
    return 2 if length < 126 else 4 if length < 65536 else 10


def plain_wire(payload_len):
    return frame_header_bytes(payload_len) + payload_len


def compressed_wire(payload, level):
    """The frame at threshold 0: the payload compressed as the gateway does it, or plain when that
    does not shrink it (the gateway then sends the plain frame)."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15, 8)
    body = compressor.compress(payload) + compressor.flush(zlib.Z_SYNC_FLUSH)
    if body.endswith(deflate_ws.TAIL):
        body = body[:-4]
    if len(body) >= len(payload):
        return plain_wire(len(payload)), False
    return plain_wire(len(body)), True


def mint_token(secret, sub="wire-bytes", role="service", ttl=3600):
    def b64(data):
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    now = int(time.time())
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = b64(json.dumps({"sub": sub, "role": role, "iat": now, "exp": now + ttl}, separators=(",", ":")).encode())
    signature = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(signature)}"


class Socket:
    """One raw client on a namespace: deflate offered or not."""

    def __init__(self, port, namespace, offer, timeout):
        self.namespace = namespace
        self.ws = deflate_ws.DeflateSocket(Endpoint(port), offer=offer, timeout=timeout)
        if self.ws.status != 101:
            raise RuntimeError(f"the upgrade answered {self.ws.status}")
        self.deflating = bool(self.ws.extensions and "permessage-deflate" in self.ws.extensions)
        if offer and not self.deflating:
            raise RuntimeError(f"the gateway did not agree to permessage-deflate (Sec-WebSocket-Extensions: {self.ws.extensions})")
        if not self.ws.message().text.startswith("0{"):
            raise RuntimeError("no Engine.IO open packet")
        self.ws.send(f"40{namespace},")
        self.until(lambda m: m.payload.startswith(f"40{namespace},".encode()) or m.payload.startswith(f"44{namespace},".encode()),
                   deadline=time.time() + timeout, what=f"CONNECT {namespace}")

    def until(self, accept, deadline, what):
        while time.time() < deadline:
            message = self.ws.message()
            if accept(message):
                if message.payload.startswith(f"44{self.namespace},".encode()):
                    raise RuntimeError(f"{what}: refused: {message.text[:200]}")
                return message
        raise TimeoutError(f"{what}: nothing in time")

    def ack(self, packet, ack_id, deadline):
        self.ws.send(packet)
        prefix = f"43{self.namespace},{ack_id}[".encode()
        message = self.until(lambda m: m.payload.startswith(prefix), deadline, f"ack {ack_id}")
        body = json.loads(message.payload[len(prefix) - 1:])[0]
        if isinstance(body, dict) and body.get("ok") is False:
            raise RuntimeError(f"refused: {message.text[:300]}")
        return message, body

    def event(self, name, deadline, where=lambda payload: True):
        prefix = f"42{self.namespace},".encode()

        def accept(m):
            if not m.payload.startswith(prefix):
                return False
            try:
                event, *args = json.loads(m.payload[len(prefix):])
            except ValueError:
                return False
            return event == name and bool(args) and where(args[0])
        return self.until(accept, deadline, name)

    def close(self):
        self.ws.close()


def sample(message, level):
    """One delivery's numbers; message from the deflate-offering socket."""
    payload = message.payload
    threshold0, threshold0_compressed = compressed_wire(payload, level)
    return {"payload": len(payload), "plain": plain_wire(len(payload)), "deflate": message.wire_bytes,
            "compressed": message.compressed, "threshold0": threshold0, "threshold0_compressed": threshold0_compressed,
            # A compressed frame is what the model above computes: then its threshold-0 figures are the gateway's.
            "model_match": message.compressed and message.wire_bytes == threshold0}


def post_deep_book(port, token, symbol, levels, timeout):
    rng = random.Random(7)
    mid, tick = 64000.0, 0.01
    book = {"type": "depth", "symbol": symbol, "kind": "snapshot", "seq": int(time.time() * 1000), "ts": int(time.time() * 1000),
            "bids": [[f"{mid - level * tick:.2f}", f"{rng.randint(1, 99999) / 1000:.3f}"] for level in range(1, levels + 1)],
            "asks": [[f"{mid + level * tick:.2f}", f"{rng.randint(1, 99999) / 1000:.3f}"] for level in range(1, levels + 1)]}
    body = json.dumps(book, separators=(",", ":"))
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        for _ in range(50):  # 429 OVERLOADED: retry shortly
            connection.request("POST", "/api/v1/market", body=body,
                               headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            response = connection.getresponse()
            text = response.read().decode(errors="replace")
            if response.status != 429:
                break
            time.sleep(0.1)
    finally:
        connection.close()
    if response.status != 202:
        raise RuntimeError(f"POST /api/v1/market answered {response.status}: {text[:300]}")


def levels_of(ack_body):
    snapshots = ack_body.get("snapshots") or []
    book = snapshots[0] if snapshots else {}
    return len(book.get("bids", [])), len(book.get("asks", []))


def depth_case(port, symbol, timeout, level, name):
    """The /market depth subscribe ack (its snapshot) on both sockets."""
    packet = f'42/market,1["subscribe",{{"channels":["depth"],"symbols":["{symbol}"],"cadence":"raw"}}]'
    deflating, plain = Socket(port, "/market", deflate_ws.BROWSER_OFFER, timeout), Socket(port, "/market", None, timeout)
    try:
        message, body = deflating.ack(packet, 1, time.time() + timeout)
        bids, asks = levels_of(body)
        if not bids and not asks:
            raise RuntimeError(f"{name}: the ack carried no snapshot for {symbol}")
        plain_message, _ = plain.ack(packet, 1, time.time() + timeout)
        return [sample(message, level)], [plain_message], {"levels": [bids, asks]}
    finally:
        deflating.close()
        plain.close()


def price_case(port, symbol, samples, timeout, level):
    packet = f'42/prices,1["subscribe",{{"symbols":["{symbol}"]}}]'
    deflating, plain = Socket(port, "/prices", deflate_ws.BROWSER_OFFER, timeout), Socket(port, "/prices", None, timeout)
    try:
        deflating.ack(packet, 1, time.time() + timeout)
        plain.ack(packet, 1, time.time() + timeout)
        deadline = time.time() + timeout
        got = [sample(deflating.event("price.update", deadline), level) for _ in range(samples)]
        plain_got = [plain.event("price.update", deadline) for _ in range(min(samples, 3))]
        return got, plain_got, {}
    finally:
        deflating.close()
        plain.close()


def delta_case(port, symbol, samples, timeout, level):
    packet = f'42/market,1["subscribe",{{"channels":["depth"],"symbols":["{symbol}"],"cadence":"raw"}}]'
    deflating, plain = Socket(port, "/market", deflate_ws.BROWSER_OFFER, timeout), Socket(port, "/market", None, timeout)
    is_delta = lambda payload: isinstance(payload, dict) and payload.get("type") == "delta"
    try:
        deflating.ack(packet, 1, time.time() + timeout)
        plain.ack(packet, 1, time.time() + timeout)
        deadline = time.time() + timeout
        got = [sample(deflating.event("market.depth", deadline, is_delta), level) for _ in range(samples)]
        plain_got = [plain.event("market.depth", deadline, is_delta) for _ in range(min(samples, 3))]
        return got, plain_got, {}
    finally:
        deflating.close()
        plain.close()


def summarize(name, got, plain_got, extra):
    median = lambda key: statistics.median(s[key] for s in got)
    row = {"case": name, "samples": len(got), "payload_bytes": median("payload"), "wire_plain": median("plain"),
           "wire_deflate": median("deflate"), "compressed": sum(s["compressed"] for s in got),
           "wire_deflate_threshold0": median("threshold0"), "threshold0_compressed": sum(s["threshold0_compressed"] for s in got),
           "model_matches": sum(s["model_match"] for s in got), "msgpack_wire": None, **extra}
    row["ratio"] = round(row["wire_deflate"] / row["wire_plain"], 4)
    row["ratio_threshold0"] = round(row["wire_deflate_threshold0"] / row["wire_plain"], 4)
    # The socket that did not offer: plain frames, header + payload, as computed above.
    row["plain_checked"] = all(not m.compressed and m.wire_bytes == plain_wire(len(m.payload)) for m in plain_got)
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--symbol", default="BTC/USDT", help="for (a), (b) and (d)")
    parser.add_argument("--deep-symbol", default="BENCH/DEPTH", help="(c): the 1,000-level book is posted for it")
    parser.add_argument("--levels", type=int, default=1000, help="(c): levels per side")
    parser.add_argument("--samples", type=int, default=10, help="messages per case where the feed sends several")
    parser.add_argument("--level", type=int, default=6, help="zlib level of the gateway (server.compression.level)")
    parser.add_argument("--threshold", type=int, default=1024, help="the gateway's threshold, for the table's heading only")
    parser.add_argument("--token", default=os.environ.get("PRODUCER_TOKEN", ""), help="producer token for (c) (or $PRODUCER_TOKEN)")
    parser.add_argument("--secret", default=os.environ.get("JWT_SECRET", ""), help="else a token minted with this HS256 secret (or $JWT_SECRET)")
    parser.add_argument("--timeout", type=float, default=15, help="seconds per case")
    parser.add_argument("--label", default="wire-bytes")
    args = parser.parse_args()

    rows, skipped = [], {}
    cases = [
        ("price.update", lambda: price_case(args.port, args.symbol, args.samples, args.timeout, args.level)),
        ("depth snapshot (50 levels)", lambda: depth_case(args.port, args.symbol, args.timeout, args.level, "snapshot")),
        (f"depth snapshot ({args.levels:,} levels)", None),
        ("depth delta", lambda: delta_case(args.port, args.symbol, args.samples, args.timeout, args.level)),
    ]
    for name, run in cases:
        try:
            if run is None:  # (c): post the book first
                token = args.token or (mint_token(args.secret) if args.secret else "")
                if not token:
                    raise RuntimeError("no producer token (--token, $PRODUCER_TOKEN, --secret or $JWT_SECRET)")
                post_deep_book(args.port, token, args.deep_symbol, args.levels, args.timeout)
                time.sleep(0.2)  # applied on the feed's path, after the 202
                got, plain_got, extra = depth_case(args.port, args.deep_symbol, args.timeout, args.level, name)
            else:
                got, plain_got, extra = run()
            rows.append(summarize(name, got, plain_got, extra))
        except (OSError, RuntimeError, ValueError, AssertionError, ConnectionError) as error:
            skipped[name] = f"{type(error).__name__}: {error}"
            print(f"wire_bytes: {name}: left out: {error}", file=sys.stderr)

    print(f"| message (median of its samples) | payload B | plain B | deflate B (threshold {args.threshold}) | ratio | "
          f"deflate B (threshold 0) | ratio | msgpack B |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        levels = f", {row['levels'][0]}+{row['levels'][1]} levels" if "levels" in row else ""
        compressed = f"{row['compressed']}/{row['samples']} compressed"
        print(f"| {row['case']} ({row['samples']} sample{'s' if row['samples'] != 1 else ''}{levels}) | {row['payload_bytes']:,.0f} | "
              f"{row['wire_plain']:,.0f} | {row['wire_deflate']:,.0f} ({compressed}) | {row['ratio']:.3f} | "
              f"{row['wire_deflate_threshold0']:,.0f} | {row['ratio_threshold0']:.3f} | n/a |")
    for name, why in skipped.items():
        print(f"| {name} | left out: {why} | | | | | | |")
    print(json.dumps({"label": args.label, "port": args.port, "threshold": args.threshold, "level": args.level, "cases": rows,
                      "skipped": skipped}))
    return 0 if rows else 1


if __name__ == "__main__":
    sys.exit(main())
