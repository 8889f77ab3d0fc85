import NIOCore

/// Keys producers give their requests and events, so that a retry is answered as the first was
/// and delivered nowhere again (docs/integration.md): kept for a window, on this instance
/// (``LocalIdempotencyStore``) or shared by every instance (the `Cluster` target's Redis store).
public protocol IdempotencyStore: Sendable {
    /// Claims `key` for `window`, remembering `fingerprint` (what the first use carried).
    func claim(_ key: String, fingerprint: String, window: TimeAmount, on eventLoop: any EventLoop) -> EventLoopFuture<IdempotencyClaim>
}

/// What a claim found.
public enum IdempotencyClaim: Sendable, Equatable {
    /// Nobody had the key in the window: go ahead.
    case first
    /// The key was used with the same fingerprint: a retry.
    case repeated
    /// The key was used with another fingerprint.
    case conflict
}
