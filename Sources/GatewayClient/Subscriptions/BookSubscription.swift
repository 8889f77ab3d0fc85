import GatewayJSON

/// How often the gateway sends a book's changes (SPEC §3 `cadence`).
public enum BookCadence: String, Sendable {
    /// Every change as the feed sends it.
    case raw
    /// Changes merged over 100 ms (the gateway's default).
    case ms100 = "100ms"
    /// Changes merged over a second.
    case ms1000 = "1000ms"
}

/// `/market` depth of one symbol kept as a ``LocalOrderBook``: each verified state is yielded;
/// a delta that does not chain or fails the checksum makes the client fetch a fresh snapshot.
final class BookSubscription: ClientSubscription {
    let namespace = "/market"
    let symbol: String
    let cadence: BookCadence
    let depth: Int
    /// The gateway's depth choice (docs/market-data.md `"depth"`): the least it offers that
    /// holds `depth` levels, so only what is shown crosses the network; nil: the whole book.
    let gatewayDepth: Int?
    let heartbeatMs: Int?
    private var book: LocalOrderBook
    private let continuation: AsyncStream<OrderBook>.Continuation
    var linkNumber: Int?
    var marketSymbols: [String] { [symbol] }
    /// The depth choices the gateway offers.
    static let gatewayDepths = [10, 50, 200, 1_000]

    init(symbol: String, cadence: BookCadence, depth: Int, heartbeatMs: Int? = nil, continuation: AsyncStream<OrderBook>.Continuation) {
        self.symbol = symbol
        self.cadence = cadence
        self.depth = depth
        self.heartbeatMs = heartbeatMs
        gatewayDepth = Self.gatewayDepths.first { $0 >= depth }
        book = LocalOrderBook(symbol: symbol, checksumLevels: gatewayDepth ?? 10)
        self.continuation = continuation
    }

    /// True while the book is verified (not waiting for a snapshot).
    var isSynced: Bool { book.isSynced }

    var subscribeRequest: (event: String, payload: JSONValue)? {
        var payload: [JSONMember] = [
            JSONMember("channels", .strings(["depth"])), JSONMember("symbols", .strings([symbol])), JSONMember("cadence", .string(cadence.rawValue)),
        ]
        if let gatewayDepth { payload.append(JSONMember("depth", .number(String(gatewayDepth)))) }
        return ("subscribe", JSONValue.object(payload).withHeartbeat(heartbeatMs))
    }

    func acknowledged(_ ack: JSONValue) -> ResyncReason? {
        // No snapshot yet (a book the feed has not built): the gateway sends one as the
        // symbol's first depth message, and deltas wait for it.
        guard let snapshot = ack["snapshots"]?.arrayValue?.first(where: { $0["symbol"]?.stringValue == symbol }) else { return nil }
        return apply(snapshot)
    }

    func sharesState(with other: any ClientSubscription) -> Bool {
        (other as? BookSubscription)?.symbol == symbol
    }

    func handle(event: String, arguments: [JSONValue]) -> ResyncReason? {
        guard event == "market.depth", let payload = arguments.first, payload["symbol"]?.stringValue == symbol else { return nil }
        // Out of sync: deltas wait for the snapshot the resubscription brings.
        guard book.isSynced || payload["type"]?.stringValue == "snapshot" else { return nil }
        return apply(payload)
    }

    private func apply(_ payload: JSONValue) -> ResyncReason? {
        switch book.apply(payload) {
        case .applied:
            if let view = book.view(depth: depth) { continuation.yield(view) }
            return nil
        case .gap: return .gap
        case .checksumMismatch: return .checksumMismatch
        case .malformed: return .gap
        }
    }

    func connectionLost() {
        book = LocalOrderBook(symbol: symbol, checksumLevels: gatewayDepth ?? 10)
    }

    func fail(_ error: GatewayClientError) { continuation.finish() }
    func finish() { continuation.finish() }

    func unsubscribeRequest(keeping others: [any ClientSubscription]) -> (event: String, payload: JSONValue)? {
        guard !others.contains(where: { ($0 as? BookSubscription)?.symbol == symbol }) else { return nil }
        return ("unsubscribe", .object(["channels": .strings(["depth"]), "symbols": .strings([symbol])]))
    }
}
