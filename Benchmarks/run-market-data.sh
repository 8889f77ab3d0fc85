#!/usr/bin/env bash
# Market data a trader can act on (issue 23), in one run on 127.0.0.1, interleaved so that the
# machine's noise hits both sides alike:
#  1. depth choice: 1,000 /market subscribers of one 1,000-level book changing 500 times a
#     second (the changed level's depth exponential, mean 100 levels), at depth 10 against the
#     whole book: bytes and deliveries per second, feed → socket latency;
#  2. heartbeats: 10,000 /prices subscribers × 5 symbols, heartbeatMs 1000 on against off, with
#     ticks flowing (100/s: 1 M deliveries/s, below saturation) and with a quiet market (2/s,
#     where the heartbeats do go out): fan-out p99 (goal: within noise).
# Bounded: about 3 minutes; loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
source Benchmarks/common.sh
build_bench gateway-bench gateway
bench_workspace
ROUNDS="${BENCH_ROUNDS:-2}"
DEPTH_RATE="${BENCH_DEPTH_RATE:-500}"
TICK_RATE="${BENCH_TICK_RATE:-100}"
QUIET_RATE="${BENCH_QUIET_RATE:-2}"
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
        --symbols "$SYMBOLS" --per-client 5 --subscribers 10000 --rates "$TICK_RATE,$TICK_RATE,$QUIET_RATE" --seconds 5 \
        --payload "{\"symbols\":\$SYMBOLS$2}" --label "$1" --json-file "$WORK/$1.json" --quiet > /dev/null || true
    stop_gateway
}

echo "# $(date -u +%FT%TZ) $(nproc) cores; $ROUNDS rounds, interleaved"
ONLY="${BENCH_ONLY:-}"   # depth or heartbeats: that half alone
for round in $(seq "$ROUNDS"); do
    # The order alternates by round, so neither side always runs on a warmer machine.
    if [ "$ONLY" != heartbeats ]; then
        if (( round % 2 )); then depth_run "full-$round" ""; depth_run "depth10-$round" ',"depth":10'
        else depth_run "depth10-$round" ',"depth":10'; depth_run "full-$round" ""; fi
    fi
    if [ "$ONLY" != depth ]; then
        if (( round % 2 )); then heartbeat_run "hb-off-$round" ""; heartbeat_run "hb-on-$round" ',"heartbeatMs":1000'
        else heartbeat_run "hb-on-$round" ',"heartbeatMs":1000'; heartbeat_run "hb-off-$round" ""; fi
    fi
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
print("heartbeats: 10,000 /prices subscribers x 5 symbols; each round's p99 in brackets")
for step, name in ((0, "ticks flowing, first 5 s"), (1, "ticks flowing, next 5 s"), (2, "quiet market")):
    rows = {}
    for prefix in ("hb-off", "hb-on"):
        runs = [r["steps"][step] for r in (load(f"{prefix}-{i}") for i in range(1, rounds + 1)) if r and len(r["steps"]) > step]
        rows[prefix] = (statistics.median(s["deliveries_per_s"] for s in runs) if runs else float("nan"),
                        statistics.median(s["latency_ms"]["p99"] or 0 for s in runs) if runs else float("nan"),
                        [s["latency_ms"]["p99"] for s in runs], [s["latency_ms"]["p50"] for s in runs])
        d, p, each, p50 = rows[prefix]
        print(f"  {name:26}{prefix:8}{d:>12,.0f} deliveries/s  p50 {p50} ms  p99 {p:.1f} ms {each}")
    print(f"  {name}: heartbeats on / off p99 {rows['hb-on'][1] / max(rows['hb-off'][1], 0.001):.2f}")
PYEOF
