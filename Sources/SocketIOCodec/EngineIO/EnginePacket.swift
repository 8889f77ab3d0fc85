import NIOCore

/// One Engine.IO v4 packet. Text payloads are kept as `String`; a binary message keeps its bytes.
public enum EnginePacket: Sendable, Hashable {
    case open(String)
    case close
    case ping(String)
    case pong(String)
    case message(String)
    case binaryMessage(ByteBuffer)
    case upgrade
    case noop

    public enum PacketType: UInt8, Sendable {
        case open = 0, close, ping, pong, message, upgrade, noop
    }

    public var type: PacketType {
        switch self {
        case .open: .open
        case .close: .close
        case .ping: .ping
        case .pong: .pong
        case .message, .binaryMessage: .message
        case .upgrade: .upgrade
        case .noop: .noop
        }
    }
}
