import Foundation
import Logging
import MarketFeed
import Namespaces
import NIOCore
import ServiceLifecycle

/// Drives the configured feed source into the market state, on the feed's event loop. Today:
/// the simulator (`feed.source: simulator`), or nothing (`none`).
struct MarketFeedService: Service {
    let market: MarketState
    let symbols: [String]
    let ticksPerSecond: Int
    let seed: UInt64
    let logger: Logger

    func run() async throws {
        let loop = market.feedLoop
        let market = market
        let ticksPerSecond = ticksPerSecond
        let symbols = symbols
        let seed = seed
        let task = try await loop.submit { () -> RepeatedTask in
            var simulator = MarketSimulator(symbols: symbols, seed: seed)
            market.ingest(simulator.snapshots(now: Self.nowMs()), source: "simulator")
            // Steps are spread over 10 ms slots; the fractional remainder carries over.
            var owed = 0.0
            return loop.scheduleRepeatedTask(initialDelay: .milliseconds(10), delay: .milliseconds(10)) { _ in
                owed += Double(ticksPerSecond) / 100
                let now = Self.nowMs()
                var batch: [FeedMessage] = []
                while owed >= 1 {
                    owed -= 1
                    batch += simulator.step(now: now)
                }
                if !batch.isEmpty { market.ingest(batch, source: "simulator") }
            }
        }.get()
        logger.info("Market simulator running", metadata: ["feed.symbols": "\(symbols.count)", "feed.ticksPerSecond": "\(ticksPerSecond)"])
        try? await gracefulShutdown()
        task.cancel()
    }

    static func nowMs() -> Double { (Date().timeIntervalSince1970 * 1000).rounded() }
}
