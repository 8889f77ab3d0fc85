import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Answers requests for ``InlineRoute``s on the connection's event loop and passes every other
/// request on to the router's task. Sits after Hummingbird's connection-state handler, so its
/// answers count as responses there (keep-alive, graceful shutdown) and in the deadline handler.
///
/// Pipelined requests are answered in order: a request is taken inline only while no earlier
/// request is still with the router (whose answer would otherwise be overtaken); the router
/// has the same routes, so such a request is still served, only later.
final class InlineRouteHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum State {
        case idle
        /// Reading an inline request's body.
        case collecting(InlineRoute, HTTPRequest, ByteBuffer?)
        /// The current request is the router's.
        case forwarding
        /// Answered early (too large) and closing: the rest of the request is dropped.
        case closing
    }

    private let routes: [InlineRoute]
    private var state = State.idle
    /// Requests handed to the router whose response has not ended yet.
    private var withRouter = 0
    private var needsFlush = false

    init(routes: [InlineRoute]) {
        self.routes = routes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        switch (state, part) {
        case (.closing, _):
            return
        case (.collecting(let route, let head, let body), .body(let chunk)):
            let size = (body?.readableBytes ?? 0) + chunk.readableBytes
            guard size <= route.bodyLimit else { return refuse(route.tooLarge, context: context) }
            if var body {
                state = .idle  // drop the reference before appending: no copy-on-write
                body.writeImmutableBuffer(chunk)
                state = .collecting(route, head, body)
            } else {
                state = .collecting(route, head, chunk)
            }
        case (.collecting(let route, let head, let body), .end):
            state = .idle
            let response = route.respond(InlineRequest(head: head, body: body ?? ByteBuffer()))
            write(response, context: context, close: Self.asksToClose(head))
        case (_, .head(let head)):
            if withRouter == 0, let route = routes.first(where: { $0.matches(head) }) {
                if let length = head.headerFields[.contentLength].flatMap(Int.init), length > route.bodyLimit {
                    return refuse(route.tooLarge, context: context)
                }
                state = .collecting(route, head, nil)
            } else {
                withRouter += 1
                state = .forwarding
                context.fireChannelRead(data)
            }
        case (.forwarding, .end):
            state = .idle
            context.fireChannelRead(data)
        default:
            context.fireChannelRead(data)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if needsFlush {
            needsFlush = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { withRouter -= 1 }
        context.write(data, promise: promise)
    }

    /// Responses of one read burst go out in one flush (pipelined POSTs: one write, not 16).
    private func write(_ response: InlineResponse, context: ChannelHandlerContext, close: Bool) {
        var fields = response.headers
        fields[.contentLength] = String(response.body.readableBytes)
        if close { fields[.connection] = "close" }
        context.write(wrapOutboundOut(.head(HTTPResponse(status: response.status, headerFields: fields))), promise: nil)
        context.write(wrapOutboundOut(.body(response.body)), promise: nil)
        if close {
            state = .closing
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        } else {
            context.write(wrapOutboundOut(.end(nil)), promise: nil)
            needsFlush = true
        }
    }

    /// A body over the route's limit: answered at once, and the connection closes rather than
    /// read (and drop) what could be an endless body.
    private func refuse(_ response: InlineResponse, context: ChannelHandlerContext) {
        write(response, context: context, close: true)
    }

    private static func asksToClose(_ head: HTTPRequest) -> Bool {
        head.headerFields[.connection].map { $0.lowercased().contains("close") } ?? false
    }
}
