import GatewayJSON
import NIOCore
import NIOWebSocket
import SocketIOCodec

/// A one-shot Socket.IO call over a WebSocket: connect to one namespace with an auth payload,
/// emit one event, return its ack. What `gateway admin` needs; streams and reconnects are
/// ``GatewayClient``'s job.
public struct SocketIOClient: Sendable {
    private let endpoint: GatewayEndpoint

    /// `url`: `http://host:port`, `ws://host:port`, or over TLS `https://…` / `wss://…`, checked
    /// against the system's trust store or the CA certificates in `caFile` (PEM).
    public init(url: String, path: String = "/socket.io/", caFile: String? = nil) throws(GatewayClientError) {
        endpoint = try GatewayEndpoint(url: url, path: path, caFile: caFile)
    }

    /// Connects to `namespace` with `auth`, emits `event` with `payload`, and returns the ack's
    /// first argument.
    public func call(namespace: String, auth: JSONValue, event: String, payload: JSONValue) async throws -> JSONValue {
        let channel = try await WebSocketDialer.connect(to: endpoint)
        return try await channel.executeThenClose { inbound, outbound in
            var frames = inbound.makeAsyncIterator()
            func send(_ text: String) async throws {
                try await outbound.write(.clientText(text))
            }
            func next() async throws -> SocketPacket {
                while let frame = try await frames.next() {
                    switch frame.opcode {
                    case .connectionClose: throw GatewayClientError.connectionFailed("the gateway closed the connection")
                    case .text:
                        switch try EnginePacket.decode(textFrame: frame.unmaskedData) {
                        case .ping: try await send("3")
                        case .message(let text): return try SocketPacket.decode(text)
                        case .close: throw GatewayClientError.connectionFailed("the gateway closed the session")
                        default: continue
                        }
                    default: continue
                    }
                }
                throw GatewayClientError.disconnected
            }
            try await send("4" + SocketPacket(type: .connect, namespace: namespace, data: auth).encode().text)
            var reply = try await next()
            while reply.namespace != namespace || (reply.type != .connect && reply.type != .connectError) {
                reply = try await next()
            }
            if reply.type == .connectError {
                throw GatewayClientError.connectRefused(
                    namespace: namespace,
                    code: GatewayErrorCode(reply.data?["data"]?["code"]?.stringValue ?? "UNAUTHORIZED"),
                    message: reply.data?["message"]?.stringValue ?? "refused"
                )
            }
            try await send("4" + SocketPacket.event(event, [payload], namespace: namespace, ackID: 1).encode().text)
            while true {
                let packet = try await next()
                if packet.type == .ack, packet.ackID == 1, packet.namespace == namespace {
                    return packet.data?.arrayValue?.first ?? .null
                }
            }
        }
    }
}
