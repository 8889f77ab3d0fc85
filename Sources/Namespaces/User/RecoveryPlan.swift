import GatewayJSON
import GatewayCore
import NIOCore

/// How a recovery-enabled `/user` socket starts (SPEC §1): restored from a disconnected
/// session it names by `pid`, or fresh with a new `pid`. Sockets whose CONNECT auth holds
/// neither `"recovery":true` nor a `pid` get no plan: no `pid`, no offsets on their events.
enum RecoveryPlan: Sendable {
    case fresh(pid: String, baseline: UInt64)
    /// `fetched`: missed events read from the shared store (cluster mode), the rest are in the log.
    case restored(RecoverySessions.Session, after: UInt64, fetched: [UserEventEntry] = [])

    enum Decision {
        /// No recovery asked for.
        case off
        case now(RecoveryPlan)
        /// Cluster mode: the shared store decides.
        case later(EventLoopFuture<RecoveryPlan>)
    }

    static func decide(_ auth: JSONValue, userId: String, hub: UserEventHub, on eventLoop: any EventLoop) -> Decision {
        let pid = auth["pid"]?.stringValue
        guard pid != nil || auth["recovery"] == .bool(true) else { return .off }
        let offset = auth["offset"]?.stringValue
        if let shared = hub.shared,
            let answer = shared.begin(userId: userId, pid: pid, offset: offset.flatMap(UInt64.init), on: eventLoop)
        {
            // A store that fails outright counts as unreachable: decided here.
            return .later(answer.recover { _ in .unavailable }.map { hub.settle($0, pid: pid, offset: offset, userId: userId) })
        }
        return .now(decideLocally(pid: pid, offset: offset, userId: userId, hub: hub))
    }

    /// From this instance's log and sessions only.
    static func decideLocally(pid: String?, offset: String?, userId: String, hub: UserEventHub) -> RecoveryPlan {
        if let pid, case .recovered(let session, let after) = hub.attempt(pid: pid, offset: offset, userId: userId) {
            return .restored(session, after: after)
        }
        return .fresh(pid: SessionID.make(), baseline: hub.currentOffset())
    }

    var pid: String {
        switch self {
        case .fresh(let pid, _): pid
        case .restored(let session, _, _): session.pid
        }
    }

    var baseline: UInt64 {
        switch self {
        case .fresh(_, let baseline): baseline
        case .restored(let session, _, _): session.baseline
        }
    }

    /// The CONNECT answer: the same `sid` and `pid` when restored (how Socket.IO clients tell),
    /// plus an explicit `recovered` for clients that read the CONNECT data.
    var reply: ConnectReply {
        switch self {
        case .fresh(let pid, _):
            ConnectReply(fields: [JSONMember("pid", .string(pid)), JSONMember("recovered", .bool(false))])
        case .restored(let session, _, _):
            ConnectReply(socketID: session.sid, fields: [JSONMember("pid", .string(session.pid)), JSONMember("recovered", .bool(true))])
        }
    }
}
