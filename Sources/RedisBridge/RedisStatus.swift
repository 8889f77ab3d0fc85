import NIOConcurrencyHelpers

/// Whether Redis is reachable: up while every link that uses it is connected. Observers hear
/// each change once (the metric gauge, the admin alert, the health endpoint reads `isUp`);
/// the first state after start-up comes with `initial` set, so it is not reported as a change.
public final class RedisStatus: Sendable {
    private struct State {
        /// nil: registered, not heard from yet.
        var links: [String: Bool?] = [:]
        var observers: [@Sendable (_ up: Bool, _ initial: Bool) -> Void] = []
        var reported: Bool?
    }

    private let state = NIOLockedValueBox(State())

    public init() {}

    /// False until the first link connects, and whenever one is down.
    public var isUp: Bool {
        state.withLockedValue { !$0.links.isEmpty && $0.links.values.allSatisfy { $0 == true } }
    }

    public func observe(_ observer: @escaping @Sendable (_ up: Bool, _ initial: Bool) -> Void) {
        state.withLockedValue { $0.observers.append(observer) }
    }

    private let overloadObserver = NIOLockedValueBox<(@Sendable () -> Void)?>(nil)

    /// `observer()` each time a command is refused because too many wait for replies on its
    /// connection (``RedisConnection/maximumPending``).
    public func observeOverloads(_ observer: @escaping @Sendable () -> Void) {
        overloadObserver.withLockedValue { $0 = observer }
    }

    func overloaded() {
        overloadObserver.withLockedValue { $0 }?()
    }

    /// A link that will report; until it does, Redis does not count as up.
    func register(_ link: String) {
        state.withLockedValue { state in
            if state.links[link] == nil { state.links[link] = .some(nil) }
        }
    }

    func set(_ link: String, up: Bool) {
        let (changed, initial, observers) = state.withLockedValue { state -> (Bool?, Bool, [@Sendable (Bool, Bool) -> Void]) in
            state.links[link] = .some(up)
            // Nothing is decided until every link has said how it is.
            guard state.links.values.allSatisfy({ $0 != nil }) else { return (nil, false, []) }
            let now = state.links.values.allSatisfy { $0 == true }
            guard state.reported != now else { return (nil, false, []) }
            let initial = state.reported == nil
            state.reported = now
            return (now, initial, state.observers)
        }
        if let changed { for observer in observers { observer(changed, initial) } }
    }
}
