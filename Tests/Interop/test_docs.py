"""docs/namespaces.md cannot drift from the code: every documented client event is served in its
namespace, and the error-code table equals the codes in ClientError.swift."""
import os
import re

import pytest

from auth_helpers import SECRET, Conn, token
from conftest import Server

REPO = os.path.join(os.path.dirname(__file__), "..", "..")
DOC = open(os.path.join(REPO, "docs", "namespaces.md")).read()


def section(title):
    return DOC.split(f"## {title}")[1].split("\n## ")[0]


def documented_events():
    rows = []
    for block in section("Client → server events").split("### ")[1:]:
        namespace = re.match(r"`(/[a-z]*)`", block).group(1)
        rows += [(namespace, event) for event in re.findall(r"^\| `([a-z.]+)` \|", block, re.M)]
    assert len(rows) >= 10
    return rows


@pytest.fixture(scope="module")
def gateway():
    srv = Server("gateway", ["serve"], env={"JWT_SECRET": SECRET, "LOG_LEVEL": "warning"})
    yield srv
    srv.stop()


def test_error_code_table_matches_the_code():
    source = open(os.path.join(REPO, "Sources", "Namespaces", "Shared", "ClientError.swift")).read()
    in_code = set(re.findall(r'case \w+ = "([A-Z_]+)"', source))
    in_docs = set(re.findall(r"^\| `([A-Z_]+)` \|", section("Error codes of client events"), re.M))
    assert in_docs == in_code


@pytest.mark.parametrize("namespace,event", documented_events())
def test_every_documented_event_is_served(gateway, namespace, event):
    auth = {"token": token("docs-admin", role="admin")} if namespace in ("/user", "/admin") else None
    conn = Conn(gateway, namespace, auth=auth)
    assert conn.connected
    reply = conn.call(event, {})
    assert reply.get("ok") is True or reply["error"]["code"] != "UNKNOWN_EVENT", (namespace, event, reply)
    conn.close()


def test_troubleshooting_covers_every_connect_error_code_and_has_its_checklist():
    guide = open(os.path.join(REPO, "docs", "troubleshooting.md")).read()
    connect_codes = set(re.findall(r"^\| `([A-Z_]+)` \|", DOC.split("CONNECT_ERROR")[1].split("\n## ")[0], re.M))
    assert {"UNAUTHORIZED", "TOKEN_EXPIRED", "FORBIDDEN", "CONNECTION_LIMIT", "MAINTENANCE"} <= connect_codes
    in_guide = set(re.findall(r"^\| `([A-Z_]+)` \|", guide.split("## 3.")[1].split("\n## ")[0], re.M))
    assert in_guide == connect_codes
    symptoms = re.findall(r"^## \d+\. ", guide, re.M)
    assert len(symptoms) >= 10
    checklist = guide.split("## Production checklist")[1]
    assert checklist.count("- [ ]") >= 8
