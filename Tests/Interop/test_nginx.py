"""The shipped nginx configuration (config/nginx/gateway.conf) in front of two gateway instances
on one redis-server, with a real nginx from Debian's package: a stock python-socketio client on
default transports (polling, then the WebSocket upgrade) works through it, and a broadcast
accepted by either instance reaches clients on both."""
import os
import re
import subprocess
import tempfile
import time

import pytest
import requests

from auth_helpers import Conn, token
from conftest import configured_gateway, free_port, wait_for_port, wait_until

REPO = os.path.join(os.path.dirname(__file__), "..", "..")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, redis_server):
    env = {"FEED_SOURCE": "none", "REDIS_URL": redis_server.url, "REDIS_PREFIX": "nginx:"}
    gateways = [configured_gateway(tmp_path_factory, "", env=env) for _ in range(2)]
    for gateway in gateways:
        wait_until(lambda: requests.get(f"{gateway.base}/health/redis", timeout=5).status_code == 200)
    wait_until(lambda: redis_server.cli("PUBSUB", "NUMSUB", "nginx:bus:all").split()[-1] == "2")
    yield gateways
    for gateway in gateways:
        assert gateway.alive()
        gateway.stop()


class Nginx:
    """nginx in the foreground with the shipped server block, pointed at `upstreams`."""

    def __init__(self, upstreams):
        self.port = free_port()
        self.prefix = tempfile.mkdtemp(prefix="nginx-")
        shipped = open(os.path.join(REPO, "config", "nginx", "gateway.conf")).read()
        servers = "".join(f"    server 127.0.0.1:{port};\n" for port in upstreams)
        site = re.sub(r"(    server 127\.0\.0\.1:\d+;\n)+", servers, shipped)
        site = site.replace("listen 8080;", f"listen 127.0.0.1:{self.port};")
        assert f"127.0.0.1:{upstreams[0]}" in site and f"listen 127.0.0.1:{self.port}" in site
        with open(os.path.join(self.prefix, "site.conf"), "w") as f:
            f.write(site)
        with open(os.path.join(self.prefix, "nginx.conf"), "w") as f:
            f.write(f"""
user root;
worker_processes 1;
pid {self.prefix}/nginx.pid;
error_log {self.prefix}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {self.prefix}/body;
    proxy_temp_path {self.prefix}/proxy;
    include {self.prefix}/site.conf;
}}
""")
        self.process = subprocess.Popen(["nginx", "-p", self.prefix, "-c", f"{self.prefix}/nginx.conf", "-g", "daemon off;"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_for_port(self.port, self.process)

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def nginx(cluster):
    proxy = Nginx([gateway.port for gateway in cluster])
    yield proxy
    proxy.stop()


def test_the_shipped_configuration_is_valid_nginx():
    prefix = tempfile.mkdtemp(prefix="nginx-t-")
    with open(os.path.join(prefix, "nginx.conf"), "w") as f:
        f.write(f"pid {prefix}/nginx.pid; error_log {prefix}/error.log; events {{}} "
                f"http {{ include {os.path.abspath(os.path.join(REPO, 'config', 'nginx', 'gateway.conf'))}; }}\n")
    result = subprocess.run(["nginx", "-t", "-p", prefix, "-c", f"{prefix}/nginx.conf"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_a_default_client_works_through_nginx_and_broadcasts_reach_both_instances(cluster, nginx):
    a, b = cluster
    proxied = Conn(nginx, "/prices", transports=("polling", "websocket"))
    assert proxied.connected, "polling handshake and namespace CONNECT through the proxy"
    wait_until(lambda: proxied.client.transport() == "websocket", timeout=5, message="the upgrade to WebSocket goes through too")
    assert proxied.call("ping")["ok"] is True
    direct = [Conn(gateway, "/prices") for gateway in (a, b)]
    headers = {"Authorization": f"Bearer {token('ops', role='admin')}"}
    for n, gateway in enumerate((a, b)):
        body = {"message": f"via instance {n}", "namespaces": ["/prices"]}
        assert requests.post(f"{gateway.base}/api/v1/broadcast", json=body, headers=headers, timeout=5).status_code == 202
    for conn in [proxied] + direct:
        wait_until(lambda: sum(1 for e, _ in conn.events if e == "system.broadcast") >= 2, timeout=5)
        time.sleep(0.2)
        assert sorted(d["message"] for e, d in conn.events if e == "system.broadcast") == ["via instance 0", "via instance 1"]
    # The API behind the same proxy.
    assert requests.get(f"{nginx.base}/health", timeout=5).json()["status"] == "ok"
    for conn in [proxied] + direct:
        conn.close()


@pytest.mark.parametrize("trusted", [True, False])
def test_per_address_limits_see_the_client_behind_a_trusted_proxy(tmp_path_factory, trusted):
    """Behind a trusted proxy the X-Forwarded-For address is the client's; from anyone else the
    header is ignored, so a client cannot pick its own address."""
    yaml = "limits:\n  maxConnectionsPerIp: 1\n" + ("server:\n  trustedProxies: [127.0.0.1]\n" if trusted else "")
    gateway = configured_gateway(tmp_path_factory, yaml, env={"FEED_SOURCE": "none"})
    try:
        first = Conn(gateway, "/prices", headers={"X-Forwarded-For": "198.51.100.1"})
        second = Conn(gateway, "/prices", headers={"X-Forwarded-For": "198.51.100.2"})
        again = Conn(gateway, "/prices", headers={"X-Forwarded-For": "198.51.100.1"})
        assert first.connected
        assert second.connected is trusted, "another client behind the proxy has its own count" if trusted else "the header is not believed"
        assert not again.connected and again.connect_error["data"]["code"] == "CONNECTION_LIMIT"
        for conn in (first, second, again):
            conn.close()
    finally:
        gateway.stop()
