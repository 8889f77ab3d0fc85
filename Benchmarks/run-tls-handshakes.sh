#!/usr/bin/env bash
# What a TLS handshake costs the gateway (issue 25): an RSA-2048 against an ECDSA P-256
# certificate, full handshakes against TLS 1.3 resumption, measured by the C TLS ramp client
# (Benchmarks/ceiling/tls_ramp_client.c) in one run, interleaved ROUNDS times (BENCH_ROUNDS,
# default 2). Each measurement is a reconnect wave: 10,000 clients (BENCH_CLIENTS) connect,
# join /prices and subscribe with an ack (≤ 1,000 in flight), close, and reconnect; the second
# wave is measured, offering the first wave's sessions (resumed) or not (full). Server CPU per
# connection comes from /proc; RSS per connection is the growth over the first wave. Plain
# WebSockets (the C ramp client, same two-wave shape) are the baseline. Loopback only; bounded:
# each wave stops after 60 s.
set -euo pipefail
cd "$(dirname "$0")/.."
CLIENTS="${BENCH_CLIENTS:-10000}"
ROUNDS="${BENCH_ROUNDS:-2}"
source Benchmarks/common.sh
build_bench gateway
build_ceiling
bench_workspace
bench_certificates
cat > "$WORK/gateway.yaml" <<YAML
feed: { source: none }
limits: { maxConnectionsPerIp: 100000, maxSessionsPerIp: 100000, handshakesPerSecond: 0, handshakesPerSecondPerIp: 0 }
logging: { level: warning }
YAML

start() { # certificate name (rsa, ec) or plain → $port $pid
    port=$(free_port)
    local env=(JWT_SECRET=bench-secret-0123456789abcdef)
    [ "$1" != plain ] && env+=(TLS_CERT_FILE="$WORK/$1.pem" TLS_KEY_FILE="$WORK/$1.key")
    env "${env[@]}" "$BIN/gateway" serve --config "$WORK/gateway.yaml" --port "$port" > /dev/null 2>&1 &
    pid=$!; PIDS+=("$pid")
    wait_port "$port"
}
stop() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }

echo "# $(date -u +%FT%TZ) $(nproc) cores; TLS reconnect waves of $CLIENTS clients, interleaved $ROUNDS times"
printf "| certificate | second wave | connections/s | p99 ms | server µs per connection | resumed | RSS per connection |\n| --- | --- | --- | --- | --- | --- | --- |\n"
for round in $(seq "$ROUNDS"); do
    for cert in rsa ec; do
        for mode in full resume; do
            start "$cert"
            flags=(--server-pid "$pid")
            [ "$mode" = resume ] && flags+=(--resume)
            "$BIN/tls-ramp-client" "${flags[@]}" "$port" "$CLIENTS" 1000 2> /dev/null \
                | "$PY" Benchmarks/tls_handshake_row.py tls "$([ "$cert" = rsa ] && echo RSA-2048 || echo 'ECDSA P-256')" "$mode" \
                || echo "| $cert | $mode | failed | | | | |"
            stop
        done
    done
    # Plain WebSockets: RSS growth per connection over one wave of the C ramp client.
    start plain
    before=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
    rm -f "$WORK/plain.json"  # the last round's answer would end the wait below at once
    "$BIN/ramp-client" "$port" "$CLIENTS" 1000 3 > "$WORK/plain.json" 2> /dev/null &
    client=$!
    while kill -0 "$client" 2>/dev/null && ! [ -s "$WORK/plain.json" ]; do sleep 0.2; done
    after=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
    wait "$client" || true
    "$PY" Benchmarks/tls_handshake_row.py plain "$WORK/plain.json" "$before" "$after" "$CLIENTS"
    stop
done
