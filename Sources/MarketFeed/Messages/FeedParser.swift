import GatewayJSON

/// Strict validation of producer messages (SPEC §6): known type, configured symbol, every
/// field present with the right shape. Prices and quantities are numbers or decimal strings.
public struct FeedParser: Sendable {
    public let catalog: SymbolCatalog
    /// False: a new symbol is only checked, and the caller learns it once it accepted the
    /// message (a batch refused whole teaches nothing).
    public let learnsSymbols: Bool
    public static let maximumLevels = 1000

    public init(catalog: SymbolCatalog, learnsSymbols: Bool = true) {
        self.catalog = catalog
        self.learnsSymbols = learnsSymbols
    }

    /// A parser for exactly these symbols.
    public init(symbols: some Sequence<String>) {
        self.init(catalog: SymbolCatalog(symbols: Array(symbols)))
    }

    public func parse(text: String) throws(FeedError) -> FeedMessage {
        guard let value = try? JSONParser.parse(text) else { throw FeedError(.invalidJSON, "not valid JSON") }
        return try parse(value)
    }

    public func parse(_ value: JSONValue) throws(FeedError) -> FeedMessage {
        guard value.isObject else { throw FeedError(.invalidField, "a feed message is a JSON object") }
        guard let type = value["type"]?.stringValue else { throw FeedError(.missingField, "'type' is required") }
        guard let symbol = value["symbol"]?.stringValue else { throw FeedError(.missingField, "'symbol' is required") }
        // A configured list refuses an unknown symbol first; a learning catalog learns a symbol
        // only from a message that is otherwise valid.
        if !catalog.isLearning { try catalog.admit(symbol) }
        let message = try decode(value, type: type, symbol: symbol)
        if catalog.isLearning {
            if learnsSymbols { try catalog.admit(symbol) } else { try catalog.check(symbol) }
        }
        return message
    }

    private func decode(_ value: JSONValue, type: String, symbol: String) throws(FeedError) -> FeedMessage {
        switch type {
        case "tick":
            return .tick(.init(
                symbol: symbol, price: try decimal(value, "price"), bid: try decimal(value, "bid"), ask: try decimal(value, "ask"),
                volume: try decimal(value, "volume"), ts: try timestamp(value)
            ))
        case "trade":
            guard let tradeId = value["tradeId"], tradeId.stringValue != nil || tradeId.intValue != nil else {
                throw FeedError(.missingField, "'tradeId' (string or integer) is required")
            }
            guard let side = value["side"]?.stringValue, side == "buy" || side == "sell" else {
                throw FeedError(.invalidField, "'side' must be buy or sell")
            }
            return .trade(.init(
                symbol: symbol, tradeId: tradeId, price: try decimal(value, "price"), qty: try decimal(value, "qty"), side: side,
                ts: try timestamp(value)
            ))
        case "depth":
            guard let kindText = value["kind"]?.stringValue, let kind = FeedMessage.Depth.Kind(rawValue: kindText) else {
                throw FeedError(.invalidField, "'kind' must be snapshot or delta")
            }
            guard let seqText = value["seq"], case .number(let digits) = seqText, let seq = UInt64(digits) else {
                throw FeedError(.invalidField, "'seq' must be a non-negative integer")
            }
            return .depth(.init(
                symbol: symbol, kind: kind, seq: seq, bids: try levels(value, "bids"), asks: try levels(value, "asks"), ts: try timestamp(value)
            ))
        case "ticker":
            _ = try timestamp(value)
            return .ticker(symbol: symbol, payload: without(value, "type"))
        case "stats":
            _ = try timestamp(value)
            return .stats(symbol: symbol, payload: without(value, "type"))
        case "status":
            guard let status = value["status"]?.stringValue, ["trading", "halted", "maintenance"].contains(status) else {
                throw FeedError(.invalidField, "'status' must be trading, halted or maintenance")
            }
            return .status(symbol: symbol, status: status, ts: try timestamp(value))
        default:
            throw FeedError(.unknownType, "unknown type '\(type)' (tick, trade, depth, ticker, stats, status)")
        }
    }

    private func decimal(_ value: JSONValue, _ field: String) throws(FeedError) -> DecimalText {
        guard let raw = value[field] else { throw FeedError(.missingField, "'\(field)' is required") }
        guard let decimal = DecimalText(raw) else { throw FeedError(.invalidField, "'\(field)' must be a number or a decimal string") }
        return decimal
    }

    /// `ts`: ms since the epoch, may be fractional; passed through unchanged.
    private func timestamp(_ value: JSONValue) throws(FeedError) -> JSONValue {
        guard let ts = value["ts"] else { throw FeedError(.missingField, "'ts' is required") }
        guard case .number(let text) = ts, let number = Double(text), number >= 0 else {
            throw FeedError(.invalidField, "'ts' must be a non-negative number (ms since the epoch)")
        }
        return ts
    }

    private func levels(_ value: JSONValue, _ field: String) throws(FeedError) -> [BookLevel] {
        guard case .array(let items)? = value[field] else { throw FeedError(.missingField, "'\(field)' must be an array of [price, qty]") }
        guard items.count <= Self.maximumLevels else { throw FeedError(.invalidField, "'\(field)' has more than \(Self.maximumLevels) levels") }
        var levels: [BookLevel] = []
        levels.reserveCapacity(items.count)
        for item in items {
            guard case .array(let pair) = item, pair.count == 2, let price = DecimalText(pair[0]), let qty = DecimalText(pair[1]),
                price.value > 0, qty.value >= 0
            else {
                throw FeedError(.invalidField, "every '\(field)' entry must be [price > 0, qty >= 0]")
            }
            levels.append(BookLevel(price: price, qty: qty))
        }
        return levels
    }

    private func without(_ value: JSONValue, _ key: String) -> JSONValue {
        guard case .object(let members) = value else { return value }
        return .object(members.filter { $0.key != key })
    }
}
