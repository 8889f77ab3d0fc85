import ArgumentParser
import GatewayCore
import GatewayMetrics
import GatewayServer
import Hummingbird
import Logging
import ServiceLifecycle
import NIOCore
import NIOPosix

/// Serves the protocol test-suite apps on one port: Socket.IO (`/` and `/custom`) on
/// `/socket.io/` and a plain Engine.IO echo on `/engine.io/`, on the gateway's own core and
/// network edge. Test support only; the product is `gateway`.
@main
struct ConformanceServer: AsyncParsableCommand {
    @Option(help: "Port on 127.0.0.1") var port: Int = 3000
    @Option(help: "pingInterval in ms") var pingInterval: Int64 = 300
    @Option(help: "pingTimeout in ms") var pingTimeout: Int64 = 200
    @Option(help: "connectTimeout in ms") var connectTimeout: Int64 = 1000
    @Option(help: "maxPayload in bytes") var maxPayload: Int = 1_000_000
    @Option(help: "slow-consumer limit in bytes") var slowConsumerBytes: Int = 4 * 1024 * 1024
    @Option(help: "allowed origins, comma separated (default any)") var corsOrigin: String?
    @Option(help: "event-loop threads") var threads: Int = 2
    @Option(help: "least ms between flush rounds per event loop") var flushInterval: Int64 = 0

    func run() async throws {
        var logger = Logger(label: "conformance")
        logger.logLevel = .warning
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let metrics = GatewayMetrics()
        let broadcaster = Broadcaster(group: group, metrics: metrics, flushInterval: .milliseconds(flushInterval))
        var configuration = EngineConfiguration(
            pingInterval: .milliseconds(pingInterval),
            pingTimeout: .milliseconds(pingTimeout),
            maxPayload: maxPayload,
            connectTimeout: .milliseconds(connectTimeout),
            slowConsumerBytes: slowConsumerBytes,
            allowedOrigins: corsOrigin.map { $0.split(separator: ",").map(String.init) }
        )
        // A protocol test app: test suites and benchmarks open thousands of sessions from
        // 127.0.0.1, so the gateway's per-address handshake bounds are off here.
        configuration.admission = EngineAdmission.Limits(
            maxSessions: 1_000_000, maxSessionsPerAddress: 1_000_000, handshakesPerSecond: 0, handshakesPerSecondPerAddress: 0
        )
        configuration.failedConnectsPerAddressPerMinute = 0
        let registry = NamespaceRegistry([
            EchoNamespace(name: "/", broadcaster: broadcaster),
            EchoNamespace(name: "/custom", broadcaster: broadcaster),
            EchoNamespace(name: "/bench", broadcaster: broadcaster),
        ])
        let socketIO = EngineServer(configuration: configuration, registry: registry, loops: broadcaster.loops, metrics: metrics, logger: logger)
        let engineIO = EngineServer(configuration: configuration, loops: broadcaster.loops, metrics: metrics, logger: logger) { _ in
            EngineEchoHandler()
        }
        let router = Router(context: GatewayRequestContext.self)
        router.get("health") { _, _ in "ok" }
        let listener = GatewayHTTPServer.makeListener(
            mounts: [
                EngineMount(path: "/socket.io/", engine: socketIO), EngineMount(path: "/engine.io/", engine: engineIO),
                EngineMount(path: "/socket.io-msgpack/", engine: socketIO, parser: .msgpack),
            ],
            router: router,
            host: "127.0.0.1",
            port: port,
            eventLoopGroup: group,
            logger: logger,
            onServerRunning: { channel in
                print("conformance server listening on \(channel.localAddress?.port ?? 0)")
            }
        )
        try await ServiceGroup(configuration: .init(services: [listener], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)).run()
    }
}
