#!/usr/bin/env bash
# TLS cost (issue: production edges): the same gateway build with and without TLS on its port,
# measured with the same load client in one run, plain and TLS interleaved twice:
#  - connection ramp: one wave of clients joining /prices and subscribing with an ack
#    (≤ 1,000 in flight), connections/s and connect→ack p50/p99, RSS after the wave;
#  - fan-out: 1,000 /prices subscribers, ticks POSTed at 200/s (over https for the TLS gateway),
#    deliveries/s and feed→socket p50/p99.
# Certificates come from openssl in a temporary folder. Bounded: about two minutes; loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
CLIENTS="${BENCH_CLIENTS:-5000}"
SUBSCRIBERS="${BENCH_SUBSCRIBERS:-1000}"

source Benchmarks/common.sh
build_bench gateway-bench gateway

bench_workspace
bench_certificates
cat > "$WORK/gateway.yaml" <<YAML
feed: { source: none }
limits: { maxConnectionsPerIp: 100000, maxSessionsPerIp: 100000, handshakesPerSecond: 0, handshakesPerSecondPerIp: 0 }
logging: { level: warning }
YAML

start() { # port, tls (yes/no)
    local env=(JWT_SECRET=bench-secret-0123456789abcdef)
    [ "$2" = yes ] && env+=(TLS_CERT_FILE="$WORK/rsa.pem" TLS_KEY_FILE="$WORK/rsa.key")
    env "${env[@]}" "$BIN/gateway" serve --config "$WORK/gateway.yaml" --port "$1" > /dev/null 2>&1 &
    LAST=$!
    PIDS+=("$LAST")
    wait_port "$1"
}

run() { # label, tls (yes/no)
    local port scheme=http tls_args=()
    [ "$2" = yes ] && scheme=https && tls_args=(--ca-file "$WORK/ca.pem")
    port=$(free_port); start "$port" "$2"
    "$BIN/gateway-bench" ramp --url "$scheme://127.0.0.1:$port" --clients "$CLIENTS" --server-pid "$LAST" --label "$1 ramp" "${tls_args[@]}" || true
    kill "$LAST"; wait "$LAST" 2>/dev/null || true
    port=$(free_port); start "$port" "$2"
    "$PY" Benchmarks/post_ticks.py --port "$port" --rate 200 --seconds 14 "${tls_args[@]}" > /dev/null &
    local poster=$!
    "$BIN/gateway-bench" fanout --url "$scheme://127.0.0.1:$port" --subscribers "$SUBSCRIBERS" --seconds 4 --windows 2 --label "$1 fan-out" \
        "${tls_args[@]}" || true
    wait "$poster" || true
    kill "$LAST"; wait "$LAST" 2>/dev/null || true
}

echo "# $(date -u +%FT%TZ) $(nproc) cores, ramp of $CLIENTS clients, fan-out to $SUBSCRIBERS subscribers at 200 ticks/s"
for round in 1 2; do
    run "plain#$round" no
    run "tls#$round" yes
done
