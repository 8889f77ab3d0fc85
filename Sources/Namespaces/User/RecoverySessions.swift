import DequeModule

/// A disconnected recovery-enabled `/user` socket that may come back (SPEC §1).
public struct RecoverySession: Equatable, Sendable {
    public let pid: String
    public let sid: String
    public let userId: String
    public let channels: [String]
    /// The log's last offset when the socket first connected: nothing before it is replayed.
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

/// Disconnected `/user` sockets that may still be recovered (SPEC §1): private session id →
/// who it was, what it was subscribed to and the last offset it was known to have. Each
/// entry lives `window` seconds and can be taken once; at most `capacity` are kept (oldest
/// go first).
struct RecoverySessions {
    typealias Session = RecoverySession

    enum Lookup: Equatable {
        case found(Session)
        /// Unknown pid: never seen, already used, past the window, or pushed out by the cap.
        case unknown
        /// The pid belongs to another user's session.
        case otherUser
    }

    let window: Double
    let capacity: Int
    private var sessions: [String: Session] = [:]
    private var order = Deque<(pid: String, at: Double)>()

    init(window: Double, capacity: Int = 100_000) {
        self.window = window
        self.capacity = capacity
    }

    var count: Int { sessions.count }
    /// Users of sessions dropped unused (past the window, or pushed out by the cap) since the
    /// last ``drainDropped()``.
    private var dropped: [String] = []

    mutating func drainDropped() -> [String] {
        defer { dropped.removeAll() }
        return dropped
    }

    mutating func store(_ session: Session) {
        expire(now: session.disconnectedAt)
        sessions[session.pid] = session
        order.append((session.pid, session.disconnectedAt))
        while sessions.count > capacity, let oldest = order.popFirst() {
            if let gone = sessions[oldest.pid], gone.disconnectedAt == oldest.at {
                sessions[oldest.pid] = nil
                dropped.append(gone.userId)
            }
        }
    }

    /// Takes the session for `pid` if `userId` may have it and it is within the window
    /// (sessions past it are gone already: `expire` runs first).
    mutating func take(pid: String, userId: String, now: Double) -> Lookup {
        expire(now: now)
        guard let session = sessions[pid] else { return .unknown }
        guard session.userId == userId else { return .otherUser }
        sessions[pid] = nil
        return .found(session)
    }

    mutating func expire(now: Double) {
        while let oldest = order.first, now - oldest.at > window {
            order.removeFirst()
            if let gone = sessions[oldest.pid], gone.disconnectedAt == oldest.at {
                sessions[oldest.pid] = nil
                dropped.append(gone.userId)
            }
        }
    }
}
