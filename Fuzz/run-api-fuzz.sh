#!/usr/bin/env bash
# The HTTP API against its OpenAPI document, longer than `make test`'s run: schemathesis (from the
# interop venv) with 1,000 examples per operation and a random seed, on 127.0.0.1, against a
# debug build. Bounded by the example count; prints the seed to replay a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product gateway
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export JWT_SECRET=api-fuzz-secret-0123456789abcdef
FEED_SOURCE=none LOG_LEVEL=warning .build/debug/gateway serve --config config/gateway.yaml --port "$PORT" > /dev/null 2>&1 &
GW=$!
trap 'kill $GW 2>/dev/null || true' EXIT
for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done
ADMIN=$(.build/debug/gateway token --sub api-fuzz --role admin --ttl 1h)
.venv/bin/schemathesis run "http://127.0.0.1:$PORT/api/v1/openapi.json" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,negative_data_rejection,response_headers_conformance \
    --max-examples "${API_FUZZ_EXAMPLES:-1000}" -H "Authorization: Bearer $ADMIN" --exclude-path /socket.io/ --exclude-path /socket.io-msgpack/ --exclude-path /
kill -0 $GW  # still running: no crash
