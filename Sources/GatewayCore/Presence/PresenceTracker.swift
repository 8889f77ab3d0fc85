import NIOConcurrencyHelpers
import NIOCore

/// Counts each user's `/user` sockets on this instance and tells the ledger when the first
/// arrives and the last leaves; after the grace period it asks the ledger to settle. The
/// changes the ledger answers go to `announce` (the webhook queue), once each.
public final class PresenceTracker: Sendable {
    private let ledger: any PresenceLedger
    private let grace: TimeAmount
    private let eventLoop: any EventLoop
    private let nowMs: @Sendable () -> Int64
    private let announce: @Sendable (PresenceNotice) -> Void
    private let sockets = NIOLockedValueBox<[String: Int]>([:])

    public init(
        ledger: any PresenceLedger, grace: TimeAmount, eventLoop: any EventLoop, nowMs: @escaping @Sendable () -> Int64,
        announce: @escaping @Sendable (PresenceNotice) -> Void
    ) {
        self.ledger = ledger
        self.grace = grace
        self.eventLoop = eventLoop
        self.nowMs = nowMs
        self.announce = announce
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

    /// Users with a socket here now.
    public var localUsers: [String] { sockets.withLockedValue { Array($0.keys) } }

    private func publish(_ change: PresenceChange?, _ userId: String) {
        guard let change else { return }
        announce(PresenceNotice(kind: change.online ? .online : .offline, userId: userId, version: change.version, decidedAtMs: nowMs()))
    }
}
