import NIOCore
import SocketIOCodec

extension EngineSession {
    /// A long-polling GET: answered at once when something is queued, else held until a packet
    /// (at the latest the next ping) arrives. A second concurrent GET closes the session.
    func poll(connection: any Channel) -> EventLoopFuture<PollResponse> {
        eventLoop.preconditionInEventLoop()
        if isClosed { return eventLoop.makeSucceededFuture(.error(.unknownSession)) }
        if case .websocket = transport { return eventLoop.makeSucceededFuture(.error(.badRequest)) }
        lastPollAt = .now()
        if pendingPoll != nil {
            logger.debug("Overlapping polling GET; closing session")
            close(reason: .transportError)
            return eventLoop.makeSucceededFuture(.emptyError(status: 400))
        }
        if hasQueuedFrames {
            // Also while a probe is under way, as the reference server does: a client whose
            // probe failed without closing it (python-engineio leaves it open) keeps polling,
            // and must not wait for the upgrade deadline to get its data.
            return eventLoop.makeSucceededFuture(.payload(takePollingBatch()))
        }
        if state.probeAnswered {
            // Upgrading: an empty GET is released with a noop at once so the client can switch.
            return eventLoop.makeSucceededFuture(.payload(ByteBuffer(string: "6")))
        }
        let promise = eventLoop.makePromise(of: PollResponse.self)
        pendingPoll = promise
        pendingPollConnection = ObjectIdentifier(connection)
        if !connection.isActive {
            // Closed before the GET got here: its close notice may already have come and gone.
            pollConnectionClosed(ObjectIdentifier(connection))
        }
        return promise.futureResult
    }

    /// The HTTP connection `connection` closed. If a GET of this session was waiting on it, the
    /// client is gone: the session ends as a WebSocket's would on FIN.
    func pollConnectionClosed(_ connection: ObjectIdentifier) {
        guard !isClosed, let promise = pendingPoll, pendingPollConnection == connection else { return }
        pendingPoll = nil
        promise.succeed(.emptyError(status: 400))  // written nowhere: the connection is closed
        logger.debug("Polling connection closed during a GET; closing session")
        close(reason: .transportClose)
    }

    /// Whether queued data can still reach the client: a WebSocket, or a polling session with a
    /// GET waiting or one within the last second (a live client polls again at once).
    var isReceiving: Bool {
        if case .websocket = transport { return true }
        return pendingPoll != nil || NIODeadline.now() - lastPollAt < .seconds(1)
    }

    /// Marks a POST as started before its body is read, so overlapping POSTs are caught.
    func beginPost() -> PollResponse? {
        eventLoop.preconditionInEventLoop()
        if isClosed { return .error(.unknownSession) }
        if case .websocket = transport { return .error(.badRequest) }
        if postInFlight {
            logger.debug("Overlapping polling POST; closing session")
            close(reason: .transportError)
            return .emptyError(status: 400)
        }
        postInFlight = true
        return nil
    }

    /// What became of a POST body.
    enum PostBody {
        case received(ByteBuffer)
        /// Larger than maxPayload.
        case tooLarge
        /// The connection failed before the body was complete.
        case unreadable
    }

    /// The POST body arrived, or did not.
    func finishPost(_ outcome: PostBody) -> PollResponse {
        eventLoop.preconditionInEventLoop()
        postInFlight = false
        if isClosed { return .error(.unknownSession) }
        let body: ByteBuffer
        switch outcome {
        case .received(let received):
            body = received
        case .tooLarge:
            // SPEC §1: a message over maxPayload closes that connection, on either transport.
            // 413 answers the POST; the session is gone, so the next GET gets 400.
            BadInputLog.shared.log(logger, "Polling POST over maxPayload; session closed", metadata: ["limit.bytes": "\(configuration.maxPayload)"])
            close(reason: .payloadTooLarge)
            return .emptyError(status: 413)
        case .unreadable:
            close(reason: .transportError)
            return .emptyError(status: 400)
        }
        let packets: [EnginePacket]
        do {
            packets = try PollingPayload.decode(body)
        } catch {
            receivedMalformed(error)
            return .emptyError(status: 400)
        }
        for packet in packets {
            receive(packet)
            if isClosed { break }
        }
        return .ok
    }
}
