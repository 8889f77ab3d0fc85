import GatewayJSON

/// `/prices` for a set of symbols: the latest known price at once, then every `price.update`.
final class PricesSubscription: ClientSubscription {
    let namespace = "/prices"
    let symbols: [String]
    private let wanted: Set<String>
    private let continuation: AsyncStream<PriceUpdate>.Continuation
    var linkNumber: Int?
    let heartbeatMs: Int?
    var marketSymbols: [String] { symbols }

    init(symbols: [String], heartbeatMs: Int? = nil, continuation: AsyncStream<PriceUpdate>.Continuation) {
        self.symbols = symbols
        self.heartbeatMs = heartbeatMs
        wanted = Set(symbols)
        self.continuation = continuation
    }

    var subscribeRequest: (event: String, payload: JSONValue)? {
        ("subscribe", JSONValue.object(["symbols": .strings(symbols)]).withHeartbeat(heartbeatMs))
    }

    func acknowledged(_ ack: JSONValue) -> ResyncReason? {
        for latest in ack["latest"]?.arrayValue ?? [] {
            if let update = PriceUpdate(latest), wanted.contains(update.symbol) { continuation.yield(update) }
        }
        return nil
    }

    func handle(event: String, arguments: [JSONValue]) -> ResyncReason? {
        if event == "price.update", let payload = arguments.first, let update = PriceUpdate(payload), wanted.contains(update.symbol) {
            continuation.yield(update)
        }
        return nil
    }

    func fail(_ error: GatewayClientError) { continuation.finish() }
    func finish() { continuation.finish() }

    func unsubscribeRequest(keeping others: [any ClientSubscription]) -> (event: String, payload: JSONValue)? {
        let stillWanted = Set(others.compactMap { $0 as? PricesSubscription }.flatMap(\.symbols))
        let leaving = symbols.filter { !stillWanted.contains($0) }
        return leaving.isEmpty ? nil : ("unsubscribe", .object(["symbols": .strings(leaving)]))
    }
}
