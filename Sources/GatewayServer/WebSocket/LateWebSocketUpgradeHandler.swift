import GatewayCore
import HummingbirdCore
import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1
import NIOWebSocket

/// A WebSocket upgrade on a kept-alive connection that already served HTTP requests.
///
/// NIO's upgrade handler looks at a connection's first request only; after it the connection
/// belongs to the router. Clients that pool connections (aiohttp, so python-socketio's
/// `AsyncClient`; browsers may too) send the polling→WebSocket upgrade on a connection their
/// polling requests used, and the reference server upgrades there as anywhere. This handler
/// sits between the HTTP codec and the router's handlers: an upgrade request for the engine
/// is taken out of the HTTP stream, the engine finds its session, the 101 goes out, and the
/// pipeline becomes a WebSocket one with no yield in between (so no frame can arrive in an
/// HTTP pipeline). A refused upgrade is answered as on a first request, and the connection
/// closes: NIO's HTTP parser reads nothing after a request that asked to upgrade.
final class LateWebSocketUpgradeHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        case http
        /// Head held back until its end arrives.
        case requested(HTTPRequestHead)
        case upgrading
    }

    private let upgrader: NIOTypedWebSocketServerUpgrader<Bool>
    private let resolve: (any Channel, HTTPRequestHead) -> EventLoopFuture<EngineUpgrade>
    private let refusal: () -> EngineRequestError?
    private let maxFrameSize: Int
    private var state = State.http
    /// Requests passed to the router and not answered yet. An upgrade pipelined behind one
    /// cannot be served (its 101 would overtake the answer, and the router would write into
    /// a WebSocket): the connection is closed, as no real client sends that.
    private var unanswered = 0

    /// `shouldUpgrade`: the same check as on a first request (headers, or nil to refuse);
    /// `resolve`: the engine's session for the request it accepted; `refusal`: why the engine
    /// refused (nil: not the engine's path).
    init(
        maxFrameSize: Int,
        shouldUpgrade: @escaping @Sendable (any Channel, HTTPRequestHead) -> EventLoopFuture<HTTPHeaders?>,
        resolve: @escaping (any Channel, HTTPRequestHead) -> EventLoopFuture<EngineUpgrade>,
        refusal: @escaping () -> EngineRequestError?
    ) {
        upgrader = NIOTypedWebSocketServerUpgrader(
            maxFrameSize: maxFrameSize, enableAutomaticErrorHandling: false, shouldUpgrade: shouldUpgrade,
            upgradePipelineHandler: { channel, _ in channel.eventLoop.makeSucceededFuture(true) }
        )
        self.resolve = resolve
        self.refusal = refusal
        self.maxFrameSize = maxFrameSize
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        switch (state, part) {
        case (.http, .head(let head)) where Self.asksForWebSocket(head):
            state = .requested(head)
        case (.http, .head):
            unanswered += 1
            context.fireChannelRead(data)
        case (.requested, .body):
            break  // an upgrade request has no body worth keeping
        case (.requested(let head), .end):
            state = .upgrading
            guard unanswered == 0 else {
                context.close(promise: nil)
                return
            }
            upgrade(context: context, head: head)
        case (.upgrading, _):
            break  // a client waits for the 101 before it sends anything more
        default:
            context.fireChannelRead(data)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { unanswered -= 1 }
        context.write(data, promise: promise)
    }

    /// `Upgrade: websocket` with `Connection: upgrade`, as RFC 6455 clients send: the HTTP parser
    /// stops after such a request, so nothing after it is read as HTTP.
    static func asksForWebSocket(_ head: HTTPRequestHead) -> Bool {
        head.method == .GET && head.headers[canonicalForm: "upgrade"].contains { $0.lowercased() == "websocket" }
            && head.headers[canonicalForm: "connection"].contains { $0.lowercased() == "upgrade" }
    }

    private func upgrade(context: ChannelHandlerContext, head: HTTPRequestHead) {
        let channel = context.channel
        let resolve = resolve
        let accepted = upgrader.buildUpgradeResponse(channel: channel, upgradeRequest: head, initialResponseHeaders: [:])
            .flatMap { headers in resolve(channel, head).map { (headers, $0) } }
            .hop(to: context.eventLoop)
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        accepted.whenComplete { result in
            let (handler, context) = loopBound.value
            switch result {
            case .success(let (headers, engineUpgrade)):
                handler.switchProtocols(context: context, head: head, headers: headers, engineUpgrade: engineUpgrade)
            case .failure:
                handler.refuse(context: context, head: head)
            }
        }
    }

    /// 101, then the WebSocket handlers where this one is; the HTTP handlers go (a frame written
    /// through them would be taken for an HTTP part), and only then may the session write.
    private func switchProtocols(context: ChannelHandlerContext, head: HTTPRequestHead, headers: HTTPHeaders, engineUpgrade: EngineUpgrade) {
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .switchingProtocols, headers: headers))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        let operations = context.pipeline.syncOperations
        do {
            let decoder = ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: maxFrameSize))
            try operations.addHandler(decoder, position: .after(self))
            try engineUpgrade.install(on: context.channel, position: .after(decoder), startNow: false)
            for handler in [
                try? operations.handler(type: HTTP1ToHTTPServerCodec.self) as (any RemovableChannelHandler)?,
                try? operations.handler(type: HTTPConnectionStateHandler.self),
                try? operations.handler(type: InlineRouteHandler.self),
                try? operations.handler(type: HTTPResponseEncoder.self),
                try? operations.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self),
            ].compactMap({ $0 }) {
                operations.removeHandler(handler, promise: nil)
            }
            operations.removeHandler(context: context, promise: nil)
            // Only now: a new session writes its open packet at once.
            engineUpgrade.start()
        } catch {
            engineUpgrade.abandon()
            context.close(promise: nil)
        }
    }

    /// The engine's error as on a first request (not the engine's path: 404), then close.
    private func refuse(context: ChannelHandlerContext, head: HTTPRequestHead) {
        let error = refusal()
        let body = ByteBuffer(string: error?.json ?? #"{"error":{"code":"NOT_FOUND","message":"Not Found"}}"#)
        var headers = HTTPHeaders([("connection", "close"), ("content-type", "application/json"), ("content-length", "\(body.readableBytes)")])
        if let seconds = error?.retryAfterSeconds { headers.add(name: "retry-after", value: "\(seconds)") }
        let status = error.map { HTTPResponseStatus(statusCode: $0.status) } ?? .notFound
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlushThenClose(wrapOutboundOut(.end(nil)))
    }
}
