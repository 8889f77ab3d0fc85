import NIOCore

/// The header of a server-to-client WebSocket frame (RFC 6455 §5.2: FIN set, never masked).
/// Pure bytes: a broadcast is framed once here and the same buffer is written to every socket,
/// so the header is part of the encoded packet rather than something each socket adds.
public enum WebSocketFrameHeader {
    public enum Opcode: UInt8, Sendable {
        case text = 0x1
        case binary = 0x2
        case close = 0x8
        case pong = 0xA
    }

    /// Writes the header for a payload of `length` bytes and returns the header's length.
    /// `compressed`: RSV1, the payload is permessage-deflate compressed (RFC 7692 §6).
    @discardableResult
    public static func write(_ opcode: Opcode, length: Int, compressed: Bool = false, into buffer: inout ByteBuffer) -> Int {
        buffer.writeInteger(0x80 | (compressed ? 0x40 : 0) | opcode.rawValue)
        if length < 126 {
            buffer.writeInteger(UInt8(length))
            return 2
        } else if length <= Int(UInt16.max) {
            buffer.writeInteger(UInt8(126))
            buffer.writeInteger(UInt16(length))
            return 4
        } else {
            buffer.writeInteger(UInt8(127))
            buffer.writeInteger(UInt64(length))
            return 10
        }
    }

    /// A complete close frame carrying `code` (1000 normal, 1002 protocol error, 1009 too big).
    public static func closeFrame(code: UInt16, allocator: ByteBufferAllocator) -> ByteBuffer {
        var frame = allocator.buffer(capacity: 4)
        write(.close, length: 2, into: &frame)
        frame.writeInteger(code)
        return frame
    }
}
