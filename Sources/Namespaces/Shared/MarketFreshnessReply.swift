import GatewayCore
import GatewayJSON

/// What a `/prices` or `/market` subscribe adds for freshness and continuity
/// (docs/market-data.md): the stale symbols among those asked for (state on subscribe: in the
/// ack, or as `market.stale` after the confirmation), and, for a subscribe that opted in with
/// `heartbeatMs`, the run's `epoch`, the full `stale` list and the heartbeat in force. A
/// subscribe that names none of the additions gets the ack it always got, unless a symbol is stale.
struct MarketFreshnessReply {
    var fields: [JSONMember] = []
    var followUps: [(String, JSONValue)] = []

    init(market: MarketState?, symbols: [String], heartbeatMs: Int?) {
        guard let market else { return }
        let now = WallClock.milliseconds()
        let stale = market.board.stale(among: symbols).map { $0.payload(now: now) }
        if let heartbeatMs {
            fields.append(JSONMember("epoch", .string(market.epoch)))
            fields.append(JSONMember("heartbeatMs", .number(String(heartbeatMs))))
        }
        if heartbeatMs != nil || !stale.isEmpty { fields.append(JSONMember("stale", .array(stale))) }
        followUps = stale.map { ("market.stale", $0) }
    }
}
