import GatewayJSON
import GatewayCore

/// `/market`: depth, trades, ticker and stats per symbol, rooms `market:{channel}:{symbol}`.
struct MarketBehavior: NamespaceBehavior {
    let market: MarketState?
    static let path = "/market"
    static let descriptor = NamespaceDescriptor(
        path: path, configurationKey: "market", defaultRateLimit: .init(points: 100, duration: 1, blockDuration: 60)
    ) { GatewayNamespace(MarketBehavior(market: $0.market), services: $0.services) }
    let access = Access.anyone
    let announcesConnection = true
    let hasPremiumChannels = true
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
        var cadence = services.settings.throttles.depthCadence
        if let requested = payload?["cadence"] {
            guard let value = requested.stringValue.flatMap(DepthCadence.init(rawValue:)) else {
                return .failure(ClientError(.invalidPayload, "'cadence' must be one of \(NamespaceSettings.depthCadences.joined(separator: ", "))."))
            }
            cadence = value
        }
        if let premium = channels.first(where: { services.settings.premiumChannels.contains($0) }), state.principal?.tier != .premium {
            return .failure(ClientError(.forbidden, "The '\(premium)' channel needs a premium-tier token."))
        }
        let wanted = channels.flatMap { channel in symbols.map { Self.room(channel, $0, cadence: cadence) } }
        let held = Set(socket.rooms.filter { $0.hasPrefix(Room.marketPrefix) }.map { Room(namespace: name, name: $0) })
        // Depth at another cadence for these symbols is replaced, not added.
        let replaced = channels.contains("depth")
            ? held.filter { room in symbols.contains { DepthCadence.rooms($0).contains(room) } && !wanted.contains(room) }
            : []
        let after = held.subtracting(replaced).union(wanted)
        let roomLimit = services.settings.maxRoomsPerNamespace
        guard after.count <= roomLimit else {
            return .failure(ClientError(.subscriptionLimit, "At most \(roomLimit) channel × symbol subscriptions per connection; nothing was subscribed."))
        }
        let symbolLimit = services.settings.maxSymbolsPerConnection
        let symbolsAfter = Set(after.map { $0.name.split(separator: ":", maxSplits: 2).last.map(String.init) ?? "" })
        guard symbolsAfter.count <= symbolLimit else {
            return .failure(ClientError(.subscriptionLimit, "At most \(symbolLimit) symbols per connection; nothing was subscribed."))
        }
        let body: [JSONMember] = [
            JSONMember("channels", .array(channels.map { .string($0) })),
            JSONMember("symbols", .array(symbols.map { .string($0) })),
        ]
        let confirmation = ("subscription.confirmed", JSONValue.object([JSONMember("namespace", .string(name))] + body))
        guard channels.contains("depth"), let market else {
            if let error = RoomSubscriptions.join(wanted, socket: socket, state: state, services: services) { return .failure(error) }
            let latest = latestValues(channels: channels, symbols: symbols)
            var fields = body
            if channels.contains("depth") { fields.append(JSONMember("snapshots", .array([]))) }
            if !latest.isEmpty || channels.contains("ticker") || channels.contains("stats") {
                fields.append(JSONMember("latest", .array(latest.map(\.1))))
            }
            return .success(fields: fields, confirmation: confirmation, followUps: latest)
        }
        // Depth: the book snapshots are taken on the feed loop and the rooms joined on this
        // socket's loop in one step, so the deltas that follow chain onto those snapshots.
        let promise = socket.eventLoop.makePromise(of: EventOutcome.self)
        let chosenCadence = cadence
        market.withDepthSnapshots(symbols, cadence: chosenCadence, socketLoop: socket.eventLoop) { [self] snapshots in
            guard let state = socket.state else {
                return promise.succeed(.failure(ClientError(.invalidPayload, "The socket disconnected.")))
            }
            let switched = Array(replaced)
            RoomSubscriptions.leave(switched, socket: socket, state: state, services: services)
            if let error = RoomSubscriptions.join(wanted, socket: socket, state: state, services: services) {
                _ = RoomSubscriptions.join(switched, socket: socket, state: state, services: services)
                return promise.succeed(.failure(error))
            }
            let latest = latestValues(channels: channels, symbols: symbols)
            var fields = body + [JSONMember("snapshots", .array(snapshots))]
            if channels.contains("ticker") || channels.contains("stats") { fields.append(JSONMember("latest", .array(latest.map(\.1)))) }
            promise.succeed(.success(fields: fields, confirmation: confirmation, followUps: snapshots.map { ("market.depth", $0) } + latest))
        }
        return .deferred(promise.futureResult)
    }

    /// The token that gave the premium tier expired: the premium channels' rooms are left, and
    /// the socket is told which (it may subscribe again after `auth.refresh`).
    func premiumExpired(_ socket: NamespaceSocket, state: SocketState, services: GatewayServices) {
        let premium = services.settings.premiumChannels
        guard !premium.isEmpty else { return }
        let held = socket.rooms.map { Room(namespace: name, name: $0) }.filter { room in
            premium.contains { channel in room.name.hasPrefix(Room.marketPrefix + channel + ":") || room.name.hasPrefix(Room.marketPrefix + channel + "@") }
        }
        RoomSubscriptions.leave(held, socket: socket, state: state, services: services)
        let channels = premium.sorted().joined(separator: ", ")
        socket.emit("error", [.object([
            "code": "TOKEN_EXPIRED",
            "message": .string("Your token expired, and with it the premium tier: \(channels) subscriptions ended. Send auth.refresh with a new token to subscribe again."),
            "event": "auth.refresh",
        ])])
    }

    /// A socket that fell behind skipped depth messages: it gets a fresh snapshot of that book
    /// (taken on the feed loop, so the deltas after it chain), then the stream flows again.
    func resync(_ key: ConflationKey, socket: NamespaceSocket, services: GatewayServices) {
        guard let market, let (cadence, symbol) = DepthCadence.parse(room: key.stream) else {
            return socket.session.endResync(key)
        }
        market.withDepthSnapshots([symbol], cadence: cadence, socketLoop: socket.eventLoop) { snapshots in
            socket.session.endResync(key)
            guard socket.isConnected, socket.isIn(Room.depth(symbol, cadence: cadence)) else { return }
            for snapshot in snapshots { socket.emit("market.depth", [snapshot]) }
        }
    }

    /// The room of a channel × symbol pair; depth rooms carry their cadence.
    static func room(_ channel: String, _ symbol: String, cadence: DepthCadence) -> Room {
        channel == "depth" ? Room.depth(symbol, cadence: cadence) : Room.market(channel, symbol)
    }

    /// The latest ticker and stats for the channels asked for, as (event, payload).
    private func latestValues(channels: [String], symbols: [String]) -> [(String, JSONValue)] {
        guard let market else { return [] }
        var values: [(String, JSONValue)] = []
        for (channel, event) in [("ticker", "market.ticker"), ("stats", "market.stats")] where channels.contains(channel) {
            values += market.latest(event, symbols: symbols).map { (event, $0) }
        }
        return values
    }

    private func unsubscribe(_ payload: JSONValue?, socket: NamespaceSocket, state: SocketState, services: GatewayServices) -> EventOutcome {
        let channels: [String], symbols: [String]
        switch rooms(payload, services: services) {
        case .failure(let error): return .failure(error)
        case .success(let value): (channels, symbols) = value
        }
        let rooms = channels.flatMap { channel in
            symbols.flatMap { symbol in channel == "depth" ? DepthCadence.rooms(symbol) : [Room.market(channel, symbol)] }
        }
        RoomSubscriptions.leave(rooms, socket: socket, state: state, services: services)
        let body: [JSONMember] = [
            JSONMember("channels", .array(channels.map { .string($0) })),
            JSONMember("symbols", .array(symbols.map { .string($0) })),
        ]
        return .success(fields: body, confirmation: ("subscription.confirmed", .object([JSONMember("namespace", .string(name)), JSONMember("unsubscribed", .object(body))])))
    }
}
