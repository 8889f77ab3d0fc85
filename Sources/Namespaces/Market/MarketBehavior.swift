import GatewayCore
import SocketIOCodec

/// `/market`: depth, trades, ticker and stats per symbol, rooms `market:{channel}:{symbol}`.
struct MarketBehavior: NamespaceBehavior {
    let name = "/market"
    let access = Access.anyone
    let announcesConnection = true
    static let example = #"{"channels":["depth"],"symbols":["BTC/USDT"]}"#

    func handle(_ event: String, payload: JSONValue?, socket: NamespaceSocket, state: SocketState, services: GatewayServices) -> EventOutcome? {
        switch event {
        case "subscribe": subscribe(payload, socket: socket, state: state, services: services)
        case "unsubscribe": unsubscribe(payload, socket: socket, state: state, services: services)
        default: nil
        }
    }

    /// Validates channels and symbols; returns the rooms of every channel × symbol pair.
    private func rooms(_ payload: JSONValue?, services: GatewayServices) -> Result<(channels: [String], symbols: [String]), ClientError> {
        let channels: [String]
        switch Payload.strings(payload, key: "channels", example: Self.example) {
        case .failure(let error): return .failure(error)
        case .success(let values): channels = values
        }
        if let unknown = channels.first(where: { !NamespaceSettings.marketChannels.contains($0) }) {
            return .failure(ClientError(.unknownChannel, "Unknown channel '\(unknown)'. Channels: \(NamespaceSettings.marketChannels.joined(separator: ", "))."))
        }
        let symbols: [String]
        switch Payload.strings(payload, key: "symbols", example: Self.example) {
        case .failure(let error): return .failure(error)
        case .success(let values): symbols = values
        }
        if let error = RoomSubscriptions.unknownSymbol(symbols, services: services) { return .failure(error) }
        return .success((channels, symbols))
    }

    private func subscribe(_ payload: JSONValue?, socket: NamespaceSocket, state: SocketState, services: GatewayServices) -> EventOutcome {
        let channels: [String], symbols: [String]
        switch rooms(payload, services: services) {
        case .failure(let error): return .failure(error)
        case .success(let value): (channels, symbols) = value
        }
        var cadence = "100ms"
        if let requested = payload?["cadence"] {
            guard let value = requested.stringValue, NamespaceSettings.depthCadences.contains(value) else {
                return .failure(ClientError(.invalidPayload, "'cadence' must be one of \(NamespaceSettings.depthCadences.joined(separator: ", "))."))
            }
            cadence = value
        }
        if let premium = channels.first(where: { services.settings.premiumChannels.contains($0) }), state.principal?.tier != .premium {
            return .failure(ClientError(.forbidden, "The '\(premium)' channel needs a premium-tier token."))
        }
        let wanted = channels.flatMap { channel in symbols.map { "market:\(channel):\($0)" } }
        let held = socket.rooms.filter { $0.hasPrefix("market:") }
        let after = held.union(wanted)
        let roomLimit = services.settings.maxRoomsPerNamespace
        guard after.count <= roomLimit else {
            return .failure(ClientError(.subscriptionLimit, "At most \(roomLimit) channel × symbol subscriptions per connection; nothing was subscribed."))
        }
        let symbolLimit = services.settings.maxSymbolsPerConnection
        let symbolsAfter = Set(after.map { $0.split(separator: ":", maxSplits: 2).last.map(String.init) ?? "" })
        guard symbolsAfter.count <= symbolLimit else {
            return .failure(ClientError(.subscriptionLimit, "At most \(symbolLimit) symbols per connection; nothing was subscribed."))
        }
        if let error = RoomSubscriptions.join(wanted, socket: socket, state: state, services: services) { return .failure(error) }
        if channels.contains("depth") { for symbol in symbols { state.depthCadence[symbol] = cadence } }
        let body: [JSONMember] = [
            JSONMember("channels", .array(channels.map { .string($0) })),
            JSONMember("symbols", .array(symbols.map { .string($0) })),
        ]
        // Book snapshots and latest ticker/stats arrive with the market-feed work.
        var fields = body
        if channels.contains("depth") { fields.append(JSONMember("snapshots", .array([]))) }
        if channels.contains("ticker") || channels.contains("stats") { fields.append(JSONMember("latest", .array([]))) }
        return .success(fields: fields, confirmation: ("subscription.confirmed", .object([JSONMember("namespace", .string(name))] + body)))
    }

    private func unsubscribe(_ payload: JSONValue?, socket: NamespaceSocket, state: SocketState, services: GatewayServices) -> EventOutcome {
        let channels: [String], symbols: [String]
        switch rooms(payload, services: services) {
        case .failure(let error): return .failure(error)
        case .success(let value): (channels, symbols) = value
        }
        RoomSubscriptions.leave(channels.flatMap { channel in symbols.map { "market:\(channel):\($0)" } }, socket: socket, state: state, services: services)
        let body: [JSONMember] = [
            JSONMember("channels", .array(channels.map { .string($0) })),
            JSONMember("symbols", .array(symbols.map { .string($0) })),
        ]
        return .success(fields: body, confirmation: ("subscription.confirmed", .object([JSONMember("namespace", .string(name)), JSONMember("unsubscribed", .object(body))])))
    }
}
