import NIOCore

/// `feed.staleAfterMs` (docs/market-data.md): how long a symbol's feed may be silent before its
/// subscribers get `market.stale`, for every source or per source (0: never).
public struct FeedFreshness: Sendable, Equatable {
    public static let defaultStaleAfterMs = 5_000
    /// For sources not named in `staleAfterMsBySource`.
    public var staleAfterMs: Int
    /// Per source (`simulator`, `redis`, `replay`, `http`).
    public var staleAfterMsBySource: [String: Int]
    /// Stale metrics labelled by symbol (a configured symbol list), or all as `learned` (symbols
    /// learned from the feed: the label set must stay bounded).
    public var labelsBySymbol: Bool

    public init(staleAfterMs: Int = defaultStaleAfterMs, staleAfterMsBySource: [String: Int] = [:], labelsBySymbol: Bool = true) {
        self.staleAfterMs = staleAfterMs
        self.staleAfterMsBySource = staleAfterMsBySource
        self.labelsBySymbol = labelsBySymbol
    }

    /// The bound for a symbol last fed by `source`; nil when staleness is off for it.
    func staleAfter(source: String) -> TimeAmount? {
        let ms = staleAfterMsBySource[source] ?? staleAfterMs
        return ms > 0 ? .milliseconds(Int64(ms)) : nil
    }

    func metricLabel(_ symbol: String) -> String { labelsBySymbol ? symbol : "learned" }
}
