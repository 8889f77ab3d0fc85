import GatewayJSON

/// `price.update` on `/prices`. Prices stay the decimal text the feed wrote.
public struct PriceUpdate: Sendable, Hashable {
    public let symbol: String
    public let price: String
    public let bid: String?
    public let ask: String?
    public let volume: String?
    /// Source time, ms since the epoch.
    public let ts: Double

    init?(_ json: JSONValue) {
        guard let symbol = json["symbol"]?.stringValue, let price = json["price"]?.decimalText else { return nil }
        self.symbol = symbol
        self.price = price
        bid = json["bid"]?.decimalText
        ask = json["ask"]?.decimalText
        volume = json["volume"]?.decimalText
        ts = json["ts"]?.doubleValue ?? 0
    }
}

/// One trade of `market.trades` (or `price.trade`).
public struct Trade: Sendable, Hashable {
    public let symbol: String
    public let tradeId: String
    public let price: String
    public let qty: String
    /// "buy" or "sell".
    public let side: String
    public let ts: Double

    init?(_ json: JSONValue, symbol: String? = nil) {
        guard let symbol = symbol ?? json["symbol"]?.stringValue, let price = json["price"]?.decimalText,
              let qty = json["qty"]?.decimalText else { return nil }
        self.symbol = symbol
        tradeId = json["tradeId"]?.decimalText ?? ""
        self.price = price
        self.qty = qty
        side = json["side"]?.stringValue ?? ""
        ts = json["ts"]?.doubleValue ?? 0
    }
}

/// An event for the signed-in user on `/user` (`order.new`, `order.filled`, `wallet.update`…),
/// with the producer's object unchanged.
public struct UserEvent: Sendable, Hashable {
    public let name: String
    public let payload: JSONValue
    /// The gateway's recovery offset of this event.
    public let offset: String?
}

/// What the `/user` stream carries.
public enum UserStreamElement: Sendable, Hashable {
    case event(UserEvent)
    /// The connection dropped and the gateway could not replay what was missed (outside the
    /// recovery window, more missed than it keeps, or it restarted without shared state):
    /// events may be missing. Fetch the account's state again.
    case recoveryFailed
}

extension JSONValue {
    /// A number's text as written, or a string (feeds send decimals either way).
    var decimalText: String? {
        switch self {
        case .number(let text), .string(let text): text
        default: nil
        }
    }

    var doubleValue: Double? {
        switch self {
        case .number(let text), .string(let text): Double(text)
        default: nil
        }
    }
}
