import CoreMetrics
import Prometheus

/// The SPEC §7 metric catalogue. Every handle is created once, up front or on first use of a
/// label value, and kept; the hot path only touches relaxed atomics.
///
/// Each instance owns its registry, so tests build private ones and nothing is global.
public final class GatewayMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory

    public let engineConnectionsPolling: any MeterHandler
    public let engineConnectionsWebSocket: any MeterHandler
    public let slowConsumerDisconnects: any CounterHandler
    public let malformedPackets: any CounterHandler

    private let perNamespace: NamespaceMetricsCache

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets["gateway_delivery_latency_seconds"] = [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5),
        ]
        self.factory = factory
        engineConnectionsPolling = factory.makeMeter(label: "gateway_engine_connections", dimensions: [("transport", "polling")])
        engineConnectionsWebSocket = factory.makeMeter(label: "gateway_engine_connections", dimensions: [("transport", "websocket")])
        slowConsumerDisconnects = factory.makeCounter(label: "gateway_slow_consumer_disconnects_total", dimensions: [])
        malformedPackets = factory.makeCounter(label: "gateway_malformed_packets_total", dimensions: [])
        perNamespace = NamespaceMetricsCache(factory: factory)
    }

    /// Handles for one namespace label, created on first use and cached.
    public func namespace(_ name: String) -> NamespaceMetrics { perNamespace.get(name) }

    /// A counter of CONNECT refusals for one namespace and error code.
    public func connectErrors(namespace: String, code: String) -> any CounterHandler {
        perNamespace.connectErrors(namespace: namespace, code: code)
    }

    /// Prometheus text format 0.0.4 of everything registered here.
    public func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(16 * 1024)
        registry.emit(into: &buffer)
        return buffer
    }
}
