"""Keys that rotate (issue 24, part 1): the gateway reads the identity provider's JWKS over
https, picks the key by `kid`, follows rotations without dropping anyone, rides out a key server
that is down (at start or later), cannot be made to hammer it with junk kids, and takes static
key sets (JWT_KEYS_FILE) and a previous HS256 secret with an end date. The key server is a
Python http.server started by each test on loopback; PyJWT signs the tokens."""
import json
import math
import os
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from auth_helpers import SECRET, Conn, refusal, token
from conftest import BIN_DIR, free_port, wait_until
from jwks_helpers import (NO_KEYS_YET, UNKNOWN_KID, JWKSServer, SigningKey, health, jwks_gateway, metric, oct_jwk,
                          raw_connect, signed)
from tls_helpers import Certificates


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return Certificates(tmp_path_factory.mktemp("jwks-certs"))


def keys_in_force(gateway, count, timeout=10):
    """Waits until /health reports the JWKS read with `count` usable keys."""
    wait_until(lambda: health(gateway).get("jwks", {}).get("status") == "ok" and health(gateway)["jwks"]["keys"] == count,
               timeout=timeout, message=lambda: f"/health never showed {count} JWKS keys: {health(gateway)}")


def connects(gateway, tok, namespace="/user"):
    conn = Conn(gateway, namespace, auth={"token": tok})
    ok = conn.connected
    conn.close()
    return ok


def test_https_jwks_verifies_every_supported_key_kind_by_kid(certs, tmp_path):
    rsa256 = SigningKey("rsa", "rsa-256", jwk_alg=None)  # no alg in the JWK: RSA means RS256
    rsa512 = SigningKey("rsa", "rsa-512", alg="RS512")
    p256 = SigningKey("P-256", "ec-256", jwk_alg=None)  # the curve decides: ES256
    p384 = SigningKey("P-384", "ec-384")
    p521 = SigningKey("P-521", "ec-521")
    ed = SigningKey("Ed25519", "ed-1")
    usable = [rsa256, rsa512, p256, p384, p521, ed]
    # Published too, and each to be skipped: a 1024-bit modulus, an encryption key, a private
    # key, a shared secret (only a local keys file may hold those).
    small = SigningKey("rsa", "rsa-1024", bits=1024)
    encryption = SigningKey("rsa", "rsa-enc")
    leaked = SigningKey("P-256", "ec-private")
    idp = JWKSServer(certs=certs, keys=[k.jwk() for k in usable] + [
        small.jwk(), encryption.jwk(use="enc"), leaked.private_jwk(), oct_jwk("hs-1", SECRET)])
    started = time.time()
    gateway = jwks_gateway(tmp_path, idp.url, ca=certs.ca)
    try:
        keys_in_force(gateway, len(usable))
        state = health(gateway)
        assert state["status"] == "ok", state
        assert 0 <= state["jwks"]["ageSeconds"] < 30 and "lastError" not in state["jwks"], state
        assert metric(gateway, "gateway_jwks_keys") == len(usable)
        assert started - 1 <= metric(gateway, "gateway_jwks_last_success_timestamp_seconds") <= time.time() + 1
        assert metric(gateway, "gateway_jwks_refresh_total", result="ok", cause="start") == 1

        for key in usable:
            conn = Conn(gateway, "/user", auth={"token": key.token(f"u-{key.kid}")})
            assert conn.connected, (key.kid, key.alg, conn.connect_error)
            assert conn.call("ping", {})["ok"] is True
            conn.close()
        # Without a kid a token is tried against every key of its algorithm.
        assert connects(gateway, rsa256.token("u-nokid-rsa", kid=None))
        assert connects(gateway, p384.token("u-nokid-ec", kid=None))

        refused = {
            "HS256 with a shared secret, no kid": token("u1"),
            "HS256 naming the published oct key": signed(SECRET, "HS256", kid="hs-1"),
            "RS384 under the RS256 key's kid": rsa256.token(alg="RS384"),
            "RS256 under the RS512 key's kid": rsa512.token(alg="RS256"),
            "ES256 signature under an RSA kid": p256.token(kid="rsa-256"),
            "ES256 key claimed as the ES384 kid": p256.token(kid="ec-384"),
            "the 1024-bit RSA key": small.token(),
            "the encryption key": encryption.token(),
            "the key published with its private part": leaked.token(),
        }
        for case, tok in refused.items():
            message, code = refusal(gateway, "/user", auth={"token": tok})
            assert code == "UNAUTHORIZED", (case, message, code)
        for skipped in (small, encryption, leaked):
            assert refusal(gateway, "/user", auth={"token": skipped.token()})[0] == UNKNOWN_KID, skipped.kid
        assert gateway.alive()
    finally:
        gateway.stop()
        idp.stop()


def test_rotation_keeps_100_clients_connected_and_retires_the_removed_key(tmp_path):
    key_a, key_b, stranger = SigningKey("rsa", "key-a"), SigningKey("rsa", "key-b"), SigningKey("rsa", "key-z")
    idp = JWKSServer(keys=[key_a.jwk()])
    # The schedule is far off: every refetch here is one an unknown kid asked for.
    gateway = jwks_gateway(tmp_path, idp.url, jwt_yaml="jwksRefreshSeconds: 300\njwksMinRefreshSeconds: 1")
    users = [f"rot-{i}" for i in range(25)]
    clients = []
    pool = ThreadPoolExecutor(8)
    try:
        keys_in_force(gateway, 1)
        clients = list(pool.map(lambda i: Conn(gateway, "/user", auth={"token": key_a.token(users[i % 25])}), range(100)))
        assert sum(c.connected for c in clients) == 100, [c.connect_error for c in clients if not c.connected][:3]

        # The IdP adds kid B: the first B token is news to the gateway, which refetches at once.
        idp.publish([key_a.jwk(), key_b.jwk()])
        refetches = metric(gateway, "gateway_jwks_refresh_total", result="ok", cause="unknown_kid")
        message, code = refusal(gateway, "/user", auth={"token": key_b.token("rot-new")})
        assert (message, code) == (UNKNOWN_KID, "UNAUTHORIZED")
        wait_until(lambda: connects(gateway, key_b.token("rot-new")), timeout=6,
                   message=lambda: f"a kid-B token was not accepted after the IdP published B: {health(gateway)}")
        assert metric(gateway, "gateway_jwks_refresh_total", result="ok", cause="unknown_kid") > refetches
        assert health(gateway)["jwks"]["keys"] == 2

        # The IdP retires kid A; an unknown kid makes the gateway look again.
        idp.publish([key_b.jwk()])
        fetched = idp.gets
        assert refusal(gateway, "/user", auth={"token": stranger.token("rot-stranger")})[0] == UNKNOWN_KID
        wait_until(lambda: idp.gets > fetched and health(gateway)["jwks"]["keys"] == 1, timeout=6,
                   message=lambda: f"the gateway did not refetch after an unknown kid: gets {idp.gets}, {health(gateway)}")

        assert refusal(gateway, "/user", auth={"token": key_a.token("rot-late")}) == (UNKNOWN_KID, "UNAUTHORIZED")
        veteran = clients[0]
        stale = veteran.call("auth.refresh", {"token": key_a.token(users[0])})
        assert stale["ok"] is False and stale["error"]["code"] == "INVALID_PAYLOAD", stale
        fresh = veteran.call("auth.refresh", {"token": key_b.token(users[0], ttl=7200)})
        assert fresh["ok"] is True and fresh["expiresAt"] > (time.time() + 3600) * 1000, fresh

        # Nobody was dropped or told anything: every socket still answers.
        assert [i for i, c in enumerate(clients) if not c.connected or c.disconnected.is_set()] == []
        replies = list(pool.map(lambda c: c.call("ping", {}), clients))
        assert all(r["ok"] is True for r in replies)
        assert all(event != "error" for c in clients for event, _ in c.events)
        assert gateway.alive()
    finally:
        list(pool.map(lambda c: c.close(), clients))
        pool.shutdown()
        gateway.stop()
        idp.stop()


def test_key_server_down_at_start_then_up_then_down_again(certs, tmp_path):
    key = SigningKey("P-256", "idp-1")
    idp = JWKSServer(certs=certs, keys=[key.jwk()], start=False)  # its port: nothing listens yet
    gateway = jwks_gateway(tmp_path, idp.url, ca=certs.ca, jwt_yaml="jwksMinRefreshSeconds: 1")
    try:
        assert refusal(gateway, "/user", auth={"token": key.token("early")}) == (NO_KEYS_YET, "UNAUTHORIZED")
        assert refusal(gateway, "/user", auth={"token": key.token("early", kid=None)}) == (NO_KEYS_YET, "UNAUTHORIZED")
        wait_until(lambda: metric(gateway, "gateway_jwks_refresh_total", result="error") >= 1, timeout=5,
                   message="no failed JWKS fetch counted while the key server is down")
        state = health(gateway)
        assert state["status"] == "degraded", state
        assert state["jwks"]["status"] == "missing" and state["jwks"]["keys"] == 0 and state["jwks"]["ageSeconds"] is None, state
        assert state["jwks"].get("lastError"), state
        assert metric(gateway, "gateway_jwks_keys") == 0

        # The key server comes up: the backoff (1, 2, 4 s...) finds it within a few seconds.
        idp.start()
        up = time.time()
        wait_until(lambda: health(gateway)["jwks"]["status"] == "ok", timeout=12,
                   message=lambda: f"keys not fetched 12 s after the key server came up: {health(gateway)}")
        assert time.time() - up < 12
        state = health(gateway)
        assert state["status"] == "ok" and state["jwks"]["keys"] == 1, state
        assert connects(gateway, key.token("after-start"))

        # The key server goes down again: a failed refresh keeps the last good keys.
        idp.stop()
        errors = metric(gateway, "gateway_jwks_refresh_total", result="error")
        elsewhere = SigningKey("P-256", "not-published")
        assert refusal(gateway, "/user", auth={"token": elsewhere.token("probe")}) == (UNKNOWN_KID, "UNAUTHORIZED")
        wait_until(lambda: metric(gateway, "gateway_jwks_refresh_total", result="error") > errors, timeout=6,
                   message="the refetch asked for by an unknown kid was not counted as an error with the key server down")
        assert metric(gateway, "gateway_jwks_refresh_total", result="error", cause="unknown_kid") >= 1
        assert connects(gateway, key.token("during-outage"))
        state = health(gateway)
        assert state["jwks"]["status"] == "ok" and state["jwks"]["keys"] == 1 and state["jwks"].get("lastError"), state
        assert metric(gateway, "gateway_jwks_keys") == 1
        assert gateway.alive()
    finally:
        gateway.stop()
        idp.stop()


def test_a_flood_of_unknown_kids_is_refused_and_refetches_are_rate_limited(tmp_path):
    good, junk = SigningKey("rsa", "flood-good"), SigningKey("rsa", "flood-junk")
    idp = JWKSServer(keys=[good.jwk()])
    gateway = jwks_gateway(tmp_path, idp.url, jwt_yaml="jwksRefreshSeconds: 300\njwksMinRefreshSeconds: 2")
    try:
        keys_in_force(gateway, 1)
        tokens = [junk.token(f"flood-{i}", kid=f"unknown-{uuid.uuid4().hex}") for i in range(200)]
        gets_before = idp.gets
        refetches_before = metric(gateway, "gateway_jwks_refresh_total", cause="unknown_kid")
        results, good_during_flood = [], None
        start = time.time()
        for i, tok in enumerate(tokens):
            time.sleep(max(0.0, start + i * 0.025 - time.time()))
            results.append(raw_connect(gateway, "/user", {"token": tok}))
            if i == 100:
                good_during_flood = connects(gateway, good.token("flood-user"))
        duration = time.time() - start
        time.sleep(2.5)  # a refetch asked for at the end comes at most jwksMinRefreshSeconds later
        fetched = idp.gets - gets_before

        assert good_during_flood, "a valid token was refused during the flood"
        outcomes = {(kind, data.get("message"), data.get("data", {}).get("code")) for kind, data in results}
        assert outcomes == {("refused", UNKNOWN_KID, "UNAUTHORIZED")}, outcomes
        bound = math.ceil(duration / 2) + 1
        assert 1 <= fetched <= bound, f"{fetched} JWKS GETs for 200 unknown kids over {duration:.1f} s (at most {bound})"
        assert metric(gateway, "gateway_jwks_refresh_total", cause="unknown_kid") - refetches_before == fetched
        assert connects(gateway, good.token("flood-user-after"))
        assert gateway.alive()
    finally:
        gateway.stop()
        idp.stop()


def test_static_key_sets_and_a_previous_secret_with_an_end(tmp_path):
    file_secret = "keys-file-secret-0123456789"
    k2 = SigningKey("rsa", "k2")
    keys_file = tmp_path / "keys.json"
    keys_file.write_text(json.dumps({"keys": [oct_jwk("k1", file_secret), k2.jwk()]}))
    gateway = jwks_gateway(tmp_path, env={"JWT_KEYS_FILE": str(keys_file)})
    try:
        assert connects(gateway, signed(file_secret, "HS256", sub="k1-user", kid="k1"))
        assert connects(gateway, k2.token("k2-user"))
        assert refusal(gateway, "/user", auth={"token": signed(file_secret, "HS256", kid="k2")})[1] == "UNAUTHORIZED"
        assert refusal(gateway, "/user", auth={"token": signed(file_secret, "HS256", kid="k3")})[1] == "UNAUTHORIZED"
    finally:
        gateway.stop()

    previous = "previous-secret-0123456789abcdef"
    future = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    gateway = jwks_gateway(tmp_path, env={"JWT_SECRET": SECRET, "JWT_PREVIOUS_SECRET": previous,
                                          "JWT_PREVIOUS_SECRET_VALID_UNTIL": future})
    try:
        assert connects(gateway, token("old-secret-user", key=previous))
        assert connects(gateway, token("new-secret-user"))
    finally:
        gateway.stop()
    gateway = jwks_gateway(tmp_path, env={"JWT_SECRET": SECRET, "JWT_PREVIOUS_SECRET": previous,
                                          "JWT_PREVIOUS_SECRET_VALID_UNTIL": str(int(time.time()) - 60)})
    try:
        assert refusal(gateway, "/user", auth={"token": token("old-secret-user", key=previous)})[1] == "UNAUTHORIZED"
        assert connects(gateway, token("new-secret-user"))
    finally:
        gateway.stop()

    # A keys file with a key that has no kid: the gateway does not start, and says why.
    no_kid = tmp_path / "no-kid.json"
    no_kid.write_text(json.dumps({"keys": [oct_jwk("k1", file_secret), {k: v for k, v in k2.jwk().items() if k != "kid"}]}))
    try:
        result = subprocess.run([os.path.join(BIN_DIR, "gateway"), "serve", "--port", str(free_port())],
                                env={**os.environ, "JWT_SECRET": "", "JWT_KEYS_FILE": str(no_kid), "FEED_SOURCE": "none"},
                                capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        pytest.fail("the gateway started with a keys file whose key has no kid")
    assert result.returncode != 0
    assert "jwt.keysFile" in result.stderr + result.stdout, (result.stdout, result.stderr)


def test_keys_over_plain_http_are_refused_unless_the_key_server_is_on_this_host():
    """Keys fetched in the clear could be swapped on the way (and any token forged with them)."""
    def check(url):
        return subprocess.run([os.path.join(BIN_DIR, "gateway"), "check-config"],
                              env={**os.environ, "JWT_SECRET": "", "JWT_JWKS_URL": url, "FEED_SOURCE": "none"},
                              capture_output=True, text=True, timeout=20)
    remote = check("http://idp.example.com/realms/trading/protocol/openid-connect/certs")
    assert remote.returncode != 0
    assert "jwt.jwksUrl" in remote.stderr + remote.stdout and "https://" in remote.stderr + remote.stdout
    for accepted in ("https://idp.example.com/certs", "http://127.0.0.1:8080/certs", "http://localhost/certs"):
        answer = check(accepted)
        assert answer.returncode == 0, (accepted, answer.stdout, answer.stderr)
