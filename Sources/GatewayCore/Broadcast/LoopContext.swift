import NIOCore

/// Per-event-loop state: the room index of the sockets this loop owns, the inbox of broadcasts
/// posted to it (taken in passes), and the sessions to flush, in rounds, after each pass. Only
/// touched on `eventLoop` (hence unchecked Sendable: it is captured by closures that run there
/// and nowhere else), but for ``post(_:)``, which any thread may call.
public final class LoopContext: @unchecked Sendable {
    public let eventLoop: any EventLoop
    private var rooms: [RoomKey: RoomMembers] = [:]
    /// Sessions to flush, in order; those before `flushCursor` are done.
    private var flushQueue: [EngineSession] = []
    private var flushCursor = 0
    /// A flush round is queued as a task.
    private var flushTaskPending = false
    /// A flush round is running: sessions it re-queues wait for the next round.
    private var flushing = false
    /// Sessions flushed per round (see ``flushRound()``).
    public static let flushChunk = 128
    private var lastFlush = NIODeadline.uptimeNanoseconds(0)
    private var timerQueues: [Int64: LoopTimerQueue] = [:]
    private let inbox = LoopInbox()
    /// The work of the running pass (its capacity kept between passes).
    private var passWork: [LoopInbox.Work] = []
    /// Sessions that wrote during the running pass are flushed at its end, not in a task.
    private var inPass = false
    /// The least time from the end of a pass (or flush round) to the next one while work keeps
    /// coming. A task due later than the loop's current tick makes NIO poll its sockets before
    /// running it (see ``LoopInbox``); best effort: a tick whose other tasks outlast the gap runs
    /// the next pass without a poll.
    public static let passGap = TimeAmount.microseconds(50)
    /// Flush rounds on this loop are at least this far apart; see ``enqueueFlush(_:)``.
    let flushInterval: TimeAmount

    /// The process's wire compression and msgpack sessions (the same for every loop).
    public let compression: FrameCompression
    public let messagePack: MessagePackEncoding

    public init(
        eventLoop: any EventLoop, flushInterval: TimeAmount = .zero, compression: FrameCompression = FrameCompression(),
        messagePack: MessagePackEncoding = MessagePackEncoding()
    ) {
        self.eventLoop = eventLoop
        self.flushInterval = flushInterval
        self.compression = compression
        self.messagePack = messagePack
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

    // MARK: Passes

    /// Runs `work` on this loop in the next pass, after everything posted before it.
    public func post(_ work: @escaping @Sendable () -> Void) {
        if inbox.append(work) { eventLoop.execute { [self] in runPass() } }
    }

    /// Everything posted so far, then a flush round for the sessions it wrote to.
    private func runPass() {
        inbox.take(into: &passWork)
        inPass = true
        for work in passWork { work() }
        passWork.removeAll(keepingCapacity: true)
        inPass = false
        if flushCursor < flushQueue.count {
            if flushInterval == .zero && !flushTaskPending { flushRound() } else { requestFlush() }
        }
        if inbox.finishPass() {
            eventLoop.scheduleTask(in: Self.passGap) { [self] in runPass() }
        }
    }

    // MARK: Flushing

    /// Sessions that wrote are flushed together: at the end of the running pass (or in the next
    /// task) when the loop has been quiet for `flushInterval`, else `flushInterval` after the
    /// last batch began. An idle gateway flushes at once; a busy one sends several messages per
    /// `writev`, which is what keeps a loop from spending itself on one syscall per message per
    /// socket.
    func enqueueFlush(_ session: EngineSession) {
        flushQueue.append(session)
        requestFlush()
    }

    /// Queues a flush round unless one is queued or the running pass or round will see to it.
    /// A round that continues the last one waits only `passGap`; `flushInterval` spaces batches.
    private func requestFlush(continuing: Bool = false) {
        guard !flushTaskPending, !inPass, !flushing else { return }
        flushTaskPending = true
        // Relative waits: the loop's own clock decides (an embedded test loop has one of its own).
        let wait = continuing ? Self.passGap : (lastFlush + flushInterval) - NIODeadline.now()
        if wait <= .zero {
            eventLoop.execute { [self] in
                flushTaskPending = false
                flushRound()
            }
        } else {
            eventLoop.scheduleTask(in: wait) { [self] in
                flushTaskPending = false
                flushRound()
            }
        }
    }

    /// Flushes up to ``flushChunk`` sessions in queue order; the rest wait for the next round,
    /// `passGap` later, so that the loop polls its sockets between rounds (a round of 1,000
    /// `writev`s is milliseconds during which nothing is read).
    private func flushRound() {
        if flushCursor == 0 { lastFlush = NIODeadline.now() }  // a batch starts
        flushing = true
        let end = min(flushQueue.count, flushCursor + Self.flushChunk)
        while flushCursor < end {
            let session = flushQueue[flushCursor]
            flushCursor += 1
            session.flush()
        }
        flushing = false
        if flushCursor == flushQueue.count {
            flushQueue.removeAll(keepingCapacity: true)
            flushCursor = 0
        } else {
            requestFlush(continuing: true)
        }
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
