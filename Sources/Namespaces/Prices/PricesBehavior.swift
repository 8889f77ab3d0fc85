import GatewayJSON
import GatewayCore

/// `/prices`: public ticks and trades per symbol, rooms `prices:{symbol}`.
struct PricesBehavior: NamespaceBehavior {
    let market: MarketState?
    static let path = "/prices"
    static let descriptor = NamespaceDescriptor(
        path: path, configurationKey: "prices", defaultRateLimit: .init(points: 100, duration: 1, blockDuration: 60)
    ) { GatewayNamespace(PricesBehavior(market: $0.market), services: $0.services) }
    let access = Access.anyone
    let announcesConnection = true
    static let example = #"{"symbols":["BTC/USDT"]}"#

    func handle(_ event: String, payload: JSONValue?, socket: NamespaceSocket, state: SocketState, services: GatewayServices) -> EventOutcome? {
        switch event {
        case "subscribe": subscribe(payload, socket: socket, state: state, services: services)
        case "unsubscribe": unsubscribe(payload, socket: socket, state: state, services: services)
        default: nil
        }
    }

    /// The requested symbols, all configured, or the error to send.
    private func symbols(_ payload: JSONValue?, services: GatewayServices) -> Result<[String], ClientError> {
        Payload.strings(payload, key: "symbols", example: Self.example).flatMap { symbols in
            RoomSubscriptions.unknownSymbol(symbols, services: services).map { .failure($0) } ?? .success(symbols)
        }
    }

    private func subscribe(_ payload: JSONValue?, socket: NamespaceSocket, state: SocketState, services: GatewayServices) -> EventOutcome {
        let symbols: [String]
        switch self.symbols(payload, services: services) {
        case .failure(let error): return .failure(error)
        case .success(let values): symbols = values
        }
        let held = RoomSubscriptions.priceSymbols(of: socket)
        let limit = services.settings.maxSymbolsPerConnection
        guard held.union(symbols).count <= limit else {
            return .failure(ClientError(.subscriptionLimit, "At most \(limit) symbols per connection; nothing was subscribed."))
        }
        if let error = RoomSubscriptions.join(symbols.map(Room.prices), socket: socket, state: state, services: services) {
            return .failure(error)
        }
        let list = JSONValue.array(symbols.map { .string($0) })
        // Read after joining, on this loop: any newer update is already queued behind us.
        let latest = market?.latest("price.update", symbols: symbols) ?? []
        return .success(
            fields: [JSONMember("symbols", list), JSONMember("latest", .array(latest))],
            confirmation: ("subscription.confirmed", .object(["namespace": .string(name), "symbols": list])),
            followUps: latest.map { ("price.update", $0) }
        )
    }

    private func unsubscribe(_ payload: JSONValue?, socket: NamespaceSocket, state: SocketState, services: GatewayServices) -> EventOutcome {
        let symbols: [String]
        switch self.symbols(payload, services: services) {
        case .failure(let error): return .failure(error)
        case .success(let values): symbols = values
        }
        RoomSubscriptions.leave(symbols.map(Room.prices), socket: socket, state: state, services: services)
        let list = JSONValue.array(symbols.map { .string($0) })
        return .success(
            fields: [JSONMember("symbols", list)],
            confirmation: ("subscription.confirmed", .object(["namespace": .string(name), "unsubscribed": list]))
        )
    }
}
