import GatewayJSON

extension SocketPacket {
    public static let defaultMaximumAttachments = 10
    static let maximumNamespaceLength = 256
    static let maximumAckDigits = 15

    /// Decodes the text of an Engine.IO message into a Socket.IO packet:
    /// `<type>[<attachments>-][<nsp>,][<ackId>][<JSON>]`. Binary packets come back with
    /// `attachmentCount` set and placeholders still in `data`; feed them to ``BinaryAssembler``.
    public static func decode(_ text: String, maximumAttachments: Int = defaultMaximumAttachments) throws(CodecError) -> SocketPacket {
        var text = text
        return try text.withUTF8 { bytes in
            Result { () throws(CodecError) in try decode(utf8: bytes, maximumAttachments: maximumAttachments) }
        }.get()
    }

    public static func decode(utf8 bytes: UnsafeBufferPointer<UInt8>, maximumAttachments: Int = defaultMaximumAttachments)
        throws(CodecError) -> SocketPacket
    {
        guard let first = bytes.first else { throw CodecError(.emptyPacket, "a Socket.IO packet needs a type") }
        guard first >= UInt8(ascii: "0"), first <= UInt8(ascii: "6"), let type = PacketType(rawValue: first - UInt8(ascii: "0"))
        else {
            throw CodecError(.unknownSocketPacketType, "packet type byte \(first) is not 0-6")
        }
        var index = 1
        var attachmentCount = 0
        if type == .binaryEvent || type == .binaryAck {
            let start = index
            var count = 0
            while index < bytes.count, isDigit(bytes[index]), index - start < 4 {
                count = count * 10 + Int(bytes[index] - UInt8(ascii: "0"))
                index += 1
            }
            guard index > start, index < bytes.count, bytes[index] == UInt8(ascii: "-") else {
                throw CodecError(.invalidAttachmentCount, "binary packet needs '<count>-'")
            }
            guard count <= maximumAttachments else {
                throw CodecError(.tooManyAttachments, "\(count) attachments, at most \(maximumAttachments) allowed")
            }
            attachmentCount = count
            index += 1
        }

        var namespace = "/"
        if index < bytes.count, bytes[index] == UInt8(ascii: "/") {
            let start = index
            while index < bytes.count, bytes[index] != UInt8(ascii: ",") {
                guard bytes[index] >= 0x20 else { throw CodecError(.invalidNamespace, "control character in namespace") }
                index += 1
            }
            guard index - start <= maximumNamespaceLength else {
                throw CodecError(.invalidNamespace, "namespace longer than \(maximumNamespaceLength) bytes")
            }
            guard let name = String(validating: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self) else {
                throw CodecError(.invalidNamespace, "namespace is not UTF-8")
            }
            namespace = name
            if index < bytes.count { index += 1 }  // the comma
        }

        var ackID: UInt64?
        if index < bytes.count, isDigit(bytes[index]) {
            let start = index
            var value: UInt64 = 0
            while index < bytes.count, isDigit(bytes[index]) {
                guard index - start < maximumAckDigits else { throw CodecError(.invalidAckID, "ack id longer than \(maximumAckDigits) digits") }
                value = value * 10 + UInt64(bytes[index] - UInt8(ascii: "0"))
                index += 1
            }
            ackID = value
        }

        var data: JSONValue?
        if index < bytes.count {
            do {
                data = try JSONParser.parse(UnsafeBufferPointer(rebasing: bytes[index...]))
            } catch {
                throw .invalidJSON(error.detail)
            }
        }
        let packet = SocketPacket(type: type, namespace: namespace, ackID: ackID, data: data, attachmentCount: attachmentCount)
        try packet.validatePayload()
        return packet
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    /// The payload rules of socket.io-parser: each packet type allows one payload shape.
    func validatePayload() throws(CodecError) {
        switch type {
        case .connect:
            guard data == nil || data!.isObject else { throw CodecError(.invalidPayload, "CONNECT payload must be an object") }
        case .disconnect:
            guard data == nil else { throw CodecError(.invalidPayload, "DISCONNECT carries no payload") }
        case .event, .binaryEvent:
            guard case .array(let items)? = data, let first = items.first else {
                throw CodecError(.invalidPayload, "EVENT payload must be a non-empty array")
            }
            switch first {
            case .number: break
            case .string(let name):
                guard !Self.reservedEventNames.contains(name) else {
                    throw CodecError(.invalidPayload, "'\(name)' is a reserved event name")
                }
            default:
                throw CodecError(.invalidPayload, "event name must be a string")
            }
        case .ack, .binaryAck:
            guard case .array? = data else { throw CodecError(.invalidPayload, "ACK payload must be an array") }
            guard ackID != nil else { throw CodecError(.invalidAckID, "ACK needs an id") }
        case .connectError:
            switch data {
            case .string?, .object?: break
            default: throw CodecError(.invalidPayload, "CONNECT_ERROR payload must be a string or an object")
            }
        }
    }
}
