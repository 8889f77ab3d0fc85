/// Why a frame, payload or packet could not be decoded. The `code` is stable and safe to put in
/// metrics labels; `detail` says what was wrong for logs.
public struct CodecError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        case emptyPacket = "empty_packet"
        case unknownEnginePacketType = "unknown_engine_packet_type"
        case invalidBase64 = "invalid_base64"
        case unknownSocketPacketType = "unknown_socket_packet_type"
        case invalidAttachmentCount = "invalid_attachment_count"
        case tooManyAttachments = "too_many_attachments"
        case invalidNamespace = "invalid_namespace"
        case invalidAckID = "invalid_ack_id"
        case invalidJSON = "invalid_json"
        case invalidPayload = "invalid_payload"
        case invalidPlaceholder = "invalid_placeholder"
        case unexpectedAttachment = "unexpected_attachment"
        case tooManyPackets = "too_many_packets"
        case invalidMessagePack = "invalid_msgpack"
    }

    public let code: Code
    public let detail: String

    public init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    public var description: String { "\(code.rawValue): \(detail)" }

    public static func == (lhs: CodecError, rhs: CodecError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    static func invalidJSON(_ detail: String) -> CodecError { CodecError(.invalidJSON, detail) }
}
