/// How a session's Socket.IO packets are written on the wire: socket.io-parser's text (the
/// default path), or socket.io-msgpack-parser's MessagePack maps (the msgpack path). Chosen by
/// the path a client connects to; every namespace, event, ack, error and recovery offset works
/// the same over both.
public enum SocketIOParser: String, Sendable {
    case json
    case msgpack
}
