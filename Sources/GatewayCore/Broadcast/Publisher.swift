import GatewayJSON
import SocketIOCodec

/// The seam every publisher sends through: feed fan-out, `/user` events, admin and HTTP
/// broadcasts, alerts and stats. ``Broadcaster`` is the in-process implementation (the
/// members of the rooms on this instance's event loops). No namespace or feed code knows which
/// one it runs on.
public protocol Publisher: Sendable {
    /// Delivers `message` (encoded once by the caller) to the members of `rooms`, each member
    /// once. `ordered`: deliveries keep the order in which callers made them on every loop
    /// alike (callers that serialise publishes under their own lock need this).
    func publish(_ message: OutboundMessage, to rooms: [RoomKey], ordered: Bool)

    /// Several messages at once, in order (a feed batch): a publisher that hops between
    /// threads hops once for all of them rather than once per message.
    func publish(_ batch: [Publication])
}

/// One message of a ``Publisher/publish(_:)`` batch.
public struct Publication: Sendable {
    public let message: OutboundMessage
    /// All of one namespace; a member of several gets the message once.
    public let rooms: [RoomKey]

    public init(_ message: OutboundMessage, to room: RoomKey) {
        self.message = message
        rooms = [room]
    }

    public init(_ message: OutboundMessage, to rooms: [RoomKey]) {
        self.message = message
        self.rooms = rooms
    }
}

extension Publisher {
    public func publish(_ batch: [Publication]) {
        for item in batch { publish(item.message, to: item.rooms, ordered: false) }
    }

    /// Emits `event` with an already-encoded JSON payload to a room (``RoomKey/everyone(in:)``
    /// for the whole namespace). `conflation`: how a socket that has fallen behind may skip it.
    public func emit(to room: RoomKey, event: String, payloadJSON: String, conflation: ConflationKey? = nil) {
        publish(.event(namespace: room.namespace, name: event, payloadJSON: payloadJSON, conflation: conflation), to: [room], ordered: false)
    }

    /// Emits an event built from JSON values (encoded here, once).
    public func emit(to room: RoomKey, event: String, arguments: [JSONValue]) {
        publish(OutboundMessage(.event(event, arguments, namespace: room.namespace.value)), to: [room], ordered: false)
    }
}
