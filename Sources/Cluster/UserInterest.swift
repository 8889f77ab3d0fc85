import GatewayCore
import NIOConcurrencyHelpers

/// The per-user socket counts of `/user` (a ``ConnectionCountStore`` with the same cap), which
/// also tell the bus when a user gains their first socket here or loses their last: the bus
/// listens to a user's channel only while this instance has one of their sockets.
public final class UserInterest: ConnectionCountStore {
    public let limit: Int
    private let counts = NIOLockedValueBox<[String: Int]>([:])
    private let observer = NIOLockedValueBox<(@Sendable (String) -> Void)?>(nil)

    public init(limit: Int) {
        self.limit = limit
    }

    /// `changed(userId)` after a user's count went from 0 to 1 or from 1 to 0 (calls may
    /// arrive out of order from different threads: read ``isPresent(_:)`` to act on them).
    public func observe(_ changed: @escaping @Sendable (String) -> Void) {
        observer.withLockedValue { $0 = changed }
    }

    public func acquire(_ key: String) -> Bool {
        let outcome = counts.withLockedValue { counts -> (taken: Bool, first: Bool) in
            let current = counts[key, default: 0]
            guard current < limit else { return (false, false) }
            counts[key] = current + 1
            return (true, current == 0)
        }
        if outcome.first { notify(key) }
        return outcome.taken
    }

    public func release(_ key: String) {
        let last = counts.withLockedValue { counts -> Bool in
            guard let current = counts[key] else { return false }
            counts[key] = current > 1 ? current - 1 : nil
            return current == 1
        }
        if last { notify(key) }
    }

    public var activeKeys: Int { counts.withLockedValue { $0.count } }

    public func isPresent(_ userId: String) -> Bool { counts.withLockedValue { $0[userId] != nil } }

    public var presentUsers: [String] { counts.withLockedValue { Array($0.keys) } }

    private func notify(_ key: String) {
        observer.withLockedValue { $0 }?(key)
    }
}
