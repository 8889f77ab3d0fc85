import GatewayCore
import GatewayMetrics
import Logging
import Namespaces
import ServiceLifecycle

/// Every 5 s: works out message rates and sends `admin.stats` to the `/admin` room. Every
/// second: raises an `admin.alert` when slow-consumer disconnects come in a storm, or when
/// the market feed has gone quiet for `feedStallSeconds` (and again when it is back).
struct AdminStatsService: Service {
    let services: GatewayServices
    let market: MarketState
    let interval: Duration
    /// Slow-consumer disconnects within one interval that count as a storm.
    let slowConsumerStorm: Int
    /// nil: no continuous feed is expected (HTTP only, or a replay that ends).
    let feedStallSeconds: Double?
    let feedSource: String

    func run() async throws {
        let operations = AdminOperations(services: services)
        let totals = services.metrics.totals
        var lastIn = totals.received.load(ordering: .relaxed)
        var lastOut = totals.sent.load(ordering: .relaxed)
        var lastSlow = totals.slowConsumers.load(ordering: .relaxed)
        let seconds = Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18
        let ticksPerStats = max(1, Int(seconds.rounded()))
        var tick = 0
        var stalled = false
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: .seconds(1))
            } catch {
                return
            }
            if Task.isShuttingDownGracefully { return }
            if let limit = feedStallSeconds {
                let quiet = market.secondsSinceLastMessage
                if !stalled && quiet >= limit {
                    stalled = true
                    operations.alert(level: "warning", message: "Feed stalled: no market data from '\(feedSource)' for \(Int(quiet)) s")
                } else if stalled && quiet < limit {
                    stalled = false
                    operations.alert(level: "info", message: "Feed resumed: market data from '\(feedSource)' is flowing again")
                }
            }
            tick += 1
            guard tick % ticksPerStats == 0 else { continue }
            let received = totals.received.load(ordering: .relaxed)
            let sent = totals.sent.load(ordering: .relaxed)
            let slow = totals.slowConsumers.load(ordering: .relaxed)
            let inRate = Double(received - lastIn) / seconds
            let outRate = Double(sent - lastOut) / seconds
            services.trafficRates.update(TrafficRates.Rates(inPerSecond: inRate, outPerSecond: outRate))
            if slow - lastSlow >= slowConsumerStorm {
                operations.alert(level: "warning", message: "\(slow - lastSlow) slow-consumer disconnects in the last \(Int(seconds)) s")
            }
            (lastIn, lastOut, lastSlow) = (received, sent, slow)
            services.publisher.emit(to: .admins, event: "admin.stats", arguments: [operations.stats()])
        }
    }
}
