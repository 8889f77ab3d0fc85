import GatewayCore

/// Applies a set of rooms to a socket all-or-nothing: limits are checked first (per socket and
/// the user's quota across sockets), then every room is joined.
enum RoomSubscriptions {
    /// Joins `rooms`, charged to the user's channel quota (when authenticated) and counted in
    /// `gateway_subscriptions`.
    static func join(_ rooms: [Room], socket: NamespaceSocket, state: SocketState, services: GatewayServices) -> ClientError? {
        let new = rooms.filter { !socket.isIn($0) }
        guard !new.isEmpty else { return nil }
        if let principal = state.principal {
            guard services.userChannels.reserve(principal.userId, amount: new.count) else {
                let limit = services.settings.maxChannelsPerUser
                return ClientError(.subscriptionLimit, "That would pass your limit of \(limit) subscriptions across all your connections; nothing was subscribed.")
            }
        }
        state.subscribedRooms += new.count
        for room in new { socket.join(room) }
        let symbols = new.compactMap(\.symbol)
        state.subscribedSymbols += symbols
        services.symbolInterest.add(symbols)
        services.metrics.namespace(socket.namespace).subscriptions.increment(by: Double(new.count))
        return nil
    }

    static func leave(_ rooms: [Room], socket: NamespaceSocket, state: SocketState, services: GatewayServices) {
        let held = rooms.filter { socket.isIn($0) }
        guard !held.isEmpty else { return }
        for room in held { socket.leave(room) }
        var symbols: [String] = []
        for symbol in held.compactMap(\.symbol) {
            guard let index = state.subscribedSymbols.firstIndex(of: symbol) else { continue }
            state.subscribedSymbols.remove(at: index)
            symbols.append(symbol)
        }
        services.symbolInterest.remove(symbols)
        release(held.count, state: state, namespace: socket.namespace, services: services)
    }

    /// Gives back what `count` subscribed rooms hold: the user's quota and the
    /// `gateway_subscriptions` gauge. On disconnect every room still held goes this way, whatever
    /// ended the socket (client, kick, slow consumer, namespace DISCONNECT, shutdown).
    static func release(_ count: Int, state: SocketState, namespace: String, services: GatewayServices) {
        guard count > 0 else { return }
        if count == state.subscribedRooms {
            // Every room goes (disconnect): so do their symbols.
            services.symbolInterest.remove(state.subscribedSymbols)
            state.subscribedSymbols.removeAll()
        }
        if let principal = state.principal {
            services.userChannels.release(principal.userId, amount: count)
        }
        state.subscribedRooms -= count
        services.metrics.namespace(namespace).subscriptions.decrement(by: Double(count))
    }

    /// The symbols of the `/prices` rooms a socket holds (`prices:BTC/USDT` → `BTC/USDT`).
    static func priceSymbols(of socket: NamespaceSocket) -> Set<String> {
        let prefix = Room.pricesPrefix
        return Set(socket.rooms.filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) })
    }

    static func unknownSymbol(_ symbols: [String], services: GatewayServices) -> ClientError? {
        guard let unknown = symbols.first(where: { !services.symbols.isKnown($0) }) else { return nil }
        let known = services.symbols.known
        let listed = known.prefix(20).joined(separator: ", ") + (known.count > 20 ? ", … (\(known.count) in all; GET /api/v1/limits lists them)" : "")
        return ClientError(.unknownSymbol, "Unknown symbol '\(unknown)'. Known symbols: \(known.isEmpty ? "none yet" : listed).")
    }
}
