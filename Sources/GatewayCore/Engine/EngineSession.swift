import GatewayMetrics
import Logging
import NIOCore
import SocketIOCodec

/// One Engine.IO session: its transport (polling, or a WebSocket after the handshake or an
/// upgrade), heartbeat, and bounded outbound backlog.
///
/// A session is confined to `eventLoop`: every method must be called there (the edge hops with
/// ``execute(_:)``). It is `@unchecked Sendable` only so it can be captured by the closures that
/// run on that loop; nothing touches its state from elsewhere.
public final class EngineSession: @unchecked Sendable {
    public let sid: String
    public let eventLoop: any EventLoop
    public let loopContext: LoopContext
    public let handshake: HandshakeInfo
    let configuration: EngineConfiguration
    let metrics: GatewayMetrics
    let logger: Logger
    private let onClosed: @Sendable (EngineSession) -> Void

    public var handler: (any EngineMessageHandler)?

    typealias StateMachine = EngineSessionStateMachine

    /// The protocol rules (transport, requests, probe, heartbeat, close); this class does the
    /// I/O their actions ask for.
    var machine: StateMachine
    var upgradeDeadline: Scheduled<Void>?

    /// Frames not yet handed to the transport (conflation and replays included). Bounded by
    /// `slowConsumerBytes`.
    var backlog = OutboundQueue()
    /// The answer to the GET the machine holds.
    var heldGet: EventLoopPromise<PollResponse>?
    /// WebSocket frames of this tick, joined for the writer (see ``PendingFrames``).
    var pending = PendingFrames()
    /// Payloads from this size on go compressed to a socket that negotiated permessage-deflate
    /// (`Int.max`: compression is off).
    private let deflateThreshold: Int
    /// socket.io-parser text, or msgpack (translated as frames are written, ``wireForm(_:)``).
    public let parser: SocketIOParser

    var pingTask: LoopTimer?
    var pongDeadline: LoopTimer?
    var needsFlush = false
    /// The conflation counter of the namespace last conflated here: a lagging socket skips frame
    /// after frame, and the metrics table's lock should not be taken for each.
    private var conflatedIn: (namespace: String, metrics: NamespaceMetrics)?
    public var isClosed: Bool { machine.isClosed }
    public var closeReason: DisconnectReason? { machine.closeReason }

    init(
        sid: String,
        webSocket: (any FrameWriter)?,
        loopContext: LoopContext,
        handshake: HandshakeInfo,
        configuration: EngineConfiguration,
        metrics: GatewayMetrics,
        logger: Logger,
        onClosed: @escaping @Sendable (EngineSession) -> Void
    ) {
        self.sid = sid
        self.eventLoop = loopContext.eventLoop
        self.loopContext = loopContext
        self.machine = StateMachine(webSocket: webSocket)
        self.handshake = handshake
        self.configuration = configuration
        self.metrics = metrics
        var logger = logger
        logger[metadataKey: "engine.sid.suffix"] = "\(sid.suffix(4))"
        self.logger = logger
        self.onClosed = onClosed
        self.deflateThreshold = loopContext.compression.webSocketThreshold
        self.parser = handshake.parser
        if parser == .msgpack { loopContext.messagePack.sessionOpened() }
    }

    public var transportName: String { machine.isPolling ? "polling" : "websocket" }

    /// Runs `body` on the session's loop: at once when already there, else after one hop.
    public func execute(_ body: @escaping @Sendable () -> Void) {
        if eventLoop.inEventLoop { body() } else { eventLoop.execute(body) }
    }

    /// The open packet for this session.
    func handshakePacket() -> Handshake {
        Handshake(
            sid: sid,
            upgrades: (configuration.allowWebSocket && machine.isPolling) ? ["websocket"] : [],
            pingInterval: Int(configuration.pingInterval.nanoseconds / 1_000_000),
            pingTimeout: Int(configuration.pingTimeout.nanoseconds / 1_000_000),
            maxPayload: configuration.maxPayload
        )
    }

    /// Starts the heartbeat and tells the handler; called once the open packet is on its way.
    func start() {
        eventLoop.preconditionInEventLoop()
        schedulePing()
        handler?.sessionOpened(self)
    }

    // MARK: Inbound

    /// One packet from the client's transport.
    func receive(_ packet: EnginePacket) {
        let action = machine.received(packet)
        if case .ping = packet, case .closeDown = action {
            logger.debug("Client sent a ping; closing", metadata: ["error.type": "invalid heartbeat direction"])
        }
        perform(action)
    }

    /// A frame that could not be decoded: the reference server closes the session.
    func receivedMalformed(_ error: CodecError) {
        countMalformed(error)
        perform(machine.receivedMalformed())
    }

    func countMalformed(_ error: CodecError) {
        metrics.countMalformed()
        BadInputLog.shared.log(logger, "Malformed Engine.IO packet; connection closed", metadata: ["error.type": "\(error.code.rawValue)"])
    }

    // MARK: Outbound

    /// Queues a frame for the client. On a writable WebSocket with nothing queued it goes
    /// straight to the channel; the flush follows the loop's pass, in rounds (``LoopContext``).
    public func send(_ frame: EncodedFrame) {
        // Held until the snapshot: a delta now would not chain. (Checked only while some stream
        // waits, so the common case reads one optional.)
        if backlog.isHeld(frame.conflation), let key = frame.conflation, !isClosed {
            return countConflated(key)
        }
        // An open, writable WebSocket with nothing queued: straight to it.
        if backlog.isEmpty, let writer = machine.webSocket, writer.isWritable {
            if let bytes = wireBytes(frame, for: writer), pending.append(bytes) { writer.write(pending.take()!) }
            scheduleFlush()
            return
        }
        guard !isClosed else { return }
        appendToBacklog(frame)
    }

    /// Encodes and sends one text packet (unicast replies, acks, CONNECT answers).
    public func send(text: String) {
        send(EncodedFrame(text: text))
    }

    private func appendToBacklog(_ frame: EncodedFrame) {
        if case .conflated(let key) = backlog.append(frame, conflating: machine.webSocket != nil) { return countConflated(key) }
        if backlog.bytes > configuration.slowConsumerBytes {
            metrics.countSlowConsumer()
            logger.info("Closing slow consumer", metadata: ["queue.bytes": "\(backlog.bytes)"])
            close(reason: .slowConsumer)
            return
        }
        scheduleFlush()
    }

    func countConflated(_ key: ConflationKey) {
        let namespace = key.namespace.value
        if let cached = conflatedIn, cached.namespace == namespace { return cached.metrics.conflated.increment(by: 1) }
        let handles = metrics.namespace(namespace)
        conflatedIn = (namespace, handles)
        handles.conflated.increment(by: 1)
    }

    /// The next frame to send: a skipped chained stream asks its namespace for a snapshot on
    /// the way (the stream stays held until ``endResync(_:)``).
    func popBacklog() -> EncodedFrame? {
        while let next = backlog.pop() {
            switch next {
            case .frame(let frame): return frame
            case .resync(let key, let skipped): handler?.resync(key, skipped: skipped, on: self)
            case .gap(let key, let skipped): if let notice = handler?.gapNotice(key, skipped: skipped, on: self) { return notice }
            }
        }
        return nil
    }

    /// The snapshot for a held stream is on its way: the stream flows again.
    public func endResync(_ key: ConflationKey) {
        backlog.endResync(key)
    }

    /// Sends `frames` after everything already queued and before anything sent from now on,
    /// paced by the transport (a second replay queues behind the first): for recovered sockets,
    /// whose missed events may be far more than `slowConsumerBytes`.
    public func startReplay(_ frames: AnyIterator<EncodedFrame>) {
        guard !isClosed, backlog.startReplay(frames) else { return }
        scheduleFlush()
    }

    func scheduleFlush() {
        guard !needsFlush else { return }
        needsFlush = true
        loopContext.enqueueFlush(self)
    }

    /// Called by ``LoopContext`` once per flush batch for every session that sent something.
    func flush() {
        needsFlush = false
        perform(machine.flush(hasQueued: hasQueuedFrames))
    }

    /// True while anything waits to be sent (a replay included).
    var hasQueuedFrames: Bool { !backlog.isEmpty }

    /// Bytes queued, for shutdown draining.
    var backlogBytes: Int { backlog.bytes }

    /// Moves queued frames to a WebSocket while it accepts them.
    func drainBacklog(into writer: any FrameWriter) {
        while writer.isWritable, let frame = popBacklog() {
            if let bytes = wireBytes(frame, for: writer), pending.append(bytes) { writer.write(pending.take()!) }
        }
        flushWrites(to: writer)
    }

    /// The bytes `writer` gets for `frame`: in this session's parser's form (``wireForm(_:)``;
    /// nil: nothing to send), compressed for a deflate socket, once per broadcast
    /// (``FrameCompression/prepare(_:)``) or here for a frame sent to this socket alone; the plain
    /// frame to everyone else. For a JSON socket and a small message: two comparisons.
    @inline(__always)
    private func wireBytes(_ frame: EncodedFrame, for writer: any FrameWriter) -> ByteBuffer? {
        // The broadcast path's common case, kept to what it was before compression and msgpack:
        // a JSON socket and a message under the threshold.
        if parser == .json, frame.payloadLength < deflateThreshold { return frame.frame }
        return otherWireBytes(frame, for: writer)
    }

    @inline(never)
    private func otherWireBytes(_ frame: EncodedFrame, for writer: any FrameWriter) -> ByteBuffer? {
        if parser == .json { return deflateChoice(frame, for: writer) }
        return wireForm(frame).map { deflateChoice($0, for: writer) }
    }

    private func deflateChoice(_ frame: EncodedFrame, for writer: any FrameWriter) -> ByteBuffer {
        guard frame.payloadLength >= deflateThreshold, writer.deflatesMessages else { return frame.frame }
        return frame.deflated ?? loopContext.compression.deflatedFrame(for: frame) ?? frame.frame
    }

    /// Hands the joined frames to the writer and flushes it.
    func flushWrites(to writer: any FrameWriter) {
        if let joined = pending.take() { writer.write(joined) }
        writer.flush()
    }

    /// What this session wrote goes out now, when called on its loop (the edge calls it before
    /// a close frame of its own, which must come last).
    package func flushWritesIfOnLoop() {
        guard eventLoop.inEventLoop, let writer = machine.webSocket else { return }
        flushWrites(to: writer)
    }

    /// `frame` as this session's parser writes it: a msgpack session gets the MessagePack form
    /// (made once per broadcast, or here for a frame of its own); Engine.IO's own packets and
    /// binary frames (already MessagePack) pass as they are. A Socket.IO message MessagePack
    /// cannot carry (a number past float64) is dropped for this socket, never sent as text the
    /// client's parser would choke on: nil.
    func wireForm(_ frame: EncodedFrame) -> EncodedFrame? {
        guard parser == .msgpack, !frame.isBinary else { return frame }
        if let variant = frame.messagePack { return variant.frame }
        guard MessagePackEncoding.isSocketIOMessage(frame) else { return frame }
        if let translated = MessagePackEncoding.frame(for: frame) { return translated }
        BadInputLog.shared.log(logger, "A message could not be written as MessagePack; not sent to this msgpack socket", metadata: [:])
        return nil
    }

    /// Up to `maxPacketsPerPoll` records and about `maxPayload` bytes (always at least one).
    func takePollingBatch() -> ByteBuffer {
        var body = ByteBufferAllocator().buffer(capacity: min(backlog.bytes, configuration.maxPayload) + 16)
        var count = 0
        while count < configuration.maxPacketsPerPoll, let next = backlog.peek() {
            if count > 0 && body.readableBytes + next.byteCount - next.headerLength > configuration.maxPayload { break }
            guard let popped = popBacklog() else { break }
            guard let frame = wireForm(popped) else { continue }
            let payload = frame.payload
            if count > 0 { body.writeInteger(PollingPayload.recordSeparator) }
            if frame.isBinary {
                body.writeString(EnginePacket.binaryMessage(payload).encodedText)
            } else {
                var copy = payload
                body.writeBuffer(&copy)
            }
            count += 1
        }
        return body
    }

    // MARK: Close

    /// Ends the session: namespaces are told, the transport is closed, the sid is forgotten.
    /// `transportGone`: the socket is already closed, so nothing is written to it.
    public func close(reason: DisconnectReason, transportGone: Bool = false) {
        perform(machine.close(reason, transportGone: transportGone))
    }

    /// Carries out a ``EngineSessionStateMachine/CloseDown``.
    func closeDown(_ closing: StateMachine.CloseDown) {
        pingTask?.cancel()
        pongDeadline?.cancel()
        cancelUpgradeDeadline()
        handler?.sessionClosed(self, reason: closing.reason)
        handler = nil
        switch closing.transport {
        case .webSocketGraceful(let writer):
            drainBacklog(into: writer)  // what was written goes before the close frame
            writer.closeGracefully()
        case .webSocketAbort(let writer):
            writer.abort()
        case .webSocketEdgeCloses(let writer):
            flushWrites(to: writer)  // what this tick wrote goes before the edge's close frame
        case .webSocketGone:
            break
        case .polling(let heldGetAnswer):
            if let heldGetAnswer { answerHeldGet(heldGetAnswer) }
        }
        if case .polling = closing.transport {
            metrics.engineConnectionsPolling.decrement(by: 1)
        } else {
            metrics.engineConnectionsWebSocket.decrement(by: 1)
        }
        closing.probe?.abort()
        _ = pending.take()
        backlog.removeAll()
        if parser == .msgpack { loopContext.messagePack.sessionClosed() }
        logger.debug("Engine.IO session closed", metadata: ["close.reason": "\(closing.reason.rawValue)"])
        onClosed(self)
    }
}
