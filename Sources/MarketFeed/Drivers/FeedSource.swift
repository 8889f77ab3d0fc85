import NIOCore

/// `feed.source` (SPEC §6): where market data comes from. HTTP ingest works beside every one.
public enum FeedSourceKind: String, CaseIterable, Sendable {
    case simulator
    case replay
    /// SUBSCRIBE `{prefix}feed` (a Redis link of the gateway's, not a ``FeedDriver``).
    case redis
    /// HTTP only.
    case none

    /// Sources that produce by themselves, so that their silence is a stall worth an alert.
    public func isContinuous(replayLoops: Bool) -> Bool {
        switch self {
        case .simulator, .redis: true
        case .replay: replayLoops
        case .none: false
        }
    }
}

/// Where feed messages go: the gateway's market state (books, throttles, fan-out), or a
/// test's recorder. Every source, driver or not, delivers through this one call.
public protocol FeedSink: Sendable {
    /// The loop messages are published on; drivers run their timers there (no hop per batch).
    var feedLoop: any EventLoop { get }
    /// Publishes `messages` in order. False when the batch was refused whole (the sink is
    /// behind): a source that keeps books starts its next batch with snapshots.
    @discardableResult
    func ingest(_ messages: [FeedMessage], source: String) -> Bool
}

/// A source that produces on a timer of the sink's loop (the simulator, a replay file).
public protocol FeedDriver: Sendable {
    var kind: FeedSourceKind { get }
    /// Starts producing into `sink`; cancelling the task stops it.
    func start(into sink: any FeedSink) -> EventLoopFuture<RepeatedTask>
}
