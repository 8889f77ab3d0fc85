#!/usr/bin/env bash
# Market data a trader can act on (issue 23), in one run on 127.0.0.1, interleaved so that the
# machine's noise hits both sides alike:
#  1. depth choice: 1,000 /market subscribers of one 1,000-level book that changes --rate times a
#     second anywhere in its depth, at depth 10 against the whole book: bytes and deliveries
#     per second, feed → socket latency;
#  2. heartbeats: 10,000 /prices subscribers × 5 symbols with ticks flowing, heartbeatMs 1000 on
#     against off: fan-out p99 (goal: within noise; heartbeats go out only for quiet symbols).
# Bounded: about 3 minutes; loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
source Benchmarks/common.sh
build_bench gateway-bench gateway
bench_workspace
ROUNDS="${BENCH_ROUNDS:-2}"
DEPTH_RATE="${BENCH_DEPTH_RATE:-500}"
TICK_RATE="${BENCH_TICK_RATE:-1000}"
SYMBOLS="BTC/USDT,ETH/USDT,SOL/USDT,XRP/USDT,DOGE/USDT"
TOKEN=$(JWT_SECRET=bench-secret-0123456789abcdef "$BIN/gateway" token --sub bench --role service --ttl 1h)

start_gateway() { # config text → sets PORT and GW
    printf '%s\n' "$1" > "$WORK/gateway.yaml"
    PORT=$(free_port)
    JWT_SECRET=bench-secret-0123456789abcdef "$BIN/gateway" serve --config "$WORK/gateway.yaml" --port "$PORT" > "$WORK/gateway.log" 2>&1 &
    GW=$!; PIDS+=("$GW")
    wait_port "$PORT"
}

stop_gateway() { kill "$GW" 2>/dev/null || true; wait "$GW" 2>/dev/null || true; }

LIMITS='limits: { maxConnectionsPerIp: 100000, maxSessionsPerIp: 100000, handshakesPerSecond: 0, handshakesPerSecondPerIp: 0, slowConsumerBytes: 67108864 }'

depth_run() { # label, extra subscribe fields
    start_gateway "feed: { source: none, symbols: [BOOK/USDT], maxBookLevels: 1000 }
$LIMITS
logging: { level: warning }"
    "$PY" Benchmarks/post_depth.py --port "$PORT" --rate "$DEPTH_RATE" --seconds 40 > /dev/null &
    local poster=$!
    sleep 1
    "$BIN/gateway-bench" fanout --url "http://127.0.0.1:$PORT" --ticks server --namespace /market \
        --payload "{\"channels\":[\"depth\"],\"symbols\":[\"BOOK/USDT\"],\"cadence\":\"raw\"$2}" \
        --subscribers 1000 --windows 3 --seconds 3 --label "$1" --json-file "$WORK/$1.json" --quiet > /dev/null || true
    kill "$poster" 2>/dev/null || true; wait "$poster" 2>/dev/null || true
    stop_gateway
}

heartbeat_run() { # label, extra subscribe fields
    start_gateway "feed: { source: none, symbols: [$SYMBOLS], throttleMs: { prices: 0 } }
$LIMITS
logging: { level: warning }"
    "$BIN/gateway-bench" symbols --url "http://127.0.0.1:$PORT" --ticks post --token "$TOKEN" \
        --symbols "$SYMBOLS" --per-client 5 --subscribers 10000 --rates "$TICK_RATE,$TICK_RATE" --seconds 4 \
        --payload "{\"symbols\":\$SYMBOLS$2}" --label "$1" --json-file "$WORK/$1.json" --quiet > /dev/null || true
    stop_gateway
}

echo "# $(date -u +%FT%TZ) $(nproc) cores; $ROUNDS rounds, interleaved"
for round in $(seq "$ROUNDS"); do
    depth_run "full-$round" ""
    depth_run "depth10-$round" ',"depth":10'
    heartbeat_run "hb-off-$round" ""
    heartbeat_run "hb-on-$round" ',"heartbeatMs":1000'
done

"$PY" - "$WORK" "$ROUNDS" <<'PYEOF'
import json, statistics, sys
work, rounds = sys.argv[1], int(sys.argv[2])
def load(label):
    try:
        return json.load(open(f"{work}/{label}.json"))
    except (OSError, ValueError):
        return None
def median(prefix, key):
    values = [r[key] if not callable(key) else key(r) for r in (load(f"{prefix}-{i}") for i in range(1, rounds + 1)) if r]
    return statistics.median(values) if values else float("nan")
p99 = lambda r: r["latency_ms"]["p99"]
print("depth choice: 1,000 subscribers of a 1,000-level book, raw cadence")
print(f"{'':10}{'deliveries/s':>14}{'KB/s':>12}{'bytes/delivery':>16}{'p99 ms':>9}")
for prefix in ("full", "depth10"):
    d, b = median(prefix, "deliveries_per_s"), median(prefix, "bytes_per_s")
    print(f"{prefix:10}{d:>14,.0f}{b / 1000:>12,.0f}{b / max(d, 1):>16,.0f}{median(prefix, p99):>9}")
print(f"depth 10 / full: bytes {median('depth10', 'bytes_per_s') / median('full', 'bytes_per_s'):.3f}, "
      f"deliveries {median('depth10', 'deliveries_per_s') / median('full', 'deliveries_per_s'):.3f}")
print("heartbeats: 10,000 /prices subscribers x 5 symbols, ticks flowing")
for prefix in ("hb-off", "hb-on"):
    print(f"{prefix:10}{median(prefix, 'deliveries_per_s'):>14,.0f} deliveries/s  p50 {median(prefix, lambda r: r['latency_ms']['p50'])} ms  p99 {median(prefix, p99)} ms")
print(f"heartbeats on / off: p99 {median('hb-on', p99) / max(median('hb-off', p99), 0.001):.2f}, "
      f"deliveries {median('hb-on', 'deliveries_per_s') / max(median('hb-off', 'deliveries_per_s'), 1):.3f}")
PYEOF
