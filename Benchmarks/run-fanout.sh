#!/usr/bin/env bash
# Fan-out design gate: 1,000 WebSocket subscribers on one room, ~150-byte events at rising
# rates, against (1) the gateway's fan-out path and (2) Hummingbird's stock WebSocket write path,
# in the same run on 127.0.0.1. Bounded: about 5 steps × 3 s per server.
set -euo pipefail
cd "$(dirname "$0")/.."
SUBSCRIBERS="${BENCH_SUBSCRIBERS:-1000}"
RATES="${BENCH_RATES:-250,500,1000,1500,2000}"
SECONDS_PER_STEP="${BENCH_SECONDS:-3}"

source Benchmarks/common.sh
build_bench gateway-bench StockWebSocketServer ConformanceServer


run() { # label, gateway-bench --ticks source, server command...
    local label=$1 ticks=$2; shift 2
    local port; port=$(free_port)
    "$@" --port "$port" > /dev/null 2>&1 &
    local pid=$!
    wait_port "$port"
    "$BIN/gateway-bench" fanout --url "http://127.0.0.1:$port" --ticks "$ticks" --subscribers "$SUBSCRIBERS" --rates "$RATES" \
        --seconds "$SECONDS_PER_STEP" --label "$label" || true
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

echo "# $(date -u +%FT%TZ) $(nproc) cores, $SUBSCRIBERS subscribers, ${SECONDS_PER_STEP}s per rate"
run gateway echo "$BIN/ConformanceServer" --ping-interval 25000 --ping-timeout 20000 --connect-timeout 45000 \
    --slow-consumer-bytes 67108864
run stock-hummingbird-ws raw "$BIN/StockWebSocketServer"
