import GatewayJSON
import GatewayTLS
import NIOCore
import NIOSSL
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import SocketIOCodec

/// A small Socket.IO v5 client over a WebSocket (no polling): connect to one namespace with an
/// auth payload, emit events with acks, answer heartbeats. Used by `gateway admin`; enough for
/// tools and tests, not a full client library.
public final class SocketIOClient: Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    enum UpgradeResult: Sendable {
        case websocket(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>)
        case notUpgraded
    }

    private let host: String
    private let port: Int
    private let path: String
    /// `https://` and `wss://`: the TLS context (system trust store, or `caFile`).
    private let tls: NIOSSLContext?

    /// `url`: `http://host:port`, `ws://host:port`, or over TLS `https://…` / `wss://…`, checked
    /// against the system's trust store or the CA certificates in `caFile` (PEM).
    public init(url: String, path: String = "/socket.io/", caFile: String? = nil) throws {
        var rest = Substring(url)
        var secure = false
        var matched = false
        for (scheme, isSecure) in [("http://", false), ("ws://", false), ("https://", true), ("wss://", true)] where rest.hasPrefix(scheme) {
            rest = rest.dropFirst(scheme.count)
            secure = isSecure
            matched = true
        }
        guard matched || !rest.contains("://") else { throw Failure("expected an http://, https://, ws:// or wss:// URL, got \(url)") }
        let hostPort = rest.split(separator: "/").first ?? ""
        let parts = hostPort.split(separator: ":")
        guard let first = parts.first, !first.isEmpty else { throw Failure("no host in \(url)") }
        host = String(first)
        port = parts.count > 1 ? Int(parts[1]) ?? (secure ? 443 : 80) : (secure ? 443 : 80)
        self.path = path
        if secure {
            do throws(TLSFileError) {
                tls = try ClientTLS(caFile: caFile, keys: ("--ca-file", "", "")).makeContext()
            } catch {
                throw Failure(error.description)
            }
        } else {
            guard caFile == nil else { throw Failure("--ca-file is for https:// and wss:// URLs") }
            tls = nil
        }
    }

    /// Connects to `namespace` with `auth`, emits `event` with `payload`, and returns the ack's
    /// first argument.
    public func call(namespace: String, auth: JSONValue, event: String, payload: JSONValue) async throws -> JSONValue {
        let channel = try await connect()
        return try await channel.executeThenClose { inbound, outbound in
            var frames = inbound.makeAsyncIterator()
            func send(_ text: String) async throws {
                try await outbound.write(WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: ByteBuffer(string: text)))
            }
            func next() async throws -> SocketPacket {
                while let frame = try await frames.next() {
                    switch frame.opcode {
                    case .connectionClose: throw Failure("the gateway closed the connection")
                    case .text:
                        let packet = try EnginePacket.decode(textFrame: frame.unmaskedData)
                        switch packet {
                        case .ping: try await send("3")
                        case .message(let text): return try SocketPacket.decode(text)
                        case .close: throw Failure("the gateway closed the session")
                        default: continue
                        }
                    default: continue
                    }
                }
                throw Failure("the connection ended")
            }
            try await send("4" + SocketPacket(type: .connect, namespace: namespace, data: auth).encode().text)
            var reply = try await next()
            while reply.namespace != namespace || (reply.type != .connect && reply.type != .connectError) {
                reply = try await next()
            }
            if reply.type == .connectError {
                let message = reply.data?["message"]?.stringValue ?? "refused"
                let code = reply.data?["data"]?["code"]?.stringValue.map { " (\($0))" } ?? ""
                throw Failure("connection to \(namespace) refused: \(message)\(code)")
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

    private func connect() async throws -> NIOAsyncChannel<WebSocketFrame, WebSocketFrame> {
        let host = host
        let tls = tls
        let uri = path + "?EIO=4&transport=websocket"
        let upgrade: EventLoopFuture<UpgradeResult> = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(ClientTLS.handler(context: tls, host: host)) }
                    let upgrader = NIOTypedWebSocketClientUpgrader<UpgradeResult>(upgradePipelineHandler: { channel, _ in
                        channel.eventLoop.makeCompletedFuture {
                            .websocket(try NIOAsyncChannel<WebSocketFrame, WebSocketFrame>(wrappingChannelSynchronously: channel))
                        }
                    })
                    var headers = HTTPHeaders()
                    headers.add(name: "Host", value: host)
                    headers.add(name: "Content-Length", value: "0")
                    let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: uri, headers: headers)
                    let configuration = NIOTypedHTTPClientUpgradeConfiguration(
                        upgradeRequestHead: head,
                        upgraders: [upgrader],
                        notUpgradingCompletionHandler: { channel in channel.eventLoop.makeCompletedFuture { .notUpgraded } }
                    )
                    return try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(configuration: .init(upgradeConfiguration: configuration))
                }
            }
        let result: UpgradeResult
        do {
            result = try await upgrade.get()
        } catch let error as NIOSSLError {
            throw Failure("TLS failed: \(error)")
        } catch let error as BoringSSLError {
            throw Failure("TLS failed: \(error)")
        }
        guard case .websocket(let channel) = result else {
            throw Failure("the gateway refused the WebSocket upgrade")
        }
        return channel
    }
}

extension WebSocketMaskingKey {
    static func random() -> WebSocketMaskingKey {
        var generator = SystemRandomNumberGenerator()
        return WebSocketMaskingKey((0..<4).map { _ in UInt8.random(in: .min ... .max, using: &generator) })!
    }
}
