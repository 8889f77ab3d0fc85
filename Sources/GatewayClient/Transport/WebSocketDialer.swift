import GatewayTLS
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket
import WireCompression

/// Opens an Engine.IO WebSocket (`?EIO=4&transport=websocket`) to a gateway.
enum WebSocketDialer {
    enum UpgradeResult: Sendable {
        case websocket(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>)
        case notUpgraded
    }

    /// `headers`: extra request headers (e.g. `Authorization`). `maxFrameSize` bounds one
    /// incoming message (a book snapshot or a recovery replay can be large), inflated or not.
    /// `timeout` covers the TCP connect, the TLS handshake and the 101 together. `deflate`:
    /// offer permessage-deflate; when the server accepts, its compressed messages are inflated
    /// here (the client sends its own small messages uncompressed, which the extension allows).
    static func connect(
        to endpoint: GatewayEndpoint,
        headers extra: [(String, String)] = [],
        maxFrameSize: Int = 1 << 24,
        timeout: TimeAmount = .seconds(10),
        deflate: Bool = true
    ) async throws(GatewayClientError) -> NIOAsyncChannel<WebSocketFrame, WebSocketFrame> {
        let host = endpoint.host
        let tls = endpoint.tls
        let uri = endpoint.path + "?EIO=4&transport=websocket"
        let result: UpgradeResult
        do {
            let upgrade: EventLoopFuture<UpgradeResult> = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(timeout)
                .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                .connect(host: host, port: endpoint.port) { channel in
                    // A server that accepts and then stalls the handshake is given up on. The timer
                    // belongs to this channel (NIO may try several addresses, each with its own).
                    let stall = channel.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
                    channel.closeFuture.whenComplete { _ in stall.cancel() }
                    return channel.eventLoop.makeCompletedFuture {
                        if let tls { try channel.pipeline.syncOperations.addHandler(ClientTLS.handler(context: tls, host: host)) }
                        let upgrader = NIOTypedWebSocketClientUpgrader<UpgradeResult>(maxFrameSize: maxFrameSize, upgradePipelineHandler: { channel, response in
                            channel.eventLoop.makeCompletedFuture {
                                // An extension the client did not offer is not agreed: RSV1 then closes.
                                let agreed = deflate ? PerMessageDeflate.agreement(fromResponse: response.headers[canonicalForm: "sec-websocket-extensions"].map(String.init)) : nil
                                // One inflater for this connection; it keeps the window only if
                                // the server did not promise to start each message afresh.
                                let inflater = try agreed.map { try MessageInflater(keepsContext: !$0.serverNoContextTakeover) }
                                try channel.pipeline.syncOperations.addHandler(
                                    WebSocketMessageAssembler(maxPayload: maxFrameSize, inflater: inflater)
                                )
                                return .websocket(try NIOAsyncChannel<WebSocketFrame, WebSocketFrame>(wrappingChannelSynchronously: channel))
                            }
                        })
                        var headers = HTTPHeaders()
                        headers.add(name: "Host", value: host)
                        headers.add(name: "Content-Length", value: "0")
                        if deflate { headers.add(name: "Sec-WebSocket-Extensions", value: PerMessageDeflate.clientOffer) }
                        for (name, value) in extra { headers.add(name: name, value: value) }
                        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: uri, headers: headers)
                        let configuration = NIOTypedHTTPClientUpgradeConfiguration(
                            upgradeRequestHead: head,
                            upgraders: [upgrader],
                            notUpgradingCompletionHandler: { channel in channel.eventLoop.makeCompletedFuture { .notUpgraded } }
                        )
                        var pipeline = NIOUpgradableHTTPClientPipelineConfiguration(upgradeConfiguration: configuration)
                        // The gateway's Engine.IO open packet often shares a TCP segment with the
                        // 101 response; NIO's default drops bytes left after the response.
                        pipeline.leftOverBytesStrategy = .forwardBytes
                        let upgraded = try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(configuration: pipeline)
                        upgraded.whenComplete { _ in stall.cancel() }
                        return upgraded
                    }
                }
            result = try await upgrade.get()
        } catch let error as NIOSSLError {
            throw .tls("\(error)")
        } catch let error as BoringSSLError {
            throw .tls("\(error)")
        } catch {
            throw .connectionFailed("cannot reach \(host):\(endpoint.port): \(error)")
        }
        guard case .websocket(let channel) = result else {
            throw .connectionFailed("the gateway refused the WebSocket upgrade")
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

extension WebSocketFrame {
    /// A client text frame (clients mask what they send).
    static func clientText(_ text: String) -> WebSocketFrame {
        WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: ByteBuffer(string: text))
    }
}
