import GatewayJSON
import GatewayCore

/// Answers a client event the way SPEC §3 fixes: with an ack id, exactly one ack argument
/// `{"ok":true,…}` or `{"ok":false,"error":{…}}`; without one, failures become an `error` event.
public enum EventReply {
    public static func success(_ fields: [JSONMember] = [], ack: Acknowledgement?) {
        ack?.send([.object([JSONMember("ok", .bool(true))] + fields)])
    }

    public static func failure(_ error: ClientError, event: String, ack: Acknowledgement?, socket: NamespaceSocket) {
        if let ack {
            ack.send([.object([JSONMember("ok", .bool(false)), JSONMember("error", error.json(event: nil))])])
        } else {
            socket.emit("error", [error.json(event: event)])
        }
    }
}
