# Shared by the benchmark scripts: release binaries in their own scratch path (the stock
# WebSocket server only exists with GATEWAY_BENCH=1), loopback ports, enough file descriptors.
BIN=.build-bench/release
ulimit -n 65536 2>/dev/null || true

build_bench() { # product...
    for product in "$@"; do
        GATEWAY_BENCH=1 swift build -c release --scratch-path .build-bench --product "$product"
    done
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; return 1; }

# The interop venv's Python (requests, PyJWT) for the load helpers, else the system's.
PY=.venv/bin/python
[ -x "$PY" ] || PY=python3

# A scratch folder ($WORK) and the background processes a script starts ($PIDS), both cleaned
# up when the script exits, however it exits.
bench_workspace() {
    WORK=$(mktemp -d)
    PIDS=()
    trap 'kill "${PIDS[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT
}

# The ceiling server and the C ramp clients, plain and TLS (Benchmarks/ceiling), built beside the release binaries.
build_ceiling() {
    mkdir -p "$BIN"
    cc -O2 -o "$BIN/ceiling-server" Benchmarks/ceiling/ceiling_server.c -lcrypto
    cc -O2 -o "$BIN/ramp-client" Benchmarks/ceiling/ramp_client.c -lz
    cc -O2 -o "$BIN/fanout-client" Benchmarks/ceiling/fanout_client.c -lz
    cc -O2 -o "$BIN/tls-ramp-client" Benchmarks/ceiling/tls_ramp_client.c -lssl -lcrypto -lz
}

# A test CA and two server certificates for 127.0.0.1 signed by it, in $WORK: ca.pem, rsa.pem +
# rsa.key (RSA-2048) and ec.pem + ec.key (ECDSA P-256).
bench_certificates() {
    (
        cd "$WORK"
        openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=Bench CA" 2>/dev/null
        printf "subjectAltName=IP:127.0.0.1,DNS:localhost\n" > ext
        openssl req -newkey rsa:2048 -nodes -keyout rsa.key -out rsa.csr -subj "/CN=bench" 2>/dev/null
        openssl x509 -req -in rsa.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out rsa.pem -days 2 -extfile ext 2>/dev/null
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ec.key -out ec.csr -subj "/CN=bench" 2>/dev/null
        openssl x509 -req -in ec.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out ec.pem -days 2 -extfile ext 2>/dev/null
    )
}
