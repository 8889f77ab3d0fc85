import MarketFeed
import Namespaces

/// `feed.*` but the symbols and throttles (which the namespaces enforce): where market data
/// comes from.
struct FeedConfiguration: Sendable {
    var source: FeedSourceKind
    /// Seconds without market data before admins get a feed-stall alert (0: never).
    var stallAlertSeconds: Int
    var replayFile: String
    var replaySpeed: Double
    var replayLoops: Bool
    var simulatorTicksPerSecond: Int
    /// 0: a random seed per run.
    var simulatorSeed: UInt64
    /// Levels kept per side of each order book.
    var maxBookLevels: Int
    /// Learned symbols the feed has not named this long, with no subscriber, are forgotten (0: never).
    var learnedSymbolIdleSeconds: Int
    /// `feed.staleAfterMs`: a number for every source, or a mapping per source with `default`.
    var freshness: FeedFreshness

    init(reading reader: inout ConfigurationReader) {
        source = reader.choice("feed.source", FeedSourceKind.allCases.map(\.rawValue)).flatMap(FeedSourceKind.init(rawValue:)) ?? .simulator
        stallAlertSeconds = reader.int("feed.stallAlertSeconds", in: 0...86_400)
        replayFile = reader.string("feed.replay.file")
        replaySpeed = reader.positiveDouble("feed.replay.speed")
        replayLoops = reader.bool("feed.replay.loop")
        simulatorTicksPerSecond = reader.int("feed.simulator.ticksPerSecond", in: 1...100_000)
        simulatorSeed = UInt64(reader.int("feed.simulator.seed", in: 0...Int.max))
        maxBookLevels = reader.int("feed.maxBookLevels", in: 10...1_000_000)
        learnedSymbolIdleSeconds = reader.int("feed.learnedSymbolIdleSeconds", in: 0...31_536_000)
        let bound = 0...86_400_000
        let everySource = reader.optionalInt("feed.staleAfterMs.default", in: bound) ?? reader.int("feed.staleAfterMs", in: bound)
        var bySource: [String: Int] = [:]
        for source in ["simulator", "redis", "replay", "http"] {
            if let ms = reader.optionalInt("feed.staleAfterMs.\(source)", in: bound) { bySource[source] = ms }
        }
        freshness = FeedFreshness(staleAfterMs: everySource, staleAfterMsBySource: bySource)
    }
}
