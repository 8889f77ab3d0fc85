import GatewayJSON
import GatewayCore

/// `/prices`: public ticks and trades per symbol, rooms `prices:{symbol}`.
struct PricesBehavior: NamespaceBehavior {
    let market: MarketState?
    let subscriptions: Subscriptions
    /// Nothing of its own per socket beyond the shared context.
    typealias SocketData = Void
    static let path: NamespacePath = "/prices"
    static let descriptor = NamespaceDescriptor(
        path: path, configurationKey: "prices", defaultRateLimit: .init(points: 100, duration: 1, blockDuration: 60)
    ) { GatewayNamespace(PricesBehavior(market: $0.market, subscriptions: $0.services.subscriptions), services: $0.services) }
    let access = Access.anyone
    let announcesConnection = true
    static let example = #"{"symbols":["BTC/USDT"]}"#

    func handle(_ event: String, payload: JSONValue?, socket: NamespaceSocket, context: Context) -> EventOutcome? {
        switch event {
        case "subscribe": subscribe(payload, socket: socket, context: context)
        case "unsubscribe": unsubscribe(payload, socket: socket, context: context)
        default: nil
        }
    }

    /// The requested symbols, all configured, or the error to send.
    private func symbols(_ payload: JSONValue?) -> Result<[String], ClientError> {
        Payload.strings(payload, key: "symbols", example: Self.example).flatMap { symbols in
            subscriptions.unknownSymbol(symbols).map { .failure($0) } ?? .success(symbols)
        }
    }

    private func subscribe(_ payload: JSONValue?, socket: NamespaceSocket, context: Context) -> EventOutcome {
        let symbols: [String]
        switch self.symbols(payload) {
        case .failure(let error): return .failure(error)
        case .success(let values): symbols = values
        }
        let heartbeatMs: Int?
        switch HeartbeatInterval.parse(payload) {
        case .failure(let error): return .failure(error)
        case .success(let value): heartbeatMs = value
        }
        let held = Set(context.subscribed.compactMap(\.symbol))
        let limit = subscriptions.settings.maxSymbolsPerConnection
        guard held.union(symbols).count <= limit else {
            return .failure(ClientError(.subscriptionLimit, "At most \(limit) symbols per connection; nothing was subscribed."))
        }
        if let error = subscriptions.join(symbols.map { Room.prices(symbol: $0) }, socket: socket, context: context) {
            return .failure(error)
        }
        if let heartbeatMs { subscriptions.setHeartbeat(everyMs: heartbeatMs, symbols: symbols, in: .prices, socket: socket, context: context) }
        let list = JSONValue.array(symbols.map { .string($0) })
        // Read after joining, on this loop: any newer update is already queued behind us.
        let latest = market?.latest(.price, symbols: symbols) ?? []
        let freshness = MarketFreshnessReply(market: market, symbols: symbols, heartbeatMs: heartbeatMs)
        return .success(
            fields: [JSONMember("symbols", list), JSONMember("latest", .array(latest))] + freshness.fields,
            confirmation: ("subscription.confirmed", .object(["namespace": .string(name.value), "symbols": list])),
            followUps: latest.map { ("price.update", $0) } + freshness.followUps
        )
    }

    private func unsubscribe(_ payload: JSONValue?, socket: NamespaceSocket, context: Context) -> EventOutcome {
        let symbols: [String]
        switch self.symbols(payload) {
        case .failure(let error): return .failure(error)
        case .success(let values): symbols = values
        }
        subscriptions.leave(symbols.map { Room.prices(symbol: $0) }, socket: socket, context: context)
        subscriptions.endOrphanedHeartbeats(socket: socket, context: context)
        let list = JSONValue.array(symbols.map { .string($0) })
        return .success(
            fields: [JSONMember("symbols", list)],
            confirmation: ("subscription.confirmed", .object(["namespace": .string(name.value), "unsubscribed": list]))
        )
    }
}
