#!/usr/bin/env bash
# Old against new, interleaved (issue: architecture pass, "no behaviour change"): the same load
# clients against two builds of the gateway in one run, alternating A B B A … so the machine's
# noise falls on both alike. Fan-out (1,000 subscribers, ConformanceServer echo path), the
# connection ramp (gateway, 5,000 clients), and HTTP ingest (gateway, 1,000-message batches).
# Usage: Benchmarks/run-compare.sh <old release bin folder>   (e.g. a worktree's .build-bench/release)
# Bounded: about 3 minutes per round; ROUNDS (2) rounds.
set -euo pipefail
cd "$(dirname "$0")/.."
OLD="${1:?old release bin folder (gateway, ConformanceServer)}"
ROUNDS="${ROUNDS:-2}"
source Benchmarks/common.sh
build_bench gateway-bench gateway ConformanceServer
bench_workspace
NEW="$BIN"

cat > "$WORK/gateway.yaml" <<YAML
feed: { source: none }
limits: { maxConnectionsPerIp: 100000, maxSessionsPerIp: 100000, handshakesPerSecond: 0, handshakesPerSecondPerIp: 0 }
logging: { level: warning }
YAML

start() { # binary dir, "gateway"|"conformance"; sets $port $pid
    port=$(free_port)
    if [ "$2" = conformance ]; then
        "$1/ConformanceServer" --ping-interval 25000 --ping-timeout 20000 --connect-timeout 45000 --slow-consumer-bytes 67108864 --port "$port" > /dev/null 2>&1 &
    else
        JWT_SECRET=bench-secret-0123456789abcdef "$1/gateway" serve --config "$WORK/gateway.yaml" --port "$port" > /dev/null 2>&1 &
    fi
    pid=$!
    PIDS+=("$pid")
    wait_port "$port"
}
stop() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }

fanout() { # label dir
    start "$2" conformance
    "$BIN/gateway-bench" fanout --url "http://127.0.0.1:$port" --ticks echo --subscribers 1000 --rates 1000,2000 --seconds 3 --label "fanout $1" || true
    stop
}
ramp() { # label dir
    start "$2" gateway
    "$BIN/gateway-bench" ramp --url "http://127.0.0.1:$port" --clients 5000 --waves 1 --server-pid "$pid" --label "ramp $1" || true
    stop
}
ingest() { # label dir
    start "$2" gateway
    "$PY" Benchmarks/ingest_load.py --port "$port" --pid "$pid" --seconds 4 --label "ingest $1" || true
    stop
}

echo "# $(date -u +%FT%TZ) $(nproc) cores; old: $OLD; new: $NEW; $ROUNDS rounds, order alternating"
for round in $(seq "$ROUNDS"); do
    if [ $((round % 2)) = 1 ]; then order="old new"; else order="new old"; fi
    for which in $order; do
        dir=$([ "$which" = old ] && echo "$OLD" || echo "$NEW")
        fanout "$which#$round" "$dir"
        ramp "$which#$round" "$dir"
        ingest "$which#$round" "$dir"
    done
done
