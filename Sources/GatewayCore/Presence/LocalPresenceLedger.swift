import NIOConcurrencyHelpers

/// Presence on a single instance: the tracker's arrivals and (graced) departures are the whole
/// truth. Holds the keys that are present, nothing for the rest.
public final class LocalPresenceLedger: PresenceLedger {
    private let state = NIOLockedValueBox<(present: Set<String>, version: Int64)>(([], 0))

    public init() {}

    public func arrived(_ key: String, answer: @escaping @Sendable (PresenceChange?) -> Void) {
        answer(change(key, present: true))
    }

    public func left(_ key: String, answer: @escaping @Sendable (PresenceChange?) -> Void) {
        answer(change(key, present: false))
    }

    /// Nothing to renew and nothing decided behind the tracker's back.
    public func follow(localKeys: @escaping @Sendable () -> [String], changes: @escaping @Sendable (String, PresenceChange) -> Void) {}

    private func change(_ key: String, present: Bool) -> PresenceChange? {
        state.withLockedValue { state in
            let changed = present ? state.present.insert(key).inserted : state.present.remove(key) != nil
            guard changed else { return nil }
            // One counter for every key: each key's versions still only grow.
            state.version += 1
            return PresenceChange(online: present, version: state.version)
        }
    }
}
