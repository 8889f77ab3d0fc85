import GatewayCore
import GatewayMetrics
import NIOConcurrencyHelpers
import NIOCore

/// Where `/user` events enter (HTTP, the Redis stream) and connection state recovery lives.
///
/// One lock orders everything: an event is logged and handed to every loop under it, and a
/// recovering socket's missed events are read and its room joins queued under it too. Since
/// each loop runs its tasks in the order they were queued, the socket either finds an event
/// in the replay or receives it live after joining — never both, never neither.
public final class UserEventHub: Sendable {
    private struct State {
        var log: UserEventLog
        var sessions: RecoverySessions
    }

    private let state: NIOLockedValueBox<State>
    private let publisher: any Publisher
    private let metrics: GatewayMetrics
    private let now: @Sendable () -> Double
    /// Told which users have a kept session (cluster mode: the bus keeps following their events).
    private let interest: (any RecoveryInterest)?

    public init(
        publisher: any Publisher, metrics: GatewayMetrics, settings: RecoverySettings, interest: (any RecoveryInterest)? = nil,
        now: @escaping @Sendable () -> Double
    ) {
        self.interest = interest
        state = NIOLockedValueBox(State(
            log: UserEventLog(window: settings.window, maxPerUser: settings.maxEventsPerUser, maxTotal: settings.maxEvents, maxBytes: settings.maxBytes),
            sessions: RecoverySessions(window: settings.window, capacity: settings.maxSessions)
        ))
        self.publisher = publisher
        self.metrics = metrics
        self.now = now
    }

    // MARK: Publishing

    /// Delivers `event` to the user's sockets on its channel, in order, and keeps it for
    /// recovery. `payloadJSON` is the producer's object as JSON text.
    public func publish(userId: String, event: String, payloadJSON: String) {
        let channel = UserEventChannels.eventChannels[event] ?? "user"
        let time = now()
        state.withLockedValue { state in
            let entry = state.log.append(user: userId, channel: channel, event: event, payloadJSON: payloadJSON, now: time)
            publisher.publish(
                .event(namespace: "/user", name: event, payloadJSON: payloadJSON), namespace: "/user",
                rooms: [Room.user(channel, user: userId, offsets: false).name], ordered: true
            )
            publisher.publish(
                .event(namespace: "/user", name: event, payloadJSON: Self.withOffset(entry)), namespace: "/user",
                rooms: [Room.user(channel, user: userId, offsets: true).name], ordered: true
            )
        }
    }

    /// The event's arguments: the payload, then its offset as a string (what recovery-aware
    /// clients strip and send back).
    static func withOffset(_ entry: UserEventLog.Entry) -> String {
        entry.payloadJSON + ",\"\(entry.offset)\""
    }

    // MARK: Recovery

    /// A new recovery-enabled socket starts from the log's current end.
    func currentOffset() -> UInt64 {
        state.withLockedValue { $0.log.lastOffset }
    }

    enum Attempt {
        case recovered(RecoverySessions.Session, after: UInt64)
        case failed(outcome: String)
    }

    /// Decides a CONNECT that carries `pid` (and maybe `offset`): the session must exist, be
    /// the same user's, be within the window, and every event it missed must still be here.
    func attempt(pid: String, offset: String?, userId: String) -> Attempt {
        let time = now()
        var ended: [String] = []
        let attempt = state.withLockedValue { state -> Attempt in
            state.log.expire(now: time)
            let lookup = state.sessions.take(pid: pid, userId: userId, now: time)
            ended = state.sessions.drainDropped()
            switch lookup {
            case .unknown, .otherUser: return .failed(outcome: "unknown_session")
            case .found(let session):
                ended.append(session.userId)
                let after = max(offset.flatMap(UInt64.init) ?? 0, session.baseline)
                if case .truncated = state.log.missed(user: userId, after: after, channels: Set(session.channels)) {
                    return .failed(outcome: "truncated")
                }
                return .recovered(session, after: after)
            }
        }
        for user in ended { interest?.releaseRecovery(user) }
        switch attempt {
        case .recovered: metrics.recovery(outcome: "recovered").increment(by: 1)
        case .failed(let outcome): metrics.recovery(outcome: outcome).increment(by: 1)
        }
        return attempt
    }

    /// Replays what a recovered socket missed and joins its rooms, in one step against the
    /// live stream (see the type's comment). Runs on the socket's loop.
    func restore(_ socket: NamespaceSocket, session: RecoverySessions.Session, after: UInt64) {
        state.withLockedValue { state in
            let missed: [UserEventLog.Entry]
            if case .events(let entries) = state.log.missed(user: session.userId, after: after, channels: Set(session.channels)) {
                missed = entries
            } else {
                missed = []  // dropped in the instant since `attempt` checked; nothing more to give
            }
            socket.eventLoop.execute {
                UserBehavior.join(socket, userId: session.userId, channels: session.channels, offsets: true)
                // Paced by the socket: a backlog many times slowConsumerBytes still arrives whole.
                socket.replay(missed.lazy.map { entry in
                    OutboundMessage.event(namespace: "/user", name: entry.event, payloadJSON: Self.withOffset(entry))
                })
            }
        }
    }

    /// Keeps a socket that left for a recoverable reason for the recovery window.
    func keep(_ session: RecoverySessions.Session) {
        interest?.holdRecovery(session.userId)
        let dropped = state.withLockedValue { state in
            state.sessions.store(session)
            return state.sessions.drainDropped()
        }
        for user in dropped { interest?.releaseRecovery(user) }
    }

    public var storedSessions: Int { state.withLockedValue { $0.sessions.count } }
    public var storedEvents: Int { state.withLockedValue { $0.log.count } }
}

/// Users with a kept recovery session: in cluster mode the bus keeps receiving their events
/// while their sockets are gone, so a recovery finds every event it missed in this log.
public protocol RecoveryInterest: Sendable {
    func holdRecovery(_ userId: String)
    func releaseRecovery(_ userId: String)
}

/// Connection state recovery limits (SPEC §1; `recovery.*` in the configuration).
public struct RecoverySettings: Sendable {
    /// Seconds a disconnected socket may come back within (`recovery.maxDisconnectionMs`).
    public var window: Double
    public var maxEventsPerUser: Int
    public var maxEvents: Int
    public var maxSessions: Int
    /// Payload bytes the whole log may hold (`recovery.maxBytes`).
    public var maxBytes: Int

    public init(window: Double = 120, maxEventsPerUser: Int = 1000, maxEvents: Int = 200_000, maxSessions: Int = 100_000, maxBytes: Int = 64 << 20) {
        self.window = window
        self.maxEventsPerUser = maxEventsPerUser
        self.maxEvents = maxEvents
        self.maxSessions = maxSessions
        self.maxBytes = maxBytes
    }
}
