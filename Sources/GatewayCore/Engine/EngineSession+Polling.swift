import NIOCore
import SocketIOCodec

extension EngineSession {
    /// A long-polling GET: answered at once when something is queued, else held until a packet
    /// (at the latest the next ping) arrives. A second concurrent GET closes the session.
    func poll() -> EventLoopFuture<PollResponse> {
        eventLoop.preconditionInEventLoop()
        if isClosed { return eventLoop.makeSucceededFuture(.error(.unknownSession)) }
        if case .websocket = transport { return eventLoop.makeSucceededFuture(.error(.badRequest)) }
        if pendingPoll != nil {
            logger.debug("Overlapping polling GET; closing session")
            close(reason: .transportError)
            return eventLoop.makeSucceededFuture(.emptyError(status: 400))
        }
        if probeAnswered {
            // Upgrading: every GET is released with a noop so the client can switch.
            return eventLoop.makeSucceededFuture(.payload(ByteBuffer(string: "6")))
        }
        if !backlog.isEmpty {
            return eventLoop.makeSucceededFuture(.payload(takePollingBatch()))
        }
        let promise = eventLoop.makePromise(of: PollResponse.self)
        pendingPoll = promise
        return promise.futureResult
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

    /// The POST body arrived (nil when it was larger than maxPayload).
    func finishPost(body: ByteBuffer?) -> PollResponse {
        eventLoop.preconditionInEventLoop()
        postInFlight = false
        if isClosed { return .error(.unknownSession) }
        guard let body else {
            // Oversized: refused with 413; the client treats it as a transport error.
            return .emptyError(status: 413)
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
