import NIOConcurrencyHelpers

/// Redis as operators see it (`/health/redis`, `admin.stats`): disabled when no `REDIS_URL`
/// is configured, else up or down as the Redis links report.
public final class RedisHealth: Sendable {
    public enum State: String, Sendable { case disabled, up, down }
    private let state = NIOLockedValueBox(State.disabled)

    public init() {}

    public var current: State { state.withLockedValue { $0 } }

    public func set(_ new: State) {
        state.withLockedValue { $0 = new }
    }
}
