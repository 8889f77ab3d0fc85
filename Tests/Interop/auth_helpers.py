"""Token minting and namespace connections for the auth / namespace tests (PyJWT mints the
tokens, python-socketio connects, so both sides are independent of the gateway's own code)."""
import os
import threading
import time

import jwt
import socketio

SECRET = "interop-test-secret-0123456789"
FIXTURES = os.path.join(os.path.dirname(__file__), "..", "JWTAuthTests", "Fixtures")


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as f:
        return f.read()


def token(sub="u1", role="user", tier="free", ttl=3600, alg="HS256", key=SECRET, **extra):
    now = int(time.time())
    claims = {"sub": sub, "role": role, "tier": tier, "iat": now, "exp": now + ttl, **extra}
    return jwt.encode(claims, key, algorithm=alg)


class Conn:
    """A python-socketio client on one namespace that records every event it gets."""

    def __init__(self, server, namespace, auth=None, headers=None, transports=("websocket",), ca=None):
        self.namespace = namespace
        if ca:
            # https:// and wss://: trust the test CA (python-engineio passes it to both transports).
            import requests
            session = requests.Session()
            session.verify = ca
            session.trust_env = False  # REQUESTS_CA_BUNDLE would otherwise win over `verify`
            self.client = socketio.Client(reconnection=False, http_session=session)
        else:
            self.client = socketio.Client(reconnection=False)
        self.events = []
        self.cond = threading.Condition()
        self.connect_error = None

        def on_any(event, *args):
            with self.cond:
                self.events.append((event, args[0] if args else None))
                self.cond.notify_all()

        def on_error(data):
            self.connect_error = data

        self.client.on("*", on_any, namespace=namespace)
        self.client.on("connect_error", on_error, namespace=namespace)
        self.disconnected = threading.Event()
        self.client.on("disconnect", lambda *a: self.disconnected.set(), namespace=namespace)
        try:
            self.client.connect(server.base, namespaces=[namespace], auth=auth, headers=headers or {},
                                transports=list(transports), wait_timeout=5)
        except socketio.exceptions.ConnectionError:
            pass

    @property
    def connected(self):
        return self.namespace in self.client.namespaces

    def call(self, event, data=None, timeout=5):
        return self.client.call(event, data, namespace=self.namespace, timeout=timeout)

    def emit(self, event, data=None):
        self.client.emit(event, data, namespace=self.namespace)

    def wait_for(self, name, timeout=5):
        deadline = time.time() + timeout
        with self.cond:
            while True:
                for event, data in self.events:
                    if event == name:
                        return data
                remaining = deadline - time.time()
                if remaining <= 0:
                    raise AssertionError(f"no '{name}' within {timeout}s; got {self.events}")
                self.cond.wait(remaining)

    def close(self):
        try:
            self.client.disconnect()
        except Exception:
            pass


def refusal(server, namespace, **kwargs):
    """Connects expecting CONNECT_ERROR; returns (message, code)."""
    conn = Conn(server, namespace, **kwargs)
    assert not conn.connected, f"{namespace} accepted a connection it should refuse"
    error = conn.connect_error
    conn.close()
    assert error is not None, "no CONNECT_ERROR payload"
    return error["message"], error.get("data", {}).get("code")
