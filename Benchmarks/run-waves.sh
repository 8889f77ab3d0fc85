#!/usr/bin/env bash
# Connection waves (issue: closed sockets left alive): 10,000 clients connect to /prices
# (≤ 1,000 in flight), subscribe with an ack, then exit as a process does (FIN, no close frame);
# a second wave follows at once. Per wave: connections/s, connect→ack p50/p99, the gateway's RSS
# and descriptors after the wave and after it left. A gateway that keeps departed clients shows
# it as descriptors that stay and a slower, heavier second wave. Bounded: two waves, a minute.
set -euo pipefail
cd "$(dirname "$0")/.."
CLIENTS="${BENCH_CLIENTS:-10000}"
WAVES="${BENCH_WAVES:-2}"
GATEWAY="${BENCH_GATEWAY:-}"   # another gateway binary to measure in the same run (e.g. an older build)

source Benchmarks/common.sh
build_bench gateway-bench gateway

CONFIG=$(mktemp --suffix=.yaml)
trap 'rm -f "$CONFIG"' EXIT
cat > "$CONFIG" <<YAML
feed: { source: none }
limits: { maxConnectionsPerIp: 100000, maxSessionsPerIp: 100000, handshakesPerSecond: 0, handshakesPerSecondPerIp: 0 }
logging: { level: warning }
YAML

waves() { # label, gateway binary
    local port; port=$(free_port)
    JWT_SECRET=bench-secret-0123456789abcdef "$2" serve --config "$CONFIG" --port "$port" > /dev/null 2>&1 &
    local pid=$!
    wait_port "$port"
    "$BIN/gateway-bench" ramp --url "http://127.0.0.1:$port" --clients "$CLIENTS" --waves "$WAVES" --server-pid "$pid" --label "$1" || true
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

echo "# $(date -u +%FT%TZ) $(nproc) cores, $WAVES waves of $CLIENTS clients"
waves gateway "$BIN/gateway"
if [ -n "$GATEWAY" ]; then waves other "$GATEWAY"; fi
