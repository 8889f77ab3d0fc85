import GatewayJSON

extension FeedMessage {
    /// The message in its SPEC §6 wire form, as a producer would send it (what ``FeedParser``
    /// reads back to the same message): for recording feeds and for checking producers.
    public var json: JSONValue {
        switch self {
        case .tick(let tick):
            .object([
                "type": "tick", "symbol": .string(tick.symbol), "price": tick.price.json, "bid": tick.bid.json,
                "ask": tick.ask.json, "volume": tick.volume.json, "ts": tick.ts,
            ])
        case .trade(let trade):
            .object([
                "type": "trade", "symbol": .string(trade.symbol), "tradeId": trade.tradeId, "price": trade.price.json,
                "qty": trade.qty.json, "side": .string(trade.side), "ts": trade.ts,
            ])
        case .depth(let depth):
            .object([
                "type": "depth", "symbol": .string(depth.symbol), "kind": .string(depth.kind.rawValue), "seq": .number(String(depth.seq)),
                "bids": .array(depth.bids.map(\.json)), "asks": .array(depth.asks.map(\.json)), "ts": depth.ts,
            ])
        case .ticker(_, let payload):
            Self.typed("ticker", payload)
        case .stats(_, let payload):
            Self.typed("stats", payload)
        case .status(let symbol, let status, let ts):
            .object(["type": "status", "symbol": .string(symbol), "status": .string(status), "ts": ts])
        }
    }

    private static func typed(_ type: String, _ payload: JSONValue) -> JSONValue {
        guard case .object(let members) = payload else { return payload }
        return .object([JSONMember("type", .string(type))] + members)
    }
}
