import NIOConcurrencyHelpers

/// How many sockets on this instance are in each heartbeat room and depth-view room: the feed
/// loop beats and keeps views only for rooms someone is in. Counted by ``Subscriptions``.
public final class MarketInterest: Sendable {
    private let counts = NIOLockedValueBox<[Room: Int]>([:])

    public init() {}

    func add(_ rooms: [Room]) { change(rooms, by: 1) }
    func remove(_ rooms: [Room]) { change(rooms, by: -1) }

    func isWanted(_ room: Room) -> Bool { counts.withLockedValue { $0[room] != nil } }

    /// The heartbeat rooms with members (the feed loop reads this every check).
    var heartbeatRooms: [Room] {
        counts.withLockedValue { table in table.keys.filter { if case .heartbeat = $0 { true } else { false } } }
    }

    private func change(_ rooms: [Room], by step: Int) {
        let counted = rooms.filter { $0.isCountedInterest }
        guard !counted.isEmpty else { return }
        counts.withLockedValue { table in
            for room in counted {
                let after = table[room, default: 0] + step
                table[room] = after > 0 ? after : nil
            }
        }
    }
}
