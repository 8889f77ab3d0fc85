#!/usr/bin/env bash
# Feed benchmark (issue: market feed): the real gateway in release mode with its simulator at
# 1,000 ticks/s, 1,000 /prices subscribers spread over 5 symbols; feed→socket latency p50/p99
# and deliveries/s. Baseline in the same run: the bare fan-out path (the echo app's broadcast)
# carrying the same deliveries per second to the same number of sockets. Then the book path's
# cost per core against validating the same messages. Bounded: about a minute.
set -euo pipefail
cd "$(dirname "$0")/.."
SUBSCRIBERS="${BENCH_SUBSCRIBERS:-1000}"
TICKS="${BENCH_TICKS:-1000}"
SECONDS_PER_WINDOW="${BENCH_SECONDS:-5}"

source Benchmarks/common.sh
build_bench gateway-bench gateway ConformanceServer

bench_workspace
CONFIG="$WORK/gateway.yaml"
cat > "$CONFIG" <<YAML
feed:
  source: simulator
  simulator: { ticksPerSecond: $TICKS, seed: 1 }
limits: { maxConnectionsPerIp: 100000, maxSessionsPerIp: 100000, handshakesPerSecond: 0, handshakesPerSecondPerIp: 0 }
logging: { level: warning }
YAML

echo "# $(date -u +%FT%TZ) $(nproc) cores, $SUBSCRIBERS subscribers, ${TICKS} ticks/s, ${SECONDS_PER_WINDOW}s windows"
port=$(free_port)
JWT_SECRET=bench-secret-0123456789abcdef "$BIN/gateway" serve --config "$CONFIG" --port "$port" > /dev/null 2>&1 &
pid=$!
wait_port "$port"
"$BIN/gateway-bench" fanout --url "http://127.0.0.1:$port" --subscribers "$SUBSCRIBERS" --seconds "$SECONDS_PER_WINDOW" \
    --label feed --json-file "$WORK/feed.json" || true
# What the gateway says about the run: messages generated, written, and skipped for lagging sockets.
curl -s "http://127.0.0.1:$port/metrics" | grep -E '^gateway_(feed_messages_total\{source="simulator",type="(tick|trade)"|messages_sent_total\{namespace="/prices"|conflated_total\{namespace="/prices"|slow_consumer)' || true
kill "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true

# The same deliveries per socket per second through the bare fan-out path.
per_socket=$("$PY" -c 'import json, sys; r = json.load(open(sys.argv[1])); print(int(r["deliveries_per_s"] / max(1, r["connected"])))' \
    "$WORK/feed.json" 2>/dev/null || echo 0)
if [ "$per_socket" -gt 0 ]; then
    port=$(free_port)
    "$BIN/ConformanceServer" --ping-interval 25000 --ping-timeout 20000 --connect-timeout 45000 --slow-consumer-bytes 67108864 \
        --port "$port" > /dev/null 2>&1 &
    pid=$!
    wait_port "$port"
    "$BIN/gateway-bench" fanout --url "http://127.0.0.1:$port" --ticks echo --subscribers "$SUBSCRIBERS" \
        --rates "$per_socket,$per_socket,$per_socket" --seconds "$SECONDS_PER_WINDOW" --label fanout-baseline || true
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
fi

"$BIN/gateway-bench" book
