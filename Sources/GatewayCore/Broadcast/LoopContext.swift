import NIOCore

/// Per-event-loop state: the room index of the sockets this loop owns and the list of sessions
/// to flush at the end of the current tick. Only touched on `eventLoop` (hence unchecked
/// Sendable: it is captured by closures that run there and nowhere else).
public final class LoopContext: @unchecked Sendable {
    public let eventLoop: any EventLoop
    private var rooms: [RoomKey: RoomMembers] = [:]
    private var flushQueue: [EngineSession] = []
    private var spareFlushQueue: [EngineSession] = []
    private var flushScheduled = false
    private var lastFlush = NIODeadline.uptimeNanoseconds(0)
    private var timerQueues: [Int64: LoopTimerQueue] = [:]
    /// Flush rounds on this loop are at least this far apart; see ``enqueueFlush(_:)``.
    let flushInterval: TimeAmount

    public init(eventLoop: any EventLoop, flushInterval: TimeAmount = .zero) {
        self.eventLoop = eventLoop
        self.flushInterval = flushInterval
    }

    // MARK: Timers

    /// This loop's queue of timers that wait `delay` (one queue per distinct delay; see
    /// ``LoopTimerQueue``). On the loop only.
    public func timers(after delay: TimeAmount) -> LoopTimerQueue {
        // A zero delay would let a timer re-armed by its own action fire again in the same pass.
        precondition(delay > .zero, "a timer queue needs a positive delay")
        if let queue = timerQueues[delay.nanoseconds] { return queue }
        let queue = LoopTimerQueue(eventLoop: eventLoop, delay: delay)
        timerQueues[delay.nanoseconds] = queue
        return queue
    }

    // MARK: Rooms

    func join(_ socket: NamespaceSocket, key: RoomKey) {
        if let members = rooms[key] {
            members.insert(socket)
        } else {
            let members = RoomMembers()
            members.insert(socket)
            rooms[key] = members
        }
    }

    func leave(_ socket: NamespaceSocket, key: RoomKey) {
        guard let members = rooms[key] else { return }
        members.remove(socket)
        if members.isEmpty { rooms[key] = nil }
    }

    /// The local sockets in a room (admin operations; copies the list).
    public func sockets(in key: RoomKey) -> [NamespaceSocket] {
        eventLoop.preconditionInEventLoop()
        return rooms[key].map { Array($0.sockets) } ?? []
    }

    /// Writes one encoded message to every local member of `key`; returns how many got it.
    /// No allocation per member: the same buffers go to every session.
    func deliver(_ message: OutboundMessage, to key: RoomKey) -> Int {
        guard let members = rooms[key] else { return 0 }
        for session in members.sessions { session.send(message) }
        return members.sessions.count
    }

    /// The union of several rooms, each member once.
    func deliver(_ message: OutboundMessage, to keys: [RoomKey]) -> Int {
        if keys.count == 1 { return deliver(message, to: keys[0]) }
        var seen = Set<ObjectIdentifier>()
        for key in keys {
            guard let members = rooms[key] else { continue }
            for session in members.sessions where seen.insert(ObjectIdentifier(session)).inserted {
                session.send(message)
            }
        }
        return seen.count
    }

    // MARK: Flushing

    /// Sessions that wrote are flushed together in one round: at the end of the current tick
    /// when the loop has been quiet for `flushInterval`, else `flushInterval` after the last
    /// round. An idle gateway flushes at once; a busy one sends several messages per `writev`,
    /// which is what keeps a loop from spending itself on one syscall per message per socket.
    func enqueueFlush(_ session: EngineSession) {
        flushQueue.append(session)
        guard !flushScheduled else { return }
        flushScheduled = true
        let due = lastFlush + flushInterval
        if flushInterval == .zero || NIODeadline.now() >= due {
            eventLoop.execute { [self] in runFlush() }
        } else {
            eventLoop.scheduleTask(deadline: due) { [self] in runFlush() }
        }
    }

    private func runFlush() {
        flushScheduled = false
        lastFlush = NIODeadline.now()
        swap(&flushQueue, &spareFlushQueue)
        for session in spareFlushQueue { session.flush() }
        spareFlushQueue.removeAll(keepingCapacity: true)
    }
}

/// The local members of one room: a dense array of sessions to iterate on every broadcast (the
/// sockets beside it, for admin operations), plus positions for O(1) removal (swap with the last).
final class RoomMembers {
    private(set) var sessions: ContiguousArray<EngineSession> = []
    private(set) var sockets: ContiguousArray<NamespaceSocket> = []
    private var positions: [ObjectIdentifier: Int] = [:]

    var isEmpty: Bool { sessions.isEmpty }

    func insert(_ socket: NamespaceSocket) {
        let id = ObjectIdentifier(socket.session)
        guard positions[id] == nil else { return }
        positions[id] = sessions.count
        sessions.append(socket.session)
        sockets.append(socket)
    }

    func remove(_ socket: NamespaceSocket) {
        let id = ObjectIdentifier(socket.session)
        guard let position = positions.removeValue(forKey: id) else { return }
        let last = sessions.removeLast()
        let lastSocket = sockets.removeLast()
        if position < sessions.count {
            sessions[position] = last
            sockets[position] = lastSocket
            positions[ObjectIdentifier(last)] = position
        }
    }
}
