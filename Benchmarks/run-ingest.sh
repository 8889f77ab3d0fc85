#!/usr/bin/env bash
# Producer path (issue: performance): feed messages into the real gateway (release) over HTTP
# (batches of 1,000 ticks) and through the Redis feed (arrays of 1,000 ticks and book deltas
# PUBLISHed to {prefix}feed, a real redis-server on loopback), each alone and with 500 /prices
# subscribers on the ticked symbols; messages accepted per second and per gateway CPU-second
# (the load clients share the 2 cores). Bounded: about 45 s.
set -euo pipefail
cd "$(dirname "$0")/.."
source Benchmarks/common.sh
build_bench gateway-bench gateway
bench_workspace
GATEWAY="${BENCH_GATEWAY:-$BIN/gateway}"

# Starts the gateway with the feed source $1 (and Redis URL $2, if any); sets $port and $pid.
start_gateway() {
    printf 'feed: { source: %s }\nredis: { url: "%s" }\nlimits: { maxConnectionsPerIp: 100000, maxSessionsPerIp: 100000, handshakesPerSecond: 0, handshakesPerSecondPerIp: 0 }\nlogging: { level: warning }\n' \
        "$1" "${2:-}" > "$WORK/gateway.yaml"
    port=$(free_port)
    JWT_SECRET=bench-secret-0123456789abcdef "$GATEWAY" serve --config "$WORK/gateway.yaml" --port "$port" > "$WORK/gateway.log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    wait_port "$port"
}

stop_gateway() {
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# Runs the load command "$@" with 500 subscribers connected meanwhile (every message fans out).
with_subscribers() {
    "$BIN/gateway-bench" fanout --url "http://127.0.0.1:$port" --subscribers 500 --seconds 6 --windows 1 --label "fan-out during ingest" --quiet \
        > "$WORK/fanout.txt" 2>&1 &
    local fanout=$!
    PIDS+=("$fanout")
    sleep 3
    "$@"
    wait "$fanout" 2>/dev/null || true
    cat "$WORK/fanout.txt"
}

echo "# $(date -u +%FT%TZ) $(nproc) cores, batches of 1000 messages"
start_gateway none
"$PY" Benchmarks/ingest_load.py --port "$port" --pid "$pid" --label "http ingest, no subscribers"
with_subscribers "$PY" Benchmarks/ingest_load.py --port "$port" --pid "$pid" --seconds 4 --label "http ingest, 500 subscribers"
stop_gateway

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no > "$WORK/redis.log" 2>&1 &
PIDS+=("$!")
wait_port "$redis_port"
start_gateway redis "redis://127.0.0.1:$redis_port"
redis_load() { # label seconds
    "$PY" Benchmarks/redis_ingest_load.py --port "$port" --pid "$pid" --redis-port "$redis_port" --seconds "$2" --label "$1"
}
redis_load "redis ingest, no subscribers" 5
with_subscribers redis_load "redis ingest, 500 subscribers" 4
stop_gateway
