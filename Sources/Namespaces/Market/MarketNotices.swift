import GatewayJSON

/// The JSON of the freshness and continuity events (docs/market-data.md): `market.heartbeat`,
/// `market.stale`, `market.live`, `market.gap`.
enum MarketNotices {
    /// Why a socket did not get part of a stream.
    enum GapReason: String {
        case conflated, resync, restart
        case feedGap = "feed-gap"
    }

    static func gap(symbol: String, channel: MarketChannel, skipped: ClosedRange<UInt64>, reason: GapReason) -> String {
        gap(symbol: symbol, channel: channel, fromSeq: skipped.lowerBound, toSeq: skipped.upperBound, reason: reason)
    }

    static func gap(symbol: String, channel: MarketChannel, fromSeq: UInt64, toSeq: UInt64, reason: GapReason) -> String {
        JSONSerializer.serialize(.object([
            "symbol": .string(symbol), "channel": .string(channel.rawValue), "fromSeq": .number(String(fromSeq)),
            "toSeq": .number(String(toSeq)), "reason": .string(reason.rawValue),
        ]))
    }

    static func heartbeat(symbol: String, seq: UInt64, tradeSeq: UInt64, priceSeq: UInt64, depthSeq: UInt64?, sourceTs: JSONValue, gatewayTs: Int64) -> String {
        JSONSerializer.serialize(.object([
            "symbol": .string(symbol), "seq": .number(String(seq)), "tradeSeq": .number(String(tradeSeq)),
            "priceSeq": .number(String(priceSeq)), "depthSeq": depthSeq.map { .number(String($0)) } ?? .null,
            "sourceTs": sourceTs, "gatewayTs": .number(String(gatewayTs)),
        ]))
    }

    /// A book broken by a feed gap (its depth subscribers only).
    static func bookStale(symbol: String, lastSourceTs: JSONValue) -> String {
        JSONSerializer.serialize(.object([
            "symbol": .string(symbol), "channel": "depth", "reason": .string(GapReason.feedGap.rawValue),
            "lastSourceTs": lastSourceTs, "silentMs": 0,
        ]))
    }

    static func live(symbol: String, silentMs: Int) -> String {
        JSONSerializer.serialize(.object(["symbol": .string(symbol), "silentMs": .number(String(silentMs))]))
    }

    static func bookLive(symbol: String) -> String {
        JSONSerializer.serialize(.object(["symbol": .string(symbol), "channel": "depth"]))
    }
}
