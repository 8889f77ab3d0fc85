import GatewayCore
import GatewayMetrics
import MarketFeed

/// Subscribing to symbol rooms (`/prices`, `/market`): all-or-nothing, limits checked first (per
/// socket and the user's quota across sockets), the symbols' interest and the
/// `gateway_subscriptions` gauge kept in step. What the two subscription namespaces are built with.
struct Subscriptions: Sendable {
    let settings: NamespaceSettings
    /// Subscribed rooms per user across sockets (`limits.maxChannelsPerUser`).
    let userQuota: QuotaCounter
    let symbolInterest: SymbolInterest
    /// Heartbeat and depth-view rooms with members (the feed loop serves only those).
    let marketInterest: MarketInterest
    /// Subscribers per symbol and channel (admin stats, `market.occupancy`).
    let occupancy: Occupancy
    let symbols: SymbolCatalog
    let metrics: GatewayMetrics

    /// Joins `rooms`, charged to the user's channel quota (when authenticated) and counted in
    /// `gateway_subscriptions`.
    func join<Data>(_ rooms: [Room], socket: NamespaceSocket, context: SocketContext<Data>) -> ClientError? {
        var new: [Room] = []
        for room in rooms where !context.subscribed.contains(room) && !new.contains(room) { new.append(room) }
        guard !new.isEmpty else { return nil }
        if let principal = context.principal {
            guard userQuota.reserve(principal.userId, amount: new.count) else {
                let limit = settings.maxChannelsPerUser
                return ClientError(.subscriptionLimit, "That would pass your limit of \(limit) subscriptions across all your connections; nothing was subscribed.")
            }
        }
        context.subscribed.formUnion(new)
        for room in new { socket.join(room) }
        symbolInterest.add(new.compactMap(\.symbol))
        marketInterest.add(new)
        occupancy.add(new)
        metrics.namespace(socket.namespace.value).subscriptions.increment(by: Double(new.count))
        return nil
    }

    func leave<Data>(_ rooms: [Room], socket: NamespaceSocket, context: SocketContext<Data>) {
        let held = Set(rooms).intersection(context.subscribed)
        guard !held.isEmpty else { return }
        for room in held { socket.leave(room) }
        context.subscribed.subtract(held)
        release(held, principal: context.principal?.userId, namespace: socket.namespace)
    }

    /// Gives back what every subscribed room holds: the user's quota, the symbols' interest and
    /// the gauge. On disconnect every room still held goes this way, whatever ended the socket
    /// (client, kick, slow consumer, namespace DISCONNECT, shutdown).
    func releaseAll<Data>(_ context: SocketContext<Data>, namespace: NamespacePath) {
        let held = context.subscribed
        context.subscribed.removeAll()
        release(held, principal: context.principal?.userId, namespace: namespace)
        marketInterest.remove(Array(context.heartbeats.values))
        context.heartbeats.removeAll()
    }

    // MARK: Heartbeats (docs/market-data.md `heartbeatMs`)

    /// Sets the heartbeat of `symbols` in `namespace`: `everyMs` 0 ends it; another interval
    /// replaces the one held.
    func setHeartbeat<Data>(everyMs: Int, symbols: [String], in namespace: SymbolNamespace, socket: NamespaceSocket, context: SocketContext<Data>) {
        for symbol in symbols {
            let wanted = everyMs > 0 ? Room.heartbeat(namespace, symbol: symbol, everyMs: everyMs) : nil
            let held = context.heartbeats[symbol]
            guard held != wanted else { continue }
            if let held {
                socket.leave(held)
                marketInterest.remove([held])
            }
            context.heartbeats[symbol] = wanted
            if let wanted {
                socket.join(wanted)
                marketInterest.add([wanted])
            }
        }
    }

    /// Ends the heartbeats of the symbols no subscribed room names any more.
    func endOrphanedHeartbeats<Data>(socket: NamespaceSocket, context: SocketContext<Data>) {
        guard !context.heartbeats.isEmpty else { return }
        let symbols = Set(context.subscribed.compactMap(\.symbol))
        for (symbol, room) in context.heartbeats where !symbols.contains(symbol) {
            socket.leave(room)
            marketInterest.remove([room])
            context.heartbeats[symbol] = nil
        }
    }

    private func release(_ rooms: Set<Room>, principal userId: String?, namespace: NamespacePath) {
        guard !rooms.isEmpty else { return }
        symbolInterest.remove(rooms.compactMap(\.symbol))
        marketInterest.remove(Array(rooms))
        occupancy.remove(rooms)
        if let userId { userQuota.release(userId, amount: rooms.count) }
        metrics.namespace(namespace.value).subscriptions.decrement(by: Double(rooms.count))
    }

    func unknownSymbol(_ symbols: [String]) -> ClientError? {
        guard let unknown = symbols.first(where: { !self.symbols.isKnown($0) }) else { return nil }
        let known = self.symbols.known
        let listed = known.prefix(20).joined(separator: ", ") + (known.count > 20 ? ", … (\(known.count) in all; GET /api/v1/limits lists them)" : "")
        return ClientError(.unknownSymbol, "Unknown symbol '\(unknown)'. Known symbols: \(known.isEmpty ? "none yet" : listed).")
    }
}
