"""Shared fixtures: start the gateway's conformance server (the protocol test-suite app, built on
the gateway's own core and network edge) on a free loopback port, once per test session."""
import os
import socket
import subprocess
import time

import pytest

BIN_DIR = os.environ.get("GATEWAY_BIN_DIR", os.path.join(os.path.dirname(__file__), "..", "..", ".build", "debug"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout=10.0, message="condition not met in time"):
    """Polls `predicate` until it holds (returns True) or `timeout` passes (AssertionError)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    if predicate():
        return True
    raise AssertionError(message() if callable(message) else message)


def wait_for_port(port, process, timeout=20.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server did not listen on {port}")


class Server:
    def __init__(self, binary, args, port=None, env=None):
        import tempfile
        self.port = port or free_port()
        self.log = tempfile.NamedTemporaryFile(prefix=f"{binary}-", suffix=".log", delete=False)
        self.process = subprocess.Popen(
            [os.path.join(BIN_DIR, binary), *args, "--port", str(self.port)],
            stdout=self.log,
            stderr=self.log,
            env={**os.environ, **(env or {})},
        )
        wait_for_port(self.port, self.process)

    def output(self):
        with open(self.log.name) as f:
            return f.read()

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_base(self):
        return f"ws://127.0.0.1:{self.port}"

    def alive(self):
        return self.process.poll() is None

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def configured_gateway(tmp_path_factory, yaml, env=None):
    """The gateway executable with `yaml` as its configuration file (keys not named keep their
    defaults) and JWT_SECRET set for the test tokens."""
    from auth_helpers import SECRET
    config = tmp_path_factory.mktemp("cfg") / "gateway.yaml"
    config.write_text(yaml)
    return Server("gateway", ["serve", "--config", str(config)], env={"JWT_SECRET": SECRET, "LOG_LEVEL": "warning", **(env or {})})


@pytest.fixture(scope="session")
def server():
    """The protocol test-suite configuration: pingInterval 300, pingTimeout 200, connectTimeout 1000."""
    srv = Server("ConformanceServer", [])
    yield srv
    assert srv.alive(), "the server must survive every test"
    srv.stop()


@pytest.fixture(scope="session")
def slow_server():
    """Default-like heartbeat (so python clients stay connected) and a small slow-consumer limit."""
    srv = Server("ConformanceServer", ["--ping-interval", "25000", "--ping-timeout", "20000",
                                       "--connect-timeout", "45000", "--slow-consumer-bytes", "262144",
                                       "--max-payload", "100000"])
    yield srv
    assert srv.alive(), "the server must survive every test"
    srv.stop()


class RedisServer:
    """A real redis-server on a free loopback port, no persistence; stop() and start() again
    on the same port simulate an outage."""

    def __init__(self, port=None):
        self.port = port or free_port()
        self.process = None
        self.start()

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, self.process)

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}"

    def cli(self, *args):
        result = subprocess.run(["redis-cli", "-p", str(self.port), *args], capture_output=True, text=True, timeout=10)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def redis_server():
    srv = RedisServer()
    yield srv
    srv.stop()
