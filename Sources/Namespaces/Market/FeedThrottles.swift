/// Per-channel throttles (SPEC §5 `feed.throttleMs`): the least time between two messages of
/// one symbol on a channel; the newest value is sent when the interval ends. Depth is
/// throttled through its cadence instead: its throttle is the default cadence.
public struct FeedThrottles: Sendable, Equatable {
    public var pricesMs: Int
    public var statsMs: Int
    public var tickerMs: Int
    /// The cadence of a depth subscription that names none (`feed.throttleMs.depth`: 0 raw,
    /// 100, or 1000).
    public var depthCadence: DepthCadence

    public init(pricesMs: Int = 0, statsMs: Int = 1000, tickerMs: Int = 1000, depthCadence: DepthCadence = .fast) {
        self.pricesMs = pricesMs
        self.statsMs = statsMs
        self.tickerMs = tickerMs
        self.depthCadence = depthCadence
    }

    /// `feed.throttleMs.depth` → a cadence; nil for other values.
    public static func depthCadence(milliseconds: Int) -> DepthCadence? {
        switch milliseconds {
        case 0: .raw
        case 100: .fast
        case 1000: .slow
        default: nil
        }
    }

    public var depthMs: Int {
        switch depthCadence {
        case .raw: 0
        case .fast: 100
        case .slow: 1000
        }
    }
}
