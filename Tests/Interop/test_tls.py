"""TLS on the listener (wss://, https:// polling), certificate reload, the plain probe port,
bad TLS files at start-up, the admin CLI over wss://, and Redis over rediss:// — with real
certificates made by openssl, real python-socketio clients and a real redis-server with TLS."""
import os
import signal
import socket
import subprocess
import time

import pytest
import requests

from auth_helpers import SECRET, Conn, token
from conftest import BIN_DIR, Server, free_port, wait_until
from tls_helpers import AsyncConn, Certificates, install, peer_name


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return Certificates(tmp_path_factory.mktemp("tls"))


class TLSGateway:
    """The gateway executable on a TLS port, with its certificate files in a folder of its own
    (so a test can replace them) and a plain probe port."""

    def __init__(self, certs, directory, name="gateway-a", env=None):
        self.cert, self.key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
        source_cert, source_key = certs.issue(name)
        install(source_cert, self.cert)
        install(source_key, self.key)
        self.plain_port = free_port()
        self.server = Server("gateway", ["serve"], env={
            "JWT_SECRET": SECRET, "LOG_LEVEL": "info", "TLS_CERT_FILE": self.cert, "TLS_KEY_FILE": self.key,
            "TLS_PLAIN_PORT": str(self.plain_port), **(env or {}),
        })
        self.port = self.server.port
        self.base = f"https://127.0.0.1:{self.port}"
        self.ws_base = f"wss://127.0.0.1:{self.port}"
        wait_until(lambda: _listening(self.plain_port))

    def stop(self):
        self.server.stop()


def _listening(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def gateway(certs, tmp_path_factory):
    srv = TLSGateway(certs, tmp_path_factory.mktemp("gw"))
    yield srv
    assert srv.server.alive()
    srv.stop()


def test_python_socketio_over_https_polls_then_upgrades_to_wss(gateway, certs):
    """The asyncio client (one thread, aiohttp): polling over https, the upgrade to wss:// on
    a pooled connection, then events. (The threaded `socketio.Client` reads and writes one TLS
    socket from two threads after the upgrade, which OpenSSL does not allow; its sends then
    fail now and then — see docs/troubleshooting.md.)"""
    import asyncio
    import ssl

    import aiohttp
    import socketio

    async def scenario():
        context = ssl.create_default_context(cafile=certs.ca)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as session:
            client = socketio.AsyncClient(reconnection=False, http_session=session)
            prices = asyncio.Queue()
            client.on("price.update", prices.put_nowait, namespace="/prices")
            await client.connect(gateway.base, namespaces=["/prices"], transports=["polling", "websocket"], wait_timeout=5)
            for _ in range(250):
                if client.transport() == "websocket":
                    break
                await asyncio.sleep(0.02)
            assert client.transport() == "websocket", "the polling session upgrades over TLS"
            ack = await client.call("subscribe", {"symbols": ["BTC/USDT"]}, namespace="/prices", timeout=5)
            update = await asyncio.wait_for(prices.get(), 5)
            await client.disconnect()
            return ack, update

    ack, update = asyncio.run(scenario())
    assert ack["ok"] is True and update["symbol"] == "BTC/USDT"


def test_python_socketio_over_https_polling_only(gateway, certs):
    conn = Conn(gateway, "/prices", transports=("polling",), ca=certs.ca)
    assert conn.connected and conn.client.transport() == "polling"
    assert conn.call("subscribe", {"symbols": ["ETH/USDT"]})["ok"] is True
    assert conn.wait_for("price.update")["symbol"] == "ETH/USDT"
    conn.close()


def test_websocket_only_over_wss(gateway, certs):
    """wss:// only, on /user with a token. The asyncio client again: the threaded one reads
    and writes one TLS socket from two threads (docs/troubleshooting.md, 13), which made this
    test fail once in CI."""
    import asyncio
    import ssl

    import aiohttp
    import socketio

    async def scenario():
        context = ssl.create_default_context(cafile=certs.ca)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as session:
            client = socketio.AsyncClient(reconnection=False, http_session=session)
            await client.connect(gateway.base, namespaces=["/user"], auth={"token": token("tls-user")},
                                 transports=["websocket"], wait_timeout=5)
            transport = client.transport()
            reply = await client.call("ping", {}, namespace="/user", timeout=5)
            await client.disconnect()
            return transport, reply

    transport, reply = asyncio.run(scenario())
    assert transport == "websocket" and reply["ok"] is True


def test_a_client_that_does_not_trust_the_certificate_cannot_connect(gateway):
    conn = Conn(gateway, "/prices")
    assert not conn.connected
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"{gateway.base}/health", timeout=5)


def test_the_admin_cli_speaks_wss_with_a_ca_file(gateway, certs):
    def admin(*extra):
        return subprocess.run(
            [os.path.join(BIN_DIR, "gateway"), "admin", "stats", "--url", gateway.ws_base, "--token", token("ops", role="admin"), *extra],
            capture_output=True, text=True, timeout=30)
    trusted = admin("--ca-file", certs.ca)
    assert trusted.returncode == 0, trusted.stderr
    assert '"ok":true' in trusted.stdout
    untrusted = admin()
    assert untrusted.returncode == 1 and "TLS failed" in untrusted.stderr, untrusted.stderr


def test_plain_http_on_the_tls_port_gets_a_clean_close(gateway, certs):
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=5) as raw:
        raw.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            reply = raw.recv(4096)
        except ConnectionResetError:
            reply = b""
    assert b"HTTP/1.1" not in reply, "no plain-text answer on the TLS port"
    assert gateway.server.alive()
    assert requests.get(f"{gateway.base}/health", verify=certs.ca, timeout=5).status_code == 200


def test_the_plain_port_serves_probes_and_metrics_only(gateway):
    plain = f"http://127.0.0.1:{gateway.plain_port}"
    assert requests.get(f"{plain}/health", timeout=5).json()["status"] == "ok"
    assert "gateway_connections" in requests.get(f"{plain}/metrics", timeout=5).text
    assert requests.get(f"{plain}/api/v1/limits", timeout=5).status_code == 404
    assert requests.get(f"{plain}/socket.io/?EIO=4&transport=polling", timeout=5).status_code == 404


def test_sighup_reloads_the_certificate_without_dropping_sockets_and_a_bad_one_is_refused(certs, tmp_path_factory):
    # File checks off: only the signal can load a new certificate here.
    gateway = TLSGateway(certs, tmp_path_factory.mktemp("reload"), name="reload-a", env={"TLS_RELOAD_CHECK_MS": "0"})
    try:
        held = AsyncConn(gateway, "/user", ca=certs.ca, auth={"token": token("reload-user")})
        assert held.connected and peer_name(gateway.port, certs.ca) == "reload-a"

        cert_b, key_b = certs.issue("reload-b")
        install(cert_b, gateway.cert)
        install(key_b, gateway.key)
        time.sleep(1)
        assert peer_name(gateway.port, certs.ca) == "reload-a", "nothing changes before the signal"
        gateway.server.process.send_signal(signal.SIGHUP)
        wait_until(lambda: peer_name(gateway.port, certs.ca) == "reload-b", message="SIGHUP loads the new certificate")
        assert held.connected and held.call("ping")["ok"] is True, "a socket connected before the reload stays"

        with open(gateway.cert, "w") as f:
            f.write("not a certificate\n")
        gateway.server.process.send_signal(signal.SIGHUP)
        wait_until(lambda: "TLS certificate not reloaded" in gateway.server.output(), message="a bad file is logged")
        assert "server.tls.certificateFile" in gateway.server.output()
        assert peer_name(gateway.port, certs.ca) == "reload-b", "the certificate in use stays"
        assert gateway.server.alive() and held.call("ping")["ok"] is True
        held.close()
    finally:
        gateway.stop()


def test_a_rotated_secret_mount_is_noticed_without_a_signal(certs, tmp_path_factory):
    """The layout Kubernetes mounts secrets in: cert.pem -> ..data/tls.crt, rotated by swapping
    the ..data link; the file names themselves never change."""
    directory = str(tmp_path_factory.mktemp("mount"))
    gateway = TLSGateway(certs, directory, name="mount-a", env={"TLS_RELOAD_CHECK_MS": "300"})
    try:
        def publish(name, version):
            cert, key = certs.issue(name)
            folder = os.path.join(directory, version)
            os.makedirs(folder)
            install(cert, os.path.join(folder, "tls.crt"))
            install(key, os.path.join(folder, "tls.key"))
            os.symlink(version, os.path.join(directory, "..data_tmp"))
            os.replace(os.path.join(directory, "..data_tmp"), os.path.join(directory, "..data"))

        publish("mount-b", "v1")
        for name, target in (("cert.pem", "..data/tls.crt"), ("key.pem", "..data/tls.key")):
            os.replace(_symlink(directory, target, name + ".tmp"), os.path.join(directory, name))
        wait_until(lambda: peer_name(gateway.port, certs.ca) == "mount-b", message="files that became links are read")
        publish("mount-c", "v2")
        wait_until(lambda: peer_name(gateway.port, certs.ca) == "mount-c", message="a swapped ..data link is noticed")
    finally:
        gateway.stop()


def _symlink(directory, target, name):
    path = os.path.join(directory, name)
    os.symlink(target, path)
    return path


def start_up_error(env):
    result = subprocess.run([os.path.join(BIN_DIR, "gateway"), "serve", "--port", str(free_port())],
                            env={**os.environ, "JWT_SECRET": SECRET, "FEED_SOURCE": "none", **env},
                            capture_output=True, text=True, timeout=30)
    return result.returncode, result.stderr


def test_bad_tls_files_stop_start_up_naming_the_key_and_the_file(certs, tmp_path):
    cert, key = certs.issue("startup")
    other_cert, other_key = certs.issue("someone-else")
    expired_cert, expired_key = certs.issue("expired", days=-1)
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    missing = str(tmp_path / "missing.pem")
    cases = [
        ({"TLS_CERT_FILE": missing, "TLS_KEY_FILE": key}, "server.tls.certificateFile", missing, "no such file"),
        ({"TLS_CERT_FILE": cert, "TLS_KEY_FILE": other_key}, "server.tls.keyFile", other_key, "does not belong to the certificate"),
        ({"TLS_CERT_FILE": expired_cert, "TLS_KEY_FILE": expired_key}, "server.tls.certificateFile", expired_cert, "expired"),
        ({"TLS_CERT_FILE": str(garbage), "TLS_KEY_FILE": key}, "server.tls.certificateFile", str(garbage), "no PEM certificate"),
        ({"TLS_CERT_FILE": cert}, "server.tls.keyFile", "", "needs the key file"),
    ]
    for env, key_name, path, problem in cases:
        code, stderr = start_up_error(env)
        assert code == 2, (env, stderr)
        assert key_name in stderr and path in stderr and problem in stderr, (env, stderr)
    # check-config finds the same before a deploy.
    checked = subprocess.run([os.path.join(BIN_DIR, "gateway"), "check-config"], capture_output=True, text=True, timeout=30,
                             env={**os.environ, "JWT_SECRET": SECRET, "TLS_CERT_FILE": cert, "TLS_KEY_FILE": other_key})
    assert checked.returncode == 2 and "server.tls.keyFile" in checked.stdout, checked.stdout
    good = subprocess.run([os.path.join(BIN_DIR, "gateway"), "check-config"], capture_output=True, text=True, timeout=30,
                          env={**os.environ, "JWT_SECRET": SECRET, "TLS_CERT_FILE": cert, "TLS_KEY_FILE": key})
    assert good.returncode == 0 and "https://" in good.stdout, good.stdout


class TLSRedis:
    """redis-server listening only on a TLS port, asking clients for a certificate."""

    def __init__(self, certs):
        self.port = free_port()
        cert, key = certs.issue("redis-server")
        self.process = subprocess.Popen(
            ["redis-server", "--port", "0", "--tls-port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--tls-cert-file", cert, "--tls-key-file", key, "--tls-ca-cert-file", certs.ca,
             "--tls-auth-clients", "yes"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: _listening(self.port))
        self.client_cert, self.client_key = certs.issue("redis-client", client=True)
        self.ca = certs.ca

    def cli(self, *args):
        result = subprocess.run(
            ["redis-cli", "-p", str(self.port), "--tls", "--cacert", self.ca, "--cert", self.client_cert,
             "--key", self.client_key, *args], capture_output=True, text=True, timeout=10)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


def test_redis_over_rediss_with_a_client_certificate(certs, tmp_path_factory):
    redis = TLSRedis(certs)
    url = f"rediss://127.0.0.1:{redis.port}"
    trusted = None
    refused = None
    try:
        trusted = Server("gateway", ["serve"], env={
            "JWT_SECRET": SECRET, "FEED_SOURCE": "none", "REDIS_URL": url, "REDIS_PREFIX": "tls:",
            "REDIS_TLS_CA_FILE": certs.ca, "REDIS_TLS_CERT_FILE": redis.client_cert, "REDIS_TLS_KEY_FILE": redis.client_key,
        })
        wait_until(lambda: requests.get(f"{trusted.base}/health/redis", timeout=5).status_code == 200,
                   message="the gateway reaches Redis over TLS")
        trader = Conn(trusted, "/user", auth={"token": token("tls-trader")})
        redis.cli("XADD", "tls:user-events", "*", "userId", "tls-trader", "event", "order.new", "data", '{"id":"o1"}')
        assert trader.wait_for("order.new") == {"id": "o1"}
        trader.close()

        # Without the client certificate this Redis refuses the gateway; without the CA the
        # gateway refuses this Redis. Either way it stays "down", never "up" between retries.
        for env in ({"REDIS_TLS_CA_FILE": certs.ca},
                    {"REDIS_TLS_CERT_FILE": redis.client_cert, "REDIS_TLS_KEY_FILE": redis.client_key}):
            refused = Server("gateway", ["serve"], env={
                "JWT_SECRET": SECRET, "FEED_SOURCE": "none", "REDIS_URL": url, "LOG_LEVEL": "info", **env})
            answers = set()
            deadline = time.time() + 3
            while time.time() < deadline:
                answers.add(requests.get(f"{refused.base}/health/redis", timeout=5).status_code)
                time.sleep(0.1)
            assert answers == {503}, (env, answers)
            assert "Redis connection restored" not in refused.output()
            assert "Redis unreachable" in refused.output()
            assert refused.alive()
            refused.stop()
            refused = None
    finally:
        for gateway in (trusted, refused):
            if gateway:
                gateway.stop()
        redis.stop()


def test_bad_redis_tls_files_stop_start_up(tmp_path):
    missing = str(tmp_path / "ca.pem")
    code, stderr = start_up_error({"REDIS_URL": "rediss://127.0.0.1:6390", "REDIS_TLS_CA_FILE": missing})
    assert code == 2 and "redis.tls.caFile" in stderr and missing in stderr and "no such file" in stderr, stderr
    code, stderr = start_up_error({"REDIS_URL": "redis://127.0.0.1:6390", "REDIS_TLS_CA_FILE": missing})
    assert code == 2 and "not rediss://" in stderr, stderr
