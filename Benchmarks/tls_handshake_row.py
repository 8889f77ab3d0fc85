"""One table row for Benchmarks/run-tls-handshakes.sh.
tls  CERT MODE < tls-ramp-client's JSON line
plain JSON_FILE RSS_KB_BEFORE RSS_KB_AFTER CLIENTS   (the C ramp client's answer, RSS from /proc)"""
import json
import sys

if sys.argv[1] == "tls":
    r = json.loads(sys.stdin.read())
    print(f"| {sys.argv[2]} | {sys.argv[3]} | {r['rate']:.0f} | {r['p99_ms']:.0f} | {r.get('server_cpu_us_per_conn', 0):.0f} | "
          f"{r['resumed']} | {r.get('server_rss_bytes_per_conn', 0) / 1000:.1f} kB |")
else:
    r = json.load(open(sys.argv[2]))
    before, after, clients = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    print(f"| plain | first wave | {r['rate_per_s']:.0f} | {r['latency_ms']['p99']:.0f} | | | {(after - before) * 1.024 / clients:.1f} kB |")
