import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The gateway's listener. Connections are accepted and set up on NIO's event loops, with no
/// async accept loop and no Swift task per connection: a WebSocket (the common case, and
/// thousands at once in a reconnect storm) lives on its loop alone; only a connection that
/// stays HTTP (polling, the API) gets a task, to run the router. Hummingbird's own server hands
/// every accepted connection to a task through an async sequence, which costs thread
/// wake-ups per connection and a task for the life of every WebSocket.
public struct GatewayListener: Service {
    let childChannel: SocketIOChildChannel
    let host: String
    let port: Int
    let backlog: Int
    let eventLoopGroup: any EventLoopGroup
    let logger: Logger
    let onServerRunning: @Sendable (any Channel) async -> Void

    public func run() async throws {
        let childChannel = childChannel
        let logger = logger
        let server = try await ServerBootstrap(group: eventLoopGroup)
            .serverChannelOption(.backlog, value: Int32(backlog))
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // Accept in bursts: a reconnect storm drains the backlog in fewer loop passes.
            .serverChannelOption(.maxMessagesPerRead, value: 64)
            // Each connection keeps its receive buffer between reads. Clients send little (events,
            // acks, pongs), so it starts at 512 bytes rather than NIO's 2 KiB; it grows for a
            // client that sends more (polling POSTs, large events) and shrinks back.
            .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 65_536))
            .childChannelInitializer { channel in
                childChannel.setup(channel: channel, logger: logger).map { value in
                    value.result.whenSuccess { result in
                        if case .websocket = result { return }
                        Task { await childChannel.handle(value: value, logger: logger) }
                    }
                }
            }
            .bind(host: host, port: port)
            .get()
        await onServerRunning(server)
        try? await gracefulShutdown()
        try? await server.close()
    }
}

extension GatewayHTTPServer {
    /// The Hummingbird router as the responder of plain HTTP requests on a ``GatewayListener``
    /// (what Hummingbird's `Application` does around its own server: a request context per
    /// request, errors the router did not turn into a response become 500).
    static func responder(for router: Router<GatewayRequestContext>, logger: Logger) -> HTTPChannelHandler.Responder {
        let routes = router.buildResponder()
        return { request, responseWriter, channel in
            let context = GatewayRequestContext(source: ApplicationRequestContextSource(channel: channel, logger: logger))
            let response: Response
            do {
                response = try await routes.respond(to: request, context: context)
            } catch {
                logger.debug("Request failed", metadata: ["error.type": "\(error)"])
                response = Response(status: .internalServerError)
            }
            try await responseWriter.write(response: response.head, body: response.body)
        }
    }
}
