"""The HTTP API's contract (issue 24, part 3): /api/v1/openapi.json is the OpenAPI 3.1 document
kept in the repository, every route the router serves is in it and everything in it is served,
and the endpoints answer as it says."""
import json
import os
import subprocess
import sys

import pytest
import requests

from auth_helpers import SECRET, token
from conftest import Server, wait_until

REPO = os.path.join(os.path.dirname(__file__), "..", "..")
DOCUMENT = json.load(open(os.path.join(REPO, "Sources", "App", "OpenAPI", "openapi.json")))
METHODS = {"get", "post", "put", "delete", "patch", "options", "head"}


@pytest.fixture(scope="module")
def gateway():
    srv = Server("gateway", ["serve"], env={"JWT_SECRET": SECRET, "LOG_LEVEL": "debug", "LOG_FORMAT": "json",
                                           "FEED_SOURCE": "none"})
    yield srv
    srv.stop()


def documented():
    return {(method.upper(), path) for path, item in DOCUMENT["paths"].items() for method in item if method in METHODS}


def served(gateway):
    """The routes the router logged at start-up ("HTTP route", `http.route` = "METHOD /path")."""
    routes = set()
    for line in gateway.output().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        route = entry.get("metadata", entry).get("http.route") if isinstance(entry, dict) else None
        if route:
            method, path = route.split(" ", 1)
            # Hummingbird spells parameters ":name"; OpenAPI "{name}". Paths start with "/" in both.
            path = "/" + "/".join("{" + part[1:] + "}" if part.startswith(":") else part for part in path.strip("/").split("/") if part)
            routes.add((method, path if path == "/" else path + ("/" if path.endswith(("socket.io", "socket.io-msgpack")) else "")))
    return routes


def test_the_served_document_is_the_one_in_the_repository(gateway):
    reply = requests.get(f"{gateway.base}/api/v1/openapi.json", timeout=5)
    assert reply.status_code == 200 and reply.headers["Content-Type"].startswith("application/json")
    assert reply.json() == DOCUMENT
    assert DOCUMENT["openapi"].startswith("3.1")


def test_every_route_is_documented_and_every_documented_route_is_served(gateway):
    wait_until(lambda: served(gateway), message=lambda: "no routes logged:\n" + gateway.output()[-2000:])
    routes = served(gateway)
    assert routes - documented() == set(), "served but not in openapi.json"
    assert documented() - routes == set(), "in openapi.json but not served"


@pytest.mark.parametrize("path", ["/health", "/health/websocket", "/health/redis", "/api/v1/limits", "/metrics"])
def test_probes_answer_as_documented(gateway, path):
    reply = requests.get(f"{gateway.base}{path}", timeout=5)
    responses = DOCUMENT["paths"][path]["get"]["responses"]
    assert str(reply.status_code) in responses
    content = responses[str(reply.status_code)].get("content", {})
    schema = content.get("application/json", {}).get("schema")
    if schema and "$ref" not in schema:
        body = reply.json()
        assert set(schema.get("required", [])) <= set(body), (path, body)
        for key, rule in schema.get("properties", {}).items():
            if "enum" in rule and key in body:
                assert body[key] in rule["enum"], (path, key, body[key])


def test_documented_errors_are_the_ones_given(gateway):
    base = gateway.base
    service = {"Authorization": f"Bearer {token('producer', role='service')}"}
    cases = [
        ("post", "/api/v1/market", {}, "not json", 401),
        ("post", "/api/v1/market", service, "not json", 400),
        ("post", "/api/v1/users/{userId}/events", service, '{"event":"nope","data":{}}', 400),
        ("post", "/api/v1/broadcast", service, '{"message":"hi"}', 403),
        ("post", "/api/v1/broadcast", {"Authorization": f"Bearer {token('ops', role='admin')}"}, '{"message":"hi","level":false}', 400),
        ("post", "/api/v1/broadcast", {"Authorization": f"Bearer {token('ops', role='admin')}"}, '{"message":"hi","namespaces":[1,"/prices"]}', 400),
    ]
    for method, path, headers, body, status in cases:
        url = base + path.replace("{userId}", "alice")
        reply = requests.request(method, url, data=body, headers={**headers, "Content-Type": "application/json"}, timeout=5)
        assert reply.status_code == status, (path, reply.text)
        assert str(status) in DOCUMENT["paths"][path][method]["responses"], (path, status)
        assert set(reply.json()["error"]) >= {"code", "message"}


SCHEMATHESIS = os.path.join(os.path.dirname(sys.executable), "schemathesis")
CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,"
          "negative_data_rejection,response_headers_conformance")


def test_a_contract_fuzzer_finds_nothing_the_document_does_not_say(gateway):
    """schemathesis (PyPI) against the served document, every endpoint but the Engine.IO transport
    (a protocol, tested by the official suites; on both parser paths) and the redirect: no 500, no crash, every status,
    content type, header and body as documented, schema-violating requests refused. Bounded: a
    fixed seed, 50 examples an operation; `make fuzz` runs longer (Fuzz/run-api-fuzz.sh)."""
    result = subprocess.run(
        [SCHEMATHESIS, "run", f"{gateway.base}/api/v1/openapi.json", "--checks", CHECKS, "--max-examples", "50", "--seed", "23",
         "-H", f"Authorization: Bearer {token('contract', role='admin')}", "--exclude-path", "/socket.io/", "--exclude-path", "/socket.io-msgpack/", "--exclude-path", "/"],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:]
    assert gateway.alive()
