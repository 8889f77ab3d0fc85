/// Which stream a broadcast frame belongs to, so a socket that has fallen behind can skip
/// stale market data instead of queueing all of it (SPEC §5 delivery policy).
public struct ConflationKey: Hashable, Sendable {
    public enum Policy: Sendable {
        /// A newer message replaces the queued one (prices, tickers, stats, status).
        case latestWins
        /// Messages chain (order-book deltas): a skipped one is repaired with a fresh
        /// snapshot from the namespace, and the stream is held until it arrives.
        case resyncBySnapshot
    }

    public let namespace: String
    /// The stream within the namespace, e.g. `price.update|BTC/USDT` or a depth room.
    public let stream: String
    public let policy: Policy

    public init(namespace: String, stream: String, policy: Policy) {
        self.namespace = namespace
        self.stream = stream
        self.policy = policy
    }
}

/// A WebSocket session's conflation bookkeeping, made when it first queues a conflatable frame
/// and dropped once its backlog is empty and no resync is pending.
final class ConflationState {
    /// Where each stream's queued frame sits, as an absolute backlog index.
    var positions: [ConflationKey: Int] = [:]
    /// Streams held until the namespace sends a snapshot.
    var resyncing: Set<ConflationKey> = []
}
