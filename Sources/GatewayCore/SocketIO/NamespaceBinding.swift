import GatewayJSON

/// A socket's namespace handler together with the state the handler keeps for it, each with its
/// own type: the connection calls through this without knowing either, and the handler gets its
/// state back as it made it.
protocol NamespaceBinding: AnyObject {
    func received(event: String, arguments: [JSONValue], ack: Acknowledgement?, from socket: NamespaceSocket)
    func disconnected(_ socket: NamespaceSocket, reason: DisconnectReason)
    func resync(_ key: ConflationKey, skipped: ClosedRange<UInt64>?, socket: NamespaceSocket)
    func gapNotice(_ key: ConflationKey, skipped: ClosedRange<UInt64>, socket: NamespaceSocket) -> EncodedFrame?
}

final class HandlerBinding<Handler: NamespaceHandler>: NamespaceBinding {
    let handler: Handler
    let state: Handler.SocketState

    init(handler: Handler, state: Handler.SocketState) {
        self.handler = handler
        self.state = state
    }

    func received(event: String, arguments: [JSONValue], ack: Acknowledgement?, from socket: NamespaceSocket) {
        handler.received(event: event, arguments: arguments, ack: ack, from: socket, state: state)
    }

    func disconnected(_ socket: NamespaceSocket, reason: DisconnectReason) {
        handler.disconnected(socket, state: state, reason: reason)
    }

    func resync(_ key: ConflationKey, skipped: ClosedRange<UInt64>?, socket: NamespaceSocket) {
        handler.resync(key, skipped: skipped, socket: socket, state: state)
    }

    func gapNotice(_ key: ConflationKey, skipped: ClosedRange<UInt64>, socket: NamespaceSocket) -> EncodedFrame? {
        handler.gapNotice(key, skipped: skipped, socket: socket, state: state)
    }
}
