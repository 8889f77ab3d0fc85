import CoreMetrics
import Prometheus
import Synchronization

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

    init(factory: PrometheusMetricsFactory, namespace: String) {
        let labels = [("namespace", namespace)]
        connections = factory.makeMeter(label: "gateway_connections", dimensions: labels)
        connectionsTotal = factory.makeCounter(label: "gateway_connections_total", dimensions: labels)
        messagesReceived = factory.makeCounter(label: "gateway_messages_received_total", dimensions: labels)
        messagesSent = factory.makeCounter(label: "gateway_messages_sent_total", dimensions: labels)
        subscriptions = factory.makeMeter(label: "gateway_subscriptions", dimensions: labels)
        rateLimited = factory.makeCounter(label: "gateway_rate_limited_total", dimensions: labels)
        conflated = factory.makeCounter(label: "gateway_conflated_total", dimensions: labels)
        deliveryLatency = factory.makeTimer(label: "gateway_delivery_latency_seconds", dimensions: labels)
    }
}

/// Label values are few (namespaces, error codes), so handles are cached forever.
final class NamespaceMetricsCache: Sendable {
    private let factory: PrometheusMetricsFactory
    private let namespaces = Mutex<[String: NamespaceMetrics]>([:])
    private let errors = Mutex<[String: any CounterHandler]>([:])

    init(factory: PrometheusMetricsFactory) {
        self.factory = factory
    }

    func get(_ namespace: String) -> NamespaceMetrics {
        namespaces.withLock { cache in
            if let metrics = cache[namespace] { return metrics }
            let metrics = NamespaceMetrics(factory: factory, namespace: namespace)
            cache[namespace] = metrics
            return metrics
        }
    }

    func connectErrors(namespace: String, code: String) -> any CounterHandler {
        errors.withLock { cache in
            let key = namespace + "\u{0}" + code
            if let counter = cache[key] { return counter }
            let counter = factory.makeCounter(label: "gateway_connect_errors_total", dimensions: [("namespace", namespace), ("code", code)])
            cache[key] = counter
            return counter
        }
    }
}
