#!/usr/bin/env bash
# Many symbols (issue: performance): 10,000 /prices clients each watching 5 of 100 symbols with
# 10,000 ticks/s offered over HTTP, then 1,000 symbols × 20,000 ticks/s offered with 10,000
# clients watching 5 each. Reports what the ingest accepted (the rest is refused 429 and counted),
# deliveries/s and feed→socket p50/p99. Bounded: about a minute; loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
source Benchmarks/common.sh
build_bench gateway-bench gateway
bench_workspace

run() { # label, symbol count, ticks/s, clients
    local symbols port pid
    symbols=$(seq -f "S%04g/USDT" 0 $(( $2 - 1 )) | paste -sd, -)
    printf 'feed: { source: none, symbols: [%s], throttleMs: { prices: 0 } }\nlimits: { maxConnectionsPerIp: 100000, maxSessionsPerIp: 100000, handshakesPerSecond: 0, handshakesPerSecondPerIp: 0, maxSymbolsPerConnection: 100 }\nlogging: { level: warning }\n' "$symbols" > "$WORK/gateway.yaml"
    port=$(free_port)
    JWT_SECRET=bench-secret-0123456789abcdef "$BIN/gateway" serve --config "$WORK/gateway.yaml" --port "$port" > /dev/null 2>&1 &
    pid=$!; PIDS+=("$pid")
    wait_port "$port"
    # Ticks flow the whole time (the clients connect under load); the poster stops when the
    # measurement does.
    "$PY" Benchmarks/post_ticks.py --port "$port" --rate "$3" --seconds 90 --symbols "$symbols" > /dev/null &
    local poster=$!
    "$BIN/gateway-bench" symbols --url "http://127.0.0.1:$port" --subscribers "$4" --symbols "$symbols" --per-client 5 \
        --seconds 4 --windows 2 --label "$1" || true
    # What the ingest accepted and refused (429, the feed loop being behind) over the run.
    curl -s "http://127.0.0.1:$port/metrics" | awk -v label="$1" '
        /^gateway_feed_messages_total\{source="http",type="tick"\}/ { accepted = $2 }
        /^gateway_feed_rejected_total\{.*source="http".*reason="overloaded"/ { refused = $2 }
        END { printf "%s: ticks accepted %d, refused %d (%.0f%% accepted)\n", label, accepted, refused, 100 * accepted / (accepted + refused + 0.0001) }'
    kill "$poster" 2>/dev/null || true; wait "$poster" 2>/dev/null || true
    kill "$pid"; wait "$pid" 2>/dev/null || true
}

echo "# $(date -u +%FT%TZ) $(nproc) cores"
run "100 symbols, 10k ticks/s, 10k clients x 5" 100 10000 10000
run "1000 symbols, 20k ticks/s, 10k clients x 5" 1000 20000 10000
