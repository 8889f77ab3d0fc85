import NIOConcurrencyHelpers
import NIOCore

/// Where connection slots are counted (sockets per user, per address): in process by default;
/// the cluster work backs per-user counts with Redis leases so the cap holds across instances.
public protocol ConnectionCountStore: Sendable {
    /// Takes a slot for `key`; false when the key is at its limit.
    func acquire(_ key: String) -> Bool
    /// The same, for a store that may have to ask elsewhere (cluster-wide counts).
    func acquire(_ key: String, on eventLoop: any EventLoop) -> SlotAnswer
    /// Gives back a slot taken by ``acquire(_:)`` (exactly once).
    func release(_ key: String)
    /// Keys with at least one slot taken (e.g. unique users).
    var activeKeys: Int { get }
}

/// A slot decision: at once, or when a shared store answers.
public enum SlotAnswer: Sendable {
    case now(Bool)
    case later(EventLoopFuture<Bool>)
}

extension ConnectionCountStore {
    public func acquire(_ key: String, on eventLoop: any EventLoop) -> SlotAnswer { .now(acquire(key)) }
}

/// Counts live things per key against a cap, in this process; a slot is taken all-or-nothing
/// and must be released exactly once.
public final class ConnectionCounter: ConnectionCountStore {
    private let counts = NIOLockedValueBox<[String: Int]>([:])
    public let limit: Int

    public init(limit: Int) {
        self.limit = limit
    }

    /// Takes a slot for `key`; false when the key is at its limit.
    public func acquire(_ key: String) -> Bool {
        counts.withLockedValue { counts in
            let current = counts[key, default: 0]
            guard current < limit else { return false }
            counts[key] = current + 1
            return true
        }
    }

    public func release(_ key: String) {
        counts.withLockedValue { counts in
            guard let current = counts[key] else { return }
            counts[key] = current > 1 ? current - 1 : nil
        }
    }

    public func count(_ key: String) -> Int { counts.withLockedValue { $0[key, default: 0] } }

    /// Keys with at least one slot taken (e.g. unique users).
    public var activeKeys: Int { counts.withLockedValue { $0.count } }
}

/// A quota per key that grows and shrinks by amounts (rooms across all sockets of one user):
/// `reserve` applies a whole delta or nothing.
public final class QuotaCounter: Sendable {
    private let used = NIOLockedValueBox<[String: Int]>([:])
    public let limit: Int

    public init(limit: Int) {
        self.limit = limit
    }

    public func reserve(_ key: String, amount: Int) -> Bool {
        guard amount > 0 else { return true }
        return used.withLockedValue { used in
            let current = used[key, default: 0]
            guard current + amount <= limit else { return false }
            used[key] = current + amount
            return true
        }
    }

    public func release(_ key: String, amount: Int) {
        guard amount > 0 else { return }
        used.withLockedValue { used in
            let remaining = used[key, default: 0] - amount
            used[key] = remaining > 0 ? remaining : nil
        }
    }

    public func used(_ key: String) -> Int { used.withLockedValue { $0[key, default: 0] } }
}
