"""Prometheus exposition: promtool accepts it, every implemented SPEC §7 metric is there with its
labels, counters move with traffic, histogram buckets are sane, and a real Prometheus server
scrapes it on loopback."""
import os
import re
import shutil
import subprocess
import time

import pytest
import requests

from auth_helpers import SECRET, Conn, token
from conftest import Server, free_port, wait_for_port

REPO = os.path.join(os.path.dirname(__file__), "..", "..")
PROMTOOL = shutil.which("promtool")
PROMETHEUS = shutil.which("prometheus")

# Every SPEC §7 name with its labels.
IMPLEMENTED = {
    "gateway_connections": ["namespace"],
    "gateway_engine_connections": ["transport"],
    "gateway_connections_total": ["namespace"],
    "gateway_connect_errors_total": ["namespace", "code"],
    "gateway_messages_received_total": ["namespace"],
    "gateway_messages_sent_total": ["namespace"],
    "gateway_rate_limited_total": ["namespace"],
    "gateway_subscriptions": ["namespace"],
    "gateway_delivery_latency_seconds_bucket": ["namespace", "le"],
    "gateway_slow_consumer_disconnects_total": [],
    "gateway_conflated_total": ["namespace"],
    "gateway_feed_messages_total": ["source", "type"],
    "gateway_feed_rejected_total": ["source", "reason"],
    "gateway_feed_gaps_total": ["symbol"],
    "gateway_recovery_total": ["outcome"],
    "gateway_redis_up": [],
    "process_resident_memory_bytes": [],
    "process_cpu_seconds_total": [],
    "process_open_fds": [],
}


@pytest.fixture(scope="module")
def gateway():
    srv = Server("gateway", ["serve"], env={"JWT_SECRET": SECRET, "LOG_LEVEL": "warning"})
    yield srv
    srv.stop()


def scrape(server):
    r = requests.get(f"{server.base}/metrics", timeout=5)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    return r.text


def samples(text):
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? ([^ ]+)$", line)
        assert m, f"unparsable line: {line}"
        labels = dict(re.findall(r'([a-zA-Z_]+)="([^"]*)"', m.group(2) or ""))
        out.setdefault(m.group(1), []).append((labels, float(m.group(3))))
    return out


def traffic(server):
    conns = [Conn(server, "/prices"), Conn(server, "/user", auth={"token": token("u-metrics")})]
    for conn in conns:
        conn.call("ping", {})
    conns[0].call("subscribe", {"symbols": ["BTC/USDT"]})
    admin = Conn(server, "/admin", auth={"token": token("ops", role="admin")})
    admin.call("admin.broadcast", {"message": "metrics"})
    for conn in conns:
        conn.wait_for("system.broadcast")
    return conns + [admin]


@pytest.mark.skipif(PROMTOOL is None, reason="promtool comes with Debian's prometheus package (make test installs it)")
def test_promtool_accepts_the_exposition(gateway):
    conns = traffic(gateway)
    result = subprocess.run([PROMTOOL, "check", "metrics"], input=scrape(gateway), capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
    for conn in conns:
        conn.close()


def test_every_implemented_spec_metric_is_present_with_its_labels(gateway):
    conns = traffic(gateway)
    found = samples(scrape(gateway))
    for name, labels in IMPLEMENTED.items():
        assert name in found, name
        for sample_labels, _ in found[name]:
            assert sorted(sample_labels) == sorted(labels), (name, sample_labels)
    for conn in conns:
        conn.close()


def test_counters_move_with_traffic(gateway):
    before = samples(scrape(gateway))
    conns = traffic(gateway)
    after = samples(scrape(gateway))

    def value(data, name, **labels):
        return sum(v for l, v in data.get(name, []) if all(l.get(k) == x for k, x in labels.items()))

    assert value(after, "gateway_messages_sent_total") > value(before, "gateway_messages_sent_total")
    assert value(after, "gateway_messages_received_total", namespace="/prices") > value(before, "gateway_messages_received_total", namespace="/prices")
    assert value(after, "gateway_connections_total", namespace="/user") > value(before, "gateway_connections_total", namespace="/user")
    assert value(after, "gateway_connections", namespace="/prices") >= 1
    assert value(after, "process_resident_memory_bytes") > 1e6
    assert value(after, "process_open_fds") > 3
    for conn in conns:
        conn.close()


def test_delivery_latency_histogram_is_sane(gateway):
    conns = traffic(gateway)
    found = samples(scrape(gateway))
    buckets = [(float(l["le"]), v) for l, v in found["gateway_delivery_latency_seconds_bucket"] if l["namespace"] == "/prices"]
    buckets.sort()
    assert buckets[-1][0] == float("inf")
    counts = [v for _, v in buckets]
    assert counts == sorted(counts), "cumulative buckets never decrease"
    count = [v for l, v in found["gateway_delivery_latency_seconds_count"] if l["namespace"] == "/prices"][0]
    assert count >= 1 and counts[-1] == count
    for conn in conns:
        conn.close()


@pytest.mark.skipif(PROMTOOL is None, reason="promtool comes with Debian's prometheus package")
def test_shipped_prometheus_config_and_alert_rules_are_valid():
    for args in (["check", "rules", os.path.join(REPO, "config", "gateway-alerts.yml")],
                 ["check", "config", os.path.join(REPO, "config", "prometheus.yml")]):
        result = subprocess.run([PROMTOOL, *args], capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(PROMETHEUS is None, reason="prometheus comes with Debian's prometheus package")
def test_a_real_prometheus_scrapes_the_gateway(gateway, tmp_path):
    port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(f"""
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: gateway
    static_configs:
      - targets: ["127.0.0.1:{gateway.port}"]
""")
    prom = subprocess.Popen([PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
                             f"--web.listen-address=127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, prom, timeout=30)
        # The port opens before Prometheus is ready (it answers 503 meanwhile).
        deadline = time.time() + 30
        while time.time() < deadline and requests.get(f"http://127.0.0.1:{port}/-/ready", timeout=5).status_code != 200:
            time.sleep(0.2)

        def query(expr):
            r = requests.get(f"http://127.0.0.1:{port}/api/v1/query", params={"query": expr}, timeout=5)
            if r.status_code != 200:
                return []
            return r.json()["data"]["result"]

        def wait(expr, check, timeout=25):
            deadline = time.time() + timeout
            while time.time() < deadline:
                result = query(expr)
                if result and check(float(result[0]["value"][1])):
                    return float(result[0]["value"][1])
                time.sleep(0.5)
            raise AssertionError(f"{expr} never satisfied")

        assert wait('up{job="gateway"}', lambda v: v == 1) == 1
        first = wait("sum(gateway_messages_sent_total)", lambda v: v >= 0)
        conns = traffic(gateway)
        wait("sum(gateway_messages_sent_total)", lambda v: v > first)
        for conn in conns:
            conn.close()
    finally:
        prom.terminate()
        prom.wait(timeout=10)
