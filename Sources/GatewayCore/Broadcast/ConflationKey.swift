/// Which stream a broadcast frame belongs to, so a socket that has fallen behind can skip
/// stale market data instead of queueing all of it (SPEC §5 delivery policy).
public struct ConflationKey: Hashable, Sendable {
    public enum Policy: Sendable {
        /// A newer message replaces the queued one (prices, tickers, stats, status).
        case latestWins
        /// Messages chain (order-book deltas): a skipped one is repaired with a fresh
        /// snapshot from the namespace, and the stream is held until it arrives.
        case resyncBySnapshot
        /// Messages are numbered and each stands alone (trades): a lagging socket skips the
        /// older queued ones, keeps the newest, and is told which it skipped (a gap notice from
        /// the namespace where the first skipped one was).
        case declaredGap
    }

    /// The stream: what replaces what (a price room's updates), or what chains (a book).
    public let stream: Stream
    public let policy: Policy

    /// A stream of one namespace: an event in one room (`price.update` to `prices:BTC/USDT`),
    /// and what it is about when one room carries several (`market.status` of each symbol to
    /// the whole namespace). Built by the namespaces from their typed rooms; the engine only
    /// compares it.
    public struct Stream: Hashable, Sendable {
        public let room: RoomKey
        public let event: String
        public let subject: String

        public init(room: RoomKey, event: String, subject: String = "") {
            self.room = room
            self.event = event
            self.subject = subject
        }
    }

    public init(_ stream: Stream, policy: Policy) {
        self.stream = stream
        self.policy = policy
    }

    public var namespace: NamespacePath { stream.room.namespace }
}

/// A WebSocket session's conflation bookkeeping, made when it first queues a conflatable frame
/// and dropped once its backlog is empty and no resync is pending.
final class ConflationState {
    /// Where each stream's queued frame sits, as an absolute backlog index.
    var positions: [ConflationKey: Int] = [:]
    /// Streams held until the namespace sends a snapshot.
    var resyncing: Set<ConflationKey> = []
    /// Where each declared-gap stream's gap marker sits, as an absolute backlog index.
    var gaps: [ConflationKey: Int] = [:]
}
