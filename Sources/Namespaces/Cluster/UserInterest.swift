import GatewayCore
import NIOConcurrencyHelpers
import NIOCore

/// Which users this instance must hear about: those with a `/user` socket here (counted
/// against the per-user cap: a ``ConnectionCountStore``) and those with a kept recovery
/// session (a ``RecoveryInterest``: their events must keep reaching the recovery log until the
/// client comes back or the window ends). The bus follows a user's channel while either holds.
public final class UserInterest: LocalPresence, RecoveryInterest {
    public let limit: Int
    private struct Counts {
        var sockets: [String: Int] = [:]
        var holds: [String: Int] = [:]
        func present(_ user: String) -> Bool { sockets[user] != nil || holds[user] != nil }
    }

    private let counts = NIOLockedValueBox(Counts())
    /// Told when a user becomes present or absent; answers when the change is in effect.
    private let observer = NIOLockedValueBox<(@Sendable (String) -> EventLoopFuture<Void>?)?>(nil)

    public init(limit: Int) {
        self.limit = limit
    }

    /// `changed(userId)` after a user became present or absent (calls may arrive out of order
    /// from different threads: read ``isPresent(_:)`` to act on them). The future, if any,
    /// completes once the bus follows the change.
    public func observe(_ changed: @escaping @Sendable (String) -> EventLoopFuture<Void>?) {
        observer.withLockedValue { $0 = changed }
    }

    // MARK: Sockets (ConnectionCountStore)

    public func acquire(_ key: String) -> Bool {
        guard let became = take(key) else { return false }
        if became { _ = notify(key) }
        return true
    }

    /// Takes a slot; when it makes the user present, the future completes once the bus follows
    /// the user's channel, so nothing published right after the CONNECT is missed.
    public func acquireFollowed(_ key: String, on eventLoop: any EventLoop) -> EventLoopFuture<Bool> {
        guard let became = take(key) else { return eventLoop.makeSucceededFuture(false) }
        guard became, let followed = notify(key) else { return eventLoop.makeSucceededFuture(true) }
        return followed.hop(to: eventLoop).map { true }.recover { _ in true }
    }

    /// nil when at the cap; else whether the user just became present.
    private func take(_ key: String) -> Bool? {
        counts.withLockedValue { counts -> Bool? in
            let current = counts.sockets[key, default: 0]
            guard current < limit else { return nil }
            let wasPresent = counts.present(key)
            counts.sockets[key] = current + 1
            return !wasPresent
        }
    }

    public func release(_ key: String) {
        decrement(\.sockets, key)
    }

    public var activeKeys: Int { counts.withLockedValue { $0.sockets.count } }

    /// Users with sockets here and how many.
    public var socketCounts: [String: Int] { counts.withLockedValue { $0.sockets } }

    // MARK: Recovery holds (RecoveryInterest)

    public func holdRecovery(_ userId: String) {
        let became = counts.withLockedValue { counts -> Bool in
            let wasPresent = counts.present(userId)
            counts.holds[userId, default: 0] += 1
            return !wasPresent
        }
        if became { _ = notify(userId) }
    }

    public func releaseRecovery(_ userId: String) {
        decrement(\.holds, userId)
    }

    /// One socket or hold fewer; the bus hears of it when the user is then absent.
    private func decrement(_ table: WritableKeyPath<Counts, [String: Int]>, _ userId: String) {
        let gone = counts.withLockedValue { counts -> Bool in
            guard let current = counts[keyPath: table][userId] else { return false }
            counts[keyPath: table][userId] = current > 1 ? current - 1 : nil
            return !counts.present(userId)
        }
        if gone { _ = notify(userId) }
    }

    // MARK: Presence

    public func isPresent(_ userId: String) -> Bool { counts.withLockedValue { $0.present(userId) } }

    public var presentUsers: [String] {
        counts.withLockedValue { Array(Set($0.sockets.keys).union($0.holds.keys)) }
    }

    private func notify(_ key: String) -> EventLoopFuture<Void>? {
        observer.withLockedValue { $0 }?(key)
    }
}
