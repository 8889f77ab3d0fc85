import GatewayCore
import GatewayMetrics
import NIOConcurrencyHelpers
import NIOCore

/// Where `/user` events enter (HTTP, the Redis stream) and connection state recovery lives.
///
/// One lock orders everything: an event is logged and handed to every loop under it, and a
/// recovering socket's missed events are read and its room joins queued under it too. Both
/// travel through the loop's inbox (``LoopContext/post(_:)``), which runs work in the order it
/// was posted, so the socket either finds an event in the replay or receives it live after
/// joining — never both, never neither.
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
    /// Cluster mode: sessions and events every instance can recover from.
    let shared: (any SharedRecovery)?

    public init(
        publisher: any Publisher, metrics: GatewayMetrics, settings: RecoverySettings, interest: (any RecoveryInterest)? = nil,
        shared: (any SharedRecovery)? = nil, now: @escaping @Sendable () -> Double
    ) {
        self.interest = interest
        self.shared = shared
        state = NIOLockedValueBox(State(
            log: UserEventLog(window: settings.window, maxPerUser: settings.maxEventsPerUser, maxTotal: settings.maxEvents, maxBytes: settings.maxBytes),
            sessions: RecoverySessions(window: settings.window, capacity: settings.maxSessions, perUser: settings.maxSessionsPerUser)
        ))
        self.publisher = publisher
        self.metrics = metrics
        self.now = now
    }

    // MARK: Publishing

    /// Delivers `event` to the user's sockets on its channel, in order, and keeps it for
    /// recovery. `payloadJSON` is the producer's object as JSON text; `offset` is the event's
    /// id in the user's shared stream (cluster mode), else the log numbers it.
    public func publish(userId: String, event: String, payloadJSON: String, offset: UInt64? = nil) {
        let channel = UserEventChannels.eventChannels[event] ?? "user"
        let time = now()
        state.withLockedValue { state in
            let entry = state.log.append(user: userId, channel: channel, event: event, payloadJSON: payloadJSON, now: time, offset: offset)
            publisher.publish(
                .event(namespace: UserBehavior.path, name: event, payloadJSON: payloadJSON),
                to: [Room.user(channel: channel, user: userId, offsets: false).key], ordered: true
            )
            publisher.publish(
                .event(namespace: UserBehavior.path, name: event, payloadJSON: Self.withOffset(entry)),
                to: [Room.user(channel: channel, user: userId, offsets: true).key], ordered: true
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

    /// Decides a recovery-enabled CONNECT from the shared store's answer (cluster mode). A
    /// session used or refused there is no longer recoverable here either.
    func settle(_ answer: SharedRecoveryAnswer, pid: String?, offset: String?, userId: String) -> RecoveryPlan {
        let outcome: String?
        let plan: RecoveryPlan
        switch answer {
        case .unavailable:
            return RecoveryPlan.decideLocally(pid: pid, offset: offset, userId: userId, hub: self)
        case .fresh(let baseline):
            return .fresh(pid: SessionID.make(), baseline: baseline)
        case .failed(let reason, let baseline):
            (outcome, plan) = (reason, .fresh(pid: SessionID.make(), baseline: baseline))
        case .recovered(let session, let after, let missed):
            (outcome, plan) = ("recovered", .restored(session, after: after, fetched: missed))
        }
        if let pid { forget(pid: pid, userId: userId) }
        if let outcome { metrics.recovery(outcome: outcome).increment(by: 1) }
        return plan
    }

    /// Drops this instance's copy of a session the shared store decided.
    private func forget(pid: String, userId: String) {
        let time = now()
        let ended = state.withLockedValue { state -> [String] in
            var ended = state.sessions.drainDropped()
            if case .found(let session) = state.sessions.take(pid: pid, userId: userId, now: time) { ended.append(session.userId) }
            return ended + state.sessions.drainDropped()
        }
        for user in ended { interest?.releaseRecovery(user) }
    }

    /// Replays what a recovered socket missed and joins its rooms, in one step against the
    /// live stream (see the type's comment). Runs on the socket's loop. `fetched` are missed
    /// events read from the shared store (cluster mode): the rest, newer than those, are in
    /// this log, which has followed the user since before the store was read.
    func restore(_ socket: NamespaceSocket, session: RecoverySessions.Session, after: UInt64, fetched: [UserEventEntry] = []) {
        let channels = Set(session.channels)
        let through = max(after, fetched.last?.offset ?? 0)
        state.withLockedValue { state in
            var found = fetched.filter { $0.channel == "user" || channels.contains($0.channel) }
            if case .events(let entries) = state.log.missed(user: session.userId, after: through, channels: channels) {
                found += entries
            }  // else dropped in the instant since the check; nothing more to give
            let missed = found
            socket.afterQueuedBroadcasts {
                UserBehavior.join(socket, userId: session.userId, channels: session.channels, offsets: true)
                // Paced by the socket: a backlog many times slowConsumerBytes still arrives whole.
                socket.replay(missed.lazy.map { entry in
                    OutboundMessage.event(namespace: UserBehavior.path, name: entry.event, payloadJSON: Self.withOffset(entry))
                })
            }
        }
    }

    /// Keeps a socket that left for a recoverable reason for the recovery window. In cluster
    /// mode the shared store keeps it for every instance; this instance's copy (and its hold on
    /// the user's events) stays only until the store confirms, as a fallback for an outage.
    func keep(_ session: RecoverySessions.Session) {
        interest?.holdRecovery(session.userId)
        let dropped = state.withLockedValue { state in
            state.sessions.store(session)
            return state.sessions.drainDropped()
        }
        for user in dropped { interest?.releaseRecovery(user) }
        shared?.keep(session)?.whenSuccess { [self] stored in
            if stored { forget(pid: session.pid, userId: session.userId) }
        }
    }

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
    /// Disconnected sessions kept per user (`recovery.maxSessionsPerUser`).
    public var maxSessionsPerUser = 16
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
