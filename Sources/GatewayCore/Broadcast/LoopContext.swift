import NIOCore

/// Per-event-loop state: the room index of the sockets this loop owns and the list of sessions
/// to flush at the end of the current tick. Only touched on `eventLoop` (hence unchecked
/// Sendable: it is captured by closures that run there and nowhere else).
public final class LoopContext: @unchecked Sendable {
    public let eventLoop: any EventLoop
    private var rooms: [RoomKey: [ObjectIdentifier: NamespaceSocket]] = [:]
    private var flushQueue: [EngineSession] = []
    private var spareFlushQueue: [EngineSession] = []
    private var flushScheduled = false

    public init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    // MARK: Rooms

    func join(_ socket: NamespaceSocket, key: RoomKey) {
        rooms[key, default: [:]][ObjectIdentifier(socket)] = socket
    }

    func leave(_ socket: NamespaceSocket, key: RoomKey) {
        guard var members = rooms[key] else { return }
        members[ObjectIdentifier(socket)] = nil
        rooms[key] = members.isEmpty ? nil : members
    }

    /// Number of local members of a room (0 when it does not exist here).
    public func memberCount(_ key: RoomKey) -> Int {
        eventLoop.preconditionInEventLoop()
        return rooms[key]?.count ?? 0
    }

    /// Writes one encoded message to every local member of `key`; returns how many got it.
    /// No allocation per member: the same buffers go to every session.
    func deliver(_ message: OutboundMessage, to key: RoomKey, except: ObjectIdentifier? = nil) -> Int {
        guard let members = rooms[key] else { return 0 }
        var delivered = 0
        for (id, socket) in members where id != except {
            socket.session.send(message)
            delivered += 1
        }
        return delivered
    }

    /// The union of several rooms, each member once.
    func deliver(_ message: OutboundMessage, to keys: [RoomKey]) -> Int {
        if keys.count == 1 { return deliver(message, to: keys[0]) }
        var seen = Set<ObjectIdentifier>()
        for key in keys {
            guard let members = rooms[key] else { continue }
            for (id, socket) in members where seen.insert(id).inserted {
                socket.session.send(message)
            }
        }
        return seen.count
    }

    // MARK: Flushing

    /// Sessions that wrote during this tick are flushed together once it ends, so a burst of
    /// broadcasts costs one flush (one writev) per socket.
    func enqueueFlush(_ session: EngineSession) {
        flushQueue.append(session)
        guard !flushScheduled else { return }
        flushScheduled = true
        eventLoop.execute { [self] in runFlush() }
    }

    private func runFlush() {
        flushScheduled = false
        swap(&flushQueue, &spareFlushQueue)
        for session in spareFlushQueue { session.flush() }
        spareFlushQueue.removeAll(keepingCapacity: true)
    }
}

/// A room within a namespace. The empty room name is the whole namespace.
public struct RoomKey: Hashable, Sendable {
    public let namespace: String
    public let room: String

    public init(namespace: String, room: String) {
        self.namespace = namespace
        self.room = room
    }

    public static func everyone(in namespace: String) -> RoomKey { RoomKey(namespace: namespace, room: "") }
}
