import Foundation
import NIOCore

/// Drives the ``MarketSimulator`` (`feed.source: simulator`) at `ticksPerSecond`.
public struct SimulatorDriver: FeedDriver {
    public let symbols: [String]
    public let ticksPerSecond: Int
    public let seed: UInt64
    public var kind: FeedSourceKind { .simulator }

    public init(symbols: [String], ticksPerSecond: Int, seed: UInt64) {
        self.symbols = symbols
        self.ticksPerSecond = ticksPerSecond
        self.seed = seed
    }

    public func start(into sink: any FeedSink) -> EventLoopFuture<RepeatedTask> {
        let loop = sink.feedLoop
        let (symbols, ticksPerSecond, seed) = (symbols, ticksPerSecond, seed)
        return loop.submit {
            var simulator = MarketSimulator(symbols: symbols, seed: seed)
            sink.ingest(simulator.snapshots(now: Self.nowMs()), source: FeedSourceKind.simulator.rawValue)
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
                if !batch.isEmpty { resync = !sink.ingest(batch, source: FeedSourceKind.simulator.rawValue) }
            }
        }
    }

    static func nowMs() -> Double { (Date().timeIntervalSince1970 * 1000).rounded() }
}
