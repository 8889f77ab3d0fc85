"""A raw Socket.IO v5 client over a real WebSocket (websocket-client), for what stock python
clients do not expose: the CONNECT reply's `pid`, event offsets, an abrupt drop."""
import json
import socket
import time

import websocket


class RawSocket:
    def __init__(self, server, namespace, auth, receive_buffer=None):
        self.namespace = namespace
        options = [(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)] if receive_buffer else []
        self.ws = websocket.create_connection(f"{server.ws_base}/socket.io/?EIO=4&transport=websocket", timeout=5,
                                             sockopt=options)
        opening = self.ws.recv()
        assert opening.startswith("0"), opening
        self.ws.send(f"40{namespace}," + json.dumps(auth))
        reply = self.next_packet()
        assert reply.startswith(f"0{namespace},"), reply
        self.connect_data = json.loads(reply[len(f"0{namespace},"):])

    def next_packet(self, timeout=5):
        """The next Socket.IO packet text, answering Engine.IO pings on the way."""
        self.ws.settimeout(timeout)
        while True:
            frame = self.ws.recv()
            if frame == "2":
                self.ws.send("3")
                continue
            assert frame.startswith("4"), frame
            return frame[1:]

    def ack(self, ack_id, timeout=5):
        """The arguments of the ack with `ack_id` (events before it are skipped)."""
        prefix = f"3{self.namespace},{ack_id}"
        while True:
            packet = self.next_packet(timeout)
            if packet.startswith(prefix):
                return json.loads(packet[len(prefix):])

    def events(self, count, timeout=5):
        """The next `count` events as (name, args) lists."""
        prefix = f"2{self.namespace},"
        result = []
        deadline = time.time() + timeout
        while len(result) < count:
            packet = self.next_packet(timeout=max(0.1, deadline - time.time()))
            if packet.startswith(prefix):
                body = json.loads(packet[len(prefix):])
                result.append((body[0], body[1:]))
        return result

    def quiet(self, wait=0.5):
        """True when no event arrives within `wait` seconds."""
        try:
            self.events(1, timeout=wait)
            return False
        except (websocket.WebSocketTimeoutException, socket.timeout):
            return True

    def drop(self):
        """Goes away without a close frame or DISCONNECT, as a lost network would."""
        self.ws.sock.shutdown(socket.SHUT_RDWR)
        self.ws.sock.close()

    def close(self):
        try:
            self.ws.close()
        except Exception:
            pass
