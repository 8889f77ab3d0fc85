"""Starts the gateway again and again with a crowd connecting the instant its port opens, with
the start-up warm-up switched off (GATEWAY_TEST_WARM_UP=0; `--warm-up` leaves it on), and reports
what the sanitizer or the runtime said. Bounded: `--runs` starts, each at most ~25 s; traffic to 127.0.0.1 only.

Usage: crowd_start.py --binary .build-thread/debug/gateway --runs 200 --reports DIR"""
import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

REQUESTS = [
    b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
    b"Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /api/v1/limits HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
]
FINDINGS = re.compile(r"WARNING: ThreadSanitizer|ERROR: AddressSanitizer|ERROR: LeakSanitizer|Fatal error|Swift runtime failure|"
                      r"metadata cycle|Segmentation fault|\*\*\* Signal")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def crowd(port, k, answered, per_thread=3):
    deadline = time.time() + 20
    sent = 0
    while time.time() < deadline and sent < per_thread:
        try:
            conn = socket.create_connection(("127.0.0.1", port), timeout=2)
        except OSError:
            time.sleep(0.001)
            continue
        with conn:
            try:
                conn.sendall(REQUESTS[(k + sent) % len(REQUESTS)])
                answered.append(conn.recv(12).startswith(b"HTTP/1.1"))
            except OSError:
                answered.append(False)
        sent += 1


def one_start(binary, threads, log_path, warm_up):
    port = free_port()
    env = {**os.environ, "GATEWAY_TEST_WARM_UP": "1" if warm_up else "0", "JWT_SECRET": "sanitizer-secret-0123456789", "LOG_LEVEL": "warning"}
    with open(log_path, "w") as log:
        process = subprocess.Popen([binary, "serve", "--port", str(port)], stdout=log, stderr=log, env=env)
        answered = []
        workers = [threading.Thread(target=crowd, args=(port, k, answered)) for k in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        alive = process.poll() is None
        if alive:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    return alive, process.returncode, answered.count(True), len(answered)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--threads", type=int, default=12)
    parser.add_argument("--reports", default="sanitizer-reports")
    parser.add_argument("--warm-up", action="store_true", help="leave the start-up warm-up on (to show it prevents the crash)")
    args = parser.parse_args()
    os.makedirs(args.reports, exist_ok=True)
    findings, crashes, unanswered = 0, 0, 0
    started = time.time()
    for run in range(args.runs):
        log_path = os.path.join(args.reports, f"run-{run:04d}.log")
        alive, code, ok, total = one_start(args.binary, args.threads, log_path, args.warm_up)
        with open(log_path) as f:
            text = f.read()
        found = FINDINGS.search(text) is not None
        if not alive or code not in (0, -signal.SIGTERM):
            crashes += 1
        unanswered += total - ok
        if found or not alive:
            findings += 1
            print(f"run {run}: alive={alive} exit={code} answered={ok}/{total} -> {log_path}", flush=True)
        else:
            os.remove(log_path)
    print(f"{args.runs} starts in {time.time() - started:.0f} s: {findings} with findings, {crashes} crashed or exited badly, "
          f"{unanswered} requests unanswered")
    return 1 if findings or crashes else 0


if __name__ == "__main__":
    sys.exit(main())
