import GatewayJSON
import GatewayCore

/// A room of one namespace (SPEC §2's table), typed: what it is about is kept, never read back
/// out of its name. The name is built here and nowhere else, so a publisher and a subscriber
/// cannot spell the same room two ways.
public enum Room: Hashable, Sendable {
    /// `/prices`: `prices:{symbol}`.
    case prices(symbol: String)
    /// `/market` trades, ticker, stats: `market:{channel}:{symbol}`.
    case market(MarketChannel, symbol: String)
    /// `/market` depth at a cadence: `market:depth:{symbol}` (raw) or `market:depth@100ms:{symbol}`;
    /// limited to the best `levels` per side: `market:depth/10:{symbol}`, `market:depth@100ms/10:{symbol}`.
    case depth(symbol: String, cadence: DepthCadence, levels: DepthLevels? = nil)
    /// `/prices` or `/market` heartbeats of a symbol every `everyMs` (docs/market-data.md):
    /// `heartbeat@{ms}:{symbol}`. Not a subscription: joined beside one, never counted in limits.
    case heartbeat(SymbolNamespace, symbol: String, everyMs: Int)
    /// `/user`: `{channel}:{uid}` (channel `user` reaches every socket of the user), or its
    /// `{channel}#offsets:{uid}` twin for sockets that opted into connection state recovery
    /// (their events carry the offset, so they are encoded separately, once per room, never per
    /// socket). The user id always comes last, after a fixed prefix that holds no user id, so no
    /// id can spell another user's room, whatever characters it contains (`alice#offsets`).
    case user(channel: String, user: String, offsets: Bool)
    /// `/admin`: every admin socket.
    case admins

    /// A `/market` room of a channel × symbol pair; depth rooms carry their cadence.
    public static func market(_ channel: MarketChannel, _ symbol: String, cadence: DepthCadence, levels: DepthLevels? = nil) -> Room {
        channel == .depth ? .depth(symbol: symbol, cadence: cadence, levels: levels) : .market(channel, symbol: symbol)
    }

    public var namespace: NamespacePath {
        switch self {
        case .prices: PricesBehavior.path
        case .market, .depth: MarketBehavior.path
        case .heartbeat(let namespace, _, _): namespace.path
        case .user: UserBehavior.path
        case .admins: AdminBehavior.path
        }
    }

    /// The room as the broadcast index knows it.
    public var key: RoomKey {
        let name =
            switch self {
            case .prices(let symbol): "prices:" + symbol
            case .market(let channel, let symbol): "market:\(channel.rawValue):\(symbol)"
            case .depth(let symbol, .raw, nil): "market:depth:" + symbol
            case .depth(let symbol, let cadence, nil): "market:depth@\(cadence.rawValue):\(symbol)"
            case .depth(let symbol, .raw, let levels?): "market:depth/\(levels.rawValue):\(symbol)"
            case .depth(let symbol, let cadence, let levels?): "market:depth@\(cadence.rawValue)/\(levels.rawValue):\(symbol)"
            case .heartbeat(_, let symbol, let everyMs): "heartbeat@\(everyMs):\(symbol)"
            case .user(let channel, let user, let offsets): (offsets ? channel + "#offsets:" : channel + ":") + user
            case .admins: "admin"
            }
        return RoomKey(namespace: namespace, name: name)
    }

    /// The symbol of a `/prices` or `/market` room; nil for other rooms.
    var symbol: String? {
        switch self {
        case .prices(let symbol), .market(_, let symbol), .depth(let symbol, _, _), .heartbeat(_, let symbol, _): symbol
        case .user, .admins: nil
        }
    }

    /// The symbol of a `/prices` or `/market` room with its namespace (one switch on the
    /// publish path, where "something was sent for this symbol" is noted per message).
    var symbolAndNamespace: (String, SymbolNamespace)? {
        switch self {
        case .prices(let symbol): (symbol, .prices)
        case .market(_, let symbol), .depth(let symbol, _, _): (symbol, .market)
        case .heartbeat(let namespace, let symbol, _): (symbol, namespace)
        case .user, .admins: nil
        }
    }

    /// Rooms the feed loop serves only while someone is in them (``MarketInterest``).
    var isCountedInterest: Bool {
        switch self {
        case .heartbeat, .depth(_, _, .some): true
        default: false
        }
    }

    /// The `/market` channel of a market room.
    var marketChannel: MarketChannel? {
        switch self {
        case .market(let channel, _): channel
        case .depth: .depth
        case .prices, .heartbeat, .user, .admins: nil
        }
    }

}

/// The channels of `/market` (SPEC §3).
public enum MarketChannel: String, CaseIterable, Sendable {
    case stats, depth, trades, ticker
}

extension NamespaceSocket {
    func join(_ room: Room) { join(room.key) }
    func leave(_ room: Room) { leave(room.key) }
    func isIn(_ room: Room) -> Bool { rooms.contains(room.key) }
}

extension Publisher {
    /// Emits `event` with an already-encoded JSON payload to `room`.
    public func emit(to room: Room, event: String, payloadJSON: String, conflation: ConflationKey? = nil) {
        emit(to: room.key, event: event, payloadJSON: payloadJSON, conflation: conflation)
    }

    /// Emits an event built from JSON values to `room`.
    public func emit(to room: Room, event: String, arguments: [JSONValue]) {
        emit(to: room.key, event: event, arguments: arguments)
    }
}
