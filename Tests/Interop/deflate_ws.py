"""A raw WebSocket client over a plain socket that can offer permessage-deflate and shows what
stock clients hide: the RSV1 bit of each frame, the 101's extension header, close codes, and
client frames compressed, fragmented or malformed on purpose."""
import base64
import os
import socket
import struct
import zlib

TAIL = b"\x00\x00\xff\xff"
BROWSER_OFFER = "permessage-deflate; client_max_window_bits"


def deflate(data, level=6):
    """One message compressed without context takeover, the sync-flush tail removed (RFC 7692)."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
    out = compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(TAIL)
    return out[:-4]


def inflate(data):
    return zlib.decompressobj(-15).decompress(data + TAIL)


class Message:
    def __init__(self, opcode, compressed, payload, wire_bytes):
        self.opcode = opcode
        self.compressed = compressed
        self.payload = payload
        self.wire_bytes = wire_bytes

    @property
    def text(self):
        return self.payload.decode()


class DeflateSocket:
    def __init__(self, server, offer=BROWSER_OFFER, path="/socket.io/", timeout=5):
        self.sock = socket.create_connection(("127.0.0.1", server.port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET {path}?EIO=4&transport=websocket HTTP/1.1", f"Host: 127.0.0.1:{server.port}",
                 "Upgrade: websocket", "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
        if offer:
            lines.append(f"Sec-WebSocket-Extensions: {offer}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self.sock.recv(4096)
            assert chunk, "connection closed during the handshake"
            data += chunk
        head, self.buffer = data.split(b"\r\n\r\n", 1)
        status_line, *header_lines = head.decode().split("\r\n")
        self.status = int(status_line.split()[1])
        self.headers = {}
        for line in header_lines:
            name, value = line.split(":", 1)
            self.headers[name.strip().lower()] = value.strip()

    @property
    def extensions(self):
        return self.headers.get("sec-websocket-extensions")

    def _read(self, count):
        while len(self.buffer) < count:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buffer += chunk
        out, self.buffer = self.buffer[:count], self.buffer[count:]
        return out

    def frame(self):
        """(fin, rsv1, opcode, payload, bytes on the wire) of the next frame."""
        first, second = self._read(2)
        length = second & 0x7F
        header = 2
        if length == 126:
            length = struct.unpack(">H", self._read(2))[0]
            header += 2
        elif length == 127:
            length = struct.unpack(">Q", self._read(8))[0]
            header += 8
        assert not second & 0x80, "server frames are never masked"
        return bool(first & 0x80), bool(first & 0x40), first & 0x0F, self._read(length), header + length

    def message(self):
        """The next data message, inflated when it came compressed; Engine.IO pings answered."""
        while True:
            fin, rsv1, opcode, payload, size = self.frame()
            if opcode == 0x8:
                raise ConnectionError(f"closed by the server: {self.close_code_of(payload)}")
            if opcode in (0x9, 0xA):
                continue
            while not fin:
                fin, more_rsv1, _, more, more_size = self.frame()
                assert not more_rsv1, "RSV1 only on a message's first frame"
                payload += more
                size += more_size
            message = Message(opcode, rsv1, inflate(payload) if rsv1 else payload, size)
            if message.opcode == 0x1 and message.payload == b"2":
                self.send("3")
                continue
            return message

    def message_starting(self, prefix, limit=200):
        for _ in range(limit):
            message = self.message()
            if message.payload.startswith(prefix.encode()):
                return message
        raise AssertionError(f"no message starting with {prefix!r}")

    def send_frame(self, payload, opcode=0x1, rsv1=False, fin=True):
        first = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
        mask = os.urandom(4)
        length = len(payload)
        if length < 126:
            header = struct.pack(">BB", first, 0x80 | length)
        elif length < 65536:
            header = struct.pack(">BBH", first, 0x80 | 126, length)
        else:
            header = struct.pack(">BBQ", first, 0x80 | 127, length)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def send(self, text, compress=False):
        data = text.encode()
        self.send_frame(deflate(data) if compress else data, rsv1=compress)

    @staticmethod
    def close_code_of(payload):
        return struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else None

    def close_code(self):
        """The code of the server's close frame (data frames before it are skipped)."""
        while True:
            _, _, opcode, payload, _ = self.frame()
            if opcode == 0x8:
                return self.close_code_of(payload)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
