import GatewayJSON
import GatewayMetrics
import NIOCore
import SocketIOCodec

/// A client's membership of one namespace: what handlers emit to, join to rooms and disconnect.
/// Confined to its session's event loop.
public final class NamespaceSocket: @unchecked Sendable {
    /// The public Socket.IO id (not the secret Engine.IO sid).
    public let id: String
    public let namespace: NamespacePath
    public let session: EngineSession
    /// The CONNECT payload.
    public let auth: JSONValue
    /// This namespace's metric handles, looked up once.
    let metrics: NamespaceMetrics
    public private(set) var rooms: Set<RoomKey> = []
    public private(set) var isConnected = true
    /// The user the socket acts for, when its namespace authenticated one (admin kicks by
    /// user match it).
    public var owner: String?
    /// The connection the socket belongs to (for a server-side namespace DISCONNECT).
    private weak var connection: SocketIOConnection?
    var disconnectRequested = false

    private var nextAckID: UInt64 = 0
    private var pendingAcks: [UInt64: ([JSONValue]) -> Void] = [:]
    static let maximumPendingAcks = 256

    init(id: String, namespace: NamespacePath, session: EngineSession, auth: JSONValue, connection: SocketIOConnection) {
        metrics = session.metrics.namespace(namespace.value)
        self.id = id
        self.namespace = namespace
        self.session = session
        self.connection = connection
        self.auth = auth
    }

    public var eventLoop: any EventLoop { session.eventLoop }

    // MARK: Sending

    public func emit(_ event: String, _ arguments: [JSONValue] = []) {
        sendPacket(.event(event, arguments, namespace: namespace.value))
    }

    /// Emits with an ack request; `callback` runs with the client's ack arguments.
    public func emit(_ event: String, _ arguments: [JSONValue], ack callback: @escaping ([JSONValue]) -> Void) {
        guard isConnected, pendingAcks.count < Self.maximumPendingAcks else { return }
        let ackID = nextAckID
        nextAckID += 1
        pendingAcks[ackID] = callback
        sendPacket(.event(event, arguments, namespace: namespace.value, ackID: ackID))
    }

    /// Emits an event whose payload is already JSON text.
    public func emit(_ event: String, payloadJSON: String) {
        send(.event(namespace: namespace, name: event, payloadJSON: payloadJSON))
    }

    public func send(_ message: OutboundMessage) {
        guard isConnected else { return }
        session.send(message)
        session.metrics.countSent(1, handle: metrics.messagesSent)
    }

    /// Runs `work` on this socket's loop after every broadcast already on its way there (the
    /// loop's inbox, ``LoopContext/post(_:)``), and before any posted later: for a join that
    /// must neither overtake nor be overtaken by the stream it joins (a depth snapshot, a
    /// recovery replay).
    public func afterQueuedBroadcasts(_ work: @escaping @Sendable () -> Void) {
        session.loopContext.post(work)
    }

    /// Sends `messages` after what is already queued, paced by the transport (see
    /// ``EngineSession/startReplay(_:)``): for replays that may be far larger than a socket's
    /// backlog is allowed to be. Messages are encoded as they are taken.
    public func replay<Messages: Sequence & Sendable>(_ messages: Messages) where Messages.Element == OutboundMessage {
        guard isConnected else { return }
        session.metrics.countSent(messages.underestimatedCount, handle: metrics.messagesSent)
        // A msgpack socket gets a binary message as one frame (its attachments inside).
        let messagePack = session.parser == .msgpack
        let frames = messages.lazy.flatMap { message -> [EncodedFrame] in
            guard messagePack, !message.attachments.isEmpty else { return [message.header] + message.attachments }
            return MessagePackEncoding.frame(for: message).map { [$0] } ?? []
        }
        session.startReplay(AnyIterator(frames.makeIterator()))
    }

    func sendPacket(_ packet: SocketPacket) {
        send(OutboundMessage(packet))
    }

    func receivedAck(id: UInt64, arguments: [JSONValue]) {
        pendingAcks.removeValue(forKey: id)?(arguments)
    }

    // MARK: Rooms

    /// Joins a room of this socket's namespace (the whole-namespace room is joined on connect).
    public func join(_ room: RoomKey) {
        precondition(room.namespace == namespace, "\(room.name) is a room of \(room.namespace), not \(namespace)")
        guard isConnected, !room.isWholeNamespace, rooms.insert(room).inserted else { return }
        session.loopContext.join(self, key: room)
    }

    public func leave(_ room: RoomKey) {
        guard rooms.remove(room) != nil else { return }
        session.loopContext.leave(self, key: room)
    }

    func joinNamespaceRoom() {
        session.loopContext.join(self, key: .everyone(in: namespace))
    }

    /// Leaves every room; called once when the socket goes.
    func detach() {
        isConnected = false
        for room in rooms { session.loopContext.leave(self, key: room) }
        rooms.removeAll()
        session.loopContext.leave(self, key: .everyone(in: namespace))
        pendingAcks.removeAll()
    }

    // MARK: Disconnecting

    /// Server-side namespace disconnect: the client gets DISCONNECT for this namespace.
    public func disconnect() {
        guard isConnected, connection?.disconnectFromServer(self) == false else { return }
        // Asked from the handler's `connected`, before the socket is joined: done right after.
        disconnectRequested = true
    }
}
