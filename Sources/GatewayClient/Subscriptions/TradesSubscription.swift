import GatewayJSON

/// `/market` trades of one symbol (`market.trades`), one ``Trade`` at a time.
final class TradesSubscription: ClientSubscription {
    let namespace = "/market"
    let symbol: String
    private let continuation: AsyncStream<Trade>.Continuation
    var linkNumber: Int?
    let heartbeatMs: Int?
    var marketSymbols: [String] { [symbol] }

    init(symbol: String, heartbeatMs: Int? = nil, continuation: AsyncStream<Trade>.Continuation) {
        self.symbol = symbol
        self.heartbeatMs = heartbeatMs
        self.continuation = continuation
    }

    var subscribeRequest: (event: String, payload: JSONValue)? {
        ("subscribe", JSONValue.object(["channels": .strings(["trades"]), "symbols": .strings([symbol])]).withHeartbeat(heartbeatMs))
    }

    func acknowledged(_ ack: JSONValue) -> ResyncReason? { nil }

    func handle(event: String, arguments: [JSONValue]) -> ResyncReason? {
        guard event == "market.trades", let payload = arguments.first, payload["symbol"]?.stringValue == symbol else { return nil }
        for trade in payload["trades"]?.arrayValue ?? [] {
            if let trade = Trade(trade, symbol: symbol) { continuation.yield(trade) }
        }
        return nil
    }

    func fail(_ error: GatewayClientError) { continuation.finish() }
    func finish() { continuation.finish() }

    func unsubscribeRequest(keeping others: [any ClientSubscription]) -> (event: String, payload: JSONValue)? {
        guard !others.contains(where: { ($0 as? TradesSubscription)?.symbol == symbol }) else { return nil }
        return ("unsubscribe", .object(["channels": .strings(["trades"]), "symbols": .strings([symbol])]))
    }
}
