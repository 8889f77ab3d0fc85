import GatewayJSON
import NIOCore

/// The msgpack parser's packet form (socket.io-msgpack-parser; python-socketio's
/// `serializer='msgpack'`): the whole packet is one MessagePack map `{type, data, nsp, id}` in
/// one Engine.IO binary message. Binary values travel inside it, so there are no attachments and
/// no BINARY_EVENT/BINARY_ACK on the way out (they are read as EVENT/ACK on the way in).
extension SocketPacket {
    public func encodeMessagePack(into buffer: inout ByteBuffer) throws(CodecError) {
        let wireType = type.withoutAttachments
        buffer.writeInteger(UInt8(0x80 | (2 + (data == nil ? 0 : 1) + (ackID == nil ? 0 : 1))))
        MessagePackWriter.writeString("type", into: &buffer)
        MessagePackWriter.writeInteger(Int64(wireType.rawValue), into: &buffer)
        if let data {
            MessagePackWriter.writeString("data", into: &buffer)
            try MessagePackWriter.write(data, into: &buffer)
        }
        MessagePackWriter.writeString("nsp", into: &buffer)
        MessagePackWriter.writeString(namespace, into: &buffer)
        if let ackID {
            MessagePackWriter.writeString("id", into: &buffer)
            MessagePackWriter.writeUnsigned(ackID, into: &buffer)
        }
    }

    public func encodeMessagePack(allocator: ByteBufferAllocator = ByteBufferAllocator()) throws(CodecError) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 64)
        try encodeMessagePack(into: &buffer)
        return buffer
    }

    /// One packet from an Engine.IO binary message, held to the same rules as a text packet.
    public static func decode(messagePack bytes: ByteBuffer) throws(CodecError) -> SocketPacket {
        let map = try MessagePackReader.read(bytes)
        guard case .object = map else { throw CodecError(.invalidMessagePack, "a packet must be a map") }
        guard let typeNumber = map["type"]?.intValue, (0...6).contains(typeNumber), let decodedType = PacketType(rawValue: UInt8(typeNumber)) else {
            throw CodecError(.unknownSocketPacketType, "packet type must be an integer 0-6")
        }
        guard case .string(let namespace)? = map["nsp"] else { throw CodecError(.invalidNamespace, "nsp must be a string") }
        // The text parser's rules, so that every namespace has a text form too (it ends at a comma).
        guard namespace.hasPrefix("/"), namespace.utf8.count <= maximumNamespaceLength,
            !namespace.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: ",") })
        else {
            throw CodecError(.invalidNamespace, "nsp must start with / and hold at most \(maximumNamespaceLength) printable bytes, no comma")
        }
        var ackID: UInt64?
        if let id = map["id"], id != .null {
            guard case .number(let text) = id, text.count <= maximumAckDigits, let value = UInt64(text) else {
                throw CodecError(.invalidAckID, "id must be a non-negative integer of at most \(maximumAckDigits) digits")
            }
            ackID = value
        }
        let type = decodedType.withoutAttachments
        var data = map["data"]
        if case .null? = data { data = nil }  // python-socketio writes `data: None` for a CONNECT without auth
        let packet = SocketPacket(type: type, namespace: namespace, ackID: ackID, data: data)
        try packet.validatePayload()
        return packet
    }
}

extension SocketPacket.PacketType {
    /// BINARY_EVENT and BINARY_ACK as EVENT and ACK: in MessagePack binary values are inline.
    var withoutAttachments: Self {
        switch self {
        case .binaryEvent: .event
        case .binaryAck: .ack
        default: self
        }
    }
}
