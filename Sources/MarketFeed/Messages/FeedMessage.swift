import GatewayJSON

/// One validated feed message (SPEC §6). Payload JSON that clients receive unchanged (ticker,
/// stats) is kept as the object the producer sent.
public enum FeedMessage: Sendable, Hashable {
    case tick(Tick)
    case trade(Trade)
    case depth(Depth)
    case ticker(symbol: String, payload: JSONValue)
    case stats(symbol: String, payload: JSONValue)
    case status(symbol: String, status: String, ts: JSONValue)

    public struct Tick: Sendable, Hashable {
        public let symbol: String
        public let price: DecimalText
        public let bid: DecimalText
        public let ask: DecimalText
        public let volume: DecimalText
        public let ts: JSONValue
    }

    public struct Trade: Sendable, Hashable {
        public let symbol: String
        public let tradeId: JSONValue
        public let price: DecimalText
        public let qty: DecimalText
        public let side: String
        public let ts: JSONValue
    }

    public struct Depth: Sendable, Hashable {
        public enum Kind: String, Sendable { case snapshot, delta }
        public let symbol: String
        public let kind: Kind
        public let seq: UInt64
        public let bids: [BookLevel]
        public let asks: [BookLevel]
        public let ts: JSONValue
    }

    public var symbol: String {
        switch self {
        case .tick(let tick): tick.symbol
        case .trade(let trade): trade.symbol
        case .depth(let depth): depth.symbol
        case .ticker(let symbol, _), .stats(let symbol, _), .status(let symbol, _, _): symbol
        }
    }

    /// The `type` label for metrics.
    public var type: String {
        switch self {
        case .tick: "tick"
        case .trade: "trade"
        case .depth: "depth"
        case .ticker: "ticker"
        case .stats: "stats"
        case .status: "status"
        }
    }
}

/// One price level: `[price, qty]`; a quantity of 0 removes the level.
public struct BookLevel: Sendable, Hashable {
    public let price: DecimalText
    public let qty: DecimalText

    public init(price: DecimalText, qty: DecimalText) {
        self.price = price
        self.qty = qty
    }

    public var json: JSONValue { .array([price.json, qty.json]) }
}
