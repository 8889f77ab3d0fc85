import GatewayJSON
import NIOCore

/// Collects the binary messages that follow a BINARY_EVENT / BINARY_ACK header and puts each
/// in place of its `{"_placeholder":true,"num":k}` (matched by `num`, not by position).
public struct BinaryAssembler: Sendable {
    public let header: SocketPacket
    private var attachments: [ByteBuffer] = []

    public init(header: SocketPacket) {
        self.header = header
        attachments.reserveCapacity(header.attachmentCount)
    }

    public var isComplete: Bool { attachments.count == header.attachmentCount }

    /// Adds one attachment; returns the finished packet once the last one arrives.
    public mutating func add(_ attachment: ByteBuffer) throws(CodecError) -> SocketPacket? {
        guard attachments.count < header.attachmentCount else {
            throw CodecError(.unexpectedAttachment, "more attachments than announced")
        }
        attachments.append(attachment)
        return isComplete ? try assemble() : nil
    }

    /// Builds the packet (also valid for a header that announced zero attachments).
    public func assemble() throws(CodecError) -> SocketPacket {
        var packet = header
        var used = Set<Int>()
        if let data = header.data {
            packet.data = try Self.substitute(data, attachments: attachments, used: &used)
        }
        guard used.count == attachments.count else {
            throw CodecError(.invalidPlaceholder, "\(attachments.count) attachments but \(used.count) placeholders")
        }
        packet.attachmentCount = 0
        packet.type = header.type
        return packet
    }

    private static func substitute(_ value: JSONValue, attachments: [ByteBuffer], used: inout Set<Int>) throws(CodecError) -> JSONValue {
        switch value {
        case .array(let items):
            var output: [JSONValue] = []
            output.reserveCapacity(items.count)
            for item in items { output.append(try substitute(item, attachments: attachments, used: &used)) }
            return .array(output)
        case .object(let members):
            if members.contains(where: { $0.key == "_placeholder" }) {
                guard members.count == 2, value["_placeholder"] == .bool(true), let number = value["num"]?.intValue else {
                    throw CodecError(.invalidPlaceholder, "placeholder must be {\"_placeholder\":true,\"num\":k}")
                }
                guard number >= 0, number < attachments.count else {
                    throw CodecError(.invalidPlaceholder, "placeholder num \(number) out of range")
                }
                used.insert(number)
                return .binary(attachments[number])
            }
            var output: [JSONMember] = []
            output.reserveCapacity(members.count)
            for member in members {
                output.append(JSONMember(member.key, try substitute(member.value, attachments: attachments, used: &used)))
            }
            return .object(output)
        default:
            return value
        }
    }
}
