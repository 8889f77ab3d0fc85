import NIOConcurrencyHelpers
import NIOCore

/// Counts each key's holders on this instance (a user's `/user` sockets; a symbol's
/// subscriptions for occupancy). The first holder is told to the ledger at once; when the last
/// leaves, one timer waits the grace period, and only if nobody came back meanwhile is the
/// departure told to the ledger. So a blip costs the ledger (and Redis) nothing. Every change
/// the ledger answers, or finds by itself, goes to `announce` once.
public final class PresenceTracker: Sendable {
    private struct Holders {
        var count = 0
        /// The grace timer of the last departure; `generation` tells a stale firing from the live one.
        var departure: Scheduled<Void>?
        var generation = 0
    }

    private let ledger: any PresenceLedger
    private let grace: TimeAmount
    private let eventLoop: any EventLoop
    private let announce: @Sendable (String, PresenceChange) -> Void
    private let table = NIOLockedValueBox<[String: Holders]>([:])

    public init(
        ledger: any PresenceLedger, grace: TimeAmount, eventLoop: any EventLoop,
        announce: @escaping @Sendable (_ key: String, PresenceChange) -> Void
    ) {
        self.ledger = ledger
        self.grace = grace
        self.eventLoop = eventLoop
        self.announce = announce
        let table = table
        // Keys within their grace are still here: their leases must stay alive.
        ledger.follow(localKeys: { table.withLockedValue { Array($0.keys) } }, changes: announce)
    }

    public func socketOpened(_ key: String) {
        let first = table.withLockedValue { table -> Bool in
            var holders = table[key] ?? Holders()
            holders.count += 1
            defer { table[key] = holders }
            guard holders.count == 1 else { return false }
            guard let departure = holders.departure else { return true }
            // Back within the grace: a blip, told to nobody.
            departure.cancel()
            holders.departure = nil
            holders.generation += 1
            return false
        }
        if first { ledger.arrived(key) { [self] in publish($0, key) } }
    }

    public func socketClosed(_ key: String) {
        table.withLockedValue { table in
            guard var holders = table[key], holders.count > 0 else { return }
            holders.count -= 1
            if holders.count == 0 {
                holders.generation += 1
                let generation = holders.generation
                holders.departure = eventLoop.scheduleTask(in: grace) { [self] in departed(key, generation: generation) }
            }
            table[key] = holders
        }
    }

    /// Keys held here now, or within their grace.
    public var localKeys: [String] { table.withLockedValue { Array($0.keys) } }

    private func departed(_ key: String, generation: Int) {
        let gone = table.withLockedValue { table -> Bool in
            guard let holders = table[key], holders.count == 0, holders.generation == generation else { return false }
            table[key] = nil
            return true
        }
        if gone { ledger.left(key) { [self] in publish($0, key) } }
    }

    private func publish(_ change: PresenceChange?, _ key: String) {
        if let change { announce(key, change) }
    }
}
