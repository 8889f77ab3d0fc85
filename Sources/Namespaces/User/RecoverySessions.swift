import GatewayCore
import DequeModule

/// Disconnected `/user` sockets that may still be recovered (SPEC §1): private session id →
/// who it was, what it was subscribed to and the last offset it was known to have. Each
/// entry lives `window` seconds and can be taken once; at most `capacity` are kept (oldest
/// go first), and at most `perUser` for one user (that user's oldest go first), so a user who
/// connects and drops in a loop cannot push other users' sessions out.
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
    let perUser: Int
    private var sessions: [String: Session] = [:]
    private var order = Deque<(pid: String, at: Double)>()
    /// Each user's pids, oldest first (entries of sessions taken or expired are skipped lazily).
    private var byUser: [String: Deque<String>] = [:]

    init(window: Double, capacity: Int = 100_000, perUser: Int = 16) {
        self.window = window
        self.capacity = capacity
        self.perUser = max(1, perUser)
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
        var mine = byUser[session.userId, default: []]
        mine.removeAll { $0 == session.pid || sessions[$0]?.userId != session.userId }
        sessions[session.pid] = session
        order.append((session.pid, session.disconnectedAt))
        mine.append(session.pid)
        while mine.count > perUser, let oldest = mine.popFirst() {
            if sessions.removeValue(forKey: oldest) != nil { dropped.append(session.userId) }
        }
        byUser[session.userId] = mine
        while sessions.count > capacity, let oldest = order.popFirst() {
            if let gone = sessions[oldest.pid], gone.disconnectedAt == oldest.at {
                sessions[oldest.pid] = nil
                dropped.append(gone.userId)
                forgetUserIfEmpty(gone.userId)
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
        forgetUserIfEmpty(userId)
        return .found(session)
    }

    mutating func expire(now: Double) {
        while let oldest = order.first, now - oldest.at > window {
            order.removeFirst()
            if let gone = sessions[oldest.pid], gone.disconnectedAt == oldest.at {
                sessions[oldest.pid] = nil
                dropped.append(gone.userId)
                forgetUserIfEmpty(gone.userId)
            }
        }
    }

    /// Drops a user's pid list once none of its sessions is left (the table stays bounded).
    private mutating func forgetUserIfEmpty(_ userId: String) {
        guard let mine = byUser[userId], !mine.contains(where: { sessions[$0]?.userId == userId }) else { return }
        byUser[userId] = nil
    }
}
