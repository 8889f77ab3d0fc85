import GatewayJSON
import NIOConcurrencyHelpers

/// Who watches what on this instance: subscriptions per symbol and channel (`prices`, `trades`,
/// `ticker`, `stats`, `depth`, whatever cadence or depth). Read by `admin.stats` and the
/// `occupancy` admin command (summed over instances); a symbol's first subscriber here and its
/// last one leaving are told to `observe`'s closure (which decides `market.occupancy`).
public final class Occupancy: Sendable {
    private let counts = NIOLockedValueBox<[String: [String: Int]]>([:])
    private let observer = NIOLockedValueBox<(@Sendable (String, Bool) -> Void)?>(nil)

    public init() {}

    /// `changed(symbol, watched)` when a symbol gains its first subscriber here or loses its last;
    /// called under the table's lock, so it must not call back into this table.
    public func observe(_ changed: @escaping @Sendable (String, Bool) -> Void) {
        observer.withLockedValue { $0 = changed }
    }

    func add(_ rooms: some Sequence<Room>) { change(rooms, by: 1) }
    func remove(_ rooms: some Sequence<Room>) { change(rooms, by: -1) }

    private func change(_ rooms: some Sequence<Room>, by step: Int) {
        let changed = observer.withLockedValue { $0 }
        counts.withLockedValue { table in
            for room in rooms {
                guard let (symbol, channel) = Self.channel(of: room) else { continue }
                let before = table[symbol] ?? [:]
                var after = before
                let count = after[channel, default: 0] + step
                after[channel] = count > 0 ? count : nil
                table[symbol] = after.isEmpty ? nil : after
                // Told while the count is held, so two loops' flips of one symbol arrive in the
                // order they happened (the observer only counts and starts non-blocking work).
                if before.isEmpty != after.isEmpty { changed?(symbol, !after.isEmpty) }
            }
        }
    }

    /// `{symbol: {channel: subscribers}}` for the most watched `limit` symbols, or for `symbol` only.
    public func snapshot(limit: Int, symbol: String? = nil) -> JSONValue {
        let table = counts.withLockedValue { $0 }
        let chosen: [(String, [String: Int])]
        if let symbol {
            chosen = table[symbol].map { [(symbol, $0)] } ?? []
        } else {
            chosen = table.map { ($0.key, $0.value) }
                .sorted { ($0.1.values.reduce(0, +), $1.0) > ($1.1.values.reduce(0, +), $0.0) }
                .prefix(limit).map { $0 }
        }
        return .object(chosen.map { symbol, channels in
            JSONMember(symbol, .object(channels.sorted { $0.key < $1.key }.map { JSONMember($0.key, .int($0.value)) }))
        })
    }

    private static func channel(of room: Room) -> (String, String)? {
        switch room {
        case .prices(let symbol): (symbol, "prices")
        case .market(let channel, let symbol): (symbol, channel.rawValue)
        case .depth(let symbol, _, _): (symbol, "depth")
        case .heartbeat, .user, .admins: nil
        }
    }
}
