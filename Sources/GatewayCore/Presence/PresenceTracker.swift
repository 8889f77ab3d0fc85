import NIOConcurrencyHelpers
import NIOCore

/// Counts each key's holders on this instance (a user's `/user` sockets; a symbol's
/// subscriptions for occupancy) and tells the ledger when the first arrives and the last
/// leaves; after the grace period it asks the ledger to settle. Every change the ledger
/// answers, or finds by itself, goes to `announce` once.
public final class PresenceTracker: Sendable {
    private let ledger: any PresenceLedger
    private let grace: TimeAmount
    private let eventLoop: any EventLoop
    private let announce: @Sendable (String, PresenceChange) -> Void
    private let sockets = NIOLockedValueBox<[String: Int]>([:])

    public init(
        ledger: any PresenceLedger, grace: TimeAmount, eventLoop: any EventLoop,
        announce: @escaping @Sendable (_ key: String, PresenceChange) -> Void
    ) {
        self.ledger = ledger
        self.grace = grace
        self.eventLoop = eventLoop
        self.announce = announce
        let sockets = sockets
        ledger.follow(localKeys: { sockets.withLockedValue { Array($0.keys) } }, changes: announce)
    }

    public func socketOpened(_ userId: String) {
        let first = sockets.withLockedValue { counts -> Bool in
            counts[userId, default: 0] += 1
            return counts[userId] == 1
        }
        if first { ledger.arrived(userId) { [self] in publish($0, userId) } }
    }

    public func socketClosed(_ userId: String) {
        let last = sockets.withLockedValue { counts -> Bool in
            guard let count = counts[userId] else { return false }
            counts[userId] = count > 1 ? count - 1 : nil
            return count == 1
        }
        guard last else { return }
        ledger.left(userId) { [self] in publish($0, userId) }
        // A little past the grace, so the ledger's clock has surely passed it too.
        eventLoop.scheduleTask(in: grace + .milliseconds(50)) { [self] in
            ledger.settle(userId) { [self] in publish($0, userId) }
        }
    }

    /// Keys held here now.
    public var localKeys: [String] { sockets.withLockedValue { Array($0.keys) } }

    private func publish(_ change: PresenceChange?, _ key: String) {
        if let change { announce(key, change) }
    }
}
