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

Each case is read in both of the gateway's encodings: socket.io-parser text on /socket.io/ (JSON)
and socket.io-msgpack-parser on /socket.io-msgpack/ (msgpack: every Socket.IO packet one Engine.IO
binary message, a MessagePack map {type, data, nsp, id}; the Engine.IO open packet and pings stay
text). Per encoding, by a raw client that offers permessage-deflate as browsers do
(Tests/Interop/deflate_ws.py, which shows the RSV1 bit and the frame's own bytes) and by one that
does not offer it; all four subscribed before any is read, so that both encodings see the same
stretch of the feed (msgpack_same_messages: how many msgpack samples are a delivery a JSON sample
is too: an event equal when decoded, an ack whose snapshots have the same symbol and seq). Per case
and encoding:
  payload       the Engine.IO message in bytes (JSON: the text; msgpack: the binary message);
  plain         a plain frame's bytes: header + payload (as the non-offering socket got it);
  deflate       the frame as the offering socket got it, at the gateway's threshold (default
                1024: smaller messages arrive plain);
  threshold 0   what the frame would be with `COMPRESSION_THRESHOLD=0`: the payload compressed
                the way the gateway does (zlib level --level, raw DEFLATE, no context takeover,
                sync flush, its 00 00 ff ff tail removed), sent plain when that does not shrink it;
  ratio         each wire column over plain JSON's frame.
JSON line fields: payload_bytes, wire_plain, wire_deflate, wire_deflate_threshold0 (JSON), and
msgpack_payload_bytes, wire_msgpack, wire_msgpack_deflate, wire_msgpack_deflate_threshold0, with
ratio_* to wire_plain; a case whose msgpack side failed keeps its JSON columns (msgpack_error says
why). The msgpack side needs the Python msgpack package; --no-msgpack leaves it out.
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

try:
    import msgpack
except ImportError:  # the msgpack columns are then left empty, and said why
    msgpack = None

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


PATHS = {"json": "/socket.io/", "msgpack": "/socket.io-msgpack/"}
CONNECT, EVENT, ACK, CONNECT_ERROR = 0, 2, 3, 4
ERRORS = (OSError, RuntimeError, ValueError, AssertionError, ConnectionError)


class Packet:
    """A Socket.IO packet as either parser carries it: type, namespace, ack id, data (decoded)."""

    def __init__(self, type_, nsp, id_, data):
        self.type, self.nsp, self.id, self.data = type_, nsp, id_, data


def decode_text(payload):
    """socket.io-parser text, `4` (the Engine.IO message) first: `42/market,1[...]`; None for
    Engine.IO packets of its own and for what does not parse."""
    try:
        text = payload.decode()
        if len(text) < 2 or text[0] != "4" or not text[1].isdigit():
            return None
        type_, rest = int(text[1]), text[2:]
        nsp = "/"
        if rest.startswith("/"):
            nsp, _, rest = rest.partition(",")
        digits = len(rest) - len(rest.lstrip("0123456789"))
        id_ = int(rest[:digits]) if digits else None
        rest = rest[digits:]
        return Packet(type_, nsp, id_, json.loads(rest) if rest else None)
    except ValueError:
        return None


def decode_msgpack(payload):
    """socket.io-msgpack-parser: one MessagePack map {type, data, nsp, id?} per binary message."""
    try:
        packet = msgpack.unpackb(payload, raw=False, strict_map_key=False)
    except (ValueError, msgpack.UnpackException):
        return None
    if not isinstance(packet, dict) or not isinstance(packet.get("type"), int):
        return None
    return Packet(packet["type"], packet.get("nsp", "/"), packet.get("id"), packet.get("data"))


class Socket:
    """One raw client on a namespace: deflate offered or not; parser "json" (socket.io-parser
    text on /socket.io/) or "msgpack" (socket.io-msgpack-parser binary on /socket.io-msgpack/)."""

    def __init__(self, port, namespace, offer, timeout, parser="json"):
        if parser == "msgpack" and msgpack is None:
            raise RuntimeError("the Python msgpack package is not installed (pip install msgpack)")
        self.namespace, self.parser = namespace, parser
        self.ws = deflate_ws.DeflateSocket(Endpoint(port), offer=offer, path=PATHS[parser], timeout=timeout)
        if self.ws.status != 101:
            raise RuntimeError(f"the upgrade of {PATHS[parser]} answered {self.ws.status}")
        self.deflating = bool(self.ws.extensions and "permessage-deflate" in self.ws.extensions)
        if offer and not self.deflating:
            raise RuntimeError(f"the gateway did not agree to permessage-deflate (Sec-WebSocket-Extensions: {self.ws.extensions})")
        opening = self.ws.message()
        if opening.opcode != 0x1 or not opening.payload.startswith(b"0{"):
            raise RuntimeError("no Engine.IO open packet")
        self.send(CONNECT, None)
        self.until(lambda p: p.type == CONNECT, deadline=time.time() + timeout, what=f"CONNECT {namespace}")

    def decode(self, message):
        """The message's packet on this socket's namespace, or None."""
        if self.parser == "msgpack":
            packet = decode_msgpack(message.payload) if message.opcode == 0x2 else None
        else:
            packet = decode_text(message.payload) if message.opcode == 0x1 else None
        return packet if packet is not None and packet.nsp == self.namespace else None

    def send(self, type_, data, id_=None):
        if self.parser == "msgpack":
            packet = {"type": type_, "data": data, "nsp": self.namespace}
            if id_ is not None:
                packet["id"] = id_
            self.ws.send_frame(msgpack.packb(packet), opcode=0x2)
        else:
            body = "" if data is None else json.dumps(data, separators=(",", ":"))
            self.ws.send(f"4{type_}{self.namespace},{'' if id_ is None else id_}{body}")

    def until(self, accept, deadline, what):
        """(message, packet) of the next packet accepted; a CONNECT_ERROR ends the wait."""
        while time.time() < deadline:
            message = self.ws.message()
            packet = self.decode(message)
            if packet is None:
                continue
            if packet.type == CONNECT_ERROR:
                raise RuntimeError(f"{what}: refused: {str(packet.data)[:200]}")
            if accept(packet):
                return message, packet
        raise TimeoutError(f"{what}: nothing in time")

    def ack(self, event, args, ack_id, deadline):
        self.send(EVENT, [event, args], ack_id)
        message, packet = self.until(lambda p: p.type == ACK and p.id == ack_id, deadline, f"ack {ack_id}")
        body = packet.data[0] if isinstance(packet.data, list) and packet.data else None
        if isinstance(body, dict) and body.get("ok") is False:
            raise RuntimeError(f"refused: {str(body)[:300]}")
        return message, packet, body

    def event(self, name, deadline, where=lambda payload: True):
        def accept(p):
            return (p.type == EVENT and isinstance(p.data, list) and len(p.data) >= 2 and p.data[0] == name
                    and where(p.data[1]))
        return self.until(accept, deadline, name)

    def close(self):
        self.ws.close()


class Pair:
    """A parser's two sockets on a namespace: one offering permessage-deflate, one not."""

    def __init__(self, port, namespace, parser, timeout):
        self.parser = parser
        self.deflating = Socket(port, namespace, deflate_ws.BROWSER_OFFER, timeout, parser)
        try:
            self.plain = Socket(port, namespace, None, timeout, parser)
        except BaseException:
            self.deflating.close()
            raise

    def subscribe(self, args, timeout):
        """The subscribe ack on both: (message, packet, body) of each."""
        self.deflating_ack = self.deflating.ack("subscribe", args, 1, time.time() + timeout)
        self.plain_ack = self.plain.ack("subscribe", args, 1, time.time() + timeout)

    def close(self):
        self.deflating.close()
        self.plain.close()


def sample(message, packet, level):
    """One delivery's numbers; message from the deflate-offering socket."""
    payload = message.payload
    threshold0, threshold0_compressed = compressed_wire(payload, level)
    return {"payload": len(payload), "plain": plain_wire(len(payload)), "deflate": message.wire_bytes,
            "compressed": message.compressed, "threshold0": threshold0, "threshold0_compressed": threshold0_compressed,
            # A compressed frame is what the model above computes: then its threshold-0 figures are the gateway's.
            "model_match": message.compressed and message.wire_bytes == threshold0,
            "identity": identity(packet)}


def identity(packet):
    """What makes two packets (one per parser) the same delivery: an event's data, decoded; an ack's
    snapshots by symbol and seq (its ts and stale.silentMs are the moment it was answered)."""
    if packet.type == ACK and isinstance(packet.data, list) and packet.data and isinstance(packet.data[0], dict):
        return (ACK, [(book.get("symbol"), book.get("seq")) for book in packet.data[0].get("snapshots") or []
                      if isinstance(book, dict)])
    return (packet.type, packet.data)


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


def measure(port, namespace, args, parsers, timeout, collect):
    """Each parser's pair subscribed (all before any is read, so that they see the same stretch of
    the feed), then collect(pair, deadline) → (samples, plain socket's messages, extra) for each.
    {parser: that result, or the error that ended it}."""
    pairs, outcome = {}, {}
    try:
        for parser in parsers:
            try:
                pairs[parser] = Pair(port, namespace, parser, timeout)
                pairs[parser].subscribe(args, timeout)
            except ERRORS as error:
                outcome[parser] = error
        for parser, pair in pairs.items():
            if parser not in outcome:
                try:
                    outcome[parser] = collect(pair, time.time() + timeout)
                except ERRORS as error:
                    outcome[parser] = error
    finally:
        for pair in pairs.values():
            pair.close()
    return outcome


def depth_case(port, symbol, parsers, timeout, level, name):
    """The /market depth subscribe ack (its snapshot) on both sockets of each parser."""
    def collect(pair, deadline):
        message, packet, body = pair.deflating_ack
        bids, asks = levels_of(body or {})
        if not bids and not asks:
            raise RuntimeError(f"{name}: the ack carried no snapshot for {symbol}")
        return [sample(message, packet, level)], [pair.plain_ack[0]], {"levels": [bids, asks]}
    return measure(port, "/market", {"channels": ["depth"], "symbols": [symbol], "cadence": "raw"}, parsers, timeout, collect)


def events_case(port, namespace, args, event, where, samples, parsers, timeout, level):
    def collect(pair, deadline):
        got = [sample(*pair.deflating.event(event, deadline, where), level) for _ in range(samples)]
        plain_got = [pair.plain.event(event, deadline, where)[0] for _ in range(min(samples, 3))]
        return got, plain_got, {}
    return measure(port, namespace, args, parsers, timeout, collect)


def price_case(port, symbol, samples, parsers, timeout, level):
    return events_case(port, "/prices", {"symbols": [symbol]}, "price.update", lambda payload: True, samples, parsers, timeout, level)


def delta_case(port, symbol, samples, parsers, timeout, level):
    is_delta = lambda payload: isinstance(payload, dict) and payload.get("type") == "delta"
    return events_case(port, "/market", {"channels": ["depth"], "symbols": [symbol], "cadence": "raw"}, "market.depth", is_delta,
                       samples, parsers, timeout, level)


def summarize(name, outcome):
    """One row: the JSON parser's columns (as before), then the msgpack parser's beside them, every
    wire figure also as a ratio to plain JSON's. Raises the JSON parser's error (the row is left out)."""
    got, plain_got, extra = outcome_or_raise(outcome["json"])
    median = lambda samples, key: statistics.median(s[key] for s in samples)
    row = {"case": name, "samples": len(got), "payload_bytes": median(got, "payload"), "wire_plain": median(got, "plain"),
           "wire_deflate": median(got, "deflate"), "compressed": sum(s["compressed"] for s in got),
           "wire_deflate_threshold0": median(got, "threshold0"), "threshold0_compressed": sum(s["threshold0_compressed"] for s in got),
           "model_matches": sum(s["model_match"] for s in got), **extra}
    row["ratio"] = round(row["wire_deflate"] / row["wire_plain"], 4)
    row["ratio_threshold0"] = round(row["wire_deflate_threshold0"] / row["wire_plain"], 4)
    # The socket that did not offer: plain frames, header + payload, as computed above.
    row["plain_checked"] = all(not m.compressed and m.wire_bytes == plain_wire(len(m.payload)) for m in plain_got)
    for key in ("msgpack_payload_bytes", "wire_msgpack", "wire_msgpack_deflate", "wire_msgpack_deflate_threshold0",
                "ratio_msgpack", "ratio_msgpack_deflate", "ratio_msgpack_deflate_threshold0"):
        row[key] = None
    result = outcome.get("msgpack", RuntimeError("not measured"))
    if isinstance(result, BaseException):
        row["msgpack_error"] = f"{type(result).__name__}: {result}"
        return row
    m_got, m_plain_got, m_extra = result
    row.update({"msgpack_samples": len(m_got), "msgpack_payload_bytes": median(m_got, "payload"), "wire_msgpack": median(m_got, "plain"),
                "wire_msgpack_deflate": median(m_got, "deflate"), "msgpack_compressed": sum(s["compressed"] for s in m_got),
                "wire_msgpack_deflate_threshold0": median(m_got, "threshold0"),
                "msgpack_threshold0_compressed": sum(s["threshold0_compressed"] for s in m_got),
                "msgpack_model_matches": sum(s["model_match"] for s in m_got)})
    if "levels" in m_extra:
        row["msgpack_levels"] = m_extra["levels"]
    for key, column in (("ratio_msgpack", "wire_msgpack"), ("ratio_msgpack_deflate", "wire_msgpack_deflate"),
                        ("ratio_msgpack_deflate_threshold0", "wire_msgpack_deflate_threshold0")):
        row[key] = round(row[column] / row["wire_plain"], 4)
    row["msgpack_plain_checked"] = all(m.opcode == 0x2 and not m.compressed and m.wire_bytes == plain_wire(len(m.payload))
                                       for m in m_plain_got)
    # How many msgpack samples are a delivery that a JSON sample is too (identity() above). The
    # medians compare the same kind of message either way.
    json_identities = [s["identity"] for s in got]
    row["msgpack_same_messages"] = sum(s["identity"] in json_identities for s in m_got)
    return row


def outcome_or_raise(result):
    if isinstance(result, BaseException):
        raise result
    return result


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
    parser.add_argument("--no-msgpack", action="store_true", help="the JSON path alone (the msgpack columns left empty)")
    args = parser.parse_args()

    parsers = ["json"] if args.no_msgpack else ["json", "msgpack"]
    rows, skipped = [], {}
    cases = [
        ("price.update", lambda: price_case(args.port, args.symbol, args.samples, parsers, args.timeout, args.level)),
        ("depth snapshot (50 levels)", lambda: depth_case(args.port, args.symbol, parsers, args.timeout, args.level, "snapshot")),
        (f"depth snapshot ({args.levels:,} levels)", None),
        ("depth delta", lambda: delta_case(args.port, args.symbol, args.samples, parsers, args.timeout, args.level)),
    ]
    for name, run in cases:
        try:
            if run is None:  # (c): post the book first
                token = args.token or (mint_token(args.secret) if args.secret else "")
                if not token:
                    raise RuntimeError("no producer token (--token, $PRODUCER_TOKEN, --secret or $JWT_SECRET)")
                post_deep_book(args.port, token, args.deep_symbol, args.levels, args.timeout)
                time.sleep(0.2)  # applied on the feed's path, after the 202
                outcome = depth_case(args.port, args.deep_symbol, parsers, args.timeout, args.level, name)
            else:
                outcome = run()
            rows.append(summarize(name, outcome))
            if "msgpack_error" in rows[-1] and not args.no_msgpack:
                print(f"wire_bytes: {name}: msgpack left out: {rows[-1]['msgpack_error']}", file=sys.stderr)
        except ERRORS as error:
            skipped[name] = f"{type(error).__name__}: {error}"
            print(f"wire_bytes: {name}: left out: {error}", file=sys.stderr)

    t = args.threshold
    print(f"Bytes per delivery (median of each case's samples); every ratio is to plain JSON's frame. "
          f"JSON: socket.io-parser text on /socket.io/; msgpack: socket.io-msgpack-parser on /socket.io-msgpack/.")
    print(f"| message | JSON payload B | plain JSON B | deflate JSON B (threshold {t}) | ratio | deflate JSON B (threshold 0) | ratio "
          f"| msgpack payload B | msgpack B | ratio | msgpack+deflate B (threshold {t}) | ratio | msgpack+deflate B (threshold 0) | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        levels = f", {row['levels'][0]}+{row['levels'][1]} levels" if "levels" in row else ""
        compressed = f"{row['compressed']}/{row['samples']} compressed"
        line = (f"| {row['case']} ({row['samples']} sample{'s' if row['samples'] != 1 else ''}{levels}) | {row['payload_bytes']:,.0f} | "
                f"{row['wire_plain']:,.0f} | {row['wire_deflate']:,.0f} ({compressed}) | {row['ratio']:.3f} | "
                f"{row['wire_deflate_threshold0']:,.0f} | {row['ratio_threshold0']:.3f} |")
        if row["wire_msgpack"] is None:
            line += " — | — | | — | | — | |"
        else:
            m_compressed = f"{row['msgpack_compressed']}/{row['msgpack_samples']} compressed"
            line += (f" {row['msgpack_payload_bytes']:,.0f} | {row['wire_msgpack']:,.0f} | {row['ratio_msgpack']:.3f} | "
                     f"{row['wire_msgpack_deflate']:,.0f} ({m_compressed}) | {row['ratio_msgpack_deflate']:.3f} | "
                     f"{row['wire_msgpack_deflate_threshold0']:,.0f} | {row['ratio_msgpack_deflate_threshold0']:.3f} |")
        print(line)
    for name, why in skipped.items():
        print(f"| {name} | left out: {why} |" + " |" * 12)
    missing = [f"{row['case']}: {row['msgpack_error']}" for row in rows if "msgpack_error" in row and not args.no_msgpack]
    if missing:
        print("msgpack columns left out: " + "; ".join(missing))
    print(json.dumps({"label": args.label, "port": args.port, "threshold": args.threshold, "level": args.level, "cases": rows,
                      "skipped": skipped}))
    return 0 if rows else 1


if __name__ == "__main__":
    sys.exit(main())
