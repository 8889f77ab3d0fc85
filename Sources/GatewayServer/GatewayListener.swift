import Foundation
import GatewayCore
import GatewayMetrics
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
/// async accept loop: a WebSocket (the common case, and thousands at once in a reconnect storm)
/// lives on its loop alone, with no Swift task. Only a connection that stays HTTP (polling, the
/// API) gets a task, to run the router, and those tasks are structured as in Hummingbird's own
/// server: children of one task group owned by ``run()``, handed over through a bounded
/// stream, at most `server.maxHttpConnections` at once (`limits.maxHttpConnectionsPerIp` per
/// address), and cancelled at shutdown once the drain time is up. (Hummingbird hands every accepted connection, WebSockets included, to a task through
/// an async sequence, which costs thread wake-ups per connection and a task for the life of
/// every WebSocket.)
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
    /// Connections accepted but not yet given their task (the stream's buffer).
    static let handOverBuffer = 1_024
    /// Test-only (`GATEWAY_TEST_WARM_UP=0`): start without the warm-up, to show the runtime's
    /// start-up crash (Benchmarks/MetadataRaceRepro).
    var warmUp = true

    public func run() async throws {
        let quiescing = ServerQuiescingHelper(group: eventLoopGroup)
        let (accepted, handOver) = AsyncStream.makeStream(
            of: HTTPConnectionTasks.Accepted.self, bufferingPolicy: .bufferingOldest(Self.handOverBuffer)
        )
        let engine = childChannel.limits?.engine
        let connections = HTTPConnectionTasks(handOver: handOver, configuration: engine?.configuration, metrics: engine?.metrics)
        // The port is taken first, accepting nothing yet (clients wait in the kernel's queue):
        // the warm-up's own connections must not take it as their source port meanwhile.
        let server = try await bootstrap(quiescing: quiescing, handOver: connections)
            .serverChannelOption(.autoRead, value: !warmUp)
            .bind(host: host, port: port)
            .get()
        if warmUp {
            if let warmUpServer = try? await bootstrap(quiescing: nil, handOver: nil).bind(host: "127.0.0.1", port: 0).get() {
                let requests = ListenerWarmUp.requests(enginePath: childChannel.mounts.first?.path)
                await ListenerWarmUp.run(server: warmUpServer, group: eventLoopGroup, requests: requests)
                try? await warmUpServer.close()
            }
            do {
                try await server.setOption(.autoRead, value: true)
            } catch {
                try? await server.close()
                throw error
            }
        }
        await onServerRunning(server)
        let childChannel = childChannel
        let logger = logger
        let drainTimeout = drainTimeout
        await withDiscardingTaskGroup { group in
            group.addTask {
                try? await gracefulShutdown()
                // Stop accepting; idle HTTP connections close, busy ones after their response.
                let drained = server.eventLoop.makePromise(of: Void.self)
                quiescing.initiateShutdown(promise: drained)
                server.eventLoop.scheduleTask(in: drainTimeout) { drained.succeed() }
                try? await drained.futureResult.get()
                handOver.finish()
            }
            for await connection in accepted {
                group.addTask {
                    await childChannel.handle(value: connection.value, logger: logger)
                    connections.finished(connection)
                }
            }
            // Drained, or out of time: what still runs is cancelled (its connection closes).
            group.cancelAll()
        }
    }
}

/// HTTP connections on their way to their task: counted against a limit for the listener and
/// one per client address (a trusted proxy's connections are not counted per address: they
/// carry many clients), and handed over through the listener's bounded stream. A connection that
/// finds a limit reached, the buffer full or the stream finished (shutdown) is closed at once.
final class HTTPConnectionTasks: Sendable {
    /// A connection and the address it is counted under (read at the start: a closed channel
    /// no longer knows its peer).
    struct Accepted: Sendable {
        let value: SocketIOChildChannel.Value
        let address: String?
    }

    private let handOver: AsyncStream<Accepted>.Continuation
    private let limit: Int
    private let limitPerAddress: Int
    private let trustedProxies: Set<String>
    private let active = NIOLockedValueBox<(all: Int, byAddress: [String: Int])>((0, [:]))
    private let metrics: GatewayMetrics?

    init(handOver: AsyncStream<Accepted>.Continuation, configuration: EngineConfiguration?, metrics: GatewayMetrics?) {
        self.handOver = handOver
        limit = configuration?.maxHTTPConnections ?? EngineConfiguration().maxHTTPConnections
        limitPerAddress = configuration?.maxHTTPConnectionsPerAddress ?? EngineConfiguration().maxHTTPConnectionsPerAddress
        trustedProxies = configuration?.trustedProxies ?? []
        self.metrics = metrics
    }

    /// On the connection's loop, once it is known to stay HTTP; ``finished(_:)`` when its task
    /// ends.
    func start(_ value: SocketIOChildChannel.Value) {
        let connection = Accepted(value: value, address: key(value))
        let refusal = active.withLockedValue { active -> GatewayMetrics.Bound? in
            guard active.all < limit else { return .httpConnections }
            if let address = connection.address {
                guard active.byAddress[address, default: 0] < limitPerAddress else { return .httpConnectionsPerAddress }
                active.byAddress[address, default: 0] += 1
            }
            active.all += 1
            return nil
        }
        if let refusal { return refuse(value, refusal) }
        switch handOver.yield(connection) {
        case .enqueued:
            break
        case .terminated:  // shutting down: closed, not a refusal
            finished(connection)
            value.channel.close(promise: nil)
        default:
            finished(connection)
            refuse(value, .httpConnections)
        }
    }

    func finished(_ connection: Accepted) {
        active.withLockedValue { active in
            active.all -= 1
            guard let address = connection.address else { return }
            let left = active.byAddress[address, default: 0] - 1
            active.byAddress[address] = left > 0 ? left : nil
        }
    }

    /// The per-address key; nil for a trusted proxy (or an unknown peer).
    private func key(_ value: SocketIOChildChannel.Value) -> String? {
        guard let peer = value.channel.remoteAddress?.ipAddress, !trustedProxies.contains(peer) else { return nil }
        return AddressKey.of(peer)
    }

    private func refuse(_ value: SocketIOChildChannel.Value, _ bound: GatewayMetrics.Bound) {
        metrics?.countRefusal(bound)
        value.channel.close(promise: nil)
    }
}

extension GatewayListener {
    /// `handOver` nil (the warm-up): HTTP connections get an unowned task, the warm-up's two
    /// requests only.
    private func bootstrap(quiescing: ServerQuiescingHelper?, handOver: HTTPConnectionTasks?) -> ServerBootstrap {
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
                        case .success:
                            if let handOver { handOver.start(value) } else { Task { await childChannel.handle(value: value, logger: logger) } }
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

/// The `Date` header's value (RFC 9110 IMF-fixdate), formatted once per second per thread: one
/// lock for every HTTP response of every loop was a queue, and a thread's cache is its own.
final class HTTPDateCache: Sendable {
    /// One thread's last second and its text (touched by that thread only).
    private final class Entry: @unchecked Sendable {
        var second = -1
        var text = ""
    }

    private let perThread = ThreadSpecificVariable<Entry>()

    var now: String {
        let time = Date()
        let second = Int(time.timeIntervalSince1970)
        let entry = perThread.currentValue ?? {
            let entry = Entry()
            perThread.currentValue = entry
            return entry
        }()
        if entry.second != second {
            entry.second = second
            entry.text = Self.format(time)
        }
        return entry.text
    }

    private static func format(_ time: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: time)
    }
}
