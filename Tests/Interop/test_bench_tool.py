"""`gateway-bench` as a user runs it against a running gateway: the JSON result, the table, the
progress lines on stderr, and a clear failure when nothing listens. The binary comes from
`make interop-test` (swift build --product gateway-bench); nothing is built here."""
import json
import os
import re
import subprocess

import pytest

from auth_helpers import SECRET
from conftest import BIN_DIR, Server, free_port

RAMP_KEYS = {"scenario", "label", "urls", "namespace", "event", "threads", "clients", "in_flight", "waves", "connected",
             "errors", "error_kinds", "first_error", "rate_per_s", "latency_ms", "server_before", "server_at_end", "steps"}
FANOUT_KEYS = {"scenario", "label", "urls", "namespace", "event", "ticks", "threads", "subscribers", "connected", "symbols",
               "per_client", "connect_seconds", "errors", "error_kinds", "first_error", "deliveries_per_s", "bytes_per_s", "latency_ms", "steps"}
PROGRESS = re.compile(r"^\[ *\d+s\] window 1/2  deliveries [\d,]+/s  p99 \S+( ms)?  errors 0$", re.M)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    # A load tool opens hundreds of sessions a second from one address: the per-address
    # handshake rate (a guard against exactly that from strangers) is lifted, as in make bench.
    config = tmp_path_factory.mktemp("bench") / "gateway.yaml"
    config.write_text("limits:\n  handshakesPerSecondPerIp: 0\n")
    srv = Server("gateway", ["serve", "--config", str(config)], env={"JWT_SECRET": SECRET, "LOG_LEVEL": "warning"})
    yield srv
    srv.stop()


def bench(*args, timeout=60):
    return subprocess.run([os.path.join(BIN_DIR, "gateway-bench"), *args], capture_output=True, text=True, timeout=timeout)


def assert_ordered(latency):
    values = [latency[key] for key in ("p50", "p90", "p99", "max")]
    assert all(value is not None and value > 0 for value in values), latency
    assert values == sorted(values), latency


def test_ramp_json_counts_every_client(gateway):
    result = bench("ramp", "--url", gateway.base, "--clients", "200", "--json")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1, "stdout holds the JSON object only"
    report = json.loads(lines[0])
    assert set(report) == RAMP_KEYS
    assert report["scenario"] == "ramp" and report["namespace"] == "/prices" and report["event"] == "subscribe"
    assert report["clients"] == 200 and report["connected"] == 200
    assert report["errors"] == 0 and report["error_kinds"] == {} and report["first_error"] is None
    assert report["rate_per_s"] > 0
    assert_ordered(report["latency_ms"])
    [wave] = report["steps"]
    assert wave["wave"] == 1 and wave["connected"] == 200 and wave["errors"] == 0 and wave["seconds"] > 0
    assert_ordered(wave["latency_ms"])


def test_ramp_table(gateway):
    result = bench("ramp", "--url", gateway.base, "--clients", "100", "--label", "table-check")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("table-check: 100 clients per wave to http://127.0.0.1:")
    assert lines[1].split() == ["wave", "connected", "errors", "seconds", "rate/s", "p50", "ms", "p90", "ms", "p99", "ms", "max", "ms"]
    assert lines[2].split()[:3] == ["1", "100", "0"]
    assert lines[3].startswith("total: 100 connected, 0 errors, ")


def test_fanout_reports_progress_each_second_a_table_and_a_json_file(gateway, tmp_path):
    # The gateway's simulator makes the ticks; two windows of 1.5 s give at least one progress line.
    out = tmp_path / "fanout.json"
    result = bench("fanout", "--url", gateway.base, "--subscribers", "50", "--windows", "2", "--seconds", "1.5",
                   "--json-file", str(out))
    assert result.returncode == 0, result.stderr
    assert PROGRESS.search(result.stderr), result.stderr
    lines = result.stdout.splitlines()
    assert "50 subscribers" in lines[0] and "ticks from the server" in lines[0]
    assert lines[1].split()[:5] == ["step", "offered/s", "deliveries/s", "KB/s", "delivered"]
    assert [line.split()[0] for line in lines[2:4]] == ["1", "2"]
    report = json.loads(out.read_text())
    assert set(report) == FANOUT_KEYS
    assert report["connected"] == 50 and report["errors"] == 0 and report["deliveries_per_s"] > 0
    assert report["bytes_per_s"] > 50 * report["deliveries_per_s"], "each delivery is counted with its payload bytes"
    assert [step["rate"] for step in report["steps"]] == [None, None]


def test_nothing_listening_is_a_clear_error():
    url = f"http://127.0.0.1:{free_port()}"
    result = bench("ramp", "--url", url, "--clients", "50", "--json")
    assert result.returncode == 1
    assert result.stdout == ""
    assert f"no client gets through to {url}" in result.stderr and "connection refused" in result.stderr


def test_a_refused_subscribe_is_a_clear_error(gateway):
    result = bench("ramp", "--url", gateway.base, "--clients", "10", "--payload", '{"symbols":["NOPE/USDT"]}')
    assert result.returncode == 1
    assert "the request was refused" in result.stderr and "UNKNOWN_SYMBOL" in result.stderr
