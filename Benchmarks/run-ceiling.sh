#!/usr/bin/env bash
# The gateway against the ceiling server (issue 13): the same load client (gateway-bench), the
# same scenarios, one run, servers interleaved twice. The ceiling server
# (Benchmarks/ceiling/ceiling_server.c) is the least work this machine can do for them: one C
# thread on epoll, each tick framed once and copied to its subscribers. Prints each figure and
# the gateway's ratio to the ceiling. Loopback only; bounded: about four minutes.
#   1. ramp: 10,000 clients connect, join /prices and subscribe with an ack, ≤ 1,000 in flight;
#      rate, p99 and RSS per connection (the server's RSS growth over the ramp / clients); once
#      with gateway-bench, once with the C ramp client (Benchmarks/ceiling/ramp_client.c), which
#      costs so little CPU that the server is what the ramp measures.
#   2. fan-out: 1,000 subscribers over 5 symbols, ticks POSTed by gateway-bench at 5,000,
#      10,000, 12,500 and 15,000 /s (1, 2, 2.5 and 3 M deliveries/s offered).
#   3. many symbols: 10,000 clients × 5 of 100 symbols, 10,000 ticks/s POSTed.
#   4. fan-out over 10 symbols: 1,000 subscribers, 100 a symbol, 10,000, 20,000 and 25,000 ticks/s
#      (1, 2 and 2.5 M deliveries/s); and 1,000 symbols: 10,000 clients × 5 of 1,000, 20,000
#      ticks/s (1 M deliveries/s).
# The ramp also runs against two SwiftNIO floors (Benchmarks/NIOFloorServer): NIO's stock HTTP
# pipeline and WebSocket upgrader answering the ramp with pre-encoded frames, and `--raw`, NIO's
# channels alone with no HTTP handlers. What they reach is the most the gateway's stack allows.
set -euo pipefail
cd "$(dirname "$0")/.."
source Benchmarks/common.sh
build_bench gateway-bench gateway nio-floor-server
build_ceiling
bench_workspace
SECRET=bench-secret-0123456789abcdef
TOKEN=$(JWT_SECRET=$SECRET "$BIN/gateway" token --sub bench --role service --ttl 1h)
SYMBOLS100=$(seq -f "S%04g/USDT" 0 99 | paste -sd, -)
SYMBOLS1000=$(seq -f "S%04g/USDT" 0 999 | paste -sd, -)
SYMBOLS10="BTC/USDT,ETH/USDT,SOL/USDT,XRP/USDT,DOGE/USDT,ADA/USDT,AVAX/USDT,DOT/USDT,LINK/USDT,LTC/USDT"

config() { # symbols
    printf 'feed: { source: none, symbols: [%s], throttleMs: { prices: 0 } }\nlimits: { maxConnectionsPerIp: 100000, maxSessionsPerIp: 100000, handshakesPerSecond: 0, handshakesPerSecondPerIp: 0, maxSymbolsPerConnection: 100 }\nlogging: { level: warning }\n' "$1" > "$WORK/gateway.yaml"
}

start() { # server, symbols → sets $port $pid
    port=$(free_port)
    if [ "$1" = gateway ]; then
        config "$2"
        JWT_SECRET=$SECRET "$BIN/gateway" serve --config "$WORK/gateway.yaml" --port "$port" > /dev/null 2>&1 &
    elif [ "$1" = nio-floor ]; then
        "$BIN/nio-floor-server" "$port" > /dev/null 2>&1 &
    elif [ "$1" = nio-floor-raw ]; then
        "$BIN/nio-floor-server" "$port" --raw > /dev/null 2>&1 &
    else
        "$BIN/ceiling-server" "$port" > /dev/null 2>&1 &
    fi
    pid=$!; PIDS+=("$pid")
    wait_port "$port"
}

stop() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }

fanout() { # server, name, symbols, ticks/s rates: 1,000 subscribers, one symbol each
    start "$1" "$3"
    "$BIN/gateway-bench" fanout --url "http://127.0.0.1:$port" --ticks post --token "$TOKEN" --subscribers 1000 \
        --symbols "$3" --rates "$4" --seconds 3 --quiet --label "$1 $2" --json-file "$WORK/$1-$2-$round.json" > /dev/null || true
    stop
}

many_symbols() { # server, name, symbols, ticks/s: 10,000 clients on 5 symbols each
    start "$1" "$3"
    "$BIN/gateway-bench" symbols --url "http://127.0.0.1:$port" --symbols "$3" --per-client 5 --subscribers 10000 \
        --in-flight 1000 --ticks post --token "$TOKEN" --rates "$4" --seconds 4 --quiet --label "$1 $2" \
        --json-file "$WORK/$1-$2-$round.json" > /dev/null || true
    stop
}

echo "# $(date -u +%FT%TZ) $(nproc) cores; gateway vs ceiling server, interleaved twice"
for round in 1 2; do
    for server in nio-floor nio-floor-raw; do
        start "$server" ""
        "$BIN/ramp-client" "$port" 10000 1000 > "$WORK/$server-cramp-$round.json" || true
        stop
    done
    for server in gateway ceiling; do
        start "$server" "BTC/USDT,ETH/USDT,SOL/USDT,XRP/USDT,DOGE/USDT"
        "$BIN/gateway-bench" ramp --url "http://127.0.0.1:$port" --clients 10000 --in-flight 1000 --server-pid "$pid" \
            --quiet --label "$server ramp" --json-file "$WORK/$server-ramp-$round.json" > /dev/null || true
        stop
        start "$server" "BTC/USDT,ETH/USDT,SOL/USDT,XRP/USDT,DOGE/USDT"
        "$BIN/ramp-client" "$port" 10000 1000 > "$WORK/$server-cramp-$round.json" || true
        stop
        fanout "$server" fanout "BTC/USDT,ETH/USDT,SOL/USDT,XRP/USDT,DOGE/USDT" 5000,10000,12500,15000
        many_symbols "$server" symbols "$SYMBOLS100" 10000
        fanout "$server" fanout10 "$SYMBOLS10" 10000,20000,25000
        many_symbols "$server" symbols1000 "$SYMBOLS1000" 20000
    done
done

"$PY" - "$WORK" <<'PY'
import json, os, sys
work = sys.argv[1]

def load(name):
    try:
        return json.load(open(os.path.join(work, name)))
    except (OSError, ValueError):
        return None  # that run failed; its row is left out

def ramp(server, r):
    j = load(f"{server}-ramp-{r}.json")
    if not j: return None
    before, after = (j.get("server_before") or {}), (j.get("server_at_end") or {})
    step = (j.get("steps") or [{}])[0]
    rss = step.get("server") or after
    per_conn = None
    if before.get("rss_mb") is not None and rss and rss.get("rss_mb") is not None and j.get("connected"):
        per_conn = (rss["rss_mb"] - before["rss_mb"]) * 1024 / j["connected"]
    return j.get("rate_per_s"), (j.get("latency_ms") or {}).get("p99"), per_conn

def fanout(server, r, name="fanout"):
    j = load(f"{server}-{name}-{r}.json")
    return j.get("steps", []) if j else []

def symbols(server, r, name="symbols"):
    j = load(f"{server}-{name}-{r}.json")
    if not j or not j.get("steps"): return None
    s = j["steps"][0]
    return s.get("deliveries_per_s"), (s.get("latency_ms") or {}).get("p99"), s.get("ticks_refused")

def fmt(v, unit=""):
    return "-" if v is None else (f"{v:,.0f}{unit}" if isinstance(v, (int, float)) else str(v))

print("| figure | round | gateway | ceiling | gateway / ceiling |")
print("| --- | --- | --- | --- | --- |")
for r in (1, 2):
    g, c = ramp("gateway", r), ramp("ceiling", r)
    if g and c:
        print(f"| ramp, 10,000 clients: connections/s | {r} | {fmt(g[0])} | {fmt(c[0])} | {g[0] / c[0]:.2f} |" if g[0] and c[0] else "")
        print(f"| ramp: p99 ms | {r} | {fmt(g[1])} | {fmt(c[1])} | {g[1] / c[1]:.1f}× |" if g[1] and c[1] else "")
        if g[2] and c[2]:
            print(f"| RSS per connection after the ramp, kB | {r} | {g[2]:.1f} | {c[2]:.1f} | {g[2] / c[2]:.1f}× |")
    g, c = load(f"gateway-cramp-{r}.json"), load(f"ceiling-cramp-{r}.json")
    if g and c and g.get("rate_per_s") and c.get("rate_per_s"):
        print(f"| ramp with the C client: connections/s | {r} | {fmt(g['rate_per_s'])} | {fmt(c['rate_per_s'])} | {g['rate_per_s'] / c['rate_per_s']:.2f} |")
        print(f"| … p99 ms, errors | {r} | {fmt(g['latency_ms']['p99'])}, {g['errors']} | {fmt(c['latency_ms']['p99'])}, {c['errors']} | {g['latency_ms']['p99'] / max(0.1, c['latency_ms']['p99']):.1f}× |")
    if g and g.get("rate_per_s"):
        # The floors stand in the ceiling's column; the ratio is the gateway's to the floor.
        for floor, title in (("nio-floor", "SwiftNIO floor, stock HTTP upgrade"), ("nio-floor-raw", "SwiftNIO floor, no HTTP handlers")):
            f = load(f"{floor}-cramp-{r}.json")
            if f and f.get("rate_per_s"):
                print(f"| ramp with the C client against the {title} (in the ceiling column): connections/s, p99 ms | {r} | {fmt(g['rate_per_s'])}, {fmt(g['latency_ms']['p99'])} | {fmt(f['rate_per_s'])}, {fmt(f['latency_ms']['p99'])} | {g['rate_per_s'] / f['rate_per_s']:.2f} |")
    for name, per_symbol, title in (("fanout", 200, "5 symbols"), ("fanout10", 100, "10 symbols")):
        for gs, cs in zip(fanout("gateway", r, name), fanout("ceiling", r, name)):
            offered = gs.get("rate", 0) * per_symbol
            gp, cp = (gs.get("latency_ms") or {}), (cs.get("latency_ms") or {})
            print(f"| 1,000 subscribers over {title}, {offered / 1e6:.1f} M deliveries/s offered: delivered/s | {r} | {fmt(gs.get('deliveries_per_s'))} | {fmt(cs.get('deliveries_per_s'))} | {gs.get('deliveries_per_s', 0) / max(1, cs.get('deliveries_per_s', 1)):.2f} |")
            print(f"| … p50 / p99 ms | {r} | {fmt(gp.get('p50'))} / {fmt(gp.get('p99'))} | {fmt(cp.get('p50'))} / {fmt(cp.get('p99'))} | p99 {(gp.get('p99') or 0) / max(0.1, cp.get('p99') or 0.1):.1f}× |")
    for name, title in (("symbols", "10,000 clients × 5 of 100 symbols, 10,000 ticks/s"), ("symbols1000", "10,000 clients × 5 of 1,000 symbols, 20,000 ticks/s")):
        g, c = symbols("gateway", r, name), symbols("ceiling", r, name)
        if g and c:
            print(f"| {title}: deliveries/s | {r} | {fmt(g[0])} | {fmt(c[0])} | {(g[0] or 0) / max(1, c[0] or 1):.2f} |")
            print(f"| … p99 ms, ticks refused | {r} | {fmt(g[1])}, {fmt(g[2])} | {fmt(c[1])}, {fmt(c[2])} | |")
PY
