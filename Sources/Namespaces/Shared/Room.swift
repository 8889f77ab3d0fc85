import GatewayJSON
import GatewayCore

/// A room of one namespace (SPEC §2's table). Room names are built here and nowhere else, so
/// a publisher and a subscriber cannot spell the same room two ways.
public struct Room: Hashable, Sendable {
    public let namespace: String
    public let name: String

    /// `/prices`: `prices:{symbol}`.
    public static func prices(_ symbol: String) -> Room {
        Room(namespace: PricesBehavior.path, name: pricesPrefix + symbol)
    }

    /// `/market` trades, ticker, stats: `market:{channel}:{symbol}`; depth: see ``depth(_:cadence:)``.
    public static func market(_ channel: String, _ symbol: String) -> Room {
        Room(namespace: MarketBehavior.path, name: "\(marketPrefix)\(channel):\(symbol)")
    }

    /// `/market` depth at a cadence: `market:depth:{symbol}` (raw) or `market:depth@100ms:{symbol}`.
    public static func depth(_ symbol: String, cadence: DepthCadence) -> Room {
        Room(namespace: MarketBehavior.path, name: cadence == .raw ? "\(marketPrefix)depth:\(symbol)" : "\(marketPrefix)depth@\(cadence.rawValue):\(symbol)")
    }

    /// `/user`: `{channel}:{uid}` (channel `user` reaches every socket of the user), or its
    /// `{channel}#offsets:{uid}` twin for sockets that opted into connection state recovery
    /// (their events carry the offset, so they are encoded separately, once per room, never per
    /// socket). The user id always comes last, after a fixed prefix that holds no user id, so no
    /// id can spell another user's room, whatever characters it contains (`alice#offsets`).
    public static func user(_ channel: String, user: String, offsets: Bool) -> Room {
        Room(namespace: UserBehavior.path, name: (offsets ? channel + "#offsets:" : channel + ":") + user)
    }

    /// `/admin`: every admin socket.
    public static let admins = Room(namespace: AdminBehavior.path, name: "admin")

    /// The symbol of a `/prices` or `/market` symbol room (`prices:S`, `market:trades:S`,
    /// `market:depth@100ms:S`); nil for other rooms.
    var symbol: String? {
        if name.hasPrefix(Self.pricesPrefix) { return String(name.dropFirst(Self.pricesPrefix.count)) }
        guard name.hasPrefix(Self.marketPrefix) else { return nil }
        let parts = name.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        return parts.count == 3 ? String(parts[2]) : nil
    }

    static let pricesPrefix = "prices:"
    static let marketPrefix = "market:"
}

extension NamespaceSocket {
    func join(_ room: Room) {
        precondition(room.namespace == namespace, "\(room.name) is a room of \(room.namespace), not \(namespace)")
        join(room.name)
    }

    func leave(_ room: Room) {
        leave(room.name)
    }

    func isIn(_ room: Room) -> Bool { rooms.contains(room.name) }
}

extension Publisher {
    /// Emits `event` with an already-encoded JSON payload to `room`.
    public func emit(to room: Room, event: String, payloadJSON: String, conflation: ConflationKey? = nil) {
        emit(namespace: room.namespace, room: room.name, event: event, payloadJSON: payloadJSON, conflation: conflation)
    }

    /// Emits an event built from JSON values to `room`.
    public func emit(to room: Room, event: String, arguments: [JSONValue]) {
        emit(namespace: room.namespace, room: room.name, event: event, arguments: arguments)
    }
}
