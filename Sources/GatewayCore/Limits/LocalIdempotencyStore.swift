import DequeModule
import NIOConcurrencyHelpers
import NIOCore

/// Idempotency keys kept on this instance, each for its window, at most `maxKeys` at once: past
/// that the oldest is forgotten first (a retry of it is then delivered again: at least once
/// still holds, exactly once only within the bound). Expired keys go as new ones come.
public final class LocalIdempotencyStore: IdempotencyStore {
    private struct Entry {
        let fingerprint: String
        let expires: NIODeadline
    }

    private struct State {
        var entries: [String: Entry] = [:]
        /// Keys in the order they were claimed, with their expiry (the oldest first).
        var order = Deque<(key: String, expires: NIODeadline)>()
    }

    public let maxKeys: Int
    private let state = NIOLockedValueBox(State())

    public init(maxKeys: Int = 100_000) {
        self.maxKeys = max(1, maxKeys)
    }

    public var count: Int { state.withLockedValue { $0.entries.count } }

    public func claim(_ key: String, fingerprint: String, window: TimeAmount, on eventLoop: any EventLoop) -> EventLoopFuture<IdempotencyClaim> {
        eventLoop.makeSucceededFuture(claimNow(key, fingerprint: fingerprint, window: window, now: .now()))
    }

    public func claimNow(_ key: String, fingerprint: String, window: TimeAmount, now: NIODeadline) -> IdempotencyClaim {
        state.withLockedValue { state in
            while let oldest = state.order.first, oldest.expires <= now {
                state.order.removeFirst()
                if state.entries[oldest.key]?.expires == oldest.expires { state.entries[oldest.key] = nil }
            }
            if let entry = state.entries[key] {
                return entry.fingerprint == fingerprint ? .repeated : .conflict
            }
            while state.entries.count >= maxKeys, let oldest = state.order.popFirst() {
                if state.entries[oldest.key]?.expires == oldest.expires { state.entries[oldest.key] = nil }
            }
            let expires = now + window
            state.entries[key] = Entry(fingerprint: fingerprint, expires: expires)
            state.order.append((key, expires))
            return .first
        }
    }
}
