import GatewayCore
import GatewayMetrics
import NIOCore
import NIOHTTP1

/// Closes HTTP connections that hold a descriptor without asking for anything: a new
/// connection must deliver a complete request head within `headerTimeout` (headers trickled
/// in one line at a time, or nothing at all: slowloris), and a kept-alive one must send its next
/// head within `idleTimeout` of its last response reaching the socket. While any request is in
/// progress (a long-poll waiting for data, a POST body arriving, a pipelined request) no
/// deadline runs.
///
/// It also bounds what one request head may be: a request target over `maxTargetBytes` is
/// answered 414, a head (target and headers) over `maxHeadBytes` 431, and the connection closes
/// (NIO's parser already stops at 80 KiB; these bounds are the documented, smaller ones).
///
/// Sits right after the HTTP request decoder, so it sees whole request heads and the end of each
/// response. An accepted WebSocket upgrade removes it (``remove(from:)``) before NIO removes the
/// decoder: what follows is frames, not HTTP parts.
final class HTTPRequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    static let name = "gateway.request-deadline"

    private let headerTimeout: TimeAmount
    private let idleTimeout: TimeAmount
    private let maxHeadBytes: Int
    private let maxTargetBytes: Int
    /// A head was refused: nothing more of this connection is read.
    private var refused = false
    private let metrics: GatewayMetrics
    /// The loop's timer queues (a deadline per connection, armed and cancelled in O(1)).
    private let loop: LoopContext
    private var deadline: LoopTimer?
    /// Request heads received minus responses finished.
    private var inProgress = 0
    /// Bumped whenever the deadline changes, so a late write completion cannot arm a stale one.
    private var generation = 0

    init(headerTimeout: TimeAmount, idleTimeout: TimeAmount, maxHeadBytes: Int, maxTargetBytes: Int, metrics: GatewayMetrics, loop: LoopContext) {
        self.headerTimeout = headerTimeout
        self.idleTimeout = idleTimeout
        self.maxHeadBytes = maxHeadBytes
        self.maxTargetBytes = maxTargetBytes
        self.metrics = metrics
        self.loop = loop
    }

    func handlerAdded(context: ChannelHandlerContext) {
        arm(context: context, after: headerTimeout, idle: false)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        disarm()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        if case .head(let head) = unwrapInboundIn(data) {
            inProgress += 1
            disarm()
            if head.uri.utf8.count > maxTargetBytes {
                return refuse(context: context, status: .uriTooLong, bound: .requestTarget, message: "The request target is longer than \(maxTargetBytes) bytes.")
            }
            if Self.size(of: head) > maxHeadBytes {
                return refuse(context: context, status: .requestHeaderFieldsTooLarge, bound: .requestHead, message: "The request headers are larger than \(maxHeadBytes) bytes.")
            }
        }
        context.fireChannelRead(data)
    }

    /// Request line and header lines as they were on the wire (near enough: separators counted).
    static func size(of head: HTTPRequestHead) -> Int {
        head.headers.reduce(head.uri.utf8.count + 16) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 }
    }

    private func refuse(context: ChannelHandlerContext, status: HTTPResponseStatus, bound: GatewayMetrics.Bound, message: String) {
        refused = true
        metrics.countRefusal(bound)
        let body = ByteBuffer(string: #"{"error":{"code":"\#(status.code)","message":"\#(message)"}}"#)
        let headers = HTTPHeaders([("connection", "close"), ("content-type", "application/json"), ("content-length", "\(body.readableBytes)")])
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlushThenClose(wrapOutboundOut(.end(nil)))
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .end = unwrapOutboundIn(data) else {
            return context.write(data, promise: promise)
        }
        inProgress = max(0, inProgress - 1)
        guard inProgress == 0 else {
            return context.write(data, promise: promise)
        }
        // The idle time starts once the response is on the socket, not while a slow reader takes it.
        let written = promise ?? context.eventLoop.makePromise()
        let expected = generation
        written.futureResult.assumeIsolated().whenSuccess { [self] _ in
            if generation == expected, inProgress == 0, context.channel.isActive {
                arm(context: context, after: idleTimeout, idle: true)
            }
        }
        context.write(data, promise: written)
    }

    func channelInactive(context: ChannelHandlerContext) {
        disarm()
        context.fireChannelInactive()
    }

    private func disarm() {
        generation += 1
        deadline?.cancel()
        deadline = nil
    }

    private func arm(context: ChannelHandlerContext, after timeout: TimeAmount, idle: Bool) {
        disarm()
        let channel = context.channel
        let metrics = metrics
        deadline = loop.timers(after: timeout).arm {
            metrics.countHTTPTimeout(idle: idle)
            channel.close(promise: nil)
        }
    }

    /// Installs the handler right after the request decoder of a freshly configured pipeline.
    static func install(on channel: any Channel, configuration: EngineConfiguration, metrics: GatewayMetrics, loop: LoopContext) throws {
        let operations = channel.pipeline.syncOperations
        let decoder = try operations.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
        let handler = HTTPRequestDeadlineHandler(
            headerTimeout: configuration.requestHeaderTimeout, idleTimeout: configuration.idleTimeout,
            maxHeadBytes: configuration.maxRequestHeadBytes, maxTargetBytes: configuration.maxRequestTargetBytes, metrics: metrics, loop: loop
        )
        try operations.addHandler(handler, name: name, position: .after(decoder))
    }

    /// Takes the handler out (nothing happens when it is not there).
    static func remove(from channel: any Channel) {
        let operations = channel.pipeline.syncOperations
        if let context = try? operations.context(name: name) {
            operations.removeHandler(context: context, promise: nil)
        }
    }
}

@available(*, unavailable)
extension HTTPRequestDeadlineHandler: Sendable {}
