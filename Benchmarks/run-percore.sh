#!/usr/bin/env bash
# Performance per core (issue 25): the gateway against the C ceiling server, both driven by a
# load client we did not build the gateway with: the C fan-out client
# (Benchmarks/ceiling/fanout_client.c: WebSocket handshake, /prices join, subscribe with an ack;
# ticks POSTed to /api/v1/market by 4 keep-alive connections in batches of 10, up to 16
# pipelined per connection; latency from each tick's send time to its receipt). Same run, same
# 2 cores, servers interleaved ROUNDS times (BENCH_ROUNDS, default 2). Loopback only; bounded:
# about 6 minutes per round.
#   1. default settings, 1,000 subscribers over 5 symbols: 1, 2.5 and 5 M deliveries/s offered;
#   2. one event loop (`server.eventLoopThreads: 1`; the ceiling server is one thread anyway):
#      2, 3 and 4 M deliveries/s;
#   3. a producer on one keep-alive connection, 16 pipelined POSTs of 1 tick at 2,000 ticks/s,
#      during 1 M deliveries/s of fan-out: its POST round trip, on the main port and (gateway
#      only) on the internal port (`server.internalPort`, an event loop of its own);
#   4. 10,000 clients × 5 of 100 symbols, 10,000 ticks/s offered (5 M deliveries/s);
#   5. connect + join + subscribe of 10,000 clients (C ramp client), and RSS per connection.
# BENCH_ONLY=probe runs only scenario 3.
# OLD_GATEWAY=path/to/gateway adds that build as a third server, interleaved with the others:
# the before/after of a change, measured in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
source Benchmarks/common.sh
build_bench gateway
build_ceiling
bench_workspace
ROUNDS="${BENCH_ROUNDS:-2}"
SECRET=bench-secret-0123456789abcdef
TOKEN=$(JWT_SECRET=$SECRET "$BIN/gateway" token --sub bench --role service --ttl 1h)
SYMBOLS5="BTC/USDT,ETH/USDT,SOL/USDT,XRP/USDT,DOGE/USDT"
SYMBOLS100=$(seq -f "S%04g/USDT" 0 99 | paste -sd, -)
SERVERS=(gateway ceiling)
[ -n "${OLD_GATEWAY:-}" ] && SERVERS=(gateway-old gateway ceiling)

config() { # symbols, event loop threads (0: one per core), internal port (none: a build without it)
    local internal=""
    if [ "$3" != none ]; then internal=", internalPort: $3"; fi
    printf 'server: { eventLoopThreads: %s%s }\nfeed: { source: none, symbols: [%s], throttleMs: { prices: 0 } }\nlimits: { maxConnectionsPerIp: 100000, maxSessionsPerIp: 100000, handshakesPerSecond: 0, handshakesPerSecondPerIp: 0, maxSymbolsPerConnection: 100 }\nlogging: { level: warning }\n' "$2" "$internal" "$1" > "$WORK/gateway.yaml"
}

start() { # server, symbols, threads → sets $port $pid (and $internal: the gateway's internal port)
    port=$(free_port)
    internal=$(free_port)
    case "$1" in
        gateway|gateway-old)
            local binary="$BIN/gateway"
            [ "$1" = gateway-old ] && binary="$OLD_GATEWAY"
            config "$2" "$3" "$([ "$1" = gateway-old ] && echo none || echo "$internal")"
            JWT_SECRET=$SECRET "$binary" serve --config "$WORK/gateway.yaml" --port "$port" > /dev/null 2>&1 & ;;
        ceiling) "$BIN/ceiling-server" "$port" > /dev/null 2>&1 & ;;
    esac
    pid=$!; PIDS+=("$pid")
    wait_port "$port" || { echo "$1 did not start (config: $WORK/gateway.yaml)" >&2; cat "$WORK/gateway.yaml" >&2; exit 1; }
}

stop() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }

# One fan-out measurement: server, scenario name, symbols, event loop threads, fanout-client
# options (`--ingest-port internal`: the producers post to the gateway's internal port).
fanout() {
    local server=$1 name=$2 symbols=$3 threads=$4; shift 4
    start "$server" "$symbols" "$threads"
    local options=("${@//internal/$internal}")
    "$BIN/fanout-client" --port "$port" --token "$TOKEN" --symbols "$symbols" --server-pid "$pid" \
        --label "$server $name" "${options[@]}" >> "$WORK/results.jsonl" 2> "$WORK/client.err" \
        || echo "$server $name: the client failed: $(tail -1 "$WORK/client.err")" >&2
    stop
}

# A producer's POST round trip during 1 M deliveries/s: the fan-out (1,000 subscribers, 5,000
# ticks/s POSTed) from one client process, and the probe (one keep-alive connection, 16
# pipelined POSTs of 1 tick at 2,000 ticks/s, to a symbol nobody watches) from a second one, so
# that its round trips are not delayed by a client busy reading a million frames a second.
probe() { # server, name, [--ingest-port internal]
    local server=$1 name=$2; shift 2
    start "$server" "$SYMBOLS5,PROBE/USDT" 0
    local options=("${@//internal/$internal}")
    "$BIN/fanout-client" --port "$port" --token "$TOKEN" --symbols "$SYMBOLS5" --server-pid "$pid" --subscribers 1000 \
        --rate 5000 --seconds 6 "${options[@]}" --label "$server $name-load" >> "$WORK/results.jsonl" 2> "$WORK/client.err" &
    local load=$!
    sleep 3  # subscribed and warmed up: the probe runs inside the measured window
    "$BIN/fanout-client" --port "$port" --token "$TOKEN" --symbols PROBE/USDT --subscribers 0 --rate 0 --probe-rate 2000 \
        --seconds 3 --warmup 0.5 "${options[@]}" --label "$server $name" >> "$WORK/results.jsonl" 2> "$WORK/probe.err" \
        || echo "$server $name: the probe failed: $(tail -1 "$WORK/probe.err")" >&2
    wait "$load" || echo "$server $name: the load failed: $(tail -1 "$WORK/client.err")" >&2
    stop
}

ramp() { # server
    start "$1" "$SYMBOLS5" 0
    local before after
    before=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
    rm -f "$WORK/ramp.json"  # the last ramp's answer would end the wait below at once
    "$BIN/ramp-client" "$port" 10000 1000 3 > "$WORK/ramp.json" 2> /dev/null &
    local client=$!
    # The crowd is held for 3 s after the last ack: RSS is read while all are connected.
    while kill -0 "$client" 2>/dev/null && ! [ -s "$WORK/ramp.json" ]; do sleep 0.2; done
    after=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
    wait "$client" || true
    "$PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); r.update(label=sys.argv[2]+" ramp", rss_kb_per_conn=(int(sys.argv[4])-int(sys.argv[3]))/10000); print(json.dumps(r))' \
        "$WORK/ramp.json" "$1" "$before" "$after" >> "$WORK/results.jsonl" || true
    stop
}

echo "# $(date -u +%FT%TZ) $(nproc) cores; ${SERVERS[*]} with the C fan-out client, interleaved $ROUNDS times"
for round in $(seq "$ROUNDS"); do
    for server in "${SERVERS[@]}"; do
        if [ "${BENCH_ONLY:-}" != probe ]; then
            for step in 5000:1M 12500:2.5M 25000:5M; do
                fanout "$server" "default ${step#*:}/s" "$SYMBOLS5" 0 --subscribers 1000 --rate "${step%:*}" --seconds 3
            done
            for step in 10000:2M 15000:3M 20000:4M; do
                fanout "$server" "one-loop ${step#*:}/s" "$SYMBOLS5" 1 --subscribers 1000 --rate "${step%:*}" --seconds 3
            done
        fi
        if [ -z "${BENCH_ONLY:-}" ] || [ "$BENCH_ONLY" = probe ]; then
            probe "$server" "producer-probe"
            # The gateway's internal port (server.internalPort): producers on an event loop of their own.
            if [ "$server" = gateway ]; then probe "$server" "producer-probe-internal" --ingest-port internal; fi
        fi
        [ "${BENCH_ONLY:-}" = probe ] && continue
        fanout "$server" "100-symbols" "$SYMBOLS100" 0 --subscribers 10000 --per-client 5 --rate 10000 --seconds 4
        ramp "$server"
    done
done
"$PY" Benchmarks/percore_report.py "$WORK/results.jsonl"
# BENCH_RESULTS=path keeps the raw lines (one JSON object per measurement).
if [ -n "${BENCH_RESULTS:-}" ]; then cp "$WORK/results.jsonl" "$BENCH_RESULTS"; fi
