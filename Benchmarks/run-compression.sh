#!/usr/bin/env bash
# Compression on the wire (permessage-deflate, RFC 7692; docs/operations.md): what it saves in
# bytes and what it costs the gateway, in one run on 127.0.0.1.
#   1. bytes per delivery, plain against deflate (Benchmarks/wire_bytes.py): a price.update, a
#      50-level and a 1,000-level depth snapshot, a depth delta; at the default threshold (1024)
#      and what threshold 0 would send (the simulator's feed, symbols learned, a 1,000-level book
#      posted for BENCH/DEPTH);
#   2. fan-out with the C client (Benchmarks/ceiling/fanout_client.c): 1,000 subscribers of one
#      symbol, 1,000 ticks/s POSTed (1 M deliveries/s; BENCH_RATE ticks/s), interleaved ROUNDS
#      times (BENCH_ROUNDS, default 2): (i) plain clients, (ii) --deflate clients at the default
#      threshold (a ~200-byte tick still goes plain: the negotiation's cost alone), (iii) --deflate
#      clients against a gateway started with COMPRESSION_THRESHOLD=0 (every tick compressed once
#      per broadcast, the same bytes to every socket; the client inflates 1 in 8 for latency);
#   3. 10,000 connections (C ramp client: connect, join /prices, subscribe with an ack), plain
#      against --deflate: the gateway's RSS per connection.
# Then one table: server CPU per delivery, p50/p99, delivered rate, bytes per delivery and RSS
# per connection, each with its ratio to the plain run of the same round.
# Loopback only; bounded: each run a few seconds, about 3 minutes in all. BENCH_RESULTS=path
# keeps the raw lines (one JSON object per measurement).
set -euo pipefail
cd "$(dirname "$0")/.."
source Benchmarks/common.sh
build_bench gateway
build_ceiling
bench_workspace
ROUNDS="${BENCH_ROUNDS:-2}"
RATE="${BENCH_RATE:-1000}"
CLIENTS="${BENCH_CLIENTS:-10000}"
SECRET=bench-secret-0123456789abcdef
TOKEN=$(JWT_SECRET=$SECRET "$BIN/gateway" token --sub bench --role service --ttl 1h)
LIMITS='limits: { maxConnectionsPerIp: 100000, maxSessionsPerIp: 100000, handshakesPerSecond: 0, handshakesPerSecondPerIp: 0, slowConsumerBytes: 67108864 }'

start() { # config text, [threshold] → sets $port $pid
    printf '%s\n%s\nlogging: { level: warning }\n' "$1" "$LIMITS" > "$WORK/gateway.yaml"
    port=$(free_port)
    local env=(JWT_SECRET=$SECRET)
    [ -n "${2:-}" ] && env+=(COMPRESSION_THRESHOLD="$2")
    env "${env[@]}" "$BIN/gateway" serve --config "$WORK/gateway.yaml" --port "$port" > "$WORK/gateway.log" 2>&1 &
    pid=$!; PIDS+=("$pid")
    wait_port "$port" || { echo "the gateway did not start:" >&2; cat "$WORK/gateway.yaml" "$WORK/gateway.log" >&2; exit 1; }
}

stop() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }

FANOUT_FEED='feed: { source: none, symbols: [BTC/USDT], throttleMs: { prices: 0 } }'

fanout() { # variant (plain, deflate, deflate-t0), round
    local variant=$1 round=$2 flags=()
    [ "$variant" != plain ] && flags+=(--deflate)
    start "$FANOUT_FEED" "$([ "$variant" = deflate-t0 ] && echo 0 || true)"
    "$BIN/fanout-client" --port "$port" --token "$TOKEN" --symbols BTC/USDT --subscribers 1000 --rate "$RATE" --seconds 3 \
        --server-pid "$pid" --label "fanout $variant $round" "${flags[@]}" >> "$WORK/results.jsonl" 2> "$WORK/client.err" \
        || echo "fanout $variant $round: the client failed: $(tail -1 "$WORK/client.err")" >&2
    stop
}

ramp() { # variant (plain, deflate), round
    local variant=$1 round=$2 flags=() before after
    [ "$variant" = deflate ] && flags+=(--deflate)
    start "$FANOUT_FEED"
    before=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
    rm -f "$WORK/ramp.json"  # the last ramp's answer would end the wait below at once
    "$BIN/ramp-client" "${flags[@]}" "$port" "$CLIENTS" 1000 3 > "$WORK/ramp.json" 2> /dev/null &
    local client=$!
    # The crowd is held for 3 s after the last ack: RSS is read while all are connected.
    while kill -0 "$client" 2>/dev/null && ! [ -s "$WORK/ramp.json" ]; do sleep 0.2; done
    after=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
    wait "$client" || true
    "$PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); n=max(r["connected"],1); r.update(label=sys.argv[2], rss_kb_before=int(sys.argv[3]), rss_kb_after=int(sys.argv[4]), rss_kb_per_conn=(int(sys.argv[4])-int(sys.argv[3]))/n); print(json.dumps(r))' \
        "$WORK/ramp.json" "ramp $variant $round" "$before" "$after" >> "$WORK/results.jsonl" \
        || echo "ramp $variant $round: no answer from the client" >&2
    stop
}

echo "# $(date -u +%FT%TZ) $(nproc) cores; permessage-deflate against plain, interleaved $ROUNDS times"

# 1. Bytes on the wire per message kind (the default threshold; threshold 0 computed alike).
start 'feed: { source: simulator, symbols: "*", maxBookLevels: 1000, simulator: { ticksPerSecond: 100 } }'
"$PY" Benchmarks/wire_bytes.py --port "$port" --token "$TOKEN" --label wire-bytes > "$WORK/wire.txt" \
    || echo "wire_bytes.py failed (what it printed follows)" >&2
grep -v '^{' "$WORK/wire.txt" || true
grep '^{' "$WORK/wire.txt" >> "$WORK/results.jsonl" || true
stop

# 2. and 3., interleaved; the order turns each round so that no variant always runs first.
for round in $(seq "$ROUNDS"); do
    variants=(plain deflate deflate-t0)
    (( round % 2 )) || variants=(deflate-t0 deflate plain)
    for variant in "${variants[@]}"; do fanout "$variant" "$round"; done
    if (( round % 2 )); then ramp plain "$round"; ramp deflate "$round"; else ramp deflate "$round"; ramp plain "$round"; fi
done

"$PY" - "$WORK/results.jsonl" "$RATE" "$CLIENTS" <<'PYEOF'
import json, statistics, sys
path, rate, clients = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
runs = {}
for line in open(path):
    if line.startswith("{"):
        r = json.loads(line)
        kind, _, rest = r.get("label", "").partition(" ")
        variant, _, round_ = rest.rpartition(" ")
        if kind in ("fanout", "ramp"):
            runs[(kind, variant, round_)] = r

def rounds(kind, variant):
    return sorted(k[2] for k in runs if k[0] == kind and k[1] == variant)

def column(kind, variant, get):
    """(median over rounds, median of the ratio to the same round's plain run)."""
    values, ratios = [], []
    for round_ in rounds(kind, variant):
        v = get(runs[(kind, variant, round_)])
        if v is None:
            continue
        values.append(v)
        base = runs.get((kind, "plain", round_))
        b = get(base) if base else None
        if b:
            ratios.append(v / b)
    return (statistics.median(values) if values else None, statistics.median(ratios) if ratios else None)

def cell(pair, digits):
    value, ratio = pair
    if value is None:
        return "—"
    return f"{value:,.{digits}f} ({ratio:.2f}×)" if ratio is not None else f"{value:,.{digits}f}"

names = {"plain": "plain clients", "deflate": "--deflate, threshold 1024", "deflate-t0": "--deflate, threshold 0"}
print()
print(f"1,000 subscribers of one symbol, {rate:,} ticks/s ({rate * 1000 / 1e6:g} M deliveries/s offered); median of the rounds, "
      f"(ratio to the plain run of the same round)")
print("| clients | server CPU ns/delivery | p50 ms | p99 ms | delivered/s | bytes/delivery | frames compressed / plain | errors |")
print("| --- | --- | --- | --- | --- | --- | --- | --- |")
for variant in ("plain", "deflate", "deflate-t0"):
    if not rounds("fanout", variant):
        print(f"| {names[variant]} | no run | | | | | | |")
        continue
    last = runs[("fanout", variant, rounds("fanout", variant)[-1])]
    errors = sum(runs[("fanout", variant, r)].get("connect_errors", 0) + runs[("fanout", variant, r)].get("closed", 0)
                 for r in rounds("fanout", variant))
    delivered = ", ".join(f"{runs[('fanout', variant, r)].get('delivered_ratio', 0):.3f}" for r in rounds("fanout", variant))
    print(f"| {names[variant]} | {cell(column('fanout', variant, lambda r: r.get('server_cpu_us_per_kdelivery')), 0)} "
          f"| {cell(column('fanout', variant, lambda r: r.get('p50_ms')), 2)} | {cell(column('fanout', variant, lambda r: r.get('p99_ms')), 2)} "
          f"| {cell(column('fanout', variant, lambda r: r.get('deliveries_per_s')), 0)} (delivered {delivered}) "
          f"| {cell(column('fanout', variant, lambda r: r.get('wire_bytes_per_delivery')), 1)} "
          f"| {last.get('compressed_frames', 0):,} / {last.get('plain_frames', 0):,} | {errors} |")
print()
print(f"{clients:,} connections held (C ramp client): the gateway's RSS growth per connection")
print("| clients | RSS KiB per connection | connected | connections/s | p99 ms |")
print("| --- | --- | --- | --- | --- |")
for variant in ("plain", "deflate"):
    if not rounds("ramp", variant):
        print(f"| {variant} | no run | | | |")
        continue
    connected = ", ".join(str(runs[("ramp", variant, r)].get("connected")) for r in rounds("ramp", variant))
    print(f"| {'--deflate' if variant == 'deflate' else 'plain'} | {cell(column('ramp', variant, lambda r: r.get('rss_kb_per_conn')), 2)} "
          f"| {connected} | {cell(column('ramp', variant, lambda r: r.get('rate_per_s')), 0)} "
          f"| {cell(column('ramp', variant, lambda r: (r.get('latency_ms') or {}).get('p99')), 1)} |")
PYEOF
if [ -n "${BENCH_RESULTS:-}" ]; then cp "$WORK/results.jsonl" "$BENCH_RESULTS"; fi
