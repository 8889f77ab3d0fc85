import GatewayJSON
import GatewayCore

/// The app the socket.io-protocol test suite expects: on connect emit `auth` with the CONNECT
/// payload; `message` → `message-back` with the same arguments; `message-with-ack` → an ack with
/// the same arguments. Two extras for interop tests: `join` a room and `broadcast` to one.
final class EchoNamespace: NamespaceHandler {
    let name: NamespacePath
    private let broadcaster: Broadcaster

    init(name: NamespacePath, broadcaster: Broadcaster) {
        self.name = name
        self.broadcaster = broadcaster
    }

    func connected(_ socket: NamespaceSocket, admission: Void) -> NoSocketState {
        socket.emit("auth", [socket.auth])
        return NoSocketState()
    }

    func received(event: String, arguments: [JSONValue], ack: Acknowledgement?, from socket: NamespaceSocket, state: NoSocketState) {
        switch event {
        case "message":
            socket.emit("message-back", arguments)
        case "message-with-ack":
            ack?.send(arguments)
        case "join":
            if let room = arguments.first?.stringValue { socket.join(RoomKey(namespace: name, name: room)) }
            ack?.send([.bool(true)])
        case "broadcast":
            guard arguments.count >= 2, let room = arguments[0].stringValue, let eventName = arguments[1].stringValue else {
                ack?.send([.bool(false)])
                return
            }
            broadcaster.emit(to: RoomKey(namespace: name, name: room), event: eventName, arguments: Array(arguments.dropFirst(2)))
            ack?.send([.bool(true)])
        case "disconnect-me":
            socket.disconnect()
        default:
            break
        }
    }
}
