import GatewayJSON
import NIOCore

/// One Socket.IO v5 packet. `data` holds the JSON payload with binary attachments in place
/// (as `.binary` values) once a binary packet is assembled.
public struct SocketPacket: Sendable, Hashable {
    public enum PacketType: UInt8, Sendable, Hashable {
        case connect = 0, disconnect, event, ack, connectError, binaryEvent, binaryAck
    }

    public var type: PacketType
    public var namespace: String
    public var ackID: UInt64?
    public var data: JSONValue?
    /// For a decoded BINARY_EVENT / BINARY_ACK: how many binary messages must follow.
    public var attachmentCount: Int

    public init(type: PacketType, namespace: String = "/", ackID: UInt64? = nil, data: JSONValue? = nil, attachmentCount: Int = 0) {
        self.type = type
        self.namespace = namespace
        self.ackID = ackID
        self.data = data
        self.attachmentCount = attachmentCount
    }

    /// Event names the wire may not carry (they are the client library's own lifecycle events).
    public static let reservedEventNames: Set<String> = [
        "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener",
    ]

    public static func event(_ name: String, _ args: [JSONValue] = [], namespace: String = "/", ackID: UInt64? = nil) -> SocketPacket {
        SocketPacket(type: .event, namespace: namespace, ackID: ackID, data: .array([.string(name)] + args))
    }

    public static func ack(_ args: [JSONValue], namespace: String = "/", ackID: UInt64) -> SocketPacket {
        SocketPacket(type: .ack, namespace: namespace, ackID: ackID, data: .array(args))
    }

    public static func connectError(_ message: String, data: JSONValue? = nil, namespace: String) -> SocketPacket {
        var members = [JSONMember("message", .string(message))]
        if let data { members.append(JSONMember("data", data)) }
        return SocketPacket(type: .connectError, namespace: namespace, data: .object(members))
    }

    /// For events: the name (string or number, as text) and the arguments after it.
    public var eventName: String? {
        guard case .array(let items)? = data, let first = items.first else { return nil }
        switch first {
        case .string(let name): return name
        case .number(let text): return text
        default: return nil
        }
    }

    public var eventArguments: [JSONValue] {
        guard case .array(let items)? = data, !items.isEmpty else { return [] }
        return Array(items.dropFirst())
    }
}
