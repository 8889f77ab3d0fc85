import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOExtras
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// The gateway's listener. Connections are accepted and set up on NIO's event loops, with no
/// async accept loop and no Swift task per connection: a WebSocket (the common case, and
/// thousands at once in a reconnect storm) lives on its loop alone; only a connection that
/// stays HTTP (polling, the API) gets a task, to run the router. Hummingbird's own server hands
/// every accepted connection to a task through an async sequence, which costs thread
/// wake-ups per connection and a task for the life of every WebSocket.
///
/// Kept from Hummingbird's server: accepts back off when descriptors run out (instead of the
/// loop spinning on EMFILE), and at graceful shutdown idle HTTP connections close while busy
/// ones finish their response (up to `drainTimeout`).
public struct GatewayListener: Service {
    let childChannel: SocketIOChildChannel
    let host: String
    let port: Int
    let backlog: Int
    let eventLoopGroup: any EventLoopGroup
    let logger: Logger
    let onServerRunning: @Sendable (any Channel) async -> Void
    var drainTimeout: TimeAmount = .seconds(5)

    public func run() async throws {
        // The first connections go through one at a time, before anyone else can connect.
        if let warmUp = try? await bootstrap(quiescing: nil).bind(host: "127.0.0.1", port: 0).get() {
            let requests = ListenerWarmUp.requests(enginePath: childChannel.mounts.first?.path)
            await ListenerWarmUp.run(server: warmUp, group: eventLoopGroup, requests: requests)
            try? await warmUp.close()
        }
        let quiescing = ServerQuiescingHelper(group: eventLoopGroup)
        let server = try await bootstrap(quiescing: quiescing)
            .bind(host: host, port: port)
            .get()
        await onServerRunning(server)
        try? await gracefulShutdown()
        // Stop accepting; idle HTTP connections close, busy ones after their response.
        let drained = server.eventLoop.makePromise(of: Void.self)
        quiescing.initiateShutdown(promise: drained)
        server.eventLoop.scheduleTask(in: drainTimeout) { drained.succeed() }
        try? await drained.futureResult.get()
    }
}

extension GatewayListener {
    private func bootstrap(quiescing: ServerQuiescingHelper?) -> ServerBootstrap {
        let childChannel = childChannel
        let logger = logger
        return ServerBootstrap(group: eventLoopGroup)
            .serverChannelOption(.backlog, value: Int32(backlog))
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // Accept in bursts: a reconnect storm drains the backlog in fewer loop passes.
            .serverChannelOption(.maxMessagesPerRead, value: 64)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AcceptBackoffHandler())
                    if let quiescing {
                        try channel.pipeline.syncOperations.addHandler(quiescing.makeServerChannelHandler(channel: channel))
                    }
                }
            }
            // Each connection keeps its receive buffer between reads. Clients mostly send
            // little (events, acks, pongs), so it starts at 512 bytes rather than NIO's 2 KiB;
            // it grows for a client that sends more (and then stays at that size).
            .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 65_536))
            .childChannelInitializer { channel in
                childChannel.setup(channel: channel, logger: logger).map { value in
                    value.result.whenComplete { result in
                        switch result {
                        case .success(.websocket): break
                        case .success: Task { await childChannel.handle(value: value, logger: logger) }
                        // The upgrade failed: nothing else will ever close this connection.
                        case .failure: channel.close(promise: nil)
                        }
                    }
                }
            }
    }
}

extension GatewayHTTPServer {
    /// The Hummingbird router as the responder of plain HTTP requests on a ``GatewayListener``
    /// (what Hummingbird's `Application` does around its own server: a request context per
    /// request, a `Date` header, a malformed request answered 400 by the channel, any other
    /// error the router did not turn into a response answered 500).
    static func responder(for router: Router<GatewayRequestContext>, logger: Logger) -> HTTPChannelHandler.Responder {
        let routes = router.buildResponder()
        let dates = HTTPDateCache()
        return { request, responseWriter, channel in
            let context = GatewayRequestContext(source: ApplicationRequestContextSource(channel: channel, logger: logger))
            var response: Response
            do {
                response = try await routes.respond(to: request, context: context)
            } catch let error as HTTPParserError {
                throw error
            } catch {
                logger.debug("Request failed", metadata: ["error.type": "\(error)"])
                response = Response(status: .internalServerError)
            }
            response.headers[.date] = dates.now
            do {
                try await responseWriter.write(response: response.head, body: response.body)
            } catch is HTTPParserError {
                // Not the parser error itself: the channel would try to answer 400 after a response.
                throw ResponseAbandoned()
            }
        }
    }
}

/// A response that could not be finished because the request turned out malformed.
private struct ResponseAbandoned: Error {}

/// The `Date` header's value (RFC 9110 IMF-fixdate), formatted once per second.
final class HTTPDateCache: Sendable {
    private let cache = NIOLockedValueBox<(second: Int, text: String)>((-1, ""))

    var now: String {
        let time = Date()
        let second = Int(time.timeIntervalSince1970)
        return cache.withLockedValue { cache in
            if cache.second != second { cache = (second, Self.format(time)) }
            return cache.text
        }
    }

    private static func format(_ time: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: time)
    }
}
