import GatewayJSON
import GatewayCore

/// How a recovery-enabled `/user` socket starts (SPEC §1): restored from a disconnected
/// session it names by `pid`, or fresh with a new `pid`. Sockets whose CONNECT auth holds
/// neither `"recovery":true` nor a `pid` get no plan: no `pid`, no offsets on their events.
enum RecoveryPlan: Sendable {
    case fresh(pid: String, baseline: UInt64)
    case restored(RecoverySessions.Session, after: UInt64)

    static func decide(_ auth: JSONValue, userId: String, hub: UserEventHub) -> RecoveryPlan? {
        let pid = auth["pid"]?.stringValue
        guard pid != nil || auth["recovery"] == .bool(true) else { return nil }
        if let pid, case .recovered(let session, let after) = hub.attempt(pid: pid, offset: auth["offset"]?.stringValue, userId: userId) {
            return .restored(session, after: after)
        }
        return .fresh(pid: SessionID.make(), baseline: hub.currentOffset())
    }

    var pid: String {
        switch self {
        case .fresh(let pid, _): pid
        case .restored(let session, _): session.pid
        }
    }

    var baseline: UInt64 {
        switch self {
        case .fresh(_, let baseline): baseline
        case .restored(let session, _): session.baseline
        }
    }

    /// The CONNECT answer: the same `sid` and `pid` when restored (how Socket.IO clients tell),
    /// plus an explicit `recovered` for clients that read the CONNECT data.
    var reply: ConnectReply {
        switch self {
        case .fresh(let pid, _):
            ConnectReply(fields: [JSONMember("pid", .string(pid)), JSONMember("recovered", .bool(false))])
        case .restored(let session, _):
            ConnectReply(socketID: session.sid, fields: [JSONMember("pid", .string(session.pid)), JSONMember("recovered", .bool(true))])
        }
    }
}
