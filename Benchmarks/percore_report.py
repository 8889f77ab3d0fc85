"""Tables for Benchmarks/run-percore.sh: one row per scenario and server, every round's figures
side by side, and the gateway's ratio to the ceiling server of the same round."""
import json
import sys
from collections import defaultdict


def fmt(value, digits=1):
    return "—" if value is None else f"{value:.{digits}f}"


def main(path):
    runs = defaultdict(list)  # (scenario, server) → rounds
    order = []
    for line in open(path):
        line = line.strip()
        if not line.startswith("{"):
            continue
        run = json.loads(line)
        server, _, scenario = run.get("label", "? ?").partition(" ")
        if scenario not in order:
            order.append(scenario)
        runs[(scenario, server)].append(run)
    servers = sorted({server for _, server in runs}, key=lambda s: {"gateway-old": 0, "gateway": 1, "ceiling": 2}.get(s, 3))
    print("| scenario | server | deliveries/s (share delivered) | p50 / p99 ms | POST p99 ms | server CPU % | vs ceiling: deliveries, p99 |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for scenario in order:
        if scenario == "ramp" or scenario.startswith("producer-probe"):
            continue
        ceiling = runs.get((scenario, "ceiling"), [])
        for server in servers:
            rounds = runs.get((scenario, server), [])
            if not rounds:
                continue
            rates = ", ".join(f"{r['deliveries_per_s'] / 1e6:.2f} M ({r['delivered_ratio']:.2f})" for r in rounds)
            latency = ", ".join(f"{fmt(r['p50_ms'])} / {fmt(r['p99_ms'])}" for r in rounds)
            post = ", ".join(fmt(r.get("post_p99_ms"), 2) for r in rounds)
            cpu = ", ".join(fmt(r.get("server_cpu_pct"), 0) for r in rounds)
            ratio = ""
            if server != "ceiling" and ceiling:
                pairs = list(zip(rounds, ceiling))
                ratio = ", ".join(
                    f"{a['deliveries_per_s'] / max(b['deliveries_per_s'], 1):.2f}x, {(a['p99_ms'] or 0) / max(b['p99_ms'] or 0, 0.001):.1f}x" for a, b in pairs
                )
            print(f"| {scenario} | {server} | {rates} | {latency} | {post} | {cpu} | {ratio} |")
    print()
    print("| a producer's POST round trip during 1 M deliveries/s | server | p50 / p99 ms | ticks/s achieved (2,000 offered) | the fan-out meanwhile: deliveries/s, p99 ms |")
    print("| --- | --- | --- | --- | --- |")
    for scenario in [s for s in order if s.startswith("producer-probe") and not s.endswith("-load")]:
        for server in servers:
            rounds, load = runs.get((scenario, server), []), runs.get((scenario + "-load", server), [])
            if rounds:
                print(f"| {scenario} | {server} | " + ", ".join(f"{fmt(r.get('probe_post_p50_ms'), 2)} / {fmt(r.get('probe_post_p99_ms'), 2)}" for r in rounds)
                      + " | " + ", ".join(f"{r.get('probe_ticks_per_s', 0):.0f}" for r in rounds) + " | "
                      + ", ".join(f"{l['deliveries_per_s'] / 1e6:.2f} M, {fmt(l['p99_ms'])}" for l in load) + " |")
    print()
    print("| ramp: 10,000 clients connect + join + subscribe | server | connections/s | p99 ms | RSS per connection kB |")
    print("| --- | --- | --- | --- | --- |")
    for server in servers:
        rounds = runs.get(("ramp", server), [])
        if rounds:
            print(f"| | {server} | " + ", ".join(f"{r.get('rate_per_s', 0):.0f}" for r in rounds) + " | "
                  + ", ".join(fmt(r.get('latency_ms', {}).get('p99'), 0) for r in rounds) + " | "
                  + ", ".join(fmt(r.get('rss_kb_per_conn'), 2) for r in rounds) + " |")
    print()
    print("Client CPU per 1,000 deliveries against the server's (the client must be the cheaper):")
    for (scenario, server), rounds in runs.items():
        if scenario == "ramp" or not rounds or rounds[0].get("delivered", 0) == 0:
            continue
        for r in rounds:
            c, s = r.get("client_cpu_us_per_kdelivery"), r.get("server_cpu_us_per_kdelivery")
            if c is not None and s is not None:
                print(f"  {server} {scenario}: client {c:.0f} µs, server {s:.0f} µs")
                break


if __name__ == "__main__":
    main(sys.argv[1])
