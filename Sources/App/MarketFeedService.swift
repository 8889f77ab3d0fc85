import Foundation
import Logging
import MarketFeed
import Namespaces
import NIOCore
import ServiceLifecycle

/// Drives the simulator (`feed.source: simulator`) into the market state, on the feed's loop.
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
            // Steps are owed by elapsed time (a busy loop that runs the task late catches up),
            // spread over 10 ms slots; the fractional remainder carries over.
            var owed = 0.0
            var last = NIODeadline.now()
            // A refused batch (the feed loop was far behind) broke the book chains: start the
            // next batch with fresh snapshots.
            var resync = false
            return loop.scheduleRepeatedTask(initialDelay: .milliseconds(10), delay: .milliseconds(10)) { _ in
                let now = NIODeadline.now()
                // At most a second owed: a stalled process does not come back with a flood.
                owed = min(owed + Double(ticksPerSecond) * Double((now - last).nanoseconds) / 1e9, Double(ticksPerSecond))
                last = now
                let timestamp = Self.nowMs()
                var batch: [FeedMessage] = resync ? simulator.snapshots(now: timestamp) : []
                while owed >= 1 {
                    owed -= 1
                    batch += simulator.step(now: timestamp)
                }
                if !batch.isEmpty { resync = !market.ingest(batch, source: "simulator") }
            }
        }.get()
        logger.info("Market simulator running", metadata: ["feed.symbols": "\(symbols.count)", "feed.ticksPerSecond": "\(ticksPerSecond)"])
        try? await gracefulShutdown()
        task.cancel()
    }

    static func nowMs() -> Double { (Date().timeIntervalSince1970 * 1000).rounded() }
}

/// Replays a JSON Lines file (`feed.source: replay`) at `speed` times its recorded pace,
/// optionally in a loop; bad lines are skipped and counted.
struct ReplayFeedService: Service {
    let market: MarketState
    let file: ReplayFile
    let speed: Double
    let loop: Bool
    let logger: Logger

    func run() async throws {
        let market = market
        let entries = file.entries
        let speed = speed
        let repeats = loop
        guard !entries.isEmpty else {
            logger.warning("The replay file holds no valid message")
            return
        }
        let feedLoop = market.feedLoop
        let task = try await feedLoop.submit { () -> RepeatedTask in
            var next = 0
            var started = NIODeadline.now()
            return feedLoop.scheduleRepeatedTask(initialDelay: .zero, delay: .milliseconds(5)) { task in
                let elapsedMs = Double((NIODeadline.now() - started).nanoseconds) / 1e6 * speed
                var due: [FeedMessage] = []
                while next < entries.count, entries[next].offsetMs <= elapsedMs {
                    due.append(entries[next].message)
                    next += 1
                }
                if !due.isEmpty { market.ingest(due, source: "replay") }
                if next == entries.count {
                    if repeats {
                        next = 0
                        started = NIODeadline.now()
                    } else {
                        task.cancel()
                    }
                }
            }
        }.get()
        logger.info("Replaying feed file", metadata: ["feed.messages": "\(entries.count)", "feed.speed": "\(speed)"])
        try? await gracefulShutdown()
        task.cancel()
    }
}
