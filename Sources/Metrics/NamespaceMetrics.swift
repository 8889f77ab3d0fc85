import CoreMetrics
import Prometheus
import NIOConcurrencyHelpers

/// The per-namespace handles of SPEC §7.
public struct NamespaceMetrics: Sendable {
    public let connections: any MeterHandler
    public let connectionsTotal: any CounterHandler
    public let messagesReceived: any CounterHandler
    public let messagesSent: any CounterHandler
    public let subscriptions: any MeterHandler
    public let rateLimited: any CounterHandler
    public let conflated: any CounterHandler
    public let deliveryLatency: any TimerHandler

    init(registry: PrometheusCollectorRegistry, namespace: String) {
        let labels = [("namespace", namespace)]
        connections = registry.makeGauge(descriptor: MetricName.connections, labels: labels)
        connectionsTotal = registry.makeCounter(descriptor: MetricName.connectionsTotal, labels: labels)
        messagesReceived = registry.makeCounter(descriptor: MetricName.messagesReceived, labels: labels)
        messagesSent = registry.makeCounter(descriptor: MetricName.messagesSent, labels: labels)
        subscriptions = registry.makeGauge(descriptor: MetricName.subscriptions, labels: labels)
        rateLimited = registry.makeCounter(descriptor: MetricName.rateLimited, labels: labels)
        conflated = registry.makeCounter(descriptor: MetricName.conflated, labels: labels)
        deliveryLatency = registry.makeDurationHistogram(descriptor: MetricName.deliveryLatency, labels: labels, buckets: MetricName.latencyBuckets)
    }
}

/// Label values are few (namespaces, error codes), so handles are cached forever. Callers pass
/// only values the gateway knows; as a last guard, past ``maximumLabelSets`` distinct values
/// per family everything new is counted under `other`, so no peer can grow /metrics.
final class NamespaceMetricsCache: Sendable {
    static let maximumLabelSets = 256
    static let overflowLabel = "other"

    private let registry: PrometheusCollectorRegistry
    private let namespaces = NIOLockedValueBox<[String: NamespaceMetrics]>([:])
    private let errors = NIOLockedValueBox<[String: any CounterHandler]>([:])

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    func get(_ namespace: String) -> NamespaceMetrics {
        namespaces.withLockedValue { cache in
            if let metrics = cache[namespace] { return metrics }
            let namespace = cache.count < Self.maximumLabelSets ? namespace : Self.overflowLabel
            if let metrics = cache[namespace] { return metrics }
            let metrics = NamespaceMetrics(registry: registry, namespace: namespace)
            cache[namespace] = metrics
            return metrics
        }
    }

    private let labelledCounters = NIOLockedValueBox(LabelledFamilies<any CounterHandler>())
    private let labelledGauges = NIOLockedValueBox(LabelledFamilies<any MeterHandler>())

    /// Any counter family by its label values, created on first use and kept.
    func labelled(_ descriptor: MetricNameDescriptor, _ labels: [(String, String)]) -> any CounterHandler {
        labelledCounters.withLockedValue { families in
            families.handler(descriptor, labels) { registry.makeCounter(descriptor: descriptor, labels: $0) }
        }
    }

    /// A gauge family by its label values (values the gateway knows: configured symbols, or one
    /// fixed class), created on first use and kept, under the same cap as counters.
    func labelledGauge(_ descriptor: MetricNameDescriptor, _ labels: [(String, String)]) -> any MeterHandler {
        labelledGauges.withLockedValue { families in
            families.handler(descriptor, labels) { registry.makeGauge(descriptor: descriptor, labels: $0) }
        }
    }

    func connectErrors(namespace: String, code: String) -> any CounterHandler {
        errors.withLockedValue { cache in
            var key = namespace + "\u{0}" + code
            if let counter = cache[key] { return counter }
            var (namespace, code) = (namespace, code)
            if cache.count >= Self.maximumLabelSets {
                (namespace, code) = (Self.overflowLabel, Self.overflowLabel)
                key = namespace + "\u{0}" + code
                if let counter = cache[key] { return counter }
            }
            let counter = registry.makeCounter(descriptor: MetricName.connectErrors, labels: [("namespace", namespace), ("code", code)])
            cache[key] = counter
            return counter
        }
    }
}

/// Handlers of labelled metric families by label values. Counted per family, so one family's
/// many values never push another's into `other`: past `maximumLabelSets` a family's new values
/// all become `other`.
struct LabelledFamilies<Handler: Sendable>: Sendable {
    private var handlers: [String: Handler] = [:]
    private var perFamily: [String: Int] = [:]

    mutating func handler(_ descriptor: MetricNameDescriptor, _ labels: [(String, String)], make: ([(String, String)]) -> Handler) -> Handler {
        var labels = labels
        var key = Self.key(descriptor, labels)
        if let handler = handlers[key] { return handler }
        if perFamily[descriptor.name, default: 0] >= NamespaceMetricsCache.maximumLabelSets {
            labels = labels.map { ($0.0, NamespaceMetricsCache.overflowLabel) }
            key = Self.key(descriptor, labels)
            if let handler = handlers[key] { return handler }
        }
        let handler = make(labels)
        handlers[key] = handler
        perFamily[descriptor.name, default: 0] += 1
        return handler
    }

    private static func key(_ descriptor: MetricNameDescriptor, _ labels: [(String, String)]) -> String {
        ([descriptor.name] + labels.map { $0.0 + "=" + $0.1 }).joined(separator: "\u{0}")
    }
}

