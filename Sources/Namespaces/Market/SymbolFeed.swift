import GatewayJSON
import MarketFeed
import GatewayCore
import NIOCore

/// What the feed loop knows of one symbol's feed (docs/market-data.md): when it last spoke and
/// through which source, its `ts`, the gateway's sequences, whether subscribers were told it is
/// stale, and when each namespace last sent something for it (for heartbeats).
struct SymbolFeed {
    var source: String
    var lastArrival: NIODeadline
    var lastSourceTs: JSONValue = .null
    /// The last trade's and tick's gateway sequence (0: none yet).
    var tradeSeq: UInt64 = 0
    var tickSeq: UInt64 = 0
    /// `market.stale` (silent) went out and `market.live` has not.
    var isStale = false
    /// Its silence says something of the feed (false while this instance does not listen to it).
    var isJudged = true
    /// The book broke (a feed gap): depth subscribers were told, and are told again when it heals.
    var bookBroken = false
    /// When each namespace last published anything for the symbol.
    var lastSentPrices: NIODeadline?
    var lastSentMarket: NIODeadline?

    init(source: String, now: NIODeadline) {
        self.source = source
        lastArrival = now
    }

    mutating func nextTickSeq() -> UInt64 {
        tickSeq += 1
        return tickSeq
    }

    mutating func nextTradeSeq() -> UInt64 {
        tradeSeq += 1
        return tradeSeq
    }

    /// A message arrived; returns how long the symbol had been silent when it was stale.
    mutating func arrive(source: String, now: NIODeadline, sourceTs: JSONValue) -> TimeAmount? {
        let wasStale = isStale ? now - lastArrival : nil
        isStale = false
        isJudged = true
        self.source = source
        lastArrival = now
        if sourceTs != .null { lastSourceTs = sourceTs }
        return wasStale
    }

    func lastSent(in namespace: SymbolNamespace) -> NIODeadline? {
        namespace == .prices ? lastSentPrices : lastSentMarket
    }
}

/// The two namespaces of symbol rooms, where heartbeats and freshness notices go.
public enum SymbolNamespace: Sendable, Hashable, CaseIterable {
    case prices, market

    var path: NamespacePath { self == .prices ? PricesBehavior.path : MarketBehavior.path }
}

extension FeedMessage {
    /// The source's `ts` (ticker and stats: their payload's).
    var sourceTs: JSONValue {
        switch self {
        case .tick(let tick): tick.ts
        case .trade(let trade): trade.ts
        case .depth(let depth): depth.ts
        case .status(_, _, let ts): ts
        case .ticker(_, let payload), .stats(_, let payload): payload["ts"] ?? .null
        }
    }
}
