import NIOCore
import SocketIOCodec

/// What the edge reports about a session's transports: long-polling requests, and the
/// WebSockets (the transport, or a probe taking over a polling session). Each call feeds the
/// state machine and performs what it answers.
extension EngineSession {
    // MARK: Long polling

    /// A GET on `connection`: the queued packets now, or a wait for the next ones.
    func poll(connection: any PollingConnection) -> EventLoopFuture<PollResponse> {
        eventLoop.preconditionInEventLoop()
        let action = machine.getArrived(
            connection: connection.id, connectionOpen: connection.isOpen, hasQueued: hasQueuedFrames, now: NIODeadline.now()
        )
        switch action {
        case .respondWithQueued:
            return eventLoop.makeSucceededFuture(.payload(takePollingBatch()))
        case .holdGet:
            let promise = eventLoop.makePromise(of: PollResponse.self)
            heldGet = promise
            return promise.futureResult
        case .respond(let response):
            return eventLoop.makeSucceededFuture(response)
        case .closeDownAndRespond(_, let response):
            logger.debug("Polling GET closes the session", metadata: ["close.reason": "\(machine.closeReason?.rawValue ?? "")"])
            perform(action)
            return eventLoop.makeSucceededFuture(response)
        default:
            perform(action)
            return eventLoop.makeSucceededFuture(.error(.badRequest))
        }
    }

    /// The HTTP connection `connection` closed: a GET held on it means the client is gone.
    func pollingConnectionClosed(_ connection: ObjectIdentifier) {
        let action = machine.pollingConnectionClosed(connection)
        if case .closeDown = action { logger.debug("Polling connection closed during a GET; closing session") }
        perform(action)
    }

    /// Whether queued data can still reach the client (for draining at shutdown).
    var isReceiving: Bool { machine.isReceiving(now: NIODeadline.now()) }

    /// Marks a POST as started before its body is read, so overlapping POSTs are caught; the
    /// answer when the POST is refused.
    func beginPost() -> PollResponse? {
        eventLoop.preconditionInEventLoop()
        return respond(to: machine.postStarted())
    }

    /// The POST body arrived (nil: larger than maxPayload), or `readFailed`.
    func finishPost(_ body: ByteBuffer?, readFailed: Bool = false) -> PollResponse {
        eventLoop.preconditionInEventLoop()
        // Closed meanwhile: nothing of the body is looked at (or counted as bad input).
        guard !isClosed else { return respond(to: machine.postFinished(.unreadable)) ?? .error(.unknownSession) }
        let outcome: StateMachine.PostBody
        if readFailed {
            outcome = .unreadable
        } else if let body {
            do {
                outcome = .packets(try PollingPayload.decode(body))
            } catch {
                countMalformed(error)
                outcome = .malformed
            }
        } else {
            BadInputLog.shared.log(logger, "Polling POST over maxPayload; session closed", metadata: ["limit.bytes": "\(configuration.maxPayload)"])
            outcome = .tooLarge
        }
        let action = machine.postFinished(outcome)
        guard case .acceptPost(let packets) = action else { return respond(to: action) ?? .ok }
        for packet in packets {
            receive(packet)
            if isClosed { break }
        }
        return .ok
    }

    /// Performs a request's action; the answer it asks for, if any.
    private func respond(to action: StateMachine.Action) -> PollResponse? {
        switch action {
        case .respond(let response):
            return response
        case .closeDownAndRespond(_, let response):
            perform(action)
            return response
        default:
            perform(action)
            return nil
        }
    }

    // MARK: WebSocket

    /// A WebSocket that wants to take over this polling session. Refused when the session is
    /// already upgraded, closed or another probe is running (the edge then closes the socket).
    package func attachProbe(_ writer: any FrameWriter) -> Bool {
        eventLoop.preconditionInEventLoop()
        let action = machine.probeArrived(writer)
        perform(action)
        if case .startUpgradeDeadline = action { return true }
        return false
    }

    /// A packet from a WebSocket of this session (the transport, or a probe).
    package func webSocketReceived(_ packet: EnginePacket, from writer: any FrameWriter) {
        perform(machine.received(packet, from: writer))
    }

    /// A WebSocket frame that was not a valid Engine.IO packet.
    package func webSocketMalformed(_ error: CodecError, from writer: any FrameWriter) {
        let action = machine.receivedMalformed(from: writer)
        if case .closeDown = action { countMalformed(error) }
        perform(action)
    }

    /// The WebSocket's TCP connection went away.
    package func webSocketClosed(_ writer: any FrameWriter) {
        perform(machine.socketClosed(writer))
    }

    /// The WebSocket drained below its low watermark: move queued frames on.
    package func webSocketWritable(_ writer: any FrameWriter) {
        perform(machine.socketWritable(writer))
    }

    /// A frame the edge refused below Engine.IO (bad RSV bits or fragments, a compressed message
    /// that does not inflate): counted as malformed; the edge closes the connection itself.
    package func webSocketFrameRefused() {
        metrics.countMalformed()
    }

    /// A message bigger than maxPayload: the connection is closed (WebSocket code 1009).
    package func webSocketTooLarge(from writer: any FrameWriter) {
        perform(machine.receivedTooLarge(from: writer))
    }
}
