import CoreMetrics
import Prometheus
import Synchronization
import NIOConcurrencyHelpers

/// The SPEC §7 metric catalogue. Every handle is created once, up front or on first use of a
/// label value, and kept; the hot path only touches relaxed atomics.
///
/// Each instance owns its registry, so tests build private ones and nothing is global.
public final class GatewayMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let cpuSecondsSeen = NIOLockedValueBox<Double>(0)

    public let engineConnectionsPolling: any MeterHandler
    public let engineConnectionsWebSocket: any MeterHandler
    /// WebSocket connections that negotiated permessage-deflate (of those above).
    public let deflateConnections: any MeterHandler
    public let slowConsumerDisconnects: any CounterHandler
    public let malformedPackets: any CounterHandler
    public let redisUp: any MeterHandler
    public let redisConfigured: any MeterHandler
    /// Connections closed by the listener's request-head deadlines (slowloris and idle keep-alive).
    private let headerTimeouts: any CounterHandler
    private let idleTimeouts: any CounterHandler

    private let perNamespace: NamespaceMetricsCache
    private let boundRefusals: [Bound: any CounterHandler]
    private let localRateDecisions: [LocalRateDecision: any CounterHandler]

    /// The bounds of docs/security.md whose refusals are counted in
    /// `gateway_bound_refusals_total{bound}`: a fixed label set, never a peer's value.
    public enum Bound: String, CaseIterable, Sendable {
        case sessions
        case sessionsPerAddress = "sessions_per_address"
        case handshakeRate = "handshake_rate"
        case handshakeRatePerAddress = "handshake_rate_per_address"
        case addressTable = "address_table"
        case failedConnectsPerConnection = "failed_connects_per_connection"
        case failedConnectsPerAddress = "failed_connects_per_address"
        case requestHead = "request_head"
        case requestTarget = "request_target"
        case bookLevels = "book_levels"
        case redisPending = "redis_pending"
        case httpConnections = "http_connections"
        case httpConnectionsPerAddress = "http_connections_per_address"
    }

    /// Why a shared (Redis) rate-limit bucket was decided by the local one instead.
    public enum LocalRateDecision: String, CaseIterable, Sendable {
        /// Redis did not answer within the deadline.
        case slow
        /// Redis was down, refused, or had too many commands waiting.
        case unavailable
        /// The socket already had the most checks waiting.
        case busy
    }

    /// Running totals over all namespaces, readable (Prometheus handles are write-only) for
    /// `admin.stats` rates and `admin.metrics`.
    public let totals = Totals()

    public final class Totals: Sendable {
        public let received = Atomic<Int>(0)
        public let sent = Atomic<Int>(0)
        public let rateLimited = Atomic<Int>(0)
        public let slowConsumers = Atomic<Int>(0)
        public let malformed = Atomic<Int>(0)
        /// Engine.IO sessions open now, both transports.
        public let engineSessions = Atomic<Int>(0)
    }

    private let residentMemory: any MeterHandler
    private let cpuSeconds: Prometheus.Counter
    private let openFileDescriptors: any MeterHandler

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        let engine = MetricName.engineConnections
        engineConnectionsPolling = registry.makeGauge(descriptor: engine, labels: [("transport", "polling")])
        engineConnectionsWebSocket = registry.makeGauge(descriptor: engine, labels: [("transport", "websocket")])
        deflateConnections = registry.makeGauge(descriptor: MetricName.deflateConnections, labels: [])
        slowConsumerDisconnects = registry.makeCounter(descriptor: MetricName.slowConsumers, labels: [])
        malformedPackets = registry.makeCounter(descriptor: MetricName.malformed, labels: [])
        redisUp = registry.makeGauge(descriptor: MetricName.redisUp, labels: [])
        redisConfigured = registry.makeGauge(descriptor: MetricName.redisConfigured, labels: [])
        headerTimeouts = registry.makeCounter(descriptor: MetricName.httpTimeouts, labels: [("phase", "header")])
        idleTimeouts = registry.makeCounter(descriptor: MetricName.httpTimeouts, labels: [("phase", "idle")])
        perNamespace = NamespaceMetricsCache(registry: registry)
        boundRefusals = Dictionary(uniqueKeysWithValues: Bound.allCases.map {
            ($0, registry.makeCounter(descriptor: MetricName.boundRefusals, labels: [("bound", $0.rawValue)]))
        })
        localRateDecisions = Dictionary(uniqueKeysWithValues: LocalRateDecision.allCases.map {
            ($0, registry.makeCounter(descriptor: MetricName.localRateDecisions, labels: [("reason", $0.rawValue)]))
        })
        residentMemory = registry.makeGauge(descriptor: MetricName.residentMemory, labels: [])
        cpuSeconds = registry.makeCounter(descriptor: MetricName.cpuSeconds, labels: [])
        openFileDescriptors = registry.makeGauge(descriptor: MetricName.openFileDescriptors, labels: [])
    }

    public func countReceived(_ handles: NamespaceMetrics) {
        handles.messagesReceived.increment(by: 1)
        totals.received.add(1, ordering: .relaxed)
    }

    /// Once per broadcast per loop with the number of sockets written, never per recipient.
    public func countSent(_ count: Int, handle: any CounterHandler) {
        handle.increment(by: Int64(count))
        totals.sent.add(count, ordering: .relaxed)
    }

    public func countRateLimited(namespace: String) {
        self.namespace(namespace).rateLimited.increment(by: 1)
        totals.rateLimited.add(1, ordering: .relaxed)
    }

    public func countSlowConsumer() {
        slowConsumerDisconnects.increment(by: 1)
        totals.slowConsumers.add(1, ordering: .relaxed)
    }

    /// An HTTP connection closed for not sending a complete request head in time: a new one
    /// (`idle` false) or a kept-alive one between requests (`idle` true).
    public func countHTTPTimeout(idle: Bool) {
        (idle ? idleTimeouts : headerTimeouts).increment(by: 1)
    }

    /// Something a peer asked for was refused at one of the documented bounds.
    public func countRefusal(_ bound: Bound, by count: Int = 1) {
        boundRefusals[bound]?.increment(by: Int64(count))
    }

    public func countLocalRateDecision(reason: LocalRateDecision) {
        localRateDecisions[reason]?.increment(by: 1)
    }

    public func countMalformed() {
        malformedPackets.increment(by: 1)
        totals.malformed.add(1, ordering: .relaxed)
    }

    /// Refreshes the process gauges from /proc; called right before each scrape.
    public func refreshProcessMetrics() {
        let sample = ProcessSample.read()
        if let rss = sample.residentBytes { residentMemory.set(Double(rss)) }
        if let cpu = sample.cpuSeconds {
            // A counter: add what was used since the last scrape.
            let delta = cpuSecondsSeen.withLockedValue { seen -> Double in
                let delta = max(0, cpu - seen)
                seen = max(seen, cpu)
                return delta
            }
            if delta > 0 { cpuSeconds.increment(by: delta) }
        }
        if let fds = sample.openFileDescriptors { openFileDescriptors.set(Double(fds)) }
    }

    /// Handles for one namespace label, created on first use and cached.
    public func namespace(_ name: String) -> NamespaceMetrics { perNamespace.get(name) }

    /// Feed messages accepted, by source and type.
    public func feedMessages(source: String, type: String) -> any CounterHandler {
        perNamespace.labelled(MetricName.feedMessages, [("source", source), ("type", type)])
    }

    /// Feed messages refused, by source and reason.
    public func feedRejected(source: String, reason: String) -> any CounterHandler {
        perNamespace.labelled(MetricName.feedRejected, [("source", source), ("reason", reason)])
    }

    /// Depth sequence gaps, by symbol.
    public func feedGaps(symbol: String) -> any CounterHandler {
        perNamespace.labelled(MetricName.feedGaps, [("symbol", symbol)])
    }

    /// Symbols stale now, by symbol (or class: see ``MetricName/feedStaleSymbols``).
    public func feedStaleSymbols(symbol: String) -> any MeterHandler {
        perNamespace.labelledGauge(MetricName.feedStaleSymbols, [("symbol", symbol)])
    }

    /// Times a symbol went stale, by symbol (or class).
    public func feedStale(symbol: String) -> any CounterHandler {
        perNamespace.labelled(MetricName.feedStale, [("symbol", symbol)])
    }

    /// A producer's retry recognised: `request` (Idempotency-Key), `event` (eventId), `trade` (tradeId).
    public func countIdempotentRepeat(kind: String) {
        perNamespace.labelled(MetricName.idempotentRepeats, [("kind", kind)]).increment(by: 1)
    }

    /// An idempotency claim decided locally (Redis unreachable).
    public func countIdempotencyLocal() {
        perNamespace.labelled(MetricName.idempotencyLocal, []).increment(by: 1)
    }

    /// A presence notice's fate (one of ``presenceResults``).
    public func countPresenceNotice(result: String) {
        perNamespace.labelled(MetricName.presenceNotices, [("result", result)]).increment(by: 1)
    }

    public static let presenceResults = ["queued", "delivered", "retried", "refused", "dropped"]
    public static let jwksCauses = ["start", "schedule", "unknown_kid"]

    /// Every series of the presence webhook at 0, so rates and alerts see it before the first notice.
    public func registerPresence() {
        for result in Self.presenceResults { _ = perNamespace.labelled(MetricName.presenceNotices, [("result", result)]) }
    }

    /// Every JWKS series at 0 (and no keys yet), so alerts see them before the first fetch ends.
    public func registerJWKS() {
        for ok in ["ok", "error"] {
            for cause in Self.jwksCauses { _ = perNamespace.labelled(MetricName.jwksRefreshes, [("result", ok), ("cause", cause)]) }
        }
        recordJWKS(keys: 0, lastSuccess: 0)
    }

    /// A JWKS fetch: result ok or error, cause start, schedule or unknown_kid.
    public func countJWKSRefresh(ok: Bool, cause: String) {
        perNamespace.labelled(MetricName.jwksRefreshes, [("result", ok ? "ok" : "error"), ("cause", cause)]).increment(by: 1)
    }

    /// The JWKS keys in force and when they were last read.
    public func recordJWKS(keys: Int, lastSuccess: Double) {
        perNamespace.labelledGauge(MetricName.jwksKeys, []).set(Double(keys))
        perNamespace.labelledGauge(MetricName.jwksLastSuccess, []).set(lastSuccess)
    }

    /// Connection state recovery attempts: recovered, unknown_session (unknown pid or past the window), truncated.
    public func recovery(outcome: String) -> any CounterHandler {
        perNamespace.labelled(MetricName.recovery, [("outcome", outcome)])
    }

    /// Cluster bus messages by direction: published, received, local_only.
    public func busMessages(direction: String) -> any CounterHandler {
        perNamespace.labelled(MetricName.busMessages, [("direction", direction)])
    }

    /// A counter of CONNECT refusals for one namespace and error code.
    public func connectErrors(namespace: String, code: String) -> any CounterHandler {
        perNamespace.connectErrors(namespace: namespace, code: code)
    }

    /// Prometheus text format 0.0.4 of everything registered here.
    public func exposition() -> [UInt8] {
        refreshProcessMetrics()
        var buffer: [UInt8] = []
        buffer.reserveCapacity(16 * 1024)
        registry.emit(into: &buffer)
        return buffer
    }
}
