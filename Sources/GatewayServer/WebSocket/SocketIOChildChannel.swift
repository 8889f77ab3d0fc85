import GatewayCore
import GatewayTLS
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOWebSocket

/// Hummingbird child channel for the gateway: plain HTTP goes to the router; a WebSocket upgrade
/// on the Engine.IO path ends in a synchronous ``EngineWebSocketHandler`` instead of
/// Hummingbird's actor-and-async-writer WebSocket path, so broadcasts write straight to the
/// channel (modelled on hummingbird-websocket's `HTTP1WebSocketUpgradeChannel`).
public struct SocketIOChildChannel: ServerChildChannel, HTTPChannelHandler {
    public enum UpgradeResult: Sendable {
        case websocket
        case notUpgraded(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
        case refused(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, EngineRequestError)
    }

    public struct Value: ServerChildChannelValue {
        let result: EventLoopFuture<UpgradeResult>
        public let channel: any Channel
    }

    public let responder: HTTPChannelHandler.Responder
    let mounts: [EngineMount]
    /// Routes answered on the event loop, before the router's task (``InlineRoute``).
    let inlineRoutes: [InlineRoute]
    /// Bounds for plain HTTP connections: the first mount's engine unless given.
    let limits: HTTPLimits?
    /// TLS on this listener (`wss://`, `https://` polling); nil: plain.
    let tls: ServerTLS?
    let logger: Logger

    /// Outbound buffer watermarks: past `high` a socket counts as not writable and its data
    /// waits in the session backlog (where market data may conflate).
    static let writeBufferWaterMark = ChannelOptions.Types.WriteBufferWaterMark(low: 128 * 1024, high: 512 * 1024)

    public init(
        responder: @escaping HTTPChannelHandler.Responder, mounts: [EngineMount], inlineRoutes: [InlineRoute] = [], limits: HTTPLimits? = nil,
        tls: ServerTLS? = nil, logger: Logger
    ) {
        self.responder = responder
        self.mounts = mounts
        self.inlineRoutes = inlineRoutes
        self.limits = limits ?? mounts.first.map { HTTPLimits(engine: $0.engine, loops: $0.engine.loops) }
        self.tls = tls
        self.logger = logger
    }

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.syncOptions?.setOption(ChannelOptions.writeBufferWaterMark, value: Self.writeBufferWaterMark)
            // Hummingbird's server allows half-closed connections; ours do not: a client's FIN
            // (or RST) ends the connection at once, so a closed WebSocket or an abandoned
            // long-poll ends its session with "transport close" instead of living on until a
            // heartbeat write fails.
            try channel.syncOptions?.setOption(ChannelOptions.allowRemoteHalfClosure, value: false)
            // Realtime traffic: no Nagle delay behind an unacknowledged segment.
            try channel.syncOptions?.setOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            if let size = limits?.engine.configuration.socketSendBuffer, size > 0 {
                try channel.syncOptions?.setOption(ChannelOptions.socketOption(.so_sndbuf), value: SocketOptionValue(size))
            }
            // The newest certificate for each new connection; one that is not TLS at all (plain
            // HTTP on this port) fails the handshake and is closed, nothing more.
            if let tls { try channel.pipeline.syncOperations.addHandler(tls.makeHandler()) }
            let refusal = NIOLoopBoundBox<EngineRequestError?>(nil, eventLoop: channel.eventLoop)
            let intent = NIOLoopBoundBox<(EngineRequest.Intent, EngineMount)?>(nil, eventLoop: channel.eventLoop)
            let mounts = mounts
            let inlineRoutes = inlineRoutes
            let tls = tls
            let maxFrameSize = max(mounts.map(\.engine.configuration.maxPayload).max() ?? 0, 1 << 14)
            let shouldUpgrade: @Sendable (any Channel, HTTPRequestHead) -> EventLoopFuture<HTTPHeaders?> = { channel, head in
                // RFC 6455 asks for `Connection: upgrade`; without it the HTTP parser would read
                // on past the request, into what must be WebSocket frames.
                guard LateWebSocketUpgradeHandler.asksForWebSocket(head) else { return channel.eventLoop.makeSucceededFuture(nil) }
                let uri = URI(head.uri)
                let (target, query) = (uri.path, uri.queryDictionary)
                guard let mount = mounts.first(where: { $0.matches(target) }) else {
                    return channel.eventLoop.makeSucceededFuture(nil)
                }
                let engine = mount.engine
                let request = EngineRequest(method: .get, query: query, origin: head.headers.first(name: "origin"), isWebSocketUpgrade: true)
                switch request.validate(engine.configuration) {
                case .success(let validated):
                    // A new session is admitted (sessions and handshake rates) before the 101.
                    if validated == .webSocketHandshake, let busy = engine.admit(EngineUpgrade.clientAddress(channel, head, engine), acquire: false) {
                        refusal.value = busy
                        return channel.eventLoop.makeSucceededFuture(nil)
                    }
                    intent.value = (validated, mount)
                    // Out before NIO removes the request decoder: bytes after the upgrade
                    // request are frames, which must not reach an HTTP-part handler.
                    HTTPRequestDeadlineHandler.remove(from: channel)
                    return channel.eventLoop.makeSucceededFuture(EngineUpgrade.responseHeaders(head, engine: engine))
                case .failure(let error):
                    refusal.value = error
                    return channel.eventLoop.makeSucceededFuture(nil)
                }
            }
            let resolve: @Sendable (any Channel, HTTPRequestHead) -> EventLoopFuture<EngineUpgrade> = { channel, head in
                guard let (validated, mount) = intent.value else {
                    return channel.eventLoop.makeFailedFuture(ChannelError.inappropriateOperationForState)
                }
                return EngineUpgrade.resolve(channel: channel, head: head, intent: validated, engine: mount.engine, parser: mount.parser)
            }
            let upgrader = EngineWebSocketUpgrader<UpgradeResult>(
                maxFrameSize: maxFrameSize,
                shouldUpgrade: shouldUpgrade,
                upgradePipelineHandler: { channel, head in
                    resolve(channel, head).flatMapThrowing { upgrade in
                        try upgrade.install(on: channel, position: .last)
                        return .websocket
                    }
                }
            )
            let configuration = NIOTypedHTTPServerUpgradeConfiguration(
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { channel in
                    channel.eventLoop.makeCompletedFuture {
                        // A later request on this kept-alive connection may still upgrade.
                        try channel.pipeline.syncOperations.addHandler(
                            LateWebSocketUpgradeHandler(maxFrameSize: maxFrameSize, shouldUpgrade: shouldUpgrade, resolve: resolve) { refusal.value }
                        )
                        try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: tls != nil))
                        try channel.pipeline.syncOperations.addHandler(HTTPConnectionStateHandler(idleTimeout: nil, logger: logger))
                        if !inlineRoutes.isEmpty {
                            try channel.pipeline.syncOperations.addHandler(InlineRouteHandler(routes: inlineRoutes))
                        }
                        let asyncChannel = try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
                            wrappingChannelSynchronously: channel,
                            configuration: .init(isOutboundHalfClosureEnabled: true)
                        )
                        if let error = refusal.value { return .refused(asyncChannel, error) }
                        return .notUpgraded(asyncChannel)
                    }
                }
            )
            var pipeline = NIOUpgradableHTTPServerPipelineConfiguration<UpgradeResult>(upgradeConfiguration: configuration)
            pipeline.enablePipelining = false
            pipeline.enableErrorHandling = false
            pipeline.enableResponseHeaderValidation = false
            let result = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(configuration: pipeline)
            if let limits {
                try HTTPRequestDeadlineHandler.install(
                    on: channel,
                    configuration: limits.engine.configuration,
                    metrics: limits.engine.metrics,
                    loop: limits.loops.context(for: channel.eventLoop)
                )
            }
            return Value(result: result, channel: channel)
        }
    }

    public func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.result.get() {
            case .websocket:
                break  // GatewayListener never hands these over: a WebSocket needs no task
            case .notUpgraded(let http1):
                await handleHTTP(asyncChannel: http1, logger: logger)
            case .refused(let http1, let error):
                try await http1.executeThenClose { _, outbound in
                    let body = ByteBuffer(string: error.json)
                    var head = HTTPResponse(
                        status: .init(code: error.status),
                        headerFields: [.connection: "close", .contentType: "application/json", .contentLength: "\(body.readableBytes)"]
                    )
                    if let seconds = error.retryAfterSeconds { head.headerFields[.retryAfter] = "\(seconds)" }
                    try await outbound.write(contentsOf: [.head(head), .body(body), .end(nil)])
                }
            }
        } catch {
            logger.trace("Connection ended during upgrade", metadata: ["error.type": "\(error)"])
        }
    }
}
