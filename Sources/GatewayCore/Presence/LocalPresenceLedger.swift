import NIOConcurrencyHelpers

/// Presence on a single instance: the tracker's own arrivals and departures are the whole
/// truth. Holds an entry per user online or within the grace period, nothing for the rest.
public final class LocalPresenceLedger: PresenceLedger {
    private enum State { case online, leaving(sinceMs: Int64) }

    private let graceMs: Int64
    private let nowMs: @Sendable () -> Int64
    private let state = NIOLockedValueBox<(users: [String: State], version: Int64)>(([:], 0))

    public init(graceMs: Int64, nowMs: @escaping @Sendable () -> Int64) {
        self.graceMs = graceMs
        self.nowMs = nowMs
    }

    public func arrived(_ userId: String, answer: @escaping @Sendable (PresenceChange?) -> Void) {
        let change = state.withLockedValue { state -> PresenceChange? in
            switch state.users[userId] {
            case .online?: return nil
            case .leaving?:
                // Back within the grace period: a blip, announced to nobody.
                state.users[userId] = .online
                return nil
            case nil:
                state.users[userId] = .online
                state.version += 1
                return PresenceChange(online: true, version: state.version)
            }
        }
        answer(change)
    }

    public func left(_ userId: String, answer: @escaping @Sendable (PresenceChange?) -> Void) {
        let now = nowMs()
        state.withLockedValue { state in
            if case .online? = state.users[userId] { state.users[userId] = .leaving(sinceMs: now) }
        }
        answer(nil)
    }

    /// Nothing to renew and nothing decided behind the tracker's back.
    public func follow(localKeys: @escaping @Sendable () -> [String], changes: @escaping @Sendable (String, PresenceChange) -> Void) {}

    public func settle(_ userId: String, answer: @escaping @Sendable (PresenceChange?) -> Void) {
        let now = nowMs()
        let change = state.withLockedValue { state -> PresenceChange? in
            guard case .leaving(let since)? = state.users[userId], now - since >= graceMs else { return nil }
            state.users[userId] = nil
            state.version += 1
            return PresenceChange(online: false, version: state.version)
        }
        answer(change)
    }
}
