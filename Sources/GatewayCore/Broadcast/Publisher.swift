import GatewayJSON
import SocketIOCodec

/// The seam every publisher sends through: feed fan-out, `/user` events, admin and HTTP
/// broadcasts, alerts and stats. ``Broadcaster`` is the in-process implementation (the
/// members of the rooms on this instance's event loops); a cluster bus wraps it to reach the
/// other instances as well. No namespace or feed code knows which one it runs on.
public protocol Publisher: Sendable {
    /// Delivers `message` (encoded once by the caller) to the members of `rooms` of
    /// `namespace` (`""`: every socket of the namespace), each member once.
    /// `ordered`: deliveries keep the order in which callers made them on every loop alike
    /// (callers that serialise publishes under their own lock need this).
    func publish(_ message: OutboundMessage, namespace: String, rooms: [String], ordered: Bool)

    /// Several messages at once, in order (a feed batch): a publisher that hops between
    /// threads hops once for all of them rather than once per message.
    func publish(_ batch: [Publication])
}

/// One message of a ``Publisher/publish(_:)`` batch.
public struct Publication: Sendable {
    public let message: OutboundMessage
    public let namespace: String
    /// `""`: every socket of the namespace.
    public let room: String

    public init(_ message: OutboundMessage, namespace: String, room: String) {
        self.message = message
        self.namespace = namespace
        self.room = room
    }
}

extension Publisher {
    public func publish(_ batch: [Publication]) {
        for item in batch { publish(item.message, namespace: item.namespace, rooms: [item.room], ordered: false) }
    }

    /// Emits `event` with an already-encoded JSON payload to a room (or the whole namespace).
    /// `conflation`: how a socket that has fallen behind may skip this message.
    public func emit(namespace: String, room: String? = nil, event: String, payloadJSON: String, conflation: ConflationKey? = nil) {
        publish(.event(namespace: namespace, name: event, payloadJSON: payloadJSON, conflation: conflation), namespace: namespace, rooms: [room ?? ""], ordered: false)
    }

    /// Emits an event built from JSON values (encoded here, once).
    public func emit(namespace: String, room: String? = nil, event: String, arguments: [JSONValue]) {
        publish(OutboundMessage(.event(event, arguments, namespace: namespace)), namespace: namespace, rooms: [room ?? ""], ordered: false)
    }
}
