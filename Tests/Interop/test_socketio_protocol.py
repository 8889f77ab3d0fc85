"""The Socket.IO cases of socketio/socket.io-protocol test-suite/test-suite.js, re-implemented
against the live server over a raw WebSocket (the app: on connect emit `auth` with the CONNECT
payload; `message` → `message-back`; `message-with-ack` → ack with the same arguments)."""
import json

import websocket

from eio import is_closed, ws_open


def sio(server):
    ws, _ = ws_open(server.ws_base, "/socket.io/")
    return ws


def joined(server):
    """A WebSocket already connected to `/` (CONNECT reply and the `auth` event consumed)."""
    ws = sio(server)
    ws.send("40")
    recv(ws)
    recv(ws)
    return ws


def recv(ws):
    """Next frame, answering heartbeats."""
    while True:
        op, data = ws.recv_data()
        if op == websocket.ABNF.OPCODE_TEXT:
            text = data.decode()
            if text == "2":
                ws.send("3")
                continue
            return text
        return data


def test_connect_to_main_namespace_replies_sid_only_then_auth(server):
    ws = sio(server)
    ws.send("40")
    reply = recv(ws)
    assert reply.startswith("40")
    assert list(json.loads(reply[2:])) == ["sid"]
    assert isinstance(json.loads(reply[2:])["sid"], str)
    assert recv(ws) == '42["auth",{}]'
    ws.close()


def test_connect_with_auth_payload(server):
    ws = sio(server)
    ws.send('40{"token":"123"}')
    assert recv(ws).startswith("40{")
    assert recv(ws) == '42["auth",{"token":"123"}]'
    ws.close()


def test_connect_to_custom_namespace(server):
    ws = sio(server)
    ws.send("40/custom,")
    reply = recv(ws)
    assert reply.startswith("40/custom,")
    assert list(json.loads(reply[len("40/custom,"):])) == ["sid"]
    assert recv(ws) == '42/custom,["auth",{}]'
    ws.close()


def test_connect_to_custom_namespace_with_auth(server):
    ws = sio(server)
    ws.send('40/custom,{"token":"abc"}')
    assert recv(ws).startswith("40/custom,")
    assert recv(ws) == '42/custom,["auth",{"token":"abc"}]'
    ws.close()


def test_unknown_namespace_gets_invalid_namespace_and_connection_stays(server):
    ws = sio(server)
    ws.send("40/random")
    assert recv(ws) == '44/random,{"message":"Invalid namespace"}'
    ws.send("40")
    assert recv(ws).startswith("40{")
    ws.close()


def test_invalid_first_packet_closes_the_connection(server):
    ws = sio(server)
    ws.send("4abc")
    assert is_closed(ws)


def test_no_connect_at_all_closes_the_connection(server):
    ws = sio(server)
    ws.settimeout(3)
    # answer pings so only the connect timeout (1000 ms) can close it
    closed = False
    try:
        while True:
            op, data = ws.recv_data(control_frame=True)
            if op == websocket.ABNF.OPCODE_CLOSE:
                closed = True
                break
            if data == b"2":
                ws.send("3")
    except (websocket.WebSocketConnectionClosedException, ConnectionError):
        closed = True
    assert closed


def test_disconnect_from_main_namespace_keeps_the_engine_connection(server):
    ws = joined(server)
    ws.send("41")
    assert ws.recv() == "2"
    ws.close()


def test_disconnect_then_message_to_main_namespace(server):
    ws = sio(server)
    ws.send("40/custom")
    recv(ws)
    recv(ws)
    ws.send("41/custom")
    ws.send("40")
    recv(ws)
    recv(ws)
    ws.send('42["message","message to main namespace"]')
    assert recv(ws) == '42["message-back","message to main namespace"]'
    ws.close()


def test_event_arguments_are_echoed_exactly(server):
    ws = joined(server)
    ws.send('42["message",1,"2",{"3":[true]}]')
    assert recv(ws) == '42["message-back",1,"2",{"3":[true]}]'
    ws.close()


def test_binary_event_with_two_attachments_is_echoed(server):
    ws = joined(server)
    ws.send('452-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]')
    ws.send_binary(bytes([1, 2, 3]))
    ws.send_binary(bytes([4, 5, 6]))
    assert recv(ws) == '452-["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]'
    assert recv(ws) == bytes([1, 2, 3])
    assert recv(ws) == bytes([4, 5, 6])
    ws.close()


def test_event_with_ack_is_acked_with_same_arguments(server):
    ws = joined(server)
    ws.send('42456["message-with-ack",1,"2",{"3":[false]}]')
    assert recv(ws) == '43456[1,"2",{"3":[false]}]'
    ws.close()


def test_ack_id_zero_is_acked(server):
    ws = joined(server)
    ws.send('420["message-with-ack","zero"]')
    assert recv(ws) == '430["zero"]'
    ws.close()


def test_binary_event_with_ack_gets_binary_ack(server):
    ws = joined(server)
    ws.send('452-789["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]')
    ws.send_binary(bytes([1, 2, 3]))
    ws.send_binary(bytes([4, 5, 6]))
    assert recv(ws) == '462-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]'
    assert recv(ws) == bytes([1, 2, 3])
    assert recv(ws) == bytes([4, 5, 6])
    ws.close()


def test_invalid_packet_after_connect_closes(server):
    ws = sio(server)
    ws.send("40")
    recv(ws)
    ws.send("4abc")
    assert is_closed(ws)


def test_event_payload_not_an_array_closes(server):
    ws = sio(server)
    ws.send("40")
    recv(ws)
    ws.send("42{}")
    assert is_closed(ws)


def test_invalid_ack_id_closes(server):
    ws = sio(server)
    ws.send("40")
    recv(ws)
    ws.send('42abc["message-with-ack",1,"2",{"3":[false]}]')
    assert is_closed(ws)
