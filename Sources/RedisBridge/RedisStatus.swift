import NIOConcurrencyHelpers

/// Whether Redis is reachable: up while every link that uses it is connected. Observers hear
/// each change once (the metric gauge, the admin alert, the health endpoint reads `isUp`).
public final class RedisStatus: Sendable {
    private struct State {
        var links: [String: Bool] = [:]
        var observers: [@Sendable (Bool) -> Void] = []
        var reported: Bool?
    }

    private let state = NIOLockedValueBox(State())

    public init() {}

    /// False until the first link connects, and whenever one is down.
    public var isUp: Bool {
        state.withLockedValue { !$0.links.isEmpty && $0.links.values.allSatisfy { $0 } }
    }

    public func observe(_ observer: @escaping @Sendable (Bool) -> Void) {
        state.withLockedValue { $0.observers.append(observer) }
    }

    func set(_ link: String, up: Bool) {
        let (changed, observers) = state.withLockedValue { state -> (Bool?, [@Sendable (Bool) -> Void]) in
            state.links[link] = up
            let now = state.links.values.allSatisfy { $0 }
            guard state.reported != now else { return (nil, []) }
            state.reported = now
            return (now, state.observers)
        }
        if let changed { for observer in observers { observer(changed) } }
    }
}
