import GatewayCore
import GatewayJSON

/// What a `/prices` or `/market` subscribe adds for freshness and continuity
/// (docs/market-data.md): the run's `epoch`, the stale symbols among those asked for (in the ack
/// and as `market.stale` right after), and the heartbeat in force.
struct MarketFreshnessReply {
    var fields: [JSONMember] = []
    var followUps: [(String, JSONValue)] = []

    init(market: MarketState?, symbols: [String], heartbeatMs: Int?) {
        guard let market else { return }
        let now = WallClock.milliseconds()
        let stale = market.board.stale(among: symbols).map { $0.payload(now: now) }
        fields.append(JSONMember("epoch", .string(market.epoch)))
        fields.append(JSONMember("stale", .array(stale)))
        if let heartbeatMs { fields.append(JSONMember("heartbeatMs", .number(String(heartbeatMs)))) }
        followUps = stale.map { ("market.stale", $0) }
    }
}

/// The `market.gap` frame declaring the trades a lagging socket skipped in its `room`.
enum TradeGapNotice {
    static func frame(skipped: ClosedRange<UInt64>, symbol: String, namespace: NamespacePath) -> EncodedFrame {
        OutboundMessage.event(
            namespace: namespace, name: "market.gap",
            payloadJSON: MarketNotices.gap(symbol: symbol, channel: .trades, skipped: skipped, reason: .conflated)
        ).header
    }
}
