"""`gateway watch` the way a person uses it: in a real terminal (tmux), reading the screen,
pressing keys; against a real gateway that is killed and restarted underneath it."""
import os
import shutil
import subprocess
import time

import pytest
import requests

from auth_helpers import SECRET, token
from conftest import BIN_DIR, Server, free_port, wait_until

GATEWAY = os.path.join(BIN_DIR, "gateway")


def start_gateway(port=None):
    return Server("gateway", ["serve"], port=port, env={"JWT_SECRET": SECRET, "LOG_LEVEL": "warning"})


class Watch:
    """`gateway watch …` in a detached tmux session of 110×42; `screen()` reads it."""

    def __init__(self, *args):
        assert shutil.which("tmux"), "tmux is missing: `make test` installs it"
        self.session = f"watch-{os.getpid()}-{free_port()}"
        command = " ".join([GATEWAY, "watch", *args]) + "; echo EXIT=$?; sleep 30"
        subprocess.run(["tmux", "new-session", "-d", "-s", self.session, "-x", "110", "-y", "42", command], check=True)

    def screen(self):
        return subprocess.run(["tmux", "capture-pane", "-p", "-t", self.session], capture_output=True, text=True).stdout

    def wait_for(self, text, timeout=10):
        wait_until(lambda: text in self.screen(), timeout, message=lambda: f"{text!r} not on screen:\n{self.screen()}")
        return self.screen()

    def keys(self, *keys):
        subprocess.run(["tmux", "send-keys", "-t", self.session, *keys], check=True)

    def close(self):
        subprocess.run(["tmux", "kill-session", "-t", self.session], capture_output=True)


@pytest.fixture()
def gateway():
    srv = start_gateway()
    yield srv
    srv.stop()


def price_rows(screen):
    return [line for line in screen.splitlines() if "/USDT" in line and ("▸" in line or line.startswith("  ")) and "." in line]


def test_prices_ladder_and_trades_move_and_q_quits_cleanly(gateway):
    watch = Watch("BTC/USDT", "ETH/USDT", "--url", gateway.base, "--depth", "5")
    try:
        screen = watch.wait_for("BTC/USDT book  seq")
        wait_until(lambda: len(price_rows(watch.screen())) == 2, message=lambda: watch.screen())
        assert "● connected" in screen
        ladder = screen.split("BTC/USDT book")[1].split("last trades")[0].splitlines()[2:7]
        assert len(ladder) == 5 and all(len(line.split()) == 4 for line in ladder), screen
        bids = [float(line.split()[1]) for line in ladder]
        asks = [float(line.split()[2]) for line in ladder]
        assert bids == sorted(bids, reverse=True) and asks == sorted(asks) and bids[0] < asks[0]
        first = price_rows(watch.screen())
        wait_until(lambda: price_rows(watch.screen()) != first, message="prices never moved on screen")
        watch.wait_for("BTC/USDT last trades")
        wait_until(lambda: " buy " in watch.screen() or " sell " in watch.screen(), message=lambda: watch.screen())
        # Tab moves the focus: the ladder and trades follow.
        watch.keys("Tab")
        watch.wait_for("ETH/USDT book  seq")
        assert "▸ ETH/USDT" in watch.screen()
        watch.keys("q")
        screen = watch.wait_for("EXIT=0")
        assert "gateway watch" not in screen, "the alternate screen is left on quit"
    finally:
        watch.close()


def test_ctrl_c_quits_too(gateway):
    watch = Watch("SOL/USDT", "--url", gateway.base)
    try:
        watch.wait_for("SOL/USDT book  seq")
        watch.keys("C-c")
        watch.wait_for("EXIT=0")
    finally:
        watch.close()


def test_user_events_and_a_gateway_restart_underneath(gateway):
    user = "watching-trader"
    watch = Watch("BTC/USDT", "--url", gateway.base, "--user", "--token", token(user))
    try:
        watch.wait_for("none yet")
        service = {"Authorization": f"Bearer {token('backend', role='service')}"}
        body = {"event": "order.filled", "data": {"orderId": "o-7", "qty": "0.5"}}
        assert requests.post(f"{gateway.base}/api/v1/users/{user}/events", json=body, headers=service, timeout=5).status_code == 202
        screen = watch.wait_for('order.filled {"orderId":"o-7","qty":"0.5"}')
        assert "reconnects 0" in screen
        port = gateway.port
        gateway.process.kill()
        gateway.process.wait()
        watch.wait_for("reconnecting")
        restarted = start_gateway(port=port)
        try:
            watch.wait_for("reconnects 1", timeout=20)
            watch.wait_for("● connected")
            # The restarted gateway kept no session: the screen says events may be missing.
            watch.wait_for("without recovery")
            before = watch.screen().split("BTC/USDT book  seq")[1].split()[0]
            wait_until(lambda: watch.screen().split("BTC/USDT book  seq")[1].split()[0] != before,
                       message="the book does not stream after the restart")
        finally:
            restarted.stop()
    finally:
        watch.close()


def test_an_unknown_symbol_is_shown_not_hidden(gateway):
    watch = Watch("NOPE/USDT", "--url", gateway.base)
    try:
        watch.wait_for("UNKNOWN_SYMBOL")
        watch.keys("q")
        watch.wait_for("EXIT=0")
    finally:
        watch.close()


def test_bad_arguments_are_explained():
    result = subprocess.run([GATEWAY, "watch", "BTC/USDT", "--user"], capture_output=True, text=True, timeout=20,
                            env={k: v for k, v in os.environ.items() if k != "GATEWAY_TOKEN"})
    assert result.returncode != 0 and "--user needs --token" in result.stderr


def test_a_silent_feed_shows_stale_and_a_feed_gap_is_declared():
    """With feed.staleAfterMs 1000, a symbol whose producer stops is marked STALE on its row until
    its next message; a depth sequence gap shows the book as stale and the declared gap."""
    srv = Server("gateway", ["serve"], env={"JWT_SECRET": SECRET, "LOG_LEVEL": "warning", "FEED_SOURCE": "none", "FEED_STALE_AFTER_MS": "1000"})
    service = {"Authorization": f"Bearer {token('producer', role='service')}"}

    def feed(*messages):
        assert requests.post(f"{srv.base}/api/v1/market", json=list(messages), headers=service, timeout=5).status_code == 202

    def tick(ts):
        return {"type": "tick", "symbol": "BTC/USDT", "price": "64000.5", "bid": "64000", "ask": "64001", "volume": "1", "ts": ts}

    def depth(kind, seq, qty):
        return {"type": "depth", "symbol": "BTC/USDT", "kind": kind, "seq": seq, "ts": 1,
                "bids": [[str(64000 - level), qty] for level in range(1, 12)], "asks": [["64001", "1"]]}

    feed(tick(1000), depth("snapshot", 1, "1"))
    watch = Watch("BTC/USDT", "--url", srv.base)
    try:
        watch.wait_for("BTC/USDT book  seq 1")
        row = lambda: next(line for line in watch.screen().splitlines() if "BTC/USDT" in line and "64000.5" in line)
        wait_until(lambda: "STALE" in row(), timeout=6, message=lambda: watch.screen())
        feed(tick(2000))
        wait_until(lambda: "STALE" not in row(), timeout=6, message=lambda: watch.screen())
        feed(depth("delta", 4, "2"))
        screen = watch.wait_for("book stale (feed gap)")
        assert "gaps declared 1: depth 2–3 feed-gap" in screen, screen
        feed(depth("snapshot", 5, "3"))
        watch.wait_for("BTC/USDT book  seq 5")
        watch.keys("q")
        watch.wait_for("EXIT=0")
    finally:
        watch.close()
        srv.stop()
