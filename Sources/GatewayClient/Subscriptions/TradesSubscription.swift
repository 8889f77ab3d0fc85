import GatewayJSON

/// `/market` trades of one symbol (`market.trades`), one ``Trade`` at a time.
final class TradesSubscription: ClientSubscription {
    let namespace = "/market"
    let symbol: String
    private let continuation: AsyncStream<Trade>.Continuation
    var linkNumber: Int?

    init(symbol: String, continuation: AsyncStream<Trade>.Continuation) {
        self.symbol = symbol
        self.continuation = continuation
    }

    var subscribeRequest: (event: String, payload: JSONValue)? {
        ("subscribe", .object(["channels": .strings(["trades"]), "symbols": .strings([symbol])]))
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
