import GatewayCore
import GatewayMetrics
import Logging
import Namespaces
import ServiceLifecycle
import SocketIOCodec

/// Every 5 s: works out message rates, sends `admin.stats` to the `/admin` room, and raises an
/// `admin.alert` when slow-consumer disconnects come in a storm.
struct AdminStatsService: Service {
    let services: GatewayServices
    let interval: Duration
    /// Slow-consumer disconnects within one interval that count as a storm.
    let slowConsumerStorm: Int

    func run() async throws {
        let operations = AdminOperations(services: services)
        let totals = services.metrics.totals
        var lastIn = totals.received.load(ordering: .relaxed)
        var lastOut = totals.sent.load(ordering: .relaxed)
        var lastSlow = totals.slowConsumers.load(ordering: .relaxed)
        let seconds = Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
            if Task.isShuttingDownGracefully { return }
            let received = totals.received.load(ordering: .relaxed)
            let sent = totals.sent.load(ordering: .relaxed)
            let slow = totals.slowConsumers.load(ordering: .relaxed)
            let inRate = Double(received - lastIn) / seconds
            let outRate = Double(sent - lastOut) / seconds
            services.trafficRates.update(TrafficRates.Rates(inPerSecond: inRate, outPerSecond: outRate))
            if slow - lastSlow >= slowConsumerStorm {
                alert(level: "warning", message: "\(slow - lastSlow) slow-consumer disconnects in the last \(Int(seconds)) s")
            }
            (lastIn, lastOut, lastSlow) = (received, sent, slow)
            services.broadcaster.emit(namespace: "/admin", room: "admin", event: "admin.stats", arguments: [operations.stats()])
        }
    }

    private func alert(level: String, message: String) {
        services.logger.warning("Admin alert", metadata: ["alert.message": "\(message)"])
        services.broadcaster.emit(
            namespace: "/admin", room: "admin", event: "admin.alert",
            arguments: [.object(["level": .string(level), "message": .string(message), "ts": .number(String(WallClock.milliseconds()))])]
        )
    }
}
