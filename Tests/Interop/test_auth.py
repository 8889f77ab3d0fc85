"""SPEC §2 security battery against the live gateway: every kind of bad token is refused with
the SPEC's code, the algorithm is the configured key's, roles gate namespaces, and tokens
expire and refresh while connected."""
import os
import time

import pytest
import requests

from auth_helpers import SECRET, Conn, fixture, refusal, token
from conftest import Server, configured_gateway

REPO = os.path.join(os.path.dirname(__file__), "..", "..")


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    srv = configured_gateway(tmp_path_factory, "jwt:\n  expiryWarningSeconds: 2\n", env={"JWT_ISSUER": "", "JWT_AUDIENCE": ""})
    yield srv
    assert srv.alive()
    assert SECRET not in srv.output(), "the secret must never be logged"
    srv.stop()


@pytest.fixture(scope="module")
def strict_gateway():
    srv = Server("gateway", ["serve"], env={"JWT_SECRET": SECRET, "JWT_ISSUER": "gw", "JWT_AUDIENCE": "traders",
                                            "LOG_LEVEL": "warning"})
    yield srv
    srv.stop()


@pytest.fixture(scope="module", params=["rsa", "ec"])
def asymmetric_gateway(request, tmp_path_factory):
    srv = Server("gateway", ["serve"], env={"JWT_SECRET": "", "JWT_PUBLIC_KEY_FILE": os.path.join(
        REPO, "Tests", "JWTAuthTests", "Fixtures", f"{request.param}-public.pem"), "LOG_LEVEL": "warning"})
    yield request.param, srv
    srv.stop()


def test_valid_hs256_token_connects_user_and_admin(gateway):
    user = Conn(gateway, "/user", auth={"token": token("u1")})
    assert user.connected
    assert user.call("ping", {})["ok"] is True
    admin = Conn(gateway, "/admin", auth={"token": token("root", role="admin")})
    assert admin.connected
    user.close()
    admin.close()


def test_token_from_the_authorization_header(gateway):
    conn = Conn(gateway, "/user", headers={"Authorization": f"Bearer {token('u-header')}"})
    assert conn.connected
    conn.close()


def test_token_in_the_query_string_is_ignored(gateway):
    import socketio
    client = socketio.Client(reconnection=False)
    errors = []
    client.on("connect_error", lambda d: errors.append(d), namespace="/user")
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(f"{gateway.base}?token={token('u-query')}", namespaces=["/user"], transports=["websocket"], wait_timeout=3)
    assert errors[0]["data"]["code"] == "UNAUTHORIZED"


@pytest.mark.parametrize("auth,code", [
    (None, "UNAUTHORIZED"),
    ({"token": "garbage"}, "UNAUTHORIZED"),
    ({"token": 42}, "UNAUTHORIZED"),
    ({"token": token("u1", ttl=-60)}, "TOKEN_EXPIRED"),
    ({"token": token("u1", nbf=int(time.time()) + 600)}, "UNAUTHORIZED"),
    ({"token": token("u1", key="another-secret-0123456789")}, "UNAUTHORIZED"),
    ({"token": token("u1", alg="none", key=None)}, "UNAUTHORIZED"),
    ({"token": token("u1", alg="HS384")}, "UNAUTHORIZED"),
    ({"token": token("u1", pad="x" * 9 * 1024)}, "UNAUTHORIZED"),
    ({"token": token("u1", role="root")}, "UNAUTHORIZED"),
])
def test_bad_tokens_are_refused_with_the_spec_code(gateway, auth, code):
    message, got = refusal(gateway, "/user", auth=auth)
    assert got == code
    assert message and "eyJ" not in message, "messages never echo the token"


def test_tampered_token_is_refused(gateway):
    header, payload, signature = token("u1").split(".")
    forged_payload = token("admin", role="admin").split(".")[1]
    _, code = refusal(gateway, "/user", auth={"token": f"{header}.{forged_payload}.{signature}"})
    assert code == "UNAUTHORIZED"


def test_exp_is_required(gateway):
    import jwt
    no_exp = jwt.encode({"sub": "u1"}, SECRET, algorithm="HS256")
    message, code = refusal(gateway, "/user", auth={"token": no_exp})
    assert code == "UNAUTHORIZED" and "exp" in message


def test_wrong_issuer_and_audience_are_refused(strict_gateway):
    good = token("u1", iss="gw", aud="traders")
    ok = Conn(strict_gateway, "/user", auth={"token": good})
    assert ok.connected
    ok.close()
    assert refusal(strict_gateway, "/user", auth={"token": token("u1", iss="evil", aud="traders")})[1] == "UNAUTHORIZED"
    assert refusal(strict_gateway, "/user", auth={"token": token("u1", iss="gw", aud="others")})[1] == "UNAUTHORIZED"


def test_role_user_on_admin_is_forbidden(gateway):
    assert refusal(gateway, "/admin", auth={"token": token("u1")})[1] == "FORBIDDEN"
    assert refusal(gateway, "/admin", auth={"token": token("svc", role="service")})[1] == "FORBIDDEN"
    assert refusal(gateway, "/admin")[1] == "UNAUTHORIZED"
    assert refusal(gateway, "/user", auth={"token": token("svc", role="service")})[1] == "FORBIDDEN"


def test_asymmetric_keys_and_algorithm_confusion(asymmetric_gateway):
    kind, srv = asymmetric_gateway
    alg = "RS256" if kind == "rsa" else "ES256"
    good = Conn(srv, "/user", auth={"token": token("u1", alg=alg, key=fixture(f"{kind}-private.pem"))})
    assert good.connected
    good.close()
    # HS256 "signed" with the public key as the HMAC secret: the classic confusion attack.
    import hmac, hashlib, base64, json
    def b64(raw):
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64(json.dumps({"sub": "u1", "exp": int(time.time()) + 600}).encode())
    mac = hmac.new(fixture(f"{kind}-public.pem").encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    confused = f"{header}.{payload}.{b64(mac)}"
    assert refusal(srv, "/user", auth={"token": confused})[1] == "UNAUTHORIZED"
    # The other asymmetric algorithm is refused too.
    assert refusal(srv, "/user", auth={"token": token("u1", alg="HS256", key=SECRET)})[1] == "UNAUTHORIZED"


def test_public_namespaces_take_an_optional_token(gateway):
    anonymous = Conn(gateway, "/prices")
    assert anonymous.connected
    announced = anonymous.wait_for("connection.authenticated")
    assert announced["namespace"] == "/prices" and announced["userId"] is None and announced["sid"]
    signed = Conn(gateway, "/market", auth={"token": token("u7")})
    assert signed.wait_for("connection.authenticated")["userId"] == "u7"
    assert refusal(gateway, "/prices", auth={"token": "garbage"})[1] == "UNAUTHORIZED"
    anonymous.close()
    signed.close()


def test_token_expiry_warns_then_disconnects(gateway):
    conn = Conn(gateway, "/user", auth={"token": token("u-exp", ttl=4)})
    assert conn.connected
    warning = conn.wait_for("auth.expiring", timeout=4)
    assert 0 < warning["expiresInMs"] <= 2500
    error = conn.wait_for("error", timeout=5)
    assert error["code"] == "TOKEN_EXPIRED"
    assert conn.disconnected.wait(3)
    conn.close()


def test_auth_refresh_extends_the_session(gateway):
    conn = Conn(gateway, "/user", auth={"token": token("u-refresh", ttl=4)})
    reply = conn.call("auth.refresh", {"token": token("u-refresh", ttl=120)})
    assert reply["ok"] is True and reply["expiresAt"] > time.time() * 1000 + 100_000
    time.sleep(5)
    assert conn.connected
    assert all(event != "error" for event, _ in conn.events)
    assert conn.call("ping", {})["ok"] is True
    conn.close()


def test_auth_refresh_with_another_users_token_is_forbidden(gateway):
    conn = Conn(gateway, "/user", auth={"token": token("u-a")})
    reply = conn.call("auth.refresh", {"token": token("u-b")})
    assert reply == {"ok": False, "error": {"code": "FORBIDDEN", "message": "The new token belongs to another user."}}
    bad = conn.call("auth.refresh", {"token": "garbage"})
    assert bad["ok"] is False and bad["error"]["code"] == "INVALID_PAYLOAD"
    conn.close()


def test_development_mode_prints_usable_tokens():
    srv = Server("gateway", ["serve"], env={"JWT_SECRET": "", "JWT_PUBLIC_KEY_FILE": "", "LOG_LEVEL": "warning"})
    try:
        deadline = time.time() + 5
        while "admin (sub dev-admin)" not in srv.output() and time.time() < deadline:
            time.sleep(0.05)
        out = srv.output()
        assert "DEVELOPMENT MODE" in out
        user_token = out.split("user  (sub dev-user):")[1].split()[0]
        admin_token = out.split("admin (sub dev-admin):")[1].split()[0]
        user = Conn(srv, "/user", auth={"token": user_token})
        admin = Conn(srv, "/admin", auth={"token": admin_token})
        assert user.connected and admin.connected
        user.close()
        admin.close()
    finally:
        srv.stop()
