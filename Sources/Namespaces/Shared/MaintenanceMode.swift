import NIOConcurrencyHelpers

/// Maintenance mode (SPEC §10): while on, new connections to every namespace but `/admin` are
/// refused with MAINTENANCE and this message.
public final class MaintenanceMode: Sendable {
    private let state = NIOLockedValueBox<String?>(nil)

    public init() {}

    /// The refusal message while maintenance is on, nil otherwise.
    public var message: String? { state.withLockedValue { $0 } }

    public var isEnabled: Bool { message != nil }

    public func set(enabled: Bool, message: String) {
        state.withLockedValue { $0 = enabled ? message : nil }
    }
}
