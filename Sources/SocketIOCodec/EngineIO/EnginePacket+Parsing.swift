import NIOCore

extension EnginePacket {
    /// Decodes a WebSocket text frame or one polling record: `<type digit><payload>`.
    /// A leading `b` is a base64 binary message (polling, or WebSocket with `b64=1`).
    public static func decode(text: String) throws(CodecError) -> EnginePacket {
        var text = text
        return try text.withUTF8 { bytes in Result { () throws(CodecError) in try decode(utf8: bytes) } }.get()
    }

    /// Decodes one packet from UTF-8 bytes (a WebSocket text frame's payload).
    public static func decode(utf8 bytes: UnsafeBufferPointer<UInt8>) throws(CodecError) -> EnginePacket {
        guard let first = bytes.first else { throw CodecError(.emptyPacket, "an Engine.IO packet needs a type") }
        let rest = UnsafeBufferPointer(rebasing: bytes[1...])
        if first == UInt8(ascii: "b") {
            guard let decoded = Base64.decode(rest) else { throw CodecError(.invalidBase64, "binary record is not base64") }
            var buffer = ByteBufferAllocator().buffer(capacity: decoded.count)
            buffer.writeBytes(decoded)
            return .binaryMessage(buffer)
        }
        guard first >= UInt8(ascii: "0"), first <= UInt8(ascii: "6"), let type = PacketType(rawValue: first - UInt8(ascii: "0"))
        else {
            throw CodecError(.unknownEnginePacketType, "packet type byte \(first) is not 0-6")
        }
        func payload() throws(CodecError) -> String {
            guard let text = String(validating: rest, as: UTF8.self) else {
                throw CodecError(.invalidPayload, "payload is not UTF-8")
            }
            return text
        }
        switch type {
        case .open: return .open(try payload())
        case .close: return .close
        case .ping: return .ping(try payload())
        case .pong: return .pong(try payload())
        case .message: return .message(try payload())
        case .upgrade: return .upgrade
        case .noop: return .noop
        }
    }

    /// Decodes a WebSocket text frame's payload held in a ByteBuffer.
    public static func decode(textFrame buffer: ByteBuffer) throws(CodecError) -> EnginePacket {
        try buffer.withUnsafeReadableBytes { raw in
            Result { () throws(CodecError) in try decode(utf8: raw.bindMemory(to: UInt8.self)) }
        }.get()
    }
}
