import GatewayJSON
import GatewayCore

/// `/market`: depth, trades, ticker and stats per symbol, rooms `market:{channel}:{symbol}`.
struct MarketBehavior: NamespaceBehavior {
    let market: MarketState?
    let subscriptions: Subscriptions
    var settings: NamespaceSettings { subscriptions.settings }
    /// Nothing of its own per socket beyond the shared context.
    typealias SocketData = Void
    static let path: NamespacePath = "/market"
    static let descriptor = NamespaceDescriptor(
        path: path, configurationKey: "market", defaultRateLimit: .init(points: 100, duration: 1, blockDuration: 60)
    ) { GatewayNamespace(MarketBehavior(market: $0.market, subscriptions: $0.services.subscriptions), services: $0.services) }
    let access = Access.anyone
    let announcesConnection = true
    let hasPremiumChannels = true
    static let example = #"{"channels":["depth"],"symbols":["BTC/USDT"]}"#

    func handle(_ event: String, payload: JSONValue?, socket: NamespaceSocket, context: Context) -> EventOutcome? {
        switch event {
        case "subscribe": subscribe(payload, socket: socket, context: context)
        case "unsubscribe": unsubscribe(payload, socket: socket, context: context)
        default: nil
        }
    }

    /// Validates channels and symbols.
    private func rooms(_ payload: JSONValue?) -> Result<(channels: [MarketChannel], symbols: [String]), ClientError> {
        let names: [String]
        switch Payload.strings(payload, key: "channels", example: Self.example) {
        case .failure(let error): return .failure(error)
        case .success(let values): names = values
        }
        if let unknown = names.first(where: { MarketChannel(rawValue: $0) == nil }) {
            return .failure(ClientError(.unknownChannel, "Unknown channel '\(unknown)'. Channels: \(NamespaceSettings.marketChannels.joined(separator: ", "))."))
        }
        let channels = names.compactMap(MarketChannel.init(rawValue:))
        let symbols: [String]
        switch Payload.strings(payload, key: "symbols", example: Self.example) {
        case .failure(let error): return .failure(error)
        case .success(let values): symbols = values
        }
        if let error = subscriptions.unknownSymbol(symbols) { return .failure(error) }
        return .success((channels, symbols))
    }

    private func subscribe(_ payload: JSONValue?, socket: NamespaceSocket, context: Context) -> EventOutcome {
        let channels: [MarketChannel], symbols: [String]
        switch rooms(payload) {
        case .failure(let error): return .failure(error)
        case .success(let value): (channels, symbols) = value
        }
        var cadence = settings.throttles.depthCadence
        if let requested = payload?["cadence"] {
            guard let value = requested.stringValue.flatMap(DepthCadence.init(rawValue:)) else {
                return .failure(ClientError(.invalidPayload, "'cadence' must be one of \(NamespaceSettings.depthCadences.joined(separator: ", "))."))
            }
            cadence = value
        }
        let levels: DepthLevels?
        switch DepthLevels.parse(payload, channels: channels) {
        case .failure(let error): return .failure(error)
        case .success(let value): levels = value
        }
        let heartbeatMs: Int?
        switch HeartbeatInterval.parse(payload) {
        case .failure(let error): return .failure(error)
        case .success(let value): heartbeatMs = value
        }
        if let premium = channels.first(where: { settings.premiumChannels.contains($0) }), context.principal?.tier != .premium {
            return .failure(ClientError(.forbidden, "The '\(premium.rawValue)' channel needs a premium-tier token."))
        }
        let wanted = channels.flatMap { channel in symbols.map { Room.market(channel, $0, cadence: cadence, levels: levels) } }
        let held = context.subscribed
        // Depth at another cadence or depth for these symbols is replaced, not added.
        let replaced = channels.contains(.depth)
            ? held.filter { room in
                guard case .depth(let symbol, _, _) = room else { return false }
                return symbols.contains(symbol) && !wanted.contains(room)
            }
            : []
        let after = held.subtracting(replaced).union(wanted)
        let roomLimit = settings.maxRoomsPerNamespace
        guard after.count <= roomLimit else {
            return .failure(ClientError(.subscriptionLimit, "At most \(roomLimit) channel × symbol subscriptions per connection; nothing was subscribed."))
        }
        let symbolLimit = settings.maxSymbolsPerConnection
        let symbolsAfter = Set(after.compactMap(\.symbol))
        guard symbolsAfter.count <= symbolLimit else {
            return .failure(ClientError(.subscriptionLimit, "At most \(symbolLimit) symbols per connection; nothing was subscribed."))
        }
        let body: [JSONMember] = [
            JSONMember("channels", .array(channels.map { .string($0.rawValue) })),
            JSONMember("symbols", .array(symbols.map { .string($0) })),
        ] + (levels.map { [JSONMember("depth", .number(String($0.rawValue)))] } ?? [])
        let confirmation = ("subscription.confirmed", JSONValue.object([JSONMember("namespace", .string(name.value))] + body))
        guard channels.contains(.depth), let market else {
            if let error = subscriptions.join(wanted, socket: socket, context: context) { return .failure(error) }
            if let heartbeatMs { subscriptions.setHeartbeat(everyMs: heartbeatMs, symbols: symbols, in: .market, socket: socket, context: context) }
            let latest = latestValues(channels: channels, symbols: symbols)
            let freshness = MarketFreshnessReply(market: market, symbols: symbols, heartbeatMs: heartbeatMs)
            var fields = body
            if channels.contains(.depth) { fields.append(JSONMember("snapshots", .array([]))) }
            if !latest.isEmpty || channels.contains(.ticker) || channels.contains(.stats) {
                fields.append(JSONMember("latest", .array(latest.map(\.1))))
            }
            return .success(fields: fields + freshness.fields, confirmation: confirmation, followUps: latest + freshness.followUps)
        }
        // Depth: the book snapshots are taken on the feed loop and the rooms joined on this
        // socket's loop in one step, so the deltas that follow chain onto those snapshots.
        let promise = socket.eventLoop.makePromise(of: EventOutcome.self)
        let chosenCadence = cadence
        market.withDepthSnapshots(symbols, cadence: chosenCadence, levels: levels, socket: socket) { [self] depthSnapshots in
            let snapshots = depthSnapshots.map(\.json)
            guard socket.isConnected else {
                return promise.succeed(.failure(ClientError(.invalidPayload, "The socket disconnected.")))
            }
            let switched = Array(replaced)
            subscriptions.leave(switched, socket: socket, context: context)
            if let error = subscriptions.join(wanted, socket: socket, context: context) {
                _ = subscriptions.join(switched, socket: socket, context: context)
                return promise.succeed(.failure(error))
            }
            if let heartbeatMs { subscriptions.setHeartbeat(everyMs: heartbeatMs, symbols: symbols, in: .market, socket: socket, context: context) }
            let latest = latestValues(channels: channels, symbols: symbols)
            let freshness = MarketFreshnessReply(market: market, symbols: symbols, heartbeatMs: heartbeatMs)
            var fields = body + [JSONMember("snapshots", .array(snapshots))]
            if channels.contains(.ticker) || channels.contains(.stats) { fields.append(JSONMember("latest", .array(latest.map(\.1)))) }
            promise.succeed(.success(
                fields: fields + freshness.fields, confirmation: confirmation,
                followUps: snapshots.map { ("market.depth", $0) } + latest + freshness.followUps
            ))
        }
        return .deferred(promise.futureResult)
    }

    /// The token that gave the premium tier expired: the premium channels' rooms are left, and
    /// the socket is told which (it may subscribe again after `auth.refresh`).
    func premiumExpired(_ socket: NamespaceSocket, context: Context) {
        let premium = settings.premiumChannels
        guard !premium.isEmpty else { return }
        let held = context.subscribed.filter { room in room.marketChannel.map(premium.contains) ?? false }
        subscriptions.leave(Array(held), socket: socket, context: context)
        subscriptions.endOrphanedHeartbeats(socket: socket, context: context)
        let channels = premium.map(\.rawValue).sorted().joined(separator: ", ")
        socket.emit("error", [.object([
            "code": "TOKEN_EXPIRED",
            "message": .string("Your token expired, and with it the premium tier: \(channels) subscriptions ended. Send auth.refresh with a new token to subscribe again."),
            "event": "auth.refresh",
        ])])
    }

    /// A socket that fell behind skipped depth messages: it is told what it skipped
    /// (`market.gap`, reason `resync`) and gets a fresh snapshot of that book (taken on the feed
    /// loop, so the deltas after it chain), then the stream flows again.
    func resync(_ key: ConflationKey, skipped: ClosedRange<UInt64>?, socket: NamespaceSocket, context: Context) {
        // The socket's own depth room whose stream it is (looked up, never parsed).
        let room = context.subscribed.first { room in
            if case .depth = room { return room.key == key.stream.room }
            return false
        }
        guard let market, case .depth(let symbol, let cadence, let levels)? = room else {
            return socket.session.endResync(key)
        }
        market.withDepthSnapshots([symbol], cadence: cadence, levels: levels, socket: socket) { snapshots in
            socket.session.endResync(key)
            guard socket.isConnected, socket.isIn(.depth(symbol: symbol, cadence: cadence, levels: levels)) else { return }
            for snapshot in snapshots {
                if let skipped {
                    let notice = MarketNotices.gap(
                        symbol: symbol, channel: .depth, fromSeq: skipped.lowerBound, toSeq: snapshot.seq, reason: .resync
                    )
                    socket.emit("market.gap", [.fragment(notice)])
                }
                socket.emit("market.depth", [snapshot.json])
            }
        }
    }

    /// The latest ticker and stats for the channels asked for, as (event, payload).
    private func latestValues(channels: [MarketChannel], symbols: [String]) -> [(String, JSONValue)] {
        guard let market else { return [] }
        var values: [(String, JSONValue)] = []
        for (channel, stream) in [(MarketChannel.ticker, LatestStream.ticker), (.stats, .stats)] where channels.contains(channel) {
            values += market.latest(stream, symbols: symbols).map { (stream.event, $0) }
        }
        return values
    }

    private func unsubscribe(_ payload: JSONValue?, socket: NamespaceSocket, context: Context) -> EventOutcome {
        let channels: [MarketChannel], symbols: [String]
        switch rooms(payload) {
        case .failure(let error): return .failure(error)
        case .success(let value): (channels, symbols) = value
        }
        let rooms = channels.flatMap { channel in
            symbols.flatMap { symbol in channel == .depth ? DepthCadence.rooms(symbol) : [Room.market(channel, symbol: symbol)] }
        }
        subscriptions.leave(rooms, socket: socket, context: context)
        subscriptions.endOrphanedHeartbeats(socket: socket, context: context)
        let body: [JSONMember] = [
            JSONMember("channels", .array(channels.map { .string($0.rawValue) })),
            JSONMember("symbols", .array(symbols.map { .string($0) })),
        ]
        return .success(fields: body, confirmation: ("subscription.confirmed", .object([JSONMember("namespace", .string(name.value)), JSONMember("unsubscribed", .object(body))])))
    }
}
