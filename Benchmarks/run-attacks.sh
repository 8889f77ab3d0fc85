#!/usr/bin/env bash
# One bad client never hurts another (issue 21, docs/security.md). For each attack of
# Benchmarks/attack/attacker.py, a fresh release gateway serves honest clients while one attacker
# runs it at full speed from its own loopback address (127.0.0.2):
#   - 1,000 subscribers on /prices over 5 symbols get 1 M deliveries/s (5,000 ticks/s POSTed by
#     gateway-bench, latency from each tick's ts to its receipt);
#   - one /user client sends acked pings back to back (Benchmarks/attack/user_pinger.py).
# The same runs without an attacker ("none") are the baseline, interleaved with the attacks,
# twice. Reported: the honest fan-out's p99 and its ratio to the baseline of the same round,
# errors, the /user ping p99 and errors, the gateway's RSS growth over the run and its peak, and
# what the attacker got. Loopback only; bounded: about 16 runs of 12 s.
#
# The gateway runs with the shipped configuration and bounds (docs/security.md). The honest
# subscribers connect from 20 loopback addresses (127.0.1.1-20, 50 each: gateway-bench
# --source-addresses), the /user pinger from 127.0.0.1, the attacker from 127.0.0.2, so the
# per-address bounds meet each as they would distinct hosts.
set -euo pipefail
cd "$(dirname "$0")/.."
source Benchmarks/common.sh
build_bench gateway-bench gateway
bench_workspace
SECRET=bench-secret-0123456789abcdef
TOKEN=$(JWT_SECRET=$SECRET "$BIN/gateway" token --sub bench --role service --ttl 1h)
SYMBOLS="BTC/USDT,ETH/USDT,SOL/USDT,XRP/USDT,DOGE/USDT"
ATTACKS="${ATTACKS:-exp ids namespaces sessions headers connects book}"
ROUNDS="${ROUNDS:-2}"
printf 'server: { host: 127.0.0.1 }\nfeed: { source: none, symbols: [%s,ADA/USDT], throttleMs: { prices: 0 } }\nlogging: { level: warning }\n' \
    "$SYMBOLS" > "$WORK/gateway.yaml"

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
peak_kb() { awk '/^VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

start_gateway() { # label → sets $port and $pid; a new port if the chosen one was taken meanwhile
    for _ in 1 2 3; do
        port=$(free_port)
        JWT_SECRET=$SECRET "$BIN/gateway" serve --config "$WORK/gateway.yaml" --port "$port" > "$WORK/gateway-$1.log" 2>&1 &
        pid=$!; PIDS+=("$pid")
        # Listening, and ours: another process may have taken the port meanwhile.
        wait_port "$port" && sleep 0.2 && kill -0 "$pid" 2>/dev/null && return 0
        kill "$pid" 2>/dev/null || true
    done
    echo "the gateway did not start:" >&2
    tail -20 "$WORK/gateway-$1.log" >&2
    return 1
}

run() { # attack ("none": the baseline), round
    local attack=$1 round=$2 port pid
    start_gateway "$attack-$round"
    local before; before=$(rss_kb "$pid")
    "$BIN/gateway-bench" fanout --url "http://127.0.0.1:$port" --ticks post --token "$TOKEN" --subscribers 1000 --source-addresses 20 \
        --symbols "$SYMBOLS" --rates 5000 --seconds 8 --quiet --label "$attack" --json-file "$WORK/fanout-$attack-$round.json" > /dev/null 2>&1 &
    local fanout=$!
    sleep 2  # the subscribers connect, then the step runs for 8 s: attacker and pinger run inside it
    "$PY" Benchmarks/attack/user_pinger.py --port "$port" --seconds 5 > "$WORK/ping-$attack-$round.json" 2>/dev/null &
    local pinger=$!
    if [ "$attack" != none ]; then
        "$PY" Benchmarks/attack/attacker.py --attack "$attack" --port "$port" --seconds 5 > "$WORK/attack-$attack-$round.json" 2>/dev/null || true
    fi
    wait "$pinger" || true
    wait "$fanout" || true
    printf '{"rss_before_kb": %s, "rss_after_kb": %s, "peak_kb": %s, "alive": %s}\n' "$before" "$(rss_kb "$pid")" "$(peak_kb "$pid")" \
        "$(kill -0 "$pid" 2>/dev/null && echo true || echo false)" > "$WORK/rss-$attack-$round.json"
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

echo "# $(date -u +%FT%TZ) $(nproc) cores; one attacker at full speed vs 1,000 honest subscribers at 1 M deliveries/s and a /user pinger"
for round in $(seq "$ROUNDS"); do
    for attack in none $ATTACKS; do run "$attack" "$round"; done
done
"$PY" - "$WORK" "$ROUNDS" none $ATTACKS <<'PY'
import json, os, sys
work, rounds, attacks = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
def load(name):
    try:
        with open(os.path.join(work, name)) as f:
            return json.loads(f.read().strip().splitlines()[-1])
    except (OSError, ValueError, IndexError):
        return {}
print("| attack | round | honest fan-out p99 ms | vs none | deliveries/s | fan-out errors | /user ping p99 ms | ping errors | RSS growth MB | peak RSS MB | gateway alive | attacker got |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for round in range(1, rounds + 1):
    base = load(f"fanout-none-{round}.json").get("latency_ms", {}).get("p99")
    for attack in attacks:
        fanout, ping, rss, got = load(f"fanout-{attack}-{round}.json"), load(f"ping-{attack}-{round}.json"), load(f"rss-{attack}-{round}.json"), load(f"attack-{attack}-{round}.json")
        p99 = fanout.get("latency_ms", {}).get("p99")
        ratio = f"{p99 / base:.2f}x" if p99 and base else "-"
        growth = (rss.get("rss_after_kb", 0) - rss.get("rss_before_kb", 0)) / 1024
        shown = {k: v for k, v in got.items() if k not in ("attack", "seconds")}
        print(f"| {attack} | {round} | {p99} | {ratio} | {fanout.get('deliveries_per_s')} | {fanout.get('errors')} | {ping.get('p99_ms')} | "
              f"{ping.get('errors')} | {growth:.1f} | {rss.get('peak_kb', 0) / 1024:.0f} | {rss.get('alive')} | {json.dumps(shown) if shown else '-'} |")
PY
