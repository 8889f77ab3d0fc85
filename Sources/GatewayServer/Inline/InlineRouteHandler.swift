import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Answers requests for ``InlineRoute``s on the connection's event loop and passes every other
/// request on to the router's task. Sits after Hummingbird's connection-state handler, so its
/// answers count as responses there (keep-alive, graceful shutdown) and in the deadline handler.
///
/// Pipelined requests are answered in order: a request is taken inline only while no earlier
/// request is still with the router (whose answer would otherwise be overtaken); the router
/// has the same routes, so such a request is still served, only later. While the socket is not
/// writable (a client that pipelines and does not read its answers) nothing more is read.
final class InlineRouteHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum State {
        case idle
        /// Reading an inline request's body (into `body`).
        case collecting(InlineRoute, HTTPRequest)
        /// Refused at its head: the body is read past, then `answer` goes out.
        case skipping(InlineResponse, HTTPRequest)
        /// The current request is the router's.
        case forwarding
        /// Answered early (a body over `maxBody`) and closing: nothing more is read.
        case closing
    }

    private let routes: [InlineRoute]
    private var state = State.idle
    /// The body of the request being collected; its own property, so appending never copies.
    private var body: ByteBuffer?
    /// Requests handed to the router whose response has not ended yet.
    private var withRouter = 0
    private var needsFlush = false
    /// A read was asked for while the socket could not take more answers.
    private var readHeld = false

    init(routes: [InlineRoute]) {
        self.routes = routes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch (state, unwrapInboundIn(data)) {
        case (.closing, _):
            return
        case (.collecting, .body(let chunk)):
            body!.writeImmutableBuffer(chunk)  // within the declared length: the decoder stops there
        case (.collecting(let route, let head), .end):
            state = .idle
            let request = InlineRequest(head: head, body: body.take() ?? ByteBuffer())
            write(route.respond(request), context: context, close: Self.asksToClose(head))
        case (.skipping, .body):
            break
        case (.skipping(let answer, let head), .end):
            state = .idle
            write(answer, context: context, close: Self.asksToClose(head))
        case (_, .head(let head)):
            let length = InlineRoute.declaredLength(head)
            let route = withRouter == 0 ? routes.first(where: { $0.matches(head) }) : nil
            if let route, let length, length > route.maxBody {
                state = .closing
                write(route.tooLarge, context: context, close: true)
            } else if let route, let length, length <= route.bodyLimit {
                if let refusal = route.admit(head) {
                    state = .skipping(refusal, head)
                } else {
                    state = .collecting(route, head)
                    body = context.channel.allocator.buffer(capacity: length)
                }
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
        // Never below zero: the router also answers requests it never got from here (a parse
        // error's 400), and the connection closes after those.
        if case .end = unwrapOutboundIn(data) { withRouter = max(0, withRouter - 1) }
        context.write(data, promise: promise)
    }

    func read(context: ChannelHandlerContext) {
        guard context.channel.isWritable else {
            readHeld = true
            return
        }
        context.read()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, readHeld {
            readHeld = false
            context.read()
        }
        context.fireChannelWritabilityChanged()
    }

    /// Answers of one read burst go out in one flush (pipelined POSTs: one write, not 16).
    private func write(_ response: InlineResponse, context: ChannelHandlerContext, close: Bool) {
        var fields = response.headers
        fields[.contentLength] = String(response.body.readableBytes)
        if close { fields[.connection] = "close" }
        context.write(wrapOutboundOut(.head(HTTPResponse(status: response.status, headerFields: fields))), promise: nil)
        context.write(wrapOutboundOut(.body(response.body)), promise: nil)
        if close {
            context.writeAndFlushThenClose(wrapOutboundOut(.end(nil)))
        } else {
            context.write(wrapOutboundOut(.end(nil)), promise: nil)
            needsFlush = true
        }
    }

    private static func asksToClose(_ head: HTTPRequest) -> Bool {
        head.headerFields[.connection].map { $0.lowercased().contains("close") } ?? false
    }
}

extension Optional where Wrapped == ByteBuffer {
    /// The buffer, leaving nil behind.
    fileprivate mutating func take() -> ByteBuffer? {
        defer { self = nil }
        return self
    }
}
