"""A presence webhook receiver for the presence tests: a tiny HTTP server in a thread that records
every POST (raw body, headers, arrival time, the status it answered), answers 200 by default or
whatever status it is told to, and can be stopped and started again on the same port (a receiver
that is down). Signatures are checked here with Python's own hmac, independent of the gateway."""
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from conftest import free_port, wait_until

WEBHOOK_SECRET = "presence-webhook-secret-0123456789"


class Attempt:
    def __init__(self, at, path, headers, raw, status):
        self.at = at
        self.path = path
        self.headers = headers
        self.raw = raw
        self.status = status
        try:
            self.body = json.loads(raw)
        except ValueError:
            self.body = None

    @property
    def accepted(self):
        return 200 <= self.status < 300

    def __repr__(self):
        return f"<{self.status} at {self.at:.2f}: {self.raw.decode(errors='replace')}>"


class Receiver:
    """Every request is recorded in `attempts`. `status` is what it answers: an int, or a
    callable taking the Attempt-to-be's parsed body and returning an int."""

    PATH = "/hooks/presence"

    def __init__(self, port=None):
        self.port = port or free_port()
        self.status = 200
        self.attempts = []
        self.lock = threading.Lock()
        self.server = None
        self.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}{self.PATH}"

    def start(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    raw = b""
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                        if size == 0:
                            self.rfile.readline()
                            break
                        raw += self.rfile.read(size)
                        self.rfile.readline()
                else:
                    raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try:
                    parsed = json.loads(raw)
                except ValueError:
                    parsed = None
                status = receiver.status(parsed) if callable(receiver.status) else receiver.status
                with receiver.lock:
                    receiver.attempts.append(Attempt(time.time(), self.path, {k.lower(): v for k, v in self.headers.items()}, raw, status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.send_header("Connection", "close")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self):
        """Down: connections to the port are refused until start()."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    # What arrived.

    def all(self, user=None):
        with self.lock:
            attempts = list(self.attempts)
        return [a for a in attempts if user is None or (a.body or {}).get("userId") == user]

    def delivered(self, user=None):
        """Notices the receiver accepted (2xx), once per id, in arrival order."""
        seen, notices = set(), []
        for attempt in self.all(user):
            if attempt.accepted and attempt.body["id"] not in seen:
                seen.add(attempt.body["id"])
                notices.append(attempt)
        return notices

    def wait_delivered(self, count, user=None, timeout=10.0):
        wait_until(lambda: len(self.delivered(user)) >= count, timeout=timeout,
                   message=lambda: f"expected {count} notice(s) for {user or 'anyone'}, got {self.all(user)}")
        return self.delivered(user)


def signature_ok(attempt, secret=WEBHOOK_SECRET):
    timestamp = attempt.headers.get("x-gateway-timestamp", "")
    expected = "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + attempt.raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, attempt.headers.get("x-gateway-signature", ""))


def check_notice(attempt, kind, user):
    """A well-formed, correctly signed notice of `kind` for `user`; returns its body."""
    import uuid
    body = attempt.body
    assert body is not None, f"the body is not JSON: {attempt.raw!r}"
    assert set(body) == {"id", "type", "userId", "version", "ts", "instance"}, body
    assert body["type"] == kind and body["userId"] == user, body
    assert str(uuid.UUID(body["id"])) == body["id"].lower(), body
    assert isinstance(body["version"], int) and body["version"] >= 1, body
    assert isinstance(body["ts"], int) and abs(body["ts"] - attempt.at * 1000) < 60_000, "ts is the decision's time in ms since the epoch"
    assert isinstance(body["instance"], str) and body["instance"], body
    assert attempt.path == Receiver.PATH
    assert attempt.headers.get("content-type", "").startswith("application/json"), attempt.headers
    assert attempt.headers.get("x-gateway-event-id") == body["id"], attempt.headers
    timestamp = attempt.headers.get("x-gateway-timestamp", "")
    assert timestamp.isdigit() and abs(int(timestamp) - attempt.at) < 60, f"X-Gateway-Timestamp is unix seconds: {timestamp!r}"
    assert attempt.headers.get("x-gateway-signature", "").startswith("sha256="), attempt.headers
    assert signature_ok(attempt), f"signature does not verify: {attempt.headers} {attempt.raw!r}"
    return body


def presence_env(receiver, grace_ms, **extra):
    return {"FEED_SOURCE": "none", "PRESENCE_WEBHOOK_URL": receiver.url, "PRESENCE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "PRESENCE_GRACE_MS": str(grace_ms), **extra}
