"""Keys that rotate (issue 24, part 1): an identity provider's JWKS endpoint played by the test
(http.server, optionally over TLS with the test CA), signing keys of every supported kind with
their public JWKs (PyJWT and cryptography make both, independent of the gateway's code), and
small readers for /health, /metrics and raw Socket.IO CONNECTs."""
import base64
import json
import os
import re
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import requests
import websocket
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from conftest import Server, free_port

NO_KEYS_YET = "The gateway has no verification keys yet (its key server has not answered); try again shortly."
UNKNOWN_KID = "The token is signed with a key (kid) this gateway does not know."


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


# MARK: keys

_CURVES = {"P-256": (ec.SECP256R1, "ES256"), "P-384": (ec.SECP384R1, "ES384"), "P-521": (ec.SECP521R1, "ES512")}


class SigningKey:
    """A private key the test signs with and the public JWK the key server publishes.

    kind: "rsa" (bits, alg RS256 unless `alg` says RS384/RS512), "P-256", "P-384", "P-521",
    "Ed25519". `jwk_alg`: write `alg` into the JWK (True: the key's algorithm; a string: that)."""

    def __init__(self, kind, kid, alg=None, bits=2048, jwk_alg=True):
        self.kind, self.kid = kind, kid
        if kind == "rsa":
            self.private = rsa.generate_private_key(public_exponent=65537, key_size=bits)
            self.alg = alg or "RS256"
            self._jwk = RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        elif kind in _CURVES:
            curve, default_alg = _CURVES[kind]
            self.private = ec.generate_private_key(curve())
            self.alg = alg or default_alg
            self._jwk = ECAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        elif kind == "Ed25519":
            self.private = ed25519.Ed25519PrivateKey.generate()
            self.alg = alg or "EdDSA"
            self._jwk = OKPAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        else:
            raise ValueError(kind)
        self.jwk_alg = self.alg if jwk_alg is True else jwk_alg

    def jwk(self, **extra):
        """The public JWK (kid, use sig, alg when asked), plus `extra` members."""
        key = {**self._jwk, "kid": self.kid, "use": "sig"}
        if self.jwk_alg:
            key["alg"] = self.jwk_alg
        key.update(extra)
        return {k: v for k, v in key.items() if v is not None}

    def private_jwk(self):
        """The JWK with the private part (`d`), as a careless key server might publish it."""
        algorithm = {"rsa": RSAAlgorithm}.get(self.kind, ECAlgorithm if self.kind in _CURVES else OKPAlgorithm)
        return {**algorithm.to_jwk(self.private, as_dict=True), "kid": self.kid, "use": "sig", "alg": self.alg}

    def token(self, sub="u1", alg=None, kid="__own__", **extra):
        """A token signed with this key; `alg` another algorithm of the same key type, `kid` None
        for no kid or another kid."""
        return signed(self.private, alg or self.alg, sub=sub, kid=self.kid if kid == "__own__" else kid, **extra)


def signed(key, alg, sub="u1", kid=None, role="user", tier="free", ttl=3600, **extra):
    now = int(time.time())
    claims = {"sub": sub, "role": role, "tier": tier, "iat": now, "exp": now + ttl, **extra}
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid} if kid is not None else None)


def oct_jwk(kid, secret):
    """A shared HS256 secret as a JWKS `oct` key (base64url `k`)."""
    return {"kty": "oct", "kid": kid, "alg": "HS256", "use": "sig", "k": b64url(secret.encode())}


# MARK: the identity provider's key server

class JWKSServer:
    """Serves a mutable JWKS document at /.well-known/jwks.json on 127.0.0.1 (https with
    `certs`, a tls_helpers.Certificates), counting GETs; stop() and start() again on the same
    port play an outage, and a port may be chosen before anything listens on it."""

    PATH = "/.well-known/jwks.json"

    def __init__(self, port=None, certs=None, keys=(), start=True):
        self.port = port or free_port()
        self.document = {"keys": list(keys)}
        self.lock = threading.Lock()
        self.get_times = []
        self.context = None
        if certs is not None:
            cert, key = certs.issue("jwks-idp")
            self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.context.load_cert_chain(cert, key)
        self.httpd = None
        if start:
            self.start()

    @property
    def url(self):
        scheme = "https" if self.context else "http"
        return f"{scheme}://127.0.0.1:{self.port}{self.PATH}"

    @property
    def gets(self):
        with self.lock:
            return len(self.get_times)

    def publish(self, keys):
        with self.lock:
            self.document = {"keys": list(keys)}

    def start(self):
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                with owner.lock:
                    owner.get_times.append(time.time())
                    body = json.dumps(owner.document).encode()
                if self.path != owner.PATH:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/jwk-set+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        class HTTPServer(ThreadingHTTPServer):
            daemon_threads = True

            def finish_request(self, request, client_address):
                request.settimeout(5)
                if isinstance(request, ssl.SSLSocket):
                    try:
                        request.do_handshake()  # in the handler's thread, not the accept loop
                    except (ssl.SSLError, OSError):
                        return
                super().finish_request(request, client_address)

        httpd = HTTPServer(("127.0.0.1", self.port), Handler)
        if self.context:
            httpd.socket = self.context.wrap_socket(httpd.socket, server_side=True, do_handshake_on_connect=False)
        threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.httpd = httpd

    def stop(self):
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None


# MARK: the gateway

def jwks_gateway(directory, url=None, ca=None, jwt_yaml="", env=None, limits=True):
    """`gateway serve` with a configuration file holding `jwt_yaml` (lines under `jwt:`), no
    feed, and (limits=True) no per-address handshake or failed-CONNECT budget, since these
    tests refuse tokens in bulk on purpose. JWT_SECRET is empty unless `env` sets it."""
    text = "feed:\n  source: none\n"
    if limits:
        text += "limits:\n  handshakesPerSecondPerIp: 0\n  failedConnectsPerIpPerMinute: 0\n"
    if jwt_yaml:
        text += "jwt:\n" + "".join(f"  {line.strip()}\n" for line in jwt_yaml.strip().splitlines())
    config = os.path.join(str(directory), f"gateway-{free_port()}.yaml")
    with open(config, "w") as f:
        f.write(text)
    environment = {"JWT_SECRET": "", "JWT_PUBLIC_KEY_FILE": "", "JWT_KEYS_FILE": "", "JWT_JWKS_URL": url or "",
                   "JWT_JWKS_CA_FILE": ca or "", "JWT_PREVIOUS_SECRET": "", "JWT_PREVIOUS_SECRET_VALID_UNTIL": "",
                   "JWT_ISSUER": "", "JWT_AUDIENCE": "", "LOG_LEVEL": "warning", **(env or {})}
    return Server("gateway", ["serve", "--config", config], env=environment)


def health(server):
    return requests.get(f"{server.base}/health", timeout=5).json()


_SAMPLE = re.compile(r'^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+(\S+)')


def metric(server, name, **labels):
    """The sum of `name`'s samples whose labels include `labels` (0 when there are none)."""
    text = requests.get(f"{server.base}/metrics", timeout=5).text
    total = 0.0
    for line in text.splitlines():
        match = _SAMPLE.match(line)
        if not match or match.group(1) != name:
            continue
        have = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(2) or ""))
        if all(have.get(k) == v for k, v in labels.items()):
            total += float(match.group(3))
    return total


def raw_connect(server, namespace, auth, timeout=5):
    """One CONNECT over a fresh WebSocket: ("connected", data) or ("refused", CONNECT_ERROR data)."""
    ws = websocket.create_connection(f"{server.ws_base}/socket.io/?EIO=4&transport=websocket", timeout=timeout)
    try:
        opening = ws.recv()
        assert opening.startswith("0"), opening
        ws.send(f"40{namespace}," + json.dumps(auth))
        while True:
            frame = ws.recv()
            if frame == "2":
                ws.send("3")
            elif frame.startswith(f"40{namespace},"):
                return "connected", json.loads(frame[len(f"40{namespace},"):])
            elif frame.startswith(f"44{namespace},"):
                return "refused", json.loads(frame[len(f"44{namespace},"):])
    finally:
        try:
            ws.close()
        except Exception:
            pass
