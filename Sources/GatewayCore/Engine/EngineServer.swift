import GatewayMetrics
import Logging
import NIOConcurrencyHelpers
import NIOCore
import SocketIOCodec
import Synchronization

/// The Engine.IO server: creates sessions for both transports, finds them by sid for later
/// polling requests and upgrades, and forgets them when they close. Transport-agnostic: the
/// edge (GatewayServer) turns HTTP and WebSocket traffic into these calls.
public final class EngineServer: Sendable {
    public let configuration: EngineConfiguration
    public let loops: LoopContexts
    public let metrics: GatewayMetrics
    private let logger: Logger
    private let makeHandler: @Sendable (EngineSession) -> any EngineMessageHandler
    /// Sessions by sid, striped: every polling request, upgrade and open and close looks here,
    /// from every loop.
    private let sessions = StripedLock<[String: EngineSession]> { [:] }
    private let liveSessions = Atomic<Int>(0)
    /// The most sessions at once since ``takeSessionPeak()`` last read it.
    private let sessionPeak = Atomic<Int>(0)
    private let accepting = Atomic<Bool>(true)
    private let pollingConnections = PollingConnections()
    /// Sessions and handshake rates, checked before a session exists.
    public let admission: EngineAdmission

    public init(
        configuration: EngineConfiguration,
        loops: LoopContexts,
        metrics: GatewayMetrics,
        logger: Logger,
        makeHandler: @escaping @Sendable (EngineSession) -> any EngineMessageHandler
    ) {
        self.configuration = configuration
        self.loops = loops
        self.metrics = metrics
        self.logger = logger
        self.makeHandler = makeHandler
        admission = EngineAdmission(limits: configuration.admission)
    }

    /// A Socket.IO server over `registry`.
    public convenience init(
        configuration: EngineConfiguration,
        registry: NamespaceRegistry,
        loops: LoopContexts,
        metrics: GatewayMetrics,
        logger: Logger
    ) {
        let connectAttempts = ConnectAttemptLimiter(perMinute: configuration.failedConnectsPerAddressPerMinute)
        self.init(configuration: configuration, loops: loops, metrics: metrics, logger: logger) { _ in
            SocketIOConnection(
                registry: registry, metrics: metrics, connectTimeout: configuration.connectTimeout, logger: logger,
                connectAttempts: connectAttempts, maxFailedConnects: configuration.maxFailedConnects
            )
        }
    }

    public var sessionCount: Int { liveSessions.load(ordering: .relaxed) }

    /// The most sessions there were at once since the last call (a crowd that came and went
    /// between two looks still counts); starts again from the current count.
    public func takeSessionPeak() -> Int {
        // A session added between the exchange and the load raises the peak again after it.
        let peak = sessionPeak.exchange(liveSessions.load(ordering: .relaxed), ordering: .relaxed)
        return max(peak, liveSessions.load(ordering: .relaxed))
    }

    public var isAccepting: Bool { accepting.load(ordering: .relaxed) }

    public func session(_ sid: String) -> EngineSession? {
        sessions.withLock(for: sid) { $0[sid] }
    }

    /// Every live session (for shutdown and admin operations).
    public func allSessions() -> [EngineSession] {
        var all: [EngineSession] = []
        sessions.forEachStripe { all += $0.values }
        return all
    }

    /// Checks a handshake against the admission bounds (and, with `acquire`, takes the session
    /// slot); the refusal to answer with, counted, or nil.
    public func admit(_ address: String?, acquire: Bool) -> EngineRequestError? {
        guard let (refusal, retryAfter) = admission.admit(address, now: LimitClock.now(), acquire: acquire) else { return nil }
        metrics.countRefusal(Self.bound(refusal))
        return refusal.isPerAddress ? .tooManyFromAddress(retryAfterSeconds: retryAfter) : .serverBusy(retryAfterSeconds: retryAfter)
    }

    private static func bound(_ refusal: EngineAdmission.Refusal) -> GatewayMetrics.Bound {
        switch refusal {
        case .sessions: .sessions
        case .sessionsPerAddress: .sessionsPerAddress
        case .handshakeRate: .handshakeRate
        case .handshakeRatePerAddress: .handshakeRatePerAddress
        case .addressTable: .addressTable
        }
    }

    /// A session's slot was taken by ``admit(_:acquire:)``; it goes back when the session closes.
    private func makeSession(webSocket: (any FrameWriter)?, on eventLoop: any EventLoop, handshake: HandshakeInfo) -> EngineSession {
        let session = EngineSession(
            sid: SessionID.make(),
            webSocket: webSocket,
            loopContext: loops.context(for: eventLoop),
            handshake: handshake,
            configuration: configuration,
            metrics: metrics,
            logger: logger
        ) { [weak self, metrics, admission] closed in
            metrics.totals.engineSessions.subtract(1, ordering: .relaxed)
            admission.release(closed.handshake.remoteAddress)
            guard let self, sessions.withLock(for: closed.sid, { $0.removeValue(forKey: closed.sid) }) != nil else { return }
            liveSessions.subtract(1, ordering: .relaxed)
        }
        session.handler = makeHandler(session)
        sessions.withLock(for: session.sid) { $0[session.sid] = session }
        let count = liveSessions.add(1, ordering: .relaxed).newValue
        _ = sessionPeak.max(count, ordering: .relaxed)
        metrics.totals.engineSessions.add(1, ordering: .relaxed)
        return session
    }

    // MARK: Polling

    /// `GET ?EIO=4&transport=polling`: a new session answered with its open packet.
    public func openPollingSession(on eventLoop: any EventLoop, handshake: HandshakeInfo) -> EventLoopFuture<PollResponse> {
        guard isAccepting else { return eventLoop.makeSucceededFuture(.error(.forbidden)) }
        if let refusal = admit(handshake.remoteAddress, acquire: true) { return eventLoop.makeSucceededFuture(.error(refusal)) }
        let opened = eventLoop.submit { [self] in
            let session = makeSession(webSocket: nil, on: eventLoop, handshake: handshake)
            metrics.engineConnectionsPolling.increment(by: 1)
            let open = ByteBuffer(string: session.handshakePacket().packet.encodedText)
            session.start()
            return PollResponse.payload(open)
        }
        // A loop that is shutting down never runs it: the slot goes back.
        opened.whenFailure { [admission] _ in admission.release(handshake.remoteAddress) }
        return opened
    }

    /// `GET ?sid=…` on `connection`: the session's queued packets, or a wait for the next ones
    /// (ended at once, with the session, if the client closes `connection` meanwhile).
    public func poll(sid: String, connection: any PollingConnection) -> EventLoopFuture<PollResponse>? {
        guard let session = session(sid) else { return nil }
        pollingConnections.record(connection, session: session)
        return session.eventLoop.flatSubmit { session.poll(connection: connection) }
    }

    /// `POST ?sid=…`: `readBody` returns the body, or nil when it exceeded maxPayload.
    public func post(sid: String, readBody: () async throws -> ByteBuffer?) async throws -> PollResponse {
        guard let session = session(sid) else { return .error(.unknownSession) }
        if let refusal = try await session.eventLoop.submit({ session.beginPost() }).get() {
            return refusal
        }
        let body: ByteBuffer?
        do {
            body = try await readBody()
        } catch {
            // The client went away mid-body: the session cannot trust what it half sent.
            _ = try? await session.eventLoop.submit { session.finishPost(nil, readFailed: true) }.get()
            throw error
        }
        return try await session.eventLoop.submit { session.finishPost(body) }.get()
    }

    // MARK: WebSocket

    /// A WebSocket handshake without sid: a WebSocket-only session. Call on the channel's loop,
    /// then ``startWebSocketSession(_:channel:)`` once the pipeline is ready. The upgrade
    /// request was checked by ``admit(_:acquire:)`` (without `acquire`); the slot is taken here,
    /// and nil comes back when a bound was reached in between.
    public func makeWebSocketSession(writer: any FrameWriter, on eventLoop: any EventLoop, handshake: HandshakeInfo) -> EngineSession? {
        eventLoop.preconditionInEventLoop()
        guard isAccepting else { return nil }
        if let refusal = admission.acquire(handshake.remoteAddress) {
            metrics.countRefusal(Self.bound(refusal))
            return nil
        }
        let session = makeSession(webSocket: writer, on: eventLoop, handshake: handshake)
        metrics.engineConnectionsWebSocket.increment(by: 1)
        return session
    }

    /// Writes the open packet (before anything else) and starts the heartbeat.
    public func startWebSocketSession(_ session: EngineSession, writer: any FrameWriter) {
        writer.write(EncodedFrame(packet: session.handshakePacket().packet).frame)
        session.start()
        session.scheduleFlush()
    }

    /// A WebSocket with `sid`: a probe for upgrading that polling session. Nil when the session
    /// is unknown, already upgraded or already probing; the caller closes the socket.
    public func attachProbe(sid: String, writer: any FrameWriter, from eventLoop: any EventLoop) -> EventLoopFuture<EngineSession?> {
        guard let session = session(sid) else { return eventLoop.makeSucceededFuture(nil) }
        return session.eventLoop.submit { session.attachProbe(writer) ? session : nil }
    }

    // MARK: Lifecycle

    /// Stops accepting new sessions (handshakes are refused from now on).
    public func stopAccepting() {
        accepting.store(false, ordering: .relaxed)
    }

    /// Closes every session; `prepare` runs first on each session's loop (e.g. a notice).
    public func closeAll(reason: DisconnectReason) {
        for session in allSessions() {
            session.execute { session.close(reason: reason) }
        }
    }
}

extension EngineServer {
    /// Bytes queued in session backlogs that a client can still receive, summed on each
    /// session's loop (for shutdown draining: a polling session nobody polls never drains, and
    /// waiting for it only delays the exit).
    public func pendingOutboundBytes() async -> Int {
        var total = 0
        for session in allSessions() {
            total += (try? await session.eventLoop.submit { session.isClosed || !session.isReceiving ? 0 : session.backlogBytes }.get()) ?? 0
        }
        return total
    }
}
