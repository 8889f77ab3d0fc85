import GatewayCore
import SocketIOCodec

/// `/`: anyone may connect; it carries system broadcasts (`system.broadcast`,
/// `server.shutdown`) and answers `ping`. Every other event is UNKNOWN_EVENT.
public final class RootNamespace: NamespaceHandler {
    public let name = "/"

    public init() {}

    public func received(event: String, arguments: [JSONValue], ack: Acknowledgement?, from socket: NamespaceSocket) {
        switch event {
        case "ping":
            EventReply.success([JSONMember("ts", .number(String(WallClock.milliseconds())))], ack: ack)
        default:
            EventReply.failure(.unknownEvent(event), event: event, ack: ack, socket: socket)
        }
    }
}
