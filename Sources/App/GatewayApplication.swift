import GatewayJSON
import Cluster
import Foundation
import GatewayCore
import GatewayMetrics
import GatewayServer
import GatewayTLS
import JWTAuth
import Hummingbird
import Logging
import MarketFeed
import Namespaces
import RedisBridge
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The composition root: builds the engine, namespaces and HTTP routes from a configuration
/// and runs them as one service group.
struct GatewayApplication {
    let configuration: GatewayConfiguration
    let logger: Logger

    func run() async throws {
        let threads = configuration.server.eventLoopThreads > 0 ? configuration.server.eventLoopThreads : System.coreCount
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let metrics = GatewayMetrics()
        // The feed (books, throttles, fan-out) runs on a thread of its own: a producer that keeps
        // it busy must not starve the sockets and HTTP requests that share a connection loop.
        let feedGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        // The internal port's one loop: producers' POSTs and scrapes never wait behind fan-out.
        let internalGroup = configuration.server.internalPort != 0 ? MultiThreadedEventLoopGroup(numberOfThreads: 1) : nil
        let broadcaster = Broadcaster(
            group: group, metrics: metrics, flushInterval: .milliseconds(Int64(configuration.server.flushIntervalMs)),
            compression: FrameCompression(settings: configuration.server.compression)
        )
        let authenticator = DevelopmentMode.authenticator(for: configuration, logger: logger)
        let jwks: JWKSRefresher? =
            if let settings = configuration.jwt.jwks {
                JWKSRefresher(settings: settings, store: authenticator.keys, metrics: metrics, logger: self.logger)
            } else {
                nil
            }
        // In cluster mode the /user socket counts also tell the bus which users' channels to follow.
        let instanceID = SessionID.make()
        let userInterest: UserInterest? = configuration.redis == nil ? nil : UserInterest(limit: configuration.namespaces.maxConnectionsPerUser)
        var userSlots: ClusterUserSlots?
        if let redis = configuration.redis, let userInterest {
            userSlots = ClusterUserSlots(interest: userInterest, prefix: redis.prefix, instanceID: instanceID, lease: redis.connectionLease, logger: logger)
        }
        // …and users' token buckets are shared through Redis.
        var sharedRateLimits: RedisRateLimitStore?
        if let redis = configuration.redis {
            sharedRateLimits = RedisRateLimitStore(prefix: redis.prefix, deadline: redis.rateLimitDeadline, logger: logger) { reason in
                metrics.countLocalRateDecision(reason: reason)
            }
        }
        // …producers' idempotency keys are claimed in Redis, so a retry to any instance is caught…
        let localIdempotency = LocalIdempotencyStore(maxKeys: configuration.idempotency.maxKeys)
        var sharedIdempotency: RedisIdempotencyStore?
        if let redis = configuration.redis {
            sharedIdempotency = RedisIdempotencyStore(local: localIdempotency, prefix: redis.prefix, logger: logger) {
                metrics.countIdempotencyLocal()
            }
        }
        // …messages between instances go through the broker, and /user events and recovery
        // sessions live in Redis (the history store), so clients recover on any instance.
        var broker: RedisBroker?
        var history: RedisHistory?
        if let redis = configuration.redis {
            let redisBroker = RedisBroker(prefix: redis.prefix, logger: logger, instanceID: instanceID)
            broker = redisBroker
            history = RedisHistory(
                prefix: redis.prefix, maxEventsPerUser: configuration.namespaces.recovery.maxEventsPerUser,
                window: configuration.namespaces.recovery.window, broker: redisBroker, logger: logger
            )
        }
        // Presence notices: decided locally or, in cluster mode, in Redis; sent by the webhook.
        var presenceWebhook: PresenceWebhook?
        var presenceLedger: RedisPresenceLedger?
        var presence: PresenceTracker?
        if let settings = configuration.presence {
            let webhook = PresenceWebhook(settings: settings, instanceID: instanceID, metrics: metrics, logger: logger)
            (presence, presenceLedger) = Self.presenceTracker(
                keyPrefix: "", grace: .milliseconds(Int64(settings.graceMs)), redis: configuration.redis, instanceID: instanceID,
                eventLoop: group.next(), logger: logger, announce: webhook.enqueue(userId:change:)
            )
            presenceWebhook = webhook
        }
        let services = GatewayServices(
            settings: configuration.namespaces,
            authenticator: authenticator,
            rateLimits: sharedRateLimits ?? LocalRateLimitStore(),
            userSockets: userSlots,
            recoveryInterest: userInterest,
            sharedRecovery: history.map(ClusterRecovery.init(history:)),
            broadcaster: broadcaster,
            idempotency: sharedIdempotency ?? localIdempotency,
            idempotencyWindow: configuration.idempotency.window,
            presence: presence,
            metrics: metrics,
            logger: logger
        )
        var freshness = configuration.feed.freshness
        freshness.labelsBySymbol = configuration.namespaces.learnedSymbolsLimit == nil
        let market = MarketState(
            feedLoop: feedGroup.next(), publisher: services.publisher, throttles: configuration.namespaces.throttles, metrics: metrics, logger: logger,
            maxBookLevels: configuration.feed.maxBookLevels, freshness: freshness, board: services.freshness, interest: services.marketInterest
        )
        let localBus = LocalBus(services: services, market: market)
        var clusterBus: ClusterBus?
        if let broker, let history, let userInterest {
            let bus = ClusterBus(
                local: localBus, broker: broker, history: history, interest: userInterest, userEvents: services.userEvents,
                symbolInterest: services.symbolInterest, market: market, symbols: services.symbols,
                metrics: metrics, logger: logger, eventLoop: group.next()
            )
            bus.start()
            clusterBus = bus
        }
        let bus: any GatewayBus = clusterBus ?? localBus
        let occupancyLedger = Self.announceOccupancy(services: services, bus: bus, redis: configuration.redis, instanceID: instanceID, eventLoop: group.next(), logger: logger)
        let registry = NamespaceRegistry(GatewayNamespaces.make(NamespaceDependencies(services: services, market: market, bus: bus)))
        let engine = EngineServer(
            configuration: configuration.server.engine,
            registry: registry,
            loops: broadcaster.loops,
            metrics: metrics,
            logger: logger
        )
        // Every series exists from the start, so rate() and alerts work before the first event.
        for namespace in registry.paths.map(\.value) {
            _ = metrics.namespace(namespace)
            for code in ["UNAUTHORIZED", "TOKEN_EXPIRED", "FORBIDDEN", "CONNECTION_LIMIT", "MAINTENANCE"] {
                _ = metrics.connectErrors(namespace: namespace, code: code)
            }
        }
        for outcome in ["recovered", "unknown_session", "truncated", "unavailable"] { _ = metrics.recovery(outcome: outcome) }
        for source in ["simulator", "http"] {
            for type in ["tick", "trade", "depth", "ticker", "stats", "status"] { _ = metrics.feedMessages(source: source, type: type) }
        }
        _ = metrics.feedRejected(source: "http", reason: "invalid_field")
        for symbol in configuration.namespaces.symbols {
            _ = metrics.feedGaps(symbol: symbol)
            _ = metrics.feedStale(symbol: symbol)
            _ = metrics.feedStaleSymbols(symbol: symbol)
        }
        if !freshness.labelsBySymbol {
            _ = metrics.feedStale(symbol: "learned")
            _ = metrics.feedStaleSymbols(symbol: "learned")
        }
        // TLS files are checked before anything listens: a bad one stops start-up, naming it.
        var tls: ServerTLS?
        if let files = configuration.server.tls {
            do throws(TLSFileError) {
                tls = try ServerTLS(certificateFile: files.certificateFile, keyFile: files.keyFile)
            } catch {
                logger.critical("Cannot start TLS", metadata: ["error": "\(error.description)"])
                throw ConfigurationError(problems: [error.description])
            }
        }
        let marketIngest = MarketIngest(services: services, bus: bus)
        let router = Router(context: GatewayRequestContext.self)
        router.add(middleware: JSONErrorMiddleware())
        OperationalRoutes.register(on: router, services: services, engine: engine, bus: bus, configuration: configuration, jwks: jwks)
        IngestRoutes.register(on: router, services: services, bus: bus, market: marketIngest)
        OpenAPIRoutes.register(on: router)
        if let directory = configuration.server.dashboardDirectory {
            if let folder = DashboardRoutes.register(on: router, directory: directory) {
                logger.debug("Dashboard served", metadata: ["directory": "\(folder)"])
            } else {
                logger.warning("No dashboard files beside the executable; /dashboard/ is not served (set server.dashboard.directory)")
            }
        }
        let logger = logger
        let configuration = configuration
        let application = GatewayHTTPServer.makeListener(
            mounts: [EngineMount(path: configuration.server.path, engine: engine)]
                + (configuration.server.msgpackPath.isEmpty ? [] : [EngineMount(path: configuration.server.msgpackPath, engine: engine, parser: .msgpack)]),
            router: router,
            inlineRoutes: [marketIngest.inlineRoute],
            host: configuration.server.host,
            port: configuration.server.port,
            eventLoopGroup: group,
            listenBacklog: configuration.server.listenBacklog,
            tls: tls,
            logger: logger,
            // Test-only switch (sanitizer runs of a crowd at start-up); not a configuration key.
            warmUp: ProcessInfo.processInfo.environment["GATEWAY_TEST_WARM_UP"] != "0",
            onServerRunning: { channel in
                logger.info(
                    "Gateway listening",
                    metadata: [
                        "address": "\(channel.localAddress?.description ?? "?")", "path": "\(configuration.server.path)",
                        "tls": "\(configuration.server.tls != nil)",
                    ]
                )
            }
        )
        // After the listener mounted the Engine.IO routes on the same router.
        OpenAPIRoutes.logRoutes(of: router, logger: logger)
        let shutdown = ShutdownService(
            engine: engine,
            broadcaster: broadcaster,
            namespaces: registry.paths,
            drainSeconds: configuration.server.drainSeconds,
            reconnectAfterMs: 1000,
            logger: logger
        )
        var feedDriver: (any FeedDriver)?
        switch configuration.feed.source {
        case .replay:
            guard let text = try? String(contentsOfFile: configuration.feed.replayFile, encoding: .utf8) else {
                logger.critical("Cannot read the replay file", metadata: ["feed.replay.file": "\(configuration.feed.replayFile)"])
                throw ConfigurationError(problems: ["feed.replay.file = '\(configuration.feed.replayFile)': cannot read the file"])
            }
            let file = ReplayFile(text: text, parser: FeedParser(catalog: services.symbols))
            for (line, error) in file.rejected {
                metrics.feedRejected(source: "replay", reason: error.reason.rawValue).increment(by: 1)
                logger.warning("Replay line skipped", metadata: ["feed.line": "\(line)", "error.type": "\(error.reason.rawValue)"])
            }
            guard !file.entries.isEmpty else {
                // Nothing starts half-configured (SPEC §9): a feed that can never send is a mistake.
                logger.critical("The replay file holds no valid feed message", metadata: ["feed.replay.file": "\(configuration.feed.replayFile)"])
                throw ConfigurationError(problems: ["feed.replay.file = '\(configuration.feed.replayFile)': holds no valid feed message"])
            }
            services.symbols.pin(Set(file.entries.map(\.message.symbol)))
            feedDriver = ReplayDriver(file: file, speed: configuration.feed.replaySpeed, loops: configuration.feed.replayLoops)
        case .simulator:
            let seed = configuration.feed.simulatorSeed != 0 ? configuration.feed.simulatorSeed : UInt64.random(in: 1...UInt64.max)
            // Learning symbols: the simulator makes up the default five, known from the start.
            let simulated = configuration.namespaces.symbols.isEmpty ? NamespaceSettings().symbols : configuration.namespaces.symbols
            for symbol in simulated { try? services.symbols.admit(symbol) }
            services.symbols.pin(simulated)
            feedDriver = SimulatorDriver(symbols: simulated, ticksPerSecond: configuration.feed.simulatorTicksPerSecond, seed: seed)
        case .redis, .none:
            feedDriver = nil  // the Redis feed is a link of RedisIngestService; HTTP ingest is always there
        }
        let continuous = configuration.feed.source.isContinuous(replayLoops: configuration.feed.replayLoops)
        let stats = AdminStatsService(
            services: services, market: market, interval: .seconds(5), slowConsumerStorm: 10,
            feedStallSeconds: continuous && configuration.feed.stallAlertSeconds > 0 ? Double(configuration.feed.stallAlertSeconds) : nil,
            feedSource: configuration.feed.source.rawValue
        )
        var running: [any Service] = [application, stats, MemoryReturnService(engine: engine, logger: logger)]
        if let tls {
            running.append(CertificateReloadService(tls: tls, logger: logger, checkInterval: configuration.server.tlsReloadCheck))
            if configuration.server.plainPort != 0 {
                // Probes and Prometheus without a certificate: /health* and /metrics only.
                let probes = Router(context: GatewayRequestContext.self)
                OperationalRoutes.registerProbes(on: probes, services: services, engine: engine, jwks: jwks)
                running.append(Application(
                    router: probes,
                    configuration: ApplicationConfiguration(address: .hostname(configuration.server.plainHost, port: configuration.server.plainPort), serverName: nil),
                    eventLoopGroupProvider: .shared(group),
                    logger: logger
                ))
            }
        }
        if let internalGroup {
            let internalRouter = Router(context: GatewayRequestContext.self)
            internalRouter.add(middleware: JSONErrorMiddleware())
            OperationalRoutes.registerProbes(on: internalRouter, services: services, engine: engine, jwks: jwks)
            IngestRoutes.register(on: internalRouter, services: services, bus: bus, market: marketIngest)
            running.append(GatewayHTTPServer.makeListener(
                mounts: [],
                router: internalRouter,
                inlineRoutes: [marketIngest.inlineRoute],
                limits: HTTPLimits(engine: engine, loops: LoopContexts(group: internalGroup)),
                host: configuration.server.internalHost,
                port: configuration.server.internalPort,
                eventLoopGroup: internalGroup,
                tls: nil,  // plain, like server.tls.plainPort: an internal interface, never the public one
                logger: logger,
                warmUp: false,
                onServerRunning: { channel in
                    logger.info("Internal API listening", metadata: ["address": "\(channel.localAddress?.description ?? "?")"])
                }
            ))
        }
        if let jwks { running.append(JWKSRefreshService(refresher: jwks)) }
        if let presenceWebhook { running.append(PresenceWebhookService(webhook: presenceWebhook)) }
        if let feedDriver { running.append(FeedDriverService(driver: feedDriver, sink: market, logger: logger)) }
        if services.symbols.isLearning, configuration.feed.learnedSymbolIdleSeconds > 0 {
            running.append(IdleSymbolService(
                symbols: services.symbols, interest: services.symbolInterest, market: market,
                idleSeconds: Double(configuration.feed.learnedSymbolIdleSeconds), logger: logger
            ))
        }
        if let redis = configuration.redis {
            running.append(RedisIngestService(
                address: redis.address, prefix: redis.prefix, readsFeed: configuration.feed.source == .redis,
                services: services, market: market, bus: bus,
                clusterParts: ([broker, sharedRateLimits, sharedIdempotency, userSlots, history, presenceLedger, occupancyLedger] as [(any RedisLinkSource)?]).compactMap { $0 },
                eventLoop: group.next(), logger: logger
            ))
            for direction in ["published", "received", "local_only"] { _ = metrics.busMessages(direction: direction) }
        }
        running.append(shutdown)
        let serviceGroup = ServiceGroup(
            configuration: .init(
                services: running,
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await serviceGroup.run()
        // Upstream first: the internal loop's POSTs hop to the feed loop, and the feed's timers
        // and hops must not reach connection loops that are gone.
        try? await internalGroup?.shutdownGracefully()
        try? await feedGroup.shutdownGracefully()
        try await group.shutdownGracefully()
    }

    /// `market.occupancy` to every `/admin` socket when a symbol gains its first subscriber in
    /// the cluster or has had none for a second: the presence ledger, keyed by symbol.
    private static func announceOccupancy(
        services: GatewayServices, bus: any GatewayBus, redis: RedisConfiguration?, instanceID: String, eventLoop: any EventLoop, logger: Logger
    ) -> RedisPresenceLedger? {
        let (tracker, shared) = presenceTracker(
            keyPrefix: "occupancy:", grace: .seconds(1), redis: redis, instanceID: instanceID, eventLoop: eventLoop, logger: logger
        ) { symbol, change in
            let notice = OccupancyNotice(symbol: symbol, watched: change.online, version: change.version, ts: WallClock.milliseconds())
            bus.adminEvent("market.occupancy", payload: notice.json)
        }
        services.occupancy.observe { symbol, watched in
            if watched { tracker.socketOpened(symbol) } else { tracker.socketClosed(symbol) }
        }
        return shared
    }

    /// A presence tracker on the local ledger or, with Redis, on the shared one whose keys start
    /// with `{prefix}{keyPrefix}` (the shared one is returned too: it is one of the Redis links).
    private static func presenceTracker(
        keyPrefix: String, grace: TimeAmount, redis: RedisConfiguration?, instanceID: String, eventLoop: any EventLoop, logger: Logger,
        announce: @escaping @Sendable (String, PresenceChange) -> Void
    ) -> (PresenceTracker, RedisPresenceLedger?) {
        let shared = redis.map { RedisPresenceLedger(prefix: $0.prefix + keyPrefix, instanceID: instanceID, lease: $0.connectionLease, logger: logger) }
        let ledger: any PresenceLedger = shared ?? LocalPresenceLedger()
        return (PresenceTracker(ledger: ledger, grace: grace, eventLoop: eventLoop, announce: announce), shared)
    }
}
