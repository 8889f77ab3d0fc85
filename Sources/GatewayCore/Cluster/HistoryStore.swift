import GatewayJSON
import NIOCore

/// One event of a user's stream, as kept for recovery.
public struct UserEventEntry: Equatable, Sendable {
    /// Rises per user; in cluster mode it is the event's place in the user's shared stream, so
    /// it means the same on every instance.
    public let offset: UInt64
    /// `orders`, `positions`, `wallet`, or `user` (every socket of the user).
    public let channel: String
    public let event: String
    public let payloadJSON: String
    public let at: Double

    public init(offset: UInt64, channel: String, event: String, payloadJSON: String, at: Double) {
        self.offset = offset
        self.channel = channel
        self.event = event
        self.payloadJSON = payloadJSON
        self.at = at
    }
}

/// A disconnected recovery-enabled socket that may come back (SPEC §1).
public struct RecoverySession: Equatable, Sendable {
    public let pid: String
    public let sid: String
    public let userId: String
    public let channels: [String]
    /// The stream's last offset when the socket first connected: nothing before it is replayed.
    public let baseline: UInt64
    public let disconnectedAt: Double

    public init(pid: String, sid: String, userId: String, channels: [String], baseline: UInt64, disconnectedAt: Double) {
        self.pid = pid
        self.sid = sid
        self.userId = userId
        self.channels = channels
        self.baseline = baseline
        self.disconnectedAt = disconnectedAt
    }
}

public enum SharedRecoveryAnswer: Sendable, Equatable {
    /// No pid was given: start fresh from `baseline`.
    case fresh(baseline: UInt64)
    /// Start fresh: the session is `outcome` (`unknown_session`, `truncated`, or `unavailable`
    /// when the instance could not make sure it follows the user's events).
    case failed(outcome: String, baseline: UInt64)
    /// The session, and its user's events after `after` on its channels, oldest first.
    case recovered(RecoverySession, after: UInt64, missed: [UserEventEntry])
    /// The store could not answer (it went away mid-call): decide from this instance's state.
    case unavailable
}

/// What `append` did with an event.
public enum HistoryAppend: Sendable, Equatable {
    /// In the user's stream at `offset`, and published.
    case published(offset: UInt64)
    /// The source entry (read by every instance) was appended by another instance first.
    case alreadyTaken
}

/// Users' event streams and kept recovery sessions that every instance shares (centrifuge's
/// history), so a client recovers on any instance (SPEC §8). Cluster: `RedisHistory`.
public protocol HistoryStore: Sendable {
    /// Appends `entry` to `userId`'s stream and publishes `body` on `channel` with the entry's
    /// offset added (as the member `offset`, a text ``offset(in:)`` reads), in one step: the
    /// stream's order is every follower's delivery order. `sourceEntry`: an id of the producers'
    /// stream every instance reads, appended once by whichever instance comes first. nil while
    /// the store is unreachable.
    func append(
        _ entry: (channel: String, event: String, payloadJSON: String), of userId: String,
        publishing body: JSONValue, on channel: BrokerChannel, sourceEntry: String?
    ) -> EventLoopFuture<HistoryAppend>?
    /// The offset an appended message carries (``append(_:of:publishing:on:sourceEntry:)``).
    func offset(in body: JSONValue) -> UInt64?
    /// Starts a recovery-enabled CONNECT of `userId`: with a `pid`, takes that session (once)
    /// and reads what it missed after `offset`; either way says where the stream ends now. With
    /// a pid it also waits until every event the read covered has arrived through `channel`
    /// (which this instance follows), so the replay and the live stream meet without a gap or
    /// an overlap. nil while unreachable.
    func begin(userId: String, pid: String?, offset: UInt64?, following channel: BrokerChannel, on eventLoop: any EventLoop)
        -> EventLoopFuture<SharedRecoveryAnswer>?
    /// Keeps a disconnected socket's session for the recovery window; the future says whether
    /// the store has it (nil: unreachable now).
    func keep(_ session: RecoverySession) -> EventLoopFuture<Bool>?
}

/// This instance's own count of a user's sockets, kept beside a cluster-wide count (presence):
/// the per-user cap while the shared store is away, and which users' messages this instance
/// must hear. Namespaces: `UserInterest`.
public protocol LocalPresence: ConnectionCountStore {
    var limit: Int { get }
    /// Takes a slot; when it is the user's first here, the future completes once this instance
    /// hears the user's messages, so nothing published right after the CONNECT is missed.
    func acquireFollowed(_ key: String, on eventLoop: any EventLoop) -> EventLoopFuture<Bool>
    /// Users with sockets here and how many.
    var socketCounts: [String: Int] { get }
}
