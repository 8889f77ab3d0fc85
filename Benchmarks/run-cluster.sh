#!/usr/bin/env bash
# Cluster benchmark (issue: cluster mode): ticks POSTed over HTTP to one instance at a steady
# rate, 1,000 /prices subscribers; one instance (no Redis, the baseline) against two instances
# on one redis-server with the subscribers split between them (half receive through the bus).
# Reports deliveries/s and feed→socket p50/p99 per run, Redis CPU and bytes per bus message,
# and the round trip of a client event whose token bucket lives in Redis against a local one.
# Then interest: ticks over 100 symbols POSTed to one instance, subscribers on the other for
# all 100 symbols against 5 of them: Redis's outgoing bytes per tick in each case.
# Bounded: about a minute and a half; loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
SUBSCRIBERS="${BENCH_SUBSCRIBERS:-1000}"
RATE="${BENCH_TICKS:-200}"
SECONDS_PER_WINDOW="${BENCH_SECONDS:-4}"
WINDOWS=2

source Benchmarks/common.sh
build_bench gateway-bench gateway

CONFIG=$(mktemp --suffix=.yaml)
REDIS_PORT=$(free_port)
PIDS=()
cleanup() { kill "${PIDS[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -f "$CONFIG"; }
trap cleanup EXIT
cat > "$CONFIG" <<YAML
feed: { source: none }
limits: { maxConnectionsPerIp: 100000, maxSessionsPerIp: 100000, handshakesPerSecond: 0, handshakesPerSecondPerIp: 0 }
rateLimits: { points: 1000000, duration: 1 }
logging: { level: warning }
YAML

redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no > /dev/null 2>&1 &
PIDS+=($!)
wait_port "$REDIS_PORT"
redis_info() { redis-cli -p "$REDIS_PORT" INFO "$1" | tr -d '\r' | awk -F: -v k="$2" '$1 == k { print $2 }'; }

RUN_PIDS=()
start_gateway() { # port, redis url or empty
    JWT_SECRET=bench-secret-0123456789abcdef REDIS_URL="$2" "$BIN/gateway" serve --config "$CONFIG" --port "$1" > /dev/null 2>&1 &
    PIDS+=($!)
    RUN_PIDS+=($!)
    wait_port "$1"
}
redis_cpu() { awk -v a="$(redis_info cpu used_cpu_user)" -v b="$(redis_info cpu used_cpu_sys)" 'BEGIN { printf "%.3f", a + b }'; }

run() { # label, redis url or empty, ports...
    local label=$1 redis=$2; shift 2
    local ports=("$@")
    for port in "${ports[@]}"; do start_gateway "$port" "$redis"; done
    sleep 1
    local cpu0 in0 out0
    cpu0=$(redis_cpu)
    in0=$(redis_info stats total_net_input_bytes); out0=$(redis_info stats total_net_output_bytes)
    "$PY" Benchmarks/post_ticks.py --port "${ports[0]}" --rate "$RATE" --seconds $((SECONDS_PER_WINDOW * WINDOWS + 6)) > /dev/null &
    local poster=$!
    local urls=()
    for port in "${ports[@]}"; do urls+=(--url "http://127.0.0.1:$port"); done
    "$BIN/gateway-bench" fanout "${urls[@]}" --subscribers "$SUBSCRIBERS" --seconds "$SECONDS_PER_WINDOW" --windows "$WINDOWS" \
        --label "$label" || true
    wait "$poster" || true
    if [ -n "$redis" ]; then
        local cpu1 in1 out1 published
        cpu1=$(redis_cpu)
        in1=$(redis_info stats total_net_input_bytes); out1=$(redis_info stats total_net_output_bytes)
        published=$(curl -s "http://127.0.0.1:${ports[0]}/metrics" | awk '/^gateway_bus_messages_total\{direction="published"\}/ { print $2 }')
        echo "$label redis: bus messages=$published cpu=$(awk -v a="$cpu1" -v b="$cpu0" 'BEGIN { printf "%.3f", a - b }')s" \
            "in=$(( (in1 - in0) / ${published%.*} ))B/msg out=$(( (out1 - out0) / ${published%.*} ))B/msg" \
            "(one bus message per symbol of a POST batch)"
    fi
    if [ -n "$redis" ]; then
        # User events: one script each (the user's stream, its cap, the publish).
        local ucpu0 ucpu1
        ucpu0=$(redis_cpu)
        "$PY" Benchmarks/post_user_events.py --port "${ports[0]}" --count 2000
        ucpu1=$(redis_cpu)
        echo "$label redis: user events: cpu=$(awk -v a="$ucpu1" -v b="$ucpu0" 'BEGIN { printf "%.3f ms/event", (a - b) * 1000 / 2000 }')"
    fi
    # Token bucket cost: a user's events take from Redis (cluster) or from this process.
    "$PY" Benchmarks/ping_rtt.py --port "${ports[0]}" --label "$label" || true
    kill "${RUN_PIDS[@]}" 2>/dev/null || true
    wait "${RUN_PIDS[@]}" 2>/dev/null || true
    RUN_PIDS=()
}

echo "# $(date -u +%FT%TZ) $(nproc) cores, $SUBSCRIBERS subscribers, $RATE ticks/s over HTTP, ${SECONDS_PER_WINDOW}s windows"
run one-instance "" "$(free_port)"
run two-instances "redis://127.0.0.1:$REDIS_PORT" "$(free_port)" "$(free_port)"

# Interest per symbol: the second instance follows only the symbols it has subscribers for.
SYMBOLS=$(seq -f "S%03g/USDT" 0 99 | paste -sd, -)
INTEREST_CONFIG=$(mktemp --suffix=.yaml)
cat > "$INTEREST_CONFIG" <<YAML
feed: { source: none, symbols: [$SYMBOLS] }
limits: { maxConnectionsPerIp: 100000, maxSessionsPerIp: 100000, handshakesPerSecond: 0, handshakesPerSecondPerIp: 0 }
logging: { level: warning }
YAML
interest_run() { # label, symbols the subscribers watch
    local first second
    first=$(free_port); second=$(free_port)
    for port in "$first" "$second"; do
        JWT_SECRET=bench-secret-0123456789abcdef REDIS_URL="redis://127.0.0.1:$REDIS_PORT" "$BIN/gateway" serve --config "$INTEREST_CONFIG" --port "$port" > /dev/null 2>&1 &
        PIDS+=($!); RUN_PIDS+=($!)
        wait_port "$port"
    done
    "$BIN/gateway-bench" fanout --url "http://127.0.0.1:$second" --subscribers 200 --symbols "$2" --seconds 6 --windows 1 --label "$1" \
        > /dev/null 2>&1 &
    local bench=$!
    sleep 2
    local out0 in0 out1 in1
    out0=$(redis_info stats total_net_output_bytes); in0=$(redis_info stats total_net_input_bytes)
    "$PY" Benchmarks/post_ticks.py --port "$first" --rate 1000 --seconds 4 --symbols "$SYMBOLS" > /dev/null
    out1=$(redis_info stats total_net_output_bytes); in1=$(redis_info stats total_net_input_bytes)
    echo "$1: Redis out $(( (out1 - out0) / 4000 )) B/tick, in $(( (in1 - in0) / 4000 )) B/tick (4,000 ticks over 100 symbols)"
    wait "$bench" || true
    kill "${RUN_PIDS[@]}" 2>/dev/null || true
    wait "${RUN_PIDS[@]}" 2>/dev/null || true
    RUN_PIDS=()
}
interest_run "interest, subscribers on all 100 symbols" "$SYMBOLS"
interest_run "interest, subscribers on 5 of 100 symbols" "S000/USDT,S001/USDT,S002/USDT,S003/USDT,S004/USDT"
rm -f "$INTEREST_CONFIG"
