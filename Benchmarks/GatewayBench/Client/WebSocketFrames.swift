import NIOCore

/// Client-side WebSocket framing (RFC 6455), by hand for speed: the upgrade request, masked
/// frames out, server frames found in place in the inbound bytes (no frame objects).
enum WebSocketFrames {
    enum Opcode {
        static let text: UInt8 = 0x1
        static let close: UInt8 = 0x8
        static let ping: UInt8 = 0x9
        static let pong: UInt8 = 0xA
    }

    /// A whole frame at the buffer's reader index: its opcode and where its payload is.
    struct Frame {
        let opcode: UInt8
        let payloadIndex: Int
        let payloadLength: Int
        /// Header and payload.
        let size: Int
    }

    static func upgradeRequest(path: String, host: String) -> String {
        "GET \(path) HTTP/1.1\r\nHost: \(host)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    }

    /// The frame at the reader index, or nil until all of it has arrived.
    static func next(in buffer: ByteBuffer) -> Frame? {
        guard buffer.readableBytes >= 2, let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self),
            let second = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt8.self)
        else { return nil }
        let start = buffer.readerIndex
        var length = Int(second & 0x7F)
        var header = 2
        if length == 126 {
            guard let extended = buffer.getInteger(at: start + 2, as: UInt16.self) else { return nil }
            length = Int(extended)
            header = 4
        } else if length == 127 {
            guard let extended = buffer.getInteger(at: start + 2, as: UInt64.self) else { return nil }
            length = Int(extended)
            header = 10
        }
        guard buffer.readableBytes >= header + length else { return nil }
        return Frame(opcode: first & 0x0F, payloadIndex: start + header, payloadLength: length, size: header + length)
    }

    static func text(_ text: String, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = header(opcode: Opcode.text, length: text.utf8.count, allocator: allocator)
        buffer.writeString(text)
        return buffer
    }

    static func frame(opcode: UInt8, payload: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = header(opcode: opcode, length: payload.readableBytes, allocator: allocator)
        buffer.writeImmutableBuffer(payload)
        return buffer
    }

    /// A client frame's header, masked with a zero key (which leaves the payload as it is).
    private static func header(opcode: UInt8, length: Int, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: length + 14)
        buffer.writeInteger(UInt8(0x80 | opcode))
        if length < 126 {
            buffer.writeInteger(UInt8(0x80 | length))
        } else if length < 65_536 {
            buffer.writeInteger(UInt8(0x80 | 126))
            buffer.writeInteger(UInt16(length))
        } else {
            buffer.writeInteger(UInt8(0x80 | 127))
            buffer.writeInteger(UInt64(length))
        }
        buffer.writeInteger(UInt32(0))
        return buffer
    }
}
