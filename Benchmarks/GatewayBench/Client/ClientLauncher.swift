import GatewayTLS
import NIOCore
import NIOPosix
import NIOSSL

/// Starts clients: TCP (with TLS for https:// and wss://) to the client's server, round-robin
/// over `--url`, then a `SocketIOClientHandler`; the future holds the channel once it is ready.
struct ClientLauncher: Sendable {
    let targets: [ServerTarget]
    let script: ClientScript
    let tls: NIOSSLContext?
    let timeout: TimeAmount
    /// Local addresses the clients connect from, round-robin (`--source-addresses`); empty:
    /// the system's choice. Spreads a crowd over several loopback addresses, as clients of a
    /// real server come from many, so per-address bounds meet each like theirs.
    let sources: [SocketAddress]

    init(targets: [ServerTarget], script: ClientScript, tls: NIOSSLContext?, timeout: TimeAmount, sources: [SocketAddress] = []) {
        self.targets = targets
        self.script = script
        self.tls = tls
        self.timeout = timeout
        self.sources = sources
    }

    /// The TLS context for these targets: none when all are plain; the system's trust store or
    /// `caFile` otherwise.
    static func tlsContext(for targets: [ServerTarget], caFile: String?) throws -> NIOSSLContext? {
        guard targets.contains(where: \.tls) else {
            if caFile != nil { throw UsageError("--ca-file is for https:// or wss:// URLs") }
            return nil
        }
        do {
            return try ClientTLS(caFile: caFile, keys: ("--ca-file", "", "")).makeContext()
        } catch {
            throw UsageError(error.description)
        }
    }

    func with(script: ClientScript) -> ClientLauncher {
        ClientLauncher(targets: targets, script: script, tls: tls, timeout: timeout, sources: sources)
    }

    func start(index: Int, on loop: any EventLoop, stats: LoopStats) -> EventLoopFuture<any Channel> {
        let target = targets[index % targets.count]
        let ready = loop.makePromise(of: Void.self)
        let path: String
        if case .raw = script.wire { path = target.rawPath } else { path = target.engineIOPath }
        let handler = SocketIOClientHandler(
            script: script, request: script.request(for: index),
            upgradeRequest: WebSocketFrames.upgradeRequest(path: path, host: target.hostHeader),
            stats: stats, ready: ready, timeout: timeout
        )
        let source = sources.isEmpty ? nil : sources[index % sources.count]
        return Self.connect(to: target, tls: tls, on: loop, timeout: timeout, from: source) { channel in
            try channel.pipeline.syncOperations.addHandler(handler)
        }
        .flatMap { channel in
            ready.futureResult.map { channel }.flatMapErrorThrowing { error in
                channel.close(promise: nil)
                throw error
            }
        }
        .flatMapErrorThrowing { error in
            ready.fail(error)  // a failed TCP connect never reaches the handler
            throw error
        }
    }

    /// A TCP connection to `target`, TLS first when the target wants it, then `handlers`.
    static func connect(
        to target: ServerTarget, tls: NIOSSLContext?, on loop: any EventLoop, timeout: TimeAmount, from source: SocketAddress? = nil,
        handlers: @escaping @Sendable (any Channel) throws -> Void
    ) -> EventLoopFuture<any Channel> {
        var bootstrap = ClientBootstrap(group: loop)
        if let source { bootstrap = bootstrap.bind(to: source) }
        return bootstrap
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if target.tls, let tls {
                        try channel.pipeline.syncOperations.addHandler(ClientTLS.handler(context: tls, host: target.host))
                    }
                    try handlers(channel)
                }
            }
            .connect(to: target.address)
    }
}
