"""Minimal raw Engine.IO helpers over real HTTP and real WebSockets (requests, websocket-client)."""
import json

import requests
import websocket

SEP = "\x1e"


def handshake(base, path="/engine.io/", **params):
    query = {"EIO": "4", "transport": "polling", **params}
    r = requests.get(f"{base}{path}", params=query, timeout=5)
    assert r.status_code == 200, r.text
    assert r.text[0] == "0"
    return json.loads(r.text[1:])


def get(base, path, sid, timeout=5):
    return requests.get(f"{base}{path}", params={"EIO": "4", "transport": "polling", "sid": sid}, timeout=timeout)


def post(base, path, sid, body, timeout=5, **kwargs):
    return requests.post(f"{base}{path}", params={"EIO": "4", "transport": "polling", "sid": sid},
                         data=body.encode() if isinstance(body, str) else body, timeout=timeout, **kwargs)


def ws_connect(ws_base, path="/engine.io/", sid=None, timeout=3, **kwargs):
    url = f"{ws_base}{path}?EIO=4&transport=websocket"
    if sid:
        url += f"&sid={sid}"
    return websocket.create_connection(url, timeout=timeout, **kwargs)


def ws_open(ws_base, path="/engine.io/"):
    """A WebSocket-only session; returns (socket, open packet body)."""
    ws = ws_connect(ws_base, path)
    first = ws.recv()
    assert first.startswith("0")
    return ws, json.loads(first[1:])


def recv_skipping_pings(ws):
    """Next frame that is not an Engine.IO ping (answering pings so the session stays up)."""
    while True:
        frame = ws.recv()
        if frame == "2":
            ws.send("3")
            continue
        return frame


def is_closed(ws, wait=2.0):
    """True when the server closes the WebSocket within `wait` seconds (pings are answered
    with nothing, so an open session also ends by ping timeout on the test configuration)."""
    ws.settimeout(wait)
    try:
        while True:
            op, _ = ws.recv_data(control_frame=True)
            if op == websocket.ABNF.OPCODE_CLOSE:
                return True
    except (websocket.WebSocketConnectionClosedException, ConnectionError, OSError):
        return True
    except websocket.WebSocketTimeoutException:
        return False
