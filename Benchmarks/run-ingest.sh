#!/usr/bin/env bash
# Producer path (issue: performance): HTTP ingest of tick batches into the real gateway (release),
# with and without subscribers on the ticked symbols; messages accepted per second and per
# gateway CPU-second (the load client shares the 2 cores). Bounded: about 20 s.
set -euo pipefail
cd "$(dirname "$0")/.."
source Benchmarks/common.sh
build_bench gateway-bench gateway
CONFIG=$(mktemp --suffix=.yaml)
trap 'rm -f "$CONFIG"; kill $(jobs -p) 2>/dev/null || true' EXIT
printf 'feed: { source: none }\nlimits: { maxConnectionsPerIp: 100000 }\nlogging: { level: warning }\n' > "$CONFIG"

port=$(free_port)
JWT_SECRET=bench-secret-0123456789abcdef "$BIN/gateway" serve --config "$CONFIG" --port "$port" > /dev/null 2>&1 &
pid=$!
wait_port "$port"
echo "# $(date -u +%FT%TZ) $(nproc) cores, batches of 1000 ticks over HTTP"
"$PY" Benchmarks/ingest_load.py --port "$port" --pid "$pid" --label "ingest, no subscribers"
# The same with 500 subscribers on the ticked symbols (every tick fans out).
"$BIN/gateway-bench" fanout --url "http://127.0.0.1:$port" --subscribers 500 --seconds 6 --windows 1 --label "fan-out during ingest" --quiet \
    > /tmp/ingest-fanout.$$ 2>&1 &
sleep 3
"$PY" Benchmarks/ingest_load.py --port "$port" --pid "$pid" --seconds 4 --label "ingest, 500 subscribers"
wait %2 2>/dev/null || true
cat /tmp/ingest-fanout.$$; rm -f /tmp/ingest-fanout.$$
kill "$pid"; wait "$pid" 2>/dev/null || true
