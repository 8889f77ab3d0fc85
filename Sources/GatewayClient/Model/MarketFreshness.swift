import GatewayJSON

/// What the client knows of one symbol's freshness and continuity (docs/market-data.md): whether
/// the gateway says its feed is silent or its book broken, when it last heard of it, and the gaps
/// the gateway declared. Read it with ``GatewayClient/freshness(_:)``; refuse to act on a symbol
/// with ``GatewayClient/requireFresh(_:maxSilence:)``.
public struct MarketFreshness: Sendable, Hashable {
    public let symbol: String
    /// The gateway said the symbol's feed is silent (`market.stale`) and has not said it is live.
    public internal(set) var isStale = false
    /// Since when the feed has been silent, by the client's clock (while ``isStale``).
    public internal(set) var silentSince: ContinuousClock.Instant?
    /// The symbol's book broke in the feed (a sequence gap) and has not been healed by a snapshot.
    public internal(set) var isBookStale = false
    /// The source time (ms since the epoch) of the newest message or heartbeat for the symbol.
    public internal(set) var lastSourceTs: Double?
    /// When the client last heard of the symbol: data, heartbeat or notice.
    public internal(set) var lastHeard: ContinuousClock.Instant?
    /// The newest declared gaps, oldest first (at most ``keptGaps``); ``gapCount`` counts all.
    public internal(set) var gaps: [DeclaredGap] = []
    public internal(set) var gapCount = 0
    /// The `seq` of the newest trade received.
    public internal(set) var lastTradeSeq: UInt64?

    public static let keptGaps = 32

    init(symbol: String) {
        self.symbol = symbol
    }

    mutating func record(_ gap: DeclaredGap) {
        gaps.append(gap)
        if gaps.count > Self.keptGaps { gaps.removeFirst(gaps.count - Self.keptGaps) }
        gapCount += 1
    }
}

/// A `market.gap`: what the gateway declared a socket will not receive, or (reason `restart`) a
/// gateway run that began its sequences again, as the client saw from the subscribe's `epoch`.
public struct DeclaredGap: Sendable, Hashable {
    public let channel: String
    public let fromSeq: UInt64
    public let toSeq: UInt64
    /// `conflated`, `resync`, `feed-gap` or `restart`.
    public let reason: String

    public init(channel: String, fromSeq: UInt64, toSeq: UInt64, reason: String) {
        self.channel = channel
        self.fromSeq = fromSeq
        self.toSeq = toSeq
        self.reason = reason
    }

    init?(_ json: JSONValue) {
        guard let channel = json["channel"]?.stringValue, let from = json["fromSeq"]?.intValue, let to = json["toSeq"]?.intValue,
              let reason = json["reason"]?.stringValue else { return nil }
        self.init(channel: channel, fromSeq: UInt64(max(0, from)), toSeq: UInt64(max(0, to)), reason: reason)
    }
}

/// Every symbol's ``MarketFreshness``, fed by the `/prices` and `/market` events and acks.
struct FreshnessTracker {
    private(set) var symbols: [String: MarketFreshness] = [:]
    /// The gateway run of the last subscribe ack (sequences begin again when it changes).
    private var epoch: String?

    subscript(symbol: String) -> MarketFreshness { symbols[symbol] ?? MarketFreshness(symbol: symbol) }

    mutating func observe(_ event: String, _ payload: JSONValue?, now: ContinuousClock.Instant) {
        guard let payload, let symbol = payload["symbol"]?.stringValue else { return }
        var entry = self[symbol]
        entry.lastHeard = now
        let isBook = payload["channel"]?.stringValue == "depth"
        switch event {
        case "market.stale":
            if isBook {
                entry.isBookStale = true
            } else {
                entry.isStale = true
                entry.silentSince = now - .milliseconds(payload["silentMs"]?.intValue ?? 0)
            }
            if let ts = payload["lastSourceTs"]?.doubleValue { entry.lastSourceTs = ts }
        case "market.live":
            if isBook {
                entry.isBookStale = false
            } else {
                entry.isStale = false
                entry.silentSince = nil
            }
        case "market.heartbeat":
            if let ts = payload["sourceTs"]?.doubleValue { entry.lastSourceTs = ts }
        case "market.gap":
            if let gap = DeclaredGap(payload) { entry.record(gap) }
        case "market.depth" where payload["type"]?.stringValue == "snapshot":
            // A whole book again, however the healing notice was missed (a reconnect meanwhile).
            entry.isBookStale = false
            if let ts = payload["ts"]?.doubleValue { entry.lastSourceTs = ts }
        default:
            if let ts = payload["ts"]?.doubleValue { entry.lastSourceTs = ts }
            if event == "price.trade" || event == "market.trades", let seq = payload["seq"]?.intValue { entry.lastTradeSeq = UInt64(seq) }
        }
        symbols[symbol] = entry
    }

    /// A subscribe ack for `subscribed`: its stale list, and a new `epoch` (a restarted gateway:
    /// the trades seen so far cannot be continued, which is declared as a `restart` gap).
    mutating func acknowledged(_ ack: JSONValue, subscribed: [String], now: ContinuousClock.Instant) {
        if let epoch = ack["epoch"]?.stringValue {
            if let previous = self.epoch, previous != epoch {
                // Every symbol's trades seen so far, whichever subscription's ack came first.
                for symbol in symbols.keys {
                    guard let last = symbols[symbol]!.lastTradeSeq else { continue }
                    symbols[symbol]!.record(DeclaredGap(channel: "trades", fromSeq: last + 1, toSeq: .max, reason: "restart"))
                    symbols[symbol]!.lastTradeSeq = nil
                }
            }
            self.epoch = epoch
        }
        for snapshot in ack["snapshots"]?.arrayValue ?? [] {
            guard let symbol = snapshot["symbol"]?.stringValue, symbols[symbol] != nil else { continue }
            symbols[symbol]!.isBookStale = false
        }
        guard ack["stale"] != nil else { return }
        for symbol in subscribed {
            var entry = self[symbol]
            let silentMs = (ack["stale"]?.arrayValue ?? []).first { $0["symbol"]?.stringValue == symbol }?["silentMs"]?.intValue
            entry.isStale = silentMs != nil
            entry.silentSince = silentMs.map { now - .milliseconds($0) }
            entry.lastHeard = now
            symbols[symbol] = entry
        }
    }
}
